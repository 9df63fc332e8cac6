"""Names, label ids, free text and keys read from YAML.

YAML 1.1 reads many unquoted words as something other than text: ``007`` is
the integer 7, ``0x1F`` is 31, ``010`` is the octal 8, ``1_000`` is 1000,
``.5`` is 0.5, ``2024-01-01`` is a date and ``yes``/``no``/``on``/``off``/
``null``/``~`` are booleans or null. The loader keeps the source text of such
scalars (:func:`~mmhier.taxonomy.yaml_io.source_text`); these readers compare
it with what YAML made of it and report, with the quoted form to write:

- an **error** where the name or id would differ from what is written
  (``007`` -> ``'7'``, ``no`` -> ``False``, ``010`` -> 8),
- a **warning** where it happens to read back the same (``42``,
  ``2024-01-01``): correct today, but fragile.
"""
from __future__ import annotations

import datetime
import difflib
import re
from typing import Any, Mapping, Optional

from mmhier.taxonomy.errors import ProblemCollector
from mmhier.taxonomy.reprs import short_repr
from mmhier.taxonomy.yaml_io import CollectionKey, line_of

#: Control characters other than tab and line breaks, and lone surrogates
#: (which cannot be written as UTF-8): not allowed in names.
_BAD_NAME_CHAR = re.compile('[\x00-\x08\x0b-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff]')
_DECIMAL = re.compile(r'[-+]?(?:0|[1-9][0-9]*)')
_OCTAL = re.compile(r'[-+]?0[0-7_]+')


def quoted(text: str) -> str:
    """``text`` as a single-quoted YAML scalar: ``007 -> '007'``."""
    return "'" + text.replace("'", "''") + "'"


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return 'the boolean'
    if isinstance(value, int):
        return 'the integer'
    if isinstance(value, float):
        return 'the number'
    if isinstance(value, datetime.datetime):
        return 'the date and time'
    if isinstance(value, datetime.date):
        return 'the date'
    return 'null' if value is None else f'a {type(value).__name__}'


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return 'null' if value is None else short_repr(value)


def bad_name_character(text: str) -> Optional[str]:
    """Describes the first character of ``text`` a name may not contain
    (control characters other than tab and line breaks, lone surrogates).

    Returns:
        E.g. ``'the control character U+0007 (character 3)'``, or ``None``.
    """
    bad = _BAD_NAME_CHAR.search(text)
    if bad is None:
        return None
    return f'the control character U+{ord(bad.group()):04X} (character {bad.start() + 1})'


def plain_name(value: Any) -> bool:
    """Whether ``value`` is usable as a name as it is: a non-blank string of
    printable characters (the common case, checked without regexes)."""
    return type(value) is str and value.isprintable() and value != '' \
        and not value.isspace()


def read_name(raw: Any, text: Optional[str], what: str, line: Optional[int],
              out: ProblemCollector) -> Optional[str]:
    """A name (node, class, dataset key) from a YAML scalar.

    Args:
        raw: The value YAML produced.
        text: Its source text when it was a plain scalar YAML did not read
            as a string (``None`` otherwise or when unknown).
        what: What the name is, for messages (``'node name'``).
        line: Where it is.
        out: Receives the problems.

    Returns:
        The name; ``None`` (with an error) when there is no usable name. A
        number whose text YAML changed is reported as an error but its text
        is returned, so that later checks do not report follow-on errors.
    """
    if isinstance(raw, CollectionKey):
        out.error('bad-name', f'{what} {raw} is a list or mapping, not a name',
                  'write the name as text', line)
        return None
    if isinstance(raw, str):
        if not raw.strip():
            out.error('empty-name', f'empty {what}', f'give every {what} a non-empty '
                      'value', line)
            return None
        bad = bad_name_character(raw)
        if bad:
            out.error('bad-name', f'{what} {short_repr(raw)} contains {bad}',
                      'remove it (write names as plain text)', line)
            return None
        return raw
    if raw is None or isinstance(raw, bool):
        written = text if text else _shown(raw)
        read_as = _kind(raw) if raw is None else f'{_kind(raw)} {_shown(raw)}'
        out.error('bad-name', f'{what} {written} is not a string: YAML reads it as '
                  f'{read_as}', f'quote it: {quoted(text)}' if text else
                  "YAML reads yes/no/on/off/true/false/null/~ as booleans or null: "
                  "quote the name, e.g. 'no'", line)
        return None
    if isinstance(raw, (int, float, datetime.date)):
        converted = str(raw)
        if text is None:
            if isinstance(raw, (int, float)):
                return converted  # from a plain dict: the caller's own value
        elif text == converted:
            out.warning('numeric-name', f'{what} {text} is read by YAML as '
                        f'{_kind(raw)} {converted}; it is used as the name '
                        f'{converted!r}', f'quote it ({quoted(text)}) so that it '
                        'stays a name', line)
            return converted
        else:
            out.error('numeric-name', f'{what} {text} is read by YAML as {_kind(raw)} '
                      f'{converted}, so the name would be {converted!r}',
                      f'quote it: {quoted(text)}', line)
            return text
    out.error('bad-name', f'{what} {short_repr(raw)} is not a string',
              'write the name as text', line)
    return None


