"""Confusion matrices and scores, checked against hand-computed values and
against mmseg's IoUMetric."""
import math
import warnings

import numpy as np
import pytest
import torch
from mmseg.evaluation.metrics import IoUMetric

from mmhier.evaluation import confusion
from mmhier.evaluation.confusion import (confusion_matrix, merge_pair_counts, nan_mean,
                                         overall_accuracy, pair_counts, per_class_accuracy,
                                         per_class_iou, segmentation_scores)


def test_confusion_matrix_with_other_column_and_ignore():
    # 2 classes + an "other" column; gt -1 is ignored whatever is predicted.
    gt = np.array([[0, 0, 1], [1, 1, -1], [1, -1, -1]])
    pred = np.array([[0, 1, 1], [1, 0, 2], [2, 7, 0]])
    cm = confusion_matrix(gt, pred, 2, 3)
    np.testing.assert_array_equal(cm, [[1, 1, 0], [1, 2, 1]])
    assert cm.dtype == np.int64
    # IoU_0 = 1 / (2 + 2 - 1), IoU_1 = 2 / (4 + 3 - 2); the other column
    # counts against class 1's recall and IoU but is no class itself.
    np.testing.assert_allclose(per_class_iou(cm), [1 / 3, 2 / 5])
    np.testing.assert_allclose(per_class_accuracy(cm), [1 / 2, 2 / 4])
    assert overall_accuracy(cm) == pytest.approx(3 / 6)
    scores = segmentation_scores(cm)
    assert scores.miou == pytest.approx((1 / 3 + 2 / 5) / 2)
    assert scores.mpa == pytest.approx(0.5)
    assert scores.num_pixels == 6


def test_absent_classes_follow_mmseg():
    # 3x3 (+1 class never seen): class 2 predicted but absent from the gt has
    # IoU 0 (counts) and Acc nan (skipped); class 3 is nowhere: nan, skipped.
    gt = np.array([0, 0, 1, 1])
    pred = np.array([0, 2, 1, 1])
    cm = confusion_matrix(gt, pred, 4)
    np.testing.assert_array_equal(cm[:3, :3], [[1, 0, 1], [0, 2, 0], [0, 0, 0]])
    iou, acc = per_class_iou(cm), per_class_accuracy(cm)
    np.testing.assert_allclose(iou, [1 / 2, 1, 0, np.nan])
    np.testing.assert_allclose(acc, [1 / 2, 1, np.nan, np.nan])
    scores = segmentation_scores(cm)
    assert scores.miou == pytest.approx(1.5 / 3)
    assert scores.mpa == pytest.approx(0.75)
    assert scores.aacc == pytest.approx(3 / 4)


def test_weights_count_pixels():
    cm = confusion_matrix([0, 1, 1], [0, 0, 1], 2, weights=[5, 2, 3])
    np.testing.assert_array_equal(cm, [[5, 0], [2, 3]])


def test_empty_matrix_is_nan_without_warnings():
    cm = confusion_matrix(np.zeros(0, int), np.zeros(0, int), 3, 4)
    assert cm.shape == (3, 4) and cm.sum() == 0
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        scores = segmentation_scores(cm)
        assert math.isnan(nan_mean(np.array([np.nan, np.nan])))
    assert nan_mean([1.0, np.nan, 0.0]) == 0.5
    assert math.isnan(scores.aacc) and math.isnan(scores.miou) and math.isnan(scores.mpa)
    assert np.isnan(scores.iou).all() and np.isnan(scores.acc).all()


def test_bad_input_raises():
    with pytest.raises(ValueError, match='predictions must be in 0..2'):
        confusion_matrix([0, 1], [0, 3], 2, 3)
    with pytest.raises(ValueError, match='num_columns'):
        confusion_matrix([0], [0], 3, 2)
    with pytest.raises(ValueError, match='differ in size'):
        confusion_matrix([0, 1], [0], 2)
    with pytest.raises(ValueError, match='confusion matrix is'):
        per_class_iou(np.zeros((3, 2)))


@pytest.mark.parametrize('dense', [True, False])
def test_pair_counts_and_merge(monkeypatch, dense):
    if not dense:
        monkeypatch.setattr(confusion, 'DENSE_PAIR_LIMIT', 0)
    codes, counts = pair_counts([2, 0, 2, 2], [1, 1, 1, 0], num_pred=3)
    np.testing.assert_array_equal(codes, [0 * 3 + 1, 2 * 3 + 0, 2 * 3 + 1])
    np.testing.assert_array_equal(counts, [1, 1, 2])
    merged = merge_pair_counts([codes, np.array([1, 4])], [counts, np.array([5, 1])])
    np.testing.assert_array_equal(merged[0], [1, 4, 6, 7])
    np.testing.assert_array_equal(merged[1], [6, 1, 1, 2])
    empty = pair_counts([], [], 3)
    assert empty[0].size == 0 and empty[1].size == 0
    assert merge_pair_counts([], [])[0].size == 0


def test_matches_mmseg_iou_metric():
    rng = np.random.default_rng(0)
    gt = rng.integers(-1, 6, size=(40, 50))
    pred = rng.integers(0, 6, size=(40, 50))
    gt[gt == 4] = 5  # class 4 only predicted
    cm = confusion_matrix(gt, pred, 6)
    areas = IoUMetric.intersect_and_union(torch.from_numpy(pred), torch.from_numpy(gt),
                                          6, -1)
    ref = IoUMetric.total_area_to_metrics(*areas, ['mIoU'])
    scores = segmentation_scores(cm)
    np.testing.assert_allclose(scores.iou, ref['IoU'], rtol=1e-6)
    np.testing.assert_allclose(scores.acc, ref['Acc'], rtol=1e-6)
    assert scores.aacc == pytest.approx(float(ref['aAcc']))
    assert scores.miou == pytest.approx(float(np.nanmean(ref['IoU'])))
    assert scores.mpa == pytest.approx(float(np.nanmean(ref['Acc'])))
