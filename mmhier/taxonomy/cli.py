"""``mmhier-taxonomy``: validate, show, export, compare, merge and draft taxonomy files.

Exit codes:

- **0**: success (warnings allowed, unless ``validate --strict``).
- **1**: the content is at fault: an invalid taxonomy, a YAML syntax error,
  a file that is not UTF-8 text (binary garbage), a file over the size or
  nesting limits, and for ``draft-from-mapillary`` invalid JSON or JSON
  without a usable ``labels`` list.
- **2**: a path or the usage is at fault: a missing file, a directory given
  as a file, permission denied, an output that cannot be written (``-o``, or
  stdout of ``show``/``export``/``draft-from-mapillary``), unknown options
  or missing arguments.

``validate`` reports every file and exits with the largest code; its code is
the validation result whatever happens to its printed report. For every
command, a closed stdout or stderr (``... | head``) silences the output and
does not change the code.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, Optional, Sequence

from mmhier.taxonomy.errors import TaxonomyError, TaxonomyFileError
from mmhier.taxonomy.taxonomy import Taxonomy, validate_file

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
EXPORT_FORMATS = ('dot', 'mermaid', 'json', 'png')
EXIT_CODES_HELP = '''exit codes:
  0  success (warnings allowed, unless validate --strict)
  1  the content is at fault: invalid taxonomy, YAML syntax error, not UTF-8
     text, file too large or too deeply nested; for draft-from-mapillary
     invalid JSON or no usable "labels" list
  2  a path or the usage is at fault: missing file, directory given as a
     file, permission denied, output not writable, bad options
validate reports every file and exits with the largest code, whatever
happens to its printed report; a closed output pipe (e.g. `| head`) never
changes the exit code.'''


class _Output:
    """stdout/stderr writer whose failures never change what the command
    computed: a closed pipe silences the stream; any other write error is
    remembered (:attr:`failed`) and turns the exit code into 2."""

    def __init__(self) -> None:
        self.failed: Optional[OSError] = None

    @staticmethod
    def _silence(stream: Any) -> None:
        """Points a stream's file descriptor at /dev/null (pending output and
        the flush at exit then go nowhere instead of failing)."""
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stream.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):
            pass

    def _write(self, stream: Any, text: str) -> None:
        if stream is None:
            return
        try:
            try:
                stream.write(text)
            except UnicodeEncodeError:  # e.g. an ASCII-only terminal
                encoding = getattr(stream, 'encoding', None) or 'ascii'
                stream.write(text.encode(encoding, 'backslashreplace').decode(encoding))
        except BrokenPipeError:
            self._silence(stream)
        except OSError as exc:
            self.failed = self.failed or exc
            self._silence(stream)

    def out(self, text: str) -> None:
        """Writes a line (or text ending with one) to stdout."""
        self._write(sys.stdout, text if text.endswith('\n') else text + '\n')

    def err(self, text: str) -> None:
        """Writes a line to stderr."""
        self._write(sys.stderr, text if text.endswith('\n') else text + '\n')

    def flush(self) -> None:
        """Flushes both streams, with the same failure rules as writing."""
        for stream in (sys.stdout, sys.stderr):
            if stream is None:
                continue
            try:
                stream.flush()
            except BrokenPipeError:
                self._silence(stream)
            except OSError as exc:
                self.failed = self.failed or exc
                self._silence(stream)
            except ValueError:  # closed file object
                pass


class _Parser(argparse.ArgumentParser):
    """argparse that exits with :data:`EXIT_USAGE` on bad usage."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f'{self.prog}: error: {message}\n')


def _non_empty(value: str) -> str:
    if not value.strip():
        raise argparse.ArgumentTypeError('must not be empty')
    return value


def _cmd_validate(args: argparse.Namespace, out: _Output) -> int:
    status = EXIT_OK
    for path in args.files:
        try:
            problems = validate_file(path)
        except TaxonomyFileError as exc:
            out.err(f'error: {exc}')
            status = max(status, EXIT_USAGE)
            continue
        except TaxonomyError as exc:  # syntax, encoding, limits
            out.err(f'error: {exc}')
            out.out(f'{path}: invalid (cannot be read as a taxonomy)')
            status = max(status, EXIT_INVALID)
            continue
        errors = [p for p in problems if p.is_error]
        warnings = [p for p in problems if not p.is_error]
        for problem in errors + ([] if args.quiet else warnings):
            out.err(str(problem))
        failed = bool(errors) or (args.strict and bool(warnings))
        verdict = 'invalid' if failed else 'valid'
        out.out(f'{path}: {verdict} ({len(errors)} error(s), {len(warnings)} warning(s))')
        if failed:
            status = max(status, EXIT_INVALID)
    return status


def _cmd_show(args: argparse.Namespace, out: _Output) -> int:
    from mmhier.taxonomy.summary import format_show
    out.out(format_show(Taxonomy.from_file(args.file)))
    return EXIT_OK


def _cmd_export(args: argparse.Namespace, out: _Output) -> int:
    from mmhier.taxonomy import export
    tax = Taxonomy.from_file(args.file)
    if args.format == 'png':
        path = args.output or str(Path(args.file).with_suffix('.png').name)
        _check_output_path(path)
        try:
            export.draw_png(tax, path)
        except OSError as exc:
            raise TaxonomyFileError(f'{path}: cannot write: {exc}') from None
        out.err(f'wrote {path}')
        return EXIT_OK
    text = {'dot': export.to_dot, 'mermaid': export.to_mermaid,
            'json': export.to_json}[args.format](tax)
    _write_text(text, args.output, out)
    return EXIT_OK


