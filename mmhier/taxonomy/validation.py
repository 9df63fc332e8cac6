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
from mmhier.taxonomy.node_sets import (common_children, covers_node, distinguishes,
                                       format_target, label_sets, lowest_common_ancestor,
                                       redundant_members, reduce_node_set)
from mmhier.taxonomy.records import ENCODINGS, DatasetClass, DatasetSpec, TaxonomySpec
from mmhier.taxonomy.reprs import short_repr
from mmhier.taxonomy.scalars import did_you_mean
from mmhier.taxonomy.tree_index import TreeIndex

__all__ = [
    'Links', 'ValidationResult', 'build_graph', 'check_acyclic', 'check_class_attributes',
    'check_classifier_sizes', 'check_dataset_ids', 'check_dataset_nodes',
    'check_node_sets', 'check_one_parent', 'check_root_coverage', 'check_similar_names',
    'check_single_child_supervision', 'check_single_root',
    'check_supervision_overrides', 'check_untrained_classifiers', 'dataset_label_sets',
    'dataset_targets', 'describe_label_sets', 'format_ids', 'labelled_nodes',
    'validate_spec'
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
        supplied: Per dataset key: classifier node index -> the distinct
            allowed-children sets its labels give the classifier
            (:func:`dataset_label_sets`; ``{}`` when ``tree`` is ``None``).
    """

    problems: list[Problem]
    tree: Optional[TreeIndex]
    supplied: dict[str, dict[int, set[frozenset[int]]]]

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
            dataset.ignore_ids).union(dataset.rejected_ids)
        missing = IdRanges.span(0, dataset.num_ids - 1).difference(covered)
        if missing:
            problems.append(_problem(
                spec, ERROR, 'unmapped-id',
                f'{where}: label ids {missing} are neither mapped to a '
                'node nor ignored',
                'add a class entry for each, or list them in ignore_ids',
                dataset.key_lines.get('classes', dataset.line)))
    return problems


def _target_text(nodes: tuple[str, ...]) -> str:
    """A class's target for messages: ``node 'car'`` or ``nodes [car, truck]``."""
    return f'node {nodes[0]!r}' if len(nodes) == 1 else f'nodes {format_target(nodes)}'


def check_dataset_nodes(spec: TaxonomySpec, dataset: DatasetSpec,
                        links: Links) -> list[Problem]:
    """Classes map to existing nodes other than the root; note shared nodes
    and node sets."""
    problems = []
    where = f'dataset {dataset.key!r}'
    root = spec.roots[0] if spec.roots else None
    first_id: dict[frozenset[str], int] = {}
    for cls in dataset.classes:
        if cls.ignored:
            continue
        usable = True
        for node in cls.nodes:
            if node not in links:
                hint = links.suggest(node) or \
                    'add the node to the tree or fix the name (names are case-sensitive)'
                problems.append(_problem(spec, ERROR, 'unknown-node',
                                         f'{where}: id {cls.id} ({cls.name!r}) maps to '
                                         f'unknown node {node!r}', hint, cls.line))
                usable = False
            elif node == root:
                hint = 'write `ignore: true` instead' if not cls.is_node_set else \
                    f'remove {root!r} from the set, or write `ignore: true`'
                problems.append(_problem(spec, ERROR, 'maps-to-root',
                                         f'{where}: id {cls.id} ({cls.name!r}) maps to the '
                                         f'root {root!r}, which carries no information',
                                         hint, cls.line))
                usable = False
        if not usable:
            continue
        key = frozenset(cls.nodes)
        if key in first_id:
            target = _target_text(cls.nodes)
            problems.append(_problem(spec, WARNING, 'shared-node',
                                     f'{where}: ids {first_id[key]} and {cls.id} '
                                     f'both map to {target}; predictions of '
                                     f'{target.split(" ", 1)[1]} are evaluated as id '
                                     f'{first_id[key]}',
                                     'map one of them to a finer node if one exists',
                                     cls.line))
        else:
            first_id[key] = cls.id
    if dataset.classes and not first_id and not problems:
        problems.append(_problem(spec, WARNING, 'no-labels',
                                 f'{where} maps no id to a node; it trains nothing',
                                 '', dataset.line))
    return problems


def check_node_sets(spec: TaxonomySpec, dataset: DatasetSpec,
                    tree: TreeIndex) -> list[Problem]:
    """Node sets say something a single node cannot: a member below another
    member is redundant, a set covering a whole subtree is that node (an
    error for the root's), a set equal to another class's target after
    reduction shares its node, and a set with a mirror-paired member flips to
    a set some class of the dataset maps to."""
    problems = []
    first: dict[tuple[int, ...], DatasetClass] = {}   # reduced target -> first class
    reduced_of: dict[int, tuple[int, ...]] = {}        # class id -> reduced target
    mirror = _mirror_nodes(dataset)
    for cls in dataset.classes:
        if cls.ignored or not all(n in tree.index for n in cls.nodes):
            continue
        reduced = reduced_of[cls.id] = reduce_node_set(tree, (tree.index[n] for n in cls.nodes))
        other = first.setdefault(reduced, cls)
        if other is not cls and frozenset(other.nodes) != frozenset(cls.nodes):
            problems.append(_problem(  # equal written sets: check_dataset_nodes
                spec, WARNING, 'shared-node',
                f'dataset {dataset.key!r}: ids {other.id} and {cls.id} both map to '
                f'{format_target([tree.names[m] for m in reduced])} (once reduced); '
                f'its predictions are evaluated as id {other.id}',
                'remove the redundant nodes, or map one class to something else',
                cls.line))
    for cls in dataset.classes:
        if not cls.is_node_set or cls.id not in reduced_of:
            continue
        where = f'dataset {dataset.key!r}: id {cls.id} ({cls.name!r})'
        members = [tree.index[n] for n in cls.nodes]
        for below, above in sorted(redundant_members(tree, members).items()):
            problems.append(_problem(
                spec, WARNING, 'redundant-node',
                f'{where}: node {tree.names[below]!r} is below {tree.names[above]!r}, '
                'which the set already holds', f'remove {tree.names[below]!r} from nodes',
                cls.line))
        reduced = reduced_of[cls.id]
        common = lowest_common_ancestor(tree, reduced)
        if len(reduced) > 1 and covers_node(tree, reduced, common):
            if common == 0:
                problems.append(_problem(
                    spec, ERROR, 'maps-to-root',
                    f'{where}: {_target_text(cls.nodes)} cover every child of the root '
                    f'{tree.names[0]!r}, so the class carries no information',
                    'drop nodes from the set, or write `ignore: true`', cls.line))
            else:
                problems.append(_problem(
                    spec, WARNING, 'node-set-is-node',
                    f'{where}: {_target_text(cls.nodes)} cover all of '
                    f'{tree.names[common]!r}, so the class means {tree.names[common]!r}',
                    f'write `node: {tree.names[common]}`', cls.line))
        flipped = [mirror.get(n, n) for n in cls.nodes]
        if len(reduced) > 1 and set(flipped) != set(cls.nodes) and None not in flipped:
            # (a member whose partner class is ignored: the flip ignores the pixel)
            if not all(n in tree.index for n in flipped) or \
                    reduce_node_set(tree, (tree.index[n] for n in flipped)) not in first:
                shown = format_target(flipped)
                problems.append(_problem(
                    spec, ERROR, 'flip-node-set',
                    f'{where}: a horizontal flip turns {_target_text(cls.nodes)} into '
                    f'{shown} (flip_to pairs of the dataset), which no class of '
                    f'{dataset.key!r} maps to', f'add a class with `nodes: {shown}`, '
                    'or take the mirror-paired nodes out of the set', cls.line))
    return problems


def _mirror_nodes(dataset: DatasetSpec) -> dict[str, Optional[str]]:
    """Node -> its mirror node under a horizontal flip, from the dataset's
    ``flip_to`` pairs of single-node classes (``None``: the partner class is
    ignored); well-formedness is :func:`_flip_problems`' job."""
    classes = {c.id: c for c in dataset.classes}
    mirror: dict[str, Optional[str]] = {}
    for cls in dataset.classes:
        partner = classes.get(cls.attributes.get(FLIP_TO)) \
            if isinstance(cls.attributes.get(FLIP_TO), int) else None
        if cls.node is not None and partner is not None and partner.id != cls.id:
            mirror.setdefault(cls.node, partner.node if not partner.is_node_set else None)
    return mirror


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
    targets: dict[tuple[str, ...], tuple[Optional[str], int]] = {}  # -> (flipped, class)
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
        if partner != cls.id and (cls.is_node_set or classes[partner].is_node_set):
            problems.append(_problem(
                spec, ERROR, 'flip-node-set',
                f'{where}: flip_to {partner} pairs a node set with another class; '
                'a horizontal flip swaps single nodes', 'map both classes of a mirror '
                'pair to one node each, or remove flip_to', cls.line))
            continue
        flipped = classes[partner].node
        first = targets.setdefault(cls.nodes, (flipped, cls.id))
        if first[0] != flipped:
            problems.append(_problem(
                spec, ERROR, 'flip-conflict',
                f'{where}: maps to {_target_text(cls.nodes)} like class {first[1]}, but '
                f'flips to {_node_or_ignored(flipped)} where class {first[1]} flips to '
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
    """Indices of the nodes a dataset's single-node classes map to (known
    nodes only)."""
    return [tree.index[c.node] for c in dataset.classes if c.node in tree.index]


def dataset_targets(dataset: DatasetSpec, tree: TreeIndex) -> list[tuple[int, ...]]:
    """The reduced targets of a dataset's classes (node index tuples, see
    :mod:`mmhier.taxonomy.node_sets`); classes with unknown nodes are left
    out (reported by :func:`check_dataset_nodes`)."""
    return [reduce_node_set(tree, (tree.index[n] for n in c.nodes))
            for c in dataset.classes
            if not c.ignored and all(n in tree.index for n in c.nodes)]


def dataset_label_sets(dataset: DatasetSpec, tree: TreeIndex
                       ) -> dict[int, set[frozenset[int]]]:
    """Classifier node index -> the distinct allowed-children sets the
    dataset's labels give it (:func:`~mmhier.taxonomy.node_sets.label_sets`;
    single-node labels take the linear-time path walk)."""
    targets = dataset_targets(dataset, tree)
    singles = [t[0] for t in targets if len(t) == 1]
    out = {node: {frozenset((c,)) for c in children}
           for node, children in tree.supplied_children(singles).items()}
    for node, sets in label_sets(tree, [t for t in targets if len(t) > 1]).items():
        out.setdefault(node, set()).update(sets)
    return out


def describe_label_sets(sets: set[frozenset[int]], tree: TreeIndex) -> str:
    """What a dataset labels below a classifier, for messages."""
    def one(children: frozenset[int]) -> str:
        names = [tree.names[c] for c in sorted(children)]
        return repr(names[0]) if len(names) == 1 else f"one of [{', '.join(names)}]"
    return ', '.join(one(s) for s in sorted(sets, key=sorted))


def check_root_coverage(spec: TaxonomySpec, tree: TreeIndex,
                        supplied: dict[str, dict[int, set[frozenset[int]]]]
                        ) -> list[Problem]:
    """Every root child has a per-pixel example (the paper's hard constraint);
    a node set only says the pixel is one of several, so it is no example."""
    covered: set[int] = set()
    for dataset in spec.datasets:
        if dataset.annotation == 'pixel':
            covered |= {c for s in supplied[dataset.key].get(0, ()) if len(s) == 1
                        for c in s}
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
                                   supplied: dict[str, dict[int, set[frozenset[int]]]]
                                   ) -> list[Problem]:
    """A dataset whose labels do not tell the children of a classifier apart
    (one child, or node sets that all allow one child) does not train it."""
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
        for node, sets in supplied[dataset.key].items():
            name = tree.names[node]
            if distinguishes(sets) or name in overridden:
                continue
            common = _describe_common(sets, tree)
            labels = f'labels only {describe_label_sets(sets, tree)}' if len(sets) == 1 \
                else f'labels {describe_label_sets(sets, tree)}, all allowing {common},'
            problems.append(_problem(
                spec, WARNING, 'single-child-supervision',
                f'{where} {labels} below classifier {name!r}, so it will '
                f'not train {name!r} (it would teach that everything is {common})',
                f'list {name!r} under supervision.skip of {dataset.key!r} to confirm, '
                'or under supervision.force to train it anyway', line))
    return problems


def _describe_common(sets: set[frozenset[int]], tree: TreeIndex) -> str:
    """The children all of a dataset's labels below a classifier allow."""
    names = [tree.names[c] for c in sorted(common_children(sets))]
    return repr(names[0]) if len(names) == 1 else f"one of [{', '.join(names)}]"


def _untrained_reason(name: str, labelling: list[tuple[DatasetSpec, set[frozenset[int]]]],
                      tree: TreeIndex) -> str:
    if not labelling:
        return 'no dataset labels anything below it'
    parts = []
    for dataset, sets in labelling[:5]:
        if name in dataset.skip:
            parts.append(f'{dataset.key!r} lists it under supervision.skip')
        elif len(sets) == 1:
            parts.append(f'{dataset.key!r} labels only '
                         f'{describe_label_sets(sets, tree)} below it')
        else:
            parts.append(f'{dataset.key!r} labels {describe_label_sets(sets, tree)} '
                         f'below it, all allowing {_describe_common(sets, tree)}')
    if len(labelling) > 5:
        parts.append(f'and {len(labelling) - 5} more datasets')
    return '; '.join(parts)


def check_untrained_classifiers(spec: TaxonomySpec, tree: TreeIndex,
                                supplied: dict[str, dict[int, set[frozenset[int]]]]
                                ) -> list[Problem]:
    """Every classifier is trained by at least one dataset.

    A dataset trains a classifier when its labels distinguish its children
    (no child every label allows, e.g. labels below two children; see
    :func:`~mmhier.taxonomy.node_sets.distinguishes`) and it does not skip
    it, or when it labels below it at all and forces it. A classifier no
    dataset trains would output untrained noise.
    """
    overrides = [(d, set(d.skip), set(d.force)) for d in spec.datasets]
    problems = []
    for node, children in enumerate(tree.children):
        if len(children) < 2:  # leaves; one child is reported as few-children
            continue
        name = tree.names[node]
        labelling: list[tuple[DatasetSpec, set[frozenset[int]]]] = []
        trained = False
        for dataset, skip, force in overrides:
            got = supplied[dataset.key].get(node)
            if not got:
                continue
            if (distinguishes(got) and name not in skip) or name in force:
                trained = True
                break
            labelling.append((dataset, got))
        if trained:
            continue
        if labelling:
            hint = (f'label a second child of {name!r} (or a node below it) in one of '
                    f'these datasets, or list {name!r} under supervision.force of '
                    f'{labelling[0][0].key!r} to train it from what it labels, or '
                    'remove the classifier')
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
    supplied: dict[str, dict[int, set[frozenset[int]]]] = {}
    if spec.roots and not structure:
        tree = TreeIndex(spec.roots[0], [(e.parent, e.child) for e in spec.edges])
        supplied = {d.key: dataset_label_sets(d, tree) for d in spec.datasets}
        for dataset in spec.datasets:
            problems += check_node_sets(spec, dataset, tree)
        problems += check_root_coverage(spec, tree, supplied)
        problems += check_single_child_supervision(spec, tree, supplied)
        problems += check_untrained_classifiers(spec, tree, supplied)
    return ValidationResult(problems, tree, supplied)
