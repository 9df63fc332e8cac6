"""Hierarchical decision rules as plain tensor functions.

- **greedy** (the paper's rule): the root classifier decides; where it picks
  an inner node, that node's classifier decides among its children, and so on
  until a leaf (or an output node of a coarser level of detail). Each
  classifier only decides on the pixels its parent assigned to it.
- **path**: the probability of a node is the product of the probabilities
  along its path; the decision is the most probable output node.

Both work on per-classifier logits of one spatial size; one loop over
classifiers (not over classes or pixels).
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor

from mmhier.models.tables import DecisionTables


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
    return greedy_from_choices([x.argmax(dim=1) for x in logits], tables)


def greedy_from_choices(choices: Sequence[Tensor], tables: DecisionTables) -> Tensor:
    """Top-down greedy decision from every classifier's own choice.

    Classifiers are visited in preorder, so a parent has decided before its
    children: classifier ``j`` replaces the decision on exactly the pixels
    that currently sit at its node. Classifiers at or below output nodes
    (a coarser level of detail) are skipped.

    Args:
        choices: Per classifier, the position of its most likely child.
        tables: Decision tables of the taxonomy.

    Returns:
        Node index per pixel; always an output node.

    Shape:
        - choices[j]: ``(N, H, W)`` int64
        - output: ``(N, H, W)`` int64
    """
    node = tables.child_node[0][choices[0]]
    for j in tables.descending_classifiers:
        node = torch.where(node == tables.classifier_nodes[j],
                           tables.child_node[j][choices[j]], node)
    return node


def path_log_probs(logits: Sequence[Tensor], tables: DecisionTables) -> Tensor:
    """Log-probability of every output node: the sum of the log-softmax
    values along its path.

    Args:
        logits: Per-classifier logits in ``taxonomy.classifiers`` order.
        tables: Decision tables of the taxonomy.

    Returns:
        Log-probabilities of the output nodes.

    Shape:
        - logits[j]: ``(N, K_j, H, W)``
        - output: ``(N, num_outputs, H, W)``
    """
    log_probs = torch.cat([x.float().log_softmax(dim=1) for x in logits], dim=1)
    return torch.einsum('ot,nthw->nohw', tables.path_matrix, log_probs)


def path_decision(logits: Sequence[Tensor], tables: DecisionTables) -> Tensor:
    """Most probable output node by path probability.

    Returns:
        ``(N, H, W)`` int64 node indices.
    """
    return tables.output_nodes[path_log_probs(logits, tables).argmax(dim=1)]
