"""CityscapesTaxonomyDataset on the real Cityscapes sample."""
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS
from PIL import Image

import mmhier.datasets.cityscapes  # noqa: F401  (registers the dataset)
import mmhier.datasets.transforms.loading  # noqa: F401  (registers the transform)
from mmhier.datasets.errors import MissingDataError
from mmhier.taxonomy import load_taxonomy

ROOT = Path(__file__).resolve().parents[1] / 'data' / 'fixtures' / 'cityscapes'
FRAME = 'frankfurt/frankfurt_000000_000294'
PIPELINE = [dict(type='LoadImageFromFile'), dict(type='LoadTaxonomyAnnotations'),
            dict(type='PackSegInputs')]


@pytest.fixture(autouse=True, scope='module')
def mmseg_scope():
    init_default_scope('mmseg')


def build(**kwargs):
    cfg = dict(type='CityscapesTaxonomyDataset', data_root=str(ROOT), split='val',
               pipeline=PIPELINE)
    cfg.update(kwargs)
    return DATASETS.build(cfg)


def independent_lut(key):
    """id -> node index from the taxonomy's class list (not label_to_node)."""
    tax = load_taxonomy('taxonomies/cs_vistas_gtsdb.yaml')
    spec = tax.dataset(key)
    lut = np.full(spec.num_ids, -1, dtype=np.int64)
    for c in spec.classes:
        if c.node is not None:
            lut[c.id] = tax.index(c.node)
    return tax, lut


def node_counts(gt, tax):
    values, counts = torch.unique(gt, return_counts=True)
    return {(tax.nodes[v] if v >= 0 else -1): c
            for v, c in zip(values.tolist(), counts.tolist())}


def test_label_ids_sample_maps_pixel_for_pixel():
    ds = build()
    assert len(ds) == 1
    info = ds.get_data_info(0)
    assert info['img_path'] == str(ROOT / 'leftImg8bit' / 'val' / f'{FRAME}_leftImg8bit.png')
    assert info['seg_map_path'] == str(ROOT / 'gtFine' / 'val'
                                       / f'{FRAME}_gtFine_labelIds.png')
    assert info['dataset_key'] == 'cityscapes'
    assert ds.metainfo['dataset_classes'][20] == 'traffic sign'
    sample = ds[0]
    gt = sample['data_samples'].gt_sem_seg.data
    assert gt.dtype == torch.int64 and gt.shape == (1, 128, 256)
    assert sample['inputs'].shape == (3, 128, 256)
    raw = np.array(Image.open(info['seg_map_path']))
    ids, counts = np.unique(raw, return_counts=True)
    print('Cityscapes labelIds in the fixture:', dict(zip(ids.tolist(), counts.tolist())))
    assert dict(zip(ids.tolist(), counts.tolist())) == {
        1: 1890, 2: 987, 3: 764, 4: 233, 7: 9740, 8: 2628, 11: 12744, 13: 44,
        17: 396, 20: 188, 21: 664, 23: 581, 24: 107, 26: 1802}
    tax, lut = independent_lut('cityscapes')
    np.testing.assert_array_equal(gt[0].numpy(), lut[raw])
    # per raw id: its pixel count becomes the count of its node; the void ids
    # 2 rectification border, 3 out of roi, 4 static are ignored together
    assert node_counts(gt, tax) == {
        'Ego Vehicle': 1890, -1: 987 + 764 + 233, 'Driveable': 9740,
        'Sidewalk': 2628, 'Building': 12744, 'Fence': 44, 'Pole': 396,
        'Traffic Sign': 188, 'Vegetation': 664, 'Sky': 581, 'Person': 107,
        'Car': 1802}
    assert (gt != 255).all() and gt.min() == -1


def test_label_train_ids_sample_maps_pixel_for_pixel():
    ds = build(label_type='labelTrainIds')
    info = ds.get_data_info(0)
    assert info['seg_map_path'].endswith('_gtFine_labelTrainIds.png')
    assert info['dataset_key'] == 'cityscapes_trainids'
    gt = ds[0]['data_samples'].gt_sem_seg.data
    raw = np.array(Image.open(info['seg_map_path']))
    ids, counts = np.unique(raw, return_counts=True)
    print('Cityscapes labelTrainIds in the fixture:', dict(zip(ids.tolist(), counts.tolist())))
    assert dict(zip(ids.tolist(), counts.tolist())) == {
        0: 9737, 1: 2634, 2: 12748, 4: 43, 5: 400, 7: 190, 8: 663, 10: 579,
        11: 106, 13: 1799, 255: 3869}
    tax, lut = independent_lut('cityscapes_trainids')
    np.testing.assert_array_equal(gt[0].numpy(), lut[raw])
    assert node_counts(gt, tax) == {
        'Driveable': 9737, 'Sidewalk': 2634, 'Building': 12748, 'Fence': 43,
        'Pole': 400, 'Traffic Sign': 190, 'Vegetation': 663, 'Sky': 579,
        'Person': 106, 'Car': 1799, -1: 3869}          # 255 -> ignored, not 255
    assert (gt != 255).all()


def test_explicit_dataset_key_and_data_prefix():
    ds = build(split='test', dataset_key='cityscapes',
               data_prefix=dict(img_path='leftImg8bit/val', seg_map_path='gtFine/val'))
    assert ds.dataset_key == 'cityscapes' and len(ds) == 1


def test_unknown_label_type():
    with pytest.raises(ValueError, match="label_type must be one of .*'color'"):
        build(label_type='color')


def test_missing_data_root_explains_layout(tmp_path):
    with pytest.raises(MissingDataError, match='data_root .*does not exist; expected '
                                               'Cityscapes layout') as info:
        build(data_root=str(tmp_path / 'cityscapes'))
    assert 'leftImg8bit/val/<city>/<city>_<seq>_<frame>_leftImg8bit.png' in str(info.value)


def test_missing_split_folder(tmp_path):
    shutil.copytree(ROOT, tmp_path / 'cs')
    with pytest.raises(MissingDataError,
                       match=r"img_path folder .*leftImg8bit/train' does not"):
        build(data_root=str(tmp_path / 'cs'), split='train')
    shutil.rmtree(tmp_path / 'cs' / 'gtFine')
    with pytest.raises(MissingDataError, match='gtFine/val/<city>/<city>_<seq>_<frame>'
                                               '_gtFine_labelIds.png'):
        build(data_root=str(tmp_path / 'cs'))


def test_empty_image_folder(tmp_path):
    (tmp_path / 'leftImg8bit' / 'val').mkdir(parents=True)
    (tmp_path / 'gtFine' / 'val').mkdir(parents=True)
    with pytest.raises(MissingDataError, match=r'no \*_leftImg8bit.png images under'):
        build(data_root=str(tmp_path))


def test_missing_label_file_of_one_image(tmp_path):
    shutil.copytree(ROOT, tmp_path / 'cs')
    (tmp_path / 'cs' / 'gtFine' / 'val' / f'{FRAME}_gtFine_labelIds.png').unlink()
    ds = build(data_root=str(tmp_path / 'cs'))
    with pytest.raises(MissingDataError, match='frankfurt_000000_000294_gtFine_labelIds.png: '
                                               'label file not found'):
        ds[0]
