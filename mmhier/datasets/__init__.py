"""Datasets, transforms and samplers for training on several datasets through
one taxonomy. Importing this package registers them into mmseg's registries."""
from mmhier.datasets.cityscapes import CityscapesTaxonomyDataset
from mmhier.datasets.mapillary import MapillaryVistasTaxonomyDataset
from mmhier.datasets.taxonomy_dataset import TaxonomySegDataset
from mmhier.datasets.transforms import LoadTaxonomyAnnotations, PackTaxonomySegInputs

__all__ = [
    'CityscapesTaxonomyDataset', 'LoadTaxonomyAnnotations',
    'MapillaryVistasTaxonomyDataset', 'PackTaxonomySegInputs', 'TaxonomySegDataset'
]
