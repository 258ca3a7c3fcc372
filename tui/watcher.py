"""watchfiles -> small messages about agent folders.

One watcher over the workspace root, in a child process (:mod:`agent_tui.watching`: watchfiles
holds the interpreter while it sets up, 5.7 s on 100,000 folders), with a debounce of tens of
milliseconds (the default 1.6 s is far too slow for a live view). Temp files of atomic writes
are dropped by the child; an atomic ``os.replace`` arrives as a change on the target, which is
all we need: any change below ``agents/<folder>/`` means "re-read that one folder". A burst of
changes arrives as one batch and becomes one re-read per folder, never a queue of re-reads.

The watcher never touches widgets: it reads records in a thread and posts messages. A child
that polls because of where the root is (a network file system, where inotify misses other
hosts' writes) says so in its ``ready`` line; the user is told once, with the reason.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import orjson
from textual.message import Message
from textual.message_pump import MessagePump

from agent_tui.format.layout import SWARMS_DIR
from agent_tui.format.persistence import is_temp_file
from agent_tui.watching import POLL_MS
from agent_tui.workspace import AgentRecord, read_agent

DEBOUNCE_MS = 50
STEP_MS = 10
LINE_LIMIT = 16 * 1024 * 1024  # of one line from the watching child (it bounds its lines)
ROOT_POLL_S = 0.5


@dataclass
class AgentChanged(Message):
    """A folder under ``agents/`` was created or changed; ``record`` is its fresh reading."""

    record: AgentRecord


@dataclass
class AgentRemoved(Message):
    """Folders under ``agents/`` are gone (those of one batch of changes)."""

    folders: list[Path]


class WorkspaceReset(Message):
    """The ``agents`` folder itself appeared, vanished or was replaced: rescan everything."""


def folders_touched(agents: Path, paths: set[str]) -> tuple[set[Path], bool]:
    """The agent folders ``paths`` fall in, and whether ``agents`` itself was touched.

    A path under ``<root>/swarms/<ClassName>/<run>/`` falls in that swarms structure run's
    folder; ``<root>/swarms`` or a class folder itself touched (created: its first runs may be
    there before the watch) counts as ``agents`` touched: rescan.

    String work, not ``Path`` objects: a busy fleet sends thousands of paths a second, and
    building and comparing a ``Path`` for each was a fifth of the event loop's time."""
    top = os.fspath(agents)
    prefix = os.path.join(top, "")
    swarms = os.path.join(os.path.dirname(top), SWARMS_DIR)
    swarms_prefix = os.path.join(swarms, "")
    above = {os.fspath(parent) for parent in agents.parents}
    names: set[str] = set()
    runs: set[str] = set()
    reset = False
    for raw in paths:
        path = os.path.normpath(raw)
        if path in (top, swarms) or path in above:
            reset = True
        elif path.startswith(prefix):
            first = path[len(prefix) :].split(os.sep, 1)[0]
            if first and not is_temp_file(first):
                names.add(first)
        elif path.startswith(swarms_prefix):
            parts = path[len(swarms_prefix) :].split(os.sep, 2)
            if any(is_temp_file(part) for part in parts[:2]):
                continue
            if len(parts) == 1:
                reset = True
            else:
                runs.add(os.path.join(swarms, parts[0], parts[1]))
    return {agents / name for name in names} | {Path(run) for run in runs}, reset


def read_folders(folders: Iterable[Path]) -> list[Message]:
    """Fresh messages for each folder: a new record, or its removal (runs in a thread)."""
    messages: list[Message] = []
    gone = []
    for folder in folders:
        if os.path.lexists(folder):
            messages.append(AgentChanged(read_agent(folder)))
        else:
            gone.append(folder)
    if gone:  # one message: the list forgets them in one go
        messages.append(AgentRemoved(gone))
    return messages


class WatcherNotice(Message):
    """Something the user should know about watching (polling instead of inotify, a failure)."""

    def __init__(self, text: str, *, error: bool = False) -> None:
        super().__init__()
        self.text = text
        self.error = error


async def watch_workspace(
    root: Path,
    target: MessagePump,
    stop: asyncio.Event,
    *,
    debounce_ms: int = DEBOUNCE_MS,
    step_ms: int = STEP_MS,
    first: Callable[[], str | None] = lambda: None,
    since: float | None = None,
) -> None:
    """Post :class:`AgentChanged` / :class:`AgentRemoved` / :class:`WorkspaceReset` to
    ``target`` until ``stop`` is set. Waits (polling) for ``root`` to exist first. The watching
    itself runs in a child process (:mod:`agent_tui.watching`); one that dies is started again,
    after a pause that grows while it keeps failing. ``first()`` names the folder to read
    first when many changed (the selected agent's)."""
    agents = root / "agents"
    waited = False
    failures = 0
    told: set[str] = set()  # notices of polling already shown: not again for each new child
    while not stop.is_set():
        if not root.is_dir():
            # Nothing to watch until the root exists.
            waited = True
            if await _wait(stop, ROOT_POLL_S):
                return
            continue
        if waited:
            target.post_message(WorkspaceReset())
            waited = False
        # What changed before the child is ready is reported too: since ``since`` for the
        # first child, since the one before ended for the next (a margin for coarse mtimes).
        started = time.time() - 1.0 if since is None else since
        clean_exit = await _follow_child(
            root, agents, target, stop, debounce_ms, step_ms, first, started, told
        )
        since = time.time() - 1.0
        if stop.is_set():
            return
        if not root.is_dir():
            target.post_message(WorkspaceReset())
            continue
        failures = 0 if clean_exit else failures + 1
        if failures:
            if failures == 3:
                target.post_message(WatcherNotice("watching the disk keeps failing", error=True))
            if await _wait(stop, min(30.0, 0.5 * 2**failures)):
                return


