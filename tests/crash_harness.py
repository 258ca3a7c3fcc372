"""Kill -9 trials: start a real agent process, SIGKILL it at a random moment, check the disk.

Used by tests/test_kill9.py (a few dozen trials) and bench/crash.py (a thousand). The child
writes ~100 KB files (a large system prompt makes every config.json rewrite large; each tool
returns ~100 KB, so every journal line is large) through a deliberately slow writer (16 KB per
call, 2 ms apart), so that most kills land inside a write.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

CHILD = """
import os, sys, time
import agent_tui.journal, agent_tui.persistence
from agent_tui import Agent

class SlowWrites:
    # Writes go out 16 KB at a time with a pause, so a kill often lands inside one.
    def __getattr__(self, name):
        return getattr(os, name)

    def write(self, fd, data):
        time.sleep(0.002)
        return os.write(fd, bytes(data[:16384]))

    def pwrite(self, fd, data, offset):
        time.sleep(0.002)
        return os.pwrite(fd, bytes(data[:16384]), offset)

agent_tui.persistence.os = agent_tui.journal.os = SlowWrites()

def fetch(term: str) -> str:
    \'\'\'Fetch a large document.\'\'\'
    return (term + " ") * 8000

def on_event(event):
    if event.kind == "step_end":
        print("STEP", event.data["step"], flush=True)

agent = Agent(model_name="offline/demo?tool_steps=100000", agent_name="crash-trial",
              max_loops=100000, tools=[fetch], system_prompt="Be thorough. " * 8000,
              on_event=on_event)
print("READY", flush=True)
agent.run("collect every document about write-ahead logging")
"""


@dataclass
class TrialResult:
    seed: int
    killed_after_s: float
    reported_steps: int  # steps the child had announced as completed before the kill
    restored_steps: int  # steps load() restored afterwards
    corrupt_files: list[str]
    resumed: bool
    problem: str = ""
    temp_files_left: int = 0  # a kill landed inside an atomic write (tmp written, not renamed)
    torn_journal_tail: bool = False  # a kill landed inside a journal append

    @property
    def steps_lost(self) -> int:
        return max(0, self.reported_steps - self.restored_steps)


def run_trial(workspace: Path, seed: int, max_delay: float = 0.5) -> TrialResult:
    """One trial in its own workspace root (which must not exist yet or be empty)."""
    rng = random.Random(seed)
    env = dict(os.environ)
    env.update(WORKSPACE_DIR=str(workspace), PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD], env=env, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "READY"
    delay = rng.uniform(0.0, max_delay)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    reported = 0
    for line in proc.stdout.read().splitlines():
        if line.startswith("STEP "):
            reported = int(line.split()[1])
    proc.stdout.close()
    return check_disk(workspace, seed, delay, reported)


def check_disk(workspace: Path, seed: int, delay: float, reported: int) -> TrialResult:
    from agent_tui import Agent
    from agent_tui.agent import StateFileError

    result = TrialResult(seed, delay, reported, 0, [], False)
    folders = list((workspace / "agents").glob("*")) if (workspace / "agents").exists() else []
    for folder in folders:
        for path in folder.iterdir():
            if path.name.endswith(".tmp"):
                result.temp_files_left += 1
            elif path.suffix == ".json":
                try:
                    json.loads(path.read_bytes())
                except ValueError:
                    result.corrupt_files.append(str(path))
            elif path.name == "journal.jsonl":
                lines = path.read_bytes().split(b"\n")
                result.torn_journal_tail = lines[-1] != b""
                # Only the last line may be torn (the append in flight); a reader skips it.
                for line in lines[:-2]:
                    try:
                        json.loads(line)
                    except ValueError:
                        result.corrupt_files.append(f"{path} (middle line)")
    agent = Agent(agent_name="crash-trial", max_loops=1, workspace_dir=workspace)
    try:
        agent.load()
    except StateFileError as exc:
        if reported:
            result.problem = f"load failed after {reported} steps: {exc}"
        return result
    result.restored_steps = agent.loop_count
    before = agent.loop_count
    agent.run("continue")
    result.resumed = agent.loop_count == before + 1
    if not result.resumed:
        result.problem = f"resume went from {before} to {agent.loop_count}"
    leftovers = [p for f in folders for p in f.iterdir() if p.name.endswith(".tmp")]
    if leftovers:
        result.problem = f"resume left stale temp files: {leftovers}"
    return result
