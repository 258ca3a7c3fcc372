"""How a run's stream reads: each record (:mod:`agent_tui.run_protocol`) as lines of text with a
style tag each. One renderer for every face: ``agent-tui run``/``resume``, the terminal demo
(:class:`TerminalPrinter`) and the app's Run tab (which turns the tags into Rich styles).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from enum import StrEnum
from typing import IO, Any

from agent_tui.redaction import Redactor, StreamRedactor
from agent_tui.run_protocol import End, Event, Record, Start, Text
from agent_tui.units import clip, printable


class Tag(StrEnum):
    """What a line is, for a face to style (or, for a terminal, where to write it)."""

    ANSWER = "answer"  # streamed model text: a piece of a paragraph, not a whole line
    TASK = "task"
    NOTE = "note"
    STEP = "step"
    TOOL = "tool"
    RESULT = "result"
    SAVED = "saved"
    DONE = "done"
    STOPPED = "stopped"
    ERROR = "error"


@dataclass(frozen=True)
class Line:
    text: str
    tag: Tag


_END_TAGS = {"completed": Tag.DONE, "interrupted": Tag.STOPPED}


def render(record: Record) -> list[Line]:
    """What ``record`` adds to a run's stream."""
    if isinstance(record, Text):
        return [Line(record.text, Tag.ANSWER)] if record.text else []
    if isinstance(record, Event):
        return _event(record.kind, record.data)
    if isinstance(record, Start):
        head = Line(f"task  {clip(record.task, 2000)}", Tag.TASK)
        if record.resumed:
            note = f"resumed after step {record.loop_count} ({record.messages} messages)"
            return [Line(note, Tag.NOTE), head]
        return [head]
    if isinstance(record, End) and record.error:
        return [Line(f"== {record.status}: {clip(record.error, 2000)} ==", _end_tag(record.status))]
    return []  # a run that ended well said so in its run_end event


def _end_tag(status: Any) -> Tag:
    return _END_TAGS.get(str(status), Tag.ERROR)


def _event(kind: str, data: dict[str, Any]) -> list[Line]:
    if kind == "step_start":
        step, loop, most = data.get("step"), data.get("loop"), data.get("max_loops")
        return [Line(f"-- step {step} ({loop}/{most})", Tag.STEP)]
    if kind == "tool_call":
        arguments = clip(str(data.get("arguments", "")), 80)
        return [Line(f"   tool {data.get('name')}({arguments})", Tag.TOOL)]
    if kind == "tool_result":
        tag = Tag.ERROR if data.get("is_error") else Tag.RESULT
        return [Line(f"   -> {clip(str(data.get('result', '')), 100)}", tag)]
    if kind == "autosave":
        size, ms = _number(data.get("bytes"), int), _number(data.get("ms"), float)
        return [Line(f"   [saved] {data.get('file')}  {size:,} B  {ms:.1f} ms", Tag.SAVED)]
    if kind == "autosave_failed":
        error = data.get("error", data)
        return [Line(f"   autosave failed: {error} (retried next step)", Tag.ERROR)]
    if kind == "step_end":
        calls = data.get("tool_calls") or 0
        return [Line(f"   step {data.get('step')} saved ({calls} tool calls)", Tag.NOTE)]
    if kind == "run_end":
        status = data.get("status")
        line = f"-- run {status} after {data.get('loop_count')} steps"
        return [Line(line, _end_tag(status))]
    return []


def _number(value: Any, kind: type) -> Any:
    try:
        return kind(value or 0)
    except (TypeError, ValueError):
        return kind(0)


class TerminalPrinter:
    """A run on a terminal: the answer streams to ``answer``, every other line goes to
    ``notes`` (after the answer so far ends its line). Both are redacted with ``redactor``,
    the answer across chunk boundaries. Lines tagged in ``hide`` are left out."""

    def __init__(
        self,
        redactor: Redactor,
        *,
        answer: IO[str] | None = None,
        notes: IO[str] | None = None,
        hide: frozenset[Tag] = frozenset(),
    ) -> None:
        self.redactor = redactor
        self.stream = StreamRedactor(redactor)
        self.answer = answer or sys.stdout
        self.notes = notes or sys.stderr
        self.hide = hide
        self.at_line_start = True

    def show(self, record: Record) -> None:
        for line in render(record):
            if line.tag == Tag.ANSWER:
                self._write(self.stream.feed(line.text))
            elif line.tag not in self.hide:
                self.note(line.text)

    def chunk(self, text: str) -> None:
        """A streaming callback: ``text`` is the next piece of the answer."""
        self.show(Text(text))

    def event(self, event: Any) -> None:
        """An ``on_event`` callback for an :class:`agent_tui.agent.Agent` run here."""
        self.show(Event(event.kind, event.data))

    def note(self, text: str) -> None:
        """A line of its own, after the answer so far."""
        self._write(self.stream.flush())
        if not self.at_line_start:
            self.answer.write("\n")
            self.answer.flush()
            self.at_line_start = True
        print(clip(self.redactor.redact_text(text), 300), file=self.notes, flush=True)

    def _write(self, text: str) -> None:
        if text:
            self.answer.write(printable(text))
            self.answer.flush()
            self.at_line_start = text.endswith("\n")
