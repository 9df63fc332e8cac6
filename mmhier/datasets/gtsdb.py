"""GTSDB (German Traffic Sign Detection Benchmark, FullIJCNN2013).

900 PPM images (1360x800) with bounding boxes of 43 sign classes in one
``gt.txt``, one box per line::

    filename;leftCol;topRow;rightCol;bottomRow;ClassID
    00000.ppm;774;411;815;446;11

Coordinates are inclusive pixel indices (the box covers columns
``leftCol .. rightCol``). Images without signs have no line. The standard
split is by image number: ``00000-00599`` train, ``00600-00899`` test.

The dataset yields boxes, not label maps: put
:class:`~mmhier.datasets.transforms.box_pseudo_masks.BoxesToPseudoMask` right
after ``LoadImageFromFile`` to turn them into the encoded label map of
:mod:`mmhier.structures.label_encoding`.
"""
from __future__ import annotations

import os
import os.path as osp
import re
import warnings
from typing import Any, Callable, Mapping, Optional, Union

import numpy as np
from mmseg.registry import DATASETS

from mmhier.datasets.errors import AnnotationError, CorruptFileError, MissingDataError
from mmhier.datasets.taxonomy_dataset import TaxonomySegDataset
from mmhier.taxonomy import Taxonomy

#: ``split`` -> image numbers (``range``); ``'all'`` takes every image.
GTSDB_SPLITS: dict[str, Optional[range]] = {
    'train': range(0, 600), 'test': range(600, 900), 'all': None}

_FIELDS = ('filename', 'leftCol', 'topRow', 'rightCol', 'bottomRow', 'ClassID')
_FORMAT_HINT = ('expected 6 fields separated by ";": '
                'filename;leftCol;topRow;rightCol;bottomRow;ClassID, '
                'e.g. 00000.ppm;774;411;815;446;11')
_NETPBM_TOKEN = re.compile(rb'#[^\r\n]*|[^\s#]+')
_INTEGER = re.compile(r'-?[0-9]+')

#: ``{filename: (boxes, labels)}``; boxes ``(K, 4)`` float32, labels ``(K,)`` int64.
Annotations = dict[str, tuple[np.ndarray, np.ndarray]]


def read_ppm_size(path: Union[str, os.PathLike]) -> tuple[int, int]:
    """Image size from a Netpbm (PPM/PGM/PBM) header, without decoding pixels.

    Reads the first 4 KiB only: magic number (``P1`` .. ``P6``), width and
    height, skipping ``#`` comments.

    Args:
        path: The image file.

    Returns:
        ``(height, width)``.

    Raises:
        MissingDataError: The file does not exist.
        CorruptFileError: The file does not start with a Netpbm header.
    """
    try:
        with open(path, 'rb') as f:
            head = f.read(4096)
    except FileNotFoundError:
        raise MissingDataError(f'{os.fspath(path)}: no such image file') from None
    tokens = []
    for match in _NETPBM_TOKEN.finditer(head):
        if not match.group().startswith(b'#'):
            tokens.append(match.group())
            if len(tokens) == 3:
                break
    if len(tokens) < 3 or tokens[0] not in (b'P1', b'P2', b'P3', b'P4', b'P5', b'P6') \
            or not tokens[1].isdigit() or not tokens[2].isdigit() \
            or int(tokens[1]) == 0 or int(tokens[2]) == 0:
        raise CorruptFileError(f'{os.fspath(path)}: not a PPM/PGM/PBM image (its '
                               'header must be "P6 <width> <height> <maxval>"); '
                               're-download or re-convert the image')
    return int(tokens[2]), int(tokens[1])


SizeOf = Callable[[str], Optional[tuple[int, int]]]


def _sizes_from_directory(directory: str) -> SizeOf:
    """``filename -> (height, width)`` read from the PPM header once per
    file, ``None`` for files that do not exist."""
    cache: dict[str, Optional[tuple[int, int]]] = {}

    def size_of(filename: str) -> Optional[tuple[int, int]]:
        if filename not in cache:
            path = osp.join(directory, filename)
            cache[filename] = read_ppm_size(path) if osp.isfile(path) else None
        return cache[filename]
    return size_of