def _cmd_diff(args: argparse.Namespace, out: _Output) -> int:
    import json

    from mmhier.taxonomy.diff import diff_taxonomies
    diff = diff_taxonomies(Taxonomy.from_file(args.old), Taxonomy.from_file(args.new))
    out.out(json.dumps(diff.to_dict(), indent=2) if args.json else diff.format_text())
    return EXIT_OK


def _cmd_merge(args: argparse.Namespace, out: _Output) -> int:
    from mmhier.taxonomy.merge import merge_label_spaces
    _write_text(merge_label_spaces(args.relations, name=args.name), args.output, out)
    return EXIT_OK


def _cmd_draft(args: argparse.Namespace, out: _Output) -> int:
    from mmhier.taxonomy.mapillary_draft import draft_from_mapillary
    text = draft_from_mapillary(args.config, dataset_key=args.dataset, name=args.name)
    _write_text(text, args.output, out)
    return EXIT_OK


def _check_output_path(output: str) -> None:
    if '\0' in output:
        raise TaxonomyFileError(f'{output!r}: cannot write: the path contains a NUL '
                                'character')


def _write_text(text: str, output: Optional[str], out: _Output) -> None:
    if output in (None, '-'):
        out.out(text)
        return
    _check_output_path(output)
    try:
        Path(output).write_text(text if text.endswith('\n') else text + '\n',
                                encoding='utf-8')
    except OSError as exc:
        raise TaxonomyFileError(f'{output}: cannot write: {exc}') from None
    out.err(f'wrote {output}')


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser (exposed for documentation and tests)."""
    parser = _Parser(prog='mmhier-taxonomy',
                     description='Validate, inspect and export mmhier taxonomy files.',
                     epilog=EXIT_CODES_HELP,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest='command', required=True, parser_class=_Parser)

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help_text, description=help_text,
                              epilog=EXIT_CODES_HELP,
                              formatter_class=argparse.RawDescriptionHelpFormatter)

    p = add('validate', 'check taxonomy files and report all problems')
    p.add_argument('files', nargs='+', metavar='FILE')
    p.add_argument('--strict', action='store_true', help='treat warnings as errors')
    p.add_argument('-q', '--quiet', action='store_true', help='do not print warnings')
    p.set_defaults(func=_cmd_validate)

    p = add('show', 'print the tree, classifiers and datasets')
    p.add_argument('file', metavar='FILE')
    p.set_defaults(func=_cmd_show)

    p = add('export', 'write the tree as dot, mermaid, json or png')
    p.add_argument('file', metavar='FILE')
    p.add_argument('--format', '-f', choices=EXPORT_FORMATS, required=True)
    p.add_argument('-o', '--output', metavar='OUT',
                   help='output file (default: stdout; png: <taxonomy name>.png)')
    p.set_defaults(func=_cmd_export)

    p = add('merge', 'build a taxonomy from label lists and a relations file')
    p.add_argument('relations', metavar='RELATIONS',
                   help='YAML naming the label lists and relating their classes')
    p.add_argument('-o', '--output', metavar='OUT', help='output YAML (default: stdout)')
    p.add_argument('--name', default=None, type=_non_empty, help='taxonomy name')
    p.set_defaults(func=_cmd_merge)

    p = add('diff', 'nodes, classifiers and dataset mappings that changed from OLD to NEW')
    p.add_argument('old', metavar='OLD')
    p.add_argument('new', metavar='NEW')
    p.add_argument('--json', action='store_true', help='print the differences as JSON')
    p.set_defaults(func=_cmd_diff)

    p = add('draft-from-mapillary',
            "draft a taxonomy from a Mapillary Vistas config.json's '--' label paths")
    p.add_argument('config', metavar='CONFIG_JSON')
    p.add_argument('-o', '--output', metavar='OUT', help='output YAML (default: stdout)')
    p.add_argument('--dataset', default='mapillary_vistas', type=_non_empty,
                   help='dataset key in the draft (default: %(default)s)')
    p.add_argument('--name', default=None, type=_non_empty,
                   help='taxonomy name in the draft')
    p.set_defaults(func=_cmd_draft)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the CLI.

    Args:
        argv: Arguments without the program name; ``sys.argv[1:]`` when
            ``None``.

    Returns:
        The exit code (see the module docstring).

    Raises:
        SystemExit: For ``--help`` (code 0) and bad usage (code 2), as
            argparse does.
    """
    out = _Output()
    try:
        args = build_parser().parse_args(argv)
    except SystemExit:
        out.flush()
        raise
    status = EXIT_OK
    try:
        status = args.func(args, out)
    except TaxonomyFileError as exc:
        out.err(f'error: {exc}')
        status = EXIT_USAGE
    except TaxonomyError as exc:
        out.err(f'error: {exc}')
        if args.command in ('show', 'export', 'diff'):
            out.err('run `mmhier-taxonomy validate FILE` for the full report')
        status = EXIT_INVALID
    except (RecursionError, MemoryError) as exc:  # last line of defence
        out.err(f'error: the input is too large or too deeply nested to process '
                f'({type(exc).__name__})')
        status = EXIT_INVALID
    out.flush()
    if out.failed is not None:
        out.err(f'error: cannot write the output: {out.failed}')
        out.flush()
        if args.command != 'validate':  # validate's result is its exit code
            status = max(status, EXIT_USAGE)
    return status


if __name__ == '__main__':
    sys.exit(main())
