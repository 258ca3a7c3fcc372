"""The per-step history of one of our workspaces, from ``journal.jsonl``: where the
conversation and memory stood after each completed step (``diff --steps``, the Diff tab).

The journal is read a record at a time and each message is kept packed (its JSON bytes): a
history of 50,000 steps held as 100,000 message dicts, plus the records they came from, would
be walked by every garbage collection of the process that holds it (the app's, on its UI).
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from agent_tui.format import replay
from agent_tui.format.journal import JournalStream
from agent_tui.format.layout import JOURNAL_NAME, Format
from agent_tui.format.persistence import dumps
from agent_tui.format.swarms import normalize_message
from agent_tui.workspace.documents import our_messages
from agent_tui.workspace.folder import read_agent
from agent_tui.workspace.lookup import WorkspaceLookupError
from agent_tui.workspace.record import AgentRecord
from agent_tui.workspace.status import whole_number

# typing costs 3 ms of start-up and is needed only by type checkers here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any


@dataclass(slots=True)
class StepSnapshot:
    """Where the conversation stood after one completed step: ``messages[start:end]``."""

    loop_count: int
    start: int
    end: int
    memory: dict[str, Any]
    ts: str | None = None
    seq: int | None = None


@dataclass
class StepHistory:
    """The per-step history of one of our workspaces, read from ``journal.jsonl``.

    Documents are built on request (:meth:`document`), so a history of 10,000 steps costs one
    list of messages, not 10,000 copies of it. ``messages`` are normalized messages, each
    packed as its JSON bytes as the journal holds it (:meth:`unpack` gives them back,
    normalized: only the messages a document shows are).
    """

    folder: Path
    messages: list[bytes]
    steps: list[StepSnapshot]
    problems: list[str] = field(default_factory=list)
    # Where the journal was read up to, when it can be read on from there (``since``).
    _progress: _Progress | None = field(default=None, repr=False, compare=False)

    @property
    def loop_counts(self) -> list[int]:
        return [s.loop_count for s in self.steps]

    def snapshot(self, loop_count: int) -> StepSnapshot:
        for step in self.steps:
            if step.loop_count == loop_count:
                return step
        known = self.loop_counts
        span = f"steps {known[0]}-{known[-1]}" if known else "no steps"
        raise WorkspaceLookupError(
            f"step {loop_count} is not in the history of {self.folder} ({span} recorded)"
        )

    def document(self, loop_count: int, skip: int = 0) -> dict[str, Any]:
        """``{"loop_count", "conversation", "memory"}`` as they were after step ``loop_count``
        (``skip``: without the first ``skip`` messages of the conversation)."""
        step = self.snapshot(loop_count)
        return {
            "loop_count": step.loop_count,
            "conversation": self.unpack(min(step.start + skip, step.end), step.end),
            "memory": step.memory,
        }

    def unpack(self, start: int, end: int) -> list[dict[str, Any]]:
        """The messages ``messages[start:end]``, normalized."""
        return [normalize_message(orjson.loads(m)) for m in self.messages[start:end]]


@dataclass
class _Progress:
    """Where a read of a journal that holds every step stopped, and the state it left."""

    journal: JournalStream
    start: int  # where the current conversation begins in ``messages``
    memory: dict[str, Any]
    snapshots: dict[int, tuple[bool, StepSnapshot]]


def step_history(
    folder: os.PathLike[str] | str,
    *,
    record: AgentRecord | None = None,
    since: StepHistory | None = None,
) -> StepHistory:
    """The conversation, loop count and memory after each completed step, from the journal.

    Step N is where the last journal record of kind ``step`` with loop count N left things;
    a loop count no step record reached (0: the system prompt and the task) is where the last
    record carrying it left things. A journal cut after a compaction starts from the state
    file, and only the steps it still holds are available. ``record``: the folder's fresh
    :class:`AgentRecord`, when the caller has one (a swarms folder is then refused without
    parsing its config, which holds its whole conversation). ``since``: a history of the
    folder read before; when the journal has only grown since, only what it appended is read.
    """
    folder = Path(folder)
    if record is None or record.folder != folder:
        record = read_agent(folder)
    if record.format == Format.SWARMS:
        raise WorkspaceLookupError(f"{folder} is a swarms workspace; it keeps no per-step history")
    if since is not None and since.folder == folder and since._progress is not None:
        grown = _read_on(since, since._progress)
        if grown is not None:
            return grown
    journal = JournalStream(folder / JOURNAL_NAME)
    # A record without a whole-number seq cannot be placed relative to the state file.
    entries = (r for r in journal if replay.seq_of(r) is not None)
    first = next(entries, None)
    records: Iterable[dict[str, Any]] = itertools.chain([first] if first else [], entries)
    history = StepHistory(folder, [], [], journal.problems)
    snapshots: dict[int, tuple[bool, StepSnapshot]] = {}
    # A journal that begins a conversation holds every step: read it a record at a time.
    streamed = first is not None and replay.starts_afresh(first)
    if not streamed:
        records = list(records)
        messages = our_messages(record, records)
        # Whether folded into the state file or replayed, the journal's messages close the
        # list; what precedes them is the base every step builds on.
        journal_messages = sum(len(replay.messages_of(e)) for e in records)
        base = messages[: max(0, len(messages) - journal_messages)]
        history.messages = [_packed(m) for m in base]
        snapshots[_base_loop_count(records)] = (False, StepSnapshot(0, 0, len(base), {}))
    progress = _Progress(journal, 0, {}, snapshots)
    _take(history, progress, records)
    if streamed and journal.whole:
        history._progress = progress
    return history


def _read_on(since: StepHistory, progress: _Progress) -> StepHistory | None:
    """``since`` and the records appended to its journal since it was read; ``None`` when
    the journal is not the one read then, or is shorter (read it again, whole)."""
    read = progress.journal
    try:
        info = os.lstat(read.path)
    except OSError:
        return None
    if info.st_ino != read.ino or info.st_size < read.end:
        return None
    journal = JournalStream(read.path, list(since.problems), read.end, read.lines + 1)
    # The messages are shared (appended to only); the steps are this history's own.
    history = StepHistory(since.folder, since.messages, [], journal.problems)
    progress = _Progress(journal, progress.start, progress.memory, dict(progress.snapshots))
    _take(history, progress, (r for r in journal if replay.seq_of(r) is not None))
    if journal.ino != read.ino:
        return None  # replaced between the look and the read
    if journal.whole:
        history._progress = progress
    return history


def _take(history: StepHistory, progress: _Progress, records: Iterable[dict[str, Any]]) -> None:
    """Fold ``records`` into ``history``: their messages, and a snapshot at each step."""
    snapshots = progress.snapshots
    for entry in records:
        if replay.starts_afresh(entry):
            progress.start = len(history.messages)
        history.messages.extend(_packed(m) for m in replay.messages_of(entry))
        if isinstance(entry.get("memory"), dict):
            progress.memory = entry["memory"]
        loop_count = whole_number(entry.get("loop_count"))
        if loop_count is None:
            continue
        is_step = entry.get("kind") == "step"
        if is_step or not snapshots.get(loop_count, (False,))[0]:
            ts = entry.get("ts") if isinstance(entry.get("ts"), str) else None
            end = len(history.messages)
            snap = StepSnapshot(loop_count, progress.start, end, progress.memory, ts, entry["seq"])
            snapshots[loop_count] = (is_step, snap)
    for loop_count, (_, snap) in sorted(snapshots.items()):
        snap.loop_count = loop_count
        history.steps.append(snap)


def _packed(message: Any) -> bytes:
    return dumps(message, indent=False)


def _base_loop_count(records: list[dict[str, Any]]) -> int:
    # A journal cut after compaction starts mid-run; its base is the step before its first record.
    if not records:
        return 0
    first = whole_number(records[0].get("loop_count")) or 0
    return max(0, first - 1) if records[0].get("kind") == "step" else first
