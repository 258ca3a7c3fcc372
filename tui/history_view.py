"""The History tab: every run of the selected agent, from its journal's run ids.

A thread worker reads the runs through :func:`agent_tui.workspace.runs.read_runs`, masks
them (the redactor first learns the secrets of the journal and the config, as the CLI's
``agent-tui history`` does) and posts the rows, rendered; the view puts them in a table, oldest
run first, the newest last. The app calls :meth:`HistoryView.show` again at every autosave of
the agent shown: the worker looks at the journal first (one ``lstat``) and reads it only when
it changed, and the rows are updated in place, so the cursor stays where it was. Enter on a
run posts :class:`HistoryView.StepPicked` with the run's last step (the app scrubs to it).
A swarms agent has one run, from its ``config.json``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import DataTable
from textual.worker import Worker, WorkerState, get_current_worker

from agent_tui.format.layout import CONFIG_NAME, JOURNAL_NAME, Format, Status
from agent_tui.format.persistence import WorkspaceFileError
from agent_tui.redaction import Redactor
from agent_tui.tui.agent_table import cost_text
from agent_tui.tui.display import LOADING, Clock, failure_text, status_badge, utc_now
from agent_tui.tui.steady_static import SteadyStatic
from agent_tui.tui.step_bar import NO_STEPS_NOTE
from agent_tui.units import clip, format_seconds, plural
from agent_tui.workspace import AgentRecord, load_config
from agent_tui.workspace.detail import sweep_file
from agent_tui.workspace.runs import read_runs
from agent_tui.workspace.status import parse_timestamp

# What tells runs apart first (status, steps, spend), the task and times after: in a narrow
# tab the table scrolls sideways, and the status must not be what scrolls out.
COLUMNS = ("run", "status", "steps", "tokens", "cost", "task", "started", "ended")
TASK_CHARS = 40
# What a folder's runs are read again for: its journal (inode, size, mtime), its config
# (a swarms run), its status and lock holder (a run seen ending).
Key = tuple[object, ...]


def when_text(moment: datetime | None) -> str:
    """A journal time as written (its own offset): ``2026-12-02 18:21:40``."""
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


def run_cells(run: dict[str, Any], now: datetime) -> tuple[Text, ...]:
    """The cells of one run, from its masked document (:meth:`Run.to_dict`)."""
    started, ended = parse_timestamp(run["started"]), parse_timestamp(run["ended"])
    if started is not None and ended is not None and ended >= started:
        end = f"{when_text(ended)[11:]} ({format_seconds((ended - started).total_seconds())})"
    elif run["status"] == Status.RUNNING and started is not None:
        end = f"for {format_seconds(max(0.0, (now - started).total_seconds()))}"
    else:
        end = when_text(ended)
    first, last = run["first_step"], run["last_step"]
    steps = "-" if first is None else (str(first) if first == last else f"{first}-{last}")
    total = run["tokens"]["total"]
    return (
        Text((run["run_id"] or "-")[:8], style="dim"),
        status_badge(str(run["status"])),
        Text(steps, justify="right"),
        Text("-" if total is None else f"{total:,}", justify="right"),
        Text(cost_text(run["cost"]) or "-", justify="right"),
        Text(clip(run["task"] or "-", TASK_CHARS)),
        Text(when_text(started)),
        Text(end),
    )


def journal_key(record: AgentRecord) -> Key:
    """What says the runs of ``record`` may have changed (one ``lstat``; on a worker)."""
    try:
        info = os.lstat(record.folder / JOURNAL_NAME)
        journal: tuple[int, int, int] | None = (info.st_ino, info.st_size, info.st_mtime_ns)
    except OSError:
        journal = None
    return (journal, record.config_mtime_ns, record.status, record.holder)


@dataclass
class RunRows:
    """The runs of one folder as the table shows them, masked."""

    name: str
    swarms: bool
    cells: list[tuple[Text, ...]] = field(default_factory=list)
    last_steps: list[int | None] = field(default_factory=list)
    run_ids: list[str | None] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    steps: int = 0
    tokens: int = 0
    forked_from: str | None = None  # "<folder> at step N": the agent this one was forked from


def read_rows(record: AgentRecord, redactor: Redactor, now: datetime) -> RunRows:
    """The runs of ``record``'s folder, masked and rendered (on a worker)."""
    folder = record.folder
    # A task can quote a key, and a swarms config keeps its keys in plain text.
    sweep_file(folder / JOURNAL_NAME, redactor, lines=True)
    sweep_file(folder / CONFIG_NAME, redactor)
    found = read_runs(folder, record=record)
    rows = RunRows(redactor.redact_text(found.name), record.format == Format.SWARMS)
    for run in found.runs:
        masked = redactor.redact(run.to_dict())
        rows.cells.append(run_cells(masked, now))
        rows.last_steps.append(run.last_step)
        rows.run_ids.append(run.run_id)
        rows.steps += run.steps
        rows.tokens += run.total_tokens or 0
    rows.problems = [redactor.redact_text(problem) for problem in found.problems]
    rows.forked_from = lineage(folder, redactor)
    return rows


