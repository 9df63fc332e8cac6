"""Validation of taxonomy specs: small checks composed into one report.

Each ``check_*`` function looks at one property and returns
:class:`~mmhier.taxonomy.errors.Problem` records; :func:`validate_spec` runs
them all and never stops at the first problem.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import networkx as nx

from mmhier.taxonomy.class_attributes import FLIP_TO, SHAPE, SHAPES
from mmhier.taxonomy.errors import ERROR, WARNING, Problem
from mmhier.taxonomy.id_ranges import IdRanges, format_ids
from mmhier.taxonomy.records import ENCODINGS, DatasetClass, DatasetSpec, TaxonomySpec
from mmhier.taxonomy.reprs import short_repr
from mmhier.taxonomy.scalars import did_you_mean
from mmhier.taxonomy.tree_index import TreeIndex

__all__ = [
    'Links', 'ValidationResult', 'build_graph', 'check_acyclic', 'check_class_attributes',
    'check_classifier_sizes', 'check_dataset_ids', 'check_dataset_nodes',
    'check_one_parent', 'check_root_coverage', 'check_similar_names',
    'check_single_child_supervision', 'check_single_root',
    'check_supervision_overrides', 'check_untrained_classifiers', 'format_ids',
    'labelled_nodes', 'validate_spec'
]

#: Largest label id any encoding can store (int32).
MAX_LABEL_ID = max(ENCODINGS.values())
#: "did you mean" hints per validation; each compares a name with every node.
MAX_SUGGESTIONS = 20


@dataclass
class ValidationResult:
    """Problems found, plus what validation built and later stages reuse.

    Attributes:
        problems: All errors and warnings, in check order.
        tree: Preorder index of the tree; ``None`` when it is not a tree.
        supplied: Per dataset key: classifier node index -> child indices the
            dataset labels (``{}`` when ``tree`` is ``None``).
    """

    problems: list[Problem]
    tree: Optional[TreeIndex]
    supplied: dict[str, dict[int, set[int]]]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]


def _problem(spec: TaxonomySpec, severity: str, code: str, message: str,
             hint: str = '', line: Optional[int] = None) -> Problem:
    return Problem(severity, code, message, hint, spec.source, line)


class Links:
    """Parents and children of every node name, from the spec's edges.

    Validation works on these plain dicts; networkx is only needed to find
    cycles, which can only exist when some node has too many parents.

    Args:
        spec: The parsed taxonomy.
    """

    def __init__(self, spec: TaxonomySpec):
        self.nodes = spec.node_lines
        self.parents: dict[str, list[tuple[str, Optional[int]]]] = {}
        self.children: dict[str, list[str]] = {}
        for edge in spec.edges:
            self.parents.setdefault(edge.child, []).append((edge.parent, edge.line))
            self.children.setdefault(edge.parent, []).append(edge.child)
        self._suggestions_left = MAX_SUGGESTIONS

    def suggest(self, name: object) -> str:
        """A 'did you mean' hint for an unknown node name (the first
        :data:`MAX_SUGGESTIONS` calls; then empty, to bound the cost)."""
        if self._suggestions_left <= 0:
            return ''
        self._suggestions_left -= 1
        return did_you_mean(name, self.nodes)

    def __contains__(self, name: object) -> bool:
        return name in self.nodes

    def num_children(self, name: str) -> int:
        return len(self.children.get(name, ()))


def build_graph(spec: TaxonomySpec) -> nx.DiGraph:
    """The spec's tree as a DiGraph; nodes carry the ``line`` of their first
    occurrence, edges the ``line`` of the child's occurrence."""
    graph = nx.DiGraph()
    graph.add_nodes_from((name, {'line': line}) for name, line in spec.node_lines.items())
    graph.add_edges_from((e.parent, e.child, {'line': e.line}) for e in spec.edges)
    return graph


