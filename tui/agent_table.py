"""The workspace list: one row per agent folder, updated in place as the disk changes.

A ``DataTable`` keyed by folder path rather than a ``DirectoryTree``: a rewrite of one agent's
``config.json`` updates that row's cells (no reload, no flicker); only a new or removed agent,
a new filter or a new sort order changes the rows, and the cursor stays on the same agent.
The order is :mod:`agent_tui.listing`'s, the one ``agent-tui ls`` uses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable
from textual.widgets.data_table import CellType, ColumnKey, RowKey

from agent_tui.listing import sort_key
from agent_tui.tui.display import Clock, age_text, loops_text, size_text, status_badge, utc_now
from agent_tui.workspace import AgentRecord

COLUMNS = (("status", "status", 12), ("name", "agent", 24), ("loops", "loops", 5),
           ("age", "age", 4), ("size", "size", 8))  # fmt: skip
_ID12 = re.compile(r"-[0-9a-f]{12}$")


def matches(record: AgentRecord, needle: str) -> bool:
    """Case-insensitive substring of the agent name, folder name, status or model."""
    if not needle:
        return True
    needle = needle.lower()
    return any(
        needle in (value or "").lower()
        for value in (record.name, record.folder.name, record.status, record.model)
    )


def _cells(record: AgentRecord, now: datetime) -> tuple[Text | str, ...]:
    name = Text(record.name, overflow="ellipsis", no_wrap=True)
    if record.name != record.folder.name:
        # Our folders end in the id's last 12 hex digits: enough to tell same-named agents apart.
        folder = record.folder.name
        name.append(f"  {folder[-12:] if _ID12.search(folder) else folder}", style="dim")
    return (
        status_badge(record.status),
        name,
        Text(loops_text(record), justify="right"),
        Text(age_text(record, now), justify="right"),
        Text(size_text(record), justify="right"),
    )


# A column's header, clicked, sorts by it (again: the other way round).
COLUMN_SORTS = {"status": "status", "name": "name", "loops": "steps", "age": "age", "size": "size"}


class AgentTable(DataTable):
    """Agent folders with status badge, loop count, age and size; filterable and sortable."""

    BINDINGS = [
        Binding("home,g", "scroll_top", "First", show=False),
        Binding("end,G", "scroll_bottom", "Last", show=False),
    ]

    def __init__(self, clock: Clock = utc_now, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self.clock = clock
        self.records: dict[str, AgentRecord] = {}
        self.order = "name"
        self.reverse = False
        self.needle = ""
        self._shown: set[str] = set()
        self._rebuild_pending = False

    def on_mount(self) -> None:
        for key, label, width in COLUMNS:
            self.add_column(label, key=key, width=width)

    @property
    def selected_key(self) -> str | None:
        if not self.row_count:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value

    def add_records(self, records: Iterable[AgentRecord], *, rows: bool = True) -> None:
        """Take records as a scan reads them; append their rows unless ``rows`` is False.
        :meth:`rebuild` sorts everything when the scan ends."""
        now = self.clock()
        new_rows = []
        for record in records:
            key = str(record.folder)
            self.records[key] = record
            if key in self._shown:
                self._update_row(key, record, now)
            elif rows and matches(record, self.needle):
                new_rows.append((_cells(record, now), key))
        for cells, key in new_rows:
            self.add_row(*cells, key=key)
            self._shown.add(key)

    def upsert(self, record: AgentRecord) -> None:
        """A fresh reading of one folder: update its cells, or add it in sort order."""
        key = str(record.folder)
        old = self.records.get(key)
        self.records[key] = record
        visible = matches(record, self.needle)
        if key in self._shown and visible:
            self._update_row(key, record, self.clock())
            if old is not None and sort_key(self.order)(old) != sort_key(self.order)(record):
                self.schedule_rebuild()
        elif visible or key in self._shown:
            self.schedule_rebuild()

    def remove_record(self, key: str) -> None:
        self.records.pop(key, None)
        if key in self._shown:
            self.remove_row(key)
            self._shown.discard(key)

    def set_filter(self, needle: str) -> None:
        self.needle = needle.strip()
        self.rebuild()

    def set_sort(self, sort: str, *, reverse: bool = False) -> None:
        self.order, self.reverse = sort, reverse
        self.rebuild()

    def schedule_rebuild(self) -> None:
        """Coalesce many row additions (a burst of new agents) into one rebuild."""
        if not self._rebuild_pending:
            self._rebuild_pending = True
            self.call_after_refresh(self.rebuild)

    def rebuild(self) -> None:
        """Rows again in filter and sort order, keeping the cursor on the same agent."""
        self._rebuild_pending = False
        selected = self.selected_key
        now = self.clock()
        ordered = sorted(
            (r for r in self.records.values() if matches(r, self.needle)),
            key=sort_key(self.order),
            reverse=self.reverse,
        )
        self.clear(columns=False)
        self._shown = set()
        for record in ordered:
            key = str(record.folder)
            self.add_row(*_cells(record, now), key=key)
            self._shown.add(key)
        if selected in self._shown:
            self.move_cursor(row=self.get_row_index(selected), scroll=True)

    def refresh_ages(self) -> None:
        """Re-render ages (cells that did not change are left alone)."""
        now = self.clock()
        for key in self._shown:
            age = age_text(self.records[key], now)
            if self.get_cell(key, "age").plain != age:
                self.set_cells(key, {"age": Text(age, justify="right")})

    def _update_row(self, key: str, record: AgentRecord, now: datetime) -> None:
        changed = {
            column: cell
            for (column, _, _), cell in zip(COLUMNS, _cells(record, now), strict=True)
            if self.get_cell(key, column) != cell
        }
        self.set_cells(key, changed)

    def set_cells(self, key: str, cells: dict[str, CellType]) -> None:
        """``update_cell`` for cells of one row, redrawing that row alone.

        ``DataTable.update_cell`` redraws the whole table: on every autosave of a running agent
        that was every visible line of the list, the largest part of the frame.
        """
        if not cells:
            return
        row = self._data[RowKey(key)]
        for column, cell in cells.items():
            row[ColumnKey(column)] = cell
        self._update_count += 1  # the key of DataTable's line caches: rendered lines are stale
        self.refresh_row(self.get_row_index(key))
