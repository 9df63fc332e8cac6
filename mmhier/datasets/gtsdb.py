"""GTSDB (German Traffic Sign Detection Benchmark, FullIJCNN2013).

900 PPM images (1360x800) with bounding boxes of 43 sign classes in one
``gt.txt``, one box per line::

    filename;leftCol;topRow;rightCol;bottomRow;ClassID
    00000.ppm;774;411;815;446;11

Coordinates are inclusive pixel indices (the box covers columns
``leftCol .. rightCol``). Images without signs have no line. Parsing and
checking ``gt.txt``: :mod:`mmhier.datasets.gtsdb_annotations`. The standard
split is by image number: ``00000-00599`` train, ``00600-00899`` test.

The dataset yields boxes, not label maps: put
:class:`~mmhier.datasets.transforms.box_pseudo_masks.BoxesToPseudoMask` right
after the image loading (``LoadCheckedImageFromFile``) to turn them into the
encoded label map of :mod:`mmhier.structures.label_encoding`.
"""
from __future__ import annotations

import os
import os.path as osp
import warnings
from typing import Any, Optional, Union

import numpy as np
from mmseg.registry import DATASETS

from mmhier.datasets.errors import CorruptFileError, MissingDataError
from mmhier.datasets.gtsdb_annotations import Annotations, parse_gtsdb_annotations
from mmhier.datasets.image_format import parse_netpbm_header
from mmhier.datasets.taxonomy_dataset import TaxonomySegDataset
from mmhier.taxonomy import Taxonomy

#: ``split`` -> image numbers (``range``); ``'all'`` takes every image.
GTSDB_SPLITS: dict[str, Optional[range]] = {
    'train': range(0, 600), 'test': range(600, 900), 'all': None}

__all__ = ['GTSDB_SPLITS', 'Annotations', 'GTSDBTaxonomyDataset', 'parse_gtsdb_annotations',
           'read_ppm_size']


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
    except (FileNotFoundError, IsADirectoryError):
        raise MissingDataError(f'{os.fspath(path)}: no such image file') from None
    header = parse_netpbm_header(head)
    if header is None:
        raise CorruptFileError(f'{os.fspath(path)}: not a PPM/PGM/PBM image (its '
                               'header must be "P6 <width> <height> <maxval>"); '
                               're-download or re-convert the image')
    return header.height, header.width


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
    ``seg_map_path``. Pipelines start with ``LoadCheckedImageFromFile`` (or
    ``LoadImageFromFile``) and ``BoxesToPseudoMask``. Image sizes for the box
    checks come from the image headers (PPM, or any format Pillow reads).

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
        AnnotationError: Bad lines in ``gt.txt`` (``strict=True``), all listed;
            see :func:`parse_gtsdb_annotations`.
        CorruptFileError: An image referenced by ``gt.txt`` has no readable
            header (``strict=True``).

    Example:
        >>> dataset = DATASETS.build(dict(
        ...     type='GTSDBTaxonomyDataset', data_root='data/gtsdb',
        ...     split='train', pipeline=[
        ...         dict(type='LoadCheckedImageFromFile'),
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
        unused = sorted(set(annotations) - set(names))
        if unused:
            shown = ', '.join(unused[:5]) + (', ...' if len(unused) > 5 else '')
            warnings.warn(f'{self.ann_file}: boxes of {len(unused)} image(s) that are not '
                          f'*{self.img_suffix} files are ignored ({shown}); set img_suffix '
                          'to the suffix of the images gt.txt names', stacklevel=2)
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
