"""What an image file's bytes are, and whether they are complete.

Decoders disagree on broken files: OpenCV returns ``None``, Pillow raises or,
with ``PIL.ImageFile.LOAD_TRUNCATED_IMAGES`` set anywhere in the process,
silently fills the missing part of a truncated PNG, JPEG or PPM with grey or
black. :func:`find_problem` therefore checks the container structure itself,
before any decoder runs:

- PNG: the chunk chain (each chunk's length) reaches ``IEND``;
- JPEG: the marker segments up to the first scan are complete and an
  end-of-image marker ``FFD9`` follows (the ``FFD9`` of an embedded EXIF
  thumbnail does not count; bytes after the end marker are allowed);
- binary Netpbm (``P4`` .. ``P6``): the raster holds ``width x height``
  samples after the header.

Other formats (TIFF, BMP, WebP, ...) are left to the decoder.
"""
from __future__ import annotations

import re
from typing import NamedTuple, Optional

_PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'
_JPEG_SOI = b'\xff\xd8'
#: Netpbm header tokens: a comment (to the end of its line) or a word.
_NETPBM_TOKEN = re.compile(rb'#[^\r\n]*|[^\s#]+')
_NETPBM_MAGIC = (b'P1', b'P2', b'P3', b'P4', b'P5', b'P6')
#: JPEG markers without a length field (TEM, RST0-7, SOI).
_JPEG_STANDALONE = frozenset([0x01, *range(0xd0, 0xd8), 0xd8])
_SIGNATURES = ((_PNG_SIGNATURE, 'PNG'), (_JPEG_SOI + b'\xff', 'JPEG'),
               (b'GIF87a', 'GIF'), (b'GIF89a', 'GIF'), (b'BM', 'BMP'),
               (b'II*\x00', 'TIFF'), (b'MM\x00*', 'TIFF'))


class NetpbmHeader(NamedTuple):
    """The header of a Netpbm (PBM/PGM/PPM) file.

    Attributes:
        magic: ``b'P1'`` .. ``b'P6'``.
        width: Columns.
        height: Rows.
        maxval: Largest sample value (``1`` for bitmaps ``P1`` / ``P4``).
        offset: Byte offset of the raster (after the single whitespace that
            ends the header).
    """

    magic: bytes
    width: int
    height: int
    maxval: int
    offset: int

    def raster_bytes(self) -> Optional[int]:
        """Bytes of the binary raster (``P4`` .. ``P6``); ``None`` for the
        plain (ASCII) formats."""
        if self.magic == b'P4':
            return (self.width + 7) // 8 * self.height
        channels = {b'P5': 1, b'P6': 3}.get(self.magic)
        if channels is None:
            return None
        return self.width * self.height * channels * (1 if self.maxval < 256 else 2)


def parse_netpbm_header(head: bytes) -> Optional[NetpbmHeader]:
    """Parse a Netpbm header (magic, width, height, maxval; ``#`` comments).

    Args:
        head: The first bytes of the file (4 KiB hold any real header).

    Returns:
        The header, or ``None`` when ``head`` does not start with a valid
        one (unknown magic, missing or zero sizes, maxval outside 1..65535).
    """
    if head[:2] not in _NETPBM_MAGIC:
        return None
    wanted = 3 if head[:2] in (b'P1', b'P4') else 4
    tokens, end = [], 0
    for match in _NETPBM_TOKEN.finditer(head):
        if not match.group().startswith(b'#'):
            tokens.append(match.group())
            end = match.end()
            if len(tokens) == wanted:
                break
    if len(tokens) < 3 or tokens[0] != head[:2] \
            or not all(t.isdigit() and int(t) > 0 for t in tokens[1:]):
        return None
    maxval = int(tokens[3]) if len(tokens) == 4 else 1
    if maxval > 65535:
        return None
    return NetpbmHeader(tokens[0], int(tokens[1]), int(tokens[2]), maxval, end + 1)


