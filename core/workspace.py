"""Finding and reading agent workspaces, ours and swarms', into records a CLI or a UI can show.

Everything here reads; nothing writes. Whatever is on disk — empty, truncated or foreign files,
a file where a folder should be, unreadable folders, symlink loops — becomes an
:class:`AgentRecord` with status ``"broken"`` or a problem text, never an exception from
:func:`scan` or :func:`read_agent`. Sizes come from ``lstat``: a symlink counts as the link
itself and is never followed, so a link out of the tree cannot inflate or endanger anything.

Scanning is cheap on purpose (one ``scandir`` per folder, only ``config.json`` parsed), and
:func:`read_agent` reads one folder without touching the others, so a watcher can refresh just
the folder that changed.
"""

from __future__ import annotations

import errno
import marshal
import os
import re
import stat
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import attrgetter
from pathlib import Path

from agent_tui import settings
from agent_tui.format import replay
from agent_tui.format.journal import read_journal
from agent_tui.format.layout import (
    CONFIG_NAME,
    ERROR_TXT,
    JOURNAL_NAME,
    LOCK_NAME,
    SETTLED,
    STATE_SUFFIX,
    Format,
)
from agent_tui.format.lock import lock_holder
from agent_tui.format.naming import safe_name, state_file_name
from agent_tui.format.persistence import (
    WorkspaceFileError,
    is_temp_file,
    open_regular,
    parse_json,
    read_fd,
    read_json_object,
)
from agent_tui.format.swarms import (
    SWARMS_STATE,
    normalize_message,
    swarms_messages,
    swarms_status,
)

# typing costs 3 ms of start-up and is needed only by type checkers here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

NON_SERIALIZABLE = "<Non-serializable"

_ID12_SUFFIX = re.compile(r"-[0-9a-f]{12}$")


class WorkspaceLookupError(LookupError):
    """A name, path or step given by a user matches nothing, or more than one thing."""


