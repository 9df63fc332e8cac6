"""Head and decision cost against the number of classifiers: hierarchical
heads vs a flat head over the same leaves, side by side.

Random trees of ``--nodes`` nodes (branching 2..8, the generator of
``taxonomy_scaling.py``), head input features ``--features`` (default
1x256x64x128: a 512x1024 image at output stride 8), decisions at ``--size``
(default 512x1024), labels at ``--train-size`` (default 256x512: at 512x1024
the upsampled logits, their log-softmax and gradients of 3,000 classes take
more than the 24 GB of the machine this was written on, for flat and
hierarchical heads alike). Heads (256-wide shared 1x1 layer in all):

- ``branches``: HierarchicalDecodeHead as in the paper, one bottleneck branch
  per classifier,
- ``shared``: the scalable form, ``shared_branch=dict()``: one bottleneck
  shared by all classifiers, every 1x1 classifier and transposed convolution
  fused (``--own-level L`` keeps own branches for classifiers at level <= L),
- ``flat``: MMSeg's FCNHead with one 1x1 conv to 256 channels and a 1x1
  classifier over all leaves.

Timed, best of ``--repeat`` after a warm-up:

- inference: head forward + upsampling to ``--size`` + decision (greedy
  ``decide`` for the hierarchical heads, within their default
  ``max_upsample_bytes``; flat: channels-last bilinear upsampling + argmax),
- train step: head forward + loss at ``--train-size`` (HierarchicalLoss /
  cross-entropy) + backward.

Ratios are against ``flat``. The hierarchical and flat heads see the same
features and labels (random leaves).

Usage:
    python benchmarks/taxonomy_size_speed.py [--nodes 100 1000 3000] [--repeat 2]
"""
from __future__ import annotations

import argparse
from typing import Callable

import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg.utils import register_all_modules
from taxonomy_scaling import random_taxonomy
from timing import best_time

import mmhier.models  # noqa: F401  (registers)
from mmhier.taxonomy import Taxonomy

NORM = dict(type='BN', requires_grad=True)


def head_configs(tax: Taxonomy, channels: int, own_level: int) -> dict[str, dict]:
    hier = dict(type='HierarchicalDecodeHead', taxonomy=tax, in_channels=channels,
                channels=256, norm_cfg=NORM, align_corners=False)
    own = dict(max_level=own_level) if own_level else None
    return {
        'branches': hier,
        'shared': dict(hier, shared_branch=dict(), own_branches=own),
        'flat': dict(type='FCNHead', in_channels=channels, channels=256, num_convs=1,
                     kernel_size=1, concat_input=False, norm_cfg=NORM,
                     num_classes=tax.num_leaves, align_corners=False),
    }


def inference_fn(head, features: torch.Tensor, size) -> Callable[[], torch.Tensor]:
    if hasattr(head, 'decide'):
        return lambda: head.decide(head.forward([features]), size)
    return lambda: F.interpolate(
        head.forward([features]).contiguous(memory_format=torch.channels_last),
        size=size, mode='bilinear', align_corners=False).argmax(dim=1)


def train_fn(head, features: torch.Tensor, samples) -> Callable[[], None]:
    def step() -> None:
        losses = head.loss([features], samples, None)
        sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    return step


def samples_for(tax: Taxonomy, hierarchical: bool, batch: int, size) -> list:
    """Random leaf labels: node ids for the hierarchical heads, leaf
    positions for the flat one (the same leaves)."""
    generator = torch.Generator().manual_seed(0)
    out = []
    for _ in range(batch):
        leaf = torch.randint(0, tax.num_leaves, (1, *size), generator=generator)
        labels = torch.as_tensor(tax.leaf_indices.copy())[leaf] if hierarchical else leaf
        sample = SegDataSample(metainfo=dict(dataset_key='fine'))
        sample.gt_sem_seg = PixelData(data=labels)
        out.append(sample)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--nodes', type=int, nargs='+', default=[100, 1000, 3000])
    parser.add_argument('--features', default='1x256x64x128', help='NxCxHxW')
    parser.add_argument('--size', default='512x1024', help='HxW of decisions')
    parser.add_argument('--train-size', default='256x512', help='HxW of labels')
    parser.add_argument('--repeat', type=int, default=2)
    parser.add_argument('--own-level', type=int, default=0,
                        help='shared: own branches for classifiers at level <= this')
    parser.add_argument('--models', nargs='+', default=['branches', 'shared', 'flat'])
    parser.add_argument('--no-train', action='store_true', help='inference only')
    args = parser.parse_args()
    register_all_modules(init_default_scope=True)
    batch, channels, height, width = (int(v) for v in args.features.split('x'))
    size = tuple(int(v) for v in args.size.split('x'))
    train_size = tuple(int(v) for v in args.train_size.split('x'))
    torch.manual_seed(0)
    features = torch.randn(batch, channels, height, width)
    print(f'features {args.features}, decisions at {args.size}, labels at '
          f'{args.train_size}, '
          f'{torch.get_num_threads()} threads, best of {args.repeat}')
    print(f"{'nodes':>6} {'classif':>7} {'leaves':>6} {'head':>9} {'inference [ms]':>15} "
          f"{'x flat':>7} {'train step [ms]':>16} {'x flat':>7}")
    for nodes in args.nodes:
        tax = Taxonomy.from_dict(random_taxonomy(nodes))
        configs = head_configs(tax, channels, args.own_level)
        rows = {}
        for name in args.models:
            torch.manual_seed(0)
            head = MODELS.build(configs[name]).eval()
            with torch.no_grad():
                infer = best_time(inference_fn(head, features, size), args.repeat)
            train = float('nan')
            if not args.no_train:
                head.train()
                samples = samples_for(tax, name != 'flat', batch, train_size)
                train = best_time(train_fn(head, features, samples), args.repeat)
            rows[name] = (infer, train)
            del head
        base_i, base_t = rows.get('flat', next(iter(rows.values())))
        for name, (infer, train) in rows.items():
            print(f'{nodes:>6} {tax.num_classifiers:>7} {tax.num_leaves:>6} {name:>9} '
                  f'{infer * 1e3:>15.0f} {infer / base_i:>7.2f} {train * 1e3:>16.0f} '
                  f'{train / base_t:>7.2f}', flush=True)


if __name__ == '__main__':
    main()
