"""Writing samples in the on-disk formats of Cityscapes, Mapillary Vistas and GTSDB.

=================  ==========================================================
format             files (under the dataset's root)
=================  ==========================================================
Cityscapes         ``leftImg8bit/{split}/<city>/<city>_<seq>_<frame>_leftImg8bit.png``
                   (RGB PNG) and ``gtFine/{split}/<city>/<...>_gtFine_labelIds.png``
                   (8-bit grey PNG, pixel = label id)
Mapillary Vistas   ``{split}/images/<key>.jpg`` (JPEG) and
                   ``{split}/v1.2/labels/<key>.png`` (palette PNG, index = id)
GTSDB              ``FullIJCNN2013/NNNNN.ppm`` (binary PPM, ``P6``) and one
                   ``FullIJCNN2013/gt.txt``: ``file;x1;y1;x2;y2;class`` per
                   box, inclusive pixel coordinates
=================  ==========================================================

These are exactly the layouts read by
:class:`~mmhier.datasets.CityscapesTaxonomyDataset`,
:class:`~mmhier.datasets.MapillaryVistasTaxonomyDataset` and
:class:`~mmhier.datasets.GTSDBTaxonomyDataset`. All encoders are
deterministic: the same arrays give the same bytes.
"""
from __future__ import annotations

import os
import os.path as osp
from typing import Sequence, Union

import numpy as np
from PIL import Image

from mmhier.demo.labels import SyntheticDataError

PathLike = Union[str, os.PathLike]
#: A GTSDB box: ``(x1, y1, x2, y2, class_id)``, inclusive pixel coordinates.
GTSDBBox = tuple[int, int, int, int, int]
JPEG_QUALITY = 92


def _parent(path: str) -> str:
    os.makedirs(osp.dirname(path), exist_ok=True)
    return path


def _rgb(image: np.ndarray) -> np.ndarray:
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise SyntheticDataError(f'images must be (H, W, 3) uint8 RGB, got '
                                 f'{image.shape} {image.dtype}')
    return np.ascontiguousarray(image)


def write_label_png(path: PathLike, ids: np.ndarray) -> None:
    """A grey PNG of label ids: 8-bit when all ids < 256, else 16-bit.

    Raises:
        SyntheticDataError: Ids outside 0..65535 or not a 2-D map.
    """
    if ids.ndim != 2 or (ids.size and (ids.min() < 0 or ids.max() > 65535)):
        raise SyntheticDataError(f'{os.fspath(path)}: label maps must be 2-D ids in '
                                 f'0..65535, got shape {ids.shape}')
    dtype = np.uint8 if not ids.size or ids.max() < 256 else np.uint16
    Image.fromarray(np.ascontiguousarray(ids.astype(dtype))).save(
        _parent(os.fspath(path)), format='PNG')


def write_palette_png(path: PathLike, ids: np.ndarray, palette: np.ndarray) -> None:
    """An 8-bit palette PNG: pixel value = label id, ``palette[id]`` its colour.

    Raises:
        SyntheticDataError: Ids outside the palette, or more than 256 colours.
    """
    if len(palette) > 256 or ids.ndim != 2 or (ids.size and (
            ids.min() < 0 or ids.max() >= len(palette))):
        raise SyntheticDataError(f'{os.fspath(path)}: palette PNGs hold ids 0..255 within '
                                 f'the palette ({len(palette)} colours)')
    image = Image.fromarray(np.ascontiguousarray(ids.astype(np.uint8)))
    flat = np.zeros((256, 3), dtype=np.uint8)
    flat[:len(palette)] = palette
    image.putpalette(flat.reshape(-1).tolist())
    image.save(_parent(os.fspath(path)), format='PNG')


def write_ppm(path: PathLike, image: np.ndarray) -> None:
    """A binary PPM (``P6``, maxval 255)."""
    image = _rgb(image)
    header = f'P6\n{image.shape[1]} {image.shape[0]}\n255\n'.encode('ascii')
    with open(_parent(os.fspath(path)), 'wb') as f:
        f.write(header + image.tobytes())


