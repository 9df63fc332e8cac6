"""Packing samples with the metadata the hierarchical loss needs."""
from __future__ import annotations

from typing import Sequence

from mmseg.datasets.transforms import PackSegInputs
from mmseg.registry import TRANSFORMS

DEFAULT_META_KEYS = ('img_path', 'seg_map_path', 'ori_shape', 'img_shape', 'pad_shape',
                     'scale_factor', 'flip', 'flip_direction', 'reduce_zero_label',
                     'dataset_key', 'annotation')


@TRANSFORMS.register_module()
class PackTaxonomySegInputs(PackSegInputs):
    """``PackSegInputs`` that also packs ``dataset_key`` and ``annotation``.

    The hierarchical loss reads ``dataset_key`` from each sample's metainfo to
    apply that dataset's supervision rules (which classifiers it trains).

    Args:
        meta_keys: Keys packed into the sample's metainfo.
    """

    def __init__(self, meta_keys: Sequence[str] = DEFAULT_META_KEYS):
        super().__init__(meta_keys=tuple(meta_keys))
