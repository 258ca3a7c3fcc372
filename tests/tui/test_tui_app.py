"""Pilot tests of the workspace browser: what the screen shows as the disk changes."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from textual.command import CommandPalette
from textual.widgets import Static
from tui_fixtures import rewrite_config, run_agent, wait_until, word_count
from workspace_fixtures import write_broken_corpus, write_ours, write_swarms

from agent_tui import Agent
from agent_tui.tui.agent_table import AgentTable
from agent_tui.tui.app import AgentTUI
from agent_tui.tui.commands import BindingCommands
from agent_tui.tui.config_view import ConfigView
from agent_tui.tui.help_screen import HelpScreen
from agent_tui.workspace import read_agent, step_history


def text_of(app: AgentTUI, selector: str) -> str:
    if selector == "#state-view":  # a header and a log of messages: all the view holds
        return app.state_view.text
    return str(app.query_one(selector, Static).content)


def cell(app: AgentTUI, folder: Path, column: str) -> str:
    return app.query_one(AgentTable).cell(str(folder), column).plain


def shown(app: AgentTUI) -> set[str]:
    table = app.query_one(AgentTable)
    return {Path(key).name for key in table.keys}


async def select(pilot, app: AgentTUI, folder: Path) -> None:
    table = app.query_one(AgentTable)
    assert await wait_until(pilot, lambda: str(folder) in table.shown)
    table.move_cursor(table.row_of(str(folder)))
    assert await wait_until(pilot, lambda: app.selected == str(folder))


async def test_lists_agents_with_status_and_loops(workspace: Path) -> None:
    alpha = run_agent(workspace, "alpha", loops=2)
    beta = run_agent(workspace, "beta", loops=3)
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(140, 40)) as pilot:
        assert await wait_until(pilot, lambda: shown(app) == {alpha.name, beta.name})
        for folder in (alpha, beta):
            assert cell(app, folder, "loops") == str(read_agent(folder).loop_count)
            assert cell(app, folder, "status").strip() == "completed"
        first = read_agent(alpha).loop_count
        assert await wait_until(pilot, lambda: f"loop {first}" in text_of(app, "#config-header"))


FIRST_PAINT = """
import asyncio, sys
from agent_tui.tui.app import AgentTUI

async def main():
    app = AgentTUI(workspace_dir=sys.argv[1], watch=False)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause(0.3)
    print("litellm" in sys.modules)

