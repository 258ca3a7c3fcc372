"""A new task under a name in use asks first: continue that agent, start a new one beside it,
or cancel. ``--yes`` and ``--new`` answer for scripts; without a terminal and without them,
nothing is written (exit 2)."""

from __future__ import annotations

import io
import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from children import agent_tui

from agent_tui import cli
from agent_tui.agent.fork import existing_agent
from agent_tui.cli.commands.run import REUSE_TRIES, ask_reuse

RUN = ("run", "Plan a picnic", "--name", "same", "--max-loops", "1")


def folders(workspace: Path) -> list[Path]:
    root = workspace / "agents"
    return sorted(root.iterdir()) if root.is_dir() else []


def tree(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.lstat().st_mtime_ns) for p in sorted(folder.iterdir())}


def task_records(folder: Path) -> list[dict]:
    lines = (folder / "journal.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["kind"] == "task"]


@pytest.fixture
def first(workspace: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """The agent 'same' after one run."""
    assert existing_agent("same") is None
    assert cli.main(list(RUN)) == 0
    capsys.readouterr()
    (folder,) = folders(workspace)
    assert existing_agent("same") == folder
    return folder


@pytest.fixture
def no_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("c\n"))  # would answer, were it asked


def test_without_a_terminal_or_a_flag_nothing_is_written(
    workspace: Path, first: Path, no_terminal: None, capsys: pytest.CaptureFixture[str]
) -> None:
    before = tree(first)
    assert cli.main(list(RUN)) == 2
    out, err = capsys.readouterr()
    assert out == ""
    (line,) = err.splitlines()
    assert line.startswith("agent-tui: error: an agent named 'same' exists already")
    assert str(first) in line and "--yes" in line and "--new" in line
    assert folders(workspace) == [first] and tree(first) == before


def test_a_child_with_no_terminal_exits_2(
    workspace: Path, first: Path, child_env: dict[str, str]
) -> None:
    before = tree(first)
    done = agent_tui(*RUN, env=child_env)  # stdin is /dev/null
    assert done.returncode == 2 and done.stdout == ""
    assert "pass --yes to continue it or --new" in done.stderr
    assert folders(workspace) == [first] and tree(first) == before


def test_yes_continues_the_same_folder_and_keeps_the_earlier_run(
    workspace: Path, first: Path, no_terminal: None, capsys: pytest.CaptureFixture[str]
) -> None:
    earlier = (first / "journal.jsonl").read_bytes()
    assert cli.main([*RUN, "--yes"]) == 0, capsys.readouterr().err
    assert folders(workspace) == [first]
    assert (first / "journal.jsonl").read_bytes().startswith(earlier)
    runs = task_records(first)
    assert len(runs) == 2 and runs[0]["run_id"] != runs[1]["run_id"]


def test_new_starts_a_second_folder_beside_it(
    workspace: Path, first: Path, no_terminal: None, capsys: pytest.CaptureFixture[str]
) -> None:
    before = tree(first)
    assert cli.main([*RUN, "--new"]) == 0
    assert f"workspace: {workspace / 'agents'}" in capsys.readouterr().err
    (second,) = [f for f in folders(workspace) if f != first]
    assert second.name.startswith("same-")
    assert json.loads((second / "config.json").read_text())["agent_name"] == "same"
    assert len(task_records(second)) == 1
    assert tree(first) == before
    assert existing_agent("same") == first  # the name still finds the first


def test_yes_and_new_together_are_a_usage_error(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main([*RUN, "--yes", "--new"])
    assert exited.value.code == 2
    assert folders(workspace) == []


def test_a_name_not_in_use_runs_without_asking(
    workspace: Path, no_terminal: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main([*RUN, "--new"]) == 0  # --new with nothing beside: the name's own folder
    assert [f.name for f in folders(workspace)] == [existing_agent("same").name]


# ------------------------------------------------------------------------- the question
@pytest.mark.parametrize(
    ("typed", "answer"),
    [
        ("c\n", "continue"),
        ("n\n", "new"),
        ("q\n", "cancel"),
        ("  N \n", "new"),
        ("continue\n", "continue"),
        ("", "cancel"),  # end of input
        ("x\nmaybe\nn\n", "new"),
        ("x\n" * REUSE_TRIES + "c\n", "cancel"),
    ],
)
def test_the_question_and_its_answers(typed: str, answer: str, tmp_path: Path) -> None:
    stderr = io.StringIO()
    assert ask_reuse("same", tmp_path / "same-1", io.StringIO(typed), stderr) == answer
    asked = stderr.getvalue()
    assert asked.startswith(f"an agent named 'same' exists already: {tmp_path / 'same-1'}\n")
    assert "[c/n/q]" in asked


def _answer_on_a_terminal(env: dict[str, str], typed: bytes) -> tuple[int, str, str]:
    """``agent-tui run`` with a pseudo-terminal as its stdin and stderr; ``typed`` once it
    asks. Its exit status, stdout and what the terminal showed."""
    master, slave = os.openpty()
    with subprocess.Popen(
        [sys.executable, "-m", "agent_tui.cli", *RUN],
        stdin=slave,
        stderr=slave,
        stdout=subprocess.PIPE,
        env=env,
    ) as child:
        os.close(slave)
        shown, sent = b"", False
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                shown += chunk
            if not sent and b"[c/n/q]" in shown:
                os.write(master, typed)
                sent = True
            if child.poll() is not None and not ready:
                break
        code = child.wait(timeout=30)
        out = child.stdout.read().decode() if child.stdout else ""
    os.close(master)
    assert sent, shown
    return code, out, shown.decode().replace("\r\n", "\n")


def test_on_a_terminal_c_continues(workspace: Path, first: Path, child_env: dict[str, str]) -> None:
    code, out, shown = _answer_on_a_terminal(child_env, b"c\n")
    assert code == 0, shown
    assert folders(workspace) == [first] and len(task_records(first)) == 2
    assert out.strip()  # the answer was streamed


def test_on_a_terminal_n_starts_a_new_agent(
    workspace: Path, first: Path, child_env: dict[str, str]
) -> None:
    before = tree(first)
    code, _, shown = _answer_on_a_terminal(child_env, b"n\n")
    assert code == 0, shown
    assert len(folders(workspace)) == 2 and tree(first) == before


def test_on_a_terminal_q_cancels_and_writes_nothing(
    workspace: Path, first: Path, child_env: dict[str, str]
) -> None:
    before = tree(first)
    code, out, shown = _answer_on_a_terminal(child_env, b"q\n")
    assert (code, out) == (1, "")
    assert "agent-tui: cancelled; nothing was written" in shown
    assert folders(workspace) == [first] and tree(first) == before
