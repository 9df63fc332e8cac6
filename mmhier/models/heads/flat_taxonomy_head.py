"""A flat baseline over taxonomy nodes (the paper's "flat classifier")."""
from __future__ import annotations

import os
from typing import Optional, Sequence, Union

import numpy as np
import torch
from mmseg.models.decode_heads import FCNHead
from mmseg.models.losses import accuracy
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from mmseg.utils import SampleList
from torch import Tensor

from mmhier.models.heads.taxonomy_state import TaxonomyStateMixin
from mmhier.structures import IGNORE_INDEX
from mmhier.taxonomy import Taxonomy, load_taxonomy


def labelled_nodes(taxonomy: Taxonomy,
                   datasets: Optional[Sequence[str]] = None) -> list[int]:
    """Node indices labelled by the given datasets (default: all), in preorder."""
    keys = taxonomy.dataset_keys if datasets is None else datasets
    return sorted({taxonomy.index(n) for key in keys for n in taxonomy.labelled_nodes(key)})


@MODELS.register_module()
class FlatTaxonomyHead(TaxonomyStateMixin, FCNHead):
    """An FCN head with one flat softmax over taxonomy nodes.

    The baseline the paper compares against: the union of all datasets'
    classes as one flat label space (so a Cityscapes ``road`` pixel and a Vistas
    ``lane marking`` pixel are different, competing classes). Labels are the
    encoded node labels of :mod:`mmhier.structures.label_encoding`; box pseudo
    labels are used as they are (no refinement).

    Args:
        taxonomy: Taxonomy YAML path or :class:`Taxonomy`.
        nodes: Node names of the output channels (default: every node that
            one of ``datasets`` labels, in preorder).
        datasets: Dataset keys whose labelled nodes are the output channels
            (default: all of the taxonomy's datasets).
        **kwargs: :class:`mmseg.models.decode_heads.FCNHead` arguments
            (``num_classes`` is derived and must not be given).
    """

    def __init__(self, taxonomy: Union[str, os.PathLike, Taxonomy],
                 nodes: Optional[Sequence[str]] = None,
                 datasets: Optional[Sequence[str]] = None, **kwargs):
        self.taxonomy = load_taxonomy(taxonomy)
        indices = [self.taxonomy.index(n) for n in nodes] if nodes is not None \
            else labelled_nodes(self.taxonomy, datasets)
        if 'num_classes' in kwargs:
            raise TypeError('FlatTaxonomyHead derives num_classes from the taxonomy; '
                            'remove num_classes from its config')
        kwargs.setdefault('ignore_index', IGNORE_INDEX)
        kwargs.setdefault('loss_decode', dict(type='CrossEntropyLoss', loss_weight=1.0,
                                              avg_non_ignore=True))
        super().__init__(num_classes=len(indices), **kwargs)
        num_nodes = self.taxonomy.num_nodes
        # encoded label value + 1 -> output channel (-1 ignored)
        lut = np.full(2 * num_nodes + 1, IGNORE_INDEX, dtype=np.int64)
        channel = np.full(num_nodes, IGNORE_INDEX, dtype=np.int64)
        channel[indices] = np.arange(len(indices))
        lut[1:num_nodes + 1] = channel
        lut[num_nodes + 1:] = channel
        self.register_buffer('label_to_channel', torch.as_tensor(lut), persistent=False)
        self.register_buffer('output_nodes', torch.as_tensor(indices, dtype=torch.long),
                             persistent=False)

    def loss_by_feat(self, seg_logits: Tensor, batch_data_samples: SampleList) -> dict:
        """Cross-entropy over the flat node classes."""
        labels = self._stack_batch_gt(batch_data_samples).long()
        labels = self.label_to_channel[labels + 1].squeeze(1)
        seg_logits = resize(seg_logits, size=labels.shape[-2:], mode='bilinear',
                            align_corners=self.align_corners)
        losses = dict()
        for loss_decode in (self.loss_decode if isinstance(self.loss_decode,
                                                           torch.nn.ModuleList)
                            else [self.loss_decode]):
            value = loss_decode(seg_logits, labels, ignore_index=self.ignore_index)
            losses[loss_decode.loss_name] = losses.get(loss_decode.loss_name, 0) + value
        losses['acc_seg'] = accuracy(seg_logits, labels, ignore_index=self.ignore_index)
        return losses
