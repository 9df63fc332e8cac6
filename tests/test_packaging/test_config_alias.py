"""mmhier_config_alias: the start-up hook that amends MMEngine's
``MODULE2PACKAGE`` so ``mmseg::`` / ``mmhier::`` config bases resolve.

The rules run on plain tables and on a stand-in for ``mmengine.config.utils``
(a tiny package in tmp_path), so MMEngine's real table is never touched here.
"""
import importlib
import importlib.metadata
import importlib.util
import inspect
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import upstream_mmseg_installed

import mmhier_config_alias as alias

FORK = 'onedl-mmsegmentation'  # the pinned stack (requirements/mmcv_nodeps.txt)


needs_fork_stack = pytest.mark.skipif(
    upstream_mmseg_installed(), reason='upstream mmsegmentation installed: nothing to alias')


def _mmseg_dir() -> str:
    import mmseg
    return os.path.realpath(os.path.dirname(mmseg.__file__))


@needs_fork_stack
def test_mmseg_points_at_the_installed_fork():
    from mmengine.utils import get_installed_path, is_installed
    table = {'mmseg': 'mmsegmentation', 'mmdet': 'mmdet'}
    alias.patch_module2package(table)
    assert table == {'mmseg': FORK, 'mmdet': 'mmdet', 'mmhier': alias._mmhier_name()}
    assert is_installed(table['mmseg'])
    assert os.path.realpath(get_installed_path(table['mmseg'])) == _mmseg_dir()


@needs_fork_stack
def test_unknown_fork_falls_back_to_the_import_name(monkeypatch):
    """A fork missing from MMSEG_DISTRIBUTIONS still resolves: MMEngine finds
    the package ``mmseg`` through the import system."""
    from mmengine.utils import get_installed_path, is_installed
    monkeypatch.setattr(alias, 'MMSEG_DISTRIBUTIONS', ('no-such-mmseg-dist',))
    table = {'mmseg': 'mmsegmentation'}
    alias.patch_module2package(table)
    assert table['mmseg'] == 'mmseg'
    assert is_installed('mmseg')
    assert os.path.realpath(get_installed_path('mmseg')) == _mmseg_dir()


def test_upstream_mmsegmentation_is_left_alone(monkeypatch):
    real_version = importlib.metadata.version

    def version(name):
        return '1.2.2' if name == 'mmsegmentation' else real_version(name)
    monkeypatch.setattr(importlib.metadata, 'version', version)
    table = {'mmseg': 'mmsegmentation'}
    alias.patch_module2package(table)
    assert table == {'mmseg': 'mmsegmentation', 'mmhier': alias._mmhier_name()}


def test_no_mmseg_package_is_left_alone(monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, 'find_spec',
                        lambda name, *a: None if name == 'mmseg' else real_find_spec(name, *a))
    table = {'mmseg': 'mmsegmentation'}
    alias.patch_module2package(table)
    assert table['mmseg'] == 'mmsegmentation'


def test_existing_mappings_are_kept():
    table = {'mmseg': 'some-newer-mapping', 'mmhier': 'mmhier-nightly'}
    alias.patch_module2package(table)
    assert table == {'mmseg': 'some-newer-mapping', 'mmhier': 'mmhier-nightly'}


