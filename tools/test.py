"""Test (and evaluate) a checkpoint with an MMSegmentation config.

Behaves like MMSegmentation's ``tools/test.py``::

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out DIR]
                         [--cfg-options KEY=VALUE ...] [--launcher none|pytorch|slurm|mpi]

Runs the config's ``test_dataloader`` / ``test_evaluator`` with the weights of
CHECKPOINT and logs the metrics. ``--out DIR`` also saves every prediction as
a 16-bit PNG of taxonomy node ids, ``DIR/<image stem>.png`` (with
``TaxonomyEncoderDecoder``; other segmentors save their class indices).

CHECKPOINT is checked before testing: a missing, empty, truncated or damaged
file, a pickle of something else, or weights that do not fit the model at all
are reported in one line (URLs are left to MMEngine).

Exit status: 0 done; 1 a user error, printed as one line on stderr
(``error: <config>[:<line>]: ...`` for config mistakes, ``error: checkpoint
<file>: ...``, ``error: <type>: <message>`` for data and taxonomy errors and
missing files); 2 bad usage. ``--debug`` (or ``MMHIER_DEBUG=1``) also prints
the traceback.
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

from mmengine.config import Config  # noqa: E402
from mmengine.hooks import Hook  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from mmhier.tool_support import (CheckpointNotFoundError,  # noqa: E402
                                 add_cfg_options_argument, add_debug_argument,
                                 build_runner, check_checkpoint, load_tool_config,
                                 register_mmhier, run_tool, save_node_map)
from mmhier.tool_support.checkpoints import is_remote  # noqa: E402


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
    add_cfg_options_argument(parser)
    add_debug_argument(parser)
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
        FileNotFoundError: The config file does not exist.
        CheckpointNotFoundError: The checkpoint does not exist.
        ConfigError: The config or an option is wrong.
    """
    cfg = load_tool_config(args.config, args.launcher, args.cfg_options, args.work_dir)
    if not is_remote(args.checkpoint) and not osp.exists(args.checkpoint):
        raise CheckpointNotFoundError(args.checkpoint, 'does not exist (CHECKPOINT '
                                      'argument); check the path')
    cfg.load_from = args.checkpoint
    return cfg


def test(args: argparse.Namespace) -> None:
    """Build the runner, check the checkpoint, test."""
    register_mmhier()
    cfg = build_config(args)
    runner = build_runner(cfg)
    check_checkpoint(args.checkpoint, runner.model, purpose='CHECKPOINT argument')
    if args.out is not None:
        runner.register_hook(NodeMapWriter(args.out))
    runner.test()


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Test; returns the exit status."""
    args = parse_args(argv)
    return run_tool(lambda: test(args), config=args.config,
                    cfg_options=args.cfg_options, debug=args.debug)


if __name__ == '__main__':
    sys.exit(main())
