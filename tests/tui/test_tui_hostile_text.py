"""Escape sequences in what the app shows (agent names, models, folder names, messages, errors)
stay text: the screen shows them as pictures (``␛``) and none reaches the terminal."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.content import Content
from textual.widgets import Static
from tui_fixtures import wait_until
from workspace_fixtures import control_chars, write_escape_agents

from agent_tui.tui import safe_text
from agent_tui.tui.app import AgentTUI
from agent_tui.tui.cleanup_screen import CleanupScreen
from agent_tui.tui.run_dialogs import ResumeDialog


def test_install_makes_both_libraries_show_controls_as_pictures() -> None:
    assert safe_text.install()
    assert Text("a\x1bb\x9bc").plain == "a\u241bb\ufffdc"
    assert Content("a\x1bb").plain == "a\u241bb"
    # What they already dropped they still drop; tab and newline are layout.
    assert Text("x\ry\tz\n").plain == "xy\tz\n"


async def test_escape_sequences_from_disk_are_shown_not_obeyed(workspace: Path) -> None:
    folder, _ = write_escape_agents(workspace)
    app = AgentTUI(workspace_dir=workspace, watch=False)
    screens: dict[str, str] = {}
    async with app.run_test(size=(160, 40)) as pilot:
        table = app.table
        assert await wait_until(pilot, lambda: len(table.records) == 2)
        table.move_cursor(table.row_of(str(folder)))
        assert await wait_until(pilot, lambda: app.selected == str(folder))
        screens["list and config"] = app.export_screenshot()
        await pilot.press("2")
        assert await wait_until(pilot, lambda: "answer" in app.state_view.text)
        screens["state"] = app.export_screenshot()
        await pilot.press("3")
        await pilot.pause(0.2)
        screens["diff"] = app.export_screenshot()
        await pilot.press("l")
        assert await wait_until(pilot, lambda: isinstance(app.screen, ResumeDialog))
        preview = app.screen.query_one("#resume-preview-body", Static)
        assert await wait_until(pilot, lambda: "steps" in str(preview.content))  # a worker reads it
        screens["resume preview"] = app.export_screenshot()
        await pilot.press("escape")
        await pilot.press("c")
        assert await wait_until(pilot, lambda: isinstance(app.screen, CleanupScreen))
        await pilot.pause(0.2)
        screens["cleanup"] = app.export_screenshot()
    for name, screen in screens.items():
        assert not control_chars(screen), (name, control_chars(screen))
    assert "evil\u241b[2J\u241b]0;owned" in screens["list and config"]
    assert "answer\u241b[2J" in screens["state"]
    assert "evil\u241b[2J" in screens["resume preview"]
    assert "odd\u241b[2J" in screens["cleanup"]
