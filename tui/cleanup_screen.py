"""The cleanup screen (``c``): like ncdu for agent workspaces.

A table of folders with apparent size, disk usage (measured in a worker), age (ticking) and
status; filters by status and minimum size that narrow the list, as ``agent-tui clean --status
--min-size`` do; mark with space (never a running one); presets that add to the marks: by age,
all but the newest N per name (:func:`agent_tui.cleanup.plan`, in a worker: it resolves folders
on disk) or every folder shown; a summary of the bytes to free; a confirmation that says whether
the folders go to the desktop trash or are deleted (``T`` chooses); then
:func:`agent_tui.cleanup.execute` in a worker, which re-checks every folder's lock before removing
it, with a progress bar. ``--read-only`` disables marking and deleting.

A deletion of thousands of folders costs the UI what one of a few does: the worker only counts
(a timer draws the bar from the count), and when it ends the rows of the removed folders leave
the table in one redraw and the app's list in a few batches. The app's watcher rests while the
folders go (it would hear of every file removed, and its CPU slowed the removal 2.3x); when it
starts again it reports what others changed meanwhile. Folders the watcher reports gone are
dropped from the bookkeeping at once and from the table in one redraw.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Header, ProgressBar, Static
from textual.worker import Worker, WorkerState

from agent_tui.cleanup import (
    CleanupItem,
    CleanupPlan,
    CleanupResult,
    Progress,
    Usage,
    desktop_trash,
    execute,
    matches,
    parse_statuses,
    plan,
    usage,
)
from agent_tui.format.layout import Status
from agent_tui.listing import sort_key
from agent_tui.tui.dialogs import ConfirmDialog, ValuePrompt, parse_count
from agent_tui.tui.display import Clock, age_text, status_badge, utc_now
from agent_tui.tui.footer import KeyFooter
from agent_tui.units import AGE_FORMS, SIZE_FORMS, format_bytes, parse_age, parse_size, plural
from agent_tui.workspace import AgentRecord

if TYPE_CHECKING:
    from agent_tui.tui.app import AgentTUI

# Actions that change marks or folders; with them the trash toggle, which only a delete needs.
DESTRUCTIVE = frozenset(
    {"toggle_mark", "mark_older", "mark_keep_last", "mark_shown", "delete", "unmark_all",
     "toggle_trash"}
)  # fmt: skip
#: Up to this many rows leave the table one by one; more, and the table is drawn again instead
#: (``DataTable.remove_row`` re-indexes every row: 20 ms at 5,000 rows, where a redraw costs
#: 0.3 ms a row).
REMOVE_ONE_BY_ONE = 50
# The table is filled a slice at a time, one per frame: 5,000 rows at once held the UI 0.6 s.
FILL_FIRST = 300
FILL_CHUNK = 300
#: Removed folders the app's list is told of at a time, when a deletion ends.
FORGET_CHUNK = 1000
#: Folders left in place (running, failed) the end-of-deletion notice names; the rest it counts.
NOTED_PROBLEMS = 10
CLEANUP_SORTS = {"size": "size", "age": "age", "name": "name", "status": "status"}
MARK_ON, MARK_OFF = Text("[x]", style="bold #ff5f5f"), Text("[ ]", style="dim")
COLUMNS = ("mark", "size", "disk", "age", "status", "name")
UNMEASURED = "..."


def _folders(count: int) -> str:
    return plural(count, "folder")


def _size_or_all(text: str) -> int:
    """The minimum size typed: ``"10MB"``; empty (or 0) for every size."""
    return parse_size(text) if text.strip() else 0


@dataclass
class CleanupPlanned(Message):
    """Posted by the plan worker: the folders a preset chose, and those it left alone."""

    chosen: CleanupPlan


@dataclass
class CleanupMeasured(Message):
    """Posted by the usage worker: apparent size and disk usage of some folders, by key."""

    usages: dict[str, Usage]


@dataclass
class CleanupFinished(Message):
    """Posted by the delete worker when every marked folder was handled."""

    result: CleanupResult


class Remover(Protocol):
    def __call__(
        self, cleanup: CleanupPlan, *, progress: Progress, to_desktop_trash: bool
    ) -> CleanupResult: ...


class CleanupScreen(Screen):
    """Mark agent folders and delete them (or move them to the desktop trash)."""

    HELP_INTRO = (
        "Cleanup, as ncdu does it: every agent folder with its size on disk and its age. "
        "Mark folders by hand or with a preset (presets add to the marks), then delete them "
        "or move them to the trash. A running agent is never marked or removed.\n"
    )
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="cleanup-back", tooltip="Back to the browser"),
        Binding("space", "toggle_mark", "Mark", id="cleanup-mark",
                tooltip="Mark or unmark the folder under the cursor (not a running one)"),
        Binding("d,delete", "delete", "Delete", id="cleanup-delete",
                tooltip="Delete the marked folders, or move them to the trash (asks first)"),
        Binding("o", "mark_older", "Older than", id="cleanup-older",
                tooltip="Also mark the folders shown older than an age: 30m, 12h, 7d, 2w"),
        Binding("k", "mark_keep_last", "Keep last", id="cleanup-keep", show=False,
                tooltip="Also mark all but the newest N folders shown of each agent name"),
        Binding("asterisk", "mark_shown", "Mark shown", id="cleanup-mark-shown", key_display="*", show=False,
                tooltip="Also mark every folder shown (not a running one)"),
        Binding("f", "filter_status", "Status filter", id="cleanup-filter-status", show=False,
                tooltip="Show only these statuses, e.g. error,interrupted (empty: all)"),
        Binding("m", "filter_size", "Min size", id="cleanup-filter-size", show=False,
                tooltip="Show only folders of at least this size, e.g. 10MB (empty: all)"),
        Binding("u", "unmark_all", "Unmark all", id="cleanup-unmark", show=False,
                tooltip="Clear every mark"),
        Binding("T", "toggle_trash", "Trash", id="cleanup-trash",
                tooltip="Choose what d does: move to the desktop trash, or delete permanently"),
        Binding("s", "sort('size')", "Size", id="cleanup-sort-size", show=False, tooltip="Sort by size"),
        Binding("a", "sort('age')", "Age", id="cleanup-sort-age", show=False, tooltip="Sort by age, newest first"),
        Binding("n", "sort('name')", "Name", id="cleanup-sort-name", show=False, tooltip="Sort by name"),
        Binding("t", "sort('status')", "Status", id="cleanup-sort-status", show=False, tooltip="Sort by status"),
    ]  # fmt: skip

    #: How often the ages are drawn again (the main screen's rhythm); a class attribute so a
    #: test can quicken it.
    AGE_REFRESH_SECONDS = 10.0
    #: How often the progress bar reads the deletion's count: a few times a second (each
    #: redraw holds the interpreter ~10 ms, which the removing threads then wait for).
    PROGRESS_SECONDS = 0.25

    def __init__(
        self,
        records: list[AgentRecord],
        agents_dir: Path,
        *,
        read_only: bool = False,
        clock: Clock = utc_now,
        remover: Remover | None = None,
    ) -> None:
        super().__init__()
        # How the marked folders go: the CLI's execute(), or (an s3:// root) its objects deleted.
        self.remover = remover or execute
        self.records = {str(r.folder): r for r in records}
        self.agents_dir = agents_dir
        self.read_only = read_only
        self.clock = clock
        self.marked: set[str] = set()
        self.usages: dict[str, Usage] = {}
        # The keys of the rows shown, in their order (a dict: membership is asked per event).
        self.shown: dict[str, None] = {}
        self.sort = "size"
        self.statuses: set[str] = set()
        self.min_size = 0
        self.to_trash = False
        self.deleting = False
        # Folders done by the running deletion: written by its worker, read by a timer.
        self.deleted_count = 0
        self._progress_timer: Timer | None = None
        # Rows still in the table whose folders are gone, and whether a redraw is due.
        self._rows_gone: set[str] = set()
        self._redraw_due = False
        # The shown rows already in the table (the rest are added a slice a frame), which
        # rebuild of the table the slices belong to, and the row the cursor goes to once drawn.
        self.drawn: set[str] = set()
        self._fill_generation = 0
        self._cursor_to: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        banner = "read-only: nothing can be marked or deleted" if self.read_only else ""
        yield Static(banner, id="cleanup-banner")
        yield DataTable(id="cleanup-table", cursor_type="row")
        yield Static(id="cleanup-summary")
        yield ProgressBar(id="cleanup-progress", show_eta=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.title = "Cleanup"
        self.query_one("#cleanup-banner").display = self.read_only
        self.query_one("#cleanup-progress").display = False
        table = self.query_one("#cleanup-table", DataTable)
        for key, label, width in (("mark", "", 3), ("size", "size", 9), ("disk", "disk", 9),
                                  ("age", "age", 5), ("status", "status", 12),
                                  ("name", "folder", None)):  # fmt: skip
            table.add_column(label, key=key, width=width)
        self.rebuild()
        table.focus()
        self.measure(list(self.records))
        self.set_interval(self.AGE_REFRESH_SECONDS, self.refresh_ages)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in DESTRUCTIVE:
            if self.read_only:
                return False  # not offered at all: the key bar does not advertise deletion
            if self.deleting:
                return None  # shown, disabled, while a deletion runs
        return True

    # The table.

    def _cells(self, key: str) -> tuple[Text, ...]:
        record = self.records[key]
        measured = self.usages.get(key)
        apparent = measured.apparent if measured else record.size_bytes
        return (
            MARK_ON if key in self.marked else MARK_OFF,
            Text(format_bytes(apparent), justify="right"),
            Text(format_bytes(measured.disk) if measured else UNMEASURED, justify="right"),
            Text(age_text(record, self.clock()), justify="right"),
            status_badge(record.status),
            Text(record.folder.name, overflow="ellipsis", no_wrap=True),
        )

    def _passes(self, record: AgentRecord) -> bool:
        return matches(record, self.statuses, self.min_size)

    def rebuild(self) -> None:
        table = self.query_one("#cleanup-table", DataTable)
        selected = self._cursor_key()
        shown = [r for r in self.records.values() if self._passes(r)]
        self.shown = dict.fromkeys(str(r.folder) for r in sorted(shown, key=sort_key(self.sort)))
        self._rows_gone.clear()
        table.clear()
        self.drawn = set()
        self._fill_generation += 1
        self._cursor_to = selected if selected in self.shown else None
        self._fill(self._fill_generation, list(self.shown), 0, FILL_FIRST)
        self.update_summary()

    def _fill(self, generation: int, order: list[str], start: int, count: int) -> None:
        """Add rows ``start`` to ``start + count`` of ``order`` (those still shown), then the
        next slice after the next frame; a newer rebuild ends the older one's slices."""
        if generation != self._fill_generation or not self.is_attached:
            return
        table = self.query_one("#cleanup-table", DataTable)
        for key in order[start : start + count]:
            if key in self.shown and key not in self.drawn:
                table.add_row(*self._cells(key), key=key)
                self.drawn.add(key)
        if self._cursor_to in self.drawn:
            table.move_cursor(row=table.get_row_index(self._cursor_to))
            self._cursor_to = None
        if start + count < len(order):
            self.call_after_refresh(self._fill, generation, order, start + count, FILL_CHUNK)

    def _update_row(self, key: str) -> None:
        """Draw again the cells of one shown row that changed (one not drawn yet will be
        drawn as it is now)."""
        if key not in self.drawn:
            return
        table = self.query_one("#cleanup-table", DataTable)
        for column, cell in zip(COLUMNS, self._cells(key), strict=True):
            if table.get_cell(key, column) != cell:
                table.update_cell(key, column, cell)

    def refresh_ages(self) -> None:
        """Re-render the ages of the rows shown (cells that did not change are left alone)."""
        table = self.query_one("#cleanup-table", DataTable)
        now = self.clock()
        for key in self.drawn:
            age = age_text(self.records[key], now)
            if table.get_cell(key, "age").plain != age:
                table.update_cell(key, "age", Text(age, justify="right"))

    def _total(self, keys: Iterable[str]) -> str:
        """``"1.2 MB (8.0 KB on disk)"`` of ``keys`` (the scan's size until measured)."""
        apparent = disk = 0
        measuring = False
        for key in keys:
            measured = self.usages.get(key)
            apparent += measured.apparent if measured else self.records[key].size_bytes
            disk += measured.disk if measured else 0
            measuring = measuring or measured is None
        return (
            f"{format_bytes(apparent)} ({UNMEASURED if measuring else format_bytes(disk)} on disk)"
        )

    def update_summary(self) -> None:
        running = sum(r.status == Status.RUNNING for r in self.records.values())
        hidden = len(self.marked.difference(self.shown))
        text = Text()
        text.append(f"{len(self.marked)} marked", style="bold")
        text.append(
            f", {self._total(self.marked)} to free", style="bold #ff5f5f" if self.marked else ""
        )
        if hidden:
            text.append(f" ({hidden} not shown)", style="bold")
        text.append("   d: " + ("to the trash" if self.to_trash else "delete permanently"))
        if self.statuses or self.min_size:
            text.append("   shown: " + self._filter_text(), style="bold #ffd75f")
        text.append(
            f"   {len(self.shown)} of {_folders(len(self.records))}, {self._total(self.shown)}"
        )
        if running:
            text.append(f"   {running} running (protected)", style="#5fd7ff")
        self.query_one("#cleanup-summary", Static).update(text)

    def _filter_text(self) -> str:
        parts = [",".join(sorted(self.statuses))] if self.statuses else []
        if self.min_size:
            parts.append(f">= {format_bytes(self.min_size)}")
        return " ".join(parts)

    def _refresh_marks(self) -> None:
        table = self.query_one("#cleanup-table", DataTable)
        for key in self.drawn:
            table.update_cell(key, "mark", MARK_ON if key in self.marked else MARK_OFF)
        self.update_summary()

    # What the watcher and the workers report.

    def record_changed(self, record: AgentRecord) -> None:
        """The watcher saw a folder change: a folder that is now running loses its mark."""
        key = str(record.folder)
        was_shown = key in self.shown
        self.records[key] = record
        self.usages.pop(key, None)
        if record.status == Status.RUNNING:
            self.marked.discard(key)
        self.measure([key])
        if was_shown != self._passes(record):
            self.rebuild()  # a new row, or one that enters or leaves the filter
        elif was_shown:
            self._update_row(key)
            self.update_summary()

    def record_removed(self, folder: Path) -> None:
        """The watcher (or the app) says a folder is gone: its row leaves the table in one
        redraw after the next refresh (a burst of removals is one redraw), or with the batch of
        the deletion under way."""
        if self.forget([str(folder)]) and not self._redraw_due and not self.deleting:
            self._redraw_due = True
            self.call_after_refresh(self._drop_gone_rows)

    def forget(self, keys: Iterable[str]) -> int:
        """Drop folders that are gone from the bookkeeping (their rows wait for
        :meth:`_drop_gone_rows`); returns how many were known."""
        gone = [key for key in keys if self.records.pop(key, None) is not None]
        self.marked.difference_update(gone)
        for key in gone:
            self.usages.pop(key, None)
            self.shown.pop(key, None)
            if key in self.drawn:
                self.drawn.discard(key)
                self._rows_gone.add(key)
        return len(gone)

    def _drop_gone_rows(self) -> None:
        """Take the rows of folders that are gone out of the table, and redo the summary."""
        self._redraw_due = False
        if len(self._rows_gone) > REMOVE_ONE_BY_ONE:
            self.rebuild()
            return
        table = self.query_one("#cleanup-table", DataTable)
        for key in self._rows_gone:
            table.remove_row(key)
        self._rows_gone.clear()
        self.update_summary()

    @work(thread=True, group="cleanup-usage", exit_on_error=False,
          description="measure disk usage")  # fmt: skip
    def measure(self, keys: list[str]) -> None:
        self.post_message(CleanupMeasured({key: usage(Path(key)) for key in keys}))

    @on(CleanupMeasured)
    def _measured(self, event: CleanupMeasured) -> None:
        for key, measured in event.usages.items():
            if key in self.records:
                self.usages[key] = measured
                if key in self.shown:
                    self._update_row(key)
        self.update_summary()

    # Marks.

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

    def _add_marks(self, keys: set[str]) -> int:
        """Mark ``keys`` (never a running folder) beside the marks there are; returns how many
        were not marked before."""
        added = {k for k in keys if self.records[k].status != Status.RUNNING} - self.marked
        self.marked |= added
        self._refresh_marks()
        return len(added)

    def action_unmark_all(self) -> None:
        self.marked = set()
        self._refresh_marks()

    def action_mark_shown(self) -> None:
        if self._refuse_if_read_only():
            return
        added = self._add_marks(set(self.shown))
        self.notify(f"Marked {added} more; {len(self.marked)} marked in all.")

    def action_sort(self, sort: str) -> None:
        self.sort = CLEANUP_SORTS.get(sort, "size")
        self.rebuild()

    def action_mark_older(self) -> None:
        if self._refuse_if_read_only():
            return

        def apply(age: timedelta | None) -> None:
            if age is not None:
                self._apply_plan(older_than=age)

        question = f"Mark the folders shown older than what age? Write {AGE_FORMS}."
        self.app.push_screen(ValuePrompt(question, "7", parse_age), apply)

    def action_mark_keep_last(self) -> None:
        if self._refuse_if_read_only():
            return

        def apply(keep: int | None) -> None:
            if keep is not None:
                self._apply_plan(keep_last=keep)

        question = "Keep how many newest folders per name?"
        self.app.push_screen(ValuePrompt(question, "3", parse_count), apply)

    def _apply_plan(
        self, *, older_than: timedelta | None = None, keep_last: int | None = None
    ) -> None:
        choose = partial(plan, older_than=older_than, keep_last=keep_last)
        self.plan_marks([self.records[k] for k in self.shown], choose)

    @work(thread=True, group="cleanup-plan", exclusive=True, exit_on_error=False,
          description="choose folders to mark")  # fmt: skip
    def plan_marks(self, records: list[AgentRecord], choose: Callable[..., CleanupPlan]) -> None:
        chosen = choose(records, now=self.clock(), agents_dir=self.agents_dir)
        self.post_message(CleanupPlanned(chosen))

    @on(CleanupPlanned)
    def _planned(self, event: CleanupPlanned) -> None:
        chosen = event.chosen
        # A folder may have gone while the plan was made.
        added = self._add_marks({str(item.folder) for item in chosen.items} & self.records.keys())
        protected = [i for i in chosen.skipped if i.status == Status.RUNNING]
        note = f"Marked {added} more; {len(self.marked)} marked in all"
        if protected:
            note += f"; {len(protected)} running, left alone"
        self.notify(note + ".")

    # Filters: they narrow the list, and so what a preset can mark; marks stay.

    def action_filter_status(self) -> None:
        def apply(statuses: set[str] | None) -> None:
            if statuses is not None:
                self.statuses = statuses
                self.rebuild()

        current = ",".join(sorted(self.statuses))
        question = "Show which statuses? e.g. error,interrupted (empty: every status)"
        self.app.push_screen(ValuePrompt(question, current, parse_statuses), apply)

    def action_filter_size(self) -> None:
        def apply(size: int | None) -> None:
            if size is not None:
                self.min_size = size
                self.rebuild()

        current = format_bytes(self.min_size).replace(" ", "") if self.min_size else ""
        question = f"Show folders of at least what size? Write {SIZE_FORMS}; empty: every size."
        self.app.push_screen(ValuePrompt(question, current, _size_or_all), apply)

    # Deleting.

    def action_toggle_trash(self) -> None:
        self.to_trash = not self.to_trash
        if self.to_trash:
            self.notify(f"d moves the marked folders to the trash ({desktop_trash()}).")
        else:
            self.notify("d deletes the marked folders permanently.")
        self.update_summary()

    def action_delete(self) -> None:
        if self._refuse_if_read_only() or self.deleting:
            return
        if not self.marked:
            self.notify("Nothing is marked. Mark folders with space first.")
            return
        what = f"{_folders(len(self.marked))}, {self._total(self.marked)},"
        hidden = len(self.marked.difference(self.shown))
        if hidden:
            what += f" ({hidden} not shown by the filter)"
        if self.to_trash:
            question = f"Move {what} to the trash ({desktop_trash()})?"
            label = "Move to trash"
        else:
            question = f"Delete {what} permanently? This cannot be undone."
            label = "Delete"

        def answer(yes: bool | None) -> None:
            if yes:
                self._start_delete()

        self.app.push_screen(ConfirmDialog(question, label), answer)

    def _start_delete(self) -> None:
        items = [
            CleanupItem(r.folder, r.name, r.size_bytes, "marked", r.status, r.last_activity)
            for r in (self.records[k] for k in sorted(self.marked))
        ]
        self.deleting = True
        self.deleted_count = 0
        bar = self.query_one("#cleanup-progress", ProgressBar)
        bar.update(total=len(items), progress=0)
        bar.display = True
        self._progress_timer = self.set_interval(self.PROGRESS_SECONDS, self._show_progress)
        self.refresh_bindings()
        app = cast("AgentTUI", self.app)
        app.pause_watching()
        self.delete_folders(CleanupPlan(self.agents_dir, items), self.to_trash, app)

    @work(thread=True, group="cleanup", exclusive=True, exit_on_error=False,
          description="delete marked workspaces")  # fmt: skip
    def delete_folders(self, chosen: CleanupPlan, to_trash: bool, app: AgentTUI) -> None:
        # The CLI's removal, threads and all; its progress is a count the bar's timer reads
        # (a message per folder queued thousands of bar updates behind the UI).
        def progress(done: int, total: int, _item: CleanupItem) -> None:
            self.deleted_count = done

        try:
            result = self.remover(chosen, progress=progress, to_desktop_trash=to_trash)
        except BaseException:
            app.call_from_thread(app.resume_watching)
            raise
        # Logged here, off the UI thread: the names of thousands of folders, masked and written.
        for action, folders in (("deleted", result.removed), ("trashed", result.trashed)):
            if folders:
                names = [folder.name for folder in folders]
                app.actions.record(action, count=len(names), folders=names, root=chosen.agents_dir)
        # The app is told whether or not this screen is still open (Escape leaves it while the
        # folders go); the screen, if it is, draws its table again.
        app.call_from_thread(_tell_app, app, result)
        self.post_message(CleanupFinished(result))

    def _show_progress(self) -> None:
        self.query_one("#cleanup-progress", ProgressBar).update(progress=self.deleted_count)

    def _end_delete(self) -> None:
        """The deletion is over (done or failed): the bar shows its last count and goes."""
        self.deleting = False
        if self._progress_timer is not None:
            self._progress_timer.stop()
            self._progress_timer = None
        self._show_progress()
        self.query_one("#cleanup-progress").display = False
        self.refresh_bindings()

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR:
            return
        if event.worker.group == "cleanup":
            self._end_delete()
            self._drop_gone_rows()  # what the watcher saw go meanwhile
        self.notify(f"{event.worker.description} failed: {event.worker.error}", severity="error")

    @on(CleanupFinished)
    def _finished(self, event: CleanupFinished) -> None:
        result = event.result
        self._end_delete()
        self.forget(str(folder) for folder in result.removed + result.trashed)
        self._drop_gone_rows()  # one redraw, with the rows the watcher saw go meanwhile


def _tell_app(app: AgentTUI, result: CleanupResult) -> None:
    """The app's list forgets the removed folders a chunk at a time, each in a callback of its
    own (5,000 at once held the UI 0.1 s), and a notice says what was done."""
    gone = result.removed + result.trashed
    for start in range(0, len(gone), FORGET_CHUNK):
        app.call_later(app.forget_folders, gone[start : start + FORGET_CHUNK])
    app.call_later(app.resume_watching)  # after the rows of the removed folders are gone
    if result.trashed:
        note = f"Moved {_folders(len(result.trashed))} to the trash."
    else:
        note = f"Deleted {_folders(len(gone))}, freed {format_bytes(result.freed_bytes)}."
    problems = result.skipped + result.failures
    for folder, why in problems[:NOTED_PROBLEMS]:
        note += f"\n{folder.name}: {why}"
    if len(problems) > NOTED_PROBLEMS:
        extra = plural(len(problems) - NOTED_PROBLEMS, "more folder")
        note += f"\n... and {extra} left in place (still marked)"
    app.notify(note, severity="warning" if problems else "information")
