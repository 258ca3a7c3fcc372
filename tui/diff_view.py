"""The Diff tab: what the last step changed, or any two steps / two agents from a picker.

Documents come from :mod:`core.workspace` (per-step history from the journal; an agent's
latest conversation and memory) and are compared by :func:`core.diff.diff`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Label, Select, Static

from core.diff import diff, render_text, summary
from core.persistence import WorkspaceFileError
from core.redaction import Redactor
from core.workspace import (
    AgentRecord,
    StepHistory,
    WorkspaceLookupError,
    load_conversation,
    load_state,
    step_history,
)

MAX_AGENT_CHOICES = 100
LINE_STYLES = {"+": "#87d787", "-": "#ff5f5f", "~": "#ffd75f"}


def agent_document(folder: Path) -> dict[str, Any]:
    """An agent's latest work, shaped like a step document so the two compare."""
    state = load_state(folder) or {}
    return {
        "loop_count": state.get("loop_count"),
        "conversation": load_conversation(folder),
        "memory": state.get("memory", {}),
    }


def render_changes(changes: list) -> Text:
    text = Text()
    for line in render_text(changes, width=400).splitlines():
        text.append(line + "\n", style=LINE_STYLES.get(line[:1], "bold"))
    return text


class DiffView(Vertical):
    """Two pickers (from, to) over the selected agent's steps and the other agents."""

    def __init__(self, redactor: Redactor, **kwargs) -> None:
        super().__init__(**kwargs)
        self.redactor = redactor
        self.record: AgentRecord | None = None
        self.history: StepHistory | None = None
        self.pinned = False
        self.others: list[AgentRecord] = []

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
        """Offer the steps of ``record`` and the ``others``; keep a pinned pair if still valid."""
        if record is None or (self.record and record.folder != self.record.folder):
            self.pinned = False
        self.record, self.others = record, others
        if record is None:
            self._set("", "")
            return
        try:
            self.history = step_history(record.folder)
            problem = ""
        except (WorkspaceLookupError, WorkspaceFileError) as exc:
            self.history, problem = None, str(exc)
        steps = self.history.loop_counts if self.history else []
        choices = [(f"step {n}", f"step:{n}") for n in reversed(steps)]
        recent = sorted(
            (r for r in others if r.folder != record.folder),
            key=lambda r: r.last_activity.timestamp() if r.last_activity else 0,
            reverse=True,
        )[:MAX_AGENT_CHOICES]
        choices += [
            (f"agent {r.name} ({r.folder.name[-12:]})", f"agent:{r.folder}") for r in recent
        ]
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
        if problem and not self.pinned:
            self._set(f"no per-step history: {problem}", "pick an agent to compare with")
            return
        self.render_diff()

    def last_step(self) -> None:
        """Back to the default pair: the step before the last, and the last."""
        self.pinned = False
        if self.record is not None:
            self.show(self.record, self.others)

    @on(Select.Changed)
    def _picked(self, event: Select.Changed) -> None:
        event.stop()
        self.pinned = True
        self.render_diff()

    def _document(self, value: str) -> dict[str, Any]:
        kind, _, ref = value.partition(":")
        if kind == "step" and self.history is not None:
            return self.history.document(int(ref))
        return agent_document(Path(ref))

    def _label(self, value: str) -> str:
        kind, _, ref = value.partition(":")
        return f"step {ref}" if kind == "step" else Path(ref).name

    def render_diff(self) -> None:
        old = self.query_one("#diff-from", Select).value
        new = self.query_one("#diff-to", Select).value
        if not isinstance(old, str) or not isinstance(new, str):
            self._set("pick two steps or agents to compare", "")
            return
        try:
            before = self.redactor.redact(self._document(old))
            after = self.redactor.redact(self._document(new))
        except (WorkspaceLookupError, WorkspaceFileError) as exc:
            self._set(f"cannot compare: {exc}", "")
            return
        changes = diff(before, after, ignore_noise=True)
        head = f"{self._label(old)} -> {self._label(new)}: {summary(changes)}"
        self._set(head, render_changes(changes))

    def _set(self, head: str, body: str | Text) -> None:
        self.query_one("#diff-summary", Static).update(head)
        self.query_one("#diff-body", Static).update(body)
