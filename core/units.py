"""Sizes, time spans and text as a person should see them: ``1.5 KB``, ``3h``, ``\\x1b``.

Kept apart from :mod:`agent_tui.cleanup` so that ``agent-tui ls`` can print them without importing
the machinery that deletes folders.
"""

from __future__ import annotations

import re
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


_AGE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", re.IGNORECASE)
_AGE_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "": 86400}
AGE_FORMS = "a number and a unit: 30m, 12h, 7d or 2w (s, m, h, d, w; a plain number is days)"

_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(?:([kmgt])(?:i?b)?|b)?\s*", re.IGNORECASE)
_SIZE_POWERS = {None: 0, "k": 1, "m": 2, "g": 3, "t": 4}
SIZE_FORMS = "a number and a unit: 500K, 10MB or 2G (K, M, G, T or KB, MB, GB, TB: powers of 1024)"


def parse_age(text: str) -> timedelta:
    """``"30m"``, ``"12h"``, ``"7d"``, ``"2w"``, ``"90s"`` -> a timedelta; a plain number is
    days. ``ValueError`` naming the accepted forms otherwise."""
    match = _AGE.fullmatch(text)
    if not match:
        raise ValueError(f"{text!r} is not an age; write {AGE_FORMS}")
    return timedelta(seconds=float(match.group(1)) * _AGE_SECONDS[match.group(2).lower()])


def parse_size(text: str) -> int:
    """``"10MB"``, ``"1.5g"``, ``"500K"``, ``"2048"`` -> bytes (K, M, G, T are powers of 1024;
    any case). ``ValueError`` naming the accepted forms otherwise."""
    match = _SIZE.fullmatch(text)
    if not match:
        raise ValueError(f"{text!r} is not a size; write {SIZE_FORMS}")
    unit = match.group(2)
    return int(float(match.group(1)) * 1024 ** _SIZE_POWERS[unit.lower() if unit else None])


# Text read from disk or streamed by a model must not drive the terminal: a config can carry
# escape sequences that clear the screen, retitle the window or hide lines. Every control
# character but newline and tab becomes a visible \xNN.
_CONTROLS = {
    code: f"\\x{code:02x}"
    for code in (*range(0x20), 0x7F, *range(0x80, 0xA0))
    if code not in (0x09, 0x0A)
}

# Characters that reorder or hide the text around them: bidi embeddings, overrides and isolates,
# zero-width spaces, joiners and marks, the word joiner, the byte-order mark and the Arabic letter
# mark. "rtl\u202egnp.exe" would read as "rtlexe.png". Each is shown as \uNNNN; the app shows
# them as a picture (agent_tui.tui.safe_text), from this one list.
INVISIBLE = (
    *range(0x200B, 0x2010),
    *range(0x202A, 0x202F),
    0x2060,
    *range(0x2066, 0x206A),
    0xFEFF,
    0x061C,
)

# A file name that is not UTF-8 reaches Python with each bad byte as a lone surrogate
# (U+DC80-U+DCFF for bytes 0x80-0xFF, PEP 383), which no UTF-8 output can carry: each is spelled
# as the byte it stands for, \xNN, and any other lone surrogate as \uNNNN.
_SURROGATES = {
    code: f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"
    for code in range(0xD800, 0xE000)
}
_UNPRINTABLE = {**_CONTROLS, **{code: f"\\u{code:04x}" for code in INVISIBLE}, **_SURROGATES}


def printable(text: str) -> str:
    """``text`` with its control characters (except newline and tab), its invisible and
    reordering characters (:data:`INVISIBLE`) and the bytes of a non-UTF-8 name spelled out."""
    return text.translate(_UNPRINTABLE)


def utf8_safe(text: str) -> str:
    """``text`` that encodes as UTF-8: the bytes of a non-UTF-8 name spelled out as ``\\xNN``
    (``"bad-\\udcff"`` -> ``"bad-\\\\xff"``); anything else is left as it is."""
    return text.translate(_SURROGATES)


def shorten(text: str, limit: int) -> str:
    """``text`` if it fits in ``limit`` characters, else its words that fit and an ellipsis
    (``…``). A word is cut only when keeping it whole would drop most of the text (a long URL
    or token)."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    if not text[limit - 1].isspace():  # the cut falls inside a word: drop that word
        last_space = re.search(r"\s+\S*\Z", head)
        if last_space and last_space.start() > limit // 2:
            head = head[: last_space.start()]
    return head.rstrip() + "…"


def clip(text: str, limit: int) -> str:
    """One line of at most ``limit`` characters, safe to print (see :func:`printable`), cut
    between words (see :func:`shorten`)."""
    if not text.isprintable():  # a newline, tab or control character (the rare case)
        text = printable(text.replace("\n", " ").replace("\t", " "))
    return shorten(text, limit)


def plural(count: int, noun: str) -> str:
    """``1 step``, ``2 steps``: the count and the noun, an ``s`` added but for one."""
    return f"{count} {noun}" + ("" if count == 1 else "s")
