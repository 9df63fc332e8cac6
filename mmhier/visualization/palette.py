"""Colours derived from a taxonomy, so that a colour says where a node sits.

Terms: the **level-1 nodes** are the root's children (the coarsest classes);
every other node belongs to the **family** of its level-1 ancestor.

The palette is built in OKLab (Ottosson 2020), a perceptual colour space in
which Euclidean distance approximates perceived difference:

* level-1 nodes get well separated hues on one ring of equal lightness
  (several rings of different lightness when there are more than
  :data:`RING_SIZE` of them), consecutive siblings far apart on the ring;
* children sit on a small ellipse around their parent's colour: lighter and
  less saturated on one side, darker and more saturated on the other, with a
  small hue offset in between (families of more than :data:`RING_MAX` fill a
  disc instead); the ellipse shrinks with depth;
* every family is pulled towards its parent until each member is closer to
  its parent and to its level-1 ancestor than to any other level-1 colour,
  so a family stays recognisable - unless that would bring siblings closer
  than :data:`MIN_SIBLING_DISTANCE`: in large trees (dozens of level-1
  nodes, families of dozens) telling siblings apart wins.

Everything is derived from the tree: the same taxonomy always gives the same
palette, and no colour has to be configured.
"""
from __future__ import annotations

import math
import numpy as np

from mmhier.taxonomy import Taxonomy

#: Level-1 nodes per lightness ring.
RING_SIZE = 12
#: Lightness of the single ring, and the range used by several rings.
RING_LIGHTNESS = 0.72
RINGS_LIGHTNESS_RANGE = (0.58, 0.82)
#: Target chroma of level-1 colours (reduced where sRGB cannot show it).
LEVEL1_CHROMA = 0.14
#: Hue of the first level-1 node, in degrees.
FIRST_HUE = 25.0
#: Lightness and hue radius of the children's ellipse at level 2, as
#: (lightness, fraction of the distance to the nearest other level-1 colour);
#: each deeper level multiplies both by :data:`DEPTH_SHRINK`.
CHILD_LIGHTNESS_RADIUS = 0.17
CHILD_HUE_RADIUS = 0.3
DEPTH_SHRINK = 0.6
#: Minimum ab radius of the ellipse at level 2 (OKLab units).
MIN_HUE_RADIUS = 0.04
#: Families up to this size sit on an ellipse, larger ones on a disc.
RING_MAX = 6
#: Ratio of the hue to the lightness radius of a disc.
DISC_ASPECT = 0.5
#: Children of a parent off its family's lightness are centred this share of
#: their reach further away from it.
AWAY_SHIFT = 0.5
#: Angle between successive seeds of a sunflower disc.
GOLDEN_ANGLE = math.pi * (3 - math.sqrt(5))
#: Siblings closer than this (OKLab) are hard to tell apart; when keeping a
#: large family near its parent would bring them closer, they stay apart
#: and the family constraint gives way.
MIN_SIBLING_DISTANCE = 0.04
#: Children's lightness stays within this range.
LIGHTNESS_RANGE = (0.32, 0.93)
#: Share of the distance to a bisector a descendant may use (keeps a margin
#: for rounding to 8 bits).
BISECTOR_SHARE = 0.6
#: Colour of the root (never predicted): a neutral grey.
ROOT_LIGHTNESS = 0.6

_LMS_FROM_RGB = np.array([[0.4122214708, 0.5363325363, 0.0514459929],
                          [0.2119034982, 0.6806995451, 0.1073969566],
                          [0.0883024619, 0.2817188376, 0.6299787005]])
_LAB_FROM_LMS = np.array([[0.2104542553, 0.7936177850, -0.0040720468],
                          [1.9779984951, -2.4285922050, 0.4505937099],
                          [0.0259040371, 0.7827717662, -0.8086757660]])
_RGB_FROM_LMS = np.linalg.inv(_LMS_FROM_RGB)
_LMS_FROM_LAB = np.linalg.inv(_LAB_FROM_LMS)


def oklab_to_linear_rgb(lab: np.ndarray) -> np.ndarray:
    """OKLab to linear sRGB (not clipped: out-of-gamut values leave [0, 1]).

    Shape:
        ``lab``: ``(..., 3)``; returns ``(..., 3)``.
    """
    lms = np.asarray(lab, dtype=np.float64) @ _LMS_FROM_LAB.T
    return (lms ** 3) @ _RGB_FROM_LMS.T


def srgb_to_oklab(rgb: np.ndarray) -> np.ndarray:
    """8-bit sRGB colours to OKLab.

    Args:
        rgb: sRGB values in ``0 .. 255`` (any numeric dtype).

    Returns:
        ``(..., 3)`` float64 ``(L, a, b)``, ``L`` in ``[0, 1]``.

    Shape:
        ``rgb``: ``(..., 3)``.
    """
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return np.cbrt(linear @ _LMS_FROM_RGB.T) @ _LAB_FROM_LMS.T


