"""One home for the label space of a dataset of a taxonomy.

The label-map contract (:mod:`mmhier.structures.label_encoding`: ``-1``
ignored, target ``t`` - a node id, or ``N`` + a node set index - for
per-pixel labels, ``t + T`` for box pseudo labels, ``T =
taxonomy.num_targets``) is applied by transforms, heads, the loss, the
metric and the visualizer. All of them take the tables they need from one
object per (taxonomy, dataset key), built once and cached on the taxonomy:

* :class:`LabelCodec` (``label_codec(taxonomy)``): the encoding itself
  (encode, decode, range checks, lookup tables over encoded labels);
* :class:`LabelSpace` (``label_space(taxonomy, dataset_key)``): a dataset's
  raw id -> encoded label table, its box pseudo-label values, the shape of
  every class (box pseudo masks), the horizontal-flip table, node ->
  dataset class (evaluation), the nodes it labels and its supervision row.

Tables are numpy arrays, read-only, shared by every user: two transforms (or
a transform and the metric) of one taxonomy and dataset hold the same array
objects. Everything here needs numpy only.
"""
from __future__ import annotations

import os
from functools import cached_property
from typing import Any, Union

import numpy as np

from mmhier.structures.label_encoding import (IGNORE_INDEX, box_label_dtype,
                                              decode_labels, encode_labels)
from mmhier.taxonomy import Taxonomy, load_taxonomy
from mmhier.taxonomy.class_attributes import BOX, FLIP_TO, SHAPE, SHAPE_MODES, SHAPES
from mmhier.taxonomy.errors import TaxonomyError

__all__ = ['LabelCodec', 'LabelSpace', 'MissingShapeError', 'label_codec', 'label_space']

TaxonomyRef = Union[str, os.PathLike, Taxonomy]

#: Attribute of a :class:`Taxonomy` holding its label spaces (the cache lives
#: and dies with the taxonomy object).
_CACHE = '_mmhier_label_spaces'


class MissingShapeError(TaxonomyError):
    """Box pseudo masks are drawn by shape, but some classes of the dataset
    have no ``shape`` attribute."""


