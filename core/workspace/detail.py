"""What a view shows of one agent, typed: :class:`AgentDetail` (header, settings, a window of
the conversation, usage, problems), read by :func:`load_detail`.

A view refreshes on every autosave, and a long run's state file is large: parsing it again
each step would hold the GIL (``orjson.loads`` is one call) and stall the UI thread for as long
as it runs. So a :class:`DetailCache` keeps what was parsed, keyed by the files' identity
(inode, mtime, size). While an agent runs its state file does not change, ``config.json`` is
rewritten and ``journal.jsonl`` grows: a refresh re-reads the small config, reads only the
journal lines appended since the last read and folds them in with the one replay
(:mod:`agent_tui.format.replay`). Only the window is normalized and redacted.
"""

from __future__ import annotations

import os
import stat
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from agent_tui.format import replay
from agent_tui.format.journal import JournalRead, parse_records
from agent_tui.format.layout import CONFIG_NAME, JOURNAL_NAME, Format, Kind
from agent_tui.format.persistence import (
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

# typing costs 3 ms of start-up and is needed only by type checkers here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from agent_tui.redaction import Redactor

# How many of the last messages a view holds at first; it asks for more as the user scrolls.
DEFAULT_WINDOW = 100
# Folders whose parsed documents a cache keeps (a view shows one agent at a time).
CACHED_FOLDERS = 4


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
    ``config.json`` (``None`` when it cannot be read: ``settings_problem`` says why)."""

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
class _Conversation:
    """One folder's conversation as last read, and the files it was read from."""

    source: FileKey | None  # the state file (ours) or config.json (swarms) parsed
    journal_ino: int | None = None
    journal_end: int = 0  # bytes of the journal read (whole lines only)
    journal_lines: int = 0
    base_seq: int = 0  # records up to this seq are in the state file
    replay: replay.Replay = field(default_factory=replay.Replay)
    problems: list[str] = field(default_factory=list)
    # Only the last messages are held (``dropped`` came before them): a long run's whole
    # conversation kept alive would be thousands of objects for every garbage collection to
    # walk, on the UI's time.
    keep: int = DEFAULT_WINDOW
    dropped: int = 0

    def trim(self) -> None:
        messages = self.replay.conversation
        self.replay.tool_results = []  # no view shows them
        if len(messages) > 2 * self.keep:
            cut = len(messages) - self.keep
            del messages[:cut]
            self.dropped += cut


class DetailCache:
    """What :func:`load_detail` parsed, for the few folders read last. One per view; safe to
    share between threads: reads through one cache take turns (a read a view gave up on still
    runs to its end in its thread, and must not fold the same journal lines in twice)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._settings: OrderedDict[str, tuple[FileKey, dict[str, Any]]] = OrderedDict()
        self._conversations: OrderedDict[str, _Conversation] = OrderedDict()

    def _keep(self, table: OrderedDict, folder: str, value: Any) -> None:
        table[folder] = value
        table.move_to_end(folder)
        while len(table) > CACHED_FOLDERS:
            table.popitem(last=False)


def load_detail(
    folder: os.PathLike[str] | str,
    window: int = DEFAULT_WINDOW,
    *,
    cache: DetailCache | None = None,
    redactor: Redactor | None = None,
) -> AgentDetail:
    """Read ``folder`` into an :class:`AgentDetail` holding its last ``window`` messages
    (``window=0``: no conversation is read, only the header and settings). Never raises for
    what is on disk: what cannot be read is a problem.

    With a ``cache``, a refresh parses only what changed since the last call for the folder.
    With a ``redactor``, every document read teaches it the secrets it holds (once per parse),
    and what the detail shows is masked with all it knows: the window, the task, the memory,
    the settings, the error and the problems.
    """
    cache = cache or DetailCache()
    folder = Path(folder)
    record = read_agent(folder)
    problems = list(record.problems)
    with cache.lock:
        settings, settings_problem = _settings(record, cache, redactor)
        conversation = _Conversation(None)
        if window > 0 and record.format == Format.SWARMS:
            if settings is not None:
                conversation = _swarms_conversation(record, settings)
        elif window > 0:
            conversation = _our_conversation(record, cache, redactor, window)
        problems += conversation.problems
        state = conversation.replay
        messages = state.conversation
        start = max(0, len(messages) - window)
        agent_name = record.name if record.format == Format.SWARMS else None
        shown = [normalize_message(m, agent_name) for m in messages[start:]]
        first, total = conversation.dropped + start, conversation.dropped + len(messages)
        memory, usage = state.memory, dict(state.usage)
    detail = AgentDetail(
        folder=folder,
        name=record.name,
        agent_id=record.agent_id,
        format=record.format,
        status=record.status,
        loop_count=record.loop_count,
        model=record.model,
        last_autosave=record.last_autosave,
        error=record.error,
        task=state.task,
        memory=memory,
        settings=settings,
        settings_problem=settings_problem,
        conversation=ConversationWindow(shown, total, first),
        usage=usage,
        problems=problems,
    )
    return _masked(detail, redactor) if redactor is not None else detail


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


def _read_document(path: Path, known: tuple[FileKey, dict[str, Any]] | None) -> tuple[FileKey, Any]:
    """``(key, document)``; the one ``known`` when the file's key is the same."""
    fd, info = _open(path)
    try:
        if known is not None and known[0] == _key(info):
            return known
        return _key(info), parse_json(read_fd(fd, info.st_size, path), path)
    finally:
        os.close(fd)


def _settings(
    record: AgentRecord, cache: DetailCache, redactor: Redactor | None
) -> tuple[dict[str, Any] | None, str | None]:
    path = record.folder / CONFIG_NAME
    known = cache._settings.get(record.path)
    try:
        key, document = _read_document(path, known)
    except WorkspaceFileError as exc:
        return None, exc.reason
    if not isinstance(document, dict):
        return None, "expected a JSON object at the top level"
    if known is None or known[1] is not document:
        if redactor is not None:
            redactor.learn(document)
        cache._keep(cache._settings, record.path, (key, document))
    return document, None


def _swarms_conversation(record: AgentRecord, settings: dict[str, Any]) -> _Conversation:
    """swarms keep the conversation in ``config.json`` (already parsed for the settings)."""
    try:
        messages = swarms_messages(settings, record.folder / CONFIG_NAME)
    except WorkspaceFileError as exc:
        return _Conversation(None, problems=[f"conversation: {exc.reason}"])
    return _Conversation(None, replay=replay.Replay(conversation=messages))


def _our_conversation(
    record: AgentRecord, cache: DetailCache, redactor: Redactor | None, window: int
) -> _Conversation:
    """The state file parsed once, then the journal lines appended since the last read
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
    fresh = _read_ours(record, source, journal, redactor)
    fresh.keep = max(window, DEFAULT_WINDOW)
    fresh.trim()
    cache._keep(cache._conversations, record.path, fresh)
    return fresh


def _read_ours(
    record: AgentRecord,
    source: FileKey | None,
    journal: os.stat_result | None,
    redactor: Redactor | None,
) -> _Conversation:
    read = _Conversation(source)
    state: dict[str, Any] | None = None
    if record.state_file is not None:
        try:
            _, state = _read_document(record.state_file, None)
        except WorkspaceFileError as exc:
            read.problems.append(f"state file: {exc.reason}")
            return read
        if not isinstance(state, dict):
            read.problems.append("state file: expected a JSON object at the top level")
            return read
        if redactor is not None:
            redactor.learn(state)
    records = _appended(record, read, journal.st_ino if journal else None)
    if state is None and not records:
        read.problems.append("conversation: no state file and no journal.jsonl to read")
        return read
    if redactor is not None:
        redactor.learn(records)
    try:
        read.replay = replay_state(record, state, records)
    except WorkspaceFileError as exc:
        read.problems.append(f"conversation: {exc.reason}")
    read.base_seq = whole_number((state or {}).get("journal_seq")) or 0
    return read


def _extend(record: AgentRecord, read: _Conversation, ino: int, redactor: Redactor | None) -> None:
    records = _appended(record, read, ino)
    if redactor is not None:
        redactor.learn(records)
    for entry in records:
        if entry["seq"] > read.base_seq:
            replay.apply(read.replay, entry)
            if entry.get("kind") == Kind.TASK and entry.get("new_conversation"):
                read.dropped = 0  # the run began afresh: nothing held came before it
    read.trim()


def _appended(record: AgentRecord, read: _Conversation, ino: int | None) -> list[dict[str, Any]]:
    """The journal records in the whole lines after ``read.journal_end`` (a line still being
    written is left for the next read); moves ``read`` past them."""
    if ino is None:
        return []
    path = record.folder / JOURNAL_NAME
    try:
        fd, info = _open(path)
    except WorkspaceFileError as exc:
        read.problems.append(str(exc))
        return []
    try:
        os.lseek(fd, read.journal_end, os.SEEK_SET)
        data = read_fd(fd, max(0, info.st_size - read.journal_end), path)
    except (OSError, WorkspaceFileError) as exc:
        read.problems.append(f"{path}: {getattr(exc, 'reason', exc)}")
        return []
    finally:
        os.close(fd)
    whole = data[: data.rfind(b"\n") + 1]
    parsed: JournalRead = parse_records(whole, path, read.journal_lines + 1)
    read.journal_ino = info.st_ino
    read.journal_end += len(whole)
    read.journal_lines += whole.count(b"\n")
    read.problems += parsed.problems
    # A record without a whole-number seq cannot be placed relative to the state file.
    return [r for r in parsed.records if replay.seq_of(r) is not None]


def _lstat(path: Path) -> os.stat_result | None:
    try:
        info = os.lstat(path)
    except OSError:
        return None
    return info if stat.S_ISREG(info.st_mode) else None


def _lstat_key(path: Path) -> FileKey | None:
    info = _lstat(path)
    return _key(info) if info is not None else None
