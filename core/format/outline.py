"""Reading a long JSON document without parsing its long arrays: :func:`outline`.

A state file of 50,000 steps is ~50 MB, nearly all of it the conversation; parsing it whole
takes longer than a view may take to open, and ``orjson.loads`` holds the GIL (the UI's
thread) for all of it. Every document we write is indented (orjson, 2 spaces: see
docs/FORMAT.md), and so is swarms' ``config.json``; a raw newline never occurs inside a JSON
string, so in an indented document the lines tell the nesting:

- a member of the top-level object starts on a line ``<indent>"key": ...``;
- an item of a top-level array starts on a line indented twice, and is not a closing
  ``}``/``]``.

:func:`outline` parses every member but the long arrays named, counts those arrays' items by
their lines and parses only their last items. What it parses is checked: each member parses
as members of an object, the tail as whole items (as many as their lines said), the document
opens with ``{`` and closes with ``}``. A document laid out any other way (not indented, a
long array on one line or not closing on a line of its own, a long array given twice)
raises :class:`NotOutlined` and the caller parses it whole. What is not checked is the middle of a long array, which is counted, not read:
a file whose newlines lie about its nesting (no serializer writes one) is counted by its lines.

The work is done in slices of :data:`SLICE` bytes, so the GIL is let go between them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

import orjson

# typing costs 3 ms of start-up and is needed only by type checkers here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any

# Bytes searched per call: about a millisecond of the GIL at a time.
SLICE = 1 << 20
# A JSON string at the start of a slice: the key of a member (read from at most this many
# bytes: a longer key is not one a writer of ours or swarms writes).
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_KEY_WINDOW = 4096


class NotOutlined(Exception):
    """The document is not laid out as :func:`outline` reads it; parse it whole."""


@dataclass
class LongArray:
    """A top-level array read from its end: ``total`` items, the last of them ``items``.
    Offsets are of the document's bytes: ``cut`` is where ``items[0]`` begins, ``first``
    where the first item begins and ``end`` where the array's closing line begins."""

    total: int
    items: list[Any]
    first: int
    cut: int
    end: int


@dataclass
class Outline:
    """The document's members but the long arrays (a key given twice keeps its last value,
    as a whole parse does), the long arrays, and every key in the order of the file."""

    members: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, LongArray] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)


class Source:
    """The bytes of a document, read a piece at a time: ``read(offset, size)`` gives at most
    ``size`` bytes from ``offset``. A file is read with ``os.pread`` into small buffers (a
    50 MB buffer filled at once costs more in page faults than the whole outline)."""

    def __init__(self, read: Callable[[int, int], bytes], size: int) -> None:
        self.read = read
        self.size = size

    @classmethod
    def of_bytes(cls, data: bytes) -> Source:
        return cls(lambda offset, size: data[offset : offset + size], len(data))

    @classmethod
    def of_file(cls, fd: int, size: int) -> Source:
        return cls(lambda offset, count: os.pread(fd, count, offset), size)

    def find(self, needle: bytes, begin: int, end: int) -> int:
        """The offset of the first ``needle`` in ``[begin, end)``, or ``end``."""
        for start, stop in _slices(begin, end):
            at = self.read(start, min(end, stop + len(needle) - 1) - start).find(needle)
            if 0 <= at < stop - start:
                return start + at
        return end


def outline(data: bytes | Source, keep: dict[str, int]) -> Outline:
    """Read ``data`` (a JSON object) with the arrays under the keys of ``keep`` counted and
    only their last ``keep[key]`` items parsed. Raises :class:`NotOutlined` when the layout
    is not the indented one or a part read is not JSON (see the module's docstring): a whole
    parse then says what is wrong, if anything."""
    source = Source.of_bytes(data) if isinstance(data, bytes) else data
    try:
        return _outline(source, keep)
    except orjson.JSONDecodeError as exc:
        raise NotOutlined(f"a part read is not JSON: {exc}") from None


def _outline(source: Source, keep: dict[str, int]) -> Outline:
    indent = _indent(source.read(0, 256))
    member = b"\n" + indent + b'"'
    ending = source.read(max(0, source.size - 256), 256)
    close = source.size - len(ending) + _end_of_text(ending, len(ending))
    if source.read(close - 2, 2) != b"\n}":
        raise NotOutlined("the document does not close on a line of its own")
    close -= 2  # the newline before the closing brace
    result = Outline()
    order: dict[str, None] = {}
    at = source.find(member, 0, close)  # _indent found the first member after "{"
    while at < close:
        begin = at + 1
        head = source.read(begin + len(indent), _KEY_WINDOW)
        match = _STRING.match(head)
        if match is None:
            raise NotOutlined(f"no key at byte {begin}")
        key = orjson.loads(match.group())
        opening = head.find(b"[", match.end(), match.end() + 8)
        if key in keep and opening >= 0 and head[match.end() : opening].strip() == b":":
            if key in result.arrays:
                raise NotOutlined(f"{key!r} is given twice")
            opening += begin + len(indent)
            array, after = _long_array(source, opening, indent, keep[key])
            result.arrays[key] = array
            order[key] = None
            result.members.pop(key, None)
            at = min(after, close)
            if at < close and source.read(at, len(member)) != member:
                raise NotOutlined(f"{key!r}: no member follows the array on a line of its own")
            continue
        at = source.find(member, begin, close)
        text = source.read(begin, at - begin)
        members = orjson.loads(b"{" + text[: _end_of_text(text, len(text), b",")] + b"}")
        if not isinstance(members, dict) or any(k in result.arrays for k in members):
            raise NotOutlined(f"{key!r}: a long array given twice, once not as one")
        result.members.update(members)
        order.update(dict.fromkeys(members))
    result.order = list(order)
    return result


