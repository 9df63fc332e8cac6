"""Test (and evaluate) a checkpoint with an MMSegmentation config.

Behaves like MMSegmentation's ``tools/test.py``::

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out DIR]
                         [--cfg-options KEY=VALUE ...] [--launcher none|pytorch|slurm|mpi]

Runs the config's ``test_dataloader`` / ``test_evaluator`` with the weights of
CHECKPOINT and logs the metrics. ``--out DIR`` also saves every prediction as
a 16-bit PNG of taxonomy node ids, ``DIR/<image stem>.png`` (with
``TaxonomyEncoderDecoder``; other segmentors save their class indices). Exit
status: 0 done, 1 a user error (printed as ``error: <type>: <message>``),
2 bad usage.
"""
from __future__ import annotations

import argparse
import os
import os.path as osp
import sys
from pathlib import Path
from typing import Optional, Sequence

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a script without installing mmhier
    sys.path.insert(0, str(REPO_ROOT))

from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.hooks import Hook  # noqa: E402
from mmengine.runner import Runner  # noqa: E402
from mmhier.tool_support import (build_runner, load_tool_config,  # noqa: E402
                                 register_mmhier, save_node_map, user_errors)

#: Largest id a 16-bit PNG holds.
class NodeMapWriter(Hook):
    """Save every test prediction (``pred_sem_seg``) as a 16-bit PNG.

    Args:
        out_dir: Folder for ``<image stem>.png`` files; created if missing.
    """

    priority = 'LOWEST'

    def __init__(self, out_dir: str):
        self.out_dir = out_dir
        os.makedirs(out_dir, exist_ok=True)

    def after_test_iter(self, runner: Runner, batch_idx: int, data_batch=None,
                        outputs: Optional[Sequence] = None) -> None:
        for sample in outputs or ():
            stem = osp.splitext(osp.basename(sample.metainfo['img_path']))[0]
            pred = sample.pred_sem_seg.data.squeeze(0).cpu().numpy()
            save_node_map(osp.join(self.out_dir, f'{stem}.png'), pred)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Command-line options (see the module docstring)."""
    parser = argparse.ArgumentParser(description='Test (and evaluate) a segmentor (mmhier)')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir for logs and the metrics JSON '
                        '(default: the config\'s work_dir, else work_dirs/<config stem>)')
    parser.add_argument('--out', help='save predictions as 16-bit PNG node-id maps here')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def build_config(args: argparse.Namespace) -> Config:
    """The config with the command-line options applied.

    Raises:
        FileNotFoundError: The config or checkpoint file does not exist.
    """
    cfg = load_tool_config(args.config, args.launcher, args.cfg_options, args.work_dir)
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint file {args.checkpoint!r} does not exist')
    cfg.load_from = args.checkpoint
    return cfg


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Test; returns the exit status."""
    args = parse_args(argv)
    register_mmhier()
    try:
        cfg = build_config(args)
        runner = build_runner(cfg)
        if args.out is not None:
            runner.register_hook(NodeMapWriter(args.out))
        runner.test()
    except user_errors() as exc:
        print(f'error: {type(exc).__name__}: {exc}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
