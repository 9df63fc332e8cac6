"""BoxAwareRandomCrop: crops that keep a whole box-labelled object, with a set
probability; plain RandomCrop otherwise."""
from pathlib import Path

import numpy as np
import pytest
from mmengine.registry import init_default_scope
from mmseg.registry import TRANSFORMS

import mmhier.datasets.transforms  # noqa: F401 (registers)
from mmhier.datasets.transforms.box_aware_crop import crop_offset_around, object_windows
from mmhier.taxonomy import load_taxonomy

TINY = Path(__file__).resolve().parents[2] / 'taxonomies' / 'tiny_street.yaml'


@pytest.fixture(autouse=True, scope='module')
def mmseg_scope():
    init_default_scope('mmseg')


@pytest.fixture(scope='module')
def tax():
    return load_taxonomy(TINY)


def sample(tax, objects, height=100, width=200, key='gtsdb_like'):
    """An image and an encoded label map with box pseudo labels of ``stop``
    in each ``(y1, y2, x1, x2)`` rectangle; -1 elsewhere."""
    labels = np.full((height, width), -1, dtype=np.int32)
    for y1, y2, x1, x2 in objects:
        labels[y1:y2, x1:x2] = tax.index('stop') + tax.num_nodes
    img = np.arange(height * width * 3, dtype=np.int64).reshape(height, width, 3) % 251
    return dict(img=img.astype(np.uint8), img_shape=(height, width), gt_seg_map=labels,
                seg_fields=['gt_seg_map'], taxonomy=tax, dataset_key=key)


def build(**kwargs):
    return TRANSFORMS.build(dict(type='BoxAwareRandomCrop', crop_size=(32, 64), **kwargs))


def test_object_windows_are_the_connected_regions_bounding_boxes():
    mask = np.zeros((10, 12), dtype=bool)
    mask[1:3, 2:5] = True
    mask[6:9, 8:12] = True
    mask[7, 5] = True
    assert object_windows(mask) == [(1, 3, 2, 5), (6, 9, 8, 12), (7, 8, 5, 6)]
    assert object_windows(np.zeros((4, 4), dtype=bool)) == []


@pytest.mark.parametrize('start, stop, crop, size, low, high', [
    (10, 20, 32, 100, 0, 10),     # room on both sides
    (90, 100, 32, 100, 68, 68),   # at the end of the image
    (0, 5, 32, 100, 0, 0),        # at the start
    (0, 100, 100, 100, 0, 0),     # crop = image
])
def test_crop_offsets_keep_the_object_inside(start, stop, crop, size, low, high):
    rng = np.random.default_rng(0)
    offsets = {crop_offset_around(start, stop, crop, size, rng) for _ in range(300)}
    assert offsets == set(range(low, high + 1))
    assert all(o <= start and o + crop >= stop for o in offsets)


def test_object_longer_than_the_crop_is_centred():
    rng = np.random.default_rng(0)
    assert crop_offset_around(10, 60, 20, 100, rng) == 25
    assert crop_offset_around(0, 60, 20, 100, rng) == 20
    assert crop_offset_around(50, 100, 40, 100, rng) == 55  # clipped to size - crop


def test_every_crop_holds_a_whole_object_with_box_prob_one(tax):
    crop = build(box_prob=1.0)
    objects = [(5, 15, 10, 30), (70, 90, 150, 190)]
    seen = set()
    np.random.seed(0)
    for _ in range(200):
        out = crop(sample(tax, objects))
        labels = out['gt_seg_map']
        assert labels.shape == (32, 64) and out['img'].shape == (32, 64, 3)
        windows = object_windows(labels >= tax.num_nodes)
        sizes = {(y2 - y1, x2 - x1) for y1, y2, x1, x2 in windows}
        whole = sizes & {(10, 20), (20, 40)}
        assert whole, f'no whole object in the crop: {windows}'
        seen |= whole
    assert seen == {(10, 20), (20, 40)}  # both objects are picked, the small one too


def test_box_prob_sets_the_share_of_object_crops(tax):
    # a small object in a large image: a plain random crop rarely shows it
    crop = build(box_prob=0.5)
    np.random.seed(1)
    hits = sum(bool((crop(sample(tax, [(80, 84, 180, 184)], 200, 400))['gt_seg_map']
                     >= tax.num_nodes).sum() == 16) for _ in range(400))
    # object crops half the time, plus the random crops that happen to hold
    # it: offsets y in [52, 80] of [0, 168], x in [120, 180] of [0, 336]
    expected = 0.5 + 0.5 * (29 / 169) * (61 / 337)
    assert abs(hits / 400 - expected) < 0.075


def test_box_prob_zero_is_mmseg_random_crop(tax):
    ours, theirs = build(box_prob=0.0), TRANSFORMS.build(dict(type='RandomCrop',
                                                              crop_size=(32, 64)))
    for seed in range(5):
        np.random.seed(seed)
        a = ours(sample(tax, [(5, 15, 10, 30)]))['gt_seg_map']
        np.random.seed(seed)
        b = theirs(sample(tax, [(5, 15, 10, 30)]))['gt_seg_map']
        assert np.array_equal(a, b)


def test_samples_without_box_labels_get_random_crops(tax):
    crop = build(box_prob=1.0)
    results = sample(tax, [], key='city_like')
    results['gt_seg_map'][:] = tax.index('sky')  # per-pixel labels only
    np.random.seed(0)
    out = crop(results)
    assert out['gt_seg_map'].shape == (32, 64)
    assert (out['gt_seg_map'] == tax.index('sky')).all()


def test_crop_larger_than_the_image_keeps_the_image(tax):
    out = build(box_prob=1.0)(sample(tax, [(2, 8, 2, 8)], height=20, width=40))
    assert out['gt_seg_map'].shape == (20, 40)


@pytest.mark.parametrize('prob', [-0.1, 1.5])
def test_bad_box_prob_is_refused(prob):
    with pytest.raises(ValueError, match='box_prob must be in'):
        build(box_prob=prob)


def test_sample_without_taxonomy_says_how_to_fix(tax):
    results = sample(tax, [(5, 15, 10, 30)])
    del results['taxonomy']
    with pytest.raises(ValueError, match='TaxonomySegDataset'):
        build(box_prob=1.0)(results)


def test_node_set_pixel_labels_are_no_objects():
    """tiny_partial_labels: N = 16, T = 19; 17 ([car, truck]) is a per-pixel
    node-set label, 17 + 19 its box pseudo label."""
    partial = load_taxonomy(TINY.with_name('tiny_partial_labels.yaml'))
    labels = np.full((40, 80), 17, dtype=np.int32)      # node-set pixels everywhere
    labels[5:10, 20:30] = 17 + partial.num_targets      # one box object
    results = dict(img=np.zeros((40, 80, 3), np.uint8), img_shape=(40, 80),
                   gt_seg_map=labels, seg_fields=['gt_seg_map'], taxonomy=partial,
                   dataset_key='street_coarse')
    assert build()._windows(results) == [(5, 10, 20, 30)]
