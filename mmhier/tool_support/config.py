"""Loading a tool's config: the file (with its ``_base_`` chain), the
``--cfg-options`` overrides and the options every tool shares.

Mistakes in the file or the overrides become :class:`ConfigError` /
:class:`ConfigOptionError` naming the file and line instead of MMEngine's
tracebacks.
"""
from __future__ import annotations

import argparse
import os
import traceback
from typing import Any, Optional

from mmhier.tool_support.config_files import (config_chain, find_assignment,
                                              find_module_name, source_problems)
from mmhier.tool_support.errors import ConfigError, ConfigOptionError

#: How ``--cfg-options`` items look.
OPTION_EXAMPLE = 'KEY=VALUE, e.g. train_cfg.max_iters=1000 or key="[a,b]"'


class CfgOptions(dict):
    """Parsed ``--cfg-options``: ``{dotted key: value}``, plus the items that
    could not be parsed (``problems``; reported when the config is loaded, so
    all of them at once and with the config's name)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.problems: list[str] = []


class CfgOptionsAction(argparse.Action):
    """``--cfg-options KEY=VALUE ...`` like MMEngine's ``DictAction``
    (``KEY=a,b`` and ``KEY=[a,(b,c)]`` give lists/tuples, numbers and
    ``True``/``False``/``None`` are converted), but an item it cannot parse is
    kept in :attr:`CfgOptions.problems` instead of raising a traceback."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: Optional[str] = None) -> None:
        from mmengine.config import DictAction
        previous = getattr(namespace, self.dest, None) or {}
        options = CfgOptions(previous)
        options.problems = list(getattr(previous, 'problems', []))
        for item in values or ():
            key, sep, text = item.partition('=')
            segments = key.split('.')
            if not sep:
                options.problems.append(f'--cfg-options {item!r}: expected {OPTION_EXAMPLE}')
            elif not all(s.strip() for s in segments):
                options.problems.append(f'--cfg-options {item!r}: the key {key!r} has an '
                                        f'empty part; expected {OPTION_EXAMPLE}')
            elif text.count('(') != text.count(')') or text.count('[') != text.count(']'):
                options.problems.append(f'--cfg-options {item!r}: unbalanced brackets in '
                                        f'the value {text!r}')
            else:
                try:
                    options[key] = DictAction._parse_iterable(text)
                except (AssertionError, ValueError, IndexError) as exc:
                    options.problems.append(f'--cfg-options {item!r}: cannot parse the value '
                                            f'({exc})')
        setattr(namespace, self.dest, options)


def add_cfg_options_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--cfg-options`` (:class:`CfgOptionsAction`) to a tool's parser."""
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction,
                        metavar='KEY=VALUE',
                        help=f'override config settings, {OPTION_EXAMPLE}')


def _read_config(config: str) -> Any:
    """``Config.fromfile`` with its failures explained.

    Raises:
        FileNotFoundError: The config file does not exist.
        ConfigError: A syntax error, a missing ``_base_`` file or an error
            while the config's Python code runs (e.g. an undefined name).
    """
    from mmengine.config import Config
    if not os.path.isfile(config):
        raise FileNotFoundError(f'config file {config!r} does not exist')
    try:
        return Config.fromfile(config)
    except Exception as exc:
        problems = source_problems(config)
        if problems:
            first = problems[0]
            rest = ''.join(f'; {p.file}:{p.line}: {p.message}' for p in problems[1:])
            raise ConfigError(first.file, first.message + rest, first.line) from exc
        in_config = _innermost_config_frame(exc, config)
        if in_config is not None:
            raise ConfigError(in_config[0], f'{type(exc).__name__}: {exc}',
                              in_config[1]) from exc
        missing = _missing_custom_import(exc)
        if missing is None:
            raise
        where = find_module_name(config, missing) or \
            find_assignment(config, 'custom_imports')
        raise ConfigError(where.file if where else config,
                          f'custom_imports: cannot import {missing!r} (no such module); '
                          'fix the name, or make the module importable (install it, '
                          'or add its folder to PYTHONPATH)',
                          where.line if where else None) from exc


def _missing_custom_import(exc: BaseException) -> Optional[str]:
    """The module of ``custom_imports`` that does not exist, if that is why
    loading failed (a module that exists but fails to import, e.g. for a
    missing dependency, is not a config mistake)."""
    imports: list = []
    for frame, _ in traceback.walk_tb(exc.__traceback__):
        custom = frame.f_locals.get('cfg_dict', {}).get('custom_imports') \
            if frame.f_code.co_name == 'fromfile' else None
        if isinstance(custom, dict):
            found = custom.get('imports')
            imports = [found] if isinstance(found, str) else list(found or [])
    pending, seen = [exc], []
    while pending:
        err = pending.pop()
        if err is None or any(err is s for s in seen):
            continue
        seen.append(err)
        if isinstance(err, ModuleNotFoundError) and err.name and any(
                isinstance(m, str) and (m == err.name or m.startswith(err.name + '.'))
                for m in imports):
            return err.name
        pending += [err.__cause__, err.__context__]
    return None


