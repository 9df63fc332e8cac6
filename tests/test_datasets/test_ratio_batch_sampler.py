"""RatioBatchSampler: fixed per-dataset counts in every batch, on every rank."""
from __future__ import annotations

import json
import os
import random
import re
import socket
from collections import Counter
from datetime import timedelta
from typing import List, Optional, Sequence

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.dataset import DefaultSampler, InfiniteSampler
from mmengine.logging import MessageHub, MMLogger
from mmengine.model import BaseModel
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
from mmengine.visualization import Visualizer
from mmseg.registry import DATA_SAMPLERS, DATASETS

from mmhier.datasets.errors import DatasetError
from mmhier.datasets.multi_dataset import MultiTaxonomyDataset
from mmhier.datasets.samplers import ratio_batch_sampler as rbs
from mmhier.datasets.samplers import RatioBatchSampler, SamplerConfigError
from mmhier.datasets.samplers.ratio_batch_sampler import share_stream
from tests.test_datasets.tiny_datasets import _Tiny

KEYS = ('city_like', 'vistas_like', 'gtsdb_like')


def _dataset(sizes: Sequence[int], keys: Sequence[Optional[str]] = KEYS
             ) -> MultiTaxonomyDataset:
    annotations = ['pixel'] * (len(sizes) - 1) + ['box']
    return MultiTaxonomyDataset([_Tiny(n, k, a)
                                 for n, k, a in zip(sizes, keys, annotations)])


def _sampler(sizes=(5, 12, 7), ratios=(1, 2, 1), epoch_dataset=1, seed=0,
             shuffle=True, batch_size=None) -> RatioBatchSampler:
    sampler = DefaultSampler(_dataset(sizes), shuffle=shuffle, seed=seed)
    return RatioBatchSampler(sampler, batch_size or sum(ratios), list(ratios),
                             epoch_dataset)


def _ranges(sizes: Sequence[int]) -> List[range]:
    ends = np.cumsum(sizes).tolist()
    return [range(e - n, e) for n, e in zip(sizes, ends)]


def _split(batch: List[int], ratios: Sequence[int]) -> List[List[int]]:
    ends = np.cumsum(ratios).tolist()
    return [batch[e - r:e] for r, e in zip(ratios, ends)]


# ---------------------------------------------------------------- one process

def test_paper_ratio_single_process():
    sizes, ratios = (5, 12, 7), (1, 2, 1)
    batches = list(_sampler(sizes, ratios, epoch_dataset=1))
    sampler = _sampler(sizes, ratios, epoch_dataset=1)
    assert len(batches) == 6 == len(sampler) and sampler.batch_size == 4
    assert sampler.dataset_sizes == [5, 12, 7] and sampler.offsets == [0, 5, 17]
    city, vistas, gtsdb = _ranges(sizes)
    for batch in batches:
        assert len(batch) == 4
        assert batch[0] in city and batch[1] in vistas
        assert batch[2] in vistas and batch[3] in gtsdb
    assert sorted(i for b in batches for i in b[1:3]) == list(vistas)
    gtsdb_drawn = [b[3] for b in batches]
    assert len(set(gtsdb_drawn)) == 6                    # 6 of 7, no repeat
    city_drawn = [b[0] for b in batches]
    assert sorted(city_drawn[:5]) == list(city)          # one full pass ...
    assert sorted(Counter(city_drawn).values()) == [1, 1, 1, 1, 2]  # ... + 1


def test_epoch_dataset_by_key():
    by_key = _sampler(epoch_dataset='vistas_like')
    assert by_key.epoch_dataset == 1
    assert list(by_key) == list(_sampler(epoch_dataset=1))
    assert len(_sampler(epoch_dataset='gtsdb_like')) == 7
    assert len(_sampler(epoch_dataset=0)) == 5


