"""Reading one dataset entry of a taxonomy file into a :class:`DatasetSpec`.

Label ids are kept as ranges (:class:`~mmhier.taxonomy.id_ranges.IdRanges`):
``ignore_ids: ["2-2000000000"]`` costs as much as ``ignore_ids: [2]``.
"""
from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from typing import Any, Optional

from mmhier.taxonomy.errors import ProblemCollector
from mmhier.taxonomy.id_ranges import IdRanges
from mmhier.taxonomy.records import (ANNOTATION_TYPES, CLASS_KEYS, DATASET_KEYS,
                                     ENCODINGS, SUPERVISION_KEYS, DatasetClass,
                                     DatasetSpec)
from mmhier.taxonomy.reprs import short_repr
from mmhier.taxonomy.scalars import (check_keys, plain_name, read_id, read_name,
                                     read_text)
from mmhier.taxonomy.yaml_io import item_line, line_of, source_text

_CLASS_KEY_SET = frozenset(CLASS_KEYS)
#: ``"a-b"``; at most 20 digits per bound (ids beyond int32 are errors anyway).
_RANGE = re.compile(r'^\s*(\d{1,20})\s*-\s*(\d{1,20})\s*$')
#: Nesting allowed in ``attributes`` (they are free-form data, not trees).
MAX_ATTRIBUTE_DEPTH = 16


def _parse_id_list(raw: Any, where: str, line: Optional[int], container: Any,
                   out: ProblemCollector) -> list[tuple[int, int, Optional[int]]]:
    """Reads ``ignore_ids``: ints and inclusive ``"a-b"`` ranges.

    Returns:
        ``(first, last, line)`` per entry, in file order.
    """
    if raw is None:
        return []
    if not isinstance(raw, list):
        items = [(raw, line, source_text(container, 'ignore_ids'))]
    else:
        items = [(item, item_line(raw, i) or line, source_text(raw, i))
                 for i, item in enumerate(raw)]
    ids: list[tuple[int, int, Optional[int]]] = []
    for item, item_line_, text in items:
        if isinstance(item, int) and not isinstance(item, bool):
            value = read_id(item, text, f'{where}: id', item_line_, out)
            if value is not None:
                ids.append((value, value, item_line_))
            continue
        match = _RANGE.match(item) if isinstance(item, str) else None
        if match and int(match.group(1)) <= int(match.group(2)):
            ids.append((int(match.group(1)), int(match.group(2)), item_line_))
        else:
            shown = text if text is not None else short_repr(item)
            out.error('bad-id', f'{where}: {shown} is neither a label id nor a range',
                      'write an integer or an inclusive range like "19-254" (first '
                      '<= last)', item_line_)
    return ids


def _check_overlaps(entries: list[tuple[int, int, Optional[int]]], where: str,
                    out: ProblemCollector) -> None:
    """Reports ids listed twice in ``ignore_ids`` (overlapping entries)."""
    ordered = sorted(entries, key=lambda e: (e[0], e[1]))
    reach: Optional[tuple[int, int, Optional[int]]] = None  # entry reaching furthest
    for entry in ordered:
        if reach is not None and entry[0] <= reach[1]:
            shared = IdRanges.span(entry[0], min(entry[1], reach[1]))
            ids = f'id {shared} is' if shared.count == 1 else f'ids {shared} are'
            lines = sorted({n for n in (reach[2], entry[2]) if n is not None})
            at = f" (line{'s' if len(lines) > 1 else ''} " \
                f"{' and '.join(map(str, lines))})" if lines else ''
            out.error('duplicate-id', f'{where}: {ids} listed twice in ignore_ids{at}',
                      'list every id once', lines[-1] if lines else None)
        if reach is None or entry[1] > reach[1]:
            reach = entry


def _attribute_problems(attributes: dict, where: str, line: Optional[int],
                        out: ProblemCollector) -> bool:
    """Reports repeated keys and too deep nesting in ``attributes``.

    Returns:
        Whether the attributes are usable.
    """
    stack = [(attributes, 1)]
    ok = True
    while stack:
        value, depth = stack.pop()
        if depth > MAX_ATTRIBUTE_DEPTH:
            out.error('bad-value', f'{where}: attributes are nested more than '
                      f'{MAX_ATTRIBUTE_DEPTH} levels deep',
                      'attributes hold small records (e.g. a shape), not trees',
                      getattr(value, 'line', None) or line)
            return False
        if isinstance(value, dict):
            for key, dup_line in getattr(value, 'duplicates', ()):
                out.error('duplicate-key', f'{where}: key {short_repr(key)} appears '
                          'twice in attributes', 'remove one of them', dup_line)
                ok = False
            stack.extend((v, depth + 1) for v in value.values()
                         if isinstance(v, (dict, list)))
        else:
            stack.extend((v, depth + 1) for v in value if isinstance(v, (dict, list)))
    return ok


