"""Structural diff of two JSON documents: what was added, removed, changed — and appended.

Paths read like the code that would reach the value: ``conversation[3].content``,
``_autosave_metadata.loop_count``, ``tools[0]["odd key"]``. Lists are compared as sequences:
when one is a prefix of the other the extra items are ``appended`` (or ``removed`` from the
end), so a conversation that grew by two messages shows two messages, not a rewritten list.
Otherwise :class:`difflib.SequenceMatcher` aligns the items and the differing stretches are
compared item by item.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass
from typing import Any, TextIO

import orjson

from agent_tui.units import printable

ADDED, REMOVED, CHANGED, APPENDED = "added", "removed", "changed", "appended"
# Keys whose values change on every write without saying anything about the agent's work.
NOISE_KEYS = frozenset(
    {"timestamp", "ts", "saved_at", "started_at", "duration_ms", "pid", "hostname", "run_id"}
)

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MISSING: Any = object()


@dataclass
class Change:
    """One difference: ``kind`` is added, removed, changed or appended; ``old``/``new`` are
    absent (``None`` in JSON) on the side where the value does not exist."""

    kind: str
    path: str
    old: Any = _MISSING
    new: Any = _MISSING

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "path": self.path}
        if self.old is not _MISSING:
            out["old"] = self.old
        if self.new is not _MISSING:
            out["new"] = self.new
        return out


def key_path(parent: str, key: object) -> str:
    """The path of ``parent``'s child ``key``: ``a.b`` for plain ASCII names, ``a[0]`` for a
    list index, ``a["odd key"]`` (JSON-quoted) for anything else. The one spelling every
    caller (this diff, the app's highlighting) uses."""
    if isinstance(key, int) and not isinstance(key, bool):
        return f"{parent}[{key}]"
    if isinstance(key, str) and _IDENTIFIER.match(key):
        return f"{parent}.{key}" if parent else key
    return f"{parent}[{orjson.dumps(str(key)).decode()}]"


def _hashable(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str)


def diff(old: Any, new: Any, *, ignore_noise: bool = False) -> list[Change]:
    """Every difference between ``old`` and ``new``, in document order.

    ``ignore_noise=True`` skips keys in :data:`NOISE_KEYS` (timestamps, pids, run ids) at any
    depth, for comparing two saves of the same work.
    """
    changes: list[Change] = []
    _compare(old, new, "", changes, ignore_noise)
    return changes


def _compare(old: Any, new: Any, path: str, out: list[Change], ignore_noise: bool) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        _compare_dicts(old, new, path, out, ignore_noise)
    elif isinstance(old, list) and isinstance(new, list):
        _compare_lists(old, new, path, out, ignore_noise)
    elif old != new or type(old) is not type(new):
        out.append(Change(CHANGED, path, old, new))


def _compare_dicts(old: dict, new: dict, path: str, out: list[Change], ignore_noise: bool) -> None:
    for key, value in old.items():
        if ignore_noise and key in NOISE_KEYS:
            continue
        where = key_path(path, key)
        if key in new:
            _compare(value, new[key], where, out, ignore_noise)
        else:
            out.append(Change(REMOVED, where, old=value))
    for key, value in new.items():
        if key not in old and not (ignore_noise and key in NOISE_KEYS):
            out.append(Change(ADDED, key_path(path, key), new=value))


def _same(a: Any, b: Any, ignore_noise: bool) -> bool:
    if not ignore_noise:
        return a is b or (a == b and type(a) is type(b))
    probe: list[Change] = []
    _compare(a, b, "", probe, ignore_noise)
    return not probe


def _compare_lists(old: list, new: list, path: str, out: list[Change], ignore_noise: bool) -> None:
    shorter = min(len(old), len(new))
    if all(_same(old[i], new[i], ignore_noise) for i in range(shorter)):
        for i in range(shorter, len(new)):
            out.append(Change(APPENDED, key_path(path, i), new=new[i]))
        for i in range(shorter, len(old)):
            out.append(Change(REMOVED, key_path(path, i), old=old[i]))
        return
    keys_old = [_item_key(v, ignore_noise) for v in old]
    keys_new = [_item_key(v, ignore_noise) for v in new]
    matcher = difflib.SequenceMatcher(None, keys_old, keys_new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            # Keys can collide (JSON writes inf, -inf and nan as null): check the items too.
            for k in range(i2 - i1):
                if not _same(old[i1 + k], new[j1 + k], ignore_noise):
                    _compare(old[i1 + k], new[j1 + k], key_path(path, j1 + k), out, ignore_noise)
            continue
        paired = min(i2 - i1, j2 - j1)
        # Items facing each other in a replaced stretch are the same slot edited: recurse, so
        # one changed message field shows as that field, not as a removed and an added message.
        for k in range(paired):
            _compare(old[i1 + k], new[j1 + k], key_path(path, j1 + k), out, ignore_noise)
        for k in range(i1 + paired, i2):
            out.append(Change(REMOVED, key_path(path, k), old=old[k]))
        for k in range(j1 + paired, j2):
            out.append(Change(ADDED, key_path(path, k), new=new[k]))


def _item_key(value: Any, ignore_noise: bool) -> bytes:
    if ignore_noise and isinstance(value, dict):
        value = {k: v for k, v in value.items() if k not in NOISE_KEYS}
    return _hashable(value)


def summary(changes: list[Change]) -> str:
    """``"2 appended, 1 changed"`` or ``"no differences"``."""
    counts: dict[str, int] = {}
    for change in changes:
        counts[change.kind] = counts.get(change.kind, 0) + 1
    order = (APPENDED, ADDED, CHANGED, REMOVED)
    parts = [f"{counts[kind]} {kind}" for kind in order if counts.get(kind)]
    return ", ".join(parts) if parts else "no differences"


def to_json(changes: list[Change]) -> bytes:
    """``{"summary", "changes": [{kind, path, old?, new?}]}`` as indented JSON bytes."""
    document = {"summary": summary(changes), "changes": [c.to_dict() for c in changes]}
    return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS, default=str)


def use_color(stream: TextIO, force: bool | None = None) -> bool:
    """Colour when forced, else when ``stream`` is a terminal and ``NO_COLOR`` is not set."""
    if force is not None:
        return force
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


_STYLE = {ADDED: ("+", "32"), APPENDED: ("+", "32"), REMOVED: ("-", "31"), CHANGED: ("~", "33")}


def _show(value: Any, limit: int) -> str:
    if isinstance(value, dict) and isinstance(value.get("role"), str):
        # A message reads better as "role: text" than as a JSON object.
        content = value.get("content")
        text = content if isinstance(content, str) else _hashable(content).decode()
        calls = value.get("tool_calls")
        if isinstance(calls, list) and calls:
            names = [
                str((c.get("function") or {}).get("name", "?"))
                for c in calls
                if isinstance(c, dict)
            ]
            text = f"{text} [tool calls: {', '.join(names)}]".strip()
        shown = f"{value['role']}: {text}"
    else:
        shown = orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
    shown = shown.replace("\n", "\\n")
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def render_text(changes: list[Change], *, color: bool = False, width: int = 200) -> str:
    """One line per change (``+``/``-``/``~``, the path, the values) and a summary line.
    Values longer than ``width`` characters are cut with an ellipsis."""
    lines = []
    for change in changes:
        mark, code = _STYLE[change.kind]
        if change.kind == CHANGED:
            body = f"{_show(change.old, width)} -> {_show(change.new, width)}"
        elif change.kind == REMOVED:
            body = _show(change.old, width)
        else:
            body = _show(change.new, width)
        label = f" ({change.kind})" if change.kind == APPENDED else ""
        # Paths and texts come from files: their control characters are spelled out.
        line = printable(f"{mark} {change.path or '(document)'}{label}: {body}")
        lines.append(f"\x1b[{code}m{line}\x1b[0m" if color else line)
    tail = summary(changes)
    lines.append(f"\x1b[1m{tail}\x1b[0m" if color else tail)
    return "\n".join(lines) + "\n"
