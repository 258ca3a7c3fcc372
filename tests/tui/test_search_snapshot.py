"""Snapshots of the search screen with results: fixed workspace at a fixed path, fixed times,
a cold index in the test's own cache folder, watcher off, no cursor blink."""

from __future__ import annotations

import json
import os
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from tui_fixtures import SNAPSHOT_NOW, wait_until
from workspace_fixtures import BASE_TIME, write_ours, write_swarms

from agent_tui.tui.app import AgentTUI
from agent_tui.tui.search_screen import SearchScreen

ROOT = Path("/tmp/agent-tui-snapshots/search-ws")
SIZES = pytest.mark.parametrize("size", [(160, 45), (80, 24)], ids=["160x45", "80x24"])

STORAGE = (
    "fsync flushes the file's data to the disk; rename then swaps it in atomically, so a "
    "reader sees the old config or the new one, never half of each."
)
JOURNAL = (
    "Each step appends one record to journal.jsonl and calls fsync on it: after a kill -9 the "
    "agent resumes from the last complete record."
)
QUESTION = "Why does the autosave call fsync before the rename? Keep it short."


def _set_last_message(path: Path, key: str, text: str) -> None:
    document = json.loads(path.read_text())
    document[key][-1]["content"] = text
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")


def search_workspace() -> Path:
    """Ours and swarms' agents whose transcripts speak of fsync, at fixed times (the index
    orders folders by their last change: so are the results)."""
    if ROOT.exists():
        shutil.rmtree(ROOT)
    alpha = write_ours(ROOT, "alpha", loop_count=3)
    _set_last_message(next(alpha.glob("*_state.json")), "conversation", JOURNAL)
    write_ours(ROOT, "beta", status="error", loop_count=2)
    storage = write_swarms(ROOT, "Storage-Reviewer")
    _set_last_message(storage / "config.json", "short_memory", STORAGE)
    asker = write_swarms(ROOT, "Quarterly-Infrastructure-Review-Agent-EMEA")
    config = json.loads((asker / "config.json").read_text())
    config["short_memory"][1]["content"] = QUESTION
    config["short_memory"][2]["content"] = "It makes the bytes durable first: " + STORAGE
    (asker / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    for rank, folder in enumerate(sorted((ROOT / "agents").iterdir())):
        stamp = (BASE_TIME + timedelta(minutes=rank)).timestamp()
        for where, _, files in os.walk(folder):
            for name in files:
                os.utime(Path(where) / name, (stamp, stamp))
            os.utime(where, (stamp, stamp))
    return ROOT


def searched(query: str):
    async def run_before(pilot) -> None:
        app = pilot.app
        screen = SearchScreen([ROOT], app.redactor, query)
        await app.push_screen(screen)
        screen.input.cursor_blink = False
        assert await wait_until(pilot, lambda: "result" in screen.status)
        await pilot.pause()

    return run_before


@SIZES
def test_search_results(snap_compare, size) -> None:
    app = AgentTUI(workspace_dir=search_workspace(), watch=False, clock=lambda: SNAPSHOT_NOW)
    assert snap_compare(app, terminal_size=size, run_before=searched("fsync"))
