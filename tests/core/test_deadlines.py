"""``timeout`` bounds a whole model call, streaming included: a stream that never ends (a chunk
every 10 ms) fails as a timeout soon after the deadline, through the real litellm path against a
loopback server and with the offline model, and the run's state is saved as an error."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from fake_openai import FakeOpenAI

from agent_tui import Agent
from agent_tui.models import ModelError, ModelSettings, complete

MODEL = "openai/gpt-4o-mini"
KEY = "sk-fake-for-tests-0000000000"


def _settings(server: FakeOpenAI, timeout: float) -> ModelSettings:
    return ModelSettings(timeout=timeout, max_retries=0, api_key=KEY, api_base=server.base_url)


def _saved(agent: Agent) -> dict:
    return json.loads(Path(agent.state_path).read_text())


def test_an_endless_litellm_stream_stops_at_the_timeout(workspace: Path) -> None:
    # The first litellm call imports for a second or more: done here, not inside the deadline.
    with FakeOpenAI("ok") as warm:
        complete(MODEL, [{"role": "user", "content": "hi"}], None, _settings(warm, 5))
    with FakeOpenAI("endless") as server:
        agent = Agent(
            model_name=MODEL,
            agent_name="endless",
            api_key=KEY,
            api_base=server.base_url,
            timeout=1,
            max_retries=0,
        )
        first_chunk: list[float] = []

        def seen(text: str) -> None:
            if not first_chunk:
                first_chunk.append(time.monotonic())

        start = time.monotonic()
        with pytest.raises(ModelError) as info:
            agent.run("talk for ever", streaming_callback=seen)
        end = time.monotonic()
    assert info.value.kind == "timeout", info.value
    assert end - start < 5, f"took {end - start:.1f} s with timeout=1"
    assert first_chunk and end - first_chunk[0] < 1.5, "streamed on past the deadline"
    assert server.requests == 1
    state = _saved(agent)
    assert state["status"] == "error" and "timeout" in state["error"]


def test_a_slow_offline_stream_stops_at_the_timeout(workspace: Path) -> None:
    agent = Agent(model_name="offline/demo?delay=0.3&words=200", agent_name="slow", timeout=1)
    start = time.monotonic()
    with pytest.raises(ModelError) as info:
        agent.run("a long answer, slowly")
    elapsed = time.monotonic() - start
    assert info.value.kind == "timeout", info.value
    assert elapsed < 2, f"took {elapsed:.1f} s with timeout=1"
    assert _saved(agent)["status"] == "error"


@pytest.mark.parametrize(
    "model",
    ["offline/demo?delay=20", "offline/demo?fail_at=1&fail=hang"],
    ids=["a delay longer than the timeout", "a model that never answers"],
)
def test_the_offline_model_does_not_wait_past_the_timeout(workspace: Path, model: str) -> None:
    agent = Agent(model_name=model, agent_name="stuck", timeout=0.5)
    start = time.monotonic()
    with pytest.raises(ModelError) as info:
        agent.run("one word a minute")
    assert info.value.kind == "timeout"
    assert time.monotonic() - start < 2
