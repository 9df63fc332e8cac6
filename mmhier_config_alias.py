"""``mmseg::`` and ``mmhier::`` config bases on any MMSegmentation distribution.

MMEngine resolves ``_base_ = ['mmseg::_base_/models/fcn_r50-d8.py']`` through
the table ``mmengine.config.utils.MODULE2PACKAGE``, which maps the package
prefix to a *distribution* name: ``'mmseg' -> 'mmsegmentation'``. Maintained
forks ship the same ``mmseg`` package under another distribution name (the
pinned stack installs ``onedl-mmsegmentation``), so MMEngine answers
"mmsegmentation is not installed" although ``import mmseg`` works. MMSeg's own
``tools/train.py`` calls ``Config.fromfile`` before any ``custom_imports``
run, so a fix inside ``import mmhier`` would come too late.

The mmhier wheel (and ``pip install -e .``) installs ``mmhier_config_alias.pth``
next to this module; Python runs it at start-up and it calls :func:`install`.
That only puts a finder on ``sys.meta_path`` (this module imports nothing but
``sys`` and ``os``, both loaded at start-up anyway). When
``mmengine.config.utils`` is imported - by mmhier's tools, MMSeg's scripts or
anything else - :func:`patch_module2package` amends the table it just built:

* ``'mmseg'``: untouched when the upstream ``mmsegmentation`` distribution is
  installed, when no ``mmseg`` package can be found, or when MMEngine already
  maps it elsewhere. Otherwise the first of :data:`MMSEG_DISTRIBUTIONS` that
  MMEngine locates at the imported ``mmseg`` package (checked with MMEngine's
  own ``is_installed`` / ``get_installed_path``), else the import name
  ``'mmseg'``, which MMEngine resolves through the import system.
* ``'mmhier'``: added (mmhier ships its configs in ``mmhier/.mim/configs``),
  so ``_base_ = ['mmhier::hier/resnet50_d8_cs_vistas_gtsdb.py']`` works too;
  for an editable install, as the module ``mmhier.resources``, which MMEngine
  resolves through the import system (see :func:`_mmhier_name`).

Set ``MMHIER_NO_CONFIG_ALIAS=1`` to switch the hook off.
"""
import os
import sys

# Annotations below are strings: importing ``types`` / ``importlib`` here would
# cost every interpreter start-up.

#: The MMEngine module whose ``MODULE2PACKAGE`` table is amended.
TARGET_MODULE = 'mmengine.config.utils'
#: The distribution MMEngine expects for the ``mmseg`` package.
UPSTREAM_MMSEG = 'mmsegmentation'
#: Other distributions that ship the ``mmseg`` package, tried in order.
MMSEG_DISTRIBUTIONS = ('onedl-mmsegmentation',)
#: A module directly in the mmhier package that MMEngine can locate through
#: the import system (see :func:`_mmhier_name`).
MMHIER_LOCATOR = 'mmhier.resources'
#: Environment variable that switches the hook off.
DISABLE_ENV = 'MMHIER_NO_CONFIG_ALIAS'


def install() -> None:
    """Amend ``MODULE2PACKAGE`` now if MMEngine's config utils are loaded,
    else as soon as they are. Idempotent, and a no-op when ``DISABLE_ENV``
    is set to anything but ``''`` or ``'0'``."""
    if os.environ.get(DISABLE_ENV, '') not in ('', '0'):
        return
    module = sys.modules.get(TARGET_MODULE)
    if module is not None:
        _patch_quietly(module)
    elif not any(isinstance(finder, ConfigUtilsFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, ConfigUtilsFinder())


def uninstall() -> None:
    """Remove the finder that :func:`install` added (the table stays as is)."""
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, ConfigUtilsFinder)]


def patch_module2package(table: dict) -> None:
    """Point ``table['mmseg']`` at the installed MMSegmentation and add
    ``table['mmhier']`` (rules in the module docstring).

    Args:
        table: MMEngine's ``MODULE2PACKAGE`` (package prefix -> distribution).
    """
    if table.get('mmseg') == UPSTREAM_MMSEG:
        name = _installed_mmseg_name()
        if name is not None:
            table['mmseg'] = name
    if 'mmhier' not in table:
        table['mmhier'] = _mmhier_name()


