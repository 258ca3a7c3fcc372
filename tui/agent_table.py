"""The workspace tree: one row per agent folder, drawn only where it is on screen, and under an
agent opened with enter or the right arrow, the files in its folder.

A line-API view over a :class:`~agent_tui.tui.row_order.RowOrder` (the keys in sort order),
not a ``DataTable``: however many folders there are, a frame draws the rows in view, and a
rewrite of one agent's ``config.json`` moves one entry of the order and redraws what is
visible. A new sort or filter of a large list is arranged in a thread from a snapshot, while
the old order stays on screen and keeps taking updates; the changes made meanwhile are applied
to the new order when it arrives. The order is :mod:`agent_tui.listing`'s, the one
``agent-tui ls`` uses.

An opened agent's files are lines under its row, not rows of the order: the cursor is an agent
row and, when it is on one of those lines, the file (:attr:`AgentTable.selected_file`). Few
agents are open at once, so a screen line is found from the open agents' rows
(:meth:`AgentTable._spans`) without touching the order. The table never reads the disk: it
asks for a listing (:class:`AgentTable.Opened`) and the app gives it one
(:meth:`AgentTable.set_files`) from a worker, again whenever the watcher sees the folder change.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events, work
from textual.actions import SkipAction
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.strip import Strip

from agent_tui.format.layout import Layout
from agent_tui.tui.display import (
    Clock,
    age_text,
    loops_text,
    size_text,
    status_badge,
    utc_now,
)
from agent_tui.tui.line_view import LineView
from agent_tui.tui.row_order import Haystacks, RowOrder, arrange, refine
from agent_tui.units import format_bytes, format_span
from agent_tui.workspace import AgentRecord
from agent_tui.workspace.files import FileEntry, FileListing

# key, header, width (0: the rest of the width, at least NAME_MIN), right-aligned
COLUMNS = (("status", "status", 12, False), ("name", "agent", 0, False),
           ("loops", "loops", 5, True), ("tokens", "tokens", 6, True), ("cost", "cost", 6, True),
           ("age", "age", 4, True),
           ("size", "size", 8, True))  # fmt: skip
NAME_MIN = 12
PAD = 1  # blank columns each side of a cell
# More rows than this are sorted and filtered in a thread (below it, at once: a few ms).
THREADED_MIN = 5000
_ID12 = re.compile(r"-[0-9a-f]{12}$")

# A column's header, clicked, sorts by it (again: the other way round).
COLUMN_SORTS = {"status": "status", "name": "name", "loops": "steps", "tokens": "cost",
                "cost": "cost", "age": "age", "size": "size"}  # fmt: skip


def tokens_text(tokens: int | None) -> str:
    """Tokens used, short: ``950``, ``12.3k``, ``4.1M``; blank if unknown."""
    if tokens is None:
        return ""
    if tokens < 1000:
        return str(tokens)
    if tokens < 999_950:
        return f"{tokens / 1000:.1f}k" if tokens < 99_950 else f"{tokens // 1000}k"
    return f"{tokens / 1e6:.1f}M" if tokens < 99_950_000 else f"{tokens // 1_000_000}M"


def cost_text(cost: float | None) -> str:
    """Dollars spent, short: ``$1.23``, ``$0`` (the offline model), ``<$.01``; blank if unknown."""
    if cost is None:
        return ""
    if cost == 0:
        return "$0"
    if cost < 0.01:
        return "<$.01"
    return f"${cost:,.2f}" if cost < 1000 else f"${cost:,.0f}"


def cells(record: AgentRecord, now: datetime) -> dict[str, Text]:
    """The row of ``record``, column by column."""
    name = Text(record.name, overflow="ellipsis", no_wrap=True)
    if record.name != record.folder_name:
        # Our folders end in the id's last 12 hex digits: enough to tell same-named agents apart.
        folder = record.folder_name
        name.append(f"  {folder[-12:] if _ID12.search(folder) else folder}", style="dim")
    return {
        "status": status_badge(record.status),
        "name": name,
        "loops": Text(loops_text(record)),
        "tokens": Text(tokens_text(record.tokens)),
        "cost": Text(cost_text(record.cost)),
        "age": Text(age_text(record, now)),
        "size": Text(size_text(record)),
    }


ROOT_LINE = -1  # at_line's "line under a row" for the line naming a workspace root
KIND_MARKS = {"folder": "▸ ", "link": "→ ", "fifo": "| ", "socket": "= ", "device": "# "}
LISTING = "listing..."


def file_cells(entry: FileEntry, now: datetime) -> dict[str, Text]:
    """The line of one file under its agent, in the agent columns: name indented by depth,
    a mark for what is not a plain file, its size and age."""
    mark = KIND_MARKS.get(entry.kind, "")
    name = Text("  " * (entry.depth + 1) + mark, style="dim", no_wrap=True, overflow="ellipsis")
    name.append(entry.name + ("/" if entry.kind == "folder" else ""))
    moment = datetime.fromtimestamp(entry.mtime_ns / 1e9, tz=now.tzinfo)
    size = "" if entry.kind == "folder" else format_bytes(entry.size)
    kind = "" if entry.kind in ("file", "folder") else entry.kind
    if entry.base is not None:  # the agent's swarms memory, in its own folder beside it
        kind = "memory"
    return {
        "status": Text(kind, style="dim"),
        "name": name,
        "loops": Text(""),
        "tokens": Text(""),
        "cost": Text(""),
        "age": Text(format_span(now - moment)),
        "size": Text(size),
    }


def note_cells(note: str, depth: int = 1) -> dict[str, Text]:
    blank = Text("")
    line = Text("  " * depth + note, style="dim italic", no_wrap=True, overflow="ellipsis")
    return dict.fromkeys(("status", "loops", "tokens", "cost", "age", "size"), blank) | {
        "name": line
    }


def child_lines(listing: FileListing | None) -> list[FileEntry | str]:
    """The lines under an opened agent: its files, then what could not be shown."""
    if listing is None:
        return [LISTING]
    lines: list[FileEntry | str] = list(listing.entries)
    if listing.more:
        lines.append(f"... {listing.more:,} more not listed")
    lines.extend(listing.problems[:3])
    return lines or ["(no files)"]


def widths(total: int) -> list[int]:
    """Each column's width for a list ``total`` cells wide."""
    fixed = sum(width for _, _, width, _ in COLUMNS) + 2 * PAD * len(COLUMNS)
    return [width or max(NAME_MIN, total - fixed) for _, _, width, _ in COLUMNS]