def test_unshuffled_is_exact():
    assert list(_sampler(shuffle=False)) == [
        [0, 5, 6, 17], [1, 7, 8, 18], [2, 9, 10, 19],
        [3, 11, 12, 20], [4, 13, 14, 21], [0, 15, 16, 22]]


def test_drops_incomplete_last_batch():
    batches = list(_sampler(sizes=(5, 13, 7), shuffle=False))
    assert len(batches) == 6 and batches[-1][1:3] == [15, 16]  # local 12 dropped


def test_deterministic_given_seed():
    assert list(_sampler(seed=3)) == list(_sampler(seed=3))
    assert list(_sampler(seed=3)) != list(_sampler(seed=4))


def test_set_epoch_reshuffles():
    sampler = _sampler()
    epoch0 = list(sampler)
    assert list(sampler) == epoch0                 # same epoch, same batches
    sampler.set_epoch(1)
    assert sampler.epoch == 1 and sampler.sampler.epoch == 1
    epoch1 = list(sampler)
    assert epoch1 != epoch0
    assert sorted(i for b in epoch1 for i in b[1:3]) == list(range(5, 17))
    sampler.sampler.set_epoch(0)                   # where mmengine sets it
    assert list(sampler) == epoch0


def test_seed_comes_from_the_sampler_or_argument():
    dataset = _dataset((5, 12, 7))
    inner = DefaultSampler(dataset, seed=11)
    assert RatioBatchSampler(inner, 4, [1, 2, 1], 1).seed == 11
    assert RatioBatchSampler(inner, 4, [1, 2, 1], 1, seed=5).seed == 5
    assert RatioBatchSampler(DefaultSampler(dataset), 4, [1, 2, 1], 1).seed >= 0
    with pytest.raises(SamplerConfigError, match="seed must be an integer, got '1'"):
        RatioBatchSampler(inner, 4, [1, 2, 1], 1, seed='1')


def test_share_stream_passes_and_distinct_shares():
    for size, share in [(5, 2), (7, 3), (6, 6), (4, 5), (3, 7), (1, 2)]:
        stream = share_stream(size, share, np.random.default_rng(size * share),
                              shuffle=True)
        drawn = np.concatenate([next(stream) for _ in range(4 * size)])
        passes = drawn.reshape(-1, size)           # 4 * share passes exactly
        assert all(sorted(p) == list(range(size)) for p in passes.tolist())
        if share <= size:
            assert all(len(set(s)) == share
                       for s in drawn.reshape(-1, share).tolist())


def _simulate(monkeypatch, sizes, ratios, epoch_dataset, world_size, seed=7,
              epoch=0, shuffle=True, passes=1) -> List[List[List[int]]]:
    """Each simulated rank's batches of one epoch."""
    dataset = _dataset(sizes, keys=[f'd{i}' for i in range(len(sizes))])
    per_rank = []
    for rank in range(world_size):
        monkeypatch.setattr(rbs, 'get_dist_info', lambda r=rank: (r, world_size))
        sampler = RatioBatchSampler(
            DefaultSampler(dataset, shuffle=shuffle, seed=seed), sum(ratios),
            list(ratios), epoch_dataset, passes_per_epoch=passes)
        sampler.set_epoch(epoch)
        assert (sampler.rank, sampler.world_size) == (rank, world_size)
        per_rank.append(list(sampler))
    return per_rank


def _check_guarantees(per_rank, sizes, ratios, e, passes=1):
    world = len(per_rank)
    steps = passes * sizes[e] // (ratios[e] * world)
    assert [len(b) for b in per_rank] == [steps] * world
    ranges = _ranges(sizes)
    for i, (n, r) in enumerate(zip(sizes, ratios)):
        share = r * world
        drawn = []
        for t in range(steps):
            step = [x for b in per_rank for x in _split(b[t], ratios)[i]]
            assert len(step) == share and all(x in ranges[i] for x in step)
            if share <= n:
                assert len(set(step)) == share, (i, t, step)
            drawn += step
        counts = Counter(drawn)
        q, extra = divmod(steps * share, n)
        histogram = Counter(counts.get(x, 0) for x in ranges[i])
        assert histogram == Counter({q: n - extra, q + 1: extra} if extra
                                    else {q: n}), (i, histogram)
        if i == e:      # P passes, fewer than one share of the last dropped
            assert len(drawn) == steps * share > (passes * n - share)
            assert max(counts.values()) == passes


