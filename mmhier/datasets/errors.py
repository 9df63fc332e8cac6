"""Errors users can cause with their data.

Each message names the file (and line, id or box) and says how to fix it.
"""
from __future__ import annotations

from typing import Sequence

#: How many further problems an :class:`AnnotationError` message lists.
MAX_LISTED_PROBLEMS = 20


class DatasetError(Exception):
    """Base class of all data errors raised by mmhier datasets/transforms."""


class MissingDataError(DatasetError, FileNotFoundError):
    """A data root, image, label or annotation file does not exist."""


class CorruptFileError(DatasetError):
    """An image or label file cannot be decoded (empty, truncated, not an
    image)."""


class LabelFormatError(CorruptFileError):
    """A label image decodes, but not as the dataset's id images: several
    channels (a colour visualisation), a wider bit depth than the dataset's
    encoding, non-integer values or lossy (JPEG) compression."""


class LabelSizeError(DatasetError):
    """A label image's size differs from its photo's."""


class LabelIdOutOfRangeError(DatasetError):
    """A label image holds an id outside its dataset's label space."""


class AnnotationError(DatasetError):
    """A line of an annotation file (e.g. GTSDB ``gt.txt``) is invalid.

    The message starts with ``<path>:<line>: <reason>`` of the first problem
    and lists further problems (up to :data:`MAX_LISTED_PROBLEMS`) one per
    line in the same form.

    Args:
        path: The annotation file.
        line: 1-based line number (of the first problem).
        reason: What is wrong and how to fix it.
        more: Further problems, ``(line, reason)`` each.

    Attributes:
        problems: All problems, ``(line, reason)`` each, the first one first.
    """

    def __init__(self, path: str, line: int, reason: str,
                 more: Sequence[tuple[int, str]] = ()):
        self.path, self.line, self.reason = path, line, reason
        self.problems = [(line, reason), *more]
        message = f'{path}:{line}: {reason}'
        if more:
            listed = [f'\n  {path}:{n}: {text}' for n, text in more[:MAX_LISTED_PROBLEMS]]
            rest = len(more) - len(listed)
            message += (f'\n{len(more)} more problem(s) in {path}:' + ''.join(listed)
                        + (f'\n  ... and {rest} more' if rest else ''))
        super().__init__(message)

    def __reduce__(self):
        return type(self), (self.path, self.line, self.reason, self.problems[1:])


class DatasetMetaError(DatasetError, ValueError):
    """A dataset's ``metainfo`` contradicts its taxonomy (``classes`` that are
    not the node names, a ``palette`` that does not give one colour per node)."""
