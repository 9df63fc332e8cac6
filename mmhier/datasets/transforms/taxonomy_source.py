"""Which taxonomy and dataset a sample-level transform works for."""
from __future__ import annotations

import os
from typing import Optional, Union

from mmhier.taxonomy import Taxonomy, load_taxonomy


def taxonomy_and_key(transform: str, taxonomy: Union[None, str, os.PathLike, Taxonomy],
                     dataset_key: Optional[str], results: dict) -> tuple[Taxonomy, str]:
    """The transform's own ``taxonomy`` / ``dataset_key``, else the sample's.

    :class:`~mmhier.datasets.TaxonomySegDataset` puts ``taxonomy`` and
    ``dataset_key`` into every sample, so pipelines need not repeat them.

    Args:
        transform: The transform's name, for the message.
        taxonomy: Taxonomy given to the transform, or ``None``.
        dataset_key: Dataset key given to the transform, or ``None``.
        results: The sample's results dict.

    Returns:
        The loaded taxonomy and the dataset key.

    Raises:
        ValueError: Neither the transform nor the sample names them.
    """
    taxonomy = taxonomy if taxonomy is not None else results.get('taxonomy')
    dataset_key = dataset_key if dataset_key is not None else results.get('dataset_key')
    if taxonomy is None or dataset_key is None:
        raise ValueError(f'{transform} needs a taxonomy and a dataset key: use a '
                         'TaxonomySegDataset subclass (it puts them into each sample) '
                         'or pass taxonomy=... and dataset_key=... to the transform')
    return load_taxonomy(taxonomy), dataset_key
