"""Data contracts shared by mmhier's datasets, heads, losses and metrics."""
from mmhier.structures.label_encoding import (IGNORE_INDEX, box_label_dtype,
                                              decode_labels, encode_labels)
from mmhier.structures.label_space import (LabelCodec, LabelSpace, MissingShapeError,
                                           label_codec, label_space)
from mmhier.structures.log_names import classifier_log_names, log_name
from mmhier.structures.node_maps import (MAX_PNG_ID, NodeMapRangeError, load_node_map,
                                         save_node_map)
from mmhier.structures.sample_checks import (SampleDatasetKeyError,
                                             SampleTaxonomyMismatchError,
                                             check_sample_taxonomy, sample_dataset_key,
                                             sample_name, sample_provenance)

__all__ = ['IGNORE_INDEX', 'LabelCodec', 'LabelSpace', 'MAX_PNG_ID', 'MissingShapeError',
           'NodeMapRangeError', 'SampleDatasetKeyError', 'SampleTaxonomyMismatchError',
           'box_label_dtype', 'check_sample_taxonomy', 'classifier_log_names',
           'decode_labels', 'encode_labels', 'label_codec', 'label_space', 'load_node_map',
           'log_name', 'sample_dataset_key', 'sample_name', 'sample_provenance',
           'save_node_map']