def _readonly(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def _cache(taxonomy: Taxonomy) -> dict:
    cache = vars(taxonomy).get(_CACHE)
    if cache is None:
        cache = vars(taxonomy).setdefault(_CACHE, {})
    return cache


class LabelCodec:
    """The label-map encoding of one taxonomy.

    Get it with :func:`label_codec` (one per taxonomy object). Methods work
    on numpy arrays and torch tensors alike.

    Args:
        taxonomy: The taxonomy.

    Attributes:
        taxonomy: The taxonomy.
        num_nodes: ``N``.
        num_targets: ``T``: nodes plus node sets (``T = N`` without sets).
        tree_hash: The taxonomy's tree hash.
        label_hash: The taxonomy's label hash (the tree and its node sets):
            samples carry it (``metainfo['taxonomy_hash']``) to say which
            encoding they follow.
    """

    #: Label of ignored pixels.
    ignore_index = IGNORE_INDEX

    def __init__(self, taxonomy: Taxonomy):
        self.taxonomy = taxonomy
        self.num_nodes = taxonomy.num_nodes
        self.num_targets = taxonomy.num_targets
        self.tree_hash = taxonomy.tree_hash
        self.label_hash = taxonomy.label_hash

    @property
    def num_labels(self) -> int:
        """Number of non-ignored label values, ``2 T`` (``0 .. 2T - 1``)."""
        return 2 * self.num_targets

    @property
    def box_dtype(self) -> type:
        """Integer type of box pseudo-label maps (``int16`` while ``2T`` fits,
        see :func:`~mmhier.structures.label_encoding.box_label_dtype`)."""
        return box_label_dtype(self.num_targets)

    def encode(self, targets: Any, is_box: Any) -> Any:
        """Targets and annotation types -> labels
        (:func:`~mmhier.structures.label_encoding.encode_labels`)."""
        return encode_labels(targets, is_box, self.num_targets)

    def decode(self, labels: Any) -> tuple[Any, Any]:
        """Labels -> ``(targets, is_box)``
        (:func:`~mmhier.structures.label_encoding.decode_labels`)."""
        return decode_labels(labels, self.num_targets)

    @cached_property
    def display_nodes(self) -> np.ndarray:
        """``(2T + 1,)`` int64 node to draw for every label, whatever its
        annotation type: a node target's node, a node set's deepest common
        ancestor (:attr:`Taxonomy.target_lca`); ``table[-1] == -1``. Index
        it with a label map (:meth:`value_table`)."""
        return self.value_table(self.taxonomy.target_lca.astype(np.int64))

    def in_range(self, labels: Any) -> bool:
        """Whether every value is a label of the contract, ``-1 .. 2T - 1``
        (a Python bool: reads the values, so use it on the CPU side)."""
        size = labels.size if isinstance(labels, np.ndarray) else labels.numel()
        if size == 0:
            return True
        return bool(labels.min() >= IGNORE_INDEX) and bool(labels.max() < self.num_labels)

    def describe(self) -> str:
        """The contract's values, for messages."""
        n, t = self.num_nodes, self.num_targets
        sets = f', node sets {n}..{t - 1}' if t > n else ''
        return (f'-1 ignored, node ids 0..{n - 1}{sets}, box pseudo labels '
                f'{t}..{2 * t - 1} (N = {n} nodes'
                f'{f", T = {t} targets" if t > n else ""} of taxonomy '
                f'{self.taxonomy.name!r})')

    def _check_size(self, values: np.ndarray, what: str) -> None:
        if values.shape != (self.num_targets,):
            raise ValueError(f'{what} must have one entry per target, shape '
                             f'({self.num_targets},), got {values.shape}')

    def remap_table(self, target_map: np.ndarray, dtype: Any = np.int32) -> np.ndarray:
        """A lookup table that replaces every label's target and keeps its
        annotation type: ``table[labels]`` maps a label map (``-1`` stays
        ``-1``: it indexes the last entry).

        Args:
            target_map: New target per target, ``-1`` where the label becomes
                ignored.
            dtype: Integer type of the table.

        Returns:
            ``table[v]`` = ``encode(target_map[v], False)`` for ``v < T``,
            ``encode(target_map[v - T], True)`` for ``T <= v < 2T``, and
            ``table[2T] == -1``; read-only.

        Raises:
            ValueError: ``target_map`` is not ``(T,)``.

        Shape:
            ``target_map``: ``(T,)``; returns ``(2T + 1,)``.
        """
        target_map = np.asarray(target_map, dtype=np.int64)
        self._check_size(target_map, 'target_map')
        table = np.concatenate([self.encode(target_map, False),
                                self.encode(target_map, True), [IGNORE_INDEX]]).astype(dtype)
        return _readonly(table)

    def value_table(self, target_values: np.ndarray,
                    ignored: int = IGNORE_INDEX) -> np.ndarray:
        """A lookup table from labels to a value per target, whatever the
        annotation type: ``table[labels]`` (``-1`` indexes the last entry).

        Args:
            target_values: Value of every target (e.g. an output channel).
            ignored: Value of ignored pixels.

        Returns:
            ``table[v] = table[v + T] = target_values[v]``, ``table[2T] =
            ignored``; read-only, of ``target_values``' dtype.

        Raises:
            ValueError: ``target_values`` is not ``(T,)``.

        Shape:
            ``target_values``: ``(T,)``; returns ``(2T + 1,)``.
        """
        target_values = np.asarray(target_values)
        self._check_size(target_values, 'target_values')
        table = np.concatenate([target_values, target_values, [ignored]]).astype(
            target_values.dtype)
        return _readonly(table)

    def __repr__(self) -> str:
        return (f'LabelCodec(taxonomy={self.taxonomy.name!r}, num_nodes={self.num_nodes}, '
                f'num_targets={self.num_targets})')


class LabelSpace:
    """Everything about the labels of one dataset of one taxonomy.

    Get it with :func:`label_space` (one per taxonomy object and dataset
    key). Tables are built on first use and read-only.

    Args:
        taxonomy: The taxonomy.
        dataset_key: The dataset's key in it.

    Attributes:
        taxonomy: The taxonomy.
        dataset_key: The dataset's key.
        spec: The dataset's :class:`~mmhier.taxonomy.DatasetSpec`.
        codec: The taxonomy's :class:`LabelCodec`.
        num_nodes: ``N``.
        annotation: ``'pixel'`` or ``'box'``.
        is_box: The dataset's labels are box pseudo labels.
        num_ids: Number of raw label ids.
        encoding: Raw ids' encoding (``uint8``, ``uint16``, ``int32``).
        source: The taxonomy file, for messages.

    Raises:
        UnknownDatasetError: The taxonomy has no dataset ``dataset_key``.
    """

    def __init__(self, taxonomy: Taxonomy, dataset_key: str):
        self.spec = taxonomy.dataset(dataset_key)
        self.taxonomy = taxonomy
        self.dataset_key = self.spec.key
        self.codec = label_codec(taxonomy)
        self.num_nodes = taxonomy.num_nodes
        self.annotation = self.spec.annotation
        self.is_box = self.annotation == 'box'
        self.num_ids = self.spec.num_ids
        self.encoding = self.spec.encoding
        self.source = taxonomy.source
        self._shape_ids: dict[str, np.ndarray] = {}

    # ----------------------------------------------------------- encoding
    def encode(self, targets: Any, is_box: Any) -> Any:
        """See :meth:`LabelCodec.encode`."""
        return self.codec.encode(targets, is_box)

    def decode(self, labels: Any) -> tuple[Any, Any]:
        """See :meth:`LabelCodec.decode`."""
        return self.codec.decode(labels)

    @property
    def id_to_target(self) -> np.ndarray:
        """``(num_ids,)`` int64 target of every raw id (node id, or ``N`` +
        node set index), ``-1`` where ignored (:meth:`Taxonomy.label_to_target`)."""
        return self.taxonomy.label_to_target(self.dataset_key)

    @property
    def id_to_node(self) -> np.ndarray:
        """``(num_ids,)`` int64 node of every raw id, ``-1`` where ignored; a
        node set's deepest common ancestor (:meth:`Taxonomy.label_to_node`)."""
        return self.taxonomy.label_to_node(self.dataset_key)

    @cached_property
    def id_to_label(self) -> np.ndarray:
        """``(num_ids,)`` int32 encoded label of every raw id, as the
        dataset's annotation type: ``id_to_label[raw_ids]`` is the label map
        of a label image (``LoadTaxonomyAnnotations``)."""
        return _readonly(self.encode(self.id_to_target, self.is_box).astype(np.int32))

    @cached_property
    def box_labels(self) -> np.ndarray:
        """``(num_ids,)`` box pseudo label (target + ``T``) of every class
        id, ``-1`` for ignored ones, in :attr:`LabelCodec.box_dtype` (the
        values ``BoxesToPseudoMask`` draws)."""
        return _readonly(self.encode(self.id_to_target, True).astype(self.codec.box_dtype))

    # ------------------------------------------------------------- shapes
    def shape_ids(self, mode: str = 'shape') -> np.ndarray:
        """Shape id (index into
        :data:`~mmhier.taxonomy.class_attributes.SHAPES`) of every class id.

        Args:
            mode: ``'shape'``: each class's ``attributes.shape`` (ignored and
                unlisted ids: ``box``); ``'box'``: ``box`` for every id.

        Returns:
            ``(num_ids,)`` int64, read-only.

        Raises:
            ValueError: Unknown ``mode``.
            MissingShapeError: ``'shape'`` mode and mapped classes without a
                ``shape`` attribute (all listed with file and line).
        """
        if mode not in SHAPE_MODES:
            raise ValueError(f"shape mode must be one of {', '.join(SHAPE_MODES)}, "
                             f'got {mode!r}')
        if mode not in self._shape_ids:
            shapes = np.full(self.num_ids, BOX, dtype=np.int64)
            if mode == 'shape':
                missing = []
                for cls in self.spec.classes:
                    if cls.ignored:
                        continue  # drawn as a box of -1
                    if SHAPE in cls.attributes:  # validated: a known shape
                        shapes[cls.id] = SHAPES.index(cls.attributes[SHAPE])
                    else:
                        line = '' if cls.line is None else f':{cls.line}'
                        missing.append(f'{self.source}{line}: dataset {self.dataset_key!r} '
                                       f'class {cls.id} {cls.name!r} has no `shape` '
                                       'attribute')
                if missing:
                    raise MissingShapeError(
                        '\n'.join(missing) + '\n    hint: give each class `attributes: '
                        f"{{shape: ...}}` (one of {', '.join(SHAPES)}), or draw whole "
                        "boxes: BoxesToPseudoMask(shape_mode='box')")
            self._shape_ids[mode] = _readonly(shapes)
        return self._shape_ids[mode]

    # --------------------------------------------------------------- flip
    @cached_property
    def flip_nodes(self) -> np.ndarray:
        """``(N,)`` int64 node every node becomes under a horizontal flip,
        from the dataset's ``flip_to`` pairs (the validator checked them;
        node-set classes have none); ``-1`` where the partner class is
        ignored, the node itself for every other node."""
        flipped = np.arange(self.num_nodes, dtype=np.int64)
        nodes = self.id_to_node
        for cls in self.spec.classes:
            if cls.node is not None and FLIP_TO in cls.attributes:
                flipped[nodes[cls.id]] = nodes[cls.attributes[FLIP_TO]]
        return _readonly(flipped)

    @cached_property
    def flip_table(self) -> np.ndarray:
        """``(2T + 1,)`` int32 label after a horizontal flip of every label,
        per-pixel and box labels alike (:meth:`LabelCodec.remap_table` of
        :attr:`flip_nodes`; a node set becomes the set of its members' mirror
        nodes, which validation made sure a class maps to, and ``-1`` if a
        member's partner class is ignored): ``flip_table[label_map]``, ``-1``
        stays ``-1``."""
        n, tax = self.num_nodes, self.taxonomy
        targets = np.arange(self.codec.num_targets, dtype=np.int64)
        targets[:n] = self.flip_nodes
        for target in np.flatnonzero(self.labelled[n:]) + n:
            mirrored = self.flip_nodes[list(tax.target_members[target])]
            found = tax.target_of(mirrored) if (mirrored >= 0).all() else None
            targets[target] = IGNORE_INDEX if found is None else found
        return self.codec.remap_table(targets, np.int32)

    # --------------------------------------------------------- evaluation
    @property
    def node_to_class(self) -> np.ndarray:
        """``(N,)`` int64 dataset class id of every node: its deepest
        ancestor-or-self the dataset labels, ``-1`` if none
        (:meth:`Taxonomy.node_to_dataset_class`)."""
        return self.taxonomy.node_to_dataset_class(self.dataset_key)

    @property
    def target_to_class(self) -> np.ndarray:
        """``(T,)`` int64 dataset class id of a gt pixel of every target
        (:meth:`Taxonomy.target_to_dataset_class`)."""
        return self.taxonomy.target_to_dataset_class(self.dataset_key)

    @cached_property
    def labelled_nodes(self) -> np.ndarray:
        """Node ids the dataset labels (node-set members included),
        ascending (preorder): int64, read-only (:meth:`Taxonomy.labelled_nodes`
        as indices)."""
        index = self.taxonomy.index
        return _readonly(np.array(
            [index(n) for n in self.taxonomy.labelled_nodes(self.dataset_key)],
            dtype=np.int64))

    @cached_property
    def labelled(self) -> np.ndarray:
        """``(T,)`` bool, true for the targets the dataset's classes map to
        (:meth:`Taxonomy.labelled_targets`)."""
        return self.taxonomy.labelled_targets(self.dataset_key)

    # -------------------------------------------------------- supervision
    @property
    def supervision(self) -> np.ndarray:
        """``(num_classifiers,)`` bool: the classifiers this dataset trains
        (its row of :attr:`Taxonomy.supervision`), read-only."""
        return self.taxonomy.supervision[self.taxonomy.dataset_keys.index(self.dataset_key)]

    def __repr__(self) -> str:
        return (f'LabelSpace(taxonomy={self.taxonomy.name!r}, '
                f'dataset_key={self.dataset_key!r}, annotation={self.annotation!r}, '
                f'num_ids={self.num_ids})')


def label_codec(taxonomy: TaxonomyRef) -> LabelCodec:
    """The :class:`LabelCodec` of a taxonomy, built once per taxonomy object.

    Args:
        taxonomy: A :class:`Taxonomy`, YAML path or shipped name.

    Raises:
        TaxonomyError: The file is missing or invalid.
    """
    taxonomy = load_taxonomy(taxonomy)
    cache = _cache(taxonomy)
    codec = cache.get(None)
    if codec is None:
        codec = cache.setdefault(None, LabelCodec(taxonomy))
    return codec


def label_space(taxonomy: TaxonomyRef, dataset_key: str) -> LabelSpace:
    """The :class:`LabelSpace` of a dataset, built once per taxonomy object
    and key: every caller gets the same object (and table arrays).

    Args:
        taxonomy: A :class:`Taxonomy`, YAML path or shipped name.
        dataset_key: The dataset's key in it.

    Raises:
        UnknownDatasetError: No such dataset (with "did you mean").
        TaxonomyError: The file is missing or invalid.
    """
    taxonomy = load_taxonomy(taxonomy)
    cache = _cache(taxonomy)
    space = cache.get(('dataset', dataset_key)) if isinstance(dataset_key, str) else None
    if space is None:
        space = LabelSpace(taxonomy, dataset_key)
        space = cache.setdefault(('dataset', dataset_key), space)
    return space