@pytest.mark.parametrize('sizes,ratios,e,world', [
    ((5, 12, 7), (1, 2, 1), 1, 1),
    ((5, 12, 7), (1, 2, 1), 1, 2),
    ((7, 25, 13), (1, 2, 1), 1, 2),
    ((3, 40, 2), (1, 2, 1), 1, 4),       # gtsdb smaller than its step share
    ((10, 10), (3, 1), 0, 3),
    ((1, 9, 4, 30), (2, 1, 1, 1), 3, 5),
])
def test_guarantees_across_simulated_ranks(monkeypatch, sizes, ratios, e, world):
    for epoch in (0, 1):
        for passes in (1, 3):
            per_rank = _simulate(monkeypatch, sizes, ratios, e, world,
                                 epoch=epoch, passes=passes)
            _check_guarantees(per_rank, sizes, ratios, e, passes)


def test_passes_per_epoch_lengthens_the_epoch():
    # vistas_like: 12 samples, 2 per step -> 6 steps per pass
    one, four = _sampler(), RatioBatchSampler(
        DefaultSampler(_dataset((5, 12, 7)), shuffle=True, seed=0), 4, [1, 2, 1],
        1, passes_per_epoch=4)
    assert (len(one), len(four)) == (6, 24)
    batches = list(four)
    for p in range(4):      # each pass of 6 steps uses every vistas sample once
        drawn = sorted(i for b in batches[6 * p:6 * p + 6] for i in b[1:3])
        assert drawn == list(range(5, 17))
    # the first pass is the one-pass epoch's; later passes are new permutations
    assert batches[:6] == list(one)
    assert batches[6:12] != batches[:6]
    # 7 samples, 3 per step: 4 passes = 28 = 9 steps + 1 sample left over
    odd = RatioBatchSampler(DefaultSampler(_dataset((5, 7, 7)), seed=0), 5,
                            [1, 3, 1], 1, passes_per_epoch=4)
    drawn = Counter(i for b in odd for i in b[1:4])
    assert len(odd) == 9 and sorted(drawn.values()) == [3] + [4] * 6


@pytest.mark.parametrize('passes', [0, -2, 1.5, True, '3', None])
def test_bad_passes_per_epoch(passes):
    sampler = DefaultSampler(_dataset((5, 12, 7)), seed=0)
    with pytest.raises(SamplerConfigError,
                       match=rf'passes_per_epoch must be a positive integer, got '
                             rf'{re.escape(repr(passes))}; e\.g\. passes_per_epoch=10'):
        RatioBatchSampler(sampler, 4, [1, 2, 1], 1, passes_per_epoch=passes)


def test_ranks_take_strided_entries_like_default_sampler(monkeypatch):
    # unshuffled streams: 0 1 2 3 | 4 5 0 1 | 2 3 4 5 | 0 1 2 3  and  0 1 | 2 3 ...
    per_rank = _simulate(monkeypatch, (6, 8), (2, 1), 1, 2, shuffle=False)
    assert per_rank == [[[0, 2, 6], [4, 0, 8], [2, 4, 10], [0, 2, 12]],
                        [[1, 3, 7], [5, 1, 9], [3, 5, 11], [1, 3, 13]]]


# ------------------------------------------------------------------ errors

