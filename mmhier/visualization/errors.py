"""Errors users can cause when drawing taxonomy labels and predictions.

Every message names the visualizer argument or the taxonomy files concerned
and says how to fix it.
"""
from mmhier.taxonomy.errors import TaxonomyMismatchError


class VisualizationError(Exception):
    """Base class of the errors raised by mmhier's visualizers."""


class VisualizerConfigError(VisualizationError, ValueError):
    """A visualizer argument is invalid (``alpha`` outside [0, 1], colours
    given although they come from the taxonomy, no taxonomy to draw with)."""


class VisualizerTaxonomyMismatchError(VisualizationError, TaxonomyMismatchError):
    """The visualizer's taxonomy is not the one the dataset's labels (node
    ids) belong to."""


class LabelMapError(VisualizationError, ValueError):
    """A sample's ``gt_sem_seg`` / ``pred_sem_seg`` is not a ``(1, H, W)``
    integer map of the image's size."""
