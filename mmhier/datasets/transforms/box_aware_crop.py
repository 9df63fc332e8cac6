"""A random crop that shows a box-labelled object with a set probability."""
from __future__ import annotations

from typing import Optional

import numpy as np
from mmseg.datasets.transforms import RandomCrop
from mmseg.registry import TRANSFORMS
from scipy import ndimage

from mmhier.datasets.transforms.taxonomy_source import taxonomy_and_key
from mmhier.structures.label_encoding import decode_labels


def object_windows(box_pixels: np.ndarray) -> list[tuple[int, int, int, int]]:
    """The bounding rectangles of the connected regions of a mask.

    Args:
        box_pixels: Bool mask, the pixels with box pseudo labels.

    Returns:
        ``(y1, y2, x1, x2)`` per region (end exclusive), in scan order.

    Shape:
        box_pixels: ``(H, W)``.
    """
    regions, _ = ndimage.label(box_pixels)
    return [(s[0].start, s[0].stop, s[1].start, s[1].stop)
            for s in ndimage.find_objects(regions) if s is not None]


def crop_offset_around(start: int, stop: int, crop: int, size: int,
                       rng: np.random.Generator) -> int:
    """A random crop start along one axis so that ``[start, stop)`` lies in the
    crop (centred on it when it is longer than the crop).

    Args:
        start: First index of the object.
        stop: One past its last index.
        crop: Crop length (at most ``size``).
        size: Image length.
        rng: Random generator.

    Returns:
        The crop's first index, in ``[0, size - crop]``.
    """
    low, high = max(0, stop - crop), min(start, size - crop)
    if low > high:  # object longer than the crop: centre the crop on it
        return int(np.clip((start + stop - crop) // 2, 0, size - crop))
    return int(rng.integers(low, high + 1))


@TRANSFORMS.register_module()
class BoxAwareRandomCrop(RandomCrop):
    """``RandomCrop`` that, with probability ``box_prob``, keeps one whole
    box-labelled object in the crop.

    Box-annotated images (GTSDB: one or two signs of a few dozen pixels in a
    1360x800 frame) rarely show a sign in a plain random crop, so the
    classifiers that only boxes train see few examples. With probability
    ``box_prob`` this crop picks one object uniformly among the connected
    regions of box pseudo labels (``BoxesToPseudoMask``'s inscribed shapes;
    every sign counts once, whatever its size) and places the crop at a
    random position that contains it whole (centred on it when it is larger
    than the crop). Otherwise, and on samples without box pseudo labels
    (per-pixel datasets, images without signs), it is mmseg's ``RandomCrop``
    (``cat_max_ratio`` included), so one pipeline serves every dataset.

    Works on the label map itself, so it may follow any geometric transform
    (resize, rotation); put it after ``BoxesToPseudoMask`` and ``RandomResize``.

    Args:
        crop_size: ``(height, width)`` of the crop.
        box_prob: Probability of a crop around an object, in ``[0, 1]``.
        cat_max_ratio: As mmseg's ``RandomCrop`` (random crops only).
        ignore_index: Ignored label value (``-1`` in mmhier label maps).

    Raises:
        ValueError: ``box_prob`` outside ``[0, 1]``.
        ValueError: A sample without ``taxonomy`` (the crop must run inside
            a taxonomy dataset, which puts it into each sample).
    """

    def __init__(self, crop_size, box_prob: float = 0.8, cat_max_ratio: float = 1.,
                 ignore_index: int = -1) -> None:
        super().__init__(crop_size, cat_max_ratio=cat_max_ratio, ignore_index=ignore_index)
        if not 0.0 <= float(box_prob) <= 1.0:
            raise ValueError(f'BoxAwareRandomCrop: box_prob must be in [0, 1], got {box_prob!r}')
        self.box_prob = float(box_prob)

    def crop_bbox(self, results: dict) -> tuple:
        """The crop ``(y1, y2, x1, x2)``: around a box object or at random."""
        if self.box_prob == 0.0 or np.random.rand() >= self.box_prob:
            return super().crop_bbox(results)
        windows = self._windows(results)
        if not windows:
            return super().crop_bbox(results)
        height, width = results['img'].shape[:2]
        crop_h, crop_w = min(self.crop_size[0], height), min(self.crop_size[1], width)
        y1, y2, x1, x2 = windows[np.random.randint(len(windows))]
        rng = np.random.default_rng(np.random.randint(2**31))
        top = crop_offset_around(y1, y2, crop_h, height, rng)
        left = crop_offset_around(x1, x2, crop_w, width, rng)
        return top, top + crop_h, left, left + crop_w

    def _windows(self, results: dict) -> list[tuple[int, int, int, int]]:
        labels = results.get('gt_seg_map')
        if labels is None:
            return []
        taxonomy, _ = taxonomy_and_key('BoxAwareRandomCrop', None, '', results)
        return object_windows(decode_labels(np.asarray(labels), taxonomy.num_targets)[1])

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(crop_size={self.crop_size}, '
                f'box_prob={self.box_prob}, cat_max_ratio={self.cat_max_ratio})')
