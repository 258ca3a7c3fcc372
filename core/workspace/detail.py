"""What a view shows of one agent, typed: :class:`AgentDetail` (header, settings, a window of
the conversation, usage, problems), read by :func:`load_detail`.

A long run's files are large (50,000 steps: a 50 MB state file and a journal as long), and a
view must open at once. So nothing is read whole that a window does not need:

- the state file (ours) or a swarms ``config.json``, from 1 MB on, is outlined
  (:mod:`agent_tui.format.outline`): its members parsed but the long arrays, which are counted
  by their lines and read from their end; a file laid out otherwise is parsed whole;
- the journal is read backwards from its end (:func:`agent_tui.format.journal.read_tail`) down
  to the last record the state file holds; what is before it is already in the state file.

The window then replays through the one replay (:mod:`agent_tui.format.replay`), as a whole
read does: the same messages, the same total, the same task, memory and usage.

A :class:`DetailCache` keeps what was read, keyed by the files' identity (inode, mtime, size).
While an agent runs its state file does not change, ``config.json`` is rewritten and
``journal.jsonl`` grows: a refresh re-reads the small config, reads only the journal lines
appended since the last read and folds them in. Only the window is normalized and redacted.

Secrets: the redactor learns from everything read (the members, the window, the journal's
last records); what was counted and not read is swept for secrets from its bytes
(:mod:`agent_tui.workspace.sweep`: what a whole parse would teach, found with C searches). Up
to :data:`SWEEP_NOW_BYTES` the sweep is done before :func:`load_detail` returns; a view that
asks it to (``defer_sweep=True``, the app's tabs) gets the window first and calls
:func:`sweep_secrets` next, then reads again if that learned anything (a value under a
secret-named key far back, quoted in the last messages without its key, is masked once the
sweep reaches it: ~0.2-0.3 s per 10 MB here; our own writer masks such a value before it
writes it, so only a file written otherwise can show one until then).
"""

from __future__ import annotations

import os
import stat
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from agent_tui.format import replay
from agent_tui.format.journal import JournalRead, lines_before, parse_records, read_tail
from agent_tui.format.layout import CONFIG_NAME, JOURNAL_NAME, Format, Layout
from agent_tui.format.outline import NotOutlined, Source, outline
from agent_tui.format.persistence import (
    MAX_READ_BYTES,
    WorkspaceFileError,
    open_folder,
    open_regular,
    parse_json,
    read_fd,
)
from agent_tui.format.swarms import normalize_message, swarms_messages
from agent_tui.workspace.documents import replay_state
from agent_tui.workspace.folder import read_agent
from agent_tui.workspace.record import AgentRecord
from agent_tui.workspace.status import whole_number
from agent_tui.workspace.structures import structure_conversation
from agent_tui.workspace.sweep import Undecodable, sweep, sweep_lines

# typing costs 3 ms of start-up and is needed only by type checkers here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from agent_tui.redaction import Redactor

# How many of the last messages a view holds at first; it asks for more as the user scrolls.
DEFAULT_WINDOW = 100
# Folders whose parsed documents a cache keeps (a view shows one agent at a time).
CACHED_FOLDERS = 4
# A state file or swarms config this large is outlined rather than parsed whole (a smaller
# one parses in a few milliseconds).
OUTLINE_BYTES = 1 << 20
# Unread bytes swept for secrets before load_detail returns, even when asked to defer.
SWEEP_NOW_BYTES = 4 << 20
# A journal is swept this many bytes at a time.
SWEEP_CHUNK = 4 << 20
# A list in the settings longer than this is shown as its last SHOWN_ITEMS items after a
# line that says how many came before (swarms keep the whole conversation in config.json).
LONG_LIST = 200
SHOWN_ITEMS = 5