def fit(text: Text, width: int, right: bool) -> Text:
    """``text`` cut (with an ellipsis) or padded to exactly ``width`` cells."""
    text = text.copy()
    text.truncate(width, overflow="ellipsis")
    gap = width - text.cell_len
    if right:
        text = Text(" " * gap).append_text(text)
    else:
        text.pad_right(gap)
    return text


@dataclass
class Arrangement:
    """What a new sort or filter starts from: the order wanted, and copies of the current
    entries when they can be reused (``every`` when the order is the same; ``shown`` when the
    filter only narrows)."""

    order: str
    reverse: bool
    needle: str
    shown_needle: str
    every: list | None
    shown: list | None

    def arrange(
        self, hay: Haystacks, records: Iterable[tuple[str, AgentRecord]]
    ) -> tuple[RowOrder, RowOrder]:
        """(every row in the new order, those that pass the filter); ``records`` are read only
        when the order changes."""
        if self.every is None:
            every = arrange(hay, records, self.order, self.reverse)
        else:
            every = RowOrder.of_entries(hay, self.every, self.order, self.reverse)
        if not self.needle:
            return every, every
        source = every
        # A needle that contains the one shown passes only rows the shown one passed.
        if self.shown is not None and self.shown_needle in self.needle and self.every is not None:
            source = RowOrder.of_entries(hay, self.shown, self.order, self.reverse)
        return every, refine(source, self.needle)


