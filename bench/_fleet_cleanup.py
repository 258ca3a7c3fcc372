"""The app's cleanup screen deleting 5,000 folders vs `agent-tui clean` of the same (issue 13).

    .venv/bin/python bench/_fleet_cleanup.py                 # 5,000 folders, 2 rounds
    .venv/bin/python bench/_fleet_cleanup.py --quick         # 1,000 folders, 1 round
    .venv/bin/python bench/_fleet_cleanup.py --json out.json [--count N] [--rounds N]

A helper of bench/fleet.py (which imports :func:`measure`), runnable on its own. One tree of
folders is generated (bench/workspaces.py's mix: 70% ours with config, state file, journal and
lock, 30% swarms with config, state file, ``error.txt`` and ``logs/``), then in each round, in
turn, each on its own ``cp -a`` copy of it:

- **cli**: ``agent-tui clean --workspace COPY --min-size 0 --yes`` (every folder), the venv's
  console script with output to /dev/null: wall time of the process;
- **app**: a fresh interpreter opens ``AgentTUI(workspace_dir=COPY).run_test(size=(160, 45))``,
  waits for the list and the sizes, presses ``c``, ``*`` (mark shown), ``d``, then ``y``; from
  that confirming key: the time until the last deleted row is gone from the cleanup list and
  from the main list, and until the agents folder is empty (a thread looks every 10 ms); the
  longest gap of a 5 ms ticker on the event loop and the longest single callback
  (state_tab.CallbackClock) until then; how long ``?`` took to open the help while the
  deletion ran; how many different values the progress bar showed. The watcher is on, as a
  user runs the app: its one ``AgentRemoved`` per folder is counted, and the run waits (and
  the stall clock runs) until it has been quiet for a second; the CPU seconds the app's
  process and the watcher's child process spent meanwhile (from the confirming key until then);
- **app, no watcher**: the same with ``watch=False``: the cleanup screen's own cost, without
  the watcher's messages.

Medians of the rounds; ratios to the CLI. Goal: the app within 1.5x of the CLI. Two rounds by
default (three modes each: six copies): on a slow disk a ``cp -a`` of 5,000 folders (26,500
files) took 11-35 s, and a run with the watcher 16-46 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import state_tab  # noqa: E402  (bench/state_tab.py: the callback clock)
import workspaces  # noqa: E402  (bench/workspaces.py: the mixed workspace)

CLI = Path(sys.executable).parent / "agent-tui"
GOAL = 1.5
TICK_S = 0.005
QUIET_S = 1.0  # the watcher is done when no AgentRemoved came for this long
LIMIT_S = 180.0  # a run that takes longer is reported as it stands
# Children run as an installed tool does: with bytecode caches.
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
MODES = {"cli": "agent-tui clean", "app": "app", "app-nowatch": "app, no watcher"}


def _cpu_s() -> tuple[float, float]:
    """CPU seconds (user + system) of this process and of its children (the watcher's
    processes: the live ones from /proc, 0 where there is none, and those that ended, which
    the app's pause of the watcher during a cleanup makes)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    ended = resource.getrusage(resource.RUSAGE_CHILDREN)
    children = ended.ru_utime + ended.ru_stime
    for task in Path(f"/proc/{os.getpid()}/task").glob("*/children"):
        for pid in task.read_text().split():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own.ru_utime + own.ru_stime, children


def _empty(folder: Path) -> bool:
    with os.scandir(folder) as entries:  # stops at the first entry: cheap on a big folder
        return next(entries, None) is None


def _key(app, key: str, char: str | None) -> None:
    """A key press as the terminal sends it. Not ``Pilot.press``: it then waits for the process
    to be idle, up to 2 s while the deletion's threads work."""
    from textual import events

    event = events.Key(key, char)
    event.set_sender(app)
    app._driver.send_message(event)


async def _until(pilot, condition, step: float = 0.02, limit: float = LIMIT_S) -> bool:
    end = time.monotonic() + limit
    while not condition() and time.monotonic() < end:
        await pilot.pause(step)
    return condition()


async def _delete_in_app(root: Path, watch: bool) -> dict:
    from agent_tui.tui.app import AgentTUI
    from agent_tui.tui.cleanup_screen import CleanupScreen
    from agent_tui.tui.dialogs import ConfirmDialog
    from agent_tui.tui.help_screen import HelpScreen
    from agent_tui.tui.watcher import AgentRemoved

    agents = root / "agents"
    count = len(os.listdir(agents))
    removals: list[float] = []  # when each AgentRemoved was handled

    def hook(message: object) -> None:
        if isinstance(message, AgentRemoved):
            removals.append(time.perf_counter())

    app = AgentTUI(workspace_dir=root, watch=watch)
    async with app.run_test(size=(160, 45), message_hook=hook) as pilot:
        assert await _until(pilot, lambda: len(app.table.records) == count, 0.05)
        await pilot.pause(0.5)
        state_tab.CALLBACKS.longest, state_tab.CALLBACKS.on = 0.0, True
        opened = time.perf_counter()
        _key(app, "c", "c")
        assert await _until(pilot, lambda: isinstance(app.screen, CleanupScreen), 0.005)
        screen = app.screen
        table = screen.query_one("#cleanup-table")
        assert await _until(pilot, lambda: table.row_count > 0, 0.005)
        first_rows_s = time.perf_counter() - opened
        assert await _until(pilot, lambda: table.row_count == count, 0.005)
        open_s = time.perf_counter() - opened
        state_tab.CALLBACKS.on = False
        open_callback_ms = round(state_tab.CALLBACKS.longest * 1000, 1)
        # Every size measured first: that worker reads every folder, and must not race the delete.
        assert await _until(pilot, lambda: len(screen.usages) == count, 0.05)
        marking = time.perf_counter()
        _key(app, "asterisk", "*")
        assert await _until(pilot, lambda: len(screen.marked) == count, 0.005)
        mark_s = time.perf_counter() - marking
        await pilot.press("d")
        assert await _until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        bar = screen.query_one("#cleanup-progress")
        ticks: list[float] = []
        bar_values: set[float] = set()

        def tick() -> None:
            ticks.append(time.perf_counter())
            bar_values.add(bar.progress)

        app.set_interval(TICK_S, tick)
        emptied: list[float] = []

        def look() -> None:
            while not _empty(agents):
                time.sleep(0.01)
            emptied.append(time.perf_counter())

        await pilot.pause(0.2)
        threading.Thread(target=look, daemon=True).start()
        state_tab.CALLBACKS.longest, state_tab.CALLBACKS.on = 0.0, True
        cpu_before = _cpu_s()
        confirmed = time.perf_counter()
        _key(app, "y", "y")
        # A key while the deletion runs: `?` opens the help over the cleanup screen.
        key_ms = None
        await _until(pilot, lambda: screen.deleting, 0.005, 5.0)
        await _until(pilot, lambda: screen.deleted_count >= count // 4 or not screen.deleting)
        if screen.deleting:
            asked = time.perf_counter()
            _key(app, "question_mark", "?")
            await _until(pilot, lambda: isinstance(app.screen, HelpScreen), 0.005)
            key_ms = round((time.perf_counter() - asked) * 1000, 1)
            _key(app, "escape", None)

        def rows_gone() -> bool:
            return not screen.deleting and not table.row_count and not app.table.records

        await _until(pilot, rows_gone)
        gone = time.perf_counter()
        if watch:  # the watcher's messages come after: wait until it is quiet
            await _until(
                pilot,
                lambda: time.perf_counter() - max(removals, default=gone) > QUIET_S,
                0.05,
            )
        state_tab.CALLBACKS.on = False
        settled = time.perf_counter()
        cpu_after = _cpu_s()
        await _until(pilot, lambda: bool(emptied), 0.05, 30.0)
        left = len(os.listdir(agents))
    during = [t for t in ticks if confirmed <= t <= settled]
    gaps = [b - a for a, b in zip(during, during[1:], strict=False)]
    return {
        "folders": count,
        "left_on_disk": left,
        "rows_gone_s": round(gone - confirmed, 2),
        "disk_empty_s": round(emptied[0] - confirmed, 2) if emptied else None,
        "max_stall_ms": round(max(gaps, default=0.0) * 1000, 1),
        "longest_callback_ms": round(state_tab.CALLBACKS.longest * 1000, 1),
        "help_key_ms": key_ms,
        "bar_values": len(bar_values),
        "watcher_removals": len(removals),
        "watcher_last_s": round(max(removals) - confirmed, 2) if removals else None,
        "app_cpu_s": round(cpu_after[0] - cpu_before[0], 1),
        "watcher_cpu_s": round(cpu_after[1] - cpu_before[1], 1) if watch else None,
        "open_s": round(open_s, 2),
        "open_first_rows_s": round(first_rows_s, 2),
        "open_longest_callback_ms": open_callback_ms,
        "mark_shown_s": round(mark_s, 2),
    }


def delete_here(root: str, watch: str) -> dict:
    """One deletion in this interpreter (what the child runs)."""
    os.environ["TEXTUAL_ANIMATIONS"] = "none"
    with state_tab.CALLBACKS:
        return asyncio.run(_delete_in_app(Path(root), watch == "1"))


def _copy(template: Path, scratch: Path) -> Path:
    root = scratch / "copy"
    subprocess.run(["rm", "-rf", str(root)], check=True)
    subprocess.run(["cp", "-a", str(template), str(root)], check=True)
    return root


def run_cli(template: Path, scratch: Path) -> dict:
    root = _copy(template, scratch)
    started = time.perf_counter()
    command = [str(CLI), "clean", "--workspace", str(root), "--min-size", "0", "--yes"]
    subprocess.run(command, stdout=subprocess.DEVNULL, env=CHILD_ENV, check=True)
    seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 2), "left_on_disk": len(os.listdir(root / "agents"))}


