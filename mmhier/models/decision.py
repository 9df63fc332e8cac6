"""Hierarchical decision rules as plain tensor functions.

- **greedy** (the paper's rule): the root classifier decides; where it picks
  an inner node, that node's classifier decides among its children, and so on
  until a leaf (or an output node of a coarser level of detail). Each
  classifier only decides on the pixels its parent assigned to it.
- **path**: the probability of a node is the product of the probabilities
  along its path; the decision is the most probable output node.

Which child a classifier picks - the *first* maximal logit at exact ties - is
:func:`classifier_choice`, the one home of that rule: the greedy decision and
the loss's online refinement of box labels both call it.

Both rules work on per-classifier logits of one spatial size, with one loop
over classifiers (not over classes or pixels), and compute every pixel with
arithmetic that depends on that pixel's (finite) logits only - not on the
tensor's extent or memory format - so deciding an image at once or in bands
of rows gives identical results.
"""
from __future__ import annotations

from typing import Iterable, Optional, Sequence

import torch
from torch import Tensor

from mmhier.models.resize import upsample
from mmhier.models.tables import DecisionTables

#: Decision rules of the hierarchical head.
DECISION_RULES = ('greedy', 'path')

#: Logit bytes :func:`classifier_choice` reduces at a time (cache-sized bands).
_CHOICE_CHUNK_BYTES = 4 << 20


