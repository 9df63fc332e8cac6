"""``mmhier-taxonomy diff``: nodes added, removed, renamed and moved;
classifiers whose children changed, with the old channel of every new
output channel; dataset mapping changes; text and JSON."""
import json
from pathlib import Path

import pytest

from mmhier.taxonomy import Taxonomy
from mmhier.taxonomy.cli import main
from mmhier.taxonomy.diff import ClassifierChange, MappingChange, diff_taxonomies

DATA = Path(__file__).resolve().parents[1] / 'data' / 'taxonomy_diff'
V1, V2 = DATA / 'street_v1.yaml', DATA / 'street_v2.yaml'


@pytest.fixture(scope='module')
def grown():
    return diff_taxonomies(Taxonomy.from_file(V1), Taxonomy.from_file(V2))


def test_nodes_added_removed_renamed_moved(grown):
    assert grown.added == (('crosswalk', 'driveable'), ('regulatory', 'front'),
                           ('warning', 'front'), ('curve', 'warning'), ('bump', 'warning'),
                           ('vegetation', 'root'), ('tree', 'vegetation'),
                           ('bush', 'vegetation'))
    assert grown.removed == ()
    assert grown.renamed == (('lane marking', 'marking'),)
    assert grown.moved == (('stop', 'front', 'regulatory'), ('yield', 'front', 'regulatory'))
    assert not grown.same_tree


def test_classifier_changes_map_new_channels_to_old_ones(grown):
    assert grown.classifiers_added == ('regulatory', 'warning', 'vegetation')
    assert grown.classifiers_removed == ()
    assert grown.classifiers_changed == (
        ClassifierChange('root', ('sky', 'driveable', 'traffic sign'),
                         ('sky', 'driveable', 'traffic sign', 'vegetation'),
                         (0, 1, 2, None)),
        ClassifierChange('driveable', ('road', 'lane marking'),
                         ('road', 'crosswalk', 'marking'), (0, None, 1)),
        ClassifierChange('front', ('stop', 'yield'), ('regulatory', 'warning'),
                         (None, None)))


def test_dataset_changes(grown):
    assert grown.datasets_added == ('parks',) and grown.datasets_removed == ()
    # the rename of 'lane marking' is not a mapping change
    assert grown.mapping_changes == (
        MappingChange('city', 4, 'vegetation', None, 'vegetation'),
        MappingChange('lanes', 3, 'crosswalk', None, 'crosswalk'),
        MappingChange('signs', 2, 'curve', None, 'curve'),
        MappingChange('signs', 3, 'bump', None, 'bump'))


def test_the_reverse_direction_removes_what_was_added():
    back = diff_taxonomies(Taxonomy.from_file(V2), Taxonomy.from_file(V1))
    assert back.removed == ('crosswalk', 'regulatory', 'warning', 'curve', 'bump',
                            'vegetation', 'tree', 'bush')
    assert back.renamed == (('marking', 'lane marking'),)
    assert back.classifiers_removed == ('regulatory', 'warning', 'vegetation')
    assert back.datasets_removed == ('parks',)
    driveable = next(c for c in back.classifiers_changed if c.node == 'driveable')
    assert driveable.channel_map == (0, 2)
    assert MappingChange('signs', 2, 'curve', 'curve', None) in back.mapping_changes


def test_identical_and_reordered_taxonomies():
    same = diff_taxonomies(Taxonomy.from_file(V1), Taxonomy.from_file(V1))
    assert same.same_tree and 'no differences' in same.format_text()
    text = V1.read_text().replace('[road, lane marking]', '[lane marking, road]')
    swapped = diff_taxonomies(Taxonomy.from_file(V1), Taxonomy.from_string(text))
    assert not swapped.same_tree and swapped.added == () and swapped.renamed == ()
    assert swapped.classifiers_changed == (ClassifierChange(
        'driveable', ('road', 'lane marking'), ('lane marking', 'road'), (1, 0)),)


