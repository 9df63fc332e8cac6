"""Hierarchical decision rules as plain tensor functions.

- **greedy** (the paper's rule): the root classifier decides; where it picks
  an inner node, that node's classifier decides among its children, and so on
  until a leaf (or an output node of a coarser level of detail). Each
  classifier only decides on the pixels its parent assigned to it.
- **path**: the probability of a node is the product of the probabilities
  along its path; the decision is the most probable output node.

Which child a classifier picks - the *first* maximal logit at exact ties - is
:func:`classifier_choice`, the one home of that rule (the loss's online
refinement of box labels calls it); :func:`classifier_choices` applies the
same rule (``argmax``) to all classifiers of a decision at once.

Decisions work on the *decision channels* (:func:`decision_logits`: the
classifiers' logits in the slot order of
:class:`~mmhier.models.tables.DecisionTables`, one tensor per run of equally
wide classifiers) with a number of
full-resolution tensor operations that grows with the number of distinct
classifier widths and with the tree's depth, not with the number of
classifiers: one ``argmax`` or softmax per run of equally wide classifiers,
then one gather per level (greedy) or one product per level (path). Every
pixel is computed with arithmetic that depends on that pixel's (finite)
logits only - not on the tensor's extent or memory format - so deciding an
image at once or in bands of rows gives identical results.
"""
from __future__ import annotations

from typing import Sequence

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


def decision_logits(logits: Sequence[Tensor], tables: DecisionTables) -> list[Tensor]:
    """The decision channels: the logits of the classifiers a decision uses,
    in slot order (:class:`~mmhier.models.tables.DecisionTables`), one tensor
    per run of equally wide classifiers (``tables.choice_groups``), so that
    each run's channels are contiguous per pixel once upsampled.

    Args:
        logits: Per-classifier logits in ``taxonomy.classifiers`` order.
        tables: Decision tables of the taxonomy (and level of detail).

    Returns:
        One tensor per run; together the ``T`` decision channels.

    Shape:
        - logits[j]: ``(N, K_j, H, W)``
        - output[g]: ``(N, K_g * G_g, H, W)`` (``G_g`` classifiers of ``K_g``
          children, child-major: channel ``k * G_g + i`` is child ``k`` of
          the run's ``i``-th classifier)
    """
    order = tables.decision_classifiers
    return [logits[order[first]] if stop - first == 1 else
            torch.stack([logits[j] for j in order[first:stop]], dim=2).flatten(1, 2)
            for _, first, stop, _, _ in tables.choice_groups]


def _runs(values: Sequence[Tensor], tables: DecisionTables) -> list[Tensor]:
    """Each run's channels-last values as ``(..., K_g, G_g)`` (child-major)."""
    return [x.unflatten(-1, (k, stop - first))
            for x, (k, first, stop, _, _) in zip(values, tables.choice_groups)]


def classifier_choices(values: Sequence[Tensor], tables: DecisionTables) -> Tensor:
    """Every decision classifier's choice (:func:`classifier_choice`: the
    first maximal logit) at every pixel, one ``argmax`` per run of equally
    wide classifiers.

    Args:
        values: Decision channels per run (:func:`decision_logits`),
            channels last, any float dtype.
        tables: Decision tables.

    Returns:
        Child position per pixel and slot, in ``tables.choice_dtype``.

    Shape:
        - values[g]: ``(N, H, W, K_g * G_g)``
        - output: ``(N, H, W, S)``
    """
    # max(dim).indices: the first maximum, like argmax, but vectorised across
    # the run's classifiers for a reduction over a strided dimension (argmax
    # over dim -2 is 20-40x slower on CPU)
    return torch.cat([x.detach().max(dim=-2).indices.to(tables.choice_dtype)
                      for x in _runs(values, tables)], dim=-1)


def greedy_descent(choices: Tensor, tables: DecisionTables) -> Tensor:
    """Top-down greedy decision from every classifier's choice, level by level.

    The root's choice places every pixel at a child; then, once per level,
    each pixel at a node the descent decides at (``tables.node_slot``) moves
    to the child that node's classifier picks there (a gather), every other
    pixel stays. ``tables.depth`` full-resolution steps in all, however many
    classifiers the taxonomy has; each classifier only decides on the pixels
    its parent assigned to it.

    Args:
        choices: Child position per pixel and slot (:func:`classifier_choices`).
        tables: Decision tables.

    Returns:
        Node index per pixel; always an output node.

    Shape:
        - choices: ``(N, H, W, S)``
        - output: ``(N, H, W)`` int64
    """
    k_max = tables.slot_child_node.shape[1]
    children = tables.slot_child_node.flatten()
    root = tables.root_slot
    node = children[choices[..., root].long() + root * k_max]
    for _ in range(tables.depth - 1):
        slot = tables.node_slot[node]
        deciding = slot >= 0
        slot = slot.clamp(min=0)
        choice = choices.gather(-1, slot.unsqueeze(-1)).squeeze(-1).long()
        node = torch.where(deciding, children[slot * k_max + choice], node)
    return node


