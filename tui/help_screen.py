"""The help screen (``?``): every key of the screen underneath, with what it does."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

# One paragraph, no line breaks of its own: it wraps to the dialog's width (80 columns too).
INTRO = (
    "agent-tui watches a workspace: every agent folder under <root>/agents, ours and "
    "swarms'. The list follows the disk live; pick an agent to see its config.json, its "
    "transcript (State) and what each step changed (Diff). Enter (or the right arrow) on an "
    "agent lists the files in its folder; pick one to view it (File), e edits it, o pages "
    "it. Ctrl+P finds any command.\n"
)


def help_text(bindings: list[Binding], intro: str = INTRO) -> Text:
    text = Text(intro + "\n")
    for binding in bindings:
        keys = binding.key_display or binding.key
        text.append(f"{keys:>12}  ", style="bold #ffd75f")
        text.append(binding.description or binding.action, style="bold")
        if binding.tooltip:
            text.append(f"  {binding.tooltip}", style="dim")
        text.append("\n")
    return text


class HelpScreen(ModalScreen[None]):
    """Keys and what they do; any of escape, q, ? closes it."""

    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close", id="help-close", tooltip="Back")
    ]

    def __init__(self, bindings: list[Binding], intro: str = INTRO) -> None:
        super().__init__(classes="dialog-screen")
        self.listed = bindings
        self.intro = intro

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog help"):
            yield Static(help_text(self.listed, self.intro))
