"""Lookup tables, checked against hand-computed values."""
import numpy as np
import pytest

from mmhier.taxonomy import IGNORE, Taxonomy

_ = IGNORE


def test_label_to_node_real_ids(shipped):
    tax = shipped('cs_vistas_gtsdb')
    city = tax.label_to_node('cityscapes')
    assert city.shape == (34,)
    assert tax.nodes[city[7]] == 'Driveable'          # road -> the superclass
    assert tax.nodes[city[20]] == 'Traffic Sign'      # the trap: not truck
    assert tax.nodes[city[27]] == 'Truck'
    assert tax.nodes[city[9]] == 'Parking' and tax.parent('Parking') == 'Driveable'
    assert tax.nodes[city[25]] == 'Rider' and tax.nodes[city[31]] == 'On Rails'
    assert [int(city[i]) for i in (0, 2, 3, 4, 5, 6, 18)] == [IGNORE] * 7
    vistas = tax.label_to_node('mapillary_vistas')
    assert vistas.shape == (66,) and vistas[65] == IGNORE
    assert tax.path(tax.nodes[vistas[24]]) == ('root', 'Driveable',
                                               'Lane Marking - General')
    assert tax.nodes[vistas[50]] == 'Traffic Sign (Front)'   # inner node
    gtsdb = tax.label_to_node('gtsdb')
    assert tax.path(tax.nodes[gtsdb[14]]) == ('root', 'Traffic Sign',
                                              'Traffic Sign (Front)', 'stop')
    assert tax.nodes[gtsdb[13]] == 'give way'
    trainids = tax.label_to_node('cityscapes_trainids')
    assert trainids.shape == (256,) and (trainids[19:] == IGNORE).all()
    assert tax.nodes[trainids[0]] == 'Driveable' and tax.nodes[trainids[7]] == 'Traffic Sign'


def test_label_map_lookup_is_one_indexing(shipped):
    tax = shipped('tiny_street')
    raw = np.array([[0, 8, 9], [13, 1, 8]], dtype=np.uint8)
    np.testing.assert_array_equal(tax.label_to_node('vistas_like')[raw],
                                  [[_, 9, 10], [16, 1, 9]])
    raw[1, 0] = 10
    np.testing.assert_array_equal(tax.label_to_node('city_like')[raw],
                                  [[_, 8, 11], [14, 1, 8]])


def test_classifier_targets_tiny(shipped):
    tax = shipped('tiny_street')
    t = tax.classifier_targets
    assert t.shape == (5, 22)
    # root: children sky..person -> 0..6, driveable 7, rider 8, traffic sign 9
    np.testing.assert_array_equal(
        t[0], [_, 0, 1, 2, 3, 4, 5, 6, 7, 7, 7, 8, 8, 8, 9, 9, 9, 9, 9, 9, 9, 9])
    np.testing.assert_array_equal(t[1], [_] * 9 + [0, 1] + [_] * 11)   # driveable
    np.testing.assert_array_equal(t[2], [_] * 12 + [0, 1] + [_] * 8)   # rider
    np.testing.assert_array_equal(t[3], [_] * 15 + [0, 1, 1, 1, 1, 1, 1])
    np.testing.assert_array_equal(t[4], [_] * 17 + [0, 1, 2, 3, 4])


def test_ancestor_at_level_and_leaf_levels(shipped):
    tax = shipped('tiny_street')
    anc = tax.ancestor_at_level
    assert anc.shape == (4, 22)
    assert (anc[0] == 0).all()
    assert list(anc[:, tax.index('keep left')]) == [0, 14, 16, 21]
    assert list(anc[:, tax.index('sky')]) == [0, 1, 1, 1]          # shallow: itself
    names = [tax.nodes[i] for i in tax.leaf_ancestor_at_level(1)]
    assert names == ['sky', 'building', 'vegetation', 'sidewalk', 'pole', 'car',
                     'person', 'driveable', 'driveable', 'rider', 'rider',
                     'traffic sign', 'traffic sign', 'traffic sign', 'traffic sign',
                     'traffic sign', 'traffic sign']
    names2 = [tax.nodes[i] for i in tax.leaf_ancestor_at_level(2)]
    assert names2[-6:] == ['traffic sign back'] + ['traffic sign front'] * 5
    with pytest.raises(ValueError):
        tax.leaf_ancestor_at_level(4)


