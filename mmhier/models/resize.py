"""Bilinear upsampling by bands of output rows, identical to the whole image.

To decide a 12 MP image without holding every classifier's full-resolution
logits, the head upsamples a band of output rows at a time. A pixel's value
must not depend on which band it falls in, or the decision would change with
the memory budget. :class:`BilinearRows` therefore upsamples in two passes
whose per-pixel arithmetic is fixed:

1. rows: ``top * (1 - w) + bottom * w`` with the source rows and weight of
   the output row in the *whole* image (tables computed once for all rows),
   as three separate element-wise tensor operations in the compute dtype
   (fp32, or fp64 for fp64 logits) - each one correctly rounded, so the
   result does not depend on vectorisation, threads or the band's extent;
2. columns: ``F.interpolate`` of that band to the output width with the
   band's own height, i.e. the identity along rows (weights exactly 1 and 0),
   so every pixel sees the same column weights and neighbours in every band.

The whole image is the band ``0:H``, so deciding at once and in bands is the
same computation. bf16 and fp16 logits are upsampled in fp32 (as
``F.interpolate`` itself accumulates them), so low-precision logits are never
rounded between the passes. Values equal ``F.interpolate(mode='bilinear')`` up
to float rounding; logits are assumed finite.

:func:`upsample` is the same arithmetic for the whole image, written so that
a recorded graph (``torch.export``, ONNX) keeps the output size symbolic: the
form the head's decision takes while it is exported.
"""
from __future__ import annotations

from typing import Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """Dtype upsampled logits are computed and returned in: fp64 stays fp64,
    everything else (bf16, fp16, fp32) becomes fp32."""
    return torch.promote_types(dtype, torch.float32)


