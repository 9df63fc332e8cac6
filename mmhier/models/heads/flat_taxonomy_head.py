"""A flat baseline over taxonomy nodes (the paper's "flat classifier")."""
from __future__ import annotations

import os
from typing import Optional, Sequence, Union

import numpy as np
import torch
import torch.nn.functional as F
from mmseg.models.decode_heads import FCNHead
from mmseg.models.losses import accuracy
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from mmseg.utils import SampleList
from torch import Tensor

from mmhier.models.heads.branch import ClassifierBranch
from mmhier.models.heads.taxonomy_state import TaxonomyStateMixin
from mmhier.structures import (IGNORE_INDEX, check_sample_taxonomy, label_codec,
                               label_space)
from mmhier.taxonomy import Taxonomy, load_taxonomy
from mmhier.taxonomy.errors import TaxonomyError
from mmhier.taxonomy.node_sets import format_target


class NodeSetLabelError(TaxonomyError):
    """A flat head was asked to train on node-set (partial) labels."""


def _refuse_node_sets(taxonomy: Taxonomy, keys: Sequence[str]) -> None:
    """Raises :class:`NodeSetLabelError` naming every node-set class of the
    datasets ``keys``."""
    found = [f'dataset {key!r} class {c.id} {c.name!r} -> {format_target(c.nodes)}'
             for key in keys for c in taxonomy.dataset(key).classes
             if taxonomy.label_to_target(key)[c.id] >= taxonomy.num_nodes]
    if found:
        raise NodeSetLabelError(
            f'{taxonomy.source}: FlatTaxonomyHead trains one softmax with ordinary '
            'cross-entropy, which has no target for a class that means "one of '
            f'several nodes": {"; ".join(found)}. Use HierarchicalDecodeHead, whose '
            'loss trains node sets as partial labels, or leave these datasets out '
            '(datasets=[...])')


