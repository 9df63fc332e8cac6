"""Things standing in the street: trees, lamps, sign posts, cars, people, riders.

Each object is a frozen dataclass holding all its random choices (sizes,
colours), made by :mod:`mmhier.demo.layout`; drawing is
deterministic. ``draw(canvas, camera)`` paints colour and part label through
the same masks (:class:`~mmhier.demo.canvas.Canvas`) and
returns a :class:`SignInstance` for sign posts, ``None`` otherwise. Objects
are drawn far to near (painter's algorithm) by ``depth``.

Cars are projected 3-D boxes; people, riders, trees and poles are drawn on a
:class:`~mmhier.demo.camera.Billboard` facing the camera.
Riders are seen from the side so that the two kinds differ visibly: a
bicyclist sits on a thin frame between two open, thin-tyred wheels; a
motorcyclist sits upright with a helmet on a bulky dark body between two solid
wheels. Rider and vehicle share the rider's label, as in the taxonomy.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence

from mmhier.demo.camera import Billboard, Camera
from mmhier.demo.canvas import Canvas, Point
from mmhier.demo.labels import PART
from mmhier.demo.signs import sign_box_size, sign_glyph

RGB = tuple[float, float, float]
GROUND_PARTS = (PART['road'], PART['lane marking'], PART['sidewalk'], PART['vegetation'])
TYRE: RGB = (24.0, 24.0, 26.0)
GLASS: RGB = (48.0, 58.0, 72.0)


def _mul(colour: Sequence[float], factor: float) -> RGB:
    return (colour[0] * factor, colour[1] * factor, colour[2] * factor)


@dataclass(frozen=True)
class SignInstance:
    """A sign drawn into a scene.

    Attributes:
        kind: Sign type (a :data:`~mmhier.demo.signs.SIGN_TYPES` name).
        front: The front face is visible (else the back).
        box: ``(x1, y1, x2, y2)`` inclusive pixel coordinates of the sign's
            box (its outline is the sign's shape inscribed in it); may reach
            outside the image.
    """

    kind: str
    front: bool
    box: tuple[int, int, int, int]

    def inside(self, height: int, width: int) -> bool:
        """The whole box lies in a ``width x height`` image."""
        x1, y1, x2, y2 = self.box
        return x1 >= 0 and y1 >= 0 and x2 < width and y2 < height


@dataclass(frozen=True)
class Tree:
    """A trunk and a crown of overlapping leafy blobs.

    Args:
        x: Lateral position (m).
        z: Depth (m).
        trunk_height: Height of the trunk top (m).
        trunk_radius: Trunk radius (m).
        trunk_colour: Bark colour.
        blobs: Crown blobs ``(du, dv, rx, ry, colour)``: offsets from the
            trunk top and radii in metres.
    """

    x: float
    z: float
    trunk_height: float
    trunk_radius: float
    trunk_colour: RGB
    blobs: tuple[tuple[float, float, float, float, RGB], ...]

    @property
    def depth(self) -> float:
        return self.z

    def draw(self, canvas: Canvas, camera: Camera) -> None:
        b = Billboard(camera, self.x, self.z)
        part = PART['vegetation']
        canvas.segment(b.pt(0, 0), b.pt(0, self.trunk_height), self.trunk_radius * b.s,
                       self.trunk_colour, part, grain=0.1)
        for du, dv, rx, ry, colour in self.blobs:
            cx, cy = b.pt(du, self.trunk_height + dv)
            canvas.ellipse(cx, cy, rx * b.s, ry * b.s, colour, part, grain=0.22, blotch=0.1)


@dataclass(frozen=True)
class StreetLamp:
    """A lamp post with an arm over the street.

    Args:
        x: Lateral position (m).
        z: Depth (m).
        height: Height of the arm (m).
        side: Direction of the arm: ``+1`` right, ``-1`` left.
        colour: Pole colour.
    """

    x: float
    z: float
    height: float
    side: int
    colour: RGB

    @property
    def depth(self) -> float:
        return self.z

    def draw(self, canvas: Canvas, camera: Camera) -> None:
        b = Billboard(camera, self.x, self.z)
        part = PART['pole']
        canvas.segment(b.pt(0, 0), b.pt(0, self.height), 0.09 * b.s, self.colour, part)
        tip = b.pt(1.1 * self.side, self.height + 0.2)
        canvas.segment(b.pt(0, self.height), tip, 0.05 * b.s, self.colour, part)
        canvas.ellipse(tip[0], tip[1] + 0.05 * b.s, 0.28 * b.s, 0.08 * b.s,
                       _mul(self.colour, 1.25), part)


@dataclass(frozen=True)
class SignPost:
    """A traffic sign on a pole.

    Args:
        x: Lateral position (m).
        z: Depth (m).
        kind: Sign type.
        front: Its front faces the camera (else its back).
        size: Sign width (m).
        mount: Height of the sign's lower edge (m).
        speed: Number on a speed-limit sign.
        pole_colour: Pole colour.
    """

    x: float
    z: float
    kind: str
    front: bool
    size: float
    mount: float
    speed: int
    pole_colour: RGB

    @property
    def depth(self) -> float:
        return self.z

    def box(self, camera: Camera) -> tuple[int, int, int, int]:
        """The sign's pixel box ``(x1, y1, x2, y2)``, inclusive."""
        b = Billboard(camera, self.x, self.z)
        width, height = sign_box_size(self.kind, max(3, round(self.size * b.s)))
        col, row = b.pt(0, self.mount + self.size / 2)
        left, top = round(col - (width - 1) / 2), round(row - (height - 1) / 2)
        return left, top, left + width - 1, top + height - 1

    def draw_pole(self, canvas: Canvas, camera: Camera) -> None:
        """The pole: up to the sign's centre behind a front face, up to the
        upper clamp over a back."""
        b = Billboard(camera, self.x, self.z)
        x1, y1, x2, y2 = self.box(camera)
        top = (y1 + y2) / 2 if self.front else y1 + 0.25 * (y2 - y1)
        column = (x1 + x2) / 2
        canvas.segment((column, b.pt(0, 0)[1]), (column, top), max(0.045 * b.s, 0.6),
                       self.pole_colour, PART['pole'])

    def draw_plate(self, canvas: Canvas, camera: Camera) -> SignInstance:
        """The sign itself (front glyph or grey back); returns its instance."""
        x1, y1, x2, y2 = self.box(camera)
        glyph = sign_glyph(self.kind, x2 - x1 + 1, y2 - y1 + 1, self.front, self.speed)
        part = PART[self.kind] if self.front else PART['traffic sign back']
        canvas.stamp(x1, y1, glyph.colours, glyph.mask, part)
        return SignInstance(self.kind, self.front, (x1, y1, x2, y2))

    def draw(self, canvas: Canvas, camera: Camera) -> SignInstance:
        """Pole and sign, in the order the camera sees them."""
        if self.front:
            self.draw_pole(canvas, camera)
            return self.draw_plate(canvas, camera)
        sign = self.draw_plate(canvas, camera)
        self.draw_pole(canvas, camera)
        return sign


@dataclass(frozen=True)
class Car:
    """A car as two projected boxes (body and cabin) with wheels and lights.

    Args:
        x: Lateral centre (m).
        z: Depth of the face nearest to the camera (m).
        width: Width (m).
        length: Length (m).
        body_height: Height of the body top (m).
        roof_height: Height of the roof (m).
        colour: Paint colour.
        oncoming: The camera sees the front (else the rear).
    """

    x: float
    z: float
    width: float
    length: float
    body_height: float
    roof_height: float
    colour: RGB
    oncoming: bool

    @property
    def depth(self) -> float:
        return self.z

    def draw(self, canvas: Canvas, camera: Camera) -> None:
        p = camera.project
        part = PART['car']
        x, z, hw, length = self.x, self.z, self.width / 2, self.length
        hb, hr, paint = self.body_height, self.roof_height, self.colour
        zc0 = z + (0.3 if self.oncoming else 0.22) * length
        zc1 = z + (0.78 if self.oncoming else 0.72) * length
        canvas.shade_polygon([p(x - hw - 0.15, 0, z - 0.2), p(x + hw + 0.15, 0, z - 0.2),
                              p(x + hw + 0.15, 0, z + length), p(x - hw - 0.15, 0, z + length)],
                             0.5, GROUND_PARTS)
        for side in (-1, 1):  # wheels seen under the near face
            wx = x + side * (hw - 0.3)
            c0, r0 = p(wx - 0.14, 0.32, z + 0.6)
            c1, r1 = p(wx + 0.14, 0.0, z + 0.6)
            canvas.rect(c0, r0, c1, r1, TYRE, part)
        xs = x - hw if x - hw > 0.2 else x + hw if x + hw < -0.2 else None
        if xs is not None:  # the side facing the camera
            canvas.polygon([p(xs, 0.28, z), p(xs, 0.28, z + length), p(xs, hb, z + length),
                            p(xs, hb, z)], _mul(paint, 0.72), part, grain=0.03)
            canvas.polygon([p(xs, hb, zc0), p(xs, hb, zc1), p(xs, hr, zc1 - 0.1 * length),
                            p(xs, hr, zc0 + 0.08 * length)], _mul(paint, 0.65), part)
            canvas.polygon([p(xs, hb + 0.05, zc0 + 0.04 * length),
                            p(xs, hb + 0.05, zc1 - 0.04 * length),
                            p(xs, hr - 0.05, zc1 - 0.12 * length),
                            p(xs, hr - 0.05, zc0 + 0.1 * length)], GLASS, part)
            for zw in (z + 0.75, z + length - 0.75):
                circle = [p(xs, 0.33 + 0.33 * math.sin(t), zw + 0.33 * math.cos(t))
                          for t in (k * math.pi / 6 for k in range(12))]
                canvas.polygon(circle, TYRE, part)
                hub = [p(xs, 0.33 + 0.14 * math.sin(t), zw + 0.14 * math.cos(t))
                       for t in (k * math.pi / 4 for k in range(8))]
                canvas.polygon(hub, (130.0, 130.0, 135.0), part)
        if hb < camera.elevation - 0.05:  # bonnet / boot top
            canvas.polygon([p(x - hw, hb, z), p(x + hw, hb, z), p(x + hw, hb, zc0),
                            p(x - hw, hb, zc0)], _mul(paint, 1.05), part)
        if hr < camera.elevation - 0.05:  # roof
            canvas.polygon([p(x - hw + 0.12, hr, zc0 + 0.08 * length),
                            p(x + hw - 0.12, hr, zc0 + 0.08 * length),
                            p(x + hw - 0.12, hr, zc1 - 0.1 * length),
                            p(x - hw + 0.12, hr, zc1 - 0.1 * length)], _mul(paint, 1.1), part)
        zt = zc0 + 0.08 * length  # the cabin's near face, leaning back
        canvas.polygon([p(x - hw + 0.08, hb, zc0), p(x + hw - 0.08, hb, zc0),
                        p(x + hw - 0.2, hr, zt), p(x - hw + 0.2, hr, zt)], _mul(paint, 0.9), part)
        canvas.polygon([p(x - hw + 0.2, hb + 0.06, zc0 + 0.01 * length),
                        p(x + hw - 0.2, hb + 0.06, zc0 + 0.01 * length),
                        p(x + hw - 0.28, hr - 0.06, zt - 0.01 * length),
                        p(x - hw + 0.28, hr - 0.06, zt - 0.01 * length)], GLASS, part)
        self._near_face(canvas, camera)

    def _near_face(self, canvas: Canvas, camera: Camera) -> None:
        p, part = camera.project, PART['car']
        x, z, hw, hb = self.x, self.z, self.width / 2, self.body_height

        def rect(x0: float, y0: float, x1: float, y1: float, colour: Sequence[float]) -> None:
            c0, r0 = p(x0, y1, z)
            c1, r1 = p(x1, y0, z)
            canvas.rect(c0, r0, c1, r1, colour, part)

        rect(x - hw, 0.28, x + hw, hb, _mul(self.colour, 0.88))
        rect(x - hw, 0.28, x + hw, 0.42, (42.0, 42.0, 44.0))
        light = (235.0, 232.0, 205.0) if self.oncoming else (205.0, 22.0, 24.0)
        for side in (-1, 1):
            inner, outer = x + side * (hw - 0.45), x + side * (hw - 0.1)
            rect(min(inner, outer), hb - 0.2, max(inner, outer), hb - 0.06, light)
        if self.oncoming:
            rect(x - 0.4, hb - 0.32, x + 0.4, hb - 0.1, (35.0, 35.0, 38.0))
        rect(x - 0.26, 0.46, x + 0.26, 0.58, (228.0, 228.0, 222.0))


@dataclass(frozen=True)
class Pedestrian:
    """A person: two legs, an upright ellipse body, arms and a head.

    Args:
        x: Lateral position (m).
        z: Depth (m).
        height: Body height (m).
        stride: Feet offset (m) of the walking pose.
        shirt: Upper clothing colour.
        trousers: Trousers colour.
        skin: Skin colour.
        hair: Hair colour.
    """

    x: float
    z: float
    height: float
    stride: float
    shirt: RGB
    trousers: RGB
    skin: RGB
    hair: RGB

    @property
    def depth(self) -> float:
        return self.z

    def draw(self, canvas: Canvas, camera: Camera) -> None:
        b, part, k = Billboard(camera, self.x, self.z), PART['person'], self.height / 1.75
        s = b.s
        for side in (-1, 1):
            canvas.segment(b.pt(0.08 * side * k, 0.9 * k),
                           b.pt((0.08 * k + self.stride) * side, 0.05), 0.075 * k * s,
                           self.trousers, part)
        cx, cy = b.pt(0, 1.18 * k)
        canvas.ellipse(cx, cy, 0.2 * k * s, 0.31 * k * s, self.shirt, part, grain=0.05)
        for side in (-1, 1):
            canvas.segment(b.pt(0.18 * side * k, 1.4 * k), b.pt(0.24 * side * k, 0.92 * k),
                           0.05 * k * s, _mul(self.shirt, 0.85), part)
        hx, hy = b.pt(0, 1.62 * k)
        canvas.ellipse(hx, hy, 0.1 * k * s, 0.12 * k * s, self.skin, part)
        canvas.ellipse(hx, hy - 0.05 * k * s, 0.105 * k * s, 0.075 * k * s, self.hair, part)


@dataclass(frozen=True)
class Rider:
    """A bicyclist or motorcyclist seen from the side.

    Args:
        x: Lateral position (m) of the vehicle's centre.
        z: Depth (m).
        kind: ``'bicyclist'`` or ``'motorcyclist'``.
        facing: Riding direction in the image: ``+1`` right, ``-1`` left.
        vehicle: Bicycle frame / motorcycle body colour.
        jacket: Rider's jacket colour.
        helmet: Helmet colour (a bicyclist's hair or helmet).
        skin: Skin colour.
    """

    x: float
    z: float
    kind: str
    facing: int
    vehicle: RGB
    jacket: RGB
    helmet: RGB
    skin: RGB

    @property
    def depth(self) -> float:
        return self.z

    def draw(self, canvas: Canvas, camera: Camera) -> None:
        if self.kind == 'bicyclist':
            self._bicyclist(canvas, Billboard(camera, self.x, self.z))
        elif self.kind == 'motorcyclist':
            self._motorcyclist(canvas, Billboard(camera, self.x, self.z))
        else:
            raise ValueError(f"rider kind must be 'bicyclist' or 'motorcyclist', "
                             f'got {self.kind!r}')

    def _pt(self, b: Billboard, u: float, v: float) -> Point:
        return b.pt(u * self.facing, v)

    def _bicyclist(self, canvas: Canvas, b: Billboard) -> None:
        part, s, q = PART['bicyclist'], b.s, self._pt
        for u in (-0.55, 0.55):  # open wheels: thin tyres
            cx, cy = q(b, u, 0.34)
            canvas.ring(cx, cy, 0.34 * s, max(0.29 * s, 0.34 * s - 1.2), TYRE, part)
        rear, front, crank = q(b, -0.55, 0.34), q(b, 0.55, 0.34), q(b, -0.05, 0.36)
        seat, head = q(b, -0.18, 0.86), q(b, 0.42, 0.86)
        for p0, p1 in ((rear, seat), (rear, crank), (crank, seat), (seat, head),
                       (crank, head), (head, front)):
            canvas.segment(p0, p1, 0.025 * s, self.vehicle, part)
        canvas.segment(head, q(b, 0.36, 1.02), 0.025 * s, self.vehicle, part)
        hip, knee, shoulder = q(b, -0.16, 0.95), q(b, 0.12, 0.72), q(b, 0.16, 1.42)
        canvas.segment(hip, knee, 0.07 * s, (40.0, 40.0, 48.0), part)
        canvas.segment(knee, crank, 0.06 * s, (40.0, 40.0, 48.0), part)
        canvas.segment(hip, shoulder, 0.15 * s, self.jacket, part, grain=0.04)
        canvas.segment(shoulder, q(b, 0.38, 1.02), 0.045 * s, self.jacket, part)
        hx, hy = q(b, 0.26, 1.6)
        canvas.ellipse(hx, hy, 0.11 * s, 0.11 * s, self.skin, part)
        canvas.ellipse(hx, hy - 0.05 * s, 0.12 * s, 0.07 * s, self.helmet, part)

    def _motorcyclist(self, canvas: Canvas, b: Billboard) -> None:
        part, s, q = PART['motorcyclist'], b.s, self._pt
        for u in (-0.72, 0.72):  # solid wheels with a hub
            cx, cy = q(b, u, 0.33)
            canvas.ellipse(cx, cy, 0.33 * s, 0.33 * s, TYRE, part)
            canvas.ellipse(cx, cy, 0.12 * s, 0.12 * s, (110.0, 110.0, 115.0), part)
        body = [q(b, u, v) for u, v in ((-0.85, 0.62), (-0.35, 0.9), (0.35, 1.0),
                                       (0.66, 0.78), (0.5, 0.34), (-0.4, 0.3))]
        canvas.polygon(body, self.vehicle, part, grain=0.03)
        canvas.segment(q(b, -0.5, 0.35), q(b, -0.95, 0.45), 0.05 * s, (150.0, 150.0, 155.0),
                       part)  # exhaust
        canvas.segment(q(b, 0.5, 1.0), q(b, 0.72, 0.33), 0.05 * s, (90.0, 90.0, 95.0), part)
        hip, knee, shoulder = q(b, -0.22, 1.02), q(b, 0.18, 0.8), q(b, -0.02, 1.52)
        canvas.segment(hip, knee, 0.09 * s, (30.0, 30.0, 34.0), part)
        canvas.segment(knee, q(b, 0.02, 0.42), 0.08 * s, (30.0, 30.0, 34.0), part)
        canvas.segment(hip, shoulder, 0.21 * s, self.jacket, part, grain=0.04)
        canvas.segment(shoulder, q(b, 0.46, 1.12), 0.06 * s, self.jacket, part)
        hx, hy = q(b, 0.06, 1.7)
        canvas.ellipse(hx, hy, 0.15 * s, 0.15 * s, self.helmet, part)
        vx, vy = q(b, 0.14, 1.7)
        canvas.ellipse(vx, vy, 0.06 * s, 0.05 * s, (20.0, 20.0, 26.0), part)  # visor


#: Anything :func:`~mmhier.demo.scene.render_scene` can draw.
StreetObject = Tree | StreetLamp | SignPost | Car | Pedestrian | Rider


def draw_object(obj: StreetObject, canvas: Canvas, camera: Camera) -> Optional[SignInstance]:
    """Draw one object; its sign instance for sign posts, else ``None``."""
    result = obj.draw(canvas, camera)
    return result if isinstance(result, SignInstance) else None
