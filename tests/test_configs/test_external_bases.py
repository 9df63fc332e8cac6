"""``mmseg::`` and ``mmhier::`` config bases in fresh interpreters of this
environment, as MMSeg's own ``tools/train.py`` meets them: ``Config.fromfile``
before anything imports mmhier (the .pth hook of mmhier_config_alias does it).
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, upstream_mmseg_installed

#: A user config on MMSeg's FCN R-50-D8 model, made tiny (ResNet-18, BN).
MMSEG_USER_CONFIG = '''\
_base_ = ['mmseg::_base_/models/fcn_r50-d8.py']
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    pretrained=None,
    backbone=dict(depth=18, norm_cfg=norm_cfg),
    decode_head=dict(in_channels=512, channels=16, num_classes=3, norm_cfg=norm_cfg),
    auxiliary_head=None)
'''

#: Loads argv[1], builds its model in scope mmseg and prints what the tests check.
MMSEG_SCRIPT = '''\
import json, sys
before = sorted(m for m in sys.modules if m.split('.')[0] == 'mmhier')
from mmengine.config import Config
from mmengine.config.utils import MODULE2PACKAGE
cfg = Config.fromfile(sys.argv[1])
from mmseg.registry import MODELS
from mmseg.utils import register_all_modules
register_all_modules()
model = MODELS.build(cfg.model)
print(json.dumps({
    'mmhier_before': before,
    'mmhier_after': sorted(m for m in sys.modules if m.split('.')[0] == 'mmhier'),
    'table': MODULE2PACKAGE['mmseg'],
    'segmentor': type(model).__name__,
    'backbone_depth': model.backbone.depth,
    'num_classes': model.decode_head.num_classes,
}))
'''


def _fresh_env(**extra: str) -> dict:
    """This environment without PYTHONPATH or the hook's off switch."""
    env = {k: v for k, v in os.environ.items()
           if k not in ('PYTHONPATH', 'MMHIER_NO_CONFIG_ALIAS')}
    env.update(extra)
    return env


def _run(code: str, *args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-c', code, *args], cwd=cwd,
                          env=_fresh_env(**env), capture_output=True, text=True,
                          timeout=240)


