"""The conventions a tool kept open all day follows (k9s, lazygit, ncdu): Pilot tests of what a
user sees and what each key does."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Static
from tui_fixtures import rewrite_config, wait_until
from workspace_fixtures import write_ours

from agent_tui.tui.app import AgentTUI
from agent_tui.tui.run_dialogs import ResumeDialog


def notes(app: AgentTUI) -> list[str]:
    return [note.message for note in app._notifications]


async def pick(pilot, app: AgentTUI, folder: Path) -> None:
    """Move the list's cursor to ``folder``, as a user does, and wait for the tabs to follow."""
    table = app.table
    assert await wait_until(pilot, lambda: str(folder) in table.shown)
    table.move_cursor(table.row_of(str(folder)))
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


async def test_an_interrupted_run_says_why_it_stopped_not_that_it_failed(
    workspace: Path,
) -> None:
    stopped = write_ours(workspace, "stopped", status="interrupted")
    rewrite_config(stopped, error="interrupted (stop requested)")
    failed = write_ours(workspace, "failed", status="error")
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(160, 45)) as pilot:
        box = app.query_one("#config-problems", Static)
        await pick(pilot, app, stopped)
        assert await wait_until(pilot, lambda: "stop requested" in str(box.content))
        assert str(box.content) == "stopped: interrupted (stop requested)"
        assert box.has_class("-stopped")
        await pick(pilot, app, failed)
        assert await wait_until(pilot, lambda: "model exploded" in str(box.content))
        assert str(box.content) == "error: model exploded" and not box.has_class("-stopped")


def help_lines(app: AgentTUI) -> list[str]:
    return str(app.screen.query_one(Static).content).splitlines()


async def test_each_screens_help_lists_the_keys_that_work_there_each_once(
    workspace: Path,
) -> None:
    from agent_tui.tui.cleanup_screen import CleanupScreen
    from agent_tui.tui.help_screen import HelpScreen

    write_ours(workspace, "alpha")
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(160, 45)) as pilot:
        assert await wait_until(pilot, lambda: app.selected is not None)
        for keys in ((), ("c",)):
            await pilot.press(*keys)
            await pilot.pause(0.2)
            under = app.screen
            await pilot.press("question_mark")
            assert await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
            keys = [line.split()[0] for line in help_lines(app) if line.startswith("  ")]
            assert len(keys) == len(set(keys)), keys  # no key with two meanings
            text = "\n".join(help_lines(app))
            if isinstance(under, CleanupScreen):
                assert "Delete" in text and "Cleanup, as ncdu" in text
                assert "Last step" not in text and "New run" not in text and "Rescan" not in text
            else:
                assert "New run" in text and "Interrupt" in text and "copies it instead" in text
            await pilot.press("escape")
            assert await wait_until(pilot, lambda under=under: app.screen is under)


async def test_a_run_of_another_process_that_ends_is_a_toast(workspace: Path) -> None:
    from workspace_fixtures import live_run

    folder = write_ours(workspace, "elsewhere", loop_count=3)
    failed = write_ours(workspace, "crashing", loop_count=1)
    app = AgentTUI(workspace_dir=workspace, watch=True)
    with live_run(folder), live_run(failed):
        async with app.run_test(size=(160, 45)) as pilot:
            running = lambda: {r.status for r in app.table.records.values()} == {"running"}  # noqa: E731
            assert await wait_until(pilot, running)
            assert not notes(app)  # agents seen running are no news
            rewrite_config(folder, status="completed", loop_count=4)
            rewrite_config(failed, status="error", error="RateLimitError: slow down")
            assert await wait_until(pilot, lambda: len(notes(app)) == 2)
            assert sorted(notes(app)) == [
                "crashing failed after 1 step: RateLimitError: slow down",
                "elsewhere finished after 4 steps",
            ]
            severities = {n.message.split()[0]: n.severity for n in app._notifications}
            assert severities == {"crashing": "error", "elsewhere": "information"}


def names(app: AgentTUI) -> list[str]:
    table = app.table
    return [Path(table.shown.key_at(row)).name.split("-")[0]
            for row in range(table.row_count)]  # fmt: skip


