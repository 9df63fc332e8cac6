"""Data contracts shared by mmhier's datasets, heads, losses and metrics."""
from mmhier.structures.label_encoding import (IGNORE_INDEX, decode_labels,
                                              encode_labels)
from mmhier.structures.log_names import classifier_log_names, log_name
from mmhier.structures.node_maps import (MAX_PNG_ID, NodeMapRangeError, load_node_map,
                                         save_node_map)

__all__ = ['IGNORE_INDEX', 'MAX_PNG_ID', 'NodeMapRangeError', 'classifier_log_names',
           'decode_labels', 'encode_labels', 'load_node_map', 'log_name', 'save_node_map']
