"""The conventions a tool kept open all day follows (k9s, lazygit, ncdu): Pilot tests of what a
user sees and what each key does."""

from __future__ import annotations

from pathlib import Path

from tui_fixtures import wait_until
from workspace_fixtures import write_ours

from agent_tui.tui.app import AgentTUI
from agent_tui.tui.run_dialogs import ResumeDialog


def notes(app: AgentTUI) -> list[str]:
    return [note.message for note in app._notifications]


async def pick(pilot, app: AgentTUI, folder: Path) -> None:
    assert await wait_until(pilot, lambda: str(folder) in app.table.records)
    app.select(str(folder))
    assert await wait_until(pilot, lambda: app.selected == str(folder))


async def test_resume_is_refused_with_the_reason_for_a_folder_that_holds_no_agent(
    workspace: Path,
) -> None:
    memory = workspace / "agents" / "Research Agent"  # swarms' persistent memory folder
    memory.mkdir(parents=True)
    (memory / "MEMORY.md").write_text("# what the agent remembers\n")
    ours = write_ours(workspace, "alpha")
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await pick(pilot, app, memory)
        await pilot.press("l")
        assert await wait_until(pilot, lambda: any("cannot be resumed" in n for n in notes(app)))
        (note,) = notes(app)
        assert "Research Agent" in note and "no config.json" in note and "MEMORY.md" in note
        assert not isinstance(app.screen, ResumeDialog)
        await pick(pilot, app, ours)  # a saved agent of ours still opens the dialog
        await pilot.press("l")
        assert await wait_until(pilot, lambda: isinstance(app.screen, ResumeDialog))