class CityscapesWriter:
    """Writes ``leftImg8bit`` / ``gtFine`` pairs of one split.

    Args:
        root: The dataset root (``data_root`` of the reader).
        split: ``'train'``, ``'val'`` or ``'test'``.
    """

    def __init__(self, root: PathLike, split: str):
        self.root, self.split = os.fspath(root), split

    def write(self, city: str, sequence: int, frame: int, image: np.ndarray,
              label_ids: np.ndarray) -> tuple[str, str]:
        """Write one frame; returns ``(image_path, label_path)``."""
        stem = f'{city}_{sequence:06d}_{frame:06d}'
        img_path = osp.join(self.root, 'leftImg8bit', self.split, city,
                            f'{stem}_leftImg8bit.png')
        label_path = osp.join(self.root, 'gtFine', self.split, city,
                              f'{stem}_gtFine_labelIds.png')
        Image.fromarray(_rgb(image)).save(_parent(img_path), format='PNG')
        write_label_png(label_path, label_ids)
        return img_path, label_path


class VistasWriter:
    """Writes ``images/*.jpg`` + ``v1.2/labels/*.png`` pairs of one split.

    Args:
        root: The dataset root.
        split: ``'training'`` or ``'validation'``.
        palette: ``(num_ids, 3)`` uint8 colours of the label ids.
        quality: JPEG quality.
    """

    def __init__(self, root: PathLike, split: str, palette: np.ndarray,
                 quality: int = JPEG_QUALITY):
        self.root, self.split = os.fspath(root), split
        self.palette, self.quality = palette, quality

    def write(self, key: str, image: np.ndarray, label_ids: np.ndarray) -> tuple[str, str]:
        """Write one sample; returns ``(image_path, label_path)``."""
        img_path = osp.join(self.root, self.split, 'images', f'{key}.jpg')
        label_path = osp.join(self.root, self.split, 'v1.2', 'labels', f'{key}.png')
        Image.fromarray(_rgb(image)).save(_parent(img_path), format='JPEG',
                                          quality=self.quality)
        write_palette_png(label_path, label_ids, self.palette)
        return img_path, label_path


class GTSDBWriter:
    """Writes ``FullIJCNN2013/NNNNN.ppm`` images and, on :meth:`close`, one
    ``gt.txt`` with the boxes of all of them, sorted by file name.

    Args:
        root: The dataset root (holding ``FullIJCNN2013``).
    """

    def __init__(self, root: PathLike):
        self.folder = osp.join(os.fspath(root), 'FullIJCNN2013')
        self._lines: dict[str, list[str]] = {}

    def write(self, number: int, image: np.ndarray, boxes: Sequence[GTSDBBox]) -> str:
        """Write one image and remember its boxes; returns the image path.

        Raises:
            SyntheticDataError: A number written twice, or a box that is empty
                or not inside the image.
        """
        name = f'{number:05d}.ppm'
        if name in self._lines:
            raise SyntheticDataError(f'GTSDB image {name} written twice')
        height, width = image.shape[:2]
        lines = []
        for x1, y1, x2, y2, label in boxes:
            if not (0 <= x1 < x2 < width and 0 <= y1 < y2 < height):
                raise SyntheticDataError(f'{name}: box ({x1}, {y1}, {x2}, {y2}) is empty '
                                         f'or outside the {width}x{height} image')
            lines.append(f'{name};{x1};{y1};{x2};{y2};{label}')
        path = osp.join(self.folder, name)
        write_ppm(path, image)
        self._lines[name] = lines
        return path

    def close(self) -> str:
        """Write ``gt.txt``; returns its path."""
        path = _parent(osp.join(self.folder, 'gt.txt'))
        text = ''.join(line + '\n' for name in sorted(self._lines)
                       for line in self._lines[name])
        with open(path, 'w', encoding='ascii', newline='\n') as f:
            f.write(text)
        return path
