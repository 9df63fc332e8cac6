"""Pseudo masks from bounding boxes: a sign's shape inscribed in its box.

The paper trains the deeper classifiers from GTSDB bounding boxes by turning
every box into a pseudo per-pixel mask, either the whole box or the sign's
outline inscribed in it. This module draws those outlines.

Geometry. A box ``(x1, y1, x2, y2)`` uses inclusive pixel coordinates as in
GTSDB: it covers the pixel columns ``x1 .. x2`` and rows ``y1 .. y2``, i.e. the
continuous rectangle ``[x1 - 0.5, x2 + 0.5] x [y1 - 0.5, y2 + 0.5]`` of width
``W = x2 - x1 + 1`` and height ``H = y2 - y1 + 1``. A pixel belongs to a shape
when its centre lies inside the shape or on its border (no anti-aliasing).
With ``u, v`` the pixel centre's offset from the box centre divided by the
half-width ``W / 2`` and half-height ``H / 2`` (so the box is
``|u| <= 1, |v| <= 1``), the shapes (:data:`~mmhier.taxonomy.class_attributes.SHAPES`,
the vocabulary the taxonomy validator checks ``attributes.shape`` against) are:

=====================  ===============================  ======================
shape                  inside when                      GTSDB signs
=====================  ===============================  ======================
``box``                always (the whole box)           the authors' "coarse"
``circle``             ``u^2 + v^2 <= 1`` (an ellipse   prohibitory, mandatory
                       for non-square boxes)
``triangle``           ``|u| <= (1 + v) / 2``: apex at  danger
                       the top centre, base = bottom
``inverted_triangle``  ``|u| <= (1 - v) / 2``: apex at  give way
                       the bottom centre, base = top
``diamond``            ``|u| + |v| <= 1``: corners at   priority road
                       the edge midpoints
``octagon``            ``|u| + |v| <= sqrt(2)``: the    stop
                       regular octagon with flat top,
                       bottom and sides
=====================  ===============================  ======================

The tests are evaluated in doubled integer coordinates (``2 * offset`` and
``W``, ``H`` are integers for integer boxes), so pixels exactly on a border
are decided exactly, without floating-point rounding.

Overlaps. A pixel covered by the shapes of several boxes belongs to the box
with the **smallest box area** ``W * H`` (a small sign in front of a large
one); among boxes of equal area the **later** one (higher index, i.e. later
line of ``gt.txt``) wins. Pixels of a box that its own shape does not cover
belong to another box whose shape covers them, or to none.

Cost. Every box is drawn on its own bounding window only, with vectorised
tests over the window's pixels (one broadcast comparison of per-row
thresholds against per-column offsets) and one write; no Python loop runs
over pixels or rows. The shape of an integer box depends only on
``(shape, W, H)``; it is computed once and cached as an int32 stamp (0 inside,
-1 outside), so that later epochs over the same boxes only copy stamps into
the map (``stamp | value``, one ufunc) or, where boxes overlap, do one masked
write. The fixed cost is allocating the ``-1`` map itself.
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import Any, Optional, Sequence, Union

import numpy as np

from mmhier.taxonomy.class_attributes import (BOX, CIRCLE, DIAMOND, INVERTED_TRIANGLE,
                                             OCTAGON, SHAPES, TRIANGLE, shape_id)

__all__ = ['BOX', 'CIRCLE', 'DIAMOND', 'INVERTED_TRIANGLE', 'OCTAGON', 'SHAPES',
           'TRIANGLE', 'clear_shape_cache', 'ignore_map', 'rasterize_shapes', 'shape_id', 'shape_mask']

_SQRT2 = math.sqrt(2.0)
#: Above this many boxes, overlaps are not tracked (the check is quadratic)
#: and every shape is drawn with a masked write.
_MAX_TRACKED = 64


def ignore_map(height: int, width: int, dtype: Any = np.int32) -> np.ndarray:
    """A new signed-integer map filled with -1 (the ignore label).

    Filling the bytes with ``0xFF`` (a memset) is about twice as fast as
    ``np.full(..., -1)``; every signed integer made of ``0xFF`` bytes is -1.

    Args:
        height: Rows.
        width: Columns.
        dtype: A signed integer type (``np.int16`` halves the cost).

    Shape:
        ``(height, width)`` of ``dtype``, C-contiguous.
    """
    dtype = np.dtype(dtype)
    return np.full((height, width * dtype.itemsize), 0xFF, dtype=np.uint8).view(dtype)


def _window_mask(shape: int, x1: float, y1: float, x2: float, y2: float,
                 c0: int, c1: int, r0: int, r1: int) -> np.ndarray:
    """Mask of ``shape`` in box ``(x1, y1, x2, y2)`` over columns ``c0:c1``
    and rows ``r0:r1``, which must lie inside the box.

    In doubled coordinates ``DX = 2 * x - (x1 + x2)``, ``DY`` likewise, a
    pixel is inside when ``|DX| * H <= W * g(DY)`` with ``g`` per shape.

    Shape:
        ``(r1 - r0, c1 - c0)`` bool.
    """
    w, h = x2 - x1 + 1.0, y2 - y1 + 1.0
    col = np.abs(np.arange(c1 - c0) * (2.0 * h) + (2.0 * c0 - x1 - x2) * h)
    dy = np.arange(r1 - r0) * 2.0 + (2.0 * r0 - y1 - y2)
    if shape == CIRCLE:
        g = np.sqrt(np.maximum(h * h - dy * dy, 0.0))
    elif shape == TRIANGLE:
        g = (dy + h) * 0.5
    elif shape == INVERTED_TRIANGLE:
        g = (h - dy) * 0.5
    elif shape == DIAMOND:
        g = h - np.abs(dy)
    elif shape == OCTAGON:
        g = _SQRT2 * h - np.abs(dy)
    else:  # BOX
        return np.ones((r1 - r0, c1 - c0), dtype=bool)
    return col[None, :] <= (g * w)[:, None]


@lru_cache(maxsize=4096)
def _box_template(shape: int, w: int, h: int, dtype: str = 'int32') -> np.ndarray:
    """Read-only stamp of ``shape`` in a whole ``w x h`` integer box: 0 inside
    the shape, -1 (all bits set) outside.

    ``template | value`` is ``value`` inside and -1 outside, written into the
    map by one ufunc. Cached: 4 bytes per box pixel (64 KiB for 128 x 128),
    at most 4096 sizes.

    Shape:
        ``(h, w)`` of ``dtype`` (the map's type).
    """
    inside = _window_mask(shape, 0.0, 0.0, w - 1.0, h - 1.0, 0, w, 0, h)
    template = inside.astype(dtype)
    template -= 1
    template.setflags(write=False)
    return template


def clear_shape_cache() -> None:
    """Forget the cached shape stamps (to measure or bound memory)."""
    _box_template.cache_clear()


def shape_mask(shape: Union[int, str], width: int, height: int) -> np.ndarray:
    """The mask of one shape inscribed in a whole ``width x height`` box.

    Args:
        shape: Shape id or name (:data:`SHAPES`).
        width: Box width in pixels (``x2 - x1 + 1``), >= 1.
        height: Box height in pixels, >= 1.

    Returns:
        Bool mask, true inside the shape.

    Shape:
        ``(height, width)``.
    """
    sid = shape_id(shape) if isinstance(shape, str) else int(shape)
    if not 0 <= sid < len(SHAPES):
        raise ValueError(f'shape id must be in 0..{len(SHAPES) - 1}, got {sid}')
    if width < 1 or height < 1:
        raise ValueError(f'box size must be >= 1 x 1, got {width} x {height}')
    return _box_template(sid, int(width), int(height)) == 0


def _as_shape_ids(shape_ids: Any, count: int) -> np.ndarray:
    if isinstance(shape_ids, str):
        raise ValueError('shape_ids must be a sequence, one per box, not a string')
    items = list(shape_ids) if not isinstance(shape_ids, np.ndarray) else shape_ids
    if len(items) and isinstance(items[0], str):
        ids = np.asarray([shape_id(s) for s in items], dtype=np.int64)
    else:
        ids = np.asarray(items, dtype=np.int64).reshape(-1)
    if ids.shape != (count,):
        raise ValueError(f'expected {count} shape ids (one per box), got {ids.shape}')
    if count and (ids.min() < 0 or ids.max() >= len(SHAPES)):
        raise ValueError(f'shape ids must be in 0..{len(SHAPES) - 1}, got {ids.tolist()}')
    return ids


def rasterize_shapes(height: int, width: int, boxes: Any,
                     shape_ids: Union[Sequence[int], Sequence[str], np.ndarray],
                     values: Optional[Any] = None,
                     out: Optional[np.ndarray] = None,
                     dtype: Any = np.int32) -> np.ndarray:
    """Draw each box's shape; every pixel gets the value of the box owning it.

    Ownership follows the module's overlap rule: the smallest box (by box
    area) whose shape covers the pixel, the later box among equal areas.
    Boxes are clipped to the image; boxes with ``x2 < x1`` or ``y2 < y1``, or
    entirely outside the image, own nothing.

    Args:
        height: Image height.
        width: Image width.
        boxes: ``x1, y1, x2, y2`` per box, inclusive pixel coordinates
            (any real numbers; integers in GTSDB).
        shape_ids: One shape per box: ids or names of :data:`SHAPES`.
        values: Value written for each box; default the box index, so that
            the result is the index map of owning boxes.
        out: Map to draw into (modified in place and returned); default a
            new map of -1.
        dtype: Signed integer type of the new map when ``out`` is None.

    Returns:
        ``out``: the owning box's value per pixel, the previous value (-1 for
        a new map) where no shape covers the pixel.

    Shape:
        boxes: ``(K, 4)``; shape_ids, values: ``(K,)``; returned map:
        ``(height, width)``.

    Raises:
        ValueError: Arrays of the wrong shape, unknown shapes.

    Example:
        >>> rasterize_shapes(5, 5, [[0, 0, 4, 4]], ['diamond'])
        array([[-1, -1,  0, -1, -1],
               [-1,  0,  0,  0, -1],
               [ 0,  0,  0,  0,  0],
               [-1,  0,  0,  0, -1],
               [-1, -1,  0, -1, -1]], dtype=int32)
    """
    boxes = np.asarray(boxes, dtype=np.float64)
    if boxes.size == 0:
        boxes = boxes.reshape(0, 4)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f'boxes must have shape (K, 4), got {boxes.shape}')
    count = len(boxes)
    ids = _as_shape_ids(shape_ids, count)
    new_map = out is None
    if out is None:
        out = ignore_map(height, width, dtype)
    elif out.shape != (height, width):
        raise ValueError(f'out must have shape {(height, width)}, got {out.shape}')
    if values is None:
        values = np.arange(count)
    values = np.asarray(values).reshape(-1)
    if values.shape != (count,):
        raise ValueError(f'expected {count} values (one per box), got {values.shape}')
    if count == 0:
        return out

    # Paint large boxes first (stable: equal areas in index order) so that
    # smaller and, among equal areas, later boxes overwrite them. A window no
    # earlier box touched is still all -1 in a new map: its integer-box shape
    # is stamped with one ufunc instead of a masked write.
    box_list, id_list, value_list = boxes.tolist(), ids.tolist(), values.tolist()
    areas = [(x2 - x1 + 1.0) * (y2 - y1 + 1.0) for x1, y1, x2, y2 in box_list]
    order = sorted(range(count), key=areas.__getitem__, reverse=True)
    track = new_map and count <= _MAX_TRACKED
    painted: list[tuple[int, int, int, int]] = []
    for k in order:
        x1, y1, x2, y2 = box_list[k]
        if x2 < x1 or y2 < y1:
            continue
        c0, c1 = max(math.ceil(x1 - 0.5), 0), min(math.floor(x2 + 0.5) + 1, width)
        r0, r1 = max(math.ceil(y1 - 0.5), 0), min(math.floor(y2 + 0.5) + 1, height)
        if c0 >= c1 or r0 >= r1:
            continue
        window, value, shape = out[r0:r1, c0:c1], value_list[k], id_list[k]
        untouched = track and not any(r0 < b and a < r1 and c0 < d and c < c1
                                      for a, b, c, d in painted)
        painted.append((r0, r1, c0, c1))
        if shape == BOX:
            window[...] = value
        elif x1.is_integer() and y1.is_integer() and x2.is_integer() and y2.is_integer():
            xi, yi = int(x1), int(y1)
            template = _box_template(shape, int(x2) - xi + 1, int(y2) - yi + 1,
                                     out.dtype.name)[
                r0 - yi:r1 - yi, c0 - xi:c1 - xi]
            if untouched:
                np.bitwise_or(template, value, out=window)
            else:
                np.putmask(window, template == 0, value)
        else:
            np.putmask(window, _window_mask(shape, x1, y1, x2, y2, c0, c1, r0, r1),
                       value)
    return out
