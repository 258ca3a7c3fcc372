"""watchfiles -> small messages about agent folders.

One watcher over the workspace root, in a child process (:mod:`agent_tui.watching`: watchfiles
holds the interpreter while it sets up, 5.7 s on 100,000 folders), with a debounce of tens of
milliseconds (the default 1.6 s is far too slow for a live view). Temp files of atomic writes
are dropped by the child; an atomic ``os.replace`` arrives as a change on the target, which is
all we need: any change below ``agents/<folder>/`` means "re-read that one folder". A burst of
changes arrives as one batch and becomes one re-read per folder, never a queue of re-reads.

The watcher never touches widgets: it reads records in a thread and posts messages.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import orjson
from textual.message import Message
from textual.message_pump import MessagePump

from agent_tui.format.persistence import is_temp_file
from agent_tui.workspace import AgentRecord, read_agent

DEBOUNCE_MS = 50
STEP_MS = 10
ROOT_POLL_S = 0.5


@dataclass
class AgentChanged(Message):
    """A folder under ``agents/`` was created or changed; ``record`` is its fresh reading."""

    record: AgentRecord


@dataclass
class AgentRemoved(Message):
    """A folder under ``agents/`` is gone."""

    folder: Path


class WorkspaceReset(Message):
    """The ``agents`` folder itself appeared, vanished or was replaced: rescan everything."""


def folders_touched(agents: Path, paths: set[str]) -> tuple[set[Path], bool]:
    """The agent folders ``paths`` fall in, and whether ``agents`` itself was touched."""
    folders: set[Path] = set()
    reset = False
    for raw in paths:
        path = Path(raw)
        if path == agents or path in agents.parents:
            reset = True
            continue
        try:
            first = path.relative_to(agents).parts[0]
        except (ValueError, IndexError):
            continue
        if not is_temp_file(first):
            folders.add(agents / first)
    return folders, reset


def read_folders(folders: set[Path]) -> list[Message]:
    """Fresh messages for each folder: a new record, or its removal (runs in a thread)."""
    messages: list[Message] = []
    for folder in sorted(folders):
        if os.path.lexists(folder):
            messages.append(AgentChanged(read_agent(folder)))
        else:
            messages.append(AgentRemoved(folder))
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
) -> None:
    """Post :class:`AgentChanged` / :class:`AgentRemoved` / :class:`WorkspaceReset` to
    ``target`` until ``stop`` is set. Waits (polling) for ``root`` to exist first. The watching
    itself runs in a child process (:mod:`agent_tui.watching`); one that dies is started again,
    after a pause that grows while it keeps failing."""
    agents = root / "agents"
    waited = False
    failures = 0
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
        clean_exit = await _follow_child(root, agents, target, stop, debounce_ms, step_ms)
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
) -> bool:
    """Run one watcher child and post what it reports, until it exits or ``stop``; True when
    it ended without an error."""
    since = time.time() - 1.0  # what changes from now on, with a margin for coarse mtimes
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-P", "-m", "agent_tui.watching", str(root),
        "--debounce-ms", str(debounce_ms), "--step-ms", str(step_ms), "--since", str(since),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert child.stdout is not None
    stopping = asyncio.ensure_future(stop.wait())
    ok = True
    try:
        while True:
            reading = asyncio.ensure_future(child.stdout.readline())
            await asyncio.wait({reading, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not reading.done():
                reading.cancel()
                break
            line = reading.result()
            if not line:
                break
            try:
                event = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if not isinstance(event, dict):
                continue
            if event.get("error"):
                ok = False
                target.post_message(
                    WatcherNotice(f"watching stopped: {event['error']}", error=True)
                )
            elif event.get("notice"):
                target.post_message(WatcherNotice(str(event["notice"])))
            elif isinstance(event.get("changes"), list):
                paths = {p for p in event["changes"] if isinstance(p, str)}
                folders, reset = folders_touched(agents, paths)
                if reset:
                    target.post_message(WorkspaceReset())
                    continue
                for message in await asyncio.to_thread(read_folders, folders):
                    target.post_message(message)
    finally:
        stopping.cancel()
        if child.stdin is not None:
            child.stdin.close()  # the child's sign to exit
        try:
            await asyncio.wait_for(child.wait(), 2.0)
        except TimeoutError:
            child.kill()
            await child.wait()
    return ok and child.returncode == 0
