"""The cleanup screen (``c``): like ncdu for agent workspaces.

A table of folders with size, age and status; mark with space (never a running one); presets
that mark by age or keep the newest N per name (:func:`agent_tui.cleanup.plan`, in a worker: it
resolves folders on disk); a summary of the bytes to free; a confirmation; then
:func:`agent_tui.cleanup.execute` in a worker, which re-checks every folder's lock before removing
it, with a progress bar. ``--read-only`` disables marking and deleting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, ProgressBar, Static
from textual.worker import Worker, WorkerState

from agent_tui.cleanup import CleanupItem, CleanupPlan, CleanupResult, execute, format_bytes, plan
from agent_tui.format.layout import Status
from agent_tui.listing import sort_key
from agent_tui.tui.dialogs import ConfirmDialog, NumberPrompt
from agent_tui.tui.display import Clock, age_text, status_badge, utc_now
from agent_tui.workspace import AgentRecord

if TYPE_CHECKING:
    from agent_tui.tui.app import AgentTUI

DESTRUCTIVE = frozenset({"toggle_mark", "mark_older", "mark_keep_last", "delete", "unmark_all"})
CLEANUP_SORTS = {"size": "size", "age": "age", "name": "name", "status": "status"}
MARK_ON, MARK_OFF = Text("[x]", style="bold #ff5f5f"), Text("[ ]", style="dim")


@dataclass
class CleanupPlanned(Message):
    """Posted by the plan worker: the folders a preset chose, and those it left alone."""

    chosen: CleanupPlan


@dataclass
class CleanupProgress(Message):
    """Posted by the delete worker before each folder."""

    done: int
    total: int


@dataclass
class CleanupFinished(Message):
    """Posted by the delete worker when every marked folder was handled."""

    result: CleanupResult


class CleanupScreen(Screen):
    """Mark agent folders and delete them."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="cleanup-back", tooltip="Back to the browser"),
        Binding("space", "toggle_mark", "Mark", id="cleanup-mark",
                tooltip="Mark or unmark the folder under the cursor (not a running one)"),
        Binding("o", "mark_older", "Older than", id="cleanup-older",
                tooltip="Mark every folder older than N days"),
        Binding("k", "mark_keep_last", "Keep last", id="cleanup-keep",
                tooltip="Mark all but the newest N folders of each agent name"),
        Binding("u", "unmark_all", "Unmark all", id="cleanup-unmark", tooltip="Clear every mark"),
        Binding("d,delete", "delete", "Delete marked", id="cleanup-delete",
                tooltip="Delete the marked folders (asks first)"),
        Binding("s", "sort('size')", "Size", id="cleanup-sort-size", show=False, tooltip="Sort by size"),
        Binding("a", "sort('age')", "Age", id="cleanup-sort-age", show=False, tooltip="Sort by age, newest first"),
        Binding("n", "sort('name')", "Name", id="cleanup-sort-name", show=False, tooltip="Sort by name"),
        Binding("t", "sort('status')", "Status", id="cleanup-sort-status", show=False, tooltip="Sort by status"),
    ]  # fmt: skip

    def __init__(
        self,
        records: list[AgentRecord],
        agents_dir: Path,
        *,
        read_only: bool = False,
        clock: Clock = utc_now,
    ) -> None:
        super().__init__()
        self.records = {str(r.folder): r for r in records}
        self.agents_dir = agents_dir
        self.read_only = read_only
        self.clock = clock
        self.marked: set[str] = set()
        self.sort = "size"
        self.deleting = False

    def compose(self) -> ComposeResult:
        yield Header()
        banner = "read-only: nothing can be marked or deleted" if self.read_only else ""
        yield Static(banner, id="cleanup-banner")
        yield DataTable(id="cleanup-table", cursor_type="row")
        yield Static(id="cleanup-summary")
        yield ProgressBar(id="cleanup-progress", show_eta=False)
        yield Footer()

    def on_mount(self) -> None:
        self.title = "Cleanup"
        self.query_one("#cleanup-banner").display = self.read_only
        self.query_one("#cleanup-progress").display = False
        table = self.query_one("#cleanup-table", DataTable)
        for key, label, width in (("mark", "", 3), ("size", "size", 9), ("age", "age", 5),
                                  ("status", "status", 12), ("name", "folder", None)):  # fmt: skip
            table.add_column(label, key=key, width=width)
        self.rebuild()
        table.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in DESTRUCTIVE and (self.read_only or self.deleting):
            return None
        return True

    def _cells(self, key: str) -> tuple[Text, ...]:
        record = self.records[key]
        return (
            MARK_ON if key in self.marked else MARK_OFF,
            Text(format_bytes(record.size_bytes), justify="right"),
            Text(age_text(record, self.clock()), justify="right"),
            status_badge(record.status),
            Text(record.folder.name, overflow="ellipsis", no_wrap=True),
        )

    def rebuild(self) -> None:
        table = self.query_one("#cleanup-table", DataTable)
        selected = None
        if table.row_count:
            selected = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        ordered = sorted(self.records.values(), key=sort_key(self.sort))
        table.clear()
        for record in ordered:
            key = str(record.folder)
            table.add_row(*self._cells(key), key=key)
        if selected in self.records:
            table.move_cursor(row=table.get_row_index(selected))
        self.update_summary()

    def update_summary(self) -> None:
        total = sum(r.size_bytes for r in self.records.values())
        freed = sum(self.records[k].size_bytes for k in self.marked)
        running = sum(r.status == Status.RUNNING for r in self.records.values())
        text = Text()
        text.append(f"{len(self.marked)} marked", style="bold")
        text.append(f", {format_bytes(freed)} to free", style="bold #ff5f5f" if freed else "")
        text.append(f"   (of {len(self.records)} folders, {format_bytes(total)})")
        if running:
            text.append(f"   {running} running (protected)", style="#5fd7ff")
        self.query_one("#cleanup-summary", Static).update(text)

    def _refresh_marks(self) -> None:
        table = self.query_one("#cleanup-table", DataTable)
        for key in self.records:
            table.update_cell(key, "mark", MARK_ON if key in self.marked else MARK_OFF)
        self.update_summary()

    def _mark(self, keys: set[str]) -> None:
        self.marked = {k for k in keys if self.records[k].status != Status.RUNNING}
        self._refresh_marks()

    def record_changed(self, record: AgentRecord) -> None:
        """The watcher saw a folder change: a folder that is now running loses its mark."""
        key = str(record.folder)
        known = key in self.records
        self.records[key] = record
        if record.status == Status.RUNNING:
            self.marked.discard(key)
        if known:
            table = self.query_one("#cleanup-table", DataTable)
            for column, cell in zip(
                ("mark", "size", "age", "status", "name"), self._cells(key), strict=True
            ):
                table.update_cell(key, column, cell)
            self.update_summary()
        else:
            self.rebuild()

    def record_removed(self, folder: Path) -> None:
        key = str(folder)
        if self.records.pop(key, None) is not None:
            self.marked.discard(key)
            self.query_one("#cleanup-table", DataTable).remove_row(key)
            self.update_summary()

    def _cursor_key(self) -> str | None:
        table = self.query_one("#cleanup-table", DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def _refuse_if_read_only(self) -> bool:
        if self.read_only:
            self.notify("Read-only: cleanup is disabled.", severity="warning")
        return self.read_only

    def action_toggle_mark(self) -> None:
        key = self._cursor_key()
        if key is None or self._refuse_if_read_only():
            return
        record = self.records[key]
        if record.status == Status.RUNNING:
            self.notify(
                f"{record.folder.name} is running; it cannot be marked.", severity="warning"
            )
            return
        self.marked.symmetric_difference_update({key})
        table = self.query_one("#cleanup-table", DataTable)
        table.update_cell(key, "mark", MARK_ON if key in self.marked else MARK_OFF)
        self.update_summary()
        table.action_cursor_down()

    def action_unmark_all(self) -> None:
        self.marked = set()
        self._refresh_marks()

    def action_sort(self, sort: str) -> None:
        self.sort = CLEANUP_SORTS.get(sort, "size")
        self.rebuild()

    def action_mark_older(self) -> None:
        if self._refuse_if_read_only():
            return

        def apply(days: int | None) -> None:
            if days is not None:
                self._apply_plan(older_than=timedelta(days=days))

        self.app.push_screen(NumberPrompt("Mark folders older than how many days?", 7), apply)

    def action_mark_keep_last(self) -> None:
        if self._refuse_if_read_only():
            return

        def apply(keep: int | None) -> None:
            if keep is not None:
                self._apply_plan(keep_last=keep)

        self.app.push_screen(NumberPrompt("Keep how many newest folders per name?", 3), apply)

    def _apply_plan(
        self, *, older_than: timedelta | None = None, keep_last: int | None = None
    ) -> None:
        choose = partial(plan, older_than=older_than, keep_last=keep_last)
        self.plan_marks(list(self.records.values()), choose)

    @work(thread=True, group="cleanup-plan", exclusive=True, exit_on_error=False,
          description="choose folders to mark")  # fmt: skip
    def plan_marks(self, records: list[AgentRecord], choose: Callable[..., CleanupPlan]) -> None:
        chosen = choose(records, now=self.clock(), agents_dir=self.agents_dir)
        self.post_message(CleanupPlanned(chosen))

    @on(CleanupPlanned)
    def _planned(self, event: CleanupPlanned) -> None:
        chosen = event.chosen
        # A folder may have gone while the plan was made.
        self._mark({str(item.folder) for item in chosen.items} & self.records.keys())
        protected = [i for i in chosen.skipped if i.status == Status.RUNNING]
        note = f"Marked {len(self.marked)} folders"
        if protected:
            note += f"; {len(protected)} running, left alone"
        self.notify(note + ".")

    def action_delete(self) -> None:
        if self._refuse_if_read_only() or self.deleting:
            return
        if not self.marked:
            self.notify("Nothing is marked. Mark folders with space first.")
            return
        freed = format_bytes(sum(self.records[k].size_bytes for k in self.marked))
        question = f"Delete {len(self.marked)} marked folders ({freed})? This cannot be undone."

        def answer(yes: bool | None) -> None:
            if yes:
                self._start_delete()

        self.app.push_screen(ConfirmDialog(question), answer)

    def _start_delete(self) -> None:
        items = [
            CleanupItem(r.folder, r.name, r.size_bytes, "marked", r.status, r.last_activity)
            for r in (self.records[k] for k in sorted(self.marked))
        ]
        self.deleting = True
        bar = self.query_one("#cleanup-progress", ProgressBar)
        bar.update(total=len(items), progress=0)
        bar.display = True
        self.refresh_bindings()
        self.delete_folders(CleanupPlan(self.agents_dir, items))

    @work(thread=True, group="cleanup", exclusive=True, exit_on_error=False,
          description="delete marked workspaces")  # fmt: skip
    def delete_folders(self, chosen: CleanupPlan) -> None:
        def progress(done: int, total: int, _item: CleanupItem) -> None:
            self.post_message(CleanupProgress(done, total))

        self.post_message(CleanupFinished(execute(chosen, progress=progress)))

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR:
            return
        if event.worker.group == "cleanup":
            self.deleting = False
            self.query_one("#cleanup-progress").display = False
            self.refresh_bindings()
        self.notify(f"{event.worker.description} failed: {event.worker.error}", severity="error")

    @on(CleanupProgress)
    def _progress(self, event: CleanupProgress) -> None:
        self.query_one("#cleanup-progress", ProgressBar).update(
            total=event.total, progress=event.done
        )

    @on(CleanupFinished)
    def _finished(self, event: CleanupFinished) -> None:
        result = event.result
        self.deleting = False
        self.query_one("#cleanup-progress").display = False
        gone = result.removed + result.trashed
        for folder in gone:
            self.record_removed(folder)
        self.marked -= {str(f) for f in gone}
        cast("AgentTUI", self.app).forget_folders(gone)
        note = f"Deleted {len(gone)} folders, freed {format_bytes(result.freed_bytes)}."
        for folder, why in result.skipped + result.failures:
            note += f"\n{folder.name}: {why}"
        self.notify(
            note, severity="warning" if result.skipped or result.failures else "information"
        )
        self._refresh_marks()
        self.refresh_bindings()
