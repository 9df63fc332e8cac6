"""The hierarchical loss of Meletis & Dubbelman (2018), Eq. (1), as plain
tensor functions.

For classifier ``j`` the pixels ``P_j`` are the labelled pixels whose node lies
strictly below ``j`` (they are labelled at a finer level of detail than ``j``)
and whose dataset trains ``j``. They split into

- ``P1_j``: per-pixel annotations, and
- ``P2_j``: box pseudo labels, kept only where the current (detached)
  decisions of all of ``j``'s ancestor classifiers agree with the pixel's path
  (online refinement of the pseudo masks),

and ``L_j = mean_{P1_j} CE + mean_{P2_j} CE``; an empty set contributes 0.
Everything is computed with lookup tables and masks: no Python loop over
classes or pixels (one loop over classifiers), no boolean indexing, no
``.item()``, ``.nonzero()`` or ``torch.unique`` - nothing that synchronises a
GPU with the host.
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

import torch
from torch import Tensor

from mmhier.models.tables import LossTables
from mmhier.structures import decode_labels


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
        dataset_index: Index into ``tables.dataset_keys`` per sample;
            ``len(dataset_keys)`` for samples of unknown datasets (they train
            every classifier their labels reach).
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
    node, is_box = decode_labels(labels.long(), tables.num_nodes)
    node = torch.where(node < 0, torch.full_like(node, tables.num_nodes), node)
    dataset = dataset_index.view(-1, 1, 1)
    losses, correct, counted = [], [], []
    agree: list[Tensor] = []  # per classifier: its ancestors agree with the path
    predictions: list[Tensor] = []
    for j, x in enumerate(logits):
        target = tables.targets[dataset, j, node]                 # (N, H, W)
        prediction = x.detach().argmax(dim=1)
        predictions.append(prediction)
        parent = tables.parent_list[j]
        if parent < 0:
            agreed = torch.ones_like(is_box)
        else:
            on_path = predictions[parent] == tables.path_targets[parent][node]
            agreed = agree[parent] & on_path
        agree.append(agreed)
        valid = target >= 0
        p1 = valid & ~is_box
        p2 = valid & is_box & (agreed if refine_boxes else True)
        safe_target = target.clamp(min=0)
        nll = -x.float().log_softmax(dim=1).gather(1, safe_target.unsqueeze(1)).squeeze(1)
        losses.append(masked_mean(nll, p1) + masked_mean(nll, p2))
        counted_mask = p1 | p2
        correct.append((counted_mask & (prediction == safe_target)).sum())
        counted.append(counted_mask.sum())
    return ClassifierLosses(torch.stack(losses), torch.stack(correct),
                            torch.stack(counted))
