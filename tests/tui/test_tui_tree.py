"""The workspace tree and the file viewers (Pilot): an agent's files under its row, a file a tool
writes appearing, each viewer on its kind of file, a 1 GB log opened at its end and followed,
links, FIFOs and secrets in files, and e / o handing a file to $EDITOR / $PAGER."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from textual.widgets import DataTable, Markdown, Static, Tree
from tui_fixtures import wait_until
from workspace_fixtures import write_ours

from agent_tui.redaction import REDACTED
from agent_tui.tui.app import AgentTUI
from agent_tui.tui.file_view import TextView
from agent_tui.workspace.files import FileEntry

KEY = "sk-tree0Secret9Value8Abc7Def6Ghi5"


def shown_files(app: AgentTUI, folder: Path) -> list[str]:
    return [e.rel for e in app.table.opened.get(str(folder), []) if isinstance(e, FileEntry)]


async def open_agent(pilot, app: AgentTUI, folder: Path) -> None:
    """Put the cursor on ``folder``'s row and open it with enter, as a user does."""
    table = app.table
    assert await wait_until(pilot, lambda: str(folder) in table.shown)
    table.move_cursor(table.row_of(str(folder)))
    await pilot.press("enter")
    assert await wait_until(pilot, lambda: "config.json" in shown_files(app, folder))


async def pick_file(pilot, app: AgentTUI, folder: Path, rel: str) -> None:
    """Arrow down to the file ``rel`` under ``folder`` and wait for the File tab to show it."""
    table = app.table
    lines = table.opened[str(folder)]
    target = next(i for i, e in enumerate(lines) if isinstance(e, FileEntry) and e.rel == rel)
    for _ in range(80):
        if table.selected_file is not None and table.selected_file.rel == rel:
            break
        here = table.cursor_child if table.selected_key == str(folder) else None
        await pilot.press("down" if here is None or here < target else "up")
    assert table.selected_file is not None and table.selected_file.rel == rel
    assert await wait_until(pilot, lambda: app.tabs.active == "tab-file")


def text_lines(app: AgentTUI) -> list[str]:
    return app.file_view.query_one("#file-text", TextView).lines


def screen_text(app: AgentTUI) -> str:
    """Every character on screen now (the whole frame, as the terminal gets it)."""
    return "\n".join(
        "".join(segment.text for segment in strip)
        for strip in app.screen._compositor.render_strips()
    )


async def test_the_tree_lists_an_agents_files_and_follows_a_tool_writing_one(
    workspace: Path,
) -> None:
    folder = write_ours(workspace, "alpha", loop_count=2)
    (folder / "notes").mkdir()
    (folder / "notes" / "day1.txt").write_text("first day\n")
    app = AgentTUI(workspace_dir=workspace)
    async with app.run_test(size=(160, 45)) as pilot:
        await open_agent(pilot, app, folder)
        assert shown_files(app, folder)[:2] == ["notes", "notes/day1.txt"]  # folders first
        on_disk = sorted(p.name for p in folder.iterdir() if p.is_file())
        assert shown_files(app, folder)[2:] == on_disk  # every file the agent left, by name
        assert "day1.txt" in screen_text(app)
        (folder / "report.md").write_text("# Findings\n")  # a tool leaves a report
        assert await wait_until(pilot, lambda: "report.md" in shown_files(app, folder))
        assert await wait_until(pilot, lambda: "report.md" in screen_text(app))
        (folder / "report.md").unlink()
        assert await wait_until(pilot, lambda: "report.md" not in shown_files(app, folder))
        # left on a file goes back to the agent's row, left again closes it
        await pick_file(pilot, app, folder, "config.json")
        await pilot.press("left")
        assert app.table.selected_file is None and app.table.selected_key == str(folder)
        assert await wait_until(pilot, lambda: app.tabs.active == "tab-config")
        await pilot.press("left")
        assert str(folder) not in app.table.opened
        assert "day1.txt" not in screen_text(app)


