"""What a run changes: the agent's state between steps, separate from its settings.

:class:`RunState` has the fields :func:`agent_tui.format.replay.apply` folds journal records
into, so a load replays the journal straight into it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from agent_tui.format.layout import Status
from agent_tui.format.persistence import dumps


def now() -> str:
    """An ISO-8601 time with its UTC offset, as every document and record spells it."""
    return datetime.now(UTC).isoformat()


def memory_bytes(memory: dict[str, Any]) -> bytes:
    """Memory as the journal would write it, to tell whether a step changed it."""
    return dumps(memory, indent=False)


@dataclass
class RunState:
    """The conversation, results, memory and progress of an agent; all a resume needs."""

    conversation: list[dict[str, Any]] = field(default_factory=list)
    tool_results: list[dict[str, Any]] = field(default_factory=list)
    memory: dict[str, Any] = field(default_factory=dict)
    usage: dict[str, Any] = field(
        default_factory=lambda: {"prompt_tokens": 0, "completion_tokens": 0, "cost": 0.0}
    )
    status: str = Status.IDLE
    error: str | None = None
    loop_count: int = 0
    task: str | None = None
    tasks: list[str] = field(default_factory=list)
    autosave_failures: int = 0
    run_id: str | None = None
    started_at: str | None = None
    # The last journal record this state includes (the state file's ``journal_seq``).
    journal_seq: int = 0
    # The journal's last seq when load() read it: a run that finds the journal moved on since
    # then replays what it missed instead of writing over it.
    loaded_seq: int | None = None
    # Memory as the journal last recorded it: a step records memory only when it changed.
    journaled_memory: bytes = b"{}"
