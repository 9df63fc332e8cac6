"""GTSDB ``gt.txt``: reading and checking the box annotations.

One box per line, 6 fields separated by ``;``::

    filename;leftCol;topRow;rightCol;bottomRow;ClassID
    00000.ppm;774;411;815;446;11

Coordinates are inclusive pixel indices. Accepted as well: a UTF-8
byte-order mark, ``\\r\\n`` / ``\\r`` line ends, blank lines, spaces around
fields, a header line naming the 6 fields, and an exact repeat of an earlier
line (dropped with a warning). Everything else that is wrong is a problem of
its line (see :func:`parse_gtsdb_annotations`).
"""
from __future__ import annotations

import os
import os.path as osp
import re
import unicodedata
import warnings
from typing import Callable, Mapping, Optional, Union

import numpy as np

from mmhier.datasets.errors import AnnotationError, CorruptFileError
from mmhier.datasets.image_format import sniff_format
from mmhier.datasets.image_io import read_file_bytes, read_image_size

FIELDS = ('filename', 'leftCol', 'topRow', 'rightCol', 'bottomRow', 'ClassID')
FORMAT_HINT = ('expected 6 fields separated by ";": '
               'filename;leftCol;topRow;rightCol;bottomRow;ClassID, '
               'e.g. 00000.ppm;774;411;815;446;11')
#: Longest accepted number (digits); longer ones are reported, not parsed.
MAX_DIGITS = 9
_UTF8_BOM = b'\xef\xbb\xbf'
_WIDE_BOMS = ((b'\xff\xfe\x00\x00', 'UTF-32'), (b'\x00\x00\xfe\xff', 'UTF-32'),
              (b'\xff\xfe', 'UTF-16'), (b'\xfe\xff', 'UTF-16'))
_ARCHIVES = ((b'PK\x03\x04', 'a ZIP archive'), (b'\x1f\x8b', 'a gzip archive'),
             (b'7z\xbc\xaf', 'a 7-Zip archive'), (b'Rar!', 'a RAR archive'))
_LINE_BREAK = re.compile(rb'\r\n|\r|\n')
_INTEGER = re.compile(r'-?([0-9]+)')
_DECIMAL = re.compile(r'[-+]?(?:[0-9]*\.[0-9]*|[0-9.]+[eE][-+]?[0-9]+)')
_TEXT_CONTROLS = frozenset(b'\t\n\r\x0c')

#: ``{filename: (boxes, labels)}``; boxes ``(K, 4)`` float32, labels ``(K,)`` int64.
Annotations = dict[str, tuple[np.ndarray, np.ndarray]]
SizeOf = Callable[[str], Optional[tuple[int, int]]]


def _sizes_from_directory(directory: str) -> SizeOf:
    """``filename -> (height, width)`` read from the image header once per
    file, ``None`` for files that do not exist."""
    cache: dict[str, Optional[tuple[int, int]]] = {}

    def size_of(filename: str) -> Optional[tuple[int, int]]:
        if filename not in cache:
            path = osp.join(directory, filename)
            cache[filename] = read_image_size(path) if osp.isfile(path) else None
        return cache[filename]
    return size_of


def _not_text(data: bytes) -> Optional[str]:
    """Why ``data`` is not a text file at all (an image, an archive, binary
    bytes, UTF-16/32), ``None`` if it may be text."""
    for bom, encoding in _WIDE_BOMS:
        if data.startswith(bom):
            return (f'the file is {encoding} text; save gt.txt as UTF-8 (or ASCII) '
                    'text')
    kind = sniff_format(data)
    if kind in ('PNG', 'JPEG', 'PPM', 'GIF', 'TIFF', 'WEBP'):
        return (f'the file is a {kind} image, not the gt.txt text file; point '
                'ann_file at GTSDB\'s FullIJCNN2013/gt.txt')
    for magic, what in _ARCHIVES:
        if data.startswith(magic):
            return (f'the file is {what}, not the gt.txt text file; unpack the '
                    'dataset and point ann_file at FullIJCNN2013/gt.txt')
    head = data[:4096]
    controls = sum(1 for byte in head
                   if (byte < 32 or byte == 127) and byte not in _TEXT_CONTROLS)
    if controls > len(head) // 20:       # random bytes: ~11 %; a text line: ~0
        return ('the file holds binary data (NUL or control bytes), not text lines; '
                'point ann_file at GTSDB\'s FullIJCNN2013/gt.txt (or re-download it)')
    return None


