"""``agent-tui clean``'s options read by the rules the app uses (ages, sizes, statuses), a bad
value refused as a usage error, ``--desktop-trash`` moving folders for real; and a run's progress
lines (:mod:`agent_tui.run_render`, shared with the app's Run tab) in good English, never
showing a Python ``None``."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

import pytest
from children import agent_tui
from workspace_fixtures import write_ours

from agent_tui import cli
from agent_tui.format.layout import STATUSES
from agent_tui.run_protocol import Event, Start
from agent_tui.run_render import render
from agent_tui.units import AGE_FORMS, SIZE_FORMS


def usage_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """The one line a usage error prints (exit 2, nothing on stdout)."""
    with pytest.raises(SystemExit) as exited:
        cli.main(list(argv))
    out, err = capsys.readouterr()
    assert exited.value.code == 2, err
    assert out == ""
    (line,) = err.splitlines()
    assert line.startswith("agent-tui: error: ")
    return line


def _month_old(workspace: Path, name: str = "old") -> Path:
    return write_ours(workspace, name, timestamp=datetime.now(UTC) - timedelta(days=30))


# ------------------------------------------------------------------------- ages and sizes
def test_a_plain_number_of_days_is_an_age(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _month_old(workspace)
    assert cli.main(["clean", "--older-than", "20"]) == 0
    assert folder.name in capsys.readouterr().out
    assert cli.main(["clean", "--older-than", "40"]) == 0
    out = capsys.readouterr().out
    assert folder.name not in out and out.startswith("0 folders, ")


def test_a_bad_age_or_size_is_a_usage_error_naming_the_forms(
    capsys: pytest.CaptureFixture[str],
) -> None:
    line = usage_error(capsys, "clean", "--older-than", "soon")
    assert "argument --older-than: 'soon' is not an age" in line and AGE_FORMS in line
    line = usage_error(capsys, "clean", "--min-size", "10XB")
    assert "argument --min-size: '10XB' is not a size" in line and SIZE_FORMS in line


# ------------------------------------------------------------------------- statuses
def test_statuses_are_parsed_as_options_an_unknown_one_is_a_usage_error(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    failed = write_ours(workspace, "failed", status="error")
    stopped = write_ours(workspace, "stopped", status="interrupted")
    done = write_ours(workspace, "done", status="completed")
    line = usage_error(capsys, "clean", "--status", "error,finished", "--yes")
    assert "argument --status: unknown status finished; choose from " in line
    assert all(status in line for status in STATUSES)
    assert failed.exists()
    # Repeated and comma-separated, the statuses add up.
    assert cli.main(["clean", "--status", "error", "--status", "unknown,interrupted"]) == 0
    out = capsys.readouterr().out
    assert failed.name in out and stopped.name in out and done.name not in out


# ------------------------------------------------------------------------- --desktop-trash
def test_desktop_trash_moves_the_folder_there_for_real(
    tmp_path: Path, workspace: Path, child_env: dict[str, str]
) -> None:
    folder = _month_old(workspace)
    trash = tmp_path / "xdg" / "Trash"
    env = {**child_env, "XDG_DATA_HOME": str(tmp_path / "xdg")}

    dry = agent_tui("clean", "--older-than", "7d", "--desktop-trash", env=env)
    assert dry.returncode == 0, dry.stderr
    assert f"dry run: nothing moved; with --yes, would move 1 folder to the trash ({trash})\n" in (
        dry.stdout
    )
    assert folder.exists() and not trash.exists()

    done = agent_tui("clean", "--older-than", "7d", "--desktop-trash", "--yes", env=env)
    assert done.returncode == 0, done.stderr
    assert re.search(
        rf"^moved 1 folder \(\d[\d.]* [KM]?B\) to the trash \({trash}\)$", done.stdout, re.M
    )
    assert not folder.exists()
    assert os.listdir(workspace / "agents") == []
    assert (trash / "files" / folder.name / "config.json").is_file()
    info = (trash / "info" / f"{folder.name}.trashinfo").read_text()
    assert f"Path={folder}" in unquote(info)


def test_desktop_trash_and_a_trash_folder_exclude_each_other(
    tmp_path: Path, workspace: Path, child_env: dict[str, str]
) -> None:
    folder = _month_old(workspace)
    env = {**child_env, "XDG_DATA_HOME": str(tmp_path / "xdg")}
    argv = ["clean", "--older-than", "7d", "--trash", str(tmp_path / "bin"), "--desktop-trash"]
    done = agent_tui(*argv, "--yes", env=env)
    assert done.returncode == 2
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert "argument --desktop-trash: not allowed with argument --trash" in line
    assert folder.exists()
    assert not (tmp_path / "bin").exists() and not (tmp_path / "xdg").exists()


# ------------------------------------------------------------------------- run progress lines
def _texts(record: Event | Start) -> list[str]:
    return [line.text for line in render(record)]


def test_progress_lines_say_one_and_many() -> None:
    assert _texts(Event("step_end", {"step": 1, "tool_calls": 1})) == [
        "   step 1 saved (1 tool call)"
    ]
    assert _texts(Event("step_end", {"step": 2, "tool_calls": 2})) == [
        "   step 2 saved (2 tool calls)"
    ]
    assert _texts(Event("step_end", {"step": 3})) == ["   step 3 saved (0 tool calls)"]
    assert _texts(Event("run_end", {"status": "completed", "loop_count": 1})) == [
        "-- run completed after 1 step"
    ]
    assert _texts(Event("run_end", {"status": "interrupted", "loop_count": 4})) == [
        "-- run interrupted after 4 steps"
    ]
    resumed = Start(loop_count=2, resumed=True, messages=1, task="go on")
    assert _texts(resumed)[0] == "resumed after step 2 (1 message)"


KINDS = [
    "step_start",
    "tool_call",
    "tool_result",
    "autosave",
    "autosave_failed",
    "step_end",
    "run_end",
]
# Every field any of these kinds reads.
FIELDS = ["step", "loop", "max_loops", "name", "arguments", "result", "is_error", "file", "bytes"]
FIELDS += ["ms", "error", "tool_calls", "status", "loop_count"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_null_field_never_shows_as_none(kind: str) -> None:
    (line,) = _texts(Event(kind, dict.fromkeys(FIELDS)))
    assert "None" not in line and line.strip()


def test_a_missing_name_status_or_error_reads_as_a_dash_or_is_left_out() -> None:
    assert _texts(Event("tool_call", {"name": None, "arguments": None})) == ["   tool -()"]
    assert _texts(Event("step_start", {"step": 2})) == ["-- step 2"]
    assert _texts(Event("run_end", {})) == ["-- run -"]
    assert _texts(Event("autosave_failed", {})) == ["   autosave failed (retried next step)"]


def test_a_real_run_says_one_tool_call_and_one_step(child_env: dict[str, str]) -> None:
    done = agent_tui("run", "Count words in hello world", "--model", "offline/demo", env=child_env)
    assert done.returncode == 0, done.stderr
    assert "   step 1 saved (1 tool call)\n" in done.stderr
    assert "   step 3 saved (0 tool calls)\n" in done.stderr
    assert "-- run completed after 3 steps\n" in done.stderr
    once = agent_tui(
        "run",
        "x",
        "--model",
        "offline/demo?tool_steps=0",
        "--max-loops",
        "1",
        "--yes",
        env=child_env,
    )
    assert once.returncode == 0, once.stderr
    assert "   step 1 saved (0 tool calls)\n" in once.stderr
    assert "-- run completed after 1 step\n" in once.stderr
    assert "None" not in done.stderr + once.stderr