def _innermost_config_frame(exc: BaseException, config: str) -> Optional[tuple[str, int]]:
    """``(file, line)`` of the innermost traceback frame running code of the
    config or one of its bases, if the error arose there."""
    chain = {os.path.abspath(p): p for p in config_chain(config)}
    found = None
    for frame in traceback.extract_tb(exc.__traceback__):
        path = os.path.abspath(frame.filename)
        if path in chain:
            found = (chain[path], frame.lineno)
    return found


def check_cfg_options(cfg: Any, options: dict, config: str) -> None:
    """Raise one :class:`ConfigOptionError` listing every ``--cfg-options``
    item that cannot be parsed or that would set a key inside a value that is
    no dict (``train_cfg.max_iters.x=1``) or a list index that does not exist.

    Args:
        cfg: The loaded config.
        options: The parsed options (:class:`CfgOptions` or a plain dict).
        config: The config file (named in the message).
    """
    from mmengine.config import Config
    mappings = (dict, Config)
    problems = list(getattr(options, 'problems', []))
    for key in options:
        node, walked = cfg, []
        for segment in key.split('.')[:-1]:
            walked.append(segment)
            if isinstance(node, mappings):
                if segment not in node:
                    break
                node = node[segment]
            elif isinstance(node, (list, tuple)):
                if not segment.isdigit() or int(segment) >= len(node):
                    problems.append(f'--cfg-options {key}: {".".join(walked[:-1])} is a list '
                                    f'of {len(node)} items; {segment!r} is no index of it '
                                    f'(0..{len(node) - 1})')
                    break
                node = node[int(segment)]
            else:
                problems.append(f'--cfg-options {key}: {".".join(walked[:-1])} is '
                                f'{node!r} ({type(node).__name__}) in the config, it has '
                                f'no key {segment!r}')
                break
        else:
            if isinstance(node, (list, tuple)):
                last = key.split('.')[-1]
                if not last.isdigit() or int(last) >= len(node):
                    problems.append(f'--cfg-options {key}: {".".join(walked)} is a list of '
                                    f'{len(node)} items; {last!r} is no index of it')
            elif not isinstance(node, mappings):
                problems.append(f'--cfg-options {key}: {".".join(walked)} is {node!r} '
                                f'({type(node).__name__}) in the config, it has no keys')
    if problems:
        raise ConfigOptionError(config, '; '.join(problems))


def load_config(config: str, cfg_options: Optional[dict] = None) -> Any:
    """A config file with ``--cfg-options`` merged in.

    Args:
        config: The config file.
        cfg_options: ``{dotted key: value}`` (:class:`CfgOptions` from
            :class:`CfgOptionsAction`, or a plain dict).

    Returns:
        The :class:`mmengine.config.Config`, ``default_scope`` set to
        ``'mmseg'`` if the config has none.

    Raises:
        FileNotFoundError: The config file does not exist.
        ConfigError: The config cannot be read (see :func:`_read_config`).
        ConfigOptionError: Some option items are malformed or do not fit the
            config (all of them are listed).
    """
    cfg = _read_config(config)
    if cfg_options:
        check_cfg_options(cfg, cfg_options, config)
        try:
            cfg.merge_from_dict(dict(cfg_options))
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ConfigOptionError(config, f'--cfg-options: {exc}') from exc
    elif getattr(cfg_options, 'problems', None):
        check_cfg_options(cfg, cfg_options, config)
    if cfg.get('default_scope') is None:
        cfg.default_scope = 'mmseg'
    return cfg


def load_tool_config(config: str, launcher: str, cfg_options: Optional[dict],
                     work_dir: Optional[str]) -> Any:
    """A config with the options every runner-based tool shares applied.

    Args:
        config: Config file.
        launcher: ``--launcher``.
        cfg_options: ``--cfg-options`` (merged into the config).
        work_dir: ``--work-dir``; otherwise the config's ``work_dir``, else
            ``work_dirs/<config stem>``.

    Returns:
        The :class:`mmengine.config.Config` (see :func:`load_config`).

    Raises:
        FileNotFoundError: The config file does not exist.
        ConfigError: The config or an option is wrong.
    """
    cfg = load_config(config, cfg_options)
    cfg.launcher = launcher
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = os.path.join('./work_dirs',
                                    os.path.splitext(os.path.basename(config))[0])
    return cfg


def build_runner(cfg: Any) -> Any:
    """The runner of a config: ``runner_type`` from mmseg's RUNNERS, else
    :class:`~mmhier.engine.CPUDistributedRunner` (MMEngine's runner, which
    also trains distributed on machines without GPUs)."""
    if 'runner_type' in cfg:
        from mmseg.registry import RUNNERS
        return RUNNERS.build(cfg)
    from mmhier.engine import CPUDistributedRunner
    return CPUDistributedRunner.from_cfg(cfg)

