"""Runs one swarms ``Agent`` with an instant fake model and times its autosave; prints JSON.

Not a benchmark on its own: ``bench/swarms_compare.py`` runs it with the Python of the separate
swarms venv (``bench/.swarms-venv``), because swarms and its dependencies must not enter the
project's venv. Only the standard library and swarms are imported here.

    bench/.swarms-venv/bin/python bench/_swarms_driver.py --loops 200 --workspace DIR
    ... --delay 0.02 --announce     # slow model; print "step N" lines as config.json lands

swarms' ``Agent._run`` writes ``config.json`` (the whole agent, conversation included) at the
start and at the end of every loop (``_autosave_config_step`` -> ``workspace.save_config``), and
the state file (``save()``) at run start, run end and on errors. Both methods are wrapped with
timers here; ``os.fsync``/``os.fdatasync`` are wrapped with counters.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys
import time

os.environ.setdefault("SWARMS_TELEMETRY_ON", "false")
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("LITELLM_OFFLINE_MODE", "true")

REPLY = ("Autosave keeps the work of a long run safe across crashes and restarts. " * 28)[:2000]

fsync_calls = {"n": 0}


def _count(fn):
    def wrapper(*args, **kwargs):
        fsync_calls["n"] += 1
        return fn(*args, **kwargs)

    return wrapper


os.fsync = _count(os.fsync)
os.fdatasync = _count(os.fdatasync)


class FakeLLM:
    """What swarms calls as ``llm.run(task=..., **kwargs)``: a fixed ~2 KB answer."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.calls = 0

    def run(self, task: str | None = None, *args, **kwargs) -> str:
        self.calls += 1
        if self.delay:
            time.sleep(self.delay)
        return REPLY


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--loops", type=int, required=True)
    parser.add_argument("--workspace", required=True, help="WORKSPACE_DIR for the run")
    parser.add_argument("--name", default="swarms-bench")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds per model call")
    parser.add_argument("--announce", action="store_true", help='print "step N" as each ends')
    parser.add_argument("--inspect", help="instead of running: load this agent's files, report")
    args = parser.parse_args()
    os.environ["WORKSPACE_DIR"] = args.workspace

    from loguru import logger
    from swarms import Agent
    from swarms.structs import agent as agent_module

    # swarms logs every save at INFO to stderr (its handler is added on import); the time
    # to format and print those lines is not autosave, and the noise hides the results.
    logger.remove()

    if args.inspect:
        return inspect(Agent, args)

    events: list[dict] = []
    writes: dict[int | None, int] = {}
    original_config_step = agent_module.Agent._autosave_config_step
    original_save = agent_module.Agent.save

    def folder_of(agent) -> str:
        return agent._get_agent_workspace_dir()

    def timed_config_step(self, loop_count=None):
        start = time.perf_counter()
        fsyncs = fsync_calls["n"]
        original_config_step(self, loop_count=loop_count)
        ms = (time.perf_counter() - start) * 1000
        path = os.path.join(folder_of(self), "config.json")
        size = os.path.getsize(path) if os.path.exists(path) else 0
        events.append(
            {
                "kind": "config",
                "loop": loop_count,
                "ms": ms,
                "bytes": size,
                "fsyncs": fsync_calls["n"] - fsyncs,
            }
        )
        # Loop k writes config.json at its start and at its end; only the second write
        # means step k is complete.
        writes[loop_count] = writes.get(loop_count, 0) + 1
        if args.announce and loop_count and writes[loop_count] == 2:
            print(f"step {loop_count}", flush=True)

    def timed_save(self, file_path=None):
        start = time.perf_counter()
        fsyncs = fsync_calls["n"]
        original_save(self, file_path)
        ms = (time.perf_counter() - start) * 1000
        states = glob.glob(os.path.join(folder_of(self), "*_state.json"))
        size = max((os.path.getsize(p) for p in states), default=0)
        events.append(
            {"kind": "state", "ms": ms, "bytes": size, "fsyncs": fsync_calls["n"] - fsyncs}
        )

    agent_module.Agent._autosave_config_step = timed_config_step
    agent_module.Agent.save = timed_save

    llm = FakeLLM(args.delay)
    agent = Agent(
        agent_name=args.name,
        llm=llm,
        max_loops=args.loops,
        autosave=True,
        print_on=False,
        verbose=False,
        # Our agent does not compress history either; swarms' compressor would call litellm
        # with the fake model's name every step once the history passes its context length.
        context_compression=False,
    )
    started = time.perf_counter()
    agent.run("Research durable storage for long agent runs and report step by step.")
    total_s = time.perf_counter() - started

    # Per step: the config writes tagged with that loop before the run's final save().
    last_state = max(i for i, e in enumerate(events) if e["kind"] == "state")
    per_step: dict[int, dict] = {}
    for event in events[:last_state]:
        if event["kind"] == "config" and event["loop"]:
            step = per_step.setdefault(event["loop"], {"ms": 0.0, "bytes": 0, "fsyncs": 0})
            step["ms"] += event["ms"]
            step["bytes"] += event["bytes"]
            step["fsyncs"] += event["fsyncs"]
    print(
        json.dumps(
            {
                "swarms_version": _version(),
                "loops": args.loops,
                "model_calls": llm.calls,
                "total_s": total_s,
                "autosave_total_ms": sum(e["ms"] for e in events),
                "autosave_bytes_total": sum(e["bytes"] for e in events),
                "steps": [per_step[k] for k in sorted(per_step)],
                "run_start_end_saves": [e for e in events if e["kind"] == "state"],
                "fsync_calls": fsync_calls["n"],
                "folder": folder_of(agent),
            }
        )
    )
    return 0


def inspect(Agent, args) -> int:
    """After a kill -9: do the files parse, and what does swarms' own load() restore?"""
    folders = glob.glob(os.path.join(args.workspace, "agents", "*"))
    report: dict = {"folders": len(folders), "files": {}, "load_error": None}
    for folder in folders:
        for path in sorted(glob.glob(os.path.join(folder, "*"))):
            name = os.path.basename(path)
            try:
                with open(path, encoding="utf-8") as handle:
                    document = json.load(handle) if name.endswith(".json") else handle.read()
                report["files"][name] = "ok"
            except (OSError, ValueError) as exc:
                report["files"][name] = f"{type(exc).__name__}: {exc}"[:200]
                continue
            if name == "config.json":
                memory = document.get("short_memory") or []
                report["config_loop_count"] = (document.get("_autosave_metadata") or {}).get(
                    "loop_count"
                )
                report["config_answers"] = sum(
                    1 for m in memory if isinstance(m, dict) and m.get("role") == args.name
                )
    states = [p for f in folders for p in glob.glob(os.path.join(f, "*_state.json"))]
    agent = Agent(agent_name=args.name, llm=FakeLLM(0), max_loops=1, print_on=False)
    before = len(agent.short_memory.conversation_history)
    try:
        agent.load(states[0])
        report["load_answers"] = sum(
            1
            for m in agent.short_memory.conversation_history
            if isinstance(m, dict) and m.get("role") == args.name
        )
        report["load_messages_added"] = len(agent.short_memory.conversation_history) - before
    except Exception as exc:  # what swarms raises on a bad file is not documented
        report["load_error"] = f"{type(exc).__name__}: {exc}"[:300]
    print(json.dumps(report))
    return 0


def _version() -> str:
    from importlib.metadata import version

    return version("swarms")


if __name__ == "__main__":
    sys.exit(main())
