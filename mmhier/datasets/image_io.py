"""Reading photos and label files with errors that name the file.

mmcv's loading reports a bad file as ``AssertionError: failed to load image``
or a ``cv2.error`` traceback. Here a missing file raises
:class:`MissingDataError`, an empty, truncated or undecodable one
:class:`CorruptFileError`, each naming the file and saying what to do.
Truncation is found from the file's structure
(:func:`mmhier.datasets.image_format.find_problem`), so a half-written PNG,
JPEG or PPM is reported whatever the decoder or
``PIL.ImageFile.LOAD_TRUNCATED_IMAGES`` would do with it.
"""
from __future__ import annotations

import os
from typing import Callable, Optional, Union

import mmcv
import mmengine.fileio as fileio
import numpy as np
from mmcv.image.io import imread_flags, supported_backends
from PIL import Image

from mmhier.datasets.errors import CorruptFileError, DatasetError, MissingDataError
from mmhier.datasets.image_format import (describe_unknown, find_problem,
                                          parse_netpbm_header, sniff_format)

PathLike = Union[str, os.PathLike]
RESTORE_HINT = ('Restore the file from the dataset archive (or remove it from the '
                'split / the input list).')
CHANNEL_ORDERS = ('rgb', 'bgr')


def read_file_bytes(path: PathLike, what: str = 'image',
                    backend_args: Optional[dict] = None,
                    get: Optional[Callable[[str], bytes]] = None,
                    missing_hint: str = '') -> bytes:
    """The bytes of a data file.

    Args:
        path: Local path or URI (any mmengine file backend).
        what: What the file is, for messages (``'image'``, ``'label'``).
        backend_args: mmengine file backend arguments.
        get: Reads a path instead of ``mmengine.fileio.get`` (e.g. a
            ``FileClient``'s ``get``).
        missing_hint: How to fix a missing file (default: check the path).

    Returns:
        The file's content (check it with :func:`check_complete`).

    Raises:
        MissingDataError: The file does not exist or is a folder.
        DatasetError: The file cannot be read (permissions, I/O error).
    """
    name = os.fspath(path)
    try:
        content = get(name) if get is not None else fileio.get(name,
                                                               backend_args=backend_args)
    except FileNotFoundError:
        raise MissingDataError(f'{name}: {what} file not found. '
                               f'{missing_hint or "Check the path."}') from None
    except IsADirectoryError:
        raise MissingDataError(f'{name}: is a folder, not a file ({what} expected). '
                               f'{missing_hint or "Check the path."}') from None
    except OSError as exc:
        raise DatasetError(f'{name}: cannot read the {what} file '
                           f'({exc.strerror or exc}); check its permissions and the '
                           'disk') from exc
    return content


def check_complete(content: bytes, path: str, what: str = 'image') -> None:
    """Raise unless ``content`` passes the structural checks of
    :func:`~mmhier.datasets.image_format.find_problem` (empty, truncated).

    Args:
        content: The whole file.
        path: The file, for the message.
        what: What the file is, for the message.

    Raises:
        CorruptFileError: The file is empty or truncated.
    """
    problem = find_problem(content)
    if problem is not None:
        raise CorruptFileError(f'{path}: cannot decode the {what}: {problem}. '
                               f'{RESTORE_HINT}')


def check_decode_options(flag: str, backend: str) -> None:
    """Raise ``ValueError`` for a ``flag`` / ``backend`` that
    ``mmcv.imfrombytes`` does not know (a config error, not a file error)."""
    if backend not in supported_backends:
        raise ValueError(f'imdecode_backend must be one of {", ".join(supported_backends)}, '
                         f'got {backend!r}')
    if isinstance(flag, str) and flag not in imread_flags:
        raise ValueError(f'color_type must be one of {", ".join(imread_flags)}, '
                         f'got {flag!r}')


