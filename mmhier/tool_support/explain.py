"""Attribute an exception raised while a tool builds or starts its runner to
a mistake in the user's config, or decide that it is not one.

MMEngine builds objects lazily (the model in ``Runner.__init__``, loops and
dataloaders in ``runner.train()`` / ``runner.test()``), so a misspelt key
surfaces as a ``TypeError`` deep inside it. The traceback tells what was
being built: :func:`mmengine.registry.build_from_cfg` holds the class
(``obj_cls``) and its arguments (``args``) in its frame. An exception is the
config's fault only if the evidence fits:

* an unknown ``type``: ``build_from_cfg`` raised the ``KeyError`` and a dict
  of the user's config has that type (or a dict has no ``type`` at all);
* a keyword the class does not take, or a required one missing: the
  ``TypeError`` names the class being built (or a base it forwards
  ``**kwargs`` to) and the key is in one of the user's dicts; for calls
  outside ``build_from_cfg`` (the ``DataLoader`` MMEngine makes of
  ``train_dataloader``, ``build_norm_layer(norm_cfg)``, a hook passing its
  stored ``**kwargs`` on) the key must also be in a dict the failing frame
  holds;
* a ``ValueError`` / ``AssertionError`` raised by the constructor (or a
  method it calls on itself) of an object built from the user's dict;
* a ``ValueError`` / ``AssertionError`` / ``KeyError`` raised by MMEngine's
  ``Runner`` itself while it checks the config's parts.

Everything else (a ``TypeError`` inside some helper, a key no user dict
holds, any other exception type) is left alone: an internal bug keeps its
traceback. MMCV-style wrapped messages (``class `X` in mmseg/...: <original>``)
are read through: the original exception is on the chain.
"""
from __future__ import annotations

import difflib
import inspect
import os
import re
import traceback
from dataclasses import dataclass
from types import FrameType
from typing import Any, Iterator, Optional

from mmhier.taxonomy.spec import did_you_mean
from mmhier.tool_support.config_files import (Location, find_assignment, find_dict,
                                              find_key, find_type)
from mmhier.tool_support.errors import ConfigError
from mmhier.tool_support.signatures import accepted_arguments

_CALL = r"(?P<func>[A-Za-z_][\w.]*)\(\)"
_UNEXPECTED = re.compile(_CALL + r" got an unexpected keyword argument '(?P<key>\w+)'")
_MULTIPLE = re.compile(_CALL + r" got multiple values for (?:keyword )?argument '(?P<key>\w+)'")
_MISSING = re.compile(_CALL + r" missing \d+ required (?:positional|keyword-only) "
                      r"arguments?: (?P<names>.+)")
_BUILDERS = ('build_from_cfg', 'build_runner_from_cfg')


@dataclass
class UserDict:
    """A dict of the user's config.

    Args:
        path: Dotted path, e.g. ``model.decode_head`` or
            ``train_dataloader.dataset.pipeline[1]``.
        value: The dict.
    """

    path: str
    value: dict

    @property
    def type_name(self) -> Optional[str]:
        kind = self.value.get('type')
        if isinstance(kind, str):
            return kind.split('.')[-1]
        return getattr(kind, '__name__', None)


class ConfigContext:
    """The user's config, loaded again from the file (with the
    ``--cfg-options``): what the user wrote, without what the tool added.

    Args:
        config: The config file.
        cfg_options: The tool's ``--cfg-options``.
    """

    def __init__(self, config: str, cfg_options: Optional[dict]):
        self.config = config
        self.options = dict(cfg_options or {})
        self.dicts = list(self._load())

    def _load(self) -> Iterator[UserDict]:
        from mmhier.tool_support.config import load_config
        try:
            tree = load_config(self.config, self.options).to_dict()
        except Exception:  # noqa: BLE001 - nothing to attribute to then
            return

        def walk(node: Any, path: str) -> Iterator[UserDict]:
            if isinstance(node, dict):
                yield UserDict(path, node)
                for key, value in node.items():
                    yield from walk(value, f'{path}.{key}' if path else str(key))
            elif isinstance(node, (list, tuple)):
                for i, value in enumerate(node):
                    yield from walk(value, f'{path}[{i}]')
        yield from walk(tree, '')

    def by_type(self, name: str) -> list[UserDict]:
        return [d for d in self.dicts if d.path and d.type_name == name.split('.')[-1]]

    def with_key(self, key: str) -> list[UserDict]:
        return [d for d in self.dicts if d.path and key in d.value]

    def from_options(self, dotted: str, below: bool = False) -> bool:
        """Whether ``--cfg-options`` set this dotted key or a parent of it
        (with ``below``: or a key inside it)."""
        plain = re.sub(r'\[(\d+)\]', r'.\1', dotted)
        return any(plain == k or plain.startswith(k + '.')
                   or (below and k.startswith(plain + '.')) for k in self.options)

    def error(self, reason: str, where: Optional[Location]) -> ConfigError:
        if where is None:
            return ConfigError(self.config, reason)
        if os.path.abspath(where.file) != os.path.abspath(self.config):
            reason += f' (in a _base_ file of {self.config})'
        return ConfigError(where.file, reason, where.line)