def _source_index(out_size: int, in_size: int, align_corners: bool, device: torch.device,
                  dtype: torch.dtype) -> tuple[Tensor, Tensor, Tensor]:
    """Lower/upper source index and upper weight of every output position,
    as ``F.interpolate(mode='bilinear')`` maps them."""
    out = torch.arange(out_size, device=device, dtype=dtype)
    if align_corners:
        scale = (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
        src = out * scale
    else:
        src = ((out + 0.5) * (in_size / out_size) - 0.5).clamp(min=0)
    low = src.floor().long().clamp(max=in_size - 1)
    high = (low + 1).clamp(max=in_size - 1)
    return low, high, (src - low).clamp(0, 1)


class BilinearRows:
    """Bilinear upsampling of ``x`` to ``size``, one band of rows at a time.

    Keeps ``x`` and the row tables of the whole output; a band converts only
    the source rows it reads to channels-last in the compute dtype (so they
    are gathered as whole rows, and memory stays proportional to the band).
    Differentiable.

    Args:
        x: Input maps, any float dtype and memory format.
        size: Full output size ``(H, W)``.
        align_corners: As for ``F.interpolate``.

    Shape:
        - x: ``(N, C, h, w)``
    """

    def __init__(self, x: Tensor, size: tuple[int, int], align_corners: bool = False):
        self.x = x
        self.height, self.width = (int(s) for s in size)
        self.align_corners = align_corners
        self.dtype = compute_dtype(x.dtype)
        # computed once for all rows, on the host: band bounds need no device sync
        low, high, weight = _source_index(self.height, x.shape[2], align_corners,
                                          torch.device('cpu'), self.dtype)
        self.first_row, self.last_row = low.tolist(), high.tolist()   # non-decreasing
        self.low, self.high = low.to(x.device), high.to(x.device)
        self.weight_high = weight.view(-1, 1, 1).to(x.device)
        self.weight_low = (1 - weight).view(-1, 1, 1).to(x.device)

    def __call__(self, start: int, stop: int) -> Tensor:
        """Output rows ``start:stop``.

        Returns:
            The band in the compute dtype (see :func:`compute_dtype`), with
            channels-last strides (a pixel's channels are contiguous).

        Shape:
            output: ``(N, C, stop - start, W)``
        """
        first, last = self.first_row[start], self.last_row[stop - 1]
        source = self.x[:, :, first:last + 1].to(self.dtype, memory_format=torch.channels_last)
        source = source.permute(0, 2, 3, 1)                  # (N, rows read, w, C)
        top = source.index_select(1, self.low[start:stop] - first)
        bottom = source.index_select(1, self.high[start:stop] - first)
        top = top.mul_(self.weight_low[start:stop])
        bottom = bottom.mul_(self.weight_high[start:stop])
        rows = top.add_(bottom).permute(0, 3, 1, 2)       # (N, C, rows, w)
        return F.interpolate(rows, size=(stop - start, self.width), mode='bilinear',
                             align_corners=self.align_corners)


def resize_rows(x: Tensor, size: tuple[int, int], start: int, stop: int,
                align_corners: bool = False) -> Tensor:
    """Rows ``start:stop`` of the bilinear upsampling of ``x`` to ``size``;
    bit for bit the same rows as ``resize(x, size)[:, :, start:stop]``.

    Args:
        x: Input maps.
        size: Full output size ``(H, W)``.
        start: First output row.
        stop: One past the last output row.
        align_corners: As for ``F.interpolate``.

    Returns:
        The band, in the compute dtype (see :func:`compute_dtype`).

    Shape:
        - x: ``(N, C, h, w)``
        - output: ``(N, C, stop - start, W)``
    """
    return BilinearRows(x, size, align_corners)(start, stop)


def resize(x: Tensor, size: tuple[int, int], align_corners: bool = False) -> Tensor:
    """Bilinear upsampling of the whole of ``x`` to ``size`` (the band of all
    rows of :class:`BilinearRows`).

    Shape:
        - x: ``(N, C, h, w)``
        - output: ``(N, C, H, W)`` in the compute dtype, channels-last strides
    """
    return BilinearRows(x, size, align_corners)(0, int(size[0]))


def upsample(x: Tensor, size: Sequence, align_corners: bool = False) -> Tensor:
    """Bilinear upsampling of the whole of ``x`` to ``size``, traceable.

    The arithmetic of :class:`BilinearRows` (the band of all rows; equal to
    :func:`resize` bit for bit in PyTorch), written without Python
    conversions of sizes: ``size`` may hold symbolic sizes
    (``image.shape[-2:]`` of a graph input with dynamic height and width), so
    an exported graph resizes to whatever size it is given. The rows pass is
    explicit gathers, products and a sum (each correctly rounded in any
    runtime); the columns pass is ``F.interpolate`` (ONNX ``Resize``), whose
    weights other runtimes round in their own way.

    Args:
        x: Input maps, any float dtype.
        size: Output size ``(H, W)``: ints or symbolic sizes.
        align_corners: As for ``F.interpolate``.

    Returns:
        The upsampled maps in the compute dtype (:func:`compute_dtype`).

    Shape:
        - x: ``(N, C, h, w)``
        - output: ``(N, C, H, W)``
    """
    height, width = size
    dtype = compute_dtype(x.dtype)
    low, high, weight = _source_index(height, x.shape[2], align_corners, x.device, dtype)
    source = x.to(dtype, memory_format=torch.channels_last).permute(0, 2, 3, 1)
    top = source.index_select(1, low) * (1 - weight).view(-1, 1, 1)
    bottom = source.index_select(1, high) * weight.view(-1, 1, 1)
    rows = (top + bottom).permute(0, 3, 1, 2)                  # (N, C, H, w)
    return F.interpolate(rows, size=(height, width), mode='bilinear',
                         align_corners=align_corners)


def row_chunks(height: int, bytes_per_row: int, max_bytes: int) -> Iterator[tuple[int, int]]:
    """Row ranges covering ``0..height`` with at most ``max_bytes`` each.

    Args:
        height: Number of rows.
        bytes_per_row: Memory one output row needs.
        max_bytes: Budget per chunk (at least one row is always taken).

    Yields:
        ``(start, stop)`` pairs.
    """
    rows = max(1, max_bytes // max(1, bytes_per_row))
    for start in range(0, height, rows):
        yield start, min(height, start + rows)
