"""Hierarchical vs flat: the demo's tables and its plain-words summary.

Works on the JSON reports of :class:`~mmhier.evaluation.HierarchicalIoUMetric`
(``test_evaluator.output_file``), one per model and seed. A report becomes a
flat mapping of named **rows** (:func:`score_rows`): ``(section, label,
metric)`` -> percentage, e.g. ``('dataset', 'city_like', 'mIoU')``,
``('level', 'L2', 'mPA')`` or ``('class', 'gtsdb_like: stop', 'IoU')``. Rows
of several seeds are summarised by their mean and (sample) standard
deviation; a hier - flat difference **exceeds the spread** when every seed
has the same sign of difference and the mean difference is larger than the
standard deviation of the per-seed differences (with one seed, never).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

import numpy as np

Row = tuple[str, str, str]
Report = Mapping[str, object]


def score_rows(report: Report, datasets: Optional[Sequence[str]] = None) -> dict[Row, float]:
    """Named scores of one metric report.

    Args:
        report: A ``HierarchicalIoUMetric`` JSON report.
        datasets: Dataset keys to keep (default: all of the report's).

    Returns:
        ``(section, label, metric)`` -> percentage (``nan`` where undefined):
        per dataset ``mIoU`` / ``mPA``, per level ``mIoU`` / ``mPA`` (labels
        ``L1``, ``L2``, ...), per class ``IoU`` (labels ``<dataset>: <class>``).
    """
    rows: dict[Row, float] = {}
    entries = report['datasets']
    keys = list(entries) if datasets is None else [k for k in datasets if k in entries]
    for key in keys:
        for metric in ('mIoU', 'mPA'):
            rows[('dataset', key, metric)] = _value(entries[key][metric])
    for level, entry in report.get('levels', {}).items():
        for metric in ('mIoU', 'mPA'):
            rows[('level', f'L{level}', metric)] = _value(entry[metric])
    for key in keys:
        for name, iou in zip(entries[key]['classes'], entries[key]['IoU']):
            rows[('class', f'{key}: {name}', 'IoU')] = _value(iou)
    return rows


def _value(value: Optional[float]) -> float:
    return float('nan') if value is None else float(value)


@dataclass(frozen=True)
class Comparison:
    """One row of hier vs flat over ``n`` seeds.

    Attributes:
        row: ``(section, label, metric)``.
        hier: Per-seed scores of the hierarchical model.
        flat: Per-seed scores of the flat model.
    """

    row: Row
    hier: tuple[float, ...]
    flat: tuple[float, ...]

    @property
    def differences(self) -> np.ndarray:
        return np.asarray(self.hier) - np.asarray(self.flat)

    @property
    def mean_difference(self) -> float:
        return float(np.mean(self.differences))

    @property
    def exceeds_spread(self) -> bool:
        """Same sign in every seed and ``|mean| > std`` of the differences."""
        d = self.differences
        if len(d) < 2 or not np.isfinite(d).all():
            return False
        same_sign = bool((d > 0).all() or (d < 0).all())
        return same_sign and abs(float(d.mean())) > float(d.std(ddof=1))

    @property
    def winner(self) -> str:
        """``'hier'``, ``'flat'`` or ``'tie'`` by the mean (0.05-point ties)."""
        d = self.mean_difference
        if not math.isfinite(d) or abs(d) < 0.05:
            return 'tie'
        return 'hier' if d > 0 else 'flat'


def compare(hier: Sequence[Mapping[Row, float]], flat: Sequence[Mapping[Row, float]]
            ) -> list[Comparison]:
    """Pair the rows of both models over seeds (rows both models have, in the
    hierarchical model's order)."""
    rows = [r for r in hier[0] if all(r in f for f in flat) and all(r in h for h in hier)]
    return [Comparison(r, tuple(h[r] for h in hier), tuple(f[r] for f in flat))
            for r in rows]


def _stat(values: Sequence[float]) -> str:
    values = [v for v in values if math.isfinite(v)]
    if not values:
        return '-'
    if len(values) == 1:
        return f'{values[0]:.1f}'
    return f'{np.mean(values):.1f} ± {np.std(values, ddof=1):.1f}'


def _delta(c: Comparison) -> str:
    d = c.differences
    if not np.isfinite(d).all():
        return '-'
    text = f'{d.mean():+.1f}' if len(d) == 1 else \
        f'{d.mean():+.1f} ± {d.std(ddof=1):.1f}'
    return text + (' *' if c.exceeds_spread else '')


def markdown_table(comparisons: Sequence[Comparison], section: str, title: str,
                   label_names: Optional[Mapping[str, str]] = None) -> str:
    """One markdown table of a section, metrics side by side.

    Args:
        comparisons: From :func:`compare`.
        section: ``'dataset'``, ``'level'`` or ``'class'``.
        title: Header of the first column.
        label_names: Optional display names of labels.

    Returns:
        Rows ``| label | hier m | flat m | hier - flat | ...`` per metric.
    """
    chosen = [c for c in comparisons if c.row[0] == section]
    metrics = list(dict.fromkeys(c.row[2] for c in chosen))
    labels = list(dict.fromkeys(c.row[1] for c in chosen))
    by_row = {c.row: c for c in chosen}
    header = [title] + [f'{who} {m}' for m in metrics for who in ('hier', 'flat', 'Δ')]
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    for label in labels:
        cells = [(label_names or {}).get(label, label)]
        for m in metrics:
            c = by_row.get((section, label, m))
            cells += ['-', '-', '-'] if c is None else \
                [_stat(c.hier), _stat(c.flat), _delta(c)]
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def what_it_shows(comparisons: Sequence[Comparison], box_only: Sequence[str],
                  seeds: int, setting: str = '',
                  label_names: Optional[Mapping[str, str]] = None) -> str:
    """A plain-words paragraph: how many rows each model wins, every row the
    flat model wins, and the box-only classes.

    Args:
        comparisons: Dataset and level rows (and class rows) from :func:`compare`.
        box_only: Class row labels (``'<dataset>: <class>'``) of classes that
            only box annotations teach.
        seeds: Number of seeds behind the rows.
        setting: Words that open the paragraph, e.g. ``'In the Table IV
            analogue'``.
        label_names: Optional display names of row labels.
    """
    summary = [c for c in comparisons if c.row[0] in ('dataset', 'level')]
    wins = {w: [c for c in summary if c.winner == w] for w in ('hier', 'flat', 'tie')}
    opening = f'over {seeds} seed{"s" if seeds > 1 else ""}'
    opening = f'{setting}, {opening}' if setting else opening[0].upper() + opening[1:]
    text = [f'{opening}, the hierarchical model is '
            f'ahead on {len(wins["hier"])} of the {len(summary)} dataset and level '
            f'scores (mIoU and mPA), the flat model on {len(wins["flat"])}'
            + (f', {len(wins["tie"])} are level' if wins['tie'] else '') + '.']
    names = label_names or {}
    if wins['flat']:
        text.append('The flat model wins: ' + '; '.join(
            f'{names.get(c.row[1], c.row[1])} {c.row[2]} ({_stat(c.flat)} vs '
            f'{_stat(c.hier)})' for c in wins['flat']) + '.')
    else:
        text.append('The flat model wins no dataset or level score.')
    if seeds > 1:
        beyond = [c for c in summary if c.exceeds_spread]
        text.append(f'{len(beyond)} of these differences exceed the seed-to-seed spread '
                    '(marked *: same sign in every seed, mean larger than the standard '
                    'deviation of the differences).')
    classes = {c.row[1]: c for c in comparisons if c.row[0] == 'class'}
    learnt = [name for name in box_only if name in classes
              and np.nanmean(classes[name].hier) > 0]
    if box_only:
        parts = []
        for name in box_only:
            c = classes.get(name)
            if c is not None:
                parts.append(f'{name.split(": ", 1)[-1]} {_stat(c.hier)} vs {_stat(c.flat)}')
        text.append(f'Of the {len(box_only)} sign types that only the box annotations '
                    f'teach, the hierarchical model learns {len(learnt)} (IoU > 0); '
                    'IoU hier vs flat: ' + ', '.join(parts) + '.')
    return ' '.join(text)
