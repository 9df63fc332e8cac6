"""``HierarchicalIoUMetric``: mIoU / mPA per dataset, per level, per classifier."""
from __future__ import annotations

import logging
import os
import os.path as osp
from collections import defaultdict
from typing import Any, Mapping, Optional, Sequence, Union

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmseg.registry import METRICS

from mmhier.evaluation.confusion import merge_pair_counts, pair_counts
from mmhier.evaluation.errors import (EvaluationError, InvalidPredictionError,
                                      LabelMismatchError, MissingDatasetKeyError,
                                      MissingSampleFieldError, UnknownClassError)
from mmhier.evaluation.projections import (classifier_confusions, dataset_confusion,
                                           level_confusion, level_nodes)
from mmhier.evaluation.report import (log_report, percent, rounded, scores_entry,
                                      write_json)
from mmhier.structures import (check_sample_taxonomy, classifier_log_names, label_space,
                               sample_dataset_key, sample_name, save_node_map)
from mmhier.taxonomy import Taxonomy, load_taxonomy
from mmhier.taxonomy.spec import did_you_mean

#: Summary scores reported per dataset and per level.
SUMMARY_KEYS = ('aAcc', 'mIoU', 'mPA')


def _to_numpy(value: Any) -> np.ndarray:
    if hasattr(value, 'detach'):  # torch.Tensor, possibly on a GPU
        value = value.detach().cpu().numpy()
    return np.asarray(value)


