"""`make bench`: run every benchmark in bench/, keep each one's figures, write a summary.

    .venv/bin/python bench/run_all.py [--only swarms_compare,startup] [--out bench/results]

Every ``bench/*.py`` except this file and helpers whose names start with ``_`` is run in turn
with the Python running this script, as ``script.py --json bench/results/<script>.json`` plus
the arguments listed in ``ARGS``. A script that rejects ``--json`` is run again without it and
its printed output is kept instead; a script listed in ``EXPECTED`` but absent is reported as
missing. Each result file gets a ``_run`` key (command, seconds, exit status, printed output),
and ``bench/results/SUMMARY.md`` collects the figures with the date, the core count (as
``nproc`` counts them) and the Python version, ready to quote in the README.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
# The order they run in; the cheap ones first so a broken harness fails fast.
EXPECTED = [
    "atomic_limit",
    "autosave",
    "startup",
    "swarms_compare",
    "workspaces",
    "search",
    "file_open",
    "watch_latency",
    "state_tab",
    "remote",
    "fleet",
    "crash",
]
# The fleet's 100,000 folders are made on tmpfs where there is one (minutes on a slow disk).
ARGS = {
    "crash": ["--trials", "1000"],
    "fleet": ["--tmp", "/dev/shm"] if os.path.isdir("/dev/shm") else [],
    "file_open": ["--tmp", "/dev/shm"] if os.path.isdir("/dev/shm") else [],
}
TIMEOUT_S = {"crash": 900, "fleet": 2400}
DEFAULT_TIMEOUT_S = 600


def discover() -> tuple[list[str], list[str]]:
    """(scripts to run in order, expected scripts that are missing)."""
    present = {p.stem for p in BENCH.glob("*.py") if not p.name.startswith("_")}
    present.discard(Path(__file__).stem)
    order = [name for name in EXPECTED if name in present]
    order += sorted(present - set(EXPECTED))
    return order, [name for name in EXPECTED if name not in present]


def run_script(name: str, out: Path) -> dict:
    script = BENCH / f"{name}.py"
    result_path = out / f"{name}.json"
    result_path.unlink(missing_ok=True)
    base = [sys.executable, str(script), *ARGS.get(name, [])]
    timeout = TIMEOUT_S.get(name, DEFAULT_TIMEOUT_S)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    print(f"== {name}: {' '.join(base[1:])}", flush=True)
    started = time.perf_counter()
    run = _run([*base, "--json", str(result_path)], timeout, env)
    accepts_json = not (run["returncode"] == 2 and "--json" in run["stderr"])
    if not accepts_json:
        print(f"   {name} does not take --json; keeping its printed output", flush=True)
        run = _run(base, timeout, env)
    seconds = round(time.perf_counter() - started, 1)
    status = "ok" if run["returncode"] == 0 else ("timeout" if run["timed_out"] else "failed")
    document: dict = {}
    if accepts_json and result_path.exists():
        try:
            document = json.loads(result_path.read_text())
        except ValueError:
            status = "failed"
            document = {"error": "the script wrote a result file that is not JSON"}
    document["_run"] = {
        "command": " ".join(["python", *[_relative(a) for a in base[1:]]]),
        "status": status,
        "returncode": run["returncode"],
        "seconds": seconds,
        "json_supported": accepts_json,
        "stdout": run["stdout"],
        "stderr_tail": run["stderr"][-3000:] if status != "ok" else "",
    }
    result_path.write_text(json.dumps(document, indent=2) + "\n")
    print(run["stdout"].rstrip())
    print(f"== {name}: {status} in {seconds} s", flush=True)
    if status != "ok":
        print(run["stderr"][-3000:], file=sys.stderr)
    return document


def _run(cmd: list[str], timeout: float, env: dict[str, str]) -> dict:
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=REPO
        )
        return {
            "returncode": proc.returncode,
            "stdout": proc.stdout,
            "stderr": proc.stderr,
            "timed_out": False,
        }
    except subprocess.TimeoutExpired as exc:

        def text(value: bytes | str | None) -> str:
            return value.decode(errors="replace") if isinstance(value, bytes) else value or ""

        return {
            "returncode": None,
            "stdout": text(exc.stdout),
            "stderr": text(exc.stderr) + f"\ntimed out after {timeout} s",
            "timed_out": True,
        }


def _relative(arg: str) -> str:
    try:
        return str(Path(arg).relative_to(REPO))
    except ValueError:
        return arg


# ------------------------------------------------------------------------------ summary
def _table(headers: list[str], rows: list[list[object]]) -> str:
    lines = [
        "| " + " | ".join(headers) + " |",
        "| --- |" + "|".join(" ---: " for _ in headers[1:]) + "|",
    ]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _met(flag: object) -> str:
    return "met" if flag else "**not met**"


def render_swarms(doc: dict) -> tuple[str, list[list[object]]]:
    rows = []
    for row in doc["rows"]:
        ours, swarms = row["ours"], row["swarms"] or {}
        rows.append(
            [
                f"{row['loops']:,}",
                f"{ours['autosave_ms_per_step']:.3f}",
                f"{swarms.get('autosave_ms_per_step', float('nan')):.3f}",
                f"{row.get('autosave_ratio', '-')}x",
                f"{ours['bytes_per_step']:,}",
                f"{swarms.get('bytes_per_step', 0):,}",
                f"{ours['fsyncs_per_step']:g} / {swarms.get('fsyncs_per_step', 0):g}",
                f"{ours['autosave_ms_first_tenth']:.3f} -> {ours['autosave_ms_last_tenth']:.3f}",
                f"{swarms.get('autosave_ms_first_tenth', 0):.3f} -> "
                f"{swarms.get('autosave_ms_last_tenth', 0):.3f}",
                f"{ours['total_run_s']:.2f} / {swarms.get('total_run_s', 0):.2f}",
            ]
        )
    version = next((r["swarms"]["swarms_version"] for r in doc["rows"] if r["swarms"]), "absent")
    text = (
        f"Same run through both agents (swarms {version}): an instant fake model, ~2 KB of new "
        "history per step. Autosave ms per step = median over the run's steps; first/last = "
        "median of the first and last tenth of the steps.\n\n"
        + _table(
            [
                "loops",
                "ours ms/step",
                "swarms ms/step",
                "swarms/ours",
                "ours B/step",
                "swarms B/step",
                "fsync/step ours / swarms",
                "ours first -> last",
                "swarms first -> last",
                "run s ours / swarms",
            ],
            rows,
        )
    )
    kills = doc.get("kill9", {})
    lines = []
    ours = kills.get("ours", [])
    if ours:
        announced = sum(t["announced_steps"] for t in ours)
        restored = sum(min(t["restored_steps"], t["announced_steps"]) for t in ours)
        bad = sum(len(t["files_unparsable"]) for t in ours)
        resumed = sum(1 for t in ours if t["resumed"])
        lines.append(
            f"- ours, {len(ours)} kills: {restored} of {announced} completed steps restored by "
            f"`load()`, {bad} unparsable files, {resumed}/{len(ours)} runs resumed"
        )
    swarms = kills.get("swarms", [])
    if swarms:
        announced = sum(t["announced_steps"] for t in swarms)
        restored = sum(t["restored_steps_by_swarms_load"] or 0 for t in swarms)
        in_config = sum(t["steps_in_config_json"] or 0 for t in swarms)
        bad = sum(len(t["files_unparsable"]) for t in swarms)
        lines.append(
            f"- swarms, {len(swarms)} kills: its `load()` restores {restored} of {announced} "
            f"completed steps (the state file is written at run start and end only and holds no "
            f"conversation); `config.json` still holds {in_config} of them, readable by "
            f"agent-tui; {bad} unparsable files"
        )
    if lines:
        text += "\n\n`kill -9` mid-run, then a new process loads the workspace:\n\n" + "\n".join(
            lines
        )
    goals = doc["goals"]
    goal_rows = [
        [
            "autosave per step vs swarms at 200 loops, while fsyncing",
            ">= 10x less",
            f"{goals['ratio_at_200_loops']}x less, {goals['ours_fsyncs_per_step']:g} fsync/step",
            _met((goals["ratio_at_200_loops"] or 0) >= 10 and goals["ours_fsyncs_per_step"]),
        ],
        [
            f"our per-step cost flat ({doc['rows'][-1]['loops']:,} loops, last/first tenth)",
            "flat (<= 1.5x)",
            f"{goals['ours_last_over_first_tenth_at_max_loops']}x",
            _met(goals["ours_last_over_first_tenth_at_max_loops"] <= 1.5),
        ],
    ]
    return text, goal_rows


def render_atomic(doc: dict) -> tuple[str, list[list[object]]]:
    names = list(doc["rows"][0]["median_ms"])
    rows = [
        [f"{row['bytes']:,}"]
        + [f"{row['median_ms'][n]:.3f} ({row['ratio_to_bare'][n]:.2f}x)" for n in names]
        for row in doc["rows"]
    ]
    text = "Median ms of interleaved rounds (ratio to the bare write).\n\n" + _table(
        ["state bytes", *names], rows
    )
    goal = doc["goal"]
    goal_rows = [
        [
            "atomic write vs bare write+fsync+rename+dir fsync (50 KB, 5 MB)",
            f"<= {goal['max_ratio']}x",
            f"{goal['worst_ratio']:.2f}x (worst of the two)",
            _met(goal["met"]),
        ]
    ]
    return text, goal_rows


def render_startup(doc: dict) -> tuple[str, list[list[object]]]:
    rows = [
        [r["what"], f"{r['median_ms']:.1f}", f"{r['over_floor_ms']:.1f}", f"{r['x_floor']:.2f}x"]
        for r in doc["rows"]
    ]
    text = f"Median wall time of {doc['reps']} fresh processes.\n\n" + _table(
        ["command", "ms", "ms over `python -c pass`", "x floor"], rows
    )
    goal_rows = [
        [
            f"`{r['what']}`",
            f"< {r['goal_ms']} ms",
            f"{r['median_ms']:.0f} ms",
            _met(r["median_ms"] < r["goal_ms"]),
        ]  # fmt: skip
        for r in doc["rows"]
        if r.get("goal_ms")
    ]
    return text, goal_rows


def render_autosave(doc: dict) -> tuple[str, list[list[object]]]:
    rows = [
        [
            f"{r['history_steps']:,}",
            f"{r['autosave_ms_per_step']:.3f}",
            f"{int(r['bytes_written_per_step']):,}",
            f"{r['naive_full_state_rewrite_ms']:.3f}",
        ]
        for r in doc["rows"]
    ]
    text = _table(
        ["history (steps)", "autosave ms/step", "bytes/step", "naive full-state rewrite ms/step"],
        rows,
    )
    first, last = doc["rows"][0], doc["rows"][-1]
    ratio = last["autosave_ms_per_step"] / first["autosave_ms_per_step"]
    goal_rows = [
        [
            f"autosave cost flat as history grows ({first['history_steps']:,} -> "
            f"{last['history_steps']:,} steps)",
            "flat (<= 1.5x)",
            f"{ratio:.2f}x",
            _met(ratio <= 1.5),
        ]
    ]
    return text, goal_rows


def render_crash(doc: dict) -> tuple[str, list[list[object]]]:
    rows = [[key.replace("_", " "), value if key != "problems" else len(value)]
            for key, value in doc.items() if not key.startswith("_")]  # fmt: skip
    text = _table(["", "value"], rows)
    clean = not doc["corrupt_files"] and not doc["steps_lost"] and not doc["problems"]
    goal_rows = [
        [
            f"kill -9 at random moments ({doc['trials']:,} trials)",
            "0 corrupt files, 0 completed steps lost",
            f"{doc['corrupt_files']} corrupt, {doc['steps_lost']} lost",
            _met(clean),
        ]
    ]
    return text, goal_rows


def render_state_tab(doc: dict) -> tuple[str, list[list[object]]]:
    rows = [
        [r["mode"], r["max_stall_ms"], r["p99_ms"], f"{r['max_over_baseline']}x",
         f"{r['p99_over_baseline']}x", r.get("longest_callback_ms", "-"),
         " / ".join(str(x) for x in r.get("max_stall_ms_rounds", [])),
         r["messages_shown"] or "-", r["messages_total"] or "-"]
        for r in doc["rows"]
    ]  # fmt: skip
    text = (
        f"The app on a {doc['steps']:,}-step agent autosaving every {doc['autosave_interval_s']} s "
        f"for {doc['seconds']} s; gaps of a 5 ms UI ticker, worst of the rounds, and the longest "
        "single event-loop callback (what the app held the UI for).\n\n"
        + _table(
            [
                "tab",
                "max stall ms",
                "p99 ms",
                "max / base",
                "p99 / base",
                "callback ms",
                "max stall of each round",
                "shown",
                "total",
            ],
            rows,
        )  # fmt: skip
    )
    goal = doc["goal"]
    goal_rows = [
        [
            f"State tab on a {doc['steps']:,}-step run: longest UI stall while it autosaves",
            f"<= {goal['max_stall_ms']:.0f} ms",
            f"{goal['measured_ms']} ms",
            _met(goal["met"]),
        ]
    ]
    return text, goal_rows


def render_fleet(doc: dict) -> tuple[str, list[list[object]]]:
    """bench/fleet.py's own table: each goal of the fleet-scale issue it measured."""
    rows = doc.get("table", [])
    text = _table(["what", "measured", "goal", "met"], rows)
    goal_rows = [[what, goal, measured, _met(met == "met")] for what, measured, goal, met in rows]
    return text, goal_rows