def _parse_int(name: str, text: str) -> int:
    """One integer field; raises ValueError with the reason."""
    if not text:
        raise ValueError(f'{name} is empty; {FORMAT_HINT}')
    match = _INTEGER.fullmatch(text)
    if match is not None:
        if len(match.group(1)) > MAX_DIGITS:
            raise ValueError(f'{name} {text[:20]!r}{"..." if len(text) > 20 else ""} '
                             f'is not a plausible pixel index or class id (more than '
                             f'{MAX_DIGITS} digits); fix the line')
        return int(text)
    if _DECIMAL.fullmatch(text) and any(c.isdigit() for c in text):
        raise ValueError(f'{name} {text!r} is not an integer: GTSDB coordinates are '
                         'whole pixel indices and ClassIDs whole numbers; write it '
                         'without a fractional part (e.g. 774)')
    raise ValueError(f'{name} {text!r} is not an integer; {FORMAT_HINT}')


def _check_fields(fields: list[str]) -> tuple[str, list[int], int]:
    """Filename, box and class id of one split line, syntax only; raises
    ValueError with the reason."""
    if len(fields) != len(FIELDS):
        hint = FORMAT_HINT
        if len(fields) == len(FIELDS) + 1 and not fields[-1]:
            hint = 'remove the ";" at the end of the line; ' + FORMAT_HINT
        elif len(fields) == 1 and (',' in fields[0] or '\t' in fields[0]):
            hint = 'fields are separated by ";", not "," or tabs; ' + FORMAT_HINT
        raise ValueError(f'{len(fields)} field(s); {hint}')
    name = fields[0]
    if not name:
        raise ValueError(f'the filename is empty; {FORMAT_HINT}')
    if '/' in name or '\\' in name:
        raise ValueError(f'filename {name!r} has a folder part; gt.txt names the images '
                         'of the image folder by their bare file name (e.g. 00000.ppm)')
    values = [_parse_int(field, text) for field, text in zip(FIELDS[1:], fields[1:])]
    return name, values[:4], values[4]


def _check_line(fields: list[str], size_of: SizeOf, num_classes: int,
                where: str) -> tuple[str, list[int], int]:
    """Filename, box and class of one split line; raises ValueError with the
    reason (CorruptFileError for an unreadable image)."""
    name, box, label = _check_fields(fields)
    x1, y1, x2, y2 = box
    if not 0 <= label < num_classes:
        raise ValueError(f'unknown ClassID {label}: the taxonomy defines ids '
                         f'0..{num_classes - 1}; fix the id or add the class to '
                         'the taxonomy')
    if x2 <= x1 or y2 <= y1:
        raise ValueError(f'box ({x1}, {y1}, {x2}, {y2}) has zero or negative area: '
                         'rightCol must exceed leftCol and bottomRow must exceed '
                         'topRow (are coordinates swapped?)')
    size = size_of(name)
    if size is None:
        raise ValueError(f'image {name!r} does not exist in {where}; fix the '
                         'filename or restore the image')
    height, width = size
    if x1 < 0 or y1 < 0 or x2 >= width or y2 >= height:
        raise ValueError(f'box ({x1}, {y1}, {x2}, {y2}) lies outside the '
                         f'{width}x{height} image {name!r} (columns '
                         f'0..{width - 1}, rows 0..{height - 1}); fix or remove '
                         'the line')
    return name, box, label


def _text_of(raw: bytes) -> str:
    """One line as text (a leading BOM dropped); raises ValueError for bytes
    that are not UTF-8 and for control characters."""
    try:
        line = raw.decode('utf-8').lstrip('\ufeff')
    except UnicodeDecodeError as error:
        raise ValueError(f'not ASCII/UTF-8 text (byte 0x{raw[error.start]:02x} at '
                         f'column {error.start + 1}); gt.txt must be plain text: save '
                         'it as UTF-8 (or ASCII), or re-download it') from None
    for column, char in enumerate(line, start=1):
        if unicodedata.category(char) == 'Cc' and not char.isspace():
            raise ValueError(f'control character U+{ord(char):04X} at column {column}; '
                             'gt.txt must hold plain text lines (is the file damaged?)')
    return line


def _is_header(fields: list[str]) -> bool:
    return [f.lower() for f in fields] == [f.lower() for f in FIELDS]


