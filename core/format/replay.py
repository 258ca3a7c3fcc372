"""The one replay of the journal: what a record does to an agent's saved state.

``Agent.load()`` folds the records after the state file's ``journal_seq`` into the agent; every
reader (the conversation shown, the history of steps) folds them into a :class:`Replay`. Both
go through :func:`apply`, so what is shown is what a resume continues from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agent_tui.format.layout import Kind, Status

# typing costs 3 ms of start-up and is needed only by type checkers here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Protocol

    class ReplayTarget(Protocol):
        conversation: list[dict[str, Any]]
        tool_results: list[dict[str, Any]]
        memory: dict[str, Any]
        usage: dict[str, Any]
        status: str
        error: str | None
        loop_count: int
        task: str | None
        tasks: list[str]


@dataclass
class Replay:
    """Saved state as a reader rebuilds it (the fields an :class:`~agent_tui.Agent` has)."""

    conversation: list[dict[str, Any]] = field(default_factory=list)
    tool_results: list[dict[str, Any]] = field(default_factory=list)
    memory: dict[str, Any] = field(default_factory=dict)
    usage: dict[str, Any] = field(default_factory=dict)
    status: str = Status.IDLE
    error: str | None = None
    loop_count: int = 0
    task: str | None = None
    tasks: list[str] = field(default_factory=list)


def seq_of(record: dict[str, Any]) -> int | None:
    """A record's whole-number ``seq``; one without it cannot be placed after a state file."""
    seq = record.get("seq")
    return seq if isinstance(seq, int) and not isinstance(seq, bool) else None


def usage_of(raw: dict[str, Any]) -> dict[str, Any]:
    """Token counts and cost as numbers, whatever the file held."""

    def number(key: str, kind: type) -> Any:
        value = raw.get(key)
        plain = isinstance(value, int | float) and not isinstance(value, bool)
        return kind(value) if plain else kind(0)

    return {
        "prompt_tokens": number("prompt_tokens", int),
        "completion_tokens": number("completion_tokens", int),
        "cost": number("cost", float),
    }


def messages_of(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The messages a record appends (only objects: anything else is not a message)."""
    messages = record.get("messages")
    return [m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else []


def starts_afresh(record: dict[str, Any]) -> bool:
    """Whether ``record`` begins a new conversation (what came before it is gone)."""
    return record.get("kind") == Kind.TASK and bool(record.get("new_conversation"))


def apply(state: ReplayTarget, record: dict[str, Any]) -> None:
    """Fold one journal record into ``state``.

    A ``task`` record that began with no history starts a new conversation (it carries the
    system prompt too); ``step`` appends messages and tool results and replaces memory and
    usage; ``end`` sets the final status. A journal that ends mid-run means the process died:
    the state reads as interrupted.
    """
    messages = messages_of(record)
    kind = record.get("kind")
    if kind == Kind.TASK:
        if starts_afresh(record):
            state.conversation = []
            state.tool_results = []
        state.conversation.extend(messages)
        if isinstance(record.get("task"), str):
            state.task = record["task"]
            state.tasks.append(record["task"])
        state.status = Status.RUNNING
    elif kind == Kind.STEP:
        state.conversation.extend(messages)
        results = record.get("tool_results")
        if isinstance(results, list):
            state.tool_results.extend(r for r in results if isinstance(r, dict))
        if isinstance(record.get("memory"), dict):
            state.memory = record["memory"]
        if isinstance(record.get("usage"), dict):
            state.usage = usage_of(record["usage"])
    elif kind == Kind.END and isinstance(record.get("status"), str):
        state.status = record["status"]
        state.error = record.get("error") if isinstance(record.get("error"), str) else None
    loop_count = record.get("loop_count")
    if isinstance(loop_count, int) and not isinstance(loop_count, bool):
        state.loop_count = loop_count
    if state.status == Status.RUNNING and kind != Kind.END:
        state.status = Status.INTERRUPTED
