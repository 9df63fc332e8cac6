"""Tensor tables derived once from a taxonomy for decisions and losses.

Every table here is computed from the :class:`~mmhier.taxonomy.Taxonomy` at
construction and kept as a module buffer, so it moves with ``.to(device)`` and
is never rebuilt in the forward pass.
"""
from __future__ import annotations

from itertools import groupby
from typing import Optional, Sequence

import numpy as np
import torch
from torch import nn

from mmhier.structures.label_space import label_codec, label_space
from mmhier.taxonomy import Taxonomy
from mmhier.taxonomy.node_sets import ANY, NO_TARGET, SEVERAL


def _long(array: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.ascontiguousarray(array), dtype=torch.long)


class DecisionTables(nn.Module):
    """Lookup tables for the top-down decision and for path probabilities.

    Args:
        taxonomy: The taxonomy.
        outputs: Node indices a decision ends at (see
            :func:`~mmhier.models.output_nodes.output_nodes`).

    Attributes (buffers):
        output_index: ``(N,)`` output channel of every output node, else -1.
        output_nodes: ``(num_outputs,)`` node index of every output channel.
        path_index: ``(L, num_outputs)`` decision channel (see below) of
            the path to each output node at level ``1 .. L`` (``L``: the
            deepest output node's level); ``T`` (one past the last decision
            channel) where the path is shorter.
        node_slot: ``(N,)`` slot (position in :attr:`decision_classifiers`)
            of the classifier at every node the greedy descent decides at,
            else -1 (leaves, output nodes and nodes below them).
        slot_child_node: ``(S, K_max)`` node index of child ``k`` of the
            classifier in slot ``s`` (-1 padding).

    The *decision channels* are the logits of the classifiers a decision
    uses (:attr:`decision_classifiers`: those above the output nodes) in
    slot order: classifiers sorted by number of children (then preorder), so
    the classifiers with ``K`` children form one run of channels
    (:attr:`choice_groups`) and every classifier's choice or softmax is one
    tensor operation per distinct ``K`` - not one per classifier. Within a
    run of ``G`` classifiers the channels are child-major: channel
    ``first + k * G + g`` is child ``k`` of the run's ``g``-th classifier, so
    a reduction over the children reads ``G`` contiguous values at a time
    (vectorised across classifiers; fast even for two or three children).
    """

    def __init__(self, taxonomy: Taxonomy, outputs: Sequence[int]):
        super().__init__()
        classifiers = taxonomy.classifiers
        num_nodes = taxonomy.num_nodes
        k_max = max(c.num_outputs for c in classifiers)
        outputs = np.asarray(outputs, dtype=np.int64)
        is_output = np.zeros(num_nodes, dtype=bool)
        is_output[outputs] = True
        output_index = np.full(num_nodes, -1, dtype=np.int64)
        output_index[outputs] = np.arange(len(outputs))
        anc = taxonomy.ancestor_at_level  # (L + 1, N)
        depth = int(taxonomy.node_level[outputs].max())  # deepest output node
        # Classifiers below the root that a descent can reach: their node is
        # not an output node and no ancestor is one.
        reached = ~is_output.copy()
        reached[0] = True
        for c in classifiers:  # preorder: parents first
            parent = taxonomy.parent_index[c.node_index]
            if parent >= 0:
                reached[c.node_index] &= reached[parent] and not is_output[parent]
        #: Classifier indices the greedy descent visits, in preorder (the
        #: root first).
        self.greedy_classifiers: list[int] = [0] + [
            c.index for c in classifiers[1:] if reached[c.node_index]]
        #: Classifiers a decision uses, in slot order (by number of children,
        #: then preorder).
        self.decision_classifiers: list[int] = sorted(
            self.greedy_classifiers, key=lambda j: (classifiers[j].num_outputs, j))
        #: Runs of slots with equal ``K``: ``(K, first slot, stop slot, first
        #: channel, stop channel)`` (Python ints: slicing needs no sync).
        self.choice_groups: list[tuple[int, int, int, int, int]] = []
        channel_of_node = np.full(num_nodes, -1, dtype=np.int64)
        node_slot = np.full(num_nodes, -1, dtype=np.int64)
        slot_child_node = np.full((len(self.decision_classifiers), k_max), -1, dtype=np.int64)
        widths = [classifiers[j].num_outputs for j in self.decision_classifiers]
        slot = channel = 0
        for k, run in groupby(widths):
            size = len(list(run))
            self.choice_groups.append((k, slot, slot + size, channel, channel + k * size))
            for g in range(size):   # child-major: child k of the g-th is k * size + g
                c = classifiers[self.decision_classifiers[slot + g]]
                node_slot[c.node_index] = slot + g
                slot_child_node[slot + g, :k] = c.child_indices
                channel_of_node[c.child_indices] = channel + g + size * np.arange(k)
            slot += size
            channel += k * size
        #: Number of decision channels (``T``).
        self.num_decision_channels = channel
        #: Levels the greedy descent walks (the deepest output node's level).
        self.depth = depth
        #: Slot of the root classifier.
        self.root_slot = self.decision_classifiers.index(0)
        path = np.full((depth, len(outputs)), channel, dtype=np.int64)
        for k in range(1, depth + 1):
            on_path = taxonomy.node_level[outputs] >= k
            path[k - 1, on_path] = channel_of_node[anc[k][outputs[on_path]]]
        self.register_buffer('output_index', _long(output_index), False)
        self.register_buffer('output_nodes', _long(outputs), False)
        self.register_buffer('path_index', _long(path), False)
        self.register_buffer('node_slot', _long(node_slot), False)
        self.register_buffer('slot_child_node', _long(slot_child_node), False)

    @property
    def choice_dtype(self) -> torch.dtype:
        """Smallest integer dtype that holds every child position."""
        k_max = self.slot_child_node.shape[1]
        return torch.uint8 if k_max <= 256 else torch.int16 if k_max <= 1 << 15 \
            else torch.int64


