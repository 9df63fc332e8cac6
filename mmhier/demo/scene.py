"""The street-scene model and its rasteriser.

A :class:`Scene` is plain data: a camera, the sky, the street (road, lanes,
markings, sidewalks), building facades along both sides, far buildings at
the end of the street, objects (:mod:`mmhier.demo.objects`)
and the lighting. All random choices live in the scene (made by
:mod:`mmhier.demo.layout`); :func:`render_scene` is a pure
function of it (textures come from ``Scene.texture_seed``).

Rendering order (painter's algorithm): sky gradient with clouds; the ground
(road, lane markings, curbs, sidewalks, lawns), classified per pixel from its
world position on the ground plane; far buildings; side facades with window
grids in perspective; objects far to near (with ``signs_on_top``: sign
posts after all others, first all poles, then all plates); the unlabeled
image border; finally lighting, sensor noise and a slight blur, which change
colours only. The ground, markings and windows are computed for all pixels
at once from their world coordinates; there is no Python loop over pixels.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from mmhier.demo.camera import Camera
from mmhier.demo.canvas import Canvas, smooth_noise
from mmhier.demo.labels import PART
from mmhier.demo.objects import (SignInstance, SignPost, StreetObject,
                                               draw_object)

RGB = tuple[float, float, float]
MARKING: RGB = (226.0, 226.0, 216.0)
#: Markings are drawn up to this depth (m); farther they would alias.
MARKING_RANGE = 80.0
#: Ground farther than this (m) fades half-way into the horizon haze.
HAZE_DEPTH = 160.0


@dataclass(frozen=True)
class Sky:
    """Sky gradient and clouds.

    Args:
        zenith: Colour at the top of the image.
        horizon: Colour at the horizon (also the haze colour).
        clouds: Cloud cover, 0 (clear) .. 1.
        cloud_colour: Colour of the clouds.
    """

    zenith: RGB
    horizon: RGB
    clouds: float
    cloud_colour: RGB


@dataclass(frozen=True)
class LaneLine:
    """A painted line along the street.

    Args:
        x: Lateral position (m).
        dashed: Dashed (else solid).
        width: Line width (m).
    """

    x: float
    dashed: bool
    width: float = 0.15


@dataclass(frozen=True)
class Street:
    """Road, lanes and sidewalks (lateral positions in metres).

    Args:
        road_left: Left curb (negative).
        road_right: Right curb.
        lines: Painted lines.
        dash_period: Dash + gap length (m).
        dash_duty: Fraction of the period painted.
        dash_phase: Offset of the dash pattern (m).
        crosswalk: ``(z_near, z_far)`` of a zebra crossing, or ``None``.
        sidewalk_left: Left sidewalk width.
        sidewalk_right: Right sidewalk width.
        lawn_left: Grass (vegetation) beyond the left sidewalk (else more sidewalk).
        lawn_right: Grass beyond the right sidewalk.
        road_colour: Asphalt colour.
        sidewalk_colour: Paving colour.
        lawn_colour: Grass colour.
        tile: Paving tile size (m).
    """

    road_left: float
    road_right: float
    lines: tuple[LaneLine, ...]
    dash_period: float
    dash_duty: float
    dash_phase: float
    crosswalk: tuple[float, float] | None
    sidewalk_left: float
    sidewalk_right: float
    lawn_left: bool
    lawn_right: bool
    road_colour: RGB
    sidewalk_colour: RGB
    lawn_colour: RGB
    tile: float


@dataclass(frozen=True)
class Facade:
    """A building front along the street: a vertical plane ``x = const``.

    Args:
        x: Lateral position of the plane (m; negative = left side).
        z0: Nearest depth (m).
        z1: Farthest depth (m).
        height: Height (m).
        colour: Wall colour.
        window_colour: Glass colour.
        window_pitch: ``(along, up)`` spacing of the window grid (m).
        window_fill: ``(along, up)`` fraction of a grid cell that is glass.
        ground_floor: Height of the shop floor (m), drawn as one band.
        shop_colour: Colour of the shop floor.
    """

    x: float
    z0: float
    z1: float
    height: float
    colour: RGB
    window_colour: RGB
    window_pitch: tuple[float, float]
    window_fill: tuple[float, float]
    ground_floor: float
    shop_colour: RGB


@dataclass(frozen=True)
class SkylineBlock:
    """A building at the end of the street, facing the camera.

    Args:
        x0: Left edge (m).
        x1: Right edge (m).
        z: Depth (m).
        height: Height (m).
        colour: Wall colour.
        window_colour: Glass colour.
        window_pitch: ``(across, up)`` window grid spacing (m).
    """

    x0: float
    x1: float
    z: float
    height: float
    colour: RGB
    window_colour: RGB
    window_pitch: tuple[float, float]


@dataclass(frozen=True)
class Lighting:
    """Global illumination and sensor model, applied to colours only.

    Args:
        brightness: Overall gain.
        gains: Per-channel (RGB) gains: the colour cast.
        unevenness: Amplitude of smooth illumination variation.
        vignette: Darkening at the image corners (0..1).
        noise: Standard deviation of the per-pixel sensor noise (0..255 units).
        blur: Apply a slight ``[1, 2, 1] / 4`` blur.
    """

    brightness: float
    gains: RGB
    unevenness: float
    vignette: float
    noise: float
    blur: bool


@dataclass(frozen=True)
class Scene:
    """Everything needed to render one image and its part map.

    Args:
        camera: The camera (also the image size).
        sky: The sky.
        street: The street.
        facades: Building fronts along the street.
        skyline: Buildings at the end of the street.
        objects: Trees, lamps, sign posts, cars, people, riders.
        lighting: Lighting and sensor noise.
        texture_seed: Seed of the texture noise.
        border: Width (px) of the unlabeled image border (0 = none).
        signs_on_top: Draw sign posts after all other objects (unoccluded).
    """

    camera: Camera
    sky: Sky
    street: Street
    facades: tuple[Facade, ...]
    skyline: tuple[SkylineBlock, ...]
    objects: tuple[StreetObject, ...]
    lighting: Lighting
    texture_seed: int
    border: int = 0
    signs_on_top: bool = False


class Rendering(NamedTuple):
    """A rendered scene.

    Attributes:
        image: ``(H, W, 3)`` uint8 RGB.
        parts: ``(H, W)`` uint8 part codes
            (:data:`~mmhier.demo.labels.PARTS`).
        signs: The drawn signs, in drawing order.
    """

    image: np.ndarray
    parts: np.ndarray
    signs: tuple[SignInstance, ...]


def _blend(colours: np.ndarray, target: RGB, amount: float | np.ndarray) -> np.ndarray:
    """``colours * (1 - amount) + target * amount``; ``amount`` is a number
    or per pixel (``colours.shape[:-1]``)."""
    amount = np.asarray(amount, dtype=np.float32)
    if amount.ndim:
        amount = amount[..., None]
    return colours + (np.asarray(target, dtype=np.float32) - colours) * amount


def _paint_sky(canvas: Canvas, scene: Scene, clouds: np.ndarray) -> None:
    cam, sky = scene.camera, scene.sky
    t = np.clip(np.arange(cam.height, dtype=np.float32) / max(cam.horizon, 1.0), 0, 1)
    gradient = np.asarray(sky.zenith, np.float32) + \
        (np.asarray(sky.horizon, np.float32) - np.asarray(sky.zenith, np.float32)) * \
        (t ** 0.7)[:, None]
    colours = np.broadcast_to(gradient[:, None, :], canvas.image.shape)
    cover = np.clip(clouds * sky.clouds + (sky.clouds - 0.6), 0.0, 1.0) * 0.85
    canvas.image[...] = _blend(colours, sky.cloud_colour, cover)
    canvas.parts[...] = PART['sky']


def _marking_mask(street: Street, x: np.ndarray, z: np.ndarray, metre_per_px: np.ndarray,
                  road: np.ndarray) -> np.ndarray:
    """Lane lines (dashed or solid) and the zebra crossing on the road."""
    near = road & (z < MARKING_RANGE)
    dashes = np.mod(z + street.dash_phase, street.dash_period) < \
        street.dash_duty * street.dash_period
    marks = np.zeros_like(road)
    for line in street.lines:
        half = np.maximum(line.width / 2, 0.55 * metre_per_px)
        on_line = np.abs(x - line.x) <= half
        marks |= on_line & dashes if line.dashed else on_line
    if street.crosswalk is not None:
        z0, z1 = street.crosswalk
        marks |= (z >= z0) & (z <= z1) & (np.mod(x - street.road_left, 1.1) < 0.55)
    return marks & near


def _paint_ground(canvas: Canvas, scene: Scene) -> None:
    cam, st = scene.camera, scene.street
    first = int(np.floor(cam.horizon)) + 1
    if first >= cam.height:
        return
    x, z = cam.ground_coords(max(first, 0))
    rows = slice(max(first, 0), cam.height)
    metre_per_px = z / np.float32(cam.focal)
    road = (x >= st.road_left) & (x <= st.road_right)
    left_walk = (x < st.road_left) & (x >= st.road_left - st.sidewalk_left)
    right_walk = (x > st.road_right) & (x <= st.road_right + st.sidewalk_right)
    lawn = ((x < st.road_left - st.sidewalk_left) & st.lawn_left) | \
        ((x > st.road_right + st.sidewalk_right) & st.lawn_right)
    walk = ~road & ~lawn
    curb = (left_walk & (x >= st.road_left - 0.25)) | (right_walk & (x <= st.road_right + 0.25))
    marks = _marking_mask(st, x, z, metre_per_px, road)

    grain, blotch = canvas.grain[rows], canvas.blotch[rows]
    colours = np.empty(x.shape + (3,), dtype=np.float32)
    colours[road] = st.road_colour
    colours[walk] = st.sidewalk_colour
    colours[lawn] = st.lawn_colour
    colours[curb] = (np.asarray(st.sidewalk_colour, np.float32) * 1.12).clip(0, 255)
    texture = np.where(road, 0.05 * grain + 0.05 * blotch,
                       np.where(lawn, 0.16 * grain + 0.1 * blotch, 0.05 * grain + 0.05 * blotch))
    joints = ((np.mod(x, st.tile) < 0.06) | (np.mod(z, st.tile) < 0.06)) & \
        (metre_per_px < st.tile / 5) & walk & ~curb
    colours *= (1.0 + texture - 0.18 * joints)[..., None]
    colours[marks] = np.asarray(MARKING, np.float32) * (0.93 + 0.04 * grain[marks])[:, None]
    haze = np.clip(z / HAZE_DEPTH, 0.0, 1.0) * 0.5
    canvas.image[rows] = _blend(colours, scene.sky.horizon, haze)
    parts = np.where(road, PART['road'], np.where(lawn, PART['vegetation'], PART['sidewalk']))
    parts[marks] = PART['lane marking']
    canvas.parts[rows] = parts


def _window_grid(u: np.ndarray, v: np.ndarray, pitch: tuple[float, float],
                 fill: tuple[float, float]) -> np.ndarray:
    """Windows of a grid with ``pitch`` (m), ``fill`` of each cell glass."""
    along = np.mod(u / pitch[0], 1.0)
    up = np.mod(v / pitch[1], 1.0)
    return (np.abs(along - 0.5) <= fill[0] / 2) & (np.abs(up - 0.55) <= fill[1] / 2)


def _lit(u: np.ndarray, v: np.ndarray, pitch: tuple[float, float]) -> np.ndarray:
    """A pseudo-random 0..1 value per window cell (some windows reflect light)."""
    cell = np.floor(u / pitch[0]).astype(np.int64) * 7919 + \
        np.floor(v / pitch[1]).astype(np.int64) * 104729
    return ((cell * 2654435761) % 1000).astype(np.float32) / 1000.0


def _paint_skyline(canvas: Canvas, scene: Scene, block: SkylineBlock) -> None:
    cam = scene.camera
    c0, r0 = cam.project(block.x0, block.height, block.z)
    c1, r1 = cam.project(block.x1, 0.0, block.z)
    win = canvas.window(c0, r0, c1, r1)
    if win is None:
        return
    u = (win.xs - cam.centre) * block.z / cam.focal
    v = cam.elevation - (win.ys - cam.horizon) * block.z / cam.focal
    colours = np.empty((win.r1 - win.r0, win.c1 - win.c0, 3), dtype=np.float32)
    colours[...] = block.colour
    if block.window_pitch[0] * cam.focal / block.z >= 3.0:
        windows = _window_grid(u, v, block.window_pitch, (0.5, 0.45)) & \
            (v > 3.0) & (v < block.height - 0.8)
        colours[windows] = block.window_colour
    colours = _blend(colours, scene.sky.horizon, 0.35)
    mask = np.ones(colours.shape[:2], dtype=bool)
    canvas.paint(win, mask, colours, PART['building'], grain=0.03, blotch=0.04)


def _paint_facade(canvas: Canvas, scene: Scene, facade: Facade) -> None:
    cam = scene.camera
    corners = [cam.project(facade.x, 0.0, facade.z0), cam.project(facade.x, 0.0, facade.z1),
               cam.project(facade.x, facade.height, facade.z1),
               cam.project(facade.x, facade.height, facade.z0)]
    xs, ys = [p[0] for p in corners], [p[1] for p in corners]
    win = canvas.window(min(xs), min(ys), max(xs), max(ys))
    if win is None:
        return
    offset = win.xs - cam.centre
    valid = offset * np.sign(facade.x) > 0.5
    z = np.where(valid, cam.focal * facade.x / np.where(valid, offset, 1.0), 0.0)
    v = cam.elevation - (win.ys - cam.horizon) * z / cam.focal
    mask = valid & (z >= facade.z0) & (z <= facade.z1) & (v >= 0.0) & (v <= facade.height)
    if not mask.any():
        return
    colours = np.empty(mask.shape + (3,), dtype=np.float32)
    colours[...] = facade.colour
    shop = v < facade.ground_floor
    colours[shop] = facade.shop_colour
    u = z - facade.z0
    windows = _window_grid(u, v, facade.window_pitch, facade.window_fill) & \
        ~shop & (v < facade.height - 0.7)
    lit = _lit(u, v, facade.window_pitch)
    glass = np.asarray(facade.window_colour, np.float32) * (0.8 + 0.5 * lit)[..., None]
    colours[windows] = glass[windows]
    colours[(v > facade.height - 0.35) & mask] *= 0.8  # cornice
    colours = _blend(colours, scene.sky.horizon,
                     np.clip(z / HAZE_DEPTH, 0.0, 1.0).astype(np.float32) * 0.5)
    canvas.paint(win, mask, colours, PART['building'], grain=0.03, blotch=0.06)


def _develop(canvas: Canvas, lighting: Lighting, light: np.ndarray,
             rng: np.random.Generator) -> np.ndarray:
    """Lighting, vignette, sensor noise and blur; returns uint8 RGB."""
    h, w = canvas.height, canvas.width
    yy = (np.arange(h, dtype=np.float32)[:, None] / h - 0.5) * 2.0
    xx = (np.arange(w, dtype=np.float32)[None, :] / w - 0.5) * 2.0
    gain = lighting.brightness * (1.0 + lighting.unevenness * light) * \
        (1.0 - lighting.vignette * 0.5 * (xx * xx + yy * yy))
    image = canvas.image * gain[..., None] * np.asarray(lighting.gains, np.float32)
    if lighting.noise > 0:
        image += rng.standard_normal(image.shape, dtype=np.float32) * np.float32(lighting.noise)
    if lighting.blur:
        image[1:-1] = 0.25 * image[:-2] + 0.5 * image[1:-1] + 0.25 * image[2:]
        image[:, 1:-1] = 0.25 * image[:, :-2] + 0.5 * image[:, 1:-1] + 0.25 * image[:, 2:]
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def render_scene(scene: Scene) -> Rendering:
    """Rasterise a scene into an RGB image and its part map.

    Args:
        scene: The scene.

    Returns:
        The image, the part map (same geometry) and the drawn signs.
    """
    cam = scene.camera
    rng = np.random.default_rng(scene.texture_seed)
    canvas = Canvas(cam.height, cam.width, rng)
    clouds = smooth_noise(rng, cam.height, cam.width, cam.width / 5.0)
    light = smooth_noise(rng, cam.height, cam.width, cam.width / 3.0)
    _paint_sky(canvas, scene, clouds)
    _paint_ground(canvas, scene)
    for block in sorted(scene.skyline, key=lambda b: -b.z):
        _paint_skyline(canvas, scene, block)
    for facade in sorted(scene.facades, key=lambda f: -abs(f.x)):
        _paint_facade(canvas, scene, facade)
    signs = []
    if scene.signs_on_top:  # all poles, then all plates: no sign is occluded
        others = [o for o in scene.objects if not isinstance(o, SignPost)]
        posts = sorted((o for o in scene.objects if isinstance(o, SignPost)),
                       key=lambda o: -o.depth)
    else:
        others, posts = list(scene.objects), []
    for obj in sorted(others, key=lambda o: -o.depth):
        sign = draw_object(obj, canvas, cam)
        if sign is not None:
            signs.append(sign)
    for post in posts:
        post.draw_pole(canvas, cam)
    signs += [post.draw_plate(canvas, cam) for post in posts]
    if scene.border > 0:
        b = scene.border
        edge = np.ones((cam.height, cam.width), dtype=bool)
        edge[b:-b, b:-b] = False
        canvas.image[edge] = (18.0, 18.0, 20.0)
        canvas.parts[edge] = PART['unlabeled']
    image = _develop(canvas, scene.lighting, light, rng)
    return Rendering(image, canvas.parts, tuple(signs))
