"""Forking an agent at step N: a new folder whose conversation is the original's up to there,
``forked_from`` in its config, and the original left byte for byte (and mtime) as it was."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from workspace_fixtures import write_ours, write_swarms

from agent_tui import Agent, cli
from agent_tui.agent.fork import ForkError, existing_agent, fork_agent
from agent_tui.demo import DEMO_TOOLS
from agent_tui.workspace import load_conversation, normalize_message, read_agent, step_history

FOUR_STEPS = "offline/demo?tool_steps=3"  # three tool steps, then the answer: four steps


def run_planner(workspace: Path, name: str = "planner") -> Path:
    agent = Agent(
        model_name=FOUR_STEPS,
        agent_name=name,
        max_loops=4,
        tools=DEMO_TOOLS,
        workspace_dir=workspace,
    )
    agent.run("Plan a weekend in Rome")
    assert agent.loop_count == 4
    return Path(agent._get_agent_workspace_dir())


def tree(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file of ``folder``: its bytes and mtime (links as their target text)."""
    found: dict[str, tuple[bytes, int]] = {}
    for path in sorted(folder.rglob("*")):
        info = path.lstat()
        if path.is_symlink():
            data = os.readlink(path).encode()
        elif path.is_file():
            data = path.read_bytes()
        else:
            data = b""
        found[str(path.relative_to(folder))] = (data, info.st_mtime_ns)
    return found


def agents(workspace: Path) -> list[str]:
    return sorted(p.name for p in (workspace / "agents").iterdir())


def metadata(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "config.json").read_text())["_autosave_metadata"]


def loaded(folder: Path) -> Agent:
    """The agent in ``folder`` as a new process would load it."""
    record = read_agent(folder)
    agent = Agent(model_name=FOUR_STEPS, agent_name=record.name, id=record.agent_id)
    agent.load(folder)
    return agent


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def planner(workspace: Path) -> Path:
    return run_planner(workspace)


# ------------------------------------------------------------------------- the fork itself
def test_a_fork_at_step_2_of_4_holds_the_conversation_to_step_2(
    workspace: Path, planner: Path
) -> None:
    before = tree(planner)
    original = read_agent(planner)
    made = fork_agent(planner, 2)

    assert made.folder.parent == planner.parent and made.folder != planner
    assert made.agent_name == "planner-fork" and made.folder.name.startswith("planner-fork-")
    expected = step_history(planner).document(2)
    fork = loaded(made.folder)
    assert [normalize_message(m) for m in fork.conversation] == expected["conversation"]
    assert fork.loop_count == 2 and fork.memory == expected["memory"]
    assert fork.tool_results == [r for r in loaded(planner).tool_results if r["step"] <= 2]
    assert len(fork.tool_results) == 2
    assert fork.task == "Plan a weekend in Rome"
    # Its own history reads as the original's did, step by step.
    history = step_history(made.folder)
    assert history.loop_counts == [0, 1, 2]
    for step in (0, 1, 2):
        assert history.document(step) == step_history(planner).document(step)

    meta = metadata(made.folder)
    assert meta["forked_from"] == {"agent_id": original.agent_id, "folder": str(planner), "step": 2}
    assert meta["agent_name"] == "planner-fork" and meta["agent_id"] == made.agent_id
    assert meta["agent_id"] != original.agent_id and meta["loop_count"] == 2
    assert {"timestamp", "loop_count", "agent_id", "agent_name"} <= set(meta)
    config = json.loads((made.folder / "config.json").read_text())
    assert config["agent_name"] == "planner-fork" and config["agent_id"] == made.agent_id
    assert config["model_name"] == FOUR_STEPS and config["max_loops"] == 4
    record = read_agent(made.folder)
    assert (record.status, record.loop_count, record.problems) == ("completed", 2, [])
    assert tree(planner) == before


def test_step_0_is_the_first_task_alone(workspace: Path, planner: Path) -> None:
    made = fork_agent(planner, 0)
    fork = loaded(made.folder)
    assert [m["role"] for m in fork.conversation] == ["system", "user"]
    assert fork.loop_count == 0 and fork.tool_results == []


