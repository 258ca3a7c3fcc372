"""What the CLI prints: aligned tables, JSON, ages, and masking of everything shown.

Every command prints through these, so a secret (the environment's, or one a foreign
agent's files hold) and a terminal escape never reach stdout or stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Collection, Sequence
from datetime import datetime

from agent_tui.units import clip, format_seconds, plural, utf8_safe

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from agent_tui.redaction import Redactor
    from agent_tui.workspace import AgentRecord

__all__ = ["ago", "ago_seconds", "clip", "masked_record", "masker", "plural", "table", "write_json"]


def table(
    headers: list[str],
    rows: Sequence[Sequence[str]],
    right: Collection[int] = frozenset(),
    *,
    width: int | None = None,
    shrink: Collection[int] = frozenset(),
) -> str:
    """``rows`` under ``headers`` in aligned columns (those in ``right`` right-aligned).

    With a ``width`` (a terminal's), every line fits in it: the widest of the ``shrink``
    columns is narrowed, one character at a time, down to its header's width, its cells cut
    with an ellipsis; should that not be enough, each line is cut at ``width``.
    """
    columns = list(zip(headers, *rows, strict=True))
    widths = [max(map(len, column)) for column in columns]
    if width is not None:
        fitted = _fit(widths, [len(h) for h in headers], shrink, width - 2 * (len(widths) - 1))
        cut = [i for i, (old, new) in enumerate(zip(widths, fitted, strict=True)) if new < old]
        if cut:
            rows = [_cut(row, cut, fitted) for row in rows]
            widths = fitted
    # One %-format for every row (faster than str.format): ls prints tens of thousands.
    last = len(widths) - 1
    fmt = "  ".join(
        "%s" if i == last else ("%" if i in right else "%-") + f"{size}s"
        for i, size in enumerate(widths)
    )
    lines = [(fmt % tuple(row)).rstrip() for row in [headers, *rows]]
    if width is not None and any(len(line) > width for line in lines):
        lines = [clip(line, width) for line in lines]
    return "\n".join(lines)


def _fit(widths: list[int], floors: list[int], shrink: Collection[int], room: int) -> list[int]:
    """``widths`` with the widest of the ``shrink`` columns narrowed (never below its floor)
    until they add up to ``room``, or can narrow no more."""
    fitted = list(widths)
    excess = sum(fitted) - room
    while excess > 0:
        narrowable = [i for i in shrink if fitted[i] > floors[i]]
        if not narrowable:
            break
        fitted[max(narrowable, key=fitted.__getitem__)] -= 1
        excess -= 1
    return fitted


def _cut(row: Sequence[str], cut: list[int], widths: list[int]) -> list[str]:
    cells = list(row)
    for i in cut:
        cells[i] = clip(cells[i], widths[i])
    return cells


def ago(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "-"
    return ago_seconds((now - moment).total_seconds())


def ago_seconds(seconds: float) -> str:
    return "in the future" if seconds < 0 else f"{format_seconds(seconds)} ago"


def write_json(document: Any) -> None:
    """``document`` as indented JSON. JSON is UTF-8, which a folder name that is not cannot be:
    its bad bytes are written as the text ``\\xNN`` (:func:`agent_tui.units.utf8_safe`)."""
    import orjson

    try:
        data = orjson.dumps(document, option=orjson.OPT_INDENT_2, default=str)
    except orjson.JSONEncodeError:
        # orjson refuses lone surrogates; only such a name pays for a second pass.
        data = orjson.dumps(
            _utf8_document(document),
            option=orjson.OPT_INDENT_2,
            default=lambda value: utf8_safe(str(value)),
        )
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.write(b"\n")


def _utf8_document(value: Any) -> Any:
    if isinstance(value, str):
        return utf8_safe(value)
    if isinstance(value, dict):
        return {_utf8_document(key): _utf8_document(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_utf8_document(item) for item in value]
    return value


def masker(*documents: Any) -> Redactor:
    """A redactor for output: the environment's secrets (``.env`` included) and every secret
    held in ``documents`` (a foreign agent's config keeps its keys in plain text)."""
    from agent_tui.redaction import Redactor

    found = Redactor()
    for document in documents:
        found.learn(document)
    return found


def masked_record(record: AgentRecord) -> dict[str, Any]:
    """``record.to_dict()`` safe to print. Its free text (a swarms ``error.txt`` line, problems)
    can hold the agent's key, so it is masked with what that agent's config holds."""
    document = record.to_dict()
    if not record.error and not record.problems:
        return document
    from agent_tui.format.persistence import WorkspaceFileError
    from agent_tui.workspace import load_config

    try:
        config = load_config(record.folder)
    except (OSError, WorkspaceFileError):
        config = {}
    return masker(config).redact(document)
