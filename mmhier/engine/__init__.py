"""Training-loop support for MMEngine's runner: distributed training on
machines without GPUs (:class:`CPUDistributedRunner`), and checkpoint loading
with upstream MMEngine on torch >= 2.6 (:mod:`mmhier.engine.checkpoint_globals`).

Importing this package (a config's ``custom_imports`` does) registers the
runner into ``mmseg.registry.RUNNERS`` and allow-lists the objects MMEngine
checkpoints hold for ``torch.load(weights_only=True)``.
"""
from mmhier.engine.checkpoint_globals import (allow_checkpoint_globals,
                                              checkpoint_safe_globals)
from mmhier.engine.cpu_distributed import (CPUDistributedError, CPUDistributedRunner,
                                           init_cpu_process_group)

allow_checkpoint_globals()

__all__ = ['CPUDistributedError', 'CPUDistributedRunner', 'allow_checkpoint_globals',
           'checkpoint_safe_globals', 'init_cpu_process_group']