def check_single_root(spec: TaxonomySpec, links: Links) -> list[Problem]:
    """The tree has exactly one top-level node (a root listed again below
    itself is reported by :func:`check_acyclic`)."""
    if len(spec.roots) > 1:
        return [_problem(spec, ERROR, 'multiple-roots',
                         f"the tree has {len(spec.roots)} top-level nodes "
                         f"({', '.join(repr(r) for r in spec.roots)}); a taxonomy "
                         'has exactly one root',
                         'indent all nodes under a single root node',
                         spec.node_lines.get(spec.roots[1]))]
    return []


def check_one_parent(spec: TaxonomySpec, links: Links) -> list[Problem]:
    """No node is listed twice: not under two parents (the hierarchy is a
    tree, not a DAG), nor twice under one parent (list form)."""
    problems = []
    for node, parents in links.parents.items():
        if len(parents) < 2:
            continue
        if len({p for p, _ in parents}) > 1:
            where = ', '.join(f'{p!r} (line {line})' for p, line in parents)
            problems.append(_problem(
                spec, ERROR, 'two-parents',
                f'node {node!r} has {len(parents)} parents: {where}',
                'a node belongs to one parent; to share a class, give each '
                'occurrence its own name', parents[1][1]))
        else:
            lines = sorted({line for _, line in parents if line is not None})
            where = '' if not lines else \
                f" (line{'s' if len(lines) > 1 else ''} {', '.join(map(str, lines))})"
            problems.append(_problem(
                spec, ERROR, 'duplicate-name',
                f'node {node!r} is listed {len(parents)} times under '
                f'{parents[0][0]!r}{where}; each would be its own output of the '
                'classifier', 'remove the repeats', parents[1][1]))
    return problems


def check_acyclic(spec: TaxonomySpec, links: Links) -> list[Problem]:
    """No node is its own descendant."""
    # In the nested file format a node can only close a cycle by appearing a
    # second time, which gives it two parents (or a parent, for a top-level
    # node): without such a node there is no cycle, and the linear-time
    # search below is skipped.
    roots = set(spec.roots)
    if all(len(p) <= (0 if n in roots else 1) for n, p in links.parents.items()):
        return []
    graph = build_graph(spec)
    problems = []
    for component in nx.strongly_connected_components(graph):
        node = next(iter(component))
        if len(component) == 1 and not graph.has_edge(node, node):
            continue
        edges = nx.find_cycle(graph.subgraph(component), node)
        # Start the cycle at the edge that closes it last in the file.
        lines = [graph.edges[u, v]['line'] or 0 for u, v in edges]
        last = lines.index(max(lines))
        cycle = [u for u, _ in edges[last + 1:] + edges[:last + 1]]
        path = ' -> '.join(repr(n) for n in cycle + cycle[:1])
        problems.append(_problem(spec, ERROR, 'cycle', f'cycle in the tree: {path}',
                                 'a node cannot be listed below itself; rename one '
                                 'occurrence', max(lines) or None))
    return problems


def check_classifier_sizes(spec: TaxonomySpec, links: Links) -> list[Problem]:
    """Every inner node (classifier) has at least two children."""
    problems = []
    for node, children in links.children.items():
        if len(set(children)) == 1:
            child = children[0]
            problems.append(_problem(
                spec, ERROR, 'few-children',
                f'classifier {node!r} has only one child ({child!r}); a classifier '
                'needs at least two', f'add siblings to {child!r}, or remove '
                f'{child!r} and map its classes to {node!r}',
                spec.node_lines.get(node)))
    return problems


def check_similar_names(spec: TaxonomySpec, links: Links) -> list[Problem]:
    """Warn about node names that differ only in case or surrounding spaces."""
    seen: dict[str, str] = {}
    problems = []
    for name in links.nodes:
        folded = name.strip().casefold()
        if folded in seen:
            problems.append(_problem(spec, WARNING, 'similar-names',
                                     f'nodes {seen[folded]!r} and {name!r} differ '
                                     'only in case or spaces',
                                     'rename one so that they cannot be confused',
                                     spec.node_lines.get(name)))
        else:
            seen[folded] = name
    return problems


