"""Would fusing the head's identical branches into grouped convolutions help?

The hierarchical head runs one bottleneck block per classifier on the same
shared features. Same-shaped branches can be fused: the first 1x1 convolution
of all branches becomes one wider convolution (they share the input), the 3x3
and the last 1x1 become grouped convolutions (``groups = branches``). This
script times both forms side by side (forward in eval mode, forward + backward
in train mode) on the feature map of a 520x706 input at output stride 8.

Measured on the 2-core CPU (torch 2.13): fused inference 2-4 % faster,
forward + backward 7-16 % slower, so the head keeps separate branches; on a GPU,
where the fused form saves kernel launches, run this script with
``--device cuda`` before changing that.

Usage:
    python benchmarks/branch_fusion.py [--branches 5] [--width 256] [--device cpu]
"""
from __future__ import annotations

import argparse

import torch
from torch import nn

from timing import best_time

from mmhier.models.heads.branch import BottleneckBlock


class FusedBottlenecks(nn.Module):
    """``branches`` bottleneck blocks on one input, as grouped convolutions."""

    def __init__(self, branches: int, width: int):
        super().__init__()
        inner = width // 4
        self.branches, self.width = branches, width
        self.body = nn.Sequential(
            nn.Conv2d(width, branches * inner, 1, bias=False),
            nn.BatchNorm2d(branches * inner), nn.ReLU(inplace=True),
            nn.Conv2d(branches * inner, branches * inner, 3, padding=1, groups=branches,
                      bias=False),
            nn.BatchNorm2d(branches * inner), nn.ReLU(inplace=True),
            nn.Conv2d(branches * inner, branches * width, 1, groups=branches, bias=False),
            nn.BatchNorm2d(branches * width))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        y = self.body(x).view(x.shape[0], self.branches, self.width, *x.shape[2:])
        return list(torch.relu(y + x.unsqueeze(1)).unbind(1))


class SeparateBottlenecks(nn.Module):
    """The head's form: one :class:`BottleneckBlock` per branch."""

    def __init__(self, branches: int, width: int):
        super().__init__()
        self.blocks = nn.ModuleList(
            BottleneckBlock(width, width, norm_cfg=dict(type='BN'))
            for _ in range(branches))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [block(x) for block in self.blocks]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--branches', type=int, default=5)
    parser.add_argument('--width', type=int, default=256)
    parser.add_argument('--size', type=int, nargs=2, default=[66, 89])
    parser.add_argument('--repeat', type=int, default=5)
    parser.add_argument('--device', default='cpu')
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.manual_seed(0)
    x = torch.randn(1, args.width, *args.size, device=device)
    times = {}
    for name, module in (('separate', SeparateBottlenecks(args.branches, args.width)),
                         ('fused', FusedBottlenecks(args.branches, args.width))):
        module = module.to(device)
        module.eval()
        with torch.no_grad():
            infer = best_time(lambda: module(x), args.repeat, device) * 1e3
        module.train()

        def step() -> None:
            sum(o.sum() for o in module(x)).backward()
        times[name] = (infer, best_time(step, args.repeat, device) * 1e3)
    print(f'{args.branches} bottleneck branches, width {args.width}, features '
          f'{args.size[0]}x{args.size[1]}, {device}')
    for name, (infer, train) in times.items():
        print(f'{name:<9} inference {infer:7.1f} ms   forward+backward {train:7.1f} ms')
    (si, st), (fi, ft) = times['separate'], times['fused']
    print(f'fused / separate: inference {fi / si:.2f}, forward+backward {ft / st:.2f}')


if __name__ == '__main__':
    main()
