"""Sizes, time spans and text as a person should see them: ``1.5 KB``, ``3h``, ``\\x1b``.

Kept apart from :mod:`core.cleanup` so that ``agent-tui ls`` can print them without importing
the machinery that deletes folders.
"""

from __future__ import annotations

from datetime import timedelta

_UNITS = (("TB", 1 << 40), ("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10))


def format_bytes(count: int) -> str:
    """``1536`` -> ``"1.5 KB"`` (binary multiples, one decimal)."""
    for unit, size in _UNITS:
        if count >= size:
            return f"{count / size:.1f} {unit}"
    return f"{count} B"


def format_span(delta: timedelta) -> str:
    """The largest whole unit of a span: ``"12d"``, ``"3h"``, ``"5m"``, ``"40s"``."""
    return format_seconds(delta.total_seconds())


def format_seconds(seconds: float) -> str:
    """:func:`format_span` of a number of seconds."""
    whole = int(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if whole >= size:
            return f"{whole // size}{unit}"
    return f"{max(whole, 0)}s"


# Text read from disk or streamed by a model must not drive the terminal: a config can carry
# escape sequences that clear the screen, retitle the window or hide lines. Every control
# character but newline and tab becomes a visible \xNN.
_CONTROLS = {
    code: f"\\x{code:02x}"
    for code in (*range(0x20), 0x7F, *range(0x80, 0xA0))
    if code not in (0x09, 0x0A)
}


def printable(text: str) -> str:
    """``text`` with its control characters (except newline and tab) spelled out."""
    return text.translate(_CONTROLS)