asyncio.run(main())
"""


def test_app_never_imports_litellm(workspace: Path, child_env: dict[str, str]) -> None:
    # In a fresh interpreter: other tests in this process may have imported it.
    run_agent(workspace, "alpha", loops=2)
    out = subprocess.run(
        [sys.executable, "-c", FIRST_PAINT, str(workspace)],
        env=child_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


async def test_an_autosave_redraws_that_agents_row_and_no_other(workspace: Path) -> None:
    # A running agent rewrites its config.json several times a second: its row changes, the
    # other rows of the list do not, and drawing them all again was most of each frame.
    folders = [write_ours(workspace, f"agent-{n:02d}", loop_count=2) for n in range(12)]
    app = AgentTUI(workspace_dir=workspace)
    async with app.run_test(size=(140, 40)) as pilot:
        table = app.query_one(AgentTable)
        assert await wait_until(pilot, lambda: table.row_count == 12)
        await pilot.pause(0.3)
        drawn: list[int] = []
        draw = table.render_line

        def counting(y: int):
            drawn.append(y)
            return draw(y)

        table.render_line = counting  # type: ignore[method-assign]
        busy = folders[5]
        await asyncio.to_thread(rewrite_config, busy, loop_count=9)
        assert await wait_until(pilot, lambda: cell(app, busy, "loops") == "9")
        await pilot.pause(0.2)
        row_y = table.row_of(str(busy)) + 1  # under the header line
        assert drawn, "the changed row was not drawn"
        assert set(drawn) == {row_y}, f"lines drawn again: {sorted(set(drawn))}"
        assert [cell(app, f, "loops") for f in folders if f != busy] == ["2"] * 11


async def test_config_rewritten_on_disk_appears_with_new_loop_count(workspace: Path) -> None:
    folder = run_agent(workspace, "alpha", loops=2)
    app = AgentTUI(workspace_dir=workspace)
    async with app.run_test(size=(140, 40)) as pilot:
        await select(pilot, app, folder)
        assert await wait_until(pilot, lambda: "loop " in text_of(app, "#config-header"))
        await asyncio.to_thread(rewrite_config, folder, loop_count=7, status="error")
        assert await wait_until(pilot, lambda: "loop 7" in text_of(app, "#config-header"))
        # The body is read in a worker: it may land a frame after the header.
        assert await wait_until(pilot, lambda: '"loop_count": 7' in text_of(app, "#config-body"))
        assert cell(app, folder, "loops") == "7"
        assert cell(app, folder, "status").strip() == "error"
        # The changed fields are highlighted for a moment.
        assert "_autosave_metadata.loop_count" in app.query_one(ConfigView).changed


async def test_live_agent_run_is_followed_to_its_last_step(workspace: Path) -> None:
    folder = run_agent(workspace, "live", loops=1)
    app = AgentTUI(workspace_dir=workspace)
    async with app.run_test(size=(140, 40)) as pilot:
        await select(pilot, app, folder)
        agent = Agent(
            model_name="offline/demo?delay=0.002",
            agent_name="live",
            max_loops=4,
            tools=[word_count],
            workspace_dir=workspace,
        )
        await asyncio.to_thread(agent.run, "keep going")
        final = f"loop {read_agent(folder).loop_count}"
        assert final != "loop 1"
        assert await wait_until(pilot, lambda: final in text_of(app, "#config-header"))
        # The last step's write (still running) may arrive in a batch before the final one.
        assert await wait_until(pilot, lambda: cell(app, folder, "status").strip() == "completed")


async def test_new_agent_folder_appears_and_deleted_one_disappears(workspace: Path) -> None:
    alpha = run_agent(workspace, "alpha")
    app = AgentTUI(workspace_dir=workspace)
    async with app.run_test(size=(140, 40)) as pilot:
        assert await wait_until(pilot, lambda: shown(app) == {alpha.name})
        await pilot.pause(0.1)  # the watcher is up
        beta = await asyncio.to_thread(run_agent, workspace, "beta")
        assert await wait_until(pilot, lambda: shown(app) == {alpha.name, beta.name})
        await select(pilot, app, alpha)
        await asyncio.to_thread(shutil.rmtree, alpha)
        assert await wait_until(pilot, lambda: shown(app) == {beta.name})
        assert await wait_until(pilot, lambda: app.selected == str(beta))


async def test_a_relative_workspace_path_is_followed_too(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `make demo` opens ./agent_workspace: the watcher reports absolute paths.
    alpha = run_agent(workspace, "alpha")
    monkeypatch.chdir(workspace.parent)
    app = AgentTUI(workspace_dir=Path(workspace.name))
    async with app.run_test(size=(140, 40)) as pilot:
        assert await wait_until(pilot, lambda: shown(app) == {alpha.name})
        await pilot.pause(0.1)  # the watcher is up
        beta = await asyncio.to_thread(run_agent, workspace, "beta")
        assert await wait_until(pilot, lambda: shown(app) == {alpha.name, beta.name})


async def test_broken_files_show_as_broken_agents_with_their_problem(workspace: Path) -> None:
    cases = write_broken_corpus(workspace)
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(140, 40)) as pilot:
        truncated = cases["truncated"]
        await select(pilot, app, truncated)
        assert cell(app, truncated, "status").strip() == "broken"
        assert "truncated JSON" in text_of(app, "#config-problems")
        assert await wait_until(pilot, lambda: "cannot be shown" in text_of(app, "#config-body"))
        for case in ("dangling-link", "link-loop", "empty", "deep-nesting"):
            await select(pilot, app, cases[case])
        assert app.is_running


async def test_diff_tab_shows_an_appended_message_as_appended(workspace: Path) -> None:
    folder = run_agent(workspace, "alpha", loops=3)
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(140, 40)) as pilot:
        await select(pilot, app, folder)
        await pilot.press("d")
        *_, before, last = step_history(folder).loop_counts
        expected = f"step {before} -> step {last}"
        assert await wait_until(pilot, lambda: expected in text_of(app, "#diff-summary"))
        assert "appended" in text_of(app, "#diff-summary")
        body = text_of(app, "#diff-body")
        assert "conversation[" in body and "(appended): assistant:" in body


async def test_state_tab_shows_transcript_and_masks_foreign_secrets(workspace: Path) -> None:
    folder = write_swarms(workspace)
    secret = "sk-live-0123456789abcdefghijklmnop"
    config = (folder / "config.json").read_text()
    (folder / "config.json").write_text(
        config.replace('"temperature": 0.5', f'"temperature": 0.5, "openai_api_key": "{secret}"')
    )
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(140, 40)) as pilot:
        await select(pilot, app, folder)
        assert await wait_until(pilot, lambda: "[REDACTED]" in text_of(app, "#config-body"))
        assert secret not in text_of(app, "#config-body")
        await pilot.press("2")
        assert await wait_until(pilot, lambda: "What is a bond?" in text_of(app, "#state-view"))
        transcript = text_of(app, "#state-view")
        assert "user" in transcript and "A bond is a loan" in transcript


async def test_filter_and_sort(workspace: Path) -> None:
    alpha = run_agent(workspace, "alpha", loops=1)
    beta = run_agent(workspace, "beta", loops=4)
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(140, 40)) as pilot:
        assert await wait_until(pilot, lambda: len(shown(app)) == 2)
        await pilot.press("slash", "b", "e", "t")
        assert await wait_until(pilot, lambda: shown(app) == {beta.name})
        await pilot.press("escape")
        app.query_one("#filter").value = ""
        assert await wait_until(pilot, lambda: shown(app) == {alpha.name, beta.name})
        await pilot.press("s", "s")  # name -> age -> size
        table = app.query_one(AgentTable)
        assert table.order == "size"
        first = table.shown.key_at(0)
        assert first == str(beta)  # the longer run is bigger


async def test_help_screen_and_command_palette_list_every_action(workspace: Path) -> None:
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("question_mark")
        assert await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.press("escape")
        assert await wait_until(pilot, lambda: not isinstance(app.screen, HelpScreen))
        provider = BindingCommands(app.screen)
        titles = [title for title, _, _ in provider._commands()]
        for binding in AgentTUI.BINDINGS:
            assert binding.id and binding.tooltip
            assert any(title.startswith(binding.description) for title in titles)
        # A command chosen in the palette does what its key does.
        (run_help,) = [run for title, _, run in provider._commands() if title.startswith("Help:")]
        app.call_later(run_help)
        assert await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))


@pytest.mark.parametrize("size", [(80, 24), (60, 20), (100, 30), (160, 45)])
async def test_the_panes_fit_the_terminal_and_z_gives_the_tabs_the_screen(
    workspace: Path, size: tuple[int, int]
) -> None:
    write_ours(workspace, "alpha")
    app = AgentTUI(workspace_dir=workspace, watch=False)
    width, height = size
    async with app.run_test(size=size) as pilot:
        assert await wait_until(pilot, lambda: app.selected is not None)
        sidebar, tabs = app.query_one("#sidebar").region, app.tabs.region
        assert sidebar.right <= width and tabs.right <= width
        if width < 120:  # stacked: each the whole width, the tabs below the list
            assert sidebar.width == width and tabs.width == width
            assert tabs.y >= sidebar.bottom and tabs.height >= height // 3
        else:  # side by side, the tabs with the larger part
            assert tabs.x >= sidebar.right and tabs.width > sidebar.width
        table = app.table.region
        assert table.height >= 3  # the header and two agents at least
        await pilot.press("z")
        await pilot.pause()
        assert app.screen.maximized is app.tabs
        assert app.tabs.region.width == width and app.tabs.region.height >= height - 2
        await pilot.press("z")
        await pilot.pause()
        assert app.screen.maximized is None and app.tabs.region == tabs


def palette_prompts(app: AgentTUI) -> list[str]:
    from textual.command import CommandList

    options = app.screen.query_one(CommandList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def test_the_palette_on_the_main_screen_offers_and_runs_its_commands(
    workspace: Path,
) -> None:
    from agent_tui.tui.cleanup_screen import CleanupScreen

    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("ctrl+p")
        assert await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"quit")
        assert await wait_until(pilot, lambda: any("Quit" in p for p in palette_prompts(app)))
        await pilot.pause(0.3)  # every provider has answered
        assert sum(p.startswith("Quit") for p in palette_prompts(app)) == 1, palette_prompts(app)
        for _ in "quit":
            await pilot.press("backspace")
        await pilot.press(*"cleanup")
        assert await wait_until(pilot, lambda: any("Cleanup" in p for p in palette_prompts(app)))
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: isinstance(app.screen, CleanupScreen))


def test_the_console_script_opens_the_app_with_the_flags_given(monkeypatch) -> None:
    from agent_tui.tui import launch

    opened = []

    class FakeApp:
        def __init__(self, **kwargs) -> None:
            opened.append(kwargs)
            self.return_code = 0

        def run(self) -> None:
            pass

    monkeypatch.setattr("agent_tui.tui.app.AgentTUI", FakeApp)
    assert launch.main(["--workspace", "/tmp/w", "--read-only"]) == 0
    assert opened == [{"workspace_dir": "/tmp/w", "read_only": True, "watch": True, "config": None}]


async def test_an_empty_workspace_says_how_to_start(workspace: Path) -> None:
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(140, 40)) as pilot:
        assert await wait_until(pilot, lambda: "0 agents" in text_of(app, "#scan-status"))
        assert "n starts a run" in text_of(app, "#scan-status")


async def test_clock_tick_while_closing_does_not_fail(workspace: Path) -> None:
    # The app's one-second clock can fire after the header is gone, as the app closes.
    run_agent(workspace, "alpha", loops=1)
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(140, 40)) as pilot:
        await app.query_one("#config-header").remove()
        await pilot.pause()
        app.config_view.tick()
        app._tick()


async def test_an_agent_picked_while_the_first_scan_runs_stays_picked(
    workspace: Path, monkeypatch
) -> None:
    import agent_tui.tui.app as app_module

    folders = [write_ours(workspace, f"agent-{n:02d}") for n in range(30)]
    real_read = app_module.read_agent

    def slow_read(folder):
        time.sleep(0.02)  # a slow disk: the scan posts several chunks before it is done
        return real_read(folder)

    monkeypatch.setattr(app_module, "read_agent", slow_read)
    monkeypatch.setattr(app_module, "SCAN_CHUNK", 5)
    monkeypatch.setattr(app_module, "FIRST_ROWS", 5)  # the first screenful does not hold all
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(140, 40)) as pilot:
        table = app.query_one(AgentTable)
        assert await wait_until(pilot, lambda: table.row_count >= 5)
        assert not app._scanned_once
        # Another agent than the one the scan put the cursor on (the first rows come as the
        # folder lists them, so not necessarily folders[0]).
        picked = str(
            next(f for f in folders if str(f) in table.shown and str(f) != table.selected_key)
        )
        table.move_cursor(table.row_of(picked))
        assert await wait_until(pilot, lambda: app._scanned_once)
        await pilot.pause()
        assert app.selected == picked
        assert table.row_of(picked) == table.cursor_row


async def test_a_cursor_move_just_before_the_scan_ends_is_kept(workspace: Path) -> None:
    """The race CI met: the user moves the cursor, and the scan's last chunk is handled
    before the table's highlight message, so ``app.selected`` still names the scan's pick."""
    from agent_tui.tui.app import ScanChunk

    folders = [write_ours(workspace, name) for name in ("zeta", "alpha", "mid")]
    records = [read_agent(folder) for folder in folders]
    app = AgentTUI(workspace_dir=workspace, watch=False)
    app.scan_workspace = lambda: None  # the test plays the scan worker itself
    async with app.run_test(size=(140, 40)) as pilot:
        table = app.query_one(AgentTable)
        app._scan_chunk(ScanChunk(records))
        await pilot.pause()
        assert app.selected == str(folders[1])  # the scan's pick: the first row, alpha
        picked = str(folders[2])
        table.move_cursor(table.row_of(picked))
        app._scan_chunk(ScanChunk([], done=True, seen=frozenset(map(str, folders))))
        await pilot.pause()
        assert table.selected_key == picked
        assert await wait_until(pilot, lambda: app.selected == picked)


async def test_the_app_and_its_table_keep_textuals_methods(workspace: Path) -> None:
    """Attributes named like Textual's methods hid them (the type checker found these):
    ``AgentTUI.watch`` (a flag) hid ``App.watch``, the table's ``remove`` hid
    ``Widget.remove``."""
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(140, 40)) as pilot:
        seen: list[str] = []
        app.watch(app, "sub_title", lambda value: seen.append(value), init=False)
        app.sub_title = "watched"
        assert await wait_until(pilot, lambda: seen == ["watched"])
        await app.table.remove()
        assert not app.query(AgentTable)


async def test_a_change_made_while_the_first_scan_ran_is_shown(workspace: Path) -> None:
    """The watcher starts when the first scan ends (on a large workspace its set-up would
    compete with the scan); what changed meanwhile it reports once ready."""
    from agent_tui.tui.app import ScanChunk

    folder = write_ours(workspace, "alpha", loop_count=2)
    stale = read_agent(folder)
    app = AgentTUI(workspace_dir=workspace)
    app.scan_workspace = lambda: None  # the test plays the scan worker itself
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause()
        assert app._stop_watch is None  # not watching while the scan runs
        await asyncio.to_thread(rewrite_config, folder, loop_count=7)  # during the scan
        await pilot.pause(1.5)  # a long scan: longer ago than a watcher's own margin
        app._scan_chunk(ScanChunk([stale], done=True, seen=frozenset({str(folder)})))
        assert cell(app, folder, "loops") == "2"  # what the scan read
        assert await wait_until(pilot, lambda: cell(app, folder, "loops") == "7")