def read_id(raw: Any, text: Optional[str], what: str, line: Optional[int],
            out: ProblemCollector) -> Optional[int]:
    """A label id (or count) from a YAML scalar.

    Args:
        raw: The value YAML produced.
        text: Source text of a plain non-string scalar (see
            :func:`read_name`).
        what: What the value is, for messages (``"dataset 'd': label id"``).
        line: Where it is.
        out: Receives the problems.

    Returns:
        The integer; ``None`` (with an error) when it is not one, or when
        YAML reads it as octal (``010`` -> 8).
    """
    if type(raw) is not int:  # bool is an int subclass: rejected too
        hint = 'label ids are the integers stored in the label files'
        if isinstance(raw, str) and raw.strip().isdigit() and len(raw) < 40:
            hint = f'write it as a plain integer: {int(raw.strip())}'
        shown = text if text is not None else _shown(raw)
        out.error('bad-id', f'{what} {shown} is not an integer', hint, line)
        return None
    if text is not None and text != str(raw) and not _DECIMAL.fullmatch(text):
        if _OCTAL.fullmatch(text) and int(text.replace('_', ''), 10) != raw:
            out.error('ambiguous-id', f'{what} {text} is read by YAML as the octal '
                      f'number {raw}', f'write {raw}, or {int(text.replace("_", ""), 10)} '
                      'if you meant the decimal number', line)
            return None
        out.warning('ambiguous-id', f'{what} {text} is read by YAML as {raw}',
                    f'write it as the decimal {raw}', line)
    return raw


def read_text(raw: Any, text: Optional[str], what: str, line: Optional[int],
              out: ProblemCollector) -> str:
    """Free text (a description) from a YAML scalar.

    Numbers, dates and booleans keep the text they were written as; mappings
    and lists are reported.

    Returns:
        The text; ``''`` for a missing or unusable value.
    """
    if raw is None:
        return ''
    if isinstance(raw, str):
        return raw
    if text is not None:
        return text
    if isinstance(raw, (bool, int, float, datetime.date)):
        return str(raw)
    out.error('bad-value', f'{what} must be text, not {short_repr(raw)}',
              'write it on one line, or as a block with `>-`', line)
    return ''


def did_you_mean(name: object, choices: Any) -> str:
    """A 'did you mean' hint for a misspelt name, or an empty string."""
    if isinstance(name, (int, float)):
        name = str(name)
    if not isinstance(name, str) or len(name) > 200:
        return ''
    close = difflib.get_close_matches(name, [str(c) for c in choices], n=3)
    return f"did you mean {' or '.join(repr(c) for c in close)}?" if close else ''


def check_keys(data: Mapping, allowed: tuple[str, ...], where: str,
               out: ProblemCollector) -> None:
    """Reports keys of ``data`` not in ``allowed`` and repeated keys.

    Args:
        data: A mapping of the file (positions are used when it has them).
        allowed: The keys it may have.
        where: What the mapping is, for messages (``'the taxonomy'``).
        out: Receives the problems.
    """
    for key in data:
        if key not in allowed:
            hint = did_you_mean(key, allowed) or f"allowed keys: {', '.join(allowed)}"
            out.error('unknown-key', f'unknown key {short_repr(key)} in {where}', hint,
                      line_of(data, key))
    for key, line in getattr(data, 'duplicates', ()):
        out.error('duplicate-key', f'key {short_repr(key)} appears twice in {where}',
                  'remove one of them', line)
