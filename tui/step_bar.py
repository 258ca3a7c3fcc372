"""The step scrubber: which step of the selected agent the Config, State and Diff views show.

One line: ``step N of M`` (or ``live`` when the views follow the latest autosave) and a
compact track, the marker where step N sits between the first step and the last. The bar
holds the position only; moving it (:meth:`StepBar.earlier`, :meth:`StepBar.later`,
:meth:`StepBar.go_live`, a click on the track) posts :class:`StepBar.Changed`, and whoever
placed the bar feeds the views (``show_step``). The views share what is said here about
a step: its heading, and how its history is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from rich.text import Text
from textual import events
from textual.message import Message
from textual.widget import Widget
from textual.worker import Worker

from agent_tui.format.layout import JOURNAL_NAME
from agent_tui.redaction import Redactor
from agent_tui.workspace import AgentRecord, StepHistory, step_history
from agent_tui.workspace.detail import sweep_file

TRACK_DONE = "━"
TRACK_TODO = "─"
MARKER = "█"
LIVE_STYLE = "bold black on #87d787"
STEP_STYLE = "bold black on #ffd75f"
# Narrower than this, the track is left out: the label says it all.
MIN_TRACK = 8
NO_STEPS_NOTE = "no step history for swarms agents"


def label_text(step: int | None, last: int | None) -> str:
    """``"live"``, ``"live: step 3"`` or ``"step 1 of 3"``."""
    if step is None:
        return "live" if last is None else f"live: step {last:,}"
    return f"step {step:,}" if last is None else f"step {step:,} of {last:,}"


def track_text(step: int | None, first: int, last: int | None, width: int) -> Text:
    """``width`` cells: done up to the marker, to do after it (live: all done)."""
    width = max(1, width)
    if last is None or last <= first:
        place = width - 1
    else:
        shown = last if step is None else min(max(step, first), last)
        place = round((shown - first) * (width - 1) / (last - first))
    text = Text(TRACK_DONE * place, style="#87d787" if step is None else "#ffd75f")
    text.append(MARKER, style="bold")
    text.append(TRACK_TODO * (width - 1 - place), style="dim")
    return text


class StepBar(Widget):
    """``step N of M`` and a track; ``live`` when no step is picked."""

    DEFAULT_CSS = """
    StepBar {
        height: 1;
        width: 1fr;
    }
    """

    @dataclass
    class Changed(Message):
        """The step picked: a loop count, or ``None`` for live."""

        bar: StepBar
        step: int | None

        @property
        def control(self) -> StepBar:
            return self.bar

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.step: int | None = None
        self.first = 0
        self.last: int | None = None

    def set_range(self, last: int | None, first: int = 0) -> None:
        """The steps there are: ``first`` to ``last`` (the live step count; ``None``: unknown,
        or an agent with no step history). A step picked stays picked (the views stay on it)."""
        if (first, last) != (self.first, self.last):
            self.first, self.last = first, last
            self.refresh()

    def set_step(self, step: int | None) -> None:
        """Show ``step`` (``None``: live) without posting anything."""
        if step != self.step:
            self.step = step
            self.refresh()

    def pick(self, step: int | None) -> None:
        """Move to ``step`` (kept within the range) and say so."""
        if step is not None:
            step = max(self.first, step if self.last is None else min(step, self.last))
        if step != self.step:
            self.set_step(step)
            self.post_message(self.Changed(self, step))

    def earlier(self) -> None:
        """One step back; from live, the step before the last."""
        if self.step is None:
            if self.last is not None:
                self.pick(max(self.first, self.last - 1))
        else:
            self.pick(self.step - 1)

    def later(self) -> None:
        """One step on; past the last, live again."""
        if self.step is None:
            return
        if self.last is not None and self.step >= self.last:
            self.pick(None)
        else:
            self.pick(self.step + 1)

    def go_first(self) -> None:
        if self.last is not None:
            self.pick(self.first)

    def go_live(self) -> None:
        self.pick(None)

    def _label_width(self) -> int:
        """The label's width: that of its longest form for this range, so the track stays
        put as the step moves."""
        widest = label_text(self.last, self.last) if self.last is not None else ""
        return max(len(widest), len(label_text(None, self.last)))

    def render(self) -> Text:
        label = label_text(self.step, self.last).ljust(self._label_width())
        text = Text()
        text.append(f" {label} ", style=LIVE_STYLE if self.step is None else STEP_STYLE)
        text.append(" ")
        room = self.size.width - len(text)
        if room >= MIN_TRACK:
            text.append_text(track_text(self.step, self.first, self.last, room))
        return text

    async def _on_click(self, event: events.Click) -> None:
        """A click on the track picks the step under it; on its right end, live."""
        if self.last is None or self.last <= self.first:
            return
        start = self._label_width() + 3
        width = self.size.width - start
        if width < MIN_TRACK or event.x < start:
            return
        offset = min(event.x - start, width - 1)
        if offset == width - 1:
            self.pick(None)
            return
        self.pick(self.first + round(offset * (self.last - self.first) / (width - 1)))


def step_heading(step: int, live: int | None) -> Text:
    """What a view shows above an agent as it was at ``step``: ``as at step N (from the
    journal)``, and where the live agent is now (``live: step M``)."""
    text = Text()
    text.append(f" as at step {step:,} (from the journal) ", style=STEP_STYLE)
    text.append(f"  live: step {'-' if live is None else f'{live:,}'}", style="bold")
    return text


def read_history(record: AgentRecord, since: StepHistory | None, redactor: Redactor) -> StepHistory:
    """The step history of ``record``'s folder (on a worker; ``since``: read before, so only
    what the journal appended is read), with ``redactor`` taught the secrets of the journal
    and the state file its documents come from. Raises :class:`WorkspaceLookupError` (a
    swarms agent, no journal) or :class:`WorkspaceFileError`."""
    history = step_history(record.folder, record=record, since=since)
    sweep_file(record.folder / JOURNAL_NAME, redactor, lines=True)
    if record.state_file is not None:
        sweep_file(record.state_file, redactor)
    return history


class StepRead(Protocol):
    """What a view's step reader posts: which read, of which folder, of which step."""

    worker: Worker
    folder: Path
    step: int


def is_awaited(
    event: StepRead, loader: Worker | None, record: AgentRecord | None, step: int | None
) -> bool:
    """Whether ``event`` is what a view waits for: from its newest step reader (a cancelled
    read still finishes in its thread), of the agent and the step it shows now (not an older
    read, nor one of a view gone back to live)."""
    return (
        event.worker is loader
        and record is not None
        and event.folder == record.folder
        and event.step == step
    )
