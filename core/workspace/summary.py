"""The summary index: what each folder's ``config.json`` said, kept per workspace in the user's
cache folder, so a scan parses only the configs that changed since the last one.

One file per agents folder, ``$XDG_CACHE_HOME/agent-tui/summaries-<hash>.idx`` (default
``~/.cache/agent-tui``), holding per folder name the config's validation key and its
:class:`~agent_tui.workspace.status.ConfigSummary`. Never trusted blindly:

- an entry serves only while the key the walk just saw (device, inode, size, ``mtime_ns`` and
  ``ctime_ns`` of ``config.json``) is the one it was made from. ``ctime`` is what a copy with
  ``cp -a``, a rewrite with its mtime put back (``os.utime``) or a swap for another file cannot
  keep; a new inode changes it too. A config changed less than :data:`RACY_NS` before the scan
  is not kept (its next change could land in the same clock tick and keep the key);
- the file is read like any workspace file (no links, regular files only, a size cap), must be
  ours (owner, not writable by others, one name) and must carry its magic, version, agents
  folder and a CRC of its body; every value of an entry is type-checked before use. Anything
  else is as if there were no index: the scan reads the configs and writes a new one;
- no secret reaches the file: a summary with error text (which can echo a provider's key), an
  unknown status or any text a redactor would mask is not kept, so its config is read every
  time;
- written atomically (a unique temp file created ``0600`` with ``O_EXCL|O_NOFOLLOW`` in the
  ``0700`` folder, then ``os.replace``), not fsynced: a torn file after a crash fails its CRC.
  A cache folder that cannot be written only makes the next scan slower.

The file: a header line (magic, version, CRC-32 of the rest); a JSON line of the agents folder,
the local time zone and where each entry ends; the folder names joined by NUL (a name with a
newline is not kept); then the entries, a JSON list per folder in that order, one after
another. Only the entries of folders a scan looks up are parsed.
"""

from __future__ import annotations

import itertools
import math
import os
import stat
import time
import zlib
from pathlib import Path

import orjson

from agent_tui.format.layout import SETTLED, TEMP_SUFFIX, Format, Status
from agent_tui.format.persistence import (
    WorkspaceFileError,
    open_folder,
    open_regular,
    read_fd,
    replace_in_folder,
)
from agent_tui.format.swarms import ROLLED_BACK
from agent_tui.workspace.status import ConfigSummary

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agent_tui.redaction import Redactor

MAGIC = b"agent-tui summary index"
VERSION = 2  # 2: tokens
APP_FOLDER = "agent-tui"
# A config whose ctime is this close to the scan's start is not kept: file systems stamp times
# from a coarse clock (a tick of 4 ms locally, up to a second or two on some network servers),
# so a rewrite in the same tick could leave size, mtime and ctime as they were.
RACY_NS = 2_000_000_000
# What a kept entry's status may be: anything else carries text of the config's own.
_KEPT_STATUSES = (None, Status.RUNNING, *SETTLED)
_FORMATS = (None, Format.OURS, Format.SWARMS)
_STATUS_VALUES = tuple(status.value for status in Status)
_KEY_LEN = 5  # device, inode, size, mtime_ns, ctime_ns
_ENTRY_LEN = _KEY_LEN + len(ConfigSummary._fields)

# What a scan returns per folder for the index: the number of the old line that still holds
# (a hit), a new line (parsed now), or None (nothing to keep).
Mark = int | bytes | None


def cache_folder() -> Path | None:
    """``$XDG_CACHE_HOME/agent-tui`` (``~/.cache/agent-tui`` when unset or not absolute), or
    None when there is no home to put it in."""
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    if not os.path.isabs(base):
        home = os.path.expanduser("~")
        if not os.path.isabs(home):
            return None
        base = os.path.join(home, ".cache")
    return Path(base) / APP_FOLDER


def index_path(agents: str) -> Path | None:
    """The index file of the agents folder ``agents`` (an absolute path)."""
    folder = cache_folder()
    if folder is None:
        return None
    raw = os.fsencode(agents)
    return folder / f"summaries-{zlib.crc32(raw):08x}{zlib.adler32(raw):08x}.idx"


def _key(info: os.stat_result) -> list[int]:
    return [info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns]


def _owned_and_private(info: os.stat_result) -> bool:
    return info.st_uid == os.geteuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


