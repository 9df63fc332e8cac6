"""The hierarchical loss of Meletis & Dubbelman (2018), Eq. (1), as plain
tensor functions, with partial labels (node sets).

For classifier ``j`` the pixels ``P_j`` are the labelled pixels whose label
trains ``j`` - for a node label: the node lies strictly below ``j`` (it is
labelled at a finer level of detail than ``j``) - and whose dataset trains
``j``. They split into

- ``P1_j``: per-pixel annotations, and
- ``P2_j``: box pseudo labels, kept only where the current (detached)
  decisions of all of ``j``'s ancestor classifiers agree with the pixel's
  label (online refinement of the pseudo masks): each ancestor's choice is
  an allowed child (for a node label: the greedy decision passes through
  ``j``'s node), since both take a classifier's decision from
  :func:`~mmhier.models.decision.classifier_choice` (the first maximal logit
  at exact ties),

and ``L_j = mean_{P1_j} l + mean_{P2_j} l``; an empty set contributes 0. The
pixel term ``l`` is the cross-entropy of the one allowed child, or, for a
**partial label** (a node set that allows several children of ``j``, see
:mod:`mmhier.taxonomy.node_sets`), ``-log`` of the summed probability of the
allowed children. Everything is computed with lookup tables and masks: no
Python loop over classes or pixels (one loop over classifiers), no boolean
indexing, no ``.item()``, ``.nonzero()`` or ``torch.unique`` - nothing that
synchronises a GPU with the host. Classifiers no node set reaches run exactly
the code of node labels.
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from mmhier.models.decision import classifier_choice
from mmhier.models.tables import LossTables
from mmhier.taxonomy.node_sets import ANY, SEVERAL


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


def partial_label_nll(log_probs: Tensor, index: Tensor, valid: Tensor) -> Tensor:
    """``-log`` of the summed probability of each pixel's allowed children.

    Only the allowed children are gathered (``A`` per pixel, padded), so the
    cost over the ``K`` channels is that of the ordinary cross-entropy's
    gather, not ``K`` more passes.

    Args:
        log_probs: Log-softmax of one classifier's logits.
        index: Allowed child positions per pixel, padded.
        valid: Which entries of ``index`` are real (at least one per pixel).

    Returns:
        The partial-label negative log-likelihood per pixel; with one valid
        entry exactly ``-log_probs`` of that child (the cross-entropy).

    Shape:
        - log_probs: ``(N, K, H, W)``
        - index, valid: ``(N, A, H, W)`` (any strides)
        - output: ``(N, H, W)``
    """
    picked = log_probs.gather(1, index).masked_fill(~valid, float('-inf'))
    return -picked.logsumexp(dim=1)


def hierarchical_cross_entropy(logits: Sequence[Tensor], labels: Tensor,
                               dataset_index: Tensor, tables: LossTables,
                               refine_boxes: bool = True) -> ClassifierLosses:
    """Cross-entropy of every classifier on its own pixels (partial-label
    terms for node sets).

    Args:
        logits: Per-classifier logits at label resolution, in
            ``taxonomy.classifiers`` order.
        labels: Encoded labels (see :mod:`mmhier.structures.label_encoding`).
        dataset_index: Row of ``tables.trains`` per sample: the index into
            ``tables.dataset_keys``, or ``len(dataset_keys)`` for the
            fallback row (see :class:`LossTables`).
        tables: Loss tables of the taxonomy.
        refine_boxes: Keep box pixels only where the ancestors' decisions
            agree with the pixel's label (the paper's online refinement).

    Returns:
        Per-classifier losses, correct and counted pixels (a partial-label
        pixel is correct when the classifier picks an allowed child).

    Shape:
        - logits[j]: ``(N, K_j, H, W)``
        - labels: ``(N, H, W)`` integer
        - dataset_index: ``(N,)`` int64
    """
    target, is_box = tables.codec.decode(labels.long())
    target = torch.where(target < 0, torch.full_like(target, tables.num_targets), target)
    trains = tables.trains[dataset_index].view(-1, len(logits), 1, 1)  # (N, C, 1, 1)
    not_box = ~is_box
    losses, correct, counted = [], [], []
    on_path: list[Tensor] = []  # classifier's own choice is allowed by the label
    agree: list[Tensor] = []    # ... and so are all its ancestors' decisions
    for j, x in enumerate(logits):
        path = torch.take(tables.path_targets[j], target)      # see LossTables
        choice = classifier_choice(x)
        partial = tables.partial_classifiers[j]
        on = choice == path                                    # false where path < 0
        if tables.any_classifiers[j]:                          # a node set allows all
            on = on | (path == ANY)
        if partial:   # allowed child positions per pixel, -1 padded: (N, A, H, W)
            width, start = tables.allowed_widths[j], tables.allowed_offsets[j]
            columns = torch.arange(start, start + width, device=target.device)
            index = torch.take(tables.allowed_index,
                               (target * width).unsqueeze(1) + columns.view(1, -1, 1, 1))
            allowed = index >= 0
            index = index.clamp(min=0)
            several = path == SEVERAL
            on = on | (several & ((index == choice.unsqueeze(1)) & allowed).any(dim=1))
            valid = ((path >= 0) | several) & trains[:, j]
        else:
            valid = (path >= 0) & trains[:, j]                 # the pixels P_j
        on_path.append(on)
        parent = tables.parent_list[j]
        agreed = agree[parent] & on_path[parent] if parent >= 0 else None
        agree.append(agreed if agreed is not None else torch.ones_like(is_box))
        p1 = valid & not_box
        p2 = valid & is_box
        if refine_boxes and agreed is not None:
            p2 = p2 & agreed
        used = p1 | p2
        if partial:   # one gather of the allowed children: CE where one is allowed
            nll = partial_label_nll(x.float().log_softmax(dim=1), index, allowed)
        else:
            nll = F.cross_entropy(x.float(), torch.where(used, path, -1), ignore_index=-1,
                                  reduction='none')
        w1, w2 = p1.float(), p2.float()
        weight = w1 / w1.sum().clamp(min=1) + w2 / w2.sum().clamp(min=1)
        losses.append((nll * weight).sum())
        correct.append((used & on_path[j]).sum())
        counted.append(used.sum())
    return ClassifierLosses(torch.stack(losses), torch.stack(correct),
                            torch.stack(counted))
