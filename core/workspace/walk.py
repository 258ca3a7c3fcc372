"""Walking an agent folder: one ``scandir`` per folder, sizes from ``lstat``.

A symlink counts as the link itself and is never followed, so a link out of the tree cannot
inflate or endanger anything; temp files of an atomic write in flight are skipped.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from agent_tui.format.persistence import is_temp_file


@dataclass(slots=True)
class Listing:
    """One pass over a folder: sizes plus the top-level files a reader cares about."""

    size: int = 0
    files: int = 0
    newest_ns: int = 0
    top: dict[str, os.stat_result] = field(default_factory=dict)
    top_dirs: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)


def walk(path: str, listing: Listing, rel: str, top: bool) -> None:
    # Plain strings and local sums: this loop runs for every file of every folder in a scan.
    try:
        entries = os.scandir(path)
    except OSError as exc:
        where = rel or "folder"
        listing.problems.append(f"{where}: {os_reason(exc)}, size not counted")
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
                    walk(entry.path, listing, f"{rel}{name}/", False)
                    continue
                info = entry.stat(follow_symlinks=False)
            except OSError as exc:
                listing.problems.append(f"{rel}{name}: {os_reason(exc)}")
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


def os_reason(exc: OSError) -> str:
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
    listing = Listing()
    walk(os.fspath(path), listing, "", False)
    return listing.size, listing.files


def lstat_mtime_ns(path: str) -> int:
    try:
        return os.lstat(path).st_mtime_ns
    except OSError:
        return 0
