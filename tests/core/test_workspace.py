"""Reading workspaces: ours, swarms', live, crashed and broken ones."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from workspace_fixtures import (
    BASE_TIME,
    BROKEN_CONFIGS,
    SYSTEM_PROMPT,
    WRONG_TYPES,
    write_broken_corpus,
    write_ours,
    write_swarms,
)

from agent_tui import workspace as ws
from agent_tui.format.lock import WorkspaceLock, lock_holder
from agent_tui.format.persistence import WorkspaceFileError
from agent_tui.workspace import WorkspaceLookupError


def _files_size(folder: Path) -> int:
    """Bytes of every non-folder entry, links counted as links (what ``du -sb`` sees)."""
    total = 0
    for parent, dirs, files in os.walk(folder):
        # os.walk lists links to folders under dirs but does not descend into them.
        for name in files + [d for d in dirs if os.path.islink(os.path.join(parent, d))]:
            total += os.lstat(os.path.join(parent, name)).st_size
    return total


def test_scan_reads_our_workspace(workspace: Path) -> None:
    folder = write_ours(workspace, "alpha", loop_count=3)

    [record] = ws.scan()
    assert record.name == "alpha"
    assert record.folder == folder
    assert record.format == "agent-tui"
    assert record.status == "completed"
    assert record.loop_count == 3
    assert record.last_autosave == BASE_TIME + timedelta(seconds=3)
    assert record.last_autosave.tzinfo is not None
    assert record.model == "offline/demo"
    assert record.size_bytes == _files_size(folder)
    assert record.file_count == 4  # config, state, journal, lock
    assert record.state_file == folder / "alpha_state.json"
    assert record.problems == []
    assert record.config_mtime_ns == (folder / "config.json").stat().st_mtime_ns


def test_scan_takes_an_explicit_root(tmp_path: Path) -> None:
    write_ours(tmp_path / "elsewhere", "beta")
    assert [r.name for r in ws.scan(tmp_path / "elsewhere")] == ["beta"]


def test_scan_of_a_missing_workspace_is_empty(workspace: Path) -> None:
    assert ws.scan() == []


def test_agents_path_that_is_a_file_is_a_clear_error(workspace: Path) -> None:
    workspace.mkdir()
    (workspace / "agents").write_text("oops")
    with pytest.raises(WorkspaceFileError, match="is a file, expected the agents folder"):
        ws.scan()


def test_error_status_carries_the_error_text(workspace: Path) -> None:
    write_ours(workspace, "gamma", status="error")
    [record] = ws.scan()
    assert record.status == "error"
    assert record.error == "model exploded"


def test_running_config_without_lock_holder_is_interrupted(workspace: Path) -> None:
    write_ours(workspace, "crashed", status="running")
    [record] = ws.scan()
    assert record.status == "interrupted"
    assert "process died mid-run" in record.problems


def test_running_needs_a_live_lock_holder_in_process(workspace: Path) -> None:
    folder = write_ours(workspace, "live", status="running")
    with WorkspaceLock(folder):
        record = ws.read_agent(folder)
        assert record.status == "running"
        assert record.holder and record.holder.startswith(f"pid {os.getpid()}")
        assert record.problems == []
    assert ws.read_agent(folder).status == "interrupted"


def test_running_held_by_a_child_process(workspace: Path, child_env: dict[str, str]) -> None:
    folder = write_ours(workspace, "child", status="running")
    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from agent_tui.format.lock import WorkspaceLock\n"
        f"lock = WorkspaceLock(Path({str(folder)!r})); lock.acquire()\n"
        "print('held', flush=True)\n"
        "time.sleep(60)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code], env=child_env, stdout=subprocess.PIPE)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == b"held"
        record = ws.read_agent(folder)
        assert record.status == "running"
        assert record.holder == lock_holder(folder)
    finally:
        child.kill()
        child.wait()
    record = ws.read_agent(folder)
    assert record.status == "interrupted"
    assert "process died mid-run" in record.problems


def test_swarms_workspace(workspace: Path) -> None:
    folder = write_swarms(workspace, "Financial-Analysis-Agent", loop_count=1)
    [record] = ws.scan()
    assert record.format == "swarms"
    assert record.name == "Financial-Analysis-Agent"
    assert record.status == "completed"
    assert record.loop_count == 1
    assert record.model == "gpt-4o-mini"
    assert record.state_file is not None
    assert record.state_file.parent == folder
    assert record.state_file.name.startswith("agent-")
    assert record.state_file.name.endswith("_state.json")
    # Naive timestamps are local time, made aware.
    local = BASE_TIME.replace(tzinfo=None).astimezone()
    assert record.last_autosave == local
    assert record.last_autosave.utcoffset() is not None
    # logs/run.log is counted; the empty error.txt too.
    assert record.file_count == 4
    assert record.size_bytes == _files_size(folder)


def test_swarms_null_loop_count_is_interrupted(workspace: Path) -> None:
    write_swarms(workspace, "stopped", loop_count=None)
    [record] = ws.scan()
    assert record.status == "interrupted"
    assert record.loop_count is None


def test_swarms_error_txt_means_error(workspace: Path) -> None:
    write_swarms(workspace, "failing", loop_count=None, error_text="RateLimitError: slow down\n")
    [record] = ws.scan()
    assert record.status == "error"
    assert record.error == "RateLimitError: slow down"


def test_swarms_conversation_roles_are_mapped(workspace: Path) -> None:
    folder = write_swarms(workspace, "Financial-Analysis-Agent")
    messages = ws.load_conversation(folder)
    assert [m["role"] for m in messages] == ["system", "user", "assistant"]
    assert messages[2]["content"] == "A bond is a loan to an issuer."
    assert "name" not in messages[2]  # the agent speaking is the assistant itself
    assert all(m["ts"] == BASE_TIME.replace(tzinfo=None).isoformat() for m in messages)


def test_swarms_other_speakers_keep_their_name() -> None:
    message = ws.normalize_message({"role": "Critic", "content": {"a": 1}}, "Writer")
    assert message == {"role": "assistant", "content": '{"a":1}', "name": "Critic"}


def test_swarms_has_no_step_history(workspace: Path) -> None:
    folder = write_swarms(workspace)
    with pytest.raises(WorkspaceLookupError, match="swarms"):
        ws.step_history(folder)


def test_conversation_replays_journal_after_the_state_file(workspace: Path) -> None:
    # The state file was last written after step 1; steps 2 and 3 reached only the journal
    # (the process was killed before the next full save).
    folder = write_ours(workspace, "killed", status="running", loop_count=3, folded_steps=1)
    messages = ws.load_conversation(folder)
    assert [m["content"] for m in messages] == [
        SYSTEM_PROMPT,
        "count the words",
        "step 1 answer",
        "step 2 answer",
        "step 3 answer",
    ]
    assert messages[2] == {
        "role": "assistant",
        "content": "step 1 answer",
        "ts": (BASE_TIME + timedelta(seconds=1)).isoformat(),
        "step": 1,
    }


def test_conversation_from_the_journal_alone(workspace: Path) -> None:
    folder = write_ours(workspace, "nostate", loop_count=2, state=False)
    contents = [m["content"] for m in ws.load_conversation(folder)]
    assert contents == [SYSTEM_PROMPT, "count the words", "step 1 answer", "step 2 answer"]


def test_conversation_survives_a_torn_journal_line(workspace: Path) -> None:
    folder = write_ours(workspace, "torn", loop_count=2, folded_steps=1)
    with open(folder / "journal.jsonl", "ab") as handle:
        handle.write(b'{"seq": 99, "kind": "step", "messages": [{"role": "assis')
    contents = [m["content"] for m in ws.load_conversation(folder)]
    assert contents[-1] == "step 2 answer"


def test_conversation_with_nothing_to_read_is_a_clear_error(workspace: Path) -> None:
    folder = write_ours(workspace, "bare", state=False, journal=False)
    with pytest.raises(WorkspaceFileError, match="no state file and no journal"):
        ws.load_conversation(folder)


def test_step_history_documents(workspace: Path) -> None:
    folder = write_ours(workspace, "steps", loop_count=3)
    history = ws.step_history(folder)
    assert history.loop_counts == [0, 1, 2, 3]
    step0 = history.document(0)
    assert [m["role"] for m in step0["conversation"]] == ["system", "user"]
    step2 = history.document(2)
    assert step2["loop_count"] == 2
    assert step2["conversation"][-1]["content"] == "step 2 answer"
    assert step2["memory"] == {"notes": "halfway"}
    assert history.document(1)["memory"] == {}
    assert len(history.document(3)["conversation"]) == 5
    with pytest.raises(WorkspaceLookupError, match="step 9 is not in the history"):
        history.document(9)


def test_step_history_of_a_cut_journal_starts_from_the_state(workspace: Path) -> None:
    folder = write_ours(workspace, "compacted", loop_count=4, folded_steps=2)
    # Compaction dropped the records the state file holds (seq 1..3: the task and steps 1, 2).
    lines = (folder / "journal.jsonl").read_text().splitlines(keepends=True)
    (folder / "journal.jsonl").write_text("".join(lines[3:]))
    history = ws.step_history(folder)
    assert history.loop_counts == [2, 3, 4]
    assert history.document(2)["conversation"][-1]["content"] == "step 2 answer"
    assert history.document(4)["conversation"][-1]["content"] == "step 4 answer"


def test_load_config_and_state(workspace: Path) -> None:
    folder = write_ours(workspace, "delta")
    assert ws.load_config(folder)["agent_name"] == "delta"
    state = ws.load_state(folder)
    assert state is not None and state["journal_seq"] == 4
    (folder / "config.json").write_text("{")
    with pytest.raises(WorkspaceFileError, match="truncated"):
        ws.load_config(folder)


def test_broken_corpus_never_raises(workspace: Path) -> None:
    cases = write_broken_corpus(workspace)
    records = {r.folder.name: r for r in ws.scan()}
    # Every entry became a record, except the temp file of a write in flight.
    assert set(records) == {p.name for p in cases.values()}
    for name, record in records.items():
        assert record.status == "broken" or record.problems, name
        assert all(isinstance(p, str) and p for p in record.problems)


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("empty", "empty file"),
        ("whitespace", "empty file"),
        ("truncated", "truncated JSON"),
        ("not-utf8", "not valid UTF-8"),
        ("not-json", "not valid JSON"),
        ("array", "expected a JSON object at the top level, found list"),
        ("null", "found null"),
        ("nul-bytes", "not valid"),
        ("deep-nesting", "not valid JSON"),
    ],
)
def test_broken_config_reasons(workspace: Path, case: str, reason: str) -> None:
    assert case in BROKEN_CONFIGS
    cases = write_broken_corpus(workspace)
    record = ws.read_agent(cases[case])
    assert record.status == "broken"
    assert any(p.startswith("config.json: ") and reason in p for p in record.problems), (
        record.problems
    )


@pytest.mark.parametrize(
    ("case", "problem"),
    [
        ("meta-is-string", "_autosave_metadata is not an object"),
        ("loop-is-text", "loop_count is not a whole number"),
        ("loop-is-bool", "loop_count is not a whole number"),
        ("timestamp-is-number", "timestamp is not an ISO-8601 time"),
        ("timestamp-is-garbage", "timestamp is not an ISO-8601 time"),
        ("status-is-list", "unknown status"),
    ],
)
def test_wrong_types_become_problems(workspace: Path, case: str, problem: str) -> None:
    assert case in WRONG_TYPES
    cases = write_broken_corpus(workspace)
    record = ws.read_agent(cases[case])
    assert record.loop_count is None
    assert any(problem in p for p in record.problems), record.problems


def test_wrong_typed_names_and_models_fall_back(workspace: Path) -> None:
    cases = write_broken_corpus(workspace)
    assert ws.read_agent(cases["name-is-number"]).name == "bad-name-is-number"
    assert ws.read_agent(cases["model-is-dict"]).model is None
    with pytest.raises(WorkspaceFileError, match="short_memory is not a list"):
        ws.load_conversation(cases["short-memory-is-text"])


def test_files_and_links_where_folders_should_be(workspace: Path) -> None:
    cases = write_broken_corpus(workspace)
    read = ws.read_agent
    assert read(cases["file-not-folder"]).problems == ["is a file, expected an agent folder"]
    assert read(cases["dangling-link"]).problems[0].startswith("dangling symbolic link to")
    assert read(cases["link-loop"]).problems[0].startswith("symbolic link loop")
    link_out = read(cases["link-out"])
    assert link_out.status == "broken"
    assert "not followed" in link_out.problems[0]
    assert link_out.size_bytes < 1000  # the link itself, not the 100 KB behind it
    assert read(cases["empty-folder"]).problems == ["no config.json (empty folder)"]
    assert read(cases["config-is-folder"]).problems == ["config.json is a folder, expected a file"]
    assert read(workspace / "agents" / "gone").problems == ["folder not found"]


def test_sizes_never_follow_links_inside_a_folder(workspace: Path) -> None:
    cases = write_broken_corpus(workspace)
    record = ws.read_agent(cases["inner-links"])
    assert record.size_bytes == _files_size(cases["inner-links"])
    assert record.size_bytes < 1000
    assert record.file_count == 3  # config.json and two links


def test_permission_denied_folder(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = write_ours(workspace, "locked-away")
    real_scandir = os.scandir

    def scandir(path: object = "."):
        if Path(str(path)) == folder:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    # Tests run as root, where chmod does not deny anything; fake the refusal instead.
    monkeypatch.setattr(os, "scandir", scandir)
    [record] = ws.scan()
    assert record.status == "broken"
    assert record.problems == ["folder: permission denied, size not counted"]


def test_permission_denied_config(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = write_ours(workspace, "unreadable")
    real_open = os.open

    def guarded_open(path: object, *args: object, **kwargs: object):
        if Path(str(path)) == folder / "config.json":
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    # As root, chmod 000 does not stop a read; refuse the open instead.
    monkeypatch.setattr(os, "open", guarded_open)
    record = ws.read_agent(folder)
    assert record.status == "broken"
    assert record.problems == ["config.json: permission denied"]


def test_read_agent_touches_only_its_folder(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = write_ours(workspace, "one")
    for n in range(5):
        write_ours(workspace, f"other-{n}")
    seen: list[str] = []
    real_scandir = os.scandir

    def spy(path: object = "."):
        seen.append(str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", spy)
    ws.read_agent(target)
    assert seen and all(s.startswith(str(target)) for s in seen)


def test_temp_files_are_skipped(workspace: Path) -> None:
    folder = write_ours(workspace, "writing")
    size = ws.read_agent(folder).size_bytes
    (folder / ".config.json.77.3.tmp").write_text("{" * 500)
    record = ws.read_agent(folder)
    assert record.size_bytes == size
    assert record.file_count == 4


def test_resolve_by_name_folder_and_path(workspace: Path) -> None:
    folder = write_ours(workspace, "My Agent")
    swarms = write_swarms(workspace, "Research-Bot")
    assert ws.resolve_agent("My Agent") == folder
    assert ws.resolve_agent(folder.name) == folder
    assert ws.resolve_agent(str(folder)) == folder
    assert ws.resolve_agent(str(folder / "config.json")) == folder
    assert ws.resolve_agent("Research-Bot") == swarms
    assert ws.resolve_agent("research-bot") == swarms


def test_resolve_ambiguous_lists_candidates(workspace: Path) -> None:
    first = write_ours(workspace, "twin", agent_id="a" * 32)
    second = write_ours(workspace, "twin", agent_id="b" * 32)
    with pytest.raises(WorkspaceLookupError) as caught:
        ws.resolve_agent("twin")
    message = str(caught.value)
    assert "matches 2 agents" in message
    assert first.name in message and second.name in message


def test_resolve_unknown_name(workspace: Path) -> None:
    write_ours(workspace, "present")
    with pytest.raises(WorkspaceLookupError, match="no agent named 'absent'"):
        ws.resolve_agent("absent")
    with pytest.raises(WorkspaceLookupError, match="no agent folder at"):
        ws.resolve_agent("./nowhere/at/all")


def test_parse_timestamp() -> None:
    aware = ws.parse_timestamp("2026-11-26T09:41:02.123456+02:00")
    assert aware is not None and aware.utcoffset() == timedelta(hours=2)
    naive = ws.parse_timestamp("2026-11-26T09:41:02")
    assert naive == datetime(2026, 11, 26, 9, 41, 2).astimezone()
    assert ws.parse_timestamp("soon") is None
    assert ws.parse_timestamp(None) is None


def test_record_to_dict_is_json(workspace: Path) -> None:
    write_ours(workspace, "json-me")
    [record] = ws.scan()
    data = json.loads(json.dumps(record.to_dict()))
    assert data["name"] == "json-me"
    assert data["last_autosave"] == (BASE_TIME + timedelta(seconds=2)).isoformat()


def test_reads_a_workspace_written_by_a_real_agent(workspace: Path) -> None:
    from agent_tui import Agent

    agent = Agent(model_name="offline/demo", agent_name="real one", max_loops=2)
    answer = agent.run("Summarise the benefits of autosave")
    [record] = ws.scan()
    assert record.folder == Path(agent._get_agent_workspace_dir())
    assert record.format == "agent-tui"
    assert record.status == "completed"
    assert record.loop_count == agent.loop_count
    assert record.state_file == record.folder / "real one_state.json"
    messages = ws.load_conversation(record.folder)
    assert messages[0]["role"] == "system"
    assert messages[1] == {
        **messages[1],
        "role": "user",
        "content": "Summarise the benefits of autosave",
    }
    assert messages[-1]["content"] == answer
    history = ws.step_history(record.folder)
    assert history.loop_counts[0] == 0
    assert history.document(agent.loop_count)["conversation"] == messages
    assert time.time() - record.last_autosave.timestamp() < 60


FORKED_SCAN = """
import json, os, sys, time
from agent_tui import workspace as ws
parent = os.getpid()

