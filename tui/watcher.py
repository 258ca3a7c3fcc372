"""watchfiles -> small messages about agent folders.

One ``awatch`` over the workspace root with a debounce of tens of milliseconds (the default
1.6 s is far too slow for a live view). Temp files of atomic writes are dropped by the filter;
an atomic ``os.replace`` arrives as ``added`` on the target, which is all we need: any change
below ``agents/<folder>/`` means "re-read that one folder". A burst of changes arrives as one
set from ``awatch`` and becomes one re-read per folder, never a queue of re-reads.

The watcher never touches widgets: it reads records in a thread and posts messages.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

from textual.message import Message
from textual.message_pump import MessagePump
from watchfiles import Change, awatch

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


def keep_change(change: Change, path: str) -> bool:
    """The ``watch_filter``: everything except temp files of atomic writes."""
    return not is_temp_file(os.path.basename(path))


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


async def watch_workspace(
    root: Path,
    target: MessagePump,
    stop: asyncio.Event,
    *,
    debounce_ms: int = DEBOUNCE_MS,
    step_ms: int = STEP_MS,
) -> None:
    """Post :class:`AgentChanged` / :class:`AgentRemoved` / :class:`WorkspaceReset` to
    ``target`` until ``stop`` is set. Waits (polling) for ``root`` to exist first."""
    agents = root / "agents"
    waited = False
    while not stop.is_set():
        if not root.is_dir():
            # awatch cannot watch a path that does not exist yet.
            waited = True
            try:
                await asyncio.wait_for(stop.wait(), ROOT_POLL_S)
            except TimeoutError:
                pass
            continue
        if waited:
            target.post_message(WorkspaceReset())
            waited = False
        async for changes in awatch(
            root,
            watch_filter=keep_change,
            debounce=debounce_ms,
            step=step_ms,
            stop_event=stop,
        ):
            folders, reset = folders_touched(agents, {path for _, path in changes})
            if reset:
                target.post_message(WorkspaceReset())
                continue
            for message in await asyncio.to_thread(read_folders, folders):
                target.post_message(message)
        if not stop.is_set() and not root.is_dir():
            target.post_message(WorkspaceReset())
