"""Opening a 1 GB log in the File tab: how long until its last lines are on screen, and until
a line appended to it is.

    .venv/bin/python bench/file_open.py [--size-mb 1024] [--rounds 3] [--tmp DIR] [--json out.json]

A log of ``--size-mb`` of real text lines (not a sparse file: every byte is there to read) is
written in ``--tmp`` (tmpfs when given ``/dev/shm``, so the figure is the app's, not the
disk's). Then, side by side in each round:

- ``app``: the app opened headless (Pilot) on the workspace, the agent's files listed, the log
  picked in the tree: the time from the pick to its last line drawn on screen, then from
  appending a line to that line drawn (the view follows the file);
- ``tail -n 50``: coreutils reading the same file's end, the floor for "show the last lines";
- ``whole read``: Python reading the whole file and splitting it into lines (what a viewer
  that loads a file before showing it pays).

Goal (issue 14): a 1 GB log opens in under 1 s and tails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from agent_tui.format.persistence import atomic_write_json

GOAL_S = 1.0
LINE = b"2026-12-02T18:00:00.000Z INFO step %09d: tool call word_count returned 42 (ok)\n"


def make_workspace(root: Path, size_mb: int) -> Path:
    folder = root / "agents" / "logger-0123456789ab"
    folder.mkdir(parents=True)
    meta = {"agent_name": "logger", "agent_id": "0123456789ab", "loop_count": 1,
            "status": "completed", "format": "agent-tui", "schema_version": 1}  # fmt: skip
    atomic_write_json(folder / "config.json", {"agent_name": "logger", "_autosave_metadata": meta})
    target = size_mb * 1024 * 1024
    block = b"".join(LINE % i for i in range(10_000))
    with (folder / "agent.log").open("wb") as out:
        written = n = 0
        while written < target:
            out.write(block)
            written += len(block)
            n += 1
        out.write(LINE % 999_999_999)
    return folder


async def app_round(root: Path, folder: Path) -> dict[str, float]:
    from agent_tui.tui.app import AgentTUI
    from agent_tui.tui.file_view import TextView
    from agent_tui.workspace.files import FileEntry

    log = folder / "agent.log"
    app = AgentTUI(workspace_dir=root)
    async with app.run_test(size=(160, 45)):

        async def until(condition, limit: float = 60.0) -> float:
            started = time.perf_counter()
            while not condition():
                if time.perf_counter() - started > limit:
                    raise TimeoutError("the app did not get there")
                await asyncio.sleep(0.002)
            return time.perf_counter() - started

        def on_screen(text: str) -> bool:
            strips = app.screen._compositor.render_strips()
            return any(text in "".join(s.text for s in strip) for strip in strips)

        table = app.table
        await until(lambda: str(folder) in table.records)
        table.move_cursor(table.row_of(str(folder)))
        table.open_agent(str(folder))
        await until(lambda: any(isinstance(e, FileEntry) for e in table.opened[str(folder)]))
        lines = table.opened[str(folder)]
        child = next(
            i for i, e in enumerate(lines) if isinstance(e, FileEntry) and e.rel == "agent.log"
        )
        started = time.perf_counter()
        table.move_cursor(table.cursor_row, child=child)
        await until(lambda: on_screen("step 999999999"))
        opened = time.perf_counter() - started
        view = app.file_view.query_one("#file-text", TextView)
        with log.open("ab") as out:
            started = time.perf_counter()
            out.write(b"appended line 1\n")
        await until(lambda: on_screen("appended line 1"))
        tailed = time.perf_counter() - started
        window = len(view.lines)
    return {"open_s": opened, "append_s": tailed, "lines_held": window}


def tail_round(log: Path) -> float:
    started = time.perf_counter()
    subprocess.run(["tail", "-n", "50", str(log)], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def whole_round(log: Path) -> float:
    started = time.perf_counter()
    lines = log.read_bytes().splitlines()
    assert len(lines) > 10_000_000
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tmp", default=None, help="where to write the log (e.g. /dev/shm)")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="agent-tui-file-open-", dir=args.tmp))
    os.environ["XDG_CACHE_HOME"] = str(base / "cache")
    os.environ["XDG_CONFIG_HOME"] = str(base / "config")
    try:
        root = base / "ws"
        print(f"writing a {args.size_mb} MB log in {base} ...", flush=True)
        folder = make_workspace(root, args.size_mb)
        log = folder / "agent.log"
        size = log.stat().st_size
        rounds = []
        for n in range(args.rounds):
            app = asyncio.run(app_round(root, folder))
            row = {**app, "tail_s": tail_round(log), "whole_read_s": whole_round(log)}
            rounds.append(row)
            print(f"round {n + 1}: app open {row['open_s'] * 1000:.0f} ms, append -> screen "
                  f"{row['append_s'] * 1000:.0f} ms, tail -n 50 {row['tail_s'] * 1000:.0f} ms, "
                  f"whole read {row['whole_read_s'] * 1000:.0f} ms", flush=True)  # fmt: skip
        med = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
        result = {
            "file_bytes": size,
            "rounds": rounds,
            "median": med,
            "goal_open_s": GOAL_S,
            "open_met": med["open_s"] < GOAL_S,
            "open_vs_tail": med["open_s"] / med["tail_s"],
            "whole_read_vs_open": med["whole_read_s"] / med["open_s"],
        }
        print(f"\n{size / 1e9:.2f} GB log, median of {args.rounds}:")
        print(f"  app: last line on screen   {med['open_s'] * 1000:8.0f} ms  (goal < {GOAL_S * 1000:.0f} ms: "
              f"{'met' if result['open_met'] else 'NOT met'})")  # fmt: skip
        print(f"  app: appended -> on screen {med['append_s'] * 1000:8.0f} ms  (polls every 0.5 s)")
        print(f"  tail -n 50                 {med['tail_s'] * 1000:8.0f} ms  "
              f"(app {result['open_vs_tail']:.1f}x)")  # fmt: skip
        print(f"  whole read + split         {med['whole_read_s'] * 1000:8.0f} ms  "
              f"({result['whole_read_vs_open']:.1f}x the app)")  # fmt: skip
        print(f"  lines the view holds       {med['lines_held']:8.0f}")
        if args.json:
            Path(args.json).write_text(json.dumps(result, indent=2))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
