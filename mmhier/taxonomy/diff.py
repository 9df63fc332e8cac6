"""What changed between two taxonomies: nodes, classifiers, dataset mappings.

``mmhier-taxonomy diff OLD NEW`` prints it; :func:`diff_taxonomies` returns
it as data (:class:`TaxonomyDiff`, ``to_dict()`` for JSON). Nodes are matched
by name; a node that exists only in OLD and one that exists only in NEW are
the same node *renamed* when they stand at the same place - the same parent
and the same children (through the renames found so far) - and the same
datasets' ids map to them. A node whose parent changed is *moved*. For every
classifier whose children changed, :attr:`ClassifierChange.channel_map` says
which old output channel each new output channel continues (``None``: a new
child), the table a checkpoint migration needs.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Optional

from mmhier.taxonomy.node_sets import format_target
from mmhier.taxonomy.taxonomy import Taxonomy


@dataclass(frozen=True)
class ClassifierChange:
    """A classifier present in both taxonomies whose children changed.

    Attributes:
        node: Its name in NEW.
        old_children: Its children in OLD (OLD's names).
        new_children: Its children in NEW.
        channel_map: For every NEW output channel, the OLD output channel of
            the same child, ``None`` for a child the classifier did not have.
    """

    node: str
    old_children: tuple[str, ...]
    new_children: tuple[str, ...]
    channel_map: tuple[Optional[int], ...]


@dataclass(frozen=True)
class MappingChange:
    """A dataset id whose node changed (renames aside).

    Attributes:
        dataset: Dataset key.
        id: Label id.
        name: The class name (NEW's, else OLD's).
        old_node: Node in OLD, a node set as ``[a, b]`` (``None``: ignored or
            not listed).
        new_node: Node in NEW, likewise.
    """

    dataset: str
    id: int
    name: str
    old_node: Optional[str]
    new_node: Optional[str]


@dataclass(frozen=True)
class TaxonomyDiff:
    """Differences from OLD to NEW (see the module docstring)."""

    old_name: str
    new_name: str
    old_tree_hash: str
    new_tree_hash: str
    old_content_hash: str
    new_content_hash: str
    added: tuple[tuple[str, str], ...]            # (node, parent)
    removed: tuple[str, ...]
    renamed: tuple[tuple[str, str], ...]          # (old name, new name)
    moved: tuple[tuple[str, str, str], ...]       # (node, old parent, new parent)
    classifiers_added: tuple[str, ...]
    classifiers_removed: tuple[str, ...]
    classifiers_changed: tuple[ClassifierChange, ...]
    datasets_added: tuple[str, ...]
    datasets_removed: tuple[str, ...]
    mapping_changes: tuple[MappingChange, ...]

    @property
    def same_tree(self) -> bool:
        """Whether the trees (and so a model's output channels) are equal."""
        return self.old_tree_hash == self.new_tree_hash

    def to_dict(self) -> dict:
        """Plain data for JSON."""
        out = asdict(self)
        out['same_tree'] = self.same_tree
        return out

    def format_text(self) -> str:
        """The report ``mmhier-taxonomy diff`` prints."""
        lines = [f'{self.old_name} (tree {self.old_tree_hash[:12]}) -> {self.new_name} '
                 f'(tree {self.new_tree_hash[:12]})',
                 'tree: unchanged' if self.same_tree else 'tree: changed (a model trained '
                 'on OLD needs tools/migrate_checkpoint.py)']

        def section(title: str, rows: list[str]) -> None:
            if rows:
                lines.append(f'{title} ({len(rows)}):')
                lines.extend(f'  {row}' for row in rows)

        section('nodes added', [f'{n} (under {p})' for n, p in self.added])
        section('nodes removed', list(self.removed))
        section('nodes renamed', [f'{a} -> {b}' for a, b in self.renamed])
        section('nodes moved', [f'{n}: {a} -> {b}' for n, a, b in self.moved])
        section('classifiers added', list(self.classifiers_added))
        section('classifiers removed', list(self.classifiers_removed))
        section('classifiers changed', [_describe(c) for c in self.classifiers_changed])
        section('datasets added', list(self.datasets_added))
        section('datasets removed', list(self.datasets_removed))
        section('dataset mappings changed', [
            f'{m.dataset} {m.id} {m.name!r}: {m.old_node or "(none)"} -> '
            f'{m.new_node or "(none)"}' for m in self.mapping_changes])
        if len(lines) == 2 and self.old_content_hash == self.new_content_hash:
            lines.append('no differences')
        return '\n'.join(lines)


def _describe(change: ClassifierChange) -> str:
    carried = [f'{new}<-{old}' for new, old in enumerate(change.channel_map)
               if old is not None]
    fresh = [str(new) for new, old in enumerate(change.channel_map) if old is None]
    text = (f'{change.node}: {len(change.old_children)} -> {len(change.new_children)} '
            f'outputs; channels {", ".join(carried) or "none"} carried')
    return text + (f'; new: {", ".join(fresh)}' if fresh else '')


def _mapped_ids(tax: Taxonomy) -> dict[str, frozenset]:
    """Node -> the (dataset, id) pairs that map to it (alone or in a set)."""
    out: dict[str, set] = {}
    for key, spec in tax.datasets.items():
        for c in spec.classes:
            for node in c.nodes:
                out.setdefault(node, set()).add((key, c.id))
    return {node: frozenset(ids) for node, ids in out.items()}


def _find_renames(old: Taxonomy, new: Taxonomy) -> dict[str, str]:
    """Old name -> new name of the renamed nodes (see the module docstring)."""
    old_only = [n for n in old.nodes if n not in new]
    new_only = [n for n in new.nodes if n not in old]
    old_ids, new_ids = _mapped_ids(old), _mapped_ids(new)
    renames: dict[str, str] = {}
    changed = True
    while changed and old_only and new_only:   # renames below enable renames above
        changed = False

        def place(tax: Taxonomy, node: str, to_new: dict[str, str]) -> tuple:
            parent = tax.parent(node)
            return (to_new.get(parent, parent),
                    frozenset(to_new.get(c, c) for c in tax.children(node)))

        new_places: dict[tuple, list[str]] = {}
        for n in new_only:
            if n not in renames.values():
                new_places.setdefault((place(new, n, {}), new_ids.get(n, frozenset())),
                                      []).append(n)
        old_places: dict[tuple, list[str]] = {}
        for o in old_only:
            if o not in renames:
                old_places.setdefault((place(old, o, renames), old_ids.get(o, frozenset())),
                                      []).append(o)
        for signature, olds in old_places.items():
            news = new_places.get(signature, [])
            if len(olds) == 1 and len(news) == 1:
                renames[olds[0]] = news[0]
                changed = True
    return renames


def diff_taxonomies(old: Taxonomy, new: Taxonomy) -> TaxonomyDiff:
    """Compare two taxonomies.

    Args:
        old: The taxonomy a model was trained with.
        new: The changed taxonomy.

    Returns:
        The differences (empty lists where nothing changed).
    """
    renames = _find_renames(old, new)
    to_new = lambda name: renames.get(name, name)   # noqa: E731
    in_both = [n for n in old.nodes if to_new(n) in new]
    old_names = {to_new(n) for n in old.nodes}
    added = tuple((n, new.parent(n)) for n in new.nodes if n not in old_names)
    removed = tuple(n for n in old.nodes if to_new(n) not in new)
    moved = tuple((to_new(n), to_new(old.parent(n)), new.parent(to_new(n)))
                  for n in in_both if n != old.root
                  and to_new(old.parent(n)) != new.parent(to_new(n)))
    old_inner = {to_new(c.node): c for c in old.classifiers}
    new_inner = {c.node for c in new.classifiers}
    changes = []
    for c in new.classifiers:
        old_c = old_inner.get(c.node)
        if old_c is None:
            continue
        old_children = tuple(old.nodes[i] for i in old_c.child_indices)
        new_children = tuple(new.nodes[i] for i in c.child_indices)
        carried = [to_new(n) for n in old_children]
        if carried != list(new_children):
            channel_map = tuple(carried.index(n) if n in carried else None
                                for n in new_children)
            changes.append(ClassifierChange(c.node, old_children, new_children, channel_map))
    mapping_changes = []
    for key in new.dataset_keys:
        if key not in old.dataset_keys:
            continue
        before = {c.id: c for c in old.dataset(key).classes}
        after = {c.id: c for c in new.dataset(key).classes}
        for label_id in sorted(set(before) | set(after)):
            a, b = before.get(label_id), after.get(label_id)
            old_nodes = a.nodes if a is not None else ()
            new_nodes = b.nodes if b is not None else ()
            if {to_new(n) for n in old_nodes} != set(new_nodes):
                mapping_changes.append(MappingChange(
                    key, label_id, (b or a).name,
                    format_target(old_nodes) if old_nodes else None,
                    format_target(new_nodes) if new_nodes else None))
    return TaxonomyDiff(
        old.name, new.name, old.tree_hash, new.tree_hash, old.content_hash,
        new.content_hash, added, removed, tuple(renames.items()), moved,
        tuple(c.node for c in new.classifiers if c.node not in old_inner),
        tuple(c.node for c in old.classifiers if to_new(c.node) not in new_inner),
        tuple(changes),
        tuple(k for k in new.dataset_keys if k not in old.dataset_keys),
        tuple(k for k in old.dataset_keys if k not in new.dataset_keys),
        tuple(mapping_changes))
