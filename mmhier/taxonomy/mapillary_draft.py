"""Draft a taxonomy from a Mapillary Vistas ``config.json``.

Mapillary Vistas names its classes with ``--`` paths (``animal--bird``,
``construction--flat--road``, ``human--rider--bicyclist``) that already encode
a hierarchy. :func:`draft_from_mapillary` turns that hierarchy into a taxonomy
YAML draft in the format of :mod:`mmhier.taxonomy.spec`:

- a root node ``root``; inner nodes are the path prefixes, named by their last
  segment with dashes turned into spaces (``traffic-sign`` -> ``traffic sign``),
  or by a longer ``/``-joined path (``human/rider``) where that name is taken;
- leaves are the labels, named by their ``readable`` name; a label whose path
  is a prefix of another label's path is the inner node of that prefix;
- an inner node with a single child is replaced by that child (a classifier
  needs at least two children);
- labels whose last segment is ``unlabeled`` are ignored and not in the tree;
- one pixel dataset lists every label id (its index in ``labels``).

Example:
    >>> text = draft_from_mapillary('config.json')
    >>> tax = Taxonomy.from_string(text)
    >>> tax.path('Bicyclist')
    ('root', 'human', 'rider', 'Bicyclist')

The draft is a starting point: users merge classes into the superclasses they
need and validate the result with :class:`~mmhier.taxonomy.Taxonomy`.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Optional, Sequence, Union

import yaml

from mmhier.taxonomy.errors import TaxonomyError
from mmhier.taxonomy.reprs import short_repr
from mmhier.taxonomy.scalars import bad_name_character
from mmhier.taxonomy.yaml_io import read_text

__all__ = [
    'DraftLabel', 'DraftNode', 'DraftTree', 'MapillaryConfigError', 'ROOT',
    'draft_from_mapillary', 'draft_tree_from_labels', 'label_problems',
    'read_mapillary_labels', 'render_draft', 'yaml_scalar'
]

#: Name of the draft's root node.
ROOT = 'root'
#: Separator of the segments of a Mapillary label name.
SEPARATOR = '--'
#: Most ``--`` segments in one label name (Vistas uses at most four).
MAX_SEGMENTS = 32
#: Last path segment of labels that become ``ignore: true``.
UNLABELED = 'unlabeled'
_INDENT = '  '
#: Comments are aligned to this column at most (longer lines get two spaces).
_MAX_COMMENT_COLUMN = 56


class MapillaryConfigError(TaxonomyError):
    """A Mapillary Vistas config has no usable ``labels`` list."""


@dataclass
class DraftNode:
    """A node of the drafted tree.

    Attributes:
        name: The node's name in the taxonomy.
        path: Mapillary path segments of the node (``()`` for the root).
        children: Child nodes in the order of first appearance in ``labels``.
        label_ids: Ids of the labels that map to this node; the label whose
            path is :attr:`path` comes first.
        replaced: Paths of single-child inner nodes this node took the place
            of, innermost first.
    """

    name: str
    path: tuple[str, ...]
    children: list['DraftNode'] = field(default_factory=list)
    label_ids: list[int] = field(default_factory=list)
    replaced: list[tuple[str, ...]] = field(default_factory=list)

    @property
    def mapillary_path(self) -> str:
        """The node's path as Mapillary writes it (``''`` for the root)."""
        return SEPARATOR.join(self.path)


@dataclass(frozen=True)
class DraftLabel:
    """One Mapillary label and where the draft puts it.

    Attributes:
        id: The label id (index in ``labels``).
        name: The Mapillary ``--`` path name.
        readable: The readable name, used as the class name.
        node: The node the label maps to; ``None`` when ignored.
        note: Why the label maps where it does, when that is not obvious.
    """

    id: int
    name: str
    readable: str
    node: Optional[str]
    note: str = ''

    @property
    def ignored(self) -> bool:
        return self.node is None


@dataclass(frozen=True)
class DraftTree:
    """The drafted tree and every label's node.

    Attributes:
        root: The root node.
        labels: All labels in id order.
    """

    root: DraftNode
    labels: tuple[DraftLabel, ...]

    def nodes(self) -> list[tuple[DraftNode, int]]:
        """All nodes in preorder with their depth (the root has depth 0)."""
        return _preorder(self.root)


