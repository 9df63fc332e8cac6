"""The :class:`Taxonomy`: a validated label tree with its lookup tables.

A taxonomy is loaded once from a YAML file and is then the single source of
truth for everything derived from it: classifier sizes, the order of output
channels, id lookup tables, ancestor tables and per-dataset mappings. Tables
are numpy arrays, built on first use, cached and read-only.
"""
from __future__ import annotations

import hashlib
import json
import os
from functools import cached_property
from typing import Any, Iterable, NamedTuple, Optional, Union

import networkx as nx
import numpy as np

from mmhier.taxonomy.errors import (Problem, TaxonomyValidationError,
                                    UnknownDatasetError, UnknownNodeError)
from mmhier.taxonomy.node_sets import (ANY, NO_TARGET, SEVERAL, allowed_children,
                                       common_children, distinguishes, format_target,
                                       lowest_common_ancestor, reduce_node_set)
from mmhier.taxonomy.spec import DatasetSpec, TaxonomySpec, did_you_mean, parse_spec
from mmhier.taxonomy.validation import ValidationResult, validate_spec
from mmhier.taxonomy.yaml_io import gc_paused, parse_yaml, read_text, read_yaml

#: Value of lookup tables where there is no node / target / class.
IGNORE = -1


class Classifier(NamedTuple):
    """One inner node of the tree: a softmax over its children.

    Attributes:
        index: Position in :attr:`Taxonomy.classifiers` (preorder).
        node: The inner node's name.
        node_index: The inner node's node index.
        level: Level of its children (the root classifier is level 1).
        children: Child names, in output-channel order.
        child_indices: ``(K,)`` node indices of the children.
    """

    index: int
    node: str
    node_index: int
    level: int
    children: tuple[str, ...]
    child_indices: np.ndarray

    @property
    def num_outputs(self) -> int:
        return len(self.children)


def _check_document(data: Any, source: str
                    ) -> tuple[Optional[TaxonomySpec], list[Problem],
                               Optional[ValidationResult]]:
    with gc_paused():
        spec, problems = parse_spec(data, source)
        if spec is None:
            return None, problems, None
        result = validate_spec(spec)
    return spec, problems + result.problems, result


def validate_file(path: Union[str, os.PathLike]) -> list[Problem]:
    """All problems of a taxonomy file, errors and warnings, without raising
    for them.

    Args:
        path: The YAML file.

    Returns:
        Problems in check order; the file is valid when none is an error.

    Raises:
        TaxonomyFileError: The file is missing or unreadable.
        TaxonomySyntaxError: The file is not valid YAML, or not usable as
            taxonomy YAML; subclasses in :mod:`mmhier.taxonomy.errors`:
            ``TaxonomyEncodingError`` (not UTF-8, control characters),
            ``TaxonomyUnsupportedYAMLError`` (anchors, aliases, tags, several
            documents) and ``TaxonomyLimitError`` (too large, nested too deep).
    """
    return _check_document(read_yaml(path), os.fspath(path))[1]


