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

The records live in :mod:`mmhier.taxonomy.records`, dataset entries are read
by :mod:`mmhier.taxonomy.dataset_spec`; this module reads the rest and the
tree. The tree is walked without recursion: any depth loads.
"""
from __future__ import annotations

from typing import Any, Optional

from mmhier.taxonomy.dataset_spec import parse_dataset
from mmhier.taxonomy.errors import Problem, ProblemCollector
from mmhier.taxonomy.records import (ANNOTATION_TYPES, CLASS_KEYS, DATASET_KEYS,
                                     ENCODINGS, SUPERVISION_KEYS, TOP_LEVEL_KEYS,
                                     DatasetClass, DatasetSpec, Edge, TaxonomySpec)
from mmhier.taxonomy.reprs import short_repr
from mmhier.taxonomy.scalars import (check_keys, did_you_mean, plain_name, read_name,
                                     read_text)
from mmhier.taxonomy.yaml_io import item_line, line_of, source_text

__all__ = [
    'ANNOTATION_TYPES', 'CLASS_KEYS', 'DATASET_KEYS', 'ENCODINGS', 'SUPERVISION_KEYS',
    'TOP_LEVEL_KEYS', 'DatasetClass', 'DatasetSpec', 'Edge', 'TaxonomySpec',
    'did_you_mean', 'parse_spec'
]

# One child as found in the file: (raw name, raw children, line, source text).
_Item = tuple[Any, Any, Optional[int], Optional[str]]


def _mapping_items(children: dict, where: str, out: ProblemCollector) -> list[_Item]:
    for key, line in getattr(children, 'duplicates', ()):
        out.error('duplicate-name', f'node {short_repr(key)} is listed twice under '
                  f'{where}', 'remove or rename one of them', line)
    lines = getattr(children, 'key_lines', {})
    texts = getattr(children, 'key_texts', {})
    return [(k, v, lines.get(k), texts.get(k)) for k, v in children.items()]


def _child_items(children: Any, where: str, out: ProblemCollector) -> list[_Item]:
    """The children of one node in file order (mapping or list form)."""
    if isinstance(children, dict):
        return _mapping_items(children, where, out)
    items: list[_Item] = []
    if isinstance(children, list):
        for i, item in enumerate(children):
            if isinstance(item, dict) and item:  # `- name: children` in a list
                items += _mapping_items(item, where, out)
            else:
                items.append((item, None, item_line(children, i),
                              source_text(children, i)))
    return items


def _parse_tree(tree: Any, line: Optional[int], out: ProblemCollector
                ) -> tuple[tuple[str, ...], list[Edge], dict[str, int]]:
    """Flattens the nested ``tree`` mapping into roots, edges and node lines."""
    roots: list[str] = []
    edges: list[Edge] = []
    node_lines: dict[str, int] = {}
    if not isinstance(tree, dict) or not tree:
        out.error('bad-tree', '`tree` must be a mapping with one root node',
                  'write `tree:` followed by `  root:` and the root\'s children',
                  getattr(tree, 'line', None) or line)
        return (), [], {}

    # Iterative preorder walk: (parent or None, item).
    stack: list[tuple[Optional[str], _Item]] = [
        (None, item) for item in reversed(_child_items(tree, 'tree', out))]
    seen: set[int] = {id(tree)}  # containers walked (Python objects may be shared)
    while stack:
        parent, (raw, children, line, text) = stack.pop()
        name = raw if text is None and plain_name(raw) else \
            read_name(raw, text, 'node name', line, out)
        if name is None:
            continue
        node_lines.setdefault(name, line)
        if parent is None:
            roots.append(name)
        else:
            edges.append(Edge(parent, name, line))
        if children is None:
            continue
        if not isinstance(children, (dict, list)):
            out.error('bad-children',
                      f'children of node {name!r} must be a mapping, a list of '
                      f'names or empty, not {short_repr(children)}',
                      f"write '{name}:' alone for a leaf, or a list of children", line)
            continue
        if id(children) in seen:
            out.error('bad-tree', f'the children of node {name!r} are the same object '
                      'as children listed elsewhere', 'build the tree from separate '
                      'dicts and lists', line)
            continue
        seen.add(id(children))
        stack.extend((name, item) for item in
                     reversed(_child_items(children, repr(name), out)))
    return tuple(roots), edges, node_lines


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
    out = ProblemCollector(source)
    if not isinstance(data, dict):
        found = 'an empty document' if data is None else \
            f'a {"list" if isinstance(data, list) else type(data).__name__}'
        out.error('not-a-mapping', 'a taxonomy file must be a YAML mapping with '
                  f'name, tree and datasets, not {found}', 'see README, "Taxonomy files"',
                  getattr(data, 'line', None) or (None if source == '<dict>' else 1))
        return None, out.problems
    check_keys(data, TOP_LEVEL_KEYS, 'the taxonomy', out)
    for key in ('name', 'tree', 'datasets'):
        if key not in data:
            out.error('missing-key', f'the taxonomy has no `{key}`',
                      f'add a top-level `{key}:`', 1 if hasattr(data, 'line') else None)
    name = ''
    if data.get('name') is not None:
        name = read_name(data['name'], source_text(data, 'name'), 'taxonomy name',
                         line_of(data, 'name'), out) or ''
    elif 'name' in data:
        out.error('empty-name', 'the taxonomy name is empty', 'write `name: ...`',
                  line_of(data, 'name'))
    description = read_text(data.get('description'), source_text(data, 'description'),
                            'the taxonomy description', line_of(data, 'description'),
                            out)
    roots, edges, node_lines = _parse_tree(data.get('tree'), line_of(data, 'tree'), out) \
        if 'tree' in data else ((), [], {})

    datasets: list[DatasetSpec] = []
    raw_datasets = data.get('datasets')
    if 'datasets' in data:
        if not isinstance(raw_datasets, dict) or not raw_datasets:
            out.error('no-datasets', '`datasets` must map dataset keys to their '
                      'label spaces', 'add at least one dataset',
                      line_of(data, 'datasets'))
        else:
            for key, line in getattr(raw_datasets, 'duplicates', ()):
                out.error('duplicate-key', f'dataset {short_repr(key)} is defined twice',
                          'rename or merge them', line)
            for key, value in raw_datasets.items():
                parsed = parse_dataset(key, value, raw_datasets, out)
                if parsed is not None:
                    datasets.append(parsed)
    spec = TaxonomySpec(name, description, roots, tuple(edges), node_lines,
                        tuple(datasets), source)
    return spec, out.problems