def _preorder(root: DraftNode) -> list[tuple[DraftNode, int]]:
    """Nodes in preorder with their depth (iterative: no recursion limit)."""
    out: list[tuple[DraftNode, int]] = []
    stack = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        out.append((node, depth))
        stack.extend((c, depth + 1) for c in reversed(node.children))
    return out


# ---------------------------------------------------------------- reading
def _describe_config(data: Any) -> str:
    """What a config without a usable ``labels`` list holds, for messages."""
    if not isinstance(data, dict):
        return f'a JSON {type(data).__name__}'
    if 'labels' not in data:
        return 'a JSON object without "labels"'
    return f'"labels" of type {type(data["labels"]).__name__}'


def read_mapillary_labels(config_path: Union[str, os.PathLike]) -> list[Any]:
    """Read the ``labels`` list of a Mapillary Vistas ``config.json``.

    Args:
        config_path: The config file.

    Returns:
        The raw ``labels`` entries, in id order (not yet checked).

    Raises:
        TaxonomyFileError: The file is missing or unreadable.
        TaxonomyEncodingError: The file is not UTF-8 text.
        MapillaryConfigError: The file is not valid JSON (with line and
            column), or has no ``labels`` list.
    """
    source = os.fspath(config_path)
    text = read_text(source, 'Mapillary config file')
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MapillaryConfigError(
            f'{source}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}\n'
            '    hint: the Mapillary Vistas config.json is one JSON object '
            '{"labels": [...]}') from None
    except RecursionError:
        raise MapillaryConfigError(
            f'{source}: invalid JSON: arrays or objects are nested too deeply to '
            'read\n    hint: the Mapillary Vistas config.json is one JSON object '
            '{"labels": [...]}') from None
    except ValueError as exc:  # e.g. an integer with thousands of digits
        raise MapillaryConfigError(f'{source}: invalid JSON: {short_repr(str(exc))}'
                                   ) from None
    labels = data.get('labels') if isinstance(data, dict) else None
    if not isinstance(labels, list):
        raise MapillaryConfigError(
            f'{source}: expected a JSON object with a "labels" list, found '
            f'{_describe_config(data)}\n'
            '    hint: pass the Vistas config.json, e.g. {"labels": [{"name": '
            '"construction--flat--road", "readable": "Road", ...}, ...]}')
    return labels


# ---------------------------------------------------------------- checking
def _is_unlabeled(path: tuple[str, ...]) -> bool:
    return path[-1] == UNLABELED


def _indices(ids: list[int]) -> str:
    """``[3] -> 'label 3'``, ``[1, 4, 9] -> 'labels 1, 4 and 9'``."""
    if len(ids) == 1:
        return f'label {ids[0]}'
    return f"labels {', '.join(map(str, ids[:-1]))} and {ids[-1]}"


def _entry_problems(index: int, entry: Any) -> list[str]:
    """Problems of one label entry (type, name, readable)."""
    if not isinstance(entry, dict):
        return [f'label {index}: expected a JSON object with "name" and "readable", '
                f'got {short_repr(entry)}\n    hint: write {{"name": "nature--sky", '
                '"readable": "Sky", ...}']
    problems = []
    name = entry.get('name')
    if not isinstance(name, str) or not name.strip():
        problems.append(f'label {index} has no "name" (got {short_repr(name)})\n'
                        '    hint: add its Mapillary path, e.g. "name": '
                        '"construction--flat--road"')
    elif name.count(SEPARATOR) >= MAX_SEGMENTS:
        problems.append(f'label {index}: name {short_repr(name)} has more than '
                        f'{MAX_SEGMENTS} "--" segments\n    hint: Mapillary names are '
                        'short paths such as "object--traffic-sign--front"')
    elif any(not s.strip() for s in name.split(SEPARATOR)):
        problems.append(f'label {index}: name {short_repr(name)} has an empty path '
                        'segment\n    hint: separate segments by exactly "--", e.g. '
                        '"object--traffic-sign--front"')
    elif bad_name_character(name):
        problems.append(f'label {index}: name {short_repr(name)} contains '
                        f'{bad_name_character(name)}\n    hint: remove it')
    readable = entry.get('readable')
    if isinstance(readable, str) and bad_name_character(readable):
        problems.append(f'label {index}: readable name {short_repr(readable)} contains '
                        f'{bad_name_character(readable)}\n    hint: remove it; it '
                        'becomes the class and node name')
    elif not isinstance(readable, str) or not readable.strip():
        problems.append(f'label {index} ({short_repr(name)}) has no "readable" name '
                        f'(got {short_repr(readable)})\n    hint: add e.g. "readable": '
                        '"Road"; it becomes the class and node name')
    return problems


