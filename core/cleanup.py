"""Cleaning up old workspaces: a plan first (what, why, how many bytes), then the act.

Safety rules the act enforces on every folder, however the plan was made:
- only a direct child of ``<root>/agents`` is touched (checked on the resolved parent), and
  ``agents`` itself must be a real folder: a link there is refused, nothing removed;
- a folder a live process holds (``agent.lock``) is never removed, and no agent can claim a
  folder while it goes: the lock is taken (made if missing) and held for the whole removal,
  and the folder is first renamed to a hidden name in ``agents/`` (``.removing-*.tmp``, which
  listings skip), so an agent that starts by name meanwhile makes a fresh folder the removal
  never sees. ``agent.lock`` goes last. A clean that dies half-way leaves only such a hidden
  folder, which the next clean finishes;
- links are never followed and FIFOs or devices never opened: removal works relative to
  directory descriptors opened with ``O_NOFOLLOW``, and unlinks what is not a folder;
- no device boundary is crossed (like ``rm --one-file-system``): a mount point inside a folder
  is left whole and reported, and the folder keeps its name;
- ``freed_bytes`` counts what removing frees: a file with other hard links is not counted;
- a move to the trash (a folder of the user's, or the desktop trash) obeys every rule above:
  the folder is moved by name relative to the agents folder's descriptor, with its lock held.
"""

from __future__ import annotations

import errno
import fcntl
import itertools
import os
import stat
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from agent_tui import settings
from agent_tui.format.layout import LOCK_NAME, STATUSES, TEMP_SUFFIX, Status
from agent_tui.format.lock import lock_holder
from agent_tui.format.persistence import FOLDER_FLAGS, READ_FLAGS, is_temp_file
from agent_tui.units import format_bytes, format_span
from agent_tui.workspace import AgentRecord, folder_size


@dataclass
class CleanupItem:
    """One folder in a plan: what it is, how big, and why it is (or is not) removed."""

    folder: Path
    name: str
    bytes: int
    reason: str
    status: str = "unknown"
    last_activity: datetime | None = None


@dataclass
class CleanupPlan:
    """Folders to remove (``items``) and folders that matched but are protected (``skipped``)."""

    agents_dir: Path
    items: list[CleanupItem] = field(default_factory=list)
    skipped: list[CleanupItem] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        return sum(item.bytes for item in self.items)


@dataclass
class CleanupResult:
    """What :func:`execute` did. ``freed_bytes`` counts files actually removed (or moved to
    the trash); a folder that failed half-way counts what went before the failure."""

    removed: list[Path] = field(default_factory=list)
    trashed: list[Path] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    failures: list[tuple[Path, str]] = field(default_factory=list)
    freed_bytes: int = 0
    #: Hidden folders an earlier, interrupted clean left half-removed, finished this time.
    finished: list[Path] = field(default_factory=list)


@dataclass(frozen=True)
class Usage:
    """A folder's size as ncdu counts it: ``apparent`` sums ``st_size``, ``disk`` sums
    ``st_blocks * 512`` (a sparse file is large in one and small in the other). A file with
    several hard links in the folder counts once; folders themselves count nothing, as in
    ``agent-tui ls``."""

    apparent: int = 0
    disk: int = 0


