"""Datasets, transforms and samplers for training on several datasets through
one taxonomy. Importing this package registers them into mmseg's registries."""
from mmhier.datasets.taxonomy_dataset import TaxonomySegDataset
from mmhier.datasets.transforms import PackTaxonomySegInputs

__all__ = ['PackTaxonomySegInputs', 'TaxonomySegDataset']
