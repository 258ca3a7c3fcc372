"""The per-step history of one of our workspaces, from ``journal.jsonl``: where the
conversation and memory stood after each completed step (``diff --steps``, the Diff tab)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from agent_tui.format import replay
from agent_tui.format.layout import Format
from agent_tui.format.swarms import normalize_message
from agent_tui.workspace.documents import journal_records, our_messages
from agent_tui.workspace.folder import read_agent
from agent_tui.workspace.lookup import WorkspaceLookupError
from agent_tui.workspace.status import whole_number

# typing costs 3 ms of start-up and is needed only by type checkers here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


@dataclass
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
    list of messages, not 10,000 copies of it.
    """

    folder: Path
    messages: list[dict[str, Any]]
    steps: list[StepSnapshot]
    problems: list[str] = field(default_factory=list)

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

    def document(self, loop_count: int) -> dict[str, Any]:
        """``{"loop_count", "conversation", "memory"}`` as they were after step ``loop_count``."""
        step = self.snapshot(loop_count)
        return {
            "loop_count": step.loop_count,
            "conversation": self.messages[step.start : step.end],
            "memory": step.memory,
        }


def step_history(folder: os.PathLike[str] | str) -> StepHistory:
    """The conversation, loop count and memory after each completed step, from the journal.

    Step N is where the last journal record of kind ``step`` with loop count N left things;
    a loop count no step record reached (0: the system prompt and the task) is where the last
    record carrying it left things. A journal cut after a compaction starts from the state
    file, and only the steps it still holds are available.
    """
    folder = Path(folder)
    record = read_agent(folder)
    if record.format == Format.SWARMS:
        raise WorkspaceLookupError(f"{folder} is a swarms workspace; it keeps no per-step history")
    records, problems = journal_records(folder)
    whole = bool(records) and bool(records[0].get("new_conversation"))
    base: list[Any] = []
    if not whole:
        messages = our_messages(record, records)
        # Whether folded into the state file or replayed, the journal's messages close the
        # list; what precedes them is the base every step builds on.
        journal_messages = sum(len(replay.messages_of(e)) for e in records)
        base = messages[: max(0, len(messages) - journal_messages)]
    history = StepHistory(folder, [normalize_message(m) for m in base], [], list(problems))
    snapshots: dict[int, tuple[bool, StepSnapshot]] = {}
    if not whole:
        snapshots[_base_loop_count(records)] = (False, StepSnapshot(0, 0, len(base), {}))
    start, memory = 0, {}
    for entry in records:
        if entry.get("kind") == "task" and entry.get("new_conversation"):
            start = len(history.messages)
        history.messages.extend(normalize_message(m) for m in replay.messages_of(entry))
        if isinstance(entry.get("memory"), dict):
            memory = entry["memory"]
        loop_count = whole_number(entry.get("loop_count"))
        if loop_count is None:
            continue
        is_step = entry.get("kind") == "step"
        if is_step or not snapshots.get(loop_count, (False,))[0]:
            ts = entry.get("ts") if isinstance(entry.get("ts"), str) else None
            snap = StepSnapshot(loop_count, start, len(history.messages), memory, ts, entry["seq"])
            snapshots[loop_count] = (is_step, snap)
    for loop_count, (_, snap) in sorted(snapshots.items()):
        snap.loop_count = loop_count
        history.steps.append(snap)
    return history


def _base_loop_count(records: list[dict[str, Any]]) -> int:
    # A journal cut after compaction starts mid-run; its base is the step before its first record.
    if not records:
        return 0
    first = whole_number(records[0].get("loop_count")) or 0
    return max(0, first - 1) if records[0].get("kind") == "step" else first
