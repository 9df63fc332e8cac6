from mmhier.models.heads.branch import BottleneckBlock, ClassifierBranch
from mmhier.models.heads.flat_taxonomy_head import FlatTaxonomyHead
from mmhier.models.heads.hierarchical_decode_head import HierarchicalDecodeHead

__all__ = ['BottleneckBlock', 'ClassifierBranch', 'FlatTaxonomyHead',
           'HierarchicalDecodeHead']
