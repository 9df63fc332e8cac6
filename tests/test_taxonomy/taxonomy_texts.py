"""Taxonomy texts shared by the taxonomy and robustness tests."""
from __future__ import annotations

#: A small valid taxonomy; every classifier is trained by dataset ``d``.
VALID = '''\
name: small
tree:
  root:
    sky:
    ground: [road, lane]
datasets:
  d:
    annotation: pixel
    classes: {0: sky, 1: road, 2: lane}
'''

DATASET = '''\
datasets:
  d:
    annotation: pixel
    classes: {0: sky, 1: road, 2: lane}
'''


def with_tree(tree_lines: str, datasets: str = DATASET) -> str:
    """A taxonomy whose ``tree:`` block is ``tree_lines`` (indented by the caller)."""
    return f'name: t\ntree:\n{tree_lines}{datasets}'


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the ``occurrence``-th line containing ``needle``."""
    seen = 0
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f'{needle!r} not in the text')


def caterpillar(depth: int, style: str = 'block') -> str:
    """A valid tree ``depth`` classifier levels deep.

    Node ``n<i>`` has the children ``l<i>`` (a leaf) and ``n<i+1>``;
    ``n<depth>`` is a leaf. Dataset ``d`` labels every leaf, so every
    classifier is trained.

    Args:
        depth: Number of classifier levels.
        style: ``'block'`` (one node per line; the text grows with depth
            squared) or ``'flow'`` (nested ``{...}`` on one line).
    """
    if style == 'block':
        lines = ['name: deep', 'tree:']
        for i in range(depth):
            indent = '  ' * (i + 1)
            lines += [f'{indent}n{i}:', f'{indent}  l{i}:']
        lines.append('  ' * (depth + 1) + f'n{depth}:')
        tree = '\n'.join(lines) + '\n'
    else:
        inner = ''
        for i in range(depth - 1, -1, -1):
            inner = '{' + f'l{i}: , n{i + 1}: {inner}' + '}'
        tree = f'name: deep\ntree:\n  n0: {inner}\n'
    classes = ''.join(f'      {k}: l{k}\n' for k in range(depth))
    return (tree + 'datasets:\n  d:\n    annotation: pixel\n    encoding: int32\n'
            f'    classes:\n{classes}      {depth}: n{depth}\n')