@pytest.fixture
def fake_target(tmp_path, monkeypatch):
    """A stand-in package ``fake_mme.config_utils`` as the hook's target."""
    pkg = tmp_path / 'fake_mme'
    pkg.mkdir()
    (pkg / '__init__.py').write_text('')
    (pkg / 'config_utils.py').write_text(textwrap.dedent('''\
        MODULE2PACKAGE = {'mmseg': 'elsewhere', 'mmdet': 'mmdet'}


        def where():
            return 'line 5'
        '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(alias, 'TARGET_MODULE', 'fake_mme.config_utils')
    monkeypatch.setattr(sys, 'meta_path', list(sys.meta_path))
    monkeypatch.delenv(alias.DISABLE_ENV, raising=False)
    for name in ('fake_mme', 'fake_mme.config_utils'):
        monkeypatch.delitem(sys.modules, name, raising=False)
    alias.uninstall()
    yield pkg
    for name in ('fake_mme', 'fake_mme.config_utils'):
        sys.modules.pop(name, None)


def _finders() -> list:
    return [f for f in sys.meta_path if isinstance(f, alias.ConfigUtilsFinder)]


def test_finder_patches_the_table_when_the_target_is_imported(fake_target):
    alias.install()
    assert sys.meta_path[0] is _finders()[0]
    module = importlib.import_module('fake_mme.config_utils')
    assert module.MODULE2PACKAGE == {'mmseg': 'elsewhere', 'mmdet': 'mmdet',
                                     'mmhier': alias._mmhier_name()}
    # the real loader still serves source for tracebacks and inspect
    assert isinstance(module.__loader__, alias.PatchingLoader)
    assert 'def where' in inspect.getsource(module.where)
    assert module.__file__ == str(fake_target / 'config_utils.py')
    # a reload re-creates the table and patches it again
    module.MODULE2PACKAGE.pop('mmhier')
    assert importlib.reload(module).MODULE2PACKAGE['mmhier'] == alias._mmhier_name()


def test_other_imports_pass_through(fake_target):
    alias.install()
    package = importlib.import_module('fake_mme')
    assert not isinstance(package.__loader__, alias.PatchingLoader)


def test_install_is_idempotent(fake_target):
    alias.install()
    alias.install()
    assert len(_finders()) == 1
    alias.uninstall()
    assert _finders() == []


def test_install_patches_an_already_imported_target_at_once(fake_target):
    module = importlib.import_module('fake_mme.config_utils')
    assert 'mmhier' not in module.MODULE2PACKAGE
    alias.install()
    assert module.MODULE2PACKAGE['mmhier'] == alias._mmhier_name()
    assert _finders() == []


@pytest.mark.parametrize('value', ['1', 'yes'])
def test_environment_variable_switches_the_hook_off(fake_target, monkeypatch, value):
    monkeypatch.setenv(alias.DISABLE_ENV, value)
    alias.install()
    assert _finders() == []
    assert 'mmhier' not in importlib.import_module('fake_mme.config_utils').MODULE2PACKAGE


def test_a_broken_target_warns_instead_of_failing_the_import(fake_target):
    (fake_target / 'config_utils.py').write_text('MODULE2PACKAGE = None\n')
    alias.install()
    with pytest.warns(RuntimeWarning, match=alias.DISABLE_ENV) as record:
        module = importlib.import_module('fake_mme.config_utils')
    assert module.MODULE2PACKAGE is None
    assert 'fake_mme.config_utils.MODULE2PACKAGE' in str(record[0].message)


def test_import_at_start_up_loads_nothing_else(tmp_path):
    """The .pth runs ``import mmhier_config_alias; ....install()`` in every
    interpreter: that may load no module besides the hook itself (``sys`` and
    ``os`` are loaded by ``site`` anyway)."""
    code = ('import sys, os; before = set(sys.modules); '
            'import mmhier_config_alias as m; m.install(); '
            'print(sorted(set(sys.modules) - before))')
    env = {k: v for k, v in os.environ.items() if k != alias.DISABLE_ENV}
    env['PYTHONPATH'] = str(Path(alias.__file__).resolve().parent)
    out = subprocess.run([sys.executable, '-S', '-c', code], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "['mmhier_config_alias']"


def test_mmhier_entry_leads_mmengine_to_the_imported_package():
    """Whatever the install (editable here: the package stays in the source
    tree, the distribution's files in site-packages), MMEngine's lookup of
    the table's entry ends in the imported mmhier folder."""
    from mmengine.config.utils import MODULE2PACKAGE
    from mmengine.utils import get_installed_path, is_installed

    import mmhier
    name = MODULE2PACKAGE['mmhier']
    assert name in ('mmhier', alias.MMHIER_LOCATOR)
    assert is_installed(name)
    assert Path(get_installed_path(name)).resolve() == Path(mmhier.__file__).resolve().parent
