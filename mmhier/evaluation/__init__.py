"""Evaluation in the datasets' own label spaces, per level and per classifier.

Importing this package registers ``HierarchicalIoUMetric`` into mmseg's
METRICS registry (``custom_imports=dict(imports=['mmhier.evaluation'])``).
"""
from mmhier.evaluation.confusion import (SegmentationScores, confusion_matrix,
                                         merge_pair_counts, nan_mean, overall_accuracy,
                                         pair_counts, per_class_accuracy, per_class_iou,
                                         segmentation_scores)
from mmhier.evaluation.errors import (EvaluationError, InvalidPredictionError,
                                      LabelMismatchError, MissingDatasetKeyError,
                                      MissingSampleFieldError, UnknownClassError)
from mmhier.evaluation.hierarchical_metric import HierarchicalIoUMetric
from mmhier.evaluation.projections import (classifier_confusions, dataset_confusion,
                                           level_confusion, level_nodes)

__all__ = [
    'EvaluationError', 'HierarchicalIoUMetric', 'InvalidPredictionError',
    'LabelMismatchError', 'MissingDatasetKeyError', 'MissingSampleFieldError',
    'SegmentationScores',
    'UnknownClassError', 'classifier_confusions', 'confusion_matrix',
    'dataset_confusion', 'level_confusion', 'level_nodes', 'merge_pair_counts',
    'nan_mean', 'overall_accuracy', 'pair_counts', 'per_class_accuracy', 'per_class_iou',
    'segmentation_scores'
]