def explain_config_error(exc: BaseException, config: str,
                         cfg_options: Optional[dict] = None) -> Optional[ConfigError]:
    """A :class:`ConfigError` for ``exc`` if it is the config's fault.

    Args:
        exc: The exception a tool caught.
        config: The tool's config file.
        cfg_options: The tool's ``--cfg-options``.

    Returns:
        The error naming the config (and line), the dict, the key or type and
        the class, with a "did you mean" where a close name exists; ``None``
        if the exception cannot be attributed to the config.
    """
    context: Optional[ConfigContext] = None
    for err in reversed(exception_chain(exc)):  # the original error first
        if not isinstance(err, (KeyError, TypeError, ValueError, AssertionError)):
            continue
        if context is None:
            context = ConfigContext(config, cfg_options)
            if not context.dicts:
                return None
        frames = [frame for frame, _ in traceback.walk_tb(err.__traceback__)]
        for explain in (_unknown_type, _bad_arguments, _rejected_value, _runner_rejected):
            found = explain(err, frames, context)
            if found is not None:
                return found
    return None


def exception_chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and the exceptions it wraps: explicit causes (``raise ...
    from``), and the implicit context when the outer one is of the same type
    (``raise type(e)(f'...: {e}')``)."""
    chain = [exc]
    while True:
        last = chain[-1]
        inner = last.__cause__
        if inner is None and last.__context__ is not None \
                and type(last.__context__) is type(last):
            inner = last.__context__
        if inner is None or inner in chain:
            return chain
        chain.append(inner)


def _builder(frames: list[FrameType]) -> Optional[int]:
    """Index of the innermost ``build_from_cfg`` frame."""
    for i in range(len(frames) - 1, -1, -1):
        if frames[i].f_code.co_name in _BUILDERS:
            return i
    return None


def _own_frames(frames: list[FrameType], obj_cls: Any) -> bool:
    """Whether every frame runs the constructor (or another method) of the
    object ``obj_cls`` is building, or the body of ``obj_cls`` itself when it
    is a function."""
    for frame in frames:
        if frame.f_code is getattr(obj_cls, '__code__', None):
            continue
        owner = frame.f_locals.get('self', frame.f_locals.get('cls'))
        if not inspect.isclass(obj_cls) or owner is None:
            return False
        if not (isinstance(owner, obj_cls)
                or (inspect.isclass(owner) and issubclass(owner, obj_cls))):
            return False
    return True


def _name(target: Any) -> str:
    return getattr(target, '__name__', type(target).__name__)


def _pick(candidates: list[UserDict], args: Optional[dict]) -> Optional[UserDict]:
    """The candidate most like ``args`` (the arguments the build received)."""
    if not candidates:
        return None

    def score(candidate: UserDict) -> tuple[int, int]:
        same = 0
        for key, value in candidate.value.items():
            try:
                same += bool(args is not None and key in args and args[key] == value)
            except Exception:  # noqa: BLE001 - uncomparable values
                pass
        # ties (one dict referenced from two places): the nested place, e.g.
        # train_dataloader.dataset rather than a top-level `dataset` variable
        return same, candidate.path.count('.') + candidate.path.count('[')
    return max(candidates, key=score)


def _unknown_type(err: BaseException, frames: list[FrameType],
                  context: ConfigContext) -> Optional[ConfigError]:
    """``type='HierarchicalDecodeHed'``: no such name in the registry."""
    if not isinstance(err, KeyError) or not frames \
            or frames[-1].f_code.co_name not in _BUILDERS:
        return None
    local = frames[-1].f_locals
    kind, registry = local.get('obj_type'), local.get('registry')
    if kind is None and 'obj_cls' not in local and isinstance(local.get('cfg'), dict) \
            and 'type' not in local['cfg'] and not (local.get('default_args') or {}).get('type'):
        return _no_type(local['cfg'], context)
    if not isinstance(kind, str) or not hasattr(registry, 'module_dict') \
            or registry.get(kind) is not None:
        return None
    key = 'runner_type' if frames[-1].f_code.co_name == 'build_runner_from_cfg' else 'type'
    owners = [d for d in context.with_key(key) if d.value.get(key) == kind]
    if key == 'runner_type' and context.dicts[0].value.get(key) == kind:
        owners = [context.dicts[0]]
    if not owners:
        return None
    owner = owners[0]
    names = sorted(registry_names(registry))
    hint = best_guess(kind.split('.')[-1], names) or (
        'check the spelling, or add the module that registers it to custom_imports')
    where = f'{owner.path}.{key}' if owner.path else key
    reason = (f'{where}: unknown type {kind!r}: not in the '
              f'{registry.scope}::{registry.name} registry; {hint}')
    if context.from_options(where):
        return context.error(reason + ' (set by --cfg-options)', None)
    if not owner.path:
        return context.error(reason, find_assignment(context.config, key))
    return context.error(reason, find_type(context.config, kind))


def _no_type(cfg: dict, context: ConfigContext) -> Optional[ConfigError]:
    """A dict built through a registry without a ``type``."""
    candidates = [d for d in context.dicts if d.path and 'type' not in d.value
                  and d.value and set(d.value) <= set(cfg)]
    owner = _pick(candidates, cfg)
    if owner is None:
        return None
    reason = (f"{owner.path}: has no 'type'; add type='<registered class>' (the dict "
              f"is built from a registry)")
    return context.error(reason, find_dict(context.config, owner.value))


def registry_names(registry: Any) -> set[str]:
    """Names a registry resolves: its own and its ancestors' modules."""
    names: set[str] = set()
    while registry is not None:
        names |= set(registry.module_dict)
        registry = getattr(registry, 'parent', None)
    return names


