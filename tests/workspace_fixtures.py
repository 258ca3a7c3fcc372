"""Workspaces written by hand: ours per docs/FORMAT.md, swarms v16 per DESIGN.md, and a corpus of
broken files. Built from the format descriptions only; no swarms code is vendored or imported."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import string
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from agent_tui.lock import WorkspaceLock
from agent_tui.naming import agent_folder_name, stable_agent_id, state_file_name

BASE_TIME = datetime(2026, 11, 26, 9, 0, 0, tzinfo=UTC)
SYSTEM_PROMPT = "You are a careful assistant."


def _write(path: Path, document: Any) -> None:
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")


def our_conversation(steps: int, task: str = "count the words") -> list[dict[str, Any]]:
    """System prompt, the task, then one assistant message per step."""
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": SYSTEM_PROMPT, "ts": BASE_TIME.isoformat()},
        {"role": "user", "content": task, "ts": BASE_TIME.isoformat(), "step": 0},
    ]
    messages += [step_message(n) for n in range(1, steps + 1)]
    return messages


def step_message(step: int) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": f"step {step} answer",
        "ts": (BASE_TIME + timedelta(seconds=step)).isoformat(),
        "step": step,
    }


def write_ours(
    root: Path,
    name: str = "alpha",
    *,
    agent_id: str | None = None,
    status: str = "completed",
    loop_count: int = 2,
    timestamp: datetime | None = None,
    model: str = "offline/demo",
    state: bool = True,
    journal: bool = True,
    folded_steps: int | None = None,
) -> Path:
    """An agent-tui workspace after ``loop_count`` steps of one run.

    ``folded_steps``: how many steps the state file holds (its journal_seq); the rest are only
    in the journal, as after a ``kill -9``. Default: all of them.
    """
    agent_id = agent_id or stable_agent_id(name)
    folder = root / "agents" / agent_folder_name(name, agent_id)
    folder.mkdir(parents=True, exist_ok=True)
    timestamp = timestamp or BASE_TIME + timedelta(seconds=loop_count)
    meta = {
        "timestamp": timestamp.isoformat(),
        "loop_count": loop_count,
        "agent_id": agent_id,
        "agent_name": name,
        "schema_version": 1,
        "format": "agent-tui",
        "status": status,
        "run_id": "r1",
        "pid": 4242,
        "hostname": "box",
        "started_at": BASE_TIME.isoformat(),
        "state_file": state_file_name(name),
        "error": "model exploded" if status == "error" else None,
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "cost": 0.0},
        "autosave_failures": 0,
    }
    settings = {
        "agent_name": name,
        "agent_id": agent_id,
        "agent_description": "",
        "model_name": model,
        "system_prompt": SYSTEM_PROMPT,
        "max_loops": 5,
        "temperature": 0.7,
        "tools": [],
    }
    _write(folder / "config.json", {**settings, "_autosave_metadata": meta})
    # Written at its timestamp, as an autosave then would have been: readers do not believe a
    # timestamp later than its file's mtime (and NOW in some tests is past the real clock).
    os.utime(folder / "config.json", (timestamp.timestamp(), timestamp.timestamp()))

    records: list[dict[str, Any]] = [
        {
            "seq": 1,
            "kind": "task",
            "ts": BASE_TIME.isoformat(),
            "run_id": "r1",
            "loop_count": 0,
            "task": "count the words",
            "messages": our_conversation(0),
            "new_conversation": True,
        }
    ]
    for step in range(1, loop_count + 1):
        record: dict[str, Any] = {
            "seq": step + 1,
            "kind": "step",
            "ts": step_message(step)["ts"],
            "run_id": "r1",
            "loop_count": step,
            "messages": [step_message(step)],
            "tool_results": [],
            "usage": {},
        }
        if step == 2:
            record["memory"] = {"notes": "halfway"}
        records.append(record)
    if status in ("completed", "error"):
        records.append(
            {
                "seq": len(records) + 1,
                "kind": "end",
                "ts": timestamp.isoformat(),
                "run_id": "r1",
                "loop_count": loop_count,
                "status": status,
                "error": meta["error"],
            }
        )
    if journal:
        lines = "".join(json.dumps(r) + "\n" for r in records)
        (folder / "journal.jsonl").write_text(lines, encoding="utf-8")

    if state:
        folded = loop_count if folded_steps is None else folded_steps
        journal_seq = folded + 1 if folded_steps is not None else len(records)
        _write(
            folder / state_file_name(name),
            {
                "schema_version": 1,
                "format": "agent-tui",
                "agent_id": agent_id,
                "agent_name": name,
                "saved_at": timestamp.isoformat(),
                "status": status,
                "error": meta["error"],
                "loop_count": folded,
                "task": "count the words",
                "tasks": ["count the words"],
                "conversation": our_conversation(folded),
                "tool_results": [],
                "memory": {"notes": "halfway"} if folded >= 2 else {},
                "usage": meta["usage"],
                "config": settings,
                "journal_seq": journal_seq if journal else 0,
            },
        )
    (folder / "agent.lock").write_text("pid 4242 on box since then\n", encoding="utf-8")
    return folder


def swarms_state_name() -> str:
    alphabet = string.ascii_letters + string.digits
    return "agent-" + "".join(secrets.choice(alphabet) for _ in range(32)) + "_state.json"


def swarms_config(name: str, loop_count: int | None, timestamp: datetime) -> dict[str, Any]:
    """The whole swarms agent as flat keys, short_memory as the conversation, naive timestamp."""
    naive = timestamp.replace(tzinfo=None).isoformat()
    memory = [
        {
            "role": "System",
            "content": "You are a finance agent.",
            "timestamp": naive,
            "message_id": uuid.uuid4().hex,
        },
        {
            "role": "Human",
            "content": "What is a bond?",
            "timestamp": naive,
            "message_id": uuid.uuid4().hex,
        },
        {
            "role": name,
            "content": "A bond is a loan to an issuer.",
            "timestamp": naive,
            "message_id": uuid.uuid4().hex,
        },
    ]
    config: dict[str, Any] = {
        "id": uuid.uuid4().hex,
        "agent_name": name,
        "agent_description": "Finance agent",
        "system_prompt": "You are a finance agent.",
        "model_name": "gpt-4o-mini",
        "llm": "<Non-serializable: LiteLLM>",
        "max_loops": 1,
        "autosave": True,
        "dynamic_temperature_enabled": False,
        "saved_state_path": None,
        "user_name": "Human",
        "retry_attempts": 3,
        "context_length": 8192,
        "tools": None,
        "tool_schema": "<Non-serializable: BaseTool>",
        "short_memory": memory,
        "workspace_dir": "agent_workspace",
        "temperature": 0.5,
        "_autosave_metadata": {
            "timestamp": naive,
            "loop_count": loop_count,
            "agent_id": uuid.uuid4().hex,
            "agent_name": name,
        },
    }
    # Swarms dumps ~100 flat attributes; pad to that shape.
    for n in range(90):
        config[f"setting_{n}"] = n if n % 3 else None
    return config


def write_swarms(
    root: Path,
    name: str = "Financial-Analysis-Agent",
    *,
    loop_count: int | None = 1,
    error_text: str = "",
    timestamp: datetime | None = None,
) -> Path:
    """A swarms v16 workspace: whole-agent config.json, random state name, error.txt, logs/."""
    folder = root / "agents" / f"{name}-{uuid.uuid4().hex}"
    (folder / "logs").mkdir(parents=True)
    timestamp = timestamp or BASE_TIME
    _write(folder / "config.json", swarms_config(name, loop_count, timestamp))
    _write(
        folder / swarms_state_name(),
        {"agent_name": name, "max_loops": 1, "loop_count": loop_count, "autosave": True},
    )
    (folder / "error.txt").write_text(error_text, encoding="utf-8")
    (folder / "logs" / "run.log").write_text("started\n", encoding="utf-8")
    return folder


BROKEN_CONFIGS: dict[str, bytes] = {
    "empty": b"",
    "whitespace": b"  \n\t ",
    "truncated": b'{"agent_name": "cut", "_autosave_metadata": {"loop_count": 3, ',
    "not-utf8": b'{"agent_name": "\xff\xfe\xfa"}',
    "not-json": b"agent_name = 'toml?'\n",
    "array": b"[1, 2, 3]",
    "null": b"null",
    "number": b"42",
    "nul-bytes": b"\x00\x00\x00\x00",
    "deep-nesting": b"[" * 5000 + b"]" * 5000,
}

WRONG_TYPES: dict[str, dict[str, Any]] = {
    "name-is-number": {"agent_name": 5, "_autosave_metadata": {"loop_count": 1}},
    "meta-is-string": {"agent_name": "x", "_autosave_metadata": "oops"},
    "loop-is-text": {"_autosave_metadata": {"loop_count": "three", "format": "agent-tui"}},
    "loop-is-bool": {"_autosave_metadata": {"loop_count": True, "format": "agent-tui"}},
    "timestamp-is-number": {"_autosave_metadata": {"timestamp": 5, "format": "agent-tui"}},
    "timestamp-is-garbage": {"_autosave_metadata": {"timestamp": "yesterday-ish"}},
    "status-is-list": {"_autosave_metadata": {"status": ["running"], "format": "agent-tui"}},
    "short-memory-is-text": {
        "short_memory": "<Non-serializable: Conversation>",
        "_autosave_metadata": {"loop_count": None},
    },
    "model-is-dict": {"model_name": {"a": 1}, "_autosave_metadata": {"format": "agent-tui"}},
}


def write_broken_corpus(root: Path) -> dict[str, Path]:
    """One folder per way a workspace can be broken; returns case name -> folder."""
    agents = root / "agents"
    agents.mkdir(parents=True, exist_ok=True)
    cases: dict[str, Path] = {}
    for case, data in BROKEN_CONFIGS.items():
        folder = agents / f"bad-{case}"
        folder.mkdir()
        (folder / "config.json").write_bytes(data)
        cases[case] = folder
    for case, document in WRONG_TYPES.items():
        folder = agents / f"bad-{case}"
        folder.mkdir()
        _write(folder / "config.json", document)
        cases[case] = folder
    cases["file-not-folder"] = agents / "stray-file.txt"
    cases["file-not-folder"].write_text("not an agent", encoding="utf-8")
    cases["empty-folder"] = agents / "empty-folder"
    cases["empty-folder"].mkdir()
    cases["config-is-folder"] = agents / "config-is-folder"
    (cases["config-is-folder"] / "config.json").mkdir(parents=True)
    cases["dangling-link"] = agents / "dangling-link"
    os.symlink(root / "nowhere", cases["dangling-link"])
    cases["link-loop"] = agents / "link-loop"
    os.symlink(cases["link-loop"], cases["link-loop"])
    outside = root / "outside"
    outside.mkdir()
    (outside / "big.bin").write_bytes(b"x" * 100_000)
    cases["link-out"] = agents / "link-out"
    os.symlink(outside, cases["link-out"])
    inner = agents / "inner-links"
    inner.mkdir()
    (inner / "config.json").write_text('{"_autosave_metadata": {"format": "agent-tui"}}')
    os.symlink(outside, inner / "escape")
    os.symlink(inner / "loop", inner / "loop")
    cases["inner-links"] = inner
    temp = agents / ".config.json.123.0.tmp"
    temp.write_text("{", encoding="utf-8")
    return cases


@contextmanager
def live_run(folder: Path) -> Iterator[None]:
    """What a run in progress looks like from outside: its config says "running" (the first
    autosave of a run writes that) and a live process holds ``agent.lock``."""
    config_path = folder / "config.json"
    config = json.loads(config_path.read_text())
    config["_autosave_metadata"]["status"] = "running"
    _write(config_path, config)
    with WorkspaceLock(folder):
        yield


# Escape sequences a hostile file can carry: clear the screen, retitle the window, and C1 CSI.
ESCAPES = "\x1b[2J\x1b]0;owned\x07\x9b31m\r"


def write_escape_agents(root: Path) -> tuple[Path, Path]:
    """An agent with escape sequences everywhere a screen shows text from (name, model, error,
    a setting, the last message), and a copy of it in a folder whose name carries them too."""
    folder = write_ours(root, f"evil{ESCAPES}", model=f"m{ESCAPES}", status="error")
    config = json.loads((folder / "config.json").read_text())
    config["temperature"] = f"t{ESCAPES}"
    config["_autosave_metadata"]["error"] = f"boom{ESCAPES}"
    _write(folder / "config.json", config)
    state = next(folder.glob("*_state.json"))
    document = json.loads(state.read_text())
    document["conversation"][-1]["content"] = f"answer{ESCAPES}\nsecond line"
    _write(state, document)
    odd = root / "agents" / f"odd{ESCAPES}folder"
    shutil.copytree(folder, odd)
    return folder, odd


def control_chars(text: str) -> set[str]:
    """The characters of ``text`` a terminal would obey: C0 but tab and newline, DEL, C1."""
    return {c for c in text if (ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) < 0xA0}
