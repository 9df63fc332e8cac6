from mmhier.models.losses.functional import hierarchical_cross_entropy, masked_mean
from mmhier.models.losses.hierarchical_loss import HierarchicalLoss, classifier_slugs

__all__ = ['HierarchicalLoss', 'classifier_slugs', 'hierarchical_cross_entropy',
           'masked_mean']
