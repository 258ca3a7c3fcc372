"""The Config and Diff tabs on long histories (Pilot): a swarms config holding a long
conversation shows its settings and its last messages, not the whole list; the Diff tab offers
the recent steps, shows what the last step changed at the paths of the whole documents, and
draws a long diff's first changes only."""

from __future__ import annotations

from pathlib import Path

from long_agent import odd_agent
from textual.widgets import Select, Static
from tui_fixtures import wait_until
from workspace_fixtures import write_swarms

from agent_tui.format.layout import CONFIG_NAME
from agent_tui.format.persistence import atomic_write_json, read_json_object
from agent_tui.tui.app import AgentTUI
from agent_tui.tui.diff_view import MAX_SHOWN_CHANGES, MAX_STEP_CHOICES
from agent_tui.workspace import load_conversation
from agent_tui.workspace.detail import LONG_LIST, SHOWN_ITEMS


def text_of(app: AgentTUI, selector: str) -> str:
    return str(app.query_one(selector, Static).content)


async def show(pilot, app: AgentTUI, folder: Path, tab: str) -> None:
    assert await wait_until(pilot, lambda: str(folder) in app.table.records)
    await pilot.press(tab)
    app.select(str(folder))


async def test_a_long_swarms_config_shows_its_settings_and_last_messages(
    workspace: Path,
) -> None:
    folder = write_swarms(workspace)
    config = read_json_object(folder / CONFIG_NAME)
    turns = LONG_LIST * 3
    config["short_memory"] = [
        {"role": "Human", "content": f"question {n:04d}", "timestamp": "2026-11-26T09:00:00"}
        for n in range(turns)
    ]
    atomic_write_json(folder / CONFIG_NAME, config)
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await show(pilot, app, folder, "1")
        earlier = f"{turns - SHOWN_ITEMS:,} earlier items not shown"
        assert await wait_until(pilot, lambda: earlier in text_of(app, "#config-body"))
        body = text_of(app, "#config-body")
        assert f"question {turns - 1:04d}" in body and f"question {turns - SHOWN_ITEMS:04d}" in body
        assert f"question {turns - SHOWN_ITEMS - 1:04d}" not in body
        assert '"setting_89"' in body and '"agent_name"' in body  # every other key is shown
        await pilot.press("2")
        assert await wait_until(pilot, lambda: f"{turns} messages" in app.state_view.text)
        assert f"question {turns - 1:04d}" in app.state_view.text


async def test_the_diff_tab_on_a_long_history(workspace: Path) -> None:
    steps = MAX_SHOWN_CHANGES + 100  # a multiple of 3: the last step changed the memory
    folder = odd_agent(workspace, steps)
    total = len(load_conversation(folder))
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await show(pilot, app, folder, "3")
        head = f"step {steps - 1} -> step {steps}: 1 appended, 3 changed"
        assert await wait_until(pilot, lambda: head in text_of(app, "#diff-summary"))
        body = text_of(app, "#diff-body")
        # The path of the whole document: the last message of the conversation.
        assert f"conversation[{total - 1}] (appended)" in body and f"end {steps}" in body
        picker = app.query_one("#diff-from", Select)
        offered = [value for _, value in picker._options if isinstance(value, str)]
        steps_offered = [v for v in offered if v.startswith("step:")]
        assert len(steps_offered) == MAX_STEP_CHOICES + 1
        assert steps_offered[0] == f"step:{steps}" and steps_offered[-1] == "step:0"
        picker.value = "step:0"  # the first step against the last: the whole history
        summary = f"step 0 -> step {steps}: {steps} appended"
        assert await wait_until(pilot, lambda: summary in text_of(app, "#diff-summary"))
        body = text_of(app, "#diff-body")
        assert "conversation[2] (appended)" in body and f"end {MAX_SHOWN_CHANGES - 10}" in body
        assert f"end {steps}" not in body  # past the changes drawn
        assert "more changes (agent-tui diff shows them all)" in body
