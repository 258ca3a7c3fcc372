"""`agent-tui ls` vs `du -s` at fleet scale (issue 13): 5,000 swarms configs and 100,000 folders.

    .venv/bin/python bench/_fleet_ls.py                 # ~3-4 minutes
    .venv/bin/python bench/_fleet_ls.py --quick         # 500 swarms + 10,000 folders
    .venv/bin/python bench/_fleet_ls.py --json out.json

A helper of bench/fleet.py (which imports :func:`measure`), runnable on its own. It writes two
workspaces, one after the other:

- **swarms**: 5,000 folders as swarms 16 leaves them: ``config.json`` the whole agent (the 115
  flat keys of swarms 16.0.3's ``Agent`` in their order, ``short_memory`` holding the system
  prompt, the task and the answer, ``_autosave_metadata`` last), ~8.7 KB each, beside its
  ``agent-<32 chars>_state.json``; in the default temp folder (the disk);
- **fleet**: 100,000 folders, the mix of bench/workspaces.py: in groups of four runs of one
  name, seven in ten ours (config, state file, journal, lock), three swarms (config, state
  file, empty ``error.txt``, ``logs/``); on tmpfs (``/dev/shm``) when it has room, because
  creating (and removing) 400,000 files on this kind of VM's disk takes minutes. tmpfs makes
  the kernel's part cheaper for both sides, which leaves ``ls``'s own work a larger share.

Per workspace, in rounds taken in turn: ``agent-tui ls`` with a cold summary index (its cache
folder removed before the run), ``agent-tui ls`` with a warm one, ``agent-tui ls --json``
(warm), and ``du -s`` of the agents folder; the venv's console script, output to /dev/null, its
own ``XDG_CACHE_HOME``. Swarms: 5 rounds after an untimed one; fleet: 3 (the page cache is warm
from writing it). Medians, best runs, ratios to du's median (goal <= 1.5x), CPU seconds beside
them (steadier than wall time on a shared machine), and whether ``ls --json`` printed the same
bytes with the index cold (every config parsed) and warm.
"""

from __future__ import annotations

import argparse
import json
import os
import random
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
sys.path.insert(0, str(REPO / "bench"))

import workspaces  # noqa: E402  (bench/workspaces.py: our folders of the mixed workspace)

CLI = Path(sys.executable).parent / "agent-tui"
NOW = datetime.now(UTC)
GOAL = 1.5
# Children run as an installed tool does: with bytecode caches.
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

SWARMS_PROMPT = (
    "\nYou are an autonomous agent designed to serve users by automating complex tasks, "
    "workflows, and activities with precision and intelligence. \nAgents leverage custom "
    "instructions, specialized capabilities, and curated data to optimize large language "
    "models for specific domains and use cases.\n\nTime: Current date and time: {when}\n\n\n"
    "You possess the ability to engage in both internal reasoning and external interactions "
    "to achieve optimal results. \nThrough self-reflection and user collaboration, you can "
    "break down complex problems, identify optimal solutions, and execute tasks with high "
    "efficiency.\n\nYour responses must demonstrate:\n1. Deep understanding of the task "
    "context and requirements\n2. Logical reasoning and systematic problem-solving\n3. Clear "
    "communication and coherent explanations\n4. Adaptability to user feedback and changing "
    "requirements\n5. Attention to detail and quality in execution\n\nAlways aim to exceed "
    "expectations by delivering comprehensive, well-structured, and actionable solutions. "
    "When faced with ambiguity, you ask clarifying questions; when the path is clear, you "
    "proceed with confidence and care. You document your reasoning so that others can follow "
    "it, and you report the limits of what you know.\n"
)
SWARMS_DESCRIPTION = (
    "An autonomous agent that can perform tasks and learn from experience powered by Swarms"
)


def _ns(name: str) -> str:
    return f"<Non-serializable: {name}>"


