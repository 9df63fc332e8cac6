"""Datasets, transforms and samplers for training on several datasets through
one taxonomy. Importing this package registers them into mmseg's registries."""
from mmhier.datasets.cityscapes import CityscapesTaxonomyDataset
from mmhier.datasets.gtsdb import GTSDBTaxonomyDataset, parse_gtsdb_annotations
from mmhier.datasets.mapillary import MapillaryVistasTaxonomyDataset
from mmhier.datasets.multi_dataset import MultiTaxonomyDataset
from mmhier.datasets.samplers import RatioBatchSampler, SamplerConfigError
from mmhier.datasets.taxonomy_dataset import TaxonomySegDataset
from mmhier.datasets.transforms import (BoxesToPseudoMask, LoadTaxonomyAnnotations,
                                        PackTaxonomySegInputs, SwapFlippedClasses)

__all__ = [
    'BoxesToPseudoMask', 'CityscapesTaxonomyDataset', 'GTSDBTaxonomyDataset',
    'LoadTaxonomyAnnotations', 'MapillaryVistasTaxonomyDataset', 'MultiTaxonomyDataset',
    'PackTaxonomySegInputs', 'RatioBatchSampler', 'SamplerConfigError',
    'SwapFlippedClasses', 'TaxonomySegDataset', 'parse_gtsdb_annotations'
]