def usage(folder: Path) -> Usage:
    """The :class:`Usage` of ``folder``, never following a link or crossing into another file
    system (what cleanup would remove). What cannot be read is left out; a link or a file
    where a folder should be counts as itself."""
    try:
        top = os.lstat(folder)
    except OSError:
        return Usage()
    if not stat.S_ISDIR(top.st_mode):
        return Usage(top.st_size, top.st_blocks * 512)
    apparent = disk = 0
    seen: set[int] = set()
    pending = [os.fspath(folder)]
    while pending:
        try:
            entries = list(os.scandir(pending.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(info.st_mode):
                if info.st_dev == top.st_dev:
                    pending.append(entry.path)
                continue
            if info.st_nlink > 1:
                if info.st_ino in seen:
                    continue
                seen.add(info.st_ino)
            apparent += info.st_size
            disk += info.st_blocks * 512
    return Usage(apparent, disk)


def parse_statuses(text: str) -> set[str]:
    """``"error,interrupted"`` (commas or spaces) -> the set of statuses; ``ValueError``
    naming the known ones for any other word."""
    chosen = {word for word in text.replace(",", " ").split()}
    unknown = chosen - set(STATUSES)
    if unknown:
        raise ValueError(
            f"unknown status {', '.join(sorted(unknown))}; choose from {', '.join(STATUSES)}"
        )
    return chosen


def matches(record: AgentRecord, statuses: set[str] | None, min_size: int | None) -> bool:
    """Whether ``record`` passes the status and minimum-size filters (``None``: no filter);
    the one rule for ``plan`` and the cleanup screen's list."""
    if statuses and record.status not in statuses:
        return False
    return min_size is None or record.size_bytes >= min_size


def desktop_trash() -> Path:
    """The user's desktop trash (freedesktop.org): ``$XDG_DATA_HOME/Trash``, by default
    ``~/.local/share/Trash``; folders go to its ``files``, a ``.trashinfo`` each to ``info``."""
    data = os.environ.get("XDG_DATA_HOME", "")
    return (Path(data) if os.path.isabs(data) else Path.home() / ".local" / "share") / "Trash"


class UnsafeAgentsDirError(ValueError):
    """``<root>/agents`` is a link or not a folder: cleanup refuses to remove anything."""


Progress = Callable[[int, int, CleanupItem], None]

# Removals at once: on 5,000 folders, 4 threads took 1.5 s where one took 2.8 s and `rm -rf`
# 2.4 s: a removal mostly waits on the file system's journal and the disk.
REMOVERS = 4


def plan(
    records: Iterable[AgentRecord],
    older_than: timedelta | None = None,
    keep_last: int | None = None,
    statuses: set[str] | None = None,
    min_size: int | None = None,
    now: datetime | None = None,
    *,
    agents_dir: Path | None = None,
) -> CleanupPlan:
    """Select folders that meet every criterion given.

    ``older_than``: last autosave (or newest file) before ``now - older_than``. ``keep_last``:
    all but the newest N folders of each agent name. ``statuses``: status in the set.
    ``min_size``: at least this many bytes. At least one criterion is required. Running
    folders and folders that are not direct children of ``agents_dir`` (default
    ``$WORKSPACE_DIR/agents``) are listed as skipped, never as items.
    """
    if older_than is None and keep_last is None and not statuses and min_size is None:
        raise ValueError("say what to clean: an age, a number to keep, a status or a size")
    if keep_last is not None and keep_last < 0:
        raise ValueError("keep_last must be zero or more")
    now = now or datetime.now(UTC)
    agents = Path(agents_dir) if agents_dir is not None else settings.agents_dir()
    records = list(records)
    beyond_keep = _beyond_keep_last(records, keep_last) if keep_last is not None else None
    result = CleanupPlan(agents)
    resolved: dict[str, str] = {}
    for record in sorted(records, key=lambda r: r.folder_name):
        reasons = []
        if older_than is not None:
            moment = record.last_activity
            if moment is None or now - moment < older_than:
                continue
            reasons.append(
                f"older than {format_span(older_than)} ({format_span(now - moment)} old)"
            )
        if beyond_keep is not None:
            if record.path not in beyond_keep:
                continue
            reasons.append(f"beyond the newest {keep_last} of {record.name!r}")
        if not matches(record, statuses, min_size):
            continue
        if statuses:
            reasons.append(f"status {record.status}")
        if min_size is not None:
            reasons.append(f"{format_bytes(record.size_bytes)} >= {format_bytes(min_size)}")
        item = CleanupItem(
            record.folder,
            record.name,
            record.size_bytes,
            "; ".join(reasons),
            record.status,
            record.last_activity,
        )
        refusal = _refusal(record.folder, agents, resolved)
        if refusal is None and record.status == Status.RUNNING:
            refusal = f"running ({record.holder or 'a live process holds it'})"
        if refusal:
            item.reason = refusal
            result.skipped.append(item)
        else:
            result.items.append(item)
    return result


def _beyond_keep_last(records: list[AgentRecord], keep: int) -> set[str]:
    # By layout too: an agent's swarms memory folder, or a structure run of the same name, is
    # not an older copy of the agent.
    groups: dict[tuple[str, str], list[AgentRecord]] = {}
    for record in records:
        groups.setdefault((record.layout, record.name), []).append(record)
    oldest = datetime.min.replace(tzinfo=UTC)
    beyond: set[str] = set()
    for group in groups.values():
        group.sort(key=lambda r: (r.last_activity or oldest, r.folder_name), reverse=True)
        beyond.update(r.path for r in group[keep:])
    return beyond


def _refusal(folder: Path, agents: Path, resolved: dict[str, str]) -> str | None:
    """Why ``folder`` must not be touched, or ``None``. The folder itself is not resolved (it
    may be a link, which is removed as a link); its parent must resolve to the agents folder.
    ``resolved`` memoizes resolutions within one call: thousands of folders share one parent
    (plain strings: hashing ``Path`` objects cost a clean of 10,000 folders a quarter second)."""
    parent, _, name = os.fspath(folder).rpartition(os.sep)
    home = os.fspath(agents)
    for path in (parent or ".", home):
        if path not in resolved:
            resolved[path] = os.path.realpath(path)
    if name in ("", ".", "..") or resolved[parent or "."] != resolved[home]:
        return f"outside {agents}"
    return None


def check_agents_dir(agents: Path) -> None:
    """Raise :class:`UnsafeAgentsDirError` when ``agents`` exists but is a link or not a
    folder: a clean through a link would remove the link target's folders."""
    try:
        info = os.lstat(agents)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise UnsafeAgentsDirError(f"cannot read {agents}: {exc.strerror or exc}") from None
    if stat.S_ISLNK(info.st_mode):
        raise UnsafeAgentsDirError(
            f"{agents} is a symbolic link; clean removes folders only from a real agents "
            "folder, so nothing was removed (point --workspace at the folder the link leads "
            "to if that is the workspace you mean)"
        )
    if not stat.S_ISDIR(info.st_mode):
        raise UnsafeAgentsDirError(f"{agents} is not a folder; nothing was removed")


def execute(
    cleanup: CleanupPlan,
    trash_dir: Path | None = None,
    progress: Progress | None = None,
    workers: int = REMOVERS,
    *,
    to_desktop_trash: bool = False,
) -> CleanupResult:
    """Remove (or move to ``trash_dir``, or with ``to_desktop_trash`` to the desktop trash,
    :func:`desktop_trash`) every folder of the plan, re-checking each one first.

    ``workers`` threads remove folders side by side: most of a removal is the file system
    waiting on its journal and the disk, which a lone remover (``rm -rf``) spends idle. The
    result lists folders in plan order whatever the order they went in. ``progress(done,
    total, item)`` is called as each folder is done, from the calling thread. A folder that
    became running, moved or resolves outside the agents folder since the plan is skipped;
    errors are collected in ``failures``, never raised. An interruption (Ctrl-C) lets the
    folders already under way finish and starts no other. Hidden folders an interrupted clean
    left are finished first (``finished``). Raises :class:`UnsafeAgentsDirError` when the
    agents folder is a link, ``ValueError`` when the trash is inside it.
    """
    result = CleanupResult()
    resolved: dict[str, str] = {}
    check_agents_dir(cleanup.agents_dir)
    agents = cleanup.agents_dir.resolve()
    trash = _bin(trash_dir, to_desktop_trash, agents)
    total = len(cleanup.items)
    try:
        # Every removal works by name relative to this descriptor: a path swapped for a link
        # after this point cannot redirect it (nor can `agents` itself, opened O_NOFOLLOW).
        agents_fd = os.open(cleanup.agents_dir, _DIR_FLAGS)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafeAgentsDirError(f"{cleanup.agents_dir} is a symbolic link") from None
        reason = f"cannot open {agents}: {exc.strerror or exc}"
        result.failures.extend((item.folder, reason) for item in cleanup.items)
        return result

    def remove(item: CleanupItem) -> CleanupResult:
        part = CleanupResult()
        refusal = _refusal(item.folder, cleanup.agents_dir, resolved)
        if refusal:
            part.skipped.append((item.folder, refusal))
        else:
            _remove_item(agents_fd, item.folder, trash, part)
        return part

    pool = ThreadPoolExecutor(max(1, workers), thread_name_prefix="cleanup")
    try:
        _finish_removals(agents_fd, cleanup.agents_dir, result)
        if progress is not None and total:
            progress(0, total, cleanup.items[0])
        for done, (item, part) in enumerate(
            zip(cleanup.items, pool.map(remove, cleanup.items), strict=True)
        ):
            result.removed += part.removed
            result.trashed += part.trashed
            result.skipped += part.skipped
            result.failures += part.failures
            result.freed_bytes += part.freed_bytes
            if progress is not None:
                progress(done + 1, total, item)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        os.close(agents_fd)
    return result


@dataclass(frozen=True)
class _Bin:
    """Where moved folders go: ``files``; for the desktop trash also ``info``, where a
    ``.trashinfo`` file records each folder's place (``origin``) and time, so that the desktop
    can restore it."""

    files: Path
    info: Path | None = None
    origin: Path = Path()


def _bin(trash_dir: Path | None, desktop: bool, agents: Path) -> _Bin | None:
    """The trash :func:`execute` moves to, made if missing; ``None`` to delete. ``ValueError``
    for a trash inside the agents folder (a move there would be listed again)."""
    if desktop:
        home = desktop_trash()
        trash = _Bin(home / "files", home / "info", agents)
    elif trash_dir is not None:
        trash = _Bin(Path(trash_dir), None, agents)
    else:
        return None
    resolved = trash.files.resolve()
    if resolved == agents or agents in resolved.parents:
        raise ValueError(f"the trash folder {trash.files} must not be inside {agents}")
    for folder in (trash.files, trash.info):
        if folder is not None:
            folder.mkdir(0o700, parents=True, exist_ok=True)
    return trash


# One spelling of "never through a link, never blocking" for every reader and writer.
_DIR_FLAGS = FOLDER_FLAGS
REMOVING_PREFIX = ".removing-"
# Bytes of the folder's name kept in its hidden name: enough to recognise it, short enough
# that prefix, pid and number stay within a file name's 255 bytes.
_NAME_KEPT = 100
_hidden_numbers = itertools.count(1)


def _device(fd: int) -> int:
    """The device of an open folder (one place, so a test can stand in for a mount)."""
    return os.fstat(fd).st_dev


def _frees(info: os.stat_result) -> bool:
    """Whether unlinking this entry frees its bytes: not while other hard links remain."""
    return info.st_nlink <= 1 or stat.S_ISDIR(info.st_mode)


def _remove_item(agents_fd: int, folder: Path, trash: _Bin | None, result: CleanupResult) -> None:
    name = folder.name
    try:
        info = os.stat(name, dir_fd=agents_fd, follow_symlinks=False)
    except FileNotFoundError:
        result.skipped.append((folder, "already gone"))
        return
    except OSError as exc:
        result.failures.append((folder, exc.strerror or str(exc)))
        return
    if not stat.S_ISDIR(info.st_mode):
        # A link or a stray file: remove the entry itself, never what a link points to.
        try:
            if trash is not None:
                target, trash_info = _reserve(trash, name)
                try:
                    os.rename(name, target, src_dir_fd=agents_fd)
                finally:
                    _drop_info_unless_moved(trash_info, target)
                result.trashed.append(folder)
            else:
                os.unlink(name, dir_fd=agents_fd)
                result.removed.append(folder)
        except OSError as exc:
            result.failures.append((folder, exc.strerror or str(exc)))
            return
        result.freed_bytes += info.st_size if _frees(info) else 0
        return
    try:
        folder_fd, device = _open_same_device(agents_fd, name)
    except OSError as exc:
        result.failures.append((folder, exc.strerror or str(exc)))
        return
    try:
        _remove_locked_folder(agents_fd, folder_fd, device, folder, trash, result)
    finally:
        os.close(folder_fd)


def _open_same_device(agents_fd: int, name: str) -> tuple[int, int]:
    """Open ``agents/name`` (never through a link): ``(descriptor, device)``. ``OSError`` when
    it cannot be opened or is a mount point (another file system), which is never entered."""
    fd = os.open(name, _DIR_FLAGS, dir_fd=agents_fd)
    device = _device(fd)
    if device != _device(agents_fd):
        os.close(fd)
        raise OSError(
            errno.EXDEV, "a mount point (another file system): not crossed, nothing removed"
        )
    return fd, device


@dataclass
class _Claim:
    """A folder this clean holds for its removal: open as ``fd`` on ``device``, locked
    (``lock_fd``, ``None`` when there is no lock to take; ``made_lock`` when this clean made
    the lock file), found as ``agents/<folder.name>`` under ``agents_fd``."""

    agents_fd: int
    fd: int
    device: int
    folder: Path
    lock_fd: int | None = None
    made_lock: bool = False


def _remove_locked_folder(
    agents_fd: int,
    folder_fd: int,
    device: int,
    folder: Path,
    trash: _Bin | None,
    result: CleanupResult,
) -> None:
    try:
        lock_fd, made = _hold_lock(folder_fd, create=True)
    except BlockingIOError:
        result.skipped.append((folder, f"running ({lock_holder(folder) or 'a live process'})"))
        return
    claim = _Claim(agents_fd, folder_fd, device, folder, lock_fd, made)
    try:
        if trash is None:
            _delete(claim, result)
        else:
            _trash(claim, trash, result)
    finally:
        if lock_fd is not None:
            if made:
                # The lock this clean made only guarded the removal: a folder that stays (or
                # went to the trash) is left as it was. Unlinked while still held.
                try:
                    os.unlink(LOCK_NAME, dir_fd=folder_fd)
                except OSError:
                    pass
            os.close(lock_fd)


def _delete(claim: _Claim, result: CleanupResult) -> None:
    errors: list[str] = []
    result.freed_bytes += _hide_and_remove(claim, errors)
    if errors:
        result.failures.append((claim.folder, _summary(errors)))
    else:
        result.removed.append(claim.folder)


def _hide_and_remove(claim: _Claim, errors: list[str]) -> int:
    """Rename the folder to a hidden name, then remove it (:func:`_remove_hidden`); returns
    the bytes freed. What stays (an error, a mount point) gets its name back, so that the user
    sees what is left."""
    try:
        hidden = _hide(claim.agents_fd, claim.folder.name)
    except OSError as exc:
        errors.append(f"cannot rename it for removal: {exc.strerror or exc}")
        return 0
    freed = _remove_hidden(claim, hidden, errors)
    if errors:
        _restore(claim.agents_fd, hidden, claim.folder, errors)
    return freed


def _remove_hidden(claim: _Claim, hidden: str, errors: list[str]) -> int:
    """Empty the claimed folder, now named ``hidden``, then unlink its lock (last, and still
    held: until the folder is gone nothing can take a fresh lock in it) and remove it; returns
    the bytes freed. Stops at the first step that leaves ``errors``."""
    where = str(claim.folder)
    keep = LOCK_NAME if claim.lock_fd is not None else None
    freed = _empty_dir(claim.fd, where, claim.device, errors, keep)
    if claim.lock_fd is not None and not errors:
        lock = os.fstat(claim.lock_fd)
        freed += _unlink(claim.fd, LOCK_NAME, lock, f"{where}/{LOCK_NAME}", errors)
    if not errors:
        try:
            os.rmdir(hidden, dir_fd=claim.agents_fd)
        except FileNotFoundError:
            pass  # another clean finished it
        except OSError as exc:
            errors.append(f"{where}: {exc.strerror or exc}")
    return freed


def _hide(agents_fd: int, name: str) -> str:
    """Rename ``agents/name`` to a free hidden name that listings skip; returns that name."""
    kept = os.fsdecode(os.fsencode(name)[:_NAME_KEPT])
    for _ in range(1000):
        hidden = f"{REMOVING_PREFIX}{kept}-{os.getpid()}-{next(_hidden_numbers)}{TEMP_SUFFIX}"
        try:
            # Taken names fail (a file, a link, a folder with something in it) and the next
            # number is tried; at most an empty folder a dead clean of this pid left is replaced.
            os.rename(name, hidden, src_dir_fd=agents_fd, dst_dir_fd=agents_fd)
        except OSError as exc:
            if exc.errno not in _NAME_TAKEN:
                raise
            continue
        return hidden
    raise OSError(errno.EEXIST, "no free hidden name to rename it to")


_NAME_TAKEN = (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR)


def _restore(agents_fd: int, hidden: str, folder: Path, errors: list[str]) -> None:
    """Give a folder that could not be wholly removed its name back, unless a fresh folder of
    that name was made meanwhile (then what is left stays hidden, and the message says where)."""
    try:
        os.stat(folder.name, dir_fd=agents_fd, follow_symlinks=False)
    except FileNotFoundError:
        try:
            os.rename(hidden, folder.name, src_dir_fd=agents_fd, dst_dir_fd=agents_fd)
            return
        except OSError:
            pass
    except OSError:
        pass
    errors.insert(0, f"what is left is in {folder.parent / hidden}")


def _summary(errors: list[str]) -> str:
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return errors[0] + more


def _hold_lock(folder_fd: int, *, create: bool) -> tuple[int | None, bool]:
    """Take the agent's lock for the removal: ``(descriptor, made)``, ``(None, False)`` when
    there is no lock to take (none and ``create`` is false, or ``agent.lock`` is a link or not
    a regular file, which the runtime refuses to lock as well). ``BlockingIOError`` when a live
    process holds it. Opened with ``O_NOFOLLOW|O_NONBLOCK`` (a FIFO there never blocks);
    a missing lock is made with ``O_EXCL``, so an agent that starts meanwhile finds it held."""
    for _ in range(3):
        made = False
        try:
            fd = os.open(LOCK_NAME, READ_FLAGS, dir_fd=folder_fd)
        except FileNotFoundError:
            if not create:
                return None, False
            try:
                fd = os.open(LOCK_NAME, _LOCK_MAKE, 0o644, dir_fd=folder_fd)
            except FileExistsError:
                continue  # an agent made it first: take (or fail to take) that one
            except OSError:
                return None, False
            made = True
        except OSError:
            return None, False
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                os.close(fd)
                return None, False
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise
        except OSError:
            os.close(fd)
            return None, False
        return fd, made
    return None, False


_LOCK_MAKE = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def _finish_removals(agents_fd: int, agents: Path, result: CleanupResult) -> None:
    """Remove the hidden folders a clean that died half-way left in ``agents/``. One whose
    lock is held is under way in a live clean and left to it."""
    with os.scandir(agents_fd) as entries:
        names = [
            e.name
            for e in entries
            if e.name[0] == "." and e.name.startswith(REMOVING_PREFIX) and is_temp_file(e.name)
        ]
    for name in names:
        path = agents / name
        errors: list[str] = []
        try:
            fd, device = _open_same_device(agents_fd, name)
        except FileNotFoundError:
            continue
        except OSError as exc:
            result.failures.append((path, exc.strerror or str(exc)))
            continue
        try:
            try:
                lock_fd, _ = _hold_lock(fd, create=False)
            except BlockingIOError:
                continue
            try:
                claim = _Claim(agents_fd, fd, device, path, lock_fd)
                result.freed_bytes += _remove_hidden(claim, name, errors)
            finally:
                if lock_fd is not None:
                    os.close(lock_fd)
        finally:
            os.close(fd)
        if errors:
            result.failures.append((path, _summary(errors)))
        else:
            result.finished.append(path)


def _reserve(trash: _Bin, name: str) -> tuple[Path, Path | None]:
    """A free place in the trash for ``agents/name``: ``(target, its .trashinfo or None)``.
    The desktop trash's ``.trashinfo`` is written first (the spec's order), made with
    ``O_EXCL`` so that two cleans never take one name."""
    n = 0
    while True:
        candidate = f"{name}.{n}" if n else name
        n += 1
        target = trash.files / candidate
        if os.path.lexists(target):
            continue
        if trash.info is None:
            return target, None
        info = trash.info / f"{candidate}.trashinfo"
        try:
            fd = os.open(info, _INFO_MAKE, 0o600)
        except FileExistsError:
            continue
        # The spec's format: the original path URL-encoded, local time without a zone.
        when = datetime.now().strftime("%Y-%m-%dT%H:%M:%S")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(f"[Trash Info]\nPath={quote(os.fsencode(trash.origin / name))}\n")
            out.write(f"DeletionDate={when}\n")
        return target, info


_INFO_MAKE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def _drop_info_unless_moved(info: Path | None, target: Path) -> None:
    """A ``.trashinfo`` whose folder never reached the trash would list a ghost: remove it."""
    if info is not None and not os.path.lexists(target):
        try:
            os.unlink(info)
        except OSError:
            pass


def _trash(claim: _Claim, trash: _Bin, result: CleanupResult) -> None:
    folder = claim.folder
    try:
        target, info = _reserve(trash, folder.name)
    except OSError as exc:
        result.failures.append((folder, f"cannot move to the trash: {exc.strerror or exc}"))
        return
    size = folder_size(folder)[0]
    try:
        os.rename(folder.name, target, src_dir_fd=claim.agents_fd)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            result.failures.append((folder, f"cannot move to the trash: {exc.strerror or exc}"))
        else:
            _trash_across(claim, target, result)
    else:
        result.trashed.append(folder)
        result.freed_bytes += size
    _drop_info_unless_moved(info, target)


def _trash_across(claim: _Claim, target: Path, result: CleanupResult) -> None:
    """Move to a trash on another file system: copy into a hidden name there, rename it to
    ``target`` once whole, then remove the original as a deletion does. A failed copy is
    removed again and the original left whole."""
    folder = claim.folder
    partial = target.parent / (
        f".partial-{os.fsdecode(os.fsencode(folder.name)[:_NAME_KEPT])}"
        f"-{os.getpid()}-{next(_hidden_numbers)}{TEMP_SUFFIX}"
    )
    skip = LOCK_NAME if claim.made_lock else None
    try:
        _copy_dir(claim.fd, str(partial), str(folder), claim.device, skip)
        os.rename(partial, target)
    except OSError as exc:
        left = _remove_tree(partial)[1] if os.path.lexists(partial) else []
        note = f"; a partial copy is left in {partial}" if left else ""
        reason = exc.strerror or str(exc)
        result.failures.append(
            (folder, f"cannot move to the trash: {reason}; the folder is left whole{note}")
        )
        return
    errors: list[str] = []
    result.freed_bytes += _hide_and_remove(claim, errors)
    if errors:
        result.failures.append(
            (folder, f"copied to {target}, but the original was not removed: {_summary(errors)}")
        )
    else:
        result.trashed.append(folder)


def _copy_dir(src_fd: int, dst: str, where: str, device: int, skip: str | None) -> None:
    """Copy the folder open as ``src_fd`` to the new folder ``dst``, never following a link
    or opening anything but a regular file: links, FIFOs and device nodes are made anew as
    what they are. A socket or a mount point inside fails the copy (``OSError``)."""
    os.mkdir(dst, 0o700)
    with os.scandir(src_fd) as entries:
        names = [e.name for e in entries]
    for name in names:
        if name == skip:
            continue
        try:
            _copy_entry(src_fd, name, f"{dst}/{name}", f"{where}/{name}", device)
        except _CopyError:
            raise
        except OSError as exc:
            raise _CopyError(exc.errno, f"{where}/{name}: {exc.strerror or exc}") from None
    info = os.fstat(src_fd)
    os.chmod(dst, stat.S_IMODE(info.st_mode))
    os.utime(dst, ns=(info.st_atime_ns, info.st_mtime_ns))


class _CopyError(OSError):
    """A copy failure already described with its path (so it is not wrapped twice)."""


def _copy_entry(src_fd: int, name: str, dst: str, where: str, device: int) -> None:
    info = os.stat(name, dir_fd=src_fd, follow_symlinks=False)
    mode = info.st_mode
    if stat.S_ISDIR(mode):
        child = os.open(name, _DIR_FLAGS, dir_fd=src_fd)
        try:
            if _device(child) != device:
                raise OSError(errno.EXDEV, "another file system (a mount point): not crossed")
            _copy_dir(child, dst, where, device, None)
        finally:
            os.close(child)
        return
    if stat.S_ISLNK(mode):
        os.symlink(os.readlink(name, dir_fd=src_fd), dst)
        os.utime(dst, ns=(info.st_atime_ns, info.st_mtime_ns), follow_symlinks=False)
        return
    if stat.S_ISREG(mode):
        _copy_file(src_fd, name, dst)
    elif stat.S_ISFIFO(mode):
        os.mkfifo(dst, 0o600)
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        os.mknod(dst, stat.S_IFMT(mode) | 0o600, info.st_rdev)
    else:
        raise OSError(errno.EOPNOTSUPP, "a socket cannot be copied")
    os.chmod(dst, stat.S_IMODE(mode))
    os.utime(dst, ns=(info.st_atime_ns, info.st_mtime_ns))


def _copy_file(src_fd: int, name: str, dst: str) -> None:
    fd = os.open(name, READ_FLAGS, dir_fd=src_fd)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "became something other than a file while being copied")
        out = os.open(
            dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600
        )
        try:
            offset = 0
            while sent := os.sendfile(out, fd, offset, 1 << 24):
                offset += sent
        finally:
            os.close(out)
    finally:
        os.close(fd)


def _remove_tree(folder: Path) -> tuple[int, list[str]]:
    """Remove ``folder`` and everything in it without following any link or crossing a
    device; returns the bytes freed and the errors met (the removal goes on past them)."""
    errors: list[str] = []
    try:
        fd = os.open(folder, _DIR_FLAGS)
    except OSError as exc:
        return 0, [f"{folder}: {exc.strerror or exc}"]
    try:
        freed = _empty_dir(fd, str(folder), _device(fd), errors)
    finally:
        os.close(fd)
    if not errors:
        try:
            os.rmdir(folder)
        except OSError as exc:
            errors.append(f"{folder}: {exc.strerror or exc}")
    return freed, errors


def _empty_dir(fd: int, where: str, device: int, errors: list[str], keep: str | None = None) -> int:
    """Remove everything in the folder open as ``fd`` (but ``keep``); returns the bytes freed.
    A sub-folder on another device (a mount point) is left whole and reported in ``errors``;
    an entry already gone (another clean finishing the same folder) is no error."""
    freed = 0
    with os.scandir(fd) as entries:
        listed = [(e.name, e.is_dir(follow_symlinks=False)) for e in entries]
    for name, is_dir in listed:
        if name == keep:
            continue
        try:
            if is_dir:
                child = os.open(name, _DIR_FLAGS, dir_fd=fd)
                try:
                    if _device(child) != device:
                        errors.append(
                            f"{where}/{name}: another file system (a mount point), not crossed"
                        )
                        continue
                    freed += _empty_dir(child, f"{where}/{name}", device, errors)
                finally:
                    os.close(child)
                os.rmdir(name, dir_fd=fd)
            else:
                freed += _unlink(fd, name, None, f"{where}/{name}", errors)
        except FileNotFoundError:
            pass
        except OSError as exc:
            errors.append(f"{where}/{name}: {exc.strerror or exc}")
    return freed


def _unlink(fd: int, name: str, info: os.stat_result | None, where: str, errors: list[str]) -> int:
    """Unlink one entry that is not a folder (never opened: FIFOs and devices are safe);
    returns the bytes that frees."""
    try:
        if info is None:
            info = os.stat(name, dir_fd=fd, follow_symlinks=False)
        os.unlink(name, dir_fd=fd)
    except FileNotFoundError:
        return 0
    except OSError as exc:
        errors.append(f"{where}: {exc.strerror or exc}")
        return 0
    return info.st_size if _frees(info) else 0
