"""Atomic JSON files, the one safe way to open a workspace file, and the errors readers report.

Every write goes: a unique temp file in the same folder, write, flush, fsync, ``os.replace``,
fsync of the folder. A reader sees the old file or the new one, never a torn or missing one.
Temp files are named ``.{target}.{pid}.{n}.tmp`` so watchers and readers can ignore them.

Workspaces are hostile until proven otherwise (docs/SECURITY.md): every file written, truncated
or created is opened relative to its folder's descriptor with ``O_NOFOLLOW`` (``O_EXCL`` when
created) and must be a regular file (:func:`open_writable`, :func:`atomic_write_bytes`); every
file read goes through :func:`read_bytes` / :func:`open_regular`: ``O_NOFOLLOW|O_NONBLOCK``,
regular files only, at most :data:`MAX_READ_BYTES`.
"""

from __future__ import annotations

import errno
import itertools
import os
import stat
from pathlib import Path

import orjson

from agent_tui.format.layout import TEMP_SUFFIX, Format

# typing costs 3 ms of start-up and is needed only by type checkers here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

FORMAT = Format.OURS
MB = 1024 * 1024
# The largest workspace file any reader reads whole: a named setting, read once at import.
CAP_VARIABLE = "AGENT_TUI_MAX_FILE_MB"
DEFAULT_CAP_MB = 256


def _cap_from_environment() -> int:
    raw = os.environ.get(CAP_VARIABLE, "").strip()
    try:
        megabytes = float(raw) if raw else DEFAULT_CAP_MB
    except ValueError:
        megabytes = DEFAULT_CAP_MB
    return max(1, int(megabytes * MB)) if megabytes > 0 else DEFAULT_CAP_MB * MB


MAX_READ_BYTES = _cap_from_environment()

_counter = itertools.count()


class WorkspaceFileError(Exception):
    """A file in a workspace could not be read or used. Names the file and the reason."""

    def __init__(self, path: os.PathLike[str] | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class StateFileError(WorkspaceFileError):
    """A state file could not be loaded: missing, corrupt, foreign or from a newer version."""


def is_temp_file(name: str) -> bool:
    """True for the temp files of an atomic write in progress (readers and watchers skip them)."""
    return name.startswith(".") and name.endswith(TEMP_SUFFIX)


def _fallback(value: Any) -> Any:
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    return f"<Non-serializable: {type(value).__name__}>"


def dumps(document: Any, *, indent: bool = True) -> bytes:
    """Serialize with orjson; values JSON cannot hold become ``"<Non-serializable: T>"``."""
    option = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY
    if indent:
        option |= orjson.OPT_INDENT_2
    try:
        return orjson.dumps(document, default=_fallback, option=option)
    except orjson.JSONEncodeError as exc:
        if "surrogates" not in str(exc):
            raise
        # Names and text decoded from bad bytes carry lone surrogates, which JSON cannot hold.
        return orjson.dumps(_replace_surrogates(document), default=_fallback, option=option)


def _replace_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {_replace_surrogates(k): _replace_surrogates(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_replace_surrogates(v) for v in value]
    return value


# Every file of a workspace is opened with these: never through a link, never blocking on a
# FIFO or a device (O_NONBLOCK), and the descriptor's fstat decides whether it is a file at all.
READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
WRITE_FLAGS = os.O_RDWR | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISLNK, "a symbolic link"),
)


class UnsafePathError(OSError):
    """A file or folder of ours is something a writer must not touch: a link, a FIFO, a device,
    a hard link shared with another name. Raised instead of writing; nothing is changed."""

    def __init__(self, path: os.PathLike[str] | str, reason: str) -> None:
        super().__init__(errno.EPERM, f"{path} {reason}; left alone")
        self.path = Path(path)
        self.reason = reason


def describe_mode(mode: int) -> str:
    """``"a FIFO (named pipe)"``, ``"a symbolic link"``...: what a non-regular file is."""
    for test, kind in _KINDS:
        if test(mode):
            return kind
    return "not a regular file"


def _link_or(exc: OSError, path: os.PathLike[str] | str, dir_fd: int | None) -> str:
    """The reason an ``O_NOFOLLOW`` open failed: ELOOP means the name is a link."""
    if exc.errno == errno.ELOOP:
        try:
            target = os.readlink(path, dir_fd=dir_fd)
        except OSError:
            return "is a symbolic link loop, not followed"
        return f"is a symbolic link (to {target}), not followed"
    if isinstance(exc, FileNotFoundError):
        return "file not found"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if exc.errno == errno.ENOTDIR:
        return "a part of the path is not a folder"
    return f"cannot open: {exc.strerror or exc}"