def test_a_node_moved_to_another_parent_and_a_changed_mapping():
    old = Taxonomy.from_dict({'name': 'a', 'tree': {'r': {'a': ['x', 'y'], 'b': ['z', 'w']}},
                              'datasets': {'d': {'annotation': 'pixel', 'classes': {
                                  0: 'x', 1: 'y', 2: 'z', 3: 'w'}}}})
    new = Taxonomy.from_dict({'name': 'b', 'tree': {'r': {'a': ['x', 'y', 'z'],
                                                          'b': ['w', 'v']}},
                              'datasets': {'d': {'annotation': 'pixel', 'classes': {
                                  0: 'x', 1: {'name': 'y', 'node': 'x'}, 2: 'z', 3: 'w',
                                  4: 'v', 5: {'name': 'y2', 'node': 'y'}}}}})
    diff = diff_taxonomies(old, new)
    assert diff.moved == (('z', 'b', 'a'),)
    assert diff.added == (('v', 'b'),) and diff.removed == ()
    assert [(c.node, c.channel_map) for c in diff.classifiers_changed] == [
        ('a', (0, 1, None)), ('b', (1, None))]
    assert diff.mapping_changes == (MappingChange('d', 1, 'y', 'y', 'x'),
                                    MappingChange('d', 4, 'v', None, 'v'),
                                    MappingChange('d', 5, 'y2', None, 'y'))


def test_renames_need_a_unique_place():
    """Two old and two new unmapped leaves under one parent: which became
    which cannot be told, so they are removed and added; leaves mapped from
    the same ids are renamed."""
    old = Taxonomy.from_dict({'name': 'a', 'tree': {'r': {
        'a': ['x', 'y1', 'y2', 'z'], 'b': ['s', 't']}}, 'datasets': {'d': {
            'annotation': 'pixel', 'classes': {0: 'z', 1: 'x', 2: 'b'}},
            'e': {'annotation': 'pixel', 'classes': {0: 's', 1: 't'}}}})
    new = Taxonomy.from_dict({'name': 'b', 'tree': {'r': {
        'a': ['x', 'p1', 'p2', 'q'], 'b': ['s', 'u']}}, 'datasets': {'d': {
            'annotation': 'pixel', 'classes': {0: 'q', 1: 'x', 2: 'b'}},
            'e': {'annotation': 'pixel', 'classes': {0: 's', 1: 'u'}}}})
    diff = diff_taxonomies(old, new)
    assert diff.renamed == (('z', 'q'), ('t', 'u'))
    assert diff.removed == ('y1', 'y2') and diff.added == (('p1', 'a'), ('p2', 'a'))


def test_cli_text_and_json(capsys):
    assert main(['diff', str(V1), str(V2)]) == 0
    text = capsys.readouterr().out
    assert 'nodes renamed (1):\n  lane marking -> marking' in text
    assert 'driveable: 2 -> 3 outputs; channels 0<-0, 2<-1 carried; new: 1' in text
    assert main(['diff', str(V1), str(V2), '--json']) == 0
    data = json.loads(capsys.readouterr().out)
    assert data['renamed'] == [['lane marking', 'marking']]
    assert data['classifiers_changed'][1]['channel_map'] == [0, None, 1]
    assert data['same_tree'] is False


def test_cli_bad_inputs_are_one_error_line(tmp_path, capsys):
    assert main(['diff', str(V1), str(tmp_path / 'missing.yaml')]) == 2
    err = capsys.readouterr().err
    assert err.startswith('error: ') and 'missing.yaml' in err and 'Traceback' not in err
    broken = tmp_path / 'broken.yaml'
    broken.write_text('name: x\ntree: {r: [a]}\n')
    assert main(['diff', str(broken), str(V1)]) == 1
    err = capsys.readouterr().err
    assert 'broken.yaml' in err and 'validate' in err and 'Traceback' not in err
