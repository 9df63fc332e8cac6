"""Every shipped config parses, names only registered modules and builds its
model (pretrained weights set to None: nothing can be downloaded in tests).
The drop-in models inherit MMSeg's own model configs (``mmseg::`` bases)."""
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
#: Configs whose model is MMSeg's (ResNet-50-D8, MobileNetV2-D8, MiT-B0) with
#: an mmhier head; the demo's small MobileNetV2 is its own.
DROP_IN = [p for p in CONFIGS if p.parent.name in ('hier', 'flat')]
#: MMSeg config whose backbone each model base has (MMSeg has no _base_ model
#: for MobileNetV2: its mobilenet_v2 configs swap the backbone of an FCN).
MMSEG_MODELS = {
    'hier_r50-d8.py': '_base_/models/fcn_r50-d8.py',
    'flat_r50-d8.py': '_base_/models/fcn_r50-d8.py',
    'hier_mit-b0.py': '_base_/models/segformer_mit-b0.py',
    'hier_mobilenetv2-d8.py':
        'mobilenet_v2/mobilenet-v2-d8_fcn_4xb2-80k_cityscapes-512x1024.py',
}


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
    # mmhier's ignore value survives the leaf configs' data_preprocessor merge
    assert cfg.model.data_preprocessor.seg_pad_val == -1
    assert cfg.model.get('auxiliary_head') is None
    model_cfg = _offline(cfg.model.to_dict())
    model_cfg['pretrained'] = None
    model = MODELS.build(ConfigDict(model_cfg))
    head = model.decode_head
    assert head.out_channels == len(head.output_nodes)
    from mmhier.models.heads.taxonomy_state import decode_record
    assert decode_record(head.taxonomy_record)['tree_hash'] == head.taxonomy.tree_hash


@pytest.mark.parametrize('path', DROP_IN, ids=lambda p: p.relative_to(REPO_ROOT).as_posix())
def test_drop_in_models_come_from_mmseg(path: Path):
    """An object inherited from an ``mmseg::`` base gets ``_scope_='mmseg'``."""
    cfg = Config.fromfile(str(path))
    assert cfg.model.get('_scope_') == 'mmseg'
    assert cfg.model.type == 'TaxonomyEncoderDecoder'
    assert cfg.model.decode_head.type in ('HierarchicalDecodeHead', 'FlatTaxonomyHead')


@pytest.mark.parametrize('name', sorted(MMSEG_MODELS))
def test_model_bases_keep_mmseg_backbone(name: str):
    """Each model base has the backbone, pretrained weights, norm and data
    preprocessor (crop size aside) of its MMSeg config; only the segmentor
    type, the label padding and the heads differ."""
    import mmseg
    mmseg_cfg = Config.fromfile(str(Path(mmseg.__file__).parent / '.mim' / 'configs' /
                                    MMSEG_MODELS[name]))
    cfg = Config.fromfile(str(REPO_ROOT / 'configs' / '_base_' / 'models' / name))
    assert _without(cfg.model.backbone, 'init_cfg') == \
        _without(mmseg_cfg.model.backbone, 'init_cfg')
    assert cfg.model.get('pretrained') == mmseg_cfg.model.get('pretrained')
    assert _without(cfg.norm_cfg) == _without(mmseg_cfg.norm_cfg)
    assert _without(cfg.model.data_preprocessor, 'seg_pad_val', 'size') == \
        _without(mmseg_cfg.model.data_preprocessor, 'seg_pad_val', 'size')
    assert cfg.model.data_preprocessor.seg_pad_val == -1
    assert cfg.model.type == 'TaxonomyEncoderDecoder'
    assert cfg.model.decode_head.type in ('HierarchicalDecodeHead', 'FlatTaxonomyHead')
    assert cfg.model.get('auxiliary_head') is None


def test_segformer_base_has_mmseg_pretrained_backbone():
    cfg = Config.fromfile(str(REPO_ROOT / 'configs' / '_base_' / 'models' / 'hier_mit-b0.py'))
    init = cfg.model.backbone.init_cfg
    assert init.type == 'Pretrained' and init.checkpoint.endswith('mit_b0_20220624-7e0fe6dd.pth')


def _without(cfg, *keys: str) -> dict:
    """``cfg`` as a plain dict without ``_scope_`` and ``keys``."""
    return {k: v for k, v in dict(cfg).items() if k not in ('_scope_', *keys)}


def _step_types(pipeline) -> list:
    """Transform types of a pipeline, those inside wrappers included."""
    types = []
    for step in pipeline:
        if isinstance(step, (list, tuple)):
            types += _step_types(step)
            continue
        types.append(step['type'])
        if isinstance(step.get('transforms'), (list, tuple)):
            types += _step_types(step['transforms'])
    return types


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.relative_to(REPO_ROOT).as_posix())
def test_config_keeps_mmseg_tool_contracts(path: Path):
    """What MMSeg's tools read from a config: the test dataset's pipeline
    (MMSegInferencer: LoadImageFromFile by that name, LoadAnnotations to
    drop), test_pipeline (inference_model), tta_model and tta_pipeline
    (test.py --tta), a visualization hook (test.py --show-dir) and the
    taxonomy visualizer."""
    cfg = Config.fromfile(str(path))
    assert 'mmhier.visualization' in cfg.custom_imports['imports']
    assert cfg.visualizer.type == 'TaxonomySegLocalVisualizer'
    assert cfg.default_hooks.visualization.type == 'SegVisualizationHook'
    assert cfg.tta_model == dict(type='TaxonomyTTAModel')
    for pipeline in (cfg.test_dataloader.dataset.pipeline, cfg.test_pipeline):
        types = _step_types(pipeline)
        assert types[0] == 'LoadImageFromFile' and 'LoadAnnotations' in types
        assert types[-1] == 'PackTaxonomySegInputs'
    tta = _step_types(cfg.tta_pipeline)
    assert tta[:2] == ['LoadImageFromFile', 'TestTimeAug']
    assert {'RandomFlip', 'LoadAnnotations', 'PackTaxonomySegInputs'} <= set(tta)
    for loader in ('val_dataloader', 'test_dataloader'):
        dataset = cfg[loader].dataset
        if dataset.type != 'MultiTaxonomyDataset':
            assert 'datasets' not in dataset, f'{loader}.dataset of type {dataset.type}'


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.relative_to(REPO_ROOT).as_posix())
def test_tta_model_wraps_the_model(path: Path):
    """As test.py --tta does it: the TaxonomyTTAModel builds around the model."""
    cfg = Config.fromfile(str(path))
    model_cfg = _offline(cfg.model.to_dict())
    model_cfg['pretrained'] = None
    tta = MODELS.build(ConfigDict(dict(cfg.tta_model, module=model_cfg)))
    assert type(tta).__name__ == 'TaxonomyTTAModel'
    assert type(tta.module).__name__ == 'TaxonomyEncoderDecoder'