def _parse_node_set(raw: dict, name: str, where: str, line: Optional[int],
                    out: ProblemCollector) -> Optional[tuple[str, ...]]:
    """Reads a class's ``nodes``: a non-empty list of distinct node names (one
    name alone is a list of one).

    Returns:
        The names in file order, or ``None`` (with errors) when unusable.
    """
    value, set_line = raw['nodes'], line_of(raw, 'nodes') or line
    if isinstance(value, list):
        items = [(item, source_text(value, i), item_line(value, i) or set_line)
                 for i, item in enumerate(value)]
    elif isinstance(value, dict) or (value is None and not source_text(raw, 'nodes')):
        items = None
    else:
        items = [(value, source_text(raw, 'nodes'), set_line)]
    if not items:
        shown = 'is empty' if items == [] or value is None else \
            f'must be a list of node names, not {short_repr(value)}'
        out.error('bad-node-set', f'{where}: class {name!r}: nodes {shown}',
                  'write e.g. `nodes: [car, truck]` (the pixel is one of these nodes), '
                  '`node: car` for one node, or `ignore: true`', set_line)
        return None
    names: list[str] = []
    first_line: dict[str, Optional[int]] = {}
    ok = True
    for item, text, at in items:
        if isinstance(item, (dict, list)):
            out.error('bad-node-set', f'{where}: class {name!r}: nodes entry '
                      f'{short_repr(item)} is not a node name',
                      'list node names: `nodes: [car, truck]`', at)
            ok = False
            continue
        node = item if plain_name(item) else read_name(item, text, f'{where}: nodes entry',
                                                       at, out)
        if node is None:
            ok = False
        elif node in first_line:
            out.error('duplicate-node', f'{where}: class {name!r} lists node {node!r} '
                      'twice in nodes', 'list every node of the set once', at)
            ok = False
        else:
            first_line[node] = at
            names.append(node)
    return tuple(names) if ok else None


def _parse_class(label_id: Any, raw: Any, dataset: str, line: Optional[int],
                 id_text: Optional[str], value_text: Optional[str],
                 out: ProblemCollector) -> Optional[DatasetClass]:
    if type(label_id) is not int or (id_text is not None and id_text != str(label_id)):
        label_id = read_id(label_id, id_text, f'dataset {dataset!r}: label id', line,
                           out)
        if label_id is None:
            return None
    if plain_name(raw):  # `8: sidewalk`
        return DatasetClass(label_id, raw, raw, {}, line)
    where = f'dataset {dataset!r}, id {label_id}'
    if not isinstance(raw, dict):
        if (raw is not None or value_text) and not isinstance(raw, list):
            name = read_name(raw, value_text, f'{where}: class name', line, out)
            return None if name is None else DatasetClass(label_id, name, name, {}, line)
        out.error('bad-class', f'{where}: expected a class name or a mapping with '
                  f'name/node/ignore, got {short_repr(raw)}',
                  "write e.g. `7: {name: road, node: driveable}`, `8: sidewalk` or "
                  "`9: {name: vehicle, nodes: [car, truck]}`", line)
        return None
    if not raw.keys() <= _CLASS_KEY_SET or getattr(raw, 'duplicates', None):
        check_keys(raw, CLASS_KEYS, where, out)
    name = raw.get('name')
    if not plain_name(name):
        if name is None and not source_text(raw, 'name'):
            out.error('empty-name', f'{where}: class has no name', 'add `name: ...`',
                      line)
            return None
        name = read_name(name, source_text(raw, 'name'), f'{where}: class name',
                         line_of(raw, 'name') or line, out)
        if name is None:
            return None
    ignore = raw.get('ignore', False)
    if ignore is not False and ignore is not True:
        out.error('bad-value', f'{where}: ignore must be true or false, not '
                  f'{short_repr(ignore)}', '', line)
        ignore = False
    if 'node' in raw and 'nodes' in raw:
        out.error('bad-class', f'{where}: class {name!r} has both `node` and `nodes`',
                  'keep `node: X` for one node or `nodes: [X, Y]` for a node set', line)
    for key in ('node', 'nodes'):
        if ignore and key in raw:
            out.error('bad-class', f'{where}: class {name!r} is ignored but also maps to '
                      f'{key} {short_repr(raw[key])}', f'remove `{key}` or `ignore: true`',
                      line)
    nodes: tuple[str, ...] = ()
    if not ignore and 'nodes' in raw:
        parsed_nodes = _parse_node_set(raw, name, where, line, out)
        if parsed_nodes is None:
            return None
        nodes = parsed_nodes
    elif not ignore:
        node = raw.get('node', name)
        if node is None and not source_text(raw, 'node'):
            out.error('empty-name', f'{where}: class {name!r} maps to an empty node '
                      'name', 'name the node, or write `ignore: true`', line)
            return None
        if not plain_name(node):
            node = read_name(node, source_text(raw, 'node'), f'{where}: node',
                             line_of(raw, 'node') or line, out)
            if node is None:
                return None
        nodes = (node,)
    attributes = raw.get('attributes')
    if attributes is None:
        attributes = {}
    elif not isinstance(attributes, dict):
        out.error('bad-value', f'{where}: attributes must be a mapping, not '
                  f'{short_repr(attributes)}', 'write e.g. `attributes: {shape: circle}`',
                  line)
        attributes = {}
    elif attributes and not _attribute_problems(attributes, where, line, out):
        attributes = {}
    return DatasetClass(label_id, name, nodes, dict(attributes), line)


