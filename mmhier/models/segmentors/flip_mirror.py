"""Mirror-image nodes: what a horizontal flip turns a node into.

Datasets mark mirror pairs of classes with ``attributes: {flip_to: <id>}``
(GTSDB: keep right <-> keep left; the taxonomy's validator checks them).
Training swaps their labels on flipped samples (``SwapFlippedClasses``), so a
model predicts ``keep left`` on the flipped image of a ``keep right`` sign. A
prediction made on a flipped image is mapped back by flipping the scores
spatially *and* swapping the mirror nodes' channels, which
:class:`TaxonomyEncoderDecoder` does for test-time flips. A model predicts
nodes, not dataset classes: its mirror pairs are every dataset's pairs
(:attr:`LabelSpace.flip_nodes <mmhier.structures.label_space.LabelSpace.flip_nodes>`)
together.
"""
from __future__ import annotations

import numpy as np

from mmhier.structures.label_space import label_space
from mmhier.taxonomy import Taxonomy
from mmhier.taxonomy.errors import TaxonomyError


def mirror_nodes(taxonomy: Taxonomy) -> np.ndarray:
    """The node each node becomes under a horizontal flip, by every dataset.

    Args:
        taxonomy: The taxonomy.

    Returns:
        ``(num_nodes,)`` int64: ``mirror[v]`` is the mirror node of node id
        ``v`` (``v`` itself for nodes without a pair, or whose partner class
        is ignored).

    Raises:
        TaxonomyError: Two datasets flip a node to different nodes (every
            such node listed, with the datasets).
    """
    own = np.arange(taxonomy.num_nodes, dtype=np.int64)
    mirror = own.copy()
    source: dict[int, str] = {}
    problems = []
    for key in taxonomy.dataset_keys:
        flipped = label_space(taxonomy, key).flip_nodes
        for node in np.flatnonzero((flipped != own) & (flipped >= 0)).tolist():
            other = int(flipped[node])
            if node in source and mirror[node] != other:
                problems.append(
                    f'node {taxonomy.nodes[node]!r} flips to {taxonomy.nodes[other]!r} in '
                    f'dataset {key!r} but to {taxonomy.nodes[mirror[node]]!r} in dataset '
                    f'{source[node]!r}')
                continue
            mirror[node], source[node] = other, key
    if problems:
        raise TaxonomyError(f'{taxonomy.source}: ' + '; '.join(problems) + '; a model '
                            'predicts nodes, so every dataset must flip a node to the '
                            "same node: align the datasets' flip_to pairs")
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