def _indent(head: bytes) -> bytes:
    head = head.lstrip()
    if not head.startswith(b"{\n"):
        raise NotOutlined("not an indented object")
    line = head[2:]
    unit = line[: len(line) - len(line.lstrip(b" \t"))]
    if not unit or not line[len(unit) :].startswith(b'"'):
        raise NotOutlined("not an indented object")
    return unit


def _end_of_text(data: bytes, end: int, also: bytes = b"") -> int:
    """``end`` moved back over whitespace (and one of ``also``): no copy of ``data``."""
    while end > 0 and data[end - 1 : end] in (b" ", b"\t", b"\r", b"\n"):
        end -= 1
    if also and data[end - 1 : end] == also:
        end = _end_of_text(data, end - 1)
    return end


def _long_array(source: Source, opening: int, indent: bytes, keep: int) -> tuple[LongArray, int]:
    """The array whose ``[`` is at ``opening``, and where what follows it begins."""
    after_open = opening + 1
    if source.read(after_open, 1) == b"]":
        array = LongArray(0, [], after_open, after_open, after_open)
        return array, _line_end(source, after_open + 1)
    inner = indent * 2
    first = opening + 2  # after "[" and its newline
    reach = len(inner) + 1  # how far an item's match reaches past its newline
    if not _item_pattern(inner).match(source.read(first - 1, reach + 1)):
        raise NotOutlined("a long array is not laid out one item a line")
    # One pass: each item's first line, up to the array's closing line; a member's line
    # before it means the array does not close on a line of its own.
    edge = re.escape(b"\n" + indent)
    lines = re.compile(edge + rb'(?:\]|"|' + re.escape(indent) + _ITEM_START.pattern + b")")
    closing, member = b"\n" + indent + b"]", b"\n" + indent + b'"'
    total, end = 0, -1
    for begin, stop in _slices(first - 1, source.size):
        chunk = source.read(begin, stop + reach - begin)
        found = lines.findall(chunk)
        if closing in found or member in found:
            here = found.index(closing) if closing in found else len(found)
            if member in found[:here] or closing not in found:
                raise NotOutlined("a long array does not close on a line of its own")
            total += here
            end = begin + chunk.index(closing)
            break
        total += len(found)
    if end < 0:
        raise NotOutlined("a long array does not close on a line of its own")
    starts = _item_starts(source, first, end, inner, keep)
    items: list[Any] = []
    if starts:
        items = orjson.loads(b"[" + source.read(starts[0], end - starts[0]) + b"]")
        if len(items) != len(starts):
            raise NotOutlined("the lines of a long array's last items do not match their nesting")
    array = LongArray(total, items, first, starts[0] if starts else end, end)
    return array, _line_end(source, end + len(closing))


def _line_end(source: Source, at: int) -> int:
    """Where the line of a long array's closing bracket (just before ``at``) ends; only a
    comma may follow the bracket on it."""
    end = source.find(b"\n", at, source.size)
    if source.read(at, end - at).strip() not in (b"", b","):
        raise NotOutlined("something follows a long array on its closing line")
    return end


def _item_starts(source: Source, first: int, end: int, inner: bytes, count: int) -> list[int]:
    """Offsets of the last ``count`` item lines in ``[first, end)``, searched backwards."""
    pattern = _item_pattern(inner)
    reach = len(inner) + 1
    starts: list[int] = []
    stop, span = end, 1 << 16
    while count > 0:
        begin = max(first - 1, stop - span)
        window = source.read(begin, min(end, stop + reach) - begin)
        found = [
            begin + m.start() + 1 for m in pattern.finditer(window) if begin + m.start() < stop
        ]
        taken = found[-count:] if found else []
        starts[:0] = taken
        count -= len(taken)
        if begin == first - 1:
            break
        stop, span = begin, span * 2
    return starts


# The first character of an item's line: not a closing bracket, not deeper, not blank.
_ITEM_START = re.compile(rb"[^ \t\r\n}\]]")


def _item_pattern(inner: bytes) -> re.Pattern[bytes]:
    return re.compile(b"\n" + re.escape(inner) + _ITEM_START.pattern)


def _slices(begin: int, end: int) -> Iterator[tuple[int, int]]:
    for start in range(begin, end, SLICE):
        yield start, min(end, start + SLICE)
