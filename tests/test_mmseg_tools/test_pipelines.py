"""MMSeg's pipeline names in mmhier datasets: ``LoadAnnotations`` loads each
dataset's own labels (label images or box pseudo labels), also inside
``TestTimeAug`` and after geometric steps, so that MMSeg-style test and TTA
pipelines work for every mmhier dataset."""
from __future__ import annotations

import numpy as np
import pytest
from mmengine.config import Config
from mmseg.datasets.transforms import LoadAnnotations
from mmseg.registry import DATASETS

import mmhier.datasets  # noqa: F401
from mmhier.datasets import BoxesToPseudoMask, LoadTaxonomyAnnotations
from mmhier.datasets.errors import DatasetMetaError
from mmhier.datasets.label_steps import BoxPseudoLabelsAtLoadedSize, with_label_loader
from tests.test_mmseg_tools.conftest import DEMO_CONFIG


@pytest.fixture(scope='module')
def sub_datasets(demo_data) -> list:
    """The demo config's three validation dataset configs."""
    return list(Config.fromfile(str(DEMO_CONFIG)).test_dataloader.dataset.datasets)


def _build(cfg: dict, pipeline: list):
    return DATASETS.build(dict(cfg, pipeline=pipeline))


def test_load_annotations_becomes_the_dataset_loader(sub_datasets):
    steps = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
             dict(type='PackTaxonomySegInputs')]
    city, _, gtsdb = (_build(cfg, steps) for cfg in sub_datasets)
    assert isinstance(city.pipeline.transforms[1], LoadTaxonomyAnnotations)
    assert type(gtsdb.pipeline.transforms[1]) is BoxPseudoLabelsAtLoadedSize
    # the labels are those of the explicit mmhier pipelines
    explicit = {0: [dict(type='LoadCheckedImageFromFile'), dict(type='LoadTaxonomyAnnotations'),
                    dict(type='PackTaxonomySegInputs')],
                2: [dict(type='LoadCheckedImageFromFile'), dict(type='BoxesToPseudoMask'),
                    dict(type='PackTaxonomySegInputs')]}
    for which, dataset in ((0, city), (2, gtsdb)):
        reference = _build(sub_datasets[which], explicit[which])
        for idx in range(len(dataset)):
            ours = dataset[idx]['data_samples'].gt_sem_seg.data
            theirs = reference[idx]['data_samples'].gt_sem_seg.data
            assert ours.dtype == theirs.dtype and np.array_equal(ours, theirs)


def test_box_labels_after_resize_and_flip_stay_at_the_loaded_size(sub_datasets):
    """Like a label image loaded after ``Resize``: evaluated at full size."""
    gtsdb_cfg = sub_datasets[2]
    steps = [dict(type='LoadImageFromFile'),
             dict(type='Resize', scale_factor=0.5, keep_ratio=True),
             dict(type='RandomFlip', prob=1.0, direction='horizontal'),
             dict(type='LoadAnnotations'), dict(type='PackTaxonomySegInputs')]
    reference = _build(gtsdb_cfg, [dict(type='LoadImageFromFile'),
                                   dict(type='BoxesToPseudoMask'),
                                   dict(type='PackTaxonomySegInputs')])
    dataset = _build(gtsdb_cfg, steps)
    sample = dataset[0]
    assert tuple(sample['inputs'].shape[1:]) == (200, 340)     # 400x680 images at half
    gt = sample['data_samples'].gt_sem_seg.data
    assert np.array_equal(gt, reference[0]['data_samples'].gt_sem_seg.data)
    assert (gt >= 0).any()


def test_inside_test_time_aug(sub_datasets):
    tta = [dict(type='LoadImageFromFile'),
           dict(type='TestTimeAug', transforms=[
               [dict(type='Resize', scale_factor=r, keep_ratio=True) for r in (0.5, 1.0)],
               [dict(type='LoadAnnotations')], [dict(type='PackTaxonomySegInputs')]])]
    for cfg in sub_datasets:
        sample = _build(cfg, tta)[0]
        gts = [s.gt_sem_seg.data for s in sample['data_samples']]
        assert len(gts) == 2 and np.array_equal(gts[0], gts[1])
        assert gts[0].shape[1:] == sample['inputs'][1].shape[1:]   # scale 1.0


def test_built_load_annotations_and_its_arguments():
    steps = with_label_loader([LoadAnnotations(backend_args=dict(backend='local'))],
                              'pixel', 'X')
    assert isinstance(steps[0], LoadTaxonomyAnnotations)
    assert steps[0].backend_args == dict(backend='local')
    assert type(with_label_loader([LoadAnnotations()], 'box', 'X')[0]) is \
        BoxPseudoLabelsAtLoadedSize
    assert with_label_loader([dict(type='mmseg.LoadAnnotations')], 'pixel', 'X') == \
        [dict(type='LoadTaxonomyAnnotations')]
    other = dict(type='Resize', scale=(8, 8))
    assert with_label_loader([other], 'pixel', 'X')[0] is other
    assert issubclass(BoxPseudoLabelsAtLoadedSize, BoxesToPseudoMask)


def test_reduce_zero_label_is_refused(sub_datasets):
    with pytest.raises(DatasetMetaError) as info:
        _build(sub_datasets[0], [dict(type='LoadImageFromFile'),
                                 dict(type='LoadAnnotations', reduce_zero_label=True)])
    assert str(info.value).startswith(
        "CityscapesTaxonomyDataset (dataset_key 'city_like'): LoadAnnotations("
        'reduce_zero_label=True) does not apply to taxonomy labels')


def test_multi_dataset_pipeline_serves_pixel_and_box_datasets(demo_data):
    cfg = Config.fromfile(str(DEMO_CONFIG))
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    keys = []
    for idx in range(len(dataset)):
        sample = dataset[idx]['data_samples']
        keys.append(sample.dataset_key)
        assert sample.gt_sem_seg.data.shape[1:] == tuple(sample.ori_shape)
    assert keys == ['city_like'] * 2 + ['vistas_like'] * 2 + ['gtsdb_like'] * 2