@MODELS.register_module()
class FlatTaxonomyHead(TaxonomyStateMixin, FCNHead):
    """An FCN head with one flat softmax over taxonomy nodes.

    The baseline the paper compares against: the union of all datasets'
    classes as one flat label space (so a Cityscapes ``road`` pixel and a Vistas
    ``lane marking`` pixel are different, competing classes). Labels are the
    encoded node labels of :mod:`mmhier.structures.label_encoding`; box pseudo
    labels are used as they are (no refinement). Output channels are the
    union of the datasets' :attr:`LabelSpace.labelled_nodes
    <mmhier.structures.label_space.LabelSpace.labelled_nodes>`; labels become
    channels through the taxonomy codec's :meth:`~mmhier.structures.LabelCodec.value_table`
    (``label_to_channel[labels]``, ``-1`` for ignored pixels and nodes
    without a channel). Samples encoded by another taxonomy tree (their
    ``taxonomy_hash``) are refused.

    :meth:`decide` and :meth:`output_scores` give node ids and softmax
    probabilities at any size, traceably (``tools/export.py``), as
    ``TaxonomyEncoderDecoder.predict`` computes them.

    Args:
        taxonomy: Taxonomy YAML path or :class:`Taxonomy`.
        nodes: Node names of the output channels (default: every node that
            one of ``datasets`` labels, in preorder).
        datasets: Dataset keys whose labelled nodes are the output channels
            (default: all of the taxonomy's datasets).
        branch: ``dict(depth=, width=, dilation=)``: classify with one
            :class:`~mmhier.models.heads.branch.ClassifierBranch` (adaptation
            bottleneck blocks, 1x1 classifier, hybrid upsampling) after the
            FCN convolutions instead of FCN's 1x1 ``conv_seg``: with
            ``num_convs=1, kernel_size=1`` this is one branch of
            :class:`HierarchicalDecodeHead` (its shared 1x1 convolution and one
            classifier), the paper's flat baseline with the hierarchical
            head's per-classifier architecture. ``None``: a plain FCN head.
        **kwargs: :class:`mmseg.models.decode_heads.FCNHead` arguments
            (``num_classes`` is derived and must not be given).

    Raises:
        UnknownDatasetError: ``datasets`` names a dataset the taxonomy does
            not define.
        UnknownNodeError: ``nodes`` names an unknown node.
        NodeSetLabelError: A dataset of ``datasets`` has classes mapped to
            node sets (partial labels), which flat cross-entropy cannot
            train.
    """

    def __init__(self, taxonomy: Union[str, os.PathLike, Taxonomy],
                 nodes: Optional[Sequence[str]] = None,
                 datasets: Optional[Sequence[str]] = None,
                 branch: Optional[dict] = None, **kwargs):
        self.taxonomy = load_taxonomy(taxonomy)
        keys = self.taxonomy.dataset_keys if datasets is None else datasets
        _refuse_node_sets(self.taxonomy, keys)
        indices = [self.taxonomy.index(n) for n in nodes] if nodes is not None \
            else sorted(set().union(*(label_space(self.taxonomy, k).labelled_nodes.tolist()
                                      for k in keys)))
        if 'num_classes' in kwargs:
            raise TypeError('FlatTaxonomyHead derives num_classes from the taxonomy; '
                            'remove num_classes from its config')
        kwargs.setdefault('ignore_index', IGNORE_INDEX)
        kwargs.setdefault('loss_decode', dict(type='CrossEntropyLoss', loss_weight=1.0,
                                              avg_non_ignore=True))
        if branch is not None:  # conv_seg is replaced: no init override for it
            kwargs.setdefault('init_cfg', None)
        super().__init__(num_classes=len(indices), **kwargs)
        self.branch = None
        if branch is not None:
            del self.conv_seg, self.dropout
            self.branch = ClassifierBranch(
                self.channels, self.out_channels, dropout_ratio=self.dropout_ratio,
                conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg, act_cfg=self.act_cfg,
                **{**dict(depth=1, width=self.channels, dilation=1), **branch})
        codec = label_codec(self.taxonomy)
        channel = np.full(codec.num_targets, IGNORE_INDEX, dtype=np.int64)
        channel[indices] = np.arange(len(indices))
        # encoded label -> output channel; label -1 indexes the last entry (-1)
        self.register_buffer('label_to_channel', torch.tensor(codec.value_table(channel)),
                             persistent=False)
        self.register_buffer('output_nodes', torch.as_tensor(indices, dtype=torch.long),
                             persistent=False)
        self.register_taxonomy_record()

    def cls_seg(self, feat: Tensor) -> Tensor:
        """Logits of the features: the branch's (at twice their resolution)
        or FCN's ``conv_seg``."""
        if self.branch is not None:
            return self.branch(feat)
        return super().cls_seg(feat)

    def _resized(self, seg_logits: Tensor, size) -> Tensor:
        """Logits bilinearly resized to ``size`` as mmseg's ``predict_by_feat``
        resizes them (``F.interpolate``; ``size`` may be symbolic)."""
        height, width = size
        return F.interpolate(seg_logits, size=(height, width), mode='bilinear',
                             align_corners=self.align_corners)

    def decide(self, seg_logits: Tensor, size) -> Tensor:
        """Node decided for every output pixel: the output node of the
        largest resized logit (the first one at exact ties), the node ids
        ``TaxonomyEncoderDecoder.predict`` gives. Traceable (no Python
        conversion of ``size``).

        Args:
            seg_logits: Logits of :meth:`forward`.
            size: Output size ``(H, W)``: ints or symbolic sizes.

        Returns:
            Node index per pixel.

        Shape:
            - seg_logits: ``(N, num_outputs, h, w)``
            - output: ``(N, H, W)`` int64
        """
        return self.output_nodes[self._resized(seg_logits, size).argmax(dim=1)]

    def output_scores(self, seg_logits: Tensor, size) -> Tensor:
        """Softmax probability of every output node (channel) at every output
        pixel; traceable.

        Shape:
            - seg_logits: ``(N, num_outputs, h, w)``
            - output: ``(N, num_outputs, H, W)``
        """
        return self._resized(seg_logits, size).softmax(dim=1)

    def loss_by_feat(self, seg_logits: Tensor, batch_data_samples: SampleList) -> dict:
        """Cross-entropy over the flat node classes.

        Raises:
            SampleTaxonomyMismatchError: A sample was encoded by another
                taxonomy tree.
        """
        for i, sample in enumerate(batch_data_samples):
            check_sample_taxonomy(sample.metainfo, self.taxonomy, 'FlatTaxonomyHead', i)
        labels = self._stack_batch_gt(batch_data_samples).long()
        labels = self.label_to_channel[labels].squeeze(1)
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