def _installed_mmseg_name() -> 'str | None':
    """The name under which MMEngine finds the importable ``mmseg`` package,
    or None (upstream installed, or no ``mmseg`` at all)."""
    from importlib import metadata, util
    try:
        metadata.version(UPSTREAM_MMSEG)
        return None
    except metadata.PackageNotFoundError:
        pass
    spec = util.find_spec('mmseg')
    if spec is None or not spec.submodule_search_locations:
        return None
    package_dir = os.path.realpath(list(spec.submodule_search_locations)[0])
    from mmengine.utils import get_installed_path, is_installed
    for name in (*MMSEG_DISTRIBUTIONS, 'mmseg'):
        try:
            if is_installed(name) and \
                    os.path.realpath(get_installed_path(name)) == package_dir:
                return name
        except Exception:  # noqa: BLE001 - MMEngine raises several types here
            continue
    return None


def _mmhier_name() -> str:
    """``'mmhier'``, or where the distribution's folder is not the imported
    package (an editable install keeps the package in the source tree),
    :data:`MMHIER_LOCATOR`: MMEngine finds no distribution of that name and
    falls back to the import system, which points into the package's real
    folder. (Upstream MMEngine 0.10.7 would otherwise look for
    ``<site-packages>/mmhier/.mim``; the fork checks the folder itself.)"""
    from importlib import metadata, util
    spec = util.find_spec('mmhier')
    if spec is None or not spec.submodule_search_locations:
        return 'mmhier'
    package_dir = os.path.realpath(list(spec.submodule_search_locations)[0])
    try:
        installed = os.path.realpath(str(metadata.distribution('mmhier').locate_file('mmhier')))
    except metadata.PackageNotFoundError:
        return 'mmhier'   # on sys.path only: MMEngine finds it by import
    return 'mmhier' if installed == package_dir else MMHIER_LOCATOR


def _patch_quietly(module: 'ModuleType') -> None:
    """Patch ``module.MODULE2PACKAGE``; a failure warns instead of breaking
    the import of MMEngine for every program in the environment."""
    try:
        patch_module2package(module.MODULE2PACKAGE)
    except Exception as exc:  # noqa: BLE001 - see docstring
        import warnings
        warnings.warn(f'mmhier_config_alias: could not amend {TARGET_MODULE}.'
                      f'MODULE2PACKAGE ({exc!r}); "mmseg::" config bases may not '
                      f'resolve. Set {DISABLE_ENV}=1 to silence this.', RuntimeWarning,
                      stacklevel=2)


class ConfigUtilsFinder:
    """Meta path finder that lets the normal finders locate
    ``mmengine.config.utils`` and wraps its loader in :class:`PatchingLoader`.
    Every other import passes straight through."""

    def find_spec(self, fullname: str, path=None, target=None) -> 'ModuleSpec | None':
        """The spec of ``mmengine.config.utils`` with a patching loader;
        None for every other module."""
        if fullname != TARGET_MODULE:
            return None
        for finder in sys.meta_path:
            find = getattr(finder, 'find_spec', None)
            if finder is self or find is None:
                continue
            spec = find(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is not None and hasattr(spec.loader, 'exec_module'):
            spec.loader = PatchingLoader(spec.loader)
        return spec


class PatchingLoader:
    """Runs the real loader, then amends the module's ``MODULE2PACKAGE``.
    Everything else (``get_source`` for tracebacks, resources) is delegated."""

    def __init__(self, loader: 'Loader') -> None:
        self.loader = loader

    def __getattr__(self, name):
        if name == 'loader':  # not set yet (copy, unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.loader, name)

    def create_module(self, spec: 'ModuleSpec') -> 'ModuleType | None':
        """Delegates to the real loader."""
        return self.loader.create_module(spec)

    def exec_module(self, module: 'ModuleType') -> None:
        """Executes the module, then patches its table."""
        self.loader.exec_module(module)
        _patch_quietly(module)