def _binding_error(err: BaseException) -> Optional[tuple[str, str, list[str]]]:
    """``(kind, callee, keys)`` of a call that did not fit the callee's
    signature: kind ``unexpected``, ``multiple`` or ``missing``; callee the
    class name for a constructor, else the function (``Class.method``)."""
    text = str(err)
    for kind, pattern in (('unexpected', _UNEXPECTED), ('multiple', _MULTIPLE),
                          ('missing', _MISSING)):
        match = pattern.search(text)
        if match:
            parts = match.group('func').split('.')
            name = parts[-2] if parts[-1] == '__init__' and len(parts) > 1 else \
                '.'.join(parts[-2:])
            keys = re.findall(r"'(\w+)'", match.group('names')) if kind == 'missing' \
                else [match.group('key')]
            return kind, name, keys
    return None


def _bad_arguments(err: BaseException, frames: list[FrameType],
                   context: ConfigContext) -> Optional[ConfigError]:
    """A key the class does not take, or a required key missing."""
    if not isinstance(err, TypeError) or not frames:
        return None
    binding = _binding_error(err)
    if binding is None:
        return None
    kind, callee, keys = binding
    index = _builder(frames)
    if index is not None:
        local = frames[index].f_locals
        obj_cls, args = local.get('obj_cls'), local.get('args')
        mro = [_name(c) for c in getattr(obj_cls, '__mro__', (obj_cls,))]
        if obj_cls is not None and isinstance(args, dict) and callee in mro \
                and _own_frames(frames[index + 1:], obj_cls):
            return _constructor_arguments(obj_cls, args, kind, keys, context)
    if kind == 'missing':
        return None
    return _call_arguments(frames, callee, keys[0], kind, context)


