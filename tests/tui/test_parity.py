"""The CLI and the app are two faces of one workspace: the same records sort in the same order
(``agent-tui ls --sort X`` and the app's table) and two agents differ in the same places
(``agent-tui diff A B`` and the Diff tab). Both failed before: the table broke ties by folder
name alone and had no status order, and each face compared its own document of an agent."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.widgets import Select
from tui_fixtures import wait_until
from workspace_fixtures import BASE_TIME, write_ours

from agent_tui import cli
from agent_tui.format.persistence import atomic_write_json
from agent_tui.listing import SORTS
from agent_tui.tui.agent_table import AgentTable
from agent_tui.tui.app import AgentTUI
from agent_tui.tui.diff_view import DiffView
from agent_tui.workspace import load_config, load_state


def cli_json(capsys: pytest.CaptureFixture[str], *argv: str) -> object:
    assert cli.main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def awkward_workspace(root: Path) -> list[Path]:
    """Ties on every key, names whose case-blind order is not their folders' order, a time
    before 1970, and a config with no timestamp."""
    folders = [
        # "a b" sorts before "a-a" by name, after it by folder (a-a-... < a-b-...).
        write_ours(root, "a b", loop_count=2, timestamp=BASE_TIME),
        write_ours(root, "a-a", loop_count=2, timestamp=BASE_TIME),
        write_ours(root, "Beta", loop_count=3, status="error"),
        write_ours(root, "beta", loop_count=3, status="error"),
        write_ours(root, "old", loop_count=1, timestamp=datetime(1960, 1, 1, tzinfo=UTC)),
        write_ours(root, "Zed", loop_count=1, status="interrupted"),
    ]
    untimed = write_ours(root, "no-time", loop_count=1)
    config = load_config(untimed)
    del config["_autosave_metadata"]["timestamp"]  # the files' mtime stands in
    atomic_write_json(untimed / "config.json", config)
    return [*folders, untimed]


async def test_ls_and_the_table_sort_alike(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folders = awkward_workspace(workspace)
    by_cli = {
        sort: [r["folder"] for r in cli_json(capsys, "ls", "--sort", sort, "--json")]
        for sort in SORTS
    }
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(140, 40)) as pilot:
        table = app.query_one(AgentTable)
        assert await wait_until(pilot, lambda: table.row_count == len(folders))
        for sort in SORTS:
            table.set_sort(sort)
            await pilot.pause()
            shown = list(table.keys)
            assert [Path(p).name for p in shown] == [Path(p).name for p in by_cli[sort]], sort
    assert by_cli["age"][-1] == str(folders[4])  # 1960: older than the one with no time


async def test_diff_and_the_diff_tab_find_the_same_changes(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = write_ours(workspace, "first", loop_count=1, model="offline/demo")
    second = write_ours(workspace, "second", loop_count=3, model="offline/demo?words=9")
    state_file = next(second.glob("*_state.json"))
    state = load_state(second)
    state["memory"] = {"notes": "kept"}
    atomic_write_json(state_file, state)
    third = write_ours(workspace, "third")  # selected, so both others are offered as agents

    document = cli_json(capsys, "diff", str(first), str(second), "--ignore-noise", "--json")
    by_cli = [change["path"] for change in document["changes"]]
    assert "config.model_name" in by_cli and "memory.notes" in by_cli and "loop_count" in by_cli

    compared: list[DiffView.Compared] = []

    def hook(message: object) -> None:
        if isinstance(message, DiffView.Compared) and message.changes is not None:
            compared.append(message)

    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(140, 40), message_hook=hook) as pilot:
        table = app.query_one(AgentTable)
        assert await wait_until(pilot, lambda: str(third) in table.shown)
        table.move_cursor(table.row_of(str(third)))
        assert await wait_until(pilot, lambda: app.selected == str(third))
        await pilot.press("d")
        picker_from = app.query_one("#diff-from", Select)
        picker_to = app.query_one("#diff-to", Select)
        pair = (f"agent:{first}", f"agent:{second}")
        assert await wait_until(pilot, lambda: pair[1] in picker_to._legal_values)
        picker_from.value, picker_to.value = pair
        assert await wait_until(pilot, lambda: any((m.old, m.new) == pair for m in compared))
    (shown,) = [m for m in compared if (m.old, m.new) == pair][-1:]
    assert [change.path for change in shown.changes] == by_cli
