"""Reading YAML while remembering where every key and item came from.

PyYAML's plain loaders return dicts and lists without positions and silently
let a repeated key overwrite the first one. Taxonomy validation needs both the
line of every node, dataset and label id, and every duplicate, so mappings are
loaded as :class:`MarkedDict` and sequences as :class:`MarkedList`.
"""
from __future__ import annotations

import gc
import os
from contextlib import contextmanager
from typing import Any, Iterator, Union

import yaml

from mmhier.taxonomy.errors import TaxonomyFileError, TaxonomySyntaxError

_BaseLoader = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)


class MarkedDict(dict):
    """A dict that knows the 1-based line of itself and of each key.

    Attributes:
        line: Line where the mapping starts.
        key_lines: Line of every key.
        duplicates: ``(key, line)`` of keys repeated in the mapping; the first
            occurrence is the one kept.
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.line: int | None = None
        self.key_lines: dict = {}
        self.duplicates: list = []


class MarkedList(list):
    """A list that knows the 1-based line of itself and of each item."""

    def __init__(self, *args: Any):
        super().__init__(*args)
        self.line: int | None = None
        self.item_lines: list = []


class MarkedLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe YAML loader producing :class:`MarkedDict` / :class:`MarkedList`."""


def _construct_mapping(loader: MarkedLoader, node: yaml.MappingNode):
    data = MarkedDict()
    data.line = node.start_mark.line + 1
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, (list, dict)):  # unhashable keys: keep them visible
            key = repr(key)
        value = loader.construct_object(value_node, deep=True)
        line = key_node.start_mark.line + 1
        if key in data:
            data.duplicates.append((key, line))
            continue
        data[key] = value
        data.key_lines[key] = line


def _construct_sequence(loader: MarkedLoader, node: yaml.SequenceNode):
    data = MarkedList()
    data.line = node.start_mark.line + 1
    yield data
    for item_node in node.value:
        data.append(loader.construct_object(item_node, deep=True))
        data.item_lines.append(item_node.start_mark.line + 1)


MarkedLoader.add_constructor('tag:yaml.org,2002:map', _construct_mapping)
MarkedLoader.add_constructor('tag:yaml.org,2002:seq', _construct_sequence)


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


def parse_yaml(text: str, source: str = '<string>') -> Any:
    """Parse YAML text with positions.

    Args:
        text: The YAML document.
        source: Name used in error messages.

    Returns:
        The document, mappings as :class:`MarkedDict`, lists as
        :class:`MarkedList`.

    Raises:
        TaxonomySyntaxError: The text is not valid YAML.
    """
    try:
        with gc_paused():
            return yaml.load(text, Loader=MarkedLoader)  # noqa: S506 (safe loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        column = mark.column + 1 if mark is not None else 0
        reason = exc.problem or exc.context or str(exc)
        raise TaxonomySyntaxError(source, line, column, reason) from None
    except yaml.YAMLError as exc:
        raise TaxonomySyntaxError(source, 0, 0, str(exc)) from None


def read_yaml(path: Union[str, os.PathLike]) -> Any:
    """Read and parse a YAML file with positions.

    Args:
        path: The file.

    Returns:
        The parsed document (see :func:`parse_yaml`).

    Raises:
        TaxonomyFileError: The file is missing or unreadable.
        TaxonomySyntaxError: The file is not valid YAML.
    """
    source = os.fspath(path)
    return parse_yaml(read_text(source, 'taxonomy file'), source)


def read_text(path: Union[str, os.PathLike], what: str) -> str:
    """Read a UTF-8 text file (a leading byte-order mark is dropped).

    Args:
        path: The file.
        what: What the file is, for messages (``'taxonomy file'``).

    Raises:
        TaxonomyFileError: The file is missing or unreadable.
    """
    source = os.fspath(path)
    try:
        with open(source, encoding='utf-8-sig') as f:
            return f.read()
    except FileNotFoundError:
        raise TaxonomyFileError(
            f'{source}: no such {what}; check the path (relative '
            f'paths are taken from {os.getcwd()})') from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TaxonomyFileError(f'{source}: cannot read {what}: {exc}') from None
