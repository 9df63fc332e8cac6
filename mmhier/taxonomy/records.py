"""The records a taxonomy file is read into (see :mod:`mmhier.taxonomy.spec`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

from mmhier.taxonomy.id_ranges import IdRanges

ANNOTATION_TYPES = ('pixel', 'box')
#: Label encodings and the largest label id each can store.
ENCODINGS = {'uint8': 2**8 - 1, 'uint16': 2**16 - 1, 'int32': 2**31 - 1}
TOP_LEVEL_KEYS = ('name', 'description', 'tree', 'datasets')
DATASET_KEYS = ('description', 'annotation', 'encoding', 'num_ids', 'ignore_ids',
                'classes', 'supervision')
CLASS_KEYS = ('name', 'node', 'nodes', 'ignore', 'attributes')
SUPERVISION_KEYS = ('force', 'skip')


@dataclass(frozen=True)
class DatasetClass:
    """One label id of a dataset.

    Args:
        id: The label id as stored in the dataset's label images/files.
        name: The dataset's own name of the class.
        nodes: The taxonomy node(s) it maps to: one node (``node: car``), or
            a **node set** (``nodes: [car, truck]``: the pixel is one of
            these nodes, a partial label); empty when ignored. A single name
            is accepted and becomes a 1-tuple, ``None`` becomes ``()``.
        attributes: Free-form data kept with the class (e.g. a sign's shape).
        line: Line of the entry in the taxonomy file.
    """

    id: int
    name: str
    nodes: tuple[str, ...]
    attributes: Mapping[str, Any] = field(default_factory=dict)
    line: Optional[int] = None

    def __post_init__(self) -> None:
        if self.nodes is None or isinstance(self.nodes, str):
            object.__setattr__(self, 'nodes', () if self.nodes is None else (self.nodes,))
        elif not isinstance(self.nodes, tuple):
            object.__setattr__(self, 'nodes', tuple(self.nodes))

    @property
    def ignored(self) -> bool:
        """The class maps to no node."""
        return not self.nodes

    @property
    def is_node_set(self) -> bool:
        """The class maps to a set of two or more nodes (a partial label)."""
        return len(self.nodes) > 1

    @property
    def node(self) -> Optional[str]:
        """The node of a single-node class; ``None`` for ignored classes and
        node sets (use :attr:`nodes`)."""
        return self.nodes[0] if len(self.nodes) == 1 else None


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset's label space and how it maps into the taxonomy.

    Args:
        key: The dataset's key in the file (e.g. ``'cityscapes'``).
        annotation: ``'pixel'`` (per-pixel masks) or ``'box'`` (boxes).
        encoding: Label encoding, one of :data:`ENCODINGS`.
        num_ids: Size of the label space: ids are ``0 .. num_ids - 1``.
        classes: The listed classes, in id order.
        ignore_ids: Ids without a class entry that are ignored, as ranges.
        force: Classifiers to train from this dataset despite the
            single-child rule.
        skip: Classifiers never to train from this dataset.
        description: Free text.
        line: Line of the dataset's key.
        key_lines: Lines of the dataset's own keys (for messages).
        rejected_ids: Ids whose class entry had errors (already reported;
            validation does not report them again as unmapped).
    """

    key: str
    annotation: str
    encoding: str
    num_ids: int
    classes: tuple[DatasetClass, ...]
    ignore_ids: IdRanges = IdRanges()
    force: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    description: str = ''
    line: Optional[int] = None
    key_lines: Mapping[str, int] = field(default_factory=dict)
    rejected_ids: IdRanges = IdRanges()


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