def _check_line(fields: list[str], size_of: SizeOf, num_classes: int,
                where: str) -> tuple[list[int], int]:
    """Box and class of one split line; raises ValueError with the reason."""
    if len(fields) != len(_FIELDS):
        raise ValueError(f'{len(fields)} field(s); {_FORMAT_HINT}')
    for name, text in zip(_FIELDS[1:], fields[1:]):
        if not _INTEGER.fullmatch(text):
            raise ValueError(f'{name} {text!r} is not an integer; {_FORMAT_HINT}')
    x1, y1, x2, y2, label = (int(text) for text in fields[1:])
    if not 0 <= label < num_classes:
        raise ValueError(f'unknown ClassID {label}: the taxonomy defines ids '
                         f'0..{num_classes - 1}; fix the id or add the class to '
                         'the taxonomy')
    if x2 <= x1 or y2 <= y1:
        raise ValueError(f'box ({x1}, {y1}, {x2}, {y2}) has zero or negative area: '
                         'rightCol must exceed leftCol and bottomRow must exceed '
                         'topRow (are coordinates swapped?)')
    size = size_of(fields[0])
    if size is None:
        raise ValueError(f'image {fields[0]!r} does not exist in {where}; fix the '
                         'filename or restore the image')
    height, width = size
    if x1 < 0 or y1 < 0 or x2 >= width or y2 >= height:
        raise ValueError(f'box ({x1}, {y1}, {x2}, {y2}) lies outside the '
                         f'{width}x{height} image {fields[0]!r} (columns '
                         f'0..{width - 1}, rows 0..{height - 1}); fix or remove '
                         'the line')
    return [x1, y1, x2, y2], label


def parse_gtsdb_annotations(path: Union[str, os.PathLike],
                            images: Union[str, os.PathLike, Mapping[str, tuple[int, int]]],
                            num_classes: int, strict: bool = True) -> Annotations:
    """Read and check a GTSDB ``gt.txt``.

    Every line is checked: 6 ``;``-separated fields, integer coordinates and
    class id, ``ClassID < num_classes``, positive area (``rightCol > leftCol``,
    ``bottomRow > topRow``), an existing image, and the box inside that image.
    Empty lines are skipped.

    Args:
        path: The ``gt.txt`` file.
        images: The directory holding the images (their sizes are read from
            the PPM headers, once per image), or a mapping
            ``filename -> (height, width)``.
        num_classes: Number of class ids (the taxonomy dataset's ``num_ids``).
        strict: Raise on the first bad line; with ``False``, warn (naming
            file and line) and skip the line instead.

    Returns:
        ``{filename: (boxes, labels)}`` for the images that have lines, boxes
        in file order. ``boxes``: ``x1, y1, x2, y2`` (``leftCol, topRow,
        rightCol, bottomRow``) inclusive pixel coordinates.

    Shape:
        boxes: ``(K, 4)`` float32; labels: ``(K,)`` int64.

    Raises:
        MissingDataError: ``gt.txt`` does not exist.
        AnnotationError: A bad line (``strict=True``), naming file and line.
        CorruptFileError: A referenced image is not a PPM file.
    """
    path = os.fspath(path)
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except FileNotFoundError:
        raise MissingDataError(f'{path}: GTSDB annotation file not found; it ships '
                               'as FullIJCNN2013/gt.txt with the images') from None
    try:
        lines = data.decode('utf-8').split('\n')
    except UnicodeDecodeError as error:
        raise AnnotationError(path, data.count(b'\n', 0, error.start) + 1,
                              'not ASCII/UTF-8 text; gt.txt must be plain text '
                              '(re-download it or save it as UTF-8)') from None
    if isinstance(images, Mapping):
        size_of, where = images.get, 'the given image sizes'
    else:
        size_of, where = _sizes_from_directory(os.fspath(images)), os.fspath(images)
    boxes: dict[str, list[list[int]]] = {}
    labels: dict[str, list[int]] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        fields = [field.strip() for field in line.split(';')]
        try:
            box, label = _check_line(fields, size_of, num_classes, where)
        except ValueError as error:
            if strict:
                raise AnnotationError(path, number, str(error)) from None
            warnings.warn(f'{path}:{number}: {error}; line skipped', stacklevel=2)
            continue
        boxes.setdefault(fields[0], []).append(box)
        labels.setdefault(fields[0], []).append(label)
    return {name: (np.asarray(boxes[name], dtype=np.float32).reshape(-1, 4),
                   np.asarray(labels[name], dtype=np.int64)) for name in boxes}