def swarms_config(name: str, agent_id: str, state_name: str, age: timedelta, n: int) -> dict:
    """A swarms 16 ``config.json``: the keys (in order) and kinds of values of a real one."""
    when = NOW - age
    naive = when.replace(tzinfo=None).isoformat()
    prompt = SWARMS_PROMPT.format(when=when.strftime("%A, %B %d, %Y %H:%M UTC"))
    task = f"Summarise the quarterly filings of company {n} and list three risks."
    answer = f"Here is the summary for company {n}. " + "Revenue grew while costs held. " * 56
    memory = [
        {"role": "System", "content": prompt, "timestamp": naive, "message_id": uuid.uuid4().hex},
        {"role": "Human", "content": task, "timestamp": naive, "message_id": uuid.uuid4().hex},
        {"role": name, "content": answer, "timestamp": naive, "message_id": uuid.uuid4().hex},
    ]  # fmt: skip
    loop_count = None if n % 20 == 0 else 1  # an interrupted run now and then
    usage = {"input_tokens": 412, "output_tokens": 230, "cached_tokens": 0,
             "reasoning_tokens": 0, "total_tokens": 642}  # fmt: skip
    return {
        "id": agent_id, "skills": _ns("SkillsManager"), "_skills_prompt": "",
        "selected_tools": "all", "max_loops": 1, "stopping_condition": None, "loop_interval": 0,
        "retry_attempts": 3, "task": None, "stopping_token": None, "interactive": False,
        "dashboard": False, "dynamic_temperature_enabled": False, "dynamic_loops": False,
        "user_name": "Human", "context_length": 16000, "tools": None, "system_prompt": prompt,
        "agent_name": name, "agent_description": SWARMS_DESCRIPTION,
        "saved_state_path": state_name, "autosave": True, "long_term_memory": None,
        "preset_stopping_token": False, "streaming_on": False, "stream": False,
        "streaming_callback": None, "verbose": False, "stopping_func": None,
        "custom_exit_command": "exit", "tool_schema": None,
        "output_type": "str-all-except-first", "list_base_models": None,
        "planning_prompt": None, "rules": None, "max_tokens": 16000, "temperature": None,
        "workspace_dir": "agent_workspace", "_workspace": _ns("WorkspaceManager"),
        "tags": None, "use_cases": None, "name": name, "description": SWARMS_DESCRIPTION,
        "auto_generate_prompt": False, "plan_enabled": False,
        "model_name": ("gpt-4o-mini", "gpt-5.4", "claude-sonnet-4-5")[n % 3], "llm_args": None,
        "prompt_caching": False, "cache_config": None, "load_state_path": None,
        "role": "worker", "print_on": False, "tools_list_dictionary": [], "mcp_url": None,
        "mcp_urls": None, "react_on": False, "safety_prompt_on": False,
        "random_models_on": False, "mcp_config": None, "mcp_configs": None,
        "mcp_api_key": None, "mcp_authorization_token": None, "mcp_oauth": None,
        "mcp_headers": None, "mcp_transport": None, "mcp_timeout": None, "top_p": None,
        "llm_base_url": None, "llm_api_key": None, "tool_call_summary": False,
        "tool_retry_attempts": 3, "channel": None, "reasoning_prompt_on": True,
        "dynamic_context_window": True, "show_tool_execution_output": True,
        "reasoning_effort": None, "thinking_tokens": 1024, "dynamic_tools": False,
        "tool_loader": None, "_mcp_tools_deferred": False, "_usage": usage,
        "_mcp_schemas_cache": None, "think_tool": False, "max_planning_attempts": 5,
        "max_subtask_iterations": 100, "max_subtask_loops": 20, "reasoning_enabled": False,
        "fallback_model_name": None, "handoffs": None, "capabilities": None,
        "mode": "standard", "publish_to_marketplace": False, "marketplace_prompt_id": None,
        "mcp_manager": {"enabled": False, "servers": []}, "persistent_memory": False,
        "messages": None, "context_compression": False, "_context_compressor": None,
        "autonomous_subtasks": [], "current_subtask_index": 0, "subtask_status": {},
        "plan_created": False, "think_call_count": 0, "max_consecutive_thinks": 2,
        "_subagent_registry": None, "marketplace": _ns("AgentMarketplaceHandler"),
        "transforms": None, "fallback_models": [], "llm_manager": _ns("LLMManager"),
        "tool_manager": _ns("ToolManager"), "autonomous_loop": _ns("AutonomousAgentLoop"),
        "short_memory": memory, "tool_struct": _ns("BaseTool"),
        "_run_streaming_callback": None,
        "_autosave_metadata": {"timestamp": naive, "agent_id": agent_id, "agent_name": name,
                               "loop_count": loop_count},
    }  # fmt: skip


