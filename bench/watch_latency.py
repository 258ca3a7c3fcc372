"""How fast the TUI follows the disk, and how fast it opens a big workspace.

Headless (``App.run_test``), in one run:
1. raw watchfiles: time from an atomic rewrite of ``config.json`` to ``awatch`` (same debounce
   and step as the app) yielding it, over N rewrites;
2. the app: time from the same kind of rewrite to the new loop count in the Config tab's header;
3. 10,000 generated workspaces: time to the first frame, to the first rows, to the whole list,
   and the peak RSS.

Run: ``.venv/bin/python bench/watch_latency.py [--rewrites 200] [--agents 10000]``
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from textual import events
from watchfiles import awatch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent_tui.format.naming import agent_folder_name, stable_agent_id  # noqa: E402
from agent_tui.format.persistence import atomic_write_json  # noqa: E402
from agent_tui.tui.app import AgentTUI  # noqa: E402
from agent_tui.tui.watcher import DEBOUNCE_MS, STEP_MS  # noqa: E402
from agent_tui.watching import keep_change  # noqa: E402

GAP_S = 0.03  # between rewrites, so each one is measured on its own, not coalesced


def config(name: str, loop_count: int) -> dict:
    agent_id = stable_agent_id(name)
    return {
        "agent_name": name,
        "agent_id": agent_id,
        "model_name": "offline/demo",
        "max_loops": 10,
        "_autosave_metadata": {
            "timestamp": "2026-11-26T09:00:00+00:00",
            "loop_count": loop_count,
            "agent_id": agent_id,
            "agent_name": name,
            "schema_version": 1,
            "format": "agent-tui",
            "status": "completed",
        },
    }


def make_agent(root: Path, name: str, loop_count: int = 0, durable: bool = True) -> Path:
    folder = root / "agents" / agent_folder_name(name, stable_agent_id(name))
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_json(folder / "config.json", config(name, loop_count), durable=durable)
    return folder


def percentiles(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p50 = statistics.median(ms)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return f"p50 {p50:6.1f} ms   p95 {p95:6.1f} ms   max {ms[-1]:6.1f} ms   (n={len(ms)})"


async def raw_watchfiles(root: Path, folder: Path, rewrites: int) -> list[float]:
    stop = asyncio.Event()
    seen: asyncio.Queue[float] = asyncio.Queue()

    async def watch() -> None:
        async for changes in awatch(
            root, watch_filter=keep_change, debounce=DEBOUNCE_MS, step=STEP_MS, stop_event=stop
        ):
            if any(path.endswith("config.json") for _, path in changes):
                seen.put_nowait(time.perf_counter())

    task = asyncio.create_task(watch())
    await asyncio.sleep(0.3)
    samples = []
    for n in range(rewrites):
        start = time.perf_counter()
        atomic_write_json(folder / "config.json", config("bench", 1000 + n))
        samples.append(await asyncio.wait_for(seen.get(), 5) - start)
        await asyncio.sleep(GAP_S)
    stop.set()
    await task
    return samples


async def through_app(root: Path, folder: Path, rewrites: int) -> list[float]:
    app = AgentTUI(workspace_dir=root)
    samples = []
    async with app.run_test(size=(140, 40)) as pilot:
        for _ in range(200):
            await pilot.pause(0.02)
            if app.selected == str(folder):
                break
        await asyncio.sleep(0.3)
        header = app.config_view.query_one("#config-header")
        for n in range(rewrites):
            wanted = f"loop {2000 + n}"
            start = time.perf_counter()
            atomic_write_json(folder / "config.json", config("bench", 2000 + n))
            while wanted not in str(header.content):
                if time.perf_counter() - start > 5:
                    raise TimeoutError(f"{wanted} never reached the screen")
                await asyncio.sleep(0.001)
            samples.append(time.perf_counter() - start)
            await asyncio.sleep(GAP_S)
    return samples


async def big_workspace(root: Path, agents: int) -> dict[str, float]:
    for n in range(agents):
        make_agent(root, f"agent-{n:05d}", n % 50, durable=False)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    marks: dict[str, float] = {}
    start = time.perf_counter()

    def hook(message: object) -> None:
        if isinstance(message, events.Ready) and "ready" not in marks:
            marks["ready"] = time.perf_counter() - start

    app = AgentTUI(workspace_dir=root)
    async with app.run_test(size=(140, 40), message_hook=hook) as pilot:
        while len(app.table.records) < agents or app.table.row_count < agents:
            await pilot.pause(0.01)
            if time.perf_counter() - start > 120:
                raise TimeoutError("the scan did not finish")
        marks["all rows"] = time.perf_counter() - start
        marks["first rows"] = (app.first_rows_at or time.perf_counter()) - start
    marks["rss before MB"] = before
    marks["peak rss MB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return marks


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rewrites", type=int, default=200)
    parser.add_argument("--agents", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ws"
        folder = make_agent(root, "bench")
        raw = await raw_watchfiles(root, folder, args.rewrites)
        app = await through_app(root, folder, args.rewrites)
    print(f"rewrite -> seen, debounce={DEBOUNCE_MS} ms step={STEP_MS} ms, {args.rewrites} rewrites")
    print(f"  raw watchfiles awatch : {percentiles(raw)}")
    print(f"  on screen (Config tab): {percentiles(app)}")
    with tempfile.TemporaryDirectory() as tmp:
        marks = await big_workspace(Path(tmp) / "ws", args.agents)
    print(f"{args.agents} workspaces")
    print(f"  first frame (Ready)   : {marks['ready'] * 1000:7.0f} ms")
    print(f"  first rows on screen  : {marks['first rows'] * 1000:7.0f} ms")
    print(f"  every row listed      : {marks['all rows'] * 1000:7.0f} ms")
    print(f"  peak RSS              : {marks['peak rss MB']:7.0f} MB "
          f"(before the app: {marks['rss before MB']:.0f} MB)")  # fmt: skip
    print(f"  litellm imported      : {'litellm' in sys.modules}")


if __name__ == "__main__":
    asyncio.run(main())