def test_ancestor_matrix(shipped):
    tax = shipped('tiny_street')
    m = tax.ancestor_matrix
    stop = tax.index('stop')
    assert sorted(np.flatnonzero(m[:, stop])) == [0, 14, 16, stop]
    assert m.sum() == sum(len(tax.path(n)) for n in tax.nodes)


def test_leaf_to_dataset_class_maps_predictions_up(shipped):
    tax = shipped('tiny_street')
    city = tax.leaf_to_dataset_class('city_like')
    # leaves: sky..person 1..7, road, lane marking -> 8 (driveable), bicyclist,
    # motorcyclist -> 9 (rider), sign back / 5 front types -> 10 (traffic sign)
    np.testing.assert_array_equal(city, [1, 2, 3, 4, 5, 6, 7, 8, 8, 9, 9] + [10] * 6)
    vistas = tax.leaf_to_dataset_class('vistas_like')
    np.testing.assert_array_equal(vistas, list(range(1, 13)) + [13] * 5)
    gtsdb = tax.leaf_to_dataset_class('gtsdb_like')
    np.testing.assert_array_equal(gtsdb, [_] * 12 + [0, 1, 2, 3, 4])


def test_leaf_to_dataset_class_paper(shipped):
    tax = shipped('cs_vistas_gtsdb')
    city = tax.leaf_to_dataset_class('cityscapes')
    leaf = {n: i for i, n in enumerate(tax.leaves)}
    assert city[leaf['Lane Marking - General']] == 7     # road (Driveable)
    assert city[leaf['Parking']] == 9                    # deeper label wins
    assert city[leaf['Bicyclist']] == 25                 # rider
    assert city[leaf['stop']] == 20                      # traffic sign
    assert city[leaf['Bird']] == IGNORE                  # no Cityscapes class
    assert tax.leaf_to_dataset_class('mapillary_vistas')[leaf['stop']] == 50


def test_supervision_rule_paper(shipped):
    tax = shipped('cs_vistas_gtsdb')
    assert tax.trained_classifiers('cityscapes') == ('root',)
    assert tax.trained_classifiers('mapillary_vistas') == ('root', 'Driveable', 'Rider',
                                                           'Traffic Sign')
    assert tax.trained_classifiers('gtsdb') == ('Traffic Sign (Front)',)
    assert tax.supervising_datasets('Traffic Sign (Front)') == ('gtsdb',)
    assert tax.supervising_datasets('root') == ('cityscapes', 'cityscapes_trainids',
                                               'mapillary_vistas')
    assert tax.supplied_children('cityscapes', 'Driveable') == ('Parking',)
    assert tax.supervision.shape == (4, 5)


SINGLE_CHILD = '''
name: rule
tree:
  root:
    sky:
    ground: [road, parking]
datasets:
  full:
    annotation: pixel
    classes: {0: sky, 1: road, 2: parking}
  partial:
    annotation: pixel
    classes: {0: sky, 1: {name: ground, node: ground}, 2: parking}
'''


@pytest.mark.parametrize('override, trains_ground, warned', [
    ('', False, True),
    ('    supervision: {skip: [ground]}\n', False, False),
    ('    supervision: {force: [ground]}\n', True, False),
])
def test_single_child_rule_and_overrides(override, trains_ground, warned):
    tax = Taxonomy.from_string(SINGLE_CHILD + override)
    assert ('ground' in tax.trained_classifiers('partial')) is trains_ground
    assert tax.trained_classifiers('full') == ('root', 'ground')
    assert [w.code for w in tax.warnings] == (['single-child-supervision'] if warned
                                               else [])