@dataclass(slots=True)
class AgentRecord:
    """What one folder under ``<root>/agents`` holds, as far as the disk tells.

    The folder, the state file and the newest mtime are kept as the strings and integers the
    scan found; :attr:`folder`, :attr:`state_file` and :attr:`modified` build the ``Path`` and
    ``datetime`` objects when asked. A scan of 10,000 folders would otherwise spend a fifth of
    its time building objects that a listing never looks at.
    """

    name: str
    agent_id: str | None
    path: str
    format: str = Format.UNKNOWN
    status: str = "unknown"
    loop_count: int | None = None
    last_autosave: datetime | None = None
    model: str | None = None
    size_bytes: int = 0
    file_count: int = 0
    problems: list[str] = field(default_factory=list)
    config_mtime_ns: int | None = None
    # The state file's name inside the folder.
    state_name: str | None = None
    error: str | None = None
    # Newest mtime of any file in the folder: the age of a folder whose config cannot be read.
    modified_ns: int = 0
    holder: str | None = None
    _folder: Path | None = field(default=None, repr=False, compare=False)

    @property
    def folder(self) -> Path:
        if self._folder is None:
            self._folder = Path(self.path)
        return self._folder

    @property
    def folder_name(self) -> str:
        return self.path.rpartition(os.sep)[2]

    @property
    def state_file(self) -> Path | None:
        return self.folder / self.state_name if self.state_name else None

    @property
    def modified(self) -> datetime | None:
        return _from_ns(self.modified_ns)

    @property
    def last_activity(self) -> datetime | None:
        """The autosave time, or the newest file's mtime when the config has none."""
        return self.last_autosave or self.modified

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (paths and times as strings)."""
        modified = self.modified
        return {
            "name": self.name,
            "agent_id": self.agent_id,
            "folder": self.path,
            "format": self.format,
            "status": self.status,
            "loop_count": self.loop_count,
            "last_autosave": self.last_autosave.isoformat() if self.last_autosave else None,
            "model": self.model,
            "size_bytes": self.size_bytes,
            "file_count": self.file_count,
            "problems": list(self.problems),
            "state_file": os.path.join(self.path, self.state_name) if self.state_name else None,
            "error": self.error,
            "modified": modified.isoformat() if modified else None,
            "holder": self.holder,
        }


@dataclass(slots=True)
class _Listing:
    """One pass over a folder: sizes plus the top-level files a reader cares about."""

    size: int = 0
    files: int = 0
    newest_ns: int = 0
    top: dict[str, os.stat_result] = field(default_factory=dict)
    top_dirs: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)


def _walk(path: str, listing: _Listing, rel: str, top: bool) -> None:
    # Plain strings and local sums: this loop runs for every file of every folder in a scan.
    try:
        entries = os.scandir(path)
    except OSError as exc:
        where = rel or "folder"
        listing.problems.append(f"{where}: {_os_reason(exc)}, size not counted")
        return
    size = files = newest = 0
    found = listing.top if top else None
    with entries:
        for entry in entries:
            name = entry.name
            if name[0] == "." and is_temp_file(name):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    if top:
                        listing.top_dirs.add(name)
                    _walk(entry.path, listing, f"{rel}{name}/", False)
                    continue
                info = entry.stat(follow_symlinks=False)
            except OSError as exc:
                listing.problems.append(f"{rel}{name}: {_os_reason(exc)}")
                continue
            size += info.st_size
            files += 1
            if info.st_mtime_ns > newest:
                newest = info.st_mtime_ns
            if found is not None:
                found[name] = info
    listing.size += size
    listing.files += files
    if newest > listing.newest_ns:
        listing.newest_ns = newest


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied"
    if exc.errno == errno.ELOOP:
        return "symbolic link loop"
    if isinstance(exc, FileNotFoundError):
        return "vanished while reading"
    return exc.strerror or str(exc)


def folder_size(path: Path) -> tuple[int, int]:
    """``(bytes, files)`` under ``path``, counting symlinks as links, never following them."""
    try:
        info = os.lstat(path)
    except OSError:
        return 0, 0
    if not stat.S_ISDIR(info.st_mode):
        return info.st_size, 1
    listing = _Listing()
    _walk(os.fspath(path), listing, "", False)
    return listing.size, listing.files


def _from_ns(ns: int) -> datetime | None:
    return datetime.fromtimestamp(ns / 1e9, tz=UTC) if ns else None


def parse_timestamp(value: object) -> datetime | None:
    """An aware datetime from ISO-8601 text, or None; never raises. A naive one (swarms) is
    taken as local time, or as UTC near year 1 or 9999, where the local zone cannot take it."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo:
        return moment
    try:
        # astimezone() on a naive datetime interprets it in the local zone, as swarms meant.
        return moment.astimezone()
    except (ValueError, OverflowError, OSError):
        return moment.replace(tzinfo=UTC)


# How much later than config.json's mtime its own timestamp may be and still be believed: the
# clocks of a writer and of its file server differ by seconds, not by minutes.
TIMESTAMP_SLACK_S = 300


def _believe_timestamp(record: AgentRecord) -> None:
    """A timestamp later than the file that holds it was written is not believed (one in 9999
    would read "0s" old and never age into a cleanup): config.json's mtime stands in for it."""
    saved, written_ns = record.last_autosave, record.config_mtime_ns
    if saved is None or written_ns is None:
        return
    if saved.timestamp() <= written_ns / 1e9 + TIMESTAMP_SLACK_S:
        return
    day = saved.date().isoformat()
    if saved > datetime.now(UTC):
        record.problems.append(f"config.json: future timestamp {day}; using its mtime")
    else:
        record.problems.append(f"config.json: timestamp {day} after its mtime; using its mtime")
    record.last_autosave = _from_ns(written_ns)


def _text(value: object) -> str | None:
    if isinstance(value, str) and value and not value.startswith(NON_SERIALIZABLE):
        return value
    return None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _detect_format(config: dict[str, Any], meta: dict[str, Any], top: dict[str, Any]) -> str:
    if meta.get("format") == Format.OURS or config.get("format") == Format.OURS:
        return Format.OURS
    if "short_memory" in config or any(SWARMS_STATE.match(n) for n in top):
        return Format.SWARMS
    return Format.UNKNOWN


