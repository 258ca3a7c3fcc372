"""Autosave versus swarms: the same multi-step run through our Agent and through swarms' Agent.

    .venv/bin/python bench/swarms_compare.py [--loops 3,50,200,1000] [--kill-trials 5]
        [--swarms-python bench/.swarms-venv/bin/python] [--json out.json]

Both agents run N loops of an instant fake model that adds ~2 KB to the history per step:

- ours: ``offline/demo?tool_steps=N`` with one tool that returns 2,000 characters (the offline
  model calls it every step, so the run lasts N steps); autosave = config.json (atomic, fsync of
  file and folder) + one fdatasync'd journal line per step, the fsyncs and the config rewrite on
  the agent's autosave thread. Timed as the ``autosave_ms`` of each ``step_end`` event: what the
  run's own thread spends on autosave (redaction, the journal line, handing the disk work over,
  waiting for the previous step's). The disk time on the autosave thread is reported beside it.
- swarms (PyPI ``swarms``, in its own venv, see ``bench/_swarms_driver.py``): an ``llm=`` object
  whose ``run()`` returns 2,000 characters; autosave = config.json, which holds the whole agent
  with its conversation, written at the start and at the end of every loop (temp file +
  ``os.replace``, no fsync), plus the state file at run start and end. Timed by wrapping
  ``Agent._autosave_config_step`` and ``Agent.save``.

Per loop count: autosave ms per step (median over the steps; also the first and last tenth of the
run, to show whether the cost grows with the history), bytes written per step, fsync calls per
step, total run time. Then ``kill -9`` mid-run, ``--kill-trials`` times each: a child runs with
a slowish model, is SIGKILLed after a random number of steps, and the parent checks what
survived: do the files parse, how many of the announced steps does a new process restore.

Goal (issue 7): at 200 loops, at least 10x less autosave time per step than swarms while we also
fsync; our per-step cost flat as the history grows.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from agent_tui.agent import Agent, AgentEvent  # noqa: E402
from agent_tui.format.journal import read_journal  # noqa: E402
from agent_tui.format.layout import JOURNAL_NAME  # noqa: E402
from agent_tui.format.persistence import WorkspaceFileError, read_json  # noqa: E402

SWARMS_PYTHON = REPO / "bench" / ".swarms-venv" / "bin" / "python"
DRIVER = REPO / "bench" / "_swarms_driver.py"
NOTE = ("Autosave keeps the work of a long run safe across crashes and restarts. " * 28)[:2000]
TASK = "Research durable storage for long agent runs and report step by step."


def note(topic: str) -> str:
    """Write a 2,000-character note about a topic."""
    return NOTE


class _FsyncCounter:
    """Counts os.fsync/os.fdatasync calls made by the code under test (ours, in-process)."""

    def __init__(self) -> None:
        self.calls = 0
        self._saved = (os.fsync, os.fdatasync)

    def __enter__(self) -> _FsyncCounter:
        fsync, fdatasync = self._saved

        def counted(fn):
            def wrapper(fd):
                self.calls += 1
                return fn(fd)

            return wrapper

        os.fsync, os.fdatasync = counted(fsync), counted(fdatasync)
        return self

    def __exit__(self, *exc: object) -> None:
        os.fsync, os.fdatasync = self._saved


def tenths(values: list[float]) -> tuple[float, float]:
    """Median of the first and of the last tenth of a run's steps."""
    k = max(1, len(values) // 10)
    return statistics.median(values[:k]), statistics.median(values[-k:])


def summarize(steps: list[dict], total_s: float, autosave_total_ms: float) -> dict:
    ms = [s["ms"] for s in steps]
    first, last = tenths(ms)
    return {
        "steps": len(steps),
        "autosave_ms_per_step": round(statistics.median(ms), 4),
        "autosave_ms_first_tenth": round(first, 4),
        "autosave_ms_last_tenth": round(last, 4),
        "bytes_per_step": int(statistics.median(s["bytes"] for s in steps)),
        "bytes_last_step": steps[-1]["bytes"],
        "fsyncs_per_step": statistics.median(s["fsyncs"] for s in steps),
        "disk_ms_per_step_background": round(
            statistics.median(s.get("disk_ms", 0.0) for s in steps), 4
        ),
        "total_run_s": round(total_s, 4),
        "autosave_total_ms": round(autosave_total_ms, 2),
    }


# ------------------------------------------------------------------------------------ ours
def run_ours(loops: int, root: Path) -> dict:
    steps: list[dict] = []
    current: dict | None = None
    autosave_total = 0.0

    with _FsyncCounter() as fsyncs:

        def on_event(event: AgentEvent) -> None:
            nonlocal current, autosave_total
            if event.kind == "step_start":
                current = {"ms": 0.0, "disk_ms": 0.0, "bytes": 0, "fsyncs": fsyncs.calls}
            elif event.kind == "autosave":
                if current is not None:
                    current["disk_ms"] += event.data["ms"]
                    current["bytes"] += event.data["bytes"]
            elif event.kind == "step_end" and current is not None:
                current["ms"] = event.data["autosave_ms"]
                autosave_total += current["ms"]
                current["fsyncs"] = fsyncs.calls - current["fsyncs"]
                steps.append(current)
                current = None

        agent = Agent(
            model_name=f"offline/demo?tool_steps={loops}",
            agent_name=f"ours-{loops}",
            max_loops=loops,
            tools=[note],
            workspace_dir=root,
            on_event=on_event,
        )
        started = time.perf_counter()
        agent.run(TASK)
        total_s = time.perf_counter() - started
        total_fsyncs = fsyncs.calls
    if len(steps) != loops:
        raise RuntimeError(f"our agent ran {len(steps)} steps, expected {loops}")
    figures = summarize(steps, total_s, autosave_total)
    # The fsyncs run on the autosave thread, between and during steps: count them per run.
    figures["fsyncs_per_step"] = round(total_fsyncs / loops, 2)
    return figures


# ---------------------------------------------------------------------------------- swarms
def run_swarms(python: Path, loops: int, root: Path) -> dict:
    proc = subprocess.run(
        [str(python), str(DRIVER), "--loops", str(loops), "--workspace", str(root)],
        capture_output=True,
        text=True,
        timeout=900,
        env=_swarms_env(),
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"swarms driver failed ({proc.returncode}): {proc.stderr[-2000:]}")
    report = json.loads(lines[-1])
    if len(report["steps"]) != loops:
        raise RuntimeError(f"swarms ran {len(report['steps'])} steps, expected {loops}")
    figures = summarize(report["steps"], report["total_s"], report["autosave_total_ms"])
    figures["swarms_version"] = report["swarms_version"]
    return figures


def _swarms_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        SWARMS_TELEMETRY_ON="false",
        LITELLM_LOCAL_MODEL_COST_MAP="True",
        LITELLM_OFFLINE_MODE="true",
        PYTHONUNBUFFERED="1",
    )
    env.pop("PYTHONPATH", None)
    return env