RENDERERS: dict[str, tuple[str, Callable[[dict], tuple[str, list[list[object]]]]]] = {
    "swarms_compare": ("Autosave versus swarms", render_swarms),
    "atomic_limit": ("Atomic write versus the bare limit", render_atomic),
    "startup": ("Start-up", render_startup),
    "autosave": ("Autosave cost as the history grows", render_autosave),
    "crash": ("kill -9 at random moments", render_crash),
    "state_tab": ("The State tab on a long run", render_state_tab),
    "fleet": ("Fleet scale: 100,000 folders, 120 live writers", render_fleet),
}


def write_summary(out: Path, results: dict[str, dict], missing: list[str], meta: dict) -> Path:
    sections = []
    goal_rows: list[list[object]] = []
    status_rows = []
    rank = {name: index for index, name in enumerate(EXPECTED)}
    for name, doc in sorted(results.items(), key=lambda item: rank.get(item[0], len(rank))):
        run = doc["_run"]
        status_rows.append([f"`bench/{name}.py`", run["status"], run["seconds"]])
        title, renderer = RENDERERS.get(name, (name.replace("_", " ").capitalize(), None))
        body = ""
        if renderer and run["status"] == "ok" and run["json_supported"]:
            try:
                body, goals = renderer(doc)
                goal_rows += goals
            except (KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
                body = f"(could not render the figures: {type(exc).__name__}: {exc})"
        if not body:
            body = "```\n" + (run["stdout"].strip() or "(no output)") + "\n```"
        sections.append(f"## {title}\n\n`{run['command']}` ({run['status']}, {run['seconds']} s)"
                        f"\n\n{body}\n")  # fmt: skip
    status_rows += [[f"`bench/{name}.py`", "missing", "-"] for name in missing]
    header = (
        "# Benchmark results\n\n"
        f"Measured {meta['date']} at commit {meta['commit']} by `make bench` "
        f"(`bench/run_all.py`) on {meta['cores']} cores "
        f"(`nproc`), Python {meta['python']}, {meta['platform']}; "
        f"load average {meta['load_before']} before, {meta['load_after']} after; "
        f"{meta['minutes']} min in all{meta['partial']}. "
        "Raw figures: `bench/results/<script>.json`.\n"
    )
    parts = [header]
    if goal_rows:
        parts.append("## Goals\n\n" + _table(["figure", "goal", "measured", ""], goal_rows) + "\n")
    parts.append("## Scripts\n\n" + _table(["script", "status", "seconds"], status_rows) + "\n")
    parts += sections
    path = out / "SUMMARY.md"
    path.write_text("\n".join(parts))
    return path


def _commit() -> str:
    try:
        proc = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO
        )
    except OSError:
        return "?"
    return proc.stdout.strip() or "?"


