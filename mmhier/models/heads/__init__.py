from mmhier.models.heads.branch import BottleneckBlock, ClassifierBranch
from mmhier.models.heads.hierarchical_decode_head import HierarchicalDecodeHead

__all__ = ['BottleneckBlock', 'ClassifierBranch', 'HierarchicalDecodeHead']
