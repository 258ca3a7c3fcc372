"""Snapshots of the main screens: fixed size, fixed paths, fixed clock, watcher off."""

from __future__ import annotations

import pytest
from tui_fixtures import SNAPSHOT_NOW, SNAPSHOT_ROOT, recorded_run, snapshot_workspace, wait_until

from agent_tui.runner import RunSpec
from agent_tui.tui.app import AgentTUI
from agent_tui.tui.display import LOADING

SIZE = (130, 36)
# The screens a user meets first, on a large terminal and on the smallest usual one.
SIZES = pytest.mark.parametrize("size", [(160, 45), (80, 24)], ids=["160x45", "80x24"])


def make_app() -> AgentTUI:
    return AgentTUI(workspace_dir=snapshot_workspace(), watch=False, clock=lambda: SNAPSHOT_NOW)


def config_read(app: AgentTUI) -> bool:
    """The Config tab shows what its loader read (the document, or why it cannot)."""
    return str(app.config_view.query_one("#config-body").content) not in ("", LOADING)


async def scanned(pilot) -> None:
    app = pilot.app
    assert await wait_until(pilot, lambda: len(app.table.records) == 5 and app.selected)
    assert await wait_until(pilot, lambda: config_read(app))
    await pilot.pause()


@SIZES
def test_main_screen(snap_compare, size) -> None:
    assert snap_compare(make_app(), terminal_size=size, run_before=scanned)


@SIZES
def test_new_run_dialog(snap_compare, size, monkeypatch, tmp_path) -> None:
    # The form says which providers have a key: none here, whatever the machine has.
    from agent_tui.models import PROVIDER_KEYS

    for groups in PROVIDER_KEYS.values():
        for group in groups:
            for name in group:
                monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no .env above

    async def new_run(pilot) -> None:
        await scanned(pilot)
        await pilot.press("n")
        assert await wait_until(pilot, lambda: pilot.app.screen.query("#form-start"))
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=size, run_before=new_run)


def test_broken_agent(snap_compare) -> None:
    async def select_broken(pilot) -> None:
        await scanned(pilot)
        await pilot.press("down", "down", "down")
        app = pilot.app
        assert await wait_until(pilot, lambda: app.selected.endswith("half-written"))
        assert await wait_until(pilot, lambda: config_read(app))
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=select_broken)


def test_diff_view(snap_compare) -> None:
    async def last_step(pilot) -> None:
        await scanned(pilot)
        await pilot.press("d")
        assert await wait_until(pilot, lambda: "step 2 -> step 3" in str(
            pilot.app.diff_view.query_one("#diff-summary").content))  # fmt: skip
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=last_step)


@SIZES
def test_cleanup_screen(snap_compare, size) -> None:
    async def mark_old(pilot) -> None:
        await scanned(pilot)
        await pilot.press("c")
        await pilot.pause()
        await pilot.press("space")
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=size, run_before=mark_old)


def test_run_pane_mid_run(snap_compare) -> None:
    # Fed from a recorded stream (what agent_tui.runner prints), so sizes and times are fixed.
    async def mid_run(pilot) -> None:
        await scanned(pilot)
        app = pilot.app
        spec = RunSpec(agent_name="live-demo", task="", workspace=str(SNAPSHOT_ROOT))
        run = app.run_pane.add_run(spec)
        app.tabs.active = "tab-run"
        await pilot.pause()
        for record in recorded_run(SNAPSHOT_ROOT):
            app.run_pane.feed(run.key, record)
        # The log writes its lines once it knows its size: on a loaded machine that is a few
        # frames later, and a photograph taken before shows an empty pane.
        log = app.run_pane.views[run.key].log_view
        assert await wait_until(pilot, lambda: any("metadata" in line.text for line in log.lines))
        # ... and the picture is of its end, whatever the load (it follows the end once laid
        # out; taken before, it showed the middle).
        await pilot.pause()
        log.scroll_end(animate=False, immediate=True)
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=mid_run)


@SIZES
def test_tree_and_a_file(snap_compare, size) -> None:
    """alpha opened in the tree, its config.json in the File tab (the folded JSON tree)."""
    from agent_tui.workspace.files import FileEntry

    async def opened(pilot) -> None:
        await scanned(pilot)
        app = pilot.app
        await pilot.press("enter")
        key = app.table.selected_key
        assert await wait_until(
            pilot, lambda: any(isinstance(e, FileEntry) for e in app.table.opened[key])
        )
        lines = app.table.opened[key]
        child = next(i for i, e in enumerate(lines) if getattr(e, "rel", "") == "config.json")
        app.table.move_cursor(app.table.cursor_row, child=child)
        assert await wait_until(pilot, lambda: app.file_view.shown_kind == "file-json")
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=size, run_before=opened)
