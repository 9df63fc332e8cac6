"""Timing shared by the benchmark scripts (run them from the repository root:
``python benchmarks/<script>.py``)."""
from __future__ import annotations

import time
from typing import Callable, Union

import torch


def best_time(fn: Callable[[], object], repeat: int,
              device: Union[str, torch.device] = 'cpu') -> float:
    """Smallest wall time of ``repeat`` calls after one warm-up, in seconds;
    on CUDA the device is synchronised around every call."""
    cuda = torch.device(device).type == 'cuda'
    fn()
    best = float('inf')
    for _ in range(repeat):
        if cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if cuda:
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return best
