"""The State tab: task, memory and a window of the conversation as a readable transcript.

A thread worker reads the agent through :func:`agent_tui.workspace.load_detail` (ours: state
file plus journal; swarms: ``short_memory``) and posts the typed detail; the view renders it.
The view holds a :class:`~agent_tui.workspace.DetailCache`, so an autosave of a long run costs
the journal lines it appended, not a new parse of the state file. Only the last
:data:`WINDOW` messages are read and masked; scrolling up past the top (or ``e``) asks for
:data:`WINDOW` more.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import events, on, work
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static
from textual.worker import Worker, WorkerState, get_current_worker

from agent_tui.redaction import Redactor
from agent_tui.tui.display import LOADING, failure_text, render_json, render_message
from agent_tui.workspace import AgentDetail, AgentRecord, DetailCache, load_detail

WINDOW = 30


def transcript(detail: AgentDetail) -> Text:
    """Task, memory, then the messages of the detail's window."""
    window = detail.conversation
    text = Text()
    text.append(f"{detail.name}", style="bold")
    loop = "-" if detail.loop_count is None else detail.loop_count
    text.append(f"   {window.total} messages, loop {loop}\n", style="dim")
    if detail.task:
        text.append("task  ", style="bold")
        text.append(f"{detail.task}\n")
    if detail.memory:
        text.append("memory\n", style="bold")
        text.append_text(render_json(detail.memory))
        text.append("\n")
    if window.earlier:
        text.append(
            f"\n... {window.earlier} earlier messages not shown (e, or scroll up: {WINDOW} more)\n",
            style="dim italic",
        )
    for message in window.messages:
        text.append("\n")
        text.append_text(render_message(message))
        text.append("\n")
    for problem in detail.problems:
        text.append(f"\n! {problem}", style="bold #ff5f5f")
    return text


class StateView(VerticalScroll):
    """Scrollable transcript of the selected agent."""

    @dataclass
    class Loaded(Message):
        """The loader's reading of ``folder``: the detail, masked."""

        view: StateView
        worker: Worker
        folder: Path
        detail: AgentDetail

        @property
        def control(self) -> StateView:
            return self.view

    def __init__(self, redactor: Redactor, **kwargs) -> None:
        super().__init__(**kwargs)
        self.redactor = redactor
        self.body = Static(id="state-body")
        self.record: AgentRecord | None = None
        self.detail: AgentDetail | None = None
        self.window = WINDOW
        self.cache = DetailCache()
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
            self.detail = None
            self.window = WINDOW
        self.record = record
        if record is None:
            self._loader = None
            self.workers.cancel_group(self, "state-load")
            return
        self._read(same_folder)

    def load_earlier(self) -> None:
        """Hold :data:`WINDOW` more of the earlier messages."""
        if self.record is None or self.detail is None or not self.detail.conversation.earlier:
            return
        self.window = self.detail.conversation.total - self.detail.conversation.first + WINDOW
        self._read(True)

    def _read(self, same_folder: bool) -> None:
        assert self.record is not None
        if same_folder and self._loader is not None and not self._loader.is_finished:
            self._reread = True  # one read of a folder at a time; this one is followed by another
            return
        self._reread = False
        self._loader = self._load(self.record.folder, self.window)

    @work(thread=True, group="state-load", exclusive=True, exit_on_error=False,
          description="read the state file and journal")  # fmt: skip
    def _load(self, folder: Path, window: int) -> None:
        worker = get_current_worker()
        detail = load_detail(folder, window, cache=self.cache, redactor=self.redactor)
        self.post_message(self.Loaded(self, worker, folder, detail))

    @on(Loaded)
    def _loaded(self, event: Loaded) -> None:
        record = self.record
        if event.worker is not self._loader or record is None or event.folder != record.folder:
            return  # an older read, finished after a newer one began
        if self._reread:  # the folder changed while it was read: once more
            self._reread = False
            self._loader = self._load(record.folder, self.window)
        previous, self.detail = self.detail, event.detail
        if previous is not None and _same_view(previous, event.detail):
            return  # an autosave that changed nothing shown: no new layout of the transcript
        following = previous is None or self.scroll_y >= self.max_scroll_y
        earlier = (
            previous is not None and event.detail.conversation.first < previous.conversation.first
        )
        self.body.update(transcript(event.detail))
        if following and not earlier:
            self.call_after_refresh(self.scroll_end, animate=False)

    def _on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        if self.scroll_y <= 0:
            self.load_earlier()

    @on(Worker.StateChanged)
    def _load_failed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker is self._loader:
            self.body.update(failure_text(event.worker))


def _same_view(old: AgentDetail, new: AgentDetail) -> bool:
    a, b = old.conversation, new.conversation
    return (
        (a.total, a.first, old.loop_count, old.task, old.name)
        == (b.total, b.first, new.loop_count, new.task, new.name)
        and old.memory == new.memory
        and old.problems == new.problems
    )
