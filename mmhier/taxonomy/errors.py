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


class TaxonomyError(Exception):
    """Base class of all errors caused by taxonomy files or names."""


class TaxonomyFileError(TaxonomyError):
    """A taxonomy file is missing, unreadable or not a YAML mapping."""


class TaxonomySyntaxError(TaxonomyError):
    """A taxonomy file is not valid YAML.

    Args:
        source: The file.
        line: 1-based line of the syntax error.
        column: 1-based column of the syntax error.
        reason: The parser's explanation.
    """

    def __init__(self, source: str, line: int, column: int, reason: str):
        self.source, self.line, self.column = source, line, column
        super().__init__(f'{source}:{line}:{column}: YAML syntax error: {reason}\n'
                         '    hint: check indentation and quote names that '
                         'contain ": " or start with a special character.')


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