def classifier_choice(logits: Tensor) -> Tensor:
    """Child position a classifier picks at every pixel: its maximal logit,
    the first one (lowest position) at exact ties.

    ``logits.argmax(dim=1)`` for finite logits, fast in any memory format:
    channels-last logits (a pixel's logits contiguous) use ``argmax``;
    otherwise, per band of rows (a few MB, so the later passes read from
    cache), one reduction finds the maximum, an equality map scaled by a
    descending rank (``K .. 1``, exact integers in the map's dtype) and a
    second reduction the first position holding it. A pixel with a NaN logit
    gets some valid position. No host synchronisation; not differentiable.

    Args:
        logits: One classifier's logits, any float dtype and memory format.

    Returns:
        Child position per pixel.

    Shape:
        - logits: ``(N, K, H, W)``
        - output: ``(N, H, W)`` int64
    """
    logits = logits.detach()
    if exporting():   # no stride-dependent branch in a recorded graph; same rule
        return logits.argmax(dim=1)
    n, k, _, width = logits.shape
    if logits.stride(1) == 1:   # channels last: the reduction reads contiguous rows
        return logits.argmax(dim=1)
    dtype = logits.dtype if logits.is_floating_point() else torch.float32
    if k > 2 / torch.finfo(dtype).eps:   # ranks must be exact integers
        dtype = torch.float64
    rank = torch.arange(k, 0, -1, dtype=dtype, device=logits.device).view(1, k, 1, 1)
    rows = max(1, _CHOICE_CHUNK_BYTES // max(1, n * k * width * logits.element_size()))
    chunks = logits.split(rows, dim=2)
    buffer = torch.empty_like(chunks[0], dtype=dtype)
    keys = []  # per pixel: rank (K - position) of the first maximum, 0 if none (NaN)
    for chunk in chunks:
        is_max = torch.eq(chunk, chunk.amax(dim=1, keepdim=True),
                          out=buffer[:, :, :chunk.shape[2]])
        keys.append(is_max.mul_(rank).amax(dim=1))
    key = keys[0] if len(keys) == 1 else torch.cat(keys, dim=1)
    return (k - key.long()).remainder_(k)


def exporting() -> bool:
    """Whether a graph is being recorded for deployment: ``torch.export``
    (also inside ``torch.onnx.export(dynamo=True)``), ``torch.jit.trace`` or
    the TorchScript-based ``torch.onnx.export``. Sizes may then be symbolic,
    and decisions take the traceable path (:func:`decide_traceable`)."""
    return bool(torch.compiler.is_exporting() or torch.jit.is_tracing()
                or torch.onnx.is_in_onnx_export())


def decide_traceable(logits: Sequence[Tensor], size: Sequence, tables: DecisionTables,
                     rule: str = 'greedy', align_corners: bool = False) -> Tensor:
    """Upsample every classifier's logits to ``size``
    (:func:`~mmhier.models.resize.upsample`) and decide, with tensor
    operations only (no Python conversion of a size, no branch on data): the
    exported form of the head's banded ``decide``, with the same node ids in
    PyTorch.

    Args:
        logits: Per-classifier logits in ``taxonomy.classifiers`` order.
        size: Output size ``(H, W)``: ints or symbolic sizes.
        tables: Decision tables of the taxonomy (and level of detail).
        rule: ``'greedy'`` or ``'path'``.
        align_corners: As for ``F.interpolate``.

    Returns:
        Node index per pixel; always an output node.

    Raises:
        ValueError: ``rule`` is not a decision rule.

    Shape:
        - logits[j]: ``(N, K_j, h, w)``
        - output: ``(N, H, W)`` int64
    """
    if rule not in DECISION_RULES:
        raise ValueError(f'rule must be one of {DECISION_RULES}, got {rule!r}')
    if rule == 'path':
        return path_decision([upsample(x, size, align_corners) for x in logits], tables)
    node = None
    for j in tables.greedy_classifiers:   # a classifier below the cut is never upsampled
        choice = classifier_choice(upsample(logits[j], size, align_corners))
        node = greedy_step(node, j, choice, tables)
    return node


def greedy_decision(logits: Sequence[Tensor], tables: DecisionTables) -> Tensor:
    """Top-down greedy decision.

    Args:
        logits: Per-classifier logits in ``taxonomy.classifiers`` order.
        tables: Decision tables of the taxonomy.

    Returns:
        Node index per pixel; always an output node.

    Shape:
        - logits[j]: ``(N, K_j, H, W)``
        - output: ``(N, H, W)`` int64
    """
    node = None
    for j in tables.greedy_classifiers:
        node = greedy_step(node, j, classifier_choice(logits[j]), tables)
    return node


def greedy_from_choices(choices: Sequence[Tensor], tables: DecisionTables) -> Tensor:
    """Top-down greedy decision from every classifier's own choice.

    Args:
        choices: Per classifier, the child position it picks
            (:func:`classifier_choice`).
        tables: Decision tables of the taxonomy.

    Returns:
        Node index per pixel; always an output node.

    Shape:
        - choices[j]: ``(N, H, W)`` int64
        - output: ``(N, H, W)`` int64
    """
    node = None
    for j in tables.greedy_classifiers:
        node = greedy_step(node, j, choices[j], tables)
    return node


def greedy_step(node: Optional[Tensor], j: int, choice: Tensor,
                tables: DecisionTables) -> Tensor:
    """Classifier ``j``'s turn in the greedy descent.

    The descent visits ``tables.greedy_classifiers`` in preorder, so a
    parent has decided before its children; classifiers at or below output
    nodes (a coarser level of detail) are not visited. The root's turn
    (``node`` is ``None``) starts it: every pixel goes to the root's pick.
    Afterwards classifier ``j`` moves exactly the pixels that currently sit
    at its node to the child it picks. Pixels are independent, so an image
    can take every turn band by band.

    Args:
        node: Node index per pixel so far; ``None`` before the root's turn.
        j: Classifier index.
        choice: Child position classifier ``j`` picks
            (:func:`classifier_choice`).
        tables: Decision tables of the taxonomy.

    Returns:
        Node index per pixel after this turn.

    Shape:
        - node, choice, output: ``(N, H, W)`` int64
    """
    picked = tables.child_node[j][choice]
    if node is None:
        return picked
    return torch.where(node == tables.classifier_nodes[j], picked, node)


def path_probabilities(logits: Iterable[Tensor], tables: DecisionTables) -> Tensor:
    """Probability of every output node: the product of the softmax
    probabilities along its path.

    Per pixel: a softmax over each classifier's children (computed pixel by
    pixel, channels last), then for every output node the probabilities of
    its path multiplied level by level from the root down. Logits are
    consumed one classifier at a time (an iterator of bands keeps only one
    upsampled classifier alive).

    Args:
        logits: Per-classifier logits in ``taxonomy.classifiers`` order.
        tables: Decision tables of the taxonomy.

    Returns:
        Path probabilities of the output nodes, fp32 (fp64 for fp64
        logits), with channels-last strides.

    Shape:
        - logits[j]: ``(N, K_j, H, W)``
        - output: ``(N, num_outputs, H, W)``
    """
    probs = []
    for x in logits:
        dtype = torch.promote_types(x.dtype, torch.float32)
        probs.append(x.movedim(1, -1).to(dtype).softmax(dim=-1))   # (N, H, W, K_j)
    probs.append(probs[0].new_ones((*probs[0].shape[:-1], 1)))     # for shorter paths
    flat = torch.cat(probs, dim=-1)
    del probs
    out = flat.index_select(-1, tables.path_index[0])
    for index in tables.path_index[1:]:
        out.mul_(flat.index_select(-1, index))
    return out.movedim(-1, 1)


def path_log_probs(logits: Iterable[Tensor], tables: DecisionTables) -> Tensor:
    """Log of :func:`path_probabilities` (``-inf`` where one underflows).

    Shape:
        - logits[j]: ``(N, K_j, H, W)``
        - output: ``(N, num_outputs, H, W)``
    """
    return path_probabilities(logits, tables).log()


def path_decision(logits: Iterable[Tensor], tables: DecisionTables) -> Tensor:
    """Most probable output node by path probability (the first one at
    exact ties): the argmax of :func:`path_probabilities`.

    Returns:
        ``(N, H, W)`` int64 node indices.
    """
    return tables.output_nodes[path_probabilities(logits, tables).argmax(dim=1)]
