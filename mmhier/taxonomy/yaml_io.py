"""Reading YAML while remembering where every key and item came from.

PyYAML's plain loaders return dicts and lists without positions and silently
let a repeated key overwrite the first one. Taxonomy validation needs both the
line of every node, dataset and label id, and every duplicate, so mappings are
loaded as :class:`MarkedDict` and sequences as :class:`MarkedList`.

The document is built from the parser's event stream in one loop, without
recursion, so that deeply nested trees load. Taxonomy files are plain data,
so the loader refuses what only makes files hard to read or cheap to abuse:

- anchors and aliases (``&a`` / ``*a``; a few lines of aliases can expand to
  billions of nodes), merge keys (``<<``) and several documents,
- tags other than the standard scalar, sequence and mapping ones,
- files over :data:`MAX_FILE_BYTES`, and flow collections (``[...]``,
  ``{...}``) nested so deep that the parser would slow down quadratically
  (:data:`MAX_FLOW_WORK`); block-style nesting has no limit.

Plain scalars that YAML reads as something other than a string (``007`` ->
``7``, ``no`` -> ``False``) keep their source text (``key_texts``,
``value_texts``, ``item_texts``) so that validation can name the quoted form.
"""
from __future__ import annotations

import codecs
import gc
import os
import re
from contextlib import contextmanager
from typing import Any, Iterator, Optional, Union

import yaml

from mmhier.taxonomy.errors import (TaxonomyEncodingError, TaxonomyFileError,
                                    TaxonomyLimitError, TaxonomySyntaxError,
                                    TaxonomyUnsupportedYAMLError)
from mmhier.taxonomy.reprs import short_repr

_BaseLoader = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)

#: Largest taxonomy (or Mapillary config) file read, in bytes (about 600k nodes).
MAX_FILE_BYTES = 32 * 2**20
#: Budget of the sum, over all parser events, of the flow nesting depth at the
#: event. libyaml spends time proportional to that depth on every token, so
#: deep flow nesting with many items is quadratic; a 5000-level tree written
#: in flow style uses about 1e8, a block-style file about 2 per event.
MAX_FLOW_WORK = 300_000_000

_TAG = 'tag:yaml.org,2002:'
_STR, _SEQ, _MAP = _TAG + 'str', _TAG + 'seq', _TAG + 'map'
#: Scalar tags with a safe constructor; others (binary, merge, value, ...) are refused.
_SCALAR_TAGS = frozenset(_TAG + t for t in ('str', 'int', 'float', 'bool', 'null',
                                            'timestamp'))
_BREAK = re.compile('\r\n|[\r\n\x85\u2028\u2029]')
#: Largest integer read (Python refuses to print integers of over 4300 digits).
_MAX_INT_BITS = 4096
_TAG_NOUNS = {_TAG + 'int': 'an integer', _TAG + 'float': 'a number',
              _TAG + 'bool': 'a boolean', _TAG + 'null': 'null',
              _TAG + 'timestamp': 'a date'}
#: Characters YAML does not allow in a stream (the complement of its printable set).
_NON_PRINTABLE = re.compile('[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD'
                            '\U00010000-\U0010FFFF]')


