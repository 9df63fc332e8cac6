"""Turn a sample's bounding boxes into its encoded pseudo label map."""
from __future__ import annotations

import os
from typing import NamedTuple, Optional, Union

import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

from mmhier.datasets.errors import LabelIdOutOfRangeError
from mmhier.datasets.pseudo_masks import BOX, SHAPES, rasterize_shapes
from mmhier.taxonomy import Taxonomy, load_taxonomy
from mmhier.taxonomy.errors import TaxonomyError
from mmhier.datasets.transforms.taxonomy_source import taxonomy_and_key

SHAPE_MODES = ('shape', 'box')


class _Tables(NamedTuple):
    """Per-class lookup tables of one taxonomy dataset.

    Attributes:
        values: Encoded label of each class id: node id + ``num_nodes``
            (a box pseudo label), -1 for ignored classes.
        shapes: Shape id (index into :data:`SHAPES`) of each class id.

    Shape:
        values, shapes: ``(num_ids,)``.
    """

    values: np.ndarray
    shapes: np.ndarray


def box_label_dtype(num_nodes: int) -> type:
    """Integer type of box pseudo-label maps: ``int16`` while every encoded
    value (up to ``2 * num_nodes - 1``) fits, which halves the cost of
    writing the map, else ``int32``."""
    return np.int16 if 2 * num_nodes <= np.iinfo(np.int16).max + 1 else np.int32


def _build_tables(taxonomy: Taxonomy, key: str, shape_mode: str) -> _Tables:
    """The tables of dataset ``key``, shapes from class ``attributes.shape``.

    Raises:
        TaxonomyError: In ``'shape'`` mode, mapped classes without a valid
            ``shape`` attribute (all are listed, with file and line).
    """
    spec = taxonomy.dataset(key)
    nodes = taxonomy.label_to_node(key)
    values = np.where(nodes >= 0, nodes + taxonomy.num_nodes, -1).astype(
        box_label_dtype(taxonomy.num_nodes))
    shapes = np.full(spec.num_ids, BOX, dtype=np.int64)
    problems = []
    for cls in spec.classes:
        if shape_mode == 'box' or cls.ignored:
            continue  # ignored classes are drawn as boxes of -1
        shape = cls.attributes.get('shape')
        if shape in SHAPES:
            shapes[cls.id] = SHAPES.index(shape)
        else:
            what = 'has no `shape` attribute' if shape is None \
                else f'has unknown shape {shape!r}'
            line = '' if cls.line is None else f':{cls.line}'
            problems.append(f'{taxonomy.source}{line}: dataset {key!r} class '
                            f'{cls.id} {cls.name!r} {what}')
    if problems:
        raise TaxonomyError('\n'.join(problems) + '\n    hint: give each class '
                            f"`attributes: {{shape: ...}}` (one of {', '.join(SHAPES)}), "
                            "or use BoxesToPseudoMask(shape_mode='box')")
    values.setflags(write=False)
    shapes.setflags(write=False)
    return _Tables(values, shapes)


@TRANSFORMS.register_module()
class BoxesToPseudoMask(BaseTransform):
    """Rasterise a sample's boxes into an encoded pseudo label map.

    Each box becomes its class's sign shape inscribed in the box (the class's
    ``attributes.shape`` in the taxonomy: ``circle``, ``triangle``,
    ``inverted_triangle``, ``diamond``, ``octagon`` or ``box``), or the whole
    box with ``shape_mode='box'``. Pixels inside a shape get the class's node
    id + ``num_nodes`` (a box pseudo label, see
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

    Added keys: ``gt_seg_map`` ``(H, W)`` int16 (int32 for taxonomies of
    more than 16384 nodes, see :func:`box_label_dtype`); ``'gt_seg_map'`` appended to
    ``seg_fields``.

    Args:
        shape_mode: ``'shape'`` (each class's shape) or ``'box'`` (the whole
            box for every class: the authors' coarse pseudo labels).
        taxonomy: Taxonomy path or object; default: the sample's.
        dataset_key: The box dataset's key; default: the sample's.

    Raises:
        TaxonomyError: ``shape_mode='shape'`` and a class has no valid
            ``shape`` attribute (at construction when ``taxonomy`` and
            ``dataset_key`` are given, else on the first sample).
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
        self._cache: dict[tuple[Taxonomy, str], _Tables] = {}
        if self.taxonomy is not None and dataset_key is not None:
            self._tables(self.taxonomy, dataset_key)

    def _tables(self, taxonomy: Taxonomy, key: str) -> _Tables:
        if (taxonomy, key) not in self._cache:
            self._cache[taxonomy, key] = _build_tables(taxonomy, key, self.shape_mode)
        return self._cache[taxonomy, key]

    def transform(self, results: dict) -> dict:
        """Add the encoded pseudo label map ``gt_seg_map``."""
        taxonomy, key = taxonomy_and_key('BoxesToPseudoMask', self.taxonomy,
                                         self.dataset_key, results)
        tables = self._tables(taxonomy, key)
        height, width = results['img_shape'][:2]
        ori_shape = results.get('ori_shape')
        if ori_shape is not None and tuple(ori_shape[:2]) != (height, width):
            raise ValueError(f'BoxesToPseudoMask got a {width}x{height} image loaded '
                             f'as {ori_shape[1]}x{ori_shape[0]}: place it right after '
                             'LoadImageFromFile, before resizing or cropping')
        labels = np.asarray(results['gt_box_labels'], dtype=np.int64).reshape(-1)
        num_ids = len(tables.values)
        if labels.size and (labels.min() < 0 or labels.max() >= num_ids):
            bad = sorted(set(labels[(labels < 0) | (labels >= num_ids)].tolist()))
            raise LabelIdOutOfRangeError(
                f"{results.get('img_path', '<sample>')}: box class id(s) {bad} outside "
                f'0..{num_ids - 1} of dataset {key!r} in {taxonomy.source}; fix the '
                'annotations or the taxonomy')
        results['gt_seg_map'] = rasterize_shapes(
            height, width, results['gt_boxes'], tables.shapes[labels],
            values=tables.values[labels], dtype=tables.values.dtype)
        seg_fields = results.setdefault('seg_fields', [])
        if 'gt_seg_map' not in seg_fields:
            seg_fields.append('gt_seg_map')
        return results

    def __repr__(self) -> str:
        taxonomy = None if self.taxonomy is None else self.taxonomy.source
        return (f'{self.__class__.__name__}(shape_mode={self.shape_mode!r}, '
                f'taxonomy={taxonomy!r}, dataset_key={self.dataset_key!r})')