class SummaryIndex:
    """The index of one agents folder during one scan.

    :meth:`load` it once (before forking, so every reader shares it), hand it to each read
    (``read_folder(record, None, index)`` or ``read_agent(folder, index=index)``, which call
    :meth:`lookup` and :meth:`keep`), :meth:`take` the folder's mark in the process that read
    it, and :meth:`save` once with every folder's name and mark in scan order
    (:func:`~agent_tui.workspace.scan.scan_map` does all of it). A mark is plain data
    (``marshal`` carries it), so a reader in another process sends it back with its rows; a
    folder with no mark (``None``) is simply left out of the next index.
    """

    def __init__(self, agents: str, path: Path | None, loaded: Loaded | None = None) -> None:
        self.agents = agents
        self.path = path
        names, self._lines, self._ends = loaded or ([], memoryview(b""), [])
        self._count = len(names)
        self._rows = dict(zip(names, range(self._count), strict=True))
        self._marks: dict[str, Mark] = {}
        self._started_ns = time.time_ns()
        self._redactor: Redactor | None = None

    @classmethod
    def load(cls, agents: os.PathLike[str] | str) -> SummaryIndex:
        """The index of ``agents`` as the cache holds it; empty when there is none, or when it
        is not a sound, private file of this version for this folder and time zone."""
        where = os.path.realpath(agents)
        path = index_path(where)
        try:
            loaded = _read(path, where)
        except (OSError, WorkspaceFileError, ValueError):
            loaded = None
        return cls(where, path, loaded)

    def _line(self, number: int) -> memoryview:
        return self._lines[self._ends[number - 1] if number else 0 : self._ends[number]]

    def lookup(self, name: str, info: os.stat_result) -> ConfigSummary | None:
        """The summary of folder ``name`` whose config the walk saw as ``info``, or None when
        the index has none for exactly that file."""
        number = self._rows.get(name)
        if number is None:
            return None
        ends = self._ends
        summary = _parse(self._lines[ends[number - 1] if number else 0 : ends[number]], info)
        if summary is not None:
            self._marks[name] = number
        return summary

    def keep(
        self, name: str, listed: os.stat_result, read: os.stat_result, summary: ConfigSummary
    ) -> None:
        """Remember ``summary`` of folder ``name``, parsed from the config ``read`` (its fstat)
        that the walk ``listed``, when it is safe to serve next time."""
        key = _key(listed)
        if key != _key(read) or listed.st_ctime_ns > self._started_ns - RACY_NS:
            return  # changed while read, or too recent to tell a later change by its times
        if "\n" in name or not self._keepable(name, summary):
            return
        try:
            self._marks[name] = orjson.dumps([*key, *summary])
        except orjson.JSONEncodeError:  # text JSON cannot hold (lone surrogates)
            pass

    def _keepable(self, name: str, summary: ConfigSummary) -> bool:
        if summary.error is not None or summary.status not in _KEPT_STATUSES:
            return False
        if summary.swarms is not None and summary.swarms[1] not in _KEPT_ERRORS:
            return False
        if summary.cost is not None and not math.isfinite(summary.cost):
            return False
        texts = (name, summary.name, summary.agent_id, summary.model, summary.state_hint)
        # One pass over all of them: NUL is in no secret and ends every token shape.
        text = "\0".join(t for t in texts if t)
        if self._redactor is None:
            from agent_tui.redaction import Redactor

            self._redactor = Redactor()
        return self._redactor.redact_text(text) == text

    def take(self, name: str) -> Mark:
        """The mark of folder ``name`` from this process's lookups and keeps."""
        return self._marks.pop(name, None)

    def save(self, names: list[str], marks: list[Mark]) -> None:
        """Write the index for a scan that found folders ``names`` with ``marks``, unless it
        holds just what the file does already. Never raises: a cache that cannot be written
        only costs the next scan its parsing."""
        kept_names: list[str] = []
        lines: list[bytes | memoryview] = []
        fresh = False
        for name, mark in zip(names, marks, strict=True):
            if mark is None:
                continue
            kept_names.append(name)
            if isinstance(mark, int):
                lines.append(self._line(mark))
            else:
                lines.append(mark)
                fresh = True
        if self.path is None or (not fresh and len(kept_names) == self._count):
            return
        ends = list(itertools.accumulate(map(len, lines)))
        try:
            head = orjson.dumps({"agents": self.agents, "zone": _zone(), "ends": ends})
        except orjson.JSONEncodeError:  # a path JSON cannot hold (not UTF-8)
            return
        listing = "\0".join(kept_names).encode("utf-8", "surrogateescape")
        body = b"".join([head, b"\n", listing, b"\n", *lines])
        header = MAGIC + b" %d %08x\n" % (VERSION, zlib.crc32(body))
        try:
            _write(self.path, header + body)
        except OSError:
            pass


# What _read gives: the folder names, the entries one after another, and where each ends.
Loaded = tuple[list[str], memoryview, list[int]]


def _zone() -> list[object]:
    """The local time zone, in which the kept summaries read naive timestamps."""
    return [*time.tzname, time.timezone, time.altzone, time.daylight]


