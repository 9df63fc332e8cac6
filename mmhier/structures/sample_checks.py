"""Which taxonomy encoded a data sample, and which dataset it belongs to.

``PackTaxonomySegInputs`` puts into every sample's metainfo

* ``dataset_key``: the sample's dataset in the taxonomy (its supervision
  rules and label space),
* ``taxonomy_hash``: the label hash of the taxonomy that encoded its labels
  (:attr:`Taxonomy.label_hash`: the tree hash, with the node sets when
  there are any; label values mean targets of that tree), and
* ``taxonomy_source``: that taxonomy's file, for messages
  (:func:`sample_provenance`).

The hierarchical loss and the metric call :func:`check_sample_taxonomy` and
:func:`sample_dataset_key` on every sample, so that labels of another tree or
of an unknown dataset are refused with a message naming the sample instead
of being trained or scored silently. Both read Python metainfo only (no
tensor), so they cost no device synchronisation.
"""
from __future__ import annotations

from typing import Mapping, Optional, Sequence

from mmhier.taxonomy import Taxonomy, TaxonomyMismatchError, UnknownDatasetError
from mmhier.taxonomy.scalars import did_you_mean

__all__ = ['DATASET_KEY', 'SampleDatasetKeyError', 'SampleTaxonomyMismatchError',
           'TAXONOMY_HASH', 'TAXONOMY_SOURCE', 'check_sample_taxonomy',
           'sample_dataset_key', 'sample_name', 'sample_provenance']

#: Metainfo key of a sample's dataset key.
DATASET_KEY = 'dataset_key'
#: Metainfo key of the label hash of the taxonomy that encoded a sample.
TAXONOMY_HASH = 'taxonomy_hash'
#: Metainfo key of that taxonomy's file (for messages).
TAXONOMY_SOURCE = 'taxonomy_source'

PACK_HINT = ('load it with an mmhier dataset (TaxonomySegDataset and its subclasses '
             'set dataset_key) and pack it with PackTaxonomySegInputs')


class SampleTaxonomyMismatchError(TaxonomyMismatchError):
    """A data sample's labels were encoded with another taxonomy tree (its
    ``taxonomy_hash`` differs from the consumer's): its node ids mean other
    nodes."""


class SampleDatasetKeyError(UnknownDatasetError):
    """A data sample has no ``dataset_key``, or one its consumer does not
    know (not a dataset of the taxonomy, or not one the loss trains with)."""


def sample_name(sample: Mapping, index: Optional[int] = None) -> str:
    """The sample's image (or label) path, for messages.

    Args:
        sample: The sample's metainfo (or a ``SegDataSample.to_dict()``).
        index: Position in the batch, used when the sample names no file.
    """
    name = sample.get('img_path') or sample.get('seg_map_path')
    if name:
        return str(name)
    return 'a data sample' if index is None else f'data sample {index} of the batch'


def sample_provenance(taxonomy: Taxonomy) -> dict[str, str]:
    """The metainfo entries that say which taxonomy encoded a sample.

    Returns:
        ``{'taxonomy_hash': label hash, 'taxonomy_source': file}``.
    """
    return {TAXONOMY_HASH: taxonomy.label_hash, TAXONOMY_SOURCE: taxonomy.source}


def check_sample_taxonomy(sample: Mapping, taxonomy: Taxonomy, consumer: str,
                          index: Optional[int] = None) -> None:
    """Refuse a sample encoded by another taxonomy tree (or other node sets).

    A sample without ``taxonomy_hash`` (not packed by
    ``PackTaxonomySegInputs``) cannot be checked and passes.

    Args:
        sample: The sample's metainfo (or a ``SegDataSample.to_dict()``).
        taxonomy: The consumer's taxonomy.
        consumer: Who checks (``'HierarchicalLoss'``), for the message.
        index: Position in the batch, for the message.

    Raises:
        SampleTaxonomyMismatchError: ``taxonomy_hash`` differs from
            ``taxonomy.label_hash``; the message names the sample and both
            taxonomies.
    """
    theirs = sample.get(TAXONOMY_HASH)
    if theirs is None or theirs == taxonomy.label_hash:
        return
    source = sample.get(TAXONOMY_SOURCE) or 'another taxonomy'
    if taxonomy.label_hash != taxonomy.tree_hash:
        raise SampleTaxonomyMismatchError(
            f'{sample_name(sample, index)}: its labels were encoded with taxonomy '
            f'{source} (label hash {str(theirs)[:12]}), but {consumer} uses taxonomy '
            f'{taxonomy.name!r} ({taxonomy.source}, label hash '
            f'{taxonomy.label_hash[:12]}): another tree or other node sets '
            f'({len(taxonomy.node_sets)} here), so its label values mean other targets. '
            'Build the datasets and the model (and metric) from the same taxonomy file.')
    raise SampleTaxonomyMismatchError(
        f'{sample_name(sample, index)}: its labels were encoded with taxonomy {source} '
        f'(tree hash {str(theirs)[:12]}), but {consumer} uses taxonomy '
        f'{taxonomy.name!r} ({taxonomy.source}, tree hash {taxonomy.tree_hash[:12]}), '
        'another tree (or the same tree with node sets): its label values mean other '
        'nodes. Build the datasets and the model (and metric) from the same taxonomy '
        'file.')


def sample_dataset_key(sample: Mapping, known: Sequence[str], consumer: str,
                       index: Optional[int] = None, hint: str = '',
                       missing_error: type = SampleDatasetKeyError) -> str:
    """The sample's ``dataset_key``, which must be one of ``known``.

    Args:
        sample: The sample's metainfo (or a ``SegDataSample.to_dict()``).
        known: The keys the consumer knows.
        consumer: Who asks (``'HierarchicalLoss'``), for the message.
        index: Position in the batch, for the message.
        hint: More ways to fix it, appended to the message.
        missing_error: Error type for a missing key (a subclass of
            :class:`SampleDatasetKeyError`).

    Returns:
        The key.

    Raises:
        SampleDatasetKeyError: The key is missing (``missing_error``) or not
            in ``known``; the message names the sample, the key and the known
            keys.
    """
    key = sample.get(DATASET_KEY)
    listed = ', '.join(repr(k) for k in known) or 'none'
    more = f'; {hint}' if hint else ''
    if key is None:
        raise missing_error(
            f'{sample_name(sample, index)}: no dataset_key in the data sample, so '
            f'{consumer} cannot tell which dataset it belongs to (known: {listed}); '
            f'{PACK_HINT}{more}')
    if not isinstance(key, str) or key not in known:
        close = did_you_mean(key, known)
        raise SampleDatasetKeyError(
            f'{sample_name(sample, index)}: {consumer} knows no dataset {key!r} (the '
            f"sample's dataset_key; known: {listed}){'; ' + close if close else ''}; fix "
            f"the dataset's dataset_key or add the dataset to the taxonomy{more}")
    return key
