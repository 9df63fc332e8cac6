"""Swap mirror-image classes (keep right <-> keep left) after a horizontal flip."""
from __future__ import annotations

import os
from typing import Optional, Sequence, Union

import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

from mmhier.datasets.errors import LabelIdOutOfRangeError
from mmhier.taxonomy import Taxonomy, load_taxonomy
from mmhier.taxonomy.errors import TaxonomyError
from mmhier.datasets.transforms.taxonomy_source import taxonomy_and_key


def flip_swap_table(taxonomy: Taxonomy, dataset_key: str) -> np.ndarray:
    """The label lookup table of a horizontal flip, from ``flip_to`` data.

    Dataset classes carry ``attributes: {flip_to: <class id>}`` on mirror
    pairs (GTSDB 38 keep right <-> 39 keep left). Each pair of classes becomes
    a pair of nodes, swapped in both encodings of
    :mod:`mmhier.structures.label_encoding`: per-pixel node ids ``v`` and box
    pseudo labels ``v + num_nodes``. Every other value maps to itself. If the
    partner class is ignored, the flipped class becomes -1.

    Args:
        taxonomy: The taxonomy.
        dataset_key: The dataset whose ``flip_to`` attributes define the pairs.

    Returns:
        ``table`` with ``table[v]`` the label of ``v`` after the flip for
        ``0 <= v < 2 * num_nodes``, and ``table[-1] == -1``, so that
        ``table[label_map]`` remaps a whole map, ignore included.

    Shape:
        ``(2 * num_nodes + 1,)`` int32, read-only.

    Raises:
        TaxonomyError: ``flip_to`` is not a class id of the dataset, a pair is
            not symmetric, or two classes of one node flip differently (all
            problems listed with file and line).
    """
    spec = taxonomy.dataset(dataset_key)
    n = taxonomy.num_nodes
    classes = {c.id: c for c in spec.classes}
    nodes = taxonomy.label_to_node(dataset_key)
    table = np.append(np.arange(2 * n, dtype=np.int32), np.int32(-1))
    targets: dict[int, tuple[int, int]] = {}  # node -> (flipped node, class id)
    problems = []
    for cls in spec.classes:
        where = f"{taxonomy.source}{'' if cls.line is None else f':{cls.line}'}: " \
            f'dataset {dataset_key!r} class {cls.id} {cls.name!r}'
        partner = cls.attributes.get('flip_to', cls.id)
        if isinstance(partner, bool) or not isinstance(partner, int) \
                or partner not in classes:
            problems.append(f'{where}: flip_to {partner!r} is not a class id of '
                            'the dataset; use the id of the mirror-image class '
                            'or remove flip_to')
            continue
        if classes[partner].attributes.get('flip_to', partner) != cls.id:
            problems.append(f'{where}: flip_to {partner} is one-way; a horizontal '
                            f'flip swaps both, so give class {partner} '
                            f'`flip_to: {cls.id}`')
            continue
        if cls.ignored:
            continue
        node, flipped = int(nodes[cls.id]), int(nodes[partner])
        if targets.setdefault(node, (flipped, cls.id))[0] != flipped:
            other = targets[node][1]
            problems.append(f'{where}: maps to node {cls.node!r} like class {other}, '
                            'but they flip to different nodes; give them the same '
                            'flip_to partner node')
            continue
        table[node] = flipped
        table[node + n] = flipped + n if flipped >= 0 else -1
    if problems:
        raise TaxonomyError('\n'.join(problems))
    table.setflags(write=False)
    return table


@TRANSFORMS.register_module()
class SwapFlippedClasses(BaseTransform):
    """Relabel mirror-image classes of horizontally flipped samples.

    A horizontally flipped "keep right" sign is a "keep left" sign. Put this
    transform right after mmseg's ``RandomFlip``: when ``results['flip']`` is
    true and ``results['flip_direction'] == 'horizontal'``, it remaps the
    label maps with one lookup table (:func:`flip_swap_table`), built once
    from the taxonomy's ``flip_to`` class attributes; per-pixel and box
    pseudo labels are both swapped, -1 stays -1.

    Vertical flips swap nothing: a vertically mirrored sign (an upside-down
    keep-right arrow) is no real sign class, and ``'diagonal'`` flips are
    180-degree rotations, not mirror images. Classes without ``flip_to`` keep
    their label, although not all are flip-safe: digits (speed limits) and
    asymmetric pictograms (bend, roundabout, trucks) become mirror images no
    real sign shows. Handling those (skipping the flip, ignoring their
    pixels) is out of scope here; do not flip such data if that matters.

    Required keys: the ``keys`` maps (encoded per
    :mod:`mmhier.structures.label_encoding`), ``flip``, ``flip_direction``;
    ``taxonomy`` and ``dataset_key`` unless given as arguments.

    Modified keys: the ``keys`` maps.

    Args:
        taxonomy: Taxonomy path or object; default: the sample's.
        dataset_key: The dataset whose ``flip_to`` attributes define the
            pairs; default: the sample's. Name the box dataset (e.g.
            ``'gtsdb'``) to swap per-pixel sign labels of another dataset that
            has no ``flip_to`` attributes of its own.
        keys: Label maps to remap.

    Raises:
        TaxonomyError: Invalid ``flip_to`` data (see :func:`flip_swap_table`).
        LabelIdOutOfRangeError: A label map value outside ``-1 .. 2N - 1``.
    """

    def __init__(self, taxonomy: Optional[Union[str, os.PathLike, Taxonomy]] = None,
                 dataset_key: Optional[str] = None,
                 keys: Sequence[str] = ('gt_seg_map',)):
        self.taxonomy = None if taxonomy is None else load_taxonomy(taxonomy)
        self.dataset_key = dataset_key
        self.keys = tuple(keys)
        self._cache: dict[tuple[Taxonomy, str], np.ndarray] = {}
        if self.taxonomy is not None and dataset_key is not None:
            self._table(self.taxonomy, dataset_key)

    def _table(self, taxonomy: Taxonomy, key: str) -> np.ndarray:
        if (taxonomy, key) not in self._cache:
            self._cache[taxonomy, key] = flip_swap_table(taxonomy, key)
        return self._cache[taxonomy, key]

    def transform(self, results: dict) -> dict:
        """Swap mirror classes in the label maps of horizontally flipped samples."""
        if not results.get('flip') or results.get('flip_direction') != 'horizontal':
            return results
        table = self._table(*taxonomy_and_key('SwapFlippedClasses', self.taxonomy,
                                              self.dataset_key, results))
        for key in self.keys:
            labels = results.get(key)
            if labels is None:
                continue
            if labels.size and (labels.min() < -1 or labels.max() >= len(table) - 1):
                raise LabelIdOutOfRangeError(
                    f"{results.get('img_path', '<sample>')}: {key} holds values "
                    f'{labels.min()}..{labels.max()}, outside -1..{len(table) - 2} of '
                    'the encoded label maps; encode labels per '
                    'mmhier.structures.label_encoding (BoxesToPseudoMask does)')
            results[key] = table[labels].astype(labels.dtype, copy=False)
        return results

    def __repr__(self) -> str:
        taxonomy = None if self.taxonomy is None else self.taxonomy.source
        return (f'{self.__class__.__name__}(taxonomy={taxonomy!r}, '
                f'dataset_key={self.dataset_key!r}, keys={self.keys!r})')
