"""``agent-tui show``: one agent's status, settings and conversation."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from agent_tui.cli.commands import find_agent, shown_path, workspace_root
from agent_tui.cli.output import ago, clip, masker, plural, write_json
from agent_tui.units import format_bytes, printable

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agent_tui.workspace import AgentRecord


def _usage(config: dict[str, Any] | None) -> dict[str, Any] | None:
    """Tokens and cost so far, as the config's metadata counts them (``None``: it does not,
    as swarms' does not)."""
    from agent_tui.format.replay import usage_of

    meta = config.get("_autosave_metadata") if config else None
    usage = meta.get("usage") if isinstance(meta, dict) else None
    return usage_of(usage) if isinstance(usage, dict) else None


def _usage_text(usage: dict[str, Any] | None) -> str:
    if usage is None:
        return "-"
    prompt, completion = usage["prompt_tokens"], usage["completion_tokens"]
    return (
        f"{prompt + completion:,} tokens ({prompt:,} prompt, {completion:,} completion), "
        f"cost ${usage['cost']:.4f}"
    )


def _describe(record: AgentRecord, usage: dict[str, Any] | None) -> list[tuple[str, str]]:
    now = datetime.now().astimezone()
    saved = record.last_autosave
    fields = [
        ("name", record.name),
        ("id", record.agent_id or "-"),
        ("folder", shown_path(record.folder)),
        ("format", record.format),
        ("status", record.status + (f" (held by {record.holder})" if record.holder else "")),
        ("loops", "-" if record.loop_count is None else str(record.loop_count)),
        ("usage", _usage_text(usage)),
        ("last autosave", f"{saved.isoformat()} ({ago(saved, now)})" if saved else "-"),
        ("model", record.model or "-"),
        ("size", f"{format_bytes(record.size_bytes)} in {plural(record.file_count, 'file')}"),
        ("state file", record.state_file.name if record.state_file else "-"),
    ]
    if record.error:
        fields.append(("error", record.error))
    fields += [("problem", p) for p in record.problems]
    return fields


MEMORY_SHOWN = 64 * 1024  # of a MEMORY.md: its head (a memory is notes, not a log)


def _message_lines(message: dict[str, Any]) -> list[str]:
    role = message["role"]
    label = f"{role} {message['name']}" if message.get("name") else role
    lines = [f"[{label}]"]
    lines += [f"  {line}" for line in (message.get("content") or "").splitlines()]
    for call in message.get("tool_calls") or []:
        function = call.get("function") if isinstance(call, dict) else None
        if isinstance(function, dict):
            name, arguments = function.get("name") or "-", function.get("arguments") or ""
            lines.append(f"  -> {name}({arguments})")
    return lines


def cmd_show(args: argparse.Namespace) -> int:
    from agent_tui.format.layout import CONFIG_NAME, SWARMS_MEMORY_NAME, Layout, Status
    from agent_tui.format.persistence import WorkspaceFileError, read_bytes
    from agent_tui.workspace import load_config, load_conversation, read_agent

    folder = find_agent(args.agent, workspace_root(args))
    record = read_agent(folder)
    config: dict[str, Any] | None = None
    conversation: list[dict[str, Any]] | None = None
    unreadable: list[str] = []
    memory: str | None = None
    if record.layout == Layout.MEMORY:  # swarms' memory of an agent: no config, its MEMORY.md
        try:
            data = read_bytes(folder / SWARMS_MEMORY_NAME, limit=MEMORY_SHOWN, head=True)
            memory = data.decode("utf-8", "replace")
        except WorkspaceFileError as exc:
            unreadable.append(f"memory: {exc}")
    elif record.status != Status.BROKEN or (folder / CONFIG_NAME).is_file():
        try:
            config = load_config(folder)
        except WorkspaceFileError as exc:
            unreadable.append(f"config: {exc}")
        try:
            conversation = load_conversation(folder)
        except WorkspaceFileError as exc:
            unreadable.append(f"conversation: {exc}")
    # Foreign files (swarms keeps API keys in config.json and error.txt) must not leak onto a
    # screen or a log: everything printed is masked with what this agent's files hold.
    mask = masker(config)
    usage = _usage(config)
    config, conversation = mask.redact(config), mask.redact(conversation)
    unreadable = [mask.redact_text(problem) for problem in unreadable]
    if args.json:
        write_json(
            {
                "record": mask.redact(record.to_dict()),
                "usage": usage,
                "config": config,
                "conversation": conversation,
                "memory": None if memory is None else mask.redact_text(memory),
                "unreadable": unreadable,
            }
        )
        return 0
    described = [(key, mask.redact_text(value)) for key, value in _describe(record, usage)]
    width = max(len(k) for k, _ in described)
    for key, value in described:
        print(f"{key + ':':<{width + 2}}{printable(value)}")
    for problem in unreadable:
        print(f"{'unreadable:':<{width + 2}}{printable(problem)}")
    if config:
        settings = {
            k: v
            for k, v in config.items()
            if k not in ("_autosave_metadata", "short_memory", "system_prompt")
            and isinstance(v, str | int | float | bool)
        }
        print("\nsettings:")
        for key, shown in settings.items():
            print(f"  {key}: {clip(str(shown), 100)}")
    if memory is not None:
        print(f"\n{SWARMS_MEMORY_NAME} (swarms' memory of {record.memory_of}):")
        for line in mask.redact_text(memory).splitlines():
            print(f"  {printable(line)}")
    if conversation is not None:
        print(f"\nconversation ({plural(len(conversation), 'message')}):")
        for message in conversation:
            print(printable("\n".join(_message_lines(message))))
    return 0
