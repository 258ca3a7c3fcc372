"""agent_tui.runner on its own: a real child process, its JSON lines, SIGINT, bad specs."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import orjson

from agent_tui.demo import DEMO_TOOL_REFS
from agent_tui.run_protocol import End, Event, Start, decode, encode
from agent_tui.runner import CONTINUE_TASK, RunSpec, SpecError, suggested_models
from agent_tui.workspace import load_config, load_state


def runner(spec: RunSpec | str, env: dict[str, str], **kwargs) -> subprocess.Popen:
    raw = spec if isinstance(spec, str) else spec.to_json()
    child = subprocess.Popen(
        [sys.executable, "-m", "agent_tui.runner", "-"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kwargs,
    )
    assert child.stdin is not None
    child.stdin.write(raw.encode())
    child.stdin.close()
    child.stdin = None  # written: communicate() has nothing more to send
    return child


def records(out: bytes) -> list[dict]:
    return [orjson.loads(line) for line in out.splitlines()]


def test_a_run_reports_every_event_as_a_json_line(workspace: Path, child_env) -> None:
    spec = RunSpec(agent_name="lines", task="explain journals", max_loops=5, tools=DEMO_TOOL_REFS,
                   workspace=str(workspace))  # fmt: skip
    child = runner(spec, child_env)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    lines = records(out)  # every line parses
    assert lines[0]["type"] == "start" and lines[-1]["type"] == "end"
    assert lines[-1]["status"] == "completed" and lines[-1]["error"] is None
    kinds = [r["kind"] for r in lines if r["type"] == "event"]
    assert kinds[0] == "run_start" and kinds[-1] == "run_end"
    assert kinds.count("step_end") == 3
    saved = [r["data"]["file"] for r in lines if r.get("kind") == "autosave"]
    assert "config.json" in saved and "journal.jsonl" in saved
    folder = Path(lines[0]["folder"])
    assert load_config(folder)["_autosave_metadata"]["loop_count"] == lines[-1]["loop_count"] == 3
    streamed = "".join(r["text"] for r in lines if r["type"] == "text")
    answers = [m["content"] for m in load_state(folder)["conversation"] if m["role"] == "assistant"]
    assert streamed == "".join(answers)


def test_sigint_leaves_an_interrupted_state_on_disk(workspace: Path, child_env) -> None:
    spec = RunSpec(agent_name="hung", task="wait", model="offline/demo?fail_at=2&fail=hang", tools=DEMO_TOOL_REFS,
                   workspace=str(workspace))  # fmt: skip
    child = runner(spec, child_env)
    assert child.stdout is not None
    seen = []
    for line in child.stdout:  # the model hangs at step 2: nothing more comes until SIGINT
        seen.append(orjson.loads(line))
        if seen[-1].get("kind") == "step_start" and seen[-1]["data"]["step"] == 2:
            break
    child.send_signal(signal.SIGINT)
    out, _ = child.communicate(timeout=30)
    assert child.returncode == 130
    end = records(out)[-1]
    assert end["type"] == "end" and end["status"] == "interrupted"
    folder = Path(seen[0]["folder"])
    meta = load_config(folder)["_autosave_metadata"]
    assert meta["status"] == "interrupted" and meta["loop_count"] == 1
    assert load_state(folder)["status"] == "interrupted"


def test_resume_continues_from_the_saved_step(workspace: Path, child_env) -> None:
    first = RunSpec(
        agent_name="again",
        task="count",
        max_loops=2,
        workspace=str(workspace),
        tools=DEMO_TOOL_REFS,
    )
    out, _ = runner(first, child_env).communicate(timeout=60)
    folder = records(out)[-1]["folder"]
    resume = RunSpec(resume=True, folder=folder, max_loops=2, model=None, tools=DEMO_TOOL_REFS)
    out, _ = runner(resume, child_env).communicate(timeout=60)
    start, end = records(out)[0], records(out)[-1]
    assert start["resumed"] and start["loop_count"] == 2 and start["task"] == CONTINUE_TASK
    assert end["status"] == "completed" and end["loop_count"] == 4


def test_bad_spec_and_failing_model_end_with_an_error_line(workspace: Path, child_env) -> None:
    child = runner('{"agent_name": "x", "task": "t", "max_loops": 0}', child_env)
    out, _ = child.communicate(timeout=60)
    assert child.returncode == 2
    (end,) = records(out)
    assert end["status"] == "error" and "max_loops" in end["error"]
    spec = RunSpec(agent_name="auth", task="t", model="offline/demo?fail_at=1&fail=auth",
                   workspace=str(workspace))  # fmt: skip
    child = runner(spec, child_env)
    out, _ = child.communicate(timeout=60)
    assert child.returncode == 1
    end = records(out)[-1]
    assert end["status"] == "error" and "(auth)" in end["error"]


def test_spec_checks() -> None:
    for bad in ('{"agent_name": "", "task": "t"}', '{"agent_name": "a", "task": " "}',
                '{"resume": true}', '{"agent_name": "a", "task": "t", "colour": 1}', "[]"):  # fmt: skip
        try:
            RunSpec.from_json(bad)
        except SpecError:
            continue
        raise AssertionError(f"accepted {bad}")


def test_suggested_models_name_keys_never_values() -> None:
    env = {"OPENAI_API_KEY": "sk-secret-value", "ANTHROPIC_API_KEY": "", "GROQ_API_KEY": "gsk"}
    suggested = suggested_models(env)
    assert ("gpt-4o-mini", "OPENAI_API_KEY") in suggested
    assert all("claude" not in model for model, _ in suggested)
    assert "sk-secret-value" not in repr(suggested)


def test_every_line_a_run_prints_decodes_to_a_typed_record(workspace: Path, child_env) -> None:
    spec = RunSpec(agent_name="typed", task="explain journals", max_loops=2,
                   workspace=str(workspace))  # fmt: skip
    child = runner(spec, child_env)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    decoded = [decode(document) for document in records(out)]
    assert isinstance(decoded[0], Start) and decoded[0].agent_name == "typed"
    assert isinstance(decoded[-1], End) and decoded[-1].status == "completed"
    assert all(record is not None for record in decoded)
    # What a record encodes to is the line the child printed.
    assert [encode(record) for record in decoded] == out.splitlines()


def test_a_line_that_is_no_record_or_has_odd_fields_decodes_leniently() -> None:
    assert decode({"type": "nonsense"}) is None and decode([1, 2]) is None
    odd = decode({"type": "start", "loop_count": "7", "resumed": 1, "pid": True, "task": None})
    assert odd == Start()  # each mistyped field falls back to its default
    assert decode({"type": "end"}) == End(status="error")
    assert decode(orjson.loads(encode(Event("autosave", {"file": "config.json"})))) == Event(
        "autosave", {"file": "config.json"}
    )


def test_the_spec_is_read_from_stdin_never_from_argv(child_env: dict[str, str]) -> None:
    """argv is world-readable (ps, /proc/PID/cmdline); the spec goes on stdin."""
    spec = RunSpec(agent_name="argv", task="t", model="offline/demo", max_loops=1)
    given = subprocess.run(
        [sys.executable, "-m", "agent_tui.runner", spec.to_json()],
        env=child_env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert given.returncode == 2
    assert "the spec, JSON, on stdin" in given.stderr
    assert given.stdout == ""


def test_run_in_a_process_leaves_its_ctrl_c_as_it_found_it(workspace: Path) -> None:
    """run() ignores Ctrl-C while it writes its last line, then puts it back: a process that
    ran it ignored SIGINT ever after, and so did every child it started (they inherit it)."""
    import io

    from agent_tui.runner import Reporter, run

    before = signal.getsignal(signal.SIGINT)
    spec = RunSpec(agent_name="in-process", task="count", model="offline/demo", max_loops=1)
    assert run(spec, Reporter(io.BytesIO())) == 0
    assert signal.getsignal(signal.SIGINT) is before
