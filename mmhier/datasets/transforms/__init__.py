"""Data transforms of mmhier (registered into mmseg's TRANSFORMS)."""
from mmhier.datasets.transforms.formatting import PackTaxonomySegInputs
from mmhier.datasets.transforms.loading import LoadTaxonomyAnnotations

__all__ = ['LoadTaxonomyAnnotations', 'PackTaxonomySegInputs']
