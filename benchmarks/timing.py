"""Timing shared by the benchmark scripts (run them from the repository root:
``python benchmarks/<script>.py``)."""
from __future__ import annotations

import time
from typing import Callable, Sequence, Union

import torch


#: Clocks for ``--clock``: wall time, or the CPU time of the process (all its
#: threads; on a shared machine it leaves out time other jobs took the cores).
CLOCKS = {'wall': time.perf_counter, 'cpu': time.process_time}


def best_time(fn: Callable[[], object], repeat: int,
              device: Union[str, torch.device] = 'cpu', warmup: bool = True,
              clock: Callable[[], float] = time.perf_counter) -> float:
    """Smallest time of ``repeat`` calls after one warm-up call (unless
    ``warmup=False``), in seconds, by ``clock`` (wall time by default); on
    CUDA the device is synchronised around every call."""
    cuda = torch.device(device).type == 'cuda'
    if warmup:
        fn()
    best = float('inf')
    for _ in range(repeat):
        if cuda:
            torch.cuda.synchronize()
        start = clock()
        fn()
        if cuda:
            torch.cuda.synchronize()
        best = min(best, clock() - start)
    return best


def best_times(fns: Sequence[Callable[[], object]], repeat: int,
               device: Union[str, torch.device] = 'cpu',
               clock: Callable[[], float] = time.perf_counter) -> list[float]:
    """:func:`best_time` of several functions, interleaved (one call of each
    per round, ``repeat`` rounds after one warm-up round), so that a slower
    or busier stretch of the machine hits every arm alike."""
    for fn in fns:
        fn()
    best = [float('inf')] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            best[i] = min(best[i], best_time(fn, 1, device, warmup=False, clock=clock))
    return best