def _parse_names(raw: Any, where: str, container: Any, key: str,
                 out: ProblemCollector) -> tuple[str, ...]:
    """Reads ``supervision.force`` / ``skip``: one name or a list of names."""
    line = line_of(container, key)
    if raw is None:
        return ()
    if isinstance(raw, dict):
        out.error('bad-value', f'{where} must be a list of classifier node names, not '
                  'a mapping', f'write `{key}: [name, ...]`', line)
        return ()
    items = [(raw, source_text(container, key), line)] if not isinstance(raw, list) \
        else [(item, source_text(raw, i), item_line(raw, i)) for i, item in enumerate(raw)]
    names: list[str] = []
    seen: dict[str, Optional[int]] = {}
    for item, text, item_line_ in items:
        if isinstance(item, (dict, list)):
            out.error('bad-value', f'{where} must be a list of classifier node names, '
                      f'not {short_repr(item)}', '', item_line_)
            continue
        name = read_name(item, text, f'{where} entry', item_line_, out)
        if name is None:
            continue
        if name in seen:
            out.error('duplicate-name', f'{where} lists {name!r} twice',
                      'list every classifier once', item_line_)
            continue
        seen[name] = item_line_
        names.append(name)
    return tuple(names)


def _parse_classes(raw: dict, key: str, where: str, line: Optional[int],
                   out: ProblemCollector) -> tuple[list[DatasetClass], IdRanges]:
    """Reads ``classes``.

    Returns:
        The classes in id order, and the (integer) ids whose entries had
        errors.
    """
    classes_raw = raw.get('classes')
    classes: list[DatasetClass] = []
    rejected: list[int] = []
    if not isinstance(classes_raw, dict) or not classes_raw:
        out.error('no-classes', f'{where} has no classes',
                  'add `classes:` mapping label ids to taxonomy nodes',
                  line_of(raw, 'classes') if 'classes' in raw else line)
        return classes, IdRanges()
    dup_texts = getattr(classes_raw, 'duplicate_texts', {})
    for i, (label_id, line_dup) in enumerate(getattr(classes_raw, 'duplicates', ())):
        shown = short_repr(label_id)
        if dup_texts.get(i, shown) != shown:
            shown = f'{dup_texts[i]} (read by YAML as {shown})'
        out.error('duplicate-id', f'{where}: label id {shown} is listed twice',
                  f'keep one entry for id {short_repr(label_id)}', line_dup)
    names: dict[str, DatasetClass] = {}
    lines = getattr(classes_raw, 'key_lines', {})
    id_texts = getattr(classes_raw, 'key_texts', {})
    value_texts = getattr(classes_raw, 'value_texts', {})
    for label_id, value in classes_raw.items():
        parsed = _parse_class(label_id, value, key, lines.get(label_id),
                              id_texts.get(label_id), value_texts.get(label_id), out)
        if parsed is None:
            if type(label_id) is int and label_id >= 0:
                rejected.append(label_id)
            continue
        if parsed.name in names:
            first = names[parsed.name]
            out.error('duplicate-name', f'{where}: ids {first.id} and {parsed.id} are '
                      f'both named {parsed.name!r}', 'give every class its own name '
                      '(two ids may still map to one node with `node: ...`)',
                      parsed.line)
        else:
            names[parsed.name] = parsed
        classes.append(parsed)
    classes.sort(key=lambda c: c.id)
    return classes, IdRanges.from_ids(rejected)