@pytest.mark.parametrize('ratios,batch_size,match', [
    ([1, 2], 3, r'ratios \[1, 2\] has 2 entries but the dataset has 3'),
    ([1, 2, 1], 8, r'sum to 4 but the per-GPU batch_size is 8; set batch_size=4'),
    ([1, 0, 3], 4, r'positive integers, got \[1, 0, 3\] \(bad: \[0\]\)'),
    ([1, 2.5, 1], 4, r'bad: \[2.5\]'),
    ([1, True, 1], 3, r'bad: \[True\]'),
    ('121', 4, r"list of positive integers, one per sub-dataset, got '121'"),
    (3, 3, r'got 3; e\.g\. ratios=\[1, 2, 1\]'),
])
def test_bad_ratios(ratios, batch_size, match):
    sampler = DefaultSampler(_dataset((5, 12, 7)), seed=0)
    with pytest.raises(SamplerConfigError, match=match):
        RatioBatchSampler(sampler, batch_size, ratios, 1)


@pytest.mark.parametrize('epoch_dataset,match', [
    ('mapillary', r"epoch_dataset 'mapillary' is not the sub-datasets' "
                  r"dataset_keys \['city_like', 'vistas_like', 'gtsdb_like'\]"),
    (3, r'position 0\.\.2 .* got 3'),
    (-1, r'got -1'),
    (True, r'got True'),
    (None, r'got None'),
])
def test_bad_epoch_dataset(epoch_dataset, match):
    sampler = DefaultSampler(_dataset((5, 12, 7)), seed=0)
    with pytest.raises(SamplerConfigError, match=match):
        RatioBatchSampler(sampler, 4, [1, 2, 1], epoch_dataset)


def test_ambiguous_epoch_dataset_key():
    dataset = _dataset((5, 12), keys=('city_like', 'city_like'))
    with pytest.raises(SamplerConfigError, match="'city_like' is ambiguous"):
        RatioBatchSampler(DefaultSampler(dataset, seed=0), 2, [1, 1], 'city_like')


def test_epoch_dataset_too_small_for_one_step(monkeypatch):
    monkeypatch.setattr(rbs, 'get_dist_info', lambda: (0, 8))
    sampler = DefaultSampler(_dataset((5, 12, 7)), seed=0)
    with pytest.raises(SamplerConfigError,
                       match=r"epoch dataset 1 \(dataset_key 'vistas_like'\) has "
                             r'12 samples, fewer than .* 2 \* 8 = 16'):
        RatioBatchSampler(sampler, 4, [1, 2, 1], 1)


def test_empty_sub_dataset_in_plain_concat():
    from mmengine.dataset import ConcatDataset
    dataset = ConcatDataset([_Tiny(0, None), _Tiny(4, None)])
    with pytest.raises(DatasetError, match=r'sub-dataset 0 \(no key\) has no samples'):
        RatioBatchSampler(DefaultSampler(dataset, seed=0), 2, [1, 1], 1)


def test_needs_epoch_tracking_sampler_and_concatenated_dataset():
    dataset = _dataset((5, 12, 7))
    with pytest.raises(SamplerConfigError, match=r"InfiniteSampler lacks \['epoch'\]"
                                                 r".*type='DefaultSampler'"):
        RatioBatchSampler(InfiniteSampler(dataset, seed=0), 4, [1, 2, 1], 1)
    with pytest.raises(SamplerConfigError, match="needs a concatenated dataset, "
                                                 "got _Tiny.*MultiTaxonomyDataset"):
        RatioBatchSampler(DefaultSampler(_Tiny(4, 'a'), seed=0), 1, [1], 0)


# ------------------------------------------------------------ through mmengine

def _loader_cfg(ratios=(1, 2, 1), epoch_dataset='vistas_like', batch_size=4,
                passes_per_epoch=1):
    tiny = [dict(type='_TinyTestDataset', size=n, key=k, lazy_init=True)
            for n, k in zip((5, 12, 7), KEYS)]
    return dict(batch_size=batch_size, num_workers=0,
                dataset=dict(type='MultiTaxonomyDataset', datasets=tiny,
                             lazy_init=True),
                sampler=dict(type='DefaultSampler', shuffle=True),
                batch_sampler=dict(type='RatioBatchSampler', ratios=list(ratios),
                                   epoch_dataset=epoch_dataset,
                                   passes_per_epoch=passes_per_epoch))


