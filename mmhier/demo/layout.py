"""Random street scenes: every random choice of a :class:`~.scene.Scene`.

:func:`sample_scene` draws a scene from a seeded generator following a
:class:`SceneStyle` (camera, how many of each object, sign sizes, lighting
ranges). The three shipped styles imitate the three real datasets:
:data:`CITY_STYLE` (a car-mounted camera, an unlabeled image border),
:data:`VISTAS_STYLE` (more varied viewpoints, more riders) and
:data:`GTSDB_STYLE` (narrower field of view, a few sign fronts drawn
unoccluded, and no random sign posts: the signs are requested explicitly;
8-64 px wide in the default 400x680 images, real GTSDB's 16-128 px in
1360x800 at half scale).

``require`` asks for things that must appear, by part name: ``'bicyclist'``,
``'motorcyclist'``, ``'traffic sign back'`` or a sign type (a sign front).
Required signs are placed with their whole box inside the image, at least
``style.min_sign_px`` wide and not overlapping each other.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Optional, Sequence

import numpy as np

from mmhier.demo.camera import Camera
from mmhier.demo.objects import (Car, Pedestrian, Rider, SignPost,
                                               StreetLamp, StreetObject, Tree)
from mmhier.demo.scene import (Facade, LaneLine, Lighting, Scene, Sky,
                                             SkylineBlock, Street)
from mmhier.demo.signs import SIGN_TYPES, SPEED_LIMITS

Range = tuple[float, float]
RIDER_KINDS = ('bicyclist', 'motorcyclist')
REQUIREMENTS = (*RIDER_KINDS, 'traffic sign back', *SIGN_TYPES)

WALL_COLOURS = ((196, 180, 150), (170, 96, 74), (150, 150, 155), (215, 210, 196),
                (205, 190, 120), (120, 130, 150), (185, 150, 130), (110, 100, 95))
CAR_COLOURS = ((225, 225, 228), (170, 172, 178), (30, 30, 34), (30, 45, 95),
               (150, 25, 28), (95, 100, 108), (40, 80, 60), (200, 170, 60))
CLOTHES = ((30, 30, 40), (180, 40, 40), (40, 70, 150), (210, 200, 180), (60, 110, 60),
           (120, 80, 50), (230, 140, 40), (90, 90, 95), (150, 60, 120))
SKIN = ((230, 190, 160), (200, 150, 110), (150, 100, 70), (95, 65, 45))


@dataclass(frozen=True)
class SceneStyle:
    """Ranges from which :func:`sample_scene` draws a scene.

    Count ranges ``(low, high)`` are inclusive integers; float ranges are
    uniform. Camera ranges are relative: ``focal`` and ``centre`` to the image
    width, ``horizon`` to the image height.

    Args:
        focal: Focal length / width.
        horizon: Horizon row / height.
        centre: Vanishing point column / width.
        elevation: Camera height (m).
        lanes: Number of lanes.
        cars: Moving cars.
        parked: Parked cars along the curbs.
        persons: Pedestrians.
        riders: Random riders (besides required ones).
        trees: Trees.
        lamps: Street lamps.
        signposts: Random sign posts (besides required ones).
        front_probability: Chance that a random sign post on the right shows
            its front (on the left: its back).
        sign_depth: Depth range of sign posts (m).
        sign_size: Sign width (m).
        min_sign_px: Minimum box width of a required sign (px).
        max_sign_px: Maximum box width of a required sign (px).
        building_probability: Chance of a row of buildings on each side.
        brightness: Lighting gain.
        noise: Sensor noise standard deviation.
        border: Unlabeled image border (px).
        signs_on_top: Draw sign posts last.
    """

    focal: Range
    horizon: Range
    centre: Range
    elevation: Range
    lanes: tuple[int, int]
    cars: tuple[int, int]
    parked: tuple[int, int]
    persons: tuple[int, int]
    riders: tuple[int, int]
    trees: tuple[int, int]
    lamps: tuple[int, int]
    signposts: tuple[int, int]
    front_probability: float
    sign_depth: Range
    sign_size: Range
    min_sign_px: int
    max_sign_px: int
    building_probability: float
    brightness: Range
    noise: Range
    border: int = 0
    signs_on_top: bool = False


CITY_STYLE = SceneStyle(
    focal=(0.72, 0.9), horizon=(0.4, 0.47), centre=(0.44, 0.56), elevation=(1.3, 1.6),
    lanes=(2, 4), cars=(1, 4), parked=(0, 3), persons=(1, 4), riders=(1, 2), trees=(1, 5),
    lamps=(0, 3), signposts=(1, 3), front_probability=0.7, sign_depth=(5.0, 20.0),
    sign_size=(0.8, 1.0), min_sign_px=10, max_sign_px=48, building_probability=0.85,
    brightness=(0.75, 1.1), noise=(2.0, 5.0), border=2)
VISTAS_STYLE = SceneStyle(
    focal=(0.6, 0.95), horizon=(0.36, 0.52), centre=(0.38, 0.62), elevation=(1.2, 2.6),
    lanes=(2, 4), cars=(0, 4), parked=(0, 3), persons=(0, 5), riders=(1, 3), trees=(0, 6),
    lamps=(0, 3), signposts=(1, 3), front_probability=0.6, sign_depth=(4.0, 18.0),
    sign_size=(0.8, 1.0), min_sign_px=12, max_sign_px=64, building_probability=0.8,
    brightness=(0.7, 1.15), noise=(2.0, 6.0))
GTSDB_STYLE = SceneStyle(
    focal=(1.0, 1.3), horizon=(0.4, 0.5), centre=(0.4, 0.6), elevation=(1.3, 1.6),
    lanes=(2, 3), cars=(0, 4), parked=(0, 2), persons=(0, 3), riders=(0, 1), trees=(1, 5),
    lamps=(0, 2), signposts=(0, 0), front_probability=1.0, sign_depth=(8.0, 40.0),
    sign_size=(0.7, 0.95), min_sign_px=8, max_sign_px=64, building_probability=0.7,
    brightness=(0.7, 1.15), noise=(2.0, 6.0), signs_on_top=True)


def _u(rng: np.random.Generator, bounds: Range) -> float:
    return float(rng.uniform(bounds[0], bounds[1]))


def _n(rng: np.random.Generator, bounds: tuple[int, int]) -> int:
    return int(rng.integers(bounds[0], bounds[1] + 1))


def _jitter(rng: np.random.Generator, colour: Sequence[float],
            amount: float = 12.0) -> tuple[float, float, float]:
    c = np.clip(np.asarray(colour, float) + rng.uniform(-amount, amount, 3), 0, 255)
    return float(c[0]), float(c[1]), float(c[2])


def _pick(rng: np.random.Generator, colours: Sequence[Sequence[float]],
          amount: float = 12.0) -> tuple[float, float, float]:
    return _jitter(rng, colours[int(rng.integers(len(colours)))], amount)


def _camera(rng: np.random.Generator, height: int, width: int, style: SceneStyle) -> Camera:
    return Camera(height=height, width=width, focal=_u(rng, style.focal) * width,
                  horizon=_u(rng, style.horizon) * height,
                  centre=_u(rng, style.centre) * width,
                  elevation=_u(rng, style.elevation))


class Lanes(NamedTuple):
    """Lane layout: ``count`` lanes of ``width`` m from the left curb, the
    first ``oncoming`` of them for oncoming traffic."""

    width: float
    count: int
    oncoming: int


def _street(rng: np.random.Generator, style: SceneStyle) -> tuple[Street, Lanes]:
    """The street and its lanes."""
    lane = _u(rng, (3.1, 3.6))
    count = _n(rng, style.lanes)
    oncoming = count // 2
    own = int(rng.integers(oncoming, count))
    left, right = -(own + 0.5) * lane, (count - own - 0.5) * lane
    lines = [LaneLine(left + j * lane, dashed=not (j == oncoming and rng.random() < 0.5))
             for j in range(1, count)]
    if rng.random() < 0.5:
        lines += [LaneLine(left + 0.3, False, 0.12), LaneLine(right - 0.3, False, 0.12)]
    period = _u(rng, (6.0, 12.0))
    crosswalk = None
    if rng.random() < 0.25:
        z0 = _u(rng, (9.0, 30.0))
        crosswalk = (z0, z0 + _u(rng, (3.0, 4.0)))
    grey = _u(rng, (60.0, 95.0))
    street = Street(
        road_left=left, road_right=right, lines=tuple(lines), dash_period=period,
        dash_duty=_u(rng, (0.3, 0.5)), dash_phase=_u(rng, (0.0, period)),
        crosswalk=crosswalk, sidewalk_left=_u(rng, (2.5, 5.0)),
        sidewalk_right=_u(rng, (2.5, 5.0)), lawn_left=bool(rng.random() < 0.35),
        lawn_right=bool(rng.random() < 0.35), road_colour=(grey, grey, grey * 1.04),
        sidewalk_colour=_pick(rng, ((168, 160, 150), (150, 150, 152), (176, 140, 128),
                                    (190, 182, 165))),
        lawn_colour=(_u(rng, (55, 85)), _u(rng, (105, 140)), _u(rng, (35, 60))),
        tile=_u(rng, (0.4, 0.8)))
    return street, Lanes(lane, count, oncoming)


def _facades(rng: np.random.Generator, street: Street, style: SceneStyle) -> list[Facade]:
    facades = []
    for side in (-1, 1):
        if rng.random() >= style.building_probability:
            continue
        edge = street.road_left - street.sidewalk_left if side < 0 \
            else street.road_right + street.sidewalk_right
        lawn = street.lawn_left if side < 0 else street.lawn_right
        x = edge + side * (_u(rng, (2.0, 6.0)) if lawn else 0.0)
        z = _u(rng, (1.5, 8.0))
        while z < 170.0:
            length = _u(rng, (8.0, 26.0))
            if rng.random() < 0.15:
                z += _u(rng, (3.0, 12.0))
                continue
            facades.append(Facade(
                x=x, z0=z, z1=z + length, height=_u(rng, (6.0, 24.0)),
                colour=_pick(rng, WALL_COLOURS, 15.0),
                window_colour=(_u(rng, (40, 75)), _u(rng, (55, 90)), _u(rng, (75, 115))),
                window_pitch=(_u(rng, (2.2, 3.6)), _u(rng, (2.8, 3.4))),
                window_fill=(_u(rng, (0.35, 0.6)), _u(rng, (0.35, 0.55))),
                ground_floor=_u(rng, (3.0, 4.5)),
                shop_colour=_pick(rng, ((60, 55, 50), (120, 40, 35), (40, 60, 90),
                                        (150, 140, 120)), 15.0)))
            z += length
    return facades


def _skyline(rng: np.random.Generator) -> list[SkylineBlock]:
    blocks, x = [], _u(rng, (-90.0, -60.0))
    while x < 90.0:
        width = _u(rng, (12.0, 35.0))
        blocks.append(SkylineBlock(
            x0=x, x1=x + width, z=_u(rng, (130.0, 230.0)), height=_u(rng, (10.0, 50.0)),
            colour=_pick(rng, WALL_COLOURS, 15.0),
            window_colour=(_u(rng, (50, 80)), _u(rng, (60, 90)), _u(rng, (80, 110))),
            window_pitch=(_u(rng, (3.0, 4.0)), _u(rng, (3.0, 3.6)))))
        x += width + (_u(rng, (4.0, 20.0)) if rng.random() < 0.3 else 0.0)
    return blocks


def _car(rng: np.random.Generator, x: float, z: float, oncoming: bool) -> Car:
    body = _u(rng, (0.95, 1.1))
    van = rng.random() < 0.12
    return Car(x=x, z=z, width=_u(rng, (1.7, 1.95)), length=_u(rng, (3.9, 4.9)),
               body_height=body, roof_height=_u(rng, (1.9, 2.2)) if van else
               body + _u(rng, (0.42, 0.6)), colour=_pick(rng, CAR_COLOURS, 10.0),
               oncoming=oncoming)


def _free(placed: list[tuple[float, float, float]], x: float, z: float, gap: float) -> bool:
    """No car within ``gap`` along the street in the same lane band."""
    return all(abs(x - px) > 2.2 or abs(z - pz) > gap + plen for px, pz, plen in placed)


def _cars(rng: np.random.Generator, street: Street, lanes: Lanes, camera: Camera,
          style: SceneStyle) -> list[Car]:
    near = max(camera.nearest_ground + 1.0, 6.0)
    cars, placed = [], []
    wanted = [(False, None) for _ in range(_n(rng, style.cars))] + \
        [(True, side) for side in rng.choice((-1, 1), _n(rng, style.parked))]
    for parked, side in wanted:
        for _ in range(10):
            if parked:
                x = street.road_left + 1.0 if side < 0 else street.road_right - 1.0
                facing = bool(side < 0)
            else:
                j = int(rng.integers(lanes.count))
                x = street.road_left + (j + 0.5) * lanes.width + _u(rng, (-0.3, 0.3))
                facing = j < lanes.oncoming
            z = _u(rng, (near if abs(x) > 1.5 else max(near, 9.0), 70.0))
            if _free(placed, x, z, 3.0):
                placed.append((x, z, 5.0))
                cars.append(_car(rng, x, z, facing))
                break
    return cars


def _sidewalk_x(rng: np.random.Generator, street: Street, side: int, inner: float,
                outer: float) -> float:
    """A lateral position on one sidewalk, ``inner .. outer`` m from the curb
    (clamped to 0.2 m inside the sidewalk's outer edge)."""
    limit = (street.sidewalk_left if side < 0 else street.sidewalk_right) - 0.2
    low = min(inner, limit)
    offset = _u(rng, (low, max(min(outer, limit), low)))
    return street.road_left - offset if side < 0 else street.road_right + offset


def _person(rng: np.random.Generator, x: float, z: float) -> Pedestrian:
    return Pedestrian(x=x, z=z, height=_u(rng, (1.55, 1.95)), stride=_u(rng, (-0.18, 0.18)),
                      shirt=_pick(rng, CLOTHES), trousers=_pick(rng, CLOTHES[:4] + CLOTHES[7:]),
                      skin=_pick(rng, SKIN, 8.0),
                      hair=_pick(rng, ((30, 25, 20), (90, 60, 35), (200, 170, 110),
                                       (120, 120, 120)), 8.0))


def _rider(rng: np.random.Generator, street: Street, kind: str, near: float) -> Rider:
    side = 1 if rng.random() < 0.7 else -1
    x = street.road_right - _u(rng, (0.7, 1.3)) if side > 0 \
        else street.road_left + _u(rng, (0.7, 1.3))
    if kind == 'bicyclist':
        vehicle = _pick(rng, ((200, 30, 30), (30, 90, 200), (40, 160, 60), (230, 200, 40),
                              (220, 220, 225)))
    else:
        vehicle = _pick(rng, ((28, 28, 32), (60, 20, 20), (25, 35, 70), (70, 70, 75)), 8.0)
    return Rider(x=x, z=_u(rng, (max(near, 6.0), 30.0)), kind=kind,
                 facing=int(rng.choice((-1, 1))), vehicle=vehicle,
                 jacket=_pick(rng, CLOTHES if kind == 'bicyclist' else CLOTHES[:3]),
                 helmet=_pick(rng, ((230, 230, 230), (200, 30, 30), (20, 20, 25), (240, 200, 0)),
                              8.0),
                 skin=_pick(rng, SKIN, 8.0))


def _tree(rng: np.random.Generator, x: float, z: float) -> Tree:
    radius = _u(rng, (1.2, 2.6))
    green = np.asarray((_u(rng, (45, 85)), _u(rng, (85, 130)), _u(rng, (30, 55))))
    blobs = []
    for _ in range(_n(rng, (5, 8))):
        r = radius * _u(rng, (0.5, 0.8))
        blobs.append((_u(rng, (-0.6, 0.6)) * radius, radius * 0.7 + _u(rng, (-0.6, 0.6)) * radius,
                      r, r * _u(rng, (0.8, 1.1)), _jitter(rng, green, 14.0)))
    return Tree(x=x, z=z, trunk_height=_u(rng, (1.8, 3.0)), trunk_radius=_u(rng, (0.1, 0.2)),
                trunk_colour=_pick(rng, ((90, 70, 50), (70, 60, 50)), 8.0), blobs=tuple(blobs))


def _signpost(rng: np.random.Generator, street: Street, kind: str, front: bool,
              side: int, z: float, style: SceneStyle, x: Optional[float] = None) -> SignPost:
    if x is None:
        x = street.road_left - _u(rng, (0.3, 0.9)) if side < 0 \
            else street.road_right + _u(rng, (0.3, 0.9))
    grey = _u(rng, (120.0, 170.0))
    return SignPost(x=x, z=z, kind=kind, front=front, size=_u(rng, style.sign_size),
                    mount=_u(rng, (1.9, 2.4)), speed=int(rng.choice(SPEED_LIMITS)),
                    pole_colour=(grey, grey, grey * 1.03))


def _overlaps(box: tuple[int, int, int, int], others: list[tuple[int, int, int, int]],
              margin: int = 2) -> bool:
    x1, y1, x2, y2 = box
    return any(x1 <= b[2] + margin and b[0] <= x2 + margin and y1 <= b[3] + margin
               and b[1] <= y2 + margin for b in others)


def _required_sign(rng: np.random.Generator, street: Street, camera: Camera, kind: str,
                   front: bool, style: SceneStyle,
                   boxes: list[tuple[int, int, int, int]]) -> SignPost:
    """A sign post whose sign lies fully in the image, large enough, not
    overlapping ``boxes``; beside the road if possible, else anywhere."""
    post = None
    for attempt in range(80):
        side = (1 if front else -1) if attempt < 20 else int(rng.choice((-1, 1)))
        z = _u(rng, style.sign_depth)
        x = None
        if attempt >= 40:  # any column of the image, at this depth
            col = _u(rng, (0.05 * camera.width, 0.95 * camera.width))
            x = (col - camera.centre) * z / camera.focal
        post = _signpost(rng, street, kind, front, side, z, style, x)
        box = post.box(camera)
        width = box[2] - box[0] + 1
        inside = box[0] >= 1 and box[1] >= 1 and box[2] < camera.width - 1 and \
            box[3] < camera.height - 1
        if inside and style.min_sign_px <= width <= style.max_sign_px and \
                not _overlaps(box, boxes):
            boxes.append(box)
            return post
    # the camera cannot show such a sign at these depths: fit its size to the image
    width = max(style.min_sign_px, 3)
    z = camera.focal * post.size / width
    col = _u(rng, (0.2 * camera.width, 0.8 * camera.width))
    post = _signpost(rng, street, kind, front, 1, z, style,
                     (col - camera.centre) * z / camera.focal)
    boxes.append(post.box(camera))
    return post


def sample_scene(rng: np.random.Generator, height: int, width: int, style: SceneStyle,
                 require: Sequence[str] = ()) -> Scene:
    """Draw a random street scene.

    Args:
        rng: Random generator (the only source of randomness).
        height: Image rows.
        width: Image columns.
        style: The ranges to draw from.
        require: Things that must appear (see the module docstring):
            ``'bicyclist'``, ``'motorcyclist'``, ``'traffic sign back'`` or
            sign types (fronts); repeat a name for several.

    Returns:
        The scene.

    Raises:
        ValueError: Unknown requirement, or an image smaller than 16x16.
    """
    unknown = sorted(set(require) - set(REQUIREMENTS))
    if unknown:
        raise ValueError(f'cannot require {unknown}; use any of {", ".join(REQUIREMENTS)}')
    if height < 16 or width < 16:
        raise ValueError(f'scenes need at least 16x16 pixels, got {width}x{height}')
    camera = _camera(rng, height, width, style)
    street, lanes = _street(rng, style)
    near = max(camera.nearest_ground + 0.5, 4.0)
    objects: list[StreetObject] = list(_cars(rng, street, lanes, camera, style))
    for _ in range(_n(rng, style.persons)):
        side = int(rng.choice((-1, 1)))
        objects.append(_person(rng, _sidewalk_x(rng, street, side, 0.5, 4.0),
                               _u(rng, (near, 45.0))))
    riders = [r for r in require if r in RIDER_KINDS]
    riders += [str(rng.choice(RIDER_KINDS)) for _ in range(_n(rng, style.riders))]
    objects += [_rider(rng, street, kind, near) for kind in riders]
    for _ in range(_n(rng, style.trees)):
        side = int(rng.choice((-1, 1)))
        if street.lawn_left if side < 0 else street.lawn_right:  # on the grass
            walk = street.sidewalk_left if side < 0 else street.sidewalk_right
            x = side * (walk + _u(rng, (1.0, 2.5))) + \
                (street.road_left if side < 0 else street.road_right)
        else:  # in the sidewalk, near the curb
            x = _sidewalk_x(rng, street, side, 0.8, 1.6)
        objects.append(_tree(rng, x, _u(rng, (near + 1.0, 80.0))))
    for _ in range(_n(rng, style.lamps)):
        side = int(rng.choice((-1, 1)))
        objects.append(StreetLamp(x=_sidewalk_x(rng, street, side, 0.4, 0.6),
                                  z=_u(rng, (near + 1.0, 60.0)), height=_u(rng, (5.0, 7.5)),
                                  side=-side, colour=_pick(rng, ((110, 112, 118),), 10.0)))
    for _ in range(_n(rng, style.signposts)):
        side = 1 if rng.random() < 0.6 else -1
        front = bool(rng.random() < (style.front_probability if side > 0
                                     else 1.0 - style.front_probability))
        objects.append(_signpost(rng, street, str(rng.choice(SIGN_TYPES)), front, side,
                                 _u(rng, style.sign_depth), style))
    boxes: list[tuple[int, int, int, int]] = []
    for need in require:
        if need == 'traffic sign back':
            objects.append(_required_sign(rng, street, camera, str(rng.choice(SIGN_TYPES)),
                                          False, style, boxes))
        elif need in SIGN_TYPES:
            objects.append(_required_sign(rng, street, camera, need, True, style, boxes))
    sky_clear = rng.random() >= 0.2
    sky = Sky(zenith=(_u(rng, (40, 80)), _u(rng, (100, 140)), _u(rng, (175, 215)))
              if sky_clear else (_u(rng, (135, 155)), _u(rng, (150, 170)), _u(rng, (175, 195))),
              horizon=(_u(rng, (170, 200)), _u(rng, (195, 215)), _u(rng, (218, 240))),
              clouds=_u(rng, (0.0, 0.8)) if sky_clear else 0.2,
              cloud_colour=(_u(rng, (220, 235)), _u(rng, (225, 238)), _u(rng, (236, 248))))
    lighting = Lighting(brightness=_u(rng, style.brightness),
                        gains=(_u(rng, (0.95, 1.04)), _u(rng, (0.96, 1.04)),
                               _u(rng, (0.96, 1.05))),
                        unevenness=_u(rng, (0.04, 0.14)), vignette=_u(rng, (0.0, 0.3)),
                        noise=_u(rng, style.noise), blur=bool(rng.random() < 0.5))
    return Scene(camera=camera, sky=sky, street=street,
                 facades=tuple(_facades(rng, street, style)), skyline=tuple(_skyline(rng)),
                 objects=tuple(objects), lighting=lighting,
                 texture_seed=int(rng.integers(2 ** 31)), border=style.border,
                 signs_on_top=style.signs_on_top)