def _check_ignored_classes(entries: list[tuple[int, int, Optional[int]]],
                           classes: list[DatasetClass], where: str,
                           out: ProblemCollector) -> None:
    """Reports class ids that ``ignore_ids`` lists too."""
    ids = [c.id for c in classes]  # sorted
    for first, last, id_line in entries:
        for cls in classes[bisect_left(ids, first):bisect_right(ids, last)]:
            out.error('duplicate-id', f'{where}: label id {cls.id} is in ignore_ids '
                      f'and also listed as class {cls.name!r}', 'keep it in one place',
                      id_line)


def _parse_supervision(raw: dict, where: str,
                       out: ProblemCollector) -> tuple[tuple[str, ...], tuple[str, ...]]:
    supervision = raw.get('supervision')
    if supervision is None:
        return (), ()
    if not isinstance(supervision, dict):
        out.error('bad-value', f'{where}: supervision must be a mapping with force '
                  'and/or skip', 'write `supervision: {skip: [...], force: [...]}`',
                  line_of(raw, 'supervision'))
        return (), ()
    check_keys(supervision, SUPERVISION_KEYS, f'{where}: supervision', out)
    return (_parse_names(supervision.get('force'), f'{where}: supervision.force',
                         supervision, 'force', out),
            _parse_names(supervision.get('skip'), f'{where}: supervision.skip',
                         supervision, 'skip', out))


def parse_dataset(key: Any, raw: Any, datasets: Any,
                  out: ProblemCollector) -> Optional[DatasetSpec]:
    """Read one entry of ``datasets``.

    Args:
        key: The dataset's key as YAML read it.
        raw: Its value.
        datasets: The ``datasets`` mapping (for positions and source texts).
        out: Receives the problems.

    Returns:
        The dataset, or ``None`` (with errors) when it is unusable.
    """
    line = line_of(datasets, key)
    key = read_name(key, source_text(datasets, key, 'key'), 'dataset key', line, out)
    if key is None:
        return None
    where = f'dataset {key!r}'
    if not isinstance(raw, dict):
        out.error('bad-dataset', f'{where} must be a mapping with annotation and '
                  'classes', '', line)
        return None
    check_keys(raw, DATASET_KEYS, where, out)
    annotation = raw.get('annotation')
    if not isinstance(annotation, str) or annotation not in ANNOTATION_TYPES:
        out.error('bad-annotation', f'{where}: annotation must be one of '
                  f"{', '.join(ANNOTATION_TYPES)}, not {short_repr(annotation)}",
                  'pixel = per-pixel masks, box = bounding boxes',
                  line_of(raw, 'annotation') if 'annotation' in raw else line)
        annotation = 'pixel'
    encoding = raw.get('encoding', 'uint8')
    if not isinstance(encoding, str) or encoding not in ENCODINGS:
        out.error('bad-encoding', f'{where}: encoding {short_repr(encoding)} is unknown',
                  f"use one of {', '.join(ENCODINGS)}", line_of(raw, 'encoding'))
        encoding = 'int32'

    classes, rejected = _parse_classes(raw, key, where, line, out)
    entries = _parse_id_list(raw.get('ignore_ids'), f'{where}: ignore_ids',
                             line_of(raw, 'ignore_ids'), raw, out)
    _check_overlaps(entries, where, out)
    _check_ignored_classes(entries, classes, where, out)
    ignore_ids = IdRanges((first, last) for first, last, _ in entries)

    top = max([c.id for c in classes[-1:]] + ([ignore_ids.max] if ignore_ids else []),
              default=-1)
    num_ids = top + 1 if top >= 0 else 1
    if 'num_ids' in raw:
        given, num_line = raw['num_ids'], line_of(raw, 'num_ids')
        if type(given) is not int or given < 1:
            shown = source_text(raw, 'num_ids') or short_repr(given)
            out.error('bad-value', f'{where}: num_ids must be a positive integer, not '
                      f'{shown}', 'num_ids is the number of label ids: largest id + 1',
                      num_line)
        else:
            given = read_id(given, source_text(raw, 'num_ids'), f'{where}: num_ids',
                            num_line, out)
            num_ids = num_ids if given is None else given

    force, skip = _parse_supervision(raw, where, out)
    description = read_text(raw.get('description'), source_text(raw, 'description'),
                            f'{where}: description', line_of(raw, 'description'), out)
    return DatasetSpec(key, annotation, encoding, num_ids, tuple(classes), ignore_ids,
                       force, skip, description, line,
                       dict(getattr(raw, 'key_lines', {})), rejected)