def check_dataset_ids(spec: TaxonomySpec, dataset: DatasetSpec) -> list[Problem]:
    """Label ids fit the encoding and ``num_ids``; every id is mapped or ignored.

    Works on id ranges: the cost grows with the number of classes and
    ``ignore_ids`` entries, not with ``num_ids`` or the ranges' extent.
    """
    problems = []
    top = ENCODINGS[dataset.encoding]
    where = f'dataset {dataset.key!r}'
    num_ids_line = dataset.key_lines.get('num_ids', dataset.line)
    if dataset.num_ids - 1 > MAX_LABEL_ID:
        problems.append(_problem(spec, ERROR, 'id-out-of-range',
                                 f'{where}: num_ids {dataset.num_ids} is more than any '
                                 f'label encoding can hold (int32: ids 0..{MAX_LABEL_ID})',
                                 'num_ids is the number of label ids: largest id + 1',
                                 num_ids_line))
    elif dataset.num_ids - 1 > top:
        problems.append(_problem(spec, ERROR, 'id-out-of-range',
                                 f'{where}: num_ids {dataset.num_ids} does not fit '
                                 f'encoding {dataset.encoding} (ids 0..{top})',
                                 'choose a wider encoding (uint16 or int32)',
                                 num_ids_line))
    for cls in dataset.classes:
        if not 0 <= cls.id <= top:
            problems.append(_problem(spec, ERROR, 'id-out-of-range',
                                     f'{where}: label id {cls.id} ({cls.name!r}) is '
                                     f'outside encoding {dataset.encoding} (0..{top})',
                                     'fix the id or choose a wider encoding', cls.line))
        elif cls.id >= dataset.num_ids:
            problems.append(_problem(spec, ERROR, 'id-out-of-range',
                                     f'{where}: label id {cls.id} ({cls.name!r}) is '
                                     f'not below num_ids {dataset.num_ids}',
                                     'fix the id or raise num_ids', cls.line))
    usable = min(dataset.num_ids, top + 1)
    bad_ignored = dataset.ignore_ids.difference(IdRanges.span(0, usable - 1))
    if bad_ignored:
        problems.append(_problem(spec, ERROR, 'id-out-of-range',
                                 f'{where}: ignore_ids {bad_ignored} are '
                                 f'outside 0..{usable - 1}',
                                 'fix the ids or raise num_ids',
                                 dataset.key_lines.get('ignore_ids')))
    if dataset.num_ids - 1 <= top:
        covered = IdRanges.from_ids(c.id for c in dataset.classes).union(
            dataset.ignore_ids)
        missing = IdRanges.span(0, dataset.num_ids - 1).difference(covered)
        if missing:
            problems.append(_problem(
                spec, ERROR, 'unmapped-id',
                f'{where}: label ids {missing} are neither mapped to a '
                'node nor ignored',
                'add a class entry for each, or list them in ignore_ids',
                dataset.key_lines.get('classes', dataset.line)))
    return problems


