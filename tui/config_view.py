"""The Config tab: the selected agent's ``config.json``, live.

Each rewrite re-renders the document in place (the scroll position stays) and the lines of
the fields that changed, found with :func:`core.diff.diff`, are highlighted for a moment.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.timer import Timer
from textual.widgets import Static

from core.diff import diff
from core.persistence import WorkspaceFileError
from core.redaction import Redactor
from core.workspace import AgentRecord, load_config
from tui.display import Clock, ago_text, loops_text, render_json, status_badge, utc_now

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
        text.append(("\n" if record.problems else "") + "error: ", style="bold #ff5f5f")
        text.append(redactor.redact_text(record.error))
    return text


class ConfigView(Vertical):
    """Header line (loop count, status, last autosave), problems, the pretty JSON."""

    def __init__(self, redactor: Redactor, clock: Clock = utc_now, **kwargs) -> None:
        super().__init__(**kwargs)
        self.redactor = redactor
        self.clock = clock
        self.record: AgentRecord | None = None
        self.document: dict[str, Any] | None = None
        self.changed: frozenset[str] = frozenset()
        self._fade: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static("Select an agent on the left.", id="config-header", classes="view-header")
        yield Static(id="config-problems", classes="problems")
        with VerticalScroll(id="config-scroll"):
            yield Static(id="config-body")

    def show(self, record: AgentRecord | None) -> None:
        """Show ``record``'s config; when it is the same agent again, highlight what changed."""
        same = (
            record is not None and self.record is not None and record.folder == self.record.folder
        )
        self.record = record
        body = self.query_one("#config-body", Static)
        if record is None:
            self.document = None
            body.update("")
            self.query_one("#config-problems", Static).update("")
            self.tick()
            return
        try:
            document = self.redactor.redact(load_config(record.folder))
        except WorkspaceFileError as exc:
            document = None
            body.update(Text(f"config.json cannot be shown: {exc.reason}", style="italic"))
        if document is not None:
            if same and self.document is not None:
                self.changed = frozenset(c.path for c in diff(self.document, document))
            else:
                self.changed = frozenset()
                self.query_one("#config-scroll").scroll_home(animate=False)
            self.document = document
            body.update(render_json(document, self.changed))
            if self.changed:
                self._start_fade()
        else:
            self.document = None
        problems = self.query_one("#config-problems", Static)
        problems.update(problems_text(record, self.redactor))
        problems.display = bool(record.problems or record.error)
        self.tick()

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
