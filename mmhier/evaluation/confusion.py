"""Confusion matrices and the scores MMSeg derives from them.

Conventions (those of mmseg's ``IoUMetric``):

* rows are ground-truth classes, columns predicted classes;
* a matrix may have **more columns than rows**: the extra columns hold
  predictions that are no evaluated class (always wrong), e.g. an "other"
  column. They count against recall and against the row's IoU, never as a
  class of their own;
* per-class IoU is ``TP / (gt + pred - TP)``, ``nan`` only where a class is
  neither in the ground truth nor predicted; per-class accuracy (recall, the
  paper's per-class pixel accuracy) is ``TP / gt``, ``nan`` where the class
  is absent from the ground truth. Means skip ``nan`` (mmseg's
  ``np.nanmean``), so absent classes do not count; a class that is predicted
  but absent from the ground truth has IoU 0 and does count.

All values are fractions in ``[0, 1]``; callers scale to percent.

The sparse helpers :func:`pair_counts` and :func:`merge_pair_counts` keep a
joint histogram of ``(gt, pred)`` pairs as two short arrays (codes and
counts): it is what a metric stores per image when the number of possible
pairs is large but the number of occurring pairs is small.
"""
from __future__ import annotations

from typing import NamedTuple, Optional, Sequence

import numpy as np

#: Use a dense ``np.bincount`` for the joint histogram up to this many
#: possible pairs, ``np.unique`` above it.
DENSE_PAIR_LIMIT = 1 << 22


class SegmentationScores(NamedTuple):
    """Scores of one confusion matrix (fractions, ``nan`` where undefined).

    Attributes:
        iou: ``(C,)`` per-class IoU.
        acc: ``(C,)`` per-class pixel accuracy (recall).
        aacc: Overall pixel accuracy: correct pixels / counted pixels.
        miou: nan-mean of ``iou``.
        mpa: nan-mean of ``acc`` (mean pixel accuracy, mPA / mmseg's mAcc).
        num_pixels: Counted pixels (the matrix total).
    """

    iou: np.ndarray
    acc: np.ndarray
    aacc: float
    miou: float
    mpa: float
    num_pixels: int


def confusion_matrix(gt: np.ndarray, pred: np.ndarray, num_classes: int,
                     num_columns: Optional[int] = None,
                     weights: Optional[np.ndarray] = None) -> np.ndarray:
    """Confusion matrix of integer labels, by one ``np.bincount``.

    Args:
        gt: Ground-truth class per element; elements outside
            ``0 .. num_classes - 1`` (e.g. ``-1``) are ignored.
        pred: Predicted column per element, same shape as ``gt``; must be in
            ``0 .. num_columns - 1`` wherever ``gt`` is counted.
        num_classes: Number of rows ``C``.
        num_columns: Number of columns, ``>= C``; defaults to ``C``. Columns
            from ``C`` on are "no evaluated class".
        weights: Optional count per element (integers), e.g. from
            :func:`pair_counts`; default 1 each.

    Returns:
        ``(C, num_columns)`` int64 matrix, ``[g, p]`` = pixels of class ``g``
        predicted as ``p``.

    Raises:
        ValueError: Shapes differ, ``num_columns < num_classes``, or a counted
            prediction is out of range.
    """
    gt, pred = np.asarray(gt).ravel(), np.asarray(pred).ravel()
    if gt.shape != pred.shape:
        raise ValueError(f'gt and pred differ in size: {gt.size} vs {pred.size}')
    num_columns = num_classes if num_columns is None else num_columns
    if num_columns < num_classes:
        raise ValueError(f'num_columns ({num_columns}) < num_classes ({num_classes})')
    keep = (gt >= 0) & (gt < num_classes)
    gt, pred = gt[keep].astype(np.int64), pred[keep].astype(np.int64)
    if pred.size and (pred.min() < 0 or pred.max() >= num_columns):
        raise ValueError(f'predictions must be in 0..{num_columns - 1}, got '
                         f'{pred.min()}..{pred.max()}')
    flat = gt * num_columns + pred
    size = num_classes * num_columns
    if weights is None:
        counts = np.bincount(flat, minlength=size)
    else:
        w = np.asarray(weights).ravel()[keep]
        counts = np.bincount(flat, weights=w, minlength=size).round()
    return counts.astype(np.int64).reshape(num_classes, num_columns)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    out = np.full(np.broadcast(numerator, denominator).shape, np.nan)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def _check(cm: np.ndarray) -> np.ndarray:
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[1] < cm.shape[0]:
        raise ValueError('a confusion matrix is (C, >= C): rows gt classes, columns '
                         f'predicted classes (+ extra columns); got shape {cm.shape}')
    return cm


