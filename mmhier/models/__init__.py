"""Hierarchical heads, losses and decision rules. Importing this package
registers ``HierarchicalDecodeHead``, ``FlatTaxonomyHead``,
``HierarchicalLoss`` and ``TaxonomyEncoderDecoder`` into mmseg's MODELS
registry."""
from mmhier.models.decision import (classifier_choice, classifier_choices, decision_logits,
                                    decision_probabilities, greedy_decision, greedy_descent,
                                    greedy_from_choices, path_decision, path_log_probs,
                                    path_probabilities)
from mmhier.models.heads import FlatTaxonomyHead, HierarchicalDecodeHead
from mmhier.models.losses import HierarchicalLoss, hierarchical_cross_entropy
from mmhier.models.output_nodes import output_nodes
from mmhier.models.segmentors import TaxonomyEncoderDecoder
from mmhier.models.tables import DecisionTables, LossTables

__all__ = [
    'DecisionTables', 'FlatTaxonomyHead', 'HierarchicalDecodeHead', 'HierarchicalLoss',
    'LossTables', 'TaxonomyEncoderDecoder',
    'classifier_choice', 'classifier_choices', 'decision_logits', 'decision_probabilities',
    'greedy_decision', 'greedy_descent', 'greedy_from_choices', 'hierarchical_cross_entropy',
    'output_nodes', 'path_decision', 'path_log_probs', 'path_probabilities'
]