def test_hook_is_active_at_start_up(tmp_path):
    out = _run('import sys, mmhier_config_alias as m; '
               'print(isinstance(sys.meta_path[0], m.ConfigUtilsFinder))', cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == 'True', (
        'mmhier_config_alias.pth is not installed in this environment: '
        're-run `bash tools/setup_env.sh` (or `pip install --no-deps -e .`)')


@pytest.mark.timeout(300)
def test_mmseg_base_loads_and_builds_without_mmhier(tmp_path):
    config = tmp_path / 'fcn_tiny.py'
    config.write_text(MMSEG_USER_CONFIG)
    out = _run(MMSEG_SCRIPT, str(config), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result['mmhier_before'] == [] and result['mmhier_after'] == []
    assert result['segmentor'] == 'EncoderDecoder'
    assert result['backbone_depth'] == 18 and result['num_classes'] == 3
    if not upstream_mmseg_installed():
        assert result['table'] != 'mmsegmentation'


@pytest.mark.skipif(upstream_mmseg_installed(), reason='upstream mmsegmentation resolves by itself')
def test_without_the_hook_mmengine_cannot_find_mmseg(tmp_path):
    """What the hook fixes: MMEngine looks for the distribution
    ``mmsegmentation``, which a fork does not install."""
    config = tmp_path / 'fcn_tiny.py'
    config.write_text(MMSEG_USER_CONFIG)
    out = _run('import sys; from mmengine.config import Config; Config.fromfile(sys.argv[1])',
               str(config), cwd=tmp_path, MMHIER_NO_CONFIG_ALIAS='1')
    assert out.returncode == 1
    assert 'ModuleNotFoundError: mmsegmentation is not installed' in out.stderr


#: A user config on a shipped mmhier config, with an override.
MMHIER_USER_CONFIG = '''\
_base_ = ['mmhier::demo/hier_tiny_street.py']
model = dict(decode_head=dict(dropout_ratio=0.2))
'''

#: Loads argv[1] and builds what the Runner would, in default scope mmseg.
MMHIER_SCRIPT = '''\
import json, os, sys
from mmengine.config import Config
cfg = Config.fromfile(sys.argv[1])
from mmengine.registry import (DATA_SAMPLERS, DATASETS, DefaultScope, HOOKS, MODELS,
                               TRANSFORMS, VISUALIZERS)
from mmengine.config.utils import MODULE2PACKAGE
from mmengine.utils import get_installed_path
DefaultScope.get_instance('check', scope_name=cfg.default_scope)
model = cfg.model.to_dict()
model['decode_head']['taxonomy'] = sys.argv[2]
head = MODELS.build(model).decode_head
sampler = cfg.train_dataloader.batch_sampler
with DATA_SAMPLERS.switch_scope_and_registry(sampler._scope_) as registry:
    sampler_cls = registry.get(sampler.type)


def first_step(node):
    """The first transform of the first pipeline in a dataset config."""
    if isinstance(node, dict) and node.get('pipeline'):
        return node['pipeline'][0]
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else []
    for child in children:
        found = first_step(child)
        if found:
            return found


step = first_step(cfg.train_dataloader.dataset.to_dict())
print(json.dumps({
    # where MMEngine looks for mmhier:: bases
    'installed_path': os.path.realpath(get_installed_path(MODULE2PACKAGE['mmhier'])),
    'model_scope': cfg.model._scope_,
    'scopes': sorted({cfg.train_cfg._scope_, sampler._scope_, cfg.visualizer._scope_}),
    'dropout': head.dropout_ratio,
    'head': type(head).__name__,
    'sampler': sampler_cls.__name__,
    'sampler_registry_scope': registry.scope,
    'transform': [step['type'], type(TRANSFORMS.build(dict(step, _scope_='mmhier'))).__name__],
    # built first: the visualization hook takes the current visualizer
    'visualizer': type(VISUALIZERS.build(dict(cfg.visualizer, save_dir='.'))).__name__,
    'hooks': [type(HOOKS.build(h)).__name__ for h in cfg.default_hooks.values()],
}))
'''


@pytest.mark.timeout(300)
def test_mmhier_base_resolves_to_the_shipped_configs_and_builds(tmp_path):
    """``mmhier::`` bases: MMEngine tags their objects with scope ``mmhier``
    and builds them through mmhier.registry's children of MMSeg's registries."""
    config = tmp_path / 'my_demo.py'
    config.write_text(MMHIER_USER_CONFIG)
    taxonomy = REPO_ROOT / 'taxonomies' / 'tiny_street.yaml'
    out = _run(MMHIER_SCRIPT, str(config), str(taxonomy), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result['installed_path'] == os.path.realpath(REPO_ROOT / 'mmhier')
    assert result['model_scope'] == 'mmhier'
    assert result['scopes'] == ['mmhier']
    assert result['head'] == 'HierarchicalDecodeHead' and result['dropout'] == 0.2
    assert result['sampler'] == 'RatioBatchSampler'
    assert result['sampler_registry_scope'] == 'mmhier'
    assert result['transform'][0] == result['transform'][1]
    assert result['hooks'] == ['IterTimerHook', 'LoggerHook', 'ParamSchedulerHook',
                               'CheckpointHook', 'DistSamplerSeedHook',
                               'SegVisualizationHook']
    assert result['visualizer'] == 'TaxonomySegLocalVisualizer'
    assert 'Failed to search registry' not in out.stdout + out.stderr


def test_checkout_ships_its_configs_and_taxonomies_through_mim():
    """``mmhier/.mim`` is what MMEngine reads for ``mmhier::`` and what
    mmhier.resources returns: in a checkout, the top-level folders."""
    from mmhier.resources import shipped_config_dir, shipped_taxonomy_dir
    assert Path(shipped_config_dir()).resolve() == (REPO_ROOT / 'configs').resolve()
    assert Path(shipped_taxonomy_dir()).resolve() == (REPO_ROOT / 'taxonomies').resolve()
    mim = REPO_ROOT / 'mmhier' / '.mim'
    assert (mim / 'configs').resolve() == (REPO_ROOT / 'configs').resolve()
    assert (mim / 'taxonomies').resolve() == (REPO_ROOT / 'taxonomies').resolve()
    assert 'Import: []' in (mim / 'model-index.yml').read_text()
