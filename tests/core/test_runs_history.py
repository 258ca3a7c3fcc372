"""Every run of an agent, from its journal: ``agent_tui.workspace.runs`` and ``agent-tui
history``. Agents are real: child processes running the offline model with a tool; a run
is killed with a real SIGKILL; secrets and hostile text are checked in what is printed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from children import agent_tui
from workspace_fixtures import ESCAPES, control_chars, write_swarms

from agent_tui.format.journal import read_journal
from agent_tui.workspace.lookup import WorkspaceLookupError
from agent_tui.workspace.runs import read_runs

CHILD = textwrap.dedent(
    """
    import sys
    from agent_tui import Agent

    def lookup(term: str) -> str:
        '''Look a term up.'''
        return "result for " + term

    name, task, model, loops, resume = sys.argv[1:6]
    agent = Agent(model_name=model, agent_name=name, max_loops=int(loops), tools=[lookup])
    if resume == "resume":
        agent.load()
    try:
        agent.run(task)
    except Exception as exc:
        print(type(exc).__name__, file=sys.stderr)
        sys.exit(3)
    """
)
# Shaped like no well-known token, so only knowing the value can catch it.
KEY = "tq-Hq72mLw0Zp4Rv8Xc1Bd5Ns3Ke"
SECRET_VAR = "ACME_SERVICE_API_KEY"


def child(
    env: dict[str, str],
    name: str,
    task: str,
    *,
    model: str = "offline/demo",
    loops: int = 5,
    resume: bool = False,
) -> subprocess.Popen[str]:
    """An agent run in a child process (started, not waited for)."""
    argv = [sys.executable, "-c", CHILD, name, task, model, str(loops)]
    argv.append("resume" if resume else "new")
    return subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, text=True)


def run_agent(env: dict[str, str], name: str, task: str, **options: object) -> int:
    """Run an agent to its end in a child process; its exit status."""
    return child(env, name, task, **options).wait(timeout=120)  # type: ignore[arg-type]


def only_folder(workspace: Path) -> Path:
    (folder,) = (workspace / "agents").iterdir()
    return folder


def resumed_agent(env: dict[str, str], workspace: Path, name: str) -> Path:
    """An agent run twice: "First task" (two steps), then resumed with "Second task"."""
    assert run_agent(env, name, "First task") == 0
    assert run_agent(env, name, "Second task", resume=True) == 0
    return only_folder(workspace)


def history_json(env: dict[str, str], name: str) -> list[dict[str, object]]:
    done = agent_tui("history", name, "--json", env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def wait_for_step(folder: Path, run_number: int, proc: subprocess.Popen[str]) -> None:
    """Until the journal holds a completed step of the ``run_number``-th run."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the run ended before it could be seen"
        if (folder / "journal.jsonl").exists():
            records = read_journal(folder / "journal.jsonl").records
            runs = [r["run_id"] for r in records if r["kind"] == "task"]
            if len(runs) >= run_number and any(
                r["kind"] == "step" and r["run_id"] == runs[run_number - 1] for r in records
            ):
                return
        time.sleep(0.02)
    raise AssertionError("no step of the run was journaled in time")


