"""Mapillary Vistas (v1.2 labels) read through a taxonomy."""
from __future__ import annotations

import os
from typing import Any, Optional, Union

from mmseg.registry import DATASETS

from mmhier.datasets.errors import MissingDataError
from mmhier.datasets.taxonomy_dataset import TaxonomySegDataset
from mmhier.taxonomy import Taxonomy

LAYOUT = """expected Mapillary Vistas layout under data_root:
  {split}/images/<key>.jpg
  {split}/v1.2/labels/<key>.png   (8-bit palette PNG, palette index = class id)
with split one of training, validation (the official archive unpacked into
data_root; set data_prefix for other layouts). Pre-resize large images with
tools/resize_vistas.py"""


@DATASETS.register_module()
class MapillaryVistasTaxonomyDataset(TaxonomySegDataset):
    """Mapillary Vistas with its v1.2 labels (66 ids), mapped into a taxonomy.

    Reads ``{split}/images/<key>.jpg`` with the palette label images
    ``{split}/v1.2/labels/<key>.png``; the palette index is the class id
    (65 = Unlabeled, ignored in ``taxonomies/cs_vistas_gtsdb.yaml``).

    Args:
        data_root: The Vistas folder (holding ``training`` and
            ``validation``).
        split: ``'training'`` or ``'validation'``; picks the default
            ``data_prefix``.
        taxonomy: Taxonomy YAML path or :class:`Taxonomy`.
        dataset_key: The dataset's key in the taxonomy.
        data_prefix: Image / label folders relative to ``data_root``; default
            ``dict(img_path='{split}/images',
            seg_map_path='{split}/v1.2/labels')``.
        **kwargs: Further arguments of :class:`TaxonomySegDataset` and
            :class:`mmseg.datasets.BaseSegDataset` (``pipeline``,
            ``img_suffix`` = ``'.jpg'``, ``seg_map_suffix`` = ``'.png'``, ...).

    Raises:
        MissingDataError: ``data_root``, the image or the label folder does
            not exist, or the image folder holds no images.

    Example:
        >>> from mmseg.registry import DATASETS
        >>> ds = DATASETS.build(dict(
        ...     type='MapillaryVistasTaxonomyDataset', data_root='data/vistas',
        ...     split='validation',
        ...     pipeline=[dict(type='LoadCheckedImageFromFile'),
        ...               dict(type='LoadTaxonomyAnnotations'),
        ...               dict(type='PackSegInputs')]))
    """

    def __init__(self, data_root: Optional[str] = None, split: str = 'training',
                 taxonomy: Union[str, os.PathLike, Taxonomy] =
                 'taxonomies/cs_vistas_gtsdb.yaml',
                 dataset_key: str = 'mapillary_vistas',
                 data_prefix: Optional[dict] = None, **kwargs: Any):
        self.split = split
        if data_prefix is None:
            data_prefix = dict(img_path=f'{split}/images',
                               seg_map_path=f'{split}/v1.2/labels')
        kwargs.setdefault('img_suffix', '.jpg')
        kwargs.setdefault('seg_map_suffix', '.png')
        super().__init__(taxonomy=taxonomy, dataset_key=dataset_key,
                         data_root=data_root, data_prefix=data_prefix, **kwargs)

    def load_data_list(self) -> list[dict]:
        """Sample infos of all images of the split, sorted by path.

        Raises:
            MissingDataError: A folder is missing or holds no images.
        """
        layout = LAYOUT.format(split=self.split)
        local = not self.backend_args
        if local and self.data_root is not None and not os.path.isdir(self.data_root):
            raise MissingDataError(f'Mapillary Vistas data_root {self.data_root!r} '
                                   f'does not exist; {layout}')
        if local and self.ann_file and not os.path.exists(self.ann_file):
            raise MissingDataError(f'Mapillary Vistas ann_file {self.ann_file!r} does '
                                   'not exist; it lists one image key per line '
                                   '(the file name without .jpg)')
        for what in ('img_path', 'seg_map_path'):
            folder = self.data_prefix.get(what)
            if local and folder and not os.path.isdir(folder):
                found = sorted(os.listdir(self.data_root)) \
                    if self.data_root and os.path.isdir(self.data_root) else []
                raise MissingDataError(
                    f'Mapillary Vistas {what} folder {folder!r} does not exist '
                    f'(data_root holds: {", ".join(found) or "nothing"}); {layout}')
        data_list = super().load_data_list()
        if not data_list:
            raise MissingDataError(f"no *{self.img_suffix} images under "
                                   f"{self.data_prefix.get('img_path')!r}; {layout}")
        return data_list
