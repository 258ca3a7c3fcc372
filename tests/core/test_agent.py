"""The autosaving Agent: the seed's examples, autosave contents, status, identity, load."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from children import default_sigint

from agent_tui import Agent
from agent_tui.agent import AgentEvent, AgentInterrupted, StateFileError
from agent_tui.format.layout import SCHEMA_VERSION
from agent_tui.format.lock import WorkspaceBusyError, lock_holder
from agent_tui.models import ModelError

METADATA_KEYS = {"timestamp", "loop_count", "agent_id", "agent_name"}


def word_count(text: str) -> int:
    """Count the words in a text.

    Args:
        text: The text to count.
    """
    return len(text.split())


def remember(key: str, value: str) -> str:
    """Store a note in memory."""
    return f"stored {key}"


def read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_complete_example(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The seed's "Complete Example", with imports changed to core and the offline model.
    agent = Agent(
        model_name="offline/demo",
        agent_name="autosave-demo",
        max_loops=5,
        autosave=True,
        verbose=True,
        tools=[word_count],
    )
    response = agent.run("Analyze the benefits of autosave for long-running agents")
    folder = Path(agent._get_agent_workspace_dir())

    assert response and "autosave" in response.lower()
    assert folder.parent == workspace / "agents"
    config = read_json(folder / "config.json")
    meta = config["_autosave_metadata"]
    assert set(meta) >= METADATA_KEYS
    assert meta["agent_name"] == "autosave-demo" and meta["agent_id"] == agent.id
    assert meta["loop_count"] == 2 and meta["status"] == "completed"
    assert meta["schema_version"] == SCHEMA_VERSION
    assert meta["timestamp"].endswith("+00:00")
    assert config["model_name"] == "offline/demo" and config["max_loops"] == 5
    assert "conversation" not in config
    state = read_json(folder / "autosave-demo_state.json")
    assert state["loop_count"] == 2 and state["status"] == "completed"
    assert [m["role"] for m in state["conversation"]] == [
        "system",
        "user",
        "assistant",
        "tool",
        "assistant",
    ]
    assert state["tool_results"][0]["name"] == "word_count"
    assert state["task"] == "Analyze the benefits of autosave for long-running agents"
    err = capsys.readouterr().err
    assert "[autosave] config.json -> " in err and " B, " in err and " ms)" in err


RECOVERY = textwrap.dedent(
    """
    import os
    from agent_tui import Agent

    agent = Agent(model_name="offline/demo", agent_name="my-agent", max_loops=5, autosave=True)
    workspace_dir = agent._get_agent_workspace_dir()
    state_file = os.path.join(workspace_dir, "my-agent_state.json")
    if os.path.exists(state_file):
        agent.load(state_file)
        response = agent.run("Continue from where you left off")
        print("RESUMED", agent.loop_count, len(agent.conversation))
    else:
        response = agent.run("Plan a three-step data migration")
        print("FRESH", agent.loop_count, len(agent.conversation))
    """
)


def test_recovery_example_in_new_process(child_env: dict[str, str], tmp_path: Path) -> None:
    def run_example() -> list[str]:
        done = subprocess.run(
            [sys.executable, "-c", RECOVERY],
            env=child_env,
            capture_output=True,
            text=True,
            cwd=tmp_path,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.split()

    assert run_example() == ["FRESH", "1", "3"]
    # Same folder, same state file: history continued (3 messages + user + assistant).
    assert run_example() == ["RESUMED", "2", "5"]


def test_config_rewritten_at_every_step(workspace: Path) -> None:
    seen: list[tuple[int, str]] = []
    agent = Agent(agent_name="stepper", max_loops=10, tools=[word_count, remember])

    written: list[int] = []

    def on_event(event: AgentEvent) -> None:
        if event.kind == "autosave" and event.data["file"] == "config.json":
            written.append(read_json(Path(event.data["path"]))["_autosave_metadata"]["loop_count"])
        if event.kind == "step_end":
            # The rewrite runs on the autosave thread; flush_autosave() waits for it.
            agent.flush_autosave()
            meta = read_json(Path(agent.config_path))["_autosave_metadata"]
            seen.append((meta["loop_count"], meta["status"]))

    agent.on_event = on_event
    agent.run("Count the words in this sentence and remember the result")
    assert seen == [(1, "running"), (2, "running"), (3, "running")]
    assert written == [0, 1, 2, 3, 3]  # start, every step, end
    assert read_json(agent.config_path)["_autosave_metadata"]["status"] == "completed"
    leftovers = [p.name for p in Path(agent._get_agent_workspace_dir()).iterdir()]
    assert not [n for n in leftovers if n.endswith(".tmp")]


def test_writes_are_fsynced(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real(fd))[1])
    agent = Agent(agent_name="durable", max_loops=1)
    agent.run("hello")
    # start: state + config, end: state + config; each is a file fsync plus a folder fsync.
    assert len(synced) >= 8


def test_model_error_saves_state_and_raises(workspace: Path) -> None:
    agent = Agent(
        model_name="offline/demo?fail_at=2&fail=rate_limit",
        agent_name="flaky",
        tools=[word_count],
        max_loops=5,
    )
    with pytest.raises(ModelError) as info:
        agent.run("count words in a long document")
    assert "offline/demo" in str(info.value) and "rate_limit" in str(info.value)
    folder = Path(agent._get_agent_workspace_dir())
    state = read_json(folder / "flaky_state.json")
    meta = read_json(folder / "config.json")["_autosave_metadata"]
    assert state["status"] == meta["status"] == "error"
    assert "rate_limit" in state["error"]
    assert state["loop_count"] == 1  # step 1 completed, step 2 failed
    assert lock_holder(folder) is None


def test_request_stop_interrupts_and_saves(workspace: Path) -> None:
    agent = Agent(model_name="offline/demo?delay=0.02&words=400", agent_name="stoppable")
    errors: list[BaseException] = []

    def target() -> None:
        try:
            agent.run("write a long essay about durable storage")
        except BaseException as exc:  # noqa: BLE001 - the test inspects it
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    config = Path(agent._get_agent_workspace_dir()) / "config.json"
    for _ in range(200):
        if config.exists():
            break
        time.sleep(0.01)
    agent.request_stop()
    thread.join(10)
    assert not thread.is_alive()
    assert isinstance(errors[0], AgentInterrupted)
    state = read_json(agent.state_path)
    assert state["status"] == "interrupted"
    assert state["conversation"][-1]["role"] == "user"  # the cut step was rolled back


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_signals_leave_interrupted_state(
    child_env: dict[str, str], workspace: Path, sig: str
) -> None:
    code = textwrap.dedent(
        """
        import sys
        from agent_tui import Agent
        def slow_tool(n: int) -> int:
            '''Slow.'''
            return n
        agent = Agent(model_name="offline/demo?delay=0.01&tool_steps=1000", agent_name="sig",
                      max_loops=1000, tools=[slow_tool])
        try:
            agent.run("keep working")
        except BaseException as exc:
            print("CAUGHT", type(exc).__name__, flush=True)
            raise SystemExit(3)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        env=child_env,
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=default_sigint,
    )
    folder = next(iter(_wait_for_config(workspace, min_loops=3)))
    proc.send_signal(getattr(__import__("signal"), sig))
    out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 3
    expected = "KeyboardInterrupt" if sig == "SIGINT" else "AgentInterrupted"
    assert f"CAUGHT {expected}" in out
    state = read_json(folder / "sig_state.json")
    meta = read_json(folder / "config.json")["_autosave_metadata"]
    assert state["status"] == meta["status"] == "interrupted"
    assert state["loop_count"] >= 3 and meta["loop_count"] == state["loop_count"]


