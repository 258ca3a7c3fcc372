"""Several workspace roots in one tree (Pilot and CLI): each root's agents under a line naming
it, sorted within it whichever way the list is sorted; w jumps to the next root, W opens
another; the watcher follows every root; cleanup acts on one root; `--workspace` repeated."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input
from tui_fixtures import wait_until
from workspace_fixtures import write_ours

from agent_tui import cli
from agent_tui.tui.agent_table import ROOT_LINE
from agent_tui.tui.app import AgentTUI
from agent_tui.tui.cleanup_screen import CleanupScreen
from agent_tui.tui.dialogs import ValuePrompt


def roots_of(app: AgentTUI) -> list[str]:
    """The root (its folder's name) of each row, top to bottom."""
    return [Path(key).parent.parent.name for key in app.table.keys]


def drawn(app: AgentTUI) -> list[str]:
    table = app.table
    return [table.render_line(y).text.rstrip() for y in range(1, table.line_count + 1)]


async def test_two_roots_are_grouped_sorted_within_and_followed(tmp_path: Path) -> None:
    first, second = tmp_path / "ci", tmp_path / "laptop"
    for name in ("zulu", "alpha"):
        write_ours(first, name)
    for name in ("mike", "bravo", "alpha"):
        write_ours(second, name)
    app = AgentTUI(workspace_dir=[first, second])
    async with app.run_test(size=(160, 45)) as pilot:
        table = app.table
        assert await wait_until(pilot, lambda: table.row_count == 5 and app._scanned_once)
        assert roots_of(app) == ["ci", "ci", "laptop", "laptop", "laptop"]
        lines = drawn(app)
        assert lines[0].startswith(f"▾ ci  2 agents  {str(first)[:20]}")
        assert lines[3].startswith("▾ laptop  3 agents  /")
        assert [table.at_line(i)[1] for i in (0, 3)] == [ROOT_LINE, ROOT_LINE]
        names = [table.records[k].name for k in table.keys]
        assert names == ["alpha", "zulu", "alpha", "bravo", "mike"]
        await pilot.press("S")  # reversed: within each root, the roots stay in their order
        assert await wait_until(pilot, lambda: table.reverse)
        assert roots_of(app) == ["ci", "ci", "laptop", "laptop", "laptop"]
        assert [table.records[k].name for k in table.keys] == [
            "zulu", "alpha", "mike", "bravo", "alpha"
        ]  # fmt: skip
        # arrows pass over the root lines
        table.move_cursor(1)
        await pilot.press("down")
        assert table.cursor_row == 2 and table.cursor_child is None
        await pilot.press("up")
        assert table.cursor_row == 1
        await pilot.press("w")
        assert table.cursor_row == 2 and "laptop" in (table.selected_key or "")
        # the watcher follows both roots
        new = write_ours(second, "charlie")
        assert await wait_until(pilot, lambda: str(new) in table.records)
        assert "4 agents" in drawn(app)[3]
        # cleanup is of one root: the selected agent's
        await pilot.press("c")
        assert await wait_until(pilot, lambda: isinstance(app.screen, CleanupScreen))
        screen = app.screen
        assert isinstance(screen, CleanupScreen)
        assert screen.agents_dir == second / "agents"
        assert {Path(key).parent for key in screen.records} == {second / "agents"}


async def test_w_and_W_open_and_reach_another_root(tmp_path: Path) -> None:
    first, other = tmp_path / "one", tmp_path / "two"
    write_ours(first, "alpha")
    write_ours(other, "bravo")
    app = AgentTUI(workspace_dir=first, watch=False)
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.table
        assert await wait_until(pilot, lambda: table.row_count == 1)
        await pilot.press("w")  # one root: says how to open another
        assert any("W adds another" in n.message for n in app._notifications)
        await pilot.press("W")
        assert await wait_until(pilot, lambda: isinstance(app.screen, ValuePrompt))
        app.screen.query_one("#value", Input).value = str(tmp_path / "missing")
        await pilot.press("enter")
        assert isinstance(app.screen, ValuePrompt)  # not a folder: the prompt stays
        app.screen.query_one("#value", Input).value = str(other)
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: table.row_count == 2)
        assert roots_of(app) == ["one", "two"]
        assert app.roots == [first.absolute(), other.absolute()]
        assert app.sub_title.endswith("+1")
        await pilot.press("w")
        assert "two" in (table.selected_key or "")
        assert all(len(line) <= 80 for line in drawn(app))


def test_workspace_repeated_reaches_the_app_and_search(tmp_path: Path, capsys, monkeypatch) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    write_ours(first, "alpha")
    write_ours(second, "bravo")
    opened = []

    def open_app(workspace, **options) -> int:
        opened.append(workspace)
        return 0

    argv = ["--workspace", str(first), "--workspace", str(second)]
    assert cli.main(argv, open_app=open_app) == 0
    assert opened == [[str(first), str(second)]]
    assert cli.main(["--workspace", str(first)], open_app=open_app) == 0
    assert opened[-1] == str(first)  # one root: as before
    capsys.readouterr()
    # a word both roots' transcripts hold: hits from each (write_ours: "count the words")
    assert cli.main(["search", "words", *argv, "--json"]) == 0
    import json

    hits = json.loads(capsys.readouterr().out)
    assert {Path(hit["folder"]).parent.parent for hit in hits} == {first, second}
    # a root that is not a folder is named, as for one root
    assert cli.main(["search", "words", *argv, "--workspace", str(tmp_path / "nope")]) == 1
    assert "no workspace at" in capsys.readouterr().err