def test_memory_is_as_it_was_at_the_step(workspace: Path) -> None:
    source = write_ours(workspace, "noted", loop_count=3)  # memory is set at step 2
    assert loaded(fork_agent(source, 1).folder).memory == {}
    assert loaded(fork_agent(source, 2).folder).memory == {"notes": "halfway"}
    assert loaded(fork_agent(source, 3).folder).memory == {"notes": "halfway"}


def test_a_fork_resumes_and_its_journal_and_diff_work(
    workspace: Path, planner: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = tree(planner)
    made = fork_agent(planner, 2)
    code, _, err = run_cli(capsys, "resume", str(made.folder), "Now plan Florence")
    assert code == 0, err
    assert "resuming 'planner-fork' after step 2" in err
    record = read_agent(made.folder)
    assert record.status == "completed" and record.loop_count > 2
    history = step_history(made.folder)
    assert history.loop_counts == list(range(record.loop_count + 1))
    contents = [m["content"] for m in load_conversation(made.folder)]
    assert "Plan a weekend in Rome" in contents and "Now plan Florence" in contents
    code, out, err = run_cli(capsys, "diff", str(made.folder), "--steps", "2", "3")
    assert code == 0, err
    assert "loop_count: 2 -> 3" in out
    assert tree(planner) == before


def test_the_facade_forks_and_the_new_agent_runs_on(workspace: Path) -> None:
    agent = Agent(model_name=FOUR_STEPS, agent_name="facade", max_loops=4, tools=DEMO_TOOLS)
    agent.run("Plan a weekend in Rome")
    source = Path(agent._get_agent_workspace_dir())
    before = tree(source)
    child = agent.fork(1, name="facade-b", message="Plan a weekend in Oslo")
    assert isinstance(child, Agent)
    assert child.agent_name == "facade-b" and child.loop_count == 1
    assert child.state_path.parent != source and child.state_path.parent.parent == source.parent
    assert [m["content"] for m in child.conversation if m["role"] == "user"] == [
        "Plan a weekend in Oslo"
    ]
    child.run("And the museums?")
    assert child.loop_count > 1
    assert read_agent(child.state_path.parent).name == "facade-b"
    assert tree(source) == before


def test_message_replaces_the_last_user_message(
    workspace: Path, planner: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = tree(planner)
    code, out, err = run_cli(
        capsys, "fork", "planner", "--step", "1", "--message", "Plan a weekend in Paris"
    )
    assert code == 0, err
    folder = Path(out.splitlines()[1])
    fork = loaded(folder)
    users = [m["content"] for m in fork.conversation if m["role"] == "user"]
    assert users == ["Plan a weekend in Paris"]
    assert fork.task == "Plan a weekend in Paris" and fork.tasks == ["Plan a weekend in Paris"]
    # The history says so too, from step 0 on; the rest of step 1 is the original's.
    document = step_history(folder).document(1)["conversation"]
    assert document[1]["content"] == "Plan a weekend in Paris"
    assert document[2:] == step_history(planner).document(1)["conversation"][2:]
    assert b"Rome" not in (folder / "journal.jsonl").read_bytes().split(b'"step"')[0]
    assert tree(planner) == before


def test_a_replaced_message_is_redacted(
    workspace: Path, planner: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk-forkSECRET0123456789abcdefXYZ"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    made = fork_agent(planner, 1, message=f"use the key {secret} please")
    for path in made.folder.iterdir():
        assert secret.encode() not in path.read_bytes(), path.name


def test_a_hostile_name_stays_one_folder_in_the_workspace(workspace: Path, planner: Path) -> None:
    made = fork_agent(planner, 1, name="../../etc/passwd\x00")
    assert made.folder.parent == workspace / "agents"
    assert made.agent_name == "../../etc/passwd\x00"
    assert read_agent(made.folder).name == made.agent_name


def test_an_empty_message_or_a_negative_step_is_refused(workspace: Path, planner: Path) -> None:
    with pytest.raises(ForkError, match="message is empty"):
        fork_agent(planner, 1, message="  ")
    with pytest.raises(ForkError, match="whole number"):
        fork_agent(planner, -1)
    assert agents(workspace) == [planner.name]


# ------------------------------------------------------------------------- the CLI
def test_a_step_beyond_the_end_names_the_last_step(
    workspace: Path, planner: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = agents(workspace)
    code, out, err = run_cli(capsys, "fork", "planner", "--step", "5")
    assert (code, out) == (1, "")
    (line,) = err.splitlines()
    assert line.startswith("agent-tui: error: step 5 is beyond the end of planner-")
    assert line.endswith("its last step is 4")
    assert agents(workspace) == before


def test_the_cli_prints_the_new_folder_and_how_to_continue(
    workspace: Path, planner: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, "fork", "planner", "--step", "3")
    assert code == 0, err
    title, folder, hint = out.splitlines()
    assert title == "forked 'planner' at step 3 (8 messages) into a new agent, 'planner-fork':"
    assert Path(folder).parent == workspace / "agents" and Path(folder).is_dir()
    assert hint == f"continue it: agent-tui resume {Path(folder).name} 'the next task'"


def test_json_is_the_new_agents_record(
    workspace: Path, planner: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, "fork", "planner", "--step", "2", "--name", "b", "--json")
    assert code == 0, err
    document = json.loads(out)
    assert document["name"] == "b" and document["status"] == "completed"
    assert document["loop_count"] == 2 and Path(document["folder"]).is_dir()
    assert document["forked_from"]["folder"] == str(planner)
    assert document["forked_from"]["step"] == 2


def test_a_fork_of_a_fork(workspace: Path, planner: Path) -> None:
    first = fork_agent(planner, 3)
    second = fork_agent(first.folder, 1)
    assert second.agent_name == "planner-fork-fork"
    assert metadata(second.folder)["forked_from"] == {
        "agent_id": first.agent_id,
        "folder": str(first.folder),
        "step": 1,
    }
    expected = step_history(planner).document(1)["conversation"]
    assert [normalize_message(m) for m in loaded(second.folder).conversation] == expected


def test_two_forks_of_one_agent_get_two_folders(
    workspace: Path, planner: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one = fork_agent(planner, 1)
    two = fork_agent(planner, 1)
    assert one.folder != two.folder
    assert (one.agent_name, two.agent_name) == ("planner-fork", "planner-fork-2")
    assert existing_agent("planner-fork") == one.folder
    # A name given that is in use is refused, not shared.
    code, _, err = run_cli(capsys, "fork", "planner", "--step", "1", "--name", "planner-fork")
    assert code == 1 and "an agent named 'planner-fork' exists already" in err
    assert len(agents(workspace)) == 3


# ------------------------------------------------------------------------- what is refused
@pytest.mark.parametrize("which", ["config.json", "journal.jsonl"])
@pytest.mark.parametrize("kind", ["symlink", "fifo"])
def test_a_hostile_source_is_refused_and_nothing_is_written(
    which: str,
    kind: str,
    workspace: Path,
    planner: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The meanest link: to a copy of the very file it replaces, outside the workspace.
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(planner / which, outside / which)
    (planner / which).unlink()
    if kind == "symlink":
        (planner / which).symlink_to(outside / which)
    else:
        os.mkfifo(planner / which)
    before, outside_before = tree(planner), tree(outside)
    names = agents(workspace)
    code, out, err = run_cli(capsys, "fork", str(planner), "--step", "1")
    assert (code, out) == (1, "")
    (line,) = err.splitlines()
    assert line.startswith("agent-tui: error: ") and "cannot be forked" in line
    assert which in line
    assert agents(workspace) == names
    assert tree(planner) == before and tree(outside) == outside_before


def test_a_swarms_folder_cannot_be_forked_yet(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_swarms(workspace, "Bond-Agent")
    before = agents(workspace)
    code, _, err = run_cli(capsys, "fork", str(folder), "--step", "0")
    assert code == 1 and "swarms folders cannot be forked yet" in err
    assert agents(workspace) == before


def test_a_folder_with_no_journal_is_refused(workspace: Path) -> None:
    source = write_ours(workspace, "quiet", loop_count=2, journal=False)
    with pytest.raises(ForkError, match="cannot be forked by step|no steps"):
        fork_agent(source, 0)
    assert agents(workspace) == [source.name]


def test_the_fork_command_never_imports_litellm(
    workspace: Path, planner: Path, child_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**child_env, "PYTHONPROFILEIMPORTTIME": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "agent_tui.cli", "fork", "planner", "--step", "2"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    imported = [
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    ]
    assert "agent_tui.agent.fork" in imported  # the import log works, and it has no litellm:
    assert not [name for name in imported if name.split(".")[0] == "litellm"]