class MarkedDict(dict):
    """A dict that knows the 1-based line of itself and of each key.

    Attributes:
        line: Line where the mapping starts.
        key_lines: Line of every key.
        duplicates: ``(key, line)`` of keys repeated in the mapping; the first
            occurrence is the one kept.
        duplicate_texts: Source text of repeated plain keys YAML read as
            non-strings, by index in ``duplicates``.
        key_texts: Source text of plain keys YAML read as non-strings
            (``{7: '007'}``).
        value_texts: Source text of plain scalar values YAML read as
            non-strings, by key.
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.line: int | None = None
        self.key_lines: dict = {}
        self.duplicates: list = []
        self.duplicate_texts: dict = {}
        self.key_texts: dict = {}
        self.value_texts: dict = {}


class MarkedList(list):
    """A list that knows the 1-based line of itself and of each item.

    Attributes:
        line: Line where the sequence starts.
        item_lines: Line of every item.
        item_texts: Source text of plain scalar items YAML read as
            non-strings, by index.
    """

    def __init__(self, *args: Any):
        super().__init__(*args)
        self.line: int | None = None
        self.item_lines: list = []
        self.item_texts: dict = {}


def source_text(container: Any, key: Any, part: str = 'value') -> Optional[str]:
    """Source text of a plain scalar that YAML read as a non-string.

    Args:
        container: A :class:`MarkedDict` or :class:`MarkedList` (anything
            else has no texts).
        key: The mapping key or list index.
        part: ``'key'`` or ``'value'`` (mappings only).

    Returns:
        The text as written (``'007'``), or ``None`` when unknown.
    """
    if isinstance(container, MarkedDict):
        return (container.key_texts if part == 'key' else container.value_texts).get(key)
    if isinstance(container, MarkedList):
        return container.item_texts.get(key)
    return None


def line_of(container: Any, key: Any) -> Optional[int]:
    """Line of a mapping's key (the mapping's own line when unknown)."""
    if isinstance(container, MarkedDict):
        return container.key_lines.get(key, container.line)
    return None


def item_line(container: Any, index: int) -> Optional[int]:
    """Line of a list's item (the list's own line when unknown)."""
    if isinstance(container, MarkedList) and index < len(container.item_lines):
        return container.item_lines[index]
    return getattr(container, 'line', None)


class CollectionKey(str):
    """A mapping key that was a list or mapping (``? [a, b]``), kept as its
    short ``repr`` so that it can be reported; it is never a valid name."""


class MarkedLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe YAML loader; :func:`parse_yaml` builds documents from its events."""


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small objects.

    Parsing and validating allocate tens of thousands of containers that all
    stay alive; generation-2 collections would rescan them again and again,
    making large taxonomies load in superlinear time.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


#: Marks a mapping that waits for its next key.
_NO_KEY = object()


