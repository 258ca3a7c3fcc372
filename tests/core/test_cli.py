"""The headless CLI: what a user sees, exit codes, one-line errors, start-up cost."""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from workspace_fixtures import (
    BASE_TIME,
    control_chars,
    write_escape_agents,
    write_ours,
    write_swarms,
)

from agent_tui import cli
from agent_tui import workspace as ws
from agent_tui.format.lock import WorkspaceLock

REPO = Path(__file__).resolve().parents[2]
SUBCOMMANDS = ["ls", "show", "diff", "run", "resume", "clean", "demo"]


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, err: str, text: str) -> None:
    assert code != 0
    assert err.startswith("agent-tui: error: ")
    assert text in err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_every_command_has_help_with_examples(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main([command, "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert f"usage: agent-tui {command}" in out
    assert "examples:" in out
    assert f"agent-tui {command}" in out.split("examples:")[1]


def test_main_help_lists_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    for command in SUBCOMMANDS:
        assert command in out


def test_no_command_prints_help_without_an_app(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys)  # the headless CLI alone is handed no app
    assert code == 0
    assert "usage: agent-tui" in out


def test_no_command_launches_the_app_when_present(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    launched = []

    def open_app(workspace_dir, *, read_only, watch) -> int:
        launched.append((workspace_dir, read_only, watch))
        return 0

    code = cli.main(["--workspace", "/tmp/somewhere", "--read-only"], open_app=open_app)
    assert code == 0
    assert launched == [("/tmp/somewhere", True, True)]


def test_usage_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["ls", "--sort", "bogus"])
    assert exited.value.code == 2
    assert_one_line_error(2, capsys.readouterr().err, "invalid choice: 'bogus'")
    with pytest.raises(SystemExit):
        cli.main(["clean", "--older-than", "soon"])
    assert_one_line_error(2, capsys.readouterr().err, "'soon' is not an age")


def test_ls_table_and_json(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_ours(workspace, "alpha", loop_count=3)
    write_swarms(workspace, "Bond-Agent", loop_count=None)
    (workspace / "agents" / "junk").write_text("x")
    code, out, _ = run_cli(capsys, "ls")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == [
        "NAME", "STATUS", "LOOPS", "SAVED", "SIZE", "MODEL", "FORMAT", "FOLDER", "PROBLEM"
    ]  # fmt: skip
    alpha = next(line for line in lines if line.startswith("alpha "))
    assert alpha.split()[:3] == ["alpha", "completed", "3"]
    assert "agent-tui" in alpha
    bond = next(line for line in lines if line.startswith("Bond-Agent"))
    assert "interrupted" in bond and "swarms" in bond and "gpt-4o-mini" in bond
    junk = next(line for line in lines if line.startswith("junk"))
    assert "broken" in junk and "is a file, expected an agent folder" in junk
    assert lines[-1].startswith("3 agents, ")

    code, out, _ = run_cli(capsys, "ls", "--json")
    records = json.loads(out)
    assert [r["name"] for r in records] == ["alpha", "Bond-Agent", "junk"]
    assert records[0]["loop_count"] == 3 and records[0]["format"] == "agent-tui"


def test_ls_sorting(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_ours(workspace, "old", timestamp=BASE_TIME - timedelta(days=3))
    write_ours(workspace, "new", timestamp=BASE_TIME)
    big = write_ours(workspace, "big", timestamp=BASE_TIME - timedelta(days=9))
    (big / "blob.bin").write_bytes(b"0" * 50_000)

    def names(*extra: str) -> list[str]:
        return [r["name"] for r in json.loads(run_cli(capsys, "ls", "--json", *extra)[1])]

    assert names() == ["big", "new", "old"]
    assert names("--sort", "age") == ["new", "old", "big"]
    assert names("--sort", "size")[0] == "big"
    # Ties go by name as a person reads it, whatever the case.
    write_ours(workspace, "Zed", timestamp=BASE_TIME - timedelta(days=1))
    assert names("--sort", "status") == ["big", "new", "old", "Zed"]


def test_ls_empty_and_workspace_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    code, out, _ = run_cli(capsys, "ls", "--workspace", str(tmp_path / "empty"))
    assert code == 0
    assert out.strip() == f"no agents in {tmp_path / 'empty' / 'agents'}"
    write_ours(tmp_path / "elsewhere", "far")
    # --workspace works before the command too.
    _, out, _ = run_cli(capsys, "--workspace", str(tmp_path / "elsewhere"), "ls")
    assert out.startswith("NAME") and "\nfar " in out


def test_show(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_ours(workspace, "alpha", loop_count=2, status="error")
    code, out, _ = run_cli(capsys, "show", "alpha")
    assert code == 0
    assert "status:        error" in out
    assert "error:         model exploded" in out
    assert "loops:         2" in out
    assert "conversation (4 messages):" in out
    assert "[assistant]\n  step 2 answer" in out
    assert "model_name: offline/demo" in out

    _, out, _ = run_cli(capsys, "show", "alpha", "--json")
    document = json.loads(out)
    assert document["record"]["status"] == "error"
    assert document["conversation"][-1]["content"] == "step 2 answer"


def test_show_swarms_and_broken(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_swarms(workspace, "Bond-Agent")
    _, out, _ = run_cli(capsys, "show", "Bond-Agent")
    assert "format:        swarms" in out
    assert "[assistant]\n  A bond is a loan to an issuer." in out
    bad = workspace / "agents" / "bad-one"
    bad.mkdir()
    (bad / "config.json").write_bytes(b'{"agent_name": ')
    code, out, _ = run_cli(capsys, "show", "bad-one")
    assert code == 0
    assert "status:        broken" in out
    assert "problem:       config.json: truncated JSON" in out


def test_show_unknown_agent_is_one_line(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_ours(workspace, "twin", agent_id="a" * 32)
    write_ours(workspace, "twin", agent_id="b" * 32)
    code, _, err = run_cli(capsys, "show", "nobody")
    assert_one_line_error(code, err, "no agent named 'nobody'")
    code, _, err = run_cli(capsys, "show", "twin")
    assert_one_line_error(code, err, "'twin' matches 2 agents")


def test_diff_steps(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_ours(workspace, "stepper", loop_count=3)
    code, out, _ = run_cli(capsys, "diff", "stepper", "--steps", "1", "3")
    assert code == 0
    assert out.splitlines() == [
        "~ loop_count: 1 -> 3",
        "+ conversation[3] (appended): assistant: step 2 answer",
        "+ conversation[4] (appended): assistant: step 3 answer",
        '+ memory.notes: "halfway"',
        "2 appended, 1 added, 1 changed",
    ]
    code, _, err = run_cli(capsys, "diff", "stepper", "--steps", "1", "7")
    assert_one_line_error(code, err, "step 7 is not in the history")


def test_diff_files_and_agents(
    tmp_path: Path, workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = write_ours(workspace, "a-agent", loop_count=1)
    b = write_ours(workspace, "b-agent", loop_count=2)
    code, out, _ = run_cli(capsys, "diff", str(a / "config.json"), str(b / "config.json"), "--json")
    assert code == 0
    paths = {c["path"] for c in json.loads(out)["changes"]}
    assert {"agent_name", "_autosave_metadata.loop_count"} <= paths

    code, out, _ = run_cli(capsys, "diff", "a-agent", "b-agent", "--ignore-noise", "--json")
    changes = json.loads(out)["changes"]
    assert {k: changes[-1][k] for k in ("kind", "path")} == {
        "kind": "appended",
        "path": "conversation[3]",
    }
    assert not any(c["path"].endswith("timestamp") for c in changes)

    code, out, _ = run_cli(capsys, "diff", "a-agent", "b-agent", "--color", "always")
    assert "\x1b[32m+ conversation[3] (appended)" in out

    code, _, err = run_cli(capsys, "diff", str(a / "config.json"), "b-agent")
    assert_one_line_error(code, err, "not one of each")
    (tmp_path / "bad.json").write_text("{")
    code, _, err = run_cli(capsys, "diff", str(tmp_path / "bad.json"), str(a / "config.json"))
    assert_one_line_error(code, err, "bad.json: truncated JSON")


def test_run_streams_and_saves(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "run", "Summarise autosave", "--name", "runner")
    assert code == 0
    [record] = ws.scan()
    assert record.name == "runner" and record.status == "completed"
    conversation = ws.load_conversation(record.folder)
    said = [m["content"] for m in conversation if m["role"] == "assistant"]
    assert out.split() == "".join(said).split()  # every step's text was streamed
    assert "-- step 1 (1/3)" in err
    assert "-- run completed after" in err
    assert f"workspace: {record.folder}" in err


def test_run_model_error_is_one_line(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(
        capsys, "run", "t", "--name", "failing", "--model", "offline/demo?fail_at=1&fail=auth"
    )
    last = err.strip().splitlines()[-1]
    assert code == 1
    assert last.startswith("agent-tui: error: model 'offline/demo?fail_at=1&fail=auth' failed")
    assert "state saved in" in last
    assert "Traceback" not in err
    [record] = ws.scan()
    assert record.status == "error"


def test_run_busy_workspace(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_ours(workspace, "busy", status="running")
    with WorkspaceLock(folder):
        code, _, err = run_cli(capsys, "run", "t", "--name", "busy", "--yes")
    assert_one_line_error(code, err, "is in use by another live process")


def test_run_ctrl_c(
    workspace: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from agent_tui.agent import Agent

    def interrupted(self, task, streaming_callback=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(Agent, "run", interrupted)
    code, _, err = run_cli(capsys, "run", "t", "--name", "stopped")
    assert code == 130
    assert "interrupted; state saved in" in err


def test_resume_continues(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_cli(capsys, "run", "First task", "--name", "again", "--max-loops", "2")
    before = ws.scan()[0].loop_count
    code, out, err = run_cli(capsys, "resume", "again", "Second task")
    assert code == 0, err
    assert f"resuming 'again' after step {before}" in err
    [record] = ws.scan()
    assert record.loop_count > before
    conversation = ws.load_conversation(record.folder)
    contents = [m["content"] for m in conversation]
    assert "First task" in contents and "Second task" in contents
    said = [
        m["content"]
        for m in conversation[contents.index("Second task") :]
        if m["role"] == "assistant"
    ]
    assert said and out.split() == "".join(said).split()


def test_resume_of_a_swarms_agent_continues_beside_it(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    swarms = write_swarms(workspace, "Bond-Agent", loop_count=1)
    before = {p.name: p.read_bytes() for p in swarms.iterdir() if p.is_file()}
    code, _, err = run_cli(
        capsys, "resume", "Bond-Agent", "And what is a coupon?", "--model", "offline/demo"
    )
    assert code == 0, err
    assert "resuming 'Bond-Agent' after step 1" in err
    # The swarms folder is read, never written; the run continues in a folder of our own.
    assert {p.name: p.read_bytes() for p in swarms.iterdir() if p.is_file()} == before
    ours = [r for r in ws.scan() if r.format == "agent-tui"]
    assert len(ours) == 1 and ours[0].loop_count > 1
    contents = [m["content"] for m in ws.load_conversation(ours[0].folder)]
    assert "What is a bond?" in contents and "And what is a coupon?" in contents


def test_resume_refuses_broken(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = workspace / "agents" / "bad-one"
    bad.mkdir(parents=True)
    (bad / "config.json").write_bytes(b"")
    code, _, err = run_cli(capsys, "resume", "bad-one")
    assert_one_line_error(code, err, "cannot resume")
    assert "empty file" in err


def test_clean_dry_run_then_yes(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = write_ours(workspace, "worker", agent_id="1" * 32, timestamp=BASE_TIME)
    new = write_ours(workspace, "worker", agent_id="2" * 32, timestamp=BASE_TIME + timedelta(1))
    code, out, _ = run_cli(capsys, "clean", "--keep-last", "1")
    assert code == 0
    assert old.name in out and new.name not in out
    assert "1 folder, " in out and "dry run: nothing removed" in out
    assert old.exists()

    code, out, _ = run_cli(capsys, "clean", "--keep-last", "1", "--yes")
    assert code == 0
    assert not old.exists() and new.exists()
    assert "removed 1 folder, freed " in out


def test_clean_protects_running_and_reports_json(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    running = write_ours(workspace, "live", status="running")
    errored = write_ours(workspace, "failed", status="error")
    with WorkspaceLock(running):
        code, out, _ = run_cli(capsys, "clean", "--status", "running,error", "--yes", "--json")
    assert code == 0
    document = json.loads(out)
    assert [i["folder"] for i in document["items"]] == [str(errored)]
    assert document["skipped"][0]["folder"] == str(running)
    assert document["skipped"][0]["reason"].startswith("running")
    assert document["result"]["removed"] == [str(errored)]
    assert document["result"]["freed_bytes"] == document["total_bytes"] > 0
    assert running.exists() and not errored.exists()


def test_clean_to_trash_and_bad_input(
    tmp_path: Path, workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_ours(workspace, "old", timestamp=BASE_TIME - timedelta(days=30))
    code, _, err = run_cli(capsys, "clean")
    assert_one_line_error(code, err, "say what to clean")
    code, out, _ = run_cli(
        capsys, "clean", "--older-than", "1d", "--trash", str(tmp_path / "trash")
    )
    assert code == 0
    assert f"would move 1 folder to {tmp_path / 'trash'}\n" in out
    assert folder.exists() and not (tmp_path / "trash").exists()
    code, out, _ = run_cli(
        capsys, "clean", "--older-than", "1d", "--trash", str(tmp_path / "trash"), "--yes"
    )
    assert code == 0
    assert re.search(rf"^moved 1 folder \(\d[\d.]* [KM]?B\) to {tmp_path / 'trash'}$", out, re.M)
    assert (tmp_path / "trash" / folder.name / "config.json").exists()


def test_demo_delegates(
    workspace: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import agent_tui.demo

    seen = []

    def demo_main(argv, *, open_app):
        seen.append((argv, open_app))
        return 7

    def opener(root, spec):
        return 0

    monkeypatch.setattr(agent_tui.demo, "main", demo_main)
    assert cli.main(["--workspace", "/tmp/w", "demo", "--no-live"], open_demo=opener) == 7
    assert seen == [(["--workspace", "/tmp/w", "--no-live"], opener)]


def test_unexpected_errors_are_one_line(
    workspace: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(root, convert, jobs=1):
        raise RuntimeError("boom")

    monkeypatch.setattr(ws, "scan_map", explode)
    workspace.mkdir()
    code, _, err = run_cli(capsys, "ls")
    assert_one_line_error(code, err, "unexpected RuntimeError: boom")


def test_cli_imports_nothing_heavy() -> None:
    code = (
        "import sys, agent_tui.cli\n"
        "heavy = [m for m in ('litellm', 'textual', 'tui', 'orjson', 'agent_tui.agent', 'openai')"
        " if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    ).stdout
    assert out.strip() == "[]"


def test_help_starts_fast() -> None:
    script = Path(sys.executable).parent / "agent-tui"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "agent_tui.cli"]
    times = []
    for _ in range(5):
        started = time.perf_counter()
        subprocess.run([*command, "--help"], capture_output=True, check=True, cwd=REPO)
        times.append(time.perf_counter() - started)
    assert statistics.median(times) < 0.3, times


def test_ls_subprocess_never_imports_the_runtime(workspace: Path) -> None:
    write_ours(workspace, "alpha")
    code = (
        "import sys\n"
        "from agent_tui.cli import main\n"
        "rc = main(['ls'])\n"
        "assert 'litellm' not in sys.modules and 'agent_tui.agent' not in sys.modules, 'heavy'\n"
        "sys.exit(rc)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert "alpha" in done.stdout


def test_show_and_diff_mask_secrets_from_foreign_files(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json as _json

    folder = write_swarms(workspace, "Leaky-Agent", loop_count=2)
    config = _json.loads((folder / "config.json").read_text())
    config["llm_api_key"] = "sk-live-abcdefghijklmnopqrstuv"
    config["short_memory"].append({"role": "Human", "content": "key sk-proj-ABCDEFGHIJKLMNOPQRST"})
    (folder / "config.json").write_text(_json.dumps(config))
    other = workspace / "other.json"
    other.write_text(_json.dumps({**config, "llm_api_key": "another-secret-value"}))
    for argv in (("show", "Leaky-Agent"), ("show", "Leaky-Agent", "--json")):
        code, out, _ = run_cli(capsys, *argv)
        assert code == 0 and "[REDACTED]" in out
        assert "sk-live" not in out and "sk-proj" not in out
    code, out, _ = run_cli(capsys, "diff", str(folder / "config.json"), str(other))
    assert "another-secret-value" not in out and "sk-live" not in out


def test_run_rejects_bad_input_before_writing_anything(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(capsys, "run", "   ")
    assert_one_line_error(code, err, "the task is empty")
    code, _, err = run_cli(capsys, "run", "hi", "--model", "offline/demo?bogus=1")
    assert_one_line_error(code, err, "unknown option 'bogus'")
    assert not (workspace / "agents").exists()


def test_run_uses_the_demo_tools_and_reports_each_step(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, "run", "Explain fsync and rename", "--max-loops", "5")
    assert code == 0, err
    [record] = ws.scan()
    assert record.loop_count == 3 and record.status == "completed"
    assert "-- step 3" in err and "tool" in err
    assert "The tools reported" in out


def test_text_from_disk_never_drives_the_terminal(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Escape sequences everywhere a command prints from: names, model, a folder name,
    # message text, settings, an error.
    first, odd = write_escape_agents(workspace)

    outputs = {}
    for argv in (
        ["ls"],
        ["show", str(first)],
        ["diff", str(first), str(odd)],
        ["diff", str(first / "config.json"), str(workspace / "agents" / "missing.json")],
        ["clean", "--status", "error"],
    ):
        _, out, err = run_cli(capsys, *argv)
        outputs[" ".join(argv[:1])] = out + err
        assert not control_chars(out + err), (argv, out + err)
    assert "evil\\x1b[2J\\x1b]0;owned\\x07\\x9b31m\\x0d" in outputs["ls"]
    assert "odd\\x1b[2J" in outputs["clean"]
    assert "answer\\x1b[2J" in outputs["show"] and "second line" in outputs["show"]
