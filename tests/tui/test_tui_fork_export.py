"""Fork, export and a reused name from the app (Pilot): f makes the fork's folder and selects it,
x writes every run to a file, n with a name in use asks (continue / new agent / cancel); the
list's cost column and the status line's total."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from textual.widgets import Input
from tui_fixtures import run_agent, wait_until
from workspace_fixtures import write_ours

from agent_tui.format.persistence import atomic_write_json
from agent_tui.tui.app import AgentTUI
from agent_tui.tui.dialogs import ChoiceDialog
from agent_tui.tui.fork_dialog import ExportDialog, ForkDialog
from agent_tui.tui.run_dialogs import NewRunDialog
from agent_tui.workspace import load_config, load_conversation
from agent_tui.workspace.history import step_history

RUN_TRIES = 1200  # x 50 ms: a child process importing litellm on a loaded machine


def notes(app: AgentTUI) -> list[str]:
    return [note.message for note in app._notifications]


def every_byte(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


async def pick(pilot, app: AgentTUI, folder: Path) -> None:
    assert await wait_until(pilot, lambda: str(folder) in app.table.shown)
    app.table.move_cursor(app.table.row_of(str(folder)))
    assert await wait_until(pilot, lambda: app.selected == str(folder))


async def test_f_forks_from_a_step_and_selects_the_new_agent(workspace: Path) -> None:
    source = run_agent(workspace, "planner", loops=3)
    before = every_byte(source)
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await pick(pilot, app, source)
        await pilot.press("f")
        assert await wait_until(pilot, lambda: isinstance(app.screen, ForkDialog))
        form = app.screen
        form.query_one("#fork-step", Input).value = "9"
        await pilot.press("enter")  # past the end: said, and the form stays
        assert app.screen is form
        form.query_one("#fork-step", Input).value = "1"
        form.query_one("#fork-name", Input).value = "planner-b"
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: any("Forked from step 1" in n for n in notes(app)))
        assert await wait_until(
            pilot, lambda: app.selected is not None and "planner-b" in app.selected
        )
        fork = Path(app.selected or "")
        await pilot.press("6")  # the lineage, shown
        head = app.history_view.query_one("#history-header")
        assert await wait_until(
            pilot, lambda: f"forked from {source.name} at step 1" in str(head.content)
        )
    assert every_byte(source) == before  # the original is only read
    meta = load_config(fork)["_autosave_metadata"]
    assert meta["agent_name"] == "planner-b"
    assert meta["forked_from"]["step"] == 1 and meta["forked_from"]["folder"] == str(source)
    expected = step_history(source).document(1)["conversation"]
    got = load_conversation(fork)
    assert [(m["role"], m.get("content")) for m in got] == [
        (m["role"], m.get("content")) for m in expected
    ]


async def test_x_exports_every_run_to_the_file_named(workspace: Path, tmp_path: Path) -> None:
    folder = run_agent(workspace, "writer", loops=2)
    out = tmp_path / "writer.json"
    app = AgentTUI(workspace_dir=workspace, watch=False, read_only=True)
    async with app.run_test(size=(160, 45)) as pilot:
        await pick(pilot, app, folder)
        await pilot.press("x")
        assert await wait_until(pilot, lambda: isinstance(app.screen, ExportDialog))
        form = app.screen
        form.query_one("#export-path", Input).value = str(tmp_path / "writer.txt")
        await pilot.press("enter")  # the suffix picks the format: .txt is none of them
        assert app.screen is form
        form.query_one("#export-path", Input).value = str(out)
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: any("Exported to" in n for n in notes(app)))
    document = orjson.loads(out.read_bytes())
    assert [run["task"] for run in document["runs"]] == ["count the words for writer"]
    roles = [m["role"] for m in document["runs"][0]["messages"]]
    assert "tool" in roles and "assistant" in roles


async def test_x_refuses_to_write_through_a_link(workspace: Path, tmp_path: Path) -> None:
    folder = run_agent(workspace, "writer", loops=1)
    target = tmp_path / "precious.md"
    target.write_text("keep me")
    link = tmp_path / "export.md"
    link.symlink_to(target)
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await pick(pilot, app, folder)
        await pilot.press("x")
        assert await wait_until(pilot, lambda: isinstance(app.screen, ExportDialog))
        app.screen.query_one("#export-path", Input).value = str(link)
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: any("Not exported" in n for n in notes(app)))
    assert target.read_text() == "keep me" and link.is_symlink()


async def _ask_reuse(pilot, app: AgentTUI, name: str) -> ChoiceDialog:
    await pilot.press("n")
    assert await wait_until(pilot, lambda: isinstance(app.screen, NewRunDialog))
    form = app.screen
    form.query_one("#run-name", Input).value = name
    form.query_one("#run-task", Input).value = "again, please"
    form.query_one("#run-task", Input).focus()
    await pilot.press("enter")
    assert await wait_until(pilot, lambda: isinstance(app.screen, ChoiceDialog))
    dialog = app.screen
    assert isinstance(dialog, ChoiceDialog) and repr(name) in dialog.question
    return dialog


@pytest.mark.parametrize("answer", ["c", "n", "q"])
async def test_a_name_in_use_asks_before_a_run(workspace: Path, answer: str) -> None:
    folder = run_agent(workspace, "helper", loops=1)
    journal = (folder / "journal.jsonl").read_bytes()
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(160, 45)) as pilot:
        assert await wait_until(pilot, lambda: str(folder) in app.table.records)
        await _ask_reuse(pilot, app, "helper")
        await pilot.press(answer)
        if answer == "q":  # back to the form, nothing started
            assert await wait_until(pilot, lambda: isinstance(app.screen, NewRunDialog))
            assert not app.run_pane.runs
            await pilot.press("escape")
        else:
            assert await wait_until(pilot, lambda: bool(app.run_pane.runs))
            (run,) = app.run_pane.runs.values()
            assert await wait_until(pilot, lambda: not run.live, tries=RUN_TRIES)
    folders = sorted((workspace / "agents").iterdir())
    if answer == "n":  # a new agent beside it; the first one untouched
        assert len(folders) == 2
        assert (folder / "journal.jsonl").read_bytes() == journal
        (new,) = [f for f in folders if f != folder]
        assert load_config(new)["_autosave_metadata"]["agent_name"] == "helper"
    else:
        assert folders == [folder]
        grown = (folder / "journal.jsonl").read_bytes()
        if answer == "c":  # continued: the earlier run kept at the head of the journal
            assert grown.startswith(journal) and len(grown) > len(journal)
        else:
            assert grown == journal


async def test_the_list_shows_cost_and_the_status_line_the_total(workspace: Path) -> None:
    cheap = write_ours(workspace, "cheap")
    dear = write_ours(workspace, "dear")
    for folder, cost in ((cheap, 0.004), (dear, 12.5)):
        config = load_config(folder)
        config["_autosave_metadata"]["usage"] = {"cost": cost}
        atomic_write_json(folder / "config.json", config)
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(160, 45)) as pilot:
        assert await wait_until(pilot, lambda: app.table.row_count == 2)
        assert str(app.table.cell(str(dear), "cost")) == "$12.50"
        assert str(app.table.cell(str(cheap), "cost")) == "<$.01"
        assert await wait_until(pilot, lambda: "$12.50 spent" in str(app.status_line.content))
        app.table.remove_records([str(dear)])
        app._update_status()
        assert "$12.50" not in str(app.status_line.content)
