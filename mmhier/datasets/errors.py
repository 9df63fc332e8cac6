"""Errors users can cause with their data.

Each message names the file (and line, id or box) and says how to fix it.
"""


class DatasetError(Exception):
    """Base class of all data errors raised by mmhier datasets/transforms."""


class MissingDataError(DatasetError, FileNotFoundError):
    """A data root, image, label or annotation file does not exist."""


class CorruptFileError(DatasetError):
    """An image or label file cannot be decoded."""


class LabelIdOutOfRangeError(DatasetError):
    """A label image holds an id outside its dataset's label space."""


class AnnotationError(DatasetError):
    """A line of an annotation file (e.g. GTSDB ``gt.txt``) is invalid.

    Args:
        path: The annotation file.
        line: 1-based line number.
        reason: What is wrong and how to fix it.
    """

    def __init__(self, path: str, line: int, reason: str):
        self.path, self.line, self.reason = path, line, reason
        super().__init__(f'{path}:{line}: {reason}')
