"""Identity: once a folder exists it is the agent. A copy resumes in the copy, two foreign
agents with one name stay two agents, a stale load() never drops steps another process
finished, and a failed first run never leaves this process locked out of its own agent."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from children import agent_tui
from workspace_fixtures import write_swarms

from agent_tui import Agent
from agent_tui.format.journal import read_journal
from agent_tui.format.layout import JOURNAL_NAME
from agent_tui.workspace import load_conversation, read_agent, scan

TIMEOUT = 120


def tree_digest(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


def test_resuming_a_copy_continues_the_copy_and_never_the_original(
    workspace: Path, child_env: dict[str, str]
) -> None:
    agent = Agent(model_name="offline/demo", agent_name="proj", max_loops=1)
    agent.run("first task")
    original = Path(agent._get_agent_workspace_dir())
    copy = original.parent / "proj-backup-monday"
    shutil.copytree(original, copy, symlinks=True)
    # The original moves on after the copy was taken: its newer step must survive.
    agent.run("second task, only in the original")
    before = tree_digest(original)
    copy_steps = read_agent(copy).loop_count

    result = agent_tui("resume", str(copy), "continue the backup", env=child_env)
    assert result.returncode == 0, result.stderr
    assert tree_digest(original) == before
    assert read_agent(copy).loop_count == copy_steps + 1
    contents = [m["content"] for m in load_conversation(copy)]
    assert "continue the backup" in contents
    assert "second task, only in the original" not in contents
    assert "second task, only in the original" in [
        m["content"] for m in load_conversation(original)
    ]


def test_load_of_a_copy_in_the_api_saves_into_the_copy(workspace: Path) -> None:
    agent = Agent(model_name="offline/demo", agent_name="api-copy", max_loops=1)
    agent.run("task")
    original = Path(agent._get_agent_workspace_dir())
    copy = original.parent / "api-copy-elsewhere"
    shutil.copytree(original, copy)
    before = tree_digest(original)
    again = Agent(model_name="offline/demo", agent_name="api-copy", max_loops=1)
    again.load(copy / "api-copy_state.json")
    assert again._get_agent_workspace_dir() == str(copy)
    again.run("more")
    again.save()
    assert tree_digest(original) == before
    assert read_agent(copy).loop_count == 2


def test_two_swarms_agents_with_one_name_resume_into_two_folders(
    workspace: Path, child_env: dict[str, str]
) -> None:
    folders = []
    for marker in ("ALPHA-ONLY", "BETA-ONLY"):
        folder = write_swarms(workspace, "Shared-Name")
        config = json.loads((folder / "config.json").read_text("utf-8"))
        config["short_memory"][1]["content"] = f"task text {marker}"
        (folder / "config.json").write_text(json.dumps(config), "utf-8")
        folders.append(folder)
    for folder in folders:
        result = agent_tui(
            "resume", str(folder), "follow up", "--model", "offline/demo", env=child_env
        )
        assert result.returncode == 0, result.stderr
    ours = [r for r in scan(workspace) if r.format == "agent-tui"]
    assert len(ours) == 2, [r.path for r in ours]
    texts = sorted(
        next(m["content"] for m in load_conversation(r.folder) if "ONLY" in m["content"])
        for r in ours
    )
    assert texts == ["task text ALPHA-ONLY", "task text BETA-ONLY"]
    # And resuming the first one again continues its own folder, not a third one.
    assert (
        agent_tui(
            "resume", str(folders[0]), "again", "--model", "offline/demo", env=child_env
        ).returncode
        == 0
    )
    assert len([r for r in scan(workspace) if r.format == "agent-tui"]) == 2


def test_a_stale_load_never_drops_steps_another_process_finished(
    workspace: Path, child_env: dict[str, str]
) -> None:
    first = Agent(model_name="offline/demo", agent_name="shared", max_loops=1)
    first.run("start")
    folder = Path(first._get_agent_workspace_dir())
    script = textwrap.dedent(
        """
        from agent_tui import Agent
        agent = Agent(model_name="offline/demo?delay=0.002&tool_steps=3",
                      agent_name="shared", max_loops=4)
        agent.load()
        agent.run("process A's steps")
        """
    )
    process_a = subprocess.Popen([sys.executable, "-c", script], env=child_env)
    # Process B loads while A runs, and runs only after A is done.
    deadline = time.monotonic() + TIMEOUT
    while read_agent(folder).status != "running" and time.monotonic() < deadline:
        time.sleep(0.01)
    stale = Agent(model_name="offline/demo", agent_name="shared", max_loops=1)
    stale.load()
    assert process_a.wait(timeout=TIMEOUT) == 0
    a_steps = read_agent(folder).loop_count
    assert a_steps > stale.loop_count  # the load really was stale
    stale.run("process B's task")
    fresh = Agent(model_name="offline/demo", agent_name="shared")
    fresh.load()
    contents = [m.get("content") for m in fresh.conversation]
    assert "process A's steps" in contents and "process B's task" in contents
    assert fresh.loop_count == a_steps + 1
    seqs = [r["seq"] for r in read_journal(folder / JOURNAL_NAME).records]
    assert seqs == sorted(set(seqs))


@pytest.mark.slow
def test_disk_full_at_the_first_run_never_locks_the_process_out(
    workspace: Path, child_env: dict[str, str]
) -> None:
    # RLIMIT_FSIZE makes every write past 0 bytes fail (EFBIG) as a full disk would.
    script = textwrap.dedent(
        """
        import resource, signal
        from agent_tui import Agent
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (0, hard))
        agent = Agent(model_name="offline/demo", agent_name="full-disk", max_loops=1)
        try:
            agent.run("first")
        except Exception as exc:
            print("first run:", type(exc).__name__, exc)
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        again = Agent(model_name="offline/demo", agent_name="full-disk", max_loops=1)
        again.run("second")
        print("second run:", again.status)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=child_env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 0, result.stderr
    assert "in use by another live process" not in result.stdout + result.stderr
    assert "second run: completed" in result.stdout
    (record,) = scan(workspace)
    assert record.status == "completed"
