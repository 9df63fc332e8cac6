"""Bounded ``repr`` of user values for messages.

Values from taxonomy files can be huge or nested thousands of levels deep;
plain ``repr`` would then print megabytes or raise ``RecursionError``.
"""
from __future__ import annotations

import reprlib
from typing import Any



class _Repr(reprlib.Repr):
    """reprlib that also cuts dict and list subclasses and huge integers."""

    def repr1(self, x: Any, level: int) -> str:
        if isinstance(x, dict):
            return self.repr_dict(x, level)
        if isinstance(x, list):
            return self.repr_list(x, level)
        if isinstance(x, int) and not isinstance(x, bool) and x.bit_length() > 128:
            return f'<integer of {x.bit_length()} bits>'
        return super().repr1(x, level)


_REPR = _Repr()
_REPR.maxlevel = 3
_REPR.maxstring = 80
_REPR.maxother = 80
_REPR.maxlong = 40
_REPR.maxdict = _REPR.maxlist = _REPR.maxtuple = _REPR.maxset = 6


def short_repr(value: Any) -> str:
    """``repr(value)`` cut to a few nesting levels, items and characters.

    Args:
        value: Anything.

    Returns:
        A ``repr``-like string of at most a few hundred characters.
    """
    if type(value) is str and len(value) <= _REPR.maxstring:
        return repr(value)
    try:
        return _REPR.repr(value)
    except Exception:  # a broken __repr__ of some user object
        return f'<{type(value).__name__}>'
