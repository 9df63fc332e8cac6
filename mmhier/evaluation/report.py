"""The evaluation report: scores per label space, MMSeg-style tables, JSON.

A report is a plain dict (see :class:`~mmhier.evaluation.HierarchicalIoUMetric`
for its layout). Scores are percentages, ``nan`` where undefined; JSON files
write ``nan`` as ``null``.
"""
from __future__ import annotations

import json
import math
import os
from typing import Any, Sequence, Union

import numpy as np
from mmengine.logging import print_log
from prettytable import PrettyTable

from mmhier.evaluation.confusion import segmentation_scores


def percent(value: float) -> float:
    """A fraction as a percentage (``nan`` stays ``nan``)."""
    return float(value) * 100.0


def rounded(value: float) -> float:
    """A percentage rounded as mmseg reports it (2 decimals)."""
    return float(np.round(value, 2))


def scores_entry(cm: np.ndarray, classes: Sequence[str], columns: Sequence[str]
                 ) -> dict[str, Any]:
    """Scores of one confusion matrix, JSON-ready (percentages).

    Args:
        cm: ``(C, >= C)`` confusion matrix, rows gt, columns predictions.
        classes: ``C`` row names.
        columns: Names of all columns (the classes, then the extra columns).

    Returns:
        ``classes``, ``columns``, ``num_pixels``, ``aAcc``, ``mIoU``, ``mPA``,
        per-class ``IoU`` and ``Acc`` lists and the ``confusion_matrix``.
    """
    scores = segmentation_scores(cm)
    return {'classes': list(classes), 'columns': list(columns),
            'num_pixels': scores.num_pixels, 'aAcc': percent(scores.aacc),
            'mIoU': percent(scores.miou), 'mPA': percent(scores.mpa),
            'IoU': [percent(v) for v in scores.iou.tolist()],
            'Acc': [percent(v) for v in scores.acc.tolist()],
            'confusion_matrix': np.asarray(cm).tolist()}


def format_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A prettytable; floats rounded to 2 decimals as mmseg prints them."""
    table = PrettyTable()
    table.field_names = list(header)
    for row in rows:
        table.add_row([rounded(v) if isinstance(v, float) else v for v in row])
    return table.get_string()


def log_report(report: dict[str, Any], logger: Union[str, Any] = 'current') -> None:
    """Print the report's tables through mmengine's ``print_log``.

    Per dataset its per-class IoU / Acc, then a dataset summary, a level
    summary and a classifier summary (each only when the report has them).
    """
    for key, entry in report['datasets'].items():
        print_log(f'per class results ({key}):', logger=logger)
        rows = zip(entry['classes'], entry['IoU'], entry['Acc'])
        print_log('\n' + format_table(['Class', 'IoU', 'Acc'], list(rows)), logger=logger)
    summaries = [
        ('datasets', ['Dataset', 'pixels', 'aAcc', 'mIoU', 'mPA'],
         [[key, e['num_pixels'], e['aAcc'], e['mIoU'], e['mPA']]
          for key, e in report['datasets'].items()]),
        ('levels', ['Level', 'nodes', 'pixels', 'aAcc', 'mIoU', 'mPA'],
         [[f'L{k}', len(e['classes']), e['num_pixels'], e['aAcc'], e['mIoU'], e['mPA']]
          for k, e in report.get('levels', {}).items()]),
        ('classifiers', ['Classifier', 'level', 'gt pixels below', 'routing', 'acc',
                         'mIoU', 'mPA'],
         [[name, f"L{e['level']}", e['num_below'], e['routing'], e['acc'], e['mIoU'],
           e['mPA']] for name, e in report.get('classifiers', {}).items()]),
    ]
    for what, header, rows in summaries:
        if rows:
            print_log(f'summary ({what}):', logger=logger)
            print_log('\n' + format_table(header, rows), logger=logger)


def json_safe(obj: Any) -> Any:
    """``obj`` with every ``nan`` / ``inf`` float replaced by ``None`` and
    numpy scalars made plain Python."""
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def write_json(path: Union[str, os.PathLike], report: dict[str, Any]) -> None:
    """Write the report as strict JSON (``nan`` as ``null``), creating parent
    directories."""
    path = os.fspath(path)
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(json_safe(report), f, indent=1, allow_nan=False)
        f.write('\n')
