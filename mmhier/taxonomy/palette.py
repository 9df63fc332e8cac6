"""Colours derived from a taxonomy, so that a colour says where a node sits.

Terms: the **level-1 nodes** are the root's children (the coarsest classes);
every other node belongs to the **family** of its level-1 ancestor;
**siblings** are the children of one node.

This is the one palette of mmhier: overlays, legends, MMSeg's visualizer
(``TaxonomySegLocalVisualizer``) and dataset ``metainfo`` all take their
colours from :func:`hierarchical_palette`. It needs only numpy, so every layer
may import it.

The palette is built in OKLab (:mod:`mmhier.taxonomy.oklab`), a perceptual
colour space in which Euclidean distance approximates perceived difference,
in two steps.

**Design** (the hierarchy):

* level-1 nodes get well separated hues on one ring of equal lightness
  (several rings of different lightness when there are more than
  :data:`RING_SIZE` of them), consecutive siblings far apart on the ring;
* children sit on a small ellipse around their parent's colour: lighter and
  less saturated on one side, darker and more saturated on the other, with a
  small hue offset in between (families of more than :data:`RING_MAX` fill a
  disc instead); the ellipse shrinks with depth;
* every family is pulled towards its parent until each member is closer to
  its parent and to its level-1 ancestor than to any other level-1 colour,
  so a family stays recognisable, unless that would bring siblings closer
  than :data:`MIN_SIBLING_DISTANCE`.

**Guarantees** (checked on the final 8-bit colours; a designed colour that
breaks one is replaced by the nearest colour of a fixed grid of candidates,
spaced :data:`CANDIDATE_SPACING` apart, that keeps them all):

* siblings, and each node and its parent, are at least
  :data:`MIN_SIBLING_DISTANCE` apart (for sibling sets of up to 250; beyond,
  the candidates run out and siblings are spread as far as they go);
* every node, blended over each asphalt grey of :data:`ASPHALT_GREYS` at
  :data:`OVERLAY_ALPHA` (as overlays draw it, :func:`~mmhier.taxonomy.oklab.mix_srgb8`),
  differs from that grey by at least :data:`MIN_ASPHALT_DISTANCE`; more
  opaque overlays differ more;
* as long as candidates allow (about 300 colours), any two nodes are at least
  :data:`MIN_SIBLING_DISTANCE` apart, then half that, and so on.

Everything is derived from the tree's shape: the same tree always gives the
same palette, and no colour has to be configured.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from mmhier.taxonomy.oklab import (gamut_map, in_gamut, mix_srgb8, oklab_to_srgb8,
                                   srgb_to_oklab)
from mmhier.taxonomy.taxonomy import Taxonomy

#: Siblings, and a node and its parent, differ at least this much (OKLab).
MIN_SIBLING_DISTANCE = 0.05
#: Weight of the colours in overlays (the default ``alpha`` of mmhier's
#: overlays and of ``TaxonomySegLocalVisualizer``).
OVERLAY_ALPHA = 0.5
#: Dark, mid and light road greys (8-bit sRGB, R = G = B) every node colour
#: must stand out from when blended over them at :data:`OVERLAY_ALPHA`.
ASPHALT_GREYS = (96, 128, 160)
#: Least OKLab distance between a grey and a node colour blended over it.
MIN_ASPHALT_DISTANCE = 0.05
#: Nearest-neighbour distance of the candidate grid (a face-centred cubic
#: lattice in OKLab), and the lightness range it covers.
CANDIDATE_SPACING = 0.056
CANDIDATE_LIGHTNESS = (0.35, 0.95)
#: Colour of the root (no dataset labels it; white if one does).
ROOT_COLOUR = (255, 255, 255)

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
#: Children's designed lightness stays within this range.
LIGHTNESS_RANGE = (0.32, 0.93)
#: Share of the distance to a bisector a descendant may use (keeps a margin
#: for rounding to 8 bits).
BISECTOR_SHARE = 0.6
#: Distances to all other nodes a colour should keep, tried in turn until
#: one is possible (the last one only keeps 8-bit colours apart).
_GLOBAL_TIERS = (MIN_SIBLING_DISTANCE, MIN_SIBLING_DISTANCE / 2, 0.01, 0.0)


# ------------------------------------------------------------------ design
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
    """Designed OKLab colours of ``count`` level-1 nodes, in node order.

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
    """Designed colours around ``parent`` for its ``count`` children at level
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


# -------------------------------------------------------------- guarantees
def asphalt_distance(rgb: np.ndarray, alpha: float = OVERLAY_ALPHA,
                     greys: tuple[int, ...] = ASPHALT_GREYS) -> np.ndarray:
    """How far each colour, blended over road grey, stands out from it.

    Args:
        rgb: 8-bit sRGB colours.
        alpha: Weight of the colour in the blend (:func:`mix_srgb8`).
        greys: Grey levels (R = G = B) of the road.

    Returns:
        The smallest OKLab distance over ``greys`` between the grey and the
        colour blended over it.

    Shape:
        ``rgb``: ``(..., 3)``; returns ``(...)``.
    """
    rgb = np.asarray(rgb)
    out = np.full(rgb.shape[:-1], np.inf)
    for grey in greys:
        base = np.full(3, grey, dtype=np.uint8)
        blended = srgb_to_oklab(mix_srgb8(base, rgb, alpha))
        out = np.minimum(out, np.linalg.norm(blended - srgb_to_oklab(base), axis=-1))
    return out


@lru_cache(maxsize=1)
def candidate_colours() -> tuple[np.ndarray, np.ndarray]:
    """The grid designed colours fall back to: face-centred cubic lattice
    points in OKLab (nearest neighbours :data:`CANDIDATE_SPACING` apart, one
    at lightness 0.6 on the grey axis) within the sRGB gamut and
    :data:`CANDIDATE_LIGHTNESS`, rounded to 8 bits, that stand out from
    asphalt (:func:`asphalt_distance`).

    Returns:
        ``(rgb, lab)``: ``(K, 3)`` uint8 and their exact OKLab colours.
    """
    edge = CANDIDATE_SPACING * math.sqrt(2)
    cell = np.array([[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0]]) * edge
    steps = np.arange(-math.ceil(0.65 / edge), math.ceil(0.65 / edge) + 1) * edge
    grid = np.stack(np.meshgrid(steps, steps, steps, indexing='ij'), -1).reshape(-1, 3)
    points = (grid[:, None] + cell[None]).reshape(-1, 3) + np.array([0.6, 0.0, 0.0])
    low, high = CANDIDATE_LIGHTNESS
    points = points[(points[:, 0] >= low) & (points[:, 0] <= high) & in_gamut(points)]
    rgb = np.unique(oklab_to_srgb8(points), axis=0)
    rgb = rgb[asphalt_distance(rgb) >= MIN_ASPHALT_DISTANCE]
    lab = srgb_to_oklab(rgb)
    order = np.lexsort((lab[:, 2], lab[:, 1], lab[:, 0]))  # deterministic order
    rgb, lab = rgb[order], lab[order]
    rgb.setflags(write=False)
    lab.setflags(write=False)
    return rgb, lab


class _Placement:
    """Turns designed colours into final 8-bit ones that keep the
    guarantees (module docstring), one sibling set after the other."""

    def __init__(self) -> None:
        self.rgb, self.lab = candidate_colours()
        self.gap = np.full(len(self.lab), np.inf)  # to the nearest placed node
        self.placed = np.empty((0, 3))

    def _take(self, lab: np.ndarray) -> None:
        self.gap = np.minimum(self.gap, np.linalg.norm(self.lab - lab, axis=1))
        self.placed = np.vstack([self.placed, lab])

    def family(self, parent_lab: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Final colours of one sibling set.

        Args:
            parent_lab: ``(3,)`` exact OKLab colour of the parent.
            targets: ``(k, 3)`` designed OKLab colours, in child order.

        Returns:
            ``(k, 3)`` uint8 sRGB.
        """
        out = np.empty((len(targets), 3), dtype=np.uint8)
        kin = [np.asarray(parent_lab, dtype=np.float64)]  # parent, placed siblings
        for j, target in enumerate(targets):
            rgb = oklab_to_srgb8(target)
            lab = srgb_to_oklab(rgb)
            near_kin = np.linalg.norm(np.array(kin) - lab, axis=1).min()
            designed_ok = (near_kin >= MIN_SIBLING_DISTANCE
                           and asphalt_distance(rgb) >= MIN_ASPHALT_DISTANCE)
            to_placed = (np.linalg.norm(self.placed - lab, axis=1).min()
                         if len(self.placed) else np.inf)
            kin_gap = np.linalg.norm(self.lab[:, None] - np.array(kin)[None],
                                     axis=-1).min(1)
            allowed = kin_gap >= MIN_SIBLING_DISTANCE
            for tier in _GLOBAL_TIERS:
                if designed_ok and to_placed >= tier:
                    break
                feasible = allowed & (self.gap >= tier)
                if feasible.any():
                    pick = int(np.argmin(np.where(
                        feasible, np.linalg.norm(self.lab - target, axis=1), np.inf)))
                    rgb, lab = self.rgb[pick], self.lab[pick]
                    break
            else:  # more siblings than candidates: spread them as far as they go
                pick = int(np.argmax(kin_gap))
                rgb, lab = self.rgb[pick], self.lab[pick]
            out[j] = rgb
            kin.append(lab)
            self._take(lab)
        return out


