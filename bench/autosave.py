"""Autosave cost per step as the history grows, next to the same loop with autosave off.

    .venv/bin/python bench/autosave.py [--steps 200] [--json results.json]

For each history length (10, 1,000, 10,000 completed steps already in the conversation) it runs
``--steps`` more steps of an instant offline model with one tool call per step, once with
autosave on (config.json rewritten atomically + one fsynced journal line per step) and once with
autosave off, and prints per-step figures side by side. For contrast it also times what a naive
autosave does: rewriting the whole state file (atomic, fsynced) once per step.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent_tui.agent import Agent, AgentEvent  # noqa: E402
from agent_tui.format.persistence import atomic_write_json  # noqa: E402


def lookup(term: str) -> str:
    """Look a term up."""
    return "result for " + term


def synthetic_history(steps: int) -> list[dict]:
    messages = [{"role": "system", "content": "You are helpful."}]
    messages.append({"role": "user", "content": "research durable storage", "step": 0})
    for step in range(1, steps + 1):
        call = {
            "id": f"c{step}",
            "type": "function",
            "function": {"name": "lookup", "arguments": '{"term":"x"}'},
        }
        messages.append(
            {
                "role": "assistant",
                "content": f"Step {step}: checking x. " * 4,
                "tool_calls": [call],
                "step": step,
            }
        )
        messages.append(
            {
                "role": "tool",
                "tool_call_id": f"c{step}",
                "name": "lookup",
                "content": "result for x",
                "step": step,
            }
        )
    return messages


def measure(root: Path, history: int, steps: int, autosave: bool) -> dict:
    agent = Agent(
        model_name=f"offline/demo?tool_steps={history + steps + 10}&words=20",
        agent_name=f"bench-{history}-{autosave}",
        max_loops=steps,
        tools=[lookup],
        autosave=autosave,
        workspace_dir=root,
    )
    agent.conversation = synthetic_history(history)
    agent.loop_count = history
    step_ms: list[float] = []
    save_ms: list[float] = []
    save_bytes: list[int] = []
    marks = {"start": 0.0, "save": 0.0, "bytes": 0}

    def on_event(event: AgentEvent) -> None:
        if event.kind == "step_start":
            marks.update(start=time.perf_counter(), save=0.0, bytes=0)
        elif event.kind == "autosave" and marks["start"]:
            marks["save"] += event.data["ms"]
            marks["bytes"] += event.data["bytes"]
        elif event.kind == "step_end":
            step_ms.append((time.perf_counter() - marks["start"]) * 1000)
            # The run's own time in autosave (the disk work runs on the autosave thread).
            save_ms.append(event.data.get("autosave_ms", 0.0))
            save_bytes.append(marks["bytes"])

    agent.on_event = on_event
    agent.run("keep researching")
    return {
        "step_ms": statistics.median(step_ms),
        "autosave_ms": statistics.median(save_ms),
        "bytes_per_step": statistics.median(save_bytes),
        "state": agent.state(),
    }


def naive_full_rewrite_ms(root: Path, state: dict, repeats: int = 20) -> tuple[float, int]:
    path = root / "naive_state.json"
    times = []
    size = 0
    for _ in range(repeats):
        start = time.perf_counter()
        size = atomic_write_json(path, state)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), size


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=200, help="steps measured per history length")
    parser.add_argument("--histories", default="10,1000,10000")
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds over all history lengths (medians)"
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    histories = [int(h) for h in args.histories.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-autosave-") as tmp:
        root = Path(tmp)
        # The lengths in turn, round after round: a slow spell of the machine hits all alike.
        rounds = [
            {h: (measure(root, h, args.steps, True), measure(root, h, args.steps, False))
             for h in histories}
            for _ in range(max(1, args.rounds))
        ]  # fmt: skip
        for history in histories:
            runs = [r[history] for r in rounds]
            on = {
                key: statistics.median(run[0][key] for run in runs)
                for key in ("autosave_ms", "step_ms", "bytes_per_step")
            }
            on["bytes_per_step"] = round(on["bytes_per_step"])
            on["state"] = runs[-1][0]["state"]
            off = {"step_ms": statistics.median(run[1]["step_ms"] for run in runs)}
            naive_ms, naive_bytes = naive_full_rewrite_ms(root, on["state"])
            rows.append(
                {
                    "history_steps": history,
                    "autosave_ms_per_step": round(on["autosave_ms"], 3),
                    "bytes_written_per_step": on["bytes_per_step"],
                    "step_ms_autosave_on": round(on["step_ms"], 3),
                    "step_ms_autosave_off": round(off["step_ms"], 3),
                    "on_off_ratio": round(on["step_ms"] / off["step_ms"], 2),
                    "naive_full_state_rewrite_ms": round(naive_ms, 3),
                    "naive_bytes_per_step": naive_bytes,
                }
            )
    base = rows[0]["autosave_ms_per_step"]
    print(
        f"autosave cost per step: median of {args.steps} steps, then of {args.rounds} rounds, "
        f"{os.cpu_count()} cores"
    )
    header = f"{'history':>8} {'autosave ms':>12} {'vs h=10':>8} {'B/step':>8} {'step on':>9} {'step off':>9} {'on/off':>7} {'naive ms':>9} {'naive B':>10}"
    print(header)
    for row in rows:
        print(
            f"{row['history_steps']:>8,} {row['autosave_ms_per_step']:>12.3f} "
            f"{row['autosave_ms_per_step'] / base:>7.2f}x {row['bytes_written_per_step']:>8,} "
            f"{row['step_ms_autosave_on']:>9.3f} {row['step_ms_autosave_off']:>9.3f} "
            f"{row['on_off_ratio']:>6.2f}x {row['naive_full_state_rewrite_ms']:>9.3f} "
            f"{row['naive_bytes_per_step']:>10,}"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"rows": rows, "cores": os.cpu_count()}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