def lineage(folder: Path, redactor: Redactor) -> str | None:
    """Where a fork came from (its config's ``forked_from``), as a line; None for others."""
    try:
        meta = load_config(folder).get("_autosave_metadata")
    except WorkspaceFileError:
        return None
    origin = meta.get("forked_from") if isinstance(meta, dict) else None
    if not isinstance(origin, dict):
        return None
    source, step = origin.get("folder"), origin.get("step")
    if not isinstance(source, str) or not isinstance(step, int) or isinstance(step, bool):
        return None
    return redactor.redact_text(f"{Path(source).name} at step {step}").replace("\n", " ")


def header_text(rows: RunRows) -> Text:
    text = Text()
    text.append(rows.name, style="bold")
    runs = plural(len(rows.cells), "run")
    text.append(f"   {runs}, {plural(rows.steps, 'step')}, {rows.tokens:,} tokens", style="dim")
    if rows.forked_from:
        text.append(f"   forked from {rows.forked_from}", style="#ffaf5f")
    if rows.swarms:
        text.append(f"\n{NO_STEPS_NOTE}: one run, from its config.json", style="dim italic")
    elif not rows.cells:
        text.append("\nno runs recorded: this agent has no journal", style="italic")
    else:
        text.append("\nenter: the agent as it was at the end of the run", style="dim")
    for problem in rows.problems:
        if rows.cells:  # "no journal" is said above
            text.append(f"\n! {problem}", style="bold #ff5f5f")
    return text


