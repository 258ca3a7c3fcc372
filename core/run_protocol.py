"""The records a run's child process (:mod:`agent_tui.runner`) prints, one JSON object a line,
and its caller reads: each a dataclass, built in one place, encoded and decoded here.

- :class:`Start` once the agent is ready (after a load, ``loop_count`` is the restored count);
- :class:`Event` for every :class:`agent_tui.agent.AgentEvent` (``kind``, ``data``);
- :class:`Text` for streamed model text (chunks batched by the runner);
- :class:`End` last, always, with status ``completed``, ``error`` or ``interrupted``.

A reader decodes leniently: a line that is not a record gives ``None``, a missing or mistyped
field its default, so a child killed mid-line or a newer child never breaks the app.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar

import orjson

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agent_tui.redaction import Redactor


@dataclass(frozen=True)
class Start:
    """The agent is built (and loaded, for a resume) and about to run ``task``."""

    TYPE: ClassVar[str] = "start"
    pid: int | None = None
    folder: str | None = None
    agent_name: str = ""
    model: str = ""
    loop_count: int = 0
    max_loops: int | None = None
    resumed: bool = False
    messages: int = 0
    task: str = ""

    @classmethod
    def of(cls, agent: Any, *, pid: int, resumed: bool, task: str) -> Start:
        return cls(
            pid=pid,
            folder=str(agent._get_agent_workspace_dir()),
            agent_name=agent.agent_name,
            model=agent.model_name,
            loop_count=agent.loop_count,
            max_loops=agent.max_loops,
            resumed=resumed,
            messages=len(agent.conversation),
            task=task,
        )


@dataclass(frozen=True)
class Event:
    """One :class:`agent_tui.agent.AgentEvent`: step_start, tool_call, autosave, run_end, ..."""

    TYPE: ClassVar[str] = "event"
    kind: str = ""
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Text:
    """Streamed model text: a piece of a paragraph, not a whole line."""

    TYPE: ClassVar[str] = "text"
    text: str = ""


@dataclass(frozen=True)
class End:
    """The run is over; ``agent`` fields are ``None`` when it never got an agent."""

    TYPE: ClassVar[str] = "end"
    status: str = "error"
    error: str | None = None
    loop_count: int | None = None
    folder: str | None = None
    usage: dict[str, Any] | None = None

    @classmethod
    def of(cls, status: str, error: str | None, agent: Any = None) -> End:
        if agent is None:
            return cls(status, error)
        return cls(
            status,
            error,
            loop_count=agent.loop_count,
            folder=str(agent._get_agent_workspace_dir()),
            usage=dict(agent.usage),
        )


Record = Start | Event | Text | End
RECORDS: dict[str, type[Record]] = {kind.TYPE: kind for kind in (Start, Event, Text, End)}
# What a decoded field must be; anything else is read as the field's default.
_TYPES: dict[str, tuple[type, ...]] = {
    "int | None": (int, type(None)),
    "int": (int,),
    "str": (str,),
    "str | None": (str, type(None)),
    "bool": (bool,),
    "dict[str, Any]": (dict,),
    "dict[str, Any] | None": (dict, type(None)),
}


def to_dict(record: Record) -> dict[str, Any]:
    """The record as its JSON object: ``{"type": ..., **fields}``."""
    return {"type": record.TYPE, **asdict(record)}


def encode(record: Record) -> bytes:
    """One line of the protocol (without its newline)."""
    return orjson.dumps(to_dict(record), default=str)


def decode(document: Any) -> Record | None:
    """The record a decoded JSON line holds, or ``None`` when it holds none."""
    if not isinstance(document, dict):
        return None
    kind = RECORDS.get(document.get("type"))  # type: ignore[arg-type]
    if kind is None:
        return None
    values: dict[str, Any] = {}
    for spec in fields(kind):
        value = document.get(spec.name)
        allowed = _TYPES[str(spec.type)]
        # bool is an int to isinstance: a count of True is no count.
        if isinstance(value, allowed) and not (isinstance(value, bool) and bool not in allowed):
            values[spec.name] = value
    return kind(**values)


def redacted(record: Record, redactor: Redactor) -> Record:
    """``record`` with every secret ``redactor`` knows masked, field by field. Streamed text
    is not redacted here: a secret may span two chunks (see :class:`StreamRedactor`)."""
    return decode(redactor.redact(to_dict(record))) or record
