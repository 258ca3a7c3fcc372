"""The agent list's order: every row's key in sort order, found and moved by bisection.

A list of 100,000 agents cannot be sorted or filtered again on every change, nor rebuilt as
widgets. :class:`RowOrder` keeps ``(sort key, row key)`` pairs in a sorted Python list: a record
that changes moves by two bisections and one ``list.insert`` (a ``memmove``), wherever it lands.
A new sort or filter is a new :class:`RowOrder`, made by :func:`arrange` from a snapshot of the
records; a large one is made in a thread (see :class:`~agent_tui.tui.agent_table.AgentTable`).

No Textual here: the order is plain data, tested as such.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator

from agent_tui.listing import sort_key
from agent_tui.workspace import AgentRecord


def haystack(record: AgentRecord) -> str:
    """What the filter searches, lower-cased: name, folder name, status and model."""
    return f"{record.name}\0{record.folder_name}\0{record.status}\0{record.model or ''}".lower()


def matches(record: AgentRecord, needle: str) -> bool:
    """Case-insensitive substring of the agent name, folder name, status or model."""
    return not needle or needle.lower() in haystack(record)


class Haystacks(dict[str, str]):
    """Row key -> :func:`haystack` of its record, kept as records change: a keystroke in the
    filter of 100,000 rows is then a substring test each, not a string built each.

    Also what the orders over these rows share: the workspace roots (``roots``, each one's
    folder path ending in a separator). With more than one, rows are grouped by root, in the
    order the roots were given, and sorted within each."""

    def __init__(self) -> None:
        super().__init__()
        self.roots: list[str] = []

    def put(self, key: str, record: AgentRecord) -> None:
        self[key] = haystack(record)

    def group(self, path: str) -> int:
        """The index of the root ``path`` is under (the last root for none: never dropped)."""
        for index, root in enumerate(self.roots):
            if path.startswith(root):
                return index
        return len(self.roots)


class RowOrder:
    """The keys of the records that pass ``needle``, in ``order`` (reversed: read from the end).

    Each entry is ``(sort key, row key)``: the row key (the folder path, unique) breaks every
    tie, so two entries never compare equal and bisection finds exactly one.
    """

    def __init__(
        self, hay: Haystacks, order: str = "name", reverse: bool = False, needle: str = ""
    ) -> None:
        self.hay = hay  # shared with the table, which keeps it current
        self.order = order
        self.reverse = reverse
        self.needle = needle.strip().lower()
        self.key_of: Callable[[AgentRecord], tuple] = sort_key(order)
        self.grouped = len(hay.roots) > 1  # as the roots were when this order was made
        if self.grouped:
            # Grouped by root, the roots in their order whichever way the rows are read.
            within, sign, group = self.key_of, (-1 if reverse else 1), hay.group
            self.key_of = lambda record: (sign * group(record.path), *within(record))
        self._entries: list[tuple[tuple, str]] = []
        self._sort_keys: dict[str, tuple] = {}  # row key -> its sort key, for the rows held

    @classmethod
    def of_entries(
        cls, hay: Haystacks, entries: list[tuple[tuple, str]], order: str, reverse: bool
    ) -> RowOrder:
        """An order over ``entries`` (sorted already, in ``order``), held as they are."""
        made = cls(hay, order, reverse)
        made._entries = entries
        made._sort_keys = {key: sk for sk, key in entries}
        return made

    def entries(self) -> list[tuple[tuple, str]]:
        """A copy of the entries, in sort order (not reversed)."""
        return list(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._sort_keys

    def __iter__(self) -> Iterator[str]:
        """The row keys, top to bottom."""
        entries = reversed(self._entries) if self.reverse else iter(self._entries)
        return (key for _, key in entries)

    def key_at(self, row: int) -> str:
        """The row key shown at ``row`` (0 is the top)."""
        index = len(self._entries) - 1 - row if self.reverse else row
        return self._entries[index][1]

    def row_of(self, key: str) -> int | None:
        """Where ``key`` is shown, or ``None`` when it is not."""
        sort_key_ = self._sort_keys.get(key)
        if sort_key_ is None:
            return None
        index = bisect_left(self._entries, (sort_key_, key))
        return len(self._entries) - 1 - index if self.reverse else index

    def group_starts(self) -> list[tuple[int, int]]:
        """(row, root index) of the first row of each root shown, top to bottom (none when
        the rows are not grouped: one root)."""
        if not self.grouped:
            return []
        entries, starts = self._entries, []
        for group in range(len(self.hay.roots) + 1):
            if self.reverse:  # groups held as -index: the group's last entry is shown first
                index = bisect_left(entries, ((-group + 1,), "")) - 1
                if index >= 0 and entries[index][0][0] == -group:
                    starts.append((len(entries) - 1 - index, group))
            else:
                index = bisect_left(entries, ((group,), ""))
                if index < len(entries) and entries[index][0][0] == group:
                    starts.append((index, group))
        return starts

    def put(self, key: str, record: AgentRecord) -> bool:
        """Hold ``record`` under ``key`` where it sorts (or drop it if the filter rejects it);
        True when the rows shown changed order or membership, not just a row's cells."""
        old = self._sort_keys.get(key)
        if self.needle and self.needle not in self.hay[key]:
            return self.discard(key)
        new = self.key_of(record)
        if old == new:
            return False
        if old is not None:
            del self._entries[bisect_left(self._entries, (old, key))]
        self._entries.insert(bisect_left(self._entries, (new, key)), (new, key))
        self._sort_keys[key] = new
        return True

    def discard(self, key: str) -> bool:
        """Drop ``key``; True when it was held."""
        old = self._sort_keys.pop(key, None)
        if old is None:
            return False
        del self._entries[bisect_left(self._entries, (old, key))]
        return True

    def extend(self, items: Iterable[tuple[str, AgentRecord]]) -> None:
        """Add many rows at once (a scan's chunk): one sort, which is a merge of two runs
        when they come in order, rather than an insert each."""
        added = []
        for key, record in items:
            if key in self._sort_keys:
                self.put(key, record)
            elif not self.needle or self.needle in self.hay.get(key, ""):
                sort_key_ = self.key_of(record)
                self._sort_keys[key] = sort_key_
                added.append((sort_key_, key))
        if not added:
            return
        added = sorted_in_slices(added)
        entries = self._entries
        # A scan sends folders in name order, near enough: the new rows mostly go after the
        # ones held, and only the tail they overlap is sorted again (a sort of the whole list
        # for each chunk was most of loading 100,000 folders).
        start = bisect_left(entries, added[0])
        if start == len(entries):
            entries += added
        else:
            tail = entries[start:]
            tail += added
            tail.sort()
            entries[start:] = tail


