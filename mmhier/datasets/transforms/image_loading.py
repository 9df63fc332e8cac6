"""Loading photos with errors that name the file.

:class:`LoadCheckedImageFromFile` is mmcv's ``LoadImageFromFile`` (same
arguments, same result keys) that raises :class:`MissingDataError` /
:class:`CorruptFileError` naming a missing, empty, truncated or undecodable
image instead of ``AssertionError: failed to load image`` or a ``cv2.error``.

Pipelines that keep the plain ``LoadImageFromFile`` still get these errors
from taxonomy datasets: :func:`diagnose_plain_image_loaders` wraps each plain
loader of a dataset's pipeline in :class:`DiagnosedImageLoader`, which leaves
a successful load untouched and, when the loader fails, re-reads the file with
the checks to raise the typed error (the original exception is its cause).
"""
from __future__ import annotations

import warnings
from typing import Any, Optional

import mmengine.fileio as fileio
import numpy as np
from mmcv.transforms import LoadImageFromFile
from mmseg.registry import TRANSFORMS

from mmhier.datasets.errors import DatasetError
from mmhier.datasets.image_io import check_decode_options, decode_image, read_file_bytes

MISSING_IMAGE_HINT = ("Check the dataset's data_root, data_prefix (img_path) and "
                      'img_suffix, or restore the file.')


def _load(loader: LoadImageFromFile, path: str) -> np.ndarray:
    """Read and decode ``path`` as ``loader`` is configured to."""
    get = None
    if loader.file_client_args is not None:
        get = fileio.FileClient.infer_client(loader.file_client_args, path).get
    content = read_file_bytes(path, 'image', backend_args=loader.backend_args, get=get,
                              missing_hint=MISSING_IMAGE_HINT)
    return decode_image(content, path, flag=loader.color_type,
                        backend=loader.imdecode_backend)


def _skipped(error: DatasetError) -> None:
    warnings.warn(f'{error} (ignore_empty=True: sample skipped)', stacklevel=3)


@TRANSFORMS.register_module()
class LoadCheckedImageFromFile(LoadImageFromFile):
    """``LoadImageFromFile`` with checks and errors that name the file.

    A drop-in for mmcv's ``LoadImageFromFile``: same arguments
    (``to_float32``, ``color_type``, ``imdecode_backend``,
    ``file_client_args``, ``ignore_empty``, ``backend_args``) and keys.
    Before decoding, the file's structure is checked, so a truncated PNG,
    JPEG or binary PPM is reported even where a decoder would return a
    partly grey image (Pillow with ``LOAD_TRUNCATED_IMAGES``).

    Required keys: ``img_path``.

    Modified keys: ``img``, ``img_shape``, ``ori_shape``.

    Args:
        to_float32: Return float32 instead of uint8.
        color_type: ``mmcv.imfrombytes`` flag (``'color'``, ``'grayscale'``,
            ``'unchanged'``, ...).
        imdecode_backend: ``'cv2'``, ``'pillow'``, ``'turbojpeg'`` or
            ``'tifffile'``.
        file_client_args: Deprecated mmcv file client arguments.
        ignore_empty: Skip the sample (the transform returns ``None``, with a
            warning naming the file) instead of raising for a missing or
            broken file.
        backend_args: mmengine file backend arguments.

    Raises:
        ValueError: Unknown ``color_type`` or ``imdecode_backend`` (at
            construction).
        MissingDataError: The image does not exist (or is a folder).
        CorruptFileError: It is empty, truncated or cannot be decoded.
        DatasetError: It cannot be read (permissions, I/O error).

    Example:
        >>> pipeline = [dict(type='LoadCheckedImageFromFile'),
        ...             dict(type='LoadTaxonomyAnnotations'),
        ...             dict(type='PackTaxonomySegInputs')]
    """

    def __init__(self, to_float32: bool = False, color_type: str = 'color',
                 imdecode_backend: str = 'cv2', file_client_args: Optional[dict] = None,
                 ignore_empty: bool = False, *, backend_args: Optional[dict] = None):
        check_decode_options(color_type, imdecode_backend)
        super().__init__(to_float32=to_float32, color_type=color_type,
                         imdecode_backend=imdecode_backend,
                         file_client_args=file_client_args, ignore_empty=ignore_empty,
                         backend_args=backend_args)

    def transform(self, results: dict) -> Optional[dict]:
        """Load ``results['img_path']`` into ``results['img']``.

        Args:
            results: The sample's results dict.

        Returns:
            ``results`` with ``img``, ``img_shape`` and ``ori_shape``; ``None``
            for a broken file with ``ignore_empty=True``.

        Shape:
            ``img``: ``(H, W, 3)`` for colour flags, ``(H, W)`` for grey ones.
        """
        path = results['img_path']
        try:
            img = _load(self, path)
        except DatasetError as error:
            if self.ignore_empty:
                _skipped(error)
                return None
            raise
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results


class DiagnosedImageLoader:
    """A plain ``LoadImageFromFile`` whose failures name the file.

    Calls the wrapped loader unchanged; only when it raises, the file is
    re-read with the checks of :class:`LoadCheckedImageFromFile`. A problem
    found there raises the typed error (from the original exception), else
    the original exception propagates. Attribute access and ``repr`` go to
    the wrapped loader.

    Args:
        loader: The loader (an instance of exactly mmcv's ``LoadImageFromFile``).
    """

    def __init__(self, loader: LoadImageFromFile):
        self.loader = loader

    def __call__(self, results: dict) -> Optional[dict]:
        try:
            return self.loader(results)
        except Exception as original:
            path = results.get('img_path') if isinstance(results, dict) else None
            if not isinstance(path, str):
                raise
            try:
                _load(self.loader, path)
            except DatasetError as error:
                if self.loader.ignore_empty:
                    _skipped(error)
                    return None
                raise error from original
            except Exception:  # noqa: BLE001 - the check itself failed: keep the original
                pass
            raise

    def __getattr__(self, name: str) -> Any:
        if name == 'loader':  # not set yet (unpickling)
            raise AttributeError(name)
        return getattr(self.loader, name)

    def __repr__(self) -> str:
        return repr(self.loader)


def diagnose_plain_image_loaders(transforms: list) -> list:
    """``transforms`` with every plain mmcv ``LoadImageFromFile`` (not a
    subclass) wrapped in :class:`DiagnosedImageLoader`.

    Args:
        transforms: The transforms of a composed pipeline.

    Returns:
        A new list; other transforms are the same objects.
    """
    return [DiagnosedImageLoader(t) if type(t) is LoadImageFromFile else t
            for t in transforms]
