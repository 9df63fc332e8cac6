"""Cityscapes (gtFine) read through a taxonomy."""
from __future__ import annotations

import os
from typing import Any, Optional, Union

from mmseg.registry import DATASETS

from mmhier.datasets.errors import MissingDataError
from mmhier.datasets.taxonomy_dataset import TaxonomySegDataset
from mmhier.taxonomy import Taxonomy

#: label_type -> (label file suffix, default dataset key in the taxonomy)
LABEL_TYPES = {
    'labelIds': ('_gtFine_labelIds.png', 'cityscapes'),
    'labelTrainIds': ('_gtFine_labelTrainIds.png', 'cityscapes_trainids'),
}

LAYOUT = """expected Cityscapes layout under data_root:
  leftImg8bit/{split}/<city>/<city>_<seq>_<frame>_leftImg8bit.png
  gtFine/{split}/<city>/<city>_<seq>_<frame>{seg_map_suffix}
(leftImg8bit_trainvaltest.zip and gtFine_trainvaltest.zip from
https://www.cityscapes-dataset.com, unpacked into data_root;
*_gtFine_labelTrainIds.png are made by cityscapesscripts'
csCreateTrainIdLabelImgs)"""


@DATASETS.register_module()
class CityscapesTaxonomyDataset(TaxonomySegDataset):
    """Cityscapes fine annotations, mapped into a taxonomy.

    Reads ``leftImg8bit/{split}/<city>/*_leftImg8bit.png`` with the label
    images ``gtFine/{split}/<city>/*_gtFine_labelIds.png`` (34 label ids) or
    ``*_gtFine_labelTrainIds.png`` (19 train ids, 255 ignored). The id ->
    node mapping is the taxonomy's dataset entry (``cityscapes`` or
    ``cityscapes_trainids`` in ``taxonomies/cs_vistas_gtsdb.yaml``).

    Args:
        data_root: The Cityscapes folder (holding ``leftImg8bit`` and
            ``gtFine``).
        split: ``'train'``, ``'val'`` or ``'test'``; picks the default
            ``data_prefix``.
        label_type: ``'labelIds'`` or ``'labelTrainIds'``: which label images
            to read.
        taxonomy: Taxonomy YAML path or :class:`Taxonomy`.
        dataset_key: The dataset's key in the taxonomy; defaults to
            ``'cityscapes'`` for ``labelIds`` and ``'cityscapes_trainids'``
            for ``labelTrainIds``.
        data_prefix: Image / label folders relative to ``data_root``; default
            ``dict(img_path='leftImg8bit/{split}',
            seg_map_path='gtFine/{split}')``.
        **kwargs: Further arguments of :class:`TaxonomySegDataset` and
            :class:`mmseg.datasets.BaseSegDataset` (``pipeline``,
            ``test_mode``, ``indices``, ...).

    Raises:
        ValueError: Unknown ``label_type``.
        MissingDataError: ``data_root``, the image or the label folder does
            not exist, or the image folder holds no ``*_leftImg8bit.png``.

    Example:
        >>> from mmseg.registry import DATASETS
        >>> ds = DATASETS.build(dict(
        ...     type='CityscapesTaxonomyDataset', data_root='data/cityscapes',
        ...     split='val',
        ...     pipeline=[dict(type='LoadCheckedImageFromFile'),
        ...               dict(type='LoadTaxonomyAnnotations'),
        ...               dict(type='PackSegInputs')]))
    """

    def __init__(self, data_root: Optional[str] = None, split: str = 'train',
                 label_type: str = 'labelIds',
                 taxonomy: Union[str, os.PathLike, Taxonomy] =
                 'taxonomies/cs_vistas_gtsdb.yaml',
                 dataset_key: Optional[str] = None,
                 data_prefix: Optional[dict] = None, **kwargs: Any):
        if label_type not in LABEL_TYPES:
            raise ValueError(f'label_type must be one of {sorted(LABEL_TYPES)}, '
                             f'got {label_type!r}')
        seg_map_suffix, default_key = LABEL_TYPES[label_type]
        self.split = split
        self.label_type = label_type
        if data_prefix is None:
            data_prefix = dict(img_path=f'leftImg8bit/{split}',
                               seg_map_path=f'gtFine/{split}')
        kwargs.setdefault('img_suffix', '_leftImg8bit.png')
        kwargs.setdefault('seg_map_suffix', seg_map_suffix)
        super().__init__(taxonomy=taxonomy, dataset_key=dataset_key or default_key,
                         data_root=data_root, data_prefix=data_prefix, **kwargs)

    def load_data_list(self) -> list[dict]:
        """Sample infos of all images of the split, sorted by path.

        Raises:
            MissingDataError: A folder is missing or holds no images.
        """
        layout = LAYOUT.format(split=self.split, seg_map_suffix=self.seg_map_suffix)
        local = not self.backend_args
        if local and self.data_root is not None and not os.path.isdir(self.data_root):
            raise MissingDataError(f'Cityscapes data_root {self.data_root!r} does not '
                                   f'exist; {layout}')
        if local and self.ann_file and not os.path.exists(self.ann_file):
            raise MissingDataError(f'Cityscapes ann_file {self.ann_file!r} does not '
                                   'exist; it lists one image per line, relative to the '
                                   'image folder and without the suffix (e.g. '
                                   'frankfurt/frankfurt_000000_000294)')
        for what in ('img_path', 'seg_map_path'):
            folder = self.data_prefix.get(what)
            if local and folder and not os.path.isdir(folder):
                raise MissingDataError(f'Cityscapes {what} folder {folder!r} does not '
                                       f'exist; {layout}')
        data_list = super().load_data_list()
        if not data_list:
            raise MissingDataError(f"no *{self.img_suffix} images under "
                                   f"{self.data_prefix.get('img_path')!r}; {layout}")
        return data_list