async def _wait(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep ``seconds`` or until ``stop``; True when stopped."""
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        return False
    return True


async def _follow_child(
    root: Path,
    agents: Path,
    target: MessagePump,
    stop: asyncio.Event,
    debounce_ms: int,
    step_ms: int,
    first: Callable[[], str | None],
    since: float,
    told: set[str] | None = None,
) -> bool:
    """Run one watcher child and post what it reports, until it exits or ``stop``; True when
    it ended without an error. It reports too what changed since ``since`` (seconds)."""
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-P", "-m", "agent_tui.watching", str(root),
        "--debounce-ms", str(debounce_ms), "--step-ms", str(step_ms), "--since", str(since),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert child.stdout is not None
    pending = Pending()
    reading = asyncio.ensure_future(_read_events(child.stdout, agents, target, pending, told=told))
    stopping = asyncio.ensure_future(stop.wait())
    try:
        while True:
            waiting = asyncio.ensure_future(pending.ready.wait())
            await asyncio.wait({waiting, reading, stopping}, return_when=asyncio.FIRST_COMPLETED)
            waiting.cancel()
            if stopping.done():
                break
            if pending.folders:
                folders = pending.take(first())
                for message in await asyncio.to_thread(read_folders, folders):
                    target.post_message(message)
            elif reading.done():
                break
    finally:
        stopping.cancel()
        reading.cancel()
        if child.stdin is not None:
            child.stdin.close()  # the child's sign to exit
        try:
            await asyncio.wait_for(child.wait(), 2.0)
        except (TimeoutError, asyncio.CancelledError) as exc:
            # Late, or this task cancelled (a new watcher replacing it): the child is ended
            # and reaped all the same, not left to a transport closed with the loop.
            child.kill()
            await child.wait()
            if isinstance(exc, asyncio.CancelledError):
                raise
    failed = reading.done() and not reading.cancelled() and reading.result() is False
    return not failed and child.returncode == 0


class Pending:
    """Folders changed and not read yet: a folder changed again before it is read is read
    once, as it is then (the latest always wins); the selected agent goes first, and the rest
    in slices, so that a burst over thousands of folders does not hold the selected one back."""

    SLICE = 64

    def __init__(self) -> None:
        self.folders: dict[Path, None] = {}  # in the order they changed
        self.ready = asyncio.Event()

    def add(self, folders: set[Path]) -> None:
        for folder in folders:
            self.folders.pop(folder, None)
            self.folders[folder] = None
        if self.folders:
            self.ready.set()

    def take(self, first: str | None) -> list[Path]:
        taken = []
        if first is not None and Path(first) in self.folders:
            taken.append(Path(first))
            del self.folders[taken[0]]
        for folder in list(itertools.islice(self.folders, self.SLICE - len(taken))):
            del self.folders[folder]
            taken.append(folder)
        if not self.folders:
            self.ready.clear()
        return taken


async def _lines(stdout: asyncio.StreamReader, limit: int) -> AsyncIterator[bytes | None]:
    """The child's output a line at a time; ``None`` for a line longer than ``limit``, dropped
    whole (the child bounds its lines: this is a guard, not a path)."""
    buffer = bytearray()
    dropping = False
    while chunk := await stdout.read(1 << 16):
        buffer += chunk
        while (end := buffer.find(b"\n")) >= 0:
            line = bytes(buffer[:end])
            del buffer[: end + 1]
            if dropping or len(line) > limit:
                dropping = False
                yield None
            else:
                yield line
        if len(buffer) > limit:
            buffer.clear()
            dropping = True
    if buffer and not dropping:
        yield bytes(buffer)


async def _read_events(
    stdout: asyncio.StreamReader,
    agents: Path,
    target: MessagePump,
    pending: Pending,
    limit: int = LINE_LIMIT,
    told: set[str] | None = None,
) -> bool:
    """The child's events until it closes its output: changes go to ``pending``, the rest
    to ``target``. False when the child reported an error. A ``ready`` that polls for a
    ``reason`` is a notice, unless its text is in ``told`` (shown for an earlier child)."""
    ok = True
    told = set() if told is None else told
    async for line in _lines(stdout, limit):
        if line is None:  # past the limit: skipped, not fatal
            target.post_message(WatcherNotice("a batch of changes was too long: press r to rescan"))
            continue
        try:
            event = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if not isinstance(event, dict):
            continue
        if event.get("error"):
            ok = False
            target.post_message(WatcherNotice(f"watching stopped: {event['error']}", error=True))
        elif event.get("notice"):
            target.post_message(WatcherNotice(str(event["notice"])))
        elif event.get("ready"):
            reason = event.get("reason")
            if event.get("polling") and reason:
                every = f"{POLL_MS / 1000:g} s"
                text = f"watching {agents.parent} by polling every {every}: {reason}"
                if text not in told:
                    told.add(text)
                    target.post_message(WatcherNotice(text))
        elif isinstance(event.get("changes"), list):
            paths = {p for p in event["changes"] if isinstance(p, str)}
            folders, reset = folders_touched(agents, paths)
            if reset:
                target.post_message(WorkspaceReset())
            else:
                pending.add(folders)
    return ok
