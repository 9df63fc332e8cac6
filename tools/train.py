"""Train a segmentor from an MMSegmentation config (mmhier modules included).

Behaves like MMSegmentation's ``tools/train.py``::

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CHECKPOINT]] [--amp]
                          [--cfg-options KEY=VALUE ...] [--launcher none|pytorch|slurm|mpi]

``--resume`` alone continues from the latest checkpoint in the work dir (the
one ``last_checkpoint`` names; from scratch if there is none), ``--resume
CHECKPOINT`` from that file. mmhier's models, datasets and metrics are
registered even if the config has no ``custom_imports``. Exit status: 0 done,
1 a user error (bad config, data or taxonomy, e.g. a checkpoint of another
taxonomy), printed as ``error: <type>: <message>``, 2 bad usage.
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

from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.logging import print_log  # noqa: E402

from mmhier.tool_support import (build_runner, load_tool_config,  # noqa: E402
                                 register_mmhier, user_errors)

AUTO_RESUME = 'auto'


class ConfigError(ValueError):
    """The config and the command-line options do not fit together."""


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
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value (e.g. '
                        'train_cfg.max_iters=1000 or key="[a,b]")')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    # torch.distributed.launch passes --local-rank (torch >= 2.0) or --local_rank.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def enable_amp(cfg: Config) -> None:
    """Switch ``cfg.optim_wrapper`` to ``AmpOptimWrapper`` with a dynamic
    loss scale.

    Raises:
        ConfigError: The config has no ``optim_wrapper`` or another wrapper
            type than ``OptimWrapper``.
    """
    wrapper = cfg.get('optim_wrapper')
    if wrapper is None:
        raise ConfigError('--amp needs an optim_wrapper in the config')
    kind = wrapper.get('type', 'OptimWrapper')
    if kind == 'AmpOptimWrapper':
        print_log('AMP training is already enabled in your config.', logger='current',
                  level=logging.WARNING)
        return
    if kind != 'OptimWrapper':
        raise ConfigError(f'--amp replaces optim_wrapper type OptimWrapper by '
                          f'AmpOptimWrapper, but the config uses {kind!r}; set '
                          'AmpOptimWrapper options in the config instead')
    wrapper.type = 'AmpOptimWrapper'
    wrapper.loss_scale = 'dynamic'


def build_config(args: argparse.Namespace) -> Config:
    """The config with the command-line options applied.

    Raises:
        FileNotFoundError: The config file does not exist.
        ConfigError: ``--amp`` does not fit the config.
    """
    cfg = load_tool_config(args.config, args.launcher, args.cfg_options, args.work_dir)
    if args.amp:
        enable_amp(cfg)
    if args.resume == AUTO_RESUME:
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        if not osp.isfile(args.resume):
            raise FileNotFoundError(f'checkpoint {args.resume!r} to resume from does '
                                    'not exist')
        cfg.resume = True
        cfg.load_from = args.resume
    return cfg


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Train; returns the exit status."""
    args = parse_args(argv)
    register_mmhier()
    try:
        cfg = build_config(args)
        build_runner(cfg).train()
    except user_errors(ConfigError) as exc:
        print(f'error: {type(exc).__name__}: {exc}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
