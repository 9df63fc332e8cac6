from mmhier.models.segmentors.taxonomy_encoder_decoder import TaxonomyEncoderDecoder

__all__ = ['TaxonomyEncoderDecoder']