def sniff_format(content: bytes) -> Optional[str]:
    """The image format by its signature (``'PNG'``, ``'JPEG'``, ``'PPM'``,
    ``'GIF'``, ``'BMP'``, ``'TIFF'``, ``'WEBP'``), ``None`` if unknown."""
    for signature, name in _SIGNATURES:
        if content.startswith(signature):
            return name
    if content[:4] == b'RIFF' and content[8:12] == b'WEBP':
        return 'WEBP'
    if parse_netpbm_header(content[:4096]) is not None:
        return 'PPM'
    return None


def _png_problem(content: bytes) -> Optional[str]:
    pos, size = len(_PNG_SIGNATURE), len(content)
    while pos + 8 <= size:
        length = int.from_bytes(content[pos:pos + 4], 'big')
        kind = content[pos + 4:pos + 8]
        pos += 12 + length
        if pos > size:
            break
        if kind == b'IEND':
            return None
    return (f'the file is truncated: its PNG data stops after {size} bytes, '
            'before the IEND chunk that ends every PNG')


def _jpeg_problem(content: bytes) -> Optional[str]:
    truncated = (f'the file is truncated: its JPEG data stops after {len(content)} '
                 'bytes, before the end-of-image marker (FFD9)')
    pos, size = 2, len(content)
    while True:
        if pos >= size:
            return truncated
        if content[pos] != 0xff:
            return f'its JPEG structure is broken at byte {pos} (expected a marker)'
        while pos < size and content[pos] == 0xff:  # fill bytes
            pos += 1
        if pos >= size:
            return truncated
        marker = content[pos]
        pos += 1
        if marker == 0xd9:                           # end of image
            return None
        if marker in _JPEG_STANDALONE:
            continue
        if pos + 2 > size:
            return truncated
        length = int.from_bytes(content[pos:pos + 2], 'big')
        if length < 2:
            return f'its JPEG structure is broken at byte {pos} (segment length {length})'
        pos += length
        if pos > size:
            return truncated
        if marker == 0xda:
            # Start of (the first) scan. In entropy-coded data an FF byte is
            # followed by 00 or a restart marker only, so an FFD9 after this
            # point is the end of the image, not part of an earlier segment
            # (e.g. an EXIF thumbnail's end).
            return None if content.rfind(b'\xff\xd9', pos) != -1 else truncated


def _netpbm_problem(content: bytes) -> Optional[str]:
    header = parse_netpbm_header(content[:4096])
    if header is None:
        return 'its Netpbm (PPM/PGM) header is invalid'
    expected = header.raster_bytes()
    if expected is None or len(content) - header.offset >= expected:
        return None
    return (f'the file is truncated: its header promises {header.width}x{header.height} '
            f'pixels ({expected} bytes of pixel data) but only '
            f'{max(len(content) - header.offset, 0)} bytes follow')


def find_problem(content: bytes) -> Optional[str]:
    """Why ``content`` cannot be a complete image, if a cheap check tells.

    Args:
        content: The whole file.

    Returns:
        ``None`` when nothing is found (the decoder has the last word), else
        the problem, e.g. ``'the file is empty (0 bytes)'`` or ``'the file is
        truncated: ...'``.
    """
    if not content:
        return 'the file is empty (0 bytes)'
    if content.startswith(_PNG_SIGNATURE):
        return _png_problem(content)
    if content.startswith(_JPEG_SOI):
        return _jpeg_problem(content)
    if content[:2] in _NETPBM_MAGIC[3:]:
        return _netpbm_problem(content)
    return None


def describe_unknown(content: bytes) -> str:
    """What bytes that no decoder reads look like, for messages: a Git LFS
    pointer, text (an HTML error page?), or their first bytes."""
    if content.startswith(b'version https://git-lfs'):
        return ('it is a Git LFS pointer, not the image (run "git lfs pull" in the '
                'repository holding the data)')
    head = content[:64]
    if head.lstrip()[:1] == b'<' or all(32 <= c < 127 or c in b'\t\r\n' for c in head):
        return (f'it is text, not an image (it starts with {head[:32]!r}: an HTML '
                'error page saved by a failed download?)')
    return f'no image decoder recognises it (it starts with {content[:16]!r})'
