"""Full-text search over every transcript of a workspace: ``agent-tui search`` and the app's ``/``.

An SQLite FTS5 index per workspace, ``$XDG_CACHE_HOME/agent-tui/search-<hash>.sqlite``, beside
the summary index (:mod:`agent_tui.workspace.summary`) and under its rules: the folder is ours
and ``0700``, the file ``0600``, ours, a regular file with one link, never opened through a
link; anything else (a link, a foreign or corrupt database, another workspace's, an older
version) is removed as a name, never followed, and rebuilt. A cache folder that cannot be
used gives an index in memory: the search still answers, only slower.

Never stale: each search lists the agents folder and ``lstat``\\s each folder and the files its
entry was read from (``config.json``, ``journal.jsonl``, every ``*_state.json``): device, inode,
size, ``mtime_ns`` and ``ctime_ns``, the folder's own times too (a file added or removed
changes them). A folder whose key differs, or that is new, is read again before the query
runs; a removed one is dropped. As in the summary index, a key with a time closer than
:data:`RACY_NS` to the search is not kept (a rewrite within one clock tick could keep it),
so such a folder is read again next time. A journal that grew is read again whole: a journal
record can start a new conversation, and the state file folds records in, so what an
appended record means depends on the rest (a 50-step folder is read and indexed again in
about 4 ms).

No secret is stored or shown: every message is redacted (:class:`~agent_tui.redaction.Redactor`,
plus what a swarms config holds under secret-named keys) before it is indexed, the folder
names are kept as hashes, and the snippet is redacted again when shown. The index remembers a
digest of the environment's secrets; when they change, it is emptied and rebuilt, so a value
that became a secret since is not left in it.

Results come newest first: by the folder's last change as the index saw it (each folder read
gets a larger id, and a cold build reads them oldest first), then by message, last first.
A person looks for what they did recently; it is also an order the FTS5 table serves by its
rowid (``folder id << 32 | message index``), so a word found in a million messages costs
only the ``limit`` newest, not a sort of all of them (bm25 rank would need all of them).

Each call opens its own connection and closes it, so it is safe from a worker thread; two
processes share the file through SQLite's locking (WAL: readers never wait).
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import stat
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

from agent_tui.format.layout import CONFIG_NAME, JOURNAL_NAME, STATE_SUFFIX, Format
from agent_tui.format.persistence import WorkspaceFileError, open_folder
from agent_tui.format.swarms import normalize_message, swarms_messages
from agent_tui.redaction import Redactor, secrets_from_environment
from agent_tui.settings import agents_dir
from agent_tui.units import printable
from agent_tui.workspace.documents import journal_records, load_config, our_messages
from agent_tui.workspace.folder import read_agent
from agent_tui.workspace.scan import iter_agent_folders
from agent_tui.workspace.status import whole_number
from agent_tui.workspace.summary import RACY_NS
from agent_tui.workspace.summary import index_path as summary_index_path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

    Progress = Callable[[int, int], None]

APPLICATION_ID = 0x61747331  # "ats1": the database is ours, whatever its name says
VERSION = 1
SNIPPET_CHARS = 100
# Folders read per transaction of a cold build: its work is kept if it is cut short, and a
# second process (the app while the CLI builds) gets its turn between them.
BATCH = 200
# A folder's rows are folder id << 32 | message index; a later message is not searched.
MAX_MESSAGES = 1 << 32
BUSY_TIMEOUT_S = 60.0
_SIDE_FILES = ("-wal", "-shm", "-journal")

_MESSAGES_TABLE = "messages USING fts5(text, step UNINDEXED, role UNINDEXED)"
# Run whole by each process that finds an empty file: every statement may run twice.
_SCHEMA = f"""
BEGIN IMMEDIATE;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS folders (
    hash BLOB PRIMARY KEY,  -- blake2b of the folder's name: no name is stored
    fid INTEGER NOT NULL UNIQUE,
    agent TEXT NOT NULL,  -- redacted
    files BLOB NOT NULL,  -- the names the key covers, NUL-separated
    key BLOB  -- NULL: read again at the next search
) WITHOUT ROWID;
CREATE VIRTUAL TABLE IF NOT EXISTS {_MESSAGES_TABLE};
PRAGMA application_id = {APPLICATION_ID};
PRAGMA user_version = {VERSION};
COMMIT;
"""


@dataclass(frozen=True, slots=True)
class Hit:
    """One message that holds every word: its agent folder, the agent's name, the step it
    belongs to (``None`` for swarms, which records none), its role, a one-line snippet around
    the first word found, and its index in the folder's conversation (as
    :func:`~agent_tui.workspace.load_conversation` lists it)."""

    folder: Path
    agent: str
    step: int | None
    role: str
    snippet: str
    message_index: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "folder": os.fspath(self.folder),
            "agent": self.agent,
            "step": self.step,
            "role": self.role,
            "message_index": self.message_index,
            "snippet": self.snippet,
        }


def search(
    root: os.PathLike[str] | str | None,
    text: str,
    *,
    limit: int = 50,
    on_progress: Progress | None = None,
) -> list[Hit]:
    """The newest ``limit`` messages of every agent under ``<root>/agents`` that hold every
    word of ``text`` (any case; punctuation separates words and is never query syntax).

    The index is brought up to date first: ``on_progress(done, total)`` is called before
    each batch of :data:`BATCH` folders that changed (all of them, the first time) is read,
    and once at the end; an exception it raises stops the search there (a worker cancelled),
    keeping the batches already read for the next one. Safe to call from any thread: each
    call has its own connection. Raises :class:`WorkspaceFileError` only when
    ``<root>/agents`` exists but cannot be listed.
    """
    terms = query_terms(text)
    if not terms or limit <= 0:
        return []
    agents = agents_dir(root)
    names = {_name_hash(path.name): path.name for path in iter_agent_folders(root)}
    if not names:
        return []
    redactor = Redactor()
    in_memory = discarded = False
    while True:
        index = SearchIndex.open(agents, in_memory=in_memory)
        try:
            index.refresh(names, redactor, on_progress)
            return index.query(terms, limit, names, redactor, agents)
        except sqlite3.DatabaseError as exc:
            if index.path is None:
                raise
            if _busy(exc):  # held by another process longer than BUSY_TIMEOUT_S: left to it
                in_memory = True
            else:  # found corrupt while in use: a new file, then one in memory
                index.discard()
                in_memory, discarded = discarded, True
        finally:
            index.close()


def _busy(exc: sqlite3.DatabaseError) -> bool:
    """Whether ``exc`` says another connection holds the database (not that it is bad)."""
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF  # the primary code of an extended one
    return code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


_WORD = re.compile(r"[^\W_]+")


def query_terms(text: str) -> list[str]:
    """The words of a query: runs of letters and digits, each to be found as a whole word.
    Anything else (quotes, ``*``, ``NEAR(``, ``-``) only separates them."""
    return list(dict.fromkeys(word.lower() for word in _WORD.findall(text)))


def fts_query(terms: Iterable[str]) -> str:
    """An FTS5 query that matches rows holding every term: each a quoted string, so no term
    is ever read as FTS5 syntax."""
    return " AND ".join('"' + term.replace('"', '""') + '"' for term in terms)


# ANSI/VT sequences: CSI (ESC [ or 0x9b), OSC (ESC ] ... BEL or ESC \), and two-character ones.
_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?|\x1b[ -~]?"
)
_SPACES = re.compile(r"\s+")
_SNIPPET_BEFORE = 30


def clean_line(text: str) -> str:
    """``text`` as one line a terminal shows and never obeys: escape sequences removed, line
    breaks and runs of white space as one space, any other control or invisible character
    spelled out (``\\x07``), as :func:`~agent_tui.units.printable` shows it."""
    return printable(_SPACES.sub(" ", _ESCAPES.sub("", text)))


def snippet(text: str, terms: list[str], width: int = SNIPPET_CHARS) -> str:
    """One line of at most ``width`` characters of ``text`` around the first of ``terms``
    found as a word (the start of the text when none is, as with a word FTS5 matched
    without its accents)."""
    found = re.search(
        r"(?<![^\W_])(?:" + "|".join(map(re.escape, terms)) + r")(?![^\W_])", text, re.IGNORECASE
    )
    at = found.start() if found else 0
    # Cleaned apart, so the word starts where the two meet whatever was removed before it.
    before = clean_line(text[max(0, at - width) : at]).lstrip()
    after = clean_line(text[at : at + 2 * width]).rstrip()
    lead = min(len(before), max(min(_SNIPPET_BEFORE, width // 4), width - len(after)))
    line = before[len(before) - lead :] + after
    if lead < len(before) or at > width:
        line = "…" + line[1:].lstrip()
    if len(line) > width:
        line = line[: width - 1].rstrip() + "…"
    return line


def _name_hash(name: str) -> bytes:
    return hashlib.blake2b(os.fsencode(name), digest_size=16).digest()


def _secrets_digest() -> str:
    """A digest of the environment's secrets (never the secrets): the index is rebuilt when
    it changes, since the text it holds was redacted without the new ones."""
    digest = hashlib.blake2b(digest_size=16)
    for secret in sorted(secrets_from_environment()):
        digest.update(secret.encode("utf-8", "surrogatepass") + b"\0")
    return digest.hexdigest()


def index_path(agents: str) -> Path | None:
    """The search index of the agents folder ``agents`` (absolute): the summary index's
    name (:func:`~agent_tui.workspace.summary.index_path`, one hash of the folder for both)
    as ``search-<hash>.sqlite``."""
    summaries = summary_index_path(agents)
    if summaries is None:
        return None
    return summaries.with_name("search-" + summaries.stem.removeprefix("summaries-") + ".sqlite")


def _owned(info: os.stat_result) -> bool:
    return info.st_uid == os.geteuid()


def _prepare_file(path: Path) -> bool:
    """Make ``path`` safe to hand to SQLite: its folder ours and ``0700``, itself absent or a
    private regular file of ours with one link (anything else is removed as a name: a link
    goes, its target stays). False when the folder cannot be ours."""
    try:
        os.makedirs(path.parent, mode=0o700, exist_ok=True)
        folder_fd = open_folder(path.parent)
    except OSError:
        return False
    try:
        info = os.fstat(folder_fd)
        if not _owned(info):
            return False
        if stat.S_IMODE(info.st_mode) != 0o700:
            os.fchmod(folder_fd, 0o700)
        for name in (path.name, *(path.name + side for side in _SIDE_FILES)):
            try:
                found = os.stat(name, dir_fd=folder_fd, follow_symlinks=False)
            except FileNotFoundError:
                continue
            sound = (
                stat.S_ISREG(found.st_mode)
                and _owned(found)
                and found.st_nlink == 1
                and not found.st_mode & 0o077
            )
            if not sound:
                os.unlink(name, dir_fd=folder_fd)
        try:
            fd = os.open(
                path.name,
                os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                0o600,
                dir_fd=folder_fd,
            )
            os.close(fd)
        except FileExistsError:
            pass
        return True
    except OSError:
        return False
    finally:
        os.close(folder_fd)


def _remove(path: Path) -> None:
    """The index file and SQLite's side files, as names (never followed)."""
    for name in (path.name, *(path.name + side for side in _SIDE_FILES)):
        try:
            os.unlink(path.parent / name)
        except OSError:
            pass


class SearchIndex:
    """The search index of one agents folder, open for one search (see :func:`search`)."""

    def __init__(self, agents: str, connection: sqlite3.Connection, path: Path | None) -> None:
        self.agents = agents
        self.path = path
        self._db = connection

    @classmethod
    def open(cls, agents: os.PathLike[str] | str, *, in_memory: bool = False) -> SearchIndex:
        """The index of ``agents`` as the cache holds it, emptied when it is not a sound index
        of this version for this folder and these secrets (a new one when there is none)."""
        where = os.path.realpath(agents)
        path = None if in_memory else index_path(where)
        if path is not None and not _prepare_file(path):
            path = None
        for _ in range(2):
            if path is None:
                break
            connection = None
            try:
                connection = _connect(path)
                _check(connection, where)
                return cls(where, connection, path)
            except sqlite3.DatabaseError as exc:
                if connection is not None:
                    connection.close()
                if _busy(exc):
                    break  # another process holds it: this search uses one in memory
                _remove(path)  # corrupt, foreign or another version's: a new file
                if not _prepare_file(path):
                    path = None
        connection = _connect(None)
        _check(connection, where)
        return cls(where, connection, None)

    def close(self) -> None:
        self._db.close()

    def discard(self) -> None:
        """Remove the file (found corrupt while in use): the next search builds a new one."""
        self._db.close()
        if self.path is not None:
            _remove(self.path)

    def refresh(
        self, names: dict[bytes, str], redactor: Redactor, on_progress: Progress | None = None
    ) -> None:
        """Bring the index to the folders ``names`` (name hash -> folder name) as they are now:
        every folder whose key changed or that is new is read again, every other dropped."""
        started_ns = time.time_ns()
        db = self._db
        entries = {h: (files, key) for h, files, key in db.execute(_ENTRIES)}
        todo: list[tuple[int, str, list[str]]] = []
        gone: list[bytes] = []
        for name_hash, name in names.items():
            entry = entries.get(name_hash)
            if entry is not None and entry[1] is not None:
                files = _split(entry[0])
                if self._key(name, files, started_ns) == entry[1]:
                    continue
            listed = self._files(name)
            if listed is not None:
                todo.append((self._newest(name, listed), name, listed))
            elif entry is not None:
                gone.append(name_hash)  # a folder no more: now a link, a file
        gone += [h for h in entries if h not in names]
        if gone:
            with db:
                db.execute("BEGIN IMMEDIATE")
                for name_hash in gone:
                    self._drop(name_hash)
        todo.sort()  # oldest first: the newest folder gets the largest id
        for start in range(0, len(todo), BATCH):
            if on_progress is not None:
                on_progress(start, len(todo))
            with db:
                db.execute("BEGIN IMMEDIATE")
                for _, name, files in todo[start : start + BATCH]:
                    self._read_folder(name, files, redactor, started_ns)
        if on_progress is not None and todo:
            on_progress(len(todo), len(todo))

    def _key(self, name: str, files: list[str], started_ns: int) -> bytes | None:
        """The key of folder ``name``: ``lstat`` of it and each of ``files``; None when it
        is not a real folder or a time in it is too recent to trust (see :data:`RACY_NS`)."""
        folder = f"{self.agents}/{name}"
        try:
            info = os.lstat(folder)
        except OSError:
            return None
        if not stat.S_ISDIR(info.st_mode):
            return None
        parts: list[int | None] = [info.st_dev, info.st_ino, info.st_mtime_ns, info.st_ctime_ns]
        changed = info.st_ctime_ns
        for file in files:
            try:
                found = os.lstat(f"{folder}/{file}")
            except OSError:
                parts.append(None)
                continue
            parts += (found.st_mode, found.st_dev, found.st_ino, found.st_size)
            parts += (found.st_mtime_ns, found.st_ctime_ns)
            changed = max(changed, found.st_ctime_ns)
        if changed > started_ns - RACY_NS:
            return None
        return orjson.dumps(parts)

    def _files(self, name: str) -> list[str] | None:
        """The files whose keys say folder ``name`` is unchanged: config, journal and every
        state file; None when it is not a folder to read (a link, a file, gone)."""
        try:
            folder_fd = open_folder(f"{self.agents}/{name}")  # never through a link
        except OSError:
            return None
        try:
            with os.scandir(folder_fd) as listing:
                states = sorted(e.name for e in listing if e.name.endswith(STATE_SUFFIX))
        except OSError:
            return None
        finally:
            os.close(folder_fd)
        return [CONFIG_NAME, JOURNAL_NAME, *states]

    def _newest(self, name: str, files: list[str]) -> int:
        newest = 0
        for file in (".", *files):
            try:
                newest = max(newest, os.lstat(f"{self.agents}/{name}/{file}").st_mtime_ns)
            except OSError:
                pass
        return newest

    def _drop(self, name_hash: bytes) -> None:
        row = self._db.execute("SELECT fid FROM folders WHERE hash = ?", (name_hash,)).fetchone()
        if row is not None:
            low = row[0] * MAX_MESSAGES
            self._db.execute(
                "DELETE FROM messages WHERE rowid BETWEEN ? AND ?", (low, low + MAX_MESSAGES - 1)
            )
            self._db.execute("DELETE FROM folders WHERE hash = ?", (name_hash,))

    def _read_folder(
        self, name: str, files: list[str], redactor: Redactor, started_ns: int
    ) -> None:
        """(Re)index folder ``name``, inside the caller's transaction. Another process may
        have done it since this one looked: then it is left as that one wrote it."""
        db = self._db
        name_hash = _name_hash(name)
        row = db.execute("SELECT files, key FROM folders WHERE hash = ?", (name_hash,)).fetchone()
        if (
            row is not None
            and row[1] is not None
            and self._key(name, _split(row[0]), started_ns) == row[1]
        ):
            return
        before = self._key(name, files, started_ns)
        agent, messages = _read_messages(Path(f"{self.agents}/{name}"), redactor)
        after = self._key(name, files, started_ns)
        self._drop(name_hash)
        (top,) = db.execute("SELECT coalesce(max(fid), 0) + 1 FROM folders").fetchone()
        db.execute(
            "INSERT INTO folders (hash, fid, agent, files, key) VALUES (?, ?, ?, ?, ?)",
            (name_hash, top, agent, _join(files), before if before == after else None),
        )
        low = top * MAX_MESSAGES
        db.executemany(
            "INSERT INTO messages (rowid, text, step, role) VALUES (?, ?, ?, ?)",
            ((low + number, text, step, role) for number, (step, role, text) in messages),
        )

    def query(
        self,
        terms: list[str],
        limit: int,
        names: dict[bytes, str],
        redactor: Redactor,
        agents: Path,
    ) -> list[Hit]:
        """The newest ``limit`` rows holding every term, as hits with their folders under
        ``agents`` (the path as the caller gave it: the index knows only its real path), the
        snippets redacted again (the index was written with the secrets known then)."""
        rows = self._db.execute(
            "SELECT rowid, step, role, text FROM messages WHERE messages MATCH ? "
            "ORDER BY rowid DESC LIMIT ?",
            (fts_query(terms), limit),
        ).fetchall()
        fids = sorted({rowid // MAX_MESSAGES for rowid, *_ in rows})
        folders = {}
        for start in range(0, len(fids), 500):
            chunk = fids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for fid, name_hash, agent in self._db.execute(
                f"SELECT fid, hash, agent FROM folders WHERE fid IN ({marks})", chunk
            ):
                folders[fid] = (name_hash, agent)
        hits = []
        for rowid, step, role, text in rows:
            fid, number = divmod(rowid, MAX_MESSAGES)
            name_hash, agent = folders.get(fid, (None, ""))
            name = names.get(name_hash) if name_hash is not None else None
            if name is None:
                continue  # dropped by another process since the refresh
            hits.append(
                Hit(
                    folder=agents / name,
                    agent=redactor.redact_text(agent),
                    step=step,
                    role=str(role),
                    snippet=snippet(redactor.redact_text(text), terms),
                    message_index=number,
                )
            )
        return hits


_ENTRIES = "SELECT hash, files, key FROM folders"


def _split(files: bytes) -> list[str]:
    return [os.fsdecode(part) for part in files.split(b"\0")]


def _join(files: list[str]) -> bytes:
    return b"\0".join(map(os.fsencode, files))


def _connect(path: Path | None) -> sqlite3.Connection:
    """A connection to the index at ``path`` (in memory for None), its schema made if new.
    ``isolation_level=None``: transactions are opened explicitly (``BEGIN IMMEDIATE``)."""
    target = ":memory:" if path is None else os.fspath(path)
    connection = sqlite3.connect(
        target, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=True
    )
    try:
        if path is not None:
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
        connection.execute("PRAGMA trusted_schema = OFF")
        (application_id,) = connection.execute("PRAGMA application_id").fetchone()
        if application_id == 0 and not _tables(connection):
            connection.executescript(_SCHEMA)
    except sqlite3.DatabaseError:
        connection.close()
        raise
    return connection


def _tables(connection: sqlite3.Connection) -> list[Any]:
    return connection.execute("SELECT name FROM sqlite_master").fetchall()


def _check(connection: sqlite3.Connection, agents: str) -> None:
    """Raise :class:`sqlite3.DatabaseError` unless ``connection`` holds an index of this
    version for ``agents``; empty it when the environment's secrets changed."""
    (application_id,) = connection.execute("PRAGMA application_id").fetchone()
    (version,) = connection.execute("PRAGMA user_version").fetchone()
    if application_id != APPLICATION_ID or version != VERSION:
        raise sqlite3.DatabaseError("not an agent-tui search index of this version")
    meta = dict(connection.execute("SELECT key, value FROM meta"))
    digest = _secrets_digest()
    if meta.get("agents", agents) != agents:
        raise sqlite3.DatabaseError("the search index of another workspace")
    if meta.get("secrets") == digest:
        return
    with connection:
        connection.execute("BEGIN IMMEDIATE")
        if dict(connection.execute("SELECT key, value FROM meta")).get("secrets") != digest:
            connection.execute("DELETE FROM folders")
            connection.execute("DROP TABLE messages")
            connection.execute(f"CREATE VIRTUAL TABLE {_MESSAGES_TABLE}")
            connection.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                [("agents", agents), ("secrets", digest)],
            )


def _read_messages(
    folder: Path, redactor: Redactor
) -> tuple[str, list[tuple[int, tuple[int | None, str, str]]]]:
    """The agent's name and its conversation as ``(index, (step, role, text))``, each text
    redacted; no messages when the folder cannot be read (its problems are ``show``'s to
    tell). Ours: the state file and the journal after it, replayed; swarms: ``short_memory``
    of ``config.json``, also masked with the keys that config holds in plain text."""
    record = read_agent(folder)
    local: Redactor | None = None
    try:
        if record.format == Format.SWARMS:
            config = load_config(folder)
            raw = swarms_messages(config, folder / CONFIG_NAME)
            messages = [normalize_message(m, record.name) for m in raw]
            local = Redactor(use_environment=False)
            local.learn(config)
            step: int | None = None
        else:
            messages = [
                normalize_message(m) for m in our_messages(record, journal_records(folder)[0])
            ]
            step = 0
    except (WorkspaceFileError, OSError, RecursionError):
        return redactor.redact_text(record.name), []
    rows = []
    masks = [redactor] if local is None or not local.window else [redactor, local]
    for number, message in enumerate(messages[:MAX_MESSAGES]):
        found = whole_number(message.get("step"))
        if found is not None:
            step = found
        text = _message_text(message)
        for mask in masks:
            text = mask.redact_text(text)
        rows.append((number, (step, message["role"], text)))
    agent = record.name
    for mask in masks:
        agent = mask.redact_text(agent)
    return agent, rows


def _message_text(message: dict[str, Any]) -> str:
    """What of a message is searched: its content, and the name and arguments of each tool
    call it makes."""
    text = message["content"]
    calls = message.get("tool_calls")
    if isinstance(calls, list):
        parts = [text]
        for call in calls:
            function = call.get("function") if isinstance(call, dict) else None
            if isinstance(function, dict):
                parts += [str(function.get("name", "")), str(function.get("arguments", ""))]
        text = "\n".join(part for part in parts if part)
    return text