def _constructor_arguments(obj_cls: Any, args: dict, kind: str, keys: list[str],
                           context: ConfigContext) -> Optional[ConfigError]:
    """All unknown and missing keys of a dict built by ``build_from_cfg``."""
    name = _name(obj_cls)
    accepted = accepted_arguments(obj_cls)
    unknown = accepted.unknown(args)
    missing = accepted.missing(args)
    if kind == 'unexpected':
        unknown = list(dict.fromkeys([*keys, *unknown]))
    elif kind == 'missing':
        missing = list(dict.fromkeys([*keys, *missing]))
    candidates = context.by_type(name)
    if unknown:
        # a dict of this type with the key, else any (the tool may have changed
        # the type, e.g. mmseg's inference turns LoadImageFromFile into
        # LoadImageFromNDArray)
        with_key = [d for d in candidates if unknown[0] in d.value]
        candidates = with_key or context.with_key(unknown[0])
    owner = _pick(candidates, args)
    if owner is None:
        return None
    parts = [_unknown_part(key, name, accepted.names) for key in unknown]
    if kind == 'multiple':
        parts.append(f'{keys[0]!r} is set for {name} by the tool or MMEngine itself; '
                     'remove it from the config')
    parts += [f'{name} needs {key!r}, which is missing' for key in missing
              if key not in unknown]
    if not parts:
        return None
    reason = f'{owner.path}: ' + '; '.join(parts)
    first = unknown[0] if unknown else None
    if first is not None and context.from_options(f'{owner.path}.{first}'):
        return context.error(reason + ' (set by --cfg-options)', None)
    where = find_key(context.config, first, name) if first else None
    return context.error(reason, where or find_type(context.config, name))


def best_guess(name: str, choices: Any) -> str:
    """``"did you mean 'x'?"`` with the one closest choice, or ``''``."""
    return did_you_mean(name, difflib.get_close_matches(name, list(choices), n=1))


def _unknown_part(key: str, name: str, accepted: tuple[str, ...]) -> str:
    hint = best_guess(key, accepted)
    return f'unknown key {key!r} for {name}' + (f' - {hint}' if hint else '')


def _call_arguments(frames: list[FrameType], callee: str, key: str, kind: str,
                    context: ConfigContext) -> Optional[ConfigError]:
    """A key of a user dict that MMEngine passed on to a plain call, e.g.
    ``DataLoader(**train_dataloader)``, ``build_norm_layer(norm_cfg)`` or a
    hook's stored ``**kwargs`` (``runner.save_checkpoint(..., **self.args)``).

    The key must be in a dict the failing frame holds (a local, or an
    attribute of its ``self``) and in one of the user's dicts.
    """
    frame = frames[-1]
    held = list(frame.f_locals.values()) + list(
        getattr(frame.f_locals.get('self'), '__dict__', {}).values())
    received = [v for v in held if isinstance(v, dict) and key in v]
    if not received:
        return None
    owner = _pick(context.with_key(key), received[0])
    if owner is None:
        return None
    target = _resolve(frame, callee)
    label = _name(target) if target is not None and '.' not in callee else callee
    names = accepted_arguments(target).names if target is not None else ()
    # the object the dict built, if it is on the way (it passed the key on)
    holder = next((f.f_locals['self'] for f in reversed(frames) if 'self' in f.f_locals
                   and type(f.f_locals['self']).__name__ == owner.type_name), None)
    if holder is not None:
        label = f'{type(holder).__name__} (passed on to {callee})'
        names = accepted_arguments(type(holder)).names + names
    if kind == 'multiple':
        reason = (f'{owner.path}: {key!r} is set for {label} by the tool or MMEngine '
                  'itself; remove it from the config')
    else:
        reason = f'{owner.path}: {_unknown_part(key, label, names)}'
    if context.from_options(f'{owner.path}.{key}'):
        return context.error(reason + ' (set by --cfg-options)', None)
    return context.error(reason, find_key(context.config, key, owner.type_name)
                         or find_key(context.config, key))


def _resolve(frame: FrameType, callee: str) -> Any:
    """The class or function a ``TypeError`` message names (``Name`` or
    ``Class.method``), looked up in the failing frame: a local class with a
    base of that name (e.g. ``BatchNorm2d`` for ``_BatchNorm``), a method of
    a local object's class, or a global."""
    parts = callee.split('.')
    name = parts[-1]
    for value in frame.f_locals.values():
        if inspect.isclass(value) and any(c.__name__ == name for c in value.__mro__):
            return value
        if len(parts) > 1 and type(value).__name__ == parts[-2] \
                and callable(getattr(type(value), name, None)):
            return getattr(type(value), name)
    found = frame.f_locals.get(name, frame.f_globals.get(name))
    return found if callable(found) else None