# ----------------------------------------------------------------- palette
def _build(taxonomy: Taxonomy) -> np.ndarray:
    n = taxonomy.num_nodes
    level = taxonomy.node_level
    rgb = np.zeros((n, 3), dtype=np.uint8)
    rgb[0] = ROOT_COLOUR
    lab = np.zeros((n, 3))
    lab[0] = srgb_to_oklab(rgb[0])
    placement = _Placement()
    top = [int(i) for i in taxonomy.classifiers[0].child_indices]
    rgb[top] = placement.family(lab[0], level1_colours(len(top)))
    lab[top] = srgb_to_oklab(rgb[top])
    top_colours = lab[top]
    spacing = {}
    for k, node in enumerate(top):
        dist = np.linalg.norm(top_colours - top_colours[k], axis=1)
        spacing[node] = float(np.min(np.delete(dist, k))) if len(top) > 1 else 0.3
    family = taxonomy.ancestor_at_level[1]
    for c in taxonomy.classifiers[1:]:  # preorder: parents are done first
        p = c.node_index
        anchor = int(family[p])
        others = np.delete(top_colours, top.index(anchor), axis=0)
        targets = _child_targets(lab[p], c.num_outputs, int(level[p]) + 1,
                                 spacing[anchor], float(lab[anchor, 0]))
        scale = _family_scale(lab[p], targets, lab[anchor], others) if len(others) else 1.0
        spread = _min_distance(targets) if len(targets) > 1 else 1.0
        if scale * spread < MIN_SIBLING_DISTANCE:  # too many to fit: keep them apart
            scale = min(1.0, MIN_SIBLING_DISTANCE / max(spread, 1e-9))
        children = c.child_indices
        rgb[children] = placement.family(lab[p], lab[p] + scale * (targets - lab[p]))
        lab[children] = srgb_to_oklab(rgb[children])
    rgb.setflags(write=False)
    return rgb


