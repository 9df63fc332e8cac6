"""MapillaryVistasTaxonomyDataset on the real Vistas sample."""
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS
from PIL import Image

import mmhier.datasets.mapillary  # noqa: F401  (registers the dataset)
import mmhier.datasets.transforms.loading  # noqa: F401  (registers the transform)
from mmhier.datasets.errors import MissingDataError
from mmhier.taxonomy import load_taxonomy

ROOT = Path(__file__).resolve().parents[1] / 'data' / 'fixtures' / 'mapillary'
KEY = '__CRyFzoDOXn6unQ6a3DnQ'
PIPELINE = [dict(type='LoadImageFromFile'), dict(type='LoadTaxonomyAnnotations'),
            dict(type='PackSegInputs')]


@pytest.fixture(autouse=True, scope='module')
def mmseg_scope():
    init_default_scope('mmseg')


def build(data_root=ROOT, **kwargs):
    cfg = dict(type='MapillaryVistasTaxonomyDataset', data_root=str(data_root),
               split='validation', pipeline=PIPELINE)
    cfg.update(kwargs)
    return DATASETS.build(cfg)


def independent_lut():
    """id -> node index from the taxonomy's class list (not label_to_node)."""
    tax = load_taxonomy('taxonomies/cs_vistas_gtsdb.yaml')
    spec = tax.dataset('mapillary_vistas')
    lut = np.full(spec.num_ids, -1, dtype=np.int64)
    for c in spec.classes:
        if c.node is not None:
            lut[c.id] = tax.index(c.node)
    return tax, lut


def test_real_sample_maps_pixel_for_pixel():
    ds = build()
    info = ds.get_data_info(0)
    assert len(ds) == 1 and info['dataset_key'] == 'mapillary_vistas'
    assert info['img_path'] == str(ROOT / 'validation' / 'images' / f'{KEY}.jpg')
    assert info['seg_map_path'] == str(ROOT / 'validation' / 'v1.2' / 'labels' / f'{KEY}.png')
    label = Image.open(info['seg_map_path'])
    assert label.mode == 'P'
    raw = np.array(label)
    ids, counts = np.unique(raw, return_counts=True)
    print('Vistas ids in the fixture:', dict(zip(ids.tolist(), counts.tolist())))
    assert dict(zip(ids.tolist(), counts.tolist())) == {17: 9157, 44: 731, 45: 112}
    sample = ds[0]
    gt = sample['data_samples'].gt_sem_seg.data
    assert gt.dtype == torch.int64 and gt.shape == (1, 100, 100)
    assert sample['inputs'].shape == (3, 100, 100)
    tax, lut = independent_lut()
    np.testing.assert_array_equal(gt[0].numpy(), lut[raw])
    for raw_id, name in [(17, 'Building'), (44, 'Street Light'), (45, 'Pole')]:
        assert (gt[0].numpy()[raw == raw_id] == tax.index(name)).all()
        assert int((gt == tax.index(name)).sum()) == int((raw == raw_id).sum())


def test_unlabeled_and_lane_marking_on_the_real_palette(tmp_path):
    """The real label with rows 0-9 set to 65 (Unlabeled) and rows 10-14 to 24
    (Lane Marking - General), saved with the real Vistas palette."""
    shutil.copytree(ROOT, tmp_path / 'vistas')
    path = tmp_path / 'vistas' / 'validation' / 'v1.2' / 'labels' / f'{KEY}.png'
    original = Image.open(path)
    raw = np.array(original)
    raw[:10], raw[10:15] = 65, 24
    edited = Image.fromarray(raw)
    edited.putpalette(original.getpalette())
    edited.save(path)
    assert Image.open(path).mode == 'P'
    gt = build(data_root=tmp_path / 'vistas')[0]['data_samples'].gt_sem_seg.data[0]
    tax, lut = independent_lut()
    np.testing.assert_array_equal(gt.numpy(), lut[raw])
    assert gt[:10].eq(-1).all() and int(gt.eq(-1).sum()) == 1000
    assert gt[10:15].eq(tax.index('Lane Marking - General')).all()
    assert tax.parent('Lane Marking - General') == 'Driveable'
    assert (gt != 255).all()


def test_missing_split_lists_what_data_root_holds(tmp_path):
    with pytest.raises(MissingDataError, match=r"img_path folder .*training/images' does not "
                                               r'exist \(data_root holds: validation\)'):
        build(split='training')
    with pytest.raises(MissingDataError, match='Mapillary Vistas data_root'):
        build(data_root=tmp_path / 'missing')


def test_custom_data_prefix(tmp_path):
    # the layout of the shared sample: <root>/images and <root>/v1.2
    (tmp_path / 'v1.2').mkdir()
    shutil.copytree(ROOT / 'validation' / 'images', tmp_path / 'images')
    shutil.copy(ROOT / 'validation' / 'v1.2' / 'labels' / f'{KEY}.png', tmp_path / 'v1.2')
    ds = build(data_root=tmp_path, data_prefix=dict(img_path='images', seg_map_path='v1.2'))
    gt = ds[0]['data_samples'].gt_sem_seg.data
    tax = load_taxonomy('taxonomies/cs_vistas_gtsdb.yaml')
    assert int((gt == tax.index('Building')).sum()) == 9157