def test_registered():
    assert DATA_SAMPLERS.get('RatioBatchSampler') is RatioBatchSampler
    assert DATASETS.get('MultiTaxonomyDataset') is MultiTaxonomyDataset


def test_runner_build_dataloader():
    with DefaultScope.overwrite_default_scope('mmseg'):
        loader = Runner.build_dataloader(_loader_cfg(), seed=0)
    assert isinstance(loader.batch_sampler, RatioBatchSampler)
    assert loader.batch_sampler.seed == 0 and len(loader) == 6
    batches = [_pairs(b['inputs']) for b in loader]
    assert len(batches) == 6
    for batch in batches:
        assert [key for key, _ in batch] == ['city_like', 'vistas_like',
                                             'vistas_like', 'gtsdb_like']
    assert sorted(i for b in batches for _, i in b[1:3]) == list(range(12))
    offsets = dict(zip(KEYS, (0, 5, 17)))
    assert [[offsets[k] + i for k, i in b] for b in batches] == list(
        _sampler(seed=0))


def test_runner_build_dataloader_bad_batch_size():
    with DefaultScope.overwrite_default_scope('mmseg'):
        with pytest.raises(SamplerConfigError, match='batch_size is 8'):
            Runner.build_dataloader(_loader_cfg(batch_size=8), seed=0)


def _pairs(inputs: dict) -> List[tuple]:
    """A collated batch as ``(dataset_key, local index)`` pairs."""
    return list(zip(inputs['key'], inputs['local']))


class _Recorder(BaseModel):
    """Records the ``(dataset_key, local index)`` pairs it is trained on."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))
        self.seen: List[list] = []

    def forward(self, inputs, data_samples=None, mode='tensor'):
        self.seen.append(_pairs(inputs))
        return dict(loss=self.weight.sum() * 0)


@pytest.fixture
def restore_globals():
    """Undoes what a Runner leaves behind for the tests after this one.

    It creates the current scope, logger, message hub and visualizer, seeds
    every RNG, and its DistSamplerSeedHook turns on
    ``torch.use_deterministic_algorithms`` when a batch sampler is used.
    """
    managers = (DefaultScope, MMLogger, MessageHub, Visualizer)
    saved = {m: m._instance_dict.copy() for m in managers}
    rng = random.getstate(), np.random.get_state(), torch.get_rng_state()
    deterministic = torch.are_deterministic_algorithms_enabled()
    yield
    for name, logger in MMLogger._instance_dict.items():
        if name not in saved[MMLogger]:
            for handler in logger.handlers:
                handler.close()
    for manager, instances in saved.items():
        manager._instance_dict.clear()
        manager._instance_dict.update(instances)
    random.setstate(rng[0])
    np.random.set_state(rng[1])
    torch.set_rng_state(rng[2])
    torch.use_deterministic_algorithms(deterministic)


def _train(tmp_path, monkeypatch, train_cfg, pauses=None, **loader) -> List[list]:
    """Trains ``_Recorder``; mmengine's epoch-transition sleeps go to ``pauses``."""
    pauses = [] if pauses is None else pauses
    monkeypatch.setattr('mmengine.runner.loops.time.sleep', pauses.append)
    model = _Recorder()
    runner = Runner(
        model=model, work_dir=str(tmp_path), default_scope='mmseg',
        train_dataloader=_loader_cfg(**loader), train_cfg=train_cfg,
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.0)),
        default_hooks=dict(checkpoint=None, logger=None),
        randomness=dict(seed=0), log_level='ERROR')
    runner.train()
    return model.seen


