"""HierarchicalDecodeHead: one classifier per inner node of a taxonomy."""
from __future__ import annotations

import os
from typing import Iterator, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.registry import MODELS
from mmseg.utils import SampleList
from torch import Tensor, nn

from mmhier.models.decision import (DECISION_RULES, decide_runs, decide_traceable,
                                    decision_logits, decision_probabilities, exporting)
from mmhier.models.heads.branch import ClassifierBranch
from mmhier.models.heads.fused_branches import FusedClassifiers
from mmhier.models.heads.taxonomy_state import TaxonomyStateMixin
from mmhier.models.losses.hierarchical_loss import HierarchicalLoss
from mmhier.models.output_nodes import output_nodes
from mmhier.models.resize import BilinearRows, compute_dtype, row_chunks, upsample
from mmhier.models.tables import DecisionTables
from mmhier.structures import IGNORE_INDEX
from mmhier.taxonomy import Taxonomy, load_taxonomy


#: The paper's adaptation sub-network: one 256-wide bottleneck block.
DEFAULT_BRANCH = dict(depth=1, width=256, dilation=1)


@MODELS.register_module()
class HierarchicalDecodeHead(TaxonomyStateMixin, BaseDecodeHead):
    """Decode head generated from a taxonomy (Meletis & Dubbelman, IV 2018).

    Shared features (1x1 conv + norm + act to ``channels``) feed one branch per
    classifier (inner node): an adaptation sub-network (ResNet bottleneck
    blocks), a 1x1 classifier with one output per child, and hybrid
    upsampling (a learnable 2x2 stride-2 transposed convolution here, bilinear
    upsampling to label or image size in :meth:`loss_by_feat` /
    :meth:`predict_by_feat`). Every class count comes from the taxonomy.

    Predictions are ``(N, num_outputs, H, W)`` scores over the output nodes
    (the leaves, or a coarser cut, see ``output_level`` / ``output_stop_at``)
    whose argmax is exactly the chosen decision rule's decision, so mmseg's
    segmentors, sliding-window inference and metrics work unchanged. With
    ``TaxonomyEncoderDecoder`` the predictions are node ids.

    :meth:`decide` and :meth:`output_scores` give node ids and path
    probabilities at any size; while a graph is recorded for export
    (:func:`~mmhier.models.decision.exporting`) they take the traceable path
    (:func:`~mmhier.models.decision.decide_traceable`), so an exported graph
    keeps the input size dynamic (``tools/export.py``).

    The taxonomy's tree hash is stored with the weights; loading weights of
    another taxonomy raises :class:`~mmhier.taxonomy.TaxonomyMismatchError`.

    Args:
        taxonomy: Taxonomy YAML path or :class:`Taxonomy`.
        in_channels: Backbone/neck channels of the selected input(s).
        channels: Width of the shared features.
        branch: Default adaptation sub-network: ``depth`` (bottleneck
            blocks), ``width`` and ``dilation``.
        branch_overrides: Per classifier node name, keys overriding
            ``branch`` (e.g. ``{'Traffic Sign (Front)': dict(dilation=2)}``);
            these classifiers always keep their own branch.
        shared_branch: For large taxonomies: one adaptation sub-network
            (``depth``, ``width``, ``dilation`` as ``branch``) shared by the
            classifiers ``own_branches`` does not select, whose 1x1
            classifiers and transposed convolutions are fused into a few
            convolutions (:class:`~mmhier.models.heads.fused_branches.FusedClassifiers`).
            ``None`` (default): every classifier has its own branch, as in
            the paper.
        trainable_classifiers: Train only these classifiers (node names):
            every other part of the head - the shared layer and the other
            branches - is frozen (no gradients, norm layers kept in eval
            mode). For adding a dataset to a migrated model without
            forgetting (``tools/migrate_checkpoint.py`` prints the list);
            freeze the backbone with its own options (``frozen_stages``,
            ``norm_eval``). ``None`` (default): everything trains.
        own_branches: With ``shared_branch``, which classifiers keep their
            own ``branch``: any of ``nodes`` (classifier node names),
            ``max_level`` (classifiers at this level or above; the root
            classifier is level 1) and ``min_outputs`` (classifiers with at
            least this many children). ``None``: only those in
            ``branch_overrides``.
        decision: ``'greedy'`` (the paper's top-down rule; scores are the
            one-hot decision) or ``'path'`` (scores are path probabilities).
        output_level: Stop the decision at this level (level of detail).
        output_stop_at: Stop the decision at these nodes.
        max_upsample_bytes: Memory budget for upsampled logits while
            deciding; larger outputs are decided in bands of rows.
        loss_decode: Loss config; a ``HierarchicalLoss`` without
            ``taxonomy`` gets this head's.
        **kwargs: Other :class:`BaseDecodeHead` arguments (``in_index``,
            ``input_transform``, ``norm_cfg``, ``act_cfg``, ``align_corners``,
            ``dropout_ratio``, ...).
    """

    def __init__(self, taxonomy: Union[str, os.PathLike, Taxonomy], in_channels,
                 channels: int = 256, branch: Optional[dict] = None,
                 branch_overrides: Optional[dict] = None,
                 shared_branch: Optional[dict] = None, own_branches: Optional[dict] = None,
                 trainable_classifiers: Optional[Sequence[str]] = None,
                 decision: str = 'greedy',
                 output_level: Optional[int] = None,
                 output_stop_at: Optional[Sequence[str]] = None,
                 max_upsample_bytes: int = 1 << 29,
                 loss_decode: Optional[dict] = None, **kwargs):
        if decision not in DECISION_RULES:
            raise ValueError(f'decision must be one of {DECISION_RULES}, got {decision!r}')
        self.taxonomy = load_taxonomy(taxonomy)
        outputs = output_nodes(self.taxonomy, output_level, output_stop_at)
        loss_decode = dict(loss_decode or dict(type='HierarchicalLoss'))
        if loss_decode.get('type') in ('HierarchicalLoss', HierarchicalLoss):
            loss_decode.setdefault('taxonomy', self.taxonomy)
        kwargs.setdefault('ignore_index', IGNORE_INDEX)
        super().__init__(in_channels, channels, num_classes=len(outputs),
                         loss_decode=loss_decode, init_cfg=kwargs.pop('init_cfg', None),
                         **kwargs)
        if not isinstance(self.loss_decode, HierarchicalLoss):
            raise TypeError('HierarchicalDecodeHead needs loss_decode='
                            "dict(type='HierarchicalLoss', ...), got "
                            f'{type(self.loss_decode).__name__}')
        del self.conv_seg, self.dropout  # replaced by the per-classifier branches
        self.decision = decision
        #: The level-of-detail cut (see :func:`~mmhier.models.output_nodes.output_nodes`).
        self.output_level = output_level
        self.output_stop_at = tuple(output_stop_at or ())
        self.max_upsample_bytes = max_upsample_bytes
        self.shared = ConvModule(self.in_channels, channels, 1, conv_cfg=self.conv_cfg,
                                 norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)
        layers = dict(conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg, act_cfg=self.act_cfg,
                      dropout_ratio=self.dropout_ratio)
        overrides = dict(branch_overrides or {})
        for name in overrides:
            self.taxonomy.classifier(name)  # typed error + hint
        own = own_branch_classifiers(self.taxonomy, own_branches, overrides) \
            if shared_branch is not None else list(range(self.taxonomy.num_classifiers))
        #: Classifiers with their own branch (``branches[i]`` is classifier
        #: ``own_classifiers[i]``); the others share :attr:`fused`.
        self.own_classifiers: list[int] = own
        self.fused_classifiers: list[int] = sorted(
            set(range(self.taxonomy.num_classifiers)) - set(own))
        base = {**DEFAULT_BRANCH, **(branch or {})}
        self.branches = nn.ModuleList(
            ClassifierBranch(channels, self.taxonomy.classifiers[j].num_outputs,
                             **{**base, **overrides.get(self.taxonomy.classifiers[j].node, {})},
                             **layers)
            for j in own)
        self.fused = FusedClassifiers(
            channels, [self.taxonomy.classifiers[j].num_outputs
                       for j in self.fused_classifiers],
            **{**DEFAULT_BRANCH, **shared_branch}, **layers) \
            if self.fused_classifiers else None
        self.tables = DecisionTables(self.taxonomy, outputs)
        self.register_taxonomy_record()
        #: Modules frozen by ``trainable_classifiers`` (empty: none).
        self.frozen_modules: list[nn.Module] = []
        if trainable_classifiers is not None:
            self._freeze_all_but(trainable_classifiers)

    def _freeze_all_but(self, names: Sequence[str]) -> None:
        if isinstance(names, str):
            names = [names]
        trainable = {self.taxonomy.classifier(name).index for name in names}
        fused = set(self.fused_classifiers)
        if trainable & fused and not fused <= trainable:
            raise ValueError(
                'trainable_classifiers: the classifiers '
                f'{sorted(self.taxonomy.classifiers[j].node for j in fused - trainable)} '
                'share their fused branch with trainable ones and cannot be frozen apart; '
                'give them own_branches, or make all fused classifiers trainable')
        self.frozen_modules = [self.shared] + [
            branch for j, branch in zip(self.own_classifiers, self.branches)
            if j not in trainable]
        if self.fused is not None and not fused <= trainable:
            self.frozen_modules.append(self.fused)
        for module in self.frozen_modules:
            module.requires_grad_(False)

    def train(self, mode: bool = True) -> 'HierarchicalDecodeHead':
        """As ``nn.Module.train``; frozen parts (``trainable_classifiers``)
        stay in eval mode."""
        super().train(mode)
        for module in getattr(self, 'frozen_modules', ()):
            module.eval()
        return self

    @property
    def output_nodes(self) -> Tensor:
        """``(num_outputs,)`` node index of every output channel."""
        return self.tables.output_nodes

    @property
    def output_names(self) -> tuple[str, ...]:
        """Node names of the output channels."""
        return tuple(self.taxonomy.nodes[i] for i in self.output_nodes.tolist())

    def forward(self, inputs: Sequence[Tensor]) -> list[Tensor]:
        """Per-classifier logits at twice the feature resolution.

        Shape:
            output[j]: ``(N, K_j, 2h, 2w)`` in ``taxonomy.classifiers`` order.
        """
        x = self.shared(self._transform_inputs(inputs))
        logits: list[Tensor] = [None] * self.taxonomy.num_classifiers
        for j, branch in zip(self.own_classifiers, self.branches):
            logits[j] = branch(x)
        if self.fused is not None:
            for j, x_j in zip(self.fused_classifiers, self.fused(x)):
                logits[j] = x_j
        return logits

    def _upsample(self, logits: Sequence[Tensor], size) -> list[Tensor]:
        return [F.interpolate(x, size=tuple(size), mode='bilinear',
                              align_corners=self.align_corners) for x in logits]

    def loss_by_feat(self, seg_logits: Sequence[Tensor],
                     batch_data_samples: SampleList) -> dict:
        """Hierarchical loss at label resolution.

        Every sample's metainfo (set by mmhier datasets and
        ``PackTaxonomySegInputs``) is checked and selects its supervision
        rules: ``dataset_key`` and ``taxonomy_hash``
        (:meth:`HierarchicalLoss.sample_rows`).

        Raises:
            SampleTaxonomyMismatchError: A sample was encoded by another
                taxonomy tree.
            SampleDatasetKeyError: A sample's ``dataset_key`` is missing or
                unknown to the loss (unless the loss has a default).
        """
        rows = self.loss_decode.sample_rows([s.metainfo for s in batch_data_samples])
        labels = self._stack_batch_gt(batch_data_samples).squeeze(1)
        logits = self._upsample(seg_logits, labels.shape[-2:])
        dataset_index = torch.tensor(rows, device=labels.device)
        return self.loss_decode(logits, labels, dataset_index)

    def _row_bands(self, runs: Sequence[Tensor], size, rule: Optional[str] = None
                   ) -> list[tuple[int, int]]:
        """Bands of output rows within ``max_upsample_bytes`` (one band when
        the whole image fits).

        Bytes per output row, in the compute dtype: the source rows a band
        reads, their two gathered copies and the blend at logit width, and
        the upsampled row, all over the ``T`` decision channels; greedy adds
        the choices of the ``S`` decision classifiers and the node maps of
        the descent, path the probabilities twice (the per-group softmax
        outputs and their concatenation) and two output-sized maps.

        Args:
            runs: The decision channels per run (:func:`decision_logits`).
            size: Output size ``(H, W)``.
            rule: The computation the bands are for (default: this head's
                decision rule; ``'path'``: path probabilities).
        """
        height, width = (int(s) for s in size)
        batch, _, in_height, in_width = runs[0].shape
        channels = sum(x.shape[1] for x in runs)
        item = compute_dtype(runs[0].dtype).itemsize
        source_rows = 3 + max(1, -(-in_height // max(1, height)))
        row_bytes = item * channels * (source_rows * in_width + 2 * width)
        if (rule or self.decision) == 'greedy':
            slots = len(self.tables.decision_classifiers)
            row_bytes += width * (slots * (8 + self.tables.choice_dtype.itemsize) + 8 * 6)
        else:
            row_bytes += item * width * (2 * channels + 2 + 2 * self.out_channels) \
                + 8 * width
        return list(row_chunks(height, batch * row_bytes, self.max_upsample_bytes))

    def _bands(self, seg_logits: Sequence[Tensor], size,
               rule: Optional[str] = None) -> Iterator[tuple[int, int, Tensor]]:
        """The decision channels upsampled to ``size``, band by band.

        Yields:
            ``(start, stop, values)``: rows ``start:stop`` of the upsampled
            decision channels, per run, channels last:
            ``(N, stop - start, W, K_g * G_g)``.
        """
        runs = decision_logits(seg_logits, self.tables)
        ups = [BilinearRows(x, size, self.align_corners) for x in runs]
        for start, stop in self._row_bands(runs, size, rule):
            yield start, stop, [up(start, stop).movedim(1, -1) for up in ups]

    def decide(self, seg_logits: Sequence[Tensor], size) -> Tensor:
        """Node decided for every output pixel.

        The decision channels (every classifier's logits in one tensor,
        :func:`~mmhier.models.decision.decision_logits`) are upsampled
        (:class:`~mmhier.models.resize.BilinearRows`) and decided in bands
        of rows within ``max_upsample_bytes`` - one band when everything
        fits: per band, greedy takes every classifier's choice and descends
        level by level (:func:`~mmhier.models.decision.greedy_descent`),
        path computes the path probabilities. Every pixel is computed with
        the same arithmetic in any band, so the decision never depends on the
        budget, in any dtype; it is the argmax of :meth:`predict_by_feat`'s
        scores.

        While a graph is recorded for export, the whole image is upsampled
        and decided at once with tensor operations only
        (:func:`~mmhier.models.decision.decide_traceable`: the same node ids
        in PyTorch), so ``size`` may be symbolic.

        Args:
            seg_logits: Per-classifier logits (:meth:`forward`).
            size: Output size ``(H, W)``.

        Returns:
            ``(N, H, W)`` int64 node indices (always output nodes).
        """
        if exporting():
            return decide_traceable(seg_logits, size, self.tables, self.decision,
                                    self.align_corners)
        height, width = (int(s) for s in size)
        nodes = seg_logits[0].new_empty((seg_logits[0].shape[0], height, width),
                                        dtype=torch.long)
        for start, stop, values in self._bands(seg_logits, size):
            nodes[:, start:stop] = decide_runs(values, self.tables, self.decision)
        return nodes

    def output_scores(self, seg_logits: Sequence[Tensor], size) -> Tensor:
        """Path probability of every output node at every output pixel (the
        product of the softmax probabilities along its path).

        Computed in bands of rows within ``max_upsample_bytes`` (identical to
        the whole image); while a graph is recorded for export, at once and
        traceably. For the path rule their argmax is :meth:`decide`; for the
        greedy rule they are the confidence of each output node, whose argmax
        may differ from the greedy decision.

        Args:
            seg_logits: Per-classifier logits (:meth:`forward`).
            size: Output size ``(H, W)``.

        Returns:
            Probabilities, fp32 (fp64 for fp64 logits).

        Shape:
            output: ``(N, num_outputs, H, W)``
        """
        if exporting():
            values = [upsample(x, size, self.align_corners).movedim(1, -1)
                      for x in decision_logits(seg_logits, self.tables)]
            return decision_probabilities(values, self.tables).movedim(-1, 1)
        height, width = (int(s) for s in size)
        dtype = compute_dtype(seg_logits[0].dtype)
        scores = seg_logits[0].new_empty((seg_logits[0].shape[0], height, width,
                                          self.out_channels), dtype=dtype)
        for start, stop, values in self._bands(seg_logits, size, 'path'):
            scores[:, start:stop] = decision_probabilities(values, self.tables)
        return scores.movedim(-1, 1)

    def predict_by_feat(self, seg_logits: Sequence[Tensor], batch_img_metas) -> Tensor:
        """Scores over the output nodes at input size; their argmax is
        exactly :meth:`decide`'s decision.

        Greedy: the one-hot decision. Path: the path probabilities, computed
        in the same bands as :meth:`decide`.

        Shape:
            output: ``(N, num_outputs, H, W)`` fp32 (fp64 for fp64 logits)
        """
        meta = batch_img_metas[0]
        if isinstance(meta['img_shape'], torch.Size):
            size = meta['img_shape']
        elif 'pad_shape' in meta:
            size = meta['pad_shape'][:2]
        else:
            size = meta['img_shape']
        if self.decision == 'path':
            return self.output_scores(seg_logits, size)
        height, width = (int(s) for s in size)
        batch = seg_logits[0].shape[0]
        nodes = self.decide(seg_logits, size)
        channel = self.tables.output_index[nodes].unsqueeze(1)
        scores = seg_logits[0].new_zeros((batch, self.out_channels, height, width),
                                         dtype=torch.float32)
        return scores.scatter_(1, channel, 1.0)


#: Keys of ``own_branches``.
OWN_BRANCH_RULES = ('nodes', 'max_level', 'min_outputs')


def own_branch_classifiers(taxonomy: Taxonomy, rule: Optional[dict],
                           overrides: dict) -> list[int]:
    """Classifiers that keep their own branch when the others share one.

    Args:
        taxonomy: The taxonomy.
        rule: ``own_branches``: ``nodes``, ``max_level``, ``min_outputs``
            (a classifier matching any of them keeps its branch), or ``None``.
        overrides: ``branch_overrides`` (its classifiers keep their branch).

    Returns:
        Classifier indices, ascending.

    Raises:
        ValueError: An unknown key or a value of the wrong type.
        UnknownNodeError: ``nodes`` names no classifier of the taxonomy.
    """
    rule = dict(rule or {})
    unknown = sorted(set(rule) - set(OWN_BRANCH_RULES))
    if unknown:
        raise ValueError(f'own_branches: unknown key(s) {unknown}; use '
                         f"{', '.join(OWN_BRANCH_RULES)}")
    for key in ('max_level', 'min_outputs'):
        value = rule.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError(f'own_branches.{key} must be an integer, got {value!r}')
    names = rule.get('nodes') or []
    if isinstance(names, str):
        names = [names]
    named = {taxonomy.classifier(name).index for name in [*names, *overrides]}
    level, width = rule.get('max_level'), rule.get('min_outputs')
    return [c.index for c in taxonomy.classifiers
            if c.index in named or (level is not None and c.level <= level)
            or (width is not None and c.num_outputs >= width)]
