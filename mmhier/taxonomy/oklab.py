"""8-bit sRGB <-> OKLab, gamut mapping and the overlay blend.

OKLab (Ottosson 2020) is a perceptual colour space: Euclidean distance
approximates perceived difference (about 0.02 is just noticeable, the sRGB
gamut spans ``L`` 0..1 and ``a, b`` about -0.3..0.3). Everything here is
numpy on ``(..., 3)`` arrays; the palette of :mod:`mmhier.taxonomy.palette`
and the overlays of :mod:`mmhier.visualization` use these functions, so that
the colours the palette guarantees are the colours pictures show.
"""
from __future__ import annotations

import math

import numpy as np

#: Linear sRGB -> LMS and LMS' -> OKLab, as published by Ottosson.
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


def linear_rgb_to_srgb8(linear: np.ndarray) -> np.ndarray:
    """Linear sRGB (clipped to [0, 1]) to 8-bit sRGB.

    Shape:
        ``linear``: ``(..., 3)``; returns ``(..., 3)`` uint8.
    """
    c = np.clip(np.asarray(linear, dtype=np.float64), 0.0, 1.0)
    c = np.where(c <= 0.0031308, 12.92 * c, 1.055 * c ** (1 / 2.4) - 0.055)
    return np.round(c * 255.0).astype(np.uint8)


def oklab_to_srgb8(lab: np.ndarray) -> np.ndarray:
    """OKLab to 8-bit sRGB (out-of-gamut values clipped per channel).

    Shape:
        ``lab``: ``(..., 3)``; returns ``(..., 3)`` uint8.
    """
    return linear_rgb_to_srgb8(oklab_to_linear_rgb(lab))


def in_gamut(lab: np.ndarray, tol: float = 1e-6) -> np.ndarray:
    """Whether sRGB can show each OKLab colour.

    Shape:
        ``lab``: ``(..., 3)``; returns ``(...)`` bool.
    """
    rgb = oklab_to_linear_rgb(lab)
    return np.all((rgb >= -tol) & (rgb <= 1 + tol), axis=-1)


def lch_to_lab(lightness: float, chroma: float, hue: float) -> np.ndarray:
    """OKLab ``(L, a, b)`` of lightness, chroma and hue (radians)."""
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
    if in_gamut(lch_to_lab(lightness, chroma, hue)):
        return lch_to_lab(lightness, chroma, hue)
    low, high = 0.0, chroma
    for _ in range(30):
        mid = (low + high) / 2
        if in_gamut(lch_to_lab(lightness, mid, hue)):
            low = mid
        else:
            high = mid
    return lch_to_lab(lightness, low, hue)


def mix_srgb8(base: np.ndarray, colour: np.ndarray, alpha: float) -> np.ndarray:
    """The overlay blend: ``round((1 - alpha) * base + alpha * colour)`` per
    8-bit sRGB channel, in float64, halves to even (what every mmhier overlay
    draws).

    Args:
        base: Image or background colours, ``0 .. 255``.
        colour: Colours laid over it, ``0 .. 255``; broadcast against ``base``.
        alpha: Weight of ``colour`` (0 = base only, 1 = colour only).

    Returns:
        The blend as uint8, in the broadcast shape.
    """
    out = (1.0 - alpha) * np.asarray(base, dtype=np.float64) + \
        alpha * np.asarray(colour, dtype=np.float64)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)
