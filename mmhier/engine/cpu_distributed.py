"""Distributed training on machines without GPUs (CPU processes, gloo).

MMEngine's runner cannot do it: its ``init_dist`` calls
``torch.cuda.set_device`` before creating the process group (an
``AttributeError`` on a CPU build of torch), and it wraps the model in
``DistributedDataParallel(device_ids=[LOCAL_RANK])``, which a CPU module
refuses. :class:`CPUDistributedRunner` is MMEngine's runner with those two
steps done the CPU way when no accelerator is present; on a machine with
GPUs (or NPUs, MLUs, MUSA devices) it is MMEngine's runner unchanged.

On CPU, each process:

* joins a gloo process group from the launcher's environment (``RANK``,
  ``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``: ``torchrun`` /
  ``tools/dist_train.sh`` / MMSeg's ``dist_train.sh`` set them). A config's
  ``env_cfg.dist_cfg.backend='nccl'`` (MMSeg's default) becomes ``'gloo'``,
  with a log line; its other ``dist_cfg`` entries (e.g. ``timeout``) are
  passed on;
* wraps the model in ``MMDistributedDataParallel`` without device ids;
  ``SyncBN`` layers (CUDA only in torch) become ``BatchNorm`` and the
  buffers (BatchNorm running statistics) are broadcast from rank 0 at each
  forward (``broadcast_buffers=True``), so every rank holds the same model,
  as it would with SyncBN. ``model_wrapper_cfg`` entries override these
  defaults, ``device_ids`` excepted.
"""
from __future__ import annotations

import datetime
import logging
import os
from typing import Any, Dict, Optional

import torch
from mmengine.device import get_device
from mmengine.dist import is_distributed
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper, revert_sync_batchnorm
from mmengine.registry import MODEL_WRAPPERS
from mmengine.runner import Runner
from mmseg.registry import RUNNERS
from torch import nn

#: What ``torchrun`` sets for each process and the pytorch launcher reads.
LAUNCHER_ENV = ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT')
#: Backends a CPU process group can use.
CPU_BACKENDS = ('gloo', 'mpi')


class CPUDistributedError(RuntimeError):
    """A distributed CPU run cannot start: wrong launcher, missing launcher
    environment or a backend without CPU support. The message says how to
    start it instead."""


def init_cpu_process_group(launcher: str, dist_cfg: Optional[Dict[str, Any]] = None) -> str:
    """Join the process group of a CPU run started by ``torchrun``.

    Args:
        launcher: The runner's launcher; only ``'pytorch'`` (``torchrun``,
            ``tools/dist_train.sh``) is supported on CPU.
        dist_cfg: The config's ``env_cfg.dist_cfg``: ``backend`` (``nccl``,
            MMSeg's default, is replaced by ``gloo``) and further keyword
            arguments of ``torch.distributed.init_process_group``
            (``timeout`` in seconds, as MMEngine reads it).

    Returns:
        The backend used.

    Raises:
        CPUDistributedError: Another launcher, the launcher's environment
            variables are missing, or a backend that needs GPUs other than
            ``nccl``.
    """
    dist_cfg = dict(dist_cfg or {})
    if launcher != 'pytorch':
        raise CPUDistributedError(
            f'--launcher {launcher}: on a machine without GPUs mmhier trains distributed '
            'only with the pytorch launcher; start the processes with torchrun, e.g. '
            '`bash tools/dist_train.sh CONFIG NPROC` (it passes --launcher pytorch)')
    missing = [name for name in LAUNCHER_ENV if name not in os.environ]
    if missing:
        raise CPUDistributedError(
            f'--launcher pytorch: the environment lacks {", ".join(missing)}; start the '
            'processes with torchrun or `bash tools/dist_train.sh CONFIG NPROC`, which set '
            'them')
    backend = dist_cfg.pop('backend', 'gloo')
    dist_cfg.pop('init_backend', None)  # MMEngine's choice of torch/deepspeed/colossalai
    if backend == 'nccl':
        print_log('env_cfg.dist_cfg.backend is nccl, which needs GPUs; this machine has '
                  'none, so the CPU processes use gloo', logger='current', level=logging.INFO)
        backend = 'gloo'
    if backend not in CPU_BACKENDS:
        raise CPUDistributedError(
            f'env_cfg.dist_cfg.backend={backend!r} does not run on CPU; use one of '
            f'{", ".join(CPU_BACKENDS)} (or nccl, which mmhier replaces by gloo)')
    if isinstance(dist_cfg.get('timeout'), (int, float)):  # seconds, as MMEngine reads it
        dist_cfg['timeout'] = datetime.timedelta(seconds=dist_cfg['timeout'])
    torch.distributed.init_process_group(backend=backend, **dist_cfg)
    return backend


@RUNNERS.register_module()
class CPUDistributedRunner(Runner):
    """MMEngine's :class:`~mmengine.runner.Runner` that also trains
    distributed on machines without GPUs (see the module docstring).

    Use it with ``runner_type = 'CPUDistributedRunner'`` in a config (mmhier's
    ``default_runtime.py`` sets it); ``tools/train.py`` of both mmhier and
    MMSeg build it from ``runner_type``.
    """

    def setup_env(self, env_cfg: Dict[str, Any]) -> None:
        """Join a gloo process group on CPU, then MMEngine's set-up (which
        skips its own ``init_dist`` as the group exists)."""
        if self.distributed and not is_distributed() and get_device() == 'cpu':
            init_cpu_process_group(self.launcher, env_cfg.get('dist_cfg'))
        super().setup_env(env_cfg)

    def wrap_model(self, model_wrapper_cfg: Optional[Dict[str, Any]],
                   model: nn.Module) -> nn.Module:
        """MMEngine's wrapping, or on CPU ``MMDistributedDataParallel``
        without device ids, BatchNorm for SyncBN, buffers from rank 0."""
        if not self.distributed or is_model_wrapper(model) or get_device() != 'cpu':
            return super().wrap_model(model_wrapper_cfg, model)
        has_sync_bn = any(isinstance(m, nn.SyncBatchNorm) for m in model.modules())
        if has_sync_bn or self.cfg.get('sync_bn') is not None:
            self.logger.info('SyncBN needs GPUs: the CPU processes use BatchNorm, with '
                             'the running statistics of rank 0 (broadcast_buffers=True)')
        model = revert_sync_batchnorm(model.to('cpu'))
        wrapper_cfg = dict(type='MMDistributedDataParallel', broadcast_buffers=True,
                           find_unused_parameters=self.cfg.get('find_unused_parameters',
                                                               False))
        wrapper_cfg.update(model_wrapper_cfg or {})
        wrapper_cfg['device_ids'] = None  # a CPU module takes none
        return MODEL_WRAPPERS.build(wrapper_cfg, default_args=dict(module=model))
