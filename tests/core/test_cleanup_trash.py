"""Cleanup to the desktop trash (freedesktop.org, under ``$XDG_DATA_HOME``). Every rule of a
deletion holds for the move: a link inside a folder moves as a link and what it points at stays
as it was; a live agent is never moved; the trash must not be inside the agents folder."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote

import pytest
from test_cleanup_safety import tree_hash
from workspace_fixtures import BASE_TIME, write_ours

from agent_tui import cleanup
from agent_tui import workspace as ws
from agent_tui.format.lock import WorkspaceLock


@pytest.fixture
def xdg_trash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``$XDG_DATA_HOME`` in the test's folder; returns its (not yet made) ``Trash``."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "Trash"


def _plan_all(root: Path) -> cleanup.CleanupPlan:
    return cleanup.plan(ws.scan(root), older_than=timedelta(0), agents_dir=root / "agents")


def test_the_desktop_trash_gets_the_folder_and_its_trashinfo(
    workspace: Path, xdg_trash: Path
) -> None:
    written = write_ours(workspace, "report", timestamp=BASE_TIME - timedelta(days=9))
    folder = written.rename(written.with_name("old report"))
    before = tree_hash(folder)
    result = cleanup.execute(_plan_all(workspace), to_desktop_trash=True)
    assert result.trashed == [folder] and not result.failures
    assert not folder.exists()
    moved = xdg_trash / "files" / folder.name
    assert tree_hash(moved) == before
    info = (xdg_trash / "info" / f"{folder.name}.trashinfo").read_text()
    lines = info.splitlines()
    assert lines[0] == "[Trash Info]"
    path_line = next(line for line in lines if line.startswith("Path="))
    assert "old%20report" in path_line  # URL-encoded, as the spec asks
    assert unquote(path_line.removeprefix("Path=")) == str(folder.resolve())
    assert any(line.startswith("DeletionDate=20") for line in lines)


def test_a_name_taken_in_the_desktop_trash_gets_the_next_number(
    workspace: Path, xdg_trash: Path
) -> None:
    folder = write_ours(workspace, "again")
    (xdg_trash / "files").mkdir(parents=True)
    (xdg_trash / "info").mkdir()
    (xdg_trash / "files" / folder.name).write_text("an older trashed file")
    (xdg_trash / "info" / f"{folder.name}.trashinfo").write_text("[Trash Info]\n")
    result = cleanup.execute(_plan_all(workspace), to_desktop_trash=True)
    assert result.trashed == [folder]
    assert (xdg_trash / "files" / folder.name).read_text() == "an older trashed file"
    assert (xdg_trash / "files" / f"{folder.name}.1" / "config.json").exists()
    assert (xdg_trash / "info" / f"{folder.name}.1.trashinfo").exists()


def test_a_link_inside_a_folder_moves_as_a_link(
    workspace: Path, tmp_path: Path, xdg_trash: Path
) -> None:
    outside = tmp_path / "precious"
    (outside / "deep").mkdir(parents=True)
    (outside / "deep" / "thesis.txt").write_text("years of work")
    folder = write_ours(workspace, "linked")
    (folder / "link-to-precious").symlink_to(outside)
    (folder / "notes-link").symlink_to(outside / "deep" / "thesis.txt")
    hatch = workspace / "agents" / "escape-hatch"  # an agents/ entry that is itself a link
    hatch.symlink_to(outside)
    before_outside = tree_hash(outside)
    result = cleanup.execute(_plan_all(workspace), to_desktop_trash=True)
    assert sorted(result.trashed) == sorted([folder, hatch]) and not result.failures
    assert tree_hash(outside) == before_outside
    moved = xdg_trash / "files" / folder.name
    assert os.readlink(moved / "link-to-precious") == str(outside)
    assert os.readlink(moved / "notes-link") == str(outside / "deep" / "thesis.txt")
    assert os.readlink(xdg_trash / "files" / "escape-hatch") == str(outside)
    assert (xdg_trash / "info" / "escape-hatch.trashinfo").exists()
    assert not folder.exists() and not os.path.lexists(hatch)


def test_a_live_agent_is_never_moved_to_the_trash(workspace: Path, xdg_trash: Path) -> None:
    idle = write_ours(workspace, "idle")
    live = write_ours(workspace, "live")
    plan = _plan_all(workspace)  # both idle when planned; then an agent starts in one
    before = tree_hash(live)
    with WorkspaceLock(live):
        result = cleanup.execute(plan, to_desktop_trash=True)
    after = tree_hash(live)
    # Everything but the lock the live agent wrote its pid in is as it was.
    assert after.keys() == before.keys()
    assert {k: v for k, v in after.items() if k != "agent.lock"} == {
        k: v for k, v in before.items() if k != "agent.lock"
    }
    assert [path for path, _ in result.skipped] == [live]
    assert result.skipped[0][1].startswith("running")
    assert result.trashed == [idle]
    assert os.listdir(xdg_trash / "files") == [idle.name]
    # No .trashinfo for the folder that stayed: the desktop would list a ghost.
    assert os.listdir(xdg_trash / "info") == [f"{idle.name}.trashinfo"]


def test_a_desktop_trash_inside_the_agents_folder_is_refused(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = write_ours(workspace, "kept")
    monkeypatch.setenv("XDG_DATA_HOME", str(workspace / "agents" / "share"))
    with pytest.raises(ValueError, match="must not be inside"):
        cleanup.execute(_plan_all(workspace), to_desktop_trash=True)
    assert (folder / "config.json").exists()
