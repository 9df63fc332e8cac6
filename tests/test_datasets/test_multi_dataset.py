"""MultiTaxonomyDataset: concatenation of datasets with different metainfo."""
from __future__ import annotations

from pathlib import Path

import pytest
from mmengine.dataset import ConcatDataset
from mmseg.registry import DATASETS

from mmhier.datasets.errors import DatasetError
from mmhier.datasets.multi_dataset import MultiTaxonomyDataset
from mmhier.datasets.taxonomy_dataset import TaxonomySegDataset
from tests.test_datasets.tiny_datasets import _Tiny

TINY_STREET = Path(__file__).resolve().parents[2] / 'taxonomies' / 'tiny_street.yaml'


def _three(lazy: bool = False) -> list:
    return [_Tiny(5, 'city_like', lazy_init=lazy),
            _Tiny(12, 'vistas_like', lazy_init=lazy),
            _Tiny(7, 'gtsdb_like', 'box', lazy_init=lazy)]


def test_plain_concat_refuses_what_multi_accepts():
    with pytest.raises(ValueError, match='does not match'):
        ConcatDataset(_three())
    dataset = MultiTaxonomyDataset(_three())
    assert len(dataset) == 24
    assert dataset.cumulative_sizes == [5, 17, 24]
    assert dataset.dataset_sizes == [5, 12, 7]
    assert dataset.dataset_keys == ['city_like', 'vistas_like', 'gtsdb_like']


def test_metainfo_is_first_plus_all_keys():
    dataset = MultiTaxonomyDataset(_three())
    assert dataset.metainfo == dict(
        annotation='pixel', classes=('city_like_a', 'city_like_b'),
        dataset_key='city_like',
        dataset_keys=['city_like', 'vistas_like', 'gtsdb_like'])
    dataset.metainfo['dataset_keys'].append('x')          # a copy
    assert dataset.metainfo['dataset_keys'] == dataset.dataset_keys
    assert [d.metainfo['annotation'] for d in dataset.datasets] == [
        'pixel', 'pixel', 'box']


def test_index_routing():
    dataset = MultiTaxonomyDataset(_three())
    assert [dataset.dataset_index(i) for i in (0, 4, 5, 16, 17, 23)] == [
        0, 0, 1, 1, 2, 2]
    assert dataset.locate(16) == (1, 11)
    assert dataset.locate(-1) == (2, 6)
    assert dataset.locate(-24) == (0, 0)
    assert dataset[5] == dict(inputs=dict(key='vistas_like', local=0))
    assert dataset[23] == dict(inputs=dict(key='gtsdb_like', local=6))
    assert dataset.get_data_info(17) == dict(key='gtsdb_like', local=0,
                                             sample_idx=0)
    for bad in (24, -25):
        with pytest.raises(IndexError, match=f'global index {bad} .* 24 samples'):
            dataset.dataset_index(bad)
    with pytest.raises(IndexError, match='global index 30'):
        dataset[30]


def test_lazy_init_defers_loading():
    parts = _three(lazy=True)
    dataset = MultiTaxonomyDataset(parts, lazy_init=True)
    assert [p.loads for p in parts] == [0, 0, 0]
    assert not hasattr(dataset, 'cumulative_sizes')
    assert dataset.dataset_keys == ['city_like', 'vistas_like', 'gtsdb_like']
    dataset.full_init()
    dataset.full_init()
    assert [p.loads for p in parts] == [1, 1, 1]
    assert dataset.cumulative_sizes == [5, 17, 24]


def test_eager_init_loads_now():
    parts = _three(lazy=True)
    MultiTaxonomyDataset(parts)
    assert [p.loads for p in parts] == [1, 1, 1]


def test_build_from_configs():
    dataset = DATASETS.build(dict(
        type='MultiTaxonomyDataset', lazy_init=True, datasets=[
            dict(type='_TinyTestDataset', size=2, key='a', lazy_init=True),
            dict(type='_TinyTestDataset', size=3, key=None)]))
    assert isinstance(dataset, MultiTaxonomyDataset)
    assert dataset.dataset_keys == ['a', None]
    assert dataset.dataset_sizes == [2, 3]
    assert dataset[4] == dict(inputs=dict(key=None, local=2))


