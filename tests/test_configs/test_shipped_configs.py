"""Every shipped config parses, names only registered modules and builds its
model (pretrained weights set to None: nothing can be downloaded in tests)."""
from pathlib import Path

import pytest
from mmengine.config import Config, ConfigDict
from mmseg.registry import (DATA_SAMPLERS, DATASETS, METRICS, MODELS, TRANSFORMS)
from mmseg.utils import register_all_modules

import mmhier.datasets  # noqa: F401
import mmhier.evaluation  # noqa: F401
import mmhier.models  # noqa: F401
from tests.conftest import REPO_ROOT

register_all_modules(init_default_scope=True)
CONFIGS = sorted(p for p in (REPO_ROOT / 'configs').rglob('*.py') if '_base_' not in p.parts)


def _offline(cfg):
    """SyncBN -> BN (no process group) and no pretrained weights."""
    if isinstance(cfg, dict):
        cfg = {k: _offline(v) for k, v in cfg.items()}
        if cfg.get('type') == 'SyncBN':
            cfg['type'] = 'BN'
        if isinstance(cfg.get('init_cfg'), dict) and cfg['init_cfg'].get('type') == \
                'Pretrained':
            cfg['init_cfg'] = None
        return cfg
    if isinstance(cfg, list):
        return [_offline(v) for v in cfg]
    return cfg


def _dataset_types(dataset: dict):
    yield dataset['type']
    for child in dataset.get('datasets', []):
        yield from _dataset_types(child)


def _pipelines(dataset: dict):
    yield dataset.get('pipeline', [])
    for child in dataset.get('datasets', []):
        yield from _pipelines(child)


def test_configs_are_found():
    names = {p.relative_to(REPO_ROOT / 'configs').as_posix() for p in CONFIGS}
    assert {'hier/resnet50_d8_cs_vistas_gtsdb.py', 'flat/resnet50_d8_cs_vistas_gtsdb.py',
            'hier/segformer_mit-b0_cs_vistas_gtsdb.py',
            'hier/mobilenetv2_d8_cs_vistas_gtsdb.py',
            'hier/resnet50_d8_cityscapes_extended.py',
            'flat/resnet50_d8_cityscapes_extended.py'} <= names


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.relative_to(REPO_ROOT).as_posix())
def test_config_builds(path: Path):
    cfg = Config.fromfile(str(path))
    assert cfg.default_scope == 'mmseg'
    assert set(cfg.custom_imports['imports']) >= {'mmhier.models', 'mmhier.datasets'}
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = cfg[loader]['dataset']
        for name in _dataset_types(dataset):
            assert DATASETS.get(name) is not None, name
        for pipeline in _pipelines(dataset):
            for step in pipeline:
                assert TRANSFORMS.get(step['type']) is not None, step['type']
    for sampler in ('sampler', 'batch_sampler'):
        if sampler in cfg.train_dataloader:
            assert DATA_SAMPLERS.get(cfg.train_dataloader[sampler]['type']) is not None
    assert METRICS.get(cfg.val_evaluator['type']) is not None
    model_cfg = _offline(cfg.model.to_dict())
    model_cfg['pretrained'] = None
    model = MODELS.build(ConfigDict(model_cfg))
    head = model.decode_head
    assert head.out_channels == len(head.output_nodes)
    assert bytes(head.taxonomy_tree_hash.tolist()).hex() == head.taxonomy.tree_hash
