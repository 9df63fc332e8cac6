"""HierarchicalLoss: the registered module around
:func:`~mmhier.models.losses.functional.hierarchical_cross_entropy`."""
from __future__ import annotations

import os
from typing import Mapping, Optional, Sequence, Union

from mmengine.logging import MessageHub
from mmseg.registry import MODELS
from torch import Tensor, nn

from mmhier.models.losses.functional import hierarchical_cross_entropy
from mmhier.models.tables import LossTables
from mmhier.structures import (check_sample_taxonomy, classifier_log_names,
                               sample_dataset_key)
from mmhier.taxonomy import Taxonomy, load_taxonomy

#: What :class:`HierarchicalLoss` does with a sample whose ``dataset_key`` is
#: missing or not one of its datasets (see ``unknown_dataset``).
UNKNOWN_DATASET_MODES = ('error', 'train_all')
_FIX_HINT = ("or configure HierarchicalLoss(default_dataset='<key>') to apply one "
             "dataset's rules to such samples, or unknown_dataset='train_all' to train "
             'every classifier their labels reach')


@MODELS.register_module()
class HierarchicalLoss(nn.Module):
    """Sum over classifiers of ``lambda_j * L_j`` (Meletis & Dubbelman, Eq. 1).

    Returns a dict with one weighted loss per classifier, ``loss_<node>``,
    (MMEngine sums every key containing ``loss``) and its pixel accuracy,
    ``acc_<node>`` (in percent; 0 when the classifier had no pixels).
    ``<node>`` is the classifier's log name
    (:func:`~mmhier.structures.classifier_log_names`, the metric's keys too).

    Every sample's metainfo selects its supervision rules
    (:meth:`sample_rows`): its ``dataset_key`` must be one of
    ``dataset_keys``, and its ``taxonomy_hash`` (packed by
    ``PackTaxonomySegInputs``) must be this taxonomy's tree hash. A sample of
    another tree is always refused; a missing or unknown key is refused
    unless the config asks for a default (``unknown_dataset='train_all'`` or
    ``default_dataset='<key>'``).

    Args:
        taxonomy: Taxonomy YAML path or :class:`Taxonomy`.
        dataset_keys: Datasets whose supervision rules apply (default: all
            of the taxonomy's datasets).
        level_weights: ``lambda`` per classifier level, level 1 first; the
            last value repeats for deeper levels. Default: 1.0, 0.1, 0.1, ...
        node_weights: ``lambda`` overrides by classifier node name.
        refine_boxes: Online refinement of box pseudo labels by the parent
            classifiers' decisions.
        refine_start_iter: Use box pseudo labels unrefined (whole shape
            masks) before this training iteration (read from mmengine's
            message hub), so that a deep classifier gets examples before its
            ancestors have learnt to find its objects; 0 (default) refines
            from the start, as the paper does.
        loss_weight: Global factor on all classifier losses.
        loss_name: Name of the loss module (mmseg convention).
        unknown_dataset: What to do with a sample whose ``dataset_key`` is
            missing or not in ``dataset_keys``: ``'error'`` (default) raises
            :class:`~mmhier.structures.SampleDatasetKeyError`;
            ``'train_all'`` trains every classifier its labels reach (no
            supervision rule).
        default_dataset: Instead, apply this dataset's supervision rules to
            such samples (a key of the taxonomy). Cannot be combined with
            ``unknown_dataset='train_all'``.

    Raises:
        UnknownDatasetError: ``dataset_keys`` or ``default_dataset`` name a
            dataset the taxonomy does not define.
        ValueError: Unknown ``unknown_dataset``, or both defaults given.
    """

    def __init__(self, taxonomy: Union[str, os.PathLike, Taxonomy],
                 dataset_keys: Optional[Sequence[str]] = None,
                 level_weights: Sequence[float] = (1.0, 0.1),
                 node_weights: Optional[dict] = None, refine_boxes: bool = True,
                 refine_start_iter: int = 0, loss_weight: float = 1.0,
                 loss_name: str = 'loss_hier', unknown_dataset: str = 'error',
                 default_dataset: Optional[str] = None):
        super().__init__()
        if unknown_dataset not in UNKNOWN_DATASET_MODES:
            raise ValueError(f'HierarchicalLoss(unknown_dataset={unknown_dataset!r}): use '
                             f"one of {', '.join(map(repr, UNKNOWN_DATASET_MODES))}, or "
                             "default_dataset='<key>' for one dataset's rules")
        if default_dataset is not None and unknown_dataset == 'train_all':
            raise ValueError(f'HierarchicalLoss: default_dataset={default_dataset!r} and '
                             "unknown_dataset='train_all' both say what samples of "
                             'unknown datasets train; give one of them')
        self.taxonomy = load_taxonomy(taxonomy)
        self.tables = LossTables(self.taxonomy, dataset_keys, level_weights, node_weights,
                                 fallback=default_dataset)
        self.log_names = classifier_log_names(self.taxonomy)
        self.unknown_dataset = unknown_dataset
        self.default_dataset = default_dataset
        self.refine_boxes = refine_boxes
        self.refine_start_iter = refine_start_iter
        self.loss_weight = loss_weight
        self._loss_name = loss_name
        self._rows = {k: i for i, k in enumerate(self.tables.dataset_keys)}
        default = default_dataset is not None or unknown_dataset == 'train_all'
        #: Row of ``tables.trains`` for samples of unknown datasets, ``None``
        #: when they are refused.
        self.fallback_row: Optional[int] = len(self._rows) if default else None

    def sample_rows(self, samples: Sequence[Mapping]) -> list[int]:
        """Check every sample and return its row of the supervision table.

        Reads Python metainfo only (no tensor, no device synchronisation).

        Args:
            samples: Each sample's metainfo (``SegDataSample.metainfo``).

        Returns:
            One row index per sample: its dataset's, or :attr:`fallback_row`.

        Raises:
            SampleTaxonomyMismatchError: A sample's ``taxonomy_hash`` is
                another tree's (the message names the sample and both
                taxonomies).
            SampleDatasetKeyError: A sample's ``dataset_key`` is missing or
                not in ``dataset_keys`` and no default is configured (the
                message names the sample, the key and the known keys).
        """
        rows = []
        for i, sample in enumerate(samples):
            check_sample_taxonomy(sample, self.taxonomy, 'HierarchicalLoss', i)
            key = sample.get('dataset_key')
            row = self._rows.get(key) if isinstance(key, str) else None
            if row is None:
                if self.fallback_row is None:
                    sample_dataset_key(sample, self.tables.dataset_keys,
                                       'HierarchicalLoss', i, hint=_FIX_HINT)
                row = self.fallback_row
            rows.append(row)
        return rows

    def dataset_index(self, keys: Sequence[Optional[str]]) -> list[int]:
        """Row of each dataset key in the supervision table
        (:meth:`sample_rows` of samples with only a ``dataset_key``).

        Raises:
            SampleDatasetKeyError: A key is ``None`` or unknown and no
                default is configured.
        """
        return self.sample_rows([{'dataset_key': key} for key in keys])

    def forward(self, logits: Sequence[Tensor], labels: Tensor,
                dataset_index: Tensor) -> dict[str, Tensor]:
        """Weighted per-classifier losses and accuracies.

        Args:
            logits: Per-classifier logits at label resolution.
            labels: Encoded labels.
            dataset_index: Row per sample (see :meth:`sample_rows`).

        Returns:
            ``{'loss_<node>': ..., 'acc_<node>': ...}`` for every classifier.

        Shape:
            - logits[j]: ``(N, K_j, H, W)``
            - labels: ``(N, H, W)``
            - dataset_index: ``(N,)``
        """
        result = hierarchical_cross_entropy(logits, labels, dataset_index, self.tables,
                                            self.refining())
        weighted = result.loss * self.tables.weights * self.loss_weight
        accuracy = 100.0 * result.correct / result.counted.clamp(min=1)
        out: dict[str, Tensor] = {}
        for j, name in enumerate(self.log_names):
            out[f'loss_{name}'] = weighted[j]
            out[f'acc_{name}'] = accuracy[j].detach()
        return out

    def refining(self) -> bool:
        """Whether box pseudo labels are refined at the current iteration."""
        if not self.refine_boxes or self.refine_start_iter <= 0:
            return self.refine_boxes
        return MessageHub.get_current_instance().get_info('iter', 0) >= \
            self.refine_start_iter

    @property
    def loss_name(self) -> str:
        return self._loss_name

    def extra_repr(self) -> str:
        return (f'taxonomy={self.taxonomy.name!r}, classifiers='
                f'{self.taxonomy.num_classifiers}, refine_boxes={self.refine_boxes}, '
                f'refine_start_iter={self.refine_start_iter}, '
                f'loss_weight={self.loss_weight}, '
                f'unknown_dataset={self.unknown_dataset!r}, '
                f'default_dataset={self.default_dataset!r}')
