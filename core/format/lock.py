"""One live writer per workspace: an advisory ``flock`` on ``agent.lock``.

The lock is held by the process that runs the agent, for the length of ``run()`` (and briefly by
``save()``/``load()``). The kernel drops it when that process dies, even by ``kill -9``, so a
reader can tell "running" from "crashed while running" by trying the lock without taking it.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from agent_tui.format.layout import LOCK_NAME
from agent_tui.format.persistence import (
    READ_FLAGS,
    WorkspaceFileError,
    open_folder,
    open_writable,
    read_bytes,
)

HOLDER_BYTES = 512


class WorkspaceBusyError(RuntimeError):
    """Another live process is running this agent's workspace."""

    def __init__(self, folder: Path, holder: str) -> None:
        self.folder = folder
        self.holder = holder
        super().__init__(
            f"workspace {folder} is in use by another live process ({holder}); "
            "wait for it to finish, stop it, or give this agent a different id= or agent_name"
        )


def _describe_holder(path: Path) -> str:
    try:
        text = read_bytes(path, limit=HOLDER_BYTES, head=True).decode("utf-8", "replace").strip()
    except WorkspaceFileError:
        return "unknown process"
    return text.splitlines()[0] if text else "unknown process"


class WorkspaceLock:
    """Exclusive, non-blocking, re-entrant within one object."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self._fd: int | None = None
        self._depth = 0

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        if self._fd is not None:
            self._depth += 1
            return
        # A link, FIFO or hard link named agent.lock is refused (UnsafePathError), never
        # truncated: the truncate below would otherwise empty a file outside the workspace.
        folder_fd = open_folder(self.folder)
        try:
            fd = open_writable(self.path, dir_fd=folder_fd)
        finally:
            os.close(folder_fd)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise WorkspaceBusyError(self.folder, _describe_holder(self.path)) from None
        except BaseException:
            os.close(fd)
            raise
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()} on {os.uname().nodename} since {stamp}\n".encode(), 0)
        except OSError:
            pass  # disk full: the flock is what holds; the note of who holds it is a courtesy
        except BaseException:
            os.close(fd)  # never leave this process holding a lock nobody will release
            raise
        self._fd = fd
        self._depth = 1

    def release(self) -> None:
        if self._fd is None:
            return
        self._depth -= 1
        if self._depth > 0:
            return
        fd, self._fd = self._fd, None
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def __enter__(self) -> WorkspaceLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def is_locked(folder: str | os.PathLike[str]) -> bool:
    """Whether a live process holds the folder's ``agent.lock`` right now.

    Never creates the lock file and never keeps the lock (a shared probe, released at once).
    """
    try:
        fd = os.open(os.path.join(folder, LOCK_NAME), READ_FLAGS)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # closing drops the probe's own shared lock
    return False


def lock_holder(folder: Path) -> str | None:
    """Who holds the folder's lock right now (``"pid 12 on host since ..."``), or ``None``."""
    if not is_locked(folder):
        return None
    return _describe_holder(Path(folder) / LOCK_NAME)
