"""``agent-tui clean``'s options read by the rules the app uses (ages, sizes, statuses), a bad
value refused as a usage error, and ``--desktop-trash`` moving folders for real."""

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
