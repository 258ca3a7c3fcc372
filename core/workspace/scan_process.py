"""Reading a large workspace in two other processes that send records back as they go.

The app's scan of 100,000 folders read in a thread of the app took the interpreter from the
screen for most of a minute. :func:`stream_scan` starts ``python -P -m
agent_tui.workspace.scan_process``, which forks once: the two processes take chunks of folders
from a pipe of chunk numbers (a read of one token is atomic, so each chunk goes to one process
and the faster one reads more) and each writes its records, chunk by chunk, to a pipe of its
own. The caller's thread waits on those pipes without the interpreter and gets lists of
records as they arrive, the first chunks first. Every folder the child did not send back
(it failed, or the folder appeared meanwhile) is for the caller to read itself: see ``seen``.
"""

from __future__ import annotations

import contextlib
import gc
import marshal
import os
import selectors
import signal
import struct
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import fields
from datetime import datetime
from functools import partial

from agent_tui.workspace.record import AgentRecord
from agent_tui.workspace.scan import _agent_entries, _read_chunk, read_structures
from agent_tui.workspace.summary import SummaryIndex

CHUNK = 250
SAVE_TIMEOUT_S = 30.0  # for the child to save the summary index once it has sent everything
_FRAME = struct.Struct("<I")
_FIELDS = tuple(f.name for f in fields(AgentRecord) if not f.name.startswith("_"))
_TIMES = frozenset({"last_autosave"})  # datetime fields: sent as ISO text


def record_row(record: AgentRecord) -> tuple:
    """``record`` as plain values ``marshal`` carries."""
    row = []
    for name in _FIELDS:
        value = getattr(record, name)
        if name in _TIMES and value is not None:
            value = value.isoformat()
        elif isinstance(value, str) and type(value) is not str:
            value = str(value)  # a status or format enum: marshal takes plain strings only
        row.append(value)
    return tuple(row)


def row_record(row: tuple) -> AgentRecord:
    """The record :func:`record_row` made ``row`` from."""
    values = dict(zip(_FIELDS, row, strict=True))
    for name in _TIMES:
        if values[name] is not None:
            values[name] = datetime.fromisoformat(values[name])
    return AgentRecord(**values)


def stream_scan(root: os.PathLike[str] | str, seen: set[str]) -> Iterator[list[AgentRecord]]:
    """Records of the folders under ``<root>/agents`` (then of swarms' structure runs), a chunk
    at a time, read by a child process and its fork; each folder's path is added to ``seen``
    as it arrives. Stops early (the caller reads what is missing) if the child fails; the
    child is gone on return."""
    read_a, write_a = os.pipe()
    read_b, write_b = os.pipe()
    try:
        child = subprocess.Popen(
            [sys.executable, "-P", "-m", "agent_tui.workspace.scan_process",
             os.fspath(root), str(write_a), str(write_b)],
            pass_fds=(write_a, write_b), stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own group, with its fork: stopped together
        )  # fmt: skip
    finally:
        os.close(write_a)
        os.close(write_b)
    buffers = {read_a: bytearray(), read_b: bytearray()}
    finished = False
    try:
        with selectors.DefaultSelector() as selector:
            for fd in buffers:
                selector.register(fd, selectors.EVENT_READ)
            open_fds = set(buffers)
            while open_fds:
                for key, _ in selector.select():
                    fd = key.fd
                    data = os.read(fd, 1 << 20)
                    if not data:
                        selector.unregister(fd)
                        open_fds.discard(fd)
                        continue
                    buffer = buffers[fd]
                    buffer += data
                    for rows in _frames(buffer):
                        records = [row_record(row) for row in rows]
                        seen.update(r.path for r in records)
                        yield records
        finished = True
    finally:
        os.close(read_a)
        os.close(read_b)
        if finished:  # everything sent: the child saves the summary index, then exits
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(SAVE_TIMEOUT_S)
        if child.poll() is None:  # the caller stopped early: the child and its fork go too
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
        child.wait()


def _frames(buffer: bytearray) -> Iterator[list[tuple]]:
    """Whole frames at the start of ``buffer``, removed from it as they are read."""
    while len(buffer) >= _FRAME.size:
        (size,) = _FRAME.unpack_from(buffer)
        if len(buffer) < _FRAME.size + size:
            return
        payload = bytes(buffer[_FRAME.size : _FRAME.size + size])
        del buffer[: _FRAME.size + size]
        yield marshal.loads(payload)


def _serve(root: str, fd_a: int, fd_b: int) -> int:
    """The child: share the folders with a fork, each sending its chunks to its own pipe;
    the fork hands its summary-index marks back at the end, and this process saves the index
    as a scan does (:func:`~agent_tui.workspace.scan.scan_map`)."""
    gc.disable()  # records are kept until sent, and make no cycles: nothing for it to find
    agents, entries = _agent_entries(root)
    summaries = SummaryIndex.load(agents) if entries else None
    read = partial(_read_chunk, agents, convert=record_row, index=summaries)
    starts = range(0, len(entries), CHUNK)
    tokens, refill = os.pipe()
    os.write(refill, b"".join(struct.pack("<H", n) for n in range(len(starts))))
    os.close(refill)
    marks_in, marks_out = os.pipe()
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            os.close(fd_a)
            os.close(marks_in)
            _write_all(marks_out, marshal.dumps(_take(tokens, starts, entries, read, fd_b)))
            status = 0
        finally:
            os._exit(status)
    os.close(fd_b)
    os.close(marks_out)
    marks = _take(tokens, starts, entries, read, fd_a)
    structures = read_structures(root, record_row)  # swarms' structure runs: few, read here
    if structures:
        payload = marshal.dumps(structures)
        _write_all(fd_a, _FRAME.pack(len(payload)) + payload)
    os.close(fd_a)
    with os.fdopen(marks_in, "rb") as pipe:
        theirs = pipe.read()
    _, status = os.waitpid(pid, 0)
    if status == 0 and theirs:
        marks.update(marshal.loads(theirs))
    if summaries is not None:
        ordered = []
        for number, start in enumerate(starts):
            ordered += marks.get(number) or [None] * len(entries[start : start + CHUNK])
        summaries.save([entry.name for entry in entries], ordered)
    return 0 if status == 0 else 1


def _take(
    tokens: int, starts: range, entries: list[os.DirEntry], read: Callable, out: int
) -> dict[int, list]:
    """Read chunks while there are tokens, each sent to ``out`` as a frame of rows; the
    chunks' summary-index marks, by chunk number."""
    marks = {}
    while len(token := os.read(tokens, 2)) == 2:
        (number,) = struct.unpack("<H", token)
        start = starts[number]
        pairs = read(entries[start : start + CHUNK])
        payload = marshal.dumps([row for row, _ in pairs])
        _write_all(out, _FRAME.pack(len(payload)) + payload)
        marks[number] = [mark for _, mark in pairs]
    return marks


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


if __name__ == "__main__":
    sys.exit(_serve(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
