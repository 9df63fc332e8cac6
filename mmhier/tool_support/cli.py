"""How a tool turns the user's mistakes into one ``error:`` line.

Each tool wraps the body of its ``main`` in :func:`run_tool`::

    def main(argv=None):
        args = parse_args(argv)
        return run_tool(lambda: run(args), config=args.config,
                        cfg_options=args.cfg_options, debug=args.debug)

Exit status 0 when the body finishes, 1 with one line on stderr for a user
error:

* ``error: <message>`` for the tools' own errors (:class:`ToolError`: config
  mistakes ``<config>[:<line>]: ...``, checkpoints ``checkpoint <file>: ...``);
* ``error: <Type>: <message>`` for mmhier's typed data, taxonomy and
  evaluation errors, missing files and the tool's extra types (with a note
  naming unknown keys of the config dict being built when it was raised);
* for other exceptions, :func:`explain_config_error` decides whether they are
  config mistakes (misspelt key, unknown type, rejected value, ...).

Anything else is a bug and keeps its traceback. ``--debug`` (or the
environment variable ``MMHIER_DEBUG=1``) prints the traceback of user errors
too, before the ``error:`` line.
"""
from __future__ import annotations

import argparse
import os
import sys
import traceback
from typing import Callable, Optional

from mmhier.tool_support.checkpoints import explain_checkpoint_error
from mmhier.tool_support.errors import ToolError
from mmhier.tool_support.explain import explain_config_error, unknown_keys_note

#: Environment variable that turns on ``--debug``.
DEBUG_ENV = 'MMHIER_DEBUG'


def add_debug_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--debug`` to a tool's parser."""
    parser.add_argument('--debug', action='store_true',
                        help='show the full traceback of errors (also: environment '
                        f'variable {DEBUG_ENV}=1)')


def debug_enabled(flag: bool = False) -> bool:
    """``--debug`` given, or ``MMHIER_DEBUG`` set to anything but ``0``/empty."""
    return flag or os.environ.get(DEBUG_ENV, '').strip() not in ('', '0')


def user_errors(*extra: type[BaseException]) -> tuple[type[BaseException], ...]:
    """Exception types that are the user's to fix: a tool reports them in one
    ``error:`` line, without a traceback.

    Args:
        *extra: The tool's own error types.
    """
    from mmhier.datasets.errors import DatasetError
    from mmhier.evaluation import EvaluationError
    from mmhier.taxonomy import TaxonomyError
    from mmhier.structures.node_maps import NodeMapRangeError
    from mmhier.visualization.errors import VisualizationError
    return (ToolError, DatasetError, EvaluationError, FileNotFoundError,
            NodeMapRangeError, TaxonomyError, VisualizationError, *extra)


def error_line(exc: BaseException, config: Optional[str] = None,
               cfg_options: Optional[dict] = None,
               extra: tuple[type[BaseException], ...] = ()) -> Optional[str]:
    """The one-line report of a user error, or ``None`` if ``exc`` is not one.

    Args:
        exc: The exception.
        config: The tool's config file (to attribute build errors to it).
        cfg_options: The tool's ``--cfg-options``.
        extra: The tool's own user error types.
    """
    if isinstance(exc, ToolError):
        return f'error: {exc}'
    if isinstance(exc, user_errors(*extra)):
        note = unknown_keys_note(exc, config, cfg_options) if config else ''
        return f'error: {type(exc).__name__}: {exc}{note}'
    found = explain_checkpoint_error(exc)
    if found is None and config is not None:
        found = explain_config_error(exc, config, cfg_options)
    return None if found is None else f'error: {found}'


def run_tool(body: Callable[[], Optional[int]], *, config: Optional[str] = None,
             cfg_options: Optional[dict] = None, debug: bool = False,
             extra: tuple[type[BaseException], ...] = ()) -> int:
    """Run a tool's body and report user errors in one line.

    Args:
        body: The tool's work; returns its exit status (``None``: 0).
        config: The config file (names config mistakes).
        cfg_options: ``--cfg-options``.
        debug: ``--debug``: print tracebacks of user errors too.
        extra: The tool's own user error types.

    Returns:
        The body's exit status, or 1 after a user error.

    Raises:
        Exception: Whatever the body raised that is not a user error.
    """
    try:
        status = body()
    except Exception as exc:
        line = error_line(exc, config, cfg_options, extra)
        if line is None:
            raise
        if debug_enabled(debug):
            traceback.print_exc()
        print(line, file=sys.stderr)
        return 1
    return 0 if status is None else status
