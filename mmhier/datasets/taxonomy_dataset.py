"""Base class of datasets whose labels map into a taxonomy."""
from __future__ import annotations

import os
from typing import Any, Union

from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from mmhier.datasets.transforms.image_loading import diagnose_plain_image_loaders
from mmhier.taxonomy import Taxonomy, load_taxonomy


@DATASETS.register_module()
class TaxonomySegDataset(BaseSegDataset):
    """A segmentation dataset described by one dataset entry of a taxonomy.

    Its label space, ignored ids and annotation type come from the taxonomy
    file, not from class attributes. Every sample's info carries the taxonomy,
    dataset key and annotation type, so that :class:`LoadTaxonomyAnnotations` can map raw
    label ids to the encoded node labels of
    :mod:`mmhier.structures.label_encoding` without repeating them in the
    pipeline config.

    ``metainfo`` holds ``classes`` = the taxonomy's node names (so that a label
    value is an index into ``classes``), ``dataset_key``, ``annotation``
    (``'pixel'`` or ``'box'``), ``taxonomy`` (the file) and
    ``dataset_classes`` (the dataset's own class names by label id).

    A plain ``LoadImageFromFile`` in the pipeline is wrapped (see
    :func:`~mmhier.datasets.transforms.image_loading.diagnose_plain_image_loaders`):
    it runs unchanged, but a missing or broken image raises
    :class:`MissingDataError` / :class:`CorruptFileError` naming the file
    instead of mmcv's ``AssertionError`` or ``cv2.error``.
    ``LoadCheckedImageFromFile`` (the shipped configs) also reports truncated
    files that a decoder would fill in.

    Args:
        taxonomy: Taxonomy YAML path (or a loaded :class:`Taxonomy`).
        dataset_key: The dataset's key in the taxonomy file.
        **kwargs: Arguments of :class:`mmseg.datasets.BaseSegDataset`
            (``data_root``, ``data_prefix``, ``img_suffix``,
            ``seg_map_suffix``, ``pipeline``, ...).
    """

    def __init__(self, taxonomy: Union[str, os.PathLike, Taxonomy], dataset_key: str,
                 **kwargs: Any):
        self.taxonomy = load_taxonomy(taxonomy)
        self.dataset_key = dataset_key
        spec = self.taxonomy.dataset(dataset_key)
        self.annotation = spec.annotation
        metainfo = dict(kwargs.pop('metainfo', None) or {})
        metainfo.setdefault('classes', self.taxonomy.nodes)
        super().__init__(metainfo=metainfo, **kwargs)
        self.pipeline.transforms = diagnose_plain_image_loaders(self.pipeline.transforms)
        # Set after loading: mmengine would try to read string values as files.
        self._metainfo.update(dataset_key=dataset_key, annotation=spec.annotation,
                              taxonomy=self.taxonomy.source,
                              dataset_classes={c.id: c.name for c in spec.classes})

    def get_data_info(self, idx: int) -> dict:
        """Sample info plus ``taxonomy`` (the :class:`Taxonomy`),
        ``dataset_key`` and ``annotation``."""
        info = super().get_data_info(idx)
        info['taxonomy'] = self.taxonomy
        info['dataset_key'] = self.dataset_key
        info['annotation'] = self.annotation
        return info
