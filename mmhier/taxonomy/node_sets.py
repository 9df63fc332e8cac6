"""Label targets: what one dataset class says a pixel is.

A class maps to one node (``node: car``: the pixel is a car, or something
below ``car``) or to a **node set** (``nodes: [car, truck]``: the pixel is one
of these nodes - a partial label). Both are *targets*; a single node is the
one-member case. For every classifier a target allows some of its children:

* the classifier is **on the target's path** when it is a proper ancestor of
  a member; its **allowed children** are the children whose subtree holds a
  member;
* a classifier on no member's path learns nothing from the label (no term);
  neither does one whose children are all allowed (the label does not tell
  them apart, e.g. ``[car, truck]`` at a ``vehicle`` with just those two
  children), but any decision it takes agrees with the label (box
  refinement keeps the pixel for the classifiers below it);
* exactly one allowed child is an ordinary target; several are a partial
  label (the loss maximises their summed probability).

Sets are used **reduced**: a member below another member adds nothing (the
ancestor already covers it) and is dropped; a set that reduces to one node is
that node. Everything here is plain Python on a :class:`TreeIndex` (no numpy
tables, no torch), shared by validation and :class:`~mmhier.taxonomy.Taxonomy`.
"""
from __future__ import annotations

from typing import Iterable, Sequence

from mmhier.taxonomy.tree_index import TreeIndex

#: ``Taxonomy.target_choices`` value of a classifier the target does not train.
NO_TARGET = -1
#: ``Taxonomy.target_choices`` value of a partial label: several allowed children.
SEVERAL = -2
#: ``Taxonomy.target_choices`` value of a node set that allows every child of
#: a classifier on its path: no term, but every decision agrees with it.
ANY = -3


def format_target(nodes: Sequence[str]) -> str:
    """A class's target as text: ``car`` for one node, ``[car, truck]`` for a
    node set, ``(none)`` for an ignored class."""
    if not nodes:
        return '(none)'
    return nodes[0] if len(nodes) == 1 else f"[{', '.join(nodes)}]"


def redundant_members(tree: TreeIndex, members: Iterable[int]) -> dict[int, int]:
    """Members of a node set that lie below another member.

    Args:
        tree: The tree.
        members: Node indices of the set.

    Returns:
        Redundant member -> the member above it (the nearest one).
    """
    members = set(members)
    out = {}
    for node in members:
        ancestor = int(tree.parent[node])
        while ancestor >= 0:
            if ancestor in members:
                out[node] = ancestor
                break
            ancestor = int(tree.parent[ancestor])
    return out


def reduce_node_set(tree: TreeIndex, members: Iterable[int]) -> tuple[int, ...]:
    """A node set without its redundant members, in preorder.

    Args:
        tree: The tree.
        members: Node indices.

    Returns:
        The members no other member is above, ascending.
    """
    members = set(members)
    return tuple(sorted(members - set(redundant_members(tree, members))))


def allowed_children(tree: TreeIndex, members: Sequence[int]
                     ) -> dict[int, frozenset[int]]:
    """The children each classifier on a (reduced) target's path may choose.

    Args:
        tree: The tree.
        members: The target's node indices, reduced (no member below another).

    Returns:
        Classifier node index -> its allowed child indices, for every proper
        ancestor of a member (every child allowed is possible for a node set).
    """
    # a member is an example of the child on its path, as a single-node label is
    return {node: frozenset(children)
            for node, children in tree.supplied_children(members).items()}


def lowest_common_ancestor(tree: TreeIndex, members: Sequence[int]) -> int:
    """The deepest node at or above every member (the member itself for a
    single node): what the label says for sure."""
    paths = []
    for node in members:
        path = [int(node)]
        while tree.parent[path[-1]] >= 0:
            path.append(int(tree.parent[path[-1]]))
        paths.append(path[::-1])
    common = 0
    for column in zip(*paths):
        if len(set(column)) > 1:
            break
        common = column[0]
    return common


def covers_node(tree: TreeIndex, members: Sequence[int], node: int) -> bool:
    """Whether a node set covers all of ``node``'s subtree: every child of
    ``node`` is a member or is covered in turn (the set then means ``node``).

    Args:
        tree: The tree.
        members: Node indices of the set.
        node: The node to test (usually the set's lowest common ancestor).
    """
    members = set(members)
    stack = [node]
    while stack:   # iterative: trees may be thousands of levels deep
        n = stack.pop()
        if n in members:
            continue
        if not tree.children[n]:
            return False
        stack.extend(tree.children[n])
    return True


def label_sets(tree: TreeIndex, targets: Iterable[tuple[int, ...]]
               ) -> dict[int, set[frozenset[int]]]:
    """The distinct allowed-children sets a dataset's targets give each
    classifier.

    A dataset **distinguishes** children of a classifier when no child is
    allowed by all of its labels there (:func:`distinguishes`; for
    single-node labels: labels below at least two children); that is when it
    trains the classifier. Otherwise always answering a child every label
    allows would cost nothing: the dataset would teach "everything is that".

    Args:
        tree: The tree.
        targets: The dataset's reduced targets (node index tuples).

    Returns:
        Classifier node index -> the distinct allowed sets (frozensets of
        child indices); classifiers no target trains are absent (a node set
        allowing every child of a classifier trains it not).
    """
    out: dict[int, set[frozenset[int]]] = {}
    for members in set(targets):
        for node, children in allowed_children(tree, members).items():
            if len(members) == 1 or len(children) < len(tree.children[node]):
                out.setdefault(node, set()).add(children)
    return out


def common_children(sets: Iterable[frozenset[int]]) -> frozenset[int]:
    """The children every one of a dataset's allowed sets holds (empty when
    there are no sets)."""
    sets = list(sets)
    return frozenset.intersection(*sets) if sets else frozenset()


def distinguishes(sets: Iterable[frozenset[int]]) -> bool:
    """Whether labels with these allowed sets tell a classifier's children
    apart: there is at least one set and no child all sets allow."""
    sets = list(sets)
    return bool(sets) and not common_children(sets)
