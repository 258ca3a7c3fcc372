"""Forking an agent: a new folder whose conversation is the original's up to step N.

The fork is built from the original's journal, not from its state file: the state file holds
only where the agent stands now, the journal every step before it. The journal's records up
to step N (from the task that began that conversation) are copied into the fork's journal,
folded by the one replay (:func:`agent_tui.format.replay.apply`) into the fork's state file,
and closed by an ``end`` record, so ``load()``, resume, ``diff --steps`` and the runs view read
the fork as they read any agent. The fork's ``config.json`` holds the original's settings
under the fork's own name and id, and ``"forked_from": {"agent_id", "folder", "step"}`` in its
``_autosave_metadata``.

The original is only read, through the format's safe readers (a link, a FIFO or a device in its
folder is refused, never followed or waited on); the fork is a folder made here with
``mkdir`` (never an existing one), written with the format's atomic writes, config last. What
the original holds is redacted already; the fork is redacted again on the way out (a replaced
message may carry a secret), never unmasked.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent_tui.agent.autosaver import Autosaver
from agent_tui.agent.events import Events
from agent_tui.agent.home import Home
from agent_tui.agent.run_state import RunState, now
from agent_tui.format import replay
from agent_tui.format.journal import read_journal
from agent_tui.format.layout import (
    CONFIG_NAME,
    JOURNAL_NAME,
    SETTLED,
    Format,
    Kind,
    Status,
)
from agent_tui.format.naming import agent_folder_name, stable_agent_id, state_file_name
from agent_tui.format.persistence import (
    FOLDER_FLAGS,
    atomic_write_bytes,
    dumps,
    open_folder,
    read_json_object,
)
from agent_tui.redaction import Redactor
from agent_tui.settings import agents_dir
from agent_tui.workspace.folder import read_agent
from agent_tui.workspace.history import step_history

__all__ = ["Fork", "ForkError", "existing_agent", "fork_agent"]

# How many default names (``NAME-fork``, ``NAME-fork-2``, ...) are tried before giving up.
MAX_FORK_NAMES = 1000


class ForkError(Exception):
    """The folder cannot be forked at that step (swarms, broken, no journal, no such step, a
    name in use). Nothing was written."""


@dataclass(frozen=True)
class Fork:
    """A fork just written: its folder, its identity and where it came from."""

    folder: Path
    agent_name: str
    agent_id: str
    # {"agent_id", "folder", "step"}, as the fork's config metadata holds it.
    forked_from: dict[str, Any]
    messages: int  # how many messages its conversation holds


def existing_agent(name: str, workspace_dir: str | os.PathLike[str] | None = None) -> Path | None:
    """The folder that ``Agent(agent_name=name)`` would run in (its name's derived folder under
    ``workspace_dir``, default the environment's), when it exists already; ``None`` when the
    name is free. A new task under a name in use asks first (continue that agent, start a new
    one beside it, cancel): the app and ``agent-tui run`` call this before starting a run, and
    a fork's default name skips the names it finds. Reads nothing but one ``lstat``."""
    return _in_use(agents_dir(workspace_dir), name)


def _in_use(agents: Path, name: str) -> Path | None:
    folder = agents / agent_folder_name(name, stable_agent_id(name))
    return folder if os.path.lexists(folder) else None


def fork_agent(
    source: str | os.PathLike[str],
    step: int,
    *,
    name: str | None = None,
    message: str | None = None,
) -> Fork:
    """Write a new agent folder beside ``source`` (an agent folder of ours) whose conversation,
    tool results, memory and usage are the source's after step ``step`` (0: the system prompt
    and the first task, before any model step).

    ``name``: the fork's agent name (default ``NAME-fork``, then ``NAME-fork-2``, ... while
    one is in use; a name given that is in use is refused). ``message``: the text that replaces
    the last user message up to that step. The fork's id derives from its name, as a new
    agent's does, so ``Agent(agent_name=fork_name)`` finds it again.

    Raises :class:`ForkError` (a swarms or broken folder, no journal to fork from, a step not
    in it: the message names the last step, a name in use) or
    :class:`~agent_tui.format.persistence.WorkspaceFileError` (a file of the source that is
    not safe to read); in both cases nothing was written. The source is never modified.
    """
    if not isinstance(step, int) or isinstance(step, bool) or step < 0:
        raise ForkError(f"the step must be a whole number >= 0, got {step!r}")
    if message is not None and not message.strip():
        raise ForkError("the replacement message is empty: say what the user asks instead")
    source = Path(os.path.abspath(source))
    config = _source_config(source)
    settings = {k: v for k, v in config.items() if k != "_autosave_metadata"}
    meta: dict[str, Any] = config["_autosave_metadata"]  # an object: _source_config checked
    source_name = _text(settings.get("agent_name")) or _text(meta.get("agent_name")) or "agent"
    source_id = _text(meta.get("agent_id")) or _text(settings.get("agent_id"))
    records = _records_to(source, step)
    if message is not None:
        _replace_last_user_message(records, message, step, source)
    rebuilt = replay.Replay()
    for record in records:
        replay.apply(rebuilt, record)
    forked_from = {"agent_id": source_id, "folder": str(source), "step": step}
    if records[-1].get("kind") != Kind.END:
        records.append(
            {
                "seq": records[-1]["seq"] + 1,
                "kind": Kind.END,
                "ts": now(),
                "run_id": records[-1].get("run_id"),
                "loop_count": step,
                "status": Status.COMPLETED,
                "error": None,
                "forked_from": forked_from,
            }
        )
        replay.apply(rebuilt, records[-1])
    redactor = Redactor()
    redactor.learn(config)
    status = rebuilt.status if rebuilt.status in SETTLED else Status.COMPLETED
    state = RunState(
        conversation=rebuilt.conversation,
        tool_results=rebuilt.tool_results,
        memory=rebuilt.memory,
        usage=replay.usage_of(rebuilt.usage),
        status=status,
        error=rebuilt.error if status == Status.ERROR else None,
        loop_count=step,
        task=rebuilt.task,
        tasks=rebuilt.tasks,
        journal_seq=records[-1]["seq"],
    )

    def documents(agent_name: str, agent_id: str) -> dict[str, bytes]:
        # The documents an agent of that name and id would autosave, by the one owner of
        # their layout (the autosaver), plus where the fork came from.
        own = {**settings, "agent_name": agent_name}
        if "agent_id" in own:
            own["agent_id"] = agent_id
        home = Home(agent_name, agent_id, None)
        saver = Autosaver(True, home, state, redactor, Events(None, False), lambda: own)
        config_document = saver.config_document()
        config_document["_autosave_metadata"]["forked_from"] = forked_from
        journal = b"".join(dumps(redactor.redact(r), indent=False) + b"\n" for r in records)
        # In the order written: the config last, so a reader that sees it sees a whole agent.
        return {
            JOURNAL_NAME: journal,
            state_file_name(agent_name): dumps(redactor.redact(saver.state_document())),
            CONFIG_NAME: dumps(config_document),
        }

    folder, agent_name, agent_id = _write_new_folder(
        source.parent, _names(source_name, name, source.parent), documents
    )
    return Fork(folder, agent_name, agent_id, forked_from, len(rebuilt.conversation))


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _source_config(source: Path) -> dict[str, Any]:
    """The source's ``config.json``, when the source is a readable agent folder of ours."""
    record = read_agent(source)
    if record.format == Format.SWARMS:
        raise ForkError(
            f"{source} is a swarms workspace: swarms folders cannot be forked yet (they keep "
            "no per-step history); resume it instead"
        )
    if record.format != Format.OURS or record.status == Status.BROKEN:
        problem = "; ".join(record.problems) or "not an agent folder of agent-tui"
        raise ForkError(f"{source} cannot be forked: {problem}")
    # Read again through the safe reader: what read_agent saw may have been swapped since.
    config = read_json_object(source / CONFIG_NAME)
    if not isinstance(config.get("_autosave_metadata"), dict):
        raise ForkError(f"{source / CONFIG_NAME} cannot be forked: no _autosave_metadata")
    return config


def _records_to(source: Path, step: int) -> list[dict[str, Any]]:
    """The journal records of the conversation that step ``step`` belongs to, from the task
    that began it to the record where that step stands (the per-step history says which)."""
    journal = read_journal(source / JOURNAL_NAME)
    records = [r for r in journal.records if replay.seq_of(r) is not None]
    if not records or not replay.starts_afresh(records[0]):
        detail = "; ".join(journal.problems) or (
            "it does not begin with the first task" if records else "no journal.jsonl"
        )
        raise ForkError(f"{source} cannot be forked by step: {detail}")
    history = step_history(source)
    known = history.loop_counts
    if step not in known:
        if known and step > known[-1]:
            raise ForkError(
                f"step {step} is beyond the end of {source.name}: its last step is {known[-1]}"
            )
        raise ForkError(f"step {step} is not in the history of {source.name} (steps {known})")
    seq = history.snapshot(step).seq
    kept = [r for r in records if seq is not None and r["seq"] <= seq]
    starts = [i for i, r in enumerate(kept) if replay.starts_afresh(r)]
    if not starts:  # the journal was replaced between the two reads
        raise ForkError(f"the journal of {source} changed while it was read; try again")
    return kept[starts[-1] :]


def _replace_last_user_message(
    records: list[dict[str, Any]], message: str, step: int, source: Path
) -> None:
    """Give the last user message of ``records`` the text ``message`` (and the task record that
    carries it, its task): the fork's conversation, its history and its task agree."""
    for record in reversed(records):
        for part in reversed(replay.messages_of(record)):
            if part.get("role") == "user":
                if record.get("kind") == Kind.TASK and record.get("task") == part.get("content"):
                    record["task"] = message
                part["content"] = message
                return
    raise ForkError(f"{source.name} has no user message up to step {step} to replace")


def _names(source_name: str, name: str | None, agents: Path) -> Iterator[tuple[str, str]]:
    """The (name, id) the fork may take, in order: the one given, or the default ones not in
    use. A name in use is never a fork's: its folder belongs to another agent."""
    if name is not None:
        if not name.strip():
            raise ForkError("the fork's name is empty")
        taken = _in_use(agents, name)
        if taken is not None:
            raise ForkError(f"an agent named {name!r} exists already ({taken}); choose another")
        yield name, stable_agent_id(name)
        return
    base = f"{source_name}-fork"
    for candidate in (base, *(f"{base}-{n}" for n in range(2, MAX_FORK_NAMES + 1))):
        if _in_use(agents, candidate) is None:
            yield candidate, stable_agent_id(candidate)


Documents = Callable[[str, str], dict[str, bytes]]


def _write_new_folder(
    agents: Path, names: Iterator[tuple[str, str]], documents: Documents
) -> tuple[Path, str, str]:
    """Make the first of ``names`` whose folder does not exist yet (``mkdir`` decides: two
    forks at once never share a folder) and write ``documents(name, id)`` into it; a write
    that fails removes the folder again."""
    agents_fd = open_folder(agents)
    try:
        for agent_name, agent_id in names:
            folder_name = agent_folder_name(agent_name, agent_id)
            try:
                os.mkdir(folder_name, 0o755, dir_fd=agents_fd)
            except FileExistsError:
                continue
            written: list[str] = []
            fd = None
            try:
                fd = os.open(folder_name, FOLDER_FLAGS, dir_fd=agents_fd)  # O_NOFOLLOW in it
                for file_name, data in documents(agent_name, agent_id).items():
                    written.append(file_name)
                    atomic_write_bytes(agents / folder_name / file_name, data, dir_fd=fd)
            except BaseException:
                for file_name in written if fd is not None else ():
                    try:
                        os.unlink(file_name, dir_fd=fd)
                    except OSError:
                        pass
                if fd is not None:
                    os.close(fd)
                os.rmdir(folder_name, dir_fd=agents_fd)
                raise
            os.close(fd)
            os.fsync(agents_fd)
            return agents / folder_name, agent_name, agent_id
    finally:
        os.close(agents_fd)
    raise ForkError(f"every name the fork could take is in use in {agents}; give it a name")
