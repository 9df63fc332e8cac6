"""Speed of backbone + HierarchicalDecodeHead against flat heads, side by side.

Models (same ResNet-50-D8 backbone, random weights):

- ``hier``: HierarchicalDecodeHead generated from ``--taxonomy`` (default
  the paper's 108-class tree: 5 classifiers, 107 leaves), greedy decision.
- ``flat``: shared 1x1 conv + BN + ReLU to 256 channels, then a flat 1x1
  classifier over all leaves (the same shared width as ``hier``).
- ``fcn``: MMSeg's FCNHead (2 3x3 convs, 512 channels, concat input) over all
  leaves, and ``fcn19``: the same with Cityscapes' 19 classes.

Timed, best of ``--repeat`` after a warm-up, batch ``--batch``:

- inference: backbone + head + bilinear upsampling to input size + the
  decision (flat: argmax; hier: the greedy top-down decision, ``decide``),
  both upsampling channels-last,
- training: forward + hierarchical / cross-entropy loss + backward.

Ratios are against ``flat``. CPU by default; on a GPU:
``--device cuda --amp bf16 --channels-last --cuda-graphs`` (graphs: inference).

Usage:
    python benchmarks/head_speed.py [--sizes 520x706 512x1024] [--repeat 3]
"""
from __future__ import annotations

import argparse
import contextlib
from typing import Callable

import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg.utils import register_all_modules
from timing import best_time

import mmhier.models  # noqa: F401  (registers)
from mmhier.taxonomy import load_taxonomy

BACKBONE = dict(type='ResNetV1c', depth=50, num_stages=4, out_indices=(0, 1, 2, 3),
                dilations=(1, 1, 2, 4), strides=(1, 2, 1, 1),
                norm_cfg=dict(type='BN', requires_grad=True), norm_eval=False,
                style='pytorch', contract_dilation=True)
NORM = dict(type='BN', requires_grad=True)


def heads(taxonomy: str, num_leaves: int) -> dict[str, dict]:
    """Decode-head configs of the compared models."""
    fcn = dict(type='FCNHead', in_channels=2048, in_index=3, channels=512, num_convs=2,
               concat_input=True, dropout_ratio=0.1, norm_cfg=NORM, align_corners=False)
    return {
        'hier': dict(type='HierarchicalDecodeHead', taxonomy=taxonomy, in_channels=2048,
                     in_index=3, channels=256, norm_cfg=NORM, align_corners=False),
        'flat': dict(type='FCNHead', in_channels=2048, in_index=3, channels=256,
                     num_convs=1, kernel_size=1, concat_input=False, norm_cfg=NORM,
                     num_classes=num_leaves, align_corners=False),
        'fcn': dict(fcn, num_classes=num_leaves),
        'fcn19': dict(fcn, num_classes=19),
    }


def build(head: dict, device: torch.device, channels_last: bool) -> torch.nn.Module:
    model = MODELS.build(dict(type='EncoderDecoder', backbone=BACKBONE,
                              decode_head=head, test_cfg=dict(mode='whole')))
    model = model.to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    return model


def inference_fn(model, x: torch.Tensor) -> Callable[[], torch.Tensor]:
    size = x.shape[-2:]
    head = model.decode_head
    if hasattr(head, 'decide'):
        return lambda: head.decide(head.forward(model.extract_feat(x)), size)
    # Same upsample + argmax as the hierarchical head (channels-last, which
    # makes the per-pixel argmax contiguous): a like-for-like baseline.
    return lambda: F.interpolate(
        head.forward(model.extract_feat(x)).contiguous(memory_format=torch.channels_last),
        size=size, mode='bilinear', align_corners=False).argmax(dim=1)


def training_fn(model, x: torch.Tensor, samples) -> Callable[[], None]:
    def step() -> None:
        losses = model.loss(x, samples)
        total = sum(v for k, v in losses.items() if 'loss' in k)
        total.backward()
    return step


def samples_for(tax, head: torch.nn.Module, batch: int, size, device) -> list:
    """Random labels: leaf indices for flat heads, their node ids for hier."""
    hierarchical = hasattr(head, 'taxonomy')
    out = []
    for _ in range(batch):
        sample = SegDataSample(metainfo=dict(dataset_key=tax.dataset_keys[0]))
        leaf = torch.randint(0, head.out_channels, (1, *size), device=device)
        labels = torch.as_tensor(tax.leaf_indices.copy(), device=device)[leaf] \
            if hierarchical else leaf
        sample.gt_sem_seg = PixelData(data=labels)
        out.append(sample)
    return out


def graphed(fn: Callable[[], torch.Tensor]) -> Callable[[], torch.Tensor]:
    """Capture ``fn`` (static input) in a CUDA graph and replay it."""
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for _ in range(3):
            fn()
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        out = fn()

    def replay() -> torch.Tensor:
        graph.replay()
        return out
    return replay


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--taxonomy', default='taxonomies/cs_vistas_gtsdb.yaml')
    parser.add_argument('--sizes', nargs='+', default=['520x706', '512x1024'])
    parser.add_argument('--batch', type=int, default=1)
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--amp', choices=['none', 'bf16', 'fp16'], default='none')
    parser.add_argument('--channels-last', action='store_true')
    parser.add_argument('--cuda-graphs', action='store_true')
    parser.add_argument('--no-train', action='store_true', help='inference only')
    parser.add_argument('--models', nargs='+', default=['hier', 'flat', 'fcn', 'fcn19'])
    args = parser.parse_args()
    register_all_modules(init_default_scope=True)
    device = torch.device(args.device)
    tax = load_taxonomy(args.taxonomy)
    dtype = {'bf16': torch.bfloat16, 'fp16': torch.float16}.get(args.amp)
    autocast = (lambda: torch.autocast(device.type, dtype=dtype)) if dtype else \
        contextlib.nullcontext
    configs = heads(args.taxonomy, tax.num_leaves)
    print(f'taxonomy {tax.name}: {tax.num_classifiers} classifiers, {tax.num_leaves} '
          f'leaves | device {device} amp {args.amp} channels_last {args.channels_last} '
          f'cuda_graphs {args.cuda_graphs} batch {args.batch}')
    for size_text in args.sizes:
        size = tuple(int(v) for v in size_text.split('x'))
        torch.manual_seed(0)
        x = torch.randn(args.batch, 3, *size, device=device)
        if args.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        rows = {}
        for name in args.models:
            model = build(configs[name], device, args.channels_last)
            model.eval()
            with torch.no_grad(), autocast():
                fn = inference_fn(model, x)
                if args.cuda_graphs and device.type == 'cuda':
                    fn = graphed(fn)
                infer = best_time(fn, args.repeat, device)
            train = float('nan')
            if not args.no_train:
                model.train()
                samples = samples_for(tax, model.decode_head, args.batch, size, device)
                with autocast():
                    train = best_time(training_fn(model, x, samples), args.repeat, device)
            rows[name] = (infer, train)
            del model
        base_i, base_t = rows.get('flat', next(iter(rows.values())))
        print(f'\n{size_text}: {"model":<7} {"inference [ms]":>15} {"x flat":>7} '
              f'{"train step [ms]":>16} {"x flat":>7}')
        for name, (infer, train) in rows.items():
            print(f'{"":<{len(size_text) + 2}}{name:<7} {infer * 1e3:>15.1f} '
                  f'{infer / base_i:>7.2f} {train * 1e3:>16.1f} {train / base_t:>7.2f}')


if __name__ == '__main__':
    main()
