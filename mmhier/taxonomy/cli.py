"""``mmhier-taxonomy``: validate, show, export and draft taxonomy files.

Exit codes: 0 success (warnings allowed), 1 invalid taxonomy, 2 unreadable
file or bad usage.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Optional, Sequence

from mmhier.taxonomy.errors import (TaxonomyError, TaxonomyFileError,
                                    TaxonomySyntaxError, TaxonomyValidationError)
from mmhier.taxonomy.taxonomy import Taxonomy, validate_file

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
EXPORT_FORMATS = ('dot', 'mermaid', 'json', 'png')


class _Parser(argparse.ArgumentParser):
    """argparse that exits with :data:`EXIT_USAGE` on bad usage."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f'{self.prog}: error: {message}\n')


def _cmd_validate(args: argparse.Namespace) -> int:
    status = EXIT_OK
    for path in args.files:
        try:
            problems = validate_file(path)
        except TaxonomySyntaxError as exc:
            print(exc, file=sys.stderr)
            print(f'{path}: invalid (YAML syntax)')
            status = max(status, EXIT_INVALID)
            continue
        except TaxonomyFileError as exc:
            print(exc, file=sys.stderr)
            status = EXIT_USAGE
            continue
        errors = [p for p in problems if p.is_error]
        warnings = [p for p in problems if not p.is_error]
        for problem in errors + ([] if args.quiet else warnings):
            print(problem, file=sys.stderr)
        failed = bool(errors) or (args.strict and bool(warnings))
        verdict = 'invalid' if failed else 'valid'
        print(f'{path}: {verdict} ({len(errors)} error(s), {len(warnings)} warning(s))')
        if failed:
            status = max(status, EXIT_INVALID)
    return status


def _cmd_show(args: argparse.Namespace) -> int:
    from mmhier.taxonomy.summary import format_show
    print(format_show(Taxonomy.from_file(args.file)))
    return EXIT_OK


def _cmd_export(args: argparse.Namespace) -> int:
    from mmhier.taxonomy import export
    tax = Taxonomy.from_file(args.file)
    if args.format == 'png':
        out = args.output or str(Path(args.file).with_suffix('.png').name)
        export.draw_png(tax, out)
        print(f'wrote {out}', file=sys.stderr)
        return EXIT_OK
    text = {'dot': export.to_dot, 'mermaid': export.to_mermaid,
            'json': export.to_json}[args.format](tax)
    _write_text(text, args.output)
    return EXIT_OK


def _cmd_draft(args: argparse.Namespace) -> int:
    from mmhier.taxonomy.mapillary_draft import draft_from_mapillary
    text = draft_from_mapillary(args.config, dataset_key=args.dataset, name=args.name)
    _write_text(text, args.output)
    return EXIT_OK


def _write_text(text: str, output: Optional[str]) -> None:
    if output in (None, '-'):
        sys.stdout.write(text if text.endswith('\n') else text + '\n')
        return
    try:
        Path(output).write_text(text if text.endswith('\n') else text + '\n',
                                encoding='utf-8')
    except OSError as exc:
        raise TaxonomyFileError(f'{output}: cannot write: {exc}') from None
    print(f'wrote {output}', file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser (exposed for documentation and tests)."""
    parser = _Parser(prog='mmhier-taxonomy',
                     description='Validate, inspect and export mmhier taxonomy files.')
    sub = parser.add_subparsers(dest='command', required=True, parser_class=_Parser)

    p = sub.add_parser('validate', help='check taxonomy files and report all problems')
    p.add_argument('files', nargs='+', metavar='FILE')
    p.add_argument('--strict', action='store_true', help='treat warnings as errors')
    p.add_argument('-q', '--quiet', action='store_true', help='do not print warnings')
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser('show', help='print the tree, classifiers and datasets')
    p.add_argument('file', metavar='FILE')
    p.set_defaults(func=_cmd_show)

    p = sub.add_parser('export', help='write the tree as dot, mermaid, json or png')
    p.add_argument('file', metavar='FILE')
    p.add_argument('--format', '-f', choices=EXPORT_FORMATS, required=True)
    p.add_argument('-o', '--output', metavar='OUT',
                   help='output file (default: stdout; png: <taxonomy name>.png)')
    p.set_defaults(func=_cmd_export)

    p = sub.add_parser('draft-from-mapillary',
                       help="draft a taxonomy from a Mapillary Vistas config.json's "
                            "'--' label paths")
    p.add_argument('config', metavar='CONFIG_JSON')
    p.add_argument('-o', '--output', metavar='OUT', help='output YAML (default: stdout)')
    p.add_argument('--dataset', default='mapillary_vistas',
                   help='dataset key in the draft (default: %(default)s)')
    p.add_argument('--name', default=None, help='taxonomy name in the draft')
    p.set_defaults(func=_cmd_draft)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the CLI; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except TaxonomyFileError as exc:
        print(f'error: {exc}', file=sys.stderr)
        return EXIT_USAGE
    except (TaxonomySyntaxError, TaxonomyValidationError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        print('run `mmhier-taxonomy validate FILE` for the full report', file=sys.stderr)
        return EXIT_INVALID
    except TaxonomyError as exc:
        print(f'error: {exc}', file=sys.stderr)
        return EXIT_INVALID
    except BrokenPipeError:  # e.g. `mmhier-taxonomy show FILE | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


if __name__ == '__main__':
    sys.exit(main())