def _wait_for_config(workspace: Path, min_loops: int, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for config in (workspace / "agents").glob("*/config.json"):
            try:
                if read_json(config)["_autosave_metadata"]["loop_count"] >= min_loops:
                    return [config.parent]
            except (ValueError, KeyError, OSError):
                pass
        time.sleep(0.02)
    raise AssertionError("child never reached the expected step")


def test_stable_identity_and_explicit_id(workspace: Path) -> None:
    a = Agent(agent_name="Same Name")
    b = Agent(agent_name="Same Name")
    c = Agent(agent_name="Same Name", id="2c1f8a90-0000-4000-8000-00000000beef")
    assert a._get_agent_workspace_dir() == b._get_agent_workspace_dir()
    assert c._get_agent_workspace_dir() != a._get_agent_workspace_dir()
    assert Path(c._get_agent_workspace_dir()).name == "same-name-00000000beef"


def test_second_live_process_gets_clear_error(child_env: dict[str, str], workspace: Path) -> None:
    code = (
        "from agent_tui import Agent\n"
        "Agent(model_name='offline/demo?fail_at=1&fail=hang', agent_name='busy').run('wait')\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], env=child_env)
    try:
        agent = Agent(agent_name="busy")
        folder = Path(agent._get_agent_workspace_dir())
        for _ in range(2000):  # up to 20 s on a loaded machine
            if lock_holder(folder) and (folder / "config.json").exists():
                break
            time.sleep(0.01)
        with pytest.raises(WorkspaceBusyError) as info:
            agent.run("clobber it")
        assert f"pid {proc.pid}" in str(info.value)
        assert read_json(folder / "config.json")["_autosave_metadata"]["status"] == "running"
    finally:
        proc.kill()
        proc.wait()


def test_load_restores_conversation_and_step_count(workspace: Path) -> None:
    first = Agent(agent_name="resumer", max_loops=5, tools=[word_count])
    first.memory["topic"] = "storage"
    first.run("count the words of the report")
    second = Agent(agent_name="resumer", max_loops=5, tools=[word_count])
    second.load()
    assert second.conversation == first.conversation
    assert second.loop_count == first.loop_count == 2
    assert second.memory == {"topic": "storage"}
    second.run("now count the summary")
    assert second.loop_count == 4
    assert second.conversation[: len(first.conversation)] == first.conversation
    state = read_json(second.state_path)
    assert state["tasks"] == ["count the words of the report", "now count the summary"]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b'{"schema_version": 1, "format": "agent-tui", "conv', "truncated"),
        (b"\xff\xfe not json", "UTF-8"),
        (b"[1, 2, 3]", "expected a JSON object"),
        (b'{"schema_version": 99, "format": "agent-tui"}', "newer agent-tui"),
        (b'{"schema_version": 1, "format": "agent-tui", "conversation": "x"}', "conversation"),
        (b'{"format": "something-else", "schema_version": 1}', "unknown format"),
    ],
)
def test_load_bad_state_file_is_clear_and_untouched(
    workspace: Path, content: bytes, reason: str
) -> None:
    agent = Agent(agent_name="victim")
    path = agent.state_path
    path.write_bytes(content)
    with pytest.raises(StateFileError) as info:
        agent.load()
    assert str(path) in str(info.value) and reason in str(info.value)
    assert path.read_bytes() == content


