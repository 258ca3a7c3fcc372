"""The Diff tab: what the last step changed, or any two steps / two agents from a picker.

Documents come from :mod:`agent_tui.workspace` (per-step history from the journal) and
:mod:`agent_tui.compare` (an agent's document, compared as ``agent-tui diff A B`` does). Two thread
workers do the reading: one the selected agent's step history, one the pair being compared
(its documents, their redaction, the diff, the text shown); the view renders what they post.
Nothing is read until the tab is shown (the app feeds only the tab on screen).

A long history stays cheap on the UI: the pickers offer the last :data:`MAX_STEP_CHOICES`
steps (and the first), and a diff shows its first :data:`MAX_SHOWN_CHANGES` changes. Two
steps of one conversation share every message up to the earlier one: they are compared past
those (the later step's new messages, its memory and loop count), with the paths the whole
documents would give.

:meth:`DiffView.show_step` shows what one step changed (the step before it -> the step), read
in another worker; the agent's autosaves then leave it there, and only the header says where
the live agent is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Label, Select, Static
from textual.worker import Worker, WorkerState, get_current_worker

from agent_tui.compare import agent_document, compare
from agent_tui.diff import Change, key_path, render_text, summary
from agent_tui.format.layout import Format
from agent_tui.format.persistence import WorkspaceFileError
from agent_tui.redaction import Redactor
from agent_tui.tui.display import LOADING, failure_text
from agent_tui.tui.step_bar import NO_STEPS_NOTE, is_awaited, read_history, step_heading
from agent_tui.workspace import (
    AgentRecord,
    StepHistory,
    WorkspaceLookupError,
)

MAX_AGENT_CHOICES = 100
MAX_STEP_CHOICES = 100
MAX_SHOWN_CHANGES = 500
LINE_STYLES = {"+": "#87d787", "-": "#ff5f5f", "~": "#ffd75f"}
_MESSAGE_PATH = re.compile(r"^conversation\[(\d+)\]")


def pair_document(value: str, history: StepHistory | None, *, with_config: bool) -> dict[str, Any]:
    """The document a picker value names: ``step:N`` of ``history``, or ``agent:<folder>``
    (:func:`agent_tui.compare.agent_document`, the one ``agent-tui diff A B`` compares)."""
    kind, _, ref = value.partition(":")
    if kind == "step":
        if history is None:
            raise WorkspaceLookupError(f"step {ref}: no per-step history is loaded")
        return history.document(int(ref))
    return agent_document(Path(ref), with_config=with_config)


def pair_changes(
    old: str, new: str, history: StepHistory | None, redactor: Redactor
) -> list[Change]:
    """The changes between two picker values, as the CLI finds them (noise left out, as
    ``--ignore-noise``); two agents are compared on their config too, as a step has none."""
    if history is not None and old.startswith("step:") and new.startswith("step:"):
        return step_changes(history, int(old[5:]), int(new[5:]), redactor)
    agents = old.startswith("agent:") and new.startswith("agent:")
    before = pair_document(old, history, with_config=agents)
    after = pair_document(new, history, with_config=agents)
    return compare(before, after, redactor=redactor, ignore_noise=True)


def step_changes(history: StepHistory, old: int, new: int, redactor: Redactor) -> list[Change]:
    """``compare`` of the documents of steps ``old`` and ``new``. In one conversation the
    earlier step's messages are the later one's first messages: both documents are compared
    without them, and the paths given back are those of the whole documents (the redactor
    has learned the journal and the state file they come from: see
    :meth:`DiffView._load_history`)."""
    before, after = history.snapshot(old), history.snapshot(new)
    shared = min(before.end, after.end) - before.start if before.start == after.start else 0
    documents = [history.document(step, skip=shared) for step in (old, new)]
    changes = compare(*documents, redactor=redactor, ignore_noise=True)
    if shared:
        for change in changes:
            if found := _MESSAGE_PATH.match(change.path):
                index = int(found.group(1)) + shared
                change.path = key_path("conversation", index) + change.path[found.end() :]
    return changes


def pair_label(value: str) -> str:
    kind, _, ref = value.partition(":")
    return f"step {ref}" if kind == "step" else Path(ref).name


def render_changes(changes: list[Change]) -> Text:
    """The changes as the tab shows them: the first :data:`MAX_SHOWN_CHANGES` of them."""
    text = Text()
    for line in render_text(changes[:MAX_SHOWN_CHANGES], width=400).splitlines():
        text.append(line + "\n", style=LINE_STYLES.get(line[:1], "bold"))
    if len(changes) > MAX_SHOWN_CHANGES:
        more = len(changes) - MAX_SHOWN_CHANGES
        text.append(f"... {more:,} more changes (agent-tui diff shows them all)\n", style="dim")
    return text


def step_choices(steps: list[int]) -> list[tuple[str, str]]:
    """Picker choices for ``steps`` (ascending): the last :data:`MAX_STEP_CHOICES`, newest
    first, and the first step when it is not among them."""
    offered = list(reversed(steps[-MAX_STEP_CHOICES:]))
    if len(steps) > MAX_STEP_CHOICES:
        offered.append(steps[0])
    return [(f"step {n}", f"step:{n}") for n in offered]


class DiffView(Vertical):
    """Two pickers (from, to) over the selected agent's steps and the other agents."""

    @dataclass
    class HistoryLoaded(Message):
        """The selected agent's step history, or why there is none."""

        view: DiffView
        worker: Worker
        folder: Path
        history: StepHistory | None
        problem: str = ""

        @property
        def control(self) -> DiffView:
            return self.view

    @dataclass
    class Compared(Message):
        """The changes from ``old`` to ``new`` (picker values), or why they cannot be compared."""

        view: DiffView
        worker: Worker
        old: str
        new: str
        changes: list[Change] | None
        problem: str = ""
        text: Text = field(default_factory=Text)  # rendered in the worker: a diff can be long

        @property
        def control(self) -> DiffView:
            return self.view

    @dataclass
    class StepCompared(Message):
        """What ``step`` of ``folder`` changed (from ``previous``), or why it cannot be
        compared."""

        view: DiffView
        worker: Worker
        folder: Path
        step: int
        previous: int | None
        changes: list[Change] | None
        history: StepHistory | None
        problem: str = ""
        text: Text = field(default_factory=Text)

        @property
        def control(self) -> DiffView:
            return self.view

    def __init__(self, redactor: Redactor, **kwargs) -> None:
        super().__init__(**kwargs)
        self.redactor = redactor
        self.record: AgentRecord | None = None
        self.history: StepHistory | None = None
        self.pinned = False
        self.others: list[AgentRecord] = []
        self._history_loader: Worker | None = None
        self._comparer: Worker | None = None
        self._reread = False
        # The step whose changes are shown instead of the live pair (None: live), its reader,
        # and what its header says under the heading.
        self.step: int | None = None
        self._step_loader: Worker | None = None
        self._step_summary = ""

    def compose(self) -> ComposeResult:
        with Horizontal(id="diff-pickers"):
            yield Label("from", classes="picker-label")
            yield Select[str]([], id="diff-from", prompt="step or agent", allow_blank=True)
            yield Label("to", classes="picker-label")
            yield Select[str]([], id="diff-to", prompt="step or agent", allow_blank=True)
        yield Static(id="diff-summary", classes="view-header")
        with VerticalScroll(id="diff-scroll"):
            yield Static(id="diff-body")

    def show(self, record: AgentRecord | None, others: list[AgentRecord]) -> None:
        """Offer the steps of ``record`` (read in the background) and the ``others``; keep a
        pinned pair if still valid. While a step is shown (:meth:`show_step`), the same agent
        again only moves the header's live step count."""
        other_agent = record is None or self.record is None or record.folder != self.record.folder
        if self.step is not None:
            if not other_agent:
                self.record, self.others = record, others
                self._step_head()
                return
            self._leave_step()
        if other_agent:
            self.pinned = False
        self.record, self.others = record, others
        if record is None:
            self._history_loader = self._comparer = None
            self.workers.cancel_node(self)
            self._set("", "")
            return
        if other_agent:
            self.history, self._comparer = None, None
            self._set(LOADING, "")
        elif self._history_loader is not None and not self._history_loader.is_finished:
            self._reread = True  # one read of a folder at a time; this one is followed by another
            return
        self._reread = False
        self._history_loader = self._load_history(record, self.history)

    @work(thread=True, group="diff-history", exclusive=True, exit_on_error=False,
          description="read the step history")  # fmt: skip
    def _load_history(self, record: AgentRecord, since: StepHistory | None) -> None:
        worker = get_current_worker()
        folder = record.folder
        try:
            # A running agent's journal grows: only what it appended is read again. Every
            # step's document is made of the journal's records and the state file's messages:
            # compared past what two steps share, their masking is still that of the whole
            # documents (a journal is swept on from where its last sweep stopped).
            history, problem = read_history(record, since, self.redactor), ""
        except (WorkspaceLookupError, WorkspaceFileError) as exc:
            history, problem = None, str(exc)
        self.post_message(self.HistoryLoaded(self, worker, folder, history, problem))

    @on(HistoryLoaded)
    def _history_loaded(self, event: HistoryLoaded) -> None:
        record = self.record
        if (
            event.worker is not self._history_loader
            or record is None
            or event.folder != record.folder
        ):
            return  # an older read, finished after a newer one began
        if self._reread:  # the folder changed while it was read: once more
            self._reread = False
            self._history_loader = self._load_history(record, event.history)
        self.history = event.history
        steps = self.history.loop_counts if self.history else []
        choices = self._choices(record, steps)
        values = {value for _, value in choices}
        picker_from = self.query_one("#diff-from", Select)
        picker_to = self.query_one("#diff-to", Select)
        old_from, old_to = picker_from.value, picker_to.value
        with self.prevent(Select.Changed):
            picker_from.set_options(choices)
            picker_to.set_options(choices)
            if self.pinned and old_from in values and old_to in values:
                picker_from.value, picker_to.value = old_from, old_to
            elif len(steps) >= 2:
                picker_from.value, picker_to.value = f"step:{steps[-2]}", f"step:{steps[-1]}"
            else:
                self.pinned = False
        if event.problem and not self.pinned:
            self._set(f"no per-step history: {event.problem}", "pick an agent to compare with")
            return
        self.render_diff()

    def _choices(self, record: AgentRecord, steps: list[int]) -> list[tuple[str, str]]:
        """The pickers' choices: ``steps`` of ``record``, then the other agents."""
        recent = sorted(
            (r for r in self.others if r.folder != record.folder),
            key=lambda r: r.last_activity.timestamp() if r.last_activity else 0,
            reverse=True,
        )[:MAX_AGENT_CHOICES]
        return step_choices(steps) + [
            (f"agent {r.name} ({r.folder.name[-12:]})", f"agent:{r.folder}") for r in recent
        ]

    def last_step(self) -> None:
        """Back to the default pair: the step before the last, and the last (while a step is
        shown: the step before it, and it)."""
        self.pinned = False
        if self.record is not None and self.step is not None:
            self.show_step(self.record, self.step)
        elif self.record is not None:
            self.show(self.record, self.others)

    def show_step(self, record: AgentRecord, step: int | None) -> None:
        """Show what ``step`` of ``record`` changed: the step before it -> ``step``, read from
        the journal in a worker; ``None``: back to the live pair (:meth:`show`)."""
        if step is None:
            if self.step is not None:
                self._leave_step()
            self.show(record, self.others)
            return
        if self.record is None or record.folder != self.record.folder:
            self.history = None
        self.record, self.step, self.pinned = record, step, True
        # Reads under way for the live pair are no longer wanted; their results go unshown.
        self._history_loader = self._comparer = None
        self._reread = False
        self.workers.cancel_group(self, "diff-history")
        self.workers.cancel_group(self, "diff-compare")
        if record.format == Format.SWARMS:
            self._step_loader = None
            self._step_summary = NO_STEPS_NOTE
            self._set(self._step_heading(), "")
            return
        self._step_summary = f"step {step}: {LOADING}"
        self._set(self._step_heading(), "")
        self._step_loader = self._load_step(record, step, self.history)

    def _leave_step(self) -> None:
        self.step = self._step_loader = None
        self.pinned = False
        self.workers.cancel_group(self, "diff-step")

    def _step_heading(self) -> Text:
        assert self.step is not None
        live = self.record.loop_count if self.record is not None else None
        return step_heading(self.step, live).append(f"\n{self._step_summary}")

    def _step_head(self) -> None:
        self.query_one("#diff-summary", Static).update(self._step_heading())

    @work(thread=True, group="diff-step", exclusive=True, exit_on_error=False,
          description="compare a step with the one before it")  # fmt: skip
    def _load_step(self, record: AgentRecord, step: int, since: StepHistory | None) -> None:
        worker = get_current_worker()
        folder = record.folder

        def failed(problem: str, history: StepHistory | None = None) -> None:
            message = self.StepCompared(self, worker, folder, step, None, None, history, problem)
            self.post_message(message)

        try:
            history = read_history(record, since, self.redactor)
            history.snapshot(step)
        except (WorkspaceLookupError, WorkspaceFileError) as exc:
            failed(str(exc))
            return
        earlier = [n for n in history.loop_counts if n < step]
        if not earlier:
            failed(f"step {step} is the first the journal holds: nothing before it", history)
            return
        previous = earlier[-1]
        try:
            changes = step_changes(history, previous, step, self.redactor)
        except (WorkspaceLookupError, WorkspaceFileError) as exc:
            failed(f"cannot compare: {exc}", history)
            return
        text = render_changes(changes)
        self.post_message(
            self.StepCompared(self, worker, folder, step, previous, changes, history, text=text)
        )

    @on(StepCompared)
    def _step_compared(self, event: StepCompared) -> None:
        record = self.record
        if not is_awaited(event, self._step_loader, record, self.step):
            return
        assert record is not None
        if event.history is not None:
            self.history = event.history
        if event.changes is None or event.previous is None:
            self._step_summary = event.problem
            self._set(self._step_heading(), "")
            return
        old, new = f"step:{event.previous}", f"step:{event.step}"
        choices = self._choices(record, self.history.loop_counts if self.history else [])
        values = {value for _, value in choices}
        picker_from = self.query_one("#diff-from", Select)
        picker_to = self.query_one("#diff-to", Select)
        with self.prevent(Select.Changed):
            picker_from.set_options(choices)
            picker_to.set_options(choices)
            if old in values and new in values:
                picker_from.value, picker_to.value = old, new
        self._step_summary = f"step {event.previous} -> step {event.step}: {summary(event.changes)}"
        self._set(self._step_heading(), event.text)

    @on(Select.Changed)
    def _picked(self, event: Select.Changed) -> None:
        event.stop()
        self.pinned = True
        self.render_diff()

    def render_diff(self) -> None:
        """Compare the two picked documents in the background."""
        old = self.query_one("#diff-from", Select).value
        new = self.query_one("#diff-to", Select).value
        if not isinstance(old, str) or not isinstance(new, str):
            self._comparer = None
            self._set("pick two steps or agents to compare", "")
            return
        self.query_one("#diff-summary", Static).update(
            f"{pair_label(old)} -> {pair_label(new)}: {LOADING}"
        )
        self._comparer = self._compare(old, new, self.history)

    @work(thread=True, group="diff-compare", exclusive=True, exit_on_error=False,
          description="compare two steps or agents")  # fmt: skip
    def _compare(self, old: str, new: str, history: StepHistory | None) -> None:
        worker = get_current_worker()
        try:
            changes = pair_changes(old, new, history, self.redactor)
        except (WorkspaceLookupError, WorkspaceFileError) as exc:
            self.post_message(self.Compared(self, worker, old, new, None, f"cannot compare: {exc}"))
            return
        text = render_changes(changes)
        self.post_message(self.Compared(self, worker, old, new, changes, text=text))

    @on(Compared)
    def _compared(self, event: Compared) -> None:
        if event.worker is not self._comparer:
            return  # another pair was picked since
        if event.changes is None:
            self._set(event.problem, "")
            return
        head = f"{pair_label(event.old)} -> {pair_label(event.new)}: {summary(event.changes)}"
        self._set(head, event.text)

    @on(Worker.StateChanged)
    def _load_failed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker in (
            self._history_loader,
            self._comparer,
            self._step_loader,
        ):
            self._set("", failure_text(event.worker))

    def _set(self, head: str | Text, body: str | Text) -> None:
        self.query_one("#diff-summary", Static).update(head)
        self.query_one("#diff-body", Static).update(body)
