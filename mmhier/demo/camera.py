"""A pinhole camera looking down a flat street.

World coordinates in metres: ``x`` to the right, ``y`` up (0 = ground),
``z`` forward (depth). The camera sits at ``(0, elevation, 0)`` looking along
``+z`` with a level optical axis, so the horizon is a horizontal image row and
every line parallel to the street meets at the vanishing point
``(centre, horizon)``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mmhier.demo.canvas import Point

#: Nearest depth anything is projected at (avoids exploding coordinates).
MIN_DEPTH = 0.5


@dataclass(frozen=True)
class Camera:
    """Image size and intrinsics of the street camera.

    Args:
        height: Image rows.
        width: Image columns.
        focal: Focal length in pixels.
        horizon: Row of the horizon (may be fractional).
        centre: Column of the vanishing point.
        elevation: Camera height above the ground in metres.
    """

    height: int
    width: int
    focal: float
    horizon: float
    centre: float
    elevation: float

    def project(self, x: float, y: float, z: float) -> Point:
        """Image point ``(column, row)`` of world point ``(x, y, z)``."""
        z = max(z, MIN_DEPTH)
        return (self.centre + self.focal * x / z,
                self.horizon + self.focal * (self.elevation - y) / z)

    def scale(self, z: float) -> float:
        """Pixels per metre at depth ``z``."""
        return self.focal / max(z, MIN_DEPTH)

    def depth_of_row(self, row: float) -> float:
        """Depth of the ground seen at ``row`` (infinite at or above the horizon)."""
        below = row - self.horizon
        return float('inf') if below <= 0 else self.focal * self.elevation / below

    @property
    def nearest_ground(self) -> float:
        """Depth of the ground at the bottom image row."""
        return self.depth_of_row(self.height - 1)

    def ground_coords(self, first_row: int) -> tuple[np.ndarray, np.ndarray]:
        """World ``(x, z)`` of the ground seen by every pixel from ``first_row``
        (which must lie below the horizon) to the bottom.

        Shape:
            Both ``(height - first_row, width)`` float32.
        """
        rows = np.arange(first_row, self.height, dtype=np.float32)[:, None]
        cols = np.arange(self.width, dtype=np.float32)[None, :]
        below = np.maximum(rows - np.float32(self.horizon), np.float32(1e-3))
        z = np.float32(self.focal * self.elevation) / below
        x = (cols - np.float32(self.centre)) * np.float32(self.elevation) / below
        return x, np.broadcast_to(z, x.shape)


@dataclass(frozen=True)
class Billboard:
    """A vertical plane facing the camera at ``(x, 0, z)``: local metres
    ``(u, v)`` (``u`` right, ``v`` up from the ground) to image points.

    Args:
        camera: The camera.
        x: Lateral position of the local origin.
        z: Depth of the plane.
    """

    camera: Camera
    x: float
    z: float

    @property
    def s(self) -> float:
        """Pixels per metre."""
        return self.camera.scale(self.z)

    def pt(self, u: float, v: float) -> Point:
        """Image point of local ``(u, v)``."""
        return self.camera.project(self.x + u, v, self.z)
