"""Data transforms of mmhier (registered into mmseg's TRANSFORMS)."""
from mmhier.datasets.transforms.formatting import PackTaxonomySegInputs

__all__ = ['PackTaxonomySegInputs']