def _duplicate_problems(values: dict[int, str], what: str, hint: str) -> list[str]:
    """One problem per value shared by several labels, naming all of them."""
    by_value: dict[str, list[int]] = {}
    for index, value in values.items():
        by_value.setdefault(value, []).append(index)
    return [f"{_indices(ids)} {'both' if len(ids) == 2 else 'all'} have {what} "
            f'{value!r}\n    hint: {hint}'
            for value, ids in by_value.items() if len(ids) > 1]


def _valid_string(entry: Any, key: str) -> Optional[str]:
    """``entry[key]`` when ``entry`` is a mapping and that a non-blank string."""
    value = entry.get(key) if isinstance(entry, dict) else None
    return value if isinstance(value, str) and value.strip() else None


def label_problems(labels: Sequence[Any]) -> list[str]:
    """Everything wrong with a ``labels`` list, all at once.

    Args:
        labels: The raw ``labels`` entries.

    Returns:
        One message (with a hint line) per problem; empty when usable.
    """
    if not labels:
        return ['"labels" is empty\n    hint: list the dataset\'s classes in id order']
    problems: list[str] = []
    names: dict[int, str] = {}
    readables: dict[int, str] = {}
    for index, entry in enumerate(labels):
        problems += _entry_problems(index, entry)
        name, readable = _valid_string(entry, 'name'), _valid_string(entry, 'readable')
        if name is not None:
            names[index] = name
        if readable is not None:
            readables[index] = readable
        if readable == ROOT and name is not None and \
                not _is_unlabeled(tuple(name.split(SEPARATOR))):
            problems.append(f'label {index} ({name!r}) has readable name {ROOT!r}, '
                            "the name of the draft's root node\n"
                            '    hint: rename it, e.g. "Root"')
    problems += _duplicate_problems(
        readables, 'readable name',
        'readable names name the classes and nodes and must be unique: rename '
        'all but one, e.g. by adding the Mapillary path in parentheses')
    problems += _duplicate_problems(
        names, 'name', 'each Mapillary name is one class: remove or rename the repeats')
    in_tree = [n for n in names.values() if not _is_unlabeled(tuple(n.split(SEPARATOR)))]
    if not problems and len(in_tree) < 2:
        problems.append(f'only {len(in_tree)} label(s) are not "{UNLABELED}"; a '
                        'taxonomy needs at least two classes below the root\n'
                        '    hint: check that this is the full Vistas config')
    return problems


# ---------------------------------------------------------------- the tree
def _build_trie(paths: dict[int, tuple[str, ...]]) -> DraftNode:
    """Nodes for every label path and every prefix, children in label order."""
    root = DraftNode(ROOT, ())
    by_path = {(): root}
    for label_id, path in paths.items():
        for depth in range(1, len(path) + 1):
            prefix = path[:depth]
            if prefix not in by_path:
                by_path[prefix] = DraftNode('', prefix)
                by_path[prefix[:-1]].children.append(by_path[prefix])
        by_path[path].label_ids.append(label_id)
    return root


def _postorder(root: DraftNode) -> list[DraftNode]:
    """Nodes with every node after all of its descendants."""
    return [node for node, _ in reversed(_preorder(root))]


