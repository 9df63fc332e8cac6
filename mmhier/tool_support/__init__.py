"""What mmhier's command-line tools (``tools/*.py``) share: loading configs
and ``--cfg-options``, checking checkpoints, and reporting the user's
mistakes in one ``error:`` line (:func:`run_tool`).

Modules: :mod:`.errors` (the tools' error types), :mod:`.config` (loading),
:mod:`.config_files` (config source: ``_base_`` chain, lines of keys),
:mod:`.explain` (which exceptions are config mistakes), :mod:`.signatures`
(keys a class accepts), :mod:`.checkpoints`, :mod:`.model` (a config's model
with a checkpoint's weights), :mod:`.cli` (``run_tool``, ``--debug``).
"""
from mmhier.structures.node_maps import MAX_PNG_ID, NodeMapRangeError, save_node_map
from mmhier.tool_support.checkpoints import (check_checkpoint, check_fits_model,
                                             read_checkpoint, state_dict_of)
from mmhier.tool_support.cli import (DEBUG_ENV, add_debug_argument, debug_enabled,
                                     error_line, run_tool, user_errors)
from mmhier.tool_support.config import (CfgOptions, CfgOptionsAction,
                                        add_cfg_options_argument, build_runner,
                                        load_config, load_tool_config)
from mmhier.tool_support.errors import (CheckpointError, CheckpointNotFoundError,
                                        ConfigError, ConfigOptionError, ToolError)
from mmhier.tool_support.explain import explain_config_error
from mmhier.tool_support.model import build_model, read_model_checkpoint


def register_mmhier() -> None:
    """Import mmhier's registering packages (models, datasets, metrics,
    visualizer, runner and checkpoint allow-list), so a config that forgets
    ``custom_imports`` still finds them."""
    import mmhier.datasets  # noqa: F401
    import mmhier.engine  # noqa: F401
    import mmhier.evaluation  # noqa: F401
    import mmhier.models  # noqa: F401
    import mmhier.visualization  # noqa: F401


__all__ = [
    'CfgOptions', 'CfgOptionsAction', 'CheckpointError', 'CheckpointNotFoundError',
    'ConfigError', 'ConfigOptionError', 'DEBUG_ENV', 'MAX_PNG_ID', 'NodeMapRangeError',
    'ToolError', 'add_cfg_options_argument', 'add_debug_argument', 'build_model', 'build_runner',
    'check_checkpoint', 'check_fits_model', 'debug_enabled', 'error_line',
    'explain_config_error', 'load_config', 'load_tool_config', 'read_checkpoint',
    'read_model_checkpoint', 'register_mmhier', 'run_tool', 'save_node_map', 'state_dict_of',
    'user_errors'
]
