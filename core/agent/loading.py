"""Reading a saved agent back: the state file (ours or a swarms one), validated, then every
journal record written after it, through the one replay (:mod:`agent_tui.format.replay`)."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import Any

from agent_tui.agent.home import Home
from agent_tui.agent.run_state import RunState, memory_bytes
from agent_tui.format import replay
from agent_tui.format.journal import read_journal
from agent_tui.format.layout import CONFIG_NAME, JOURNAL_NAME, SCHEMA_VERSION, Format, Status
from agent_tui.format.naming import state_file_name
from agent_tui.format.persistence import StateFileError, WorkspaceFileError, read_json_object
from agent_tui.format.swarms import swarms_state
from agent_tui.redaction import Redactor


def load(
    home: Home,
    state: RunState,
    redactor: Redactor,
    path: str | os.PathLike[str] | None,
    *,
    verbose: bool,
) -> None:
    """Restore ``state`` from ``path`` (a state file or an agent's folder; default: the
    agent's own) and the journal after it; a folder of ours becomes the agent's home.

    Raises :class:`StateFileError` naming the file and the reason; the file is never modified.
    """
    if path is not None and os.path.isdir(path) and not os.path.islink(path):
        if not _is_agent_folder(Path(path)):
            raise StateFileError(path, "not an agent folder (no config.json)")
        home.adopt(Path(path))
        path = None
    if path is None:
        folder = home.find()
        target = folder / state_file_name(home.agent_name)
        if not target.exists() and not (folder / JOURNAL_NAME).exists():
            raise StateFileError(
                target, "no saved state for this agent yet: run it first or pass a path"
            )
    else:
        target = Path(path)
        folder = target.parent
    document = _read_state(target, redactor) if target.exists() or path is not None else {}
    if path is not None and document.get("format") == Format.OURS and _is_agent_folder(folder):
        # The folder is the agent's identity: saves and runs go back to where it was read.
        home.adopt(folder)
    _restore(state, document)
    journal = read_journal(folder / JOURNAL_NAME)
    base = int(document.get("journal_seq") or 0)
    if document.get("format", Format.OURS) == Format.OURS:
        for record in journal.records:
            if isinstance(record.get("seq"), int) and record["seq"] > base:
                _replay(state, record)
    for problem in journal.problems:
        if verbose:
            print(f"[load] {problem}", file=sys.stderr)
    state.journaled_memory = memory_bytes(state.memory)
    state.loaded_seq = state.journal_seq


def catch_up(state: RunState, folder: Path, last_seq: int, verbose: bool) -> None:
    """A state loaded before another process ran more steps is stale: replay the journal
    records written since, so the run continues after them instead of dropping them."""
    if state.loaded_seq is None or last_seq <= state.journal_seq:
        return
    missed = [
        r
        for r in read_journal(folder / JOURNAL_NAME).records
        if isinstance(r.get("seq"), int) and r["seq"] > state.journal_seq
    ]
    for record in missed:
        _replay(state, record)
    state.journaled_memory = memory_bytes(state.memory)
    if verbose or missed:
        print(
            f"[load] the journal of {folder} moved on since load(): "
            f"{len(missed)} newer record(s) replayed before this run",
            file=sys.stderr,
        )


def _read_state(path: Path, redactor: Redactor) -> dict[str, Any]:
    try:
        document = read_json_object(path)
    except WorkspaceFileError as exc:
        raise StateFileError(exc.path, exc.reason) from None
    # Every secret of a foreign file (swarms keeps llm_api_key in plain text, in its config
    # and its state file) is learned before any of it is copied into a file of ours.
    redactor.learn(document)
    if "short_memory" in document or document.get("format") is None:
        for beside in _swarms_documents(path.parent):
            redactor.learn(beside)
        return swarms_state(document, path)
    if document.get("format") != Format.OURS:
        raise StateFileError(path, f"unknown format {document.get('format')!r}")
    version = document.get("schema_version")
    if not isinstance(version, int):
        raise StateFileError(path, "schema_version is missing or not a number")
    if version > SCHEMA_VERSION:
        raise StateFileError(
            path,
            f"written by a newer agent-tui (schema {version} > {SCHEMA_VERSION}); "
            "upgrade agent-tui to load it",
        )
    conversation = document.get("conversation", [])
    if not isinstance(conversation, list) or not all(
        isinstance(m, dict) and isinstance(m.get("role"), str) for m in conversation
    ):
        raise StateFileError(path, "conversation is not a list of messages with roles")
    return document


def _restore(state: RunState, document: dict[str, Any]) -> None:
    def pick(key: str, kind: type, default: Any) -> Any:
        value = document.get(key, default)
        return value if isinstance(value, kind) else default

    state.conversation = list(pick("conversation", list, []))
    state.tool_results = list(pick("tool_results", list, []))
    state.memory = dict(pick("memory", dict, {}))
    state.task = pick("task", str, None)
    state.tasks = list(pick("tasks", list, []))
    state.loop_count = pick("loop_count", int, 0)
    state.usage = replay.usage_of(pick("usage", dict, {}))
    state.status = pick("status", str, Status.IDLE)
    state.error = pick("error", str, None)
    state.journal_seq = max(state.journal_seq, int(document.get("journal_seq") or 0))


def _replay(state: RunState, record: dict[str, Any]) -> None:
    replay.apply(state, record)
    state.journal_seq = max(state.journal_seq, replay.seq_of(record) or 0)


def _is_agent_folder(folder: Path) -> bool:
    """A folder that holds an agent (its config), not a loose folder with a state file in it."""
    try:
        return stat.S_ISREG(os.lstat(folder / CONFIG_NAME).st_mode)
    except OSError:
        return False


def _swarms_documents(folder: Path) -> list[dict[str, Any]]:
    """The swarms config and state file of ``folder`` that can be read (for their secrets)."""
    from agent_tui.workspace import read_agent

    paths = [folder / CONFIG_NAME]
    try:
        state = read_agent(folder).state_file
    except (OSError, WorkspaceFileError):
        state = None
    if state is not None:
        paths.append(state)
    documents = []
    for path in paths:
        try:
            documents.append(read_json_object(path))
        except (OSError, WorkspaceFileError):
            pass
    return documents
