"""The taxonomies shipped in taxonomies/: valid, complete and faithful to the
label spaces of LABEL_SPACES.md."""
import pytest

from mmhier.taxonomy import validate_file
from tests.conftest import TAXONOMIES

CITYSCAPES = ['unlabeled', 'ego vehicle', 'rectification border', 'out of roi', 'static',
              'dynamic', 'ground', 'road', 'sidewalk', 'parking', 'rail track',
              'building', 'wall', 'fence', 'guard rail', 'bridge', 'tunnel', 'pole',
              'polegroup', 'traffic light', 'traffic sign', 'vegetation', 'terrain',
              'sky', 'person', 'rider', 'car', 'truck', 'bus', 'caravan', 'trailer',
              'train', 'motorcycle', 'bicycle']
CITYSCAPES_VOID = {0, 2, 3, 4, 5, 6, 18}
TRAIN_IDS = ['road', 'sidewalk', 'building', 'wall', 'fence', 'pole', 'traffic light',
             'traffic sign', 'vegetation', 'terrain', 'sky', 'person', 'rider', 'car',
             'truck', 'bus', 'train', 'motorcycle', 'bicycle']
SHAPES = {'circle', 'triangle', 'inverted_triangle', 'diamond', 'octagon'}


@pytest.mark.parametrize('path', sorted(TAXONOMIES.glob('*.yaml')), ids=lambda p: p.stem)
def test_shipped_taxonomy_is_valid_without_warnings(path):
    assert [str(p) for p in validate_file(path)] == []


@pytest.mark.parametrize('stem', ['cs_vistas_gtsdb', 'cityscapes_extended'])
def test_cityscapes_label_space_complete(shipped, stem):
    city = shipped(stem).dataset('cityscapes')
    assert city.num_ids == 34 and [c.name for c in city.classes] == CITYSCAPES
    assert {c.id for c in city.classes if c.ignored} == CITYSCAPES_VOID


def test_cityscapes_trainids_agree_with_labelids(shipped):
    tax = shipped('cs_vistas_gtsdb')
    by_name = {c.name: c.node for c in tax.dataset('cityscapes').classes}
    train = tax.dataset('cityscapes_trainids')
    assert [c.name for c in train.classes] == TRAIN_IDS
    assert all(c.node == by_name[c.name] for c in train.classes)


def test_vistas_and_gtsdb_label_spaces(shipped):
    tax = shipped('cs_vistas_gtsdb')
    vistas = tax.dataset('mapillary_vistas')
    assert vistas.num_ids == 66 and len(vistas.classes) == 66
    assert [c.id for c in vistas.classes if c.ignored] == [65]
    assert vistas.classes[24].name == 'Lane Marking - General'
    gtsdb = tax.dataset('gtsdb')
    assert gtsdb.annotation == 'box' and gtsdb.num_ids == 43
    assert [c.node for c in gtsdb.classes] == list(tax.children('Traffic Sign (Front)'))
    shapes = {c.id: c.attributes['shape'] for c in gtsdb.classes}
    assert set(shapes.values()) == SHAPES
    assert (shapes[12], shapes[13], shapes[14], shapes[17]) == (
        'diamond', 'inverted_triangle', 'octagon', 'circle')


@pytest.mark.parametrize('stem, key', [('cs_vistas_gtsdb', 'gtsdb'),
                                       ('cityscapes_extended', 'gtsdb'),
                                       ('tiny_street', 'gtsdb_like')])
def test_flip_pairs_are_symmetric(shipped, stem, key):
    classes = {c.id: c for c in shipped(stem).dataset(key).classes}
    pairs = {i: c.attributes['flip_to'] for i, c in classes.items()
             if 'flip_to' in c.attributes}
    assert pairs and all(pairs[j] == i for i, j in pairs.items())
    if key == 'gtsdb':
        assert pairs == {19: 20, 20: 19, 33: 34, 34: 33, 36: 37, 37: 36, 38: 39, 39: 38}


def test_cityscapes_extended_two_levels(shipped):
    tax = shipped('cityscapes_extended')
    assert [(c.node, c.num_outputs) for c in tax.classifiers] == [('root', 27),
                                                                 ('traffic sign', 43)]
    assert tax.trained_classifiers('cityscapes') == ('root',)
    assert tax.trained_classifiers('gtsdb') == ('traffic sign',)


def test_demo_extended_taxonomy_reads_the_demo_files_alike(shipped):
    """The demo writes its files through tiny_street.yaml; the Table IV models
    read city_like, gtsdb_like and city_ext_like through tiny_city_extended.yaml:
    every id must name the same class, mapped to a node of the same name, with
    the same attributes (box shapes, flips)."""
    street, extended = shipped('tiny_street'), shipped('tiny_city_extended')
    for key in extended.dataset_keys:
        a, b = street.dataset(key), extended.dataset(key)
        assert (a.num_ids, a.annotation) == (b.num_ids, b.annotation), key
        assert [(c.id, c.name, c.node, c.ignored, c.attributes) for c in a.classes] == \
            [(c.id, c.name, c.node, c.ignored, c.attributes) for c in b.classes], key