class HistoryView(Vertical):
    """The selected agent's runs: one row each, oldest first."""

    DEFAULT_CSS = """
    HistoryView > #history-header {
        height: auto;
        padding: 0 1;
    }
    HistoryView > #history-table {
        height: 1fr;
    }
    """

    @dataclass
    class Loaded(Message):
        """The runs of ``folder``, read while its journal was as ``key`` says."""

        view: HistoryView
        worker: Worker
        folder: Path
        key: Key
        rows: RunRows

        @property
        def control(self) -> HistoryView:
            return self.view

    @dataclass
    class StepPicked(Message):
        """Enter on a run: show the agent in ``folder`` as it was at ``step``."""

        view: HistoryView
        folder: Path
        step: int

        @property
        def control(self) -> HistoryView:
            return self.view

    def __init__(self, redactor: Redactor, clock: Clock = utc_now, **kwargs) -> None:
        super().__init__(**kwargs)
        self.redactor = redactor
        self.clock = clock
        self.record: AgentRecord | None = None
        self.rows: RunRows | None = None
        self.head = SteadyStatic("Select an agent on the left.", id="history-header")
        self.table: DataTable[Text] = DataTable(
            id="history-table", cursor_type="row", zebra_stripes=True
        )
        self._shown: tuple[Path, Key] | None = None  # the folder and key of the rows shown
        self._loader: Worker | None = None
        self._reread = False

    def compose(self) -> ComposeResult:
        yield self.head
        yield self.table

    def on_mount(self) -> None:
        self.table.add_columns(*COLUMNS)

    @property
    def text(self) -> str:
        """What the view shows, as plain text: the header, then a line per run."""
        lines = [str(self.head.content)]
        for row in range(self.table.row_count):
            lines.append("  ".join(cell.plain for cell in self.table.get_row_at(row)))
        return "\n".join(lines)

    def show(self, record: AgentRecord | None) -> None:
        """Show the runs of ``record``; the same agent again is read again only when its
        journal changed, and the rows shown stay until the new ones are read."""
        same_folder = (
            record is not None and self.record is not None and record.folder == self.record.folder
        )
        self.record = record
        if record is None:
            self._loader = self._shown = self.rows = None
            self.workers.cancel_group(self, "history-load")
            self.table.clear()
            self.head.update("Select an agent on the left.")
            return
        if not same_folder:
            self._shown = self.rows = None
            self.table.clear()
            self.head.update(LOADING)
        elif self._loader is not None and not self._loader.is_finished:
            self._reread = True  # one read of a folder at a time; this one is followed by another
            return
        self._reread = False
        self._loader = self._load(record)

    @work(thread=True, group="history-load", exclusive=True, exit_on_error=False,
          description="read the runs from the journal")  # fmt: skip
    def _load(self, record: AgentRecord) -> None:
        worker = get_current_worker()
        key = journal_key(record)
        if self._shown == (record.folder, key):
            return  # nothing changed since the rows shown were read
        rows = read_rows(record, self.redactor, self.clock())
        self.post_message(self.Loaded(self, worker, record.folder, key, rows))

    @on(Loaded)
    def _loaded(self, event: Loaded) -> None:
        record = self.record
        if event.worker is not self._loader or record is None or event.folder != record.folder:
            return  # an older read, finished after a newer one began
        if self._reread:
            self._reread = False
            self._loader = self._load(record)
        first = self.rows is None
        self._fill(event.rows)
        self.rows, self._shown = event.rows, (event.folder, event.key)
        self.head.update(header_text(event.rows))
        if first and event.rows.cells:
            self.table.move_cursor(row=len(event.rows.cells) - 1, animate=False)

    def _fill(self, rows: RunRows) -> None:
        """Put ``rows`` in the table: cells changed in place and new runs added when the runs
        shown are still the first ones (a journal appended to), else the table anew, the
        cursor on the row it was on."""
        table, old = self.table, self.rows
        keeps = (
            old is not None
            and table.row_count == len(old.cells)
            and rows.run_ids[: len(old.run_ids)] == old.run_ids
        )
        if not keeps:
            row = table.cursor_row
            table.clear()
            for n, cells in enumerate(rows.cells):
                table.add_row(*cells, key=str(n))
            if rows.cells:
                table.move_cursor(row=min(row, len(rows.cells) - 1), animate=False)
            return
        assert old is not None
        for n, cells in enumerate(rows.cells):
            if n >= len(old.cells):
                table.add_row(*cells, key=str(n))
                continue
            for column, (before, after) in enumerate(zip(old.cells[n], cells, strict=True)):
                if before != after:
                    table.update_cell_at(Coordinate(n, column), after)

    @on(DataTable.RowSelected, "#history-table")
    def _picked(self, event: DataTable.RowSelected) -> None:
        event.stop()
        rows, record = self.rows, self.record
        if rows is None or record is None or rows.swarms:
            return
        step = rows.last_steps[event.cursor_row] if event.cursor_row < len(rows.cells) else None
        if step is not None:
            self.post_message(self.StepPicked(self, record.folder, step))

    @on(Worker.StateChanged)
    def _load_failed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker is self._loader:
            self.head.update(failure_text(event.worker))
