"""Data transforms of mmhier (registered into mmseg's TRANSFORMS)."""
from mmhier.datasets.transforms.box_aware_crop import BoxAwareRandomCrop
from mmhier.datasets.transforms.box_pseudo_masks import BoxesToPseudoMask
from mmhier.datasets.transforms.flip_class_swap import SwapFlippedClasses
from mmhier.datasets.transforms.formatting import PackTaxonomySegInputs
from mmhier.datasets.transforms.image_loading import LoadCheckedImageFromFile
from mmhier.datasets.transforms.loading import LoadTaxonomyAnnotations

__all__ = ['BoxAwareRandomCrop', 'BoxesToPseudoMask', 'LoadCheckedImageFromFile', 'LoadTaxonomyAnnotations',
           'PackTaxonomySegInputs', 'SwapFlippedClasses']
