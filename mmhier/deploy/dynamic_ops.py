"""Layers whose ONNX form would fix the input size, and their replacements.

ONNX has no adaptive pooling: the exporter writes ``adaptive_avg_pool2d`` to
an ``s x s`` grid (pyramid pooling: PSPNet's ``PPM``, Fast-SCNN) as an
``AveragePool`` whose kernel and stride come from the example input, so a
graph exported with dynamic height and width silently pools wrongly at every
other size. Global pooling (``1 x 1``) has a dynamic form and is kept.

:func:`dynamic_size_pooling` swaps every ``nn.AdaptiveAvgPool2d`` of a
model for :class:`AdaptiveAvgPool2dAnySize` while the graph is recorded:
the same bins as PyTorch (row ``i`` of ``s`` averages input rows
``floor(i * H / s)`` to ``ceil((i + 1) * H / s) - 1``), computed from the
symbolic size with two small averaging matrices (equal to PyTorch's up to
float rounding). :func:`fixed_size_ops` finds what is left, e.g. a
functional ``F.adaptive_avg_pool2d`` in a model's code.
"""
from __future__ import annotations

import contextlib
from typing import Iterator

import torch
from torch import Tensor, nn


def _bin_matrix(size, bins: int, like: Tensor) -> Tensor:
    """``(bins, size)`` averaging weights of PyTorch's adaptive pooling bins."""
    index = torch.arange(bins, device=like.device)
    start = (index * size) // bins
    stop = ((index + 1) * size + bins - 1) // bins
    position = torch.arange(size, device=like.device)
    inside = (position >= start[:, None]) & (position < stop[:, None])
    return inside.to(like.dtype) / (stop - start)[:, None].to(like.dtype)


class AdaptiveAvgPool2dAnySize(nn.Module):
    """``nn.AdaptiveAvgPool2d`` to a fixed grid, traceable at any input size.

    Args:
        output_size: Grid ``(h, w)`` (an int: square; ``None`` keeps the size).

    Shape:
        - input: ``(N, C, H, W)``
        - output: ``(N, C, h, w)``
    """

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, x: Tensor) -> Tensor:
        size = self.output_size
        rows, cols = (size, size) if isinstance(size, int) else size
        rows = x.shape[-2] if rows is None else rows
        cols = x.shape[-1] if cols is None else cols
        left = _bin_matrix(x.shape[-2], rows, x)                 # (rows, H)
        right = _bin_matrix(x.shape[-1], cols, x).transpose(0, 1)  # (W, cols)
        return torch.matmul(torch.matmul(left, x), right)


def _is_global(output_size) -> bool:
    sizes = (output_size, output_size) if isinstance(output_size, int) else tuple(output_size)
    return all(s == 1 for s in sizes)


@contextlib.contextmanager
def dynamic_size_pooling(model: nn.Module) -> Iterator[int]:
    """Within the block, every non-global ``nn.AdaptiveAvgPool2d`` of
    ``model`` is an :class:`AdaptiveAvgPool2dAnySize`; restored afterwards.

    Yields:
        The number of layers swapped.
    """
    swapped = []
    for parent in model.modules():
        for name, child in list(parent.named_children()):
            if type(child) is nn.AdaptiveAvgPool2d and not _is_global(child.output_size):
                setattr(parent, name, AdaptiveAvgPool2dAnySize(child.output_size))
                swapped.append((parent, name, child))
    try:
        yield len(swapped)
    finally:
        for parent, name, child in swapped:
            setattr(parent, name, child)


#: ATen operators whose ONNX form fixes the input size (unless global).
_FIXED_SIZE_OPS = ('adaptive_avg_pool2d', '_adaptive_avg_pool2d', 'adaptive_max_pool2d',
                   'adaptive_avg_pool3d', 'adaptive_max_pool3d', 'adaptive_avg_pool1d',
                   'adaptive_max_pool1d')


def fixed_size_ops(program: torch.export.ExportedProgram) -> list[str]:
    """Operators of a recorded program that ONNX can only express for the
    example size: adaptive pooling to a grid larger than ``1 x 1``.

    Returns:
        ``'<op> to <grid> (in <module>)'`` per occurrence.
    """
    found = []
    for node in program.graph.nodes:
        if node.op != 'call_function':
            continue
        name = getattr(node.target, '__name__', str(node.target)).split('.')[0]
        if name not in _FIXED_SIZE_OPS:
            continue
        grid = node.args[1] if len(node.args) > 1 else None
        if grid is not None and _is_global(grid):
            continue
        stack = node.meta.get('nn_module_stack') or {}
        where = (next(reversed(stack.values()))[0] if stack else '') or 'the model'
        found.append(f'{name} to {tuple(grid) if grid is not None else "?"} (in {where})')
    return found