def test_load_missing_state_is_clear(workspace: Path) -> None:
    with pytest.raises(StateFileError) as info:
        Agent(agent_name="never-ran").load()
    assert "never-ran_state.json" in str(info.value) and "run it first" in str(info.value)


def test_failed_writes_do_not_break_the_run(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    import agent_tui.agent.autosaver as autosaver

    real = autosaver.atomic_write_json
    calls = {"n": 0}

    def flaky(path, document, **kwargs):
        calls["n"] += 1
        if calls["n"] in (3, 4):  # the first step's config write and more
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, document, **kwargs)

    monkeypatch.setattr(autosaver, "atomic_write_json", flaky)
    agent = Agent(agent_name="full-disk", max_loops=5, tools=[word_count, remember])
    agent.run("count and remember")
    assert agent.autosave_failures == 2
    meta = read_json(agent.config_path)["_autosave_metadata"]
    assert meta["status"] == "completed" and meta["loop_count"] == 3
    assert meta["autosave_failures"] == 2


def test_bytes_per_step_do_not_grow_with_history(workspace: Path) -> None:
    journal: dict[int, int] = {}
    configs: list[int] = []
    step = {"n": 0}

    def on_event(event: AgentEvent) -> None:
        if event.kind == "step_start":
            step["n"] = event.data["step"]
        elif event.kind == "autosave" and event.data["file"] == "journal.jsonl" and step["n"]:
            journal[step["n"]] = event.data["bytes"]
        elif event.kind == "autosave" and event.data["file"] == "config.json":
            configs.append(event.data["bytes"])

    agent = Agent(
        model_name="offline/demo?tool_steps=400",
        agent_name="long-run",
        max_loops=400,
        tools=[word_count],
        on_event=on_event,
    )
    agent.run("count words again and again")
    assert agent.loop_count == 400 and len(journal) == 400
    # One journal line per step and a config of constant size: neither grows with the history.
    early = sorted(journal[n] for n in range(1, 51))[25]
    assert max(journal[n] for n in range(351, 401)) <= early * 1.2, (early, journal[400])
    assert max(configs) <= min(configs) * 1.05


def test_tool_errors_reach_the_model_not_the_caller(workspace: Path) -> None:
    def broken(x: int) -> int:
        """Always fails."""
        raise ValueError("no such record")

    agent = Agent(
        model_name="offline/demo?fail_at=1&fail=bad_tool",
        agent_name="tools",
        tools=[broken],
        max_loops=3,
    )
    agent.run("use the broken tool")
    results = agent.tool_results
    assert results[0]["is_error"] and "not valid JSON" in results[0]["result"]
    agent2 = Agent(agent_name="tools2", tools=[broken], max_loops=3)
    agent2.run("use the broken tool")
    assert "ValueError: no such record" in agent2.tool_results[0]["result"]
    assert agent2.status == "completed"


def test_autosave_off_writes_nothing(workspace: Path) -> None:
    agent = Agent(agent_name="ephemeral", autosave=False, max_loops=3, tools=[word_count])
    assert agent.run("count these words") and agent.loop_count == 2
    assert not workspace.exists()  # not a folder, not a file: nothing at all
