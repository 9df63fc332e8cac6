"""The demo's hier-vs-flat tables and summary, from metric reports."""
import math

import pytest

from mmhier.demo.comparison import Comparison, compare, markdown_table, score_rows, what_it_shows


def report(city_miou, city_mpa, l1, stop_iou, extra_dataset=False):
    datasets = {'city_like': {'mIoU': city_miou, 'mPA': city_mpa, 'classes': ['sky', 'road'],
                              'IoU': [90.0, None]},
                'gtsdb_like': {'mIoU': stop_iou, 'mPA': stop_iou, 'classes': ['stop'],
                               'IoU': [stop_iou]}}
    if extra_dataset:
        datasets['other'] = {'mIoU': 1.0, 'mPA': 1.0, 'classes': ['x'], 'IoU': [1.0]}
    return {'datasets': datasets, 'levels': {'1': {'mIoU': l1, 'mPA': l1 + 1}}}


def test_score_rows_names_every_score_and_keeps_nan():
    rows = score_rows(report(50.0, 60.0, 40.0, 10.0, extra_dataset=True),
                      datasets=['city_like', 'gtsdb_like'])
    assert rows[('dataset', 'city_like', 'mIoU')] == 50.0
    assert rows[('dataset', 'gtsdb_like', 'mPA')] == 10.0
    assert rows[('level', 'L1', 'mPA')] == 41.0
    assert rows[('class', 'city_like: sky', 'IoU')] == 90.0
    assert math.isnan(rows[('class', 'city_like: road', 'IoU')])
    assert not any(r[1].startswith('other') for r in rows)
    assert len(rows) == 4 + 2 + 3


def test_spread_rule():
    # same sign, mean 2.0 > std 1.0
    assert Comparison(('d', 'a', 'm'), (12.0, 13.0, 14.0), (10.0, 11.0, 11.0)).exceeds_spread
    # same sign but mean 1.1 < std 1.27
    assert not Comparison(('d', 'a', 'm'), (10.2, 12.0), (10.0, 10.0)).exceeds_spread
    # one seed: never
    assert not Comparison(('d', 'a', 'm'), (20.0,), (10.0,)).exceeds_spread
    # signs differ
    assert not Comparison(('d', 'a', 'm'), (20.0, 9.0), (10.0, 10.0)).exceeds_spread


def test_winner_and_ties():
    assert Comparison(('d', 'a', 'm'), (10.0,), (10.04,)).winner == 'tie'
    assert Comparison(('d', 'a', 'm'), (10.0,), (10.5,)).winner == 'flat'
    assert Comparison(('d', 'a', 'm'), (float('nan'),), (1.0,)).winner == 'tie'


def test_tables_show_means_spreads_and_marks():
    hier = [score_rows(report(50.0, 60.0, 40.0, 12.0)), score_rows(report(52.0, 62.0, 41.0, 14.0))]
    flat = [score_rows(report(45.0, 61.0, 42.0, 0.0)), score_rows(report(46.0, 63.0, 40.0, 0.0))]
    comparisons = compare(hier, flat)
    table = markdown_table(comparisons, 'dataset', 'dataset')
    lines = table.splitlines()
    assert lines[0] == ('| dataset | hier mIoU | flat mIoU | Δ mIoU | hier mPA | flat mPA '
                        '| Δ mPA |')
    # city mIoU: hier 51.0 ± 1.4, flat 45.5 ± 0.7, differences 5 and 6: exceeds
    assert lines[2] == ('| city_like | 51.0 ± 1.4 | 45.5 ± 0.7 | +5.5 ± 0.7 * | 61.0 ± 1.4 '
                        '| 62.0 ± 1.4 | -1.0 ± 0.0 * |')
    level = markdown_table(comparisons, 'level', 'level', {'L1': 'level one'})
    assert '| level one | 40.5 ± 0.7 | 41.0 ± 1.4 | -0.5 ± 2.1 |' in level


def test_summary_names_the_rows_flat_wins_and_box_only_classes():
    hier = [score_rows(report(50.0, 60.0, 40.0, 12.0))]
    flat = [score_rows(report(45.0, 61.0, 40.0, 0.0))]
    text = what_it_shows(compare(hier, flat), ['gtsdb_like: stop'], seeds=1)
    assert 'ahead on 3 of the 6 dataset and level scores' in text
    # city mIoU, gtsdb mIoU and mPA to hier; city mPA to flat; L1 level
    assert 'the flat model on 1, 2 are level.' in text
    assert 'The flat model wins: city_like mPA (61.0 vs 60.0).' in text
    assert 'learns 1 (IoU > 0); IoU hier vs flat: stop 12.0 vs 0.0.' in text


@pytest.mark.parametrize('flat_stop', [0.0, 5.0])
def test_summary_without_flat_wins(flat_stop):
    hier = [score_rows(report(50.0, 60.0, 40.0, 12.0))]
    flat = [score_rows(report(45.0, 50.0, 30.0, flat_stop))]
    text = what_it_shows(compare(hier, flat), ['gtsdb_like: stop'], seeds=1)
    assert 'The flat model wins no dataset or level score.' in text


def test_summary_of_another_setting_names_its_rows():
    hier = [score_rows(report(50.0, 60.0, 40.0, 12.0))]
    flat = [score_rows(report(45.0, 61.0, 40.0, 0.0))]
    text = what_it_shows(compare(hier, flat), [], seeds=1, setting='In the Table IV analogue',
                         label_names={'city_like': 'L1 (city_like)'})
    assert text.startswith('In the Table IV analogue, over 1 seed, the hierarchical model '
                           'is ahead on 3 of the 6')
    assert 'The flat model wins: L1 (city_like) mPA (61.0 vs 60.0).' in text
    assert 'sign types' not in text
