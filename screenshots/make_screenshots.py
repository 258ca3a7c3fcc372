"""Regenerate screenshots/*.svg and *.png: the main screen, the run pane mid-run, the diff view,
the cleanup screen, the tree with a file open, the search mode and the History tab at 130x36, the State tab, the
cleanup screen and the tree at 80x24, from a demo workspace built by real offline runs at a
fixed path.

    .venv/bin/python screenshots/make_screenshots.py      (or: make screenshots)

The app runs headless at a fixed size with a fixed clock (ages read the same every time). The
mid-run picture is a real child run whose model hangs at step 4, so it always stops after three
completed steps; only the measured write times (ms) and byte counts vary between runs.
PNGs come from ``rsvg-convert`` (Debian ``librsvg2-bin``, with ``fonts-firacode``).
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from agent_tui.demo import DEMO_TOOL_REFS, LIVE_TASK, build_demo_workspace  # noqa: E402
from agent_tui.runner import RunSpec  # noqa: E402
from agent_tui.tui.app import AgentTUI  # noqa: E402
from agent_tui.workspace import read_agent  # noqa: E402

OUT = REPO / "screenshots"
ROOT = Path("/tmp/agent-tui-screenshots/agent_workspace")
SIZE = (130, 36)
TRIES = 400


async def until(pilot, condition, tries: int = TRIES) -> None:
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.05)
    raise TimeoutError("the app did not reach the state to capture")


def select(app: AgentTUI, name: str) -> None:
    table = app.table
    key = next(k for k, r in table.records.items() if r.name == name)
    table.move_cursor(table.row_of(key))


async def capture(name: str, steps, size: tuple[int, int] = SIZE) -> None:
    clock_at = max(read_agent(f).last_activity for f in (ROOT / "agents").iterdir())
    app = AgentTUI(workspace_dir=ROOT, clock=lambda: clock_at + timedelta(minutes=5))
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: len(app.table.records) >= 4 and app.selected)
        await pilot.pause(0.2)  # the watcher is up
        await steps(pilot, app)
        await pilot.pause(0.3)
        app.save_screenshot(str(OUT / f"{name}.svg"))
        for run in app.run_pane.live_runs:
            app.run_pane.interrupt(run.key)
        await until(pilot, lambda: not app.run_pane.live_runs)


async def main_screen(pilot, app: AgentTUI) -> None:
    select(app, "research-assistant")
    await pilot.pause(0.2)


async def state_tab(pilot, app: AgentTUI) -> None:
    select(app, "research-assistant")
    await pilot.pause(0.2)
    await pilot.press("2")
    await until(pilot, lambda: app.state_view.detail is not None)


async def run_pane(pilot, app: AgentTUI) -> None:
    spec = RunSpec(
        agent_name="live-demo",
        task=LIVE_TASK,
        model="offline/demo?delay=0.01&tool_steps=8&fail_at=4&fail=hang",
        max_loops=10,
        workspace=str(ROOT),
        tools=list(DEMO_TOOL_REFS),
    )
    app.start_run(spec)
    await until(pilot, lambda: app.run_pane.runs)
    (run,) = app.run_pane.runs.values()
    # Step 4 hangs on purpose (a live run mid-step); the autosave thread reports step 3's
    # config rewrite at the next step's end, so 8 or 9 autosaves have been seen by then.
    await until(pilot, lambda: run.step == 4 and run.autosaves >= 8)
    await until(pilot, lambda: app.table.records.get(run.folder or "") is not None)


async def diff_view(pilot, app: AgentTUI) -> None:
    select(app, "report-writer")
    await pilot.pause(0.2)
    await pilot.press("d")
    await until(pilot, lambda: "->" in str(app.diff_view.query_one("#diff-summary").content))


async def cleanup_screen(pilot, app: AgentTUI) -> None:
    await pilot.press("c")
    await pilot.pause(0.3)
    await pilot.press("space", "space")


def to_png(svg: Path) -> None:
    # rsvg-convert collapses runs of spaces unless told to keep them.
    text = svg.read_text(encoding="utf-8")
    if 'xml:space="preserve"' not in text:
        text = text.replace("<svg ", '<svg xml:space="preserve" ', 1)
        svg.write_text(text, encoding="utf-8", newline="\n")
    subprocess.run(["rsvg-convert", str(svg), "-o", str(svg.with_suffix(".png"))], check=True)


async def tree_and_file(pilot, app: AgentTUI) -> None:
    """research-assistant opened in the tree, its journal in the File tab (a record a line)."""
    from agent_tui.workspace.files import FileEntry

    select(app, "research-assistant")
    await pilot.pause(0.2)
    await pilot.press("enter")
    key = app.table.selected_key or ""
    await until(pilot, lambda: any(isinstance(e, FileEntry) for e in app.table.opened.get(key, [])))
    lines = app.table.opened[key]
    child = next(
        i for i, e in enumerate(lines) if isinstance(e, FileEntry) and e.rel == "journal.jsonl"
    )
    app.table.move_cursor(app.table.cursor_row, child=child)
    await until(pilot, lambda: app.file_view.shown_kind == "file-text")
    await pilot.pause(0.3)


async def history_tab(pilot, app: AgentTUI) -> None:
    """The runs of an agent (History) with the step bar one step back."""
    from textual.widgets import DataTable

    select(app, "night-batch")
    await pilot.pause(0.2)
    await pilot.press("6")
    await until(pilot, lambda: app.history_view.query_one(DataTable).row_count > 0)
    await pilot.pause(0.2)


async def search_results(pilot, app: AgentTUI) -> None:
    """The search mode on a word the demo transcripts hold."""
    from agent_tui.tui.search_screen import SearchScreen

    await pilot.press("ctrl+f")
    await until(pilot, lambda: isinstance(app.screen, SearchScreen))
    for key in "journal":
        await pilot.press(key)
    await until(pilot, lambda: bool(app.screen.query_one("ResultList").rows))
    await pilot.pause(0.2)


def main() -> int:
    if shutil.which("rsvg-convert") is None:
        print("rsvg-convert not found: apt-get install -y librsvg2-bin fonts-firacode")
        return 1
    shutil.rmtree(ROOT.parent, ignore_errors=True)
    print(f"building the demo workspace in {ROOT}")
    build_demo_workspace(ROOT, quiet=True)
    shots = {
        "main": (main_screen, SIZE),
        "run": (run_pane, SIZE),
        "diff": (diff_view, SIZE),
        "cleanup": (cleanup_screen, SIZE),
        "state-80x24": (state_tab, (80, 24)),  # the smallest usual terminal: panes stacked
        "cleanup-80x24": (cleanup_screen, (80, 24)),
        "tree": (tree_and_file, SIZE),
        "tree-80x24": (tree_and_file, (80, 24)),
        "search": (search_results, SIZE),
        "history": (history_tab, (160, 40)),  # the runs table is wide
    }
    for name, (steps, size) in shots.items():
        asyncio.run(capture(name, steps, size))
        svg = OUT / f"{name}.svg"
        svg.write_text(re.sub(r"\r\n?", "\n", svg.read_text(encoding="utf-8")), encoding="utf-8")
        to_png(svg)
        print(f"wrote {svg.relative_to(REPO)} and {svg.with_suffix('.png').relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
