"""Merge the label spaces of several datasets into one taxonomy.

``mmhier-taxonomy merge RELATIONS -o OUT.yaml`` reads a relations file that
names one label list per dataset and declares how their classes relate:

.. code-block:: yaml

    name: cs_vistas_gtsdb
    datasets:                       # label lists, paths relative to this file
      mapillary_vistas: {labels: mapillary_vistas_v1.2.csv}
      cityscapes: {labels: cityscapes.csv}
      gtsdb: {labels: gtsdb.csv, annotation: box}
    ignore: [mapillary_vistas.Unlabeled, cityscapes.unlabeled]
    same:                           # one concept
      - [cityscapes.train, mapillary_vistas.On Rails]
    within:                         # finer classes inside a coarser one
      - {classes: [mapillary_vistas.Bicyclist, mapillary_vistas.Motorcyclist],
         in: cityscapes.rider, as: Rider}
      - [gtsdb.*, mapillary_vistas.Traffic Sign (Front)]

Classes are ``dataset.name``; ``dataset.*`` is every class of a dataset.
Classes of different datasets with the same name (ignoring case) are one
concept unless a ``within`` relation relates them (``match_names: false``
turns this off); every other pair is disjoint. A coarse class that covers
finer ones becomes an inner node - a superclass named by ``as`` or after the
class - whose children are the finer concepts, and the coarse class maps to
it. Nodes are ordered by their first class in dataset order. Every dataset
mapping is filled in, and a dataset that labels only one child of a
classifier gets ``supervision.skip`` for it (the single-child rule).

Label lists: a YAML file (``classes: {id: name}``, optional ``annotation``,
``encoding``, ``num_ids``, ``ignore``), a CSV with ``id`` and ``name`` columns (a
``readable`` column is preferred as the name; negative ids are skipped), a
Mapillary Vistas ``config.json`` (``labels`` in id order, ``readable``
names) or a Cityscapes ``labels.py`` (its ``Label(...)`` table).

Relations a tree cannot express - a class within two classes, cycles, a
coarse class with one finer class - raise :class:`MergeError` naming the
relation lines, the reason and the fix.
"""
from __future__ import annotations

import ast
import csv
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

import yaml

from mmhier.taxonomy.errors import TaxonomyError
from mmhier.taxonomy.taxonomy import Taxonomy
from mmhier.taxonomy.yaml_io import item_line, line_of, read_text, read_yaml

__all__ = ['LabelList', 'MergeError', 'merge_label_spaces', 'read_label_list']


class MergeError(TaxonomyError):
    """The relations or label lists cannot make a taxonomy; the message names
    the file and lines and says how to fix it."""


@dataclass
class LabelList:
    """One dataset's label space.

    Attributes:
        key: Dataset key.
        classes: ``{id: name}`` of the classes, in id order.
        annotation: ``'pixel'`` or ``'box'``.
        encoding: Label encoding of the dataset's files (``None``: the
            taxonomy's default).
        num_ids: Size of the label space.
        ignored: Ids listed as ignored.
        source: Where it was read.
    """

    key: str
    classes: dict[int, str]
    annotation: str = 'pixel'
    encoding: Optional[str] = None
    num_ids: Optional[int] = None
    ignored: set = field(default_factory=set)
    source: str = '<labels>'


def _bad(source: str, line: Optional[int], message: str, fix: str) -> MergeError:
    where = f'{source}:{line}' if line else source
    return MergeError(f'{where}: {message}; {fix}')


