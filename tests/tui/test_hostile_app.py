"""The app fed hostile workspaces: random bytes, wrong types, broken swarms files, links and
loops in every folder; every agent is selected and every tab shown: zero crashes."""

from __future__ import annotations

import json
import random
from pathlib import Path

from textual.widgets import Static
from workspace_fixtures import write_broken_corpus, write_swarms

from agent_tui import Agent
from agent_tui.tui.agent_table import AgentTable
from agent_tui.tui.app import AgentTUI

GARBAGE = [
    b"",
    b"\x00\xff\xfe",
    b'{"_autosave_metadata": ',
    b"[" * 3000,
    json.dumps({"_autosave_metadata": {"loop_count": "x", "timestamp": 5, "status": []}}).encode(),
    json.dumps({"short_memory": "not a list", "agent_name": 7}).encode(),
    json.dumps({"short_memory": [None, 3, {"role": None, "content": {"a": [1]}}]}).encode(),
    json.dumps(
        {"format": "agent-tui", "conversation": [{"role": 1}], "schema_version": "1"}
    ).encode(),
]


def hostile_workspace(root: Path) -> None:
    write_broken_corpus(root)
    rng = random.Random(7)
    agents = root / "agents"
    for index, data in enumerate(GARBAGE):
        folder = agents / f"garbage-{index:02d}"
        folder.mkdir()
        target = rng.choice(["config.json", "journal.jsonl", "x_state.json"])
        (folder / target).write_bytes(data)
        (folder / "journal.jsonl").write_bytes(rng.randbytes(200) + b"\n{}\n")
    broken_swarms = write_swarms(root, "Broken-Swarm", loop_count=None)
    (broken_swarms / "error.txt").write_bytes(b"\xff\xfe boom")
    Agent(agent_name="healthy", workspace_dir=root, max_loops=2).run("still fine")


async def test_app_survives_every_hostile_agent(tmp_path: Path) -> None:
    hostile_workspace(tmp_path)
    app = AgentTUI(workspace_dir=tmp_path, watch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.query_one(AgentTable)
        for _ in range(100):
            await pilot.pause(0.05)
            if table.row_count >= 20:
                break
        assert table.row_count >= 20
        tabs = ("tab-config", "tab-state", "tab-diff")
        for row in range(table.row_count):
            # Every agent once, each time on the next tab: every view meets every kind of damage.
            table.move_cursor(row)
            app.tabs.active = tabs[row % 3]
            await pilot.pause()
            assert app.is_running
        header = str(app.query_one("#config-header", Static).content)
        assert header  # the last agent's header rendered
        statuses = {
            table.cell(table.shown.key_at(row), "status").plain.strip()
            for row in range(table.row_count)
        }
        assert "broken" in statuses and "completed" in statuses
