"""What mmhier's command-line tools (``tools/*.py``) share."""
from __future__ import annotations

import os
from typing import Any, Optional

import numpy as np

#: Largest node id a 16-bit PNG node map can hold.
MAX_PNG_ID = int(np.iinfo(np.uint16).max)


class NodeMapRangeError(ValueError):
    """Node ids do not fit a 16-bit PNG."""


def register_mmhier() -> None:
    """Import mmhier's registering packages (models, datasets, metrics), so a
    config that forgets ``custom_imports`` still finds them."""
    import mmhier.datasets  # noqa: F401
    import mmhier.evaluation  # noqa: F401
    import mmhier.models  # noqa: F401


def user_errors(*extra: type[BaseException]) -> tuple[type[BaseException], ...]:
    """Exception types that are the user's to fix: a tool reports them in one
    ``error:`` line, without a traceback.

    Args:
        *extra: The tool's own error types.
    """
    from mmhier.datasets.errors import DatasetError
    from mmhier.evaluation import EvaluationError
    from mmhier.taxonomy import TaxonomyError
    return (DatasetError, EvaluationError, FileNotFoundError, NodeMapRangeError,
            TaxonomyError, *extra)


def load_tool_config(config: str, launcher: str, cfg_options: Optional[dict],
                     work_dir: Optional[str]) -> Any:
    """A config with the options every tool shares applied.

    Args:
        config: Config file.
        launcher: ``--launcher``.
        cfg_options: ``--cfg-options`` (merged into the config).
        work_dir: ``--work-dir``; otherwise the config's ``work_dir``, else
            ``work_dirs/<config stem>``.

    Returns:
        The :class:`mmengine.config.Config`, ``default_scope`` set to
        ``'mmseg'`` if the config has none.

    Raises:
        FileNotFoundError: The config file does not exist.
    """
    from mmengine.config import Config
    if not os.path.isfile(config):
        raise FileNotFoundError(f'config file {config!r} does not exist')
    cfg = Config.fromfile(config)
    cfg.launcher = launcher
    if cfg_options is not None:
        cfg.merge_from_dict(cfg_options)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = os.path.join('./work_dirs',
                                    os.path.splitext(os.path.basename(config))[0])
    if cfg.get('default_scope') is None:
        cfg.default_scope = 'mmseg'
    return cfg


def build_runner(cfg: Any) -> Any:
    """The runner of a config: ``runner_type`` from mmseg's RUNNERS, else
    mmengine's :class:`~mmengine.runner.Runner`."""
    from mmengine.runner import Runner
    if 'runner_type' in cfg:
        from mmseg.registry import RUNNERS
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)


def save_node_map(path: str, node_map: np.ndarray) -> None:
    """Write node ids as a 16-bit greyscale PNG.

    Shape:
        ``node_map``: ``(H, W)``.

    Raises:
        NodeMapRangeError: Ids outside ``0 .. 65535``.
    """
    from PIL import Image
    node_map = np.asarray(node_map)
    if node_map.size and (node_map.min() < 0 or node_map.max() > MAX_PNG_ID):
        raise NodeMapRangeError(f'{path}: node ids {node_map.min()}..{node_map.max()} do '
                                f'not fit a 16-bit PNG (0..{MAX_PNG_ID})')
    Image.fromarray(node_map.astype(np.uint16)).save(path)