def decision_probabilities(values: Sequence[Tensor], tables: DecisionTables) -> Tensor:
    """Path probability of every output node from the decision channels: a
    softmax per classifier (one per run of equally wide classifiers), then
    the probabilities of each output node's path multiplied level by level.

    Args:
        values: Decision channels per run (:func:`decision_logits`),
            channels last, any float dtype.
        tables: Decision tables.

    Returns:
        Probabilities, fp32 (fp64 for fp64 values).

    Shape:
        - values[g]: ``(N, H, W, K_g * G_g)``
        - output: ``(N, H, W, num_outputs)``
    """
    dtype = torch.promote_types(values[0].dtype, torch.float32)
    probs = [x.to(dtype).softmax(dim=-2).flatten(-2) for x in _runs(values, tables)]
    probs.append(probs[0].new_ones((*probs[0].shape[:-1], 1)))   # for shorter paths
    flat = torch.cat(probs, dim=-1)
    del probs
    out = flat.index_select(-1, tables.path_index[0])
    for index in tables.path_index[1:]:
        out.mul_(flat.index_select(-1, index))
    return out


def decide_runs(values: Sequence[Tensor], tables: DecisionTables, rule: str) -> Tensor:
    """Node decided at every pixel from the decision channels.

    Args:
        values: Decision channels per run (:func:`decision_logits`),
            channels last.
        tables: Decision tables.
        rule: ``'greedy'`` (:func:`greedy_descent`) or ``'path'`` (the most
            probable output node, the first one at exact ties).

    Shape:
        - values[g]: ``(N, H, W, K_g * G_g)``
        - output: ``(N, H, W)`` int64
    """
    if rule == 'path':
        return tables.output_nodes[decision_probabilities(values, tables).argmax(dim=-1)]
    return greedy_descent(classifier_choices(values, tables), tables)


def decide_traceable(logits: Sequence[Tensor], size: Sequence, tables: DecisionTables,
                     rule: str = 'greedy', align_corners: bool = False) -> Tensor:
    """Upsample the decision channels to ``size``
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
    # a classifier below the output cut is not a decision channel: never upsampled
    values = [upsample(x, size, align_corners).movedim(1, -1)
              for x in decision_logits(logits, tables)]
    return decide_runs(values, tables, rule)


def greedy_decision(logits: Sequence[Tensor], tables: DecisionTables) -> Tensor:
    """Top-down greedy decision (the paper's rule), level by level
    (:func:`greedy_descent`).

    Args:
        logits: Per-classifier logits in ``taxonomy.classifiers`` order.
        tables: Decision tables of the taxonomy.

    Returns:
        Node index per pixel; always an output node.

    Shape:
        - logits[j]: ``(N, K_j, H, W)``
        - output: ``(N, H, W)`` int64
    """
    values = [x.movedim(1, -1) for x in decision_logits(logits, tables)]
    return decide_runs(values, tables, 'greedy')


def greedy_from_choices(choices: Sequence[Tensor], tables: DecisionTables) -> Tensor:
    """Top-down greedy decision from every classifier's own choice.

    Args:
        choices: Per classifier, the child position it picks
            (:func:`classifier_choice`), in ``taxonomy.classifiers`` order.
        tables: Decision tables of the taxonomy.

    Returns:
        Node index per pixel; always an output node.

    Shape:
        - choices[j]: ``(N, H, W)`` int64
        - output: ``(N, H, W)`` int64
    """
    return greedy_descent(torch.stack([choices[j] for j in tables.decision_classifiers],
                                      dim=-1), tables)


def path_probabilities(logits: Sequence[Tensor], tables: DecisionTables) -> Tensor:
    """Probability of every output node: the product of the softmax
    probabilities along its path (:func:`decision_probabilities`).

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
    values = [x.movedim(1, -1) for x in decision_logits(logits, tables)]
    return decision_probabilities(values, tables).movedim(-1, 1)


def path_log_probs(logits: Sequence[Tensor], tables: DecisionTables) -> Tensor:
    """Log of :func:`path_probabilities` (``-inf`` where one underflows).

    Shape:
        - logits[j]: ``(N, K_j, H, W)``
        - output: ``(N, num_outputs, H, W)``
    """
    return path_probabilities(logits, tables).log()


def path_decision(logits: Sequence[Tensor], tables: DecisionTables) -> Tensor:
    """Most probable output node by path probability (the first one at
    exact ties): the argmax of :func:`path_probabilities`.

    Returns:
        ``(N, H, W)`` int64 node indices.
    """
    values = [x.movedim(1, -1) for x in decision_logits(logits, tables)]
    return decide_runs(values, tables, 'path')
