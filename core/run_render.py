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
from agent_tui.units import clip, plural, printable


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
            note = f"resumed after step {record.loop_count} ({plural(record.messages, 'message')})"
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
        of = f" ({loop}/{most})" if loop is not None and most is not None else ""
        return [Line(f"-- step {_shown(step)}{of}", Tag.STEP)]
    if kind == "tool_call":
        arguments = clip(_shown(data.get("arguments"), ""), 80)
        return [Line(f"   tool {_shown(data.get('name'))}({arguments})", Tag.TOOL)]
    if kind == "tool_result":
        tag = Tag.ERROR if data.get("is_error") else Tag.RESULT
        return [Line(f"   -> {clip(_shown(data.get('result'), ''), 100)}", tag)]
    if kind == "autosave":
        size, ms = _number(data.get("bytes"), int), _number(data.get("ms"), float)
        line = f"   [saved] {_shown(data.get('file'))}  {size:,} B  {ms:.1f} ms"
        return [Line(line, Tag.SAVED)]
    if kind == "autosave_failed":
        error = data.get("error")
        why = f": {error}" if error is not None else ""
        return [Line(f"   autosave failed{why} (retried next step)", Tag.ERROR)]
    if kind == "step_end":
        calls = plural(_number(data.get("tool_calls"), int), "tool call")
        return [Line(f"   step {_shown(data.get('step'))} saved ({calls})", Tag.NOTE)]
    if kind == "run_end":
        status, steps = data.get("status"), data.get("loop_count")
        after = f" after {plural(steps, 'step')}" if isinstance(steps, int) else ""
        return [Line(f"-- run {_shown(status)}{after}", _end_tag(status))]
    return []


def _shown(value: Any, missing: str = "-") -> str:
    """A value of an event as a line shows it: ``missing`` for none, never ``None``."""
    return missing if value is None else str(value)


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
