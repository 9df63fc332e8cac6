"""Data contracts shared by mmhier's datasets, heads, losses and metrics."""
from mmhier.structures.label_encoding import (IGNORE_INDEX, decode_labels,
                                              encode_labels)

__all__ = ['IGNORE_INDEX', 'decode_labels', 'encode_labels']
