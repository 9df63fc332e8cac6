"""Errors users can cause when evaluating with a taxonomy.

Unknown dataset keys raise the taxonomy's own
:class:`~mmhier.taxonomy.UnknownDatasetError` (for a data sample's key its
subclass :class:`~mmhier.structures.SampleDatasetKeyError`, shared with the
loss), samples of another taxonomy tree
:class:`~mmhier.structures.SampleTaxonomyMismatchError`; everything else
specific to evaluation is an :class:`EvaluationError`. Each message names the
sample (its image path) or the argument concerned and says how to fix it.
"""
from mmhier.structures.sample_checks import SampleDatasetKeyError


class EvaluationError(Exception):
    """Base class of the errors raised by mmhier's metrics."""


class UnknownClassError(EvaluationError, KeyError):
    """A class subset names a class its dataset does not have (or ignores)."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


class MissingSampleFieldError(EvaluationError, KeyError):
    """A data sample lacks a field the metric needs (``dataset_key``,
    ``gt_sem_seg`` or ``pred_sem_seg``)."""

    def __str__(self) -> str:
        return str(self.args[0])


class LabelMismatchError(EvaluationError, ValueError):
    """A sample's ground truth does not fit the label contract or its dataset
    (e.g. a node the dataset does not label: wrong ``dataset_key``?)."""


class InvalidPredictionError(EvaluationError, ValueError):
    """A prediction is not a taxonomy node map of the ground truth's shape."""


class MissingDatasetKeyError(MissingSampleFieldError, SampleDatasetKeyError):
    """A data sample has no ``dataset_key`` (both a missing field and an
    unknown dataset: either ``except`` clause catches it)."""

    def __str__(self) -> str:
        return str(self.args[0])