# ---------------------------------------------------------------------------------- kill -9
OUR_CHILD = """
import sys
from agent_tui import Agent

def note(topic: str) -> str:
    '''Write a 2,000-character note about a topic.'''
    return {note!r}

def on_event(event):
    if event.kind == "step_end":
        print("step", event.data["step"], flush=True)

Agent(model_name="offline/demo?tool_steps=100000&delay=0.001", agent_name="killed",
      max_loops=100000, tools=[note], on_event=on_event).run({task!r})
"""


def _kill_after(cmd: list[str], env: dict[str, str], steps: int, rng: random.Random) -> int:
    """Start ``cmd``, wait until it announces ``steps`` completed steps, SIGKILL it a random
    moment later. Returns the last step it announced."""
    child = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True, bufsize=1
    )
    announced = 0
    deadline = time.monotonic() + 120
    assert child.stdout is not None
    try:
        while announced < steps and time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            if line.startswith("step "):
                announced = int(line.split()[1])
        time.sleep(rng.uniform(0, 0.02))
        child.send_signal(signal.SIGKILL)
        child.wait()
        # Steps announced between the last read and the kill also count as completed.
        while select.select([child.stdout], [], [], 0)[0]:
            line = child.stdout.readline()
            if not line:
                break
            if line.startswith("step "):
                announced = int(line.split()[1])
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    return announced