def _plain_file_name(value: object) -> str | None:
    # A hostile config must not point the reader outside the folder ("../../etc/passwd").
    if isinstance(value, str) and value and os.sep not in value and value not in (".", ".."):
        return value
    return None


def _pick_state_file(fmt: str, name: str, meta: dict[str, Any], top: dict) -> str | None:
    if fmt == Format.SWARMS:
        candidates = sorted(n for n in top if SWARMS_STATE.match(n))
    else:
        # The config names its state file; deriving the name is the fallback (and costs more).
        named = _plain_file_name(meta.get("state_file"))
        if named not in top:
            named = state_file_name(name)
        candidates = [named] if named in top else []
    if not candidates:
        candidates = sorted(n for n in top if n.endswith(STATE_SUFFIX))
    return candidates[0] if candidates else None


def read_agent(folder: os.PathLike[str] | str) -> AgentRecord:
    """Read one agent folder into a record; never raises for anything found on disk.

    Touches only ``folder`` (one ``scandir`` per sub-folder, one ``config.json`` parse, a lock
    probe when the config claims a run), so it is the call to make when a watcher reports a
    change inside one folder.
    """
    folder = Path(folder)
    record = AgentRecord(folder.name, None, os.fspath(folder), _folder=folder)
    try:
        info = os.lstat(folder)
    except OSError as exc:
        missing = isinstance(exc, FileNotFoundError)
        return _broken(record, "folder not found" if missing else _os_reason(exc))
    if stat.S_ISDIR(info.st_mode):
        return _read_folder(record, info.st_mtime_ns)
    record.modified_ns = info.st_mtime_ns
    record.size_bytes, record.file_count = info.st_size, 1
    if stat.S_ISLNK(info.st_mode):
        return _broken(record, _describe_link(folder))
    return _broken(record, "is a file, expected an agent folder")


def _read_folder(record: AgentRecord, folder_mtime_ns: int | None) -> AgentRecord:
    """The part of :func:`read_agent` after the folder is known to be a real folder."""
    path = record.path
    listing = _Listing()
    _walk(path, listing, "", True)
    record.size_bytes, record.file_count = listing.size, listing.files
    record.problems.extend(listing.problems)
    newest = listing.newest_ns or folder_mtime_ns
    if newest is None:
        newest = _lstat_mtime_ns(path)
    record.modified_ns = newest
    if listing.problems and listing.problems[0].startswith("folder:"):
        record.status = "broken"
        return record

    config_info = listing.top.get(CONFIG_NAME)
    if config_info is None or not stat.S_ISREG(config_info.st_mode):
        if CONFIG_NAME in listing.top_dirs:
            what = "config.json is a folder, expected a file"
        elif config_info is None:
            what = "no config.json"
        else:
            what = "config.json is not a regular file"
        _probe_lock(record, listing.top)
        return _without_config(record, listing, what)
    record.config_mtime_ns = config_info.st_mtime_ns
    try:
        config = _read_config(path, config_info.st_size)
    except WorkspaceFileError as exc:
        record.problems.append(f"config.json: {exc.reason}")
        _probe_lock(record, listing.top)
        record.status = "running" if record.holder else "broken"
        return record
    _fill_from_config(record, config, listing.top)
    return record


def _probe_lock(record: AgentRecord, top: dict) -> None:
    """Fill ``record.holder`` when a live process holds the folder's lock.

    Called only where the config does not settle the status: it claims a run in progress, or
    it cannot be read. A config that says completed, error or interrupted is believed without
    a probe, which saves three system calls per finished folder in a scan.
    """
    if LOCK_NAME in top:
        # One probe: lock_holder says None when nobody holds the lock.
        record.holder = lock_holder(record.folder)


def _lstat_mtime_ns(path: str) -> int:
    try:
        return os.lstat(path).st_mtime_ns
    except OSError:
        return 0


