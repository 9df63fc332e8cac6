"""How building and validating a taxonomy scales with its size.

Generates random trees of N nodes (branching 2..8) with three datasets - a
fine per-pixel one labelling every leaf, a coarse per-pixel one labelling the
level-1 nodes and a box dataset labelling every fifth leaf - and
times, best of ``--repeat`` runs:

- ``dict``:   parse + validate + build the Taxonomy from an in-memory dict,
- ``yaml``:   the same from YAML text (includes the YAML parser),
- ``tables``: the O(N * levels) lookup tables (ancestor_at_level,
  label_to_node, leaf_to_dataset_class, supervision).

Prints the times and the ratio t(largest) / t(smallest); near-linear scaling
means a ratio close to the size ratio (10k / 1k = 10). Every dataset grows in
proportion to N, so the ratio measures the code, not the input mix.

Usage:
    python benchmarks/taxonomy_scaling.py [--sizes 1000 10000] [--repeat 5]
"""
from __future__ import annotations

import argparse
import random
import time
from typing import Callable

import yaml

from mmhier.taxonomy import Taxonomy


def random_taxonomy(num_nodes: int, seed: int = 0) -> dict:
    """A random taxonomy document with ``num_nodes`` nodes and 3 datasets.

    Args:
        num_nodes: Total number of nodes, root included (>= 3).
        seed: Random seed.

    Returns:
        A dict in the taxonomy file format.
    """
    rng = random.Random(seed)
    children: dict[str, list[str]] = {'n0': []}
    frontier = ['n0']
    count = 1
    while count < num_nodes:
        parent = frontier.pop(0)
        k = min(rng.randint(2, 8), num_nodes - count)
        if k < 2:  # a single remaining node joins the last inner node
            k = 1
            parent = next(n for n in reversed(list(children)) if children[n])
        for _ in range(k):
            name = f'n{count}'
            count += 1
            children[parent].append(name)
            children[name] = []
            frontier.append(name)

    def nest(node: str):
        return {c: nest(c) for c in children[node]} if children[node] else None

    leaves = [n for n, c in children.items() if not c]
    level1 = children['n0']
    boxed = leaves[::5]  # every 5th leaf also has box labels: size-proportional
    return {
        'name': f'random_{num_nodes}',
        'tree': {'n0': nest('n0')},
        'datasets': {
            'fine': {'annotation': 'pixel', 'encoding': 'int32',
                     'classes': {i: {'name': f'c{i}', 'node': n}
                                 for i, n in enumerate(leaves)}},
            'coarse': {'annotation': 'pixel', 'encoding': 'uint16',
                       'classes': {i: {'name': f'c{i}', 'node': n}
                                   for i, n in enumerate(level1)}},
            'boxes': {'annotation': 'box', 'encoding': 'int32',
                      'classes': {i: {'name': f'b{i}', 'node': n}
                                  for i, n in enumerate(boxed)},
                      'supervision': {'skip': sorted(_single_child_skips(children,
                                                                         boxed))}},
        },
    }


def _single_child_skips(children: dict[str, list[str]],
                        labelled: list[str]) -> set[str]:
    """Classifiers under which ``labelled`` reaches exactly one child."""
    parent = {c: p for p, cs in children.items() for c in cs}
    supplied: dict[str, set[str]] = {}
    for node in labelled:
        while node in parent:
            supplied.setdefault(parent[node], set()).add(node)
            node = parent[node]
    return {p for p, cs in supplied.items() if len(cs) == 1}


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    """Smallest wall time of ``repeat`` calls, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def build_tables(tax: Taxonomy) -> None:
    """Touches every O(N * levels) table."""
    tax.ancestor_at_level
    for key in tax.dataset_keys:
        tax.label_to_node(key)
        tax.leaf_to_dataset_class(key)
    tax.supervision


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', type=int, nargs='+', default=[1000, 10000])
    parser.add_argument('--repeat', type=int, default=5)
    args = parser.parse_args()
    rows = []
    for n in args.sizes:
        doc = random_taxonomy(n)
        text = yaml.safe_dump(doc, sort_keys=False)
        tax = Taxonomy.from_dict(doc)
        assert not tax.warnings, tax.warnings[:3]
        t_dict = best_of(args.repeat, lambda: Taxonomy.from_dict(doc))
        t_yaml = best_of(args.repeat, lambda: Taxonomy.from_string(text))
        t_tables = best_of(args.repeat, lambda: build_tables(Taxonomy.from_dict(doc))) \
            - t_dict
        rows.append((n, tax.num_classifiers, tax.num_leaves, tax.num_levels, t_dict,
                     t_yaml, t_tables))
    print(f"{'nodes':>7} {'classif':>7} {'leaves':>7} {'levels':>6} "
          f"{'dict [ms]':>10} {'yaml [ms]':>10} {'tables [ms]':>11}")
    for n, c, leaves, levels, td, ty, tt in rows:
        print(f'{n:>7} {c:>7} {leaves:>7} {levels:>6} {td * 1e3:>10.1f} '
              f'{ty * 1e3:>10.1f} {tt * 1e3:>11.1f}')
    (n0, *_, d0, y0, t0), (n1, *_, d1, y1, t1) = rows[0], rows[-1]
    print(f'size ratio {n1 / n0:.0f}x: build+validate ratio dict {d1 / d0:.1f}, '
          f'yaml {y1 / y0:.1f}, tables {t1 / max(t0, 1e-9):.1f} '
          f'(target: <= 12 and well under 1 s at {n1} nodes: '
          f'{"ok" if d1 / d0 <= 12 and d1 < 1 else "MISSED"})')


if __name__ == '__main__':
    main()
