"""Several datasets with different label spaces behind one index range.

Terms used here and in :mod:`mmhier.datasets.samplers`:

- **sub-dataset**: one of the concatenated datasets (e.g. Cityscapes).
- **global index**: an index into the concatenation. Sub-dataset ``i`` owns
  the global indices ``offsets[i] <= idx < cumulative_sizes[i]``, where
  ``offsets[i]`` is the total size of the sub-datasets before it.
- **local index**: the index of the same sample inside its sub-dataset.
- **dataset key**: ``metainfo['dataset_key']`` of a sub-dataset (the key of
  its entry in the taxonomy file, for a :class:`TaxonomySegDataset`).
"""
from __future__ import annotations

import bisect
import copy
from typing import Callable, List, Optional, Sequence, Tuple, Union

from mmengine.dataset import BaseDataset, Compose, ConcatDataset
from mmseg.registry import DATASETS

from mmhier.datasets.dataset_meta import InstanceMetaInfo
from mmhier.datasets.errors import DatasetError
from mmhier.datasets.taxonomy_dataset import TaxonomySegDataset


@DATASETS.register_module()
class MultiTaxonomyDataset(ConcatDataset):
    """Concatenation of datasets whose meta information may differ.

    mmengine's :class:`~mmengine.dataset.ConcatDataset` refuses datasets whose
    ``metainfo`` differs, but datasets trained through one taxonomy differ by
    design: each has its own ``dataset_key``, ``annotation`` type (masks or
    boxes) and dataset classes (Meletis & Dubbelman, IV 2018: Cityscapes,
    Mapillary Vistas and GTSDB in one network). This wrapper skips that check
    and keeps every sub-dataset's key, so that samplers (e.g.
    :class:`~mmhier.datasets.samplers.RatioBatchSampler`) and evaluators can
    tell the sub-datasets apart.

    ``metainfo`` is the first sub-dataset's plus ``dataset_keys``, the list of
    all sub-datasets' keys (``None`` for a sub-dataset without a
    ``dataset_key``); for taxonomy datasets it holds ``classes`` (node
    names) and ``palette`` (node colours) indexed by node id, the label
    space of every sub-dataset's labels and of the model's predictions, and
    ``METAINFO`` of an instance holds them too (MMSeg's tools read either).
    Taxonomy sub-datasets must therefore share one taxonomy tree.

    Each sample keeps its own sub-dataset's pipeline and data info, unless
    ``pipeline`` is given: then it is every sub-dataset's pipeline. That is
    the test pipeline MMSeg's tools expect at
    ``test_dataloader.dataset.pipeline`` (the ``MMSegInferencer`` builds its
    pipeline from it; ``tools/test.py --tta`` replaces it with the config's
    ``tta_pipeline``). Its ``dict(type='LoadAnnotations')`` loads each taxonomy
    dataset's own labels, pixel or box (see
    :mod:`mmhier.datasets.label_steps`).

    Example:
        >>> dataset = dict(
        ...     type='MultiTaxonomyDataset',
        ...     datasets=[cityscapes_train, vistas_train, gtsdb_train])
        >>> test_dataset = dict(
        ...     type='MultiTaxonomyDataset',
        ...     datasets=[cityscapes_val, vistas_val, gtsdb_val],
        ...     pipeline=[dict(type='LoadImageFromFile'),
        ...               dict(type='LoadAnnotations'),
        ...               dict(type='PackTaxonomySegInputs')])

    Args:
        datasets: Sub-datasets, as configs (built with mmseg's ``DATASETS``)
            or built :class:`~mmengine.dataset.BaseDataset` instances.
        pipeline: The pipeline of every sub-dataset (replacing theirs);
            ``None``: each keeps its own.
        lazy_init: Do not load the sub-datasets' annotations now; they are
            loaded by :meth:`full_init` (which mmengine's ``Runner`` calls
            when it builds a dataloader) or on first use.

    Raises:
        ValueError: ``datasets`` is not a non-empty list.
        TypeError: An element is neither a config dict nor a ``BaseDataset``;
            ``pipeline`` is not a list.
        DatasetError: Taxonomy sub-datasets of different taxonomy trees; on
            :meth:`full_init`, a sub-dataset has no samples.
    """

    METAINFO = InstanceMetaInfo()

    def __init__(self,
                 datasets: Sequence[Union[BaseDataset, dict]],
                 pipeline: Optional[Sequence[Union[dict, Callable]]] = None,
                 lazy_init: bool = False) -> None:
        if isinstance(datasets, (str, bytes, dict)) or not isinstance(
                datasets, Sequence) or len(datasets) == 0:
            raise ValueError(
                'MultiTaxonomyDataset needs a non-empty list of dataset '
                f'configs or datasets, got {datasets!r}; write '
                'datasets=[dict(type=...), ...]')
        if pipeline is not None and (isinstance(pipeline, (str, bytes, dict))
                                     or not isinstance(pipeline, Sequence)):
            raise TypeError('MultiTaxonomyDataset(pipeline=...) must be a list of '
                            f'transforms, got {pipeline!r}')
        built = []
        for dataset in datasets:
            if isinstance(dataset, dict):
                if pipeline is not None:
                    dataset = dict(dataset, pipeline=list(pipeline))
                dataset = DATASETS.build(dataset)
            elif pipeline is not None:
                _replace_pipeline(dataset, pipeline)
            built.append(dataset)
        _check_one_taxonomy(built)
        metas = [d.metainfo if isinstance(d, BaseDataset) else {}
                 for d in built]
        # Set before ConcatDataset.__init__, whose full_init may report an
        # empty sub-dataset by its key.
        self._dataset_keys: List[Optional[str]] = [
            m.get('dataset_key') for m in metas]
        # ConcatDataset type-checks the elements; ignoring every metainfo key
        # turns off its equality check, which is what this class is for.
        super().__init__(built, lazy_init=lazy_init,
                         ignore_keys=sorted(set().union(*metas)))

    @property
    def metainfo(self) -> dict:
        """The first sub-dataset's meta information plus ``dataset_keys``.

        Returns:
            A copy; changing it changes nothing in the dataset.
        """
        meta = copy.deepcopy(self._metainfo)
        meta['dataset_keys'] = list(self._dataset_keys)
        return meta

    @property
    def dataset_keys(self) -> List[Optional[str]]:
        """Each sub-dataset's ``metainfo['dataset_key']``, in order."""
        return list(self._dataset_keys)

    @property
    def dataset_sizes(self) -> List[int]:
        """The number of samples of each sub-dataset, in order."""
        self.full_init()
        return [len(d) for d in self.datasets]

    def full_init(self) -> None:
        """Loads every sub-dataset's annotations and computes the offsets.

        Raises:
            DatasetError: A sub-dataset has no samples.
        """
        if self._fully_initialized:
            return
        for i, dataset in enumerate(self.datasets):
            dataset.full_init()
            if len(dataset) == 0:
                raise DatasetError(
                    f'sub-dataset {i} ({self._describe(i)}) of '
                    'MultiTaxonomyDataset has no samples; check its '
                    'data_root, data_prefix, ann_file and suffixes, or '
                    'remove it from `datasets`')
        super().full_init()

    def dataset_index(self, idx: int) -> int:
        """The sub-dataset that a global index belongs to.

        Args:
            idx: Global index; negative values count from the end.

        Returns:
            The position of the sub-dataset in :attr:`datasets`.

        Raises:
            IndexError: ``idx`` is outside ``[-len(self), len(self))``.
        """
        return self.locate(idx)[0]

    def locate(self, idx: int) -> Tuple[int, int]:
        """The sub-dataset and local index of a global index.

        Args:
            idx: Global index; negative values count from the end.

        Returns:
            ``(dataset index, local index)``.

        Raises:
            IndexError: ``idx`` is outside ``[-len(self), len(self))``.
        """
        total = len(self)
        if not -total <= idx < total:
            raise IndexError(
                f'global index {idx} is out of range for MultiTaxonomyDataset '
                f'of {total} samples (sub-dataset sizes {self.dataset_sizes})')
        if idx < 0:
            idx += total
        dataset_idx = bisect.bisect_right(self.cumulative_sizes, idx)
        offset = self.cumulative_sizes[dataset_idx - 1] if dataset_idx else 0
        return dataset_idx, idx - offset

    def _get_ori_dataset_idx(self, idx: int) -> Tuple[int, int]:
        """ConcatDataset's lookup for ``__getitem__``, with range checking."""
        return self.locate(idx)

    def _describe(self, i: int) -> str:
        key = self._dataset_keys[i]
        name = type(self.datasets[i]).__name__
        return f"{name}, dataset_key '{key}'" if key is not None else name


