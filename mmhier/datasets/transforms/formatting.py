"""Packing samples with the metadata the hierarchical loss and metric need."""
from __future__ import annotations

from typing import Sequence

from mmseg.datasets.transforms import PackSegInputs
from mmseg.registry import TRANSFORMS

from mmhier.structures.sample_checks import (DATASET_KEY, TAXONOMY_HASH, TAXONOMY_SOURCE,
                                             sample_provenance)
from mmhier.taxonomy import load_taxonomy

DEFAULT_META_KEYS = ('img_path', 'seg_map_path', 'ori_shape', 'img_shape', 'pad_shape',
                     'scale_factor', 'flip', 'flip_direction', 'reduce_zero_label',
                     DATASET_KEY, 'annotation', TAXONOMY_HASH, TAXONOMY_SOURCE)


@TRANSFORMS.register_module()
class PackTaxonomySegInputs(PackSegInputs):
    """``PackSegInputs`` that also packs where the sample's labels come from.

    Besides mmseg's keys, the metainfo holds ``dataset_key`` (the sample's
    dataset in the taxonomy), ``annotation`` (``'pixel'`` or ``'box'``),
    ``taxonomy_hash`` (the label hash - tree and node sets - of the taxonomy
    that encoded the labels)
    and ``taxonomy_source`` (its file), see
    :mod:`mmhier.structures.sample_checks`. The hierarchical loss applies
    the dataset's supervision rules and, like the metric, refuses samples of
    another taxonomy tree or of an unknown dataset.

    ``taxonomy_hash`` and ``taxonomy_source`` come from the sample's
    ``taxonomy`` (a :class:`~mmhier.taxonomy.Taxonomy` or file, which
    :class:`~mmhier.datasets.TaxonomySegDataset` puts into every sample);
    samples without one get neither.

    Args:
        meta_keys: Keys packed into the sample's metainfo.

    Raises:
        TaxonomyError: The sample names a taxonomy file that cannot be loaded.
    """

    def __init__(self, meta_keys: Sequence[str] = DEFAULT_META_KEYS):
        super().__init__(meta_keys=tuple(meta_keys))

    def transform(self, results: dict) -> dict:
        """Pack the sample, with the taxonomy's hash and file when it has one.

        Args:
            results: The sample's results dict.

        Returns:
            ``{'inputs': ..., 'data_samples': SegDataSample}``.
        """
        taxonomy = results.get('taxonomy')
        if taxonomy is not None:
            results.update(sample_provenance(load_taxonomy(taxonomy)))
        return super().transform(results)
