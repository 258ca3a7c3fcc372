"""The files an agent leaves in its folder, for the tree and the file viewers.

Anything in an agent folder may be written by a tool, another program or an attacker: a link,
a FIFO, a device, a file of a gigabyte, a name with escapes in it. So the listing uses
``lstat`` and never follows a link; a viewer reads a *window* of a regular file (its last
bytes, or the bytes before or after a window it has), opened without following links and
never blocking on a FIFO, and never the whole file: a 1 GB log opens as fast as a small one.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field

from agent_tui.format.layout import SWARMS_MEMORY_NAME
from agent_tui.format.persistence import WorkspaceFileError, is_temp_file, open_file
from agent_tui.workspace.walk import os_reason

# A folder listed for the tree shows at most this many entries (a tool that leaves a million
# files must not make the tree a million rows), then a line saying how many more there are.
LIST_LIMIT = 1000
# One read of a viewer's window.
CHUNK = 256 * 1024


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One entry of an agent folder: ``rel`` its path from the folder (``/``-separated),
    ``kind`` ``file``, ``folder``, ``link``, ``fifo``, ``socket``, ``device`` or ``other``."""

    rel: str
    depth: int
    kind: str
    size: int
    mtime_ns: int
    # The folder the entry is in when it is not the listed one's (a swarms MEMORY.md of the
    # agent, in its own folder beside it); ``None``: the listed folder.
    base: str | None = None

    @property
    def name(self) -> str:
        return self.rel.rsplit("/", 1)[-1]

    def path_in(self, folder: os.PathLike[str] | str) -> str:
        """The entry's path when listed under ``folder``."""
        return os.path.join(self.base or os.fspath(folder), *self.rel.split("/"))


@dataclass(slots=True)
class FileListing:
    """The entries of a folder in tree order (each folder's entries after it), at most
    ``limit``; ``more`` counts those left out; ``problems`` what could not be listed."""

    folder: str
    entries: list[FileEntry] = field(default_factory=list)
    more: int = 0
    problems: list[str] = field(default_factory=list)


def _kind(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "other"


def list_files(
    folder: os.PathLike[str] | str, *, limit: int = LIST_LIMIT, memories: tuple[str, ...] = ()
) -> FileListing:
    """Every entry under ``folder`` (sub-folders included, links not followed, temp files of a
    write in flight left out), folders first then files, each by name; then the agent's swarms
    memory, the ``MEMORY.md`` of each folder in ``memories`` (its own folder beside it)."""
    listing = FileListing(os.fspath(folder))
    _list(listing, listing.folder, "", 0, limit)
    for memory in memories:
        try:
            info = os.lstat(os.path.join(memory, SWARMS_MEMORY_NAME))
        except OSError:
            continue
        entry = FileEntry(SWARMS_MEMORY_NAME, 0, _kind(info.st_mode), info.st_size,
                          info.st_mtime_ns, base=memory)  # fmt: skip
        listing.entries.append(entry)
    return listing


def _list(listing: FileListing, path: str, rel: str, depth: int, limit: int) -> None:
    try:
        with os.scandir(path) as found:
            entries = [e for e in found if not (e.name[0] == "." and is_temp_file(e.name))]
    except OSError as exc:
        listing.problems.append(f"{rel or 'folder'}: {os_reason(exc)}")
        return
    rows = []
    for entry in entries:
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError as exc:
            listing.problems.append(f"{rel}{entry.name}: {os_reason(exc)}")
            continue
        rows.append((entry, info))
    rows.sort(key=lambda row: (not stat.S_ISDIR(row[1].st_mode), row[0].name))
    for entry, info in rows:
        if len(listing.entries) >= limit:
            listing.more += 1
            continue
        kind = _kind(info.st_mode)
        name = f"{rel}{entry.name}"
        listing.entries.append(FileEntry(name, depth, kind, info.st_size, info.st_mtime_ns))
        if kind == "folder":
            _list(listing, entry.path, f"{name}/", depth + 1, limit)


# ------------------------------------------------------------------------- windows of a file
@dataclass(frozen=True, slots=True)
class Window:
    """Whole lines of a file: ``data`` holds the bytes from ``start`` to ``end`` (each line with
    its newline; a last line still being written has none). ``size`` and ``ino`` are the
    file's when it was read: a smaller size or another inode later means it was rewritten."""

    data: bytes
    start: int
    end: int
    size: int
    ino: int

    @property
    def lines(self) -> list[bytes]:
        return self.data.splitlines()


def _pread(fd: int, path: os.PathLike[str] | str, size: int, offset: int) -> bytes:
    try:
        return os.pread(fd, size, offset)
    except OSError as exc:
        raise WorkspaceFileError(path, f"cannot read: {os_reason(exc)}") from None


def read_tail(path: os.PathLike[str] | str, *, chunk: int = CHUNK) -> Window:
    """The whole lines in the last ``chunk`` bytes of ``path`` (what a log view opens on)."""
    fd, info = open_file(path)
    try:
        start = max(0, info.st_size - chunk)
        data = _pread(fd, path, info.st_size - start, start)
    finally:
        os.close(fd)
    if start > 0:
        # From the first whole line (one line longer than the chunk: shown from its middle).
        cut = data.find(b"\n") + 1
        data, start = data[cut:], start + cut
    return Window(data, start, start + len(data), info.st_size, info.st_ino)


def read_before(path: os.PathLike[str] | str, end: int, *, chunk: int = CHUNK) -> Window:
    """The whole lines in the ``chunk`` bytes before byte ``end`` (scrolling up)."""
    fd, info = open_file(path)
    try:
        end = min(end, info.st_size)
        start = max(0, end - chunk)
        data = _pread(fd, path, end - start, start)
    finally:
        os.close(fd)
    if start > 0:
        cut = data.find(b"\n") + 1
        data, start = data[cut:], start + cut
    return Window(data, start, end, info.st_size, info.st_ino)


def read_after(path: os.PathLike[str] | str, start: int, *, chunk: int = CHUNK) -> Window:
    """The lines in the ``chunk`` bytes from byte ``start`` on (scrolling down, or what a
    growing log appended): up to the last newline, or to the end of the file when it ends
    without one (a line still being written is shown, and read again once finished)."""
    fd, info = open_file(path)
    try:
        start = min(start, info.st_size)
        data = _pread(fd, path, min(chunk, info.st_size - start), start)
    finally:
        os.close(fd)
    if start + len(data) < info.st_size:  # more follows: stop at the last whole line
        cut = data.rfind(b"\n") + 1
        if cut:
            data = data[:cut]
    return Window(data, start, start + len(data), info.st_size, info.st_ino)


def read_head(path: os.PathLike[str] | str, limit: int) -> tuple[bytes, int]:
    """The first ``limit`` bytes of ``path`` and its size (a document viewer's read)."""
    fd, info = open_file(path)
    try:
        return _pread(fd, path, min(limit, info.st_size), 0), info.st_size
    finally:
        os.close(fd)


def looks_binary(data: bytes) -> bool:
    """A NUL byte in the first 8 KiB: not text (what ``grep`` and ``git`` decide on)."""
    return b"\0" in data[:8192]
