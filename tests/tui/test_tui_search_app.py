"""The app's search mode (Pilot): ctrl+f, or the filter's words and enter, open the search over
every transcript of every root; a pick selects that agent and shows its transcript."""

from __future__ import annotations

from pathlib import Path

from tui_fixtures import run_agent, wait_until
from workspace_fixtures import write_swarms

from agent_tui.tui.app import AgentTUI
from agent_tui.tui.search_screen import SearchScreen


async def test_a_word_from_a_swarms_transcript_is_found_and_opens_that_agent(
    tmp_path: Path,
) -> None:
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    run_agent(ours, "alpha", loops=1)
    swarms = write_swarms(theirs, "Finance-Agent", loop_count=2)
    app = AgentTUI(workspace_dir=[ours, theirs], watch=False)
    async with app.run_test(size=(160, 45)) as pilot:
        assert await wait_until(pilot, lambda: app.table.row_count == 2 and app._scanned_once)
        app.table.move_cursor(0)
        await pilot.press("slash", *"bond", "enter")  # the filter's words, searched
        assert await wait_until(pilot, lambda: isinstance(app.screen, SearchScreen))
        screen = app.screen
        assert isinstance(screen, SearchScreen)
        assert await wait_until(pilot, lambda: bool(screen.query_one("ResultList").rows))
        rows = screen.query_one("ResultList").rows
        assert {row.pick.folder for row in rows} == {swarms}
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: not isinstance(app.screen, SearchScreen))
        assert app.selected == str(swarms) and app.table.selected_key == str(swarms)
        assert app.tabs.active == "tab-state"
        # ctrl+f opens it empty; escape goes back with nothing changed
        await pilot.press("escape")  # the filter box had the focus back: leave it
        await pilot.press("ctrl+f")
        assert await wait_until(pilot, lambda: isinstance(app.screen, SearchScreen))
        await pilot.press("escape")
        assert await wait_until(pilot, lambda: not isinstance(app.screen, SearchScreen))
        assert app.selected == str(swarms)


async def test_a_pick_in_our_transcript_opens_the_agent_at_that_step(workspace: Path) -> None:
    folder = run_agent(workspace, "alpha", loops=3)
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(160, 45)) as pilot:
        assert await wait_until(pilot, lambda: app.table.row_count == 1 and app._scanned_once)
        await pilot.press("ctrl+f", *"learn")
        assert await wait_until(pilot, lambda: isinstance(app.screen, SearchScreen))
        screen = app.screen
        assert await wait_until(pilot, lambda: bool(screen.query_one("ResultList").rows))
        pick = screen.query_one("ResultList").rows[0].pick
        assert pick.folder == folder and pick.step is not None and pick.step > 0
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: app.step_bar.step == pick.step)
        assert app.tabs.active == "tab-state"
        assert await wait_until(pilot, lambda: app.state_view.step == pick.step)