def test_taxonomy_datasets_with_different_annotation(tmp_path):
    def taxonomy_dataset(key: str, names: list) -> dict:
        img_dir = tmp_path / key / 'img'
        img_dir.mkdir(parents=True)
        for name in names:
            (img_dir / f'{name}.png').touch()
        return dict(type='TaxonomySegDataset', taxonomy=str(TINY_STREET),
                    dataset_key=key, data_root=str(tmp_path / key),
                    data_prefix=dict(img_path='img', seg_map_path='ann'),
                    img_suffix='.png', seg_map_suffix='.png')

    cfgs = [taxonomy_dataset('city_like', ['c0', 'c1']),
            taxonomy_dataset('gtsdb_like', ['g0', 'g1', 'g2'])]
    with pytest.raises(ValueError):
        ConcatDataset([DATASETS.build(c) for c in cfgs])
    dataset = MultiTaxonomyDataset(cfgs)
    assert all(isinstance(d, TaxonomySegDataset) for d in dataset.datasets)
    assert dataset.dataset_keys == ['city_like', 'gtsdb_like']
    assert [d.metainfo['annotation'] for d in dataset.datasets] == ['pixel', 'box']
    assert dataset.dataset_sizes == [2, 3]
    info = dataset.get_data_info(3)
    assert info['dataset_key'] == 'gtsdb_like'
    assert Path(info['img_path']).name == 'g1.png'


@pytest.mark.parametrize('datasets', [[], (), dict(type='_TinyTestDataset'),
                                      '_TinyTestDataset', None])
def test_not_a_nonempty_list(datasets):
    with pytest.raises(ValueError, match='non-empty list'):
        MultiTaxonomyDataset(datasets)


def test_element_of_wrong_type():
    with pytest.raises(TypeError, match='config or `BaseDataset`'):
        MultiTaxonomyDataset([_Tiny(2, 'a'), [1, 2, 3]])


def test_empty_sub_dataset():
    with pytest.raises(DatasetError, match=r"sub-dataset 1 \(_Tiny, dataset_key "
                                           r"'vistas_like'\) .* no samples"):
        MultiTaxonomyDataset([_Tiny(2, 'city_like'), _Tiny(0, 'vistas_like')])
    lazy = MultiTaxonomyDataset([_Tiny(0, None, lazy_init=True)], lazy_init=True)
    with pytest.raises(DatasetError, match=r'sub-dataset 0 \(_Tiny\)'):
        lazy.full_init()
    with pytest.raises(DatasetError):
        lazy.full_init()                 # still refused on a second call


def test_metainfo_class_attribute_is_the_instances_classes():
    dataset = MultiTaxonomyDataset(_three())
    assert dataset.METAINFO == dict(classes=('city_like_a', 'city_like_b'))
    assert MultiTaxonomyDataset.METAINFO == {}


def _taxonomy_cfgs(tmp_path, keys=('city_like', 'gtsdb_like')) -> list:
    cfgs = []
    for key in keys:
        img_dir = tmp_path / key / 'img'
        img_dir.mkdir(parents=True)
        (img_dir / 'a.png').touch()
        cfgs.append(dict(type='TaxonomySegDataset', taxonomy=str(TINY_STREET),
                         dataset_key=key, data_root=str(tmp_path / key),
                         data_prefix=dict(img_path='img', seg_map_path='ann'),
                         img_suffix='.png', seg_map_suffix='.png',
                         pipeline=[dict(type='Resize', scale=(8, 8))]))
    return cfgs


def test_pipeline_replaces_every_sub_datasets(tmp_path):
    from mmseg.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                dict(type='PackTaxonomySegInputs')]
    cfgs = _taxonomy_cfgs(tmp_path)
    built_box = DATASETS.build(cfgs[1])          # a built sub-dataset
    tiny = _Tiny(2, 'other')                     # not a taxonomy dataset
    dataset = MultiTaxonomyDataset([cfgs[0], built_box, tiny], pipeline=pipeline)
    city, box, other = (d.pipeline.transforms for d in dataset.datasets)
    assert [type(t).__name__ for t in city] == [
        'DiagnosedImageLoader', 'LoadTaxonomyAnnotations', 'PackTaxonomySegInputs']
    assert [type(t).__name__ for t in box] == [
        'DiagnosedImageLoader', 'BoxPseudoLabelsAtLoadedSize', 'PackTaxonomySegInputs']
    assert [type(t).__name__ for t in other] == [
        'LoadImageFromFile', 'LoadAnnotations', 'PackTaxonomySegInputs']
    from mmhier.taxonomy import load_taxonomy
    assert dataset.METAINFO['classes'] == load_taxonomy(TINY_STREET).nodes
    # without pipeline, each keeps its own
    kept = MultiTaxonomyDataset(_taxonomy_cfgs(tmp_path / 'again'))
    assert all([type(t).__name__ for t in d.pipeline.transforms] == ['Resize']
               for d in kept.datasets)


@pytest.mark.parametrize('pipeline', [dict(type='Resize'), 'LoadImageFromFile', 3])
def test_pipeline_must_be_a_list(pipeline):
    with pytest.raises(TypeError, match='pipeline=...\\) must be a list of transforms'):
        MultiTaxonomyDataset(_three(), pipeline=pipeline)