def check_dataset_nodes(spec: TaxonomySpec, dataset: DatasetSpec,
                        links: Links) -> list[Problem]:
    """Classes map to existing nodes other than the root; note shared nodes."""
    problems = []
    where = f'dataset {dataset.key!r}'
    root = spec.roots[0] if spec.roots else None
    first_id: dict[str, int] = {}
    for cls in dataset.classes:
        if cls.node is None:
            continue
        if cls.node not in links:
            hint = links.suggest(cls.node) or \
                'add the node to the tree or fix the name (names are case-sensitive)'
            problems.append(_problem(spec, ERROR, 'unknown-node',
                                     f'{where}: id {cls.id} ({cls.name!r}) maps to '
                                     f'unknown node {cls.node!r}', hint, cls.line))
        elif cls.node == root:
            problems.append(_problem(spec, ERROR, 'maps-to-root',
                                     f'{where}: id {cls.id} ({cls.name!r}) maps to the '
                                     f'root {root!r}, which carries no information',
                                     'write `ignore: true` instead', cls.line))
        elif cls.node in first_id:
            problems.append(_problem(spec, WARNING, 'shared-node',
                                     f'{where}: ids {first_id[cls.node]} and {cls.id} '
                                     f'both map to node {cls.node!r}; predictions of '
                                     f'{cls.node!r} are evaluated as id '
                                     f'{first_id[cls.node]}',
                                     'map one of them to a finer node if one exists',
                                     cls.line))
        else:
            first_id[cls.node] = cls.id
    if dataset.classes and not first_id and not problems:
        problems.append(_problem(spec, WARNING, 'no-labels',
                                 f'{where} maps no id to a node; it trains nothing',
                                 '', dataset.line))
    return problems


def check_supervision_overrides(spec: TaxonomySpec, dataset: DatasetSpec,
                                links: Links) -> list[Problem]:
    """``supervision.force/skip`` name existing classifiers, each at most once."""
    problems = []
    where = f'dataset {dataset.key!r}'
    line = dataset.key_lines.get('supervision', dataset.line)
    for kind, names in (('force', dataset.force), ('skip', dataset.skip)):
        for name in names:
            if name not in links:
                problems.append(_problem(spec, ERROR, 'unknown-node',
                                         f'{where}: supervision.{kind} names unknown '
                                         f'node {name!r}',
                                         links.suggest(name), line))
            elif links.num_children(name) == 0:
                problems.append(_problem(spec, ERROR, 'not-a-classifier',
                                         f'{where}: supervision.{kind} names {name!r}, '
                                         'a leaf; only inner nodes are classifiers',
                                         '', line))
    for name in set(dataset.force) & set(dataset.skip):
        problems.append(_problem(spec, ERROR, 'bad-value',
                                 f'{where}: {name!r} is under both supervision.force '
                                 'and supervision.skip', 'keep one', line))
    return problems


def _class_where(dataset: DatasetSpec, cls: DatasetClass) -> str:
    return f'dataset {dataset.key!r} class {cls.id} {cls.name!r}'


def _node_or_ignored(node: Optional[str]) -> str:
    return 'ignored' if node is None else repr(node)


def _shape_problems(spec: TaxonomySpec, dataset: DatasetSpec) -> list[Problem]:
    """Every ``shape`` attribute is one of :data:`SHAPES`."""
    problems = []
    for cls in dataset.classes:
        if SHAPE not in cls.attributes:
            continue
        shape = cls.attributes[SHAPE]
        if isinstance(shape, str) and shape in SHAPES:
            continue
        known = f"shapes: {', '.join(SHAPES)}"
        hint = did_you_mean(shape, SHAPES) if isinstance(shape, str) else ''
        problems.append(_problem(spec, ERROR, 'unknown-shape',
                                 f'{_class_where(dataset, cls)}: unknown shape '
                                 f'{short_repr(shape)}', f'{hint} ({known})' if hint else
                                 f'use one of the {known}', cls.line))
    return problems


