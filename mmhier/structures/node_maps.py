"""Node maps on disk: predicted taxonomy node ids as 16-bit PNGs.

A node map holds one taxonomy node id (``taxonomy.index(name)``) per pixel.
Tools (``tools/test.py --out``, ``tools/infer.py``) and
``HierarchicalIoUMetric(output_dir=...)`` write them with
:func:`save_node_map`; :func:`load_node_map` reads them back.
"""
from __future__ import annotations

import os
from typing import Union

import numpy as np

#: Largest node id a 16-bit PNG node map can hold.
MAX_PNG_ID = int(np.iinfo(np.uint16).max)


class NodeMapRangeError(ValueError):
    """Node ids do not fit a 16-bit PNG."""


def save_node_map(path: Union[str, os.PathLike], node_map: np.ndarray) -> None:
    """Write node ids as a 16-bit greyscale PNG (parent folders are created).

    Args:
        path: The PNG file.
        node_map: Node ids.

    Shape:
        ``node_map``: ``(H, W)``.

    Raises:
        NodeMapRangeError: Ids outside ``0 .. 65535``.
    """
    from PIL import Image
    path = os.fspath(path)
    node_map = np.asarray(node_map)
    if node_map.size and (node_map.min() < 0 or node_map.max() > MAX_PNG_ID):
        raise NodeMapRangeError(f'{path}: node ids {node_map.min()}..{node_map.max()} do '
                                f'not fit a 16-bit PNG (0..{MAX_PNG_ID})')
    parent = os.path.dirname(path)
    if parent:
        os.makedirs(parent, exist_ok=True)
    Image.fromarray(node_map.astype(np.uint16)).save(path)


def load_node_map(path: Union[str, os.PathLike]) -> np.ndarray:
    """Read a node map written by :func:`save_node_map`.

    Returns:
        ``int64`` node ids, shape ``(H, W)``.
    """
    from PIL import Image
    with Image.open(os.fspath(path)) as image:
        return np.asarray(image).astype(np.int64)