@dataclass
class Arranged(Message):
    """A thread's new order for the table (see :meth:`AgentTable.rearrange`)."""

    table: AgentTable
    generation: int
    every: RowOrder
    shown: RowOrder

    @property
    def control(self) -> AgentTable:
        return self.table


class AgentTable(LineView, can_focus=True):
    """Agent folders with status badge, loop count, age and size; filterable and sortable."""

    DEFAULT_CSS = """
    AgentTable {
        background: $surface;
        color: $foreground;
        overflow-x: hidden;
        & > .agent-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        & > .agent-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus {
            background-tint: $foreground 5%;
            & > .agent-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
        }
    }
    """
    COMPONENT_CLASSES = {"agent-table--header", "agent-table--cursor"}
    BINDINGS = [
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home,g", "scroll_top", "First", show=False),
        Binding("end,G", "scroll_bottom", "Last", show=False),
        Binding("enter", "toggle_open", "Files", show=False),
        Binding("right", "open", "Open", show=False),
        Binding("left", "close", "Close", show=False),
        Binding("e", "edit_file", "Edit", show=False),
        Binding("o", "page_file", "Pager", show=False),
    ]

    @dataclass
    class Highlighted(Message):
        """The cursor is on another agent (``key``: its folder path; ``None``: no rows) or on
        another of its files (``file``: the entry; ``None`` on the agent's own row)."""

        table: AgentTable
        key: str | None
        file: FileEntry | None = None

        @property
        def control(self) -> AgentTable:
            return self.table

    @dataclass
    class Rearranged(Message):
        """A new sort or filter is in place (it may have been arranged in a thread)."""

        table: AgentTable

        @property
        def control(self) -> AgentTable:
            return self.table

    @dataclass
    class Opened(Message):
        """An agent was opened: its files are wanted (:meth:`AgentTable.set_files`)."""

        table: AgentTable
        key: str

        @property
        def control(self) -> AgentTable:
            return self.table

    @dataclass
    class FileCommand(Message):
        """``e`` or ``o`` on a file: open it outside the app (``command``: edit or page)."""

        table: AgentTable
        folder: Path
        file: FileEntry
        command: str

        @property
        def control(self) -> AgentTable:
            return self.table

    @dataclass
    class HeaderClicked(Message):
        """A column's header was clicked: ``column`` is its key (see :data:`COLUMNS`)."""

        table: AgentTable
        column: str

        @property
        def control(self) -> AgentTable:
            return self.table

    def __init__(self, clock: Clock = utc_now, **kwargs) -> None:
        super().__init__(**kwargs)
        self.clock = clock
        self.records: dict[str, AgentRecord] = {}
        self.status_counts: Counter[str] = Counter()
        self.total_cost = 0.0  # of every record held (what the status line sums up)
        self.total_tokens = 0
        self.group_counts: Counter[int] = Counter()  # records per root (several roots)
        self.root_labels: dict[str, str] = {}  # root folder -> how it is named (s3:// roots)
        self.memory_generation = 0  # moves when a swarms memory folder comes, goes or changes
        self.hay = Haystacks()
        self.every = RowOrder(self.hay)  # every record, in the current order
        self.shown = self.every  # those that pass the filter (the same object when none)
        self.cursor_row = 0
        self.cursor_child: int | None = None  # the line under the cursor's agent, if on one
        self.opened: dict[str, list[FileEntry | str]] = {}  # agent key -> lines under it
        self._highlighted: tuple[str | None, FileEntry | None] = (None, None)  # last announced
        self._generation = 0  # of the latest rearrangement asked for
        self._pending = False  # a thread is arranging; changes meanwhile go to _changed
        self._changed: set[str] = set()
        self._rows: LRUCache[str, tuple[AgentRecord, str, int, Strip]] = LRUCache(256)
        self._widths = widths(0)

    # What the table holds.

    @property
    def order(self) -> str:
        return self.shown.order

    @property
    def reverse(self) -> bool:
        return self.shown.reverse

    @property
    def needle(self) -> str:
        return self.shown.needle

    @property
    def arranging(self) -> bool:
        """A new sort or filter is being arranged in a thread."""
        return self._pending

    @property
    def row_count(self) -> int:
        return len(self.shown)

    @property
    def keys(self) -> Sequence[str]:
        """The row keys shown, top to bottom (a copy: for tests and small lists)."""
        return list(self.shown)

    @property
    def selected_key(self) -> str | None:
        if not self.shown:
            return None
        return self.shown.key_at(min(self.cursor_row, len(self.shown) - 1))

    @property
    def selected_file(self) -> FileEntry | None:
        """The file under the cursor (``None`` on an agent's row, or a note line)."""
        key = self.selected_key
        if key is None or self.cursor_child is None:
            return None
        lines = self.opened.get(key, [])
        if self.cursor_child >= len(lines):
            return None
        line = lines[self.cursor_child]
        return line if isinstance(line, FileEntry) else None

    def row_of(self, key: str) -> int | None:
        """The row ``key`` is shown at, or ``None``."""
        return self.shown.row_of(key)

    # The files of opened agents.

    def open_agent(self, key: str) -> None:
        """Show the files of ``key`` under its row (asked for with :class:`Opened`)."""
        if key in self.opened or key not in self.records:
            return
        self.opened[key] = [LISTING]
        self.post_message(self.Opened(self, key))
        self._moved()

    def close_agent(self, key: str) -> None:
        if self.opened.pop(key, None) is None:
            return
        if self.selected_key == key:
            self.cursor_child = None
        self._moved()

    def set_files(self, key: str, listing: FileListing) -> None:
        """The listing of an opened agent's folder (a newer one replaces it; the cursor stays
        on the file it was on when that file is still there)."""
        if key not in self.opened:
            return
        on_file = self.selected_file if self.selected_key == key else None
        lines = child_lines(listing)
        self.opened[key] = lines
        if self.selected_key == key and self.cursor_child is not None:
            if on_file is not None:
                found = next(
                    (
                        i
                        for i, e in enumerate(lines)
                        if isinstance(e, FileEntry)
                        and (e.rel, e.base) == (on_file.rel, on_file.base)
                    ),
                    None,
                )
                self.cursor_child = (
                    found if found is not None else min(self.cursor_child, len(lines) - 1)
                )
            else:
                self.cursor_child = min(self.cursor_child, len(lines) - 1)
        self._moved()

    def _spans(self) -> list[tuple[int, int, str, int]]:
        """What the tree shows besides the rows, top to bottom: (row, 0, root index, 1) for the
        line naming a root above its first row (more than one root), (row, 1, key, lines)
        for the files of an opened agent under its row."""
        spans = [(row, 0, str(group), 1) for row, group in self.shown.group_starts()]
        for key, lines in self.opened.items():
            row = self.shown.row_of(key)
            if row is not None:
                spans.append((row, 1, key, len(lines)))
        spans.sort()
        return spans

    @property
    def line_count(self) -> int:
        """Lines of the tree under the header: rows, root lines and the files of opened agents."""
        return len(self.shown) + sum(n for *_, n in self._spans())

    def line_of(self, row: int, child: int | None = None) -> int:
        """The tree line of agent ``row`` (or of line ``child`` under it)."""
        before = sum(n for r, after, _, n in self._spans() if r < row or (r == row and not after))
        return row + before + (0 if child is None else child + 1)

    def at_line(self, line: int) -> tuple[int, int | None]:
        """(agent row, line under it or ``None``) of tree line ``line``; the line naming a
        root is (its first row, :data:`ROOT_LINE`)."""
        offset = 0
        for row, after, _, n in self._spans():
            if not after:
                if line < row + offset:
                    break
                if line == row + offset:
                    return row, ROOT_LINE
            else:
                if line <= row + offset:
                    break
                if line <= row + offset + n:
                    return row, line - offset - row - 1
            offset += n
        return line - offset, None

    @property
    def cursor_line(self) -> int:
        return self.line_of(self.cursor_row, self.cursor_child)

    def cell(self, key: str, column: str) -> Text:
        """What the row of ``key`` shows in ``column`` (as drawn, before it is fitted)."""
        return cells(self.records[key], self.clock())[column]

    # Changes.

    def add_records(self, records: Iterable[AgentRecord]) -> None:
        """Take records as a scan reads them: each lands where it sorts."""
        items = []
        for record in records:
            key = record.path  # str(record.folder), without making the Path
            self._hold(key, record)
            items.append((key, record))
        if self._pending:
            self._changed.update(key for key, _ in items)
        self.every.extend(items)
        if self.shown is not self.every:
            self.shown.extend(items)
        self._moved()

    def upsert(self, record: AgentRecord) -> None:
        """A fresh reading of one folder: its row moves only if its sort key changed."""
        key = record.path
        self._hold(key, record)
        if self._pending:
            self._changed.add(key)
        moved = self.every.put(key, record)
        if self.shown is not self.every:
            moved = self.shown.put(key, record)
        if moved:
            self._moved()
        else:
            self.refresh_key(key)

    def remove_record(self, key: str) -> None:
        self.remove_records([key])

    def remove_records(self, keys: Iterable[str]) -> None:
        """Drop the rows of ``keys`` (folders gone), in one redraw."""
        for key in keys:
            record = self.records.pop(key, None)
            if record is None:
                continue
            self.status_counts[record.status] -= 1
            if record.layout == Layout.MEMORY:
                self.memory_generation += 1
            self.total_cost -= record.cost or 0.0
            self.total_tokens -= record.tokens or 0
            if len(self.hay.roots) > 1:
                self.group_counts[self.hay.group(key)] -= 1
            self.hay.pop(key, None)
            self.opened.pop(key, None)
            if self._pending:
                self._changed.add(key)
            self.every.discard(key)
            self.shown.discard(key)
        self._moved()

    def _hold(self, key: str, record: AgentRecord) -> None:
        old = self.records.get(key)
        if record.layout == Layout.MEMORY or (old is not None and old.layout == Layout.MEMORY):
            self.memory_generation += 1
        if old is not None:
            self.status_counts[old.status] -= 1
            self.total_cost -= old.cost or 0.0
            self.total_tokens -= old.tokens or 0
        elif len(self.hay.roots) > 1:
            self.group_counts[self.hay.group(key)] += 1
        self.status_counts[record.status] += 1
        self.total_cost += record.cost or 0.0
        self.total_tokens += record.tokens or 0
        self.records[key] = record
        self.hay.put(key, record)

    def set_filter(self, needle: str) -> None:
        self.rearrange(self.order, self.reverse, needle)

    def set_sort(self, sort: str, *, reverse: bool = False) -> None:
        self.rearrange(sort, reverse, self.needle)

    def rearrange(self, order: str, reverse: bool, needle: str, *, fresh: bool = False) -> None:
        """Sort and filter anew. Small lists at once; large ones in a thread, the current
        order on screen (and kept current) until the new one arrives."""
        self._generation += 1
        needle = needle.strip().lower()
        # What the arrangement starts from, copied: the rows on screen keep changing.
        # Entries in the same order are reused, read the other way round for a reverse; not
        # when rows are grouped by root: the roots keep their order, so a reverse sorts again.
        same = order == self.every.order and (len(self.hay.roots) < 2 or reverse == self.reverse)
        same = same and not fresh  # ``fresh``: the roots changed, so do the sort keys
        every = self.every.entries() if same else None
        shown = self.shown.entries() if self.shown is not self.every else None
        source = Arrangement(order, reverse, needle, self.shown.needle, every, shown)
        if len(self.records) < THREADED_MIN:
            self._place(*source.arrange(self.hay, self.records.items()))
            self.post_message(self.Rearranged(self))
            return
        self._pending = True
        self._changed = set()
        snapshot = list(self.records.items()) if every is None else []
        self._arrange_in_thread(self._generation, source, snapshot)

    @work(thread=True, group="arrange", exit_on_error=False, description="sort the agent list")
    def _arrange_in_thread(
        self, generation: int, source: Arrangement, snapshot: list[tuple[str, AgentRecord]]
    ) -> None:
        every, shown = source.arrange(self.hay, snapshot)
        self.post_message(Arranged(self, generation, every, shown))

    def on_arranged(self, event: Arranged) -> None:
        if event.generation != self._generation:
            return  # a later rearrangement was asked for: this one is stale
        self._pending = False
        self._place(event.every, event.shown)
        # Changes that came while the thread worked went to the old order: apply them again.
        for key in self._changed:
            record = self.records.get(key)
            for order in {id(self.every): self.every, id(self.shown): self.shown}.values():
                if record is None:
                    order.discard(key)
                else:
                    order.put(key, record)
        self._changed = set()
        self._moved()
        self.post_message(self.Rearranged(self))

    def _place(self, every: RowOrder, shown: RowOrder) -> None:
        selected = self.selected_key
        self.every, self.shown = every, shown
        row = shown.row_of(selected) if selected is not None else None
        if row is None:
            self.cursor_child = None
        self._moved(row if row is not None else min(self.cursor_row, max(0, len(shown) - 1)))

    def _moved(self, row: int | None = None) -> None:
        """Rows came, went or moved: keep the cursor on its agent, redraw, announce."""
        if row is None:
            selected = self._highlighted[0]
            found = self.shown.row_of(selected) if selected is not None else None
            if found is None:
                self.cursor_child = None
            row = found if found is not None else self.cursor_row
        self.cursor_row = max(0, min(row, len(self.shown) - 1))
        if self.cursor_child is not None and self.selected_key not in self.opened:
            self.cursor_child = None
        self.virtual_size = Size(self.size.width, self.line_count + 1)
        self._scroll_cursor_visible()
        self.refresh()
        self._announce()

    def _announce(self) -> None:
        now = (self.selected_key, self.selected_file)
        if now != self._highlighted:
            self._highlighted = now
            self.post_message(self.Highlighted(self, *now))

    # The cursor.

    def move_cursor(self, row: int, *, scroll: bool = True, child: int | None = None) -> None:
        """Put the cursor on ``row`` (clamped to the rows shown), or on line ``child`` under
        it when it is open."""
        old = self.cursor_line
        self.cursor_row = max(0, min(row, len(self.shown) - 1))
        lines = self.opened.get(self.selected_key or "")
        self.cursor_child = None if child is None or not lines else min(child, len(lines) - 1)
        self._refresh_line(old)
        self._refresh_line(self.cursor_line)
        if scroll:
            self._scroll_cursor_visible()
        self._announce()

    def move_to_line(self, line: int, *, scroll: bool = True, step: int = 1) -> None:
        """Put the cursor on tree line ``line``; a line naming a root is passed over in the
        direction of ``step`` (a root has nothing to show)."""
        line = max(0, min(line, self.line_count - 1))
        row, child = self.at_line(line)
        if child == ROOT_LINE:
            if step < 0 and line > 0:
                row, child = self.at_line(line - 1)
            else:
                child = None
        self.move_cursor(row, scroll=scroll, child=child)

    def _scroll_cursor_visible(self) -> None:
        rows = max(1, self.scrollable_content_region.height - 1)  # under the header
        top = int(self.scroll_y)
        line = self.cursor_line
        # The line naming a root, right above its first row, comes into view with that row.
        upper = line - 1 if line and self.at_line(line - 1)[1] == ROOT_LINE else line
        if upper < top:
            self.scroll_to(y=upper, animate=False, immediate=True)
        elif line >= top + rows:
            self.scroll_to(y=line - rows + 1, animate=False, immediate=True)

    def action_cursor_up(self) -> None:
        self.move_to_line(self.cursor_line - 1, step=-1)

    def action_cursor_down(self) -> None:
        self.move_to_line(self.cursor_line + 1)

    def action_page_up(self) -> None:
        page = max(1, self.scrollable_content_region.height - 2)
        self.move_to_line(self.cursor_line - page, step=-1)

    def action_page_down(self) -> None:
        self.move_to_line(self.cursor_line + max(1, self.scrollable_content_region.height - 2))

    def action_scroll_top(self) -> None:
        self.move_cursor(0)

    def action_scroll_bottom(self) -> None:
        self.move_to_line(self.line_count - 1)

    def action_toggle_open(self) -> None:
        key = self.selected_key
        if key is None:
            return
        if key in self.opened and self.cursor_child is None:
            self.close_agent(key)
        else:
            self.open_agent(key)

    def action_open(self) -> None:
        key = self.selected_key
        if key is None:
            return
        if key in self.opened:
            self.action_cursor_down()  # into its files, as a file manager's tree does
        else:
            self.open_agent(key)

    def _file_command(self, command: str) -> None:
        entry, key = self.selected_file, self.selected_key
        if entry is None or key is None:
            raise SkipAction()  # not on a file: the key is the app's (e: earlier messages)
        self.post_message(self.FileCommand(self, Path(key), entry, command))

    def action_edit_file(self) -> None:
        self._file_command("edit")

    def action_page_file(self) -> None:
        self._file_command("page")

    def action_close(self) -> None:
        key = self.selected_key
        if key is None:
            return
        if self.cursor_child is not None:
            self.move_cursor(self.cursor_row)  # back to the agent's row
        else:
            self.close_agent(key)

    def on_click(self, event: events.Click) -> None:
        if event.y == 0:
            column = self._column_at(event.x)
            if column is not None:
                self.post_message(self.HeaderClicked(self, column))
            return
        line = int(self.scroll_y) + event.y - 1
        if 0 <= line < self.line_count:
            self.move_to_line(line, scroll=False)

    def _column_at(self, x: int) -> str | None:
        left = 0
        for (key, _, _, _), width in zip(COLUMNS, self._widths, strict=True):
            left += width + 2 * PAD
            if x < left:
                return key
        return None

    # Drawing.

    def on_resize(self, event: events.Resize) -> None:
        self._widths = widths(self.scrollable_content_region.width)
        self._rows.clear()
        self.virtual_size = Size(self.size.width, self.line_count + 1)
        self._scroll_cursor_visible()

    def refresh_ages(self) -> None:
        """Redraw the rows in view whose age text changed (the others are left alone)."""
        now = self.clock()
        for y, key in self._rows_in_view():
            if key is None:  # a file's line: few are in view, each drawn again
                self.refresh(Region(0, y, self.size.width, 1))
                continue
            cached = self._rows.get(key)
            if cached is None or age_text(cached[0], now) != cached[1]:
                self.refresh(Region(0, y, self.size.width, 1))

    def refresh_key(self, key: str) -> None:
        """Redraw the row of ``key`` if it is in view."""
        row = self.shown.row_of(key)
        if row is not None:
            self._refresh_line(self.line_of(row))

    def _refresh_line(self, line: int) -> None:
        y = line - int(self.scroll_y) + 1
        if 1 <= y < self.size.height:
            self.refresh(Region(0, y, self.size.width, 1))

    def _rows_in_view(self) -> list[tuple[int, str | None]]:
        """(screen line, agent key, or ``None`` for a file's line) of each line in view."""
        top = int(self.scroll_y)
        end = min(self.line_count, top + self.scrollable_content_region.height - 1)
        if not self.opened and len(self.hay.roots) < 2:
            return [(line - top + 1, self.shown.key_at(line)) for line in range(top, end)]
        view = []
        for line in range(top, end):
            row, child = self.at_line(line)
            view.append((line - top + 1, self.shown.key_at(row) if child is None else None))
        return view

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if y == 0:
            return self._header(width)
        line = int(self.scroll_y) + y - 1
        plain = not self.opened and len(self.hay.roots) < 2
        row, child = (line, None) if plain else self.at_line(line)
        if row >= len(self.shown):
            return Strip.blank(width, self.line_style)
        key = self.shown.key_at(row)
        if child is None:
            strip = self._row_strip(key, self.records[key], width)
        elif child == ROOT_LINE:
            strip = self._root_strip(self.hay.group(key), width)
        else:
            strip = self._child_strip(self.opened[key][child], width)
        if row == self.cursor_row and child == self.cursor_child:
            cursor = self.get_component_rich_style("agent-table--cursor")
            return strip.apply_style(self.line_style + cursor)
        return strip.apply_style(self.line_style)

    def _row_strip(self, key: str, record: AgentRecord, width: int) -> Strip:
        now = self.clock()
        age = age_text(record, now)
        cached = self._rows.get(key)
        # The width is negative for an opened agent: its row carries the open mark.
        shape = -width if key in self.opened else width
        if cached is not None and cached[0] is record and cached[1] == age and cached[2] == shape:
            return cached[3]
        row = cells(record, now)
        if key in self.opened:
            row["name"] = Text("▾ ", style="dim").append_text(row["name"])
        strip = self._line([row[key] for key, *_ in COLUMNS], width)
        self._rows[key] = (record, age, shape, strip)
        return strip

    def set_roots(self, agents_dirs: Sequence[str]) -> None:
        """The workspace roots' agents folders, in the order shown: with more than one the
        rows are grouped under a line naming each root (sorted within it)."""
        self.hay.roots = [os.path.join(path, "") for path in agents_dirs]
        self.group_counts = Counter(self.hay.group(path) for path in self.records)
        self.rearrange(self.order, self.reverse, self.needle, fresh=True)

    def _root_strip(self, group: int, width: int) -> Strip:
        roots = self.hay.roots
        where = os.path.dirname(roots[group].rstrip(os.sep)) if group < len(roots) else "?"
        where = self.root_labels.get(where, where)  # an s3:// root by its address
        count = self.group_counts[group]
        # The root's own name and its count first: a long path is what gets cut.
        line = Text(f"▾ {os.path.basename(where) or where}", style="bold", no_wrap=True)
        line.append(f"  {count:,} agent{'s' if count != 1 else ''}  ")
        line.append(where, style="dim")
        header = self.get_component_rich_style("agent-table--header")
        segments = list(line.render(self.app.console, end=""))
        strip = Strip(Segment.adjust_line_length(segments, width, Style()), width)
        return strip.apply_style(header)

    def _child_strip(self, entry: FileEntry | str, width: int) -> Strip:
        row = note_cells(entry) if isinstance(entry, str) else file_cells(entry, self.clock())
        return self._line([row[key] for key, *_ in COLUMNS], width)

    def _header(self, width: int) -> Strip:
        arrow = " ▲" if self.reverse else " ▼"
        labels = [
            Text(label + (arrow if COLUMN_SORTS.get(key) == self.order else ""))
            for key, label, _, _ in COLUMNS
        ]
        header = self.get_component_rich_style("agent-table--header")
        return self._line(labels, width).apply_style(self.line_style + header)

    def _line(self, texts: list[Text], width: int) -> Strip:
        line = Text(no_wrap=True, overflow="crop")
        for text, cell_width, (_, _, _, right) in zip(texts, self._widths, COLUMNS, strict=True):
            line.append(" " * PAD)
            line.append_text(fit(text, cell_width, right))
            line.append(" " * PAD)
        segments = list(line.render(self.app.console, end=""))
        return Strip(Segment.adjust_line_length(segments, width, Style()), width)
