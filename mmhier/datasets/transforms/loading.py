"""Loading label images as encoded taxonomy node labels.

:class:`LoadTaxonomyAnnotations` replaces mmseg's ``LoadAnnotations`` for
datasets described by a taxonomy: it reads a label image of raw dataset ids
and turns it, with one lookup into the dataset's
:attr:`LabelSpace.id_to_label <mmhier.structures.label_space.LabelSpace.id_to_label>`
table, into the int32 label map of :mod:`mmhier.structures.label_encoding`
(target - a node id or a node set -, box offset, -1 ignored).
"""
from __future__ import annotations

import io
import os
from typing import Optional, Union

import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS
from PIL import Image

from mmhier.datasets.errors import (CorruptFileError, LabelFormatError,
                                    LabelIdOutOfRangeError, LabelSizeError)
from mmhier.datasets.image_io import (RESTORE_HINT, check_complete, decoder_problem,
                                      read_file_bytes)
from mmhier.datasets.transforms.taxonomy_source import taxonomy_and_key
from mmhier.structures.label_space import LabelSpace, label_space
from mmhier.taxonomy import Taxonomy

TaxonomyRef = Union[str, os.PathLike, Taxonomy]

MISSING_LABEL_HINT = (
    "Every image needs a label image next to it in the dataset's seg_map_path "
    'folder; check data_root, data_prefix and seg_map_suffix (or remove the image '
    'from the split).')


def read_label_ids(path: str, backend_args: Optional[dict] = None) -> np.ndarray:
    """Read a label image as raw ids, whatever its bit depth.

    Palette PNGs give palette indices (not colours), 16-bit PNGs stay 16-bit
    (Pillow mode ``I;16`` -> uint16, ``I`` -> int32); nothing is cast to uint8.
    The file's structure is checked before decoding, so a truncated PNG is
    reported even where Pillow would fill in the missing rows
    (``LOAD_TRUNCATED_IMAGES``).

    Args:
        path: Label image path or URI (any mmengine file backend).
        backend_args: mmengine file backend arguments.

    Returns:
        The raw ids, an integer array (uint8, uint16 or int32).

    Shape:
        Returns ``(H, W)``.

    Raises:
        MissingDataError: The file does not exist (or is a folder).
        CorruptFileError: The file is empty, truncated or not an image.
        LabelFormatError: It decodes, but has several channels (e.g. a colour
            visualisation), non-integer values or is a (lossy) JPEG.
        DatasetError: It cannot be read (permissions, I/O error).
    """
    content = read_file_bytes(path, 'label', backend_args=backend_args,
                              missing_hint=MISSING_LABEL_HINT)
    check_complete(content, path, 'label image')
    try:
        with Image.open(io.BytesIO(content)) as image:
            mode, kind = image.mode, image.format
            ids = np.asarray(image)
    # Whatever Pillow raises here (OSError, SyntaxError, struct.error, ...)
    # comes from the bytes.
    except Exception as exc:  # noqa: BLE001
        raise CorruptFileError(f'{path}: cannot decode the label image: '
                               f'{decoder_problem(content, exc)}. {RESTORE_HINT}') from exc
    if kind in ('JPEG', 'MPO'):
        raise LabelFormatError(
            f'{path}: label image is a JPEG; JPEG compression changes label ids '
            'along every edge. Use the lossless PNG label images of the dataset.')
    if ids.ndim == 3 and ids.shape[2] == 1:
        ids = ids[:, :, 0]
    if ids.ndim != 2:
        raise LabelFormatError(
            f'{path}: label image has shape {ids.shape}; expected one channel of '
            f'label ids (an 8-bit, 16-bit or palette PNG), got Pillow mode {mode}. '
            'Colour images cannot be used: point seg_map_suffix / data_prefix at '
            'the id images (Cityscapes *_gtFine_labelIds.png, not *_color.png; '
            'Mapillary Vistas v1.2/labels/*.png as shipped: palette PNGs whose index '
            'is the class id, which an RGB copy has lost).')
    if ids.dtype.kind == 'b':
        ids = ids.view(np.uint8)
    if ids.dtype == np.int32 and kind == 'PNG' and content[12:16] == b'IHDR' \
            and content[24] == 16:
        ids = ids.astype(np.uint16)  # Pillow versions that open 16-bit PNGs as mode I
    if ids.dtype.kind not in 'ui':
        raise LabelFormatError(
            f'{path}: label image holds {ids.dtype} values (Pillow mode {mode}); '
            'label ids must be integers (save it as an 8-bit, 16-bit or palette PNG).')
    return ids


def check_bit_depth(ids: np.ndarray, space: LabelSpace, path: str) -> None:
    """Raise if the label image is wider than the dataset's ``encoding``
    (e.g. a 16-bit image for ``uint8`` ids: often an instance-id image).

    Call after :func:`check_id_range`, which names ids that do not fit.

    Args:
        ids: Raw label ids as read.
        space: The dataset's label space.
        path: The label file, for the message.

    Shape:
        ``ids``: ``(H, W)``.

    Raises:
        LabelFormatError: ``ids`` has more bits than ``space.encoding``.
    """
    bits = ids.dtype.itemsize * 8
    allowed = np.dtype(space.encoding).itemsize * 8
    if bits <= allowed:
        return
    raise LabelFormatError(
        f'{path}: label image is {bits}-bit but dataset {space.dataset_key!r} of '
        f'taxonomy {space.source} stores {allowed}-bit ids (encoding {space.encoding}). '
        'Is it an instance-id image (e.g. Cityscapes *_gtFine_instanceIds.png)? '
        'Point seg_map_suffix at the id images, save the labels as '
        f'{allowed}-bit PNGs, or set a wider encoding in the taxonomy\'s dataset entry.')


