"""Workspaces and helpers for the TUI tests: real offline runs, and a fixed-path, fixed-time
workspace for snapshots."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from workspace_fixtures import BASE_TIME, write_ours

from core import Agent
from core.persistence import atomic_write_json
from core.workspace import load_config

SNAPSHOT_ROOT = Path("/tmp/agent-tui-snapshots/ws")
SNAPSHOT_NOW = BASE_TIME + timedelta(hours=3)


def word_count(text: str) -> int:
    """Count the words in a text."""
    return len(text.split())


def run_agent(root: Path, name: str, loops: int = 2, model: str = "offline/demo") -> Path:
    """A real run of the offline model; returns the agent's folder."""
    agent = Agent(
        model_name=model, agent_name=name, max_loops=loops, tools=[word_count], workspace_dir=root
    )
    agent.run(f"count the words for {name}")
    return Path(agent._get_agent_workspace_dir())


def rewrite_config(folder: Path, **meta: object) -> None:
    """Rewrite config.json atomically, as an autosave does, with new metadata values."""
    config = load_config(folder)
    config["_autosave_metadata"].update(meta)
    atomic_write_json(folder / "config.json", config)


async def wait_until(pilot, condition: Callable[[], bool], tries: int = 100) -> bool:
    """Pause in small steps until ``condition()`` holds (at most ``tries`` x 50 ms)."""
    for _ in range(tries):
        if condition():
            return True
        await pilot.pause(0.05)
    return condition()


def snapshot_workspace() -> Path:
    """Deterministic workspace at a fixed path: fixed names, contents, times and mtimes."""
    if SNAPSHOT_ROOT.exists():
        shutil.rmtree(SNAPSHOT_ROOT)
    write_ours(SNAPSHOT_ROOT, "alpha", loop_count=3)
    write_ours(SNAPSHOT_ROOT, "beta", status="error", loop_count=2)
    write_ours(SNAPSHOT_ROOT, "gamma", status="interrupted", loop_count=1)
    write_ours(SNAPSHOT_ROOT, "old-report", loop_count=5, timestamp=BASE_TIME - timedelta(days=40))
    broken = SNAPSHOT_ROOT / "agents" / "half-written"
    broken.mkdir()
    (broken / "config.json").write_bytes(b'{"agent_name": "cut", "_autosave_metadata": {"loop')
    stamp = BASE_TIME.timestamp()
    for folder, _, files in os.walk(SNAPSHOT_ROOT):
        for name in files:
            os.utime(Path(folder) / name, (stamp, stamp))
    return SNAPSHOT_ROOT
