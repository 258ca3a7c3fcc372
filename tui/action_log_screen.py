"""The action log (lazygit's command log): what the app deleted, started, interrupted and
resumed, newest last, read from :mod:`agent_tui.action_log` when opened."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from agent_tui.action_log import ActionLog

SHOWN = 200
WORDS = {  # action -> how a line says it
    "deleted": "deleted",
    "trashed": "moved to the trash",
    "started": "started a run of",
    "interrupted": "interrupted",
    "resumed": "resumed",
}


def entry_text(entry: dict[str, Any]) -> Text:
    """One line: the local time, what was done, to what."""
    text = Text()
    text.append(f"{str(entry.get('ts', '-'))[:19].replace('T', ' ')}  ", style="dim")
    action = str(entry.get("action", "?"))
    text.append(WORDS.get(action, action), style="bold")
    for key in ("name", "folder", "count", "size", "model", "task"):
        if entry.get(key) not in (None, ""):
            text.append(f"  {entry[key]}" if key in ("name", "folder") else f"  {key} {entry[key]}")
    return text


def log_text(entries: list[dict[str, Any]], path: str) -> Text:
    if not entries:
        return Text(f"Nothing done yet. The log is kept in {path}.", style="dim")
    text = Text(f"{path}, newest last\n\n", style="dim")
    for n, entry in enumerate(entries):
        if n:
            text.append("\n")
        text.append_text(entry_text(entry))
    return text


class ActionLogScreen(ModalScreen[None]):
    """The last :data:`SHOWN` actions; escape or q closes it."""

    BINDINGS = [Binding("escape,q", "dismiss", "Close", id="actions-close", tooltip="Back")]

    def __init__(self, log: ActionLog) -> None:
        super().__init__(classes="dialog-screen")
        self.action_log = log

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog help"):
            yield Label("Action log", classes="dialog-title")
            yield Static(
                log_text(self.action_log.recent(SHOWN), str(self.action_log.path)),
                id="actions-body",
            )

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).scroll_end(animate=False)
