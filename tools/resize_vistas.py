#!/usr/bin/env python
"""Pre-resize a Mapillary Vistas tree offline.

Vistas images are 0.5-25 megapixels in any aspect ratio; decoding and
resizing a 25 MP JPEG in every training iteration costs more than the network
on small crops. This tool writes a smaller copy of the whole tree once::

    python tools/resize_vistas.py data/vistas data/vistas_2048 --max-side 2048 --workers 8
    python tools/resize_vistas.py data/vistas data/vistas_s1024 --short-side 1024

and the dataset then reads the copy
(``MapillaryVistasTaxonomyDataset(data_root='data/vistas_2048', ...)``).

What it does, per file of ``SRC`` (the folder layout is mirrored into ``DST``):

* ``*.jpg`` / ``*.jpeg`` (photos): resized with bilinear (antialiased)
  filtering and saved as JPEG (``--jpeg-quality``, default 95; EXIF and ICC
  profile kept).
* ``*.png`` (labels, instance and panoptic maps): resized with nearest
  neighbour, so no new label values appear, and saved as PNG in the same mode:
  palette PNGs keep their palette (palette index = class id), 16-bit PNGs stay
  16-bit.
* Files already small enough are copied unchanged (byte for byte), as are all
  other files. JSON files (e.g. panoptic ``segments_info``) are copied as they
  are: their pixel areas and boxes refer to the original sizes.

The new size keeps the aspect ratio: ``--max-side M`` (default 2048) scales the
longer side down to ``M``, ``--short-side N`` the shorter side down to ``N``;
nothing is enlarged. An image and its label have the same original size, so
they get the same new size.

Idempotent: an output that exists, is not older than its source and has the
expected size is skipped, so an interrupted run can simply be started again
(outputs are written to a temporary file and renamed, never left half
written). Use a new ``DST`` (or delete it) after changing the size options.
Every photo and label is checked before it is resized or copied (empty,
truncated, not an image: :func:`mmhier.datasets.image_io.check_complete`,
what the datasets check when they read it); a file that fails is reported in
one ``error: <file>: ...`` line on stderr at the end and skipped, the others
go on.

Exit status: 0 all files done, 1 some files failed (one ``error:`` line
each), 2 bad usage (missing ``SRC``, ``DST`` inside ``SRC``, ...).
"""
from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import time
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path
from typing import Iterator, Optional, Sequence

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a script without installing mmhier
    sys.path.insert(0, str(REPO_ROOT))

from PIL import Image  # noqa: E402

from mmhier.datasets.errors import DatasetError  # noqa: E402
from mmhier.datasets.image_io import (RESTORE_HINT, check_complete,  # noqa: E402
                                      decoder_problem, read_file_bytes)

IMAGE_EXTENSIONS = ('.jpg', '.jpeg')
LABEL_EXTENSIONS = ('.png',)


@dataclass(frozen=True)
class Options:
    """How to resize (picklable, sent to the worker processes).

    Args:
        src: Source root.
        dst: Destination root.
        max_side: Largest allowed longer side, or ``None``.
        short_side: Largest allowed shorter side, or ``None``.
        jpeg_quality: JPEG quality of resized photos.
    """

    src: str
    dst: str
    max_side: Optional[int] = 2048
    short_side: Optional[int] = None
    jpeg_quality: int = 95


def target_size(size: tuple[int, int], max_side: Optional[int] = None,
                short_side: Optional[int] = None) -> tuple[int, int]:
    """The size after resizing; never larger than ``size``.

    Args:
        size: ``(width, height)``.
        max_side: Limit of the longer side.
        short_side: Limit of the shorter side (used when ``max_side`` is None).

    Returns:
        ``(width, height)``, aspect ratio kept, each side at least 1.
    """
    width, height = size
    if max_side is not None:
        scale = min(1.0, max_side / max(width, height))
    elif short_side is not None:
        scale = min(1.0, short_side / min(width, height))
    else:
        scale = 1.0
    if scale == 1.0:
        return width, height
    return max(1, round(width * scale)), max(1, round(height * scale))


def iter_files(root: str) -> Iterator[str]:
    """Paths of all files under ``root``, relative to it, in sorted order."""
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            yield os.path.relpath(os.path.join(folder, name), root)


def _up_to_date(src: str, dst: str, size: Optional[tuple[int, int]]) -> bool:
    if not os.path.isfile(dst) or os.path.getmtime(dst) < os.path.getmtime(src):
        return False
    if size is None:
        return os.path.getsize(dst) == os.path.getsize(src)
    try:
        with Image.open(dst) as done:
            return done.size == size
    except OSError:
        return False


def _save_resized(image: Image.Image, size: tuple[int, int], path: str,
                  is_label: bool, jpeg_quality: int) -> None:
    extra = {k: image.info[k] for k in ('exif', 'icc_profile', 'transparency')
             if k in image.info}
    if is_label:
        image.resize(size, Image.NEAREST).save(path, format='PNG', **extra)
    else:
        if image.mode not in ('RGB', 'L', 'CMYK'):
            image = image.convert('RGB')
        extra.pop('transparency', None)
        image.resize(size, Image.BILINEAR).save(path, format='JPEG',
                                                 quality=jpeg_quality, **extra)


def _copy(src: str, tmp: str, dst: str) -> None:
    shutil.copy2(src, tmp)
    os.replace(tmp, dst)