def decode_image(content: bytes, path: str, flag: str = 'color', backend: str = 'cv2',
                 channel_order: str = 'bgr', what: str = 'image') -> np.ndarray:
    """Decode image bytes with ``mmcv.imfrombytes``, after the structural
    checks.

    Args:
        content: The whole file.
        path: The file, for messages.
        flag: ``mmcv.imfrombytes`` flag (``'color'``, ``'unchanged'``, ...).
        backend: ``'cv2'``, ``'pillow'``, ``'turbojpeg'`` or ``'tifffile'``.
        channel_order: ``'bgr'`` or ``'rgb'``.
        what: What the file is, for messages.

    Returns:
        The decoded image, as ``mmcv.imfrombytes`` returns it.

    Raises:
        ValueError: Unknown ``flag``, ``backend`` or ``channel_order``.
        CorruptFileError: The bytes are empty, truncated or not an image.
    """
    check_decode_options(flag, backend)
    if channel_order not in CHANNEL_ORDERS:
        raise ValueError(f"channel_order must be 'rgb' or 'bgr', got {channel_order!r}")
    check_complete(content, path, what)
    try:
        image = mmcv.imfrombytes(content, flag=flag, channel_order=channel_order,
                                 backend=backend)
    # The options are checked above, so whatever a decoder raises (OSError,
    # SyntaxError, cv2.error, struct.error, ...) comes from the bytes.
    except Exception as exc:  # noqa: BLE001
        raise CorruptFileError(f'{path}: cannot decode the {what}: '
                               f'{decoder_problem(content, exc)}. {RESTORE_HINT}') from exc
    if image is None or image.size == 0:
        raise CorruptFileError(f'{path}: cannot decode the {what}: '
                               f'{describe_unknown(content)}. {RESTORE_HINT}')
    return image


def decoder_problem(content: bytes, exc: Exception) -> str:
    """What a decoder's exception says about ``content``, for messages: for
    bytes of no known image format what they look like, else the decoder's
    own words."""
    if sniff_format(content) is None:
        return describe_unknown(content)
    return f'{type(exc).__name__}: {str(exc).strip()[:200]}'


def read_image(path: str, channel_order: str = 'rgb') -> np.ndarray:
    """Read a photo as 8-bit colour, with errors that name the file.

    Grey images are repeated to 3 channels, alpha is dropped, 16-bit images
    are scaled to 8 bits and the EXIF orientation is applied (OpenCV's
    ``IMREAD_COLOR``, what ``LoadImageFromFile`` does by default).

    Args:
        path: Image path or URI (any mmengine file backend).
        channel_order: ``'rgb'`` or ``'bgr'``.

    Returns:
        The image.

    Shape:
        ``(H, W, 3)`` uint8.

    Raises:
        ValueError: Unknown ``channel_order``.
        MissingDataError: The file does not exist (or is a folder).
        CorruptFileError: The file is empty, truncated or not an image.
        DatasetError: The file cannot be read (permissions, I/O error).
    """
    if channel_order not in CHANNEL_ORDERS:
        raise ValueError(f"channel_order must be 'rgb' or 'bgr', got {channel_order!r}")
    name = os.fspath(path)
    content = read_file_bytes(name)
    return decode_image(content, name, flag='color', backend='cv2',
                        channel_order=channel_order)


def read_image_size(path: PathLike) -> tuple[int, int]:
    """An image's size from its header, without decoding the pixels.

    Netpbm headers are parsed directly (first 4 KiB); other formats are
    opened lazily with Pillow.

    Args:
        path: A local image file.

    Returns:
        ``(height, width)``.

    Raises:
        MissingDataError: The file does not exist (or is a folder).
        CorruptFileError: The file is empty or its header is not an image's.
    """
    name = os.fspath(path)
    try:
        with open(name, 'rb') as f:
            head = f.read(4096)
    except FileNotFoundError:
        raise MissingDataError(f'{name}: image file not found. Check the path.') from None
    except IsADirectoryError:
        raise MissingDataError(f'{name}: is a folder, not a file (image expected).') from None
    if not head:
        raise CorruptFileError(f'{name}: cannot read the image size: the file is empty '
                               f'(0 bytes). {RESTORE_HINT}')
    header = parse_netpbm_header(head)
    if header is not None:
        return header.height, header.width
    try:
        with Image.open(name) as image:
            width, height = image.size
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise CorruptFileError(f'{name}: cannot read the image size: '
                               f'{describe_unknown(head)}. {RESTORE_HINT}') from exc
    return height, width
