"""What mmhier datasets tell MMSeg about their label values.

Predictions and labels of mmhier are taxonomy **node ids**, so a dataset's
``classes`` are the taxonomy's node names (``classes[node_id]``) and its
``palette`` is the hierarchical palette
(:func:`mmhier.taxonomy.palette.hierarchical_palette`, ``palette[node_id]``).
MMSeg's tools and APIs read them from ``dataset.metainfo`` (the runner saves it
into every checkpoint as ``meta['dataset_meta']``, where ``init_model`` and
``MMSegInferencer`` find it) and from ``dataset.METAINFO`` (e.g.
``tools/analysis_tools/confusion_matrix.py``).

MMSeg's ``METAINFO`` is a class attribute, but a taxonomy dataset's classes
depend on the taxonomy it is built with: :class:`InstanceMetaInfo` gives the
instance's ``classes`` and ``palette`` on an instance and an empty dict on the
class (mmengine merges the class attribute into every instance's
``metainfo`` and MMSeg derives label maps from it, which taxonomy datasets do
not use).
"""
from __future__ import annotations

import numbers
from typing import Any, Mapping, Optional

from mmhier.datasets.errors import DatasetMetaError
from mmhier.taxonomy import Taxonomy
from mmhier.taxonomy.palette import hierarchical_palette


def taxonomy_metainfo(taxonomy: Taxonomy, given: Optional[Mapping[str, Any]],
                      owner: str) -> dict:
    """``given`` (a dataset's ``metainfo`` argument) with ``classes`` and
    ``palette`` of the taxonomy's nodes.

    Args:
        taxonomy: The dataset's taxonomy.
        given: The ``metainfo`` the dataset was built with, or ``None``.
            ``classes`` may be given only as the taxonomy's node names;
            ``palette`` may replace the hierarchical colours with one
            ``(r, g, b)`` of 0..255 per node.
        owner: The dataset (class name and key), for messages.

    Returns:
        A new dict: ``given`` plus ``classes`` (tuple of node names, index =
        node id) and ``palette`` (list of ``[r, g, b]`` per node id).

    Raises:
        DatasetMetaError: ``classes`` are not the node names or ``palette``
            is not one colour per node (every problem listed).
    """
    meta = dict(given or {})
    nodes = tuple(taxonomy.nodes)
    problems = []
    classes = meta.get('classes')
    if classes is not None and tuple(classes) != nodes:
        problems.append(
            f'metainfo classes ({len(classes)} names, starting {list(classes)[:3]}) are '
            f'not the {len(nodes)} node names of taxonomy {taxonomy.source}: labels and '
            'predictions are node ids, so classes come from the taxonomy; remove '
            "'classes' from metainfo")
    palette = meta.get('palette')
    if palette is not None and not _is_palette(palette, len(nodes)):
        problems.append(
            f'metainfo palette must give one (r, g, b) colour of 0..255 per node of '
            f'taxonomy {taxonomy.source} ({len(nodes)} nodes, indexed by node id); '
            "remove 'palette' from metainfo to use the hierarchical palette")
    if problems:
        raise DatasetMetaError(f'{owner}: ' + '; '.join(problems))
    meta['classes'] = nodes
    meta['palette'] = [list(map(int, c)) for c in palette] if palette is not None \
        else hierarchical_palette(taxonomy).tolist()
    return meta


def _is_palette(palette: Any, count: int) -> bool:
    """Whether ``palette`` is ``count`` colours of three ints in 0..255."""
    try:
        colours = [tuple(c) for c in palette]
    except TypeError:
        return False
    return len(colours) == count and all(len(c) == 3 and all(map(_is_channel, c))
                                         for c in colours)


def _is_channel(value: Any) -> bool:
    """Whether ``value`` is an 8-bit colour channel (an int, not a bool)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) \
        and 0 <= value <= 255


class InstanceMetaInfo:
    """``METAINFO`` of a dataset whose classes are known per instance.

    On the class: an empty dict (a fresh one each time). On an instance:
    ``dict(classes=..., palette=...)`` of its ``metainfo`` (keys it lacks
    are left out).
    """

    def __get__(self, instance: Any, owner: type) -> dict:
        if instance is None:
            return {}
        meta = instance.metainfo
        return {key: meta[key] for key in ('classes', 'palette') if key in meta}
