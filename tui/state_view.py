"""The State tab: task, memory and a window of the conversation as a readable transcript.

A thread worker reads the agent through :func:`agent_tui.workspace.load_detail` (ours: state
file plus journal; swarms: ``short_memory``) and posts the typed detail; the view renders it.
The view holds a :class:`~agent_tui.workspace.DetailCache`, so an autosave of a long run costs
the journal lines it appended, not a new parse of the state file. Only the last
:data:`WINDOW` messages are read and masked (a long state file is read from its end);
scrolling up past the top (or ``e``) asks for :data:`WINDOW` more. Once the window is on
screen, another worker sweeps what the read left unread for secrets
(:func:`agent_tui.workspace.detail.sweep_secrets`); if that taught the redactor anything, the
transcript is read again and written anew, masked.

The transcript is a :class:`~agent_tui.tui.transcript.Transcript`, a log of messages: an
autosave appends the new messages instead of laying out the whole transcript again (which is
what a refresh cost the UI when it was one text); the small header above it holds what changes
every step.

:meth:`StateView.show_step` shows the transcript and memory as they were after a step instead,
from the journal (:class:`~agent_tui.workspace.StepHistory`), read in another worker; the
agent's autosaves then leave it there, and only the header says where the live agent is. The
live path never reads the history.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import events, on, work
from textual.containers import Vertical
from textual.message import Message
from textual.worker import Worker, WorkerState, get_current_worker

from agent_tui.format.layout import Format
from agent_tui.format.persistence import WorkspaceFileError
from agent_tui.redaction import Redactor
from agent_tui.tui.display import (
    LOADING,
    failure_text,
    render_json,
    render_message,
)
from agent_tui.tui.garbage import settle_garbage
from agent_tui.tui.steady_static import SteadyStatic
from agent_tui.tui.step_bar import NO_STEPS_NOTE, is_awaited, read_history, step_heading
from agent_tui.tui.transcript import Transcript
from agent_tui.units import plural
from agent_tui.workspace import (
    AgentDetail,
    AgentRecord,
    ConversationWindow,
    DetailCache,
    StepHistory,
    WorkspaceLookupError,
    load_detail,
)
from agent_tui.workspace.detail import sweep_secrets

# Messages read and written at first, and added by each `e` or scroll past the top: more than
# a screenful (each is wrapped as it is written, on the UI: 30 took 33-80 ms, 15 took 17-21).
WINDOW = 20


# A log that has grown this many messages past its window is written again from the window.
MAX_HELD = 10 * WINDOW


def header(detail: AgentDetail) -> Text:
    """What changes every step: the name, the count, the loop, the task, memory, problems."""
    window = detail.conversation
    text = Text()
    text.append(f"{detail.name}", style="bold")
    loop = "-" if detail.loop_count is None else detail.loop_count
    text.append(f"   {plural(window.total, 'message')}, loop {loop}", style="dim")
    if detail.task:
        text.append("\ntask  ", style="bold")
        text.append(f"{detail.task}")
    if detail.memory:
        text.append("\nmemory\n", style="bold")
        text.append_text(render_json(detail.memory))
    for problem in detail.problems:
        text.append(f"\n! {problem}", style="bold #ff5f5f")
    return text


def earlier_note(count: int) -> Text:
    return Text(
        f"... {plural(count, 'earlier message')} not shown (e, or scroll up: {WINDOW} more)",
        style="dim italic",
    )


@dataclass
class StepTranscript:
    """The conversation and memory after one step, masked: its last messages
    (``messages[first:total]`` of the step's conversation)."""

    step: int
    messages: list[dict[str, Any]]
    memory: dict[str, Any]
    first: int
    total: int


def step_header(name: str, shown: StepTranscript | None, step: int, live: int | None) -> Text:
    """The header of a step shown: where it is, what it holds, where the live agent is."""
    text = step_heading(step, live)
    text.append(f"\n{name}", style="bold")
    if shown is None:
        return text
    text.append(f"   {plural(shown.total, 'message')} after step {step}", style="dim")
    if shown.memory:
        text.append("\nmemory\n", style="bold")
        text.append_text(render_json(shown.memory))
    return text


class StateView(Vertical):
    """The selected agent's header and its transcript, appended to as the agent autosaves."""

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

    @dataclass
    class StepLoaded(Message):
        """The transcript of ``folder`` as at ``step``, masked, or why it cannot be shown."""

        view: StateView
        worker: Worker
        folder: Path
        step: int
        shown: StepTranscript | None
        history: StepHistory | None
        problem: str = ""

        @property
        def control(self) -> StateView:
            return self.view

    @dataclass
    class Swept(Message):
        """The redactor learned secrets from what the read of ``folder`` left unread: what
        is shown must be masked again."""

        view: StateView
        folder: Path

        @property
        def control(self) -> StateView:
            return self.view

    def __init__(self, redactor: Redactor, **kwargs) -> None:
        super().__init__(**kwargs)
        self.redactor = redactor
        self.head = SteadyStatic(id="state-header")
        self.log_view = TranscriptLog(id="state-body")
        self.record: AgentRecord | None = None
        self.detail: AgentDetail | None = None
        self.window = WINDOW
        self.cache = DetailCache()
        self._loader: Worker | None = None
        self._reread = False
        self._remask = False  # the next write writes the whole window again
        self._last: dict | None = None  # the last message the log holds
        self._held = (0, 0)  # the log holds messages [first, end) of the conversation
        # The step shown instead of the live state (None: live), what of it, and its reader.
        self.step: int | None = None
        self.step_window = WINDOW
        self.step_shown: StepTranscript | None = None
        self._step_loader: Worker | None = None
        self._steps_read: StepHistory | None = None

    def compose(self):
        yield self.head
        yield self.log_view

    @property
    def text(self) -> str:
        """All the view holds (scrolled out of sight too), as plain text."""
        return "\n".join([str(self.head.content), *(p.plain for p in self.log_view.pieces)])

    def show(self, record: AgentRecord | None) -> None:
        """Read ``record``'s transcript in the background; the same agent again keeps the old
        transcript on screen until the new one is read. While a step is shown
        (:meth:`show_step`), the same agent again only moves the header's live step count."""
        previous = self.record.folder if self.record is not None else None
        same_folder = record is not None and record.folder == previous
        if self.step is not None:
            if same_folder:
                assert record is not None
                self.record = record
                self.head.update(
                    step_header(record.name, self.step_shown, self.step, record.loop_count)
                )
                return
            self._leave_step()
        if not same_folder:
            self.head.update("" if record is None else LOADING)
            self._clear()
            self.detail = None
            self.window = WINDOW
        self.record = record
        if record is None:
            self._loader = None
            self.workers.cancel_group(self, "state-load")
            return
        self._read(same_folder)

    def show_step(self, record: AgentRecord, step: int | None) -> None:
        """Show ``record``'s transcript and memory as they were after ``step`` (read from the
        journal, in a worker); ``None``: back to the live state (:meth:`show`)."""
        if step is None:
            if self.step is not None:
                self._leave_step()
                self.record = None  # the live state is read and written anew
            self.show(record)
            return
        if self.record is None or self.record.folder != record.folder:
            self._steps_read = None
        if step != self.step:
            self.step_window = WINDOW
        self.record, self.step, self.step_shown = record, step, None
        # A live read under way is no longer wanted; its result is left unshown.
        self._loader, self._reread = None, False
        self.workers.cancel_group(self, "state-load")
        self._clear()
        self.detail = None
        heading = step_header(record.name, None, step, record.loop_count)
        if record.format == Format.SWARMS:
            self._step_loader = None
            self.head.update(heading.append(f"\n{NO_STEPS_NOTE}", style="italic"))
            return
        self.head.update(heading.append(f"\n{LOADING}"))
        self._step_loader = self._load_step(record, step, self.step_window, self._steps_read)

    def _leave_step(self) -> None:
        self.step = self.step_shown = self._step_loader = None
        self.workers.cancel_group(self, "state-step")

    @work(thread=True, group="state-step", exclusive=True, exit_on_error=False,
          description="read the state as at a step")  # fmt: skip
    def _load_step(
        self, record: AgentRecord, step: int, window: int, since: StepHistory | None
    ) -> None:
        worker = get_current_worker()
        folder, redactor = record.folder, self.redactor
        try:
            history = read_history(record, since, redactor)
            snapshot = history.snapshot(step)
        except (WorkspaceLookupError, WorkspaceFileError) as exc:
            self.post_message(self.StepLoaded(self, worker, folder, step, None, None, str(exc)))
            return
        total = snapshot.end - snapshot.start
        first = max(0, total - window)
        document = history.document(step, skip=first)
        shown = StepTranscript(
            step,
            redactor.redact(document["conversation"]),
            redactor.redact(document["memory"]),
            first,
            total,
        )
        self.post_message(self.StepLoaded(self, worker, folder, step, shown, history))

    @on(StepLoaded)
    def _step_loaded(self, event: StepLoaded) -> None:
        record = self.record
        if not is_awaited(event, self._step_loader, record, self.step):
            return
        assert record is not None
        if event.history is not None:
            self._steps_read = event.history
        self._clear()
        shown = self.step_shown = event.shown
        heading = step_header(record.name, shown, event.step, record.loop_count)
        if shown is None:
            problem = f"\nstep {event.step} cannot be shown: {event.problem}"
            self.head.update(heading.append(problem, style="bold #ff5f5f"))
            return
        self.head.update(heading)
        if shown.first:
            self._append(earlier_note(shown.first))
        for message in shown.messages:
            self._append(render_message(message))
        # The journal and state file were swept whole as they were read: no sweep to follow.
        self.log_view.scroll_end(animate=False)

    def load_earlier(self) -> None:
        """Hold :data:`WINDOW` more of the earlier messages."""
        if self.step is not None:
            shown, record = self.step_shown, self.record
            if shown is not None and shown.first and record is not None:
                self.step_window = shown.total - shown.first + WINDOW
                self._step_loader = self._load_step(
                    record, self.step, self.step_window, self._steps_read
                )
            return
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
        self._loader = self._load(self.record, self.window)

    @work(thread=True, group="state-load", exclusive=True, exit_on_error=False,
          description="read the state file and journal")  # fmt: skip
    def _load(self, record: AgentRecord, window: int) -> None:
        worker = get_current_worker()
        folder, cache, redactor = record.folder, self.cache, self.redactor
        detail = load_detail(
            folder, window, cache=cache, redactor=redactor, record=record, defer_sweep=True
        )
        self.post_message(self.Loaded(self, worker, folder, detail))

    @work(thread=True, group="state-sweep", exit_on_error=False,
          description="learn the secrets of what the read left unread")  # fmt: skip
    def _sweep(self, folder: Path) -> None:
        if sweep_secrets(folder, cache=self.cache, redactor=self.redactor):
            self.post_message(self.Swept(self, folder))

    @on(Loaded)
    def _loaded(self, event: Loaded) -> None:
        record = self.record
        if event.worker is not self._loader or record is None or event.folder != record.folder:
            return  # an older read, finished after a newer one began
        if self._reread:  # the folder changed while it was read: once more
            self._reread = False
            self._loader = self._load(record, self.window)
        self.detail = event.detail
        self.head.update(header(event.detail))
        self._write(event.detail.conversation)
        # Once this is on screen (a sweep of a long history would slow its frame down).
        self.call_after_refresh(self._sweep, event.folder)

    @on(Swept)
    def _swept(self, event: Swept) -> None:
        record = self.record
        if record is not None and event.folder == record.folder and self.step is not None:
            # The step's transcript, masked again.
            self._step_loader = self._load_step(
                record, self.step, self.step_window, self._steps_read
            )
        elif record is not None and event.folder == record.folder:
            self._remask = True
            self._read(True)

    def _write(self, window: ConversationWindow) -> None:
        """Append what is new since the last write; write the window again when the log
        does not end where the window continues (a new conversation, earlier messages asked
        for, a log grown too long)."""
        log = self.log_view
        first, end = self._held
        window_end = window.first + len(window.messages)
        following = log.following
        # The window goes on from the log's last message (the same one, not a new run's).
        appends = (
            not self._remask
            and bool(self.log_view.pieces)
            and first <= window.first < end <= window_end
            and window.messages[end - 1 - window.first] == self._last
            and window_end - first <= MAX_HELD
        )
        if appends:
            for message in window.messages[end - window.first :]:
                self._append(render_message(message))
            self._held = (first, window_end)
            self._last = window.messages[-1]
            if following:
                log.scroll_end(animate=False)
            return
        lines_before, scrolled = log.line_count, log.scroll_y
        earlier = bool(self.log_view.pieces) and window.first < first
        remask, self._remask = self._remask, False
        self._clear()
        if window.earlier:
            self._append(earlier_note(window.earlier))
        for message in window.messages:
            self._append(render_message(message))
        self._held = (window.first, window_end)
        self._last = window.messages[-1] if window.messages else None
        if earlier:  # keep the messages that were at the top where the reader left them
            log.scroll_to(y=max(0, log.line_count - lines_before), animate=False)
        elif remask and not following:  # the same messages, masked: the reader stays put
            log.scroll_to(y=scrolled, animate=False)
        else:
            log.scroll_end(animate=False)
        self.call_after_refresh(settle_garbage)

    def _append(self, text: Text) -> None:
        self.log_view.write(text)

    def _clear(self) -> None:
        self._held = (0, 0)
        self.log_view.clear()

    @on(Worker.StateChanged)
    def _load_failed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker in (self._loader, self._step_loader):
            self._clear()
            self.head.update(failure_text(event.worker))


class TranscriptLog(Transcript):
    """The transcript; scrolling up past its top asks the view for earlier messages."""

    def _on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        if self.scroll_y <= 0 and isinstance(self.parent, StateView):
            self.parent.load_earlier()
