"""The sdist -> wheel -> install path a user of a released mmhier takes, and
``pip install -e`` from that sdist, each into a throwaway virtualenv outside
the checkout.

The throwaway venvs see the pinned stack (torch, mmengine, mmseg) of the
interpreter running the tests through a plain path line in a .pth file: that
adds the stack's site-packages to ``sys.path`` without running its .pth files,
so the checkout's own editable install (and its start-up hook) stays out.
Building from the sdist also checks MANIFEST.in and keeps build artefacts out
of the shared checkout. About 20 s.
"""
import json
import os
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.timeout(600)

TAXONOMIES = sorted(p.name for p in (REPO_ROOT / 'taxonomies').glob('*.yaml'))
CONFIGS = sorted(p.relative_to(REPO_ROOT / 'configs').as_posix()
                 for p in (REPO_ROOT / 'configs').rglob('*.py'))
PTH_LINE = 'import mmhier_config_alias; mmhier_config_alias.install()\n'


def _env() -> dict:
    """No PYTHONPATH, no user site, the hook not switched off."""
    env = {k: v for k, v in os.environ.items()
           if k not in ('PYTHONPATH', 'PYTHONHOME', 'MMHIER_NO_CONFIG_ALIAS')}
    env['PYTHONNOUSERSITE'] = '1'
    return env


