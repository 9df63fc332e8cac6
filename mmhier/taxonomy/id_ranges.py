"""Sets of label ids as sorted inclusive ranges.

A dataset's ignored ids can be ``"19-255"`` or ``"2-2000000000"``: validation
works on the ranges, so its cost grows with the number of listed entries,
never with the values of the ids.
"""
from __future__ import annotations

from bisect import bisect_right
from typing import Iterable, Iterator


class IdRanges:
    """An immutable set of integers stored as sorted, disjoint, non-adjacent
    inclusive ranges ``(first, last)``.

    Args:
        ranges: Inclusive ranges in any order; they may overlap or touch.

    Example:
        >>> ids = IdRanges([(5, 9), (0, 0), (10, 12)])
        >>> ids.ranges, 11 in ids, ids.count, str(ids)
        (((0, 0), (5, 12)), True, 9, '0, 5-12')
    """

    __slots__ = ('ranges', '_firsts')

    def __init__(self, ranges: Iterable[tuple[int, int]] = ()):
        merged: list[list[int]] = []
        for first, last in sorted((int(a), int(b)) for a, b in ranges if a <= b):
            if merged and first <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], last)
            else:
                merged.append([first, last])
        self.ranges: tuple[tuple[int, int], ...] = tuple((a, b) for a, b in merged)
        self._firsts = [a for a, _ in self.ranges]

    @classmethod
    def from_ids(cls, ids: Iterable[int]) -> 'IdRanges':
        """The set of the given single ids."""
        return cls((i, i) for i in ids)

    @classmethod
    def span(cls, first: int, last: int) -> 'IdRanges':
        """All ids ``first .. last`` (empty when ``first > last``)."""
        return cls([(first, last)])

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, int):
            return False
        i = bisect_right(self._firsts, value) - 1
        return i >= 0 and value <= self.ranges[i][1]

    def __iter__(self) -> Iterator[int]:
        """Every id in increasing order (lazily; beware of huge ranges)."""
        for first, last in self.ranges:
            yield from range(first, last + 1)

    def __bool__(self) -> bool:
        return bool(self.ranges)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, IdRanges):
            return self.ranges == other.ranges
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.ranges)

    def __repr__(self) -> str:
        return f'IdRanges({list(self.ranges)!r})'

    def __str__(self) -> str:
        return ', '.join(str(a) if a == b else f'{a}-{b}' for a, b in self.ranges)

    @property
    def count(self) -> int:
        """Number of ids in the set."""
        return sum(b - a + 1 for a, b in self.ranges)

    @property
    def min(self) -> int:
        """The smallest id (the set must not be empty)."""
        return self.ranges[0][0]

    @property
    def max(self) -> int:
        """The largest id (the set must not be empty)."""
        return self.ranges[-1][1]

    def union(self, other: 'IdRanges') -> 'IdRanges':
        """Ids in either set."""
        return IdRanges(self.ranges + other.ranges)

    def intersection(self, other: 'IdRanges') -> 'IdRanges':
        """Ids in both sets (linear merge of the two range lists)."""
        out = []
        i = j = 0
        a, b = self.ranges, other.ranges
        while i < len(a) and j < len(b):
            first, last = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
            if first <= last:
                out.append((first, last))
            if a[i][1] < b[j][1]:
                i += 1
            else:
                j += 1
        return IdRanges(out)

    def difference(self, other: 'IdRanges') -> 'IdRanges':
        """Ids in this set but not in ``other``."""
        out = []
        j = 0
        b = other.ranges
        for first, last in self.ranges:
            while j < len(b) and b[j][1] < first:
                j += 1
            k = j
            while k < len(b) and b[k][0] <= last:
                if b[k][0] > first:
                    out.append((first, b[k][0] - 1))
                first = max(first, b[k][1] + 1)
                k += 1
            if first <= last:
                out.append((first, last))
        return IdRanges(out)


def format_ids(ids: Iterable[int]) -> str:
    """Compresses ids into ranges: ``[1, 2, 3, 7] -> '1-3, 7'``.

    Args:
        ids: Integers in any order, or an :class:`IdRanges`.
    """
    return str(ids if isinstance(ids, IdRanges) else IdRanges.from_ids(ids))
