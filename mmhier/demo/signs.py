"""Traffic sign glyphs: the five GTSDB-like sign types, front and back.

A glyph is a small sprite: per-pixel colours and the sign's outline mask.
The outline is :func:`mmhier.datasets.pseudo_masks.shape_mask` of the sign's
shape inscribed in its box - the very geometry from which
``BoxesToPseudoMask`` builds pseudo labels - so the pixels of a rendered sign
and the pseudo mask of its box coincide exactly.

Inner details are drawn in normalised box coordinates ``u, v`` in ``[-1, 1]``
(``u`` right, ``v`` down, measured at pixel centres as in
:mod:`mmhier.datasets.pseudo_masks`):

=============  ==================  ==========================================
sign type      shape               front face
=============  ==================  ==========================================
stop           octagon             red, thin white rim, white horizontal bar
give way       inverted_triangle   white inside a wide red border
speed limit    circle              white disc, red ring, two dark digits
keep right     circle              blue disc, white arrow pointing down-right
keep left      circle              blue disc, white arrow pointing down-left
=============  ==================  ==========================================

A sign's back is a grey plate of the same shape with a darker rim and a
mounting bracket.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from mmhier.datasets.pseudo_masks import shape_mask

#: Sign type (taxonomy node name) -> shape (:data:`mmhier.datasets.pseudo_masks.SHAPES`).
SIGN_SHAPES: dict[str, str] = {
    'stop': 'octagon', 'give way': 'inverted_triangle', 'speed limit': 'circle',
    'keep right': 'circle', 'keep left': 'circle'}
SIGN_TYPES: tuple[str, ...] = tuple(SIGN_SHAPES)
#: Speed limits a speed-limit sign may show (two digits).
SPEED_LIMITS: tuple[int, ...] = (20, 30, 50, 60, 70, 80)

RED = (196.0, 24.0, 32.0)
WHITE = (236.0, 236.0, 232.0)
BLUE = (18.0, 72.0, 178.0)
DARK = (28.0, 28.0, 30.0)
PLATE = (142.0, 144.0, 150.0)
PLATE_RIM = (108.0, 110.0, 116.0)
BRACKET = (84.0, 84.0, 88.0)

#: Seven-segment digits: which of the segments a..g are lit.
_SEGMENTS = {0: 'abcdef', 1: 'bc', 2: 'abged', 3: 'abgcd', 4: 'fgbc', 5: 'afgcd',
             6: 'afgedc', 7: 'abc', 8: 'abcdefg', 9: 'abcdfg'}


class Glyph(NamedTuple):
    """A rendered sign.

    Attributes:
        colours: ``(h, w, 3)`` float32 RGB.
        mask: ``(h, w)`` bool, the sign's outline (its shape in the box).
    """

    colours: np.ndarray
    mask: np.ndarray


def sign_box_size(kind: str, width: int) -> tuple[int, int]:
    """``(width, height)`` of a sign's box: square, or a flatter box for the
    triangle (an equilateral triangle is 0.87 as high as wide).

    Raises:
        ValueError: Unknown sign type.
    """
    if kind not in SIGN_SHAPES:
        raise ValueError(f'unknown sign type {kind!r}; use one of {", ".join(SIGN_TYPES)}')
    height = width if SIGN_SHAPES[kind] != 'inverted_triangle' else round(0.87 * width)
    return width, max(height, 3)


def _coords(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Normalised pixel-centre coordinates ``u (1, w)``, ``v (h, 1)``."""
    u = (2.0 * np.arange(width, dtype=np.float32) - (width - 1)) / width
    v = (2.0 * np.arange(height, dtype=np.float32) - (height - 1)) / height
    return u[None, :], v[:, None]


def _inside(shape: str, u: np.ndarray, v: np.ndarray, s: float) -> np.ndarray:
    """The shape shrunk by ``s`` (about its centroid) in normalised coordinates."""
    if shape == 'circle':
        return u * u + v * v <= s * s
    if shape == 'octagon':
        return (np.abs(u) <= s) & (np.abs(v) <= s) & (np.abs(u) + np.abs(v) <= math.sqrt(2) * s)
    if shape == 'inverted_triangle':
        uu, vv = u / s, (v + 1.0 / 3.0) / s - 1.0 / 3.0
        return (np.abs(uu) <= (1.0 - vv) / 2.0) & (vv >= -1.0)
    raise ValueError(f'no glyph for shape {shape!r}')


