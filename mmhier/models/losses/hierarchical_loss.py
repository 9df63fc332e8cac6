"""HierarchicalLoss: the registered module around
:func:`~mmhier.models.losses.functional.hierarchical_cross_entropy`."""
from __future__ import annotations

import os
import re
from typing import Optional, Sequence, Union

from mmengine.logging import MessageHub
from mmseg.registry import MODELS
from torch import Tensor, nn

from mmhier.models.losses.functional import hierarchical_cross_entropy
from mmhier.models.tables import LossTables
from mmhier.taxonomy import Taxonomy, load_taxonomy


def classifier_slugs(taxonomy: Taxonomy) -> list[str]:
    """Log-friendly unique names of the classifiers (``'Traffic Sign (Front)'``
    -> ``'traffic_sign_front'``)."""
    slugs: list[str] = []
    for c in taxonomy.classifiers:
        slug = re.sub(r'[^0-9a-z]+', '_', c.node.lower()).strip('_') or 'node'
        slugs.append(f'{slug}_{c.index}' if slug in slugs else slug)
    return slugs


@MODELS.register_module()
class HierarchicalLoss(nn.Module):
    """Sum over classifiers of ``lambda_j * L_j`` (Meletis & Dubbelman, Eq. 1).

    Returns a dict with one weighted loss per classifier, ``loss_<node>``,
    (MMEngine sums every key containing ``loss``) and its pixel accuracy,
    ``acc_<node>`` (in percent; 0 when the classifier had no pixels).

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
    """

    def __init__(self, taxonomy: Union[str, os.PathLike, Taxonomy],
                 dataset_keys: Optional[Sequence[str]] = None,
                 level_weights: Sequence[float] = (1.0, 0.1),
                 node_weights: Optional[dict] = None, refine_boxes: bool = True,
                 refine_start_iter: int = 0, loss_weight: float = 1.0,
                 loss_name: str = 'loss_hier'):
        super().__init__()
        self.taxonomy = load_taxonomy(taxonomy)
        self.tables = LossTables(self.taxonomy, dataset_keys, level_weights, node_weights)
        self.slugs = classifier_slugs(self.taxonomy)
        self.refine_boxes = refine_boxes
        self.refine_start_iter = refine_start_iter
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def dataset_index(self, keys: Sequence[Optional[str]]) -> list[int]:
        """Row of each dataset key in the supervision table (unknown or
        ``None``: the last row, which trains everything)."""
        rows = {k: i for i, k in enumerate(self.tables.dataset_keys)}
        return [rows.get(k, len(rows)) for k in keys]

    def forward(self, logits: Sequence[Tensor], labels: Tensor,
                dataset_index: Tensor) -> dict[str, Tensor]:
        """Weighted per-classifier losses and accuracies.

        Args:
            logits: Per-classifier logits at label resolution.
            labels: Encoded labels.
            dataset_index: Row per sample (see :meth:`dataset_index`).

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
        for j, slug in enumerate(self.slugs):
            out[f'loss_{slug}'] = weighted[j]
            out[f'acc_{slug}'] = accuracy[j].detach()
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
                f'loss_weight={self.loss_weight}')