# ------------------------------------------------------------------------------ two runs
def test_two_runs_of_one_name_are_both_listed(workspace: Path, child_env: dict[str, str]) -> None:
    assert run_agent(child_env, "planner", "Plan the garden") == 0
    assert run_agent(child_env, "planner", "Plan the kitchen", loops=1) == 0
    folder = only_folder(workspace)

    found = read_runs(folder)
    assert [r.task for r in found.runs] == ["Plan the garden", "Plan the kitchen"]
    assert [r.status for r in found.runs] == ["completed", "completed"]
    # The offline model calls the tool once, then answers: two steps; one with max_loops=1.
    assert [(r.first_step, r.last_step, r.steps) for r in found.runs] == [(1, 2, 2), (1, 1, 1)]
    assert found.runs[0].run_id != found.runs[1].run_id
    assert all(r.ended and r.started and r.ended >= r.started for r in found.runs)
    assert found.problems == []

    runs = history_json(child_env, "planner")
    assert [r["task"] for r in runs] == ["Plan the garden", "Plan the kitchen"]
    assert [r["status"] for r in runs] == ["completed", "completed"]
    assert [r["steps"] for r in runs] == [2, 1]
    for run in runs:
        tokens = run["tokens"]
        assert isinstance(tokens, dict) and tokens["total"] > 0
        assert tokens["total"] == tokens["prompt"] + tokens["completion"]
        assert run["cost"] is not None

    done = agent_tui("history", "planner", env=child_env)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["#", "STARTED", "TOOK", "STATUS", "STEPS", "TOKENS", "TASK"]
    assert lines[1].split()[0] == "1" and "completed" in lines[1] and "Plan the garden" in lines[1]
    assert lines[2].split()[0] == "2" and "Plan the kitchen" in lines[2]
    assert " 1-2 " in lines[1] and " 1 " in lines[2]
    assert lines[3].startswith("2 runs, 3 steps, ")


def test_a_resumed_run_counts_only_the_tokens_it_spent(
    workspace: Path, child_env: dict[str, str]
) -> None:
    folder = resumed_agent(child_env, workspace, "counter")
    records = read_journal(folder / "journal.jsonl").records
    usages = [r["usage"] for r in records if r["kind"] == "step"]
    first_run_total = next(
        r["usage"] for r in reversed(records) if r["kind"] == "step" and r["loop_count"] == 2
    )
    final = usages[-1]
    assert final["prompt_tokens"] > first_run_total["prompt_tokens"]  # carried over

    first, second = read_runs(folder).runs
    assert (second.first_step, second.last_step) == (3, 4)  # the loop count went on
    assert first.prompt_tokens == first_run_total["prompt_tokens"]
    assert second.prompt_tokens == final["prompt_tokens"] - first_run_total["prompt_tokens"]
    assert second.completion_tokens == (
        final["completion_tokens"] - first_run_total["completion_tokens"]
    )


def test_a_failed_run_reads_as_error_with_its_reason(
    workspace: Path, child_env: dict[str, str]
) -> None:
    assert run_agent(child_env, "fragile", "t1") == 0
    failing = "offline/demo?fail_at=2&fail=server"
    assert run_agent(child_env, "fragile", "t2", model=failing) == 3
    (_, failed) = read_runs(only_folder(workspace)).runs
    assert failed.status == "error" and failed.steps == 1
    assert failed.error and "scripted server failure" in failed.error


# ------------------------------------------------------------------------- killed, live
def test_a_live_run_reads_as_running_and_a_killed_one_as_interrupted(
    workspace: Path, child_env: dict[str, str]
) -> None:
    assert run_agent(child_env, "crashy", "A run that ends") == 0
    folder = only_folder(workspace)
    slow = "offline/demo?delay=0.005&tool_steps=100000"
    proc = child(child_env, "crashy", "A run that is killed", model=slow, loops=100000)
    try:
        wait_for_step(folder, 2, proc)
        live = history_json(child_env, "crashy")
        assert [r["status"] for r in live] == ["completed", "running"]
        assert live[1]["ended"] is None and live[1]["steps"] >= 1
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    runs = history_json(child_env, "crashy")
    assert [r["task"] for r in runs] == ["A run that ends", "A run that is killed"]
    assert [r["status"] for r in runs] == ["completed", "interrupted"]
    assert runs[1]["ended"] is None and runs[1]["steps"] >= 1
    done = agent_tui("history", "crashy", env=child_env)
    assert "interrupted" in done.stdout.splitlines()[2]