class _Builder:
    """Builds one document from parser events, iteratively."""

    def __init__(self, loader: Any, source: str):
        self.loader, self.source = loader, source
        # Open collections: [container, flow?, pending key, key line, key text].
        self.stack: list[list] = []
        self.flow_depth = 0
        self.work = 0
        self.documents = 0
        self.root: Any = None

    def _unsupported(self, event: Any, reason: str, hint: Optional[str] = None) -> None:
        mark = event.start_mark
        raise TaxonomyUnsupportedYAMLError(self.source, mark.line + 1, mark.column + 1,
                                           reason, hint)

    def _scalar(self, event: Any) -> tuple[Any, Optional[str]]:
        """The value of a scalar event and, for plain non-strings, its text."""
        tag = event.tag
        if tag is None or tag == '!':
            tag = self.loader.resolve(yaml.ScalarNode, event.value, event.implicit)
        if tag == _STR:
            return event.value, None
        if tag not in _SCALAR_TAGS:
            if tag == _TAG + 'merge':
                self._unsupported(event, 'merge keys (<<) are not allowed',
                                  'write the keys out in full')
            self._unsupported(event, f'the tag {short_repr(tag)} is not allowed',
                              'remove the tag; quote the value to make it a string')
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark,
                               event.style)
        try:
            value = self.loader.yaml_constructors[tag](self.loader, node)
        except (ValueError, TypeError, OverflowError, yaml.YAMLError) as exc:
            mark = event.start_mark
            raise TaxonomySyntaxError(
                self.source, mark.line + 1, mark.column + 1,
                f'YAML reads {short_repr(event.value)} as '
                f'{_TAG_NOUNS.get(tag, tag[len(_TAG):])}, but it is not a valid one '
                f'({short_repr(str(exc))})',
                'quote it to keep it as text, or fix the value') from None
        if type(value) is int and value.bit_length() > _MAX_INT_BITS:
            mark = event.start_mark
            raise TaxonomyLimitError(self.source, mark.line + 1, mark.column + 1,
                                     f'the integer {short_repr(event.value)} has more '
                                     f'than {_MAX_INT_BITS} bits',
                                     'label ids fit in 31 bits; quote the value if it '
                                     'is a name')
        return value, (event.value if event.implicit[0] else None)

    def _add(self, value: Any, line: int, text: Optional[str]) -> None:
        """Puts a finished value into the innermost open collection."""
        if not self.stack:
            self.root = value
            return
        top = self.stack[-1]
        container = top[0]
        if isinstance(container, MarkedList):
            if text is not None:
                container.item_texts[len(container)] = text
            container.append(value)
            container.item_lines.append(line)
        elif top[2] is _NO_KEY:
            if isinstance(value, (MarkedDict, MarkedList)):  # `? [a, b]`
                value = CollectionKey(short_repr(value))
            top[2], top[3], top[4] = value, line, text
        else:
            key, key_line, key_text = top[2], top[3], top[4]
            top[2] = _NO_KEY
            if key in container:
                if key_text is not None:
                    container.duplicate_texts[len(container.duplicates)] = key_text
                container.duplicates.append((key, key_line))
                return
            container[key] = value
            container.key_lines[key] = key_line
            if key_text is not None:
                container.key_texts[key] = key_text
            if text is not None:
                container.value_texts[key] = text

    def _open(self, event: Any, container: Any, default_tag: str) -> None:
        if event.tag not in (None, '!', default_tag):
            self._unsupported(event, f'the tag {short_repr(event.tag)} is not allowed',
                              'remove the tag')
        container.line = event.start_mark.line + 1
        flow = bool(event.flow_style)
        self.flow_depth += flow
        self.stack.append([container, flow, _NO_KEY, None, None])

    def _close(self) -> None:
        container, flow = self.stack.pop()[:2]
        self.flow_depth -= flow
        self._add(container, container.line, None)

    def feed(self, event: Any) -> None:
        """Handles one parser event."""
        kind = type(event)
        if self.flow_depth:
            self.work += self.flow_depth
            if self.work > MAX_FLOW_WORK:
                mark = event.start_mark
                raise TaxonomyLimitError(
                    self.source, mark.line + 1, mark.column + 1,
                    f'flow collections ([...] / {{...}}) are nested {self.flow_depth} '
                    'deep here, with so many items that parsing would take minutes',
                    'write deeply nested parts in block style (one node per line, '
                    'children indented below their parent)')
        if kind is yaml.ScalarEvent:
            if event.anchor is not None:
                self._unsupported(event, f'anchors (&{event.anchor}) are not allowed')
            value, text = self._scalar(event)
            self._add(value, event.start_mark.line + 1, text)
        elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            if event.anchor is not None:
                self._unsupported(event, f'anchors (&{event.anchor}) are not allowed')
            if kind is yaml.MappingStartEvent:
                self._open(event, MarkedDict(), _MAP)
            else:
                self._open(event, MarkedList(), _SEQ)
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            self._close()
        elif kind is yaml.AliasEvent:
            self._unsupported(event, f'aliases (*{event.anchor}) are not allowed')
        elif kind is yaml.DocumentStartEvent:
            self.documents += 1
            if self.documents > 1:
                self._unsupported(event, 'a taxonomy file holds one YAML document, '
                                  'this is a second one', 'remove the "---" line and '
                                  'everything after it, or split the file')


