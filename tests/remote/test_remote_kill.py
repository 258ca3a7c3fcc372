"""Runs on an s3:// root killed with SIGKILL (moto on loopback): every completed step is in
the store and comes back with load() on another machine; the dead run's lease expires and
reads as interrupted; the next run takes the agent over and goes on with the sequence; a second
writer while the first is alive is refused."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from agent_tui import Agent
from agent_tui.store import lease as lease_module
from agent_tui.store.mirror import Mirror
from agent_tui.store.s3 import S3Objects
from agent_tui.workspace import read_agent

# Long enough that the reads between a kill and the "still running" check (a listing of every
# step object, a mirror's sync) fit in it on a loaded machine: at 1.5 s they did not, 1 run in 7.
TTL = 3.0

CHILD = """
import sys
from agent_tui import Agent
def lookup(n: int) -> int:
    '''Look a number up.'''
    return n
Agent(agent_name="long", model_name="offline/demo?delay=0.005&tool_steps=100000",
      max_loops=100000, tools=[lookup], workspace_dir=sys.argv[1]).run("keep going")
"""


@pytest.fixture
def env(s3_root: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("AGENT_TUI_CACHE_DIR", str(tmp_path / "reader-cache"))
    monkeypatch.setattr(lease_module, "CLOCK_SLACK_S", 0.0)
    return {
        **os.environ,
        "AGENT_TUI_CACHE_DIR": str(tmp_path / "writer-cache"),
        "AGENT_TUI_LEASE_TTL": str(TTL),
    }


def start(root: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, root],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def step_records(root: str) -> list[dict]:
    objects = S3Objects(root)
    records = []
    for info in objects.list("agents/"):
        if "/journal/" in info.key:
            got = objects.get(info.key)
            if got is not None:
                records.append(orjson.loads(got[0]))
        elif info.key.endswith("/journal.jsonl"):
            got = objects.get(info.key)
            if got is not None:
                records += [orjson.loads(line) for line in got[0].splitlines() if line.strip()]
    return sorted(records, key=lambda r: r["seq"])


def wait_for_steps(root: str, at_least: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        keys = [i.key for i in S3Objects(root).list("agents/") if "/journal/" in i.key]
        if len(keys) >= at_least:
            return
        time.sleep(0.05)
    raise AssertionError(f"fewer than {at_least} journal objects after {timeout} s")


@pytest.mark.parametrize("after", [1, 4, 9])
def test_kill_9_loses_no_completed_step_and_the_next_run_takes_over(
    s3_root: str, env: dict[str, str], after: int
) -> None:
    child = start(s3_root, env)
    try:
        wait_for_steps(s3_root, after + 1)  # the task record and `after` steps at least
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    stored = step_records(s3_root)
    completed = max(r["loop_count"] for r in stored if r["kind"] == "step")
    assert completed >= after

    mirror = Mirror(s3_root)  # another machine
    mirror.sync()
    (folder,) = (mirror.folder / "agents").iterdir()
    assert read_agent(folder).status == "running"  # its lease is still live
    agent = Agent(agent_name="long", workspace_dir=s3_root)
    agent.load(folder)
    assert agent.loop_count == completed
    time.sleep(TTL + 0.1)  # past the lease's time to live
    mirror.sync()
    record = read_agent(folder)
    assert record.status == "interrupted" and "process died mid-run" in record.problems
    mirror.close()

    # The next run of the agent takes it over and goes on from where the store is.
    again = Agent(agent_name="long", model_name="offline/demo", workspace_dir=s3_root)
    again.load(folder)
    again.run("finish up")
    seqs = [r["seq"] for r in step_records(s3_root)]
    assert seqs == sorted(set(seqs)) and seqs == list(range(1, len(seqs) + 1))
    assert len(seqs) > len(stored)
    assert again.loop_count > completed


@pytest.mark.parametrize("seed", [14, 7, 19, 42])
def test_kill_9_at_a_random_moment_leaves_a_store_that_loads(
    s3_root: str, env: dict[str, str], seed: int
) -> None:
    """Killed at a moment drawn from the run's whole span, start-up included (before the lease,
    between a step object and config.json, mid-request): the store holds one unbroken sequence,
    and load() on another machine's mirror comes back at the last step stored."""
    delay = random.Random(seed).uniform(0.05, 2.5)
    child = start(s3_root, env)
    try:
        time.sleep(delay)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    stored = step_records(s3_root)
    seqs = [r["seq"] for r in stored]
    assert seqs == list(range(1, len(seqs) + 1)), (delay, seqs)
    mirror = Mirror(s3_root)
    mirror.sync()
    folders = (
        list((mirror.folder / "agents").iterdir()) if (mirror.folder / "agents").is_dir() else []
    )
    steps = [r["loop_count"] for r in stored if r["kind"] == "step"]
    if not stored:  # killed before the first record: nothing to load, nothing broken
        assert all(read_agent(f).status != "completed" for f in folders)
        return
    (folder,) = folders
    agent = Agent(agent_name="long", workspace_dir=s3_root)
    agent.load(folder)
    assert agent.loop_count == (max(steps) if steps else 0), (delay, len(stored))
    mirror.close()


def test_a_second_writer_is_refused_while_the_first_is_alive(
    s3_root: str, env: dict[str, str]
) -> None:
    first = start(s3_root, env)
    try:
        wait_for_steps(s3_root, 3)
        second = start(s3_root, env)
        _, err = second.communicate(timeout=60)
        assert second.returncode != 0
        assert "in use by another live process" in err
        before = len(step_records(s3_root))
        wait_for_steps(s3_root, before + 2)  # the first goes on writing
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    seqs = [r["seq"] for r in step_records(s3_root)]
    assert seqs == list(range(1, len(seqs) + 1))  # one writer's records, no gap, no repeat


def test_a_writer_that_wakes_after_a_takeover_is_refused(s3_root: str, env: dict[str, str]) -> None:
    late = start(s3_root, env)
    try:
        wait_for_steps(s3_root, 3)
        late.send_signal(signal.SIGSTOP)
        time.sleep(TTL + 0.2)  # its lease expires while it sleeps
        before = len(step_records(s3_root))
        taker = Agent(agent_name="long", model_name="offline/demo", workspace_dir=s3_root)
        taker.run("take over")  # takes the expired lease over and finishes
        taken = step_records(s3_root)
        late.send_signal(signal.SIGCONT)
        _, err = late.communicate(timeout=60)
    finally:
        if late.poll() is None:
            late.kill()
            late.wait(timeout=10)
    assert late.returncode != 0
    assert "took this agent over" in err
    # Nothing of the late writer's after the takeover: the store is as the taker left it.
    assert step_records(s3_root) == taken and len(taken) > before
    assert [r["seq"] for r in taken] == list(range(1, len(taken) + 1))
    objects = S3Objects(s3_root)
    (config_key,) = [i.key for i in objects.list("agents/") if i.key.endswith("/config.json")]
    meta = orjson.loads(objects.get(config_key)[0])["_autosave_metadata"]
    assert meta["pid"] == os.getpid() and meta["status"] == "completed"