async def test_each_viewer_shows_its_kind_of_file(workspace: Path) -> None:
    folder = write_ours(workspace, "alpha", loop_count=3)
    (folder / "report.md").write_text("# Findings\n\nThe **answer** is 42.\n")
    (folder / "results.csv").write_text("city,people\nOslo,709000\nBergen,291000\n")
    (folder / "data.json").write_text('{"answer": 42, "nested": {"deep": [1, 2, 3]}}')
    (folder / "bad.json").write_text('{"answer": ')
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await open_agent(pilot, app, folder)
        view = app.file_view

        await pick_file(pilot, app, folder, "data.json")
        assert await wait_until(pilot, lambda: view.shown_kind == "file-json")
        tree = view.query_one("#file-json", Tree)
        labels = [str(node.label) for node in tree.root.children]
        assert labels == ["answer: 42", "nested: {1}"]
        assert tree.root.children[1].is_expanded  # first level open, deeper folded
        assert not tree.root.children[1].children[0].is_expanded

        await pick_file(pilot, app, folder, "bad.json")  # not JSON after all: shown as text
        assert await wait_until(pilot, lambda: text_lines(app) == ['{"answer": '])

        await pick_file(pilot, app, folder, "journal.jsonl")
        assert await wait_until(pilot, lambda: view.shown_kind == "file-text" and text_lines(app))
        lines = text_lines(app)
        assert lines[0].startswith("seq 1  task")
        assert any(line.startswith("seq ") and "  step  step 3" in line for line in lines)

        await pick_file(pilot, app, folder, "report.md")
        assert await wait_until(pilot, lambda: view.shown_kind == "file-markdown")
        markdown = view.query_one("#file-markdown", Markdown)
        assert await wait_until(pilot, lambda: "Findings" in screen_text(app))
        assert "**" not in screen_text(app) and markdown.source.startswith("# Findings")

        await pick_file(pilot, app, folder, "results.csv")
        assert await wait_until(pilot, lambda: view.shown_kind == "file-csv")
        table = view.query_one("#file-csv", DataTable)
        assert table.row_count == 2
        assert [str(cell) for cell in table.get_row_at(1)] == ["Bergen", "291000"]

        await pilot.press("up")  # back on an agent row: the tab the user had comes back
        while app.table.selected_file is not None:
            await pilot.press("up")
        assert await wait_until(pilot, lambda: app.tabs.active == "tab-config")


async def test_a_1_gb_log_opens_at_its_end_scrolls_back_and_follows_appends(
    workspace: Path,
) -> None:
    folder = write_ours(workspace, "alpha")
    log = folder / "agent.log"
    with log.open("wb") as out:  # 1 GB: lines at the start, a sparse middle, lines at the end
        out.write(b"".join(b"head %d\n" % i for i in range(1000)))
        out.truncate(1 << 30)
        out.seek(1 << 30)
        out.write(b"".join(b"tail line %d\n" % i for i in range(40_000)))
    size = log.stat().st_size
    app = AgentTUI(workspace_dir=workspace)
    async with app.run_test(size=(160, 45)) as pilot:
        await open_agent(pilot, app, folder)
        await pick_file(pilot, app, folder, "agent.log")
        view = app.file_view.query_one("#file-text", TextView)
        assert await wait_until(pilot, lambda: view.lines[-1:] == ["tail line 39999"])
        assert view.offsets[0] > size - 2 * 256 * 1024  # a window, not the file
        assert await wait_until(pilot, lambda: "tail line 39999" in screen_text(app))
        with log.open("ab") as out:  # the agent writes on: the view follows
            out.write(b"tail line 40000\npartial")
        assert await wait_until(pilot, lambda: view.lines[-2:] == ["tail line 40000", "partial"])
        with log.open("ab") as out:
            out.write(b" line done\n")
        assert await wait_until(pilot, lambda: view.lines[-1] == "partial line done")
        assert view.lines.count("tail line 40000") == 1
        first = view.offsets[0]
        view.scroll_to(y=0, animate=False, immediate=True)  # scrolled to the top: read before
        assert await wait_until(pilot, lambda: view.offsets[0] < first)
        assert view.offsets == sorted(view.offsets)
        view.focus()
        await pilot.press("home")  # the start of the file
        assert await wait_until(pilot, lambda: view.lines[:1] == ["head 0"])
        await pilot.press("end")  # back to the live end
        assert await wait_until(pilot, lambda: view.lines[-1:] == ["partial line done"])