def _read(path: Path | None, agents: str) -> Loaded:
    """The names and entries of the index file at ``path`` for ``agents``; raises ValueError
    (or OSError, WorkspaceFileError) for anything but a sound file of ours."""
    if path is None:
        raise ValueError("no cache folder")
    folder_fd = open_folder(path.parent)
    try:
        if not _owned_and_private(os.fstat(folder_fd)):
            raise ValueError("cache folder not private")
        fd, info = open_regular(path.name, dir_fd=folder_fd)
    finally:
        os.close(folder_fd)
    try:
        if not _owned_and_private(info) or info.st_nlink != 1:
            raise ValueError("index file not ours")
        data = read_fd(fd, info.st_size, path)
    finally:
        os.close(fd)
    # Slices of a memoryview: a 100,000-folder index is 25 MB, not to be copied piece by piece.
    view = memoryview(data)
    body = data.index(b"\n") + 1
    if view[: body - 1] != MAGIC + b" %d %08x" % (VERSION, zlib.crc32(view[body:])):
        raise ValueError("foreign, older, torn or corrupt index")
    names_at = data.index(b"\n", body) + 1
    lines_at = data.index(b"\n", names_at) + 1
    head = orjson.loads(view[body : names_at - 1])
    if type(head) is not dict or head.get("agents") != agents or head.get("zone") != _zone():
        raise ValueError("index of another folder or time zone")
    ends = head.get("ends")
    names = data[names_at : lines_at - 1].decode("utf-8", "surrogateescape").split("\0")
    if names == [""]:
        names = []
    if type(ends) is not list or len(ends) != len(names) or {type(e) for e in ends} - {int}:
        raise ValueError("index names and entries differ")
    return names, view[lines_at:], ends


def _parse(line: memoryview, info: os.stat_result) -> ConfigSummary | None:
    """The summary in an index ``line`` if it is well formed, holds only values of the kinds
    :func:`~agent_tui.workspace.status.summarize` makes and :meth:`SummaryIndex.keep` keeps
    (the file may have been written by anyone), and its key is ``info``'s."""
    try:
        entry = orjson.loads(line)
        (dev, inode, size, mtime_ns, ctime_ns, declared, name, agent_id, model, cost, loop_count,
         timestamp, state_hint, status, error, swarms, problems, messages_problem,
         tokens) = entry  # fmt: skip
    except (orjson.JSONDecodeError, TypeError, ValueError):
        return None
    if (
        ctime_ns != info.st_ctime_ns
        or inode != info.st_ino
        or mtime_ns != info.st_mtime_ns
        or size != info.st_size
        or dev != info.st_dev
        or type(entry) is not list
        or not all(map(frozenset.__contains__, _TYPES, map(type, entry)))
        or declared not in _FORMATS
        or status not in _KEPT_STATUSES
        or (swarms is None) != (declared == Format.OURS)
    ):
        return None
    if swarms is not None:
        if len(swarms) != 2 or swarms[0] not in _STATUS_VALUES or swarms[1] not in _KEPT_ERRORS:
            return None
        swarms = (swarms[0], swarms[1])
    if problems and not all(type(problem) is str for problem in problems):
        return None
    if tokens is not None and tokens < 0:
        return None
    return ConfigSummary(declared, name, agent_id, model, cost, loop_count, timestamp,
                         state_hint, status, error, swarms, tuple(problems), messages_problem,
                         tokens)  # fmt: skip


_NONE = type(None)
# The kinds of value each field of an entry may hold: the key, then ConfigSummary's fields.
_TYPES = tuple(
    frozenset(kinds)
    for kinds in (
        *[(int,)] * _KEY_LEN,
        (str, _NONE),  # declared
        (str, _NONE),  # name
        (str, _NONE),  # agent_id
        (str, _NONE),  # model
        (float, _NONE),  # cost
        (int, _NONE),  # loop_count
        (str, _NONE),  # timestamp
        (str, _NONE),  # state_hint
        (str, _NONE),  # status
        (_NONE,),  # error: never kept
        (list, _NONE),  # swarms
        (list,),  # problems
        (str, _NONE),  # messages_problem
        (int, _NONE),  # tokens
    )
)
assert len(_TYPES) == _ENTRY_LEN
_KEPT_ERRORS = (None, ROLLED_BACK)


def _write(path: Path, data: bytes) -> None:
    """``data`` into ``path`` atomically: a temp file created 0600, never through a link, in a
    0700 folder of ours, renamed over ``path`` (whatever it was: a link is replaced, not
    followed). Not fsynced: this is a cache, and a torn file fails its CRC."""
    os.makedirs(path.parent, mode=0o700, exist_ok=True)
    folder_fd = open_folder(path.parent)
    try:
        info = os.fstat(folder_fd)
        if info.st_uid != os.geteuid():
            return
        if stat.S_IMODE(info.st_mode) != 0o700:
            os.fchmod(folder_fd, 0o700)
        replace_in_folder(folder_fd, path.name, data, mode=0o600, durable=False)
        _remove_stale_temps(folder_fd, f".{path.name}.")
    finally:
        os.close(folder_fd)


# A temp file of ours this old was left by a writer that died (killed mid-write).
STALE_TEMP_S = 600


def _remove_stale_temps(folder_fd: int, prefix: str) -> None:
    cutoff = time.time() - STALE_TEMP_S
    with os.scandir(folder_fd) as entries:
        for entry in entries:
            name = entry.name
            if not (name.startswith(prefix) and name.endswith(TEMP_SUFFIX)):
                continue
            try:
                if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                    os.unlink(name, dir_fd=folder_fd)
            except OSError:
                pass
