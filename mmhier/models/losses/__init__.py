from mmhier.models.losses.functional import hierarchical_cross_entropy, masked_mean
from mmhier.models.losses.hierarchical_loss import UNKNOWN_DATASET_MODES, HierarchicalLoss

__all__ = ['HierarchicalLoss', 'UNKNOWN_DATASET_MODES', 'hierarchical_cross_entropy',
           'masked_mean']
