"""Which taxonomy nodes a hierarchical prediction ends at (its label space).

By default a prediction goes down to the leaves. A **level of detail** stops
the greedy descent earlier: at a given level, or at given nodes. The nodes a
prediction can end at form a *cut* of the tree: every leaf has exactly one
ancestor-or-self in it.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from mmhier.taxonomy import Taxonomy, UnknownNodeError


def output_nodes(taxonomy: Taxonomy, level: Optional[int] = None,
                 stop_at: Optional[Sequence[str]] = None) -> np.ndarray:
    """Node indices a prediction can end at, in preorder.

    Args:
        taxonomy: The taxonomy.
        level: Stop at this level (1 = root's children); leaves above it are
            kept. ``None``: no level limit.
        stop_at: Also stop at these nodes (inner nodes become coarse outputs).

    Returns:
        ``(num_outputs,)`` int64 node indices; the leaves when both
        arguments are ``None``.

    Raises:
        ValueError: ``level`` outside ``1 .. taxonomy.num_levels``.
        UnknownNodeError: A name in ``stop_at`` is not a node.
    """
    if level is not None and not 1 <= level <= taxonomy.num_levels:
        raise ValueError(f'level must be in 1..{taxonomy.num_levels} for taxonomy '
                         f'{taxonomy.name!r}, got {level}')
    stop = np.zeros(taxonomy.num_nodes, dtype=bool)
    stop[taxonomy.leaf_indices] = True
    if level is not None:
        stop |= taxonomy.node_level == level
    for name in stop_at or ():
        if name == taxonomy.root:
            raise UnknownNodeError(f'cannot stop at the root {name!r}')
        stop[taxonomy.index(name)] = True
    # Keep only the topmost stop node on every path.
    anc = taxonomy.ancestor_at_level
    above = np.zeros(taxonomy.num_nodes, dtype=bool)
    for k in range(1, taxonomy.num_levels + 1):
        strictly_above = taxonomy.node_level > k
        above |= strictly_above & stop[anc[k]]
    return np.flatnonzero(stop & ~above)
