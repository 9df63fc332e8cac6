"""Every mmhier dataset tells MMSeg what its label values are: ``classes``
and ``palette`` indexed by node id, in ``metainfo`` (saved into checkpoints
as ``dataset_meta``) and in ``METAINFO``."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmseg.registry import DATASETS

import mmhier.datasets  # noqa: F401
from mmhier.datasets import (CityscapesTaxonomyDataset, GTSDBTaxonomyDataset,
                             MapillaryVistasTaxonomyDataset, MultiTaxonomyDataset,
                             TaxonomySegDataset)
from mmhier.datasets.errors import DatasetMetaError
from mmhier.datasets.errors import DatasetError
from mmhier.taxonomy import load_taxonomy
from mmhier.taxonomy.palette import hierarchical_palette
from tests.test_mmseg_tools.conftest import DEMO_CONFIG, REPO

EXTENDED = REPO / 'taxonomies' / 'cityscapes_extended.yaml'


@pytest.fixture(scope='module')
def demo_cfg(demo_data):
    return Config.fromfile(str(DEMO_CONFIG))


def _sub_datasets(cfg) -> list:
    return list(cfg.test_dataloader.dataset.datasets)


@pytest.mark.parametrize('which', [0, 1, 2], ids=['cityscapes', 'vistas', 'gtsdb'])
def test_every_dataset_meta_indexes_nodes(demo_cfg, taxonomy, which):
    dataset = DATASETS.build(_sub_datasets(demo_cfg)[which])
    assert type(dataset) in (CityscapesTaxonomyDataset, MapillaryVistasTaxonomyDataset,
                             GTSDBTaxonomyDataset)
    palette = hierarchical_palette(taxonomy).tolist()
    for meta in (dataset.metainfo, dataset.METAINFO):
        assert tuple(meta['classes']) == taxonomy.nodes
        assert meta['palette'] == palette
    assert dataset.METAINFO == dict(classes=taxonomy.nodes, palette=palette)
    # every label value of a sample (node ids; box labels offset by num_nodes)
    # names a node through classes
    labels = dataset[0]['data_samples'].gt_sem_seg.data
    nodes = labels[labels >= 0] % taxonomy.num_nodes
    names = {dataset.METAINFO['classes'][n] for n in nodes.unique().tolist()}
    assert names and names <= set(taxonomy.labelled_nodes(dataset.dataset_key))


def test_multi_dataset_meta_and_metainfo(demo_cfg, taxonomy):
    dataset = DATASETS.build(demo_cfg.test_dataloader.dataset)
    assert isinstance(dataset, MultiTaxonomyDataset)
    palette = hierarchical_palette(taxonomy).tolist()
    assert dataset.METAINFO == dict(classes=taxonomy.nodes, palette=palette)
    assert tuple(dataset.metainfo['classes']) == taxonomy.nodes
    assert dataset.metainfo['palette'] == palette
    assert dataset.metainfo['dataset_keys'] == ['city_like', 'vistas_like', 'gtsdb_like']


def test_class_attribute_stays_empty():
    """mmengine merges the class attribute into every instance's metainfo
    and MMSeg derives label maps from it: it must not carry one taxonomy's
    classes."""
    for cls in (TaxonomySegDataset, CityscapesTaxonomyDataset, GTSDBTaxonomyDataset,
                MapillaryVistasTaxonomyDataset, MultiTaxonomyDataset):
        assert cls.METAINFO == {}


def test_checkpoint_carries_node_classes_and_palette(checkpoint, taxonomy):
    meta = torch.load(checkpoint, map_location='cpu', weights_only=False)['meta']
    assert tuple(meta['dataset_meta']['classes']) == taxonomy.nodes
    assert meta['dataset_meta']['palette'] == hierarchical_palette(taxonomy).tolist()


def _city(tmp_path, **kwargs):
    (tmp_path / 'leftImg8bit' / 'val').mkdir(parents=True, exist_ok=True)
    (tmp_path / 'gtFine' / 'val').mkdir(parents=True, exist_ok=True)
    return dict(type='CityscapesTaxonomyDataset', data_root=str(tmp_path), split='val',
                taxonomy=str(REPO / 'taxonomies' / 'tiny_street.yaml'),
                dataset_key='city_like', lazy_init=True, **kwargs)


def test_metainfo_classes_must_be_the_nodes(tmp_path, taxonomy):
    good = DATASETS.build(_city(tmp_path, metainfo=dict(classes=list(taxonomy.nodes))))
    assert good.METAINFO['classes'] == taxonomy.nodes
    with pytest.raises(DatasetMetaError) as info:
        DATASETS.build(_city(tmp_path, metainfo=dict(classes=['road', 'car'],
                                                     palette=[[0, 0, 0]])))
    message = str(info.value)
    assert message.startswith("CityscapesTaxonomyDataset (dataset_key 'city_like'): ")
    # both problems at once
    assert 'are not the 22 node names' in message and 'palette must give one' in message
    assert isinstance(info.value, DatasetError)


def test_own_palette_of_one_colour_per_node(tmp_path, taxonomy):
    colours = np.arange(taxonomy.num_nodes * 3).reshape(-1, 3) % 256
    dataset = DATASETS.build(_city(tmp_path, metainfo=dict(palette=colours.tolist())))
    assert dataset.METAINFO['palette'] == colours.tolist()
    bad = colours.tolist()
    bad[3] = [0, 0, 256]
    with pytest.raises(DatasetMetaError, match='one \\(r, g, b\\) colour of 0..255 per node'):
        DATASETS.build(_city(tmp_path, metainfo=dict(palette=bad)))


def test_sub_datasets_of_two_trees_are_refused(tmp_path):
    gtsdb = tmp_path / 'gtsdb'
    (gtsdb / 'FullIJCNN2013').mkdir(parents=True)
    (gtsdb / 'FullIJCNN2013' / 'gt.txt').write_text('')
    extended = dict(type='GTSDBTaxonomyDataset', data_root=str(gtsdb), split='all',
                    taxonomy=str(EXTENDED), dataset_key='gtsdb', lazy_init=True)
    with pytest.raises(DatasetError) as info:
        MultiTaxonomyDataset([_city(tmp_path), extended], lazy_init=True)
    message = str(info.value)
    assert "sub-dataset 1 (dataset_key 'gtsdb') uses taxonomy" in message
    assert str(EXTENDED) in message and 'same taxonomy file' in message
    assert load_taxonomy(EXTENDED).source in message
