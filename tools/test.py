"""Test (and evaluate) a checkpoint with an MMSegmentation config.

Takes every option of MMSegmentation's ``tools/test.py``, with the same
meaning::

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out DIR]
                         [--show] [--show-dir DIR] [--wait-time SECONDS] [--tta]
                         [--cfg-options KEY=VALUE ...] [--launcher none|pytorch|slurm|mpi]
                         [--local-rank N] [--debug]

Runs the config's ``test_dataloader`` / ``test_evaluator`` with the weights of
CHECKPOINT and logs the metrics.

* ``--out DIR``: the test metric writes every prediction (as MMSeg's
  ``--out`` asks every metric to: ``output_dir=DIR``, ``keep_results=True``);
  ``HierarchicalIoUMetric`` writes 16-bit PNGs of taxonomy node ids,
  ``DIR/<dataset_key>/<image stem>.png``.
* ``--show`` / ``--show-dir DIR``: the config's ``SegVisualizationHook``
  (``default_hooks.visualization``) draws every prediction with the config's
  ``visualizer`` (mmhier configs: ``TaxonomySegLocalVisualizer``) and shows
  it for ``--wait-time`` seconds or saves it under ``DIR`` (MMEngine's
  ``LocalVisBackend``: ``DIR/vis_data/vis_image/test_<image>_<n>.png``).
* ``--tta``: test-time augmentation: the config's ``tta_pipeline`` replaces
  the test dataset's pipeline and its ``tta_model`` wraps the model
  (mmhier configs: ``TaxonomyTTAModel``, which averages the augmentations'
  scores and maps them to node ids once).

CHECKPOINT is checked before testing: a missing, empty, truncated or damaged
file, a pickle of something else, or weights that do not fit the model at all
are reported in one line (URLs are left to MMEngine).

Exit status: 0 done; 1 a user error, printed as one line on stderr
(``error: <config>[:<line>]: ...`` for config mistakes, such as ``--show-dir``
without a visualization hook or ``--tta`` without ``tta_model`` /
``tta_pipeline``; ``error: checkpoint <file>: ...``; ``error: <type>:
<message>`` for data and taxonomy errors and missing files); 2 bad usage.
``--debug`` (or ``MMHIER_DEBUG=1``) also prints the traceback.
"""
from __future__ import annotations

import argparse
import os
import os.path as osp
import sys
from pathlib import Path
from typing import Any, Optional, Sequence

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a script without installing mmhier
    sys.path.insert(0, str(REPO_ROOT))

from mmengine.config import Config  # noqa: E402

from mmhier.tool_support import (CheckpointNotFoundError, ConfigError,  # noqa: E402
                                 add_cfg_options_argument, add_debug_argument,
                                 build_runner, load_tool_config, read_model_checkpoint,
                                 register_mmhier, run_tool)
