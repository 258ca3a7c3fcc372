"""Pilot tests of the cleanup screen: marks, presets, refusal of running folders, read-only."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from textual.widgets import DataTable, Input
from tui_fixtures import SNAPSHOT_NOW, run_agent, wait_until
from workspace_fixtures import BASE_TIME, live_run, write_ours

from agent_tui.format.lock import WorkspaceLock
from agent_tui.tui.app import AgentTUI
from agent_tui.tui.cleanup_screen import CleanupScreen
from agent_tui.tui.dialogs import ConfirmDialog, ValuePrompt


async def open_cleanup(pilot, app: AgentTUI, count: int) -> CleanupScreen:
    assert await wait_until(pilot, lambda: len(app.table.records) == count)
    await pilot.press("c")
    assert await wait_until(pilot, lambda: isinstance(app.screen, CleanupScreen))
    return app.screen


async def answer(pilot, app: AgentTUI, number: str) -> None:
    app.screen.query_one(Input).value = number
    await pilot.press("enter")


async def mark(pilot, screen: CleanupScreen, folder: Path) -> None:
    table = screen.query_one("#cleanup-table", DataTable)
    table.move_cursor(row=table.get_row_index(str(folder)))
    await pilot.press("space")


async def test_deletes_exactly_the_marked_folders(workspace: Path) -> None:
    folders = [run_agent(workspace, name, loops=1) for name in ("a", "b", "c", "d")]
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_cleanup(pilot, app, 4)
        await mark(pilot, screen, folders[0])
        await mark(pilot, screen, folders[2])
        assert screen.marked == {str(folders[0]), str(folders[2])}
        assert "2 marked" in str(screen.query_one("#cleanup-summary").content)
        await pilot.press("d")
        assert await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        assert await wait_until(pilot, lambda: not folders[0].exists() and not screen.deleting)
        assert not folders[2].exists()
        assert folders[1].exists() and folders[3].exists()
        assert set(screen.records) == {str(folders[1]), str(folders[3])}
        assert set(app.table.records) == {str(folders[1]), str(folders[3])}


async def test_a_running_folder_cannot_be_marked_or_deleted(workspace: Path) -> None:
    idle = run_agent(workspace, "idle", loops=1)
    busy = run_agent(workspace, "busy", loops=1)
    with live_run(busy):
        app = AgentTUI(workspace_dir=workspace, watch=False)
        async with app.run_test(size=(140, 40)) as pilot:
            screen = await open_cleanup(pilot, app, 2)
            assert screen.records[str(busy)].status == "running"
            await mark(pilot, screen, busy)
            assert screen.marked == set()
            # Marked while idle, then a run starts: the delete re-checks the lock and refuses.
            await mark(pilot, screen, idle)
            with WorkspaceLock(idle):
                await pilot.press("d")
                assert await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
                await pilot.press("y")
                assert await wait_until(pilot, lambda: not screen.deleting)
                await pilot.pause(0.1)
            assert idle.exists() and busy.exists()


async def test_presets_mark_old_folders_and_keep_the_newest_per_name(workspace: Path) -> None:
    old = write_ours(
        workspace, "report", agent_id="1" * 32, timestamp=BASE_TIME - timedelta(days=30)
    )
    mid = write_ours(
        workspace, "report", agent_id="2" * 32, timestamp=BASE_TIME - timedelta(days=2)
    )
    new = write_ours(workspace, "report", agent_id="3" * 32, timestamp=BASE_TIME)
    app = AgentTUI(workspace_dir=workspace, watch=False, clock=lambda: SNAPSHOT_NOW)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_cleanup(pilot, app, 3)
        await pilot.press("o")
        assert await wait_until(pilot, lambda: isinstance(app.screen, ValuePrompt))
        await answer(pilot, app, "10")
        assert await wait_until(pilot, lambda: screen.marked == {str(old)})
        await pilot.press("k")
        assert await wait_until(pilot, lambda: isinstance(app.screen, ValuePrompt))
        await answer(pilot, app, "1")
        assert await wait_until(pilot, lambda: screen.marked == {str(old), str(mid)})
        assert new.exists()


async def test_read_only_blocks_every_destructive_action(workspace: Path) -> None:
    folder = run_agent(workspace, "keep-me", loops=1)
    app = AgentTUI(workspace_dir=workspace, watch=False, read_only=True)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_cleanup(pilot, app, 1)
        assert screen.query_one("#cleanup-banner").display
        await pilot.pause(0.2)
        offered = {key.description for key in screen.query("FooterKey")}  # type: ignore[attr-defined]
        assert "Back" in offered and not offered & {"Delete", "Mark", "Older than", "Trash"}
        await pilot.press("space", "o", "k", "d")
        await pilot.pause(0.1)
        assert isinstance(app.screen, CleanupScreen)
        assert screen.marked == set()
        screen.marked.add(str(folder))  # even a mark that got there somehow
        await screen.run_action("delete")
        await pilot.pause(0.1)
        assert not isinstance(app.screen, ConfirmDialog)
        assert folder.exists()
