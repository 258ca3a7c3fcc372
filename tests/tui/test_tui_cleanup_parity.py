"""The cleanup screen does what ``agent-tui clean`` does, the way ncdu users expect: presets add
to the marks, ages in any unit, status and minimum-size filters, the desktop trash, apparent
size beside disk usage, and ages that tick."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from test_tui_cleanup import answer, mark, open_cleanup
from textual.widgets import DataTable, Label
from tui_fixtures import SNAPSHOT_NOW, wait_until
from workspace_fixtures import write_ours

from agent_tui.tui.app import AgentTUI
from agent_tui.tui.cleanup_screen import CleanupScreen
from agent_tui.tui.dialogs import ConfirmDialog, ValuePrompt

SIZE = (160, 45)


def cell(screen: CleanupScreen, folder: Path, column: str) -> str:
    """What the user sees in one cell of the cleanup table."""
    table = screen.query_one("#cleanup-table", DataTable)
    return table.get_cell(str(folder), column).plain


def rows(screen: CleanupScreen) -> set[str]:
    table = screen.query_one("#cleanup-table", DataTable)
    return {row.key.value for row in table.ordered_rows}


def summary(screen: CleanupScreen) -> str:
    return str(screen.query_one("#cleanup-summary").content)


async def prompt(pilot, app: AgentTUI, key: str, value: str) -> None:
    """Press ``key``, type ``value`` in the prompt it opens and press Enter."""
    await pilot.press(key)
    assert await wait_until(pilot, lambda: isinstance(app.screen, ValuePrompt))
    await answer(pilot, app, value)


def sparse_agent(root: Path, name: str = "sparse") -> Path:
    """A failed agent holding a 100 MB sparse file: 100 MB apparent, a few KB on disk."""
    folder = write_ours(root, name, status="error", timestamp=SNAPSHOT_NOW - timedelta(days=3))
    scratch = folder / "scratch.bin"
    scratch.touch()
    os.truncate(scratch, 100 << 20)
    return folder


def aged(root: Path, name: str, age: timedelta, status: str = "completed") -> Path:
    return write_ours(root, name, timestamp=SNAPSHOT_NOW - age, status=status)


async def test_presets_add_to_manual_marks(workspace: Path) -> None:
    old = aged(workspace, "old", timedelta(days=30))
    fresh = aged(workspace, "fresh", timedelta(hours=1))
    app = AgentTUI(workspace_dir=workspace, watch=False, clock=lambda: SNAPSHOT_NOW)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_cleanup(pilot, app, 2)
        await mark(pilot, screen, fresh)
        await prompt(pilot, app, "o", "10d")
        assert await wait_until(pilot, lambda: screen.marked == {str(old), str(fresh)})
        # The same preset again changes nothing: the manual mark stays.
        await prompt(pilot, app, "o", "10d")
        await pilot.pause(0.2)
        assert screen.marked == {str(old), str(fresh)}
        assert cell(screen, fresh, "mark") == "[x]" and cell(screen, old, "mark") == "[x]"
        assert summary(screen).startswith("2 marked")


async def test_the_age_preset_takes_any_unit_and_names_the_forms(workspace: Path) -> None:
    two_hours = aged(workspace, "two-hours", timedelta(hours=2))
    aged(workspace, "ten-minutes", timedelta(minutes=10))
    app = AgentTUI(workspace_dir=workspace, watch=False, clock=lambda: SNAPSHOT_NOW)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_cleanup(pilot, app, 2)
        await prompt(pilot, app, "o", "soon")
        dialog = app.screen
        assert isinstance(dialog, ValuePrompt)  # still open, saying what it takes
        hint = str(dialog.query_one("#value-hint", Label).content)
        assert "'soon' is not an age" in hint and "30m, 12h, 7d or 2w" in hint
        await answer(pilot, app, "30m")
        assert await wait_until(pilot, lambda: screen.marked == {str(two_hours)})


async def test_status_and_size_filters_narrow_the_list_and_the_presets(workspace: Path) -> None:
    failed = aged(workspace, "failed", timedelta(days=3), status="error")
    big_failed = sparse_agent(workspace, "big-failed")
    done = aged(workspace, "done", timedelta(days=3))
    app = AgentTUI(workspace_dir=workspace, watch=False, clock=lambda: SNAPSHOT_NOW)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_cleanup(pilot, app, 3)
        await prompt(pilot, app, "f", "error")
        assert await wait_until(pilot, lambda: rows(screen) == {str(failed), str(big_failed)})
        assert "shown: error" in summary(screen)
        await prompt(pilot, app, "m", "10XB")
        hint = str(app.screen.query_one("#value-hint", Label).content)
        assert "'10XB' is not a size" in hint and "500K, 10MB or 2G" in hint
        await answer(pilot, app, "10mb")
        assert await wait_until(pilot, lambda: rows(screen) == {str(big_failed)})
        assert "shown: error >= 10.0 MB" in summary(screen)
        # A preset marks among the folders shown only.
        await prompt(pilot, app, "o", "1d")
        assert await wait_until(pilot, lambda: screen.marked == {str(big_failed)})
        await prompt(pilot, app, "m", "")
        assert await wait_until(pilot, lambda: len(rows(screen)) == 2)
        await pilot.press("asterisk")
        assert await wait_until(pilot, lambda: screen.marked == {str(failed), str(big_failed)})
        await prompt(pilot, app, "f", "")
        assert await wait_until(pilot, lambda: len(rows(screen)) == 3)
        assert str(done) not in screen.marked


async def test_marks_go_to_the_desktop_trash_when_chosen(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    trash = tmp_path / "xdg" / "Trash"
    kept = aged(workspace, "kept", timedelta(days=1))
    trashed = aged(workspace, "trashed", timedelta(days=1))
    deleted = aged(workspace, "deleted", timedelta(days=1))
    app = AgentTUI(workspace_dir=workspace, watch=False, clock=lambda: SNAPSHOT_NOW)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_cleanup(pilot, app, 3)
        assert "d: delete permanently" in summary(screen)
        await pilot.press("T")
        assert "d: to the trash" in summary(screen)
        await mark(pilot, screen, trashed)
        await pilot.press("d")
        assert await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        question = app.screen.question
        assert question.startswith("Move 1 folder, ") and f"to the trash ({trash})?" in question
        await pilot.press("y")
        assert await wait_until(pilot, lambda: not trashed.exists() and not screen.deleting)
        assert (trash / "files" / trashed.name / "config.json").exists()
        assert (trash / "info" / f"{trashed.name}.trashinfo").exists()

        await pilot.press("T")
        await mark(pilot, screen, deleted)
        await pilot.press("d")
        assert await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        question = app.screen.question
        assert question.startswith("Delete 1 folder, ") and "permanently" in question
        await pilot.press("y")
        assert await wait_until(pilot, lambda: not deleted.exists() and not screen.deleting)
        assert os.listdir(trash / "files") == [trashed.name]
        assert kept.exists()


async def test_apparent_size_and_disk_usage_side_by_side(workspace: Path) -> None:
    folder = sparse_agent(workspace)
    app = AgentTUI(workspace_dir=workspace, watch=False, clock=lambda: SNAPSHOT_NOW)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_cleanup(pilot, app, 1)
        assert await wait_until(pilot, lambda: cell(screen, folder, "disk") != "...")
        assert cell(screen, folder, "size") == "100.0 MB"
        assert cell(screen, folder, "disk").endswith(" KB")
        disk = cell(screen, folder, "disk")
        assert f"1 of 1 folder, 100.0 MB ({disk} on disk)" in summary(screen)
        await mark(pilot, screen, folder)
        assert summary(screen).startswith(f"1 marked, 100.0 MB ({disk} on disk) to free")


async def test_ages_tick_and_only_changed_cells_are_drawn(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recent = aged(workspace, "recent", timedelta(minutes=5))
    ancient = aged(workspace, "ancient", timedelta(days=40))
    now = [SNAPSHOT_NOW]

    def clock() -> datetime:
        return now[0]

    monkeypatch.setattr(CleanupScreen, "AGE_REFRESH_SECONDS", 0.05)
    app = AgentTUI(workspace_dir=workspace, watch=False, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_cleanup(pilot, app, 2)
        assert cell(screen, recent, "age") == "5m" and cell(screen, ancient, "age") == "40d"
        table = screen.query_one("#cleanup-table", DataTable)
        drawn: list[tuple[str, str]] = []
        real_update = table.update_cell

        def update_cell(row, column, value, **kwargs):
            drawn.append((row, column))
            return real_update(row, column, value, **kwargs)

        monkeypatch.setattr(table, "update_cell", update_cell)
        now[0] = SNAPSHOT_NOW + timedelta(hours=2)
        assert await wait_until(pilot, lambda: cell(screen, recent, "age") == "2h")
        assert cell(screen, ancient, "age") == "40d"
        assert (str(recent), "age") in drawn
        assert (str(ancient), "age") not in drawn
