"""Errors and validation problems of taxonomies.

Every error a user can cause with a taxonomy file is a :class:`TaxonomyError`.
Validation never stops at the first problem: it collects :class:`Problem`
records (errors and warnings), each naming the file, line, node, dataset or
label id concerned and a hint how to fix it, and raises one
:class:`TaxonomyValidationError` holding all of them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

ERROR = 'error'
WARNING = 'warning'


@dataclass(frozen=True)
class Problem:
    """One finding of taxonomy validation.

    Args:
        severity: ``'error'`` (the taxonomy cannot be used) or ``'warning'``.
        code: Stable short identifier such as ``'two-parents'``; tests and
            tools match on it.
        message: What is wrong, naming the node, dataset or id.
        hint: How to fix it (may be empty).
        source: File the problem was found in (``'<dict>'`` for in-memory).
        line: 1-based line in ``source`` where known.
    """

    severity: str
    code: str
    message: str
    hint: str = ''
    source: str = '<dict>'
    line: Optional[int] = None

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def __str__(self) -> str:
        where = self.source if self.line is None else f'{self.source}:{self.line}'
        text = f'{where}: {self.severity} [{self.code}] {self.message}'
        if self.hint:
            text += f'\n    hint: {self.hint}'
        return text


class ProblemCollector:
    """Collects the problems found in one source file.

    Args:
        source: The file (``'<dict>'`` for in-memory documents).

    Attributes:
        problems: Everything reported so far, in order.
    """

    def __init__(self, source: str):
        self.source = source
        self.problems: list[Problem] = []

    def error(self, code: str, message: str, hint: str = '',
              line: Optional[int] = None) -> None:
        """Reports an error (the taxonomy cannot be used)."""
        self.problems.append(Problem(ERROR, code, message, hint, self.source, line))

    def warning(self, code: str, message: str, hint: str = '',
                line: Optional[int] = None) -> None:
        """Reports a warning."""
        self.problems.append(Problem(WARNING, code, message, hint, self.source, line))


class TaxonomyError(Exception):
    """Base class of all errors caused by taxonomy files or names."""


class TaxonomyFileError(TaxonomyError):
    """A taxonomy file is missing, unreadable or not a YAML mapping."""


class TaxonomySyntaxError(TaxonomyError):
    """A taxonomy file is not valid YAML.

    Args:
        source: The file.
        line: 1-based line of the problem; 0 when it concerns the whole file.
        column: 1-based column of the problem; 0 when unknown.
        reason: The parser's explanation.
        hint: How to fix it; a general YAML hint when ``None``.
    """

    #: What kind of problem the message names.
    kind = 'YAML syntax error'
    default_hint = ('check indentation and quote names that contain ": " or start '
                    'with a special character.')

    def __init__(self, source: str, line: int, column: int, reason: str,
                 hint: Optional[str] = None):
        self.source, self.line, self.column = source, line, column
        self.reason = reason
        where = source
        if line:
            where += f':{line}:{column}' if column else f':{line}'
        hint = self.default_hint if hint is None else hint
        super().__init__(f'{where}: {self.kind}: {reason}'
                         + (f'\n    hint: {hint}' if hint else ''))


class TaxonomyEncodingError(TaxonomySyntaxError):
    """A taxonomy file is not UTF-8 text, or holds characters YAML forbids
    (control characters such as NUL); ``line``/``column`` locate the first."""

    kind = 'invalid character'
    default_hint = ('save the file as UTF-8 text without control characters; '
                    'write special characters as escapes in double quotes ("\\t")')


class TaxonomyUnsupportedYAMLError(TaxonomySyntaxError):
    """A taxonomy file uses a YAML feature taxonomy files do not allow:
    anchors and aliases (``&a`` / ``*a``), merge keys (``<<``), several
    documents or tags other than the standard scalar ones."""

    kind = 'unsupported YAML'
    default_hint = 'write the content out in full; taxonomy files are plain YAML.'


class TaxonomyLimitError(TaxonomySyntaxError):
    """A taxonomy file exceeds a size or nesting limit of the loader (it
    would take minutes or gigabytes to load)."""

    kind = 'too large'
    default_hint = ''


class TaxonomyValidationError(TaxonomyError):
    """A taxonomy has errors; ``problems`` lists all of them (and warnings).

    Args:
        problems: Every problem found, errors and warnings.
    """

    def __init__(self, problems: Sequence[Problem]):
        self.problems = tuple(problems)
        errors = [p for p in self.problems if p.is_error]
        lines = '\n'.join(str(p) for p in errors)
        super().__init__(f'{len(errors)} error(s) in taxonomy:\n{lines}')

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.is_error)


class UnknownNodeError(TaxonomyError, KeyError):
    """A node name that is not in the taxonomy was asked for."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


class UnknownDatasetError(TaxonomyError, KeyError):
    """A dataset key that the taxonomy does not define was asked for."""

    def __str__(self) -> str:
        return str(self.args[0])


class TaxonomyMismatchError(TaxonomyError):
    """Weights trained with one taxonomy are loaded into a model built from
    another (their classifier layouts differ)."""