def test_only_the_last_run_can_be_running(workspace: Path, child_env: dict[str, str]) -> None:
    """A run with no end record before another run began died: even while a later run of
    the folder holds the lock, it reads as interrupted."""
    assert run_agent(child_env, "twice", "first") == 0
    folder = only_folder(workspace)
    lines = (folder / "journal.jsonl").read_bytes().splitlines(keepends=True)
    # The first run's end record removed: as if its process had died before writing it.
    kept = [line for line in lines if json.loads(line)["kind"] != "end"]
    (folder / "journal.jsonl").write_bytes(b"".join(kept))
    slow = "offline/demo?delay=0.005&tool_steps=100000"
    proc = child(child_env, "twice", "second", model=slow, loops=100000)
    try:
        wait_for_step(folder, 2, proc)
        statuses = [r.status for r in read_runs(folder).runs]
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert statuses == ["interrupted", "running"]


# ------------------------------------------------------------------------------- damage
def test_a_torn_last_line_is_a_problem_not_a_crash(
    workspace: Path, child_env: dict[str, str]
) -> None:
    assert run_agent(child_env, "torn", "Keep going") == 0
    folder = only_folder(workspace)
    with open(folder / "journal.jsonl", "ab") as journal:
        journal.write(b'{"seq": 99, "kind": "step", "run_id": "cut", "messa')
    found = read_runs(folder)
    assert [r.task for r in found.runs] == ["Keep going"]
    assert [r.status for r in found.runs] == ["completed"]
    assert len(found.problems) == 1 and "last line cut short" in found.problems[0]

    done = agent_tui("history", "torn", env=child_env)
    assert done.returncode == 0
    assert "Keep going" in done.stdout and "Traceback" not in done.stderr
    assert "last line cut short" in done.stderr
    done = agent_tui("history", "torn", "--json", env=child_env)
    assert [r["task"] for r in json.loads(done.stdout)] == ["Keep going"]