async def test_the_list_moves_sorts_and_filters_as_k9s_and_lazygit_do(workspace: Path) -> None:
    for name, loops in (("bravo", 5), ("alpha", 2), ("delta", 9), ("charlie", 1)):
        write_ours(workspace, name, loop_count=loops)
    rewrite_config(next((workspace / "agents").glob("charlie-*")), usage={"cost": 0.75})
    rewrite_config(next((workspace / "agents").glob("alpha-*")), usage={"cost": 0.10})
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(160, 45)) as pilot:
        table = app.table
        assert await wait_until(pilot, lambda: table.row_count == 4)
        assert names(app) == ["alpha", "bravo", "charlie", "delta"]
        await pilot.press("G")
        assert table.cursor_row == 3
        await pilot.press("g")
        assert table.cursor_row == 0
        await pilot.press("end")
        assert table.cursor_row == 3
        await pilot.press("home")
        assert table.cursor_row == 0
        await pilot.press("S")  # the same order, the other way round
        assert names(app) == ["delta", "charlie", "bravo", "alpha"]
        assert "sort: name, reversed" in str(app.status_line.content)
        for _ in range(4):  # name -> age -> size -> status -> steps
            await pilot.press("s")
        assert table.order == "steps" and not table.reverse
        assert names(app) == ["delta", "bravo", "alpha", "charlie"]
        await pilot.press("s")
        assert table.order == "cost"
        assert names(app) == ["charlie", "alpha", "bravo", "delta"]  # no cost: last, by name
        # A header clicked sorts by its column; clicked again, the other way round.
        await pilot.click("#agents", offset=(2, 0))  # the "status" header
        assert table.order == "status" and not table.reverse
        await pilot.click("#agents", offset=(2, 0))
        assert table.order == "status" and table.reverse
        # Esc clears the filter and goes back to the whole list.
        await pilot.press("slash", *"del")
        assert await wait_until(pilot, lambda: table.row_count == 1)
        assert "1 of 4 agents" in str(app.status_line.content)
        await pilot.press("escape")
        assert await wait_until(pilot, lambda: table.row_count == 4)
        assert app.query_one("#filter").value == "" and app.focused is table


async def test_y_copies_the_folder_and_Y_a_fields_value_masked(workspace: Path) -> None:
    from agent_tui.tui.dialogs import ValuePrompt

    folder = write_ours(workspace, "alpha", loop_count=3)
    key = "sk-" + "A1b2C3d4" * 5
    rewrite_config(folder, api_key=key)
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await pick(pilot, app, folder)
        await pilot.press("y")
        assert app.clipboard == str(folder)
        assert await wait_until(pilot, lambda: app.config_view.document is not None)
        await pilot.press("Y")
        assert await wait_until(pilot, lambda: isinstance(app.screen, ValuePrompt))
        await pilot.press(*"_autosave_metadata.loop_co", "right", "enter")  # completed
        assert await wait_until(pilot, lambda: app.clipboard == "3")
        await pilot.press("Y")
        assert await wait_until(pilot, lambda: isinstance(app.screen, ValuePrompt))
        await pilot.press(*"no_such_field", "enter")
        assert "No field 'no_such_field'" in str(app.screen.query_one("#value-hint").content)
        await pilot.press("ctrl+a", "ctrl+k", *"_autosave_metadata.api_key", "enter")
        assert await wait_until(pilot, lambda: app.clipboard != "3")
        assert key not in app.clipboard and "REDACTED" in app.clipboard


async def test_r_says_what_it_read_and_the_tabs_are_named_as_the_help_names_them(
    workspace: Path,
) -> None:
    from textual.widgets import Tab

    write_ours(workspace, "alpha")
    write_ours(workspace, "bravo")
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(160, 45)) as pilot:
        assert await wait_until(pilot, lambda: app.table.row_count == 2)
        assert not notes(app)
        await pilot.press("r")
        assert await wait_until(pilot, lambda: bool(notes(app)))
        assert notes(app) == [f"Read 2 agent folders again in {workspace / 'agents'}"]
        labels = {str(tab.label) for tab in app.tabs.query(Tab)}
        described = {b.description for b in AgentTUI.BINDINGS if b.action.startswith("show_tab")}
        assert labels == described == {"Config", "State", "Diff", "Runs", "File", "History"}


