"""Turn a sample's bounding boxes into its encoded pseudo label map."""
from __future__ import annotations

import os
from typing import Optional, Union

import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

from mmhier.datasets.errors import LabelIdOutOfRangeError
from mmhier.datasets.pseudo_masks import rasterize_shapes
from mmhier.datasets.transforms.taxonomy_source import taxonomy_and_key
from mmhier.structures.label_encoding import box_label_dtype
from mmhier.structures.label_space import LabelSpace, label_space
from mmhier.taxonomy import Taxonomy, load_taxonomy
from mmhier.taxonomy.class_attributes import SHAPE_MODES

__all__ = ['SHAPE_MODES', 'BoxesToPseudoMask', 'box_label_dtype']


@TRANSFORMS.register_module()
class BoxesToPseudoMask(BaseTransform):
    """Rasterise a sample's boxes into an encoded pseudo label map.

    Each box becomes its class's sign shape inscribed in the box (the class's
    ``attributes.shape`` in the taxonomy: ``circle``, ``triangle``,
    ``inverted_triangle``, ``diamond``, ``octagon`` or ``box``), or the whole
    box with ``shape_mode='box'``. Pixels inside a shape get the class's
    target + ``T`` (its node id, or node set, as a box pseudo label, see
    :mod:`mmhier.structures.label_encoding`); all other pixels, also those
    inside a box but outside its shape, get -1. Overlaps: the smallest box
    wins, the later box among equal areas (see
    :mod:`mmhier.datasets.pseudo_masks`). Classes the taxonomy ignores are
    drawn as -1.

    Place it right after ``LoadImageFromFile``, before any geometric
    transform: the boxes are in the loaded image's coordinates, and only
    ``gt_seg_map`` (not ``gt_boxes``) follows later resizes, crops and flips.

    Required keys: ``gt_boxes`` ``(K, 4)``, ``gt_box_labels`` ``(K,)``
    (dataset class ids), ``img_shape``; ``taxonomy`` and ``dataset_key``
    unless given as arguments (:class:`TaxonomySegDataset` sets them).

    Values, shapes and the map's type come from the dataset's shared
    :class:`~mmhier.structures.label_space.LabelSpace` (``box_labels``,
    ``shape_ids(shape_mode)``).

    Added keys: ``gt_seg_map`` ``(H, W)`` int16 (int32 for taxonomies of
    more than 16384 nodes, see :func:`box_label_dtype`); ``'gt_seg_map'`` appended to
    ``seg_fields``.

    Args:
        shape_mode: ``'shape'`` (each class's shape) or ``'box'`` (the whole
            box for every class: the authors' coarse pseudo labels).
        taxonomy: Taxonomy path or object; default: the sample's.
        dataset_key: The box dataset's key; default: the sample's.

    Raises:
        MissingShapeError: ``shape_mode='shape'`` and a class has no
            ``shape`` attribute (at construction when ``taxonomy`` and
            ``dataset_key`` are given, else on the first sample); unknown
            shape names are taxonomy validation errors.
        LabelIdOutOfRangeError: A box class id outside the dataset's ids.
    """

    def __init__(self, shape_mode: str = 'shape',
                 taxonomy: Optional[Union[str, os.PathLike, Taxonomy]] = None,
                 dataset_key: Optional[str] = None):
        if shape_mode not in SHAPE_MODES:
            raise ValueError(f"shape_mode must be 'shape' or 'box', got {shape_mode!r}")
        self.shape_mode = shape_mode
        self.taxonomy = None if taxonomy is None else load_taxonomy(taxonomy)
        self.dataset_key = dataset_key
        if self.taxonomy is not None and dataset_key is not None:
            label_space(self.taxonomy, dataset_key).shape_ids(shape_mode)

    def transform(self, results: dict) -> dict:
        """Add the encoded pseudo label map ``gt_seg_map``."""
        space: LabelSpace = label_space(*taxonomy_and_key(
            'BoxesToPseudoMask', self.taxonomy, self.dataset_key, results))
        shapes = space.shape_ids(self.shape_mode)
        height, width = results['img_shape'][:2]
        ori_shape = results.get('ori_shape')
        if ori_shape is not None and tuple(ori_shape[:2]) != (height, width):
            raise ValueError(f'BoxesToPseudoMask got a {width}x{height} image loaded '
                             f'as {ori_shape[1]}x{ori_shape[0]}: place it right after '
                             'LoadImageFromFile, before resizing or cropping')
        labels = np.asarray(results['gt_box_labels'], dtype=np.int64).reshape(-1)
        num_ids = space.num_ids
        if labels.size and (labels.min() < 0 or labels.max() >= num_ids):
            bad = sorted(set(labels[(labels < 0) | (labels >= num_ids)].tolist()))
            raise LabelIdOutOfRangeError(
                f"{results.get('img_path', '<sample>')}: box class id(s) {bad} outside "
                f'0..{num_ids - 1} of dataset {space.dataset_key!r} in {space.source}; '
                'fix the annotations or the taxonomy')
        results['gt_seg_map'] = rasterize_shapes(
            height, width, results['gt_boxes'], shapes[labels],
            values=space.box_labels[labels], dtype=space.box_labels.dtype)
        seg_fields = results.setdefault('seg_fields', [])
        if 'gt_seg_map' not in seg_fields:
            seg_fields.append('gt_seg_map')
        return results

    def __repr__(self) -> str:
        taxonomy = None if self.taxonomy is None else self.taxonomy.source
        return (f'{self.__class__.__name__}(shape_mode={self.shape_mode!r}, '
                f'taxonomy={taxonomy!r}, dataset_key={self.dataset_key!r})')
