"""Let upstream MMEngine (0.10.7) load its own checkpoints on torch >= 2.6.

torch 2.6 made ``weights_only=True`` the default of ``torch.load``: only
tensors, containers and allow-listed classes may be unpickled. MMEngine
0.10.7 calls ``torch.load(file, map_location=...)`` without the argument, and
its checkpoints also hold the message hub's ``HistoryBuffer`` objects and the
numpy arrays, scalars and dtypes inside them, so ``--resume``, ``load_from``
and MMSeg's ``tools/test.py`` fail with ``Weights only load failed``.
:func:`allow_checkpoint_globals` adds exactly those classes to torch's
allow-list (``torch.serialization.add_safe_globals``), process-wide; loading
stays ``weights_only``: nothing outside the list can run.

A ``HistoryBuffer`` pickles its statistics methods as ``getattr(HistoryBuffer,
'mean')``. Allowing the built-in ``getattr`` would let a checkpoint reach any
attribute of any allowed object (a function's ``__globals__``, say), so the
name ``builtins.getattr`` is bound to :func:`history_buffer_statistic`
instead, which returns those methods and refuses everything else. The
maintained fork onedl-mmengine passes its own list (with the built-in
``getattr``) and falls back to ``weights_only=False``; there this list
changes nothing that matters.
"""
from __future__ import annotations

import inspect
import pickle
from typing import Any, Callable, List

#: HistoryBuffer's own statistics methods (MMEngine fills its registry of
#: statistics with them only when the first buffer is created).
BUILTIN_STATISTICS = ('current', 'max', 'mean', 'min')


def history_buffer_statistic(owner: Any, name: str) -> Callable:
    """``getattr`` as a checkpoint may use it: a statistics method of
    MMEngine's ``HistoryBuffer`` (``mean``, ``min``, ``max``, ``current``, and
    any registered with ``HistoryBuffer.register_statistics`` that is a
    function of the class).

    Args:
        owner: What the checkpoint takes the attribute of.
        name: The attribute.

    Returns:
        ``getattr(owner, name)``.

    Raises:
        pickle.UnpicklingError: Anything else: the checkpoint is refused.
    """
    from mmengine.logging import HistoryBuffer
    if owner is HistoryBuffer and isinstance(name, str) \
            and name in {*BUILTIN_STATISTICS, *HistoryBuffer._statistics_methods}:
        method = getattr(owner, name, None)
        if inspect.isfunction(method):
            return method
    raise pickle.UnpicklingError(
        f'the checkpoint asks for getattr({getattr(owner, "__name__", type(owner).__name__)},'
        f' {name!r}); only the statistics methods of MMEngine\'s HistoryBuffer are allowed')


def checkpoint_safe_globals() -> List[Callable]:
    """The classes and functions an MMEngine training checkpoint pickles
    besides tensors and plain containers.

    Returns:
        numpy's array reconstructor and scalar constructor, each under both
        the name numpy 1.x pickles (``numpy.core.multiarray``) and the one
        numpy 2 pickles (``numpy._core.multiarray``), so a checkpoint written
        with either numpy loads with the other; ``ndarray``, ``dtype`` and
        every concrete dtype class of the installed numpy; MMEngine's
        ``HistoryBuffer``, and :func:`history_buffer_statistic` as
        ``builtins.getattr``. An entry is the object, or ``(object, name)``.
    """
    import numpy as np
    from mmengine.logging import HistoryBuffer

    # the functions pickle itself records for an array and a scalar (their
    # module is numpy.core before numpy 2, numpy._core from 2)
    reconstruct = np.zeros(1).__reduce__()[0]
    scalar = np.float64(0).__reduce__()[0]
    named = [(fn, f'{module}.multiarray.{fn.__name__}') for fn in (reconstruct, scalar)
             for module in ('numpy.core', 'numpy._core')]
    dtype_classes = {type(np.dtype(code)) for code in np.typecodes['All']}
    return [*named, np.ndarray, np.dtype,
            *sorted(dtype_classes, key=lambda c: c.__name__), HistoryBuffer,
            (history_buffer_statistic, 'builtins.getattr')]


def allow_checkpoint_globals() -> None:
    """Allow-list :func:`checkpoint_safe_globals` for ``torch.load`` with
    ``weights_only=True`` in this process (idempotent; nothing to do on torch
    without ``add_safe_globals``, i.e. before 2.4, which loads with
    ``weights_only=False`` by default)."""
    import torch
    add = getattr(torch.serialization, 'add_safe_globals', None)
    if add is None:
        return
    known = set(torch.serialization.get_safe_globals())
    add([g for g in checkpoint_safe_globals() if g not in known])