def _encode_srgb(linear: np.ndarray) -> np.ndarray:
    c = np.clip(linear, 0.0, 1.0)
    c = np.where(c <= 0.0031308, 12.92 * c, 1.055 * c ** (1 / 2.4) - 0.055)
    return np.round(c * 255.0).astype(np.uint8)


def _in_gamut(lab: np.ndarray, tol: float = 1e-6) -> bool:
    rgb = oklab_to_linear_rgb(lab)
    return bool(np.all(rgb >= -tol) and np.all(rgb <= 1 + tol))


def _lch_to_lab(lightness: float, chroma: float, hue: float) -> np.ndarray:
    return np.array([lightness, chroma * math.cos(hue), chroma * math.sin(hue)])


def gamut_map(lightness: float, chroma: float, hue: float) -> np.ndarray:
    """The OKLab colour of ``(L, C, h)``, with chroma reduced until sRGB can
    show it (lightness and hue kept).

    Args:
        lightness: OKLab ``L`` in ``[0, 1]``.
        chroma: Wanted chroma (``>= 0``).
        hue: Hue angle in radians.

    Returns:
        ``(3,)`` OKLab colour inside the sRGB gamut.
    """
    if _in_gamut(_lch_to_lab(lightness, chroma, hue)):
        return _lch_to_lab(lightness, chroma, hue)
    low, high = 0.0, chroma
    for _ in range(30):
        mid = (low + high) / 2
        if _in_gamut(_lch_to_lab(lightness, mid, hue)):
            low = mid
        else:
            high = mid
    return _lch_to_lab(lightness, low, hue)


def _ring_stride(n: int) -> int:
    """A step through ``n`` ring positions that visits all of them and puts
    consecutive siblings far apart (about ``n / golden ratio**2``)."""
    if n < 3:
        return 1
    stride = max(1, round(n * 0.382))
    while math.gcd(stride, n) != 1:
        stride += 1
    return stride


def level1_colours(count: int) -> np.ndarray:
    """OKLab colours of ``count`` level-1 nodes, in node order.

    Returns:
        ``(count, 3)`` OKLab colours in the sRGB gamut.
    """
    rings = max(1, math.ceil(count / RING_SIZE))
    per_ring = math.ceil(count / rings)
    stride = _ring_stride(per_ring)
    if rings == 1:
        lightness = [RING_LIGHTNESS]
    else:
        lightness = np.linspace(*RINGS_LIGHTNESS_RANGE, rings).tolist()
    out = np.empty((count, 3))
    for i in range(count):
        ring, slot = i % rings, i // rings
        position = (slot * stride) % per_ring + ring / rings  # interleave rings
        hue = math.radians(FIRST_HUE) + 2 * math.pi * position / per_ring
        out[i] = gamut_map(lightness[ring], LEVEL1_CHROMA, hue)
    return out


def _equal_arc_angles(count: int, ratio: float) -> np.ndarray:
    """Angles of ``count`` points at equal arc length on the ellipse
    ``(cos t, ratio * sin t)``, the first at ``t = 0``."""
    t = np.linspace(0.0, 2 * np.pi, 2049)
    step = np.hypot(np.diff(np.cos(t)), ratio * np.diff(np.sin(t)))
    arc = np.concatenate([[0.0], np.cumsum(step)])
    return np.interp(np.arange(count) * arc[-1] / count, arc, t)


def _child_offsets(count: int, radius_l: float, radius_t: float) -> np.ndarray:
    """Layout of ``count`` children around their parent: offsets in
    lightness and along the hue circle (OKLab units) and the relative change
    of chroma, one row ``(d_l, d_t, d_c)`` per child.

    Up to :data:`RING_MAX` children sit on an ellipse (the first one lighter
    than the parent, opposite ones darker); more children fill a sunflower
    disc (Vogel's spiral) whose radii grow with ``sqrt(count)`` so that
    neighbours keep their distance. Lighter children are less saturated.
    """
    if count <= RING_MAX:
        angle = _equal_arc_angles(count, radius_t / radius_l)
        radius = np.ones(count)
    else:
        angle = np.arange(count) * GOLDEN_ANGLE
        radius = np.sqrt((np.arange(count) + 0.5) / count) * math.sqrt(count / RING_MAX)
    d_l = radius_l * radius * np.cos(angle)
    return np.stack([d_l, radius_t * radius * np.sin(angle), -0.25 * d_l / radius_l], 1)


