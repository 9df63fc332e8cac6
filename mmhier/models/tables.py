"""Tensor tables derived once from a taxonomy for decisions and losses.

Every table here is computed from the :class:`~mmhier.taxonomy.Taxonomy` at
construction and kept as a module buffer, so it moves with ``.to(device)`` and
is never rebuilt in the forward pass.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import torch
from torch import nn

from mmhier.structures.label_space import label_codec, label_space
from mmhier.taxonomy import Taxonomy


def _long(array: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.ascontiguousarray(array), dtype=torch.long)


class DecisionTables(nn.Module):
    """Lookup tables for the top-down decision and for path probabilities.

    Args:
        taxonomy: The taxonomy.
        outputs: Node indices a decision ends at (see
            :func:`~mmhier.models.output_nodes.output_nodes`).

    Attributes (buffers):
        child_node: ``(C, K_max)`` node index of child ``k`` of classifier
            ``j`` (-1 padding).
        output_index: ``(N,)`` output channel of every output node, else -1.
        output_nodes: ``(num_outputs,)`` node index of every output channel.
        path_index: ``(L, num_outputs)`` flat classifier output (children
            of all classifiers, concatenated in classifier order: ``T`` in
            all) of the path to each output node at level ``1 .. L`` (``L``:
            the deepest output node's level); ``T`` (one past the last)
            where the path is shorter.
    """

    def __init__(self, taxonomy: Taxonomy, outputs: Sequence[int]):
        super().__init__()
        classifiers = taxonomy.classifiers
        num_nodes = taxonomy.num_nodes
        k_max = max(c.num_outputs for c in classifiers)
        child_node = np.full((len(classifiers), k_max), -1, dtype=np.int64)
        flat_of_node = np.full(num_nodes, -1, dtype=np.int64)  # non-root nodes
        offset = 0
        for c in classifiers:
            child_node[c.index, :c.num_outputs] = c.child_indices
            flat_of_node[c.child_indices] = offset + np.arange(c.num_outputs)
            offset += c.num_outputs
        outputs = np.asarray(outputs, dtype=np.int64)
        is_output = np.zeros(num_nodes, dtype=bool)
        is_output[outputs] = True
        output_index = np.full(num_nodes, -1, dtype=np.int64)
        output_index[outputs] = np.arange(len(outputs))
        anc = taxonomy.ancestor_at_level  # (L + 1, N)
        depth = int(taxonomy.node_level[outputs].max())  # deepest output node
        path = np.full((depth, len(outputs)), offset, dtype=np.int64)
        for k in range(1, depth + 1):
            on_path = taxonomy.node_level[outputs] >= k
            path[k - 1, on_path] = flat_of_node[anc[k][outputs[on_path]]]
        #: Node index of every classifier (Python ints: loop bounds, no sync).
        self.classifier_nodes: list[int] = [c.node_index for c in classifiers]
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
        self.register_buffer('child_node', _long(child_node), False)
        self.register_buffer('output_index', _long(output_index), False)
        self.register_buffer('output_nodes', _long(outputs), False)
        self.register_buffer('path_index', _long(path), False)


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
        path_targets: ``(C, N + 1)`` child position of the path to each node
            (-1 when the classifier is not a proper ancestor; column ``N`` is
            for ignored pixels).
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
        num_classifiers, num_nodes = taxonomy.num_classifiers, taxonomy.num_nodes
        path = np.full((num_classifiers, num_nodes + 1), -1, dtype=np.int64)
        path[:, :num_nodes] = taxonomy.classifier_targets
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
        self.num_nodes = num_nodes
        #: Python copy of ``parent_classifier`` (loop bounds never touch the GPU).
        self.parent_list: list[int] = parent.tolist()
        self.register_buffer('path_targets', _long(path), False)
        self.register_buffer('trains', torch.as_tensor(trains), False)
        self.register_buffer('parent_classifier', _long(parent), False)
        self.register_buffer('weights', torch.as_tensor(weights), False)