def _load() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "?"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", help="comma-separated script names (default: all)")
    parser.add_argument("--out", type=Path, default=BENCH / "results")
    args = parser.parse_args()
    order, missing = discover()
    if args.only:
        wanted = args.only.split(",")
        missing = [name for name in wanted if name not in order]
        order = [name for name in order if name in wanted]
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    meta = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.release()} {platform.machine()}",
        "load_before": _load(),
        "commit": _commit(),
    }
    for name in missing:
        print(f"== {name}: missing (bench/{name}.py does not exist)", flush=True)
    results = {}
    for name in order:
        results[name] = run_script(name, args.out)
    # Keep the figures of scripts not re-run this time (--only) in the summary.
    for path in sorted(args.out.glob("*.json")):
        if path.stem not in results and path.stem in order + EXPECTED and path.stem not in missing:
            try:
                document = json.loads(path.read_text())
            except ValueError:
                continue
            if isinstance(document, dict) and "_run" in document:
                results[path.stem] = document
    meta["load_after"] = _load()
    meta["partial"] = f" (a re-run of {', '.join(order)} only)" if args.only else ""
    meta["minutes"] = round((time.perf_counter() - started) / 60, 1)
    summary = write_summary(args.out, results, missing, meta)
    failed = [name for name, doc in results.items() if doc["_run"]["status"] != "ok"]
    print(f"\nwrote {summary.relative_to(REPO) if summary.is_relative_to(REPO) else summary}")
    print(f"{len(results)} scripts, {len(failed)} failed {failed or ''}, {len(missing)} missing "
          f"{missing or ''}, {meta['minutes']} min")  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
