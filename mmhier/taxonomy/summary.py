"""Human-readable summary of a taxonomy (the ``show`` command)."""
from __future__ import annotations

from mmhier.taxonomy.id_ranges import IdRanges, format_ids
from mmhier.taxonomy.node_sets import format_target
from mmhier.taxonomy.taxonomy import Taxonomy


#: Deepest indentation drawn, in characters; deeper nodes are drawn with the
#: last part of their indentation after a '…' (the level column stays exact).
MAX_INDENT = 64


def _tree_rows(tax: Taxonomy) -> list[tuple[str, str]]:
    """``(tree-drawing prefix + name, level)`` per node, in preorder."""
    rows: list[tuple[str, str]] = []
    # stack of (node, prefix for its children, own connector)
    stack: list[tuple[str, str, str]] = [(tax.root, '', '')]
    while stack:
        node, prefix, connector = stack.pop()
        children = tax.children(node)
        label = f'{node} [{len(children)}]' if children else node
        rows.append((connector + label, f'L{tax.level(node)}'))
        child_prefix = prefix + ('' if not connector else
                                 ('    ' if connector.endswith('└── ') else '│   '))
        if len(child_prefix) > MAX_INDENT:
            child_prefix = '…' + child_prefix[-(MAX_INDENT - 4):]
        for i in range(len(children) - 1, -1, -1):
            last = i == len(children) - 1
            stack.append((children[i], child_prefix,
                          child_prefix + ('└── ' if last else '├── ')))
    return rows


def _ids_per_node(tax: Taxonomy, key: str) -> dict[str, str]:
    """Node -> its ids, then ``{id}`` for each node set it is a member of."""
    by_node: dict[str, list[int]] = {}
    in_sets: dict[str, list[int]] = {}
    for cls in tax.dataset(key).classes:
        for node in cls.nodes:
            (in_sets if cls.is_node_set else by_node).setdefault(node, []).append(cls.id)
    return {node: ', '.join(([format_ids(by_node[node])] if node in by_node else [])
                            + [f'{{{i}}}' for i in in_sets.get(node, [])])
            for node in {**by_node, **in_sets}}


def format_tree(tax: Taxonomy) -> str:
    """The tree with levels, classifier sizes ``[k]`` and, per dataset, the
    label ids that map to each node (``{7}``: id 7 is a node set holding the
    node)."""
    rows = _tree_rows(tax)
    keys = tax.dataset_keys
    ids = [_ids_per_node(tax, k) for k in keys]
    name_width = max(len(r[0]) for r in rows)
    widths = [max(len(k), *(len(v) for v in m.values())) if m else len(k)
              for k, m in zip(keys, ids)]
    header = ' ' * (name_width + 6) + '  '.join(k.ljust(w) for k, w in zip(keys, widths))
    lines = [header.rstrip()]
    for (label, level), node in zip(rows, tax.nodes):
        cells = '  '.join(m.get(node, '·').ljust(w) for m, w in zip(ids, widths))
        lines.append(f'{label.ljust(name_width)}  {level.ljust(4)}{cells}'.rstrip())
    return '\n'.join(lines)


def format_classifiers(tax: Taxonomy) -> str:
    """One line per classifier: level, outputs and the datasets training it."""
    width = max(len(c.node) for c in tax.classifiers)
    lines = [f"{'#':>3}  {'classifier'.ljust(width)}  level  outputs  trained by"]
    for c in tax.classifiers:
        trained = ', '.join(tax.supervising_datasets(c.node)) or '(no dataset!)'
        lines.append(f'{c.index:>3}  {c.node.ljust(width)}  L{c.level:<4}  '
                     f'{c.num_outputs:>7}  {trained}')
    return '\n'.join(lines)


def format_dataset(tax: Taxonomy, key: str) -> str:
    """Label space size, what a dataset labels and which classifiers it trains."""
    d = tax.dataset(key)
    mapped = [c for c in d.classes if not c.ignored]
    ignored = IdRanges.from_ids(c.id for c in d.classes if c.ignored).union(
        d.ignore_ids)
    nodes = tax.labelled_nodes(key)
    inner = [n for n in nodes if not tax.is_leaf(n)]
    lines = [f'{key}: {d.annotation} annotations, {d.num_ids} ids ({d.encoding}): '
             f'{len(mapped)} mapped, {ignored.count} ignored'
             + (f' [{ignored}]' if ignored else '')]
    lines.append(f'  labels {len(nodes)} nodes: {len(nodes) - len(inner)} leaves'
                 + (f", coarse (inner) nodes: {', '.join(inner)}" if inner else ''))
    node_sets = [f'{c.id} {c.name} = {format_target(c.nodes)}'
                 for c in d.classes if c.is_node_set]
    if node_sets:
        lines.append(f"  node sets (partial labels): {'; '.join(node_sets)}")
    trained = tax.trained_classifiers(key)
    lines.append(f"  trains: {', '.join(trained) or '(nothing)'}")
    not_trained = []
    for c in tax.classifiers:
        supplied = tax.supplied_children(key, c.node)
        if not supplied or c.node in trained:
            continue
        common = tax.common_children(key, c.node)
        if c.node in d.skip:
            not_trained.append(f'{c.node} (skip)')
        elif len(common) == 1 and supplied == common:
            not_trained.append(f'{c.node} (labels only {common[0]})')
        else:
            not_trained.append(f"{c.node} (every label allows {', '.join(common)})")
    if not_trained:
        lines.append(f"  does not train: {'; '.join(not_trained)}")
    if d.force:
        lines.append(f"  forced: {', '.join(d.force)}")
    return '\n'.join(lines)


def format_show(tax: Taxonomy) -> str:
    """Everything ``mmhier-taxonomy show`` prints."""
    parts = [
        f'Taxonomy {tax.name!r} ({tax.source})',
        f'  {tax.num_nodes} nodes, {tax.num_leaves} leaves, {tax.num_classifiers} '
        f'classifiers on {tax.num_levels} levels, {len(tax.dataset_keys)} datasets',
        f'  content hash {tax.content_hash[:16]}  tree hash {tax.tree_hash[:16]}',
        '',
        'Tree (level; [k] = classifier with k outputs; columns: dataset label ids '
        'mapped to each node)',
        format_tree(tax),
        '',
        'Classifiers',
        format_classifiers(tax),
        '',
        'Datasets',
        '\n'.join(format_dataset(tax, k) for k in tax.dataset_keys),
    ]
    if tax.warnings:
        parts += ['', f'Warnings ({len(tax.warnings)})',
                  '\n'.join(str(w) for w in tax.warnings)]
    return '\n'.join(parts)
