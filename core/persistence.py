"""Atomic JSON files and the errors a reader reports about them.

Every write goes: a unique temp file in the same folder, write, flush, fsync, ``os.replace``,
fsync of the folder. A reader sees the old file or the new one, never a torn or missing one.
Temp files are named ``.{target}.{pid}.{n}.tmp`` so watchers and readers can ignore them.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import orjson

# typing costs 3 ms of start-up and is needed only by type checkers here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

SCHEMA_VERSION = 1
FORMAT = "agent-tui"
TEMP_SUFFIX = ".tmp"
MAX_READ_BYTES = 256 * 1024 * 1024

_counter = itertools.count()


class WorkspaceFileError(Exception):
    """A file in a workspace could not be read or used. Names the file and the reason."""

    def __init__(self, path: os.PathLike[str] | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


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


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: os.PathLike[str] | str, data: bytes, *, durable: bool = True) -> int:
    """Replace ``path`` with ``data`` atomically; returns the number of bytes written.

    ``durable=False`` skips both fsyncs (still atomic against readers, not against power loss).
    """
    target = Path(path)
    folder = target.parent
    tmp = folder / f".{target.name}.{os.getpid()}.{next(_counter)}{TEMP_SUFFIX}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if durable:
        fsync_dir(folder)
    return len(data)


def atomic_write_json(path: os.PathLike[str] | str, document: Any, *, durable: bool = True) -> int:
    """Serialize ``document`` and write it atomically; returns bytes written."""
    return atomic_write_bytes(path, dumps(document), durable=durable)


def read_bytes(path: os.PathLike[str] | str, *, limit: int = MAX_READ_BYTES) -> bytes:
    """Read a whole file, turning every OS failure into a :class:`WorkspaceFileError`."""
    target = Path(path)
    try:
        with open(target, "rb") as handle:
            # Check the size first: read(limit + 1) would allocate the whole limit every call.
            if os.fstat(handle.fileno()).st_size > limit:
                raise WorkspaceFileError(
                    target, f"larger than {limit // (1024 * 1024)} MB, not read"
                )
            data = handle.read()
    except FileNotFoundError:
        raise WorkspaceFileError(target, "file not found") from None
    except IsADirectoryError:
        raise WorkspaceFileError(target, "is a folder, expected a file") from None
    except PermissionError:
        raise WorkspaceFileError(target, "permission denied") from None
    except OSError as exc:
        raise WorkspaceFileError(target, f"cannot read: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise WorkspaceFileError(target, f"larger than {limit // (1024 * 1024)} MB, not read")
    return data


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