def _read_config(path: str, size: int) -> dict[str, Any]:
    """``config.json`` of the folder at ``path`` (a real folder: the caller's ``lstat`` said so),
    whose listed size is ``size``: one ``read`` of that size plus one byte, more only when the
    file grew since it was listed. Opened like every workspace file (:func:`open_regular`): a
    link, a FIFO or a device named ``config.json`` is a problem, never followed or waited on."""
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
    return document


def _broken(record: AgentRecord, problem: str) -> AgentRecord:
    record.status = "broken"
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


def _without_config(record: AgentRecord, listing: _Listing, problem: str) -> AgentRecord:
    empty = not listing.files and not listing.top_dirs
    record.problems.append(problem + (" (empty folder)" if empty else ""))
    record.state_name = _pick_state_file(Format.UNKNOWN, record.name, {}, listing.top)
    record.status = "running" if record.holder else "unknown"
    return record


def _fill_from_config(record: AgentRecord, config: dict[str, Any], top: dict) -> None:
    meta = config.get("_autosave_metadata")
    if meta is None:
        record.problems.append("config.json: no _autosave_metadata")
        meta = {}
    elif not isinstance(meta, dict):
        record.problems.append("config.json: _autosave_metadata is not an object")
        meta = {}
    record.format = _detect_format(config, meta, top)
    record.name = _text(config.get("agent_name")) or _text(meta.get("agent_name")) or record.name
    agent_id = meta.get("agent_id") or config.get("agent_id") or config.get("id")
    record.agent_id = agent_id if isinstance(agent_id, str) else None
    record.model = _text(config.get("model_name")) or _text(config.get("llm"))
    if config.get("model_name") is not None and not isinstance(config["model_name"], str):
        record.problems.append("config.json: model_name is not text")

    if "loop_count" in meta and meta["loop_count"] is not None:
        record.loop_count = _int(meta["loop_count"])
        if record.loop_count is None:
            record.problems.append("config.json: loop_count is not a whole number")
    if "timestamp" in meta:
        record.last_autosave = parse_timestamp(meta["timestamp"])
        if record.last_autosave is None:
            record.problems.append("config.json: timestamp is not an ISO-8601 time")
        else:
            _believe_timestamp(record)

    record.state_name = _pick_state_file(record.format, record.name, meta, top)
    # The lock only confirms a claimed run (see _probe_lock); a settled status needs no probe.
    if record.format != Format.OURS or meta.get("status") not in SETTLED:
        _probe_lock(record, top)
    if record.format == Format.SWARMS:
        try:
            swarms_messages(config, f"{record.path}/{CONFIG_NAME}")
        except WorkspaceFileError as exc:
            record.problems.append(f"config.json: {exc.reason}")
        status = _swarms_status(record, top, meta)
    else:
        status = _our_status(record, meta)
    record.status = "running" if record.holder else status


def _our_status(record: AgentRecord, meta: dict[str, Any]) -> str:
    status = meta.get("status")
    record.error = _text(meta.get("error"))
    if status == "running":
        if not record.holder:
            record.problems.append("process died mid-run")
        return "interrupted"
    if status in SETTLED:
        return status
    if status is None:
        record.problems.append("config.json: no run status")
    else:
        record.problems.append(f"config.json: unknown status {status!r}")
    return "unknown"


def _swarms_status(record: AgentRecord, top: dict, meta: dict[str, Any]) -> str:
    error_info = top.get(ERROR_TXT)
    has_error = error_info is not None and error_info.st_size > 0
    status, record.error = swarms_status(record.path, meta.get("loop_count"), has_error)
    return status


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
        raise WorkspaceFileError(agents, _os_reason(exc)) from None
    entries.sort(key=attrgetter("name"))
    return agents, entries


def iter_agent_folders(root: os.PathLike[str] | str | None = None) -> Iterator[Path]:
    """Every entry of ``<root>/agents`` that could be an agent (temp files skipped), by name.

    Raises :class:`WorkspaceFileError` when ``<root>/agents`` exists but is not a readable
    folder; yields nothing when it does not exist yet.
    """
    agents, entries = _agent_entries(root)
    for entry in entries:
        yield agents / entry.name


