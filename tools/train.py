"""Train a segmentor from an MMSegmentation config (mmhier modules included).

Behaves like MMSegmentation's ``tools/train.py``::

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CHECKPOINT]] [--amp]
                          [--cfg-options KEY=VALUE ...] [--launcher none|pytorch|slurm|mpi]

``--resume`` alone continues from the latest checkpoint in the work dir (the
one ``last_checkpoint`` names; from scratch if there is none), ``--resume
CHECKPOINT`` from that file. mmhier's models, datasets and metrics are
registered even if the config has no ``custom_imports``.

The checkpoint to resume from or start with (``--resume``, ``load_from``) is
checked before training starts: a missing, empty, truncated or damaged file,
a pickle of something else, weights that do not fit the model at all, or a
file without training state for ``--resume`` are reported in one line.

Exit status: 0 done; 1 a user error, printed as one line on stderr:
``error: <config>[:<line>]: ...`` for config mistakes (misspelt key, unknown
type, syntax, missing ``_base_`` file, bad ``--cfg-options``),
``error: checkpoint <file>: ...`` for checkpoints, ``error: <type>:
<message>`` for data and taxonomy errors and missing files; 2 bad usage.
``--debug`` (or ``MMHIER_DEBUG=1``) also prints the traceback.
"""
from __future__ import annotations

import argparse
import logging
import os
import os.path as osp
import sys
from pathlib import Path
from typing import Optional, Sequence

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a script without installing mmhier
    sys.path.insert(0, str(REPO_ROOT))

from mmengine.config import Config  # noqa: E402
from mmengine.logging import print_log  # noqa: E402

from mmhier.tool_support import (CheckpointError,  # noqa: E402
                                 CheckpointNotFoundError, ConfigError,
                                 add_cfg_options_argument, add_debug_argument,
                                 build_runner, check_checkpoint, load_tool_config,
                                 register_mmhier, run_tool)

AUTO_RESUME = 'auto'


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Command-line options (see the module docstring)."""
    parser = argparse.ArgumentParser(description='Train a segmentor (mmhier)')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models '
                        '(default: the config\'s work_dir, else work_dirs/<config stem>)')
    parser.add_argument('--resume', nargs='?', const=AUTO_RESUME, default=None,
                        metavar='CHECKPOINT',
                        help='resume from CHECKPOINT, or without a value from the '
                        'latest checkpoint in the work dir')
    parser.add_argument('--amp', action='store_true',
                        help='automatic mixed precision (AmpOptimWrapper, dynamic '
                        'loss scale)')
    add_cfg_options_argument(parser)
    add_debug_argument(parser)
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    # torch.distributed.launch passes --local-rank (torch >= 2.0) or --local_rank.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def enable_amp(cfg: Config, config: str) -> None:
    """Switch ``cfg.optim_wrapper`` to ``AmpOptimWrapper`` with a dynamic
    loss scale.

    Args:
        cfg: The config.
        config: Its file (named in errors).

    Raises:
        ConfigError: The config has no ``optim_wrapper`` or another wrapper
            type than ``OptimWrapper``.
    """
    wrapper = cfg.get('optim_wrapper')
    if wrapper is None:
        raise ConfigError(config, '--amp needs an optim_wrapper in the config')
    kind = wrapper.get('type', 'OptimWrapper')
    if kind == 'AmpOptimWrapper':
        print_log('AMP training is already enabled in your config.', logger='current',
                  level=logging.WARNING)
        return
    if kind != 'OptimWrapper':
        raise ConfigError(config, f'--amp replaces optim_wrapper type OptimWrapper by '
                          f'AmpOptimWrapper, but the config uses {kind!r}; set '
                          'AmpOptimWrapper options in the config instead')
    wrapper.type = 'AmpOptimWrapper'
    wrapper.loss_scale = 'dynamic'


def build_config(args: argparse.Namespace) -> Config:
    """The config with the command-line options applied.

    Raises:
        FileNotFoundError: The config file does not exist.
        CheckpointNotFoundError: The ``--resume`` checkpoint does not exist.
        ConfigError: The config or an option is wrong, or ``--amp`` does not
            fit the config.
    """
    cfg = load_tool_config(args.config, args.launcher, args.cfg_options, args.work_dir)
    if args.amp:
        enable_amp(cfg, args.config)
    if args.resume == AUTO_RESUME:
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        if not osp.exists(args.resume):
            raise CheckpointNotFoundError(args.resume, 'to resume from (--resume) does '
                                          'not exist; check the path')
        cfg.resume = True
        cfg.load_from = args.resume
    return cfg


def checkpoint_to_load(cfg: Config, work_dir: str) -> tuple[Optional[str], bool, str]:
    """The checkpoint the runner will load: ``(path or None, resume, where
    the path comes from)``, as ``Runner.load_or_resume`` decides it."""
    from mmengine.runner import find_latest_checkpoint
    load_from, resume = cfg.get('load_from'), bool(cfg.get('resume'))
    if resume and load_from is None:
        return (find_latest_checkpoint(work_dir), True,
                f'--resume: the latest checkpoint named in {work_dir}/last_checkpoint')
    if load_from is None:
        return None, False, ''
    return load_from, resume, '--resume' if resume else 'load_from of the config'


def train(args: argparse.Namespace) -> None:
    """Build the runner, check the checkpoint it will load, train."""
    register_mmhier()
    cfg = build_config(args)
    runner = build_runner(cfg)
    path, resume, purpose = checkpoint_to_load(cfg, runner.work_dir)
    try:
        check_checkpoint(path, runner.model, resume=resume, purpose=purpose)
    except CheckpointError as exc:
        others = sorted((p for p in Path(runner.work_dir).glob('*.pth')
                         if p.is_file() and p.resolve() != Path(path).resolve()),
                        key=lambda p: p.stat().st_mtime)
        if cfg.get('load_from') is not None or not others:  # not the automatic one
            raise
        raise type(exc)(exc.path, f'{exc.reason}; to resume from the checkpoint '
                        f'before it: --resume {others[-1]}') from exc
    runner.train()


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Train; returns the exit status."""
    args = parse_args(argv)
    return run_tool(lambda: train(args), config=args.config,
                    cfg_options=args.cfg_options, debug=args.debug)


if __name__ == '__main__':
    sys.exit(main())
