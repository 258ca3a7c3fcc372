"""The cleanup screen deleting hundreds of folders: every marked one goes, nothing else does,
the rows leave both lists in one batch, the bar runs from a count, and keys are answered while
the folders go. (How fast, against ``agent-tui clean``: bench/_fleet_cleanup.py.)"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from test_tui_cleanup import mark, open_cleanup
from textual.widgets import DataTable, ProgressBar, Static
from tui_fixtures import rewrite_config, wait_until
from workspace_fixtures import write_ours

from agent_tui import cleanup
from agent_tui.format.lock import WorkspaceLock
from agent_tui.tui import cleanup_screen
from agent_tui.tui.app import AgentTUI
from agent_tui.tui.cleanup_screen import CleanupScreen
from agent_tui.tui.dialogs import ConfirmDialog
from agent_tui.tui.help_screen import HelpScreen
from agent_tui.tui.watcher import AgentRemoved

MANY = 300
SIZE = (160, 45)


def bulk(root: Path, count: int) -> list[Path]:
    return [write_ours(root, f"bulk-{n:04d}", loop_count=1) for n in range(count)]


def contents(folder: Path, *, skip: str = "") -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes (but ``skip``)."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != skip
    }


@contextmanager
def running_elsewhere(folder: Path) -> Iterator[None]:
    """A run in progress in another process: config.json says running and a live child
    process holds ``agent.lock`` until the block ends."""
    rewrite_config(folder, status="running")
    code = (
        "import sys; from agent_tui.format.lock import WorkspaceLock; "
        "WorkspaceLock(sys.argv[1]).acquire(); print('held', flush=True); sys.stdin.read()"
    )
    child = subprocess.Popen(
        [sys.executable, "-P", "-c", code, str(folder)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        yield
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=30)


def gone(folders: list[Path]) -> bool:
    return not any(folder.exists() for folder in folders)


def rows(screen: CleanupScreen) -> set[str]:
    table = screen.query_one("#cleanup-table", DataTable)
    return {row.key.value for row in table.ordered_rows}


async def confirm_delete(pilot, app: AgentTUI) -> None:
    await pilot.press("d")
    assert await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
    await pilot.press("y")


async def test_hundreds_of_folders_go_in_one_batch_and_nothing_else_does(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doomed = bulk(workspace, MANY)
    kept = [write_ours(workspace, f"keep-{n}") for n in range(3)]
    busy = write_ours(workspace, "busy")
    before = {folder: contents(folder) for folder in kept}
    with running_elsewhere(busy):
        busy_before = contents(busy, skip="agent.lock")
        posted: dict[int, str] = {}  # messages of the cleanup screen, once each

        def hook(message: object) -> None:
            if type(message).__module__ == cleanup_screen.__name__:
                posted[id(message)] = type(message).__name__

        app = AgentTUI(workspace_dir=workspace, watch=False)
        async with app.run_test(size=SIZE, message_hook=hook) as pilot:
            screen = await open_cleanup(pilot, app, MANY + 4)
            assert screen.records[str(busy)].status == "running"
            await pilot.press("asterisk")
            assert await wait_until(pilot, lambda: len(screen.marked) == MANY + 3)
            for folder in kept:
                await mark(pilot, screen, folder)  # unmarked again
            assert screen.marked == {str(f) for f in doomed}
            screen.marked.add(str(busy))  # even a running folder that got marked somehow
            table = screen.query_one("#cleanup-table", DataTable)
            drawn = {"remove_row": 0, "clear": 0}
            for name in drawn:
                real = getattr(table, name)

                def counted(*args, _real=real, _name=name, **kwargs):
                    drawn[_name] += 1
                    return _real(*args, **kwargs)

                monkeypatch.setattr(table, name, counted)
            told: list[set[Path]] = []
            monkeypatch.setattr(cleanup_screen, "FORGET_CHUNK", 100)
            forget = app.forget_folders
            monkeypatch.setattr(app, "forget_folders", lambda f: told.append(set(f)) or forget(f))
            posted.clear()
            await confirm_delete(pilot, app)
            assert await wait_until(pilot, lambda: gone(doomed) and not screen.deleting)
            await pilot.pause(0.1)

            assert {folder: contents(folder) for folder in kept} == before
            assert contents(busy, skip="agent.lock") == busy_before
            left = {str(folder) for folder in [*kept, busy]}
            assert rows(screen) == left and set(screen.records) == left
            assert await wait_until(pilot, lambda: set(app.table.records) == left)
            assert screen.marked == {str(busy)}  # refused, so still marked
            # In batches: the table drawn again once, the app told a chunk at a time (here
            # 100 folders), no message per folder.
            assert drawn == {"remove_row": 0, "clear": 1}
            assert [len(chunk) for chunk in told] == [100] * 3 and set().union(*told) == set(doomed)
            assert len(posted) < 10, sorted(posted.values())
            bar = screen.query_one("#cleanup-progress", ProgressBar)
            assert bar.total == MANY + 1 and bar.progress == MANY + 1
            summary = str(screen.query_one("#cleanup-summary").content)
            assert "1 marked" in summary and "4 of 4 folders" in summary


async def test_what_the_watcher_sees_go_waits_for_the_batch(workspace: Path) -> None:
    doomed = bulk(workspace, MANY)
    kept = [write_ours(workspace, f"keep-{n}") for n in range(2)]
    seen: list[float] = []  # when each AgentRemoved arrived

    def hook(message: object) -> None:
        if isinstance(message, AgentRemoved):
            seen.append(time.monotonic())

    app = AgentTUI(workspace_dir=workspace, watch=True)
    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        screen = await open_cleanup(pilot, app, MANY + 2)
        for folder in doomed:
            screen.marked.add(str(folder))
        table = screen.query_one("#cleanup-table", DataTable)
        removed: list[str] = []
        real_remove = table.remove_row
        table.remove_row = lambda key: removed.append(key) or real_remove(key)  # type: ignore[method-assign]
        await confirm_delete(pilot, app)
        assert await wait_until(pilot, lambda: gone(doomed) and not screen.deleting)
        left = {str(folder) for folder in kept}
        assert await wait_until(pilot, lambda: set(app.table.records) == left)
        assert rows(screen) == left
        assert removed == []  # the watcher's hundreds of removals did not go row by row
        # Outside a deletion, a folder another process removes leaves the list too.
        shutil.rmtree(kept[0])
        assert await wait_until(pilot, lambda: rows(screen) == {str(kept[1])})
        assert await wait_until(pilot, lambda: set(app.table.records) == {str(kept[1])})
        assert "1 of 1 folder" in str(screen.query_one("#cleanup-summary").content)
        # The app is left once the watcher is quiet (not with its messages still queued).
        await wait_until(pilot, lambda: time.monotonic() - max(seen, default=0) > 0.5)


def watcher_children() -> list[int]:
    """This process's live children running the watcher (from /proc)."""
    found = []
    for task in Path("/proc/self/task").glob("*/children"):
        for pid in task.read_text().split():
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if b"agent_tui.watching" in cmdline and state != "Z":
                found.append(int(pid))
    return found


