"""The dataset-class attributes mmhier gives a meaning to: ``shape`` and ``flip_to``.

Classes of a taxonomy's datasets may carry free-form ``attributes``; two of
them are read by the data pipeline, so the validator checks them
(:func:`~mmhier.taxonomy.validation.check_class_attributes`):

``shape``
    The outline a box pseudo label is drawn with (``BoxesToPseudoMask``): one
    of :data:`SHAPES`. A shape id is an index into :data:`SHAPES`.
``flip_to``
    The label id of the class a horizontal flip turns this one into
    (GTSDB: 38 keep right <-> 39 keep left). Pairs are symmetric: the
    partner names this class back.

Only numbers and names live here (no numpy): the geometry of each shape is
:mod:`mmhier.datasets.pseudo_masks`.
"""
from __future__ import annotations

#: Attribute naming a class's sign outline.
SHAPE = 'shape'
#: Attribute naming the label id a horizontal flip turns a class into.
FLIP_TO = 'flip_to'

#: Shape names; a shape id is an index into this tuple.
SHAPES: tuple[str, ...] = ('box', 'circle', 'triangle', 'inverted_triangle',
                           'diamond', 'octagon')
BOX, CIRCLE, TRIANGLE, INVERTED_TRIANGLE, DIAMOND, OCTAGON = range(len(SHAPES))

#: How box pseudo labels are drawn: each class's ``shape``, or whole boxes.
SHAPE_MODES: tuple[str, ...] = ('shape', 'box')


def shape_id(name: str) -> int:
    """The id of a shape name.

    Args:
        name: One of :data:`SHAPES`.

    Returns:
        Its index in :data:`SHAPES`.

    Raises:
        ValueError: Unknown name (the message lists the known ones).
    """
    if isinstance(name, str) and name in SHAPES:
        return SHAPES.index(name)
    raise ValueError(f'unknown shape {name!r}; use one of {", ".join(SHAPES)}')
