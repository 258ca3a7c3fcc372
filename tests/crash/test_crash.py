"""Crash behaviour, tested by crashing: a real child process, a real SIGKILL, then the disk."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from agent_tui import Agent
from agent_tui.format.journal import read_journal

CHILD = textwrap.dedent(
    """
    from agent_tui import Agent
    def lookup(term: str) -> str:
        '''Look a term up.'''
        return "result for " + term
    agent = Agent(model_name="offline/demo?delay=0.002&tool_steps=100000", agent_name="crashy",
                  max_loops=100000, tools=[lookup])
    agent.run("research durable storage engines")
    """
)


def _loop_count(config: Path, pid: int) -> int:
    """Completed steps the config shows for the run of process ``pid`` (-1: not that run yet)."""
    try:
        meta = json.loads(config.read_text())["_autosave_metadata"]
    except (OSError, ValueError, KeyError):
        return -1
    return meta["loop_count"] if meta.get("pid") == pid else -1


def _kill_at_random_moment(
    child_env: dict[str, str], workspace: Path, seed: int
) -> tuple[Path, int]:
    proc = subprocess.Popen([sys.executable, "-c", CHILD], env=child_env)
    rng = random.Random(seed)
    config = None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = list((workspace / "agents").glob("*/config.json"))
        if found and _loop_count(found[0], proc.pid) >= 1:
            config = found[0]
            break
        time.sleep(0.005)
    assert config is not None, "child never completed a step"
    time.sleep(rng.uniform(0.0, 0.25))
    seen = _loop_count(config, proc.pid)  # completed steps the disk already showed before the kill
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    return config.parent, seen


def test_kill9_then_load_restores_every_completed_step(child_env, workspace: Path) -> None:
    for trial in range(3):
        folder, seen = _kill_at_random_moment(child_env, workspace, seed=trial)
        for name in ("config.json", "crashy_state.json"):
            json.loads((folder / name).read_text())  # parses: never torn
        journal = read_journal(folder / "journal.jsonl")
        last_run = journal.records[-1]["run_id"]
        steps = [
            r["loop_count"]
            for r in journal.records
            if r["kind"] == "step" and r["run_id"] == last_run
        ]
        assert steps == list(range(steps[0], steps[-1] + 1))

        agent = Agent(agent_name="crashy", max_loops=2, tools=[])
        agent.load()
        assert agent.loop_count >= seen
        assert agent.loop_count == steps[-1]
        assistants = [m for m in agent.conversation if m["role"] == "assistant"]
        assert [m["step"] for m in assistants][-agent.loop_count :] == list(
            range(1, agent.loop_count + 1)
        )[-len(assistants) :]
        assert agent.status == "interrupted"
        before = agent.loop_count
        agent.run("continue")
        assert agent.loop_count == before + 1
        state = json.loads((folder / "crashy_state.json").read_text())
        assert state["loop_count"] == before + 1 and state["status"] == "completed"
