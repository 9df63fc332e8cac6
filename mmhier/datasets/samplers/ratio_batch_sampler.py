"""Batches with a fixed number of samples from each concatenated dataset.

Meletis & Dubbelman (IV 2018) train on Cityscapes, Mapillary Vistas and GTSDB
with batches of 4 = 1 : 2 : 1 images. :class:`RatioBatchSampler` builds such
batches from a concatenated dataset (:class:`MultiTaxonomyDataset`, or any
dataset with ``datasets`` and ``cumulative_sizes``).

Terms (``W`` ranks, ``rank`` in ``0..W-1``, sub-dataset ``i`` of size
``n_i`` with ratio ``r_i``):

- **step**: one training iteration; every rank yields one batch per step.
- **share** of sub-dataset ``i`` at a step: the ``r_i * W`` samples that the
  ``W`` batches of the step take from it. Rank ``rank`` gets entries
  ``rank, rank + W, ...`` of the share, as ``DefaultSampler`` + ``BatchSampler``
  give rank-strided indices.
- **stream** of sub-dataset ``i``: in each epoch, a sequence of **passes**,
  each pass a permutation of ``range(n_i)`` (the identity when the sampler
  does not shuffle). The shares of consecutive steps are consecutive pieces
  of the stream. A pass that ends inside a share is followed by a fresh
  permutation whose samples already in that share are moved to its end.
- **epoch dataset**: the sub-dataset that defines the epoch; the epoch ends
  when its first ``passes_per_epoch`` passes cannot fill another share.
"""
from __future__ import annotations

import numbers
from typing import Iterator, List, Optional, Sequence, Union

import numpy as np
from mmengine.dist import get_dist_info, sync_random_seed
from mmseg.registry import DATA_SAMPLERS
from torch.utils.data import Sampler

from mmhier.datasets.errors import DatasetError


class SamplerConfigError(ValueError):
    """A batch sampler setting does not fit the dataset, batch size or ranks."""


