"""Fleet scale (issue 13): the app and the CLI on 100,000 folders and under 120 live writers.

    .venv/bin/python bench/fleet.py [--folders 100000] [--workspaces 10000] [--quick]
                                    [--json out.json]

Side by side in one run, each part in a fresh interpreter where it is timed:

- **the app on N folders** (headless Pilot, 160x45, watching the disk as it does by default):
  time to the first rows and to the whole list, the longest stall of the event loop while
  loading (a 5 ms ticker's largest gap), then for each sort key pressed and each filter key
  typed the time until the new order is on screen and the longest stall meanwhile; the RSS
  once loaded;
- **live writers**: the app on W workspaces while 100 writer processes autosave every second
  and 20 every 50 ms (an atomic rewrite of ``config.json`` carrying the time it was written);
  rewrite -> on screen (the app has applied the record and drawn the next frame) p50/p95, next
  to a raw ``watchfiles.awatch`` in its own process under the same load (rewrite -> event
  read); and key -> detail shown (cursor down, until the Config tab shows that agent) p95;
- the parts owned by their own modules, when present: ``_fleet_ls`` (``ls`` vs ``du -s``),
  ``_fleet_cleanup`` (app cleanup vs ``agent-tui clean``), ``_fleet_history`` (a
  50,000-step agent's views).

Goals (issue 13): first rows <= 0.3 s, all listed <= 2 s, each stall <= 0.1 s, each filter key
<= 50 ms; live p95 <= 100 ms and within 2x raw watchfiles; RSS under 300 MB at 100,000.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

STARTUP_S = 8.0  # for 120 writer interpreters to start before the clock runs
GOALS = {
    "first_rows_s": 0.3,
    "all_listed_s": 2.0,
    "stall_ms": 100.0,
    "filter_key_ms": 50.0,
    "live_p95_ms": 100.0,
    "rss_mb": 300.0,
}
STATE = '{{"schema_version": 1, "format": "agent-tui", "agent_id": "{id}", "agent_name": "{name}", "status": "{status}", "loop_count": {loops}, "task": "task {n}", "conversation": [{{"role": "user", "content": "task {n}"}}, {{"role": "assistant", "content": "done {n}"}}], "tool_results": [], "memory": {{}}, "journal_seq": 2}}\n'  # noqa: E501
JOURNAL = '{{"seq": 1, "kind": "task", "task": "task {n}", "loop_count": 0, "new_conversation": true, "messages": [{{"role": "user", "content": "task {n}"}}]}}\n'  # noqa: E501
STATUSES = ("completed", "completed", "completed", "error", "interrupted")


def config(name: str, agent_id: str, loops: int, status: str, stamp: str) -> dict:
    return {
        "agent_name": name,
        "agent_id": agent_id,
        "model_name": "offline/demo",
        "system_prompt": "You are a careful agent.",
        "max_loops": 10,
        "_autosave_metadata": {
            "timestamp": stamp,
            "loop_count": loops,
            "agent_id": agent_id,
            "agent_name": name,
            "schema_version": 1,
            "format": "agent-tui",
            "status": status,
            "state_file": f"{name}_state.json",
        },
    }


def make_fleet(root: Path, count: int, seed: int = 1) -> list[Path]:
    """``count`` small agent folders of ours (config, state file, journal) under ``root``."""
    rng = random.Random(seed)
    agents = root / "agents"
    agents.mkdir(parents=True, exist_ok=True)
    folders = []
    now = time.time()
    for n in range(count):
        name = f"agent-{n // 3:05d}"
        agent_id = f"{rng.getrandbits(48):012x}"
        status = rng.choice(STATUSES)
        loops = rng.randrange(1, 10)
        stamp = datetime.fromtimestamp(now - rng.randrange(86400 * 30), UTC).isoformat()
        folder = agents / f"{name}-{agent_id}"
        folder.mkdir()
        files = {
            "config.json": json.dumps(config(name, agent_id, loops, status, stamp)),
            f"{name}_state.json": STATE.format(
                id=agent_id, name=name, status=status, loops=loops, n=n
            ),
            "journal.jsonl": JOURNAL.format(n=n),
        }
        for file_name, text in files.items():
            (folder / file_name).write_text(text)
        folders.append(folder)
    return folders


def gaps_ms(ticks: list[float], start: float, stop: float) -> float:
    inside = [t for t in ticks if start <= t <= stop]
    return max(((b - a) * 1000 for a, b in zip(inside, inside[1:], strict=False)), default=0.0)


def rss_mb() -> tuple[float, float]:
    """(resident now, peak), in MB, from /proc/self/status."""
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


async def until(condition, timeout: float = 120.0, step: float = 0.002) -> float:
    """Seconds until ``condition()`` holds (polled), or raise after ``timeout``."""
    started = time.perf_counter()
    while not condition():
        if time.perf_counter() - started > timeout:
            raise TimeoutError("condition not met")
        await asyncio.sleep(step)
    return time.perf_counter() - started


async def key_to_shown(app, key: str, condition) -> float:
    """Seconds from a key reaching the app to ``condition()`` holding and the next frame
    drawn (posted as a terminal would, not through Pilot, which waits for the app to idle)."""
    from textual import events

    mark = time.perf_counter()
    app.post_message(events.Key(key, key if len(key) == 1 else None))
    await until(condition)
    drawn = asyncio.Event()
    app.call_after_refresh(drawn.set)
    await drawn.wait()
    return time.perf_counter() - mark


async def app_on_folders(root: Path) -> dict:
    """The app opened on ``root``: loading, each sort, each filter key (see the docstring)."""
    from state_tab import CallbackClock

    from agent_tui.tui.app import AgentTUI

    ticks: list[float] = []
    started = time.perf_counter()
    clock = CallbackClock()
    clock.__enter__()
    clock.on = True
    app = AgentTUI(workspace_dir=root)
    async with app.run_test(size=(160, 45)) as pilot:
        app.set_interval(0.005, lambda: ticks.append(time.perf_counter()))
        table = app.table
        await until(lambda: table.row_count > 0)
        first_rows = time.perf_counter()
        await until(lambda: app._scanned_once)
        listed = time.perf_counter()
        total = len(table.records)
        result: dict = {
            "load_longest_callback_ms": round(clock.longest * 1000, 1),
            "folders": total,
            "first_rows_s": round(first_rows - started, 3),
            "all_listed_s": round(listed - started, 3),
            "load_stall_ms": round(gaps_ms(ticks, started, listed), 1),
        }
        await pilot.pause(0.5)
        sorts = []
        for _ in range(5):
            before = table.order
            mark = time.perf_counter()
            took = await key_to_shown(
                app, "s", lambda b=before: table.order != b and not table.arranging
            )
            await pilot.pause(0.05)
            sorts.append({"sort": table.order, "s": round(took, 3),
                          "stall_ms": round(gaps_ms(ticks, mark, time.perf_counter()), 1)})  # fmt: skip
        await pilot.press("s")  # back to name
        await until(lambda: table.order == "name" and not table.arranging)
        result["sorts"] = sorts
        await pilot.press("slash")
        keys = []
        typed = ""
        for char in "agent-01":
            typed += char
            mark = time.perf_counter()
            took = await key_to_shown(
                app, char, lambda t=typed: table.needle == t and not table.arranging
            )
            await pilot.pause(0.05)
            keys.append({"needle": typed, "rows": table.row_count, "ms": round(took * 1000, 1),
                         "stall_ms": round(gaps_ms(ticks, mark, time.perf_counter()), 1)})  # fmt: skip
        result["filter_keys"] = keys
        result["rss_mb"], result["peak_rss_mb"] = (round(v, 1) for v in rss_mb())
    clock.__exit__()
    return result


def writer(folder: Path, interval: float, start_at: float, seconds: float) -> None:
    """An agent autosaving from ``start_at`` (wall clock, so that 120 interpreters starting up
    are not what is measured): ``config.json`` rewritten atomically every ``interval`` seconds,
    its timestamp the moment of the write (what the latency is measured from)."""
    from agent_tui.format.persistence import atomic_write_json

    name, _, agent_id = folder.name.rpartition("-")
    time.sleep(max(0.0, start_at - time.time()))
    end = time.monotonic() + seconds
    loops = 100
    while time.monotonic() < end:
        loops += 1
        stamp = datetime.now(UTC).isoformat()
        atomic_write_json(
            folder / "config.json", config(name, agent_id, loops, "completed", stamp), durable=False
        )
        time.sleep(interval)


def raw_watch(root: Path, start_at: float, seconds: float, out: Path) -> None:
    """watchfiles as the app's watcher runs it, alone: rewrite -> the event read, in ms."""
    from watchfiles import watch

    from agent_tui.tui.watcher import DEBOUNCE_MS, STEP_MS
    from agent_tui.watching import keep_change

    latencies = []
    seconds += max(0.0, start_at - time.time()) + 1
    end = time.monotonic() + seconds
    stop = __import__("threading").Event()
    __import__("threading").Timer(seconds, stop.set).start()
    for changes in watch(root, watch_filter=keep_change, debounce=DEBOUNCE_MS, step=STEP_MS,
                         stop_event=stop, rust_timeout=200, yield_on_timeout=True):  # fmt: skip
        now = time.time()
        for _, path in changes:
            if path.endswith("config.json"):
                try:
                    stamp = json.loads(Path(path).read_text())["_autosave_metadata"]["timestamp"]
                except (OSError, ValueError, KeyError):
                    continue
                latencies.append((now - datetime.fromisoformat(stamp).timestamp()) * 1000)
        if time.monotonic() > end:
            break
    out.write_text(json.dumps(latencies))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def live_writers(root: Path, slow: int, fast: int, seconds: float) -> dict:
    """The app on ``root`` while ``slow`` writers autosave every second and ``fast`` every
    50 ms; beside it raw watchfiles in its own process (see the module docstring)."""
    from textual import events

    from agent_tui.tui.agent_table import AgentTable
    from agent_tui.tui.app import AgentTUI

    shown: list[float] = []
    upsert = AgentTable.upsert

    def timed_upsert(self: AgentTable, record) -> None:
        upsert(self, record)
        if record.last_autosave is not None:
            written = record.last_autosave.timestamp()
            self.call_after_refresh(lambda: shown.append((time.time() - written) * 1000))

    AgentTable.upsert = timed_upsert  # type: ignore[method-assign]
    folders = sorted((root / "agents").iterdir())[: slow + fast]
    app = AgentTUI(workspace_dir=root)
    async with app.run_test(size=(160, 45)) as pilot:
        await until(lambda: app._scanned_once, 300)
        await pilot.pause(3.0)  # the watcher is set up
        raw_out = root.parent / "raw.json"
        start_at = time.time() + STARTUP_S
        child_args = [sys.executable, __file__, "--child"]
        raw = subprocess.Popen(
            [*child_args, "raw", str(raw_out), str(root), str(start_at), str(seconds)]
        )
        writers = []
        for n, folder in enumerate(folders):
            every = "1.0" if n < slow else "0.05"
            writers.append(
                subprocess.Popen(
                    [*child_args, "writer", "-", str(folder), every, str(start_at), str(seconds)]
                )
            )
        await asyncio.sleep(max(0.0, start_at - time.time()) + 1.0)
        shown.clear()
        keys = []
        table = app.table
        table.focus()
        for _ in range(20):
            before = app.selected
            took = await key_to_shown(
                app, "down", lambda b=before: app.selected != b and _detail_shown(app)
            )
            keys.append(took * 1000)
            await asyncio.sleep(0.2)
        for process in writers:
            await asyncio.to_thread(process.wait)
        await asyncio.sleep(0.5)
        during = list(shown)
        await asyncio.to_thread(raw.wait)
    raw_ms = json.loads(raw_out.read_text())
    del events
    return {
        "workspaces": len(list((root / "agents").iterdir())),
        "writers": {"every_1s": slow, "every_50ms": fast},
        "app_ms": {"n": len(during), "p50": round(percentile(during, 0.5), 1),
                   "p95": round(percentile(during, 0.95), 1)},
        "raw_watchfiles_ms": {"n": len(raw_ms), "p50": round(percentile(raw_ms, 0.5), 1),
                              "p95": round(percentile(raw_ms, 0.95), 1)},
        "key_to_detail_ms": {"n": len(keys), "p50": round(percentile(keys, 0.5), 1),
                             "p95": round(percentile(keys, 0.95), 1)},
    }  # fmt: skip


