"""The label-map contract between mmhier datasets and the hierarchical loss.

Every training sample's ``gt_seg_map`` (``gt_sem_seg`` once packed) holds, per
pixel, one integer that carries both the **taxonomy node** the pixel is
labelled with and the **annotation type** of that label:

====================  =====================================================
value ``v``           meaning
====================  =====================================================
``-1``                ignored (:data:`IGNORE_INDEX`): unlabelled, void, or a
                      box pixel outside the sign's shape
``0 <= v < N``        per-pixel annotation (P1) of node ``v``
``N <= v < 2N``       box pseudo label (P2) of node ``v - N``
====================  =====================================================

where ``N = taxonomy.num_nodes`` and node ids are taxonomy node indices
(``taxonomy.index(name)``). One map keeps node and annotation type in step
through every geometric transform (resize with nearest, crop, flip, pad).
Maps are ``int32`` in the data pipeline (OpenCV cannot resize int64; box
pseudo-label maps are ``int16`` while ``2N`` fits, which halves their cost),
so node ids never wrap at 255 as mmseg's uint8 annotations would;
``PackSegInputs`` makes every map ``int64``.

The functions here are the primitive; code that has a taxonomy uses its
:class:`~mmhier.structures.label_space.LabelSpace` (``label_space(taxonomy,
dataset_key)``), which owns every table derived from this encoding. They work
on numpy arrays and torch tensors alike.
"""
from __future__ import annotations

from typing import Any

import numpy as np

#: Label value of ignored pixels (also the ``ignore_index`` / ``seg_pad_val``
#: to use in configs).
IGNORE_INDEX = -1


def encode_labels(node_ids: Any, is_box: Any, num_nodes: int) -> Any:
    """Combine node ids and annotation types into one label map.

    Args:
        node_ids: Node index per pixel, :data:`IGNORE_INDEX` where ignored.
        is_box: Bool (or 0/1) per pixel or scalar: the label is a box pseudo
            label rather than a per-pixel annotation.
        num_nodes: ``taxonomy.num_nodes``.

    Returns:
        Encoded labels, same type and shape as ``node_ids``.
    """
    return node_ids + (node_ids >= 0) * is_box * num_nodes


def decode_labels(labels: Any, num_nodes: int) -> tuple[Any, Any]:
    """Split an encoded label map into node ids and the box flag.

    Args:
        labels: Encoded label map (see module docstring).
        num_nodes: ``taxonomy.num_nodes``.

    Returns:
        ``(node_ids, is_box)``: node index per pixel (:data:`IGNORE_INDEX`
        where ignored) and a bool map, true for box pseudo labels.
    """
    is_box = labels >= num_nodes
    return labels - is_box * num_nodes, is_box


def box_label_dtype(num_nodes: int) -> type:
    """Integer type of box pseudo-label maps: ``int16`` while every encoded
    value (up to ``2 * num_nodes - 1``) fits, which halves the cost of
    writing the map, else ``int32``.

    Args:
        num_nodes: ``taxonomy.num_nodes``.

    Returns:
        ``np.int16`` or ``np.int32``.
    """
    return np.int16 if 2 * num_nodes <= np.iinfo(np.int16).max + 1 else np.int32