def scan(root: os.PathLike[str] | str | None = None, *, jobs: int = 1) -> list[AgentRecord]:
    """Records for every folder under ``<root>/agents`` (root defaults to ``$WORKSPACE_DIR``),
    sorted by folder name. An agents folder that does not exist yet gives an empty list.

    ``jobs=2`` shares a large workspace with a forked child (see :func:`scan_map`).
    Raises :class:`WorkspaceFileError` only when ``<root>/agents`` itself cannot be listed.
    """
    return scan_map(root, _same, jobs=jobs)


def _same(record: AgentRecord) -> AgentRecord:
    return record


def scan_map(
    root: os.PathLike[str] | str | None, convert: Callable[[AgentRecord], Any], *, jobs: int = 1
) -> list[Any]:
    """``[convert(record) for record in scan(root)]``, with ``convert`` run where the record
    was read.

    ``jobs=2`` shares a workspace of :data:`PARALLEL_MIN` folders or more with a forked child:
    the walk and the JSON parsing are CPU-bound in Python. Only what ``convert`` returns crosses
    back, so a caller that wants table rows sends rows, not records. Only a single-threaded
    process may ask for it, since forking a threaded one is unsafe; otherwise the scan runs
    here, in one process.
    """
    agents, entries = _agent_entries(root)
    if jobs > 1 and len(entries) >= PARALLEL_MIN and threading.active_count() == 1:
        return _scan_forked(agents, entries, convert)
    return _read_chunk(agents, entries, convert)


PARALLEL_MIN = 2000


def _record_for(agents: Path, entry: os.DirEntry) -> AgentRecord:
    try:
        is_dir = entry.is_dir(follow_symlinks=False)
    except OSError:
        is_dir = False
    if is_dir:
        # The listing already says it is a real folder: skip read_agent's lstat.
        return _read_folder(AgentRecord(entry.name, None, entry.path), None)
    return read_agent(agents / entry.name)