def parse_gtsdb_annotations(path: Union[str, os.PathLike],
                            images: Union[str, os.PathLike, Mapping[str, tuple[int, int]]],
                            num_classes: int, strict: bool = True) -> Annotations:
    """Read and check a GTSDB ``gt.txt``.

    Every line is checked: UTF-8 text, 6 ``;``-separated fields, a bare
    filename, integer coordinates and class id, ``ClassID < num_classes``,
    positive area (``rightCol > leftCol``, ``bottomRow > topRow``), an
    existing image, the box inside that image, and no second class for the
    same box. Accepted: a UTF-8 byte-order mark, ``\\r\\n`` / ``\\r`` line
    ends, blank lines, spaces around fields, a header line of the 6 field
    names; an exact repeat of an earlier line is dropped with a warning.

    Args:
        path: The ``gt.txt`` file.
        images: The directory holding the images (their sizes are read from
            the image headers, once per image), or a mapping
            ``filename -> (height, width)``.
        num_classes: Number of class ids (the taxonomy dataset's ``num_ids``).
        strict: Raise for bad lines, all of them listed in one error; with
            ``False``, warn (naming file and line) and skip each bad line.

    Returns:
        ``{filename: (boxes, labels)}`` for the images that have lines, boxes
        in file order. ``boxes``: ``x1, y1, x2, y2`` (``leftCol, topRow,
        rightCol, bottomRow``) inclusive pixel coordinates.

    Shape:
        boxes: ``(K, 4)`` float32; labels: ``(K,)`` int64.

    Raises:
        MissingDataError: ``gt.txt`` does not exist (or is a folder).
        AnnotationError: Bad lines (``strict=True``), the first one's line in
            ``line``, all in ``problems`` and the message; also (whatever
            ``strict``) a file that is not text (binary, an image, UTF-16),
            and (``strict=True``) a file without any box.
        CorruptFileError: A referenced image's header is unreadable
            (``strict=True``), naming the image and the line.
    """
    path = os.fspath(path)
    data = read_file_bytes(path, 'GTSDB annotation', missing_hint=(
        'It ships as FullIJCNN2013/gt.txt with the images; set ann_file to it.'))
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM):]
    problem = _not_text(data)
    if problem is not None:
        raise AnnotationError(path, 1, problem)
    if isinstance(images, Mapping):
        size_of, where = images.get, 'the given image sizes'
    else:
        size_of, where = _sizes_from_directory(os.fspath(images)), os.fspath(images)
    problems: list[tuple[int, str]] = []

    def bad(number: int, reason: str) -> None:
        if strict:
            problems.append((number, reason))
        else:
            warnings.warn(f'{path}:{number}: {reason}; line skipped', stacklevel=3)

    boxes: dict[str, list[list[int]]] = {}
    labels: dict[str, list[int]] = {}
    seen: dict[tuple, tuple[int, int]] = {}      # (filename, box) -> (line, label)
    first, content_lines = True, 0
    for number, raw in enumerate(_LINE_BREAK.split(data), start=1):
        try:
            line = _text_of(raw)
        except ValueError as error:
            bad(number, str(error))
            continue
        if not line.strip():
            continue
        fields = [field.strip() for field in line.split(';')]
        if first and _is_header(fields):
            first = False
            continue
        first = False
        content_lines += 1
        try:
            name, box, label = _check_line(fields, size_of, num_classes, where)
        except ValueError as error:
            bad(number, str(error))
            continue
        except CorruptFileError as error:
            if strict:
                raise CorruptFileError(f'{error} (image of {path}:{number})') from error
            bad(number, str(error))
            continue
        key = (name, tuple(box))
        if key in seen:
            earlier, earlier_label = seen[key]
            if earlier_label == label:
                warnings.warn(f'{path}:{number}: repeats line {earlier}; the repeat is '
                              'ignored', stacklevel=2)
            else:
                bad(number, f'box {box} of {name!r} has ClassID {label} here but '
                            f'{earlier_label} on line {earlier}; keep the right one')
            continue
        seen[key] = (number, label)
        boxes.setdefault(name, []).append(box)
        labels.setdefault(name, []).append(label)
    if problems:
        raise AnnotationError(path, *problems[0], more=problems[1:])
    if not content_lines:
        reason = ('holds no boxes (the file is empty or only blank); GTSDB\'s gt.txt '
                  'has one line per sign: re-download it or point ann_file at it')
        if strict:
            raise AnnotationError(path, 1, reason)
        warnings.warn(f'{path}:1: {reason}', stacklevel=2)
    return {name: (np.asarray(boxes[name], dtype=np.float32).reshape(-1, 4),
                   np.asarray(labels[name], dtype=np.int64)) for name in boxes}