def run_app(template: Path, scratch: Path, watch: bool) -> dict:
    """One deletion in a fresh interpreter, with its own config folder (the action log the
    app writes goes there, not to the user's)."""
    root = _copy(template, scratch)
    out = scratch / "app.json"
    code = (
        "import json, sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]);"
        "import _fleet_cleanup as b; r = b.delete_here(sys.argv[2], sys.argv[3]);"
        "Path(sys.argv[4]).write_text(json.dumps(r))"
    )
    env = dict(CHILD_ENV, XDG_CONFIG_HOME=str(scratch / "config"))
    env.pop("AGENT_TUI_CONFIG", None)
    command = [sys.executable, "-c", code, str(BENCH), str(root), "1" if watch else "0", str(out)]
    subprocess.run(command, env=env, check=True)
    result = json.loads(out.read_text())
    result["seconds"] = result["rows_gone_s"]
    return result


def measure(quick: bool = False, *, count: int | None = None, rounds: int | None = None) -> dict:
    """The app's cleanup of 5,000 folders (``quick``: 1,000, one round) beside `agent-tui
    clean` of the same, rounds taken in turn. Returns ``{"rows": [...], "goal": {...}}``:
    a row per mode with the median of its rounds and every round's figures."""
    count = count or (1000 if quick else 5000)
    rounds = rounds or (1 if quick else 2)
    runs: dict[str, list[dict]] = {mode: [] for mode in MODES}
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        template = scratch / "template"
        workspaces.generate(template, count)
        subprocess.run([str(CLI), "--help"], stdout=subprocess.DEVNULL, env=CHILD_ENV, check=True)
        for index in range(rounds):
            # Which goes first turns with the round, so a slow spell hits each alike.
            order = list(MODES)[index % len(MODES) :] + list(MODES)[: index % len(MODES)]
            for mode in order:
                started = time.perf_counter()
                if mode == "cli":
                    run = run_cli(template, scratch)
                else:
                    run = run_app(template, scratch, watch=mode == "app")
                run["wall_s"] = round(time.perf_counter() - started, 1)
                runs[mode].append(run)
    cli = statistics.median(r["seconds"] for r in runs["cli"])
    rows = []
    for mode, results in runs.items():
        row: dict = {"mode": mode, "rounds": results}
        for key in results[0]:
            values = [r[key] for r in results if r[key] is not None]
            if values and all(isinstance(v, int | float) for v in values):
                row[key] = statistics.median(values)
        row["x_cli"] = round(row["seconds"] / cli, 2)
        rows.append(row)
    app, alone = (next(r for r in rows if r["mode"] == mode) for mode in ("app", "app-nowatch"))
    return {
        "folders": count,
        "rounds": rounds,
        "rows": rows,
        "goal": {
            "x_cli": GOAL,
            "measured": app["x_cli"],
            "met": app["x_cli"] <= GOAL,
            # The cleanup screen's own part: the same deletion without the watcher's messages.
            "measured_no_watcher": alone["x_cli"],
            "met_no_watcher": alone["x_cli"] <= GOAL,
        },
    }