@DATA_SAMPLERS.register_module()
class RatioBatchSampler(Sampler[List[int]]):
    """Every batch holds ``ratios[i]`` samples of sub-dataset ``i``.

    Use it as the dataloader's ``batch_sampler`` next to a ``DefaultSampler``::

        train_dataloader = dict(
            batch_size=4,                       # per GPU; == sum(ratios)
            sampler=dict(type='DefaultSampler', shuffle=True),
            batch_sampler=dict(type='RatioBatchSampler', ratios=[1, 2, 1],
                               epoch_dataset='mapillary_vistas'),
            dataset=dict(type='MultiTaxonomyDataset',
                         datasets=[cityscapes, vistas, gtsdb]))

    mmengine's ``Runner`` builds the batch sampler with the built ``sampler``
    and the per-GPU ``batch_size``, and its loops and ``DistSamplerSeedHook``
    call ``batch_sampler.sampler.set_epoch``. So this class takes the dataset,
    the seed, ``shuffle`` and the epoch from that sampler and does not use the
    sampler's own index order. This keeps the standard config keys and works
    with ``EpochBasedTrainLoop`` and with ``IterBasedTrainLoop`` (which
    restarts a finite dataloader at the end of each epoch and then calls
    ``set_epoch``). ``InfiniteSampler`` does not track epochs and is refused.

    ``IterBasedTrainLoop`` sleeps 2 seconds at every epoch transition. With
    small datasets that is a large share of training (the demo's 60-image
    Cityscapes-like set at 3 images per step: an epoch of 20 steps, 100 s of
    pauses in 1,000 steps); ``passes_per_epoch`` makes an epoch span that many
    passes over the epoch dataset.

    A batch lists ``ratios[0]`` global indices of sub-dataset 0, then
    ``ratios[1]`` of sub-dataset 1, and so on.

    Guarantees, per epoch, with ``W`` ranks, ``P = passes_per_epoch`` and
    ``T = len(self) = P * n_e // (r_e * W)`` for epoch dataset ``e``:

    1. Every rank yields exactly ``T`` batches, each with exactly ``r_i``
       samples of every sub-dataset ``i``.
    2. Epoch dataset: every sample is used ``P`` times, once per pass (with
       ``P = 1``: no sample is used twice, on one rank or across ranks),
       except the last ``P * n_e - T * r_e * W`` (fewer than ``r_e * W``)
       of the last pass, used ``P - 1`` times: a different set every epoch
       when shuffling.
    3. Any other sub-dataset ``i``: over all ranks and steps of the epoch,
       every sample is used ``q`` or ``q + 1`` times, ``q = T * r_i * W //
       n_i`` (each pass uses each sample once). A sample is used again, on
       the same rank or another, only in a later pass. If ``r_i * W <= n_i``
       the samples of one step are distinct across all ranks; otherwise the
       sub-dataset is smaller than its share of one step and a step repeats
       samples necessarily.
    4. Batches depend only on the seed, the epoch, the rank, ``W``, the
       sub-dataset sizes and the ratios: with a seed shared by all ranks,
       each rank computes the same streams and takes its own entries.
       Streams restart every epoch with permutations seeded by
       ``(seed, epoch, i)``; without shuffling they are ``0, 1, ..., n_i - 1``
       repeated, and every epoch is the same.

    Not guaranteed: once a sub-dataset cycles, a rank may see one of its
    samples twice in an epoch (in different passes), and two ranks may see
    the same sample at different steps (in different passes).

    Args:
        sampler: The built sampler, e.g. ``DefaultSampler``: it must have
            ``dataset``, ``epoch`` and ``set_epoch``; its ``seed`` and
            ``shuffle`` are used when present (``shuffle`` defaults to True).
        batch_size: Samples per batch on one rank; must equal
            ``sum(ratios)``.
        ratios: Samples per batch of each sub-dataset, positive integers, one
            per sub-dataset, in the dataset's order.
        epoch_dataset: The sub-dataset that defines the epoch, by position in
            the dataset list or by ``dataset_key``.
        passes_per_epoch: Passes over the epoch dataset in one epoch (a
            positive integer): long epochs for small datasets.
        seed: Shuffling seed, the same on all ranks. Defaults to the
            sampler's ``seed`` (the runner's seed or one synchronised by
            :func:`mmengine.dist.sync_random_seed`), else a synchronised one.

    Raises:
        SamplerConfigError: Bad ratios, batch size, epoch dataset, passes per
            epoch, sampler or dataset type, or an epoch dataset too small for
            one step.
        DatasetError: A sub-dataset has no samples.
    """

    def __init__(self,
                 sampler: Sampler,
                 batch_size: int,
                 ratios: Sequence[int],
                 epoch_dataset: Union[int, str],
                 seed: Optional[int] = None,
                 passes_per_epoch: int = 1) -> None:
        _check_sampler(sampler)
        if not _is_integer(passes_per_epoch) or passes_per_epoch < 1:
            raise SamplerConfigError(
                'RatioBatchSampler passes_per_epoch must be a positive '
                f'integer, got {passes_per_epoch!r}; e.g. passes_per_epoch=10 '
                'for epochs of 10 passes over the epoch dataset')
        self.passes_per_epoch = int(passes_per_epoch)
        self.sampler = sampler
        self.dataset = sampler.dataset
        self.dataset_sizes = _sub_dataset_sizes(self.dataset)
        self.offsets = [int(o) for o in np.cumsum([0] + self.dataset_sizes[:-1])]
        self.ratios = _check_ratios(ratios, batch_size, len(self.dataset_sizes))
        self.batch_size = int(batch_size)
        keys = _dataset_keys(self.dataset)
        self.epoch_dataset = _resolve_epoch_dataset(epoch_dataset, keys)
        self.rank, self.world_size = get_dist_info()
        if seed is None:
            seed = getattr(sampler, 'seed', None)
        if seed is None:
            seed = sync_random_seed()
        if not _is_integer(seed):
            raise SamplerConfigError(
                f'RatioBatchSampler seed must be an integer, got {seed!r}')
        self.seed = int(seed)
        self.shuffle = bool(getattr(sampler, 'shuffle', True))
        for i, size in enumerate(self.dataset_sizes):
            if size == 0:
                raise DatasetError(
                    f'sub-dataset {i} ({_name(keys, i)}) has no samples, so '
                    f'RatioBatchSampler cannot draw ratios[{i}] = '
                    f'{self.ratios[i]} from it; fix its data paths or remove '
                    'it and its ratio')
        e = self.epoch_dataset
        share = self.ratios[e] * self.world_size
        if self.dataset_sizes[e] < share:
            raise SamplerConfigError(
                f'epoch dataset {e} ({_name(keys, e)}) has '
                f'{self.dataset_sizes[e]} samples, fewer than one step needs '
                f'(ratios[{e}] * world size = {self.ratios[e]} * '
                f'{self.world_size} = {share}); choose a larger epoch_dataset '
                f'or lower ratios[{e}]')

    @property
    def epoch(self) -> int:
        """The epoch, as set on the wrapped sampler."""
        return int(self.sampler.epoch)

    def set_epoch(self, epoch: int) -> None:
        """Sets the epoch (on the wrapped sampler, where mmengine sets it).

        Args:
            epoch: Epoch number; a new epoch gives new permutations.
        """
        self.sampler.set_epoch(epoch)

    def __len__(self) -> int:
        """The number of batches per epoch on each rank."""
        e = self.epoch_dataset
        return (self.passes_per_epoch * self.dataset_sizes[e]
                // (self.ratios[e] * self.world_size))

    def __iter__(self) -> Iterator[List[int]]:
        """Yields this rank's batches of the current epoch (global indices)."""
        epoch = self.epoch
        streams = [
            share_stream(size, ratio * self.world_size,
                         np.random.default_rng(
                             [self.seed % 2**64, epoch, i]), self.shuffle)
            for i, (size, ratio) in enumerate(zip(self.dataset_sizes,
                                                  self.ratios))]
        for _ in range(len(self)):
            batch: List[int] = []
            for offset, stream in zip(self.offsets, streams):
                share = next(stream)
                batch.extend(offset + int(j)
                             for j in share[self.rank::self.world_size])
            yield batch


def share_stream(size: int, share: int, rng: np.random.Generator,
                 shuffle: bool) -> Iterator[np.ndarray]:
    """Endless shares of one sub-dataset, cut from consecutive passes.

    Each pass is a permutation of ``range(size)`` (the identity without
    shuffling). When a pass ends inside a share, the next pass puts the
    samples already in that share last, keeping the rest of its order, so a
    share never repeats a sample while ``share <= size``.

    Args:
        size: Number of samples (positive).
        share: Samples per share (positive).
        rng: Source of the permutations.
        shuffle: Permute each pass; otherwise every pass is ``0..size-1``.

    Yields:
        Local indices, ``share`` at a time.
    """
    empty = np.empty(0, dtype=np.int64)

    def new_pass(used: np.ndarray) -> np.ndarray:
        order = rng.permutation(size) if shuffle else np.arange(size)
        late = np.isin(order, used)
        return np.concatenate([order[~late], order[late]])

    order, pos = new_pass(empty), 0
    while True:
        parts: List[np.ndarray] = []
        missing = share
        while missing:
            if pos == size:
                order = new_pass(np.concatenate(parts) if parts else empty)
                pos = 0
            part = order[pos:pos + missing]
            parts.append(part)
            pos += len(part)
            missing -= len(part)
        yield np.concatenate(parts)


def _check_sampler(sampler: object) -> None:
    missing = [a for a in ('dataset', 'epoch', 'set_epoch')
               if not hasattr(sampler, a)]
    if missing:
        raise SamplerConfigError(
            f'RatioBatchSampler needs a sampler with `dataset`, `epoch` and '
            f'`set_epoch` (mmengine sets the epoch on '
            f'`batch_sampler.sampler`), but {type(sampler).__name__} lacks '
            f'{missing}; use sampler=dict(type=\'DefaultSampler\', '
            'shuffle=True), also with IterBasedTrainLoop')


def _sub_dataset_sizes(dataset: object) -> List[int]:
    if not hasattr(dataset, 'datasets'):
        raise SamplerConfigError(
            'RatioBatchSampler needs a concatenated dataset, got '
            f'{type(dataset).__name__}; use dataset=dict('
            "type='MultiTaxonomyDataset', datasets=[...])")
    if not hasattr(dataset, 'cumulative_sizes') and hasattr(dataset,
                                                            'full_init'):
        dataset.full_init()
    cumulative = [int(c) for c in dataset.cumulative_sizes]
    return [b - a for a, b in zip([0] + cumulative[:-1], cumulative)]


def _dataset_keys(dataset: object) -> List[Optional[str]]:
    keys = getattr(dataset, 'dataset_keys', None)
    if keys is not None:
        return list(keys)
    return [getattr(d, 'metainfo', {}).get('dataset_key')
            for d in dataset.datasets]


def _is_integer(value: object) -> bool:
    """Whether a setting is an integer (``True`` and ``False`` are not)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_ratios(ratios: Sequence[int], batch_size: int,
                  num_datasets: int) -> List[int]:
    if isinstance(ratios, (str, bytes)) or not isinstance(ratios, Sequence):
        raise SamplerConfigError(
            f'ratios must be a list of positive integers, one per '
            f'sub-dataset, got {ratios!r}; e.g. ratios=[1, 2, 1]')
    bad = [r for r in ratios if not _is_integer(r) or r < 1]
    if bad:
        raise SamplerConfigError(
            f'ratios must be positive integers, got {list(ratios)!r} '
            f'(bad: {bad!r}); a sub-dataset that should not be sampled '
            'does not belong in the dataset list')
    if len(ratios) != num_datasets:
        raise SamplerConfigError(
            f'ratios {list(ratios)!r} has {len(ratios)} entries but the '
            f'dataset has {num_datasets} sub-datasets; give one ratio per '
            'sub-dataset, in the same order')
    if not _is_integer(batch_size) or sum(ratios) != batch_size:
        raise SamplerConfigError(
            f'ratios {list(ratios)!r} sum to {sum(ratios)} but the per-GPU '
            f'batch_size is {batch_size!r}; set batch_size={sum(ratios)} or '
            'change the ratios')
    return [int(r) for r in ratios]


def _resolve_epoch_dataset(epoch_dataset: Union[int, str],
                           keys: List[Optional[str]]) -> int:
    if isinstance(epoch_dataset, str):
        matches = [i for i, k in enumerate(keys) if k == epoch_dataset]
        if len(matches) != 1:
            problem = 'is not' if not matches else 'is ambiguous among'
            raise SamplerConfigError(
                f"epoch_dataset '{epoch_dataset}' {problem} the sub-datasets' "
                f'dataset_keys {keys!r}; give a key that names exactly one '
                f'or a position 0..{len(keys) - 1}')
        return matches[0]
    if not _is_integer(epoch_dataset) or not 0 <= epoch_dataset < len(keys):
        raise SamplerConfigError(
            f'epoch_dataset must be a position 0..{len(keys) - 1} or one of '
            f'the dataset_keys {keys!r}, got {epoch_dataset!r}')
    return int(epoch_dataset)


def _name(keys: List[Optional[str]], i: int) -> str:
    return f"dataset_key '{keys[i]}'" if keys[i] is not None else 'no key'