def kill_ours(trials: int, rng: random.Random) -> list[dict]:
    results = []
    for _ in range(trials):
        with tempfile.TemporaryDirectory(prefix="bench-kill-ours-") as tmp:
            env = dict(os.environ, WORKSPACE_DIR=tmp, PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
            code = OUR_CHILD.format(note=NOTE, task=TASK)
            announced = _kill_after([sys.executable, "-c", code], env, rng.randint(5, 40), rng)
            agent = Agent(agent_name="killed", workspace_dir=tmp, max_loops=1, tools=[note])
            folder = Path(agent._get_agent_workspace_dir())
            bad = _unparsable(folder)
            try:
                agent.load()
                restored = agent.loop_count
                agent.model_name = "offline/demo?tool_steps=100000"
                agent.run("Continue from where you left off")
                resumed = agent.loop_count == restored + 1
                error = None
            except Exception as exc:  # report, do not crash the benchmark
                restored, resumed, error = 0, False, f"{type(exc).__name__}: {exc}"
            results.append(
                {
                    "announced_steps": announced,
                    "restored_steps": restored,
                    "files_unparsable": bad,
                    "resumed": resumed,
                    "error": error,
                }
            )
    return results


def _unparsable(folder: Path) -> list[str]:
    bad = []
    for path in folder.iterdir():
        if path.suffix == ".json" and not path.name.startswith("."):
            try:
                read_json(path)
            except WorkspaceFileError as exc:
                bad.append(f"{path.name}: {exc.reason}")
    journal = read_journal(folder / JOURNAL_NAME)
    # A torn last line is expected after a kill inside an append; readers skip it.
    bad.extend(f"{JOURNAL_NAME}: {p}" for p in journal.problems if "last line" not in str(p))
    return bad


def kill_swarms(python: Path, trials: int, rng: random.Random) -> list[dict]:
    results = []
    for _ in range(trials):
        with tempfile.TemporaryDirectory(prefix="bench-kill-swarms-") as tmp:
            cmd = [str(python), str(DRIVER), "--workspace", tmp, "--loops", "100000"]
            cmd += ["--delay", "0.005", "--announce"]
            announced = _kill_after(cmd, _swarms_env(), rng.randint(5, 40), rng)
            inspect = subprocess.run(
                [str(python), str(DRIVER), "--workspace", tmp, "--loops", "1", "--inspect", "1"],
                capture_output=True,
                text=True,
                timeout=300,
                env=_swarms_env(),
            )
            lines = [line for line in inspect.stdout.splitlines() if line.startswith("{")]
            report = json.loads(lines[-1]) if lines else {"error": inspect.stderr[-500:]}
            # What agent-tui's reader makes of the same folder (it reads swarms' config.json).
            ours_from_config = None
            configs = list(Path(tmp).glob("agents/*/config.json"))
            if configs:
                reader = Agent(agent_name="reader", workspace_dir=tmp)
                try:
                    reader.load(configs[0])
                    ours_from_config = sum(
                        1 for m in reader.conversation if m["role"] == "assistant"
                    )
                except Exception as exc:
                    ours_from_config = f"{type(exc).__name__}: {exc}"
            results.append(
                {
                    "announced_steps": announced,
                    "files_unparsable": [
                        f"{name}: {status}"
                        for name, status in report.get("files", {}).items()
                        if status != "ok" and name.endswith(".json")
                    ],
                    "restored_steps_by_swarms_load": report.get("load_answers"),
                    "swarms_load_error": report.get("load_error"),
                    "steps_in_config_json": report.get("config_answers"),
                    "steps_agent_tui_reads_from_config_json": ours_from_config,
                }
            )
    return results


# ------------------------------------------------------------------------------------ main
def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--loops", default="3,50,200,1000", help="loop counts, comma-separated")
    parser.add_argument("--kill-trials", type=int, default=5, help="kill -9 trials per agent")
    parser.add_argument("--swarms-python", type=Path, default=SWARMS_PYTHON)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    loop_counts = [int(n) for n in args.loops.split(",")]
    rng = random.Random(args.seed)
    have_swarms = args.swarms_python.exists()
    if not have_swarms:
        print(
            f"swarms venv not found ({args.swarms_python}): run `make bench` to create it; "
            "measuring our agent only",
            file=sys.stderr,
        )

    rows = []
    for loops in loop_counts:
        with tempfile.TemporaryDirectory(prefix="bench-swarms-") as tmp:
            ours = run_ours(loops, Path(tmp) / "ours")
            swarms = (
                run_swarms(args.swarms_python, loops, Path(tmp) / "swarms") if have_swarms else None
            )
        row = {"loops": loops, "ours": ours, "swarms": swarms}
        if swarms:
            row["autosave_ratio"] = round(
                swarms["autosave_ms_per_step"] / ours["autosave_ms_per_step"], 1
            )
            row["bytes_ratio"] = round(swarms["bytes_per_step"] / ours["bytes_per_step"], 1)
        rows.append(row)
        print(f"  {loops} loops done", file=sys.stderr, flush=True)

    kills = {"ours": kill_ours(args.kill_trials, rng)}
    if have_swarms:
        kills["swarms"] = kill_swarms(args.swarms_python, args.kill_trials, rng)

    print_table(rows, kills)
    at200 = next((r for r in rows if r["loops"] == 200), None)
    biggest = rows[-1]["ours"]
    goals = {
        "ratio_at_200_loops": at200.get("autosave_ratio") if at200 else None,
        "ratio_goal": 10,
        "ours_fsyncs_per_step": at200["ours"]["fsyncs_per_step"] if at200 else None,
        "ours_last_over_first_tenth_at_max_loops": round(
            biggest["autosave_ms_last_tenth"] / biggest["autosave_ms_first_tenth"], 2
        ),
    }
    goals["met"] = bool(
        goals["ratio_at_200_loops"]
        and goals["ratio_at_200_loops"] >= 10
        and goals["ours_fsyncs_per_step"]
        and goals["ours_last_over_first_tenth_at_max_loops"] <= 1.5
    )
    print(
        f"\ngoal: >= 10x less autosave per step than swarms at 200 loops while fsyncing: "
        f"{goals['ratio_at_200_loops']}x with {goals['ours_fsyncs_per_step']} fsync/step; "
        f"ours last/first tenth at {rows[-1]['loops']} loops: "
        f"{goals['ours_last_over_first_tenth_at_max_loops']}x -> "
        f"{'met' if goals['met'] else 'NOT met'}"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        document = {"rows": rows, "kill9": kills, "goals": goals, "cores": os.cpu_count()}
        args.json.write_text(json.dumps(document, indent=2) + "\n")
    return 0


def print_table(rows: list[dict], kills: dict) -> None:
    print(f"\nautosave per step, ours vs swarms ({os.cpu_count()} cores); ms = median over steps")
    print(
        f"{'loops':>6} | {'ours ms':>8} {'first':>7} {'last':>7} {'B/step':>7} {'fsync':>5} "
        f"{'run s':>7} | {'swarms ms':>9} {'first':>7} {'last':>7} {'B/step':>10} {'fsync':>5} "
        f"{'run s':>7} | {'ratio':>6}"
    )
    for row in rows:
        o, s = row["ours"], row["swarms"]
        line = (
            f"{row['loops']:>6} | {o['autosave_ms_per_step']:>8.3f} "
            f"{o['autosave_ms_first_tenth']:>7.3f} {o['autosave_ms_last_tenth']:>7.3f} "
            f"{o['bytes_per_step']:>7,} {o['fsyncs_per_step']:>5g} {o['total_run_s']:>7.3f} |"
        )
        if s:
            line += (
                f" {s['autosave_ms_per_step']:>9.3f} {s['autosave_ms_first_tenth']:>7.3f} "
                f"{s['autosave_ms_last_tenth']:>7.3f} {s['bytes_per_step']:>10,} "
                f"{s['fsyncs_per_step']:>5g} {s['total_run_s']:>7.3f} | "
                f"{row['autosave_ratio']:>5.1f}x"
            )
        print(line)
    print("\nkill -9 mid-run (a new process loads what is on disk):")
    for trial in kills["ours"]:
        print(
            f"  ours:   announced {trial['announced_steps']:>3} steps, restored "
            f"{trial['restored_steps']:>3}, unparsable files {len(trial['files_unparsable'])}, "
            f"resumed {'yes' if trial['resumed'] else 'no'}"
        )
    for trial in kills.get("swarms", []):
        print(
            f"  swarms: announced {trial['announced_steps']:>3} steps, swarms' load() restores "
            f"{trial['restored_steps_by_swarms_load']} (its state file holds no conversation), "
            f"config.json holds {trial['steps_in_config_json']}, unparsable files "
            f"{len(trial['files_unparsable'])}"
        )


if __name__ == "__main__":
    sys.exit(main())