def text_position(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset in ``text``, counting
    line breaks as YAML does (``\\r\\n``, ``\\r``, ``\\n``, NEL, LS, PS)."""
    line, line_start = 1, 0
    for match in _BREAK.finditer(text, 0, offset):
        line, line_start = line + 1, match.end()
    return line, offset - line_start + 1


def _reader_error(text: str, source: str,
                  exc: yaml.reader.ReaderError) -> TaxonomyEncodingError:
    match = _NON_PRINTABLE.search(text)
    offset = match.start() if match else min(max(exc.position, 0), len(text))
    char = text[offset] if offset < len(text) else ''
    line, column = text_position(text, offset)
    code = f'U+{ord(char):04X}' if char else short_repr(exc.character)
    return TaxonomyEncodingError(source, line, column,
                                 f'control or non-printable character {code} '
                                 'is not allowed in YAML')


def parse_yaml(text: str, source: str = '<string>') -> Any:
    """Parse YAML text with positions.

    Args:
        text: The YAML document.
        source: Name used in error messages.

    Returns:
        The document, mappings as :class:`MarkedDict`, lists as
        :class:`MarkedList`; ``None`` for an empty document.

    Raises:
        TaxonomySyntaxError: The text is not valid YAML.
        TaxonomyEncodingError: The text holds a character YAML forbids (with
            its line and column).
        TaxonomyUnsupportedYAMLError: Anchors, aliases, merge keys, several
            documents or non-standard tags.
        TaxonomyLimitError: Flow collections nested too deep.
    """
    builder = _Builder(None, source)
    try:
        with gc_paused():
            loader = MarkedLoader(text)
            builder.loader = loader
            try:
                while True:
                    event = loader.get_event()
                    if type(event) is yaml.StreamEndEvent:
                        break
                    builder.feed(event)
            finally:
                loader.dispose()
    except yaml.reader.ReaderError as exc:
        raise _reader_error(text, source, exc) from None
    except UnicodeEncodeError as exc:  # a lone surrogate in the str given
        line, column = text_position(text, exc.start)
        raise TaxonomyEncodingError(source, line, column,
                                    f'character U+{ord(text[exc.start]):04X} (a lone '
                                    'surrogate) is not allowed in YAML') from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        column = mark.column + 1 if mark is not None else 0
        reason = exc.problem or exc.context or str(exc)
        hint = None
        if mark is not None and column > 1024:
            hint = ('a key longer than 1024 characters must be written as an explicit '
                    'key: `? long key` on one line and `: value` on the next')
        raise TaxonomySyntaxError(source, line, column, reason, hint) from None
    except yaml.YAMLError as exc:
        raise TaxonomySyntaxError(source, 0, 0, short_repr(str(exc))) from None
    return builder.root


def read_yaml(path: Union[str, os.PathLike]) -> Any:
    """Read and parse a YAML file with positions.

    Args:
        path: The file.

    Returns:
        The parsed document (see :func:`parse_yaml`).

    Raises:
        TaxonomyFileError: The file is missing or unreadable.
        TaxonomySyntaxError: The file is not valid YAML (or any subclass, see
            :func:`parse_yaml` and :func:`read_text`).
    """
    source = os.fspath(path)
    return parse_yaml(read_text(source, 'taxonomy file'), source)


def read_text(path: Union[str, os.PathLike], what: str,
              max_bytes: Optional[int] = None) -> str:
    """Read a UTF-8 text file (a leading byte-order mark is dropped).

    Args:
        path: The file.
        what: What the file is, for messages (``'taxonomy file'``).
        max_bytes: Largest size read; :data:`MAX_FILE_BYTES` when ``None``.

    Returns:
        The text.

    Raises:
        TaxonomyFileError: The path is missing, a directory or unreadable.
        TaxonomyEncodingError: The file is not UTF-8 (with the line and
            column of the first bad byte).
        TaxonomyLimitError: The file is larger than ``max_bytes``.
    """
    source = os.fspath(path)
    max_bytes = MAX_FILE_BYTES if max_bytes is None else max_bytes
    try:
        with open(source, 'rb') as f:
            data = f.read(max_bytes + 1)
    except FileNotFoundError:
        raise TaxonomyFileError(
            f'{source}: no such {what}; check the path (relative '
            f'paths are taken from {os.getcwd()})') from None
    except IsADirectoryError:
        raise TaxonomyFileError(f'{source}: is a directory, not a {what}') from None
    except PermissionError:
        raise TaxonomyFileError(f'{source}: cannot read {what}: permission '
                                'denied') from None
    except (OSError, ValueError) as exc:  # ValueError: NUL byte in the path
        raise TaxonomyFileError(f'{source}: cannot read {what}: {exc}') from None
    if len(data) > max_bytes:
        raise TaxonomyLimitError(source, 0, 0,
                                 f'the {what} is larger than {max_bytes // 2**20} MiB',
                                 'check that this is the right file')
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError as exc:
        before = data[:exc.start].decode('utf-8', 'replace')
        line, column = text_position(before, len(before))
        raise TaxonomyEncodingError(
            source, line, column,
            f'byte 0x{data[exc.start]:02x} is not UTF-8 text (is this a '
            f'{what} at all?)') from None
