"""The Config tab: the selected agent's ``config.json``, live.

Each rewrite re-renders the document in place (the scroll position stays) and the lines of
the fields that changed, found with :func:`agent_tui.diff.diff`, are highlighted for a moment.
A thread worker reads it through :func:`agent_tui.workspace.load_detail` (settings only: no
conversation) and posts the typed detail, masked; the header and problems come from the
record, which is already in memory (a FIFO or a slow disk must not stop the UI). A swarms
config holds the whole conversation: a long one is read from its end and shown as its last
messages; once that is on screen another worker sweeps the rest for secrets and, if that
taught the redactor anything, the config is read again, masked.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Static
from textual.worker import Worker, WorkerState, get_current_worker

from agent_tui.diff import diff
from agent_tui.format.layout import Status
from agent_tui.redaction import Redactor
from agent_tui.tui.display import (
    LOADING,
    Clock,
    ago_text,
    failure_text,
    loops_text,
    render_json,
    status_badge,
    unreadable,
    utc_now,
)
from agent_tui.tui.steady_static import SteadyStatic
from agent_tui.workspace import AgentDetail, AgentRecord, DetailCache, load_detail
from agent_tui.workspace.detail import sweep_secrets

HIGHLIGHT_SECONDS = 1.5


def problems_text(record: AgentRecord, redactor: Redactor, *, error: bool = True) -> Text:
    """The record's problems, one a line, or nothing; masked (a swarms ``error.txt`` may hold
    the agent's key: ``redactor`` must have learned the agent's config first, so the error is
    left out while the config is still being read)."""
    text = Text()
    for n, problem in enumerate(record.problems):
        if n:
            text.append("\n")
        text.append("! ", style="bold #ff5f5f")
        text.append(redactor.redact_text(problem))
    if record.error and error:
        # An interrupted run says why it stopped: a reason, not a failure.
        label, style = (
            ("stopped: ", "bold #ffd75f")
            if record.status == Status.INTERRUPTED
            else ("error: ", "bold #ff5f5f")
        )
        text.append(("\n" if record.problems else "") + label, style=style)
        text.append(redactor.redact_text(record.error))
    return text


def show_problems(box: Static, record: AgentRecord, text: Text) -> None:
    """The problems box: red for problems and errors, amber when it only says why a run
    stopped."""
    box.update(text)
    box.set_class(record.status == Status.INTERRUPTED and not record.problems, "-stopped")


class ConfigView(Vertical):
    """Header line (loop count, status, last autosave), problems, the pretty JSON."""

    @dataclass
    class Loaded(Message):
        """The loader's reading of ``folder``: its settings, masked, or why they cannot be
        read."""

        view: ConfigView
        worker: Worker
        folder: Path
        detail: AgentDetail

        @property
        def control(self) -> ConfigView:
            return self.view

    @dataclass
    class Swept(Message):
        """The redactor learned secrets from what the read of ``folder`` left unread: the
        document shown must be masked again."""

        view: ConfigView
        folder: Path

        @property
        def control(self) -> ConfigView:
            return self.view

    def __init__(self, redactor: Redactor, clock: Clock = utc_now, **kwargs) -> None:
        super().__init__(**kwargs)
        self.redactor = redactor
        self.clock = clock
        self.record: AgentRecord | None = None
        self.document: dict[str, Any] | None = None
        # The folder ``document`` was read from: a new reading of it is diffed against it.
        self.document_folder: Path | None = None
        self.changed: frozenset[str] = frozenset()
        self._fade: Timer | None = None
        self.cache = DetailCache()
        self._loader: Worker | None = None
        self._reread = False

    def compose(self) -> ComposeResult:
        yield SteadyStatic(
            "Select an agent on the left.", id="config-header", classes="view-header"
        )
        yield SteadyStatic(id="config-problems", classes="problems")
        with VerticalScroll(id="config-scroll"):
            yield SteadyStatic(id="config-body")

    def show(self, record: AgentRecord | None) -> None:
        """Show ``record`` now (header, problems) and its config once read; when it is the same
        agent again, the old document stays until the new one arrives, then what changed is
        highlighted."""
        previous = self.record.folder if self.record is not None else None
        same_folder = record is not None and record.folder == previous
        self.record = record
        problems = self.query_one("#config-problems", Static)
        if record is None:
            self.document = self.document_folder = self._loader = None
            self.workers.cancel_group(self, "config-load")
            self.query_one("#config-body", Static).update("")
            problems.update("")
            self.tick()
            return
        if record.folder != self.document_folder:
            self.document = self.document_folder = None
            self.query_one("#config-body", Static).update(LOADING)
        learned = record.folder == self.document_folder
        show_problems(problems, record, problems_text(record, self.redactor, error=learned))
        problems.display = bool(record.problems or (record.error and learned))
        self.tick()
        if self._loader is not None and not self._loader.is_finished and same_folder:
            # One read of a folder at a time, so a blocked one cannot pile up threads: the
            # read under way is followed by one more.
            self._reread = True
            return
        self._reread = False
        self._loader = self._load(record)

    @work(thread=True, group="config-load", exclusive=True, exit_on_error=False,
          description="read config.json")  # fmt: skip
    def _load(self, record: AgentRecord) -> None:
        worker = get_current_worker()
        folder, cache, redactor = record.folder, self.cache, self.redactor
        detail = load_detail(
            folder, 0, cache=cache, redactor=redactor, record=record, defer_sweep=True
        )
        self.post_message(self.Loaded(self, worker, folder, detail))

    @work(thread=True, group="config-sweep", exit_on_error=False,
          description="learn the secrets of what the read left unread")  # fmt: skip
    def _sweep(self, folder: Path) -> None:
        if sweep_secrets(folder, cache=self.cache, redactor=self.redactor):
            self.post_message(self.Swept(self, folder))

    @on(Loaded)
    def _loaded(self, event: Loaded) -> None:
        # A cancelled read still finishes in its thread: only the newest read of the agent
        # selected now is shown.
        record = self.record
        if event.worker is not self._loader or record is None or event.folder != record.folder:
            return
        if self._reread:  # the folder changed while it was read: once more
            self._reread = False
            self._loader = self._load(record)
        body = self.query_one("#config-body", Static)
        document = event.detail.settings
        if document is None:
            self.document = self.document_folder = None
            problem = event.detail.settings_problem
            body.update(unreadable(f"config.json cannot be shown: {problem}"))
            return
        if event.folder == self.document_folder and self.document is not None:
            self.changed = frozenset(c.path for c in diff(self.document, document))
        else:
            self.changed = frozenset()
            self.query_one("#config-scroll").scroll_home(animate=False)
        self.document, self.document_folder = document, event.folder
        body.update(render_json(document, self.changed))
        # Once this is on screen (a sweep of a long config would slow its frame down).
        self.call_after_refresh(self._sweep, event.folder)
        if record.error:  # the redactor knows this agent's secrets now
            problems = self.query_one("#config-problems", Static)
            show_problems(problems, record, problems_text(record, self.redactor))
            problems.display = True
        if self.changed:
            self._start_fade()

    @on(Swept)
    def _swept(self, event: Swept) -> None:
        if self.record is not None and event.folder == self.record.folder:
            self.show(self.record)

    @on(Worker.StateChanged)
    def _load_failed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker is self._loader:
            self.query_one("#config-body", Static).update(failure_text(event.worker))

    def tick(self) -> None:
        """Refresh the header (the "3 s ago" moves on with the clock)."""
        found = self.query("#config-header")
        if not found:  # the app is closing: the clock ticked after the header was removed
            return
        header = found.first(Static)
        record = self.record
        if record is None:
            header.update("Select an agent on the left.")
            return
        text = Text()
        text.append_text(status_badge(record.status))
        text.append(f" loop {loops_text(record)}", style="bold")
        text.append(f"  |  saved {ago_text(record.last_autosave, self.clock())}")
        if record.model:
            text.append(f"  |  {record.model}")
        text.append(f"\n{record.folder.name}", style="dim")
        header.update(text)

    def _start_fade(self) -> None:
        if self._fade is not None:
            self._fade.stop()
        self._fade = self.set_timer(HIGHLIGHT_SECONDS, self._clear_highlight)

    def _clear_highlight(self) -> None:
        self._fade = None
        self.changed = frozenset()
        if self.document is not None:
            self.query_one("#config-body", Static).update(render_json(self.document))