def _rejected_value(err: BaseException, frames: list[FrameType],
                    context: ConfigContext) -> Optional[ConfigError]:
    """A ``ValueError`` / ``AssertionError`` from the constructor of an
    object built from one of the user's dicts."""
    if not isinstance(err, (ValueError, AssertionError)) or isinstance(err, KeyError):
        return None
    index = _builder(frames)
    if index is None or index == len(frames) - 1:
        return None
    local = frames[index].f_locals
    obj_cls, args = local.get('obj_cls'), local.get('args')
    if obj_cls is None or not _own_frames(frames[index + 1:], obj_cls):
        return None
    name = _name(obj_cls)
    owner = _pick(context.by_type(name), args if isinstance(args, dict) else None)
    if owner is None:
        return None
    message = str(err).strip()
    if not message:
        source = (traceback.extract_tb(err.__traceback__)[-1].line or '').strip()
        message = f'assertion failed: {source}' if source else 'assertion failed'
    key = _key_named_in(message, owner.value)
    if key is None:
        reason = f'{owner.path} ({name}) rejected its arguments: {type(err).__name__}: {message}'
        where = find_type(context.config, name)
    else:
        reason = (f'{owner.path}: {name} rejected {key}={owner.value[key]!r}: '
                  f'{type(err).__name__}: {message}')
        where = find_key(context.config, key, name) or find_type(context.config, name)
        if context.from_options(f'{owner.path}.{key}'):
            return context.error(reason + ' (set by --cfg-options)', None)
    if context.from_options(owner.path, below=True):
        reason += ' (check the --cfg-options that change it)'
    return context.error(reason, where)


def _runner_rejected(err: BaseException, frames: list[FrameType],
                     context: ConfigContext) -> Optional[ConfigError]:
    """A ``ValueError``/``AssertionError``/``KeyError`` raised by MMEngine's
    ``Runner`` itself while it checks and builds the config's parts (e.g.
    ``train_dataloader`` without ``optim_wrapper``)."""
    if not isinstance(err, (ValueError, AssertionError, KeyError)) or not frames:
        return None
    runner = frames[-1].f_locals.get('self')
    if runner is None or 'Runner' not in [c.__name__ for c in type(runner).__mro__] \
            or not frames[-1].f_code.co_filename.endswith(os.path.join('runner',
                                                                      'runner.py')):
        return None
    message = ' '.join(str(err).split())
    if isinstance(err, KeyError):
        message = f'missing key {message}'
    if len(message) > 300:
        message = message[:300] + ' ...'
    return context.error(f'the runner rejected the config: {message}', None)


def _key_named_in(message: str, values: dict) -> Optional[str]:
    """The key of ``values`` a constructor's error message is about: the
    first one named in it, else the first whose (string) value it quotes."""
    keys = [k for k in values if k not in ('type', '_scope_') and isinstance(k, str)]
    for key in keys:
        if re.search(rf'(?<![\w.]){re.escape(key)}(?!\w)', message):
            return key
    for key in keys:
        value = values[key]
        if isinstance(value, str) and len(value) > 1 and repr(value) in message:
            return key
    return None


def unknown_keys_note(exc: BaseException, config: str,
                      cfg_options: Optional[dict] = None) -> str:
    """A note for another error (e.g. a data or taxonomy error) raised while
    an object of the user's config was being built, naming the keys of its
    dict that the class does not take: the mistake may be one of them (a
    misspelt ``dataset_key`` leaves the default in place).

    Returns:
        ``' (note: <file>:<line>: <dict path>: unknown key ...)'``, or ``''``.
    """
    for err in exception_chain(exc):
        frames = [frame for frame, _ in traceback.walk_tb(err.__traceback__)]
        index = _builder(frames)
        if index is None:
            continue
        local = frames[index].f_locals
        obj_cls, args = local.get('obj_cls'), local.get('args')
        if obj_cls is None or not isinstance(args, dict):
            return ''
        accepted = accepted_arguments(obj_cls)
        unknown = accepted.unknown(args)
        if not unknown:
            return ''
        name = _name(obj_cls)
        context = ConfigContext(config, cfg_options)
        owner = _pick([d for d in context.by_type(name) if unknown[0] in d.value], args)
        if owner is None:
            return ''
        where = find_key(config, unknown[0], name)
        at = f'{where.file}:{where.line}: ' if where else ''
        parts = '; '.join(_unknown_part(k, name, accepted.names) for k in unknown)
        return f' (note: {at}{owner.path}: {parts})'
    return ''