async def test_the_config_file_sets_theme_keys_root_model_and_keeps_the_theme_picked(
    tmp_path: Path, workspace: Path, monkeypatch
) -> None:
    from agent_tui.tui.cleanup_screen import CleanupScreen
    from agent_tui.tui.run_dialogs import NewRunDialog
    from agent_tui.user_config import load_user_config

    monkeypatch.delenv("WORKSPACE_DIR")  # the config's root is used when nothing else names one
    write_ours(workspace, "alpha")
    path = tmp_path / "config.toml"
    path.write_text(
        "# mine\n"
        'theme = "nord"\n'
        f'workspaces = ["{workspace}"]\n'
        'model = "offline/demo?delay=0.01"\n'
        "[keys]\n"
        'cleanup = "C"\n'
    )
    app = AgentTUI(config=load_user_config(path), watch=False)
    async with app.run_test(size=(160, 45)) as pilot:
        assert app.root == workspace and app.theme == "nord"
        assert await wait_until(pilot, lambda: app.table.row_count == 1)
        await pilot.press("c")  # the key the config replaced does nothing now
        await pilot.pause(0.2)
        assert not isinstance(app.screen, CleanupScreen)
        await pilot.press("C")
        assert await wait_until(pilot, lambda: isinstance(app.screen, CleanupScreen))
        await pilot.press("escape")
        await pilot.press("n")
        assert await wait_until(pilot, lambda: isinstance(app.screen, NewRunDialog))
        assert app.screen.query_one("#run-model").value == "offline/demo?delay=0.01"
        await pilot.press("escape")
        app.theme = "gruvbox"  # what the palette's theme picker does
        assert await wait_until(pilot, lambda: 'theme = "gruvbox"' in path.read_text())
    text = path.read_text()
    assert text.startswith("# mine\n") and "nord" not in text and 'cleanup = "C"' in text
    assert load_user_config(path).theme == "gruvbox"


async def test_the_action_log_keeps_what_the_app_did_and_the_palette_shows_it(
    workspace: Path, user_config_home: Path
) -> None:
    import json

    from agent_tui.tui.action_log_screen import ActionLogScreen
    from agent_tui.tui.cleanup_screen import CleanupScreen
    from agent_tui.tui.dialogs import ConfirmDialog

    old = write_ours(workspace, "old-report")
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(160, 45)) as pilot:
        assert await wait_until(pilot, lambda: app.table.row_count == 1)
        await pilot.press("c")
        assert await wait_until(pilot, lambda: isinstance(app.screen, CleanupScreen))
        await pilot.press("space", "d")
        assert await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        assert await wait_until(pilot, lambda: not old.exists())
        await pilot.press("escape")
        log = user_config_home / "agent-tui" / "actions.jsonl"
        assert await wait_until(pilot, lambda: log.exists())
        (entry,) = [json.loads(line) for line in log.read_text().splitlines()]
        assert entry["action"] == "deleted" and entry["folders"] == [old.name]
        await pilot.press("ctrl+p", *"action log")
        await pilot.pause(0.5)
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: isinstance(app.screen, ActionLogScreen))
        shown = str(app.screen.query_one("#actions-body", Static).content)
        assert "deleted" in shown and "count 1" in shown


async def test_the_bell_rings_when_a_run_ends_if_the_config_asks(workspace: Path) -> None:
    from dataclasses import replace

    from agent_tui.user_config import UserConfig

    for bell in (False, True):
        app = AgentTUI(
            workspace_dir=workspace, watch=False, config=replace(UserConfig(), bell=bell)
        )
        rung: list[int] = []
        app.bell = lambda rung=rung: rung.append(1)  # type: ignore[method-assign]
        async with app.run_test(size=(160, 45)) as pilot:
            app.say_ended(str(workspace / "agents" / "x"), "x", "completed", 2, None)
            await pilot.pause()
            assert notes(app) == ["x finished after 2 steps"]
        assert rung == ([1] if bell else [])


@pytest.mark.parametrize("key", ["question_mark", "n", "l", "c"])
async def test_every_dialog_fits_an_80x24_terminal(workspace: Path, key: str) -> None:
    folder = write_ours(workspace, "alpha")
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pick(pilot, app, folder)
        main = app.screen
        await pilot.press(key)
        assert await wait_until(pilot, lambda: app.screen is not main)
        await pilot.pause(0.3)
        screen = app.screen.region
        # A dialog whole on screen; the cleanup screen (no dialog) its list and its Delete key.
        shown = list(app.screen.query(".dialog")) or [
            app.screen.query_one("DataTable"),
            *(k for k in app.screen.query("FooterKey") if k.description == "Delete"),  # type: ignore[attr-defined]
        ]
        assert len(shown) >= (1 if key != "c" else 2), shown
        for widget in [*shown, *app.screen.query("Button")]:  # every button in sight too
            assert widget.region.height and screen.contains_region(widget.region), (key, widget)


def test_long_text_on_screen_is_cut_between_words() -> None:
    from agent_tui.tui.display import MAX_VALUE_CHARS, render_message

    words = " ".join(f"word{n}" for n in range(MAX_VALUE_CHARS))
    shown = render_message({"role": "assistant", "content": words}).plain.splitlines()[-1]
    assert shown.endswith("…") and len(shown) <= MAX_VALUE_CHARS
    assert shown[:-1].rstrip().split()[-1] in words.split()  # the last word shown is whole