def _collapse(root: DraftNode) -> list[int]:
    """Replace every single-child inner node by its child, bottom-up.

    Labels of a replaced node move to the child. Bottom-up order makes one
    pass enough: replacing a child never changes the number of children of
    its parent. A root with a single inner child takes over that child's
    children instead (the root keeps its name).

    Returns:
        Ids of labels that would map to the root (they carry no information).
    """
    for node in _postorder(root):
        for position, child in enumerate(node.children):
            if len(child.children) == 1:
                only = child.children[0]
                only.label_ids += child.label_ids
                only.replaced += [child.path] + child.replaced
                node.children[position] = only
    if len(root.children) == 1 and root.children[0].children:
        only = root.children[0]
        root.children = only.children
        root.replaced = [only.path] + only.replaced
        return list(only.label_ids)
    return []


def _segment_name(segments: tuple[str, ...]) -> str:
    return '/'.join(s.replace('-', ' ') for s in segments)


def _name_inner_nodes(nodes: list[DraftNode], taken: set[str]) -> None:
    """Name unlabelled inner nodes by their shortest unambiguous path suffix.

    A name is ambiguous when it is in ``taken`` (root, readable names) or
    wanted by several inner nodes; then all of them take one more segment.
    Full paths still taken get a counter: ``flat (2)``.
    """
    length = {id(n): 1 for n in nodes}
    while True:
        wanted: dict[str, list[DraftNode]] = {}
        for node in nodes:
            wanted.setdefault(_segment_name(node.path[-length[id(node)]:]), []
                              ).append(node)
        clashing = [n for name, group in wanted.items()
                    if name in taken or len(group) > 1 for n in group]
        growing = [n for n in clashing if length[id(n)] < len(n.path)]
        if not growing:
            break
        for node in growing:
            length[id(node)] += 1
    used = set(taken)
    for node in nodes:
        name = _segment_name(node.path[-length[id(node)]:])
        counter = 2
        candidate = name
        while candidate in used:
            candidate, counter = f'{name} ({counter})', counter + 1
        node.name = candidate
        used.add(candidate)


def _label_note(label_id: int, name: str, node: DraftNode) -> str:
    """Explains a label that maps to a node other than its own path's."""
    if node.label_ids[0] == label_id:
        return ''
    return f'{name} had no other child: {node.name!r} took its place'


def draft_tree_from_labels(labels: Sequence[Any], source: str = '<labels>'
                           ) -> DraftTree:
    """Build the draft tree from Mapillary ``labels`` entries.

    Args:
        labels: The ``labels`` list of a Vistas config; entry ``i`` is label
            id ``i`` with at least ``name`` (``--`` path) and ``readable``.
        source: Where the labels come from, for messages.

    Returns:
        The tree (root named :data:`ROOT`) and every label's node.

    Raises:
        MapillaryConfigError: ``labels`` is not a list, or has problems
            (missing names, duplicate readable names, ...); the message lists
            all of them, each naming the label index(es) and a fix.
    """
    if not isinstance(labels, (list, tuple)):
        raise MapillaryConfigError(f'{source}: "labels" must be a list, not '
                                   f'{type(labels).__name__}')
    problems = label_problems(labels)
    if problems:
        raise MapillaryConfigError(
            f'{source}: {len(problems)} problem(s) in the Mapillary labels:\n'
            + '\n'.join(f'  {p}' for p in problems))
    paths = {i: tuple(e['name'].split(SEPARATOR)) for i, e in enumerate(labels)}
    tree_paths = {i: p for i, p in paths.items() if not _is_unlabeled(p)}
    root = _build_trie(tree_paths)
    to_root = _collapse(root)
    if len(root.children) < 2:
        raise MapillaryConfigError(
            f'{source}: the labels form a single chain '
            f'({", ".join(repr(labels[i]["name"]) for i in tree_paths)}), so the '
            'draft would have no classifier\n    hint: a taxonomy needs at least two '
            'classes that are not prefixes of each other')

    inner: list[DraftNode] = []
    for node, _ in _preorder(root)[1:]:
        if node.label_ids:
            node.name = labels[node.label_ids[0]]['readable']
        else:
            inner.append(node)
    _name_inner_nodes(inner, {ROOT} | {labels[i]['readable'] for i in tree_paths})

    node_of = {i: n for n, _ in _preorder(root)[1:] for i in n.label_ids}
    drafted = []
    for i, entry in enumerate(labels):
        if i in node_of:
            drafted.append(DraftLabel(i, entry['name'], entry['readable'],
                                      node_of[i].name,
                                      _label_note(i, entry['name'], node_of[i])))
        else:
            note = 'its node would be the whole tree (the root)' if i in to_root else ''
            drafted.append(DraftLabel(i, entry['name'], entry['readable'], None, note))
    return DraftTree(root, tuple(drafted))