@DATASETS.register_module()
class GTSDBTaxonomyDataset(TaxonomySegDataset):
    """GTSDB boxes as a taxonomy dataset (annotation type ``box``).

    Layout under ``data_root``::

        FullIJCNN2013/00000.ppm ... 00899.ppm
        FullIJCNN2013/gt.txt

    (The class folders ``FullIJCNN2013/00 .. 42`` with cropped signs are not
    used.) Every image of the split is a sample, also images without signs
    (their boxes are empty, so their label map is all ignore). Each data info
    holds ``img_path``, ``gt_boxes`` and ``gt_box_labels`` (dataset class ids)
    and, from the base class, ``taxonomy`` and ``dataset_key``; there is no
    ``seg_map_path``. Pipelines start with ``LoadImageFromFile`` and
    ``BoxesToPseudoMask``.

    Args:
        split: ``'train'`` (images 00000-00599), ``'test'`` (00600-00899) or
            ``'all'`` (every image in the folder).
        taxonomy: Taxonomy YAML path (or a loaded :class:`Taxonomy`).
        dataset_key: The GTSDB dataset's key in the taxonomy.
        strict: Bad lines of ``gt.txt`` raise (``True``) or are skipped with
            a warning (``False``); see :func:`parse_gtsdb_annotations`.
        ann_file: ``gt.txt``, relative to ``data_root``.
        data_prefix: ``dict(img_path=...)``: the image folder, relative to
            ``data_root``.
        img_suffix: Image file suffix.
        **kwargs: Arguments of :class:`TaxonomySegDataset` /
            ``BaseSegDataset`` (``data_root``, ``pipeline``, ...).

    Raises:
        ValueError: Unknown ``split``.
        MissingDataError: The image folder or ``gt.txt`` is missing.
        AnnotationError: A bad line in ``gt.txt`` (``strict=True``).

    Example:
        >>> dataset = DATASETS.build(dict(
        ...     type='GTSDBTaxonomyDataset', data_root='data/gtsdb',
        ...     split='train', pipeline=[
        ...         dict(type='LoadImageFromFile'),
        ...         dict(type='BoxesToPseudoMask'),
        ...         dict(type='PackSegInputs')]))
    """

    def __init__(self, split: str = 'train',
                 taxonomy: Union[str, os.PathLike, Taxonomy] = 'taxonomies/cs_vistas_gtsdb.yaml',
                 dataset_key: str = 'gtsdb', strict: bool = True,
                 ann_file: str = 'FullIJCNN2013/gt.txt',
                 data_prefix: Optional[dict] = None, img_suffix: str = '.ppm',
                 **kwargs: Any):
        if split not in GTSDB_SPLITS:
            raise ValueError(f"split must be one of {', '.join(GTSDB_SPLITS)}, "
                             f'got {split!r}')
        self.split = split
        self.strict = strict
        super().__init__(taxonomy=taxonomy, dataset_key=dataset_key,
                         ann_file=ann_file, img_suffix=img_suffix,
                         data_prefix=data_prefix or dict(img_path='FullIJCNN2013'),
                         **kwargs)

    def load_data_list(self) -> list[dict]:
        """One info per image of the split, with its boxes."""
        img_dir = self.data_prefix.get('img_path', '')
        if not osp.isdir(img_dir):
            raise MissingDataError(f'{img_dir}: GTSDB image folder not found; set '
                                   'data_root to the folder holding FullIJCNN2013/')
        annotations = parse_gtsdb_annotations(
            self.ann_file, img_dir, self.taxonomy.dataset(self.dataset_key).num_ids,
            strict=self.strict)
        numbers = GTSDB_SPLITS[self.split]
        names = sorted(name for name in os.listdir(img_dir)
                       if name.endswith(self.img_suffix)
                       and osp.isfile(osp.join(img_dir, name)))
        empty = (np.zeros((0, 4), dtype=np.float32), np.zeros(0, dtype=np.int64))
        data_list = []
        for name in names:
            stem = name[:-len(self.img_suffix)]
            if numbers is not None and not (stem.isdigit() and int(stem) in numbers):
                continue
            boxes, labels = annotations.get(name, empty)
            data_list.append(dict(img_path=osp.join(img_dir, name), gt_boxes=boxes,
                                  gt_box_labels=labels, label_map=self.label_map,
                                  reduce_zero_label=self.reduce_zero_label,
                                  seg_fields=[]))
        return data_list