def check_id_range(ids: np.ndarray, space: LabelSpace, path: str) -> None:
    """Raise unless every id is in ``0 .. space.num_ids - 1``.

    Args:
        ids: Raw label ids.
        space: The dataset's label space.
        path: The label file, for the message.

    Shape:
        ``ids``: ``(H, W)``.

    Raises:
        LabelIdOutOfRangeError: Some ids are outside the dataset's label space;
            the message lists them (up to 10).
    """
    info = np.iinfo(ids.dtype)
    low = ids.min() if info.min < 0 else 0
    high = ids.max() if info.max >= space.num_ids else 0
    if low >= 0 and high < space.num_ids:
        return
    bad = np.unique(ids[(ids < 0) | (ids >= space.num_ids)])
    shown = ', '.join(str(i) for i in bad[:10].tolist()) + (', ...' if len(bad) > 10 else '')
    raise LabelIdOutOfRangeError(
        f'{path}: label ids {shown} are outside dataset {space.dataset_key!r} '
        f'(ids 0..{space.num_ids - 1}, encoding {space.encoding}) of taxonomy '
        f'{space.source}. Check that the dataset reads the right label files '
        "(seg_map_suffix, e.g. Cityscapes *_gtFine_labelIds.png for 'cityscapes' "
        "and *_gtFine_labelTrainIds.png for 'cityscapes_trainids'), or add the "
        "ids to the taxonomy's dataset entry (classes, ignore_ids, num_ids).")


@TRANSFORMS.register_module()
class LoadTaxonomyAnnotations(BaseTransform):
    """Load a label image and encode it as taxonomy node labels.

    Raw ids are mapped by the dataset's entry in the taxonomy with a single
    lookup into the dataset's shared table
    (:func:`~mmhier.structures.label_space.label_space`, built once per
    taxonomy and dataset key). Values follow :mod:`mmhier.structures.label_encoding`:
    ``-1`` ignored, ``0 <= v < N`` pixel label of node ``v``, ``N <= v < T``
    pixel label of a node set (a union class), ``T <= v < 2T`` box pseudo
    label of target ``v - T``. Use ``ignore_index=-1`` /
    ``seg_pad_val=-1`` in the transforms and data preprocessor that follow.

    Required keys: ``seg_map_path``; ``taxonomy`` and ``dataset_key`` unless
    given as arguments (:class:`~mmhier.datasets.TaxonomySegDataset` sets
    them); ``ori_shape`` (from ``LoadImageFromFile``) is checked when present.

    Added keys: ``gt_seg_map`` (int32), ``seg_fields`` (``'gt_seg_map'``
    appended).

    Args:
        taxonomy: Taxonomy YAML path or :class:`Taxonomy`; overrides
            ``results['taxonomy']``.
        dataset_key: The dataset's key in the taxonomy; overrides
            ``results['dataset_key']``.
        backend_args: mmengine file backend arguments.

    Raises:
        MissingDataError: The label file does not exist.
        CorruptFileError: It is empty, truncated or not an image.
        LabelFormatError: It is not a single-channel, lossless id image as wide
            as the dataset's encoding (see :func:`read_label_ids`,
            :func:`check_bit_depth`).
        LabelIdOutOfRangeError: It holds ids outside the dataset's label space.
        LabelSizeError: Its size differs from the image's.
    """

    def __init__(self, taxonomy: Optional[TaxonomyRef] = None,
                 dataset_key: Optional[str] = None,
                 backend_args: Optional[dict] = None):
        self.taxonomy = taxonomy
        self.dataset_key = dataset_key
        self.backend_args = backend_args.copy() if backend_args else None

    def transform(self, results: dict) -> dict:
        """Load ``results['seg_map_path']`` into ``results['gt_seg_map']``.

        Args:
            results: The sample's results dict.

        Returns:
            ``results`` with ``gt_seg_map`` (int32) added.

        Shape:
            ``gt_seg_map``: ``(H, W)``, the label image's size.
        """
        taxonomy, dataset_key = taxonomy_and_key('LoadTaxonomyAnnotations', self.taxonomy,
                                                 self.dataset_key, results)
        if results.get('reduce_zero_label'):
            raise ValueError(
                'reduce_zero_label=True does not apply to taxonomy labels: mark '
                "id 0 as {ignore: true} in the taxonomy's dataset entry instead")
        path = results['seg_map_path']
        space = label_space(taxonomy, dataset_key)
        ids = read_label_ids(path, self.backend_args)
        image_shape = results.get('ori_shape', results.get('img_shape'))
        if image_shape is not None and tuple(ids.shape) != tuple(image_shape[:2]):
            raise LabelSizeError(
                f'{path}: label image is {ids.shape[1]}x{ids.shape[0]} (WxH) but its '
                f"image {results.get('img_path', '')} is "
                f'{image_shape[1]}x{image_shape[0]}. Labels must match their images '
                'pixel for pixel: resize both together (tools/resize_vistas.py '
                'does, with nearest for labels) or restore the original files.')
        check_id_range(ids, space, path)
        check_bit_depth(ids, space, path)
        results['gt_seg_map'] = space.id_to_label[ids]
        seg_fields = results.setdefault('seg_fields', [])
        if 'gt_seg_map' not in seg_fields:
            seg_fields.append('gt_seg_map')
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(taxonomy={self.taxonomy!r}, '
                f'dataset_key={self.dataset_key!r}, backend_args={self.backend_args})')
