"""Listing a workspace: every folder under ``<root>/agents`` read into a record, then every
swarms structure run under ``<root>/swarms/<ClassName>/`` (:mod:`agent_tui.workspace.structures`).

Cheap on purpose: one ``scandir`` per folder, and only the ``config.json`` files that changed
since the last scan parsed (the summary index, :mod:`agent_tui.workspace.summary`). A large
workspace can be shared with a forked child (:mod:`agent_tui.workspace.forked`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from functools import partial
from operator import attrgetter
from pathlib import Path

from agent_tui import settings
from agent_tui.format.persistence import WorkspaceFileError, is_temp_file
from agent_tui.workspace.folder import read_agent, read_folder
from agent_tui.workspace.forked import map_forked
from agent_tui.workspace.record import AgentRecord
from agent_tui.workspace.structures import read_structure, structure_folders
from agent_tui.workspace.summary import Mark, SummaryIndex
from agent_tui.workspace.walk import os_reason

# typing costs 3 ms of start-up and is needed only by type checkers here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# Fewer folders than this are read in one process: a fork costs more than it saves.
PARALLEL_MIN = 2000


def _agent_entries(root: os.PathLike[str] | str | None) -> tuple[Path, list[os.DirEntry]]:
    agents = settings.agents_dir(root)
    try:
        with os.scandir(agents) as listing:
            entries = [e for e in listing if not (e.name[0] == "." and is_temp_file(e.name))]
    except FileNotFoundError:
        return agents, []
    except NotADirectoryError:
        raise WorkspaceFileError(agents, "is a file, expected the agents folder") from None
    except OSError as exc:
        raise WorkspaceFileError(agents, os_reason(exc)) from None
    entries.sort(key=attrgetter("name"))
    return agents, entries


def iter_agent_folders(root: os.PathLike[str] | str | None = None) -> Iterator[Path]:
    """Every entry of ``<root>/agents`` that could be an agent (temp files skipped), by name,
    then the swarms structure runs (:func:`~agent_tui.workspace.structures.structure_folders`).

    Raises :class:`WorkspaceFileError` when ``<root>/agents`` exists but is not a readable
    folder; yields nothing when it does not exist yet.
    """
    agents, entries = _agent_entries(root)
    for entry in entries:
        yield agents / entry.name
    yield from structure_folders(root)


def scan(
    root: os.PathLike[str] | str | None = None, *, jobs: int = 1, index: bool = True
) -> list[AgentRecord]:
    """Records for every folder under ``<root>/agents`` (root defaults to ``$WORKSPACE_DIR``),
    sorted by folder name, then for every swarms structure run. An agents folder that does not
    exist yet gives an empty list.

    ``jobs=2`` shares a large workspace with a forked child, ``index=False`` parses every
    config (see :func:`scan_map`). Raises :class:`WorkspaceFileError` only when
    ``<root>/agents`` itself cannot be listed.
    """
    return scan_map(root, _same, jobs=jobs, index=index)


def _same(record: AgentRecord) -> AgentRecord:
    return record


def scan_map(
    root: os.PathLike[str] | str | None,
    convert: Callable[[AgentRecord], Any],
    *,
    jobs: int = 1,
    index: bool = True,
) -> list[Any]:
    """``[convert(record) for record in scan(root)]``, with ``convert`` run where the record
    was read.

    ``jobs=2`` shares a workspace of :data:`PARALLEL_MIN` folders or more with a forked child
    (:func:`~agent_tui.workspace.forked.map_forked`): the walk and the JSON parsing are
    CPU-bound in Python. Only what ``convert`` returns crosses back, so a caller that wants
    table rows sends rows, not records. Only a single-threaded process may ask for it, since
    forking a threaded one is unsafe; otherwise the scan runs here, in one process.

    With ``index`` (the default) a config is parsed only when the summary index has nothing
    for it as it is now (:class:`~agent_tui.workspace.summary.SummaryIndex`); the records are
    the same as ``index=False`` gives, which parses every one. The index is written back when
    the scan changed it.
    """
    agents, entries = _agent_entries(root)
    summaries = SummaryIndex.load(agents) if index and entries else None
    read_chunk = partial(_read_chunk, agents, convert=convert, index=summaries)
    if jobs > 1 and len(entries) >= PARALLEL_MIN and threading.active_count() == 1:
        pairs = map_forked(entries, read_chunk)
    else:
        pairs = read_chunk(entries)
    if summaries is not None:
        summaries.save([entry.name for entry in entries], [mark for _, mark in pairs])
    return [converted for converted, _ in pairs] + read_structures(root, convert)


def read_structures(
    root: os.PathLike[str] | str | None, convert: Callable[[AgentRecord], Any]
) -> list[Any]:
    """``convert`` of the record of every swarms structure run of the workspace, in order (few
    folders: read here, never forked, and not in the summary index)."""
    return [convert(read_structure(folder)) for folder in structure_folders(root)]


def _record_for(agents: Path, entry: os.DirEntry, index: SummaryIndex | None) -> AgentRecord:
    try:
        is_dir = entry.is_dir(follow_symlinks=False)
    except OSError:
        is_dir = False
    if is_dir:
        # The listing already says it is a real folder: skip read_agent's lstat.
        return read_folder(AgentRecord(entry.name, None, entry.path), None, index)
    return read_agent(agents / entry.name)


def _read_chunk(
    agents: Path,
    entries: list[os.DirEntry],
    *,
    convert: Callable[[AgentRecord], Any],
    index: SummaryIndex | None,
) -> list[tuple[Any, Mark]]:
    # Each result travels with its folder's mark for the index (what a forked child found
    # reaches the index only this way).
    if index is None:
        return [(convert(_record_for(agents, entry, None)), None) for entry in entries]
    take = index.take
    return [(convert(_record_for(agents, entry, index)), take(entry.name)) for entry in entries]