async def test_links_fifos_secrets_and_escapes_in_files_stay_harmless(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    folder = write_ours(workspace, "alpha")
    outside = workspace.parent / "outside.txt"
    outside.write_text("outside the workspace\n")
    os.symlink(outside, folder / "link.txt")
    os.mkfifo(folder / "pipe.log")
    (folder / "leak.log").write_text(f"calling with key {KEY}\n\x1b[2Jcleared?\x1b]0;title\x07\n")
    (folder / "leak.md").write_text(f"# Key\n\n{KEY}\n")
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await open_agent(pilot, app, folder)
        note = app.file_view.query_one("#file-note", Static)

        await pick_file(pilot, app, folder, "link.txt")
        assert await wait_until(pilot, lambda: "symbolic link" in str(note.content))
        assert "not followed" in str(note.content)
        assert "outside the workspace" not in screen_text(app)

        await pick_file(pilot, app, folder, "pipe.log")  # would block a reader forever
        assert await wait_until(pilot, lambda: "FIFO" in str(note.content))

        await pick_file(pilot, app, folder, "leak.log")
        assert await wait_until(pilot, lambda: any(REDACTED in line for line in text_lines(app)))
        frame = screen_text(app)
        assert KEY not in frame and KEY not in "".join(text_lines(app))
        assert "\x1b" not in frame and "\x07" not in frame

        await pick_file(pilot, app, folder, "leak.md")
        assert await wait_until(pilot, lambda: app.file_view.shown_kind == "file-markdown")
        assert KEY not in app.file_view.query_one("#file-markdown", Markdown).source
        assert KEY not in screen_text(app)
    assert (folder / "pipe.log").is_fifo() and outside.read_text() == "outside the workspace\n"


def _recorder(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """A stand-in editor: writes its arguments, one per line, to a file."""
    out = tmp_path / f"{name}.args"
    script = tmp_path / name
    script.write_text(f'#!/bin/sh\nfor a in "$@"; do echo "$a"; done > {out}\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script, out


async def test_e_and_o_hand_the_file_to_editor_and_pager(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    editor, edited = _recorder(tmp_path, "my-editor")
    pager, paged = _recorder(tmp_path, "my-pager")
    monkeypatch.setenv("EDITOR", f"{editor} --wait")
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("PAGER", str(pager))
    folder = write_ours(workspace, "alpha")
    (folder / "-n report.md").write_text("odd name\n")
    os.mkfifo(folder / "pipe")
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await open_agent(pilot, app, folder)
        await pick_file(pilot, app, folder, "-n report.md")
        await pilot.press("e")
        assert await wait_until(pilot, edited.exists)
        assert edited.read_text().splitlines() == ["--wait", str(folder / "-n report.md")]
        await pilot.press("o")
        assert await wait_until(pilot, paged.exists)
        assert paged.read_text().splitlines() == [str(folder / "-n report.md")]
        paged.unlink()
        await pick_file(pilot, app, folder, "pipe")
        await pilot.press("o")
        await pilot.pause(0.3)
        assert not paged.exists()
        assert any("not a regular file" in n.message for n in app._notifications)
        # e on an agent's own row is still the State tab's "earlier messages"
        await pilot.press("left")
        await pilot.press("e")
        assert await wait_until(pilot, lambda: app.tabs.active == "tab-state")


async def test_a_read_only_session_does_not_edit(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    editor, edited = _recorder(tmp_path, "my-editor")
    monkeypatch.setenv("EDITOR", str(editor))
    folder = write_ours(workspace, "alpha")
    app = AgentTUI(workspace_dir=workspace, watch=False, read_only=True)
    async with app.run_test(size=(160, 45)) as pilot:
        await open_agent(pilot, app, folder)
        await pick_file(pilot, app, folder, "config.json")
        await pilot.press("e")
        assert await wait_until(
            pilot, lambda: any("read-only" in n.message for n in app._notifications)
        )
    assert not edited.exists()


async def test_the_tree_at_80x24(workspace: Path) -> None:
    folder = write_ours(workspace, "alpha")
    for i in range(30):
        (folder / f"out-{i:02}.txt").write_text("x" * i)
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_agent(pilot, app, folder)
        await pick_file(pilot, app, folder, "out-29.txt")  # far below the fold: scrolled to
        frame = screen_text(app)
        assert "out-29.txt" in frame
        assert all(len(line) <= 80 for line in frame.splitlines())


async def test_a_swarms_memory_folder_is_shown_as_its_agents_memory(workspace: Path) -> None:
    from workspace_fixtures import write_swarms

    agent = write_swarms(workspace, "Research Agent", loop_count=2)
    memory = workspace / "agents" / "Research Agent"  # swarms' persistent memory folder
    memory.mkdir()
    (memory / "MEMORY.md").write_text("# What I remember\n\nThe user likes **short** answers.\n")
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(160, 45)) as pilot:
        assert await wait_until(pilot, lambda: str(memory) in app.table.records)
        assert app.table.records[str(memory)].status == "memory"  # not a broken agent
        table = app.table
        table.move_cursor(table.row_of(str(agent)))
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: any(
            isinstance(e, FileEntry) and e.base == str(memory) for e in table.opened[str(agent)]
        ))  # fmt: skip
        shown = [table.render_line(y).text.split() for y in range(1, table.line_count + 1)]
        assert [w for w in shown[-1] if w in ("memory", "MEMORY.md")] == ["memory", "MEMORY.md"]
        lines = table.opened[str(agent)]
        child = next(i for i, e in enumerate(lines) if isinstance(e, FileEntry) and e.base)
        table.move_cursor(table.cursor_row, child=child)
        assert await wait_until(pilot, lambda: app.file_view.shown_kind == "file-markdown")
        assert await wait_until(pilot, lambda: "What I remember" in screen_text(app))