def _readonly(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


class Taxonomy:
    """A validated label taxonomy and everything derived from it.

    Build it with :meth:`from_file`, :meth:`from_string` or :meth:`from_dict`.

    Args:
        spec: The parsed file.
        problems: Problems found while parsing and validating; must contain
            no errors.
        result: The validation result (tree index, supervision).

    Example:
        >>> tax = Taxonomy.from_file('taxonomies/cs_vistas_gtsdb.yaml')
        >>> [c.num_outputs for c in tax.classifiers]
        [53, 10, 3, 2, 43]
        >>> tax.nodes[tax.label_to_node('cityscapes')[7]]
        'Driveable'
    """

    def __init__(self, spec: TaxonomySpec, problems: list[Problem], result: Any):
        self.spec = spec
        self.warnings: tuple[Problem, ...] = tuple(p for p in problems if not p.is_error)
        self._tree = result.tree
        self._supplied: dict[str, dict[int, set[frozenset[int]]]] = result.supplied
        self._datasets: dict[str, DatasetSpec] = {d.key: d for d in spec.datasets}
        self._per_dataset_cache: dict[tuple[str, str], np.ndarray] = {}
        #: The YAML text it was built from (``None`` for :meth:`from_dict`).
        self.text: Optional[str] = None

    # ------------------------------------------------------------------ build
    @classmethod
    def from_dict(cls, data: Any, source: str = '<dict>') -> 'Taxonomy':
        """Build from a parsed document (plain or position-marked dicts).

        Raises:
            TaxonomyValidationError: The document has errors; all are listed.
        """
        spec, problems, result = _check_document(data, source)
        if spec is None or result is None or result.tree is None \
                or any(p.is_error for p in problems):
            raise TaxonomyValidationError(problems)
        return cls(spec, problems, result)

    @classmethod
    def from_string(cls, text: str, source: str = '<string>') -> 'Taxonomy':
        """Build from YAML text.

        Raises:
            TaxonomySyntaxError: The text is not valid YAML (see
                :func:`validate_file` for the subclasses).
            TaxonomyValidationError: The taxonomy has errors.
        """
        taxonomy = cls.from_dict(parse_yaml(text, source), source)
        taxonomy.text = text
        return taxonomy

    @classmethod
    def from_file(cls, path: Union[str, os.PathLike]) -> 'Taxonomy':
        """Load and validate a taxonomy YAML file.

        Raises:
            TaxonomyFileError: The file is missing or unreadable.
            TaxonomySyntaxError: The file is not valid YAML (see
                :func:`validate_file` for the subclasses).
            TaxonomyValidationError: The taxonomy has errors.
        """
        source = os.fspath(path)
        return cls.from_string(read_text(source, 'taxonomy file'), source)

    # ------------------------------------------------------------ structure
    @cached_property
    def graph(self) -> nx.DiGraph:
        """The tree as a networkx DiGraph (edges parent -> child, in order).

        Nodes carry ``level`` and ``line`` (their line in the file) attributes.
        """
        graph = nx.DiGraph(name=self.name)
        lines = self.spec.node_lines
        graph.add_nodes_from((n, {'level': int(d), 'line': lines.get(n)})
                             for n, d in zip(self._tree.names, self._tree.depth))
        graph.add_edges_from((self._tree.names[p], n) for n, p in
                             zip(self._tree.names[1:], self._tree.parent[1:].tolist()))
        return graph

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def source(self) -> str:
        return self.spec.source

    @property
    def nodes(self) -> tuple[str, ...]:
        """All node names in preorder; the root is ``nodes[0]``."""
        return self._tree.names

    @property
    def num_nodes(self) -> int:
        return len(self._tree)

    @property
    def root(self) -> str:
        return self._tree.names[0]

    @cached_property
    def classifiers(self) -> tuple[Classifier, ...]:
        """Inner nodes in preorder, each with its ordered children."""
        tree = self._tree
        out = []
        for node, children in enumerate(tree.children):
            if children:
                out.append(Classifier(len(out), tree.names[node], node,
                                      int(tree.depth[node]) + 1,
                                      tuple(tree.names[c] for c in children),
                                      _readonly(np.asarray(children, dtype=np.int64))))
        return tuple(out)

    @property
    def num_classifiers(self) -> int:
        return len(self.classifiers)

    @cached_property
    def leaves(self) -> tuple[str, ...]:
        """Leaf names in preorder (the finest level of detail)."""
        return tuple(self._tree.names[i] for i in self.leaf_indices)

    @cached_property
    def leaf_indices(self) -> np.ndarray:
        """``(num_leaves,)`` node indices of the leaves, in preorder."""
        return _readonly(np.asarray([i for i, c in enumerate(self._tree.children)
                                     if not c], dtype=np.int64))

    @property
    def num_leaves(self) -> int:
        return len(self.leaf_indices)

    @property
    def num_levels(self) -> int:
        """Depth of the deepest leaf (number of classifier levels)."""
        return int(self._tree.depth.max())

    def index(self, node: str) -> int:
        """Node index of a name.

        Raises:
            UnknownNodeError: No such node (with a did-you-mean hint).
        """
        try:
            return self._tree.index[node]
        except (KeyError, TypeError):
            hint = did_you_mean(node, self._tree.names)
            raise UnknownNodeError(f'no node {node!r} in taxonomy {self.name!r} '
                                   f'({self.source}); {hint or "names are case-sensitive"}'
                                   ) from None

    def __contains__(self, node: object) -> bool:
        return node in self._tree.index

    def level(self, node: str) -> int:
        """Level (depth) of a node; the root is 0."""
        return int(self._tree.depth[self.index(node)])

    def parent(self, node: str) -> Optional[str]:
        """Parent name, ``None`` for the root."""
        p = int(self._tree.parent[self.index(node)])
        return None if p < 0 else self._tree.names[p]

    def children(self, node: str) -> tuple[str, ...]:
        """Child names in order; empty for a leaf."""
        return tuple(self._tree.names[c] for c in self._tree.children[self.index(node)])

    def is_leaf(self, node: str) -> bool:
        return not self._tree.children[self.index(node)]

    def path(self, node: str) -> tuple[str, ...]:
        """Names from the root down to ``node`` (both included)."""
        i = self.index(node)
        out = []
        while i >= 0:
            out.append(self._tree.names[i])
            i = int(self._tree.parent[i])
        return tuple(reversed(out))

    def ancestors(self, node: str) -> tuple[str, ...]:
        """Proper ancestors of ``node``, root first."""
        return self.path(node)[:-1]

    def classifier(self, node: str) -> Classifier:
        """The classifier of an inner node.

        Raises:
            UnknownNodeError: No such node, or it is a leaf.
        """
        i = self.index(node)
        position = self.classifier_of_node[i]
        if position < 0:
            raise UnknownNodeError(f'{node!r} is a leaf of taxonomy {self.name!r}, '
                                   'not a classifier')
        return self.classifiers[position]

    @cached_property
    def classifier_of_node(self) -> np.ndarray:
        """``(N,)`` classifier index of every inner node, -1 for leaves."""
        table = np.full(self.num_nodes, IGNORE, dtype=np.int64)
        for c in self.classifiers:
            table[c.node_index] = c.index
        return _readonly(table)

    # ------------------------------------------------------------- tables
    @property
    def parent_index(self) -> np.ndarray:
        """``(N,)`` parent node index of every node, -1 for the root."""
        return _readonly(self._tree.parent)

    @property
    def node_level(self) -> np.ndarray:
        """``(N,)`` level of every node."""
        return _readonly(self._tree.depth)

    @cached_property
    def child_position(self) -> np.ndarray:
        """``(N,)`` position of every node among its parent's children (-1 root)."""
        table = np.full(self.num_nodes, IGNORE, dtype=np.int64)
        for children in self._tree.children:
            table[list(children)] = np.arange(len(children))
        return _readonly(table)

    @cached_property
    def ancestor_at_level(self) -> np.ndarray:
        """Ancestor of every node at every level.

        Shape:
            ``(num_levels + 1, N)``: entry ``[k, n]`` is the ancestor of node
            ``n`` at level ``k``, or ``n`` itself where ``n`` is shallower.
        """
        depth, parent = self._tree.depth, self._tree.parent
        rows = [np.arange(self.num_nodes, dtype=np.int64)]
        for k in range(self.num_levels - 1, -1, -1):
            cur = rows[-1]
            rows.append(np.where(depth[cur] > k, parent[cur], cur))
        return _readonly(np.stack(rows[::-1]))

    def leaf_ancestor_at_level(self, level: int) -> np.ndarray:
        """Node index of every leaf's ancestor at ``level``.

        Args:
            level: 0 (root) .. :attr:`num_levels`; leaves shallower than
                ``level`` map to themselves.

        Returns:
            ``(num_leaves,)`` int64 node indices.
        """
        if not 0 <= level <= self.num_levels:
            raise ValueError(f'level must be in 0..{self.num_levels}, got {level}')
        return _readonly(self.ancestor_at_level[level][self.leaf_indices])

    @cached_property
    def classifier_targets(self) -> np.ndarray:
        """Target of every classifier for a pixel labelled with each node.

        Entry ``[j, n]`` is the position, among classifier ``j``'s children,
        of the child on the path to node ``n`` when ``j`` is a proper ancestor
        of ``n``; otherwise :data:`IGNORE` (the pixel does not train ``j``).
        Index it with a label map of node ids to get classifier ``j``'s target.

        Shape:
            ``(num_classifiers, N)`` int64.
        """
        anc, depth = self.ancestor_at_level, self._tree.depth
        table = np.full((self.num_classifiers, self.num_nodes), IGNORE, dtype=np.int64)
        for c in self.classifiers:
            d = c.level - 1  # depth of the classifier's own node
            below = (anc[d] == c.node_index) & (depth > d)
            table[c.index] = np.where(below, self.child_position[anc[min(d + 1,
                                                                       self.num_levels)]],
                                      IGNORE)
        return _readonly(table)

    @cached_property
    def ancestor_matrix(self) -> np.ndarray:
        """``(N, N)`` bool, ``[a, n]`` true when ``a`` is ``n`` or an ancestor.

        Dense: meant for small and medium taxonomies (N up to a few thousand).
        """
        anc = self.ancestor_at_level
        matrix = np.zeros((self.num_nodes, self.num_nodes), dtype=bool)
        columns = np.broadcast_to(np.arange(self.num_nodes), anc.shape)
        matrix[anc.ravel(), columns.ravel()] = True
        return _readonly(matrix)

    # -------------------------------------------------------------- targets
    def _class_members(self, cls: Any) -> tuple[int, ...]:
        """A class's reduced target (node indices in preorder)."""
        return reduce_node_set(self._tree, (self._tree.index[n] for n in cls.nodes))

    @cached_property
    def _node_set_index(self) -> dict[tuple[int, ...], int]:
        index: dict[tuple[int, ...], int] = {}
        for d in self._datasets.values():
            for c in d.classes:
                if c.is_node_set:
                    members = self._class_members(c)
                    if len(members) > 1:
                        index.setdefault(members, self.num_nodes + len(index))
        return index

    @cached_property
    def _set_allowed(self) -> list[dict[int, frozenset[int]]]:
        """Per node set: classifier node -> its allowed children."""
        return [allowed_children(self._tree, members) for members in self._node_set_index]

    @property
    def node_sets(self) -> tuple[tuple[str, ...], ...]:
        """The distinct node sets the datasets' classes map to (reduced: no
        member below another; two or more members), in order of first
        appearance; set ``s`` is target ``num_nodes + s``."""
        return tuple(tuple(self._tree.names[m] for m in members)
                     for members in self._node_set_index)

    @property
    def num_targets(self) -> int:
        """Number of label targets: every node, then every node set
        (:mod:`mmhier.taxonomy.node_sets`). Equals :attr:`num_nodes` when no
        class maps to a node set."""
        return self.num_nodes + len(self._node_set_index)

    @cached_property
    def target_members(self) -> tuple[tuple[int, ...], ...]:
        """``(T,)`` node indices of every target: ``(n,)`` for node ``n``,
        then each node set's members."""
        return tuple((n,) for n in range(self.num_nodes)) + tuple(self._node_set_index)

    def target_name(self, target: int) -> str:
        """A target for messages: the node name, or ``'[car, truck]'``."""
        return format_target([self._tree.names[m] for m in self.target_members[target]])

    def target_of(self, members: Iterable[int]) -> Optional[int]:
        """The target of a set of node indices, reduced (a set that reduces
        to one node is that node); ``None`` when no class maps to that set.

        Args:
            members: Node indices.
        """
        members = reduce_node_set(self._tree, (int(m) for m in members))
        if len(members) == 1:
            return members[0]
        return self._node_set_index.get(members)

    @cached_property
    def target_lca(self) -> np.ndarray:
        """``(T,)`` int64 deepest node at or above every member of each target
        (the node itself for a node target): what the label says for sure;
        levels, classifier views and colours use it."""
        return _readonly(np.array([lowest_common_ancestor(self._tree, m)
                                   for m in self.target_members], dtype=np.int64))

    @cached_property
    def target_choices(self) -> np.ndarray:
        """What every classifier learns from a pixel of every target.

        Entry ``[j, t]`` is the position of the one allowed child of
        classifier ``j`` (:func:`~mmhier.taxonomy.node_sets.allowed_children`),
        :data:`~mmhier.taxonomy.node_sets.NO_TARGET` (-1) when ``j`` is on
        no path to the target, :data:`~mmhier.taxonomy.node_sets.SEVERAL`
        (-2) when some but not all children are allowed (a partial label;
        see :meth:`allowed_children`), or
        :data:`~mmhier.taxonomy.node_sets.ANY` (-3) when a node set allows
        them all (no term; every decision agrees). Columns ``< N`` equal
        :attr:`classifier_targets`.

        Shape:
            ``(num_classifiers, T)`` int64.
        """
        table = np.full((self.num_classifiers, self.num_targets), NO_TARGET, dtype=np.int64)
        table[:, :self.num_nodes] = self.classifier_targets
        for target, allowed in enumerate(self._set_allowed, self.num_nodes):
            for node, children in allowed.items():
                j = self.classifier_of_node[node]
                table[j, target] = self.child_position[next(iter(children))] \
                    if len(children) == 1 else SEVERAL \
                    if len(children) < len(self._tree.children[node]) else ANY
        return _readonly(table)

    def allowed_children(self, classifier: int) -> np.ndarray:
        """The children classifier ``classifier`` may choose for a pixel of
        every target.

        Args:
            classifier: Classifier index.

        Returns:
            ``(T, K)`` bool, read-only: row ``t`` marks the allowed children:
            one for an ordinary target, several for a partial label, all
            for :data:`~mmhier.taxonomy.node_sets.ANY`, none where the
            classifier is on no path to the target.
        """
        c = self.classifiers[classifier]
        choice = self.target_choices[classifier]
        table = np.zeros((self.num_targets, c.num_outputs), dtype=bool)
        single = np.flatnonzero(choice >= 0)
        table[single, choice[single]] = True
        table[choice == ANY] = True
        for target, allowed in enumerate(self._set_allowed, self.num_nodes):
            if choice[target] == SEVERAL:
                table[target, self.child_position[sorted(allowed[c.node_index])]] = True
        return _readonly(table)

    @cached_property
    def node_set_cover(self) -> np.ndarray:
        """``(S, N)`` bool: ``[s, n]`` true when node ``n`` is at or below a
        member of node set ``s`` (a prediction ``n`` falls in the set)."""
        anc, depth = self.ancestor_at_level, self._tree.depth
        cover = np.zeros((len(self._node_set_index), self.num_nodes), dtype=bool)
        for s, members in enumerate(self._node_set_index):
            for m in members:
                cover[s] |= anc[depth[m]] == m
        return _readonly(cover)

    # ------------------------------------------------------------- datasets
    @property
    def dataset_keys(self) -> tuple[str, ...]:
        return tuple(self._datasets)

    @property
    def datasets(self) -> dict[str, DatasetSpec]:
        return dict(self._datasets)

    def dataset(self, key: str) -> DatasetSpec:
        """The spec of one dataset.

        Raises:
            UnknownDatasetError: The taxonomy does not define ``key``.
        """
        try:
            return self._datasets[key]
        except KeyError:
            hint = did_you_mean(key, self._datasets) or \
                f"defined: {', '.join(self._datasets)}"
            raise UnknownDatasetError(f'taxonomy {self.name!r} ({self.source}) has no '
                                      f'dataset {key!r}; {hint}') from None

    def _cached(self, key: str, table: str, build: Any) -> np.ndarray:
        self.dataset(key)
        if (key, table) not in self._per_dataset_cache:
            self._per_dataset_cache[key, table] = _readonly(build(self._datasets[key]))
        return self._per_dataset_cache[key, table]

    def label_to_target(self, key: str) -> np.ndarray:
        """Lookup table dataset label id -> target (:data:`IGNORE` if ignored):
        the node id of a single-node class, ``num_nodes + s`` of a class of
        node set ``s`` (:attr:`node_sets`).

        Returns:
            ``(num_ids,)`` int64; ``lut[label_image]`` maps a whole label map.
        """
        def build(d: DatasetSpec) -> np.ndarray:
            lut = np.full(d.num_ids, IGNORE, dtype=np.int64)
            for c in d.classes:
                if not c.ignored:
                    members = self._class_members(c)
                    lut[c.id] = members[0] if len(members) == 1 \
                        else self._node_set_index[members]
            return lut
        return self._cached(key, 'label_to_target', build)

    def label_to_node(self, key: str) -> np.ndarray:
        """Lookup table dataset label id -> node index (:data:`IGNORE` if
        ignored); a class of a node set gives the set's deepest common
        ancestor (:attr:`target_lca`), what its label says for sure.

        Returns:
            ``(num_ids,)`` int64; ``lut[label_image]`` maps a whole label map.
        """
        def build(d: DatasetSpec) -> np.ndarray:
            targets = self.label_to_target(key)
            return np.where(targets >= 0, self.target_lca[targets], IGNORE)
        return self._cached(key, 'label_to_node', build)

    def node_to_dataset_class(self, key: str) -> np.ndarray:
        """Every node's class in a dataset's label space.

        A node maps to the id of its deepest ancestor-or-self that the dataset
        labels: predictions finer than the dataset's labels go up the tree.
        A member of a node set counts as labelled by the set's class unless
        a single-node class maps to it (for a gt pixel of a node set,
        evaluation accepts any node of the set: see
        :attr:`node_set_cover`).

        Returns:
            ``(N,)`` int64 dataset ids, :data:`IGNORE` where the dataset has
            no class at or above the node.
        """
        def build(d: DatasetSpec) -> np.ndarray:
            mapped = np.full(self.num_nodes, IGNORE, dtype=np.int64)
            targets = self.label_to_target(key)
            for c in reversed(d.classes):  # node sets: the smallest id wins
                if targets[c.id] >= self.num_nodes:
                    mapped[list(self.target_members[targets[c.id]])] = c.id
            for c in reversed(d.classes):  # then nodes; the smallest id wins
                if 0 <= targets[c.id] < self.num_nodes:
                    mapped[targets[c.id]] = c.id
            result = np.full(self.num_nodes, IGNORE, dtype=np.int64)
            for row in self.ancestor_at_level:  # shallow to deep: deeper wins
                candidate = mapped[row]
                result = np.where(candidate >= 0, candidate, result)
            return result
        return self._cached(key, 'node_to_dataset_class', build)

    def target_to_dataset_class(self, key: str) -> np.ndarray:
        """``(T,)`` int64 dataset class id of a gt pixel of every target: a
        node's :meth:`node_to_dataset_class`, a node set's class (the
        smallest id among classes of that set; :data:`IGNORE` for sets the
        dataset does not use)."""
        def build(d: DatasetSpec) -> np.ndarray:
            table = np.full(self.num_targets, IGNORE, dtype=np.int64)
            table[:self.num_nodes] = self.node_to_dataset_class(key)
            targets = self.label_to_target(key)
            for c in reversed(d.classes):   # a set that reduces to a node is that node
                if targets[c.id] >= self.num_nodes:
                    table[targets[c.id]] = c.id
            return table
        return self._cached(key, 'target_to_dataset_class', build)

    def leaf_to_dataset_class(self, key: str) -> np.ndarray:
        """``(num_leaves,)`` dataset id of every leaf (see
        :meth:`node_to_dataset_class`), for evaluating leaf predictions in a
        dataset's own label space."""
        return self._cached(key, 'leaf_to_dataset_class',
                            lambda d: self.node_to_dataset_class(key)[self.leaf_indices])

    def labelled_nodes(self, key: str) -> tuple[str, ...]:
        """Nodes a dataset labels (single-node classes' nodes and node-set
        members), in preorder."""
        index = self._tree.index
        nodes = {index[n] for c in self.dataset(key).classes for n in c.nodes}
        return tuple(self._tree.names[i] for i in sorted(nodes))

    def labelled_targets(self, key: str) -> np.ndarray:
        """``(T,)`` bool: the targets a dataset's classes map to."""
        def build(d: DatasetSpec) -> np.ndarray:
            mask = np.zeros(self.num_targets, dtype=bool)
            targets = self.label_to_target(key)
            mask[targets[targets >= 0]] = True
            return mask
        return self._cached(key, 'labelled_targets', build)

    def supplied_children(self, key: str, classifier: str) -> tuple[str, ...]:
        """Children of ``classifier`` that a dataset's labels allow (for
        single-node labels: the children it has examples of)."""
        self.dataset(key)
        node = self.index(classifier)
        children = set().union(*self._supplied[key].get(node, ()))
        return tuple(self._tree.names[c] for c in sorted(children))

    @cached_property
    def supervision(self) -> np.ndarray:
        """Which dataset trains which classifier.

        A dataset trains a classifier when its labels distinguish its
        children: no child is allowed by all of its labels there
        (:func:`~mmhier.taxonomy.node_sets.distinguishes`; for single-node
        labels: examples of at least two children), unless listed in
        ``supervision.skip``; or when it labels below it at all and lists it
        in ``supervision.force``.

        Shape:
            ``(num_datasets, num_classifiers)`` bool, rows in
            :attr:`dataset_keys` order.
        """
        table = np.zeros((len(self._datasets), self.num_classifiers), dtype=bool)
        for row, d in enumerate(self._datasets.values()):
            skip, force = set(d.skip), set(d.force)
            position = self.classifier_of_node
            for node, sets in self._supplied[d.key].items():
                name = self._tree.names[node]
                table[row, position[node]] = (distinguishes(sets) and name not in skip) \
                    or (bool(sets) and name in force)
        return _readonly(table)

    def common_children(self, key: str, classifier: str) -> tuple[str, ...]:
        """Children of ``classifier`` that every label of a dataset below it
        allows (e.g. the one child it labels): when there are any, the
        dataset does not train the classifier (see :attr:`supervision`)."""
        self.dataset(key)
        common = common_children(self._supplied[key].get(self.index(classifier), ()))
        return tuple(self._tree.names[c] for c in sorted(common))

    def trained_classifiers(self, key: str) -> tuple[str, ...]:
        """Classifier nodes a dataset trains, in classifier order."""
        row = self.supervision[self.dataset_keys.index(self.dataset(key).key)]
        return tuple(c.node for c in self.classifiers if row[c.index])

    def supervising_datasets(self, classifier: str) -> tuple[str, ...]:
        """Datasets that train a classifier, in file order."""
        column = self.supervision[:, self.classifier(classifier).index]
        return tuple(k for k, on in zip(self.dataset_keys, column) if on)

    # ------------------------------------------------------- serialisation
    def tree_dict(self) -> dict:
        """The tree as nested mappings ``{name: {child: ...}}``, leaves ``None``."""
        names, children = self._tree.names, self._tree.children
        built: dict[int, Optional[dict]] = {}
        for node in range(self.num_nodes - 1, -1, -1):  # children before parents
            built[node] = {names[c]: built.pop(c) for c in children[node]} \
                if children[node] else None
        return {names[0]: built[0]}

    def to_dict(self) -> dict:
        """A plain dict in the file format; ``from_dict(to_dict())`` round-trips."""
        datasets = {}
        for d in self._datasets.values():
            entry: dict[str, Any] = {'annotation': d.annotation, 'encoding': d.encoding,
                                     'num_ids': d.num_ids}
            if d.description:
                entry['description'] = d.description
            if d.ignore_ids:
                entry['ignore_ids'] = [a if a == b else f'{a}-{b}'
                                       for a, b in d.ignore_ids.ranges]
            classes = {}
            for c in d.classes:
                cls: dict[str, Any] = {'name': c.name}
                if c.ignored:
                    cls['ignore'] = True
                elif c.is_node_set:   # in tree order: the set, not how it was written
                    cls['nodes'] = sorted(c.nodes, key=self._tree.index.__getitem__)
                else:
                    cls['node'] = c.node
                if c.attributes:
                    cls['attributes'] = dict(c.attributes)
                classes[c.id] = cls
            entry['classes'] = classes
            if d.force or d.skip:
                entry['supervision'] = {'force': list(d.force), 'skip': list(d.skip)}
            datasets[d.key] = entry
        out: dict[str, Any] = {'name': self.name}
        if self.spec.description:
            out['description'] = self.spec.description
        out['tree'] = self.tree_dict()
        out['datasets'] = datasets
        return out

    @staticmethod
    def _digest(payload: Any) -> str:
        text = json.dumps(payload, sort_keys=True, separators=(',', ':'),
                          ensure_ascii=True, default=str)
        return hashlib.sha256(text.encode('utf-8')).hexdigest()

    @cached_property
    def tree_hash(self) -> str:
        """SHA-256 of the tree alone (node names, order, nesting).

        It fixes the model's output layout: two taxonomies with equal
        ``tree_hash`` give heads with identical channels.
        """
        return self._digest([list(self._tree.names), self._tree.parent.tolist()])

    @cached_property
    def label_hash(self) -> str:
        """SHA-256 of the label encoding: the tree and the node sets, in
        their order (:attr:`node_sets`); equal to :attr:`tree_hash` when no
        class maps to a node set.

        Encoded label maps carry it (``metainfo['taxonomy_hash']``): two
        taxonomies with equal ``label_hash`` read every label value alike.
        """
        if not self._node_set_index:
            return self.tree_hash
        return self._digest([self.tree_hash, [list(s) for s in self.node_sets]])

    @cached_property
    def content_hash(self) -> str:
        """SHA-256 of everything that has meaning: tree and dataset mappings.

        Independent of formatting, comments, key order of datasets, the
        taxonomy's name and descriptions.
        """
        payload = self.to_dict()
        payload.pop('name', None)
        payload.pop('description', None)
        for entry in payload['datasets'].values():
            entry.pop('description', None)
            entry['classes'] = sorted([k, v] for k, v in entry['classes'].items())
            if 'supervision' in entry:
                entry['supervision'] = {k: sorted(v) for k, v in
                                        entry['supervision'].items()}
        payload['tree'] = self.tree_hash
        return self._digest(payload)

    def __repr__(self) -> str:
        return (f'Taxonomy({self.name!r}, nodes={self.num_nodes}, '
                f'leaves={self.num_leaves}, classifiers={self.num_classifiers}, '
                f'datasets={list(self._datasets)})')
