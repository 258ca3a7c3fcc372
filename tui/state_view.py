"""The State tab: task, memory and the conversation as a readable transcript.

Read through :mod:`core.workspace` (ours: state file plus journal; swarms: ``short_memory``),
then masked with :class:`core.redaction.Redactor`, because foreign files (swarms) keep API keys
in plain text.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from core.persistence import WorkspaceFileError
from core.redaction import Redactor
from core.workspace import AgentRecord, load_conversation, load_state
from tui.display import render_json, render_message

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

    def __init__(self, redactor: Redactor, **kwargs) -> None:
        super().__init__(**kwargs)
        self.redactor = redactor
        self.body = Static(id="state-body")

    def compose(self):
        yield self.body

    def show(self, record: AgentRecord | None) -> None:
        if record is None:
            self.body.update("")
            return
        problems: list[str] = []
        try:
            state = load_state(record.folder)
        except WorkspaceFileError as exc:
            state, problems = None, [f"state file: {exc.reason}"]
        try:
            messages = load_conversation(record.folder)
        except WorkspaceFileError as exc:
            messages, problems = [], [*problems, f"conversation: {exc.reason}"]
        text = transcript(record, self.redactor.redact(state), self.redactor.redact(messages))
        for problem in problems:
            text.append(f"\n! {problem}", style="bold #ff5f5f")
        self.body.update(text)