SLICE = 8192  # entries sorted by one call: one sort of 100,000 held the interpreter 0.1-0.3 s


def sorted_in_slices(items: list) -> list:
    """``sorted(items)``, in slices merged by ``heapq.merge``: a sort is one call that holds the
    interpreter from every other thread, the merge a loop that lets them run (a large list is
    sorted in a thread while the screen keeps drawing)."""
    if len(items) <= SLICE:
        items.sort()
        return items
    runs = [sorted(items[start : start + SLICE]) for start in range(0, len(items), SLICE)]
    return list(heapq.merge(*runs))


def arrange(
    hay: Haystacks,
    records: Iterable[tuple[str, AgentRecord]],
    order: str,
    reverse: bool,
    needle: str = "",
) -> RowOrder:
    """A new :class:`RowOrder` of ``records`` (``(row key, record)`` pairs): sorted once."""
    arranged = RowOrder(hay, order, reverse, needle)
    arranged.extend(records)
    return arranged


def refine(source: RowOrder, needle: str) -> RowOrder:
    """The rows of ``source`` that pass ``needle``, in ``source``'s order, without sorting
    again. Any order filters from the unfiltered one; a needle that contains the previous one
    can filter from the previous result, which holds every row it can pass. A row whose key
    has left the haystacks (removed meanwhile) does not pass."""
    needle = needle.strip().lower()
    hay = source.hay
    passing = [entry for entry in source._entries if needle in hay.get(entry[1], "\0")]
    refined = RowOrder.of_entries(hay, passing, source.order, source.reverse)
    refined.needle = needle
    return refined