def report(result: dict) -> str:
    """The table ``main`` prints."""

    def cell(row: dict, key: str, form: str = "{:.2f}") -> str:
        value = row.get(key)
        return "-" if value is None else form.format(value)

    lines = [
        f"{result['folders']:,} folders, median of {result['rounds']} rounds (each mode on its "
        "own cp -a copy, taken in turn; the app's times from the confirming key)",
        f"{'':16} {'rows gone s':>11} {'x cli':>6} {'disk empty s':>12} {'stall ms':>9} "
        f"{'callback ms':>11} {'? ms':>6} {'bar':>4} {'removals':>8} {'cpu s':>6} "
        f"{'watcher cpu s':>13} {'rounds s':>16}",
    ]
    for row in result["rows"]:
        rounds = "/".join(f"{r['seconds']:.1f}" for r in row["rounds"])
        lines.append(
            f"{MODES[row['mode']]:16} {cell(row, 'seconds'):>11} {row['x_cli']:5.2f}x "
            f"{cell(row, 'disk_empty_s'):>12} {cell(row, 'max_stall_ms', '{:.0f}'):>9} "
            f"{cell(row, 'longest_callback_ms', '{:.0f}'):>11} "
            f"{cell(row, 'help_key_ms', '{:.0f}'):>6} {cell(row, 'bar_values', '{:.0f}'):>4} "
            f"{cell(row, 'watcher_removals', '{:.0f}'):>8} {cell(row, 'app_cpu_s', '{:.1f}'):>6} "
            f"{cell(row, 'watcher_cpu_s', '{:.1f}'):>13} {rounds:>16}"
        )
    apps = [r for r in result["rows"] if r["mode"] != "cli"]
    lines.append(
        "before the delete (app): cleanup screen opened in "
        + ", ".join(f"{cell(r, 'open_s')} s" for r in apps)
        + " (first rows in "
        + ", ".join(f"{cell(r, 'open_first_rows_s')} s" for r in apps)
        + "; longest callback "
        + ", ".join(f"{cell(r, 'open_longest_callback_ms')} ms" for r in apps)
        + ")"
        + "; '*' marked every folder in "
        + ", ".join(f"{cell(r, 'mark_shown_s')} s" for r in apps)
        + " (with, without the watcher)"
    )
    goal = result["goal"]
    lines.append(
        f"goal: the app within {goal['x_cli']}x of the CLI: "
        f"{'met' if goal['met'] else 'NOT met'} ({goal['measured']:.2f}x); without the "
        f"watcher {'met' if goal['met_no_watcher'] else 'NOT met'} "
        f"({goal['measured_no_watcher']:.2f}x)"
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 folders, one round")
    parser.add_argument("--count", type=int, help="folders to delete (default 5,000)")
    parser.add_argument("--rounds", type=int, help="rounds of the three, in turn (default 2)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    started = time.perf_counter()
    result = measure(args.quick, count=args.count, rounds=args.rounds)
    result["seconds"] = round(time.perf_counter() - started, 1)
    print(f"{report(result)}\n({result['seconds']:.0f} s)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