def test_epoch_based_loop_reshuffles_each_epoch(tmp_path, monkeypatch,
                                                restore_globals):
    seen = _train(tmp_path, monkeypatch, dict(by_epoch=True, max_epochs=2))
    assert len(seen) == 12
    epochs = [seen[:6], seen[6:]]
    for batches in epochs:
        assert sorted(i for b in batches for _, i in b[1:3]) == list(range(12))
    assert epochs[0] != epochs[1]


def test_iter_based_loop_runs_epochs_back_to_back(tmp_path, monkeypatch,
                                                  restore_globals):
    seen = _train(tmp_path, monkeypatch, dict(by_epoch=False, max_iters=14))
    assert len(seen) == 14
    assert all([k for k, _ in b] == ['city_like', 'vistas_like', 'vistas_like',
                                     'gtsdb_like'] for b in seen)
    epochs = [seen[:6], seen[6:12]]
    for batches in epochs:
        assert sorted(i for b in batches for _, i in b[1:3]) == list(range(12))
    assert epochs[0] != epochs[1]


@pytest.mark.parametrize('passes,expected_pauses', [(1, 4), (2, 2), (5, 0)])
def test_iter_based_loop_pauses_once_per_epoch_of_passes(
        tmp_path, monkeypatch, restore_globals, passes, expected_pauses):
    # 6 steps per pass; mmengine sleeps 2 s at each epoch transition
    pauses = []
    seen = _train(tmp_path, monkeypatch, dict(by_epoch=False, max_iters=25), pauses,
                  passes_per_epoch=passes)
    assert len(seen) == 25 and pauses == [2] * expected_pauses


# ---------------------------------------------------------------- two processes

DIST_SIZES, DIST_RATIOS = (7, 25, 13), (1, 2, 1)


def _dist_worker(rank: int, port: int, out_dir: str) -> None:
    """One rank: builds the sampler as the runner would, writes two epochs."""
    if 'lo' in {name for _, name in socket.if_nameindex()}:
        os.environ.setdefault('GLOO_SOCKET_IFNAME', 'lo')
    torch.distributed.init_process_group(
        'gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank, world_size=2,
        timeout=timedelta(seconds=60))
    try:
        sampler = RatioBatchSampler(
            DefaultSampler(_dataset(DIST_SIZES), shuffle=True),  # synced seed
            sum(DIST_RATIOS), list(DIST_RATIOS), 'vistas_like')
        epochs = []
        for epoch in (0, 1):
            sampler.set_epoch(epoch)
            epochs.append(list(sampler))
        with open(os.path.join(out_dir, f'rank{rank}.json'), 'w') as f:
            json.dump(dict(rank=sampler.rank, world_size=sampler.world_size,
                           seed=sampler.seed, length=len(sampler),
                           epochs=epochs), f)
    finally:
        torch.distributed.destroy_process_group()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.mark.timeout(120)
def test_two_gloo_processes(tmp_path):
    torch.multiprocessing.spawn(_dist_worker, args=(_free_port(), str(tmp_path)),
                                nprocs=2, join=True)
    results = [json.loads((tmp_path / f'rank{r}.json').read_text())
               for r in (0, 1)]
    assert [(r['rank'], r['world_size']) for r in results] == [(0, 2), (1, 2)]
    assert results[0]['seed'] == results[1]['seed']      # sync_random_seed
    assert [r['length'] for r in results] == [6, 6]      # 25 // (2 * 2)
    for epoch in (0, 1):
        per_rank = [r['epochs'][epoch] for r in results]
        _check_guarantees(per_rank, DIST_SIZES, DIST_RATIOS, 1)
        vistas = [i for b in per_rank for batch in b for i in batch[1:3]]
        assert len(set(vistas)) == 24                     # 25 - 1 dropped
        gtsdb = [b[3] for batches in per_rank for b in batches]
        assert len(set(gtsdb)) == 12                      # fits: no repeats
        city = [b[0] for batches in per_rank for b in batches]
        assert sorted(Counter(city).values()) == [1, 1, 2, 2, 2, 2, 2]
    assert results[0]['epochs'][0] != results[0]['epochs'][1]