@dataclass
class ConversationWindow:
    """The last messages of a conversation, normalized (see
    :func:`~agent_tui.format.swarms.normalize_message`): ``messages`` are those from index
    ``first`` of ``total``."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0
    first: int = 0

    @property
    def earlier(self) -> int:
        """How many messages come before the window."""
        return self.first


@dataclass
class AgentDetail:
    """One agent as a view shows it, whatever format wrote it. ``settings`` is
    ``config.json`` (``None`` when it cannot be read: ``settings_problem`` says why; a list
    longer than :data:`LONG_LIST` holds only its last items)."""

    folder: Path
    name: str
    agent_id: str | None
    format: str
    status: str
    loop_count: int | None
    model: str | None
    last_autosave: datetime | None
    error: str | None
    task: str | None
    memory: dict[str, Any]
    settings: dict[str, Any] | None
    settings_problem: str | None
    conversation: ConversationWindow
    usage: dict[str, Any]
    problems: list[str]


FileKey = tuple[int, int, int]


@dataclass
class _Unswept:
    """Byte ranges of a file read in part, whose secrets the redactor has not learned yet;
    ``lines``: of JSON lines (a journal), else of one JSON document."""

    path: Path
    key: FileKey
    ranges: list[tuple[int, int]]
    lines: bool = False


@dataclass
class _Conversation:
    """One folder's conversation as last read, and the files it was read from."""

    source: FileKey | None  # the state file (ours) or config.json (swarms) read
    journal_ino: int | None = None
    journal_end: int = 0  # bytes of the journal read (whole lines only)
    base_seq: int = 0  # records up to this seq are in the state file
    replay: replay.Replay = field(default_factory=replay.Replay)
    problems: list[str] = field(default_factory=list)
    # Only the last messages are held (``dropped`` came before them): a long run's whole
    # conversation kept alive would be thousands of objects for every garbage collection to
    # walk, on the UI's time.
    keep: int = DEFAULT_WINDOW
    dropped: int = 0
    unswept: list[_Unswept] = field(default_factory=list)

    def trim(self) -> None:
        messages = self.replay.conversation
        self.replay.tool_results = []  # no view shows them
        if len(messages) > 2 * self.keep:
            cut = len(messages) - self.keep
            del messages[:cut]
            self.dropped += cut


@dataclass
class _Settings:
    """``config.json`` as last read: the settings shown and, for swarms, the conversation's
    last ``keep`` messages of ``total`` (or why there is none)."""

    key: FileKey
    shown: dict[str, Any]
    keep: int
    messages: list[Any] = field(default_factory=list)
    total: int = 0
    problem: str | None = None
    unswept: list[_Unswept] = field(default_factory=list)


