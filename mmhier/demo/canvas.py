"""A canvas that paints an image and its part map from the same masks.

Every drawing call computes one boolean mask over the bounding window of a
shape and writes, through that mask, both the colour into :attr:`Canvas.image`
and the part code into :attr:`Canvas.parts`. Image and labels therefore share
their geometry exactly; only :meth:`Canvas.shade` (shadows) changes colour
alone.

Coordinates are float pixel coordinates ``(x, y)`` = ``(column, row)``; pixel
``(r, c)`` has its centre at ``(c, r)``. A pixel belongs to a shape when its
centre does. Shapes may reach outside the image; they are clipped.

All masks are vectorised over a shape's window (no Python loop over pixels);
polygons loop over their edges only.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence, Union

import numpy as np

#: An RGB colour ``(3,)`` in 0..255, or per-pixel colours ``(h, w, 3)`` of a window.
Colour = Union[Sequence[float], np.ndarray]
Point = tuple[float, float]


@dataclass(frozen=True)
class Window:
    """The clipped pixel window ``rows r0:r1, columns c0:c1`` of a shape.

    Attributes:
        r0: First row.
        r1: One past the last row.
        c0: First column.
        c1: One past the last column.
    """

    r0: int
    r1: int
    c0: int
    c1: int

    @property
    def xs(self) -> np.ndarray:
        """Column coordinates, shape ``(1, w)`` float32."""
        return np.arange(self.c0, self.c1, dtype=np.float32)[None, :]

    @property
    def ys(self) -> np.ndarray:
        """Row coordinates, shape ``(h, 1)`` float32."""
        return np.arange(self.r0, self.r1, dtype=np.float32)[:, None]

    @property
    def slices(self) -> tuple[slice, slice]:
        return slice(self.r0, self.r1), slice(self.c0, self.c1)


def smooth_noise(rng: np.random.Generator, height: int, width: int,
                 cell: float) -> np.ndarray:
    """Low-frequency value noise: a random grid, bilinearly interpolated.

    Args:
        rng: Random generator.
        height: Rows.
        width: Columns.
        cell: Grid spacing in pixels (the feature size).

    Returns:
        Noise of roughly zero mean and unit scale, float32 ``(height, width)``.
    """
    gh, gw = int(height / cell) + 2, int(width / cell) + 2
    grid = rng.standard_normal((gh, gw)).astype(np.float32)
    ys = np.arange(height, dtype=np.float32) / cell
    xs = np.arange(width, dtype=np.float32) / cell
    i0, j0 = ys.astype(np.int64), xs.astype(np.int64)
    ty, tx = ys - i0, xs - j0
    ty, tx = (ty * ty * (3 - 2 * ty))[:, None], (tx * tx * (3 - 2 * tx))[None, :]
    top = grid[i0][:, j0] * (1 - tx) + grid[i0][:, j0 + 1] * tx
    bottom = grid[i0 + 1][:, j0] * (1 - tx) + grid[i0 + 1][:, j0 + 1] * tx
    return (top * (1 - ty) + bottom * ty) * np.float32(1.6)


# ----------------------------------------------------------------- masks
def ellipse_mask(xs: np.ndarray, ys: np.ndarray, cx: float, cy: float,
                 rx: float, ry: float) -> np.ndarray:
    """Pixels whose centre lies in the axis-aligned ellipse."""
    return ((xs - cx) / max(rx, 1e-6)) ** 2 + ((ys - cy) / max(ry, 1e-6)) ** 2 <= 1.0


def polygon_mask(xs: np.ndarray, ys: np.ndarray, points: Sequence[Point]) -> np.ndarray:
    """Pixels whose centre lies in the convex polygon (either orientation)."""
    pts = np.asarray(points, dtype=np.float64)
    x, y = pts[:, 0], pts[:, 1]
    area = float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))
    sign = 1.0 if area >= 0 else -1.0
    mask = np.ones((ys.shape[0], xs.shape[1]), dtype=bool)
    for k in range(len(pts)):
        x0, y0 = pts[k]
        x1, y1 = pts[(k + 1) % len(pts)]
        mask &= sign * ((x1 - x0) * (ys - y0) - (y1 - y0) * (xs - x0)) >= 0
    return mask


def segment_mask(xs: np.ndarray, ys: np.ndarray, p0: Point, p1: Point,
                 radius: float) -> np.ndarray:
    """Pixels within ``radius`` of the segment ``p0``-``p1`` (a capsule)."""
    (ax, ay), (bx, by) = p0, p1
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    if length2 < 1e-12:
        t = np.zeros((1, 1), dtype=np.float32)
    else:
        t = np.clip(((xs - ax) * dx + (ys - ay) * dy) / length2, 0.0, 1.0)
    return (xs - ax - t * dx) ** 2 + (ys - ay - t * dy) ** 2 <= radius * radius


# ----------------------------------------------------------------- canvas
class Canvas:
    """An RGB float image and its part map, painted together.

    Args:
        height: Image rows.
        width: Image columns.
        rng: Random generator of the texture fields (fine grain and
            low-frequency blotches), drawn once here.

    Attributes:
        image: ``(H, W, 3)`` float32 RGB, 0..255.
        parts: ``(H, W)`` uint8 part codes (0 = unlabeled).
        grain: ``(H, W)`` float32 per-pixel noise (unit variance).
        blotch: ``(H, W)`` float32 low-frequency noise.
    """

    def __init__(self, height: int, width: int, rng: np.random.Generator):
        if height < 1 or width < 1:
            raise ValueError(f'canvas size must be positive, got {width}x{height}')
        self.height, self.width = height, width
        self.image = np.zeros((height, width, 3), dtype=np.float32)
        self.parts = np.zeros((height, width), dtype=np.uint8)
        self.grain = rng.standard_normal((height, width), dtype=np.float32)
        self.blotch = smooth_noise(rng, height, width, max(4.0, width / 20.0))

    def window(self, x0: float, y0: float, x1: float, y1: float) -> Optional[Window]:
        """The pixels whose centres can lie in ``[x0, x1] x [y0, y1]``, clipped;
        ``None`` when empty or non-finite."""
        if not all(math.isfinite(v) for v in (x0, y0, x1, y1)):
            return None
        c0, c1 = max(math.ceil(x0), 0), min(math.floor(x1) + 1, self.width)
        r0, r1 = max(math.ceil(y0), 0), min(math.floor(y1) + 1, self.height)
        if c0 >= c1 or r0 >= r1:
            return None
        return Window(r0, r1, c0, c1)

    def paint(self, win: Window, mask: np.ndarray, colour: Colour, part: Optional[int],
              grain: float = 0.0, blotch: float = 0.0) -> int:
        """Write ``colour`` (and ``part`` unless ``None``) where ``mask``.

        Args:
            win: The window ``mask`` covers.
            mask: ``(h, w)`` bool.
            colour: RGB ``(3,)`` or per-pixel ``(h, w, 3)``.
            part: Part code, or ``None`` to keep the labels (decoration).
            grain: Relative amplitude of fine per-pixel texture.
            blotch: Relative amplitude of low-frequency texture.

        Returns:
            The number of pixels painted.
        """
        if not mask.any():
            return 0
        rows, cols = win.slices
        colour = np.asarray(colour, dtype=np.float32)
        values = colour[mask] if colour.ndim == 3 else np.broadcast_to(
            colour, (int(mask.sum()), 3))
        if grain or blotch:
            factor = 1.0 + grain * self.grain[rows, cols][mask] \
                + blotch * self.blotch[rows, cols][mask]
            values = values * factor[:, None]
        self.image[rows, cols][mask] = values
        if part is not None:
            self.parts[rows, cols][mask] = part
        return int(mask.sum())

    def shade(self, win: Window, mask: np.ndarray, factor: float) -> None:
        """Multiply the colour under ``mask`` by ``factor`` (labels unchanged)."""
        rows, cols = win.slices
        self.image[rows, cols][mask] *= np.float32(factor)

    def shade_polygon(self, points: Sequence[Point], factor: float,
                      on_parts: Sequence[int] = ()) -> None:
        """Darken a convex polygon (a shadow) where the part is one of
        ``on_parts`` (everywhere when empty); labels unchanged."""
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        win = self.window(min(xs), min(ys), max(xs), max(ys))
        if win is None:
            return
        mask = polygon_mask(win.xs, win.ys, points)
        if len(on_parts):
            mask &= np.isin(self.parts[win.slices], np.asarray(on_parts))
        self.shade(win, mask, factor)

    # ------------------------------------------------------------ shapes
    def rect(self, x0: float, y0: float, x1: float, y1: float, colour: Colour,
             part: Optional[int], **texture: float) -> int:
        """Axis-aligned rectangle ``[x0, x1] x [y0, y1]``."""
        win = self.window(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
        if win is None:
            return 0
        mask = np.ones((win.r1 - win.r0, win.c1 - win.c0), dtype=bool)
        return self.paint(win, mask, colour, part, **texture)

    def ellipse(self, cx: float, cy: float, rx: float, ry: float, colour: Colour,
                part: Optional[int], **texture: float) -> int:
        """Axis-aligned ellipse (a circle for ``rx == ry``)."""
        win = self.window(cx - rx, cy - ry, cx + rx, cy + ry)
        if win is None:
            return 0
        return self.paint(win, ellipse_mask(win.xs, win.ys, cx, cy, rx, ry),
                          colour, part, **texture)

    def ring(self, cx: float, cy: float, outer: float, inner: float, colour: Colour,
             part: Optional[int], **texture: float) -> int:
        """Circular ring between radii ``inner`` and ``outer``."""
        win = self.window(cx - outer, cy - outer, cx + outer, cy + outer)
        if win is None:
            return 0
        d2 = (win.xs - cx) ** 2 + (win.ys - cy) ** 2
        mask = (d2 <= outer * outer) & (d2 >= inner * inner)
        return self.paint(win, mask, colour, part, **texture)

    def polygon(self, points: Sequence[Point], colour: Colour, part: Optional[int],
                **texture: float) -> int:
        """Convex polygon."""
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        win = self.window(min(xs), min(ys), max(xs), max(ys))
        if win is None:
            return 0
        return self.paint(win, polygon_mask(win.xs, win.ys, points), colour, part,
                          **texture)

    def segment(self, p0: Point, p1: Point, radius: float, colour: Colour,
                part: Optional[int], **texture: float) -> int:
        """Thick line segment with round caps; at least about one pixel wide."""
        radius = max(radius, 0.55)
        win = self.window(min(p0[0], p1[0]) - radius, min(p0[1], p1[1]) - radius,
                          max(p0[0], p1[0]) + radius, max(p0[1], p1[1]) + radius)
        if win is None:
            return 0
        return self.paint(win, segment_mask(win.xs, win.ys, p0, p1, radius), colour,
                          part, **texture)

    def stamp(self, left: int, top: int, colours: np.ndarray, mask: np.ndarray,
              part: Optional[int]) -> int:
        """Paste a pre-rendered sprite (``colours`` ``(h, w, 3)``, ``mask``
        ``(h, w)``) with its top-left pixel at ``(left, top)``, clipped."""
        h, w = mask.shape
        win = self.window(left, top, left + w - 1, top + h - 1)
        if win is None:
            return 0
        sub = (slice(win.r0 - top, win.r1 - top), slice(win.c0 - left, win.c1 - left))
        return self.paint(win, mask[sub], colours[sub], part)