def _child_targets(parent: np.ndarray, count: int, depth: int, spacing: float,
                   family_lightness: float) -> np.ndarray:
    """Colours around ``parent`` for its ``count`` children at level
    ``depth`` (before :func:`_family_scale`).

    Args:
        parent: ``(3,)`` OKLab colour of the parent.
        count: Number of children.
        depth: The children's level (``>= 2``).
        spacing: Distance from the family's level-1 colour to the nearest
            other level-1 colour.
        family_lightness: Lightness of the family's level-1 colour; the
            children of a lighter (darker) parent are centred a little
            lighter (darker) still, away from the other level-1 colours.
    """
    shrink = DEPTH_SHRINK ** (depth - 2)
    radius_l = CHILD_LIGHTNESS_RADIUS * shrink
    radius_t = max(CHILD_HUE_RADIUS * spacing, MIN_HUE_RADIUS) * shrink
    if count > RING_MAX:  # a disc needs width in both directions
        radius_t = max(radius_t, DISC_ASPECT * radius_l)
    lightness, a, b = parent
    chroma = max(math.hypot(a, b), 1e-3)
    hue = math.atan2(b, a)
    offsets = _child_offsets(count, radius_l, radius_t)
    low, high = LIGHTNESS_RANGE
    reach = float(np.abs(offsets[:, 0]).max())
    centre = lightness + AWAY_SHIFT * reach * float(np.sign(lightness - family_lightness))
    centre = min(max(centre, low + reach), high - reach)
    out = np.empty((count, 3))
    for j, (d_l, d_t, d_c) in enumerate(offsets):
        out[j] = gamut_map(centre + d_l, chroma * (1 + d_c), hue + d_t / chroma)
    return out


def _family_scale(parent: np.ndarray, targets: np.ndarray, anchor: np.ndarray,
                  others: np.ndarray) -> float:
    """Largest ``s <= 1`` such that every ``parent + s * (target - parent)``
    is closer to ``parent`` and to ``anchor`` (the level-1 ancestor) than to
    any colour in ``others``, keeping :data:`BISECTOR_SHARE` of the way to
    each bisector at most.

    ``c`` is closer to ``x`` than to ``q`` iff ``2 c.(q - x) < |q|^2 - |x|^2``:
    linear in ``s``, so each constraint bounds ``s`` directly.
    """
    scale = 1.0
    steps = targets - parent
    for x in (parent, anchor):
        diff = others - x
        slack = (others ** 2).sum(1) - x @ x - 2 * diff @ parent
        rate = 2 * steps @ diff.T  # (children, others)
        moving = rate > 1e-12
        if moving.any():
            bound = BISECTOR_SHARE * np.maximum(slack, 0.0)[None, :] / np.where(
                moving, rate, 1.0)
            scale = min(scale, float(bound[moving].min()))
    return scale


def _min_distance(colours: np.ndarray) -> float:
    d = np.linalg.norm(colours[:, None] - colours[None], axis=-1)
    return float(d[~np.eye(len(colours), dtype=bool)].min())


def hierarchical_palette_oklab(taxonomy: Taxonomy) -> np.ndarray:
    """The palette in OKLab (see :func:`hierarchical_palette`).

    Returns:
        ``(num_nodes, 3)`` float64 OKLab colours, indexed by node id.
    """
    n = taxonomy.num_nodes
    level = taxonomy.node_level
    colours = np.zeros((n, 3))
    colours[0] = (ROOT_LIGHTNESS, 0.0, 0.0)
    top = [int(i) for i in taxonomy.classifiers[0].child_indices]
    colours[top] = level1_colours(len(top))
    top_colours = colours[top]
    spacing = {}
    for k, node in enumerate(top):
        dist = np.linalg.norm(top_colours - top_colours[k], axis=1)
        spacing[node] = float(np.min(np.delete(dist, k)))
    family = taxonomy.ancestor_at_level[1]
    for c in taxonomy.classifiers[1:]:  # preorder: parents are done first
        p = c.node_index
        anchor = int(family[p])
        others = np.delete(top_colours, top.index(anchor), axis=0)
        targets = _child_targets(colours[p], c.num_outputs, int(level[p]) + 1,
                                 spacing[anchor], float(colours[anchor, 0]))
        scale = _family_scale(colours[p], targets, colours[anchor], others)
        spread = _min_distance(targets)
        if scale * spread < MIN_SIBLING_DISTANCE:  # too many to fit: keep them apart
            scale = min(1.0, MIN_SIBLING_DISTANCE / max(spread, 1e-9))
        colours[c.child_indices] = colours[p] + scale * (targets - colours[p])
    return colours


def hierarchical_palette(taxonomy: Taxonomy) -> np.ndarray:
    """One sRGB colour per taxonomy node, derived from the tree.

    Level-1 nodes get well separated hues; descendants vary lightness,
    saturation and (a little) hue around their parent's colour and stay
    closer to their parent and level-1 ancestor than to any other level-1
    colour (in OKLab) as long as siblings stay distinct (see the module
    docstring). Deterministic. The root gets a neutral grey.

    Args:
        taxonomy: The taxonomy.

    Returns:
        ``(num_nodes, 3)`` uint8 RGB, row ``i`` = colour of node id ``i``.

    Example:
        >>> from mmhier.taxonomy import load_taxonomy
        >>> tax = load_taxonomy('taxonomies/tiny_street.yaml')
        >>> hierarchical_palette(tax).shape
        (22, 3)
    """
    return _encode_srgb(oklab_to_linear_rgb(hierarchical_palette_oklab(taxonomy)))
