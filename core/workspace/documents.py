"""Reading an agent's documents whole: ``config.json``, the state file, the conversation.

The conversation of ours is the state file's plus the journal records after its
``journal_seq``, replayed by :mod:`agent_tui.format.replay` as ``Agent.load()`` does; swarms'
is ``short_memory`` of ``config.json``. A view that shows a window of a long run reads through
:mod:`agent_tui.workspace.detail` instead.
"""

from __future__ import annotations

import os
from pathlib import Path

from agent_tui.format import replay
from agent_tui.format.journal import read_journal
from agent_tui.format.layout import CONFIG_NAME, JOURNAL_NAME, Format, Layout
from agent_tui.format.persistence import WorkspaceFileError, read_json_object
from agent_tui.format.swarms import normalize_message, swarms_messages
from agent_tui.workspace.folder import read_agent
from agent_tui.workspace.record import AgentRecord
from agent_tui.workspace.status import whole_number
from agent_tui.workspace.structures import structure_conversation

# typing costs 3 ms of start-up and is needed only by type checkers here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def load_config(folder: os.PathLike[str] | str) -> dict[str, Any]:
    """The folder's ``config.json`` as a dict; raises :class:`WorkspaceFileError` saying why not."""
    return read_json_object(Path(folder) / CONFIG_NAME)


def load_state(folder: os.PathLike[str] | str) -> dict[str, Any] | None:
    """The folder's state file as a dict, ``None`` when there is none; raises
    :class:`WorkspaceFileError` when one exists but cannot be read."""
    record = read_agent(folder)
    return read_json_object(record.state_file) if record.state_file else None


def load_conversation(folder: os.PathLike[str] | str) -> list[dict[str, Any]]:
    """The conversation as normalized messages (see :func:`normalize_message`).

    Ours: the state file's conversation plus the journal records after its ``journal_seq`` (so
    steps completed after the last full save, even before a ``kill -9``, are included). Swarms:
    ``short_memory`` of ``config.json``; a swarms structure run's: its conversation file (see
    :func:`~agent_tui.workspace.structures.structure_conversation`). Raises
    :class:`WorkspaceFileError` when neither can be read.
    """
    folder = Path(folder)
    record = read_agent(folder)
    if record.layout == Layout.STRUCTURE:
        return [normalize_message(m) for m in structure_conversation(folder)]
    if record.layout == Layout.MEMORY:
        memory_of = record.memory_of
        raise WorkspaceFileError(folder, f"the swarms memory of {memory_of}: no conversation")
    if record.format == Format.SWARMS:
        config = load_config(folder)
        raw = swarms_messages(config, folder / CONFIG_NAME)
        return [normalize_message(m, record.name) for m in raw]
    return [normalize_message(m) for m in our_messages(record, journal_records(folder)[0])]


def journal_records(folder: Path) -> tuple[list[dict[str, Any]], list[str]]:
    journal = read_journal(folder / JOURNAL_NAME)
    # A record without a whole-number seq cannot be placed relative to the state file.
    records = [r for r in journal.records if replay.seq_of(r) is not None]
    return records, journal.problems


def our_messages(record: AgentRecord, records: list[dict[str, Any]]) -> list[Any]:
    """Raw messages: the state file's conversation, then the journal records after its
    ``journal_seq`` replayed the way ``Agent.load()`` does."""
    state: dict[str, Any] | None = None
    if record.state_file is not None:
        state = read_json_object(record.state_file)
    elif not records:
        raise WorkspaceFileError(record.folder, "no state file and no journal.jsonl to read")
    return replay_state(record, state, records).conversation


def replay_state(
    record: AgentRecord, state: dict[str, Any] | None, records: list[dict[str, Any]]
) -> replay.Replay:
    """The saved state as ``Agent.load()`` rebuilds it: ``state`` (the state file's document,
    ``None`` when there is none: the system prompt of ``config.json`` starts it), then the
    journal ``records`` after its ``journal_seq``. Raises :class:`WorkspaceFileError` when the
    state's conversation is not a list."""
    state = state or {}
    messages = state.get("conversation", [])
    if not isinstance(messages, list):
        raise WorkspaceFileError(record.state_file or record.folder, "conversation is not a list")
    rebuilt = replay.Replay(list(messages) if state else _system_from_config(record.folder))
    if isinstance(state.get("memory"), dict):
        rebuilt.memory = state["memory"]
    if isinstance(state.get("usage"), dict):
        rebuilt.usage = replay.usage_of(state["usage"])
    if isinstance(state.get("task"), str):
        rebuilt.task = state["task"]
    rebuilt.loop_count = whole_number(state.get("loop_count")) or 0
    seq = whole_number(state.get("journal_seq")) or 0
    for entry in records:
        if entry["seq"] > seq:
            replay.apply(rebuilt, entry)
    return rebuilt


def _system_from_config(folder: Path) -> list[dict[str, Any]]:
    try:
        prompt = load_config(folder).get("system_prompt")
    except WorkspaceFileError:
        return []
    return [{"role": "system", "content": prompt}] if isinstance(prompt, str) and prompt else []
