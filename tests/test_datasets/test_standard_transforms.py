"""mmseg's own geometric and photometric transforms on encoded label maps.

The real Cityscapes sample goes through RandomResize / Resize, RandomCrop
(cat_max_ratio, ignore_index=-1), RandomFlip, PhotoMetricDistortion and
PackSegInputs. Probes between the steps record the intermediate results; a
coordinate map added after resizing (cropped with the other ``seg_fields``)
tells where every output pixel came from.
"""
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

import mmhier.datasets.cityscapes  # noqa: F401  (registers the dataset)
import mmhier.datasets.transforms.loading  # noqa: F401  (registers the transform)
from mmhier.taxonomy import load_taxonomy

ROOT = Path(__file__).resolve().parents[1] / 'data' / 'fixtures' / 'cityscapes'
CROP = (64, 96)


@pytest.fixture(autouse=True, scope='module')
def mmseg_scope():
    init_default_scope('mmseg')


class Probe:
    """Pipeline steps that keep copies of the results between transforms."""

    def __init__(self):
        self.seen = {}

    def after_resize(self, results):
        self.seen['resize'] = (results['img'].copy(), results['gt_seg_map'].copy())
        h, w = results['gt_seg_map'].shape
        results['coord_map'] = np.arange(h * w, dtype=np.int32).reshape(h, w)
        results['seg_fields'].append('coord_map')
        return results

    def after_crop(self, results):
        self.seen['crop'] = (results['img'].copy(), results['gt_seg_map'].copy(),
                             results['coord_map'].copy())
        return results

    def after_flip(self, results):
        self.seen['flip'] = (results['img'].copy(), results['gt_seg_map'].copy())
        return results


RESIZES = {
    'random_resize_up': dict(type='RandomResize', scale=(512, 256), ratio_range=(0.75, 1.5),
                             keep_ratio=True),
    'resize_down': dict(type='Resize', scale=(160, 80), keep_ratio=True),
}


@pytest.mark.parametrize('resize', sorted(RESIZES))
@pytest.mark.parametrize('seed', [0, 1, 2])
def test_resize_crop_flip_photometric_keep_labels_exact(resize, seed):
    probe = Probe()
    ds = DATASETS.build(dict(
        type='CityscapesTaxonomyDataset', data_root=str(ROOT), split='val',
        pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadTaxonomyAnnotations'),
                  RESIZES[resize], probe.after_resize,
                  dict(type='RandomCrop', crop_size=CROP, cat_max_ratio=0.75,
                       ignore_index=-1),
                  probe.after_crop,
                  dict(type='RandomFlip', prob=1.0), probe.after_flip,
                  dict(type='PhotoMetricDistortion'), dict(type='PackSegInputs')]))
    tax = load_taxonomy('taxonomies/cs_vistas_gtsdb.yaml')
    allowed = set(tax.label_to_node('cityscapes').tolist())      # node ids and -1
    np.random.seed(seed)
    out = ds[0]

    img_r, gt_r = probe.seen['resize']
    assert gt_r.dtype == np.int32 and img_r.shape[:2] == gt_r.shape
    if resize == 'resize_down':
        assert gt_r.shape == (80, 160)
    # nearest only: no value appears that the label map did not have
    assert set(np.unique(gt_r).tolist()) <= allowed

    # crop: one window, the same for image, label and coordinates
    img_c, gt_c, coord = probe.seen['crop']
    assert gt_c.shape == CROP and img_c.shape[:2] == CROP
    y1, x1 = divmod(int(coord[0, 0]), gt_r.shape[1])
    rows = (y1 + np.arange(CROP[0]))[:, None] * gt_r.shape[1]
    np.testing.assert_array_equal(coord, rows + x1 + np.arange(CROP[1]))
    np.testing.assert_array_equal(gt_c, gt_r.reshape(-1)[coord])
    np.testing.assert_array_equal(img_c, img_r.reshape(-1, 3)[coord])

    # flip: an exact mirror of image and label
    img_f, gt_f = probe.seen['flip']
    np.testing.assert_array_equal(gt_f, gt_c[:, ::-1])
    np.testing.assert_array_equal(img_f, img_c[:, ::-1])

    # photometric distortion and packing leave the labels alone
    gt = out['data_samples'].gt_sem_seg.data
    assert gt.dtype == torch.int64 and gt.shape == (1, *CROP)
    assert out['inputs'].shape == (3, *CROP)
    np.testing.assert_array_equal(gt[0].numpy(), gt_f)
    assert set(gt.unique().tolist()) <= allowed and not (gt == 255).any()


def balanced_crops(cat_max_ratio):
    """How many of 20 seeded 32x32 crops have no node above 75 % of the
    labelled pixels."""
    ds = DATASETS.build(dict(
        type='CityscapesTaxonomyDataset', data_root=str(ROOT), split='val',
        pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadTaxonomyAnnotations'),
                  dict(type='RandomCrop', crop_size=(32, 32), cat_max_ratio=cat_max_ratio,
                       ignore_index=-1),
                  dict(type='PackSegInputs')]))
    balanced = 0
    for seed in range(20):
        np.random.seed(seed)
        gt = ds[0]['data_samples'].gt_sem_seg.data
        _, counts = gt[gt >= 0].unique(return_counts=True)
        balanced += int(len(counts) > 1 and counts.max() / counts.sum() < 0.75)
    return balanced


def test_cat_max_ratio_works_on_node_labels():
    """RandomCrop's class-balance retry reads the encoded map (ignore -1).

    The sample is 39 % Building; a plain 32x32 crop often lies inside one
    class, while cat_max_ratio=0.75 retries (up to 10 times) until no node
    covers 75 % of the labelled pixels.
    """
    assert balanced_crops(0.75) == 20
    assert balanced_crops(1.0) < 15
