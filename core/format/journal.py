"""The append-only per-step journal: ``journal.jsonl`` in the agent's folder.

One JSON object per line, written and fsynced when a step completes, so the cost of a step does
not depend on how long the history is, and a ``kill -9`` loses at most the step in flight. The
state file records the last journal ``seq`` it includes; ``load()`` replays the records after it.
The journal is also the per-step history that ``diff --steps`` reads.

Record kinds: ``task`` (a run began: the user message), ``step`` (messages the step added, tool
results, usage, memory when it changed) and ``end`` (status of the run when it finished).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from agent_tui.format.persistence import (
    WorkspaceFileError,
    dumps,
    open_folder,
    open_writable,
    read_bytes,
)

# typing costs 3 ms of start-up and is needed only by type checkers here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


@dataclass
class JournalRead:
    records: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def read_journal(path: os.PathLike[str] | str) -> JournalRead:
    """Every complete record; a torn last line (a write cut by a crash) is skipped and reported."""
    try:
        data = read_bytes(path)
    except WorkspaceFileError as exc:
        return JournalRead(problems=[] if exc.reason == "file not found" else [str(exc)])
    return parse_records(data, path)


def parse_records(data: bytes, path: os.PathLike[str] | str, first_line: int = 1) -> JournalRead:
    """The records in ``data``, lines of the journal from line ``first_line`` on (a reader of
    what was appended since its last read passes only whole lines)."""
    result = JournalRead()
    lines = data.split(b"\n")
    for index, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        number = first_line + index - 1
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            last = index == len(lines) or (index == len(lines) - 1 and not lines[-1])
            where = "last line cut short (the step in flight at a crash)" if last else "bad line"
            result.problems.append(f"{path}: line {number}: {where}, skipped")
            continue
        if isinstance(record, dict):
            result.records.append(record)
        else:
            result.problems.append(f"{path}: line {number}: not an object, skipped")
    return result


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
            tail_start = max(0, size - 65536)
            while True:
                chunk = os.pread(fd, size - tail_start, tail_start)
                cut = chunk.rfind(b"\n")
                if cut >= 0 or tail_start == 0:
                    good = tail_start + cut + 1 if cut >= 0 else 0
                    break
                tail_start = max(0, tail_start - 65536)
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
