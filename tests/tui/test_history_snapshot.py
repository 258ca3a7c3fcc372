"""A snapshot of the runs view and the step bar: three runs of one agent (completed, error,
interrupted) at a fixed path with fixed times and a fixed clock, watcher off."""

from __future__ import annotations

import json
import os
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

from textual.app import ComposeResult
from textual.screen import Screen
from tui_fixtures import SNAPSHOT_NOW, wait_until
from workspace_fixtures import BASE_TIME, write_ours

from agent_tui.tui.app import AgentTUI
from agent_tui.tui.history_view import HistoryView
from agent_tui.tui.step_bar import StepBar

ROOT = Path("/tmp/agent-tui-snapshots/history")
SIZE = (130, 20)


def at(minutes: float) -> str:
    return (BASE_TIME + timedelta(minutes=minutes)).isoformat()


def later_runs() -> list[dict[str, Any]]:
    """Two runs after the first: one that failed at step 5, one cut short after step 6."""

    def usage(total: int) -> dict[str, Any]:
        return {"prompt_tokens": total * 3, "completion_tokens": total, "cost": total / 10_000}

    def step(seq: int, run: str, n: int, minutes: float, total: int) -> dict[str, Any]:
        message = {"role": "assistant", "content": f"answer {n}", "ts": at(minutes), "step": n}
        return {"seq": seq, "kind": "step", "ts": at(minutes), "run_id": run, "loop_count": n,
                "messages": [message], "tool_results": [], "usage": usage(total)}  # fmt: skip

    def task(seq: int, run: str, text: str, n: int, minutes: float) -> dict[str, Any]:
        message = {"role": "user", "content": text, "ts": at(minutes), "step": n}
        return {"seq": seq, "kind": "task", "ts": at(minutes), "run_id": run, "loop_count": n,
                "task": text, "messages": [message], "new_conversation": False}  # fmt: skip

    return [
        task(6, "b7d0c2e19a44", "Write the report on fsync, rename and the journal", 3, 30),
        step(7, "b7d0c2e19a44", 4, 31, 200),
        step(8, "b7d0c2e19a44", 5, 33.5, 420),
        {
            "seq": 9,
            "kind": "end",
            "ts": at(34),
            "run_id": "b7d0c2e19a44",
            "loop_count": 5,
            "status": "error",
            "error": "model exploded",
        },  # fmt: skip
        task(10, "e51f8a3d07c6", "Continue from where you left off", 5, 90),
        step(11, "e51f8a3d07c6", 6, 92, 610),
    ]


def history_workspace() -> Path:
    if ROOT.exists():
        shutil.rmtree(ROOT)
    folder = write_ours(ROOT, "alpha", loop_count=3)
    with (folder / "journal.jsonl").open("a", encoding="utf-8") as journal:
        journal.writelines(json.dumps(record) + "\n" for record in later_runs())
    stamp = BASE_TIME.timestamp()
    for path in folder.iterdir():
        os.utime(path, (stamp, stamp))
    return folder


class HistoryScreen(Screen[None]):
    def __init__(self, view: HistoryView, bar: StepBar) -> None:
        super().__init__()
        self.view, self.bar = view, bar

    def compose(self) -> ComposeResult:
        yield self.bar
        yield self.view


def test_runs_view(snap_compare) -> None:
    folder = history_workspace()
    app = AgentTUI(workspace_dir=ROOT, watch=False, clock=lambda: SNAPSHOT_NOW)

    async def show_runs(pilot) -> None:
        assert await wait_until(pilot, lambda: app.selected == str(folder))
        view, bar = HistoryView(app.redactor, app.clock), StepBar()
        await app.push_screen(HistoryScreen(view, bar))
        bar.set_range(6)
        bar.set_step(4)
        view.show(app.table.records[str(folder)])
        assert await wait_until(pilot, lambda: view.table.row_count == 3)
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=show_runs)
