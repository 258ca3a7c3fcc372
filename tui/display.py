"""How records and documents look on screen: badges, ages, sizes, JSON and transcripts.

Pure functions from data to Rich ``Text``; no widget state, so every view renders the same way
and tests can check the text without an app.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson
from rich.text import Text

from agent_tui.diff import key_path
from agent_tui.units import format_bytes, format_span, shorten
from agent_tui.workspace import AgentRecord

if TYPE_CHECKING:
    from textual.worker import Worker

Clock = Callable[[], datetime]

STATUS_STYLES = {
    "running": "bold black on #5fd7ff",
    "completed": "bold black on #87d787",
    "error": "bold white on #d75f5f",
    "interrupted": "bold black on #ffd75f",
    "broken": "bold white on #af5faf",
    "stopping": "bold black on #d7af5f",
    "unknown": "bold white on #606060",
    "memory": "bold black on #afafd7",
}
ROLE_STYLES = {
    "system": "bold #af87ff",
    "user": "bold #5fafff",
    "assistant": "bold #87d787",
    "tool": "bold #ffaf5f",
}
CHANGED_LINE = "on #4e4e00"
MAX_VALUE_CHARS = 4000
# What a view shows while its loader reads the selected agent in a thread.
LOADING = "loading..."


def utc_now() -> datetime:
    """The real clock; the app takes any ``Clock`` so tests and snapshots can fix time."""
    return datetime.now(UTC)


def unreadable(problem: str) -> Text:
    """Why a file cannot be shown, where its contents would be."""
    return Text(problem, style="italic")


def failure_text(worker: Worker) -> Text:
    """A loader that failed unexpectedly, said where its result would be."""
    return Text(f"{worker.description} failed: {worker.error}", style="bold #ff5f5f")


def status_badge(status: str) -> Text:
    """A fixed-width coloured label: ``" running "``."""
    return Text(f" {status:<11}", style=STATUS_STYLES.get(status, STATUS_STYLES["unknown"]))


def age_text(record: AgentRecord, now: datetime) -> str:
    """``"12d"`` / ``"3h"`` / ``"40s"`` since the last autosave (or newest file); ``"-"`` if none."""
    moment = record.last_activity
    return format_span(now - moment) if moment else "-"


def ago_text(moment: datetime | None, now: datetime) -> str:
    """``"3 s ago"`` for a header line; ``"never"`` when there is no time."""
    if moment is None:
        return "never"
    seconds = max(0, int((now - moment).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"


def loops_text(record: AgentRecord) -> str:
    return "-" if record.loop_count is None else str(record.loop_count)


def size_text(record: AgentRecord) -> str:
    return format_bytes(record.size_bytes)


def child_path(parent: str, key: object) -> str:
    """A path in the one syntax of :func:`agent_tui.diff.key_path` (``a.b``, ``a[0]``,
    ``a["odd key"]``), so a changed key is found whatever characters it holds."""
    return key_path(parent, key)


def _scalar(value: Any) -> Text:
    if isinstance(value, str):
        return Text(orjson.dumps(shorten(value, MAX_VALUE_CHARS)).decode(), style="#87d787")
    if value is None or isinstance(value, bool):
        return Text(orjson.dumps(value).decode(), style="italic #d787d7")
    if isinstance(value, int | float):
        return Text(orjson.dumps(value).decode(), style="#5fd7ff")
    return Text(orjson.dumps(value, default=str).decode())


def json_fields(value: Any, path: str = "") -> dict[str, Any]:
    """Every path of a JSON document (objects and lists too, in the paths' one syntax) -> its
    value: what ``Y`` in the Config tab offers to copy."""
    fields = {path: value} if path else {}
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, item in items:
        fields.update(json_fields(item, child_path(path, key)))
    return fields


def field_text(value: Any) -> str:
    """A field's value as a user pastes it: text as it is, anything else as JSON."""
    return (
        value
        if isinstance(value, str)
        else orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
    )


def json_lines(value: Any) -> list[tuple[str, Text]]:
    """Pretty JSON (indent 2) as ``(path, line)`` pairs, so a view can mark changed paths."""
    out: list[tuple[str, Text]] = []
    _emit(value, "", Text(), 0, True, out)
    return out


def _emit(value: Any, path: str, head: Text, depth: int, last: bool, out: list) -> None:
    pad = "  " * depth
    comma = "" if last else ","
    if isinstance(value, dict | list) and value:
        opener, closer = ("{", "}") if isinstance(value, dict) else ("[", "]")
        out.append((path, Text(pad) + head + Text(opener)))
        items = list(value.items()) if isinstance(value, dict) else list(enumerate(value))
        for n, (key, item) in enumerate(items):
            key_text = (
                Text(orjson.dumps(str(key)).decode(), style="bold #87afff") + Text(": ")
                if isinstance(value, dict)
                else Text()
            )
            _emit(item, child_path(path, key), key_text, depth + 1, n == len(items) - 1, out)
        out.append((path, Text(pad + closer + comma)))
        return
    shown = (
        Text("{}" if isinstance(value, dict) else "[]")
        if isinstance(value, dict | list)
        else _scalar(value)
    )
    out.append((path, Text(pad) + head + shown + Text(comma)))


def is_under(path: str, changed: Iterable[str]) -> bool:
    """True when ``path`` is one of ``changed`` or inside one of them."""
    for root in changed:
        if path == root or path.startswith((root + ".", root + "[")) or (root == "" and path):
            return True
    return False


def render_json(value: Any, changed: frozenset[str] = frozenset()) -> Text:
    """The whole document as one ``Text``; lines under a changed path get a background."""
    text = Text(no_wrap=False)
    for n, (path, line) in enumerate(json_lines(value)):
        if n:
            text.append("\n")
        if changed and path and is_under(path, changed):
            line.stylize(CHANGED_LINE)
        text.append_text(line)
    return text


def _arguments(raw: Any) -> str:
    text = raw if isinstance(raw, str) else orjson.dumps(raw, default=str).decode()
    return shorten(text, 300)


def render_message(message: dict[str, Any]) -> Text:
    """One transcript entry: a role line (with step, tool name), the content, its tool calls."""
    role = str(message.get("role", "unknown"))
    head = Text(f"{role}", style=ROLE_STYLES.get(role, "bold"))
    if message.get("name"):
        head.append(f" {message['name']}", style="bold")
    if message.get("step") is not None:
        head.append(f"  step {message['step']}", style="dim")
    if message.get("tool_call_id"):
        head.append(f"  <- {message['tool_call_id']}", style="dim")
    text = Text()
    text.append_text(head)
    content = str(message.get("content") or "")
    if content:
        text.append("\n")
        text.append(shorten(content, MAX_VALUE_CHARS))
    for call in message.get("tool_calls") or []:
        if not isinstance(call, dict):
            continue
        function = call.get("function") or {}
        name = function.get("name", "?") if isinstance(function, dict) else "?"
        args = function.get("arguments", "") if isinstance(function, dict) else ""
        text.append("\n")
        text.append(f"  -> {name}", style="bold #ffaf5f")
        text.append(f"({_arguments(args)})")
        if call.get("id"):
            text.append(f"  [{call['id']}]", style="dim")
    return text
