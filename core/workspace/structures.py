"""The runs swarms' multi-agent structures save: ``<root>/swarms/<ClassName>/<name>-<stamp>/``.

swarms (``swarms/utils/swarm_autosave.py``) gives every structure run a folder of its own:
``SwarmRouter`` writes ``config.json`` when built and ``state.json`` + ``metadata.json`` after a
run that succeeded; ``SequentialWorkflow``, ``ConcurrentWorkflow`` and ``HierarchicalSwarm``
write ``conversation_history.json`` when a run ends, ``SkillOrchestra`` ``conversation.json``.
Each folder becomes an :class:`AgentRecord` of layout ``structure``, read like an agent folder:
one ``scandir`` per folder, every file through the safe reader (no link followed, a FIFO never
opened, a size cap), never raising for what is on disk.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from agent_tui import settings
from agent_tui.format.layout import (
    CONFIG_NAME,
    STRUCTURE_CONVERSATION_NAMES,
    STRUCTURE_METADATA_NAME,
    STRUCTURE_STATE_NAME,
    SWARMS_DIR,
    Format,
    Layout,
    Status,
)
from agent_tui.format.persistence import WorkspaceFileError, is_temp_file, read_json
from agent_tui.format.swarms import (
    structure_messages,
    structure_name,
    structure_status,
    structure_steps,
)
from agent_tui.workspace.record import AgentRecord, from_ns
from agent_tui.workspace.status import TIMESTAMP_SLACK_S, parse_timestamp, text_of
from agent_tui.workspace.walk import Listing, lstat_mtime_ns, walk

# typing costs 3 ms of start-up and is needed only by type checkers here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import datetime
    from typing import Any

# swarms has a handful of structure classes; a swarms folder holding more class folders than
# this is not swarms' (10,000 of them would be 10,000 scandirs per scan): the rest are not read.
MAX_CLASS_FOLDERS = 1000


def is_structure_folder(folder: os.PathLike[str] | str) -> bool:
    """Whether ``folder`` is where a structure run lives: ``.../swarms/<ClassName>/<folder>``
    (a workspace root named ``swarms`` keeps its ``agents`` folder an agents folder)."""
    parent = os.path.dirname(os.path.abspath(folder))
    return (
        os.path.basename(os.path.dirname(parent)) == SWARMS_DIR
        and os.path.basename(parent) != settings.AGENTS_SUBDIR
    )


def structure_folders(root: os.PathLike[str] | str | None = None) -> list[Path]:
    """The run folders under ``<root>/swarms/<ClassName>/``, by class, then by name. Costs one
    ``lstat`` when there is no ``swarms`` folder. Never raises: a ``swarms`` (or a class folder)
    that is a link, a file or unreadable holds no runs, and at most :data:`MAX_CLASS_FOLDERS`
    class folders are read. Entries of a class folder that are not folders are listed (read,
    they are broken records), temp files are not."""
    swarms = settings.workspace_root(root) / SWARMS_DIR
    classes = _folders_in(swarms)
    folders: list[Path] = []
    for name in sorted(classes)[:MAX_CLASS_FOLDERS]:
        class_folder = swarms / name
        try:
            with os.scandir(class_folder) as listing:
                names = [e.name for e in listing if not is_temp_file(e.name)]
        except OSError:
            continue
        folders += [class_folder / run for run in sorted(names)]
    return folders


def _folders_in(path: Path) -> list[str]:
    """Names of the real folders (not links) in ``path``, itself a real folder; else none."""
    try:
        if not stat.S_ISDIR(os.lstat(path).st_mode):
            return []
        with os.scandir(path) as listing:
            return [
                e.name
                for e in listing
                if not is_temp_file(e.name) and e.is_dir(follow_symlinks=False)
            ]
    except OSError:
        return []


def read_structure(folder: os.PathLike[str] | str) -> AgentRecord:
    """One structure run folder into a record; never raises for anything found on disk."""
    folder = Path(folder)
    record = AgentRecord(
        structure_name(folder.name),
        None,
        os.fspath(folder),
        format=Format.SWARMS,
        layout=Layout.STRUCTURE,
        swarm_class=folder.parent.name,
        _folder=folder,
    )
    try:
        info = os.lstat(folder)
    except OSError as exc:
        return _broken(record, f"cannot read the folder: {exc.strerror or exc}")
    if not stat.S_ISDIR(info.st_mode):
        record.modified_ns, record.size_bytes, record.file_count = info.st_mtime_ns, info.st_size, 1
        kind = "a symbolic link, not followed" if stat.S_ISLNK(info.st_mode) else "a file"
        return _broken(record, f"is {kind}, expected a swarms run folder")
    listing = Listing()
    walk(record.path, listing, "", True)
    record.size_bytes, record.file_count = listing.size, listing.files
    record.problems.extend(listing.problems)
    record.modified_ns = listing.newest_ns or info.st_mtime_ns
    if listing.problems and listing.problems[0].startswith("folder:"):
        record.status = Status.BROKEN
        return record

    config = _document(record, listing, CONFIG_NAME)
    state = _document(record, listing, STRUCTURE_STATE_NAME)
    metadata = _document(record, listing, STRUCTURE_METADATA_NAME)
    meta = config.get("_autosave_metadata") if isinstance(config, dict) else None
    meta = meta if isinstance(meta, dict) else {}
    documents = [d for d in (meta, config, state, metadata) if isinstance(d, dict)]
    for key in ("swarm_name", "name"):
        found = next((text_of(d.get(key)) for d in documents if text_of(d.get(key))), None)
        if found:
            record.name = found
            break
    swarm_id = next((d.get("swarm_id") for d in documents if text_of(d.get("swarm_id"))), None)
    record.agent_id = swarm_id if isinstance(swarm_id, str) else None
    if config is not None:
        record.config_mtime_ns = listing.top[CONFIG_NAME].st_mtime_ns
    if state is not None:
        record.state_name = STRUCTURE_STATE_NAME

    messages = None
    for name in STRUCTURE_CONVERSATION_NAMES:
        if name in listing.top:
            messages = structure_messages(_document(record, listing, name))
            break
    if messages is None:
        messages = structure_messages(state)
    record.loop_count = structure_steps(messages) if messages is not None else None

    times = [
        (meta.get("timestamp")),
        state.get("timestamp") if isinstance(state, dict) else None,
        metadata.get("execution_timestamp") if isinstance(metadata, dict) else None,
    ]
    record.last_autosave = _believed(record, [parse_timestamp(t) for t in times])
    metadata = metadata if isinstance(metadata, dict) else None
    record.status = structure_status(metadata)
    if metadata is not None:
        record.error = text_of(metadata.get("error"))
    if not documents and messages is None and record.problems:
        record.status = Status.BROKEN  # files there, and none of them readable
    return record


def _document(record: AgentRecord, listing: Listing, name: str) -> Any:
    """The parsed JSON file ``name`` of the folder, or ``None`` (absent, or a problem said)."""
    info = listing.top.get(name)
    if info is None:
        if name in listing.top_dirs:
            record.problems.append(f"{name} is a folder, expected a file")
        return None
    if not stat.S_ISREG(info.st_mode):
        record.problems.append(f"{name} is not a regular file, not read")
        return None
    try:
        return read_json(os.path.join(record.path, name))
    except WorkspaceFileError as exc:
        record.problems.append(f"{name}: {exc.reason}")
        return None


def _believed(record: AgentRecord, moments: list[datetime | None]) -> datetime | None:
    """The latest of the files' own times, unless later than the newest file was written (a
    time in 9999 would never age into a cleanup): then the newest file's mtime."""
    known = [m for m in moments if m is not None]
    if not known:
        return None
    latest = max(known)
    newest_ns = record.modified_ns or lstat_mtime_ns(record.path)
    if newest_ns and latest.timestamp() > newest_ns / 1e9 + TIMESTAMP_SLACK_S:
        record.problems.append(f"timestamp {latest.date().isoformat()} after its files' mtime")
        return from_ns(newest_ns)
    return latest


def structure_conversation(folder: os.PathLike[str] | str) -> list[Any]:
    """The raw messages of a structure run: ``conversation_history.json`` (or
    ``conversation.json``), else the ``conversation`` of ``state.json``. Raises
    :class:`WorkspaceFileError` when there is none to read."""
    folder = Path(folder)
    names = (*STRUCTURE_CONVERSATION_NAMES, STRUCTURE_STATE_NAME)
    for name in names:
        path = folder / name
        if not os.path.lexists(path):
            continue
        messages = structure_messages(read_json(path))
        if messages is None:
            raise WorkspaceFileError(path, "holds no list of messages")
        return messages
    raise WorkspaceFileError(folder, f"no conversation saved ({', '.join(names)})")


def _broken(record: AgentRecord, problem: str) -> AgentRecord:
    record.status = Status.BROKEN
    record.problems.append(problem)
    return record
