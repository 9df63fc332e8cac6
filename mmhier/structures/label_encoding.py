"""The label-map contract between mmhier datasets and the hierarchical loss.

Every training sample's ``gt_seg_map`` (``gt_sem_seg`` once packed) holds, per
pixel, one integer that carries both the **target** the pixel is labelled
with and the **annotation type** of that label:

====================  =====================================================
value ``v``           meaning
====================  =====================================================
``-1``                ignored (:data:`IGNORE_INDEX`): unlabelled, void, or a
                      box pixel outside the sign's shape
``0 <= v < N``        per-pixel annotation (P1) of node ``v``
``N <= v < T``        per-pixel annotation of node set ``v - N`` (a partial
                      label: the pixel is one of the set's nodes)
``T <= v < 2T``       box pseudo label (P2) of target ``v - T``
====================  =====================================================

where ``N = taxonomy.num_nodes``, ``T = taxonomy.num_targets`` (``N`` plus
the number of distinct node sets the datasets' classes map to, see
:mod:`mmhier.taxonomy.node_sets`; ``T = N`` for taxonomies without node
sets), node ids are taxonomy node indices (``taxonomy.index(name)``) and
node sets are numbered as :attr:`Taxonomy.node_sets`. One map keeps target
and annotation type in step through every geometric transform (resize with
nearest, crop, flip, pad). Maps are ``int32`` in the data pipeline (OpenCV
cannot resize int64; box pseudo-label maps are ``int16`` while ``2T`` fits,
which halves their cost), so ids never wrap at 255 as mmseg's uint8
annotations would; ``PackSegInputs`` makes every map ``int64``.

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


def encode_labels(targets: Any, is_box: Any, num_targets: int) -> Any:
    """Combine targets and annotation types into one label map.

    Args:
        targets: Target per pixel (node id, or ``N`` + node set index),
            :data:`IGNORE_INDEX` where ignored.
        is_box: Bool (or 0/1) per pixel or scalar: the label is a box pseudo
            label rather than a per-pixel annotation.
        num_targets: ``taxonomy.num_targets`` (``T``).

    Returns:
        Encoded labels, same type and shape as ``targets``.
    """
    return targets + (targets >= 0) * is_box * num_targets


def decode_labels(labels: Any, num_targets: int) -> tuple[Any, Any]:
    """Split an encoded label map into targets and the box flag.

    Args:
        labels: Encoded label map (see module docstring).
        num_targets: ``taxonomy.num_targets`` (``T``).

    Returns:
        ``(targets, is_box)``: target per pixel (:data:`IGNORE_INDEX` where
        ignored) and a bool map, true for box pseudo labels.
    """
    is_box = labels >= num_targets
    return labels - is_box * num_targets, is_box


def box_label_dtype(num_targets: int) -> type:
    """Integer type of box pseudo-label maps: ``int16`` while every encoded
    value (up to ``2 * num_targets - 1``) fits, which halves the cost of
    writing the map, else ``int32``.

    Args:
        num_targets: ``taxonomy.num_targets`` (``T``).

    Returns:
        ``np.int16`` or ``np.int32``.
    """
    return np.int16 if 2 * num_targets <= np.iinfo(np.int16).max + 1 else np.int32
