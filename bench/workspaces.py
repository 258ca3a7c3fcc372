"""Workspaces at scale: `agent-tui ls` vs `du -s`, `agent-tui clean` vs `rm -rf`, start-up, memory.

    .venv/bin/python bench/workspaces.py            # 10,000 workspaces
    .venv/bin/python bench/workspaces.py --n 2000   # a quicker run

Generates N agent folders in a temp dir — 70% agent-tui format (config, state, journal, lock;
one in ten with a 50-step history), 30% swarms format (whole-agent config with short_memory,
random state name, error.txt, logs/) — four runs per agent name with ages 1-4 days. Then, side
by side in one run:

- `agent-tui ls` wall time (the venv's console script, output to /dev/null) vs `du -s`, the two
  run in turn, `--repeat` times each, so a slow spell of the machine hits both alike; `ls` with
  the summary index warm (the run before wrote it) and cold (removed first: every config
  parsed), in a cache folder of the run's own (`XDG_CACHE_HOME`); plus the floor: a bare Python
  walk doing only what a full read must (list each folder, `lstat` each file, read
  `config.json`), single process, no records, no output;
- `agent-tui clean --keep-last 2 --yes` (removes the older half) vs `rm -rf` of the same
  folders, each in its own `cp -a` copy of the tree, `--clean-rounds` times (which goes first
  alternates), medians;
- `agent-tui --help` start-up time;
- peak memory of each child (GNU time's %M; wait4's ru_maxrss when it is missing).

Goals (issue 3): ls and clean within 1.5x of du and rm; --help under 0.3 s.

The commands run with Python's bytecode cache on (PYTHONDONTWRITEBYTECODE removed, one untimed
run first), as an installed tool runs: without it every start compiles the modules again.
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
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from agent_tui.format.naming import agent_folder_name, state_file_name  # noqa: E402

NOW = datetime.now(UTC)
RUNS_PER_NAME = 4


def _our_files(name: str, agent_id: str, age: timedelta, steps: int) -> dict[str, bytes]:
    stamp = (NOW - age).isoformat()
    settings = {
        "agent_name": name,
        "agent_id": agent_id,
        "agent_description": "",
        "model_name": "offline/demo",
        "system_prompt": "You are a helpful, careful assistant. Use tools when they help.",
        "max_loops": steps,
        "temperature": None,
        "max_tokens": None,
        "timeout": 60.0,
        "max_retries": 2,
        "autosave": True,
        "verbose": False,
        "tools": [],
    }
    meta = {
        "timestamp": stamp,
        "loop_count": steps,
        "agent_id": agent_id,
        "agent_name": name,
        "schema_version": 1,
        "format": "agent-tui",
        "status": "completed",
        "run_id": uuid.uuid4().hex[:12],
        "pid": 1234,
        "hostname": "bench",
        "started_at": stamp,
        "state_file": state_file_name(name),
        "error": None,
        "usage": {"prompt_tokens": 20 * steps, "completion_tokens": 100 * steps, "cost": 0.0},
        "autosave_failures": 0,
    }
    conversation = [
        {"role": "system", "content": settings["system_prompt"], "ts": stamp},
        {"role": "user", "content": f"task for {name}", "ts": stamp, "step": 0},
    ]
    records = [
        {"seq": 1, "kind": "task", "ts": stamp, "run_id": meta["run_id"], "loop_count": 0,
         "task": f"task for {name}", "messages": list(conversation), "new_conversation": True}
    ]  # fmt: skip
    for step in range(1, steps + 1):
        message = {
            "role": "assistant",
            "content": f"Step {step}: working through the task for {name}. " * 6,
            "ts": stamp,
            "step": step,
        }
        conversation.append(message)
        records.append(
            {"seq": step + 1, "kind": "step", "ts": stamp, "run_id": meta["run_id"],
             "loop_count": step, "messages": [message], "tool_results": [], "usage": {}}
        )  # fmt: skip
    state = {
        "schema_version": 1, "format": "agent-tui", "agent_id": agent_id, "agent_name": name,
        "saved_at": stamp, "status": "completed", "error": None, "loop_count": steps,
        "task": f"task for {name}", "tasks": [f"task for {name}"], "conversation": conversation,
        "tool_results": [], "memory": {}, "usage": meta["usage"], "config": settings,
        "journal_seq": len(records),
    }  # fmt: skip
    return {
        "config.json": json.dumps({**settings, "_autosave_metadata": meta}, indent=2).encode(),
        state_file_name(name): json.dumps(state, indent=2).encode(),
        "journal.jsonl": "".join(json.dumps(r) + "\n" for r in records).encode(),
        "agent.lock": b"pid 1234 on bench since then\n",
    }


def _swarms_files(name: str, age: timedelta) -> dict[str, bytes]:
    naive = (NOW - age).replace(tzinfo=None).isoformat()
    memory = [
        {"role": "System", "content": "You are a finance agent.", "timestamp": naive,
         "message_id": uuid.uuid4().hex},
        {"role": "Human", "content": "What is a bond?", "timestamp": naive,
         "message_id": uuid.uuid4().hex},
        {"role": name, "content": "A bond is a loan to an issuer. " * 40, "timestamp": naive,
         "message_id": uuid.uuid4().hex},
    ]  # fmt: skip
    config = {"id": uuid.uuid4().hex, "agent_name": name, "model_name": "gpt-4o-mini",
              "llm": "<Non-serializable: LiteLLM>", "max_loops": 1, "short_memory": memory}  # fmt: skip
    config.update({f"setting_{n}": (n if n % 3 else None) for n in range(100)})
    config["_autosave_metadata"] = {
        "timestamp": naive, "loop_count": 1, "agent_id": config["id"], "agent_name": name
    }  # fmt: skip
    state = {"agent_name": name, "max_loops": 1, "loop_count": 1, "autosave": True}
    state_name = f"agent-{uuid.uuid4().hex}_state.json"
    return {
        "config.json": json.dumps(config, indent=4).encode(),
        state_name: json.dumps(state, indent=4).encode(),
        "error.txt": b"",
        "logs/agent.log": f"{naive} | INFO | started {name}\n".encode() * 20,
    }


def generate(root: Path, count: int) -> list[Path]:
    """Write ``count`` agent folders under ``root/agents``; returns the older half (the two
    oldest runs of each name), which `clean --keep-last 2` should remove."""
    agents = root / "agents"
    agents.mkdir(parents=True)
    older: list[Path] = []
    for index in range(count):
        group, run = divmod(index, RUNS_PER_NAME)
        age = timedelta(days=run + 1, minutes=group % 60)
        if group % 10 < 7:
            name = f"agent-{group:05d}"
            agent_id = uuid.uuid4().hex
            steps = 50 if group % 10 == 0 else 3
            folder = agents / agent_folder_name(name, agent_id)
            files = _our_files(name, agent_id, age, steps)
        else:
            name = f"Swarms-Agent-{group:05d}"
            folder = agents / f"{name}-{uuid.uuid4().hex}"
            files = _swarms_files(name, age)
        folder.mkdir()
        for rel, data in files.items():
            path = folder / rel
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(data)
        if run >= RUNS_PER_NAME - 2:
            older.append(folder)
    return older


GNU_TIME = "/usr/bin/time"
# Children run as an installed tool does: with bytecode caches (see the module docstring).
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

# What any Python ls must do at least: list each folder, lstat each file, read config.json.
FLOOR = """
import os, sys
agents = sys.argv[1]
def walk(path):
    for entry in os.scandir(path):
        if entry.is_dir(follow_symlinks=False):
            walk(entry.path)
        else:
            entry.stat(follow_symlinks=False)
