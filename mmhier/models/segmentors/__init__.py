from mmhier.models.segmentors.flip_mirror import mirror_channels, mirror_nodes
from mmhier.models.segmentors.taxonomy_encoder_decoder import TaxonomyEncoderDecoder
from mmhier.models.segmentors.taxonomy_tta import TaxonomyTTAModel

__all__ = ['TaxonomyEncoderDecoder', 'TaxonomyTTAModel', 'mirror_channels', 'mirror_nodes']
