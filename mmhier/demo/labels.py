"""Scene parts and how each dataset labels them.

The renderer labels every pixel with a **part**: what was drawn there, at the
finest level the generator knows (``'lane marking'``, ``'motorcyclist'``, the
sign type of a sign front, ...). Part names are taxonomy node names; a
dataset's label id of a part is looked up in the dataset's label space
(:attr:`LabelSpace.node_to_class <mmhier.structures.label_space.LabelSpace.node_to_class>`),
i.e. the dataset class of the part's deepest ancestor-or-self it labels. That is how the same
rendering becomes a coarse label map (``city_like``: a lane marking is
``road``, a stop sign is ``traffic sign``) or a fine one (``vistas_like``:
``lane marking``, ``traffic sign front``), with no label id written in code.
"""
from __future__ import annotations

import colorsys
from typing import Optional

import numpy as np

from mmhier.datasets.errors import DatasetError
from mmhier.demo.signs import SIGN_SHAPES, SIGN_TYPES
from mmhier.structures.label_space import label_space
from mmhier.taxonomy import Taxonomy, UnknownNodeError
from mmhier.taxonomy.palette import hierarchical_palette
from mmhier.taxonomy.class_attributes import SHAPE

UNLABELED = 'unlabeled'
#: Part names; a part code is an index into this tuple (0 = unlabeled).
PARTS: tuple[str, ...] = (
    UNLABELED, 'sky', 'building', 'vegetation', 'sidewalk', 'road', 'lane marking',
    'pole', 'car', 'person', 'bicyclist', 'motorcyclist', 'traffic sign back',
    *SIGN_TYPES)
#: Part name -> part code.
PART: dict[str, int] = {name: code for code, name in enumerate(PARTS)}

class SyntheticDataError(DatasetError):
    """The taxonomy cannot label the synthetic scenes, or bad generator settings."""


def ignore_id(taxonomy: Taxonomy, dataset_key: str) -> Optional[int]:
    """The smallest id of the dataset's ignored classes, ``None`` if it has none."""
    ids = [c.id for c in taxonomy.dataset(dataset_key).classes if c.ignored]
    return min(ids) if ids else None


def part_label_table(taxonomy: Taxonomy, dataset_key: str) -> np.ndarray:
    """The dataset's label id of every part (``table[parts]`` maps a part map).

    ``unlabeled`` and parts the dataset has no class for (at or above the
    part's node) get the dataset's ignore id.

    Args:
        taxonomy: The taxonomy.
        dataset_key: A per-pixel dataset of it.

    Returns:
        ``(len(PARTS),)`` int64 label ids.

    Raises:
        SyntheticDataError: A part is no node of the taxonomy, or the dataset
            has no ignore class for the parts it cannot label.
    """
    space = label_space(taxonomy, dataset_key)
    spec, to_class = space.spec, space.node_to_class
    ignored = ignore_id(taxonomy, dataset_key)
    table = np.empty(len(PARTS), dtype=np.int64)
    for code, name in enumerate(PARTS):
        label = -1
        if name != UNLABELED:
            try:
                label = int(to_class[taxonomy.index(name)])
            except UnknownNodeError:
                raise SyntheticDataError(
                    f'taxonomy {taxonomy.name!r} ({taxonomy.source}) has no node '
                    f'{name!r}; the synthetic scenes need nodes named '
                    f'{", ".join(PARTS[1:])}') from None
        if label < 0:
            if ignored is None:
                raise SyntheticDataError(
                    f'dataset {dataset_key!r} of {taxonomy.source} cannot label part '
                    f'{name!r} and has no ignored class to label it with; add '
                    "e.g. `0: {name: unlabeled, ignore: true}`")
            label = ignored
        table[code] = label
    if spec.num_ids > 2 ** 16:
        raise SyntheticDataError(f'dataset {dataset_key!r} has {spec.num_ids} ids; '
                                 'label PNGs hold at most 65536')
    return table


def sign_box_classes(taxonomy: Taxonomy, dataset_key: str) -> dict[str, int]:
    """Box class id of each sign type the box dataset labels.

    Raises:
        SyntheticDataError: A labelled sign type's class has an
            ``attributes.shape`` other than the glyph's shape (its pseudo
            masks would not cover the drawn sign).
    """
    space = label_space(taxonomy, dataset_key)
    to_class = space.node_to_class
    classes = {c.id: c for c in space.spec.classes}
    result = {}
    for kind in SIGN_TYPES:
        label = int(to_class[taxonomy.index(kind)]) if kind in taxonomy else -1
        if label < 0:
            continue
        shape = classes[label].attributes.get(SHAPE, SIGN_SHAPES[kind])
        if shape not in (SIGN_SHAPES[kind], 'box'):
            raise SyntheticDataError(
                f'{taxonomy.source}: dataset {dataset_key!r} class {label} '
                f'{classes[label].name!r} has shape {shape!r}, but the generator '
                f'draws {kind!r} signs as {SIGN_SHAPES[kind]!r}')
        result[kind] = label
    return result


def _generated_colour(index: int) -> tuple[int, int, int]:
    hue = (index * 0.618033988749895) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.65 + 0.3 * (index % 2), 0.55 + 0.4 * (index % 3) / 2)
    return round(r * 255), round(g * 255), round(b * 255)


def dataset_palette(taxonomy: Taxonomy, dataset_key: str) -> np.ndarray:
    """A colour per label id of a dataset, all distinct: the node's colour in
    mmhier's one palette (:func:`~mmhier.taxonomy.palette.hierarchical_palette`,
    as in overlays and MMSeg's visualizer), black for the ignore id, generated
    colours for further ids of one node.

    Returns:
        ``(num_ids, 3)`` uint8.
    """
    spec = taxonomy.dataset(dataset_key)
    node_colours = hierarchical_palette(taxonomy)
    palette = np.zeros((spec.num_ids, 3), dtype=np.uint8)
    used: set[tuple[int, int, int]] = set()
    nodes = taxonomy.label_to_node(dataset_key)   # a node set: its common ancestor
    extra = 0
    for label in range(spec.num_ids):
        colour = (0, 0, 0) if nodes[label] < 0 else \
            tuple(node_colours[nodes[label]].tolist())
        while colour is None or colour in used:
            colour = _generated_colour(extra)
            extra += 1
        used.add(colour)
        palette[label] = colour
    return palette


def colourise(ids: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Label ids to RGB through ``palette`` (ids outside it become black).

    Shape:
        ``ids`` ``(H, W)`` -> ``(H, W, 3)`` uint8.
    """
    padded = np.concatenate([palette, np.zeros((1, 3), dtype=np.uint8)])
    ids = np.where((ids >= 0) & (ids < len(palette)), ids, len(palette))
    return padded[ids]
