"""The hierarchical loss of Meletis & Dubbelman (2018), Eq. (1), as plain
tensor functions.

For classifier ``j`` the pixels ``P_j`` are the labelled pixels whose node lies
strictly below ``j`` (they are labelled at a finer level of detail than ``j``)
and whose dataset trains ``j``. They split into

- ``P1_j``: per-pixel annotations, and
- ``P2_j``: box pseudo labels, kept only where the current (detached)
  decisions of all of ``j``'s ancestor classifiers agree with the pixel's path
  (online refinement of the pseudo masks): exactly where the greedy decision
  passes through ``j``'s node, since both take a classifier's decision from
  :func:`~mmhier.models.decision.classifier_choice` (the first maximal logit
  at exact ties),

and ``L_j = mean_{P1_j} CE + mean_{P2_j} CE``; an empty set contributes 0.
Everything is computed with lookup tables and masks: no Python loop over
classes or pixels (one loop over classifiers), no boolean indexing, no
``.item()``, ``.nonzero()`` or ``torch.unique`` - nothing that synchronises a
GPU with the host.
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from mmhier.models.decision import classifier_choice
from mmhier.models.tables import LossTables


class ClassifierLosses(NamedTuple):
    """Per-classifier results of :func:`hierarchical_cross_entropy`.

    Attributes:
        loss: ``(C,)`` unweighted ``L_j``.
        correct: ``(C,)`` number of counted pixels the classifier gets right.
        counted: ``(C,)`` number of counted pixels (``|P1_j| + |P2_j|``).
    """

    loss: Tensor
    correct: Tensor
    counted: Tensor


def masked_mean(values: Tensor, mask: Tensor) -> Tensor:
    """Mean of ``values`` where ``mask`` is true; exactly 0 for an empty mask
    (also in the gradient)."""
    mask = mask.to(values.dtype)
    return (values * mask).sum() / mask.sum().clamp(min=1)


def hierarchical_cross_entropy(logits: Sequence[Tensor], labels: Tensor,
                               dataset_index: Tensor, tables: LossTables,
                               refine_boxes: bool = True) -> ClassifierLosses:
    """Cross-entropy of every classifier on its own pixels.

    Args:
        logits: Per-classifier logits at label resolution, in
            ``taxonomy.classifiers`` order.
        labels: Encoded labels (see :mod:`mmhier.structures.label_encoding`).
        dataset_index: Row of ``tables.trains`` per sample: the index into
            ``tables.dataset_keys``, or ``len(dataset_keys)`` for the
            fallback row (see :class:`LossTables`).
        tables: Loss tables of the taxonomy.
        refine_boxes: Keep box pixels only where the ancestors' decisions
            agree with the pixel's path (the paper's online refinement).

    Returns:
        Per-classifier losses, correct and counted pixels.

    Shape:
        - logits[j]: ``(N, K_j, H, W)``
        - labels: ``(N, H, W)`` integer
        - dataset_index: ``(N,)`` int64
    """
    node, is_box = tables.codec.decode(labels.long())
    node = torch.where(node < 0, torch.full_like(node, tables.num_nodes), node)
    trains = tables.trains[dataset_index].view(-1, len(logits), 1, 1)  # (N, C, 1, 1)
    not_box = ~is_box
    losses, correct, counted = [], [], []
    on_path: list[Tensor] = []  # classifier's own choice follows the pixel's path
    agree: list[Tensor] = []    # ... and so do all its ancestors' decisions
    for j, x in enumerate(logits):
        path = torch.take(tables.path_targets[j], node)           # -1: not below j
        on_path.append(classifier_choice(x) == path)              # false where path < 0
        parent = tables.parent_list[j]
        agreed = agree[parent] & on_path[parent] if parent >= 0 else None
        agree.append(agreed if agreed is not None else torch.ones_like(is_box))
        valid = (path >= 0) & trains[:, j]                        # the pixels P_j
        p1 = valid & not_box
        p2 = valid & is_box
        if refine_boxes and agreed is not None:
            p2 = p2 & agreed
        used = p1 | p2
        nll = F.cross_entropy(x.float(), torch.where(used, path, -1), ignore_index=-1,
                              reduction='none')
        w1, w2 = p1.float(), p2.float()
        weight = w1 / w1.sum().clamp(min=1) + w2 / w2.sum().clamp(min=1)
        losses.append((nll * weight).sum())
        correct.append((used & on_path[j]).sum())
        counted.append(used.sum())
    return ClassifierLosses(torch.stack(losses), torch.stack(correct),
                            torch.stack(counted))