def read_label_list(path: Union[str, os.PathLike], key: str) -> LabelList:
    """Read a label list (see the module docstring for the formats).

    Raises:
        TaxonomyFileError: The file is missing or unreadable.
        MergeError: Its content is not a label list.
    """
    source = os.fspath(path)
    suffix = Path(source).suffix.lower()
    if suffix in ('.yaml', '.yml'):
        data = read_yaml(source)
        if not isinstance(data, dict) or not isinstance(data.get('classes'), dict):
            raise _bad(source, getattr(data, 'line', None), 'a label list needs '
                       '`classes: {id: name}`', 'write e.g. `classes: {0: road, 1: sky}`')
        classes, ignored = {}, set()
        for label_id, value in data['classes'].items():
            name = value.get('name') if isinstance(value, dict) else value
            if not isinstance(label_id, int) or not isinstance(name, str) or not name:
                raise _bad(source, line_of(data['classes'], label_id),
                           f'class {label_id!r}: {value!r} is not `id: name`',
                           'write `7: road` or `7: {name: road, ignore: true}`')
            classes[label_id] = name
            if isinstance(value, dict) and value.get('ignore'):
                ignored.add(label_id)
        return LabelList(key, dict(sorted(classes.items())), data.get('annotation', 'pixel'),
                         data.get('encoding'), data.get('num_ids'), ignored, source)
    text = read_text(source, 'label list')
    if suffix == '.json':
        try:
            labels = json.loads(text)['labels']
            classes = {i: str(label.get('readable') or label['name'])
                       for i, label in enumerate(labels)}
        except (ValueError, KeyError, TypeError, AttributeError):
            raise _bad(source, None, 'not a Mapillary Vistas config.json (no `labels` list '
                       'of objects with `name`)', 'give the config.json of the dataset'
                       ) from None
        return LabelList(key, classes, source=source)
    if suffix == '.py':
        classes = {}
        for lineno, line in enumerate(text.splitlines(), 1):
            stripped = line.strip()
            if stripped.startswith('Label('):
                try:
                    fields = ast.literal_eval(stripped[len('Label'):].rstrip(','))
                    classes[int(fields[1])] = str(fields[0])
                except (ValueError, SyntaxError, IndexError, TypeError):
                    raise _bad(source, lineno, f'cannot read the Label entry {stripped!r}',
                               "write Label('name', id, trainId, ...) as in "
                               "Cityscapes' labels.py") from None
        if not classes:
            raise _bad(source, None, 'no `Label(...)` entries', 'give a Cityscapes-style '
                       'labels.py')
        return LabelList(key, {k: v for k, v in sorted(classes.items()) if k >= 0},
                         source=source)
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows or 'id' not in rows[0] or 'name' not in rows[0]:
        raise _bad(source, 1, 'a CSV label list needs `id` and `name` columns',
                   'write a header line `id,name`')
    classes = {}
    for lineno, row in enumerate(rows, 2):
        try:
            label_id = int(row['id'])
        except (TypeError, ValueError):
            raise _bad(source, lineno, f'id {row["id"]!r} is not an integer',
                       'give integer ids') from None
        if label_id >= 0:
            classes[label_id] = (row.get('readable') or row['name'] or '').strip()
    return LabelList(key, dict(sorted(classes.items())), source=source)


class _Concepts:
    """Union-find over ``(dataset, id)`` class references."""

    def __init__(self) -> None:
        self.parent: dict = {}

    def find(self, ref: tuple) -> tuple:
        self.parent.setdefault(ref, ref)
        while self.parent[ref] != ref:
            self.parent[ref] = self.parent[self.parent[ref]]
            ref = self.parent[ref]
        return ref

    def union(self, a: tuple, b: tuple) -> None:
        self.parent[self.find(a)] = self.find(b)


