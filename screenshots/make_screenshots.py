"""Regenerate screenshots/*.svg and *.png: the main screen, the run pane mid-run, the diff view
and the cleanup screen at 130x36, the State tab and the cleanup screen at 80x24, from a demo
workspace built by real offline runs at a fixed path.

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