def open_folder(path: os.PathLike[str] | str) -> int:
    """A descriptor of the folder ``path``, which must be a real folder, not a link to one."""
    try:
        return os.open(path, FOLDER_FLAGS)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            try:
                mode = os.lstat(path).st_mode
            except OSError:
                mode = 0
            if stat.S_ISLNK(mode) or exc.errno == errno.ELOOP:
                raise UnsafePathError(path, "is a symbolic link, not a folder") from None
            raise UnsafePathError(path, f"is {describe_mode(mode)}, not a folder") from None
        raise


def open_writable(path: os.PathLike[str] | str, *, dir_fd: int | None = None) -> int:
    """Open (or create) a file of ours for writing: never through a link, created with
    ``O_EXCL``, and only a regular file with one name. Raises :class:`UnsafePathError` for
    anything else (a link, a FIFO, a device, a hard link to a file elsewhere)."""
    name = os.fspath(path) if dir_fd is None else Path(path).name
    for _ in range(3):
        try:
            fd = os.open(name, WRITE_FLAGS, dir_fd=dir_fd)
        except FileNotFoundError:
            try:
                fd = os.open(name, WRITE_FLAGS | os.O_CREAT | os.O_EXCL, 0o644, dir_fd=dir_fd)
            except FileExistsError:
                continue  # created by someone else in between: open what is there now
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise UnsafePathError(path, _link_or(exc, name, dir_fd)) from None
            raise
        info = os.fstat(fd)
        if stat.S_ISREG(info.st_mode) and info.st_nlink == 1:
            return fd
        os.close(fd)
        if stat.S_ISREG(info.st_mode):
            raise UnsafePathError(
                path, f"has {info.st_nlink} hard links (a file shared with another place)"
            )
        raise UnsafePathError(path, f"is {describe_mode(info.st_mode)}, not a regular file")
    raise UnsafePathError(path, "keeps appearing and disappearing")


def _refuse_non_regular(name: str, dir_fd: int, path: Path) -> None:
    try:
        info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return
    if not stat.S_ISREG(info.st_mode):
        raise UnsafePathError(path, f"is {describe_mode(info.st_mode)}, not a regular file")


def replace_in_folder(folder_fd: int, name: str, data: bytes, *, mode: int, durable: bool) -> None:
    """Write ``data`` to a unique temp file created ``mode`` with ``O_EXCL|O_NOFOLLOW`` in the
    folder open at ``folder_fd`` and rename it over ``name`` (whatever ``name`` is: callers
    that must not replace a link or a FIFO check first). The temp file is removed on failure;
    ``durable`` fsyncs it before the rename."""
    tmp = f".{name}.{os.getpid()}.{next(_counter)}{TEMP_SUFFIX}"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(tmp, flags, mode, dir_fd=folder_fd)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
    except BaseException:
        try:
            os.unlink(tmp, dir_fd=folder_fd)
        except OSError:
            pass
        raise


def atomic_write_bytes(
    path: os.PathLike[str] | str, data: bytes, *, durable: bool = True, dir_fd: int | None = None
) -> int:
    """Replace ``path`` with ``data`` atomically; returns the number of bytes written.

    Works relative to the folder's descriptor (``dir_fd``, or one opened here with
    ``O_NOFOLLOW``): the temp file is created with ``O_EXCL|O_NOFOLLOW``, and a target that is
    a link, a FIFO or a device is refused (:class:`UnsafePathError`), never replaced or written
    through. ``durable=False`` skips both fsyncs (still atomic against readers, not against
    power loss).
    """
    target = Path(path)
    name = target.name
    folder_fd = open_folder(target.parent) if dir_fd is None else dir_fd
    try:
        _refuse_non_regular(name, folder_fd, target)
        replace_in_folder(folder_fd, name, data, mode=0o644, durable=durable)
        if durable:
            os.fsync(folder_fd)
    finally:
        if dir_fd is None:
            os.close(folder_fd)
    return len(data)


def atomic_write_json(
    path: os.PathLike[str] | str, document: Any, *, durable: bool = True, dir_fd: int | None = None
) -> int:
    """Serialize ``document`` and write it atomically; returns bytes written."""
    return atomic_write_bytes(path, dumps(document), durable=durable, dir_fd=dir_fd)


