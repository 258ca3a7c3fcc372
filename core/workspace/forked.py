"""Sharing CPU-bound reading with one forked child, chunk by chunk.

Two processes take chunks from a pipe holding one byte (the chunk's number) per chunk; a
one-byte read is atomic, so each chunk goes to exactly one process and the faster one reads
more: folders of one kind sort together and cost more than others, and a virtual CPU can
stall for a while. Only a single-threaded process may fork (the caller checks).
"""

from __future__ import annotations

import marshal
import os
from collections.abc import Callable

# typing costs 3 ms of start-up and is needed only by type checkers here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

PARALLEL_CHUNK = 100


def map_forked(items: list[Any], read_chunk: Callable[[list[Any]], list[Any]]) -> list[Any]:
    """``read_chunk`` over ``items`` in chunks, shared with a forked child; the results in the
    order of ``items``. A chunk the child fails to send back is read here."""
    size = max(PARALLEL_CHUNK, -(-len(items) // 255))
    starts = range(0, len(items), size)
    tokens, refill = os.pipe()
    os.write(refill, bytes(range(len(starts))))
    os.close(refill)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: send back what it read, then exit at once
        status = 1
        try:
            os.close(read_end)
            view = memoryview(_pack(_take_chunks(tokens, starts, size, items, read_chunk)))
            while view:
                view = view[os.write(write_end, view) :]
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    pipe = os.fdopen(read_end, "rb")
    try:
        done = _take_chunks(tokens, starts, size, items, read_chunk)
        payload = pipe.read()
    finally:
        # Closed before the wait: should this side fail first, a child blocked writing its
        # results gets EPIPE and exits instead of waiting for a reader forever.
        pipe.close()
        os.close(tokens)
        _, status = os.waitpid(pid, 0)
    if status == 0:
        done.update(_unpack(payload))
    merged: list[Any] = []
    for number, start in enumerate(starts):
        if number not in done:  # the child failed: read its chunks here rather than lose them
            done[number] = read_chunk(items[start : start + size])
        merged.extend(done[number])
    return merged


def _take_chunks(
    tokens: int,
    starts: range,
    size: int,
    items: list[Any],
    read_chunk: Callable[[list[Any]], list[Any]],
) -> dict[int, list[Any]]:
    done: dict[int, list[Any]] = {}
    while token := os.read(tokens, 1):
        start = starts[token[0]]
        done[token[0]] = read_chunk(items[start : start + size])
    return done


def _pack(results: dict[int, list[Any]]) -> bytes:
    # marshal (built in, and fast) carries the plain tuples, strings and dicts a listing
    # converts records to; anything else (records themselves) goes by pickle.
    try:
        return b"M" + marshal.dumps(results)
    except ValueError:
        import pickle

        return b"P" + pickle.dumps(results, protocol=5)


def _unpack(payload: bytes) -> dict[int, list[Any]]:
    if payload[:1] == b"M":
        return marshal.loads(payload[1:])
    import pickle

    return pickle.loads(payload[1:])