def _swarms_state(config: dict) -> dict:
    """The flat state file swarms writes beside the config (no conversation)."""
    skip = {"short_memory", "system_prompt", "_autosave_metadata"}
    return {key: value for key, value in config.items() if key not in skip}


_ALPHANUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _state_name(rng: random.Random) -> str:
    return "agent-" + "".join(rng.choices(_ALPHANUM, k=32)) + "_state.json"


def _write(path: str, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def _swarms_folder(agents: Path, n: int, rng: random.Random) -> dict[str, bytes]:
    name = f"Financial-Analysis-Agent-{n:05d}"
    agent_id = "agent-" + uuid.uuid4().hex
    state_name = _state_name(rng)
    config = swarms_config(name, agent_id, state_name, timedelta(hours=n % 500), n)
    folder = agents / f"{name}-{agent_id[-12:]}"
    folder.mkdir()
    files = {
        "config.json": json.dumps(config, indent=2).encode(),
        state_name: json.dumps(_swarms_state(config), indent=4).encode(),
    }
    for rel, data in files.items():
        _write(f"{folder}/{rel}", data)
    return files


def generate_swarms(root: Path, count: int) -> None:
    """``count`` swarms v16 agent folders under ``root/agents``."""
    agents = root / "agents"
    agents.mkdir(parents=True)
    rng = random.Random(13)
    for n in range(count):
        _swarms_folder(agents, n, rng)


def _swarms_template(n: int, age: timedelta) -> dict[str, bytes]:
    """The files of one swarms folder of the mixed workspace, with placeholders for its name,
    id and state file (bench/workspaces.py's swarms folder, in the real config's shape)."""
    config = swarms_config(_SWARMS_NAME, _SWARMS_ID, _SWARMS_STATE, age, n)
    naive = (NOW - age).replace(tzinfo=None).isoformat()
    return {
        "config.json": json.dumps(config, indent=2).encode(),
        _SWARMS_STATE: json.dumps(_swarms_state(config), indent=4).encode(),
        "error.txt": b"",
        "logs/agent.log": f"{naive} | INFO | started {_SWARMS_NAME}\n".encode() * 20,
    }


_SWARMS_NAME = "Swarms-Agent-00000"
_SWARMS_ID = "agent-" + "0" * 32
_SWARMS_STATE = "agent-" + "Q" * 32 + "_state.json"
_OURS_NAME = "agent-00000"
_OURS_ID = "f" * 32


def generate_fleet(root: Path, count: int) -> None:
    """``count`` folders under ``root/agents``, the mix of bench/workspaces.py: per group of
    four runs of one name (ages 1-4 days), seven groups in ten ours (config, state file, journal,
    lock; 3 steps), three swarms (config, state file, empty error.txt, logs/agent.log).

    Each kind of folder is rendered once per age and its name and ids replaced per folder
    (100,000 folders take seconds, not the minutes json.dumps of each would)."""
    agents = root / "agents"
    agents.mkdir(parents=True)
    rng = random.Random(100)
    ages = [timedelta(days=run + 1) for run in range(workspaces.RUNS_PER_NAME)]
    ours = [workspaces._our_files(_OURS_NAME, _OURS_ID, age, 3) for age in ages]
    swarms = [_swarms_template(run, age) for run, age in enumerate(ages)]
    for index in range(count):
        group, run = divmod(index, workspaces.RUNS_PER_NAME)
        if group % 10 < 7:
            name, agent_id = f"agent-{group:05d}", uuid.UUID(int=rng.getrandbits(128)).hex
            swaps = [(_OURS_NAME, name), (_OURS_ID, agent_id)]
            folder = f"{name}-{agent_id[-12:]}"
            files = ours[run]
        else:
            name = f"Swarms-Agent-{group:05d}"
            agent_id = "agent-" + uuid.UUID(int=rng.getrandbits(128)).hex
            swaps = [
                (_SWARMS_NAME, name),
                (_SWARMS_ID, agent_id),
                (_SWARMS_STATE, _state_name(rng)),
            ]
            folder = f"{name}-{agent_id[-12:]}"
            files = swarms[run]
        base = f"{agents}/{folder}"
        os.mkdir(base)
        for rel, data in files.items():
            for old, new in swaps:
                rel = rel.replace(old, new)
                data = data.replace(old.encode(), new.encode())
            if "/" in rel:
                os.mkdir(f"{base}/{rel.rpartition('/')[0]}")
            _write(f"{base}/{rel}", data)


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system, with the children it waited for: ls's
    forked reader) of one child, its output to /dev/null."""
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{command} failed: {status}")
    return wall, usage.ru_utime + usage.ru_stime


def compare(root: Path, cache: Path, rounds: int, *, warm_up: bool = True) -> dict:
    """``ls`` with a cold index (``cache`` emptied first) and a warm one, ``ls --json`` (warm)
    and ``du -s`` on ``root``, in turn for ``rounds`` rounds (after an untimed one when
    ``warm_up``): median, best and every run of each, its ratio to du's median; and whether
    ``ls --json`` printed the same with the index cold (every config parsed) and warm."""
    env = dict(CHILD_ENV, XDG_CACHE_HOME=str(cache))
    ls = [str(CLI), "--workspace", str(root), "ls"]
    runs = {
        "ls cold": (ls, True),
        "ls warm": (ls, False),
        "ls --json": ([*ls, "--json"], False),
        "du -s": (["du", "-s", str(root / "agents")], False),
    }
    seconds: dict[str, list[tuple[float, float]]] = {label: [] for label in runs}
    for round_ in range(rounds + warm_up):
        for label, (command, cold) in runs.items():
            if cold:
                shutil.rmtree(cache, ignore_errors=True)
            took = timed(command, env)
            if round_ or not warm_up:
                seconds[label].append(took)
    du = statistics.median(wall for wall, _ in seconds["du -s"])
    du_cpu = statistics.median(cpu for _, cpu in seconds["du -s"])
    out: dict = {}
    for label, runs_of in seconds.items():
        walls = [wall for wall, _ in runs_of]
        cpu = statistics.median(cpu for _, cpu in runs_of)
        out[label] = {
            "median_s": round(statistics.median(walls), 4),
            "best_s": round(min(walls), 4),
            "runs_s": [round(v, 4) for v in walls],
            "ratio_to_du": round(statistics.median(walls) / du, 2),
            "cpu_s": round(cpu, 4),
            "cpu_ratio_to_du": round(cpu / du_cpu, 2),
        }
    shutil.rmtree(cache, ignore_errors=True)
    printed = [
        subprocess.run([*ls, "--json"], capture_output=True, env=env, check=True).stdout
        for _ in ("cold", "warm")
    ]
    out["same_answer_cold_and_warm"] = printed[0] == printed[1]
    return out


def _where_fleet(count: int) -> str | None:
    """Where the big workspace goes: tmpfs when it has room (creating 400,000 files on this
    kind of VM's disk takes minutes), else the default temp folder."""
    try:
        room = shutil.disk_usage("/dev/shm").free
    except OSError:
        return None
    return "/dev/shm" if room > count * 40_000 else None


def measure(quick: bool = False) -> dict:
    """``agent-tui ls`` vs ``du -s`` side by side on 5,000 swarms configs and on 100,000 folders
    (``quick``: 500 and 10,000). Returns ``{"workspaces": {name: {...}}, "goal": {...}}`` with
    each command's median, best and every run, and its ratio to ``du -s``."""
    if not CLI.exists():
        raise SystemExit(f"{CLI} not found: run `make .venv/.installed-app` first")
    plans = (  # name, folders, how, where, rounds, warm-up round
        ("swarms", 500 if quick else 5_000, generate_swarms, None, 3 if quick else 5, True),
        ("fleet", 10_000 if quick else 100_000, generate_fleet, _where_fleet(100_000), 3, quick),
    )
    result: dict = {"cpus": os.cpu_count(), "workspaces": {}}
    for name, count, make, where, rounds, warm_up in plans:
        base = Path(tempfile.mkdtemp(prefix="agent-tui-fleet-ls-", dir=where))
        root = base / name
        try:
            started = time.perf_counter()
            make(root, count)
            os.sync()
            made = time.perf_counter() - started
            # The index keeps no config changed in the last RACY_NS: let the newest age past it.
            time.sleep(2.1)
            files = sum(len(f) for _, _, f in os.walk(root / "agents"))
            sizes = [os.lstat(f"{e.path}/config.json").st_size for e in os.scandir(root / "agents")]
            row = {
                "folders": count,
                "files": files,
                "config_bytes_median": int(statistics.median(sizes)),
                "where": str(root),
                "generated_s": round(made, 1),
                "rounds": rounds,
                "load_before": round(os.getloadavg()[0], 1),
            }
            row.update(compare(root, base / "cache", rounds, warm_up=warm_up))
            row["load_after"] = round(os.getloadavg()[0], 1)
            result["workspaces"][name] = row
        finally:
            shutil.rmtree(base, ignore_errors=True)
    met = all(
        ws[label]["ratio_to_du"] <= GOAL
        for ws in result["workspaces"].values()
        for label in ("ls warm", "ls --json")
    )
    result["goal"] = {"ratio_to_du": GOAL, "warm_met": met}
    return result


LABELS = ("ls cold", "ls warm", "ls --json", "du -s")


def report(result: dict) -> str:
    """The table ``main`` prints: each command's median and best, and its ratio to du."""
    lines = []
    for name, ws in result["workspaces"].items():
        lines.append(
            f"{name}: {ws['folders']:,} folders, {ws['files']:,} files, configs "
            f"~{ws['config_bytes_median']:,} B, in {ws['where']}; {ws['rounds']} rounds "
            f"(load {ws['load_before']} -> {ws['load_after']})"
        )
        for label in LABELS:
            row = ws[label]
            mark = ""
            if label != "du -s":
                mark = "ok" if row["ratio_to_du"] <= GOAL else "MISSED"
            lines.append(
                f"  {label:<10} {row['median_s']:8.3f} s  best {row['best_s']:7.3f} s  "
                f"{row['ratio_to_du']:5.2f}x du  {mark:<6}  cpu {row['cpu_s']:7.3f} s "
                f"{row['cpu_ratio_to_du']:5.2f}x"
            )
        same = "yes" if ws["same_answer_cold_and_warm"] else "NO"
        lines.append(f"  ls --json the same with the index cold and warm: {same}")
    lines.append(
        f"medians of rounds taken in turn; goal <= {GOAL}x du -s in wall time (cold: the index "
        "removed before each run; warm and --json: the index the run before wrote); cpu: user + "
        "system seconds, ls's forked reader included (ls may use 2 cores, du uses 1)"
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="500 + 10,000 folders, 3 rounds")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    started = time.perf_counter()
    result = measure(quick=args.quick)
    result["seconds"] = round(time.perf_counter() - started, 1)
    print(report(result))
    print(f"({result['seconds']:.0f} s, {result['cpus']} CPUs)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