def _detail_shown(app) -> bool:
    selected = app.selected
    return selected is not None and str(app.config_view.document_folder) == selected


def child(part: str, args: list[str]) -> dict:
    """Run one part in a fresh interpreter (nothing cached, its own RSS); its JSON result."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run([sys.executable, __file__, "--child", part, out.name, *args], check=True)
        return json.loads(Path(out.name).read_text())


def run_child(part: str, out: str, args: list[str]) -> None:
    os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
    if part == "app":
        result = asyncio.run(app_on_folders(Path(args[0])))
    elif part == "live":
        slow, fast, seconds = int(args[1]), int(args[2]), float(args[3])
        result = asyncio.run(live_writers(Path(args[0]), slow, fast, seconds))
    elif part == "writer":
        writer(Path(args[0]), float(args[1]), float(args[2]), float(args[3]))
        return
    elif part == "raw":
        raw_watch(Path(args[0]), float(args[1]), float(args[2]), Path(out))
        return
    else:
        raise SystemExit(f"unknown part {part}")
    Path(out).write_text(json.dumps(result))


def print_app(app: dict) -> None:
    print(f"app on {app['folders']:,} folders: first rows {app['first_rows_s']:.2f} s, "
          f"all listed {app['all_listed_s']:.2f} s, longest stall loading "
          f"{app['load_stall_ms']:.0f} ms (longest callback {app['load_longest_callback_ms']:.0f} ms); RSS {app['rss_mb']:.0f} MB (peak "
          f"{app['peak_rss_mb']:.0f} MB)")  # fmt: skip
    for row in app["sorts"]:
        print(
            f"  sort {row['sort']:7} {row['s'] * 1000:7.0f} ms to shown, stall {row['stall_ms']:5.0f} ms"
        )
    for row in app["filter_keys"]:
        print(f"  filter {row['needle']!r:11} {row['rows']:7,} rows {row['ms']:6.0f} ms to shown, "
              f"stall {row['stall_ms']:5.0f} ms")  # fmt: skip


def print_live(live: dict) -> None:
    app, raw, keys = live["app_ms"], live["raw_watchfiles_ms"], live["key_to_detail_ms"]
    ratio = app["p95"] / raw["p95"] if raw["p95"] else float("nan")
    print(f"live: {live['workspaces']:,} workspaces, 100 writers every 1 s + 20 every 50 ms: "
          f"rewrite -> on screen p50 {app['p50']:.0f} ms, p95 {app['p95']:.0f} ms "
          f"({app['n']} rewrites); raw watchfiles p50 {raw['p50']:.0f} ms, p95 "
          f"{raw['p95']:.0f} ms ({ratio:.2f}x); key -> detail p50 {keys['p50']:.0f} ms, "
          f"p95 {keys['p95']:.0f} ms")  # fmt: skip


def goal_rows(document: dict) -> list[list[object]]:
    """[what, measured, goal, met] for each of the issue's goals this run measured."""
    rows: list[list[object]] = []

    def row(what: str, measured: float, goal: float, unit: str, fmt: str = "{:.0f}") -> None:
        rows.append([what, fmt.format(measured) + f" {unit}", f"<= {goal:g} {unit}",
                     "met" if measured <= goal else "NOT met"])  # fmt: skip

    app = document.get("app")
    if app:
        n = f"{app['folders']:,} folders"
        row(f"app on {n}: first rows", app["first_rows_s"], GOALS["first_rows_s"], "s", "{:.2f}")
        row(f"app on {n}: all listed", app["all_listed_s"], GOALS["all_listed_s"], "s", "{:.2f}")
        row(f"app on {n}: longest stall loading", app["load_stall_ms"], GOALS["stall_ms"], "ms")
        row(f"app on {n}: longest stall per sort", max(r["stall_ms"] for r in app["sorts"]),
            GOALS["stall_ms"], "ms")  # fmt: skip
        row(f"app on {n}: longest stall per filter key",
            max(r["stall_ms"] for r in app["filter_keys"]), GOALS["filter_key_ms"], "ms")  # fmt: skip
        row(f"app on {n}: RSS once loaded", app["rss_mb"], GOALS["rss_mb"], "MB")
    live = document.get("live")
    if live:
        app_ms, raw = live["app_ms"], live["raw_watchfiles_ms"]
        n = f"{live['workspaces']:,} workspaces, 120 writers"
        row(f"{n}: rewrite -> screen p95", app_ms["p95"], GOALS["live_p95_ms"], "ms")
        row(f"{n}: p95 over raw watchfiles p95", app_ms["p95"] / raw["p95"], 2.0, "x", "{:.2f}")
        rows.append([f"{n}: key -> detail p95", f"{live['key_to_detail_ms']['p95']:.0f} ms",
                     "-", "-"])  # fmt: skip
    ls = document.get("ls")
    if ls:
        for name, ws in ls["workspaces"].items():
            what = "5,000 swarms configs" if name == "swarms" else f"{ws['folders']:,} folders"
            for label in ("ls warm", "ls --json", "ls cold"):
                row(f"`agent-tui {label}` / `du -s`, {what}", ws[label]["ratio_to_du"], 1.5, "x",
                    "{:.2f}")  # fmt: skip
    cleanup = document.get("cleanup")
    if cleanup:
        row(f"app cleanup of {cleanup['folders']:,} / `agent-tui clean`",
            cleanup["goal"]["measured"], cleanup["goal"]["x_cli"], "x", "{:.2f}")  # fmt: skip
    history = document.get("history")
    if history:
        goal = history["goal"]
        for r in history["rows"]:
            if r["steps"] == goal["steps"]:
                shown = r.get("diff_loading_ms") if r["tab"] == "diff" else r["open_ms"]
                if shown is not None:
                    row(f"{goal['steps']:,}-step agent ({r.get('format', '')}): {r['tab']} tab open",
                        shown, goal["open_ms"], "ms")  # fmt: skip
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folders", type=int, default=100_000)
    parser.add_argument("--workspaces", type=int, default=10_000, help="for the live writers")
    parser.add_argument("--seconds", type=float, default=12.0, help="the writers write this long")
    parser.add_argument("--parts", default="app,live,ls,cleanup,history",
                        help="which parts to run (comma-separated)")  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a quick look")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--tmp", type=Path, help="where to make the folders (default: $TMPDIR)")
    parser.add_argument("--root", type=Path, help="an existing fleet to open (not made, kept)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args.child[0], args.child[1], args.child[2:])
        return 0
    folders = 10_000 if args.quick else args.folders
    document: dict = {"goals": GOALS}
    with tempfile.TemporaryDirectory(dir=args.tmp) as scratch:
        root = args.root or Path(scratch) / "fleet"
        if args.root is None and "app" in args.parts.split(","):
            made = time.perf_counter()
            make_fleet(root, folders)
            print(f"made {folders:,} folders in {time.perf_counter() - made:.1f} s", flush=True)
        parts = set(args.parts.split(","))
        if "app" in parts:
            app = child("app", [str(root)])
            document["app"] = app
            print_app(app)
        if "live" in parts:
            live_root = Path(scratch) / "live" / "fleet"
            count = 2000 if args.quick else args.workspaces
            make_fleet(live_root, count, seed=2)
            live = child("live", [str(live_root), "100", "20", str(args.seconds)])
            document["live"] = live
            print_live(live)
        for part, module in (("ls", "_fleet_ls"), ("cleanup", "_fleet_cleanup"),
                             ("history", "_fleet_history")):  # fmt: skip
            if part in parts and (BENCH / f"{module}.py").exists():
                print(f"\n--- {module} ---", flush=True)
                document[part] = importlib.import_module(module).measure(quick=args.quick)
    document["table"] = goal_rows(document)
    print()
    for what, measured, goal, met in document["table"]:
        print(f"{what:58} {measured:>10} {goal:>11}  {met}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(document, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