# ---------------------------------------------------------------- writing
def _contexts(text: str) -> tuple[tuple[str, Any], ...]:
    """YAML snippets using ``text`` where the draft uses names, and their values."""
    return ((f'{text}:  # c\n', {text: None}),
            (f'k: {text}  # c\n', {'k': text}),
            (f'k: {{name: {text}, node: x}}\n', {'k': {'name': text, 'node': 'x'}}),
            (f'k: {{name: x, node: {text}}}\n', {'k': {'name': 'x', 'node': text}}))


def _reads_back(snippet: str, expected: Any) -> bool:
    try:
        return yaml.safe_load(snippet) == expected
    except yaml.YAMLError:
        return False


@lru_cache(maxsize=4096)
def yaml_scalar(text: str) -> str:
    """``text`` as a YAML scalar that reads back as the same string.

    Plain when that reads back as ``text`` as a mapping key, a value and a
    flow-mapping value (``Road``, ``Traffic Sign (Front)``); otherwise
    JSON-style double quoted (``"yes"``, ``"a: b"``, ``"007"``).

    Args:
        text: Any string.

    Returns:
        The scalar to write.

    Raises:
        MapillaryConfigError: No quoting reads back as ``text``.
    """
    if text and all(_reads_back(s, v) for s, v in _contexts(text)):
        return text
    for ensure_ascii in (False, True):
        quoted = json.dumps(text, ensure_ascii=ensure_ascii)
        if _reads_back(f'k: {quoted}\n', {'k': text}):
            return quoted
    raise MapillaryConfigError(f'{text!r} cannot be written as a YAML string\n'
                               '    hint: remove control characters from the name')


def _one_line(text: str) -> str:
    """``text`` safe inside a ``#`` comment (escaped when not printable)."""
    return text if text.isprintable() else json.dumps(text)[1:-1]


def _with_comments(rows: list[tuple[str, str]]) -> list[str]:
    """Lines ``code  # comment`` with the comments aligned to one column."""
    widths = [len(code) for code, comment in rows
              if comment and len(code) + 2 <= _MAX_COMMENT_COLUMN]
    column = max(widths, default=0) + 2
    lines = []
    for code, comment in rows:
        if not comment:
            lines.append(code)
        else:
            pad = max(column - len(code), 2)
            lines.append(f'{code}{" " * pad}# {_one_line(comment)}')
    return lines


def _node_comment(node: DraftNode) -> str:
    """The Mapillary path of an inner node and the nodes it replaced."""
    replaced = ', '.join(SEPARATOR.join(p) for p in node.replaced)
    if not node.path:
        return f'children of {replaced}, the only child of the root' \
            if replaced else ''
    parts = [node.mapillary_path] if node.children or replaced else []
    if replaced:
        parts.append(f'replaces {replaced} (no other child)')
    return '; '.join(parts)


def _tree_rows(tree: DraftTree) -> list[tuple[str, str]]:
    rows = [('tree:', '')]
    for node, depth in tree.nodes():
        code = f'{_INDENT * (depth + 1)}{yaml_scalar(node.name)}:'
        rows.append((code, _node_comment(node)))
    return rows


def _class_value(label: DraftLabel) -> str:
    name = yaml_scalar(label.readable)
    if label.ignored:
        return f'{{name: {name}, ignore: true}}'
    if label.node == label.readable:
        return name
    return f'{{name: {name}, node: {yaml_scalar(label.node)}}}'