def merge_label_spaces(relations: Union[str, os.PathLike], name: Optional[str] = None
                       ) -> str:
    """Build a taxonomy YAML from a relations file and its label lists.

    Args:
        relations: The relations file (see the module docstring).
        name: Taxonomy name (default: the file's ``name`` or stem).

    Returns:
        The taxonomy as YAML text; it passes validation.

    Raises:
        TaxonomyFileError: A file is missing.
        MergeError: Relations a tree cannot express, unknown classes or
            datasets, bad label lists.
    """
    source = os.fspath(relations)
    doc = read_yaml(source)
    if not isinstance(doc, dict) or not isinstance(doc.get('datasets'), dict) \
            or not doc['datasets']:
        raise _bad(source, getattr(doc, 'line', None), 'a relations file needs `datasets:` '
                   'naming one label list per dataset',
                   'write e.g. `datasets: {cityscapes: {labels: cityscapes.csv}}`')
    base = Path(source).parent
    lists: dict[str, LabelList] = {}
    for key, spec in doc['datasets'].items():
        spec = spec if isinstance(spec, dict) else {'labels': spec}
        if not isinstance(spec.get('labels'), str):
            raise _bad(source, line_of(doc['datasets'], key), f'dataset {key!r} names no '
                       'label list', f'write `{key}: {{labels: FILE}}`')
        label_list = read_label_list(base / spec['labels'], str(key))
        label_list.annotation = spec.get('annotation', label_list.annotation)
        label_list.encoding = spec.get('encoding', label_list.encoding)
        lists[str(key)] = label_list
    order = {key: i for i, key in enumerate(lists)}

    def refs(text: Any, container: Any, index: Any, is_list: bool = True) -> list[tuple]:
        line = item_line(container, index) if is_list else line_of(container, index)
        if not isinstance(text, str) or '.' not in text:
            raise _bad(source, line, f'{text!r} is not a class reference',
                       'write `dataset.class name` or `dataset.*`')
        key, class_name = text.split('.', 1)
        if key not in lists:
            raise _bad(source, line, f'unknown dataset {key!r} in {text!r}',
                       f"use one of {', '.join(lists)}")
        classes = lists[key].classes
        if class_name == '*':
            return [(key, i) for i in classes]
        found = [(key, i) for i, n in classes.items() if n == class_name] or \
            [(key, i) for i, n in classes.items() if n.casefold() == class_name.casefold()]
        if len(found) != 1:
            raise _bad(source, line, f'{"no" if not found else len(found)} class(es) named '
                       f'{class_name!r} in {lists[key].source}',
                       'use the name as the label list spells it')
        return found

    ignored = {ref for i, text in enumerate(doc.get('ignore') or [])
               for ref in refs(text, doc['ignore'], i)}
    for key, label_list in lists.items():
        ignored |= {(key, i) for i in label_list.ignored}
    concepts = _Concepts()
    for ref_key, label_list in lists.items():
        for i in label_list.classes:
            concepts.find((ref_key, i))
    # within relations: (members, coarse, display name, line)
    within: list[tuple[list[tuple], tuple, Optional[str], Optional[int]]] = []
    for i, item in enumerate(doc.get('within') or []):
        line = item_line(doc['within'], i)
        if isinstance(item, list) and len(item) == 2:
            members, coarse = refs(item[0], item, 0), refs(item[1], item, 1)
            label = None
        elif isinstance(item, dict) and 'classes' in item and 'in' in item:
            members = [ref for j, text in enumerate(item['classes'] or [])
                       for ref in refs(text, item['classes'], j)]
            coarse, label = refs(item['in'], item, 'in', False), item.get('as')
        else:
            raise _bad(source, line, f'within entry {item!r} is not `[FINE, COARSE]` or '
                       '`{classes: [...], in: COARSE, as: NAME}`',
                       'write one of these two forms')
        within.append((members, coarse[0], label, line))
    related = {frozenset((m, c)) for members, c, _, _ in within for m in members}
    for i, pair in enumerate(doc.get('same') or []):
        if not isinstance(pair, list) or len(pair) < 2:
            raise _bad(source, item_line(doc['same'], i), f'same entry {pair!r} needs two or '
                       'more classes', 'write `- [a.x, b.y]`')
        first = refs(pair[0], pair, 0)[0]
        for j in range(1, len(pair)):
            concepts.union(refs(pair[j], pair, j)[0], first)
    if doc.get('match_names', True):
        by_name: dict[str, list[tuple]] = {}
        for key, label_list in lists.items():
            for i, class_name in label_list.classes.items():
                if (key, i) not in ignored:
                    by_name.setdefault(class_name.casefold(), []).append((key, i))
        for group in by_name.values():
            for a in group:
                for b in group:
                    if a[0] < b[0] and frozenset((a, b)) not in related:
                        concepts.union(a, b)
    # the tree of concepts
    parent: dict[tuple, tuple] = {}
    parent_line: dict[tuple, Optional[int]] = {}
    labels: dict[tuple, str] = {}
    for members, coarse, label, line in within:
        top = concepts.find(coarse)
        if label:
            labels[top] = str(label)
        for member in members:
            child = concepts.find(member)
            if child == top:
                raise _bad(source, line, f'{_ref_name(lists, member)} is within '
                           f'{_ref_name(lists, coarse)} but the two are one concept '
                           '(`same` or the same name)', 'remove one of the two relations')
            if parent.get(child, top) != top:
                raise _bad(source, line, f'{_ref_name(lists, member)} is within two classes, '
                           f'{_ref_name(lists, parent[child])} (line {parent_line[child]}) '
                           f'and {_ref_name(lists, coarse)}: a tree gives a class one '
                           'parent', 'declare the two coarse classes `same`, or put one '
                           'within the other (a union mapping needs partial labels)')
            parent[child], parent_line[child] = top, line
    for start in parent:
        seen, node = [start], start
        while node in parent:
            node = parent[node]
            if node in seen:
                lines = sorted({parent_line[n] for n in seen if parent_line.get(n)})
                raise _bad(source, lines[0] if lines else None,
                           'the within relations form a cycle ('
                           + ' -> '.join(_ref_name(lists, n) for n in seen + [node]) + ')',
                           f'remove one of the relations on lines {lines}')
            seen.append(node)
    roots = sorted({concepts.find(r) for r in concepts.parent} - set(parent))
    children: dict[tuple, list[tuple]] = {}
    for child, top in parent.items():
        children.setdefault(top, []).append(child)
    for top, kids in children.items():
        if len(kids) == 1:
            raise _bad(source, parent_line[kids[0]], f'{_ref_name(lists, top)} covers only '
                       f'{_ref_name(lists, kids[0])}: a classifier needs two children',
                       'declare the two `same` instead of `within`')
    members: dict[tuple, list[tuple]] = {}
    for ref in concepts.parent:
        members.setdefault(concepts.find(ref), []).append(ref)

    def sort_key(concept: tuple) -> tuple:
        own = min((order[k], i) for k, i in members[concept])
        return min([own] + [sort_key(c) for c in children.get(concept, [])])

    def name_of(concept: tuple) -> str:
        if concept in labels:
            return labels[concept]
        key, i = min(members[concept], key=lambda r: (order[r[0]], r[1]))
        return lists[key].classes[i]

    used = [c for c in roots if not all(r in ignored for r in members[c])
            or c in children]
    names: dict[tuple, str] = {}

    def nest(concept: tuple) -> Any:
        kids = sorted(children.get(concept, []), key=sort_key)
        return {names[k]: nest(k) for k in kids} if kids else None

    def collect(concept: tuple) -> None:
        names[concept] = name_of(concept)
        for kid in children.get(concept, []):
            collect(kid)

    for concept in used:
        collect(concept)
    _disambiguate(names, members, order)
    tree = {names[c]: nest(c) for c in sorted(used, key=sort_key)}
    root_name = 'root' if 'root' not in names.values() else 'taxonomy root'
    datasets: dict[str, Any] = {}
    for key, label_list in lists.items():
        classes: dict[int, Any] = {}
        for i, class_name in label_list.classes.items():
            ref = (key, i)
            if ref in ignored:
                classes[i] = _Flow(name=class_name, ignore=True)
            else:
                classes[i] = _Flow(name=class_name, node=names[concepts.find(ref)])
        entry: dict[str, Any] = {'annotation': label_list.annotation}
        if label_list.encoding:
            entry['encoding'] = label_list.encoding
        num_ids = label_list.num_ids or (max(label_list.classes) + 1)
        entry['num_ids'] = num_ids
        entry['classes'] = classes
        datasets[key] = entry
    out = {'name': name or doc.get('name') or Path(source).stem,
           'tree': {root_name: tree}, 'datasets': datasets}
    _add_single_child_skips(out)
    text = yaml.dump(out, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    text = text.replace(': null\n', ':\n')
    Taxonomy.from_string(text, source=f'merge of {source}')   # must be valid
    return text


class _Flow(dict):
    """A mapping written on one line (a dataset class entry)."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Flow, lambda dumper, data: dumper.represent_mapping(
    'tag:yaml.org,2002:map', data.items(), flow_style=True))


def _ref_name(lists: dict[str, LabelList], ref: tuple) -> str:
    return f'{ref[0]}.{lists[ref[0]].classes[ref[1]]}'


def _disambiguate(names: dict, members: dict, order: dict) -> None:
    """Two concepts with one name (ignoring case, as validation does): suffix
    all but the first with their dataset."""
    seen: dict[str, tuple] = {}
    for concept in sorted(names, key=lambda c: min((order[k], i) for k, i in members[c])):
        name = names[concept]
        if name.casefold() in seen:
            key = min(members[concept], key=lambda r: order[r[0]])[0]
            names[concept] = f'{name} ({key})'
        seen[names[concept].casefold()] = concept


def _add_single_child_skips(doc: dict) -> None:
    """``supervision.skip`` for every classifier a dataset labels only one
    child of (the single-child rule)."""
    tree = doc['tree']
    parent: dict[str, Optional[str]] = {}
    kids: dict[str, list[str]] = {}

    def walk(node: str, sub: Any, up: Optional[str]) -> None:
        parent[node] = up
        kids[node] = list(sub or {})
        for child, below in (sub or {}).items():
            walk(child, below, node)

    (root, sub), = tree.items()
    walk(root, sub, None)
    for entry in doc['datasets'].values():
        supplied: dict[str, set] = {}
        for value in entry['classes'].values():
            node = value.get('node')
            while node is not None and parent.get(node) is not None:
                supplied.setdefault(parent[node], set()).add(node)
                node = parent[node]
        skip = [n for n in kids if len(supplied.get(n, ())) == 1]
        if skip:
            entry['supervision'] = _Flow(skip=skip)
