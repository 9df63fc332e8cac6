"""MMSeg's ``LoadAnnotations`` step in the pipelines of taxonomy datasets.

MMSeg's tools edit a config's test pipeline by the names of its steps: the
``MMSegInferencer`` and ``inference_model`` drop ``LoadAnnotations`` (there
are no labels to load for a new image), ``tools/test.py --tta`` swaps in a
``tta_pipeline`` whose ``TestTimeAug`` holds a ``LoadAnnotations``. mmhier's
datasets therefore accept ``dict(type='LoadAnnotations')`` as "load this
dataset's labels": each :class:`~mmhier.datasets.TaxonomySegDataset` builds
it as its own label loader, so one pipeline serves every dataset of a
:class:`~mmhier.datasets.MultiTaxonomyDataset`:

* ``annotation: pixel`` datasets: ``LoadTaxonomyAnnotations`` (label images
  as node labels);
* ``annotation: box`` datasets (GTSDB): the box pseudo labels of
  ``BoxesToPseudoMask``, drawn at the loaded image's size wherever the step
  stands (:class:`BoxPseudoLabelsAtLoadedSize`). Like a label image, the map
  follows the geometric steps after it and not those before it, so a test
  pipeline's ``LoadAnnotations`` after ``Resize`` / ``RandomFlip`` gives the
  labels at the original size, where predictions are evaluated.

mmseg's own ``LoadAnnotations`` would read raw dataset ids as labels, which
is never right for a taxonomy dataset.
"""
from __future__ import annotations

from typing import Any, Callable, Union

from mmseg.datasets.transforms import LoadAnnotations
from mmseg.registry import TRANSFORMS

from mmhier.datasets.errors import DatasetMetaError
from mmhier.datasets.transforms import BoxesToPseudoMask

#: Config names of MMSeg's label loading step (with and without a scope).
LOAD_ANNOTATIONS_NAMES = ('LoadAnnotations', 'mmseg.LoadAnnotations')

Step = Union[dict, Callable]


class BoxPseudoLabelsAtLoadedSize(BoxesToPseudoMask):
    """``BoxesToPseudoMask`` drawn at the loaded image's size (``ori_shape``)
    wherever it stands in the pipeline.

    ``BoxesToPseudoMask`` draws at the current image size and must stand
    right after the image loading; this step may also follow resizes, crops
    and flips (the boxes are in the loaded image's coordinates, and so is the
    map), which a test pipeline needs to evaluate at the original size.

    Args:
        **kwargs: :class:`BoxesToPseudoMask` arguments.
    """

    def transform(self, results: dict) -> dict:
        """Add ``gt_seg_map`` of the loaded image's size."""
        view = dict(results, img_shape=results.get('ori_shape', results.get('img_shape')))
        super().transform(view)
        results['gt_seg_map'] = view['gt_seg_map']
        results['seg_fields'] = view['seg_fields']
        return results


def label_loader(annotation: str, load_annotations: dict, owner: str) -> Step:
    """The step that loads a dataset's labels in place of ``LoadAnnotations``.

    Args:
        annotation: The dataset's annotation type (``'pixel'`` or ``'box'``).
        load_annotations: The ``LoadAnnotations`` config (its
            ``backend_args`` are kept for label images).
        owner: The dataset, for messages.

    Returns:
        A transform config (pixel) or transform (box).

    Raises:
        DatasetMetaError: ``reduce_zero_label=True`` (taxonomies mark ignored
            ids instead).
    """
    if load_annotations.get('reduce_zero_label'):
        raise DatasetMetaError(
            f'{owner}: LoadAnnotations(reduce_zero_label=True) does not apply to '
            "taxonomy labels; mark id 0 as {ignore: true} in the taxonomy's dataset "
            'entry and remove reduce_zero_label')
    if annotation == 'box':
        return BoxPseudoLabelsAtLoadedSize()
    step: dict = dict(type='LoadTaxonomyAnnotations')
    if load_annotations.get('backend_args') is not None:
        step['backend_args'] = load_annotations['backend_args']
    return step


def _is_load_annotations(step: Any) -> bool:
    if isinstance(step, dict):
        kind = step.get('type')
        return kind in LOAD_ANNOTATIONS_NAMES or kind is LoadAnnotations
    return type(step) is LoadAnnotations


def with_label_loader(pipeline: Any, annotation: str, owner: str) -> Any:
    """``pipeline`` with every ``LoadAnnotations`` step (also inside
    wrappers such as ``TestTimeAug``) replaced by the dataset's label loader
    (:func:`label_loader`).

    Args:
        pipeline: Steps (configs or transforms), or nested lists of them as in
            ``TestTimeAug(transforms=[[...], [...]])``.
        annotation: The dataset's annotation type.
        owner: The dataset, for messages.

    Returns:
        A new list; steps without ``LoadAnnotations`` are the same objects.
    """
    if isinstance(pipeline, (list, tuple)):
        return [with_label_loader(step, annotation, owner) for step in pipeline]
    if _is_load_annotations(pipeline):
        config = dict(pipeline) if isinstance(pipeline, dict) else dict(
            reduce_zero_label=pipeline.reduce_zero_label,
            backend_args=pipeline.backend_args)
        loader = label_loader(annotation, config, owner)
        if not isinstance(pipeline, dict) and isinstance(loader, dict):
            loader = TRANSFORMS.build(loader)
        return loader
    if isinstance(pipeline, dict) and isinstance(pipeline.get('transforms'), (list, tuple)):
        return dict(pipeline, transforms=with_label_loader(
            pipeline['transforms'], annotation, owner))
    return pipeline
