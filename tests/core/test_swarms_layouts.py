"""Every layout swarms writes is shown (issue 14): agents/ (v14-v16), the persistent-memory
folders ``agents/<raw name>/MEMORY.md``, and the structure runs
``swarms/<ClassName>/<name>-<stamp>/`` of ``swarms/utils/swarm_autosave.py``.

The writer below makes those folders in the shape swarms writes them (read from its source,
not vendored): names sanitized as its ``_sanitize_name`` does, the stamp ``%Y%m%d_%H%M%S`` in
local time (or 12 hex of a uuid4), naive ISO timestamps, ``json.dumps(indent=2, default=str)``.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from test_watching import changes_until, read_event, start, stop
from workspace_fixtures import ESCAPES, write_broken_corpus, write_ours, write_swarms

from agent_tui import cli
from agent_tui import workspace as ws
from agent_tui.format.layout import Layout, Status
from agent_tui.format.persistence import atomic_write_json
from agent_tui.format.swarms import swarms_sanitized
from agent_tui.workspace import scan_process as sp
from agent_tui.workspace import structures

RUN_AT = datetime(2026, 11, 26, 10, 30, 5)  # naive: swarms' datetime.now()
STAMP = RUN_AT.strftime("%Y%m%d_%H%M%S")


def _dump(path: Path, document: Any) -> None:
    path.write_text(json.dumps(document, indent=2, default=str), encoding="utf-8")


def conversation(task: str, agents: list[str], *, timed: bool = False) -> list[dict[str, Any]]:
    """A structure's ``Conversation.conversation_history``: the user's task, then each agent's
    answer under its name (``timestamp`` only when the structure has ``time_enabled``)."""
    messages = [{"role": "User", "content": task}]
    messages += [{"role": agent, "content": f"{agent} did its part"} for agent in agents]
    if timed:
        for message in messages:
            message["timestamp"] = RUN_AT.isoformat()
    return messages


def write_structure_run(
    root: Path,
    class_name: str = "SequentialWorkflow",
    name: str = "content-workflow",
    *,
    stamp: str = STAMP,
    agents: tuple[str, ...] = ("Researcher", "Writer"),
    finished: bool = True,
) -> Path:
    """One run's folder as swarms writes it. ``SwarmRouter``: ``config.json`` when built, then
    (``finished``: after a run that succeeded) ``state.json`` and ``metadata.json``.
    ``SequentialWorkflow``, ``ConcurrentWorkflow``, ``HierarchicalSwarm``: the folder when
    built, ``conversation_history.json`` when a run ends (``finished``)."""
    folder = root / "swarms" / swarms_sanitized(class_name) / f"{swarms_sanitized(name)}-{stamp}"
    folder.mkdir(parents=True)
    messages = conversation("Write a post about bonds", list(agents))
    if class_name != "SwarmRouter":
        if finished:
            _dump(folder / "conversation_history.json", messages)
        return folder
    swarm_id = f"swarm-router-{uuid.uuid4().hex}"
    config = {  # the router's __dict__ (it has no to_dict), non-JSON values as str()
        "name": name,
        "description": "Routes a task to a swarm",
        "max_loops": 1,
        "agents": [f"<swarms.structs.agent.Agent object at 0x7f{n:010x}>" for n in range(2)],
        "swarm_type": "SequentialWorkflow",
        "autosave": True,
        "autosave_use_timestamp": True,
        "output_type": "dict-all-except-first",
        "id": swarm_id,
        "swarm_workspace_dir": str(folder),
        "_autosave_metadata": {
            "timestamp": RUN_AT.isoformat(),
            "class_name": class_name,
            "swarm_name": name,
            "swarm_id": swarm_id,
        },
    }
    _dump(folder / "config.json", config)
    if finished:
        done = RUN_AT.replace(second=RUN_AT.second + 20).isoformat()
        _dump(
            folder / "state.json",
            {
                "timestamp": done,
                "swarm_name": name,
                "swarm_id": swarm_id,
                "swarm_type": "SequentialWorkflow",
                "conversation": messages,
            },
        )
        _dump(
            folder / "metadata.json",
            {
                "execution_timestamp": done,
                "swarm_name": name,
                "swarm_id": swarm_id,
                "swarm_type": "SequentialWorkflow",
                "max_loops": 1,
                "agents_count": len(agents),
                "execution_result_summary": {"type": "list", "length": len(messages)},
                "task": "Write a post about bonds",
                "tasks": None,
                "status": "completed",
            },
        )
    return folder


def write_memory(root: Path, agent_name: str = "Research Agent") -> Path:
    """``persistent_memory=True``: ``agents/<raw agent_name>/MEMORY.md``, no config."""
    folder = root / "agents" / agent_name
    folder.mkdir(parents=True)
    (folder / "MEMORY.md").write_text("# What I remember\n- bonds are loans\n", encoding="utf-8")
    return folder


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = cli.main(list(argv))
    return code, capsys.readouterr().out


def by_path(records: list[ws.AgentRecord]) -> dict[str, ws.AgentRecord]:
    return {r.path: r for r in records}


@pytest.fixture
def every_layout(workspace: Path) -> dict[str, Path]:
    """One folder of each layout swarms writes, beside ours and a broken one."""
    return {
        "ours": write_ours(workspace, "alpha"),
        "agent": write_swarms(workspace, "Financial-Analysis-Agent"),
        "memory": write_memory(workspace),
        "sequential": write_structure_run(workspace),
        "concurrent": write_structure_run(
            workspace, "ConcurrentWorkflow", "fan out", agents=("A", "B", "C")
        ),
        "router": write_structure_run(workspace, "SwarmRouter", "router"),
        "router-built": write_structure_run(
            workspace, "SwarmRouter", "router", stamp=uuid.uuid4().hex[:12], finished=False
        ),
        "hierarchical-running": write_structure_run(
            workspace, "HierarchicalSwarm", "team", finished=False
        ),
    }


# ---------------------------------------------------------------- structure runs


def test_structure_runs_are_listed_after_the_agents(every_layout: dict[str, Path]) -> None:
    records = ws.scan()
    layouts = [r.layout for r in records]
    # agents/ first, by folder name ("Financial...", "Research Agent", "alpha-..."), then runs.
    assert layouts[:3] == [Layout.AGENT, Layout.MEMORY, Layout.AGENT]
    assert set(layouts[3:]) == {Layout.STRUCTURE}
    found = by_path(records)
    assert set(found) == {os.fspath(p) for p in every_layout.values()}
    assert [Path(p) for p in found] == list(ws.iter_agent_folders())

    sequential = found[os.fspath(every_layout["sequential"])]
    assert (sequential.name, sequential.swarm_class) == ("content-workflow", "SequentialWorkflow")
    assert sequential.folder_name == f"content-workflow-{STAMP}"
    assert sequential.format == "swarms" and sequential.layout == "structure"
    # No metadata.json: swarms writes the conversation when a run ends, failed or not.
    assert sequential.status == Status.UNKNOWN and sequential.problems == []
    assert sequential.loop_count == 2  # two agents answered
    assert sequential.last_autosave is None and sequential.last_activity is not None
    assert (
        sequential.size_bytes
        == (every_layout["sequential"] / "conversation_history.json").stat().st_size
    )
    assert sequential.file_count == 1

    concurrent = found[os.fspath(every_layout["concurrent"])]
    assert (concurrent.name, concurrent.loop_count) == ("fan-out", 3)  # the sanitized name


def test_a_router_run_reads_its_config_state_and_metadata(every_layout: dict[str, Path]) -> None:
    found = by_path(ws.scan())
    router = found[os.fspath(every_layout["router"])]
    config = json.loads((every_layout["router"] / "config.json").read_text())
    assert router.name == "router" and router.agent_id == config["id"]
    assert router.status == Status.COMPLETED  # metadata.json says so
    assert router.loop_count == 2  # state.json's conversation
    assert router.last_autosave == RUN_AT.replace(second=25).astimezone()  # naive: local
    assert router.state_file == every_layout["router"] / "state.json"
    assert router.file_count == 3 and router.problems == []
    assert router.resume_refusal() is not None and "SwarmRouter" in router.resume_refusal()

    built = found[os.fspath(every_layout["router-built"])]
    assert (built.status, built.loop_count) == (Status.UNKNOWN, None)  # built, no run ended
    assert built.last_autosave == RUN_AT.astimezone()
    empty = found[os.fspath(every_layout["hierarchical-running"])]
    assert (empty.name, empty.status, empty.file_count) == ("team", Status.UNKNOWN, 0)


def test_a_metadata_status_other_than_completed_is_believed(workspace: Path) -> None:
    folder = write_structure_run(workspace, "SwarmRouter", "router")
    metadata = json.loads((folder / "metadata.json").read_text())
    for written, status in [("error", "error"), ("weird", "unknown"), (None, "completed")]:
        if written is None:
            metadata.pop("status")
        else:
            metadata["status"] = written
        _dump(folder / "metadata.json", metadata)
        assert ws.read_agent(folder).status == status


def test_resolve_finds_a_run_by_folder_and_by_name(every_layout: dict[str, Path]) -> None:
    run = every_layout["sequential"]
    assert ws.read_agent(os.path.relpath(run)).layout == Layout.STRUCTURE  # a relative path
    # A workspace root named "swarms" keeps its agents folder an agents folder.
    assert not structures.is_structure_folder("/data/swarms/agents/alpha-0123456789ab")
    assert ws.resolve_agent(run.name) == run
    assert ws.resolve_agent("content-workflow") == run
    with pytest.raises(ws.WorkspaceLookupError, match="matches 2 agents"):
        ws.resolve_agent("router")  # two runs of one router: say so, pick none


def test_ls_and_show_a_structure_run(
    every_layout: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run_cli(capsys, "ls", "--json")
    assert code == 0
    rows = {row["folder"]: row for row in json.loads(out)}
    row = rows[os.fspath(every_layout["sequential"])]
    assert (row["layout"], row["swarm_class"], row["loop_count"]) == (
        "structure", "SequentialWorkflow", 2,
    )  # fmt: skip
    assert rows[os.fspath(every_layout["memory"])]["status"] == "memory"

    code, out = run_cli(capsys, "show", every_layout["sequential"].name, "--json")
    assert code == 0
    shown = json.loads(out)
    assert [m["role"] for m in shown["conversation"]] == ["user", "assistant", "assistant"]
    assert shown["conversation"][1]["name"] == "Researcher"
    code, out = run_cli(capsys, "show", every_layout["router"].name)
    assert code == 0 and "Writer did its part" in out and "completed" in out


def test_the_app_view_shows_a_runs_conversation(every_layout: dict[str, Path]) -> None:
    detail = ws.load_detail(every_layout["concurrent"])
    assert detail.conversation.total == 4
    assert [m["content"] for m in detail.conversation.messages][-1] == "C did its part"


def test_hostile_names_stay_data(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outside = workspace.parent / "outside"
    outside.mkdir()
    folder = write_structure_run(workspace, f"Evil{ESCAPES}", f"a\nb{ESCAPES}..")
    config = workspace / "swarms" / "SwarmRouter" / "..-x"
    config.mkdir(parents=True)
    _dump(config / "config.json", {"_autosave_metadata": {"swarm_name": "../../outside"}})
    found = by_path(ws.scan())
    record = found[os.fspath(folder)]
    assert (
        record.name == swarms_sanitized(f"a\nb{ESCAPES}..")
        and record.swarm_class == f"Evil{ESCAPES}"
    )
    assert found[os.fspath(config)].name == "../../outside"
    assert all(Path(p).resolve().is_relative_to(workspace.resolve()) for p in found)
    assert list(outside.iterdir()) == []
    code, out = run_cli(capsys, "ls")
    assert code == 0 and "\x1b" not in out


# ---------------------------------------------------------------- memory folders


def test_a_memory_folder_is_that_agents_memory(every_layout: dict[str, Path]) -> None:
    record = by_path(ws.scan())[os.fspath(every_layout["memory"])]
    assert record.layout == Layout.MEMORY and record.memory_of == "Research Agent"
    assert record.status == Status.MEMORY and record.status != Status.BROKEN
    assert record.problems == [] and record.format == "swarms"
    refusal = record.resume_refusal()
    assert refusal and "no config.json" in refusal and "MEMORY.md" in refusal
    assert "Research Agent" in refusal


def test_a_folder_with_memory_and_a_bad_config_is_still_broken(workspace: Path) -> None:
    folder = write_memory(workspace, "Both")
    (folder / "config.json").write_text("{", encoding="utf-8")
    assert ws.read_agent(folder).status == Status.BROKEN
    fifo = write_memory(workspace, "Fifo")
    (fifo / "MEMORY.md").unlink()
    os.mkfifo(fifo / "MEMORY.md")  # not a memory: never opened, the folder says too little
    assert ws.read_agent(fifo).layout == Layout.AGENT


def test_clean_status_broken_leaves_memory(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    memory = write_memory(workspace)
    broken = write_broken_corpus(workspace)["truncated"]
    code, out = run_cli(capsys, "clean", "--status", "broken", "--yes", "--json")
    assert code == 0
    removed = json.loads(out)["result"]["removed"]
    assert os.fspath(broken) in removed and os.fspath(memory) not in removed
    assert memory.exists() and not broken.exists()
    code, out = run_cli(capsys, "clean", "--status", "memory", "--json")  # asked by name: listed
    assert code == 0 and [i["folder"] for i in json.loads(out)["items"]] == [os.fspath(memory)]


def test_keep_last_does_not_take_memory_or_a_run_for_an_older_copy(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    agent = write_swarms(workspace, "Research Agent")
    write_memory(workspace)  # newer than the agent's folder, one name
    write_structure_run(workspace, "SwarmRouter", "Research Agent")
    code, out = run_cli(capsys, "clean", "--keep-last", "1", "--json")
    assert code == 0
    document = json.loads(out)
    assert document["items"] == [] and document["skipped"] == []
    assert agent.exists()


# ---------------------------------------------------------------- one scan, many ways


def test_summary_index_warm_equals_cold(every_layout: dict[str, Path], workspace: Path) -> None:
    full = ws.scan(workspace, index=False)
    cold = ws.scan(workspace)
    warm = ws.scan(workspace)
    assert [r.to_dict() for r in cold] == [r.to_dict() for r in full]
    assert [r.to_dict() for r in warm] == [r.to_dict() for r in full]
    assert any(r.layout == Layout.MEMORY for r in warm)


def test_streamed_and_forked_scans_equal_the_plain_one(
    every_layout: dict[str, Path], workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(sp.CHUNK + 3):
        write_ours(workspace, f"ours-{n:03d}")
    expected = ws.scan(workspace)
    seen: set[str] = set()
    streamed = [r for chunk in sp.stream_scan(workspace, seen) for r in chunk]
    assert by_path(streamed) == by_path(expected)
    assert seen == {r.path for r in expected}
    monkeypatch.setattr(sys.modules["agent_tui.workspace.scan"], "PARALLEL_MIN", 10)
    assert ws.scan(workspace, jobs=2) == expected


# ---------------------------------------------------------------- hostile swarms folders


def test_a_swarms_link_file_or_unreadable_folder_holds_no_runs(
    workspace: Path, tmp_path: Path
) -> None:
    elsewhere = write_structure_run(tmp_path / "elsewhere").parent.parent
    write_ours(workspace, "alpha")
    swarms = workspace / "swarms"
    swarms.symlink_to(elsewhere)  # never followed
    assert [r.name for r in ws.scan()] == ["alpha"]
    swarms.unlink()
    swarms.write_text("not a folder")
    assert [r.name for r in ws.scan()] == ["alpha"]
    swarms.unlink()
    run = write_structure_run(workspace)
    (swarms / "LinkedClass").symlink_to(elsewhere / "SequentialWorkflow")  # not followed
    os.symlink(tmp_path / "elsewhere", run.parent / "linked-run")  # a link: a broken record
    found = {r.folder_name: r for r in ws.scan()}
    agents = set(os.listdir(workspace / "agents"))
    assert set(found) == agents | {run.name, "linked-run"}
    assert found["linked-run"].status == Status.BROKEN
    assert "symbolic link" in found["linked-run"].problems[0]
    if os.geteuid() != 0:  # root reads anything
        (swarms / "SequentialWorkflow").chmod(0)
        try:
            assert [r.name for r in ws.scan()] == ["alpha"]
        finally:
            (swarms / "SequentialWorkflow").chmod(stat.S_IRWXU)
        swarms.chmod(0)
        try:
            assert [r.name for r in ws.scan()] == ["alpha"]
        finally:
            swarms.chmod(stat.S_IRWXU)


def test_a_fifo_and_a_huge_file_in_a_run_are_not_read(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = write_structure_run(workspace, "SwarmRouter", "router")
    (run / "config.json").unlink()
    os.mkfifo(run / "config.json")  # open() would block forever
    huge = write_structure_run(workspace, stamp="20260101_000000")
    with open(huge / "conversation_history.json", "r+b") as file:
        file.truncate(3 * 1024 * 1024)
    from agent_tui.format import persistence

    monkeypatch.setattr(persistence.read_bytes, "__kwdefaults__", {"limit": 1 << 20, "head": False})
    started = time.monotonic()
    found = {r.folder_name: r for r in ws.scan()}
    assert time.monotonic() - started < 10
    fifo = found[run.name]
    assert fifo.status == Status.COMPLETED  # metadata.json still says so
    assert "config.json is not a regular file, not read" in fifo.problems
    big = found[huge.name]
    assert big.loop_count is None and "too large" in big.problems[0]


def test_ten_thousand_class_folders_do_not_hang_the_scan(workspace: Path) -> None:
    swarms = workspace / "swarms"
    swarms.mkdir(parents=True)
    for n in range(10_000):
        (swarms / f"Class{n:05d}").mkdir()
    write_structure_run(workspace, "Class00000", "first")
    write_structure_run(workspace, "Class09999", "last")  # past MAX_CLASS_FOLDERS: not read
    for n in range(100):
        (swarms / f"stray-{n}.txt").write_text("x")
    started = time.monotonic()
    names = [r.name for r in ws.scan()]
    assert time.monotonic() - started < 5
    assert names == ["first"]
    assert structures.MAX_CLASS_FOLDERS < 10_000


def test_no_swarms_folder_costs_one_lstat(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_ours(workspace, "alpha")
    calls: list[str] = []
    real = os.lstat

    def counted(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        calls.append(os.fspath(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(structures.os, "lstat", counted)
    assert structures.structure_folders(workspace) == []
    assert calls == [os.fspath(workspace / "swarms")]


# ---------------------------------------------------------------- watching


def test_the_folders_a_batch_touches_under_swarms(tmp_path: Path) -> None:
    from agent_tui.tui.watcher import folders_touched

    root = tmp_path / "ws"
    agents, swarms = root / "agents", root / "swarms"
    run = swarms / "SwarmRouter" / f"router-{STAMP}"
    folders, reset = folders_touched(
        agents,
        {
            str(run / "config.json"),
            str(run / "logs" / "deep.log"),
            str(swarms / "SwarmRouter" / ".removing-x.tmp" / "state.json"),
            str(agents / "alpha-1" / "config.json"),
        },
    )
    assert folders == {run, agents / "alpha-1"} and not reset
    assert folders_touched(agents, {str(swarms)}) == (set(), True)  # swarms/ appeared
    assert folders_touched(agents, {str(swarms / "NewClass")})[1]  # a class: rescan


def test_read_folders_reads_a_run(workspace: Path) -> None:
    from agent_tui.tui.watcher import AgentChanged, read_folders

    run = write_structure_run(workspace)
    [message] = read_folders([run])
    assert isinstance(message, AgentChanged) and message.record.layout == Layout.STRUCTURE


def test_the_watcher_reports_a_runs_config_rewritten(workspace: Path) -> None:
    from agent_tui.tui.watcher import folders_touched

    (workspace / "agents").mkdir(parents=True)
    old = write_structure_run(workspace, "SwarmRouter", "old", stamp="20250101_000000")
    child = start(workspace, since=time.time() + 3600)  # nothing is newer than that
    try:
        assert read_event(child)["ready"]
        run = write_structure_run(workspace, "SwarmRouter", "router")  # swarms/ appears
        seen = changes_until(child, str(run))
        # Reported as the run folder (its files may be written before its watch is set up:
        # the folder is read whole) or as swarms/ itself (a rescan).
        folders, reset = folders_touched(workspace / "agents", set(seen))
        assert run in folders or reset
        config = json.loads((run / "config.json").read_text())
        config["max_loops"] = 3
        _dump(old / "config.json", config)  # in place, as swarms writes
        seen = changes_until(child, str(old / "config.json"))
        assert folders_touched(workspace / "agents", set(seen)) == ({old}, False)
        atomic_write_json(run / "config.json", config)  # replaced: seen as added
        seen = changes_until(child, str(run / "config.json"))
        assert run in folders_touched(workspace / "agents", set(seen))[0]
    finally:
        assert stop(child) == 0


def test_runs_changed_while_the_watcher_set_up_are_reported(workspace: Path) -> None:
    from agent_tui import watching

    old = write_structure_run(workspace, stamp="20250101_000000")
    new = write_structure_run(workspace, "SwarmRouter", "router")
    past = time.time() - 3600
    for path in [old, *old.iterdir()]:
        os.utime(path, (past, past))
    assert watching.structures_changed_since(workspace, time.time() - 60) == [os.fspath(new)]


def test_show_on_a_memory_folder_prints_its_memory_masked(
    workspace: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "sk-memory0Secret9Value8Abc7Def6"
    monkeypatch.setenv("OPENAI_API_KEY", key)
    memory = workspace / "agents" / "Research Agent"
    memory.mkdir(parents=True)
    (memory / "MEMORY.md").write_text(f"# Notes\nThe user prefers short answers.\nkey {key}\n")
    assert cli.main(["show", "Research Agent"]) == 0
    out = capsys.readouterr().out
    assert "status:" in out and "memory" in out
    assert "MEMORY.md (swarms' memory of Research Agent):" in out
    assert "The user prefers short answers." in out
    assert "unreadable" not in out and key not in out
    assert cli.main(["show", "Research Agent", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["memory"].startswith("# Notes") and key not in json.dumps(document)