def _flip_problems(spec: TaxonomySpec, dataset: DatasetSpec) -> list[Problem]:
    """``flip_to`` names a class of the dataset that names this one back, and
    all classes of one node flip to one node."""
    classes = {c.id: c for c in dataset.classes}
    problems = []
    targets: dict[str, tuple[Optional[str], int]] = {}  # node -> (flipped node, class)
    for cls in dataset.classes:
        where = _class_where(dataset, cls)
        partner = cls.attributes.get(FLIP_TO, cls.id)
        if isinstance(partner, bool) or not isinstance(partner, int) \
                or partner not in classes:
            problems.append(_problem(spec, ERROR, 'flip-to-unknown-class',
                                     f'{where}: flip_to {short_repr(partner)} is not a '
                                     'class id of the dataset',
                                     'use the label id of the mirror-image class, or '
                                     'remove flip_to', cls.line))
            continue
        back = classes[partner].attributes.get(FLIP_TO, partner)
        if back != cls.id:
            problems.append(_problem(spec, ERROR, 'one-way-flip',
                                     f'{where}: flip_to {partner} is one-way; give class '
                                     f'{partner} `flip_to: {cls.id}`',
                                     'a horizontal flip swaps both classes of a pair',
                                     cls.line))
            continue
        if cls.ignored:
            continue
        flipped = classes[partner].node
        first = targets.setdefault(cls.node, (flipped, cls.id))
        if first[0] != flipped:
            problems.append(_problem(
                spec, ERROR, 'flip-conflict',
                f'{where}: maps to node {cls.node!r} like class {first[1]}, but flips to '
                f'{_node_or_ignored(flipped)} where class {first[1]} flips to '
                f'{_node_or_ignored(first[0])}',
                'classes of one node must flip to one node: give them the same '
                'flip_to partner node (or map them to different nodes)', cls.line))
    return problems


def check_class_attributes(spec: TaxonomySpec, dataset: DatasetSpec) -> list[Problem]:
    """The class attributes with a meaning are usable
    (:mod:`mmhier.taxonomy.class_attributes`): every ``shape`` is a known
    shape; every ``flip_to`` is a class id of the dataset whose class names
    this one back; classes that share a node flip to the same node."""
    return _shape_problems(spec, dataset) + _flip_problems(spec, dataset)


def labelled_nodes(dataset: DatasetSpec, tree: TreeIndex) -> list[int]:
    """Indices of the nodes a dataset's classes map to (known nodes only)."""
    return [tree.index[c.node] for c in dataset.classes if c.node in tree.index]


def check_root_coverage(spec: TaxonomySpec, tree: TreeIndex,
                        supplied: dict[str, dict[int, set[int]]]) -> list[Problem]:
    """Every root child has a per-pixel example (the paper's hard constraint)."""
    covered: set[int] = set()
    for dataset in spec.datasets:
        if dataset.annotation == 'pixel':
            covered |= supplied[dataset.key].get(0, set())
    problems = []
    for child in tree.children[0]:
        if child not in covered:
            name = tree.names[child]
            problems.append(_problem(
                spec, ERROR, 'root-child-unlabelled',
                f'no per-pixel dataset labels {name!r} or any node below it, so the '
                'root classifier can never learn it',
                f'map a class of a pixel dataset to {name!r} or a descendant, or '
                'move it below a node that is labelled per pixel',
                spec.node_lines.get(name)))
    return problems


def check_single_child_supervision(spec: TaxonomySpec, tree: TreeIndex,
                                   supplied: dict[str, dict[int, set[int]]]
                                   ) -> list[Problem]:
    """A dataset that labels only one child of a classifier does not train it."""
    problems = []
    for dataset in spec.datasets:
        where = f'dataset {dataset.key!r}'
        line = dataset.key_lines.get('supervision', dataset.line)
        for name in dataset.force:
            node = tree.index.get(name)
            if node is not None and tree.children[node] and \
                    not supplied[dataset.key].get(node):
                problems.append(_problem(spec, ERROR, 'force-without-labels',
                                         f'{where}: supervision.force names {name!r}, '
                                         'but the dataset labels nothing below it',
                                         f'remove {name!r} from supervision.force',
                                         line))
        overridden = set(dataset.skip) | set(dataset.force)
        for node, children in supplied[dataset.key].items():
            name = tree.names[node]
            if len(children) != 1 or name in overridden:
                continue
            only = tree.names[next(iter(children))]
            problems.append(_problem(
                spec, WARNING, 'single-child-supervision',
                f'{where} labels only {only!r} below classifier {name!r}, so it will '
                f'not train {name!r} (it would teach that everything is {only!r})',
                f'list {name!r} under supervision.skip of {dataset.key!r} to confirm, '
                'or under supervision.force to train it anyway', line))
    return problems


