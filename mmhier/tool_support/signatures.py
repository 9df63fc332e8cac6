"""Which keys a config dict may hold for the class (or function) it builds.

A config dict ``dict(type='X', a=1, b=2)`` becomes ``X(a=1, b=2)``. Classes
often take a few arguments of their own and pass ``**kwargs`` up to their
base class (``HierarchicalDecodeHead`` -> ``BaseDecodeHead``), so the keys a
class accepts are the parameters of every ``__init__`` along its MRO, as long
as each one forwards ``**kwargs``.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Callable, Mapping

_NAMED = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


@dataclass(frozen=True)
class Accepted:
    """The keyword arguments a callable accepts.

    Args:
        names: Accepted parameter names, in declaration order (the class's
            own first, then those of the bases ``**kwargs`` reach).
        required: Parameters without a default value of the callable itself.
        open: ``True`` if some ``**kwargs`` is not accounted for (any key may
            be fine); ``names`` is then incomplete.
    """

    names: tuple[str, ...]
    required: tuple[str, ...]
    open: bool

    def unknown(self, keys: Mapping[str, Any] | list[str]) -> list[str]:
        """Keys that are not accepted (always empty for an open signature)."""
        if self.open:
            return []
        return [k for k in keys if k not in self.names and k not in ('type', '_scope_')]

    def missing(self, keys: Mapping[str, Any] | list[str]) -> list[str]:
        """Required parameters absent from ``keys``."""
        return [name for name in self.required if name not in keys]


def _signature(func: Callable) -> inspect.Signature | None:
    try:
        return inspect.signature(func)
    except (TypeError, ValueError):  # builtins without a signature
        return None


def _closes_kwargs(cls: type) -> bool:
    """Bases that accept no keywords: ``object`` and torch's ``nn.Module``
    (it raises on any)."""
    if cls is object:
        return True
    return cls.__module__ == 'torch.nn.modules.module' and cls.__name__ == 'Module'


def accepted_arguments(target: Callable) -> Accepted:
    """The keyword arguments ``target`` (a class or function) accepts.

    Args:
        target: A registered class or function.

    Returns:
        The accepted names, following ``**kwargs`` up the MRO of a class.
    """
    if not inspect.isclass(target):
        sig = _signature(target)
        if sig is None:
            return Accepted((), (), True)
        params = list(sig.parameters.values())
        return Accepted(tuple(p.name for p in params if p.kind in _NAMED),
                        _required(params),
                        any(p.kind == p.VAR_KEYWORD for p in params))
    names: list[str] = []
    required: tuple[str, ...] | None = None
    for klass in target.__mro__:
        init = klass.__dict__.get('__init__')
        if init is None:
            continue
        if _closes_kwargs(klass):
            # reached through **kwargs of a subclass: they end up somewhere
            # else (a class rarely forwards keywords to a base that rejects them)
            return Accepted(tuple(names), required or (), required is not None)
        sig = _signature(init)
        if sig is None:
            return Accepted(tuple(names), required or (), True)
        params = list(sig.parameters.values())[1:]  # self
        if required is None:
            required = _required(params)
        names += [p.name for p in params if p.kind in _NAMED and p.name not in names]
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            return Accepted(tuple(names), required, False)
    return Accepted(tuple(names), required or (), True)


def _required(params: list[inspect.Parameter]) -> tuple[str, ...]:
    return tuple(p.name for p in params if p.kind in _NAMED and p.default is p.empty)