def _encoding(num_ids: int) -> str:
    if num_ids <= 2**8:
        return 'uint8'
    return 'uint16' if num_ids <= 2**16 else 'int32'


def _dataset_rows(tree: DraftTree, dataset_key: str) -> list[tuple[str, str]]:
    rows = [('datasets:', ''),
            (f'{_INDENT}{yaml_scalar(dataset_key)}:', ''),
            (f'{_INDENT * 2}annotation: pixel', ''),
            (f'{_INDENT * 2}encoding: {_encoding(len(tree.labels))}', ''),
            (f'{_INDENT * 2}num_ids: {len(tree.labels)}', ''),
            (f'{_INDENT * 2}classes:', '')]
    for label in tree.labels:
        comment = label.name + (f'; {label.note}' if label.note else '')
        rows.append((f'{_INDENT * 3}{label.id}: {_class_value(label)}', comment))
    return rows


def _header(tree: DraftTree, source: str) -> list[str]:
    ignored = sum(label.ignored for label in tree.labels)
    return [
        '# DRAFT taxonomy generated by mmhier from the Mapillary Vistas config',
        f'#   {_one_line(source)}',
        f'# with {len(tree.labels)} labels ({len(tree.labels) - ignored} in the tree, '
        f'{ignored} ignored).',
        '#',
        "# The tree follows Mapillary's own `--` label paths: inner nodes are the",
        '# path prefixes (the comment after each names its Mapillary path), leaves',
        '# are the labels, named by their readable names. Inner nodes with a single',
        '# child were replaced by that child.',
        '#',
        '# This is a starting point, not a finished taxonomy: merge classes into',
        '# superclasses as needed (add inner nodes, move nodes below them, rename',
        "# them and keep the classes' `node:` entries in step), then validate it.",
    ]


def render_draft(tree: DraftTree, source: str,
                 dataset_key: str = 'mapillary_vistas',
                 name: Optional[str] = None) -> str:
    """Write a drafted tree as taxonomy YAML text.

    Args:
        tree: The drafted tree (see :func:`draft_tree_from_labels`).
        source: The config file it came from (named in the header).
        dataset_key: Key of the one dataset in the draft.
        name: Taxonomy name; ``dataset_key`` when ``None``.

    Returns:
        The YAML text, ending with a newline.

    Raises:
        MapillaryConfigError: ``dataset_key`` or ``name`` is empty.
    """
    name = dataset_key if name is None else name
    for what, value in (('dataset key', dataset_key), ('taxonomy name', name)):
        if not isinstance(value, str) or not value.strip():
            raise MapillaryConfigError(f'the {what} must be a non-empty string, not '
                                       f'{value!r}')
    lines = _header(tree, source)
    lines.append(f'name: {yaml_scalar(name)}')
    description = f'Draft from the Mapillary Vistas config {source}'
    lines.append(f'description: {yaml_scalar(description)}')
    lines += _with_comments(_tree_rows(tree))
    lines += _with_comments(_dataset_rows(tree, dataset_key))
    return '\n'.join(lines) + '\n'


def draft_from_mapillary(config_path: Union[str, os.PathLike],
                         dataset_key: str = 'mapillary_vistas',
                         name: Optional[str] = None) -> str:
    """Draft a taxonomy YAML from a Mapillary Vistas ``config.json``.

    Args:
        config_path: The Vistas config (``{"labels": [...]}``).
        dataset_key: Key of the dataset in the draft.
        name: Taxonomy name; ``dataset_key`` when ``None``.

    Returns:
        Taxonomy YAML text that :meth:`~mmhier.taxonomy.Taxonomy.from_string`
        accepts: the Mapillary hierarchy as the tree and one pixel dataset
        mapping every label id.

    Raises:
        TaxonomyFileError: The file is missing or unreadable.
        TaxonomyEncodingError: The file is not UTF-8 text.
        MapillaryConfigError: Not valid JSON (with line and column), no
            ``labels`` list, or problems in the labels; all are listed in one
            message.
    """
    source = os.fspath(config_path)
    tree = draft_tree_from_labels(read_mapillary_labels(source), source)
    return render_draft(tree, source, dataset_key, name)
