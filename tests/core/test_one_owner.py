"""Rules of the format with one owner: where a reader and ``Agent.load()`` (or the CLI and
the app) used to spell one rule twice, they drifted. Each test here failed before."""

from __future__ import annotations

import json
from pathlib import Path

from children import agent_tui
from workspace_fixtures import write_swarms

from agent_tui import Agent
from agent_tui.diff import diff
from agent_tui.format.journal import read_journal
from agent_tui.runner import RunSpec
from agent_tui.tui.display import is_under, json_lines
from agent_tui.workspace import load_conversation, read_agent, scan


def test_a_swarms_conversation_history_dict_is_shown_and_resumable(
    workspace: Path, child_env: dict[str, str]
) -> None:
    folder = write_swarms(workspace, "Dict-Memory")
    config = json.loads((folder / "config.json").read_text("utf-8"))
    history = config["short_memory"]
    history[1]["content"] = "the task kept in a dict"
    config["short_memory"] = {"conversation_history": history}
    (folder / "config.json").write_text(json.dumps(config), "utf-8")

    shown = [m["content"] for m in load_conversation(folder)]
    assert "the task kept in a dict" in shown
    result = agent_tui("resume", str(folder), "go on", "--model", "offline/demo", env=child_env)
    assert result.returncode == 0, result.stderr
    (ours,) = [r for r in scan(workspace) if r.format == "agent-tui"]
    resumed = [m["content"] for m in load_conversation(ours.folder)]
    assert "the task kept in a dict" in resumed and "go on" in resumed


def test_a_swarms_error_txt_means_error_for_readers_and_for_load(workspace: Path) -> None:
    folder = write_swarms(workspace, "Failed-Swarm", loop_count=2, error_text="RateLimitError\n")
    assert read_agent(folder).status == "error"
    agent = Agent(model_name="offline/demo", agent_name="Failed-Swarm")
    state = agent.load(folder / "config.json")
    assert state["status"] == "error"
    assert state["error"] == "RateLimitError"


def _swarms_run_that_stopped(workspace: Path, name: str, kept: int) -> Path:
    """What swarms v16 leaves when a first run ends with loop_count null: on a model error it
    drops the run's turns (the system prompt alone is kept), on Ctrl-C the task stays."""
    folder = write_swarms(workspace, name, loop_count=None)
    (folder / "error.txt").unlink()
    config = json.loads((folder / "config.json").read_text("utf-8"))
    config["short_memory"] = config["short_memory"][:kept]
    assert config["short_memory"][0]["role"] == "System"
    (folder / "config.json").write_text(json.dumps(config), "utf-8")
    return folder


def test_a_swarms_run_that_died_on_a_model_error_is_an_error_not_an_interruption(
    workspace: Path, child_env: dict[str, str]
) -> None:
    failed = _swarms_run_that_stopped(workspace, "Failed-Model", kept=1)
    stopped = _swarms_run_that_stopped(workspace, "Stopped-Run", kept=2)
    assert read_agent(failed).status == "error" and read_agent(stopped).status == "interrupted"
    for folder, status in ((failed, "error"), (stopped, "interrupted")):
        state = Agent(model_name="offline/demo", agent_name="x").load(folder / "config.json")
        assert state["status"] == status
    plan = agent_tui("clean", "--status", "error", "--json", env=child_env)  # a dry run
    assert plan.returncode == 0, plan.stderr
    assert str(failed) in plan.stdout and str(stopped) not in plan.stdout


def test_a_changed_key_is_found_whatever_characters_it_holds() -> None:
    old = {"naïve": 1, "odd key": [1], "plain": {"x": 1}, "données": {"é": 1}}
    new = {"naïve": 2, "odd key": [2], "plain": {"x": 2}, "données": {"é": 2}}
    changed = frozenset(c.path for c in diff(old, new))
    marked = {path for path, _ in json_lines(new) if path and is_under(path, changed)}
    # Every changed leaf is a line the Config tab highlights.
    assert changed <= marked, (changed, marked)


def test_the_cli_and_the_app_resume_with_the_same_default_task(
    workspace: Path, child_env: dict[str, str]
) -> None:
    agent = Agent(model_name="offline/demo", agent_name="default-task", max_loops=1)
    agent.run("first")
    folder = Path(agent._get_agent_workspace_dir())
    result = agent_tui("resume", str(folder), env=child_env)
    assert result.returncode == 0, result.stderr
    tasks = [r["task"] for r in read_journal(folder / "journal.jsonl").records if "task" in r]
    app_default = RunSpec(resume=True, folder=str(folder)).run_task
    assert tasks[-1] == app_default


def test_a_run_gets_the_tools_its_spec_names_and_no_others(workspace: Path) -> None:
    from agent_tui.runner import SpecError, build_agent

    class Quiet:
        def text(self, chunk: str) -> None:
            pass

        def event(self, kind: str, data: dict) -> None:
            pass

    plain = build_agent(RunSpec(agent_name="plain", task="t", workspace=str(workspace)), Quiet())
    assert plain.settings()["tools"] == []
    named = RunSpec(
        agent_name="tooled", task="t", workspace=str(workspace), tools=["agent_tui.demo:word_count"]
    )
    assert [t["name"] for t in build_agent(named, Quiet()).settings()["tools"]] == ["word_count"]
    import pytest

    with pytest.raises(SpecError, match="cannot be imported"):
        build_agent(RunSpec(agent_name="x", task="t", tools=["agent_tui.demo:nope"]), Quiet())
    with pytest.raises(SpecError, match="references"):
        RunSpec.from_json('{"agent_name": "x", "task": "t", "tools": ["os.system"]}')


def test_the_conversation_shown_is_the_one_load_resumes_from(workspace: Path) -> None:
    """One replay of the journal (agent_tui.format.replay) for readers and for load(): a
    record holding something that is not a message, and a run begun afresh, read the same."""
    agent = Agent(agent_name="replayed", model_name="offline/demo", workspace_dir=str(workspace))
    agent.run("first task")
    folder = Path(agent._get_agent_workspace_dir())
    journal = folder / "journal.jsonl"
    last = read_journal(journal).records[-1]["seq"]
    odd = [
        {"seq": last + 1, "kind": "task", "task": "again", "new_conversation": True,
         "messages": [{"role": "system", "content": "fresh"}, "not a message", 7]},
        {"seq": last + 2, "kind": "step", "loop_count": 1,
         "messages": [{"role": "assistant", "content": "done"}, None]},
    ]  # fmt: skip
    with journal.open("a", encoding="utf-8") as out:
        out.writelines(json.dumps(record) + "\n" for record in odd)

    loaded = Agent(agent_name="replayed", model_name="offline/demo", workspace_dir=str(workspace))
    loaded.load(folder)
    shown = [(m["role"], m["content"]) for m in load_conversation(folder)]
    resumed = [(m["role"], m["content"]) for m in loaded.conversation]
    assert shown == resumed == [("system", "fresh"), ("assistant", "done")]