def test_hostile_journal_records_are_skipped_or_named(tmp_path: Path) -> None:
    folder = tmp_path / "agents" / "odd"
    folder.mkdir(parents=True)
    records = [
        {"seq": 1, "kind": "task", "run_id": "r1", "task": "t", "ts": 5, "loop_count": 0},
        [1, 2, 3],
        {"seq": "2", "kind": "step", "run_id": "r1", "loop_count": 1},  # no whole seq
        {"seq": 3, "kind": "step", "run_id": "r1", "loop_count": True, "usage": "lots"},
        {"seq": 4, "kind": "end", "run_id": "r1", "status": "exploded\x1b[2J", "loop_count": 1},
    ]
    (folder / "journal.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    found = read_runs(folder)
    (run,) = found.runs
    assert run.task == "t" and run.started is None and run.steps == 1
    assert run.first_step is None and run.prompt_tokens == 0
    assert run.status == "unknown"
    assert any("not an object" in p for p in found.problems)
    assert any("unknown status" in p for p in found.problems)


def test_a_journal_that_is_a_fifo_is_refused_without_waiting(tmp_path: Path) -> None:
    folder = tmp_path / "agents" / "fifo"
    folder.mkdir(parents=True)
    os.mkfifo(folder / "journal.jsonl")
    found = read_runs(folder)
    assert found.runs == [] and any("FIFO" in p for p in found.problems)


def test_no_journal_is_an_empty_history_said_plainly(
    workspace: Path, child_env: dict[str, str]
) -> None:
    folder = workspace / "agents" / "bare"
    folder.mkdir(parents=True)
    found = read_runs(folder)
    assert found.runs == [] and "no journal" in found.problems[0]
    done = agent_tui("history", str(folder), env=child_env)
    assert done.returncode == 0 and done.stdout.startswith("no runs recorded for bare")
    assert history_json(child_env, str(folder)) == []


def test_a_swarms_folder_is_one_run_from_its_config(
    workspace: Path, child_env: dict[str, str]
) -> None:
    write_swarms(workspace, "Bond-Agent", loop_count=1)
    (run,) = history_json(child_env, "Bond-Agent")
    assert run["task"] == "What is a bond?" and run["status"] == "completed"
    assert run["steps"] == 1 and run["run_id"] is None
    assert run["tokens"] == {"prompt": None, "completion": None, "total": None}
    assert run["started"] and run["ended"]
    with pytest.raises(WorkspaceLookupError, match="swarms"):
        read_runs(next((workspace / "agents").iterdir()), upto_step=1)


# ------------------------------------------------------------------------------ step cut
def test_a_cut_at_step_n_keeps_the_journal_up_to_it(
    workspace: Path, child_env: dict[str, str]
) -> None:
    folder = resumed_agent(child_env, workspace, "cut")
    whole = read_runs(folder, messages=True)
    assert whole.last_step == 4
    (first,) = read_runs(folder, upto_step=1, messages=True).runs
    assert (first.steps, first.last_step, first.status) == (1, 1, "completed")
    assert [m["role"] for m in first.messages] == ["system", "user", "assistant", "tool"]
    assert first.prompt_tokens is not None and first.prompt_tokens < whole.runs[0].prompt_tokens
    cut = read_runs(folder, upto_step=3, messages=True).runs
    assert [r.task for r in cut] == ["First task", "Second task"]
    assert cut[0] == whole.runs[0]
    assert (cut[1].steps, cut[1].last_step) == (1, 3)
    with pytest.raises(
        WorkspaceLookupError, match=r"beyond the last step .*\(the last step is 4\)"
    ):
        read_runs(folder, upto_step=5)


# ----------------------------------------------------------------------- secrets, hostile
def test_a_secret_in_the_journal_never_reaches_history_output(
    workspace: Path, child_env: dict[str, str]
) -> None:
    # The run knows no secret, so the journal keeps the text as it was said...
    assert run_agent(child_env, "leaky", f"Use the key {KEY} to log in") == 0
    assert KEY.encode() in (only_folder(workspace) / "journal.jsonl").read_bytes()
    # ...and the reader, whose environment has it as a key, masks it everywhere it prints.
    env = {**child_env, SECRET_VAR: KEY}
    for argv in (["history", "leaky"], ["history", "leaky", "--json"]):
        done = agent_tui(*argv, env=env)
        assert done.returncode == 0, done.stderr
        assert KEY not in done.stdout + done.stderr
        assert "[REDACTED]" in done.stdout
    assert KEY in agent_tui("history", "leaky", "--json", env=child_env).stdout  # can fail


def test_hostile_names_and_tasks_print_as_one_inert_line(
    workspace: Path, child_env: dict[str, str]
) -> None:
    name = f"evil{ESCAPES}\nname"
    task = f"line one\nline two{ESCAPES}<script>alert(1)</script> " + "long " * 40
    assert run_agent(child_env, name, task) == 0
    folder = only_folder(workspace)
    done = agent_tui("history", str(folder), env=child_env)
    assert done.returncode == 0, done.stderr
    assert control_chars(done.stdout) == set()
    lines = done.stdout.splitlines()
    assert len(lines) == 3  # header, the one run, the summary
    assert all(len(line) <= 80 for line in lines)
    assert lines[1].endswith("…") and "line one line two" in lines[1]
    (run,) = history_json(child_env, str(folder))
    assert run["task"] == task  # JSON keeps the text whole; its escapes are JSON escapes


def test_show_prints_what_the_agent_spent(workspace: Path, child_env: dict[str, str]) -> None:
    folder = resumed_agent(child_env, workspace, "spender")
    usage = json.loads((folder / "config.json").read_text())["_autosave_metadata"]["usage"]
    total = usage["prompt_tokens"] + usage["completion_tokens"]
    assert total == sum(run.total_tokens or 0 for run in read_runs(folder).runs)
    done = agent_tui("show", "spender", env=child_env)
    assert done.returncode == 0, done.stderr
    expected = (
        f"usage:         {total:,} tokens ({usage['prompt_tokens']:,} prompt, "
        f"{usage['completion_tokens']:,} completion), cost ${usage['cost']:.4f}\n"
    )
    assert expected in done.stdout
    shown = json.loads(agent_tui("show", "spender", "--json", env=child_env).stdout)
    assert shown["usage"] == usage
    write_swarms(workspace, "Bond-Agent")
    assert "\nusage:         -\n" in agent_tui("show", "Bond-Agent", env=child_env).stdout
