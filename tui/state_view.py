"""The State tab: task, memory and the conversation as a readable transcript.

Read through :mod:`agent_tui.workspace` (ours: state file plus journal; swarms: ``short_memory``),
then masked with :class:`agent_tui.redaction.Redactor`, because foreign files (swarms) keep API keys
in plain text. Both happen in a thread worker; the view renders what it posts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static
from textual.worker import Worker, WorkerState, get_current_worker

from agent_tui.format.persistence import WorkspaceFileError
from agent_tui.redaction import Redactor
from agent_tui.tui.display import LOADING, failure_text, render_json, render_message
from agent_tui.workspace import AgentRecord, load_conversation, load_state

MAX_MESSAGES = 300


def transcript(
    record: AgentRecord, state: dict[str, Any] | None, messages: list[dict[str, Any]]
) -> Text:
    """Task, memory, then the last :data:`MAX_MESSAGES` messages."""
    text = Text()
    text.append(f"{record.name}", style="bold")
    text.append(f"   {len(messages)} messages, loop {record.loop_count}\n", style="dim")
    if state:
        if state.get("task"):
            text.append("task  ", style="bold")
            text.append(f"{state['task']}\n")
        memory = state.get("memory")
        if memory:
            text.append("memory\n", style="bold")
            text.append_text(render_json(memory))
            text.append("\n")
    hidden = max(0, len(messages) - MAX_MESSAGES)
    if hidden:
        text.append(f"\n... {hidden} earlier messages not shown\n", style="dim italic")
    for message in messages[hidden:]:
        text.append("\n")
        text.append_text(render_message(message))
        text.append("\n")
    return text


class StateView(VerticalScroll):
    """Scrollable transcript of the selected agent."""

    @dataclass
    class Loaded(Message):
        """The loader's reading of ``folder``: state and conversation, redacted, and what could
        not be read."""

        view: StateView
        worker: Worker
        folder: Path
        state: dict[str, Any] | None
        messages: list[dict[str, Any]]
        problems: list[str]

        @property
        def control(self) -> StateView:
            return self.view

    def __init__(self, redactor: Redactor, **kwargs) -> None:
        super().__init__(**kwargs)
        self.redactor = redactor
        self.body = Static(id="state-body")
        self.record: AgentRecord | None = None
        self._loader: Worker | None = None
        self._reread = False

    def compose(self):
        yield self.body

    def show(self, record: AgentRecord | None) -> None:
        """Read ``record``'s transcript in the background; the same agent again keeps the old
        transcript on screen until the new one is read."""
        previous = self.record.folder if self.record is not None else None
        same_folder = record is not None and record.folder == previous
        if not same_folder:
            self.body.update("" if record is None else LOADING)
        self.record = record
        if record is None:
            self._loader = None
            self.workers.cancel_group(self, "state-load")
            return
        if same_folder and self._loader is not None and not self._loader.is_finished:
            self._reread = True  # one read of a folder at a time; this one is followed by another
            return
        self._reread = False
        self._loader = self._load(record.folder)

    @work(thread=True, group="state-load", exclusive=True, exit_on_error=False,
          description="read the state file and journal")  # fmt: skip
    def _load(self, folder: Path) -> None:
        worker = get_current_worker()
        problems: list[str] = []
        try:
            state = load_state(folder)
        except WorkspaceFileError as exc:
            state, problems = None, [f"state file: {exc.reason}"]
        try:
            messages = load_conversation(folder)
        except WorkspaceFileError as exc:
            messages, problems = [], [*problems, f"conversation: {exc.reason}"]
        state, messages = self.redactor.redact(state), self.redactor.redact(messages)
        self.post_message(self.Loaded(self, worker, folder, state, messages, problems))

    @on(Loaded)
    def _loaded(self, event: Loaded) -> None:
        record = self.record
        if event.worker is not self._loader or record is None or event.folder != record.folder:
            return  # an older read, finished after a newer one began
        if self._reread:  # the folder changed while it was read: once more
            self._reread = False
            self._loader = self._load(record.folder)
        text = transcript(record, event.state, event.messages)
        for problem in event.problems:
            text.append(f"\n! {problem}", style="bold #ff5f5f")
        self.body.update(text)

    @on(Worker.StateChanged)
    def _load_failed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker is self._loader:
            self.body.update(failure_text(event.worker))