for name in os.listdir(agents):
    walk(f"{agents}/{name}")
    with open(f"{agents}/{name}/config.json", "rb") as handle:
        handle.read()
"""


def timed(command: list[str]) -> tuple[float, int]:
    """(seconds, peak RSS in KB) of one child process.

    Peak memory comes from GNU time (``%M``) when installed: the rusage a Python parent gets
    from wait4 includes the parent's own RSS copied into the child at fork, which would make
    `du` look like a 20 MB program."""
    measure = os.path.exists(GNU_TIME)
    wrapped = [GNU_TIME, "-f", "%M", *command] if measure else command
    started = time.perf_counter()
    child = subprocess.Popen(
        wrapped, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=CHILD_ENV
    )
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - started
    assert child.stderr is not None
    err = child.stderr.read().decode(errors="replace")
    child.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{command} failed ({code}): {err[-500:]}")
    peak = int(err.strip().splitlines()[-1]) if measure else usage.ru_maxrss
    return elapsed, peak


def median_of(runs: int, command: list[str]) -> tuple[float, int]:
    results = [timed(command) for _ in range(runs)]
    return statistics.median(r[0] for r in results), max(r[1] for r in results)


def in_turn(runs: int, commands: list[list[str]]) -> list[tuple[float, float, int]]:
    """(median s, best s, peak KB) of each command, the commands run one after another in each
    of ``runs`` rounds, after one untimed round."""
    for command in commands:
        timed(command)
    rounds = [[timed(command) for command in commands] for _ in range(runs)]
    out = []
    for index in range(len(commands)):
        seconds = [r[index][0] for r in rounds]
        out.append((statistics.median(seconds), min(seconds), max(r[index][1] for r in rounds)))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="workspaces (default 10,000)")
    parser.add_argument("--repeat", type=int, default=11, help="runs of each read-only timing")
    parser.add_argument("--clean-rounds", type=int, default=3, help="rounds of clean vs rm -rf")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = parser.parse_args(argv)

    cli = Path(sys.executable).parent / "agent-tui"
    if not cli.exists():
        raise SystemExit(f"{cli} not found: run `make .venv/.installed` first")
    base = Path(tempfile.mkdtemp(prefix="agent-tui-bench-"))
    tree = base / "tree"
    try:
        started = time.perf_counter()
        older = generate(tree, args.n)
        os.sync()
        setup = time.perf_counter() - started
        files = sum(len(f) for _, _, f in os.walk(tree / "agents"))
        size = subprocess.run(["du", "-sh", str(tree)], capture_output=True, text=True).stdout
        print(f"{args.n:,} workspaces, {files:,} files, {size.split()[0]} in {base} "
              f"(generated in {setup:.1f} s)")  # fmt: skip
        print(f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}\n")

        # The summary index of every child goes to a cache folder of the run's own: warm for
        # `ls` (the untimed round fills it), removed before each run of the cold one.
        cache = base / "cache"
        CHILD_ENV["XDG_CACHE_HOME"] = str(cache)
        ls = [str(cli), "--workspace", str(tree), "ls"]
        cold = ["sh", "-c", f'rm -rf "{cache}" && exec "$0" "$@"', *ls]
        # Warm the page cache for both sides alike.
        timed(["du", "-s", str(tree)])
        results = in_turn(
            args.repeat,
            [
                ls,
                ["du", "-s", str(tree / "agents")],
                [sys.executable, "-c", FLOOR, str(tree / "agents")],
                cold,
            ],
        )
        (ls_time, ls_best, ls_rss), (du_time, du_best, du_rss), (floor_time, _, _), cold_ls = (
            results
        )
        help_time, help_rss = median_of(max(args.repeat, 7), [str(cli), "--help"])

        expected = args.n - len(older)
        cleans, rms, clean_rss, rm_rss = [], [], 0, 0
        for round_ in range(args.clean_rounds):
            ours, theirs = base / "ours", base / "theirs"
            for copy in (ours, theirs):
                subprocess.run(["cp", "-a", str(tree), str(copy)], check=True)
            # Flush the fresh copies first, so neither side pays for the other's writeback.
            os.sync()
            clean = [str(cli), "--workspace", str(ours), "clean", "--keep-last", "2", "--yes"]
            remove = ["rm", "-rf", *(str(theirs / "agents" / f.name) for f in older)]
            for command in (clean, remove) if round_ % 2 == 0 else (remove, clean):
                seconds, peak = timed(command)
                if command is clean:
                    cleans.append(seconds)
                    clean_rss = max(clean_rss, peak)
                else:
                    rms.append(seconds)
                    rm_rss = max(rm_rss, peak)
            for copy in (ours, theirs):
                left = len(os.listdir(copy / "agents"))
                if left != expected:
                    raise SystemExit(f"{copy.name}: {left} folders left, expected {expected}")
                shutil.rmtree(copy)
        clean_time, rm_time = statistics.median(cleans), statistics.median(rms)

        rows = [
            ("ls vs du -s", ls_time, du_time, "<= 1.5x"),
            ("ls, cold index, vs du -s", cold_ls[0], du_time, "<= 1.5x"),
            (f"clean {len(older):,} vs rm -rf", clean_time, rm_time, "<= 1.5x"),
        ]
        print(f"{'operation':<26}{'agent-tui':>11}{'baseline':>11}{'ratio':>8}  goal")
        for label, ours, theirs, goal in rows:
            ratio = ours / theirs
            mark = "ok" if ratio <= 1.5 else "MISSED"
            print(f"{label:<26}{ours:>9.3f} s{theirs:>9.3f} s{ratio:>7.2f}x  {goal} {mark}")
        mark = "ok" if help_time < 0.3 else "MISSED"
        print(f"{'--help start-up':<26}{help_time:>9.3f} s{'':>11}{'':>8}  < 0.3 s {mark}")
        print(
            f"\nls: medians of {args.repeat} runs in turn with du; best runs {ls_best:.3f} s vs "
            f"{du_best:.3f} s ({ls_best / du_best:.2f}x). ls reads the summary index the run "
            "before wrote (the cold one: after removing it, every config parsed)."
        )
        print(
            f"floor: a bare Python walk (scandir, lstat of every file, read config.json; one "
            f"process) {floor_time:.3f} s = {floor_time / du_time:.2f}x du"
        )
        print("\npeak memory:")
        print(f"  agent-tui ls     {ls_rss / 1024:7.1f} MB   du -s   {du_rss / 1024:6.1f} MB")
        print(f"  agent-tui clean  {clean_rss / 1024:7.1f} MB   rm -rf  {rm_rss / 1024:6.1f} MB")
        print(f"  agent-tui --help {help_rss / 1024:7.1f} MB")
    finally:
        if args.keep:
            print(f"\nkept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
