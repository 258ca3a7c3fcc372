"""The app on an s3:// root beside a local one (Pilot, moto on loopback): a run on another
"host" (a child process writing to the store) appears and its steps follow by polling; the
root is named by its address; cleanup deletes only the marked agent's objects."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input
from tui_fixtures import wait_until
from workspace_fixtures import write_ours

from agent_tui.store.s3 import S3Objects
from agent_tui.tui import app as app_module
from agent_tui.tui.app import AgentTUI
from agent_tui.tui.cleanup_screen import CleanupScreen
from agent_tui.tui.dialogs import ConfirmDialog, ValuePrompt

WRITER = """
import sys
from agent_tui import Agent
def step(n: int) -> int:
    '''One step.'''
    return n
Agent(agent_name="far-away", model_name="offline/demo?delay=0.02&tool_steps=6",
      max_loops=10, tools=[step], workspace_dir=sys.argv[1]).run("go on")
"""


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AGENT_TUI_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(app_module, "POLL_INTERVAL_S", 0.3)
    return tmp_path / "cache"


def drawn(app: AgentTUI) -> str:
    table = app.table
    return "\n".join(table.render_line(y).text for y in range(table.size.height))


async def test_a_remote_run_appears_and_follows_beside_a_local_root(
    s3_root: str, cache: Path, tmp_path: Path
) -> None:
    local = tmp_path / "laptop"
    write_ours(local, "here")
    env = {**os.environ, "AGENT_TUI_CACHE_DIR": str(tmp_path / "writer-cache")}
    app = AgentTUI(workspace_dir=[local, s3_root])
    async with app.run_test(size=(160, 45)) as pilot:
        assert await wait_until(pilot, lambda: app._scanned_once and app.table.row_count == 1)
        writer = subprocess.Popen([sys.executable, "-c", WRITER, s3_root], env=env)
        try:
            seen: set[int] = set()

            def far() -> bool:
                records = [r for r in app.table.records.values() if r.name == "far-away"]
                if records:
                    seen.add(records[0].loop_count or 0)
                return bool(records) and records[0].status == "completed"

            assert await wait_until(pilot, far, tries=600)
        finally:
            writer.wait(timeout=60)
        assert writer.returncode == 0
        assert len(seen) >= 2  # steps shown as they came, not only the end
        assert s3_root in drawn(app)  # the root's line names its address, not the cache
        assert app.table.row_count == 2


async def test_cleanup_of_a_remote_root_deletes_the_marked_agents_objects(
    s3_root: str, cache: Path, tmp_path: Path
) -> None:
    objects = S3Objects(s3_root)
    source = tmp_path / "src"
    for name in ("keep", "drop"):
        write_ours(source, name)
    for path in sorted(source.rglob("*")):
        if path.is_file():
            objects.put(path.relative_to(source).as_posix(), path.read_bytes())
    app = AgentTUI(workspace_dir=s3_root)
    async with app.run_test(size=(160, 45)) as pilot:
        assert await wait_until(pilot, lambda: app.table.row_count == 2, tries=400)
        await pilot.press("c")
        assert await wait_until(pilot, lambda: isinstance(app.screen, CleanupScreen))
        screen = app.screen
        (drop,) = [key for key, r in screen.records.items() if r.name == "drop"]
        table = screen.query_one("#cleanup-table", DataTable)
        table.move_cursor(row=table.get_row_index(drop))
        await pilot.press("space")
        assert screen.marked == {drop}
        await pilot.press("d")
        assert await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        assert await wait_until(pilot, lambda: not screen.deleting and drop not in screen.records)
    stored = sorted(info.key for info in objects.list())
    assert stored and not [k for k in stored if "/drop-" in k]
    assert all("/keep-" in k for k in stored)


async def test_W_opens_an_s3_root_beside_the_local_one(
    s3_root: str, cache: Path, tmp_path: Path
) -> None:
    local = tmp_path / "laptop"
    write_ours(local, "here")
    source = tmp_path / "src"
    write_ours(source, "there")
    objects = S3Objects(s3_root)
    for path in sorted(source.rglob("*")):
        if path.is_file():
            objects.put(path.relative_to(source).as_posix(), path.read_bytes())
    app = AgentTUI(workspace_dir=local)
    async with app.run_test(size=(160, 45)) as pilot:
        assert await wait_until(pilot, lambda: app._scanned_once and app.table.row_count == 1)
        await pilot.press("W")
        assert await wait_until(pilot, lambda: isinstance(app.screen, ValuePrompt))
        app.screen.query_one(Input).value = "s3://Not_A_Bucket/x"
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert isinstance(app.screen, ValuePrompt)  # kept open: the address is refused
        app.screen.query_one(Input).value = s3_root
        await pilot.press("enter")
        names = lambda: sorted(r.name for r in app.table.records.values())  # noqa: E731
        assert await wait_until(pilot, lambda: names() == ["here", "there"], tries=400)
        assert s3_root in drawn(app)