def _untrained_reason(name: str, labelling: list[tuple[DatasetSpec, set[int]]],
                      tree: TreeIndex) -> str:
    if not labelling:
        return 'no dataset labels anything below it'
    parts = []
    for dataset, children in labelling[:5]:
        if len(children) == 1:
            parts.append(f'{dataset.key!r} labels only '
                         f'{tree.names[next(iter(children))]!r} below it')
        else:
            parts.append(f'{dataset.key!r} lists it under supervision.skip')
    if len(labelling) > 5:
        parts.append(f'and {len(labelling) - 5} more datasets')
    return '; '.join(parts)


def check_untrained_classifiers(spec: TaxonomySpec, tree: TreeIndex,
                                supplied: dict[str, dict[int, set[int]]]
                                ) -> list[Problem]:
    """Every classifier is trained by at least one dataset.

    A dataset trains a classifier when it labels below two of its children
    (and does not skip it), or below one when it forces it. A classifier no
    dataset trains would output untrained noise.
    """
    overrides = [(d, set(d.skip), set(d.force)) for d in spec.datasets]
    problems = []
    for node, children in enumerate(tree.children):
        if len(children) < 2:  # leaves; one child is reported as few-children
            continue
        name = tree.names[node]
        labelling: list[tuple[DatasetSpec, set[int]]] = []
        trained = False
        for dataset, skip, force in overrides:
            got = supplied[dataset.key].get(node)
            if not got:
                continue
            if (len(got) >= 2 and name not in skip) or name in force:
                trained = True
                break
            labelling.append((dataset, got))
        if trained:
            continue
        if labelling:
            hint = (f'label a second child of {name!r} (or a node below it) in one of '
                    f'these datasets, or list {name!r} under supervision.force of '
                    f'{labelling[0][0].key!r} to train it from its single labelled '
                    f'child, or remove the classifier')
        else:
            hint = (f'map dataset classes to the children of {name!r} (or below '
                    f'them), or remove its children and map their classes to {name!r}')
        problems.append(_problem(
            spec, ERROR, 'untrained-classifier',
            f'classifier {name!r} ({len(children)} outputs) is trained by no dataset: '
            f'{_untrained_reason(name, labelling, tree)}', hint,
            spec.node_lines.get(name)))
    return problems


def validate_spec(spec: TaxonomySpec) -> ValidationResult:
    """Run every check on a spec.

    Args:
        spec: The parsed taxonomy.

    Returns:
        All problems found plus the tree index and supervision data
        built on the way (reused by :class:`~mmhier.taxonomy.Taxonomy`).
    """
    links = Links(spec)
    structure = (check_single_root(spec, links) + check_one_parent(spec, links)
                 + check_acyclic(spec, links))
    problems = (structure + check_classifier_sizes(spec, links)
                + check_similar_names(spec, links))
    for dataset in spec.datasets:
        problems += check_dataset_ids(spec, dataset)
        problems += check_dataset_nodes(spec, dataset, links)
        problems += check_supervision_overrides(spec, dataset, links)
        problems += check_class_attributes(spec, dataset)
    tree = None
    supplied: dict[str, dict[int, set[int]]] = {}
    if spec.roots and not structure:
        tree = TreeIndex(spec.roots[0], [(e.parent, e.child) for e in spec.edges])
        supplied = {d.key: tree.supplied_children(labelled_nodes(d, tree))
                    for d in spec.datasets}
        problems += check_root_coverage(spec, tree, supplied)
        problems += check_single_child_supervision(spec, tree, supplied)
        problems += check_untrained_classifiers(spec, tree, supplied)
    return ValidationResult(problems, tree, supplied)