_PALETTES: dict[str, np.ndarray] = {}


def hierarchical_palette(taxonomy: Taxonomy) -> np.ndarray:
    """One sRGB colour per taxonomy node, derived from the tree.

    Level-1 nodes get well separated hues; descendants vary lightness,
    saturation and (a little) hue around their parent's colour. Siblings and
    parent/child differ by at least :data:`MIN_SIBLING_DISTANCE` in OKLab,
    and every colour stands out over asphalt at :data:`OVERLAY_ALPHA` (see
    the module docstring). Deterministic: it depends on the tree's shape
    only (computed once per tree and process). The root is white.

    Args:
        taxonomy: The taxonomy.

    Returns:
        ``(num_nodes, 3)`` uint8 RGB, row ``i`` = colour of node id ``i``
        (a fresh, writable array).

    Example:
        >>> from mmhier.taxonomy import load_taxonomy
        >>> tax = load_taxonomy('taxonomies/tiny_street.yaml')
        >>> hierarchical_palette(tax).shape
        (22, 3)
    """
    key = taxonomy.tree_hash
    if key not in _PALETTES:
        _PALETTES[key] = _build(taxonomy)
    return _PALETTES[key].copy()


def hierarchical_palette_oklab(taxonomy: Taxonomy) -> np.ndarray:
    """The palette in OKLab (the exact colours of :func:`hierarchical_palette`).

    Returns:
        ``(num_nodes, 3)`` float64 OKLab colours, indexed by node id.
    """
    return srgb_to_oklab(hierarchical_palette(taxonomy))
