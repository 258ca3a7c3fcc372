"""Start-up: `agent-tui --help`, `agent-tui ls` on 1,000 workspaces and the app's first paint,
next to `python -c pass` as the floor.

    .venv/bin/python bench/startup.py [--agents 1000] [--reps 15] [--json out.json]

The workspaces are real: three template agents are run with the offline model (1, 5 and 20
steps, one tool), then each is copied under new names (config and state rewritten with the new
name and id) until there are ``--agents`` folders. Every command is a fresh process; the runs
are interleaved round by round, and each figure is the median wall time of ``--reps`` rounds.

The app's first paint is timed headless: a child process builds the app with
``App.run_test()`` and prints a line when Textual posts ``Ready`` (the first frame is on the
screen) and another when the agent table shows its first rows; the parent times both from the
moment it started the child.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from agent_tui.agent import Agent  # noqa: E402
from agent_tui.format.naming import agent_folder_name, stable_agent_id, state_file_name  # noqa: E402
from agent_tui.format.persistence import dumps, read_json_object  # noqa: E402

BIN = Path(sys.executable).parent
GOALS_MS = {"agent-tui --help": 300}

APP_CHILD = """
import asyncio, os, sys
from textual import events
from agent_tui.tui.app import AgentTUI

async def main():
    app = AgentTUI(workspace_dir=sys.argv[1])
    def hook(message):
        if isinstance(message, events.Ready):
            print("READY", flush=True)
    async with app.run_test(size=(140, 40), message_hook=hook) as pilot:
        for _ in range(6000):
            if app.first_rows_at is not None:
                print("ROWS", flush=True)
                break
            await pilot.pause(0.005)
    os._exit(0)

asyncio.run(main())
"""


def lookup(term: str) -> str:
    """Look a term up."""
    return "notes on " + term


def make_workspaces(root: Path, count: int) -> None:
    templates = []
    for steps in (1, 5, 20):
        agent = Agent(
            model_name=f"offline/demo?tool_steps={steps}",
            agent_name=f"template-{steps}",
            max_loops=steps,
            tools=[lookup],
            workspace_dir=root,
        )
        agent.run(f"Collect notes on durable storage, {steps} steps")
        templates.append(Path(agent._get_agent_workspace_dir()))
    agents = root / "agents"
    for n in range(count - len(templates)):
        source = templates[n % len(templates)]
        name = f"bench-agent-{n:05d}"
        agent_id = stable_agent_id(name)
        target = agents / agent_folder_name(name, agent_id)
        shutil.copytree(source, target)
        old_state = target / state_file_name(source.name.rsplit("-", 1)[0])
        config = read_json_object(target / "config.json")
        config.update(agent_name=name, agent_id=agent_id)
        config["_autosave_metadata"].update(agent_name=name, agent_id=agent_id)
        config["_autosave_metadata"]["state_file"] = state_file_name(name)
        (target / "config.json").write_bytes(dumps(config))
        state = read_json_object(old_state)
        state.update(agent_name=name, agent_id=agent_id)
        state["config"].update(agent_name=name, agent_id=agent_id)
        old_state.unlink()
        (target / state_file_name(name)).write_bytes(dumps(state))


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - start) * 1000


def first_paint(python: str, root: Path, env: dict[str, str]) -> tuple[float, float]:
    start = time.perf_counter()
    child = subprocess.Popen(
        [python, "-c", APP_CHILD, str(root)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    marks: dict[str, float] = {}
    assert child.stdout is not None
    for line in child.stdout:
        marks[line.strip()] = (time.perf_counter() - start) * 1000
        if "ROWS" in marks:
            break
    child.wait(timeout=60)
    if "READY" not in marks or "ROWS" not in marks:
        raise RuntimeError(f"the app never painted (exit {child.returncode}); marks {marks}")
    return marks["READY"], marks["ROWS"]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--agents", type=int, default=1000, help="workspaces for ls and the app")
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    python = sys.executable
    cli = BIN / "agent-tui"
    cli_cmd = [str(cli)] if cli.exists() else [python, "-m", "agent_tui.cli"]
    have_app = (REPO / "tui" / "app.py").exists()

    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        root = Path(tmp) / "ws"
        make_workspaces(root, args.agents)
        env = dict(os.environ, WORKSPACE_DIR=str(root), PYTHONPATH=str(REPO))
        commands = {
            "python -c pass": [python, "-c", "pass"],
            "agent-tui --help": [*cli_cmd, "--help"],
            f"agent-tui ls ({args.agents:,} workspaces)": [*cli_cmd, "ls"],
            f"du -s ({args.agents:,} workspaces)": ["du", "-s", str(root)],
        }
        samples: dict[str, list[float]] = {name: [] for name in commands}
        paint: dict[str, list[float]] = {"app first frame": [], "app first rows": []}
        for cmd in commands.values():  # warm the page cache and the .pyc files
            timed(cmd, env)
        if have_app:
            first_paint(python, root, env)
        for _ in range(args.reps):
            for name, cmd in commands.items():
                samples[name].append(timed(cmd, env))
            if have_app:
                ready, rows = first_paint(python, root, env)
                paint["app first frame"].append(ready)
                paint["app first rows"].append(rows)
    samples.update({k: v for k, v in paint.items() if v})

    floor = statistics.median(samples["python -c pass"])
    rows = []
    for name, values in samples.items():
        median = statistics.median(values)
        rows.append(
            {
                "what": name,
                "median_ms": round(median, 1),
                "min_ms": round(min(values), 1),
                "over_floor_ms": round(median - floor, 1),
                "x_floor": round(median / floor, 2),
                "goal_ms": GOALS_MS.get(name),
            }
        )
    print(f"start-up, median of {args.reps} fresh processes, {os.cpu_count()} cores")
    print(f"{'':>34} {'median':>9} {'min':>9} {'over floor':>11} {'x floor':>8} {'goal':>8}")
    for row in rows:
        goal = f"{row['goal_ms']} ms" if row["goal_ms"] else ""
        print(
            f"{row['what']:>34} {row['median_ms']:>6.1f} ms {row['min_ms']:>6.1f} ms "
            f"{row['over_floor_ms']:>8.1f} ms {row['x_floor']:>7.2f}x {goal:>8}"
        )
    if not have_app:
        print("tui/app.py not found: app first paint not measured")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        document = {"rows": rows, "agents": args.agents, "reps": args.reps, "cores": os.cpu_count()}
        args.json.write_text(json.dumps(document, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
