"""One rule for classifier names in log and metric keys.

Training logs (``loss_<name>``, ``acc_<name>``) and validation metrics
(``classifier/<name>/mIoU``) name a classifier by the same key: its node name
lower-cased, every run of other characters than ``a-z0-9`` replaced by one
``_`` (``'Traffic Sign (Front)'`` -> ``'traffic_sign_front'``). Names that
collide after this get the classifier index appended (``'sign_3'``).
"""
from __future__ import annotations

import re
from typing import Any

_NON_KEY = re.compile(r'[^0-9a-z]+')


def log_name(name: str) -> str:
    """A node name as a log-key part (may collide: see :func:`classifier_log_names`)."""
    return _NON_KEY.sub('_', name.lower()).strip('_') or 'node'


def classifier_log_names(taxonomy: Any) -> tuple[str, ...]:
    """The unique log-key part of every classifier, in classifier order.

    Args:
        taxonomy: A :class:`~mmhier.taxonomy.Taxonomy`.

    Returns:
        One name per ``taxonomy.classifiers`` entry.
    """
    names: list[str] = []
    taken: set[str] = set()
    for classifier in taxonomy.classifiers:
        name = log_name(classifier.node)
        if name in taken:
            name = f'{name}_{classifier.index}'
        taken.add(name)
        names.append(name)
    return tuple(names)
