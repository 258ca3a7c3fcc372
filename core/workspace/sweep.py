"""Learning the secrets of a long document from its bytes, without parsing it: :func:`sweep`.

A view of a long run reads only the end of its files (:mod:`agent_tui.format.outline`,
:func:`agent_tui.format.journal.read_tail`), but the redactor must still learn every secret
the rest holds: a value under a secret-named key far back may be quoted, without its key, in
the last messages shown. :meth:`Redactor.learn` learns from parsed documents; parsing 50 MB
to walk it takes seconds. The sweep finds the same secrets in the bytes:

- a key that names a secret holds one of a few words (``key``, ``token``, ``secret``,
  ``passw``/``passp``, ``pwd``, ``auth``, ``credential``, ``cookie``: see
  :func:`agent_tui.redaction.is_secret_key`), in any case; a URL's credentials follow ``//``;
- JSON spells a character another way only with a backslash (``\\/``, ``\\u0041``), and the
  only non-ASCII character that lower-cases into one of those words is the Kelvin sign;

so every place one of those words (lower-cased), ``//``, an escape of a printable character
or a Kelvin sign occurs is looked at: the JSON string around it is found and decoded, and a
key is handed to the redactor with the string value it holds (``{key: value}``), a string
with the value it is (for its URL credentials): :meth:`Redactor.learn` applies its own rules
to them, so what the sweep teaches is what a parse and ``learn`` of the whole would, found
with a few C searches per megabyte. A part that cannot be decoded is reported, so the caller
can parse the whole instead.
"""

from __future__ import annotations

import re
import time

import orjson

from agent_tui.format.outline import SLICE
from agent_tui.redaction import Redactor

# Lower-cased bytes whose every occurrence is looked at (the module's docstring says why).
HINTS = (
    b"key",
    b"secret",
    b"token",
    b"passw",
    b"passp",
    b"pwd",
    b"auth",
    b"credential",
    b"cookie",
    b"//",
    b"\\/",
    b"\\u00",
    b"\\u212a",
    "\u212a".encode(),
)
_REACH = max(len(h) for h in HINTS) - 1
_REST_OF_STRING = re.compile(rb'(?:[^"\\]|\\.)*"')
_COLON = re.compile(rb"[ \t\r\n]*:[ \t\r\n]*")
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')


class Undecodable(Exception):
    """A string the sweep looked at is not JSON: the document is not what it seems."""


def sweep(data: bytes, begin: int, end: int, redactor: Redactor) -> bool:
    """Teach ``redactor`` every secret of the JSON text in ``data[begin:end]`` (whole
    strings: ``begin`` and ``end`` lie between two tokens). Returns whether it learned one
    that changes how a string is masked. Raises :class:`Undecodable` for broken JSON."""
    learned = False
    done = begin  # strings before this offset have been looked at
    for start in range(begin, end, SLICE):
        stop = min(end, start + SLICE)
        window = data[start : min(end, stop + _REACH)].lower()
        hits = sorted(
            {start + at for hint in HINTS for at in _occurrences(window, hint, stop - start)}
        )
        for at in hits:
            if at >= done:
                done, new = _look_at(data, at, end, redactor)
                learned = learned or new
        time.sleep(0)  # let the GIL go: a thread drawing the UI waiting for it gets it now
    return learned


def sweep_lines(data: bytes, begin: int, end: int, redactor: Redactor) -> bool:
    """:func:`sweep` of JSON lines (a journal) in ``data[begin:end]``, whole lines: a line
    that is not JSON (a journal may hold one) is skipped, as a reader of the journal skips
    it, and the others teach what they hold."""
    try:
        return sweep(data, begin, end, redactor)
    except Undecodable:
        learned = False
        for line in data[begin:end].split(b"\n"):
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            learned = _learn(redactor, record, line.decode("utf-8", "replace")) or learned
        return learned


def _occurrences(window: bytes, hint: bytes, limit: int) -> list[int]:
    found, at = [], window.find(hint)
    while 0 <= at < limit:
        found.append(at)
        at = window.find(hint, at + 1)
    return found


def _look_at(data: bytes, at: int, end: int, redactor: Redactor) -> tuple[int, bool]:
    """Learn from the string that holds byte ``at``; returns (where it ends, learned)."""
    rest = _REST_OF_STRING.match(data, at, end)
    if rest is None:
        raise Undecodable(f"a string at byte {at} does not end")
    after = rest.end()
    opening = _opening_quote(data, at)
    colon = _COLON.match(data, after, end)
    if colon is not None:  # a key: learn it with the string it holds, if it holds one
        value = _STRING.match(data, colon.end(), end)
        if value is None:
            return after, False
        key, text = _decode(data, opening, after), _decode(data, value.start(), value.end())
        return value.end(), _learn(redactor, {key: text}, text)
    text = _decode(data, opening, after)
    # A string that is no key's teaches only the passwords of the URLs in it.
    return after, "@" in text and _learn(redactor, text, text)


def _learn(redactor: Redactor, document: object, text: str) -> bool:
    """``redactor.learn(document)``; whether ``text`` is now masked otherwise than before."""
    before = redactor.redact_text(text)
    redactor.learn(document)
    return redactor.redact_text(text) != before


def _opening_quote(data: bytes, at: int) -> int:
    """The offset of the quote that opens the string holding byte ``at``: the last quote
    before it that no backslash escapes."""
    quote = data.rfind(b'"', 0, at)
    while quote >= 0:
        slash = quote
        while slash > 0 and data[slash - 1] == 0x5C:  # a backslash
            slash -= 1
        if (quote - slash) % 2 == 0:
            return quote
        quote = data.rfind(b'"', 0, quote)
    raise Undecodable(f"no string holds byte {at}")


def _decode(data: bytes, begin: int, end: int) -> str:
    try:
        text = orjson.loads(data[begin:end])
    except orjson.JSONDecodeError:
        raise Undecodable(f"bytes {begin}-{end} are not a JSON string") from None
    if not isinstance(text, str):
        raise Undecodable(f"bytes {begin}-{end} are not a JSON string")
    return text
