"""Project a node confusion onto the label spaces that are evaluated.

The metric counts, per image, how often each ``(gt node, predicted node)``
pair occurs: a sparse **node confusion** given as three equally long arrays
``gt``, ``pred`` (taxonomy node indices) and ``counts``. Every evaluated
confusion matrix is a projection of it:

* a **dataset's** label space (:func:`dataset_confusion`): both nodes go to
  the dataset class at or above them (the dataset's
  :attr:`LabelSpace.node_to_class <mmhier.structures.label_space.LabelSpace.node_to_class>`);
  predictions with no evaluated class at or above them go to an extra
  "other" column, so they are always wrong. The gt may also be a node set
  (a partial label, :mod:`mmhier.taxonomy.node_sets`): its row is the set's
  class, and a prediction at or below any of its nodes counts as that class
  (correct);
* the views below take nodes; a node-set gt enters them as its deepest
  common ancestor (:attr:`Taxonomy.target_lca
  <mmhier.taxonomy.Taxonomy.target_lca>`, what the label says for sure),
  like a label of that inner node;
* a **level** ``k`` (:func:`level_confusion`): nodes go to their level-``k``
  ancestor; gt nodes shallower than ``k`` are not counted, predictions
  shallower than ``k`` go to the "other" column (a level-``k`` gt node cannot
  be matched by a coarser prediction);
* every **classifier** (:func:`classifier_confusions`): gt nodes strictly
  below the classifier's node go to the child on their path; predictions go
  to the child on their path, to a "stopped here" column when the
  prediction is the classifier's node itself, or to a "not routed" column
  when the predicted path does not pass through the node.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from mmhier.evaluation.confusion import confusion_matrix
from mmhier.structures.label_space import label_space
from mmhier.taxonomy import IGNORE, Taxonomy


def dataset_confusion(taxonomy: Taxonomy, key: str, class_ids: Sequence[int],
                      gt: np.ndarray, pred: np.ndarray, counts: np.ndarray
                      ) -> np.ndarray:
    """Confusion matrix in a dataset's own label space.

    Args:
        taxonomy: The taxonomy.
        key: The dataset.
        class_ids: The dataset label ids to evaluate (rows, in this order).
        gt: Gt target per pair (node id, or ``N`` + node set index); targets
            whose class is not evaluated are skipped.
        pred: Predicted node per pair.
        counts: Pixels per pair.

    Returns:
        ``(C, C + 1)`` int64; column ``C`` is "other": predictions whose
        dataset class (at or above the predicted node) is none or not
        evaluated. A prediction inside a node-set gt's set goes to the gt's
        column.
    """
    space = label_space(taxonomy, key)
    gt, pred = np.asarray(gt, np.int64), np.asarray(pred, np.int64)
    num_classes = len(class_ids)
    column_of_id = np.full(space.num_ids + 1, IGNORE, dtype=np.int64)
    column_of_id[np.asarray(class_ids, dtype=np.int64)] = np.arange(num_classes)
    # node / target -> dataset id (-1 = none) -> column; -1 hits the extra IGNORE
    column_of_node = column_of_id[space.node_to_class]
    pred_column = np.where(column_of_node >= 0, column_of_node, num_classes)[pred]
    gt_column = column_of_id[space.target_to_class][gt]
    num_nodes = taxonomy.num_nodes
    if taxonomy.num_targets > num_nodes:  # node-set gt: any node of the set is right
        in_set = gt >= num_nodes
        covered = taxonomy.node_set_cover[np.where(in_set, gt - num_nodes, 0), pred]
        pred_column = np.where(in_set & covered, gt_column, pred_column)
    return confusion_matrix(gt_column, pred_column, num_classes, num_classes + 1, counts)


def level_nodes(taxonomy: Taxonomy, level: int) -> np.ndarray:
    """``(L,)`` node indices at ``level``, in preorder.

    Raises:
        ValueError: ``level`` outside ``1 .. taxonomy.num_levels``.
    """
    if not 1 <= level <= taxonomy.num_levels:
        raise ValueError(f'level must be in 1..{taxonomy.num_levels} for taxonomy '
                         f'{taxonomy.name!r}, got {level}')
    return np.flatnonzero(taxonomy.node_level == level)


def level_confusion(taxonomy: Taxonomy, level: int, gt: np.ndarray, pred: np.ndarray,
                    counts: np.ndarray) -> np.ndarray:
    """Confusion matrix of the level-``level`` ancestors.

    Args:
        taxonomy: The taxonomy.
        level: ``1 .. taxonomy.num_levels``.
        gt: Gt node per pair; nodes shallower than ``level`` are skipped.
        pred: Predicted node per pair.
        counts: Pixels per pair.

    Returns:
        ``(L, L + 1)`` int64 over :func:`level_nodes`; column ``L`` holds
        predictions shallower than ``level``.
    """
    nodes = level_nodes(taxonomy, level)
    position = np.full(taxonomy.num_nodes, IGNORE, dtype=np.int64)
    position[nodes] = np.arange(nodes.size)
    deep_enough = taxonomy.node_level >= level
    column = np.where(deep_enough, position[taxonomy.ancestor_at_level[level]], IGNORE)
    pred_column = np.where(deep_enough, column, nodes.size)
    return confusion_matrix(column[gt], pred_column[pred], nodes.size, nodes.size + 1,
                            counts)


def classifier_confusions(taxonomy: Taxonomy, gt: np.ndarray, pred: np.ndarray,
                          counts: np.ndarray) -> list[np.ndarray]:
    """Confusion matrix of every classifier, in :attr:`Taxonomy.classifiers`
    order, by one ``np.bincount`` over all classifiers.

    A pair counts for classifier ``j`` (node ``v``, ``K`` children) when its
    gt node is strictly below ``v``. Its row is the child on the gt path; its
    column is the child on the predicted path when the prediction is
    strictly below ``v`` (the parent decisions were right), ``K`` when the
    prediction is ``v`` itself (stopped at ``v``: wrong), ``K + 1`` when the
    predicted path does not pass through ``v`` (not routed).

    Args:
        taxonomy: The taxonomy.
        gt: Gt node per pair.
        pred: Predicted node per pair.
        counts: Pixels per pair.

    Returns:
        One ``(K, K + 2)`` int64 matrix per classifier.
    """
    gt, pred = np.asarray(gt, np.int64), np.asarray(pred, np.int64)
    counts = np.asarray(counts, np.int64)
    anc, depth = taxonomy.ancestor_at_level, taxonomy.node_level
    child_position = taxonomy.child_position
    classifier_of_node = taxonomy.classifier_of_node
    outputs = np.array([c.num_outputs for c in taxonomy.classifiers], dtype=np.int64)
    sizes = outputs * (outputs + 2)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    flat, weights = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for d in range(taxonomy.num_levels):  # depth of the classifier's node
        below = depth[gt] > d
        g, p = gt[below], pred[below]
        node = anc[d][g]
        j = classifier_of_node[node]
        row = child_position[anc[d + 1][g]]
        routed_below = (depth[p] > d) & (anc[d][p] == node)
        column = np.where(routed_below, child_position[anc[d + 1][p]],
                          np.where(p == node, outputs[j], outputs[j] + 1))
        flat.append(offsets[j] + row * (outputs[j] + 2) + column)
        weights.append(counts[below])
    total = np.bincount(np.concatenate(flat), weights=np.concatenate(weights),
                        minlength=int(sizes.sum())).round().astype(np.int64)
    return [total[o:o + s].reshape(k, k + 2)
            for o, s, k in zip(offsets.tolist(), sizes.tolist(), outputs.tolist())]
