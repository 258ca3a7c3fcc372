"""Time travel in the app (Pilot): the step bar above the tabs, moved with [ ] { }, takes the
Config, State and Diff tabs to a step and back to live; the History tab (6) lists the runs and
enter on one shows the agent at that run's last step."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Static
from tui_fixtures import run_agent, wait_until

from agent_tui.tui.app import AgentTUI
from agent_tui.tui.watcher import AgentChanged
from agent_tui.workspace import read_agent
from agent_tui.workspace.history import step_history


def config_body(app: AgentTUI) -> str:
    return str(app.config_view.query_one("#config-body", Static).content)


async def pick(pilot, app: AgentTUI, folder: Path) -> None:
    assert await wait_until(pilot, lambda: str(folder) in app.table.shown)
    app.table.move_cursor(app.table.row_of(str(folder)))
    assert await wait_until(pilot, lambda: app.selected == str(folder))


async def test_brackets_move_the_tabs_through_steps_and_back_to_live(workspace: Path) -> None:
    folder = run_agent(workspace, "planner", loops=3)
    last = max(step_history(folder).loop_counts)
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await pick(pilot, app, folder)
        bar = app.step_bar
        assert bar.step is None and bar.last == last
        assert f"live: step {last}" in bar.render().plain
        await pilot.press("left_square_bracket")  # one step back, on the Config tab
        assert bar.step == last - 1 and app.tabs.active == "tab-config"
        assert await wait_until(pilot, lambda: app.config_view.step == last - 1)
        assert await wait_until(pilot, lambda: f'"loop_count": {last - 1}' in config_body(app))
        await pilot.press("2")  # the State tab follows the step picked
        assert await wait_until(pilot, lambda: app.state_view.step == last - 1)
        await pilot.press("left_curly_bracket")  # the first step
        assert bar.step == 0
        assert await wait_until(pilot, lambda: app.state_view.step == 0)
        await pilot.press("right_curly_bracket")  # live again
        assert bar.step is None
        assert await wait_until(pilot, lambda: app.state_view.step is None)
        await pilot.press("1")
        assert await wait_until(pilot, lambda: app.config_view.step is None)
        assert await wait_until(pilot, lambda: f'"loop_count": {last}' in config_body(app))


async def test_the_history_tab_lists_runs_and_enter_goes_to_a_runs_last_step(
    workspace: Path,
) -> None:
    folder = run_agent(workspace, "writer", loops=2)
    last = max(step_history(folder).loop_counts)
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await pick(pilot, app, folder)
        await pilot.press("6")
        assert app.tabs.active == "tab-history"
        table = app.history_view.query_one(DataTable)
        assert await wait_until(pilot, lambda: table.row_count == 1)
        row = [str(cell) for cell in table.get_row_at(0)]
        assert any("count the words for writer" in cell for cell in row)
        assert any("completed" in cell for cell in row)
        table.focus()
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: app.step_bar.step == last)
        assert app.tabs.active == "tab-state"
        assert await wait_until(pilot, lambda: app.state_view.step == last)
        # another agent picked: live again
        other = run_agent(workspace, "other", loops=1)
        app.post_message(AgentChanged(read_agent(other)))  # as the watcher would say it
        await pick(pilot, app, other)
        assert app.step_bar.step is None
