"""Workspaces and helpers for the TUI tests: real offline runs, and a fixed-path, fixed-time
workspace for snapshots."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from workspace_fixtures import BASE_TIME, write_ours

from agent_tui import Agent
from agent_tui.persistence import atomic_write_json
from agent_tui.workspace import load_config

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


async def wait_until(pilot, condition: Callable[[], bool], tries: int = 300) -> bool:
    """Pause in small steps until ``condition()`` holds (at most ``tries`` x 50 ms: generous,
    so a loaded machine is not a failure; a passing test returns at once)."""
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


def recorded_run(root: Path) -> list[dict]:
    """A run's JSON lines as ``agent_tui.runner`` prints them, cut mid-run (step 3 streaming), with
    fixed sizes and times so a snapshot of the run pane is stable."""
    folder = str(root / "agents" / "live-demo-4b1c1d5a6f0e")

    def saved(file: str, size: int, ms: float) -> dict:
        data = {"file": file, "path": f"{folder}/{file}", "bytes": size, "ms": ms}
        return {"type": "event", "kind": "autosave", "data": data}

    def step(n: int, tool: str, args: str, result: str, usage: tuple[int, int]) -> list[dict]:
        return [
            {"type": "event", "kind": "step_start", "data": {"step": n, "loop": n, "max_loops": 8}},
            {"type": "text", "text": f"Step {n}: I will call {tool} to learn more about "},
            {"type": "text", "text": "fsync rename. "},
            {"type": "event", "kind": "tool_call", "data": {"step": n, "name": tool, "arguments": args}},
            {"type": "event", "kind": "tool_result",
             "data": {"step": n, "name": tool, "result": result, "is_error": False}},
            saved("journal.jsonl", 760 + n * 180, 0.8),
            saved("config.json", 1710, 0.9),
            {"type": "event", "kind": "step_end",
             "data": {"step": n, "loop": n, "max_loops": 8, "tool_calls": 1,
                      "usage": {"prompt_tokens": usage[0], "completion_tokens": usage[1], "cost": 0.0}}},
        ]  # fmt: skip

    task = "Explain how fsync, rename and a journal keep an agent's work safe"
    return [
        {"type": "start", "pid": 4242, "folder": folder, "agent_name": "live-demo",
         "model": "offline/demo?delay=0.08&tool_steps=7", "loop_count": 0, "max_loops": 8,
         "resumed": False, "messages": 0, "task": task},
        {"type": "event", "kind": "run_start", "data": {"task": task, "max_loops": 8, "loop_count": 0}},
        saved("journal.jsonl", 512, 0.7),
        saved("live-demo_state.json", 2144, 1.1),
        saved("config.json", 1708, 0.9),
        *step(1, "word_count", '{"text": "fsync rename journal"}', "3", (34, 16)),
        *step(2, "lookup_fact", '{"topic": "fsync rename journal"}',
              "fsync flushes a file's data and metadata to stable storage.", (92, 32)),
        {"type": "event", "kind": "step_start", "data": {"step": 3, "loop": 3, "max_loops": 8}},
        {"type": "text", "text": "Working through fsync rename journal step by step. The tools "},
        {"type": "text", "text": "reported: 3; fsync flushes a file's data and metadata"},
    ]  # fmt: skip
