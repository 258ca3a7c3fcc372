"""What the app did that changes things, one JSON line each (like lazygit's command log):
folders deleted or trashed, runs started, interrupted, resumed.

The log lives beside the config file (``actions.jsonl``; docs/CONFIG.md). A record is one
``write`` of one line to a file opened ``O_APPEND|O_NOFOLLOW``, so two processes appending at
once never interleave, and a link planted at the log's name is never written through. Every
string goes through a :class:`~agent_tui.redaction.Redactor` first. Recording never raises
into the caller: the log is a convenience, never the reason an action fails
(:meth:`ActionLog.record` returns False and keeps the error in ``last_error``; nothing goes to
stderr, which the app's screen owns). Past ``max_bytes`` the file is renamed to
``actions.jsonl.1`` (one old generation) and a new one begun.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import orjson

from agent_tui.format.persistence import UnsafePathError, dumps, open_folder, open_regular
from agent_tui.redaction import Redactor
from agent_tui.user_config import UserConfig, default_config_dir

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

ACTION_LOG_NAME = "actions.jsonl"
MB = 1024 * 1024
# A field longer than this is cut (after redaction, so a secret is never cut out of its shape).
MAX_FIELD_CHARS = 2000
# recent() reads at most this much from the end of each generation.
MAX_TAIL_BYTES = MB
_APPEND_FLAGS = (
    os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
)


def default_action_log_path() -> Path:
    """``actions.jsonl`` in the platform's config folder for agent-tui."""
    return default_config_dir() / ACTION_LOG_NAME


def _clip(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_FIELD_CHARS:
        return value[:MAX_FIELD_CHARS] + "..."
    return value


class ActionLog:
    """An append-only JSON-lines log of actions, bounded to ``max_bytes`` (+ one generation)."""

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        max_bytes: int = int(5 * MB),
        redactor: Redactor | None = None,
    ) -> None:
        self.path = Path(path) if path is not None else default_action_log_path()
        self.max_bytes = max_bytes
        self.redactor = redactor if redactor is not None else Redactor()
        self.last_error: OSError | None = None

    @classmethod
    def beside(cls, config: UserConfig, *, redactor: Redactor | None = None) -> ActionLog:
        """The log in the config file's folder, bounded by its ``action_log_mb``."""
        return cls(
            config.path.parent / ACTION_LOG_NAME,
            max_bytes=int(config.action_log_mb * MB),
            redactor=redactor,
        )

    @property
    def old_path(self) -> Path:
        """The previous generation (``actions.jsonl.1``)."""
        return self.path.with_name(self.path.name + ".1")

    def record(self, action: str, **fields: Any) -> bool:
        """Append ``{"ts": ISO-8601 UTC, "action": action, **fields}``, redacted. True when it
        is on disk; False (and ``last_error`` set) when the disk refused."""
        entry = {"ts": datetime.now(UTC).isoformat(timespec="milliseconds"), "action": action}
        # Paths as text, so that they are redacted too.
        entry.update(
            (k, os.fspath(v) if isinstance(v, os.PathLike) else v)
            for k, v in fields.items()
            if k not in entry
        )
        redacted = {key: _clip(value) for key, value in self.redactor.redact(entry).items()}
        line = dumps(redacted, indent=False) + b"\n"
        try:
            self._append(line)
        except OSError as exc:
            self.last_error = exc
            return False
        self.last_error = None
        return True

    def _append(self, line: bytes) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder = open_folder(self.path.parent)
        try:
            fd = self._open(folder)
            try:
                if os.fstat(fd).st_size + len(line) > self.max_bytes and self._rotate(fd, folder):
                    os.close(fd)
                    fd = self._open(folder)
                written = os.write(fd, line)
                if written != len(line):
                    raise OSError(errno.EIO, f"{self.path}: short write ({written} bytes)")
            finally:
                os.close(fd)
        finally:
            os.close(folder)

    def _open(self, folder: int) -> int:
        try:
            fd = os.open(self.path.name, _APPEND_FLAGS, 0o600, dir_fd=folder)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise UnsafePathError(self.path, "is a symbolic link, not followed") from None
            raise
        info = os.fstat(fd)
        # A hard link planted at our name would have us append to someone else's file.
        if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
            os.close(fd)
            raise UnsafePathError(self.path, "is not a regular file of its own")
        return fd

    def _rotate(self, fd: int, folder: int) -> bool:
        """Rename a full log to the old generation; True when the caller must reopen. The lock
        makes one of two racing writers rotate; the other sees the name moved on and reopens."""
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            mine = os.fstat(fd)
            try:
                now = os.stat(self.path.name, dir_fd=folder, follow_symlinks=False)
            except FileNotFoundError:
                return True
            if (now.st_dev, now.st_ino) != (mine.st_dev, mine.st_ino):
                return True
            os.replace(self.path.name, self.old_path.name, src_dir_fd=folder, dst_dir_fd=folder)
            return True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def recent(self, limit: int = 200) -> list[dict[str, Any]]:
        """The last ``limit`` records, newest last, from the end of the log (and of the old
        generation when the log holds fewer). A torn last line and garbage lines are skipped.
        Raises :class:`~agent_tui.format.persistence.WorkspaceFileError` for a log that is a
        link, a FIFO or a device."""
        records = self._tail(self.path)
        if len(records) < limit:
            records = self._tail(self.old_path) + records
        return records[-limit:] if limit > 0 else []

    def _tail(self, path: Path) -> list[dict[str, Any]]:
        if not os.path.lexists(path):
            return []
        fd, info = open_regular(path)
        try:
            start = max(0, info.st_size - MAX_TAIL_BYTES)
            data = os.pread(fd, info.st_size - start, start)
        finally:
            os.close(fd)
        lines = data.split(b"\n")
        lines.pop()  # the part after the last newline: empty, or a line still being written
        if start > 0 and lines:
            lines.pop(0)  # the read began inside a line
        records = []
        for raw in lines:
            try:
                record = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue
            if isinstance(record, dict):
                records.append(record)
        return records
