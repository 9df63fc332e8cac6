"""Bilinear upsampling of row ranges, for deciding large images in chunks.

``F.interpolate`` produces the whole output at once. To decide a 12 MP image
without holding every classifier's full-resolution logits, the head upsamples
a band of output rows at a time with :func:`resize_rows`, which computes the
same bilinear weights as ``F.interpolate`` (``mode='bilinear'``) for just
those rows.
"""
from __future__ import annotations

from typing import Iterator

import torch
from torch import Tensor


def _source_index(out_size: int, in_size: int, align_corners: bool,
                  device: torch.device) -> tuple[Tensor, Tensor, Tensor]:
    """Lower/upper source index and upper weight of every output position."""
    out = torch.arange(out_size, device=device, dtype=torch.float32)
    if align_corners:
        scale = (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
        src = out * scale
    else:
        src = ((out + 0.5) * (in_size / out_size) - 0.5).clamp(min=0)
    low = src.floor().long().clamp(max=in_size - 1)
    high = (low + 1).clamp(max=in_size - 1)
    return low, high, (src - low).clamp(0, 1)


def resize_rows(x: Tensor, size: tuple[int, int], start: int, stop: int,
                align_corners: bool = False) -> Tensor:
    """Rows ``start:stop`` of ``F.interpolate(x, size, mode='bilinear')``.

    Args:
        x: Input maps.
        size: Full output size ``(H, W)``.
        start: First output row.
        stop: One past the last output row.
        align_corners: As for ``F.interpolate``.

    Returns:
        The band of output rows.

    Shape:
        - x: ``(N, C, h, w)``
        - output: ``(N, C, stop - start, W)``
    """
    height, width = size
    r_low, r_high, r_w = _source_index(height, x.shape[2], align_corners, x.device)
    c_low, c_high, c_w = _source_index(width, x.shape[3], align_corners, x.device)
    r_low, r_high, r_w = r_low[start:stop], r_high[start:stop], r_w[start:stop]
    rows = torch.lerp(x[:, :, r_low], x[:, :, r_high], r_w.view(1, 1, -1, 1).to(x.dtype))
    return torch.lerp(rows[..., c_low], rows[..., c_high], c_w.to(x.dtype))


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