def per_class_iou(cm: np.ndarray) -> np.ndarray:
    """``(C,)`` IoU per class; ``nan`` where neither in gt nor predicted.

    Args:
        cm: ``(C, >= C)`` confusion matrix (rows gt, columns pred).
    """
    cm = _check(cm)
    c = cm.shape[0]
    tp = np.diagonal(cm[:, :c])
    return _ratio(tp, cm.sum(axis=1) + cm[:, :c].sum(axis=0) - tp)


def per_class_accuracy(cm: np.ndarray) -> np.ndarray:
    """``(C,)`` pixel accuracy (recall) per class; ``nan`` where absent from gt.

    Args:
        cm: ``(C, >= C)`` confusion matrix (rows gt, columns pred).
    """
    cm = _check(cm)
    return _ratio(np.diagonal(cm[:, :cm.shape[0]]), cm.sum(axis=1))


def overall_accuracy(cm: np.ndarray) -> float:
    """Correct pixels over all counted pixels; ``nan`` when none is counted.

    Args:
        cm: ``(C, >= C)`` confusion matrix (rows gt, columns pred).
    """
    cm = _check(cm)
    return float(_ratio(np.trace(cm[:, :cm.shape[0]]), cm.sum()))


def nan_mean(values: np.ndarray) -> float:
    """Mean over the non-``nan`` entries; ``nan`` (without a warning) if none."""
    values = np.asarray(values, dtype=np.float64)
    defined = ~np.isnan(values)
    return float(values[defined].mean()) if defined.any() else float('nan')


def segmentation_scores(cm: np.ndarray) -> SegmentationScores:
    """Per-class IoU and accuracy, aAcc, mIoU and mPA of a confusion matrix.

    Args:
        cm: ``(C, >= C)`` confusion matrix (rows gt, columns pred).
    """
    iou, acc = per_class_iou(cm), per_class_accuracy(cm)
    return SegmentationScores(iou, acc, overall_accuracy(cm), nan_mean(iou),
                              nan_mean(acc), int(np.asarray(cm).sum()))


def pair_counts(gt: np.ndarray, pred: np.ndarray, num_pred: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """Sparse joint histogram of ``(gt, pred)`` pairs.

    Args:
        gt: Non-negative integers (already filtered: no ignore values).
        pred: Integers in ``0 .. num_pred - 1``, same size as ``gt``.
        num_pred: Number of possible ``pred`` values.

    Returns:
        ``(codes, counts)``: sorted unique pair codes ``gt * num_pred + pred``
        and how often each occurs, both int64; decode with
        ``divmod(codes, num_pred)``.
    """
    gt = np.asarray(gt, dtype=np.int64).ravel()
    pred = np.asarray(pred, dtype=np.int64).ravel()
    codes = gt * num_pred + pred
    if codes.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    size = int(codes.max()) + 1
    if size <= DENSE_PAIR_LIMIT:
        dense = np.bincount(codes, minlength=size)
        present = np.flatnonzero(dense)
        return present.astype(np.int64), dense[present].astype(np.int64)
    present, counts = np.unique(codes, return_counts=True)
    return present.astype(np.int64), counts.astype(np.int64)


def merge_pair_counts(codes: Sequence[np.ndarray], counts: Sequence[np.ndarray]
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Sum sparse histograms from :func:`pair_counts` (same ``num_pred``).

    Args:
        codes: Pair codes of each histogram.
        counts: Their counts.

    Returns:
        ``(codes, counts)`` of the sum, codes sorted and unique.
    """
    all_codes = np.concatenate([np.zeros(0, np.int64), *map(np.asarray, codes)])
    all_counts = np.concatenate([np.zeros(0, np.int64), *map(np.asarray, counts)])
    present, inverse = np.unique(all_codes.astype(np.int64), return_inverse=True)
    summed = np.zeros(present.size, dtype=np.int64)
    np.add.at(summed, inverse, all_counts.astype(np.int64))
    return present, summed
