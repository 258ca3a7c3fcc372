"""A model whose provider needs a key that is not set is refused before anything happens: no
litellm import (seconds), no agent folder; and error text is shortened at a word boundary."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from agent_tui import Agent
from agent_tui.models import PROVIDER_KEYS, MissingKeyError, _first_line, missing_keys
from agent_tui.runner import EXIT_ERROR, Reporter, RunSpec, run, suggested_models

KEY_NAMES = {name for groups in PROVIDER_KEYS.values() for group in groups for name in group}


@pytest.fixture
def no_keys(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No provider key in the environment, no ``.env`` above the current folder, and litellm
    unimportable: a run that reaches for it fails loudly instead of taking seconds."""
    for name in KEY_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "litellm", None)


def agent_folders(workspace: Path) -> list[Path]:
    return sorted((workspace / "agents").glob("*")) if (workspace / "agents").exists() else []


def test_cli_run_without_a_key_fails_before_litellm_and_any_folder(
    child_env: dict[str, str], workspace: Path, tmp_path: Path
) -> None:
    env = {k: v for k, v in child_env.items() if k not in KEY_NAMES}
    env["PYTHONPROFILEIMPORTTIME"] = "1"  # python -X importtime: every module imported
    script = Path(sys.executable).parent / "agent-tui"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "agent_tui.cli"]
    done = subprocess.run(
        [*command, "run", "hi", "--model", "openai/gpt-4o-mini"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    imported = [
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    ]
    messages = [line for line in done.stderr.splitlines() if not line.startswith("import time:")]
    assert "agent_tui.models" in imported  # the import log works, and it has no litellm:
    assert not [name for name in imported if name.split(".")[0] == "litellm"]
    assert agent_folders(workspace) == []
    assert done.returncode == 1, done.stderr[-2000:]
    assert messages == [
        "agent-tui: error: model 'openai/gpt-4o-mini' cannot start: OPENAI_API_KEY is not set: "
        "export OPENAI_API_KEY=..., or put OPENAI_API_KEY=... in a .env file in this folder or a "
        "parent (offline/demo needs no key)"
    ]


def test_agent_run_without_a_key_raises_and_writes_nothing(no_keys, workspace: Path) -> None:
    agent = Agent(model_name="openai/gpt-4o-mini", agent_name="no-key")
    with pytest.raises(MissingKeyError) as info:
        agent.run("hi")
    assert info.value.kind == "auth" and info.value.missing == [("OPENAI_API_KEY",)]
    assert agent_folders(workspace) == []


def test_the_app_runner_without_a_key_ends_with_the_message_and_no_folder(
    no_keys, workspace: Path
) -> None:
    out = io.BytesIO()
    spec = RunSpec(agent_name="no-key", task="hi", model="anthropic/claude-3-5-haiku-latest")
    assert run(spec, Reporter(out)) == EXIT_ERROR
    [end] = [orjson.loads(line) for line in out.getvalue().splitlines()]
    assert end["type"] == "end" and end["status"] == "error" and end["folder"] is None
    assert "ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN) is not set" in end["error"]
    assert agent_folders(workspace) == []


def test_a_key_in_dotenv_counts(no_keys, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Set then removed, so the value .env loads into os.environ is undone after the test.
    monkeypatch.setenv("MISTRAL_API_KEY", "placeholder")
    monkeypatch.delenv("MISTRAL_API_KEY")
    assert missing_keys("mistral/mistral-small-latest") == [("MISTRAL_API_KEY",)]
    project = tmp_path / "project"
    project.mkdir()
    (project / ".env").write_text("MISTRAL_API_KEY=from-dotenv\n")
    monkeypatch.chdir(project)
    assert missing_keys("mistral/mistral-small-latest") == []


def test_azure_needs_an_endpoint_and_a_credential() -> None:
    assert missing_keys("azure/my-deployment", {"AZURE_API_KEY": "k"}) == [("AZURE_API_BASE",)]
    missing = missing_keys("azure/my-deployment", {"AZURE_API_KEY": " "})  # blank is unset
    assert len(missing) == 2
    message = str(MissingKeyError("azure/my-deployment", missing))
    assert "AZURE_API_BASE and AZURE_API_KEY (or AZURE_OPENAI_API_KEY, AZURE_AD_TOKEN)" in message
    assert "export AZURE_API_BASE=... AZURE_API_KEY=..." in message


def test_models_with_optional_or_unknown_keys_are_never_refused(no_keys) -> None:
    for model in ("offline/demo", "ollama/llama3", "hosted_vllm/my-model", "my-local-model"):
        assert missing_keys(model, {}) == [], model
    assert missing_keys("openai/gpt-4o-mini", {}, api_key="sk-given") == []
    assert missing_keys("openai/gpt-4o-mini", {}, api_base="http://127.0.0.1:9/v1") == []
    Agent(model_name="openai/gpt-4o-mini", api_base="http://127.0.0.1:9/v1").check_keys()
    Agent(model_name="ollama/llama3").check_keys()


def test_the_forms_suggestions_use_the_same_rule() -> None:
    # GOOGLE_API_KEY is one of gemini's two names: a run accepts it, so the form offers it.
    env = {"GOOGLE_API_KEY": "g-secret", "OPENAI_API_KEY": ""}
    assert suggested_models(env) == [("gemini/gemini-1.5-flash", "GOOGLE_API_KEY")]
    assert all(missing_keys(model, env) == [] for model, _ in suggested_models(env))


LONG_ERROR = "litellm.BadRequestError: " + " ".join(f"word{n:03d}-explanation" for n in range(60))


def test_a_long_run_error_is_cut_at_a_word_with_an_ellipsis() -> None:
    shown = _first_line(RuntimeError(LONG_ERROR))
    assert len(shown) <= 300 and shown.endswith("…")
    kept = shown[:-1]
    assert LONG_ERROR.startswith(kept) and LONG_ERROR[len(kept)] == " "
    assert kept.split()[-1] in LONG_ERROR.split()  # the last word shown is whole


def test_a_long_event_field_is_cut_at_a_word_with_an_ellipsis() -> None:
    out = io.BytesIO()
    Reporter(out).event("tool_result", {"result": LONG_ERROR * 3})
    [line] = out.getvalue().splitlines()
    result = orjson.loads(line)["data"]["result"]
    assert result.endswith("…") and len(result) <= 2000
    kept = result[:-1]
    assert (LONG_ERROR * 3).startswith(kept) and (LONG_ERROR * 3)[len(kept)] == " "


def test_one_word_longer_than_the_limit_is_still_cut() -> None:
    shown = _first_line(RuntimeError("x" * 1000))
    assert shown == "x" * 299 + "…"
