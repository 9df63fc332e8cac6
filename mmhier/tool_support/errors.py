"""Errors of the command-line tools that users cause with their configs,
command lines and checkpoints.

A tool prints each of them as one line, ``error: <message>``; every message
starts with the file it is about (``<config>[:<line>]: ...``,
``checkpoint <file>: ...``) and says how to fix the problem.
"""
from __future__ import annotations

from typing import Optional


class ToolError(Exception):
    """Base class of the errors a tool reports in one ``error:`` line."""


class ConfigError(ToolError, ValueError):
    """A config (or ``--cfg-options``) mistake: syntax, a missing ``_base_``
    file, a misspelt key, an unknown type, a value a class rejects.

    Args:
        config: The config file the mistake is in (or the one given to the
            tool, when the line is not known).
        reason: What is wrong and how to fix it.
        line: 1-based line in ``config``, where known.
    """

    def __init__(self, config: str, reason: str, line: Optional[int] = None):
        self.config, self.reason, self.line = str(config), reason, line
        where = self.config if line is None else f'{self.config}:{line}'
        super().__init__(f'{where}: {reason}')


class ConfigOptionError(ConfigError):
    """A ``--cfg-options KEY=VALUE`` item cannot be parsed or merged."""


class CheckpointError(ToolError, ValueError):
    """A checkpoint file cannot be used: unreadable, truncated, not a
    checkpoint, or weights of another model.

    Args:
        path: The checkpoint file.
        reason: What is wrong and what to do.
    """

    def __init__(self, path: str, reason: str):
        self.path, self.reason = str(path), reason
        super().__init__(f'checkpoint {self.path}: {reason}')


class CheckpointNotFoundError(CheckpointError, FileNotFoundError):
    """A checkpoint file does not exist (exit status 1, like every missing
    input file of the tools)."""
