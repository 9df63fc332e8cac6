"""Integer indexing of a validated tree.

Terms used throughout mmhier:

- **node**: a semantic class of the taxonomy; nodes form a rooted tree.
- **leaf**: a node without children; the finest level of detail.
- **classifier**: an inner node; it is one softmax over its ordered children.
- **level** of a node: its depth; the root is level 0 and its children are
  level 1. A classifier's level is the level of its children (the root
  classifier is "L1" as in the paper).
- **level of detail** of a label: the node a dataset's class maps to; an inner
  node means "labelled only to this level".

Nodes are indexed in preorder of the file (root = 0), classifiers and leaves
in the same preorder.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np


class TreeIndex:
    """Preorder integer view of a single-rooted tree.

    Args:
        root: The root node's name.
        edges: ``(parent, child)`` name pairs; children keep this order.

    Attributes:
        names: Node names in preorder.
        index: Name -> node index.
        parent: ``(N,)`` int64, parent index, -1 for the root.
        depth: ``(N,)`` int64, level of every node.
        children: Child indices of every node, in file order.
    """

    def __init__(self, root: str, edges: Sequence[tuple[str, str]]):
        by_parent: dict[str, list[str]] = {}
        for parent, child in edges:
            by_parent.setdefault(parent, []).append(child)
        names: list[str] = []
        parent_of: list[int] = []
        depth: list[int] = []
        stack = [(root, -1, 0)]
        while stack:
            name, parent, level = stack.pop()
            me = len(names)
            names.append(name)
            parent_of.append(parent)
            depth.append(level)
            stack.extend((c, me, level + 1) for c in reversed(by_parent.get(name, ())))
        self.names: tuple[str, ...] = tuple(names)
        self.index: dict[str, int] = {n: i for i, n in enumerate(names)}
        self.parent = np.asarray(parent_of, dtype=np.int64)
        self.depth = np.asarray(depth, dtype=np.int64)
        children: list[list[int]] = [[] for _ in names]
        for i, p in enumerate(parent_of):
            if p >= 0:
                children[p].append(i)
        self.children: tuple[tuple[int, ...], ...] = tuple(tuple(c) for c in children)

    def __len__(self) -> int:
        return len(self.names)

    def supplied_children(self, labelled: Sequence[int]) -> dict[int, set[int]]:
        """Which children of each classifier a set of labelled nodes reaches.

        A pixel labelled with node ``n`` is an example for every proper
        ancestor ``a`` of ``n``: of the child of ``a`` on the path to ``n``.

        Args:
            labelled: Node indices a dataset labels.

        Returns:
            Classifier node index -> set of its child indices with examples.
        """
        supplied: dict[int, set[int]] = {}
        parent = self.parent
        seen: set[int] = set()
        for node in labelled:
            child = int(node)
            ancestor = int(parent[child])
            while ancestor >= 0:
                if child in seen:  # the rest of the path was walked before
                    break
                seen.add(child)
                supplied.setdefault(ancestor, set()).add(child)
                child, ancestor = ancestor, int(parent[ancestor])
        return supplied