async def test_the_watcher_rests_while_the_folders_go_and_catches_up_after(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """During the removal no watcher process runs (it would hear of every removed file); what
    others did meanwhile is shown after it: a new agent, a rewritten config, a folder gone."""
    doomed = bulk(workspace, 40)
    changed, other = write_ours(workspace, "changed"), write_ours(workspace, "other")
    seen_during: list[list[int]] = []
    real_remove = cleanup._remove_item
    once = threading.Lock()

    def meanwhile(agents_fd, folder, trash, part):
        with once:
            if seen_during:
                return real_remove(agents_fd, folder, trash, part)
            deadline = time.monotonic() + 10
            while watcher_children() and time.monotonic() < deadline:
                time.sleep(0.02)
            seen_during.append(watcher_children())
            write_ours(workspace, "newcomer")
            rewrite_config(changed, loop_count=77)
            shutil.rmtree(other)
            return real_remove(agents_fd, folder, trash, part)

    monkeypatch.setattr(cleanup, "_remove_item", meanwhile)
    app = AgentTUI(workspace_dir=workspace, watch=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_cleanup(pilot, app, 42)
        assert await wait_until(pilot, lambda: bool(watcher_children()))
        for folder in doomed:
            screen.marked.add(str(folder))
        await confirm_delete(pilot, app)
        assert await wait_until(pilot, lambda: gone(doomed) and not screen.deleting)
        assert seen_during == [[]]  # no watcher while the folders went
        names = lambda: {record.name for record in app.table.records.values()}  # noqa: E731
        assert await wait_until(pilot, lambda: names() == {"changed", "newcomer"}), names()
        assert await wait_until(pilot, lambda: app.table.records[str(changed)].loop_count == 77)
        assert watcher_children()  # following the disk again
        rewrite_config(changed, loop_count=78)  # and live, as before
        assert await wait_until(pilot, lambda: app.table.records[str(changed)].loop_count == 78)


async def test_keys_are_answered_and_the_bar_moves_while_a_slowed_delete_runs(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    count = 200
    doomed = bulk(workspace, count)
    # The first half goes at once; the rest waits until the test lets it go.
    released = threading.Event()
    started: list[Path] = []
    real_remove = cleanup._remove_item

    def slowed(agents_fd, folder, trash, part):
        started.append(folder)
        if len(started) > count // 2:
            released.wait(60)
        return real_remove(agents_fd, folder, trash, part)

    monkeypatch.setattr(cleanup, "_remove_item", slowed)
    app = AgentTUI(workspace_dir=workspace, watch=False)
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_cleanup(pilot, app, count)
            await pilot.press("asterisk")
            assert await wait_until(pilot, lambda: len(screen.marked) == count)
            await confirm_delete(pilot, app)
            bar = screen.query_one("#cleanup-progress", ProgressBar)
            assert await wait_until(pilot, lambda: bar.progress == count // 2)
            assert screen.deleting and bar.display and bar.total == count
            await pilot.press("question_mark")
            assert await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
            help_text = str(app.screen.query_one(Static).content)
            assert screen.deleting and help_text.startswith("Cleanup, as ncdu")
            await pilot.press("escape")
            assert await wait_until(pilot, lambda: app.screen is screen)
            released.set()
            assert await wait_until(pilot, lambda: not screen.deleting)
            assert bar.progress == count
            assert gone(doomed) and rows(screen) == set() and not app.table.records
    finally:
        released.set()


async def test_the_notice_names_ten_folders_left_in_place_and_counts_the_rest(
    workspace: Path,
) -> None:
    doomed = bulk(workspace, 20)
    held = doomed[:15]
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_cleanup(pilot, app, 20)
        screen.marked.update(str(folder) for folder in doomed)
        with ExitStack() as locks:
            for folder in held:  # taken after the scan: a run that started meanwhile
                locks.enter_context(WorkspaceLock(folder))
            await confirm_delete(pilot, app)
            assert await wait_until(pilot, lambda: gone(doomed[15:]) and not screen.deleting)
        assert all(folder.exists() for folder in held)
        assert screen.marked == {str(folder) for folder in held}
        note = next(n.message for n in app._notifications if n.message.startswith("Deleted"))
        lines = note.splitlines()
        assert lines[0].startswith("Deleted 5 folders")
        assert (
            len(lines) == 12 and lines[-1] == "... and 5 more folders left in place (still marked)"
        )
        assert all(line.split(":")[0] in {f.name for f in held} for line in lines[1:11])


async def test_leaving_the_screen_while_it_deletes_still_clears_the_list(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doomed = bulk(workspace, 40)
    released = threading.Event()
    real_remove = cleanup._remove_item

    def held(*args):
        released.wait(60)
        return real_remove(*args)

    monkeypatch.setattr(cleanup, "_remove_item", held)
    app = AgentTUI(workspace_dir=workspace, watch=False)
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_cleanup(pilot, app, 40)
            await pilot.press("asterisk")
            await confirm_delete(pilot, app)
            assert await wait_until(pilot, lambda: screen.deleting)
            await pilot.press("escape")  # back to the list while the folders go
            assert await wait_until(pilot, lambda: app.screen is app.screen_stack[0])
            released.set()
            assert await wait_until(pilot, lambda: gone(doomed))
            assert await wait_until(pilot, lambda: not app.table.records)
            notes = [note.message for note in app._notifications]
            assert any(note.startswith("Deleted 40 folders") for note in notes), notes
    finally:
        released.set()


async def test_a_long_list_is_drawn_a_slice_a_frame_and_ends_whole_and_right(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows come a slice per callback (keys are answered between them); a folder gone before
    its row is drawn never shows, marks made meanwhile show on rows drawn later, and the table
    ends in the screen's order."""
    monkeypatch.setattr(cleanup_screen, "FILL_FIRST", 10)
    monkeypatch.setattr(cleanup_screen, "FILL_CHUNK", 10)
    folders = bulk(workspace, 150)
    sizes: list[int] = []  # rows in the table after each slice
    late: list[str] = []
    real_fill = CleanupScreen._fill

    def fill(screen: CleanupScreen, *args) -> None:
        real_fill(screen, *args)
        table = screen.query_one("#cleanup-table", DataTable)
        sizes.append(table.row_count)
        if len(sizes) == 3:  # between two slices, as a user's keys come
            late.append(list(screen.shown)[-1])
            assert late[0] not in screen.drawn
            screen.record_removed(Path(late[0]))
            screen.action_mark_shown()

    monkeypatch.setattr(CleanupScreen, "_fill", fill)
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_cleanup(pilot, app, 150)
        table = screen.query_one("#cleanup-table", DataTable)
        assert await wait_until(pilot, lambda: table.row_count == 149)
        await pilot.pause(0.2)
        assert sizes[:3] == [10, 20, 30] and len(sizes) >= 15
        order = [row.key.value for row in table.ordered_rows]
        assert order == list(screen.shown) and late[0] not in order
        assert set(order) == {str(f) for f in folders} - set(late)
        assert screen.marked == set(order)
        assert all(table.get_cell(key, "mark") == cleanup_screen.MARK_ON for key in order)