class LossTables(nn.Module):
    """Lookup tables for building every classifier's targets from node labels.

    Labels are decoded with the taxonomy's shared
    :class:`~mmhier.structures.label_space.LabelCodec` and the supervision
    rows are the datasets' :attr:`LabelSpace.supervision
    <mmhier.structures.label_space.LabelSpace.supervision>`.

    Args:
        taxonomy: The taxonomy.
        dataset_keys: Datasets whose supervision rules apply, by index
            (default: all of the taxonomy's, in file order).
        level_weights: Loss weight per classifier level (level 1 = root
            classifier); the last value repeats for deeper levels.
        node_weights: Weight overrides by classifier node name.
        fallback: The supervision of the extra last row of ``trains``:
            ``None`` trains every classifier a label reaches; a dataset key
            applies that dataset's rules. Which samples use the row is the
            caller's choice (:class:`HierarchicalLoss` refuses samples of
            unknown datasets unless configured otherwise).

    Attributes (buffers):
        path_targets: ``(C, T + 1)`` what each classifier learns from a pixel
            of each target (:attr:`Taxonomy.target_choices
            <mmhier.taxonomy.Taxonomy.target_choices>`: the child position of
            the path, -1 no term, -2 a partial label, -3 any child agrees;
            column ``T`` is for ignored pixels). ``T = N`` without node sets.
        allowed_index: ``(sum_j (T + 1) A_j,)`` int64, for the
            :attr:`partial_classifiers` only: classifier ``j``'s table
            ``(T + 1, A_j)`` at ``allowed_offsets[j]``, row ``t`` the child
            positions a pixel of target ``t`` may choose - for a partial
            label its allowed children (:meth:`Taxonomy.allowed_children
            <mmhier.taxonomy.Taxonomy.allowed_children>`), else the one path
            child (0 where there is none: such pixels carry no term) - padded
            with -1 to ``A_j``, the largest allowed set of ``j``.
        trains: ``(D + 1, C)`` bool, dataset ``d`` trains classifier ``j``;
            the last row is the ``fallback`` row.
        parent_classifier: ``(C,)`` classifier index of each classifier's
            parent classifier, -1 for the root.
        weights: ``(C,)`` loss weight lambda of every classifier.

    Raises:
        UnknownDatasetError: ``dataset_keys`` or ``fallback`` name a dataset
            the taxonomy does not define.
    """

    def __init__(self, taxonomy: Taxonomy, dataset_keys: Optional[Sequence[str]] = None,
                 level_weights: Sequence[float] = (1.0, 0.1),
                 node_weights: Optional[dict] = None, fallback: Optional[str] = None):
        super().__init__()
        keys = list(taxonomy.dataset_keys if dataset_keys is None else dataset_keys)
        spaces = [label_space(taxonomy, key) for key in keys]
        num_classifiers, num_targets = taxonomy.num_classifiers, taxonomy.num_targets
        path = np.full((num_classifiers, num_targets + 1), NO_TARGET, dtype=np.int64)
        path[:, :num_targets] = taxonomy.target_choices
        indices, offsets, widths = [], [], []
        for c in taxonomy.classifiers:
            choice = path[c.index, :num_targets]
            several = np.flatnonzero(choice == SEVERAL)
            if not several.size:
                offsets.append(-1)
                widths.append(0)
                continue
            allowed = taxonomy.allowed_children(c.index)
            width = int(allowed[several].sum(axis=1).max())
            index = np.full((num_targets + 1, width), -1, dtype=np.int64)
            index[:, 0] = 0
            index[:num_targets, 0] = np.maximum(choice, 0)
            rows = allowed[several]   # allowed positions first, ascending
            order = np.argsort(~rows, axis=1, kind='stable')[:, :width]
            index[several] = np.where(np.take_along_axis(rows, order, 1), order, -1)
            offsets.append(sum(i.size for i in indices))
            widths.append(width)
            indices.append(index.ravel())
        last = np.ones(num_classifiers, dtype=bool) if fallback is None \
            else label_space(taxonomy, fallback).supervision
        trains = np.stack([s.supervision for s in spaces] + [last])
        parent = np.full(num_classifiers, -1, dtype=np.int64)
        for c in taxonomy.classifiers:
            for child in c.child_indices:
                position = taxonomy.classifier_of_node[child]
                if position >= 0:
                    parent[position] = c.index
        weights = np.array([level_weights[min(c.level, len(level_weights)) - 1]
                            for c in taxonomy.classifiers], dtype=np.float32)
        for name, value in (node_weights or {}).items():
            weights[taxonomy.classifier(name).index] = value
        self.dataset_keys = [s.dataset_key for s in spaces]
        self.fallback = fallback
        #: The taxonomy's label encoding (decodes the label maps).
        self.codec = label_codec(taxonomy)
        self.num_nodes = taxonomy.num_nodes
        #: ``T``: label targets (nodes, then node sets).
        self.num_targets = num_targets
        #: Start of each classifier's table in ``allowed_index``, -1 for the
        #: classifiers no node set gives a partial label (Python ints: they
        #: choose the code path without a sync).
        self.allowed_offsets: list[int] = offsets
        #: ``A_j``: width of classifier ``j``'s allowed-children table.
        self.allowed_widths: list[int] = widths
        #: Whether classifier ``j`` has partial labels (uses ``allowed_index``).
        self.partial_classifiers: list[bool] = [o >= 0 for o in offsets]
        #: Whether some node set allows every child of classifier ``j``.
        self.any_classifiers: list[bool] = (path == ANY).any(axis=1).tolist()
        #: Python copy of ``parent_classifier`` (loop bounds never touch the GPU).
        self.parent_list: list[int] = parent.tolist()
        self.register_buffer('path_targets', _long(path), False)
        # never empty: an empty buffer trips torch.export's storage grouping
        self.register_buffer('allowed_index', _long(
            np.concatenate(indices) if indices else np.full(1, -1, dtype=np.int64)), False)
        self.register_buffer('trains', torch.as_tensor(trains), False)
        self.register_buffer('parent_classifier', _long(parent), False)
        self.register_buffer('weights', torch.as_tensor(weights), False)
