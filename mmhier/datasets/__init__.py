"""Datasets, transforms and samplers for training on several datasets through
one taxonomy. Importing this package registers them into mmseg's registries."""
from mmhier.datasets.cityscapes import CityscapesTaxonomyDataset
from mmhier.datasets.errors import (AnnotationError, CorruptFileError, DatasetError,
                                    LabelFormatError, LabelIdOutOfRangeError,
                                    LabelSizeError, MissingDataError)
from mmhier.datasets.gtsdb import GTSDBTaxonomyDataset, parse_gtsdb_annotations
from mmhier.datasets.image_io import read_image
from mmhier.datasets.mapillary import MapillaryVistasTaxonomyDataset
from mmhier.datasets.multi_dataset import MultiTaxonomyDataset
from mmhier.datasets.samplers import RatioBatchSampler, SamplerConfigError
from mmhier.datasets.taxonomy_dataset import TaxonomySegDataset
from mmhier.datasets.transforms import (BoxesToPseudoMask, LoadCheckedImageFromFile,
                                        LoadTaxonomyAnnotations, PackTaxonomySegInputs,
                                        SwapFlippedClasses)

__all__ = [
    'AnnotationError', 'BoxesToPseudoMask', 'CityscapesTaxonomyDataset', 'CorruptFileError',
    'DatasetError', 'GTSDBTaxonomyDataset', 'LabelFormatError', 'LabelIdOutOfRangeError',
    'LabelSizeError', 'LoadCheckedImageFromFile', 'LoadTaxonomyAnnotations',
    'MapillaryVistasTaxonomyDataset', 'MissingDataError', 'MultiTaxonomyDataset',
    'PackTaxonomySegInputs', 'RatioBatchSampler', 'SamplerConfigError',
    'SwapFlippedClasses', 'TaxonomySegDataset', 'parse_gtsdb_annotations', 'read_image'
]
