"""Where the configs and taxonomies shipped with mmhier live.

Both are package data under ``mmhier/.mim/`` (the layout MMSegmentation uses
for its own configs, which lets MMEngine resolve ``mmhier::<config>`` bases):

* wheel install: real copies, ``site-packages/mmhier/.mim/{configs,taxonomies}``;
* source checkout / ``pip install -e .``: ``mmhier/.mim/configs`` and
  ``mmhier/.mim/taxonomies`` are symlinks to the checkout's top-level
  ``configs/`` and ``taxonomies/``. Where a checkout has no symlinks (git on a
  file system without them writes small text files instead), the top-level
  folders are returned directly.

Pure standard library: importable without torch, mmseg or mmengine.
"""
import os

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_MIM_DIR = os.path.join(_PACKAGE_DIR, '.mim')


def _shipped_dir(name: str) -> str:
    """``mmhier/.mim/<name>`` if it is a folder, else the checkout's
    ``<name>/`` if that is one, else ``mmhier/.mim/<name>`` (missing: a
    broken install; callers report the path they looked at)."""
    packaged = os.path.join(_MIM_DIR, name)
    if os.path.isdir(packaged):
        return packaged
    checkout = os.path.join(os.path.dirname(_PACKAGE_DIR), name)
    if os.path.isdir(checkout):
        return checkout
    return packaged


def shipped_taxonomy_dir() -> str:
    """The folder holding the shipped taxonomy files (``<name>.yaml``).

    Returns:
        An absolute path, e.g. ``.../site-packages/mmhier/.mim/taxonomies``.
        It may not exist in a broken install; no error is raised here.
    """
    return _shipped_dir('taxonomies')


def shipped_config_dir() -> str:
    """The folder holding the shipped configs (``hier/``, ``flat/``,
    ``demo/``, ``_base_/``), the same files ``mmhier::<path>`` bases name.

    Returns:
        An absolute path, e.g. ``.../site-packages/mmhier/.mim/configs``.
        It may not exist in a broken install; no error is raised here.
    """
    return _shipped_dir('configs')
