"""Nothing let out: no secret on disk, no write outside $WORKSPACE_DIR/agents."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent_tui import Agent
from agent_tui.format.naming import file_safe_name, safe_name
from agent_tui.redaction import REDACTED, Redactor, is_secret_key

FAKE_ENV_KEY = "sk-test-envENVenv0123456789abcdef"
FAKE_DOTENV_KEY = "dotenv-secret-7f3a9c2b1e"
FAKE_CTOR_KEY = "ctor-secret-b81c2d3e4f5a6"
FAKE_TOOL_PASSWORD = "hunter2-tool-pass-99"


def test_no_secret_reaches_disk(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import agent_tui.settings as settings

    monkeypatch.setenv("OPENAI_API_KEY", FAKE_ENV_KEY)
    (tmp_path / ".env").write_text(f"ANTHROPIC_API_KEY={FAKE_DOTENV_KEY}\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(settings, "_loaded_dotenv_for", set())
    # Set, then removed: monkeypatch then removes what .env loads into os.environ after the
    # test (a plain delenv of an absent name undoes nothing, and the key leaked into the
    # environment of every later test and its children).
    monkeypatch.setenv("ANTHROPIC_API_KEY", "placeholder")
    monkeypatch.delenv("ANTHROPIC_API_KEY")

    def login(user: str, password: str) -> str:
        """Log in."""
        return f"logged in {user} with {password} and {FAKE_ENV_KEY}"

    agent = Agent(
        agent_name="leaky",
        api_key=FAKE_CTOR_KEY,
        tools=[login],
        max_loops=3,
        system_prompt=f"Use key {FAKE_ENV_KEY} and {FAKE_DOTENV_KEY} and {FAKE_CTOR_KEY}",
        headers={"Authorization": f"Bearer {FAKE_ENV_KEY}"},
    )
    agent.memory["password"] = FAKE_TOOL_PASSWORD
    agent.run(f"log in with password {FAKE_TOOL_PASSWORD} using {FAKE_CTOR_KEY}")
    agent.save()
    assert os.environ.get("ANTHROPIC_API_KEY") == FAKE_DOTENV_KEY  # .env really loaded

    files = [p for p in workspace.rglob("*") if p.is_file()]
    assert len(files) >= 4
    blob = b"".join(p.read_bytes() for p in files)
    for secret in (FAKE_ENV_KEY, FAKE_DOTENV_KEY, FAKE_CTOR_KEY, FAKE_TOOL_PASSWORD):
        assert secret.encode() not in blob, secret
    assert REDACTED.encode() in blob


def test_redactor_keys_and_shapes() -> None:
    r = Redactor(use_environment=False)
    doc = {
        "llm_api_key": "abc123456",
        "max_tokens": 500,
        "total_tokens": 9,
        "x-api-key": "abcdef123",
        "note": "token sk-abcdefghijklmnopqrstuvwx and Bearer abcdefghijklmnop123",
        "nested": [{"password": "p@ssw0rd!"}],
    }
    out = r.redact(doc)
    assert out["llm_api_key"] == out["x-api-key"] == REDACTED
    assert out["max_tokens"] == 500 and out["total_tokens"] == 9
    assert "sk-abc" not in out["note"] and "abcdefghijklmnop123" not in out["note"]
    assert out["nested"][0]["password"] == REDACTED
    assert not is_secret_key("tokenizer") and not is_secret_key("max_tokens")


HOSTILE = [
    "../../etc",
    "/abs/path",
    "..",
    ".",
    "a\x00b",
    "x" * 300,
    "\U0001f600" * 120,
    "con:aux*?<>|",
    "  spaced  name_with_underscores ",
    "\udcff bad surrogate",
    "-" * 10,
    "..\\..\\windows",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_stay_inside_agents(workspace: Path, tmp_path: Path, name: str) -> None:
    agent = Agent(agent_name=name, max_loops=1)
    agent.run("hello")
    agent.save()
    agents = (workspace / "agents").resolve()
    folder = Path(agent._get_agent_workspace_dir()).resolve()
    assert folder.parent == agents
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written and all(agents in p.resolve().parents for p in written)
    assert len(folder.name.encode()) <= 255
    assert len(agent.state_path.name.encode()) <= 255


def test_safe_name_rules() -> None:
    assert safe_name("My Agent_v2") == "my-agent-v2"
    assert safe_name("a//b\\\\c") == "a-b-c"
    assert safe_name("../../etc") == "..-..-etc".strip(".-") or safe_name("../../etc") == "etc"
    assert "/" not in safe_name("../../etc") and safe_name("..") == "agent"
    assert len(safe_name("y" * 300)) == 100
    assert file_safe_name("my-agent") == "my-agent"
    assert file_safe_name("a/b") == "a-b"
