"""SIGINT and SIGTERM during a model call and during a tool call: status interrupted, full
state saved, nothing of the completed steps lost."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from children import default_sigint

from agent_tui import Agent

CHILD = textwrap.dedent(
    """
    import sys, time
    from agent_tui import Agent

    where = sys.argv[1]

    def slow_tool(term: str) -> str:
        '''A tool that takes its time.'''
        print("IN_TOOL", flush=True)
        time.sleep(60)
        return term

    def quick(term: str) -> str:
        '''A quick tool.'''
        return term

    if where == "tool":
        model, tools = "offline/demo?tool_steps=3", [quick, slow_tool]
    else:
        # Step 3's model call lasts until the signal comes (a streamed answer ends within
        # seconds, before a test slowed by load had sent it).
        model, tools = "offline/demo?tool_steps=2&delay=0.02&fail=hang&fail_at=3", [quick]

    def on_event(event):
        if event.kind == "step_start" and event.data["step"] == 3:
            print("IN_MODEL", flush=True)

    agent = Agent(model_name=model, agent_name="sig-" + where, max_loops=10, tools=tools,
                  on_event=on_event)
    try:
        agent.run("look up durable storage")
    except BaseException as exc:
        print("STOPPED", type(exc).__name__, flush=True)
        sys.exit(3)
    """
)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("where", ["model", "tool"])
def test_signal_leaves_interrupted_full_state(child_env, workspace: Path, sig, where: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, where],
        env=child_env,
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=default_sigint,
    )
    marker = "IN_TOOL" if where == "tool" else "IN_MODEL"
    for line in proc.stdout:
        if line.strip() == marker:
            break
    proc.send_signal(sig)
    out = proc.stdout.read()
    proc.wait(timeout=20)
    assert proc.returncode == 3, out
    expected = "KeyboardInterrupt" if sig == signal.SIGINT else "AgentInterrupted"
    assert f"STOPPED {expected}" in out

    folder = next((workspace / "agents").iterdir())
    state = json.loads((folder / f"sig-{where}_state.json").read_text())
    meta = json.loads((folder / "config.json").read_text())["_autosave_metadata"]
    assert state["status"] == meta["status"] == "interrupted"
    completed = 1 if where == "tool" else 2  # steps finished before the signal landed
    assert state["loop_count"] == meta["loop_count"] == completed
    assert len(state["tool_results"]) == completed
    assert not any("Error" in r["result"] for r in state["tool_results"])
    # The step in flight is rolled back: the saved conversation is valid to resume.
    assert state["conversation"][-1]["role"] == "tool"
    agent = Agent(agent_name=f"sig-{where}")
    agent.load()
    assert agent.loop_count == completed and agent.status == "interrupted"
    assert agent.conversation == state["conversation"]