def _box(u: np.ndarray, v: np.ndarray, u0: float, u1: float, v0: float,
         v1: float) -> np.ndarray:
    return (u >= u0) & (u <= u1) & (v >= v0) & (v <= v1)


def _digits(u: np.ndarray, v: np.ndarray, number: int) -> np.ndarray:
    """Two seven-segment digits centred in the sign."""
    mask = np.zeros((v.shape[0], u.shape[1]), dtype=bool)
    half_w, half_h, t = 0.2, 0.36, 0.1
    for position, digit in zip((-0.25, 0.25), f'{number:02d}'[-2:]):
        left, right = position - half_w, position + half_w
        top, bottom = -half_h, half_h
        segments = {
            'a': (left, right, top, top + t), 'g': (left, right, -t / 2, t / 2),
            'd': (left, right, bottom - t, bottom),
            'f': (left, left + t, top, 0.0), 'b': (right - t, right, top, 0.0),
            'e': (left, left + t, 0.0, bottom), 'c': (right - t, right, 0.0, bottom)}
        for name in _SEGMENTS[int(digit)]:
            mask |= _box(u, v, *segments[name])
    return mask


def _arrow(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """An arrow from the top left pointing down-right (to ``(0.55, 0.55)``)."""
    # shaft: distance to the segment (-0.45, -0.45)-(0.15, 0.15) below 0.13
    t = np.clip(((u + 0.45) + (v + 0.45)) / 1.2, 0.0, 1.0)
    shaft = (u + 0.45 - 0.6 * t) ** 2 + (v + 0.45 - 0.6 * t) ** 2 <= 0.13 ** 2
    # head: the triangle apex (0.58, 0.58), base centred at (0.1, 0.1)
    along = (u + v) / math.sqrt(2.0)          # distance along the diagonal
    across = np.abs(u - v) / math.sqrt(2.0)   # distance from it
    base, apex, half = 0.1 * math.sqrt(2.0), 0.58 * math.sqrt(2.0), 0.34
    head = (along >= base) & (across <= half * (apex - along) / (apex - base))
    return shaft | head


def sign_glyph(kind: str, width: int, height: int, front: bool = True,
               speed: int = 50) -> Glyph:
    """Render one sign into a ``width x height`` box.

    Args:
        kind: Sign type, one of :data:`SIGN_TYPES`.
        width: Box width in pixels.
        height: Box height in pixels.
        front: The front face (``True``) or the grey back (``False``).
        speed: Number on a speed-limit sign.

    Returns:
        The glyph; ``mask`` equals ``shape_mask(SIGN_SHAPES[kind], width, height)``.

    Raises:
        ValueError: Unknown sign type or a box smaller than 1x1.
    """
    if kind not in SIGN_SHAPES:
        raise ValueError(f'unknown sign type {kind!r}; use one of {", ".join(SIGN_TYPES)}')
    shape = SIGN_SHAPES[kind]
    mask = shape_mask(shape, width, height)
    u, v = _coords(width, height)
    colours = np.empty((height, width, 3), dtype=np.float32)
    if not front:
        colours[...] = PLATE_RIM
        colours[_inside(shape, u, v, 0.86)] = PLATE
        colours[_box(u, v, -0.1, 0.1, -0.75, 0.75)] = BRACKET
        return Glyph(colours, mask)
    if kind == 'stop':
        colours[...] = WHITE
        colours[_inside(shape, u, v, 0.9)] = RED
        colours[_box(u, v, -0.62, 0.62, -0.15, 0.15)] = WHITE
    elif kind == 'give way':
        colours[...] = RED
        colours[_inside(shape, u, v, 0.58)] = WHITE
    elif kind == 'speed limit':
        colours[...] = RED
        colours[_inside(shape, u, v, 0.76)] = WHITE
        colours[_digits(u, v, speed)] = DARK
    else:
        colours[...] = WHITE
        colours[_inside(shape, u, v, 0.92)] = BLUE
        arrow = _arrow(u, v) if kind == 'keep right' else _arrow(-u, v)
        colours[arrow] = WHITE
    return Glyph(colours, mask)
