"""Base class of datasets whose labels map into a taxonomy."""
from __future__ import annotations

import os
from typing import Any, Callable, Sequence, Union

from mmengine.dataset import Compose
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from mmhier.datasets.dataset_meta import InstanceMetaInfo, taxonomy_metainfo
from mmhier.datasets.label_steps import with_label_loader
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

    ``metainfo`` holds ``classes`` = the taxonomy's node names and
    ``palette`` = the hierarchical palette of the nodes (so that a label or
    prediction value, a node id, indexes both; see
    :mod:`mmhier.datasets.dataset_meta`), ``dataset_key``, ``annotation``
    (``'pixel'`` or ``'box'``), ``taxonomy`` (the file) and
    ``dataset_classes`` (the dataset's own class names by label id).
    ``METAINFO`` of an instance holds its ``classes`` and ``palette`` too
    (MMSeg's ``confusion_matrix.py`` reads it).

    MMSeg's ``dict(type='LoadAnnotations')`` in the pipeline (also inside a
    ``TestTimeAug``) loads this dataset's labels: ``LoadTaxonomyAnnotations``
    for pixel labels, box pseudo labels for box datasets (see
    :mod:`mmhier.datasets.label_steps`); so MMSeg-style test and TTA
    pipelines work, and one pipeline serves datasets of both kinds.

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

    METAINFO = InstanceMetaInfo()

    def __init__(self, taxonomy: Union[str, os.PathLike, Taxonomy], dataset_key: str,
                 **kwargs: Any):
        self.taxonomy = load_taxonomy(taxonomy)
        self.dataset_key = dataset_key
        spec = self.taxonomy.dataset(dataset_key)
        self.annotation = spec.annotation
        owner = f"{type(self).__name__} (dataset_key '{dataset_key}')"
        metainfo = taxonomy_metainfo(self.taxonomy, kwargs.pop('metainfo', None), owner)
        kwargs['pipeline'] = self._own_steps(kwargs.get('pipeline') or [])
        super().__init__(metainfo=metainfo, **kwargs)
        self.pipeline.transforms = diagnose_plain_image_loaders(self.pipeline.transforms)
        # Set after loading: mmengine would try to read string values as files.
        self._metainfo.update(dataset_key=dataset_key, annotation=spec.annotation,
                              taxonomy=self.taxonomy.source,
                              dataset_classes={c.id: c.name for c in spec.classes})

    def _own_steps(self, pipeline: Sequence[Union[dict, Callable]]) -> list:
        """``pipeline`` with ``LoadAnnotations`` as this dataset's label loader."""
        return with_label_loader(list(pipeline), self.annotation,
                                 f"{type(self).__name__} (dataset_key '{self.dataset_key}')")

    def set_pipeline(self, pipeline: Sequence[Union[dict, Callable]]) -> None:
        """Replace the pipeline, as the constructor builds it (``LoadAnnotations``
        as the label loader, plain image loaders diagnosed).

        Args:
            pipeline: Transform configs or transforms.
        """
        self.pipeline = Compose(self._own_steps(pipeline))
        self.pipeline.transforms = diagnose_plain_image_loaders(self.pipeline.transforms)

    def get_data_info(self, idx: int) -> dict:
        """Sample info plus ``taxonomy`` (the :class:`Taxonomy`),
        ``dataset_key`` and ``annotation``."""
        info = super().get_data_info(idx)
        info['taxonomy'] = self.taxonomy
        info['dataset_key'] = self.dataset_key
        info['annotation'] = self.annotation
        return info