def process_file(job: tuple[str, Options]) -> tuple[str, str, str]:
    """Resize, copy or skip one file.

    Args:
        job: ``(path relative to the roots, options)``.

    Returns:
        ``(relative path, action, message)`` with action one of ``resized``,
        ``copied``, ``skipped``, ``failed`` (message: the reason, starting
        with the source file).
    """
    rel, opts = job
    src, dst = os.path.join(opts.src, rel), os.path.join(opts.dst, rel)
    ext = os.path.splitext(rel)[1].lower()
    tmp = f'{dst}.tmp{os.getpid()}'
    what = 'label' if ext in LABEL_EXTENSIONS else 'photo'
    content = b''
    try:
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if ext not in IMAGE_EXTENSIONS + LABEL_EXTENSIONS:
            if _up_to_date(src, dst, None):
                return rel, 'skipped', ''
            _copy(src, tmp, dst)
            return rel, 'copied', ''
        content = read_file_bytes(src, what)
        check_complete(content, src, what)
        with Image.open(io.BytesIO(content)) as image:
            size = target_size(image.size, opts.max_side, opts.short_side)
            if _up_to_date(src, dst, size):
                return rel, 'skipped', ''
            if size == image.size:
                _copy(src, tmp, dst)
                return rel, 'copied', ''
            _save_resized(image, size, tmp, ext in LABEL_EXTENSIONS, opts.jpeg_quality)
        os.replace(tmp, dst)
        return rel, 'resized', ''
    except DatasetError as exc:
        return _failed(rel, tmp, str(exc))
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        if content and not os.path.exists(tmp):  # the decoder failed, not the disk
            return _failed(rel, tmp, f'{src}: cannot decode the {what}: '
                           f'{decoder_problem(content, exc)}. {RESTORE_HINT}')
        return _failed(rel, tmp, f'{src}: {type(exc).__name__}: {exc}')


def _failed(rel: str, tmp: str, message: str) -> tuple[str, str, str]:
    if os.path.exists(tmp):
        os.remove(tmp)
    return rel, 'failed', message


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f'must be a positive integer, got {text}')
    return value


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog='resize_vistas.py',
        description='Pre-resize a Mapillary Vistas tree: photos bilinear (JPEG), '
                    'label PNGs nearest (palette kept), layout mirrored, small '
                    'files copied, idempotent.')
    parser.add_argument('src', metavar='SRC', help='Vistas root (training/, validation/, ...)')
    parser.add_argument('dst', metavar='DST', help='output root (created; not inside SRC)')
    size = parser.add_mutually_exclusive_group()
    size.add_argument('--max-side', type=_positive, default=None,
                      help='longest side after resizing (default 2048)')
    size.add_argument('--short-side', type=_positive, default=None,
                      help='shortest side after resizing (instead of --max-side)')
    parser.add_argument('--workers', type=_positive, default=1,
                        help='worker processes (default 1)')
    parser.add_argument('--jpeg-quality', type=_positive, default=95,
                        help='quality of resized JPEGs, 1-100 (default 95)')
    args = parser.parse_args(argv)
    if args.max_side is None and args.short_side is None:
        args.max_side = 2048
    if args.jpeg_quality > 100:
        parser.error('--jpeg-quality must be at most 100')
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the tool; returns the exit status."""
    args = parse_args(argv)
    src, dst = os.path.abspath(args.src), os.path.abspath(args.dst)
    if not os.path.isdir(src):
        print(f'error: SRC {args.src!r} is not a folder (expected the Vistas root '
              'holding training/ and validation/)', file=sys.stderr)
        return 2
    if os.path.commonpath([src, dst]) in (src, dst):
        print(f'error: DST {args.dst!r} and SRC {args.src!r} must not contain each '
              'other; write the resized copy to a separate folder', file=sys.stderr)
        return 2
    opts = Options(src, dst, args.max_side, args.short_side, args.jpeg_quality)
    jobs = [(rel, opts) for rel in iter_files(src)]
    limit = f'max side {opts.max_side}' if opts.max_side else f'short side {opts.short_side}'
    print(f'{len(jobs)} files in {src} -> {dst} ({limit}, {args.workers} worker(s))',
          file=sys.stderr)
    counts = dict(resized=0, copied=0, skipped=0, failed=0)
    failures, json_copied = [], 0
    step, start = max(1, len(jobs) // 100), time.monotonic()
    pool = Pool(args.workers) if args.workers > 1 else None
    try:
        results = pool.imap_unordered(process_file, jobs, chunksize=8) if pool \
            else map(process_file, jobs)
        for done, (rel, action, message) in enumerate(results, 1):
            counts[action] += 1
            if action == 'failed':
                failures.append(message)
            elif action == 'copied' and rel.lower().endswith('.json'):
                json_copied += 1
            if done % step == 0 or done == len(jobs):
                print(f'[{done}/{len(jobs)}] {100 * done / len(jobs):5.1f}%  '
                      + '  '.join(f'{k} {v}' for k, v in counts.items())
                      + f'  {time.monotonic() - start:.0f}s', file=sys.stderr)
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    print('done: ' + ', '.join(f'{v} {k}' for k, v in counts.items()))
    if json_copied:
        print(f'note: {json_copied} JSON file(s) copied unchanged; pixel areas and '
              'boxes in them refer to the original image sizes')
    if failures:
        for line in sorted(failures):
            print(f'error: {line}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
