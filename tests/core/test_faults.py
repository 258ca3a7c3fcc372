"""Storage faults injected at the OS-call level: the old file stays intact, the run goes on,
the failure is reported clearly, and the next good write recovers everything."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

import agent_tui.format.journal
import agent_tui.format.persistence
from agent_tui import Agent
from agent_tui.agent import AgentEvent

REAL_OS = os


class FaultyOS:
    """Stands in for the ``os`` module inside agent_tui.format.persistence and agent_tui.format.journal; while
    ``active``, the named calls fail with ``err``."""

    def __init__(self, calls: set[str], err: int) -> None:
        self.calls = calls
        self.err = err
        self.active = False
        self.failures = 0

    def __getattr__(self, name: str):
        real = getattr(REAL_OS, name)
        if name not in self.calls:
            return real

        def faulty(*args, **kwargs):
            if self.active:
                self.failures += 1
                raise OSError(self.err, os.strerror(self.err))
            return real(*args, **kwargs)

        return faulty


def lookup(term: str) -> str:
    """Look a term up."""
    return f"facts about {term}"


FAULTS = [
    ({"open"}, errno.EROFS),  # read-only file system: no temp file can be created
    ({"open"}, errno.EACCES),
    ({"write", "pwrite"}, errno.ENOSPC),
    ({"write", "pwrite"}, errno.EIO),
    ({"fsync", "fdatasync"}, errno.EIO),
    ({"replace"}, errno.EACCES),
]


@pytest.mark.parametrize(("calls", "err"), FAULTS, ids=lambda v: str(v))
def test_storage_fault_mid_run(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, capsys, calls: set[str], err: int
) -> None:
    faulty = FaultyOS(calls, err)
    monkeypatch.setattr(agent_tui.format.persistence, "os", faulty)
    monkeypatch.setattr(agent_tui.format.journal, "os", faulty)
    seen_during_fault: list[int] = []
    agent = Agent(
        model_name="offline/demo?tool_steps=4", agent_name="faulty", max_loops=10, tools=[lookup]
    )
    config = Path(agent._get_agent_workspace_dir()) / "config.json"

    def on_event(event: AgentEvent) -> None:
        if event.kind != "step_end":
            return
        step = event.data["step"]
        agent.flush_autosave()  # the step's config rewrite is done (or failed) before we look
        if step == 1:
            faulty.active = True
        elif step in (2, 3):
            # The file on disk is still the last good one, whole.
            seen_during_fault.append(
                json.loads(config.read_text())["_autosave_metadata"]["loop_count"]
            )
            if step == 3:
                faulty.active = False

    agent.on_event = on_event
    answer = agent.run("research storage failures")

    assert answer and agent.status == "completed" and agent.loop_count == 5
    assert faulty.failures > 0 and agent.autosave_failures > 0
    assert seen_during_fault == [1, 1]
    err_text = capsys.readouterr().err
    assert "FAILED to write" in err_text and os.strerror(err) in err_text
    meta = json.loads(config.read_text())["_autosave_metadata"]
    assert meta["loop_count"] == 5 and meta["status"] == "completed"
    folder = config.parent
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]
    restored = Agent(agent_name="faulty", tools=[lookup])
    restored.load()
    assert restored.loop_count == 5
    assert restored.conversation == agent.conversation
    lines = (folder / "journal.jsonl").read_bytes().split(b"\n")
    assert lines[-1] == b"" and all(json.loads(line) for line in lines[:-1])
