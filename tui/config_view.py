"""The Config tab: the selected agent's ``config.json``, live.

Each rewrite re-renders the document in place (the scroll position stays) and the lines of
the fields that changed, found with :func:`agent_tui.diff.diff`, are highlighted for a moment.
A thread worker reads it through :func:`agent_tui.workspace.load_detail` (settings only: no
conversation) and posts the typed detail, masked; the header and problems come from the
record, which is already in memory (a FIFO or a slow disk must not stop the UI). A swarms
config holds the whole conversation: a long one is read from its end and shown as its last
messages; once that is on screen another worker sweeps the rest for secrets and, if that
taught the redactor anything, the config is read again, masked.

:meth:`ConfigView.show_step` shows the config as it was at a step instead (the journal's loop
count and time of that step in the settings of ``config.json``), read in another worker; the
agent's autosaves then leave it there, and only the header says where the live agent is.
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
from agent_tui.format.layout import Format, Status
from agent_tui.format.persistence import WorkspaceFileError
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
from agent_tui.tui.step_bar import NO_STEPS_NOTE, is_awaited, read_history, step_heading
from agent_tui.workspace import (
    AgentDetail,
    AgentRecord,
    DetailCache,
    StepHistory,
    WorkspaceLookupError,
    load_detail,
)
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
    class StepLoaded(Message):
        """The config of ``folder`` as at ``step`` (masked), or why it cannot be shown."""

        view: ConfigView
        worker: Worker
        folder: Path
        step: int
        document: dict[str, Any] | None
        history: StepHistory | None
        problem: str = ""

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
        # The step shown instead of the live config (None: live), and its reader.
        self.step: int | None = None
        self._step_loader: Worker | None = None
        self._steps_read: StepHistory | None = None

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
        highlighted. While a step is shown (:meth:`show_step`), the same agent again only
        moves the header's live step count."""
        previous = self.record.folder if self.record is not None else None
        same_folder = record is not None and record.folder == previous
        if self.step is not None:
            if same_folder:
                self.record = record
                self.tick()
                return
            self._leave_step()
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

    def show_step(self, record: AgentRecord, step: int | None) -> None:
        """Show ``record``'s config as it was at ``step`` (read from the journal, in a worker);
        ``None``: back to the live config (:meth:`show`)."""
        if step is None:
            if self.step is not None:
                self._leave_step()
            self.show(record)
            return
        if self.record is None or self.record.folder != record.folder:
            self._steps_read = None
        self.record, self.step = record, step
        # A live read under way is no longer wanted; its result is left unshown.
        self._loader, self._reread = None, False
        self.workers.cancel_group(self, "config-load")
        self.query_one("#config-problems", Static).display = False
        body = self.query_one("#config-body", Static)
        self.tick()
        if record.format == Format.SWARMS:
            self._step_loader = None
            self.document = None
            body.update(unreadable(NO_STEPS_NOTE))
            return
        body.update(LOADING)
        self._step_loader = self._load_step(record, step, self._steps_read)

    def _leave_step(self) -> None:
        self.step = self._step_loader = None
        self.workers.cancel_group(self, "config-step")
        # The live config is read anew, not compared with the step's.
        self.document = self.document_folder = None

    @work(thread=True, group="config-step", exclusive=True, exit_on_error=False,
          description="read the config as at a step")  # fmt: skip
    def _load_step(self, record: AgentRecord, step: int, since: StepHistory | None) -> None:
        worker = get_current_worker()
        folder = record.folder
        try:
            history = read_history(record, since, self.redactor)
            snapshot = history.snapshot(step)
        except (WorkspaceLookupError, WorkspaceFileError) as exc:
            self.post_message(self.StepLoaded(self, worker, folder, step, None, None, str(exc)))
            return
        detail = load_detail(
            folder, 0, cache=self.cache, redactor=self.redactor, record=record, defer_sweep=True
        )
        settings = detail.settings
        if settings is None:
            problem = f"config.json cannot be shown: {detail.settings_problem}"
            self.post_message(self.StepLoaded(self, worker, folder, step, None, history, problem))
            return
        # The settings are those saved now; the journal knows the step's count and time.
        meta = settings.get("_autosave_metadata")
        meta = {**meta} if isinstance(meta, dict) else {}
        meta.update(loop_count=snapshot.loop_count, timestamp=snapshot.ts)
        document = {**settings, "_autosave_metadata": meta}
        self.post_message(self.StepLoaded(self, worker, folder, step, document, history))

    @on(StepLoaded)
    def _step_loaded(self, event: StepLoaded) -> None:
        record = self.record
        if not is_awaited(event, self._step_loader, record, self.step):
            return
        assert record is not None
        if event.history is not None:
            self._steps_read = event.history
        body = self.query_one("#config-body", Static)
        if event.document is None:
            self.document = None
            body.update(unreadable(f"step {event.step} cannot be shown: {event.problem}"))
            return
        self.document = event.document
        body.update(render_json(event.document))
        self.call_after_refresh(self._sweep, event.folder)

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
        record = self.record
        if record is None or event.folder != record.folder:
            return
        if self.step is not None:  # the step's config, masked again
            self._step_loader = self._load_step(record, self.step, self._steps_read)
        else:
            self.show(record)

    @on(Worker.StateChanged)
    def _load_failed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker in (self._loader, self._step_loader):
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
        if self.step is not None:
            text = step_heading(self.step, record.loop_count)
            text.append(f"\n{record.folder.name}", style="dim")
            text.append(
                f"\nthe settings saved now; the loop count and time of step {self.step}",
                style="dim italic",
            )
            header.update(text)
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