def _run(cmd: list, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    out = subprocess.run([str(c) for c in cmd], cwd=cwd, env=_env(), capture_output=True,
                         text=True, timeout=timeout)
    assert out.returncode == 0, f'{cmd} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}'
    return out


def _pip(*args) -> list:
    return [sys.executable, '-m', 'pip', '--disable-pip-version-check', '--no-input',
            *args]


def _make_venv(path: Path) -> tuple[Path, Path]:
    """A venv without pip that sees this interpreter's packages; returns its
    python and its site-packages."""
    _run([sys.executable, '-m', 'venv', '--without-pip', path], cwd=path.parent)
    python = path / 'bin' / 'python'
    site = Path(_run([python, '-c', 'import sysconfig; print(sysconfig.get_paths()'
                      '["purelib"])'], cwd=path.parent).stdout.strip())
    stack = dict.fromkeys(sysconfig.get_paths()[k] for k in ('purelib', 'platlib'))
    (site / '_test_stack.pth').write_text(''.join(f'{p}\n' for p in stack))
    return python, site


@pytest.fixture(scope='module')
def built(tmp_path_factory) -> dict:
    """The sdist (built from the checkout) and the wheel built from it."""
    tmp = tmp_path_factory.mktemp('build')
    _run([sys.executable, 'setup.py', '-q', 'egg_info', '--egg-base', tmp,
          'sdist', '--dist-dir', tmp], cwd=REPO_ROOT)
    sdist, = tmp.glob('mmhier-*.tar.gz')
    _run(_pip('wheel', '--no-deps', '--no-build-isolation', '--no-index', '-q',
              '-w', tmp / 'wheel', sdist), cwd=tmp)
    wheel, = (tmp / 'wheel').glob('mmhier-*.whl')
    return {'tmp': tmp, 'sdist': sdist, 'wheel': wheel}


def test_wheel_holds_configs_taxonomies_hook_and_demo(built):
    with zipfile.ZipFile(built['wheel']) as whl:
        names = set(whl.namelist())
        pth = whl.read('mmhier_config_alias.pth').decode()
    mim = 'mmhier/.mim/'
    assert {n[len(mim + 'taxonomies/'):] for n in names
            if n.startswith(mim + 'taxonomies/')} == set(TAXONOMIES)
    assert {n[len(mim + 'configs/'):] for n in names
            if n.startswith(mim + 'configs/')} == set(CONFIGS)
    assert mim + 'model-index.yml' in names
    assert {'mmhier_config_alias.py', 'mmhier/resources.py', 'mmhier/registry.py',
            'mmhier/demo/__init__.py', 'mmhier/demo/demo_data.py'} <= names
    assert pth == PTH_LINE
    assert not any('__pycache__' in n or n.endswith('.pyc') for n in names)


#: Run by the venv's python (cwd outside the checkout), argv: user config.
WHEEL_SCRIPT = '''\
import json, os, sys
result = {'mmhier_before': 'mmhier' in sys.modules,
          'finder': type(sys.meta_path[0]).__name__}
from mmengine.config import Config
from mmengine.config.utils import MODULE2PACKAGE
from mmengine.utils import get_installed_path
import mmhier, mmhier_config_alias
from mmhier.resources import shipped_config_dir, shipped_taxonomy_dir
config = os.path.join(shipped_config_dir(), 'hier', 'resnet50_d8_cs_vistas_gtsdb.py')
cfg = Config.fromfile(config)
user = Config.fromfile(sys.argv[1])
from mmseg.registry import MODELS
from mmseg.utils import register_all_modules
register_all_modules()


def offline(node):
    """SyncBN -> BN, no pretrained weights."""
    if isinstance(node, dict):
        node = {k: offline(v) for k, v in node.items()}
        if node.get('type') == 'SyncBN':
            node['type'] = 'BN'
        if isinstance(node.get('init_cfg'), dict):
            node['init_cfg'] = None
        return node
    return [offline(v) for v in node] if isinstance(node, list) else node


def build(model):
    """Build the model and segment a random 64x64 image with it."""
    try:
        import torch
        from mmengine.config import ConfigDict
        from mmseg.structures import SegDataSample
        segmentor = MODELS.build(ConfigDict(model)).eval()
        head = segmentor.decode_head
        sample = SegDataSample(metainfo=dict(img_shape=(64, 64), ori_shape=(64, 64),
                                             pad_shape=(64, 64)))
        with torch.no_grad():
            [out] = segmentor.predict(torch.randn(1, 3, 64, 64), [sample])
        nodes = out.pred_sem_seg.data
        return {'out_channels': head.out_channels, 'nodes': len(head.output_nodes),
                'pred_shape': list(nodes.shape),
                'pred_are_output_nodes': bool(torch.isin(nodes, head.output_nodes).all())}
    except Exception as exc:
        return {'error': f'{type(exc).__name__}: {exc}'}


model = dict(offline(cfg.model.to_dict()), pretrained=None)
as_shipped = build(model)
taxonomy = os.path.join(shipped_taxonomy_dir(),
                        os.path.basename(model['decode_head']['taxonomy']))
model['decode_head']['taxonomy'] = taxonomy
result.update({
    'mmhier': mmhier.__file__, 'alias': mmhier_config_alias.__file__,
    'sys_path': sys.path, 'table': [MODULE2PACKAGE['mmseg'], MODULE2PACKAGE['mmhier']],
    'config_dir': shipped_config_dir(), 'taxonomy_dir': shipped_taxonomy_dir(),
    'config': config, 'model_scope': cfg.model._scope_,
    'seg_pad_val': cfg.model.data_preprocessor.seg_pad_val,
    'built': build(model), 'built_as_shipped': as_shipped,
    'mmhier_installed_path': get_installed_path('mmhier'),
    'user_head': user.model.decode_head.type, 'user_dropout': user.model.decode_head.dropout_ratio,
    'user_scope': user.train_cfg._scope_,
})
print(json.dumps(result))
'''

USER_CONFIG = '''\
_base_ = ['mmhier::hier/resnet50_d8_cs_vistas_gtsdb.py']
model = dict(decode_head=dict(dropout_ratio=0.2))
'''


@pytest.fixture(scope='module')
def wheel_install(built, tmp_path_factory) -> dict:
    """The wheel installed into a fresh venv; WHEEL_SCRIPT's findings there."""
    tmp = tmp_path_factory.mktemp('wheel_venv')
    python, site = _make_venv(tmp / 'venv')
    _run(_pip('--python', python, 'install', '--no-deps', '--no-index', '-q',
              built['wheel']), cwd=tmp)
    elsewhere = tmp / 'elsewhere'
    elsewhere.mkdir()
    (elsewhere / 'my_config.py').write_text(USER_CONFIG)
    out = _run([python, '-c', WHEEL_SCRIPT, 'my_config.py'], cwd=elsewhere)
    return {'python': python, 'site': site.resolve(), 'cwd': elsewhere,
            'result': json.loads(out.stdout.strip().splitlines()[-1])}


def _inside(path: str, folder: Path) -> bool:
    return Path(path).resolve().is_relative_to(folder)


def test_wheel_install_runs_its_own_copy(wheel_install):
    result, site = wheel_install['result'], wheel_install['site']
    assert _inside(result['mmhier'], site) and _inside(result['alias'], site)
    # the checkout itself is not on sys.path (its venv's site-packages may be)
    assert REPO_ROOT.resolve() not in {Path(p).resolve() for p in result['sys_path'] if p}
    assert (site / 'mmhier_config_alias.pth').read_text() == PTH_LINE
    assert result['finder'] == 'ConfigUtilsFinder' and not result['mmhier_before']


def test_wheel_install_ships_configs_and_taxonomies(wheel_install):
    result, site = wheel_install['result'], wheel_install['site']
    config_dir, taxonomy_dir = Path(result['config_dir']), Path(result['taxonomy_dir'])
    assert config_dir == site / 'mmhier' / '.mim' / 'configs'
    assert taxonomy_dir == site / 'mmhier' / '.mim' / 'taxonomies'
    assert sorted(p.name for p in taxonomy_dir.glob('*.yaml')) == TAXONOMIES
    assert sorted(p.relative_to(config_dir).as_posix()
                  for p in config_dir.rglob('*.py')) == CONFIGS


def test_wheel_install_validates_the_shipped_taxonomies(wheel_install):
    taxonomy_dir = Path(wheel_install['result']['taxonomy_dir'])
    out = _run([wheel_install['python'], '-m', 'mmhier.taxonomy', 'validate',
                *(taxonomy_dir / name for name in TAXONOMIES)], cwd=wheel_install['cwd'])
    assert out.stdout.count(': valid (0 error(s)') == len(TAXONOMIES)


def test_wheel_install_loads_mmseg_based_config_and_builds_it(wheel_install):
    result = wheel_install['result']
    assert _inside(result['config'], wheel_install['site'])
    if result['table'][0] != 'mmsegmentation':  # a fork: the hook mapped it
        assert result['table'] == ['onedl-mmsegmentation', 'mmhier']
    assert result['model_scope'] == 'mmseg' and result['seg_pad_val'] == -1
    built = result['built']
    assert 'error' not in built, built
    assert built['out_channels'] == built['nodes'] > 0


def test_wheel_install_resolves_mmhier_bases_to_itself(wheel_install):
    result = wheel_install['result']
    assert _inside(result['mmhier_installed_path'], wheel_install['site'])
    assert result['user_head'] == 'HierarchicalDecodeHead'
    assert result['user_dropout'] == 0.2 and result['user_scope'] == 'mmhier'


def test_wheel_install_builds_shipped_config_as_is(wheel_install):
    """Outside a checkout, with the config's own ``taxonomies/<name>.yaml``:
    the model builds and segments an image into output node ids."""
    built = wheel_install['result']['built_as_shipped']
    assert 'error' not in built, built
    assert built['pred_shape'] == [1, 64, 64] and built['pred_are_output_nodes']
    assert built == wheel_install['result']['built']


EDITABLE_SCRIPT = '''\
import json, sys
finder = type(sys.meta_path[0]).__name__
from mmengine.config import Config
import mmhier
from mmhier.resources import shipped_config_dir
cfg = Config.fromfile(sys.argv[1])
user = Config.fromfile(sys.argv[2])
print(json.dumps({'finder': finder, 'mmhier': mmhier.__file__,
                  'config_dir': shipped_config_dir(), 'model_scope': cfg.model._scope_,
                  'head': cfg.model.decode_head.type, 'user_scope': user.train_cfg._scope_}))
'''


def test_editable_install_ships_the_hook(built, tmp_path):
    """``pip install -e`` (what tools/setup_env.sh does) gets the .pth too."""
    with tarfile.open(built['sdist']) as sdist:
        extra = {'filter': 'data'} if hasattr(tarfile, 'data_filter') else {}
        sdist.extractall(tmp_path, **extra)
    src, = tmp_path.glob('mmhier-*')
    python, site = _make_venv(tmp_path / 'venv')
    _run(_pip('--python', python, 'install', '--no-deps', '--no-build-isolation',
              '--no-index', '-q', '-e', src), cwd=tmp_path)
    assert (site / 'mmhier_config_alias.pth').read_text() == PTH_LINE
    assert not (site / 'mmhier').exists()  # the package stays in the source tree
    (tmp_path / 'my_config.py').write_text(USER_CONFIG)
    config = src / 'mmhier' / '.mim' / 'configs' / 'hier' / 'segformer_mit-b0_cs_vistas_gtsdb.py'
    out = _run([python, '-c', EDITABLE_SCRIPT, config, 'my_config.py'], cwd=tmp_path)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result['finder'] == 'ConfigUtilsFinder'
    assert _inside(result['mmhier'], src.resolve())
    assert Path(result['config_dir']) == src.resolve() / 'mmhier' / '.mim' / 'configs'
    assert result['model_scope'] == 'mmseg' and result['head'] == 'HierarchicalDecodeHead'
    assert result['user_scope'] == 'mmhier'
