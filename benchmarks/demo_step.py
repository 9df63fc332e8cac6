"""Training-step time of the demo's models, side by side.

One training step as ``tools/train.py`` runs it (data preprocessing, forward,
loss, backward, the config's optimiser step) on real batches of the demo's
synthetic data (``RatioBatchSampler``, 1 : 2 : 1, 128x256 crops), for:

- ``hier`` / ``flat``: ``configs/demo/hier_tiny_street.py`` and
  ``configs/demo/flat_tiny_street.py`` (Fast-SCNN);
- ``hier mnv2`` / ``flat mnv2``: the same heads on the earlier demo backbone,
  MobileNetV2-D8 at half width (output stride 8);
- ``hier adamw``: ``hier`` with the unfused AdamW.

Best of ``--repeat`` timings of ``--steps`` steps (cycling over the fetched
batches) after a warm-up; ratios against ``flat``. The data (a few images
per set) is written to a temporary folder first.

Usage:
    python benchmarks/demo_step.py [--steps 10] [--repeat 3] [--threads 2]
"""
from __future__ import annotations

import argparse
import copy
import os
import sys
import tempfile
from pathlib import Path

import torch

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
os.chdir(REPO_ROOT)

from mmengine.config import Config  # noqa: E402
from mmengine.optim import build_optim_wrapper  # noqa: E402
from mmengine.registry import DefaultScope  # noqa: E402
from mmengine.runner import Runner  # noqa: E402
from mmseg.registry import MODELS  # noqa: E402
from mmseg.utils import register_all_modules  # noqa: E402
from timing import best_time  # noqa: E402

import mmhier  # noqa: E402,F401  (registers)
from mmhier.demo import DemoDataConfig, make_demo_data  # noqa: E402

CONFIGS = {'hier': 'configs/demo/hier_tiny_street.py',
           'flat': 'configs/demo/flat_tiny_street.py'}
#: The earlier demo backbone and where its head reads.
MOBILENET = dict(backbone=dict(_delete_=True, type='MobileNetV2', widen_factor=0.5,
                               strides=(1, 2, 2, 1, 1, 1, 1),
                               dilations=(1, 1, 1, 2, 2, 4, 4), out_indices=(1, 2, 4, 6),
                               norm_cfg=dict(type='BN', requires_grad=True)),
                 decode_head=dict(in_channels=160, in_index=3))


def load_config(name: str, data_root: str) -> Config:
    """The config of one compared model."""
    os.environ['DEMO_DATA_ROOT'] = data_root
    base, _, variant = name.partition(' ')
    cfg = Config.fromfile(CONFIGS[base])
    if variant == 'mnv2':
        cfg.merge_from_dict(dict(model=copy.deepcopy(MOBILENET)))
    if variant == 'adamw':
        cfg.optim_wrapper.optimizer.pop('fused')
    cfg.train_dataloader.num_workers = 0
    cfg.train_dataloader.persistent_workers = False
    return cfg


def step_fn(cfg: Config, batches: list):
    """One training step per call, cycling over ``batches``."""
    model = MODELS.build(cfg.model)
    model.train()
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    position = [0]

    def step() -> None:
        batch = batches[position[0] % len(batches)]
        position[0] += 1
        data = model.data_preprocessor(batch, True)
        losses = model(**data, mode='loss')
        loss, _ = model.parse_losses(losses)
        optim.update_params(loss)
    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--steps', type=int, default=10, help='steps per timing')
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--threads', type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    register_all_modules()
    names = ['flat', 'hier', 'hier adamw', 'flat mnv2', 'hier mnv2']
    with tempfile.TemporaryDirectory() as tmp:
        make_demo_data(tmp, DemoDataConfig(num_city=8, num_vistas=16, num_gtsdb=8,
                                           num_val=1), progress=None)
        results = {}
        for name in names:
            cfg = load_config(name, tmp)
            with DefaultScope.overwrite_default_scope('mmseg'):
                loader = Runner.build_dataloader(cfg.train_dataloader, seed=0)
            torch.manual_seed(0)
            batches = [batch for batch, _ in zip(loader, range(4))]
            step = step_fn(cfg, batches)

            def steps(step=step) -> None:
                for _ in range(args.steps):
                    step()
            results[name] = best_time(steps, args.repeat) / args.steps
    base = results['flat']
    print(f'training step, batch 4 (1 : 2 : 1), 128x256 crops, {args.threads} threads')
    print(f'{"model":<12} {"ms/step":>8} {"vs flat":>8}')
    for name in names:
        print(f'{name:<12} {results[name] * 1000:8.1f} {results[name] / base:8.2f}')


if __name__ == '__main__':
    main()
