"""MMSeg's own tools and APIs on mmhier configs: shared tiny data, config and
checkpoint.

* ``demo_data``: the three synthetic datasets of :mod:`mmhier.demo` (two
  images per split, Cityscapes-like images 64x32), generated once per
  session.
* ``tiny_config``: a user config on the shipped demo config
  (``configs/demo/hier_tiny_street.py``): no dataloader workers, 4 training
  iterations, a checkpoint at the end. The data root is the demo config's
  ``DEMO_DATA_ROOT`` variable, set for the session.
* ``checkpoint``: trained once per session with MMSeg's ``tools/train.py``.

:func:`run_mmseg_tool` runs a script of the installed MMSeg
(``mmseg/.mim/tools``) as a user would, with the test interpreter.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import mmseg
import pytest

REPO = Path(__file__).resolve().parents[2]
MMSEG_TOOLS = Path(mmseg.__file__).parent / '.mim' / 'tools'
DEMO_CONFIG = REPO / 'configs' / 'demo' / 'hier_tiny_street.py'
TINY_STREET = REPO / 'taxonomies' / 'tiny_street.yaml'

#: The demo config made tiny: what a user writes to try it quickly.
TINY_CONFIG = '''\
_base_ = [{demo!r}]
train_dataloader = dict(num_workers=0, persistent_workers=False)
val_dataloader = dict(num_workers=0, persistent_workers=False)
test_dataloader = dict(num_workers=0, persistent_workers=False)
train_cfg = dict(max_iters=4, val_interval=100)
param_scheduler = [dict(type='PolyLR', eta_min=1e-5, power=0.9, begin=0, end=4,
                        by_epoch=False)]
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=4))
'''


def tool_env() -> dict:
    """The environment of tool subprocesses: this checkout's mmhier first."""
    return {**os.environ, 'PYTHONPATH': str(REPO)}


def run_mmseg_tool(script: str, *args, cwd: Path, timeout: float = 300
                   ) -> subprocess.CompletedProcess:
    """Run ``mmseg/.mim/tools/<script>`` (e.g. ``'test.py'``,
    ``'analysis_tools/get_flops.py'``) with the test interpreter."""
    return subprocess.run([sys.executable, str(MMSEG_TOOLS / script), *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=timeout,
                          env=tool_env())


def run_mmhier_tool(script: str, *args, cwd: Path, timeout: float = 300
                    ) -> subprocess.CompletedProcess:
    """Run ``tools/<script>`` of this checkout with the test interpreter."""
    return subprocess.run([sys.executable, str(REPO / 'tools' / script), *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=timeout,
                          env=tool_env())


def output(proc: subprocess.CompletedProcess) -> str:
    """The end of a process's output, for assertion messages."""
    return proc.stdout[-4000:] + proc.stderr[-4000:]


@pytest.fixture(scope='session', autouse=True)
def mmseg_scope():
    """MMSeg's registries as the default scope, as MMSeg's tools set it."""
    from mmseg.utils import register_all_modules
    register_all_modules(init_default_scope=True)


@pytest.fixture(scope='session')
def demo_data(tmp_path_factory) -> Path:
    """Two images per split of each synthetic dataset; ``DEMO_DATA_ROOT``
    points at them for the session (subprocesses inherit it)."""
    from mmhier.demo import DemoDataConfig, make_demo_data
    root = tmp_path_factory.mktemp('demo_data')
    make_demo_data(root, DemoDataConfig(num_city=2, num_vistas=2, num_gtsdb=2, num_val=2,
                                        city_size=(32, 64)))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv('DEMO_DATA_ROOT', str(root))
        yield root


@pytest.fixture(scope='session')
def tiny_config(demo_data, tmp_path_factory) -> Path:
    """The tiny user config (see :data:`TINY_CONFIG`)."""
    path = tmp_path_factory.mktemp('configs') / 'tiny_demo.py'
    path.write_text(TINY_CONFIG.format(demo=str(DEMO_CONFIG)))
    return path


@pytest.fixture(scope='session')
def checkpoint(tiny_config, tmp_path_factory) -> Path:
    """A 4-iteration checkpoint of the tiny config, trained by MMSeg's
    ``tools/train.py``."""
    work = tmp_path_factory.mktemp('train')
    proc = run_mmseg_tool('train.py', tiny_config, '--work-dir', work, cwd=work)
    assert proc.returncode == 0, output(proc)
    path = work / 'iter_4.pth'
    assert path.is_file(), output(proc)
    return path


@pytest.fixture(scope='session')
def taxonomy():
    """taxonomies/tiny_street.yaml."""
    from mmhier.taxonomy import load_taxonomy
    return load_taxonomy(TINY_STREET)