def reader(record):
    if os.getpid() == parent:
        time.sleep(0.001)  # a slow parent: the child must take chunks of its own
    return record.folder_name, os.getpid()

def failing_child(record):
    if os.getpid() != parent:
        raise RuntimeError("the child dies")
    return record.folder_name

def failing_parent(record):
    if os.getpid() == parent:
        raise RuntimeError("the parent fails")
    return record.folder_name * 100  # distinct strings: the results overfill the pipe

try:
    ws.scan_map(sys.argv[1], failing_parent, jobs=2)
    parent_failure = "nothing raised"
except RuntimeError as exc:
    parent_failure = str(exc)

records = ws.scan(sys.argv[1], jobs=2)
print(json.dumps({
    "parent_failure": parent_failure,
    "parent": parent,
    "records": [r.to_dict() for r in records],
    "readers": ws.scan_map(sys.argv[1], reader, jobs=2),
    "after_failure": ws.scan_map(sys.argv[1], failing_child, jobs=2),
}))
"""


def test_forked_scan_gives_the_same_records(tmp_path, child_env) -> None:
    from agent_tui.workspace import PARALLEL_MIN

    for i in range(PARALLEL_MIN + 10):
        folder = tmp_path / "agents" / f"agent-{i:05d}"
        folder.mkdir(parents=True)
        if i % 3:
            meta = {"_autosave_metadata": {"loop_count": i}}
            (folder / "config.json").write_text(json.dumps(meta))
    single = ws.scan(tmp_path)
    # In a process of its own: the scan forks only where no other thread runs, as in the CLI.
    out = subprocess.run(
        [sys.executable, "-c", FORKED_SCAN, str(tmp_path)],
        env=child_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    found = json.loads(out.stdout)
    assert found["records"] == [r.to_dict() for r in single]
    assert len(single) == PARALLEL_MIN + 10
    # The forked child reads a share, and only what convert returns comes back, in order.
    names = [r.folder_name for r in single]
    assert [name for name, _ in found["readers"]] == names
    assert len({pid for _, pid in found["readers"]} - {found["parent"]}) == 1
    # A child that dies loses nothing: the parent reads the chunks it did not send.
    assert found["after_failure"] == names
    # A parent that fails raises its error; the child, blocked on a full pipe, is not waited
    # for forever (the subprocess timeout would fail this test).
    assert found["parent_failure"] == "the parent fails"


def test_the_lock_is_asked_only_when_the_config_claims_a_run(workspace: Path) -> None:
    # A finished config is believed as it is; the lock decides only whether "running" is true.
    # (save() and load() hold the lock for a moment on finished agents: that is not a run.)
    done = write_ours(workspace, "done", status="completed")
    claimed = write_ours(workspace, "claimed", status="running")
    with WorkspaceLock(done), WorkspaceLock(claimed):
        records = {r.name: r for r in ws.scan()}
        assert records["done"].status == "completed" and records["done"].holder is None
        assert records["claimed"].status == "running"
        assert records["claimed"].holder.startswith(f"pid {os.getpid()}")
    records = {r.name: r for r in ws.scan()}
    assert records["claimed"].status == "interrupted"


def test_ls_table_masks_a_key_a_config_put_in_a_problem(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from agent_tui.cli import main

    key = "sk-problemLEAK0123456789abcdefXYZ"
    folder = write_ours(workspace, "odd-status")
    config = json.loads((folder / "config.json").read_text())
    config["_autosave_metadata"]["status"] = f"paused by {key}"
    (folder / "config.json").write_text(json.dumps(config))
    failed = write_ours(workspace, "failed", status="error")
    config = json.loads((failed / "config.json").read_text())
    config["_autosave_metadata"]["error"] = f"401: {key}"
    (failed / "config.json").write_text(json.dumps(config))
    assert main(["--workspace", str(workspace), "ls"]) == 0
    out = capsys.readouterr().out
    assert key not in out
    assert "unknown status 'paused by [REDACTED]'" in out
    assert "failed" in out and "odd-status" in out
