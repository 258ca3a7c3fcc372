"""Reading one agent folder into an :class:`AgentRecord`; never raises for what is on disk.

Whatever is there (empty, truncated or foreign files, a file where a folder should be,
unreadable folders, symlink loops) becomes a record with status ``broken`` or a problem text.
Only the folder itself is touched, so a watcher can refresh just the folder that changed.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from agent_tui.format.layout import CONFIG_NAME, SWARMS_MEMORY_NAME, Format, Layout, Status
from agent_tui.format.persistence import WorkspaceFileError, open_regular, parse_json, read_fd
from agent_tui.workspace.record import AgentRecord
from agent_tui.workspace.status import fill_from_summary, pick_state_file, probe_lock, summarize
from agent_tui.workspace.structures import is_structure_folder, read_structure
from agent_tui.workspace.walk import Listing, lstat_mtime_ns, os_reason, walk

# typing costs 3 ms of start-up and is needed only by type checkers here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from agent_tui.workspace.summary import SummaryIndex


def read_agent(folder: os.PathLike[str] | str, *, index: SummaryIndex | None = None) -> AgentRecord:
    """Read one agent folder into a record; never raises for anything found on disk.

    Touches only ``folder`` (one ``scandir`` per sub-folder, one ``config.json`` parse, a lock
    probe when the config claims a run), so it is the call to make when a watcher reports a
    change inside one folder. A swarms structure run's folder
    (``<root>/swarms/<ClassName>/<run>``) is read by
    :func:`~agent_tui.workspace.structures.read_structure`. With an ``index`` (a
    :class:`SummaryIndex` of its agents folder) an unchanged config is not parsed; see
    :func:`read_folder`.
    """
    folder = Path(folder)
    if is_structure_folder(folder):
        return read_structure(folder)
    record = AgentRecord(folder.name, None, os.fspath(folder), _folder=folder)
    try:
        info = os.lstat(folder)
    except OSError as exc:
        missing = isinstance(exc, FileNotFoundError)
        return _broken(record, "folder not found" if missing else os_reason(exc))
    if stat.S_ISDIR(info.st_mode):
        return read_folder(record, info.st_mtime_ns, index)
    record.modified_ns = info.st_mtime_ns
    record.size_bytes, record.file_count = info.st_size, 1
    if stat.S_ISLNK(info.st_mode):
        return _broken(record, _describe_link(folder))
    return _broken(record, "is a file, expected an agent folder")


def read_folder(
    record: AgentRecord, folder_mtime_ns: int | None, index: SummaryIndex | None = None
) -> AgentRecord:
    """The part of :func:`read_agent` after the folder is known to be a real folder.

    With an ``index``, a config that did not change since the index kept its summary is not
    read at all, and one that is read is offered to the index."""
    path = record.path
    name = record.name  # the folder's name, until the config names the agent
    listing = Listing()
    walk(path, listing, "", True)
    record.size_bytes, record.file_count = listing.size, listing.files
    record.problems.extend(listing.problems)
    newest = listing.newest_ns or folder_mtime_ns
    if newest is None:
        newest = lstat_mtime_ns(path)
    record.modified_ns = newest
    if listing.problems and listing.problems[0].startswith("folder:"):
        record.status = Status.BROKEN
        return record

    config_info = listing.top.get(CONFIG_NAME)
    if config_info is None or not stat.S_ISREG(config_info.st_mode):
        if CONFIG_NAME in listing.top_dirs:
            what = "config.json is a folder, expected a file"
        elif config_info is None:
            what = "no config.json"
        else:
            what = "config.json is not a regular file"
        probe_lock(record, listing.top)
        return _without_config(record, listing, what)
    record.config_mtime_ns = config_info.st_mtime_ns
    summary = index.lookup(name, config_info) if index is not None else None
    if summary is None:
        try:
            config, read_info = _read_config(path, config_info.st_size)
        except WorkspaceFileError as exc:
            record.problems.append(f"config.json: {exc.reason}")
            probe_lock(record, listing.top)
            record.status = Status.RUNNING if record.holder else Status.BROKEN
            return record
        summary = summarize(config, path)
        if index is not None:
            index.keep(name, config_info, read_info, summary)
    fill_from_summary(record, summary, listing.top)
    return record


def _read_config(path: str, size: int) -> tuple[dict[str, Any], os.stat_result]:
    """``config.json`` of the folder at ``path`` (a real folder: the caller's ``lstat`` said so),
    whose listed size is ``size``, and the ``fstat`` of the file read: one ``read`` of that size
    plus one byte, more only when the file grew since it was listed. Opened like every
    workspace file (:func:`open_regular`): a link, a FIFO or a device named ``config.json`` is
    a problem, never followed or waited on."""
    target = f"{path}/{CONFIG_NAME}"
    fd, info = open_regular(target)
    try:
        data = read_fd(fd, max(size, info.st_size), target)
    finally:
        os.close(fd)
    document = parse_json(data, target)
    if not isinstance(document, dict):
        kind = type(document).__name__.replace("NoneType", "null")
        raise WorkspaceFileError(target, f"expected a JSON object at the top level, found {kind}")
    return document, info


def _broken(record: AgentRecord, problem: str) -> AgentRecord:
    record.status = Status.BROKEN
    record.problems.append(problem)
    return record


def _describe_link(path: Path) -> str:
    try:
        target = os.readlink(path)
    except OSError:
        target = "?"
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return f"symbolic link loop ({target}), not followed"
        return f"dangling symbolic link to {target}"
    return f"symbolic link to {target}, not followed"


def _without_config(record: AgentRecord, listing: Listing, problem: str) -> AgentRecord:
    memory = listing.top.get(SWARMS_MEMORY_NAME)
    if memory is not None and stat.S_ISREG(memory.st_mode) and problem == "no config.json":
        # swarms' persistent memory of the agent the folder is named for: not a broken agent.
        record.format, record.layout, record.memory_of = Format.SWARMS, Layout.MEMORY, record.name
        record.status = Status.MEMORY
        return record
    empty = not listing.files and not listing.top_dirs
    record.problems.append(problem + (" (empty folder)" if empty else ""))
    record.state_name = pick_state_file(Format.UNKNOWN, record.name, None, listing.top)
    record.status = Status.RUNNING if record.holder else Status.UNKNOWN
    return record
