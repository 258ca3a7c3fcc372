"""The append-only per-step journal: ``journal.jsonl`` in the agent's folder.

One JSON object per line, written and fsynced when a step completes, so the cost of a step does
not depend on how long the history is, and a ``kill -9`` loses at most the step in flight. The
state file records the last journal ``seq`` it includes; ``load()`` replays the records after it.
The journal is also the per-step history that ``diff --steps`` reads.

Record kinds: ``task`` (a run began: the user message), ``step`` (messages the step added, tool
results, usage, memory when it changed) and ``end`` (status of the run when it finished).

Readers: :func:`read_journal` (every record), :class:`JournalStream` (a record at a time, and
where it stopped, to read on from there as the journal grows) and :func:`read_tail` (the last
records, read backwards: a view of a 50,000-step run needs only those after its state file).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from agent_tui.format.persistence import (
    MAX_READ_BYTES,
    WorkspaceFileError,
    dumps,
    open_folder,
    open_regular,
    open_writable,
    read_fd,
)

# typing costs 3 ms of start-up and is needed only by type checkers here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any


@dataclass
class JournalRead:
    records: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def read_journal(path: os.PathLike[str] | str) -> JournalRead:
    """Every complete record; a torn last line (a write cut by a crash) is skipped and reported."""
    result = JournalRead()
    result.records = list(iter_journal(path, result.problems))
    return result


def iter_journal(path: os.PathLike[str] | str, problems: list[str]) -> Iterator[dict[str, Any]]:
    """:func:`read_journal` a record at a time; its problems are added to ``problems`` as
    the lines that have them are reached."""
    stream = JournalStream(Path(path), problems)
    yield from stream


@dataclass
class JournalStream:
    """The records of the journal at ``path`` from byte ``start`` (line ``first_line``) on,
    a record at a time: iterate it. Once iterated, ``ino``, ``end`` (just after the last whole
    line) and ``lines`` (the lines up to there) say where a later read of what is appended
    goes on from (``None`` for ``ino``: nothing was read); ``whole`` is false when the journal
    ended with a line still being written (or cut by a crash), read as :func:`read_journal`
    reads it: a later read must then start over."""

    path: Path
    problems: list[str] = field(default_factory=list)
    start: int = 0
    first_line: int = 1
    ino: int | None = None
    end: int = 0
    lines: int = 0
    whole: bool = False

    def __iter__(self) -> Iterator[dict[str, Any]]:
        try:
            folder_fd = open_folder(self.path.parent)
        except OSError as exc:
            self.problems.append(f"{self.path}: its folder: {exc.strerror or exc}")
            return
        try:
            fd, info = open_regular(self.path.name, dir_fd=folder_fd)
        except WorkspaceFileError as exc:
            if exc.reason != "file not found":
                self.problems.append(str(WorkspaceFileError(self.path, exc.reason)))
            return
        finally:
            os.close(folder_fd)
        try:
            os.lseek(fd, self.start, os.SEEK_SET)
            data = read_fd(fd, max(0, info.st_size - self.start), self.path)
        except WorkspaceFileError as exc:
            self.problems.append(str(exc))
            return
        finally:
            os.close(fd)
        whole = data.rfind(b"\n") + 1
        self.ino, self.end, self.whole = info.st_ino, self.start + whole, whole == len(data)
        self.lines = self.first_line - 1 + data.count(b"\n", 0, whole)
        for item in iter_records(data, self.path, self.first_line):
            if isinstance(item, str):
                self.problems.append(item)
            else:
                yield item


@dataclass
class JournalTail:
    """The records read from the end of a journal (:func:`read_tail`): ``records`` in file
    order, from the line at byte ``start`` to the end of the last whole line, ``end``."""

    records: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    start: int = 0
    end: int = 0


# The first read from the end; each further one reads twice as far back, up to the cap.
TAIL_CHUNK = 1 << 16
TAIL_CHUNK_MAX = 1 << 22


def read_tail(
    fd: int,
    size: int,
    path: os.PathLike[str] | str,
    stop: Callable[[dict[str, Any]], bool],
    *,
    limit: int = MAX_READ_BYTES,
) -> JournalTail:
    """The records after the last one for which ``stop`` is true, read backwards from the
    end of the journal open as ``fd`` (``size`` bytes), without reading what comes before.

    The journal's seqs increase, so a reader that wants the records after seq N stops at the
    first record (from the end) at or before N: the lines before it are not read at all. A
    last line still being written (no newline yet) is left out, as a reader of what was
    appended leaves it for its next read; a whole line that does not parse is skipped and
    reported, as :func:`parse_records` reports it. Reading back further than ``limit``
    bytes raises :class:`WorkspaceFileError` (too large), as a whole read of as much would.
    """
    end = whole_lines_end(fd, size)
    result = JournalTail(start=0, end=end)
    skipped: list[tuple[int, str]] = []  # (offset, why) of the lines that did not parse
    for offset, line in _lines_backwards(fd, end):
        if end - offset > limit:
            read_fd(fd, end, path, limit=limit)  # raises: too large, in its words
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            last = offset + len(line) + 1 == end
            skipped.append((offset, _CUT_SHORT if last else "bad line"))
            continue
        if not isinstance(record, dict):
            skipped.append((offset, "not an object"))
        elif stop(record):
            result.start = offset + len(line) + 1
            break
        else:
            result.records.append(record)
    result.records.reverse()
    for offset, why in reversed(skipped):
        result.problems.append(f"{path}: line {lines_before(fd, offset) + 1}: {why}, skipped")
    return result


def whole_lines_end(fd: int, size: int) -> int:
    """The offset just after the last newline of the first ``size`` bytes of ``fd`` (0 when
    there is none): what follows it is a line still being written, or cut by a crash."""
    position = size
    while position > 0:
        begin = max(0, position - TAIL_CHUNK)
        cut = os.pread(fd, position - begin, begin).rfind(b"\n")
        if cut >= 0:
            return begin + cut + 1
        position = begin
    return 0


def _lines_backwards(fd: int, end: int) -> Iterator[tuple[int, bytes]]:
    """``(offset, line)`` of every line of ``fd`` before byte ``end`` (just after a
    newline), the last first, reading a chunk at a time (twice as large each time, up to
    :data:`TAIL_CHUNK_MAX`). A line longer than :data:`MAX_READ_BYTES` ends the reading: it
    is given as the bytes read of it, at the offset they start at."""
    chunk, position, carry = TAIL_CHUNK, end, b""
    while position > 0:
        if len(carry) > MAX_READ_BYTES:
            yield position, carry[:-1]
            return
        begin = max(0, position - chunk)
        parts = (os.pread(fd, position - begin, begin) + carry).split(b"\n")
        parts.pop()  # after the final newline
        # The first part may have begun before this chunk: it goes with the next one.
        carry = parts.pop(0) + b"\n" if begin > 0 and parts else b""
        offset = begin + len(carry) + sum(len(p) + 1 for p in parts)
        for line in reversed(parts):
            offset -= len(line) + 1
            yield offset, line
        position, chunk = begin, min(chunk * 2, TAIL_CHUNK_MAX)


def lines_before(fd: int, offset: int) -> int:
    """How many lines end before byte ``offset`` of ``fd`` (a line number, less one)."""
    count, at = 0, 0
    while at < offset:
        data = os.pread(fd, min(TAIL_CHUNK_MAX, offset - at), at)
        if not data:
            break
        count += data.count(b"\n")
        at += len(data)
    return count


_CUT_SHORT = "last line cut short (the step in flight at a crash)"


def parse_records(data: bytes, path: os.PathLike[str] | str, first_line: int = 1) -> JournalRead:
    """The records in ``data``, lines of the journal from line ``first_line`` on (a reader of
    what was appended since its last read passes only whole lines)."""
    result = JournalRead()
    for item in iter_records(data, path, first_line):
        if isinstance(item, str):
            result.problems.append(item)
        else:
            result.records.append(item)
    return result


def iter_records(
    data: bytes, path: os.PathLike[str] | str, first_line: int = 1
) -> Iterator[dict[str, Any] | str]:
    """:func:`parse_records` one line at a time: each record, or the problem (a string) of a
    line that holds none, in the journal's order. A reader that keeps only a little of each
    record holds one record at a time, not all of them."""
    lines = data.split(b"\n")
    for index, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        number = first_line + index - 1
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            last = index == len(lines) or (index == len(lines) - 1 and not lines[-1])
            where = _CUT_SHORT if last else "bad line"
            yield f"{path}: line {number}: {where}, skipped"
            continue
        if isinstance(record, dict):
            yield record
        else:
            yield f"{path}: line {number}: not an object, skipped"


def _last_seq(fd: int, size: int) -> int:
    tail = os.pread(fd, min(size, 1 << 20), max(0, size - (1 << 20)))
    for line in reversed(tail.split(b"\n")):
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(record, dict) and isinstance(record.get("seq"), int):
            return record["seq"]
    return 0


class JournalWriter:
    """Appends records with fsync. Keeps the file open for the length of a run."""

    def __init__(self, path: Path, *, durable: bool = True) -> None:
        self.path = Path(path)
        self.durable = durable
        self._fd: int | None = None
        self._good_size = 0
        self.last_seq = 0

    def open(self) -> None:
        if self._fd is not None:
            return
        # Never through a link, a FIFO or a hard link to a file elsewhere (UnsafePathError).
        folder_fd = open_folder(self.path.parent)
        try:
            fd = open_writable(self.path, dir_fd=folder_fd)
        finally:
            os.close(folder_fd)
        size = os.fstat(fd).st_size
        # A crash mid-append leaves a line with no newline; cut it so the next record starts
        # on a line of its own (that partial record was the step in flight, already lost).
        if size:
            good = whole_lines_end(fd, size)
            if good != size:
                os.ftruncate(fd, good)
            size = good
            self.last_seq = _last_seq(fd, size)
        self._fd = fd
        self._good_size = size

    def sync(self) -> None:
        """fdatasync what :meth:`append` wrote with ``sync=False`` (safe from another thread)."""
        if self._fd is not None:
            os.fdatasync(self._fd)

    def append(self, records: list[dict[str, Any]], *, sync: bool = True) -> int:
        """Append records (one line each); returns bytes written. On failure the file is cut back
        to its last good size so a retry does not leave a torn line behind. ``sync=False``
        leaves the fdatasync to a later :meth:`sync`: the lines are in the page cache (they
        survive a killed process) but not yet on the disk (a power cut could lose them)."""
        self.open()
        assert self._fd is not None
        payload = b"".join(dumps(r, indent=False) + b"\n" for r in records)
        try:
            view = memoryview(payload)
            offset = self._good_size
            while view:
                written = os.pwrite(self._fd, view, offset)
                view = view[written:]
                offset += written
            if self.durable and sync:
                os.fdatasync(self._fd)
        except OSError:
            try:
                os.ftruncate(self._fd, self._good_size)
            except OSError:
                pass
            raise
        self._good_size += len(payload)
        return len(payload)

    def close(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)
