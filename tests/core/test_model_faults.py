"""Model faults through the real litellm path against a misbehaving server on loopback: each
ends in one clear ModelError naming the model and cause, with the state saved; retries are
what the docs say (max_retries=N means up to N+1 attempts for retryable errors)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_openai import FakeOpenAI

from agent_tui import Agent
from agent_tui.models import ModelError

MODEL = "openai/gpt-4o-mini"


def _agent(server: FakeOpenAI, name: str, **kwargs) -> Agent:
    return Agent(
        model_name=MODEL,
        agent_name=name,
        api_key="sk-fake-for-tests-0000000000",
        api_base=server.base_url,
        retry_backoff=0.01,
        **kwargs,
    )


def _saved(agent: Agent) -> dict:
    return json.loads(Path(agent.state_path).read_text())


def test_a_good_stream_works(workspace: Path) -> None:
    with FakeOpenAI("ok") as server:
        agent = _agent(server, "good", timeout=5, max_retries=0)
        chunks: list[str] = []
        answer = agent.run("how do I save safely?", streaming_callback=chunks.append)
    assert answer == "Durable writes need fsync and rename. "
    assert len(chunks) == 6 and server.requests == 1
    assert _saved(agent)["status"] == "completed"


@pytest.mark.parametrize(
    ("mode", "kind", "retried"),
    [
        ("auth", "auth", False),
        ("rate_limit", "rate_limit", True),
        ("server", "server", True),
    ],
)
def test_http_errors(workspace: Path, mode: str, kind: str, retried: bool) -> None:
    with FakeOpenAI(mode) as server:
        agent = _agent(server, f"http-{mode}", timeout=5, max_retries=2)
        with pytest.raises(ModelError) as info:
            agent.run("hello")
    assert info.value.kind == kind and info.value.model == MODEL
    assert MODEL in str(info.value)
    assert server.requests == (3 if retried else 1)
    state = _saved(agent)
    assert state["status"] == "error" and kind in state["error"]
    assert state["conversation"][-1] == {**state["conversation"][-1], "role": "user"}


def test_timeout_is_explicit_and_short(workspace: Path) -> None:
    with FakeOpenAI("hang") as server:
        agent = _agent(server, "hung", timeout=1, max_retries=0)
        with pytest.raises(ModelError) as info:
            agent.run("hello")
    assert info.value.kind == "timeout"
    assert server.requests == 1
    assert _saved(agent)["status"] == "error"


def test_connection_refused(workspace: Path) -> None:
    agent = Agent(
        model_name=MODEL,
        agent_name="refused",
        api_key="sk-fake-for-tests-0000000000",
        api_base="http://127.0.0.1:9/v1",
        timeout=2,
        max_retries=0,
    )
    with pytest.raises(ModelError) as info:
        agent.run("hello")
    assert info.value.kind == "connection"
    assert _saved(agent)["status"] == "error"


def test_stream_cut_halfway(workspace: Path) -> None:
    with FakeOpenAI("cut") as server:
        agent = _agent(server, "cut", timeout=3, max_retries=2)
        chunks: list[str] = []
        with pytest.raises(ModelError) as info:
            agent.run("hello", streaming_callback=chunks.append)
    assert info.value.kind == "stream_cut"
    # Text already shown is never repeated by a retry.
    assert chunks == ["Durable ", "writes ", "need "] and server.requests == 1
    state = _saved(agent)
    assert state["status"] == "error" and "stream_cut" in state["error"]


def test_missing_key_is_a_clear_auth_error(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    agent = Agent(model_name=MODEL, agent_name="no-key", timeout=2, max_retries=0)
    with pytest.raises(ModelError) as info:
        agent.run("hello")
    assert info.value.kind == "auth"
    assert "api" in str(info.value).lower() or "credentials" in str(info.value).lower()
