"""Secrets on screen and on disk: every source (environment under provider names, ``.env`` with
``--workspace``, constructor, URL credentials, headers and extra kwargs, model answers split
across chunks, error bodies, swarms files, encoded and short forms) kept out of every sink
(files under the workspace, stdout, stderr; the app's screens are in test_secrets_app.py).
Model and CLI cases run real processes: the CLI or the runner with a real litellm model
against the fake OpenAI server on loopback."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, quote_plus

import orjson
import pytest
from fake_openai import FakeOpenAI
from workspace_fixtures import write_swarms

from agent_tui import Agent, cli
from agent_tui.redaction import (
    REDACTED,
    Redactor,
    StreamRedactor,
    is_secret_env_name,
    is_secret_key,
)
from agent_tui.runner import RunSpec, resume_agent
from agent_tui.tui.runs import runner_command, spawn

REPO = Path(__file__).resolve().parents[2]
# Shaped like no well-known token, so only knowing the value can catch it.
KEY = "tq-Zx81bLm0Qw7Yv3Nc5Rd2Kp9Hs"


def files_blob(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file())


def cli_command() -> list[str]:
    script = Path(sys.executable).parent / "agent-tui"
    return [str(script)] if script.exists() else [sys.executable, "-m", "agent_tui.cli"]


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ----------------------------------------------------------------------- streamed text
def test_a_key_split_anywhere_across_chunks_never_gets_through() -> None:
    redactor = Redactor([KEY], use_environment=False)
    text = f"Your key is {KEY} - keep it safe; also sk-{'a1' * 12} and https://bob:hunter22@db/x"
    expected = redactor.redact_text(text)
    assert KEY not in expected and "hunter22" not in expected
    for first in range(1, len(text)):
        for second in range(first, len(text), 7):
            stream = StreamRedactor(redactor)
            pieces = [text[:first], text[first:second], text[second:]]
            out = "".join(stream.feed(p) for p in pieces) + stream.flush()
            assert out == expected, (first, second)
    one_by_one = StreamRedactor(redactor)
    shown = [one_by_one.feed(c) for c in text]
    assert "".join(shown) + one_by_one.flush() == expected
    # What is held back is bounded: the window plus the word in progress, not the whole text.
    assert sum(map(len, shown)) >= len(expected) - len(KEY) - 30


def test_shapes_urls_and_prose_split_anywhere_are_caught_with_no_known_secret() -> None:
    redactor = Redactor(use_environment=False)  # window 0: only the word rules hold text back
    text = (
        f"use sk-{'a1' * 12} or Bearer abcdefghijklmnop123 at https://bob:hunter22@db/x; "
        "the password is hunter2-tool-pass"
    )
    expected = redactor.redact_text(text)
    for secret in ("a1a1a1", "abcdefghijklmnop123", "hunter22", "hunter2-tool"):
        assert secret not in expected
    for cut in range(1, len(text)):
        stream = StreamRedactor(redactor)
        out = stream.feed(text[:cut]) + stream.feed(text[cut:]) + stream.flush()
        assert out == expected, cut


def test_a_stream_without_secrets_flows() -> None:
    stream = StreamRedactor(Redactor(use_environment=False))
    assert stream.feed("Durable writes ") == "Durable writes "
    assert stream.feed("need fsy") == "need fsy"  # an ordinary word is shown at once
    assert stream.feed("nc. See sk-ab") == "nc. See "  # this one may become a token
    assert stream.feed("c and https:") == "sk-abc and "
    assert stream.flush() == "https:"


# ----------------------------------------------------------------------- model errors and answers
def cli_run_against(mode: str, name: str, workspace: Path, child_env: dict[str, str]):
    """``agent-tui run`` in a child with a real litellm model and the key in the environment,
    against the fake server in ``mode``; returns the finished process and the key it was sent."""
    with FakeOpenAI(mode) as server:
        env = {**child_env, "OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": server.base_url}
        done = subprocess.run(
            [*cli_command(), "run", "hello", "--model", "openai/gpt-4o-mini", "--name", name],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=workspace.parent,
        )
    return done, server.key


def test_cli_run_keeps_a_401_that_echoes_the_key_off_stderr(workspace: Path, child_env) -> None:
    done, sent = cli_run_against("echo_key", "e401", workspace, child_env)
    assert sent == KEY  # the server really was sent the key, and echoed it
    assert done.returncode == 1, done.stderr
    assert "agent-tui: error: model 'openai/gpt-4o-mini' failed (auth)" in done.stderr
    assert "Incorrect API key" in done.stderr and REDACTED in done.stderr
    assert KEY not in done.stderr + done.stdout
    assert KEY.encode() not in files_blob(workspace)


def test_cli_run_masks_a_key_the_model_spells_out_in_pieces(workspace: Path, child_env) -> None:
    done, sent = cli_run_against("leak_key", "leak", workspace, child_env)
    assert done.returncode == 0 and sent == KEY, done.stderr
    assert f"Your key is {REDACTED} - keep it safe." in done.stdout
    assert KEY not in done.stdout + done.stderr
    # No piece of it either (the server sent it in thirds).
    assert KEY[: len(KEY) // 3] not in done.stdout
    assert KEY.encode() not in files_blob(workspace)


# ----------------------------------------------------------------------- swarms files
def _swarms_with_key(workspace: Path, name: str = "Keyed-Agent") -> Path:
    folder = write_swarms(
        workspace, name, loop_count=None, error_text=f"AuthenticationError: bad key {KEY}\n"
    )
    config = json.loads((folder / "config.json").read_text())
    config["llm_api_key"] = KEY
    config["stopping_token"] = "<DONE>"
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def test_show_and_ls_mask_a_key_in_swarms_error_txt(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _swarms_with_key(workspace)
    code, out, _ = run_cli(capsys, "show", "Keyed-Agent")
    assert code == 0 and "error:" in out and f"bad key {REDACTED}" in out
    code, shown, _ = run_cli(capsys, "show", "Keyed-Agent", "--json")
    assert code == 0
    document = json.loads(shown)
    assert document["record"]["error"] == f"AuthenticationError: bad key {REDACTED}"
    assert document["config"]["stopping_token"] == "<DONE>"  # a setting, not a secret
    code, listed, _ = run_cli(capsys, "ls", "--json")
    assert (
        code == 0 and json.loads(listed)[0]["error"] == f"AuthenticationError: bad key {REDACTED}"
    )
    for text in (out, shown, listed):
        assert KEY not in text


def test_resuming_a_swarms_agent_copies_none_of_its_secrets(workspace: Path) -> None:
    folder = _swarms_with_key(workspace)
    mcp_key = "mcp-Vv7Qm2Lx9Kp4Ns8Tz"
    state_file = next(folder.glob("agent-*_state.json"))
    state = json.loads(state_file.read_text())
    state_file.write_text(json.dumps({**state, "mcp_api_key": mcp_key}))
    config = json.loads((folder / "config.json").read_text())
    config["short_memory"].append(
        {"role": "Human", "content": f"my keys are {KEY} and {mcp_key}", "timestamp": None}
    )
    config["system_prompt"] = f"Use {KEY} for the finance API. Stop with <DONE>."
    (folder / "config.json").write_text(json.dumps(config))

    agent = resume_agent(folder, model="offline/demo", max_loops=1)
    agent.run("continue")
    ours = Path(agent._get_agent_workspace_dir())
    assert ours != folder and ours.parent == folder.parent
    blob = files_blob(ours)
    assert b"my keys are" in blob  # the conversation was carried over...
    assert KEY.encode() not in blob and mcp_key.encode() not in blob  # ...without the keys
    assert b"<DONE>" in blob


# ----------------------------------------------------------------------- constructor and env
def test_url_credentials_are_masked_on_disk_and_on_screen(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    agent = Agent(agent_name="urls", max_loops=1, api_base="https://alice:Pw0rd-77@host/v1")
    agent.memory["db"] = "postgres://app:Db-PASS-9@db/prod"
    agent.run("connect to postgres://app:Db-PASS-9@db/prod please")
    agent.save()
    blob = files_blob(workspace)
    assert b"Pw0rd-77" not in blob and b"Db-PASS-9" not in blob
    assert f"https://alice:{REDACTED}@host/v1".encode() in blob
    assert f"postgres://app:{REDACTED}@db/prod".encode() in blob
    code, out, _ = run_cli(capsys, "show", "urls")
    assert code == 0 and f"api_base: https://alice:{REDACTED}@host/v1" in out
    assert "Pw0rd-77" not in out and "Db-PASS-9" not in out


@pytest.mark.parametrize(
    "name",
    [
        "OPENAI_KEY",
        "AZURE_OPENAI_KEY",
        "LITELLM_MASTER_KEY",
        "AWS_BEARER_TOKEN_BEDROCK",
        "AIMLAPI_KEY",
        "WATSONX_ZENAPIKEY",
    ],  # fmt: skip
)
def test_keys_under_every_provider_name_stay_off_disk(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    value = f"env-{name.lower()}-Q7x"
    monkeypatch.setenv(name, value)
    assert is_secret_env_name(name)
    agent = Agent(agent_name=f"env-{name}", max_loops=1, system_prompt=f"the key is {value}")
    agent.run(f"use {value}")
    assert value.encode() not in files_blob(workspace)


def test_secret_names_are_not_settings() -> None:
    for name in ("PWD", "OLDPWD", "SEND_USER_API_KEY_ALIAS", "HOME", "TIKTOKEN_CACHE_DIR"):
        assert not is_secret_env_name(name), name
    for key in ("stopping_token", "eos_token", "author", "authority", "max_tokens", "sort"):
        assert not is_secret_key(key), key
    for key in ("X-Custom-Auth", "x-goog-api-key", "X-Org-Key", "key", "oauth", "auth"):
        assert is_secret_key(key), key


def test_encoded_newline_and_short_forms_of_a_key_stay_off_disk(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctor_key = "tq/Zx81+bLm0=Qw7 Yv3"  # changes under base64, URL and JSON encoding
    env_key = "env-key-read-from-a-file-4411"
    monkeypatch.setenv("OPENAI_API_KEY", env_key + "\n")  # as `export K=$(cat keyfile)` leaves
    short = "k3Yq"
    basic = base64.b64encode(f"user:{ctor_key}".encode()).decode()
    forms = {
        "base64": base64.b64encode(ctor_key.encode()).decode(),
        "base64 of key+newline": base64.b64encode((ctor_key + "\n").encode()).decode(),
        "url": quote(ctor_key, safe=""),
        "url+": quote_plus(ctor_key),
        "env without its newline": env_key,
    }
    agent = Agent(
        agent_name="forms",
        max_loops=1,
        api_key=ctor_key,
        system_prompt=" | ".join(forms.values()) + f" | Basic {basic}",
        headers={"X-Custom-Auth": "custom-header-value-1", "Accept": "text/plain"},
        llm_args={"key": "llm-args-key-value-2"},
        db={"password": short},
        stopping_token="<DONE>",
    )
    agent.run(f"pin {short} with custom-header-value-1 and llm-args-key-value-2, end <DONE>")
    agent.save()
    blob = files_blob(workspace).decode()
    for what, form in forms.items():
        assert form not in blob, what
    assert basic[8:-4] not in blob  # the key inside a longer base64 text
    for secret in ("custom-header-value-1", "llm-args-key-value-2", "text/plain"):
        assert secret not in blob, secret
    assert f"pin {short}" not in blob and f"pin {REDACTED}" in blob  # short: a whole token
    config = json.loads((Path(agent._get_agent_workspace_dir()) / "config.json").read_text())
    assert config["stopping_token"] == "<DONE>" and "end <DONE>" in blob


def test_short_secrets_are_whole_tokens_only() -> None:
    redactor = Redactor(["k3Yq", "ab"], use_environment=False)
    assert redactor.redact_text("k3Yq k3Yqz xk3Yq (k3Yq) ab") == (
        f"{REDACTED} k3Yqz xk3Yq ({REDACTED}) ab"  # 2 characters: below the floor
    )


# ----------------------------------------------------------------------- the app's runner
def test_the_app_hands_the_spec_to_the_runner_on_stdin(workspace: Path) -> None:
    task = "private task text 5e1f: summarise the merger"
    spec = RunSpec(agent_name="quiet", task=task, model="offline/demo?delay=0.05", max_loops=2,
                   workspace=str(workspace))  # fmt: skip
    assert task not in " ".join(runner_command(spec))

    async def run() -> tuple[bytes, bytes, list[dict]]:
        process = await spawn(spec)
        cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes()
        environ = Path(f"/proc/{process.pid}/environ").read_bytes()
        out, _ = await asyncio.wait_for(process.communicate(), 60)
        return cmdline, environ, [orjson.loads(line) for line in out.splitlines()]

    cmdline, environ, lines = asyncio.run(run())
    assert b"agent_tui.runner" in cmdline and task.encode() not in cmdline
    assert task.encode() not in environ
    assert lines[0]["type"] == "start" and lines[0]["task"] == task  # it arrived on stdin
    assert lines[-1]["status"] == "completed"


def test_dotenv_is_loaded_with_an_explicit_workspace(tmp_path: Path, monkeypatch) -> None:
    dotenv_key = "dotenv-only-Hk42Lm9Pq"
    ws = tmp_path / "elsewhere"
    folder = write_swarms(ws, "Dotenv-Agent")
    config = json.loads((folder / "config.json").read_text())
    config["short_memory"].append({"role": "Human", "content": f"try {dotenv_key}"})
    (folder / "config.json").write_text(json.dumps(config))
    cwd = tmp_path / "project"
    cwd.mkdir()
    (cwd / ".env").write_text(f"ANTHROPIC_API_KEY={dotenv_key}\n")
    env = {k: v for k, v in os.environ.items() if k not in ("WORKSPACE_DIR", "ANTHROPIC_API_KEY")}
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run(
        [*cli_command(), "show", "--workspace", str(ws), "Dotenv-Agent"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert f"try {REDACTED}" in done.stdout and dotenv_key not in done.stdout


def test_a_stream_shows_ordinary_text_at_once_whatever_secrets_are_known() -> None:
    # Only a tail that could still become a known secret waits for the next piece; text that
    # cannot does not (a long known key used to hold back its length of every answer).
    redactor = Redactor(["sk-verylongknownkey0123456789abcdefghijkl"], use_environment=False)
    stream = StreamRedactor(redactor)
    assert stream.feed("The tools reported: 3; fsync flushes data and metadata") == (
        "The tools reported: 3; fsync flushes data and metadata"
    )
    assert stream.feed(" then sk-verylong") == " then "
    assert stream.feed("knownkey0123456789abcdefghijkl done") == "[REDACTED] done"
    assert stream.flush() == ""