class DetailCache:
    """What :func:`load_detail` read, for the few folders read last. One per view; safe to
    share between threads: reads through one cache take turns (a read a view gave up on still
    runs to its end in its thread, and must not fold the same journal lines in twice)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._settings: OrderedDict[str, _Settings] = OrderedDict()
        self._conversations: OrderedDict[str, _Conversation] = OrderedDict()
        # Folders whose files turned out not to be JSON in a part not parsed: read them whole.
        self._whole: set[str] = set()

    def _keep(self, table: OrderedDict, folder: str, value: Any) -> None:
        table[folder] = value
        table.move_to_end(folder)
        while len(table) > CACHED_FOLDERS:
            table.popitem(last=False)


# What each redactor has been taught by sweeps, so two views of one agent (the tabs share the
# app's redactor) sweep it once: (path, file key, range) of documents, and how far each
# journal (path, inode) was swept (journals only grow).
_SWEPT: weakref.WeakKeyDictionary[Redactor, set[tuple[str, FileKey, int, int]]]
_SWEPT = weakref.WeakKeyDictionary()
_JOURNALS_SWEPT: weakref.WeakKeyDictionary[Redactor, dict[tuple[str, int], int]]
_JOURNALS_SWEPT = weakref.WeakKeyDictionary()


def load_detail(
    folder: os.PathLike[str] | str,
    window: int = DEFAULT_WINDOW,
    *,
    cache: DetailCache | None = None,
    redactor: Redactor | None = None,
    record: AgentRecord | None = None,
    defer_sweep: bool = False,
) -> AgentDetail:
    """Read ``folder`` into an :class:`AgentDetail` holding its last ``window`` messages
    (``window=0``: no conversation is read, only the header and settings). Never raises for
    what is on disk: what cannot be read is a problem.

    ``record``: the folder's :class:`AgentRecord` when the caller has a fresh one (a view fed
    by the watcher), so the folder is not read again for it (a swarms config is the whole
    agent: its parse is what a long one's costs). With a ``cache``, a refresh parses only what
    changed since the last call for the folder. With a ``redactor``, every document read
    teaches it the secrets it holds (once per parse), and what the detail shows is masked with
    all it knows: the window, the task, the memory, the settings, the error and the problems.
    ``defer_sweep``: leave the secrets of a large unread part to :func:`sweep_secrets`.
    """
    cache = cache or DetailCache()
    folder = Path(folder)
    if record is None or record.folder != folder:
        record = read_agent(folder)
    with cache.lock:
        detail = _read_detail(record, window, cache, redactor)
        defer = defer_sweep and _unswept_bytes(cache, record.path) > SWEEP_NOW_BYTES
        pending = [] if redactor is None or defer else _take_unswept(cache, record.path)
    if redactor is not None and _sweep(pending, cache, record.path, redactor) == UNDECODABLE:
        with cache.lock:
            detail = _read_detail(record, window, cache, redactor)
    return _masked(detail, redactor) if redactor is not None else detail


def sweep_secrets(
    folder: os.PathLike[str] | str, *, cache: DetailCache, redactor: Redactor
) -> bool:
    """Teach ``redactor`` the secrets of what :func:`load_detail` (with ``defer_sweep``) left
    unread in ``folder``. True when a detail read before is masked with less than the
    redactor knows now, or was read from a file found broken: read it again."""
    key = os.fspath(Path(folder))
    with cache.lock:
        pending = _take_unswept(cache, key)
    return _sweep(pending, cache, key, redactor) is not None


UNDECODABLE, LEARNED = "undecodable", "learned"


def sweep_file(path: os.PathLike[str] | str, redactor: Redactor, *, lines: bool = False) -> None:
    """Teach ``redactor`` the secrets of the file at ``path``, a JSON document or (``lines``)
    the whole lines of a journal, once for a given file and redactor (a journal: what it
    appended since): what a reader that parsed all of it would learn. A missing or
    unreadable file teaches nothing."""
    path = Path(path)
    try:
        if lines:
            _sweep_journal(path, redactor)
            return
        key, data = _read_bytes(path)
        _sweep_document(_Unswept(path, key, [(0, len(data))]), redactor, (key, data))
    except Undecodable:
        try:
            redactor.learn(parse_json(data, path))  # broken somewhere: a parse says where
        except WorkspaceFileError:
            pass
    except (OSError, WorkspaceFileError):
        pass


def _read_detail(
    record: AgentRecord, window: int, cache: DetailCache, redactor: Redactor | None
) -> AgentDetail:
    problems = list(record.problems)
    keep = max(window, DEFAULT_WINDOW)
    settings, settings_problem = _settings(record, cache, redactor, keep if window > 0 else 0)
    conversation = _Conversation(None)
    if window > 0 and record.layout == Layout.STRUCTURE:
        conversation = _structure_conversation(record, redactor, keep)
    elif window > 0 and record.format == Format.SWARMS:
        if settings is not None:
            conversation = _swarms_conversation(settings)
    elif window > 0:
        conversation = _our_conversation(record, cache, redactor, window)
    problems += conversation.problems
    state = conversation.replay
    messages = state.conversation
    start = max(0, len(messages) - window)
    agent_name = record.name if record.format == Format.SWARMS else None
    shown = [normalize_message(m, agent_name) for m in messages[start:]]
    first, total = conversation.dropped + start, conversation.dropped + len(messages)
    detail = AgentDetail(
        folder=record.folder,
        name=record.name,
        agent_id=record.agent_id,
        format=record.format,
        status=record.status,
        loop_count=record.loop_count,
        model=record.model,
        last_autosave=record.last_autosave,
        error=record.error,
        task=state.task,
        memory=state.memory,
        settings=settings.shown if settings is not None else None,
        settings_problem=settings_problem,
        conversation=ConversationWindow(shown, total, first),
        usage=dict(state.usage),
        problems=problems,
    )
    return detail


def _masked(detail: AgentDetail, redactor: Redactor) -> AgentDetail:
    text = redactor.redact_text
    window = detail.conversation
    detail.conversation = ConversationWindow(
        redactor.redact(window.messages), window.total, window.first
    )
    detail.task = text(detail.task) if detail.task else detail.task
    detail.memory = redactor.redact(detail.memory)
    detail.settings = redactor.redact(detail.settings) if detail.settings is not None else None
    detail.settings_problem = text(detail.settings_problem) if detail.settings_problem else None
    detail.error = text(detail.error) if detail.error else None
    detail.problems = [text(p) for p in detail.problems]
    return detail


# ---------------------------------------------------------------- reading files


def _key(info: os.stat_result) -> FileKey:
    return (info.st_ino, info.st_mtime_ns, info.st_size)


def _open(path: Path) -> tuple[int, os.stat_result]:
    """The file opened like every workspace read: its folder and itself without following
    links, a regular file only."""
    try:
        folder_fd = open_folder(path.parent)
    except OSError as exc:
        raise WorkspaceFileError(path, f"its folder: {exc.strerror or exc}") from None
    try:
        return open_regular(path.name, dir_fd=folder_fd)
    except WorkspaceFileError as exc:
        raise WorkspaceFileError(path, exc.reason) from None
    finally:
        os.close(folder_fd)


def _read_bytes(path: Path) -> tuple[FileKey, bytes]:
    fd, info = _open(path)
    try:
        return _key(info), read_fd(fd, info.st_size, path)
    finally:
        os.close(fd)


@dataclass
class _Read:
    """A document read (outlined or whole): its members, and each long array's last items,
    length and the byte ranges not read."""

    document: Any
    tails: dict[str, tuple[list[Any], int]] = field(default_factory=dict)
    unswept: list[_Unswept] = field(default_factory=list)
    order: list[str] = field(default_factory=list)  # every key, when the file was outlined


def _read_long(path: Path, keep: dict[str, int], whole: bool) -> tuple[FileKey, _Read]:
    """``path`` parsed, the arrays under the keys of ``keep`` (only their last ``keep[key]``
    items) read from their end when the file is large; parsed whole otherwise (``whole``:
    always)."""
    fd, info = _open(path)
    try:
        key, size = _key(info), info.st_size
        if OUTLINE_BYTES <= size <= MAX_READ_BYTES and not whole:
            try:
                shape = outline(Source.of_file(fd, size), keep)
            except NotOutlined:
                pass
            except OSError as exc:
                raise WorkspaceFileError(path, f"cannot read: {exc.strerror or exc}") from None
            else:
                members = shape.members
                read = _Read({k: members[k] for k in shape.order if k in members})
                ranges = []
                for name, array in shape.arrays.items():
                    read.tails[name] = (array.items, array.total)
                    read.order = shape.order
                    ranges.append((array.first, array.cut))
                read.unswept.append(_Unswept(path, key, ranges))
                return key, read
        return key, _Read(parse_json(read_fd(fd, size, path), path))
    finally:
        os.close(fd)


# ---------------------------------------------------------------- settings


def _settings(
    record: AgentRecord, cache: DetailCache, redactor: Redactor | None, keep: int
) -> tuple[_Settings | None, str | None]:
    path = record.folder / CONFIG_NAME
    known = cache._settings.get(record.path)
    info = _lstat(path)
    unchanged = known is not None and info is not None and _key(info) == known.key
    if known is not None and unchanged and (known.keep >= keep or known.total <= known.keep):
        return known, None
    swarms = record.format == Format.SWARMS
    keep = max(keep, SHOWN_ITEMS)
    try:
        key, read = _read_long(
            path, {"short_memory": keep} if swarms else {}, record.path in cache._whole
        )
    except WorkspaceFileError as exc:
        return None, exc.reason
    document = read.document
    if not isinstance(document, dict):
        return None, "expected a JSON object at the top level"
    if redactor is not None:
        redactor.learn(document)
    entry = _Settings(key, document, keep, unswept=read.unswept)
    messages: list[Any] = []
    if "short_memory" in read.tails:
        messages, entry.total = read.tails["short_memory"]
        if redactor is not None:
            redactor.learn(messages)
        document["short_memory"] = messages
        entry.shown = {k: document[k] for k in read.order}  # in the file's order
    elif swarms:
        try:
            messages = swarms_messages(document, path)
        except WorkspaceFileError as exc:
            messages, entry.problem = [], f"conversation: {exc.reason}"
        entry.total = len(messages)
    if swarms:
        entry.messages = messages[-keep:]
    entry.shown = {
        k: _elided(v, entry.total if k == "short_memory" and swarms else len(v))
        if isinstance(v, list)
        else v
        for k, v in entry.shown.items()
    }
    cache._keep(cache._settings, record.path, entry)
    return entry, None


def _elided(items: list[Any], total: int) -> list[Any]:
    """``items`` (the last of ``total``) as the settings show them: a long list as a line
    saying how many came before and its last :data:`SHOWN_ITEMS` items."""
    if total <= LONG_LIST:
        return items
    earlier = total - SHOWN_ITEMS
    note = f"... {earlier:,} earlier items not shown (the State tab shows the conversation)"
    return [note, *items[-SHOWN_ITEMS:]]


def _swarms_conversation(settings: _Settings) -> _Conversation:
    """swarms keep the conversation in ``config.json`` (already read for the settings)."""
    if settings.problem is not None:
        return _Conversation(None, problems=[settings.problem])
    read = _Conversation(None, replay=replay.Replay(conversation=list(settings.messages)))
    read.dropped = settings.total - len(settings.messages)
    return read


def _structure_conversation(
    record: AgentRecord, redactor: Redactor | None, keep: int
) -> _Conversation:
    """A swarms structure run's conversation file, its last ``keep`` messages held."""
    try:
        messages = structure_conversation(record.folder)
    except WorkspaceFileError as exc:
        return _Conversation(None, problems=[f"conversation: {exc.reason}"])
    if redactor is not None:
        redactor.learn(messages)
    held = messages[-keep:] if keep > 0 else []
    read = _Conversation(None, replay=replay.Replay(conversation=list(held)), keep=keep)
    read.dropped = len(messages) - len(held)
    return read


# ---------------------------------------------------------------- our conversation


def _our_conversation(
    record: AgentRecord, cache: DetailCache, redactor: Redactor | None, window: int
) -> _Conversation:
    """The state file read once, then the journal lines appended since the last read
    (again when more messages are asked for than were held)."""
    source = _lstat_key(record.state_file) if record.state_file else None
    journal = _lstat(record.folder / JOURNAL_NAME)
    known = cache._conversations.get(record.path)
    if known is not None and known.dropped and known.keep < window:
        known = None
    if known is not None and known.source == source:
        if journal is None and known.journal_ino is None:
            return known
        grown = journal is not None and known.journal_ino in (None, journal.st_ino)
        if grown and journal is not None and journal.st_size >= known.journal_end:
            if journal.st_size > known.journal_end:
                _extend(record, known, journal.st_ino, redactor)
            return known
    fresh = _read_ours(record, source, journal, redactor, max(window, DEFAULT_WINDOW), cache)
    fresh.trim()
    cache._keep(cache._conversations, record.path, fresh)
    return fresh


def _read_ours(
    record: AgentRecord,
    source: FileKey | None,
    journal: os.stat_result | None,
    redactor: Redactor | None,
    keep: int,
    cache: DetailCache,
) -> _Conversation:
    read = _Conversation(source, keep=keep)
    state: dict[str, Any] | None = None
    if record.state_file is not None:
        long_arrays = {"conversation": keep, "tool_results": 0}
        try:
            _, found = _read_long(record.state_file, long_arrays, record.path in cache._whole)
        except WorkspaceFileError as exc:
            read.problems.append(f"state file: {exc.reason}")
            return read
        if not isinstance(found.document, dict):
            read.problems.append("state file: expected a JSON object at the top level")
            return read
        state = found.document
        if "conversation" in found.tails:
            items, total = found.tails["conversation"]
            state["conversation"] = items
            read.dropped = total - len(items)
        read.unswept += found.unswept
        if redactor is not None:
            redactor.learn(state)
    read.base_seq = whole_number((state or {}).get("journal_seq")) or 0
    records = _journal_tail(record, read, journal)
    if state is None and not records:
        read.problems.append("conversation: no state file and no journal.jsonl to read")
        return read
    if redactor is not None:
        redactor.learn(records)
    try:
        read.replay = replay_state(record, state, [])
    except WorkspaceFileError as exc:
        read.problems.append(f"conversation: {exc.reason}")
        read.dropped = 0
        return read
    _fold(read, records)
    return read


def _journal_tail(
    record: AgentRecord, read: _Conversation, journal: os.stat_result | None
) -> list[dict[str, Any]]:
    """The journal records after the state file's, read from the end; moves ``read`` to the
    end of the journal's whole lines and notes what was not read."""
    if journal is None:
        return []
    path = record.folder / JOURNAL_NAME
    base = read.base_seq

    def folded(entry: dict[str, Any]) -> bool:
        seq = replay.seq_of(entry)
        return seq is not None and seq <= base

    opened = _open_journal(path, read)
    if opened is None:
        return []
    fd, info = opened
    try:
        tail = read_tail(fd, info.st_size, path, folded)
    except WorkspaceFileError as exc:
        read.problems.append(str(exc))
        return []
    except OSError as exc:
        read.problems.append(f"{path}: cannot read: {exc.strerror or exc}")
        return []
    finally:
        os.close(fd)
    read.journal_ino, read.journal_end = info.st_ino, tail.end
    read.problems += tail.problems
    if tail.start:
        read.unswept.append(_Unswept(path, _key(info), [(0, tail.start)], lines=True))
    # A record without a whole-number seq cannot be placed relative to the state file.
    return [r for r in tail.records if replay.seq_of(r) is not None]


def _open_journal(path: Path, read: _Conversation) -> tuple[int, os.stat_result] | None:
    """The journal opened (:func:`_open`), or ``None`` with the reason in ``read``."""
    try:
        return _open(path)
    except WorkspaceFileError as exc:
        read.problems.append(str(exc))
        return None


def _fold(read: _Conversation, records: list[dict[str, Any]]) -> None:
    """Replay ``records`` (those after the state file's) into ``read``, as a whole read
    replays them, holding only the last messages."""
    for entry in records:
        if entry["seq"] > read.base_seq:
            replay.apply(read.replay, entry)
            if replay.starts_afresh(entry):
                read.dropped = 0  # the run began afresh: nothing held came before it
            if len(read.replay.conversation) > 4 * read.keep:
                read.trim()
    read.trim()


def _extend(record: AgentRecord, read: _Conversation, ino: int, redactor: Redactor | None) -> None:
    records = _appended(record, read, ino)
    if redactor is not None:
        redactor.learn(records)
    _fold(read, records)


def _appended(record: AgentRecord, read: _Conversation, ino: int | None) -> list[dict[str, Any]]:
    """The journal records in the whole lines after ``read.journal_end`` (a line still being
    written is left for the next read); moves ``read`` past them."""
    if ino is None:
        return []
    path = record.folder / JOURNAL_NAME
    opened = _open_journal(path, read)
    if opened is None:
        return []
    fd, info = opened
    try:
        os.lseek(fd, read.journal_end, os.SEEK_SET)
        data = read_fd(fd, max(0, info.st_size - read.journal_end), path)
        whole = data[: data.rfind(b"\n") + 1]
        parsed: JournalRead = parse_records(whole, path)
        if parsed.problems:  # worded with their line numbers, counted only when needed
            parsed = parse_records(whole, path, lines_before(fd, read.journal_end) + 1)
    except (OSError, WorkspaceFileError) as exc:
        read.problems.append(f"{path}: {getattr(exc, 'reason', exc)}")
        return []
    finally:
        os.close(fd)
    read.journal_ino = info.st_ino
    read.journal_end += len(whole)
    read.problems += parsed.problems
    # A record without a whole-number seq cannot be placed relative to the state file.
    return [r for r in parsed.records if replay.seq_of(r) is not None]


# ---------------------------------------------------------------- secrets of what was not read


def _take_unswept(cache: DetailCache, folder: str) -> list[_Unswept]:
    pending: list[_Unswept] = []
    for table in (cache._settings, cache._conversations):
        entry = table.get(folder)
        if entry is not None and entry.unswept:
            pending += entry.unswept
            entry.unswept = []
    return pending


def _unswept_bytes(cache: DetailCache, folder: str) -> int:
    entries = (cache._settings.get(folder), cache._conversations.get(folder))
    return sum(
        end - begin
        for entry in entries
        if entry is not None
        for item in entry.unswept
        for begin, end in item.ranges
    )


def _sweep(
    pending: list[_Unswept], cache: DetailCache, folder: str, redactor: Redactor
) -> str | None:
    """Sweep ``pending`` into ``redactor``: :data:`LEARNED` when that changed how something
    is masked, :data:`UNDECODABLE` when a file is not JSON where it was not parsed (the
    folder is then read whole, and the old reading dropped), else ``None``. A document
    rewritten since it was read (a swarms config each step) is swept whole as it is now; a
    journal, from where the last sweep of it stopped to its last whole line (it grows)."""
    learned = False
    for item in pending:
        try:
            if item.lines:
                learned = _sweep_journal(item.path, redactor) or learned
            else:
                learned = _sweep_document(item, redactor) or learned
        except Undecodable:
            with cache.lock:
                cache._whole.add(folder)
                cache._settings.pop(folder, None)
                cache._conversations.pop(folder, None)
            return UNDECODABLE
        except (OSError, WorkspaceFileError):
            continue  # gone or unreadable: nothing of it is shown
    return LEARNED if learned else None


def _sweep_document(
    item: _Unswept, redactor: Redactor, read: tuple[FileKey, bytes] | None = None
) -> bool:
    swept = _SWEPT.setdefault(redactor, set())
    todo = [r for r in item.ranges if (str(item.path), item.key, *r) not in swept]
    if not todo:
        return False
    key, data = read or _read_bytes(item.path)
    if key != item.key:
        todo = [(0, len(data))]
    learned = False
    for begin, end in todo:
        learned = sweep(data, begin, end, redactor) or learned
        swept.add((str(item.path), key, begin, end))
    return learned


def _sweep_journal(path: Path, redactor: Redactor) -> bool:
    """Sweep the journal's whole lines from where the last sweep of it stopped, a few
    megabytes at a time (a journal as long as a 50,000-step run is held in no buffer)."""
    done = _JOURNALS_SWEPT.setdefault(redactor, {})
    fd, info = _open(path)
    learned = False
    try:
        where = (str(path), info.st_ino)
        start = done.get(where, 0)
        while start < info.st_size:
            data = os.pread(fd, min(SWEEP_CHUNK, info.st_size - start), start)
            whole = data.rfind(b"\n") + 1
            if not whole:  # a line longer than a chunk, or the line still being written
                data = os.pread(fd, min(MAX_READ_BYTES, info.st_size - start), start)
                whole = data.rfind(b"\n") + 1
                if not whole:
                    break  # no reader reads a line that long
            learned = sweep_lines(data, 0, whole, redactor) or learned
            start += whole
            done[where] = start
    finally:
        os.close(fd)
    return learned


def _lstat(path: Path) -> os.stat_result | None:
    try:
        info = os.lstat(path)
    except OSError:
        return None
    return info if stat.S_ISREG(info.st_mode) else None


def _lstat_key(path: Path) -> FileKey | None:
    info = _lstat(path)
    return _key(info) if info is not None else None
