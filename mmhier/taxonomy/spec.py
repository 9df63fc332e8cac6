"""The taxonomy file format, read into plain records.

A taxonomy file is a YAML mapping (see README, "Taxonomy files")::

    name: my_taxonomy
    tree:
      root:
        sky:
        driveable: {road: , lane marking: }
        rider: [bicyclist, motorcyclist]
    datasets:
      my_dataset:
        annotation: pixel            # or box
        encoding: uint8              # uint8 | uint16 | int32
        num_ids: 4                   # optional, default max id + 1
        ignore_ids: [255]            # optional, ints or "a-b" ranges
        classes:
          0: {name: unlabeled, ignore: true}
          1: sky                     # shorthand: name == node
          2: {name: road, node: driveable}
          3: {name: rider, node: rider}
        supervision: {force: [], skip: []}

:func:`parse_spec` turns the parsed document into a :class:`TaxonomySpec`
without giving up at the first problem: everything malformed is reported as a
:class:`~mmhier.taxonomy.errors.Problem` and left out of the spec, so that
validation can go on and report all problems at once.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

from mmhier.taxonomy.errors import ERROR, WARNING, Problem
from mmhier.taxonomy.yaml_io import MarkedDict, MarkedList

ANNOTATION_TYPES = ('pixel', 'box')
#: Label encodings and the largest label id each can store.
ENCODINGS = {'uint8': 2**8 - 1, 'uint16': 2**16 - 1, 'int32': 2**31 - 1}
TOP_LEVEL_KEYS = ('name', 'description', 'tree', 'datasets')
DATASET_KEYS = ('description', 'annotation', 'encoding', 'num_ids', 'ignore_ids',
                'classes', 'supervision')
CLASS_KEYS = ('name', 'node', 'ignore', 'attributes')
_CLASS_KEY_SET = frozenset(CLASS_KEYS)
SUPERVISION_KEYS = ('force', 'skip')
_RANGE = re.compile(r'^\s*(\d+)\s*-\s*(\d+)\s*$')


@dataclass(frozen=True)
class DatasetClass:
    """One label id of a dataset.

    Args:
        id: The label id as stored in the dataset's label images/files.
        name: The dataset's own name of the class.
        node: The taxonomy node it maps to; ``None`` when ignored.
        attributes: Free-form data kept with the class (e.g. a sign's shape).
        line: Line of the entry in the taxonomy file.
    """

    id: int
    name: str
    node: Optional[str]
    attributes: Mapping[str, Any] = field(default_factory=dict)
    line: Optional[int] = None

    @property
    def ignored(self) -> bool:
        return self.node is None


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset's label space and how it maps into the taxonomy.

    Args:
        key: The dataset's key in the file (e.g. ``'cityscapes'``).
        annotation: ``'pixel'`` (per-pixel masks) or ``'box'`` (boxes).
        encoding: Label encoding, one of :data:`ENCODINGS`.
        num_ids: Size of the label space: ids are ``0 .. num_ids - 1``.
        classes: The listed classes, in id order.
        ignore_ids: Ids without a class entry that are ignored.
        force: Classifiers to train from this dataset despite the
            single-child rule.
        skip: Classifiers never to train from this dataset.
        description: Free text.
        line: Line of the dataset's key.
        key_lines: Lines of the dataset's own keys (for messages).
    """

    key: str
    annotation: str
    encoding: str
    num_ids: int
    classes: tuple[DatasetClass, ...]
    ignore_ids: frozenset[int] = frozenset()
    force: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    description: str = ''
    line: Optional[int] = None
    key_lines: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Edge:
    """A parent -> child link of the tree, with the child's line."""

    parent: str
    child: str
    line: Optional[int] = None


@dataclass(frozen=True)
class TaxonomySpec:
    """Everything a taxonomy file says, in file order.

    Args:
        name: The taxonomy's name.
        description: Free text.
        roots: The top-level nodes of ``tree`` (exactly one when valid).
        edges: Parent -> child links in preorder of the file.
        node_lines: Line of the first occurrence of each node.
        datasets: Dataset specs in file order.
        source: File the spec was read from.
    """

    name: str
    description: str
    roots: tuple[str, ...]
    edges: tuple[Edge, ...]
    node_lines: Mapping[str, int]
    datasets: tuple[DatasetSpec, ...]
    source: str = '<dict>'


class _Collector:
    """Collects problems for one source file."""

    def __init__(self, source: str):
        self.source = source
        self.problems: list[Problem] = []

    def error(self, code: str, message: str, hint: str = '',
              line: Optional[int] = None) -> None:
        self.problems.append(Problem(ERROR, code, message, hint, self.source, line))

    def warning(self, code: str, message: str, hint: str = '',
                line: Optional[int] = None) -> None:
        self.problems.append(Problem(WARNING, code, message, hint, self.source, line))


def did_you_mean(name: object, choices: Any) -> str:
    """A 'did you mean' hint for a misspelt name, or an empty string."""
    close = difflib.get_close_matches(str(name), [str(c) for c in choices], n=3)
    return f"did you mean {' or '.join(repr(c) for c in close)}?" if close else ''


def _line_of(container: Any, key: Any) -> Optional[int]:
    if isinstance(container, MarkedDict):
        return container.key_lines.get(key, container.line)
    return None


def _item_line(container: Any, index: int) -> Optional[int]:
    if isinstance(container, MarkedList) and index < len(container.item_lines):
        return container.item_lines[index]
    return getattr(container, 'line', None)


def _check_keys(data: Mapping, allowed: tuple[str, ...], where: str,
                out: _Collector) -> None:
    for key in data:
        if key not in allowed:
            hint = did_you_mean(key, allowed) or f"allowed keys: {', '.join(allowed)}"
            out.error('unknown-key', f'unknown key {key!r} in {where}', hint,
                      _line_of(data, key))
    for key, line in getattr(data, 'duplicates', ()):
        out.error('duplicate-key', f'key {key!r} appears twice in {where}',
                  'remove one of them', line)


def _node_name(raw: Any, line: Optional[int], out: _Collector) -> Optional[str]:
    """Returns the node name, or None (with a problem) when unusable."""
    if isinstance(raw, bool) or raw is None or not isinstance(raw, (str, int, float)):
        shown = {True: 'true', False: 'false', None: 'null'}.get(raw, repr(raw)) \
            if isinstance(raw, (bool, type(None))) else repr(raw)
        out.error('bad-name', f'node name {shown} is not a string',
                  "YAML reads yes/no/on/off/null/~ as booleans or null: quote the "
                  "name, e.g. 'no'", line)
        return None
    name = str(raw)
    if not name.strip():
        out.error('empty-name', 'empty node name', 'give every node a non-empty name',
                  line)
        return None
    return name


def _parse_tree(tree: Any, out: _Collector) -> tuple[tuple[str, ...], list[Edge],
                                                       dict[str, int]]:
    """Flattens the nested ``tree`` mapping into roots, edges and node lines."""
    roots: list[str] = []
    edges: list[Edge] = []
    node_lines: dict[str, int] = {}
    if not isinstance(tree, dict) or not tree:
        out.error('bad-tree', '`tree` must be a mapping with one root node',
                  'write `tree:` followed by `  root:` and the root\'s children',
                  getattr(tree, 'line', None))
        return (), [], {}

    # Iterative preorder walk: (parent or None, raw name, raw children, line).
    stack: list[tuple[Optional[str], Any, Any, Optional[int]]] = []

    def push_children(parent: Optional[str], children: Any, where: str) -> None:
        items: list[tuple[Any, Any, Optional[int]]] = []
        if isinstance(children, dict):
            for key, line in getattr(children, 'duplicates', ()):
                out.error('duplicate-name', f'node {key!r} is listed twice under {where}',
                          'remove or rename one of them', line)
            items = [(k, v, _line_of(children, k)) for k, v in children.items()]
        elif isinstance(children, list):
            for i, item in enumerate(children):
                if isinstance(item, dict) and len(item) == 1:
                    (k, v), = item.items()
                    items.append((k, v, _line_of(item, k)))
                else:
                    items.append((item, None, _item_line(children, i)))
        stack.extend(reversed([(parent, k, v, line) for k, v, line in items]))

    push_children(None, tree, 'tree')
    while stack:
        parent, raw, children, line = stack.pop()
        name = _node_name(raw, line, out)
        if name is None:
            continue
        node_lines.setdefault(name, line)
        if parent is None:
            roots.append(name)
        else:
            edges.append(Edge(parent, name, line))
        if children is None or isinstance(children, (dict, list)):
            push_children(name, children, repr(name))
        else:
            out.error('bad-children',
                      f'children of node {name!r} must be a mapping, a list of '
                      f'names or empty, not {children!r}',
                      f"write '{name}:' alone for a leaf, or a list of children",
                      line)
    return tuple(roots), edges, node_lines


def _parse_id_list(raw: Any, where: str, line: Optional[int],
                   out: _Collector) -> list[tuple[int, Optional[int]]]:
    """Reads ``ignore_ids``: ints and inclusive ``"a-b"`` ranges."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raw = MarkedList([raw])
    ids: list[tuple[int, Optional[int]]] = []
    for i, item in enumerate(raw):
        item_line = _item_line(raw, i) or line
        if isinstance(item, int) and not isinstance(item, bool):
            ids.append((item, item_line))
            continue
        match = _RANGE.match(str(item)) if isinstance(item, str) else None
        if match and int(match.group(1)) <= int(match.group(2)):
            ids.extend((j, item_line) for j in range(int(match.group(1)),
                                                     int(match.group(2)) + 1))
        else:
            out.error('bad-id', f'{where}: {item!r} is neither a label id nor a '
                      'range', 'write an integer or an inclusive range like "19-254"',
                      item_line)
    return ids


def _parse_class(label_id: Any, raw: Any, dataset: str, line: Optional[int],
                 out: _Collector) -> Optional[DatasetClass]:
    if type(label_id) is not int:  # bool is an int subclass: rejected too
        out.error('bad-id', f'dataset {dataset!r}: label id {label_id!r} is not an '
                  'integer', 'label ids are the integers stored in the label files',
                  line)
        return None
    if type(raw) is str and raw.strip():  # fast path: `8: sidewalk`
        return DatasetClass(label_id, raw, raw, {}, line)
    where = f'dataset {dataset!r}, id {label_id!r}'
    if isinstance(raw, str):
        raw = {'name': raw}
    if not isinstance(raw, dict):
        out.error('bad-class', f'{where}: expected a class name or a mapping with '
                  f'name/node/ignore, got {raw!r}',
                  "write e.g. `7: {name: road, node: driveable}` or `8: sidewalk`", line)
        return None
    if not raw.keys() <= _CLASS_KEY_SET or getattr(raw, 'duplicates', None):
        _check_keys(raw, CLASS_KEYS, where, out)
    name = raw.get('name')
    if not isinstance(name, (str, int, float)) or isinstance(name, bool) \
            or not str(name).strip():
        out.error('empty-name', f'{where}: class has no name', 'add `name: ...`', line)
        return None
    name = str(name)
    ignore = raw.get('ignore', False)
    if not isinstance(ignore, bool):
        out.error('bad-value', f'{where}: ignore must be true or false, not {ignore!r}',
                  '', line)
        ignore = False
    node = raw.get('node', None if ignore else name)
    if ignore and 'node' in raw:
        out.error('bad-class', f'{where}: class {name!r} is ignored but also maps to '
                  f'node {node!r}', 'remove `node` or `ignore: true`', line)
    if ignore:
        node = None
    elif node is None or isinstance(node, bool) or not str(node).strip():
        out.error('empty-name', f'{where}: class {name!r} maps to an empty node name',
                  'name the node, or write `ignore: true`', line)
        return None
    attributes = raw.get('attributes', {})
    if not isinstance(attributes, dict):
        out.error('bad-value', f'{where}: attributes must be a mapping', '', line)
        attributes = {}
    return DatasetClass(label_id, name, None if node is None else str(node),
                        dict(attributes), line)


def _parse_names(raw: Any, where: str, line: Optional[int],
                 out: _Collector) -> tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        return (raw,)
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        out.error('bad-value', f'{where} must be a list of classifier node names',
                  '', line)
        return ()
    return tuple(raw)


def _parse_dataset(key: Any, raw: Any, line: Optional[int],
                   out: _Collector) -> Optional[DatasetSpec]:
    if not isinstance(key, str) or not key.strip():
        out.error('empty-name', f'dataset key {key!r} must be a non-empty string', '',
                  line)
        return None
    where = f'dataset {key!r}'
    if not isinstance(raw, dict):
        out.error('bad-dataset', f'{where} must be a mapping with annotation and '
                  'classes', '', line)
        return None
    _check_keys(raw, DATASET_KEYS, where, out)
    annotation = raw.get('annotation')
    if annotation not in ANNOTATION_TYPES:
        out.error('bad-annotation', f'{where}: annotation must be one of '
                  f"{', '.join(ANNOTATION_TYPES)}, not {annotation!r}",
                  'pixel = per-pixel masks, box = bounding boxes',
                  _line_of(raw, 'annotation') if 'annotation' in raw else line)
        annotation = 'pixel'
    encoding = raw.get('encoding', 'uint8')
    if encoding not in ENCODINGS:
        out.error('bad-encoding', f'{where}: encoding {encoding!r} is unknown',
                  f"use one of {', '.join(ENCODINGS)}", _line_of(raw, 'encoding'))
        encoding = 'int32'

    classes_raw = raw.get('classes')
    classes: list[DatasetClass] = []
    if not isinstance(classes_raw, dict) or not classes_raw:
        out.error('no-classes', f'{where} has no classes',
                  'add `classes:` mapping label ids to taxonomy nodes', line)
    else:
        for label_id, line_dup in getattr(classes_raw, 'duplicates', ()):
            out.error('duplicate-id', f'{where}: label id {label_id!r} is listed twice',
                      f'keep one entry for id {label_id!r}', line_dup)
        for label_id, value in classes_raw.items():
            parsed = _parse_class(label_id, value, key, _line_of(classes_raw, label_id),
                                  out)
            if parsed is not None:
                classes.append(parsed)
    classes.sort(key=lambda c: c.id)

    ignore_ids = _parse_id_list(raw.get('ignore_ids'), f'{where}: ignore_ids',
                                _line_of(raw, 'ignore_ids'), out)
    listed = {c.id: c for c in classes}
    for label_id, id_line in ignore_ids:
        if label_id in listed:
            out.error('duplicate-id', f'{where}: label id {label_id} is in ignore_ids '
                      f'and also listed as class {listed[label_id].name!r}',
                      'keep it in one place', id_line)

    all_ids = [c.id for c in classes] + [i for i, _ in ignore_ids]
    num_ids = raw.get('num_ids', (max(all_ids) + 1) if all_ids else 0)
    if isinstance(num_ids, bool) or not isinstance(num_ids, int) or num_ids < 1:
        out.error('bad-value', f'{where}: num_ids must be a positive integer, not '
                  f'{num_ids!r}', '', _line_of(raw, 'num_ids'))
        num_ids = (max(all_ids) + 1) if all_ids else 1

    supervision = raw.get('supervision') or {}
    force: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    if not isinstance(supervision, dict):
        out.error('bad-value', f'{where}: supervision must be a mapping with force '
                  'and/or skip', '', _line_of(raw, 'supervision'))
    else:
        _check_keys(supervision, SUPERVISION_KEYS, f'{where}: supervision', out)
        force = _parse_names(supervision.get('force'), f'{where}: supervision.force',
                             _line_of(supervision, 'force'), out)
        skip = _parse_names(supervision.get('skip'), f'{where}: supervision.skip',
                            _line_of(supervision, 'skip'), out)
    description = raw.get('description') or ''
    return DatasetSpec(key, annotation, encoding, num_ids, tuple(classes),
                       frozenset(i for i, _ in ignore_ids), force, skip,
                       str(description), line,
                       dict(getattr(raw, 'key_lines', {})))


def parse_spec(data: Any, source: str = '<dict>') -> tuple[Optional[TaxonomySpec],
                                                           list[Problem]]:
    """Read a parsed taxonomy document into a :class:`TaxonomySpec`.

    Args:
        data: The YAML document (plain or marked dicts/lists).
        source: File name for messages.

    Returns:
        ``(spec, problems)``: the spec is ``None`` only when the document is
        not a mapping at all. Malformed parts are reported and left out.
    """
    out = _Collector(source)
    if not isinstance(data, dict):
        out.error('not-a-mapping', 'a taxonomy file must be a YAML mapping with '
                  'name, tree and datasets', 'see README, "Taxonomy files"',
                  getattr(data, 'line', None))
        return None, out.problems
    _check_keys(data, TOP_LEVEL_KEYS, 'the taxonomy', out)
    for key in ('name', 'tree', 'datasets'):
        if key not in data:
            out.error('missing-key', f'the taxonomy has no `{key}`',
                      f'add a top-level `{key}:`', 1)
    name = data.get('name')
    if name is not None and (not isinstance(name, str) or not name.strip()):
        out.error('empty-name', f'taxonomy name must be a non-empty string, not '
                  f'{name!r}', '', _line_of(data, 'name'))
    roots, edges, node_lines = _parse_tree(data.get('tree'), out) \
        if 'tree' in data else ((), [], {})

    datasets: list[DatasetSpec] = []
    raw_datasets = data.get('datasets')
    if 'datasets' in data:
        if not isinstance(raw_datasets, dict) or not raw_datasets:
            out.error('no-datasets', '`datasets` must map dataset keys to their '
                      'label spaces', 'add at least one dataset',
                      _line_of(data, 'datasets'))
        else:
            for key, line in getattr(raw_datasets, 'duplicates', ()):
                out.error('duplicate-key', f'dataset {key!r} is defined twice',
                          'rename or merge them', line)
            for key, value in raw_datasets.items():
                parsed = _parse_dataset(key, value, _line_of(raw_datasets, key), out)
                if parsed is not None:
                    datasets.append(parsed)
    spec = TaxonomySpec(str(name or ''), str(data.get('description') or ''),
                        roots, tuple(edges), node_lines, tuple(datasets), source)
    return spec, out.problems