def _scan_forked(
    agents: Path, entries: list[os.DirEntry], convert: Callable[[AgentRecord], Any]
) -> list[Any]:
    """Two processes share the folders chunk by chunk, so the faster one reads more: folders of
    one kind sort together and cost more than others, and a virtual CPU can stall for a while.

    Chunks are handed out through a pipe holding one byte (the chunk's number) per chunk; a
    one-byte read is atomic, so each chunk goes to exactly one process.
    """
    size = max(PARALLEL_CHUNK, -(-len(entries) // 255))
    starts = range(0, len(entries), size)
    tokens, refill = os.pipe()
    os.write(refill, bytes(range(len(starts))))
    os.close(refill)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: send back what it read, then exit at once
        status = 1
        try:
            os.close(read_end)
            view = memoryview(_pack(_take_chunks(tokens, starts, size, agents, entries, convert)))
            while view:
                view = view[os.write(write_end, view) :]
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    pipe = os.fdopen(read_end, "rb")
    try:
        done = _take_chunks(tokens, starts, size, agents, entries, convert)
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
            done[number] = _read_chunk(agents, entries[start : start + size], convert)
        merged.extend(done[number])
    return merged


PARALLEL_CHUNK = 100


def _take_chunks(
    tokens: int,
    starts: range,
    size: int,
    agents: Path,
    entries: list[os.DirEntry],
    convert: Callable[[AgentRecord], Any],
) -> dict[int, list[Any]]:
    done: dict[int, list[Any]] = {}
    while token := os.read(tokens, 1):
        start = starts[token[0]]
        done[token[0]] = _read_chunk(agents, entries[start : start + size], convert)
    return done


def _read_chunk(
    agents: Path, entries: list[os.DirEntry], convert: Callable[[AgentRecord], Any]
) -> list[Any]:
    return [convert(_record_for(agents, entry)) for entry in entries]


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


def load_config(folder: os.PathLike[str] | str) -> dict[str, Any]:
    """The folder's ``config.json`` as a dict; raises :class:`WorkspaceFileError` saying why not."""
    return read_json_object(Path(folder) / CONFIG_NAME)


def load_state(folder: os.PathLike[str] | str) -> dict[str, Any] | None:
    """The folder's state file as a dict, ``None`` when there is none; raises
    :class:`WorkspaceFileError` when one exists but cannot be read."""
    record = read_agent(folder)
    return read_json_object(record.state_file) if record.state_file else None


def load_conversation(folder: os.PathLike[str] | str) -> list[dict[str, Any]]:
    """The conversation as normalized messages (see :func:`normalize_message`).

    Ours: the state file's conversation plus the journal records after its ``journal_seq`` (so
    steps completed after the last full save, even before a ``kill -9``, are included). Swarms:
    ``short_memory`` of ``config.json``. Raises :class:`WorkspaceFileError` when neither can be
    read.
    """
    folder = Path(folder)
    record = read_agent(folder)
    if record.format == Format.SWARMS:
        config = load_config(folder)
        raw = swarms_messages(config, folder / CONFIG_NAME)
        return [normalize_message(m, record.name) for m in raw]
    return [normalize_message(m) for m in _our_messages(record, _journal_records(folder)[0])]


def _journal_records(folder: Path) -> tuple[list[dict[str, Any]], list[str]]:
    journal = read_journal(folder / JOURNAL_NAME)
    # A record without a whole-number seq cannot be placed relative to the state file.
    records = [r for r in journal.records if replay.seq_of(r) is not None]
    return records, journal.problems


def _our_messages(record: AgentRecord, records: list[dict[str, Any]]) -> list[Any]:
    """Raw messages: the state file's conversation, then the journal records after its
    ``journal_seq`` replayed the way ``Agent.load()`` does."""
    state: dict[str, Any] = {}
    if record.state_file is not None:
        state = read_json_object(record.state_file)
    elif not records:
        raise WorkspaceFileError(record.folder, "no state file and no journal.jsonl to read")
    messages = state.get("conversation", [])
    if not isinstance(messages, list):
        raise WorkspaceFileError(record.state_file or record.folder, "conversation is not a list")
    rebuilt = replay.Replay(list(messages) if state else _system_from_config(record.folder))
    seq = _int(state.get("journal_seq")) or 0
    for entry in records:
        if entry["seq"] > seq:
            replay.apply(rebuilt, entry)
    return rebuilt.conversation


def _system_from_config(folder: Path) -> list[dict[str, Any]]:
    try:
        prompt = load_config(folder).get("system_prompt")
    except WorkspaceFileError:
        return []
    return [{"role": "system", "content": prompt}] if isinstance(prompt, str) and prompt else []


@dataclass
class StepSnapshot:
    """Where the conversation stood after one completed step: ``messages[start:end]``."""

    loop_count: int
    start: int
    end: int
    memory: dict[str, Any]
    ts: str | None = None
    seq: int | None = None


@dataclass
class StepHistory:
    """The per-step history of one of our workspaces, read from ``journal.jsonl``.

    Documents are built on request (:meth:`document`), so a history of 10,000 steps costs one
    list of messages, not 10,000 copies of it.
    """

    folder: Path
    messages: list[dict[str, Any]]
    steps: list[StepSnapshot]
    problems: list[str] = field(default_factory=list)

    @property
    def loop_counts(self) -> list[int]:
        return [s.loop_count for s in self.steps]

    def snapshot(self, loop_count: int) -> StepSnapshot:
        for step in self.steps:
            if step.loop_count == loop_count:
                return step
        known = self.loop_counts
        span = f"steps {known[0]}-{known[-1]}" if known else "no steps"
        raise WorkspaceLookupError(
            f"step {loop_count} is not in the history of {self.folder} ({span} recorded)"
        )

    def document(self, loop_count: int) -> dict[str, Any]:
        """``{"loop_count", "conversation", "memory"}`` as they were after step ``loop_count``."""
        step = self.snapshot(loop_count)
        return {
            "loop_count": step.loop_count,
            "conversation": self.messages[step.start : step.end],
            "memory": step.memory,
        }


def step_history(folder: os.PathLike[str] | str) -> StepHistory:
    """The conversation, loop count and memory after each completed step, from the journal.

    Step N is where the last journal record of kind ``step`` with loop count N left things;
    a loop count no step record reached (0: the system prompt and the task) is where the last
    record carrying it left things. A journal cut after a compaction starts from the state
    file, and only the steps it still holds are available.
    """
    folder = Path(folder)
    record = read_agent(folder)
    if record.format == Format.SWARMS:
        raise WorkspaceLookupError(f"{folder} is a swarms workspace; it keeps no per-step history")
    records, problems = _journal_records(folder)
    whole = bool(records) and bool(records[0].get("new_conversation"))
    base: list[Any] = []
    if not whole:
        messages = _our_messages(record, records)
        # Whether folded into the state file or replayed, the journal's messages close the
        # list; what precedes them is the base every step builds on.
        journal_messages = sum(len(replay.messages_of(e)) for e in records)
        base = messages[: max(0, len(messages) - journal_messages)]
    history = StepHistory(folder, [normalize_message(m) for m in base], [], list(problems))
    snapshots: dict[int, tuple[bool, StepSnapshot]] = {}
    if not whole:
        snapshots[_base_loop_count(records)] = (False, StepSnapshot(0, 0, len(base), {}))
    start, memory = 0, {}
    for entry in records:
        if entry.get("kind") == "task" and entry.get("new_conversation"):
            start = len(history.messages)
        history.messages.extend(normalize_message(m) for m in replay.messages_of(entry))
        if isinstance(entry.get("memory"), dict):
            memory = entry["memory"]
        loop_count = _int(entry.get("loop_count"))
        if loop_count is None:
            continue
        is_step = entry.get("kind") == "step"
        if is_step or not snapshots.get(loop_count, (False,))[0]:
            ts = entry.get("ts") if isinstance(entry.get("ts"), str) else None
            snap = StepSnapshot(loop_count, start, len(history.messages), memory, ts, entry["seq"])
            snapshots[loop_count] = (is_step, snap)
    for loop_count, (_, snap) in sorted(snapshots.items()):
        snap.loop_count = loop_count
        history.steps.append(snap)
    return history


def _base_loop_count(records: list[dict[str, Any]]) -> int:
    # A journal cut after compaction starts mid-run; its base is the step before its first record.
    if not records:
        return 0
    first = _int(records[0].get("loop_count")) or 0
    return max(0, first - 1) if records[0].get("kind") == "step" else first


def resolve_agent(query: str, root: os.PathLike[str] | str | None = None) -> Path:
    """The folder of the agent a user named: a path to a folder (or to a file in it), a folder
    name, or an ``agent_name``. Raises :class:`WorkspaceLookupError` when nothing matches or
    when several do (the message lists them)."""
    as_path = Path(query).expanduser()
    if os.sep in query or query.startswith("."):
        if as_path.is_dir():
            return as_path
        if as_path.is_file():
            return as_path.parent
        raise WorkspaceLookupError(f"no agent folder at {query}")
    folders = list(iter_agent_folders(root))
    exact = [f for f in folders if f.name == query]
    if exact:
        return exact[0]
    prefix = safe_name(query)
    by_folder = [f for f in folders if _ID12_SUFFIX.sub("", f.name) == prefix]
    matches = [f for f in by_folder if read_agent(f).name == query] or by_folder
    if not matches:
        records = [read_agent(f) for f in folders]
        matches = [r.folder for r in records if r.name == query] or [
            r.folder for r in records if r.name.lower() == query.lower()
        ]
    if not matches:
        if as_path.is_dir():
            return as_path
        where = settings.agents_dir(root)
        raise WorkspaceLookupError(f"no agent named {query!r} in {where}")
    if len(matches) > 1:
        listed = ", ".join(m.name for m in matches)
        raise WorkspaceLookupError(
            f"{query!r} matches {len(matches)} agents ({listed}); give the folder name or path"
        )
    return matches[0]
