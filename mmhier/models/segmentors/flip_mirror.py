"""Mirror-image nodes: what a horizontal flip turns a node into.

Datasets mark mirror pairs of classes with ``attributes: {flip_to: <id>}``
(GTSDB: keep right <-> keep left). Training swaps their labels on flipped
samples (``SwapFlippedClasses``), so a model predicts ``keep left`` on the
flipped image of a ``keep right`` sign. A prediction made on a flipped image
is mapped back by flipping the scores spatially *and* swapping the mirror
nodes' channels, which :class:`TaxonomyEncoderDecoder` does for test-time
flips. Here, the pairs are the union of every dataset's ``flip_to`` pairs,
seen as node pairs.
"""
from __future__ import annotations

import numpy as np

from mmhier.taxonomy import Taxonomy
from mmhier.taxonomy.errors import TaxonomyError


def mirror_nodes(taxonomy: Taxonomy) -> np.ndarray:
    """The node each node becomes under a horizontal flip.

    Args:
        taxonomy: The taxonomy.

    Returns:
        ``(num_nodes,)`` int64: ``mirror[v]`` is the mirror node of node id
        ``v`` (``v`` itself for nodes without a pair).

    Raises:
        TaxonomyError: A ``flip_to`` that is not a class id of its dataset, a
            one-way pair, or a node given two different mirror nodes (all
            problems listed, with file and line).
    """
    mirror = np.arange(taxonomy.num_nodes, dtype=np.int64)
    owner: dict[int, str] = {}
    problems = []
    for key in taxonomy.dataset_keys:
        spec = taxonomy.dataset(key)
        classes = {c.id: c for c in spec.classes}
        nodes = taxonomy.label_to_node(key)
        for cls in spec.classes:
            if 'flip_to' not in cls.attributes or cls.ignored:
                continue
            where = f"{taxonomy.source}{'' if cls.line is None else f':{cls.line}'}: " \
                f'dataset {key!r} class {cls.id} {cls.name!r}'
            partner = cls.attributes['flip_to']
            if isinstance(partner, bool) or not isinstance(partner, int) \
                    or partner not in classes:
                problems.append(f'{where}: flip_to {partner!r} is not a class id of the '
                                'dataset; use the id of the mirror-image class or remove '
                                'flip_to')
                continue
            if classes[partner].attributes.get('flip_to', partner) != cls.id:
                problems.append(f'{where}: flip_to {partner} is one-way; give class '
                                f'{partner} `flip_to: {cls.id}`')
                continue
            node, other = int(nodes[cls.id]), int(nodes[partner])
            if other < 0:
                continue  # the partner is ignored: nothing to swap with
            if node in owner and mirror[node] != other:
                problems.append(f'{where}: node {taxonomy.nodes[node]!r} flips to '
                                f'{taxonomy.nodes[other]!r} here but to '
                                f'{taxonomy.nodes[mirror[node]]!r} in {owner[node]}; give '
                                'the classes of one node the same mirror node')
                continue
            mirror[node], owner[node] = other, where
    if problems:
        raise TaxonomyError('\n'.join(problems))
    return mirror


def mirror_channels(taxonomy: Taxonomy, output_nodes: np.ndarray) -> np.ndarray:
    """The channel each output channel becomes under a horizontal flip.

    Args:
        taxonomy: The taxonomy.
        output_nodes: Node id of every output channel.

    Returns:
        ``(num_outputs,)`` int64 channel indices: ``scores[mirror]`` turns the
        scores of a flipped image's prediction into those of the image. A
        channel whose mirror node is no output node stays put.

    Shape:
        ``output_nodes``: ``(num_outputs,)``.
    """
    output_nodes = np.asarray(output_nodes, dtype=np.int64)
    channel_of = np.full(taxonomy.num_nodes, -1, dtype=np.int64)
    channel_of[output_nodes] = np.arange(len(output_nodes))
    mirrored = channel_of[mirror_nodes(taxonomy)[output_nodes]]
    return np.where(mirrored >= 0, mirrored, np.arange(len(output_nodes)))