def _replace_pipeline(dataset: object, pipeline: Sequence[Union[dict, Callable]]) -> None:
    """Give a built sub-dataset ``pipeline`` (as its own constructor would)."""
    if isinstance(dataset, TaxonomySegDataset):
        dataset.set_pipeline(pipeline)
    elif isinstance(dataset, BaseDataset):
        dataset.pipeline = Compose(list(pipeline))


def _check_one_taxonomy(datasets: Sequence[object]) -> None:
    """Raise if taxonomy sub-datasets label nodes of different trees.

    Raises:
        DatasetError: Listing every sub-dataset whose tree differs from the
            first taxonomy sub-dataset's.
    """
    first: Optional[Tuple[int, TaxonomySegDataset]] = None
    problems = []
    for i, dataset in enumerate(datasets):
        if not isinstance(dataset, TaxonomySegDataset):
            continue
        if first is None:
            first = (i, dataset)
        elif dataset.taxonomy.label_hash != first[1].taxonomy.label_hash:
            problems.append(f"sub-dataset {i} (dataset_key '{dataset.dataset_key}') uses "
                            f'taxonomy {dataset.taxonomy.source}')
    if problems:
        i, dataset = first
        raise DatasetError(
            f'MultiTaxonomyDataset: {"; ".join(problems)}, but sub-dataset {i} '
            f"(dataset_key '{dataset.dataset_key}') uses {dataset.taxonomy.source}, "
            'another tree or other node sets; one model predicts the nodes of one '
            'taxonomy and reads its labels one way: give every '
            'sub-dataset the same taxonomy file')