@METRICS.register_module()
class HierarchicalIoUMetric(BaseMetric):
    """mIoU and mPA of taxonomy-node predictions, in three views.

    Inputs (per data sample, as mmseg's evaluator passes them):
    ``pred_sem_seg.data`` holds predicted **taxonomy node ids** ``(1, H, W)``
    (leaves, or coarser nodes for coarse outputs and flat models),
    ``gt_sem_seg.data`` the encoded gt labels of
    :mod:`mmhier.structures.label_encoding` (``-1`` ignored, a target - node
    id or node set - or target + ``num_targets`` for box pseudo labels) and
    the metainfo
    ``dataset_key`` (packed by ``PackTaxonomySegInputs``) names the sample's
    dataset in the taxonomy. Labels are decoded and checked with the
    dataset's shared :class:`~mmhier.structures.LabelSpace`. A sample whose
    ``taxonomy_hash`` (packed with it) is another encoding's (another tree
    or other node sets), or whose ``dataset_key`` is missing or unknown, is
    refused.

    **Datasets** (each in its own label space, as in the paper): the gt node
    of a pixel is one of its dataset's class nodes; its class is that
    class. A prediction goes up the tree to the dataset's class at or above
    it (:meth:`Taxonomy.node_to_dataset_class`): a ``lane marking`` predicted
    on a Cityscapes ``road`` (mapped to ``Driveable``) pixel is correct. A
    prediction with no evaluated class at or above it (another dataset's
    finer-only class, a coarser node, a class left out by ``class_subsets``)
    is always wrong: it goes to an extra "other" column, never to a real
    class. Keys ``<dataset>/aAcc``, ``<dataset>/mIoU``, ``<dataset>/mPA``.
    The same rule gives the paper's **flat-classifier protocol**: a flat
    model predicts any node some dataset labels, and its predictions are
    mapped up (or counted wrong) exactly like hierarchical ones.

    **Node sets** (classes mapped to ``nodes: [...]``, partial labels): in
    the dataset view a prediction at or below any node of the pixel's set is
    correct (it counts as the set's class); another prediction goes to its
    own class as above. In the level and classifier views the pixel is a
    label of the set's deepest common ancestor (``[car, truck]`` ->
    ``vehicle``), like any inner-node label.

    **Levels** ``k`` (over all evaluated datasets): pixels whose gt node is at
    level ``>= k`` compare the gt node's level-``k`` ancestor with the
    prediction's. A prediction shallower than ``k`` never matches (it goes to
    an extra column). Keys ``level<k>/aAcc``, ``level<k>/mIoU``,
    ``level<k>/mPA``; classes are all level-``k`` nodes.

    **Classifiers** ``j`` (over all evaluated datasets): pixels whose gt node
    is strictly below ``j`` and whose predicted path passes through ``j``
    (all parent decisions right) compare the child on the gt path with the
    child on the predicted path; a prediction stopping at ``j`` is wrong.
    Keys ``classifier/<node>/acc`` (pixel accuracy), ``/mIoU``, ``/mPA``
    over ``j``'s children, and ``/routing``: the share of gt pixels below
    ``j`` whose prediction reached ``j`` (at or below it). ``<node>`` is the
    classifier's log name (:mod:`mmhier.structures.log_names`, the same as in
    the loss's ``loss_<node>``: ``Traffic Sign (Front)`` ->
    ``traffic_sign_front``).

    Every key starts with the metric's prefix, ``hier/`` by default
    (``hier/city_like/mIoU``), so it can sit beside mmseg's ``IoUMetric`` in
    one evaluator.

    Scores follow mmseg's ``IoUMetric``: percentages rounded to 2 decimals;
    per-class IoU is ``nan`` only where a class is neither in the gt nor
    predicted, accuracy ``nan`` where absent from the gt; means skip ``nan``.
    Scores with no pixel are ``nan``.

    Per sample, :meth:`process` stores one small entry: the dataset key and
    the sparse **node confusion** of the image (the distinct
    ``(gt node, predicted node)`` pairs and their pixel counts, int64 on the
    CPU - typically tens to hundreds of pairs). One entry per sample lets
    mmengine's ``collect_results`` drop the samples a distributed sampler
    pads; every dataset, level and classifier matrix is a projection of the
    summed node confusion (:mod:`mmhier.evaluation.projections`).

    Args:
        taxonomy: Taxonomy YAML path or :class:`Taxonomy`.
        datasets: Dataset keys (or one key) to evaluate, in this order;
            samples of other datasets are skipped in every view. Default:
            every dataset seen, in taxonomy order.
        class_subsets: Per dataset key, the class **names** (the dataset's
            own names) to evaluate, e.g. the paper's 27 Cityscapes classes.
            Gt pixels of other classes are not counted; predictions of other
            classes are wrong. Default: all non-ignored classes. Affects the
            dataset view only.
        levels: Report per-level scores: ``True`` for levels
            ``1 .. num_levels``, ``False`` for none, or a level or sequence of
            levels.
        classifiers: Report per-classifier scores: ``True`` for all,
            ``False`` for none, or a classifier node name or sequence of them.
        count_box_labels: Count gt pixels that are box pseudo labels (e.g.
            GTSDB); ``False`` ignores them.
        output_file: Write the full report (per-class scores and confusion
            matrices included) to this JSON file; ``None``: do not write.
        output_dir: Write every prediction as a node-id PNG (16 bit,
            :func:`~mmhier.structures.save_node_map`) to
            ``<output_dir>/<dataset_key>/<image stem>.png`` (what mmseg's
            ``tools/test.py --out DIR`` asks for).
        format_only: Only write the predictions to ``output_dir``; compute no
            scores (test sets without labels). Needs ``output_dir``.
        keep_results: Accepted for mmseg's ``tools/test.py --out``, which
            sets it; node maps are always kept.
        collect_device: ``'cpu'`` or ``'gpu'``, for collecting results
            across ranks.
        prefix: Prefix of the metric keys (``'<prefix>/city_like/mIoU'``);
            default ``'hier'``.
        collect_dir: Temporary directory for collecting on ``'cpu'``.

    Raises:
        UnknownDatasetError: ``datasets`` or ``class_subsets`` name a dataset
            the taxonomy does not define.
        UnknownClassError: A class subset names an unknown or ignored class.
        UnknownNodeError: ``classifiers`` names no inner node.
        ValueError: ``levels`` holds a level outside ``1 .. num_levels``.

    The JSON report holds ``taxonomy`` (name, source, hashes),
    ``count_box_labels``, ``metrics`` (the returned dict) and ``datasets``,
    ``levels`` and ``classifiers``: per view its ``classes``, ``columns``
    (classes plus the extra columns), ``num_pixels``, summary scores,
    per-class ``IoU`` and ``Acc`` and the ``confusion_matrix`` (rows gt,
    columns ``columns``); datasets add ``class_ids``; classifiers add
    ``node``, ``key``, ``level``, ``num_below``, ``num_routed``, ``routing``
    and columns ``stopped here`` and ``not routed`` (``acc`` and ``IoU`` are
    over routed pixels). Undefined scores are ``null``.

    Example:
        >>> val_evaluator = dict(type='HierarchicalIoUMetric',
        ...                      taxonomy='taxonomies/cs_vistas_gtsdb.yaml',
        ...                      output_file='work_dirs/run/hierarchical.json')
    """

    default_prefix: Optional[str] = 'hier'

    def __init__(self,
                 taxonomy: Union[str, os.PathLike, Taxonomy],
                 datasets: Optional[Sequence[str]] = None,
                 class_subsets: Optional[Mapping[str, Sequence[str]]] = None,
                 levels: Union[bool, Sequence[int]] = True,
                 classifiers: Union[bool, Sequence[str]] = True,
                 count_box_labels: bool = True,
                 output_file: Optional[Union[str, os.PathLike]] = None,
                 output_dir: Optional[Union[str, os.PathLike]] = None,
                 format_only: bool = False,
                 keep_results: bool = False,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix,
                         collect_dir=collect_dir)
        self.taxonomy = load_taxonomy(taxonomy)
        tax = self.taxonomy
        if isinstance(datasets, str):
            datasets = [datasets]
        self.datasets = None if datasets is None else \
            tuple(tax.dataset(k).key for k in datasets)
        subsets = dict(class_subsets or {})
        for key in subsets:
            tax.dataset(key)
        self._classes = {k: self._evaluated_classes(k, subsets.get(k))
                         for k in tax.dataset_keys}
        if levels is True:
            levels = range(1, tax.num_levels + 1)
        elif isinstance(levels, int) and not isinstance(levels, bool):
            levels = [levels]
        self.levels = tuple(int(k) for k in (levels or ()))
        for k in self.levels:
            level_nodes(tax, k)
        if classifiers is True:
            classifiers = [c.node for c in tax.classifiers]
        elif isinstance(classifiers, str):
            classifiers = [classifiers]
        self.classifiers = tuple(tax.classifier(n) for n in (classifiers or ()))
        self._classifier_keys = self._unique_keys()
        self.count_box_labels = bool(count_box_labels)
        self.output_file = None if output_file is None else os.fspath(output_file)
        self.output_dir = None if output_dir is None else os.fspath(output_dir)
        self.format_only = bool(format_only)
        if self.format_only and self.output_dir is None:
            raise EvaluationError('HierarchicalIoUMetric(format_only=True) writes the '
                                  'predictions only, so it needs output_dir=...')
        if self.output_dir is not None:
            os.makedirs(self.output_dir, exist_ok=True)

    # ------------------------------------------------------------- set-up
    def _evaluated_classes(self, key: str, names: Optional[Sequence[str]]
                           ) -> tuple[list[int], list[str]]:
        """Ids and names of a dataset's evaluated classes, in id order."""
        classes = [c for c in self.taxonomy.dataset(key).classes if not c.ignored]
        if names is None:
            return [c.id for c in classes], [c.name for c in classes]
        if isinstance(names, str) or not names:
            raise EvaluationError(f'class_subsets[{key!r}] must be a non-empty list of '
                                  f'class names, got {names!r}')
        by_name = {c.name for c in classes}
        ignored = {c.name for c in self.taxonomy.dataset(key).classes if c.ignored}
        for name in names:
            if name in ignored and name not in by_name:
                raise UnknownClassError(f'class_subsets[{key!r}]: class {name!r} is '
                                        f'ignored in dataset {key!r}; it has no node '
                                        'to evaluate')
            if name not in by_name:
                hint = did_you_mean(name, sorted(by_name)) or 'names are case-sensitive'
                raise UnknownClassError(f'class_subsets[{key!r}]: dataset {key!r} of '
                                        f'taxonomy {self.taxonomy.name!r} has no class '
                                        f'{name!r}; {hint}')
        wanted = set(names)
        chosen = [c for c in classes if c.name in wanted]
        return [c.id for c in chosen], [c.name for c in chosen]

    def _unique_keys(self) -> dict[str, str]:
        """Metric-key part of each reported classifier (its log name)."""
        names = classifier_log_names(self.taxonomy)
        return {c.node: names[c.index] for c in self.classifiers}

    # ------------------------------------------------------------ process
    def process(self, data_batch: Any, data_samples: Sequence[Mapping]) -> None:
        """Count each sample's ``(gt node, predicted node)`` pairs.

        Args:
            data_batch: The batch from the dataloader (unused).
            data_samples: Model outputs as dicts (``SegDataSample.to_dict()``).

        Raises:
            SampleTaxonomyMismatchError: A sample's ``taxonomy_hash`` is
                another taxonomy tree's (the message names both).
            MissingDatasetKeyError: A sample lacks ``dataset_key`` (a
                :class:`MissingSampleFieldError` and a
                :class:`~mmhier.structures.SampleDatasetKeyError`).
            MissingSampleFieldError: A sample lacks ``gt_sem_seg`` or
                ``pred_sem_seg``.
            SampleDatasetKeyError: ``dataset_key`` is not in the taxonomy (an
                :class:`~mmhier.taxonomy.UnknownDatasetError`).
            LabelMismatchError: Gt values outside the label contract or nodes
                the sample's dataset does not label.
            InvalidPredictionError: Prediction shape differs from the gt's or
                holds values that are no node ids.
        """
        for sample in data_samples:
            if self.output_dir is not None:
                self._write_prediction(sample)
            if not self.format_only:
                self.results.append(self._count(sample))

    def _write_prediction(self, sample: Mapping) -> None:
        """Save one sample's predicted node ids under :attr:`output_dir`."""
        where = sample.get('img_path') or sample.get('seg_map_path') or 'sample'
        pred = self._field(sample, 'pred_sem_seg', where)
        stem = osp.splitext(osp.basename(str(where)))[0]
        key = str(sample.get('dataset_key') or 'unknown_dataset')
        save_node_map(osp.join(self.output_dir, key, f'{stem}.png'),
                      pred.reshape(pred.shape[-2:]))

    def _count(self, sample: Mapping) -> tuple[str, np.ndarray, np.ndarray]:
        tax, num_nodes = self.taxonomy, self.taxonomy.num_nodes
        where = sample_name(sample)
        check_sample_taxonomy(sample, tax, 'HierarchicalIoUMetric')
        key = sample_dataset_key(sample, tax.dataset_keys, 'HierarchicalIoUMetric',
                                 missing_error=MissingDatasetKeyError)
        if self.datasets is not None and key not in self.datasets:
            return key, np.zeros(0, np.int64), np.zeros(0, np.int64)
        space = label_space(tax, key)
        gt = self._field(sample, 'gt_sem_seg', where).astype(np.int64)
        pred = self._field(sample, 'pred_sem_seg', where)
        if gt.shape != pred.shape:
            raise InvalidPredictionError(
                f'{where}: pred_sem_seg has shape {tuple(pred.shape)} but gt_sem_seg '
                f'{tuple(gt.shape)}; predictions must be resized to the gt size')
        if not space.codec.in_range(gt):
            raise LabelMismatchError(
                f'{where}: gt_sem_seg values {gt.min()}..{gt.max()} break the label '
                f'contract ({space.codec.describe()}); did the pipeline load labels '
                'with LoadTaxonomyAnnotations?')
        targets, is_box = space.decode(gt.ravel())
        keep = targets >= 0
        if not self.count_box_labels:
            keep &= ~is_box
        targets, pred = targets[keep], pred.ravel()[keep].astype(np.int64)
        if pred.size and (pred.min() < 0 or pred.max() >= num_nodes):
            raise InvalidPredictionError(
                f'{where}: pred_sem_seg values {pred.min()}..{pred.max()} are no node '
                f'ids of taxonomy {tax.name!r} (0..{num_nodes - 1}); the segmentor must '
                'output taxonomy node ids (TaxonomyEncoderDecoder)')
        codes, counts = pair_counts(targets, pred, num_nodes)
        gt_targets = np.unique(codes // num_nodes)
        stray = gt_targets[~space.labelled[gt_targets]]
        if stray.size:
            names = ', '.join(repr(tax.target_name(t)) for t in stray.tolist())
            raise LabelMismatchError(
                f'{where}: gt_sem_seg holds node(s) {names} that dataset {key!r} does '
                f"not label; is the sample's dataset_key {key!r} right?")
        return key, codes, counts

    @staticmethod
    def _field(sample: Mapping, name: str, where: str) -> np.ndarray:
        if name not in sample:
            raise MissingSampleFieldError(f'{where}: no {name} in the data sample')
        value = sample[name]
        data = value['data'] if isinstance(value, Mapping) else getattr(value, 'data')
        return _to_numpy(data)

    # ------------------------------------------------------------ compute
    def compute_metrics(self, results: list) -> dict[str, float]:
        """Scores from the per-sample node confusions of all ranks.

        Args:
            results: ``(dataset_key, pair codes, pair counts)`` per sample.

        Returns:
            Flat dict of percentages (see the class docstring for the keys).
        """
        if self.format_only:
            print_log(f'HierarchicalIoUMetric: format_only, node maps written to '
                      f'{self.output_dir}', logger='current')
            return {}
        tax, num_nodes = self.taxonomy, self.taxonomy.num_nodes
        grouped: dict[str, tuple[list, list]] = defaultdict(lambda: ([], []))
        for key, codes, counts in results:
            grouped[key][0].append(codes)
            grouped[key][1].append(counts)
        keys = self.datasets if self.datasets is not None else \
            tuple(k for k in tax.dataset_keys if k in grouped)
        missing = [k for k in keys if k not in grouped]
        if missing:
            print_log(f'HierarchicalIoUMetric: no samples of dataset(s) {missing}; '
                      'their scores are nan', logger='current', level=logging.WARNING)
        report: dict[str, Any] = {
            'taxonomy': {'name': tax.name, 'source': tax.source,
                         'tree_hash': tax.tree_hash, 'content_hash': tax.content_hash},
            'count_box_labels': self.count_box_labels,
            'metrics': {}, 'datasets': {}, 'levels': {}, 'classifiers': {}}
        metrics: dict[str, float] = {}
        totals = {k: merge_pair_counts(*grouped.get(k, ([], []))) for k in keys}
        for key in keys:
            gt, pred = np.divmod(totals[key][0], num_nodes)
            ids, names = self._classes[key]
            cm = dataset_confusion(tax, key, ids, gt, pred, totals[key][1])
            entry = scores_entry(cm, names, names + ['other'])
            entry['class_ids'] = list(ids)
            report['datasets'][key] = entry
            metrics.update({f'{key}/{m}': rounded(entry[m]) for m in SUMMARY_KEYS})
        codes, counts = merge_pair_counts([totals[k][0] for k in keys],
                                          [totals[k][1] for k in keys])
        gt, pred = np.divmod(codes, num_nodes)
        gt = tax.target_lca[gt]  # node-set gts: what the label says for sure
        for level in self.levels:
            cm = level_confusion(tax, level, gt, pred, counts)
            names = [tax.nodes[n] for n in level_nodes(tax, level).tolist()]
            entry = scores_entry(cm, names, names + ['shallower'])
            report['levels'][str(level)] = entry
            metrics.update({f'level{level}/{m}': rounded(entry[m]) for m in SUMMARY_KEYS})
        if self.classifiers:
            matrices = classifier_confusions(tax, gt, pred, counts)
        for classifier in self.classifiers:
            entry = self._classifier_entry(classifier, matrices[classifier.index])
            report['classifiers'][classifier.node] = entry
            metrics.update({f"classifier/{entry['key']}/{m}": rounded(entry[m])
                            for m in ('acc', 'mIoU', 'mPA', 'routing')})
        report['metrics'] = {f'{self.prefix}/{k}' if self.prefix else k: v
                             for k, v in metrics.items()}
        log_report(report, logger='current')
        if self.output_file is not None:
            write_json(self.output_file, report)
            print_log(f'hierarchical metrics written to {self.output_file}',
                      logger='current')
        return metrics

    def _classifier_entry(self, classifier: Any, cm: np.ndarray) -> dict[str, Any]:
        """Scores of one classifier from its ``(K, K + 2)`` matrix."""
        k = classifier.num_outputs
        children = list(classifier.children)
        routed = cm[:, :k + 1]
        entry = scores_entry(routed, children, children + ['stopped here'])
        entry['acc'] = entry.pop('aAcc')
        below, reached = int(cm.sum()), int(routed.sum())
        entry.update({
            'node': classifier.node, 'key': self._classifier_keys[classifier.node],
            'level': classifier.level, 'num_below': below, 'num_routed': reached,
            'routing': percent(reached / below) if below else float('nan'),
            'columns': children + ['stopped here', 'not routed'],
            'confusion_matrix': cm.tolist()})
        return entry