def _too_large(size: int, limit: int) -> str:
    return f"too large: {size / MB:.1f} MB, cap {limit / MB:.0f} MB ({CAP_VARIABLE}), not read"


def open_regular(
    path: os.PathLike[str] | str, *, dir_fd: int | None = None
) -> tuple[int, os.stat_result]:
    """Open a workspace file for reading with :data:`READ_FLAGS`; the descriptor and its
    ``fstat``. Raises :class:`WorkspaceFileError` when it is a link, a FIFO, a device or a
    folder (nothing blocks: a FIFO is opened non-blocking and closed unread)."""
    try:
        fd = os.open(path, READ_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        raise WorkspaceFileError(path, _link_or(exc, path, dir_fd)) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        kind = describe_mode(info.st_mode)
        expected = "expected a file" if stat.S_ISDIR(info.st_mode) else "not read"
        raise WorkspaceFileError(path, f"is {kind}, {expected}")
    return fd, info


def read_fd(
    fd: int, size: int, path: os.PathLike[str] | str, *, limit: int = MAX_READ_BYTES
) -> bytes:
    """Read a regular file opened by :func:`open_regular` whose ``fstat`` said ``size``: at most
    ``limit`` bytes whatever it grows to while read."""
    if size > limit:
        raise WorkspaceFileError(path, _too_large(size, limit))
    try:
        data = os.read(fd, size + 1)
        if len(data) > size:
            parts, total = [data], len(data)
            while chunk := os.read(fd, 1 << 20):
                total += len(chunk)
                if total > limit:
                    raise WorkspaceFileError(path, _too_large(total, limit))
                parts.append(chunk)
            data = b"".join(parts)
    except OSError as exc:
        raise WorkspaceFileError(path, f"cannot read: {exc.strerror or exc}") from None
    return data


def open_file(path: os.PathLike[str] | str) -> tuple[int, os.stat_result]:
    """:func:`open_regular` of a workspace file by its path: its folder opened without
    following a link, then the file in it. The caller closes the descriptor."""
    target = Path(path)
    try:
        folder_fd = open_folder(target.parent)
    except UnsafePathError as exc:
        raise WorkspaceFileError(target, f"its folder {exc.reason}") from None
    except OSError as exc:
        raise WorkspaceFileError(target, _link_or(exc, target.parent, None)) from None
    try:
        return open_regular(target.name, dir_fd=folder_fd)
    except WorkspaceFileError as exc:
        raise WorkspaceFileError(target, exc.reason) from None
    finally:
        os.close(folder_fd)


def read_bytes(
    path: os.PathLike[str] | str, *, limit: int = MAX_READ_BYTES, head: bool = False
) -> bytes:
    """The one way to read a file of a workspace: its folder and the file itself opened without
    following links, a regular file only, at most ``limit`` bytes (``head=True``: the first
    ``limit`` bytes of a larger file instead of an error). Every failure is a
    :class:`WorkspaceFileError` naming the file and the reason."""
    target = Path(path)
    fd, info = open_file(target)
    try:
        if head:
            try:
                return os.read(fd, limit)
            except OSError as exc:
                raise WorkspaceFileError(target, f"cannot read: {exc.strerror or exc}") from None
        return read_fd(fd, info.st_size, target, limit=limit)
    finally:
        os.close(fd)


def parse_json(data: bytes, path: os.PathLike[str] | str) -> Any:
    """Parse JSON bytes, explaining failures in words (empty, truncated, not UTF-8, not JSON)."""
    if not data.strip():
        raise WorkspaceFileError(path, "empty file")
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise WorkspaceFileError(path, _describe_json_error(data, exc)) from None


def _describe_json_error(data: bytes, exc: orjson.JSONDecodeError) -> str:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as bad:
        return f"not valid UTF-8 (byte {bad.start})"
    text = data.rstrip()
    if exc.pos >= len(text) - 1 or "EOF" in exc.msg:
        return f"truncated JSON (ends early at byte {len(data)})"
    return f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"


def read_json(path: os.PathLike[str] | str) -> Any:
    """Read and parse a JSON file, or raise :class:`WorkspaceFileError` naming it and the reason."""
    return parse_json(read_bytes(path), path)


def read_json_object(path: os.PathLike[str] | str) -> dict[str, Any]:
    """Like :func:`read_json` but the top level must be an object."""
    document = read_json(path)
    if not isinstance(document, dict):
        kind = type(document).__name__.replace("NoneType", "null")
        raise WorkspaceFileError(path, f"expected a JSON object at the top level, found {kind}")
    return document