from mmhier.tool_support.checkpoints import check_fits_model, is_remote  # noqa: E402
from mmhier.tool_support.config_files import find_assignment  # noqa: E402


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Command-line options (see the module docstring)."""
    parser = argparse.ArgumentParser(description='Test (and evaluate) a segmentor (mmhier)')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir for logs and the metrics JSON '
                        '(default: the config\'s work_dir, else work_dirs/<config stem>)')
    parser.add_argument('--out', help='save the predictions here (the test metric\'s '
                        'output_dir: 16-bit PNG node-id maps, <dataset_key>/<stem>.png)')
    parser.add_argument('--show', action='store_true', help='show prediction results')
    parser.add_argument('--show-dir', help='save the drawn predictions in this directory')
    parser.add_argument('--wait-time', type=float, default=2,
                        help='the interval of show (s)')
    add_cfg_options_argument(parser)
    add_debug_argument(parser)
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--tta', action='store_true', help='test-time augmentation '
                        '(the config\'s tta_pipeline and tta_model)')
    # torch.distributed.launch passes --local-rank (torch >= 2.0) or --local_rank.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def _config_error(config: str, name: str, reason: str) -> ConfigError:
    """A :class:`ConfigError` at the assignment ``name = ...`` (in the config
    or the base that sets it), else naming the config."""
    where = find_assignment(config, name)
    if where is None:
        return ConfigError(config, reason)
    return ConfigError(where.file, reason, where.line)


def enable_visualization(cfg: Config, args: argparse.Namespace) -> None:
    """Turn on drawing in the visualization hook for ``--show`` /
    ``--show-dir`` (as MMSeg's ``trigger_visualization_hook``).

    Raises:
        ConfigError: The config has no ``default_hooks.visualization`` or no
            ``visualizer``.
    """
    hook = (cfg.get('default_hooks') or {}).get('visualization')
    if hook is None:
        raise _config_error(args.config, 'default_hooks',
                            '--show / --show-dir need a visualization hook: add '
                            "visualization=dict(type='SegVisualizationHook') to "
                            'default_hooks')
    hook['draw'] = True
    if args.show:
        hook['show'] = True
        hook['wait_time'] = args.wait_time
    if args.show_dir:
        if cfg.get('visualizer') is None:
            raise ConfigError(args.config, '--show-dir needs a visualizer: add '
                              "visualizer=dict(type='TaxonomySegLocalVisualizer', "
                              "vis_backends=[dict(type='LocalVisBackend')]) (mmhier's "
                              'configs/_base_/default_runtime.py has one)')
        cfg.visualizer['save_dir'] = args.show_dir


def _registered(name: Any) -> Any:
    """The class a config ``type`` names in mmseg's MODELS (``None`` if unknown)."""
    if not isinstance(name, str):
        return name
    from mmseg.registry import MODELS
    return MODELS.get(name)


def enable_tta(cfg: Config, config: str) -> None:
    """Wrap the model in ``tta_model`` and test with ``tta_pipeline`` (as
    MMSeg's ``--tta``).

    Raises:
        ConfigError: ``tta_model`` or ``tta_pipeline`` is missing, or the
            ``tta_model`` would score a taxonomy segmentor's output channels
            as node ids (MMSeg's ``SegTTAModel``).
    """
    from mmhier.models.segmentors import TaxonomyEncoderDecoder, TaxonomyTTAModel
    missing = [name for name in ('tta_model', 'tta_pipeline') if cfg.get(name) is None]
    if missing:
        raise ConfigError(config, f'--tta needs {" and ".join(missing)} in the config: '
                          "tta_model = dict(type='TaxonomyTTAModel') and a tta_pipeline "
                          '(see configs/_base_/default_runtime.py and '
                          'configs/_base_/datasets/*.py)')
    model_cls = _registered(cfg.model.get('type'))
    tta_cls = _registered(cfg.tta_model.get('type'))
    if isinstance(model_cls, type) and issubclass(model_cls, TaxonomyEncoderDecoder) and \
            not (isinstance(tta_cls, type) and issubclass(tta_cls, TaxonomyTTAModel)):
        raise _config_error(config, 'tta_model',
                            f"tta_model type {cfg.tta_model.get('type')!r} does not map "
                            f'the scores of {model_cls.__name__} to node ids (MMSeg\'s '
                            'SegTTAModel returns output-channel indices); set tta_model '
                            "= dict(type='TaxonomyTTAModel')")
    cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
    cfg.tta_model.module = cfg.model
    cfg.model = cfg.tta_model


def set_output_dir(cfg: Config, out: str) -> None:
    """Let the test metric(s) write their predictions to ``out`` (as MMSeg's
    ``--out``: ``output_dir`` and ``keep_results``)."""
    evaluator = cfg.test_evaluator
    metrics = evaluator if isinstance(evaluator, (list, tuple)) else [evaluator]
    for metric in metrics:
        metric['output_dir'] = out
        metric['keep_results'] = True


def build_config(args: argparse.Namespace) -> Config:
    """The config with the command-line options applied.

    Raises:
        FileNotFoundError: The config file does not exist.
        CheckpointNotFoundError: The checkpoint does not exist.
        ConfigError: The config or an option is wrong, or an option needs
            something the config lacks.
    """
    cfg = load_tool_config(args.config, args.launcher, args.cfg_options, args.work_dir)
    if not is_remote(args.checkpoint) and not osp.exists(args.checkpoint):
        raise CheckpointNotFoundError(args.checkpoint, 'does not exist (CHECKPOINT '
                                      'argument); check the path')
    cfg.load_from = args.checkpoint
    if args.show or args.show_dir:
        enable_visualization(cfg, args)
    if args.tta:
        enable_tta(cfg, args.config)
    if args.out is not None:
        set_output_dir(cfg, args.out)
    return cfg


def test(args: argparse.Namespace) -> None:
    """Check the checkpoint, build the runner, test.

    The checkpoint is read before the runner is built: where the config's
    taxonomy file is missing, the copy embedded in the checkpoint is used
    (a file that exists but differs is refused when the weights load).
    """
    register_mmhier()
    cfg = build_config(args)
    weights = read_model_checkpoint(args.checkpoint)
    runner = build_runner(cfg)
    if weights is not None:
        check_fits_model(args.checkpoint, weights, runner.model)
    runner.test()


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Test; returns the exit status."""
    args = parse_args(argv)
    return run_tool(lambda: test(args), config=args.config,
                    cfg_options=args.cfg_options, debug=args.debug)


if __name__ == '__main__':
    sys.exit(main())
