"""The swarms mapping: how a workspace written by the swarms framework reads as ours.

swarms keeps the whole agent in ``config.json`` (the conversation in ``short_memory``: a list,
or a dict holding ``conversation_history``), writes ``error.txt`` when a run fails and leaves
``agent-<32 chars>_state.json`` beside it. Every reader and ``Agent.load()`` use these
functions, so a swarms folder has one status and one conversation wherever it is shown.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import orjson

from agent_tui.format.layout import CONFIG_NAME, ERROR_TXT, Format, Status
from agent_tui.format.persistence import (
    StateFileError,
    WorkspaceFileError,
    read_bytes,
    read_json_object,
)

# typing costs 3 ms of start-up and is needed only by type checkers here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

SWARMS_STATE = re.compile(r"^agent-[A-Za-z0-9]{32}_state\.json$")
_SWARMS_ROLES = {"system": "system", "human": "user", "user": "user", "tool": "tool"}
_MESSAGE_KEYS = ("tool_calls", "tool_call_id", "name", "ts", "step")


def swarms_status(
    folder: str, loop_count: object, has_error: bool, messages: Sequence[object] = ()
) -> tuple[str, str | None]:
    """The status of a swarms agent and its error line, the one rule every reader and
    ``Agent.load()`` use: a non-empty ``error.txt`` means ``error`` (its first line is the
    error); else a ``null`` loop count (what swarms writes on an error and on Ctrl-C alike)
    is ``error`` when the conversation ``messages`` holds the system prompt alone, and
    ``interrupted`` otherwise; else ``completed``.

    Swarms (v16) drops a failed run's turns from its memory before it saves ("so a fallback
    model starts from clean history"), the task included; on Ctrl-C the task stays. So a first
    run that died on a model error is told apart; a later one looks like an interruption.
    """
    if has_error:
        try:
            head = read_bytes(os.path.join(folder, ERROR_TXT), limit=2000, head=True)
            text = head.decode("utf-8", "replace").strip()
        except WorkspaceFileError as exc:
            text = f"error.txt: {exc.reason}"
        return Status.ERROR, (text.splitlines()[0] if text else None)
    if loop_count is None:
        if messages and all(_is_system(m) for m in messages):
            return Status.ERROR, ROLLED_BACK
        return Status.INTERRUPTED, None
    return Status.COMPLETED, None


ROLLED_BACK = "the run failed before its first step (swarms dropped its messages; see its log)"


def _is_system(message: object) -> bool:
    return isinstance(message, dict) and str(message.get("role", "")).lower() == "system"


def normalize_message(message: object, agent_name: str | None = None) -> dict[str, Any]:
    """``{role, content}`` plus ``tool_calls``/``tool_call_id``/``name``/``ts``/``step`` when
    present. Swarms roles map to ours: ``System`` -> system, ``Human`` -> user, the agent's
    name (or any other speaker) -> assistant, keeping the speaker as ``name``."""
    if not isinstance(message, dict):
        return {"role": "unknown", "content": _content_text(message)}
    raw_role = message.get("role")
    role = raw_role if isinstance(raw_role, str) else "unknown"
    out: dict[str, Any] = {}
    if role not in ("system", "user", "assistant", "tool"):
        mapped = _SWARMS_ROLES.get(role.lower())
        if mapped is None:
            mapped = "assistant"
            if role != "unknown" and role != agent_name:
                out["name"] = role
        role = mapped
    out = {"role": role, "content": _content_text(message.get("content")), **out}
    for key in _MESSAGE_KEYS:
        if message.get(key) is not None:
            out[key] = message[key]
    if "ts" not in out and isinstance(message.get("timestamp"), str):
        out["ts"] = message["timestamp"]
    return out


def _content_text(content: object) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return orjson.dumps(content, default=str).decode()


def swarms_messages(config: dict[str, Any], path: os.PathLike[str] | str) -> list[Any]:
    """The raw messages of a swarms ``config.json``: ``short_memory`` as a list, or the
    ``conversation_history`` (or ``history``) of a ``short_memory`` dict. The one reading of
    that key, for the views and for ``Agent.load()``."""
    memory = config.get("short_memory")
    if isinstance(memory, dict):
        memory = memory.get("conversation_history", memory.get("history"))
    if memory is None:
        return []
    if not isinstance(memory, list):
        raise WorkspaceFileError(path, "short_memory is not a list of messages")
    return memory


def swarms_state(document: dict[str, Any], path: Path) -> dict[str, Any]:
    """Turn a swarms ``config.json`` (the whole agent, conversation in ``short_memory``) into our
    state shape. A swarms state file holds no conversation: point at the config beside it."""
    memory = document.get("short_memory")
    if memory is None:
        beside = path.parent / CONFIG_NAME
        if path.name != CONFIG_NAME and beside.exists():
            try:
                return swarms_state(read_json_object(beside), beside)
            except WorkspaceFileError as exc:
                raise StateFileError(exc.path, exc.reason) from None
        raise StateFileError(path, "not an agent-tui state file and holds no swarms short_memory")
    if isinstance(memory, str):
        raise StateFileError(path, "swarms short_memory is stored as text, not a message list")
    try:
        raw = swarms_messages(document, path)
    except WorkspaceFileError as exc:
        raise StateFileError(path, f"swarms {exc.reason}") from None
    name = document.get("agent_name")
    conversation = []
    for item in raw:
        if not isinstance(item, dict):
            continue
        message = normalize_message(item, name if isinstance(name, str) else None)
        role = message["role"]
        if role == "tool" and "tool_call_id" not in message:
            role = "assistant"  # a tool answer with no call to answer: the model would refuse it
        conversation.append({"role": role, "content": message["content"], "ts": message.get("ts")})
    meta = document.get("_autosave_metadata") or {}
    loop_count = meta.get("loop_count") if isinstance(meta, dict) else None
    tasks = [m["content"] for m in conversation if m["role"] == "user"]
    try:
        info = os.lstat(path.parent / ERROR_TXT)
        has_error = stat.S_ISREG(info.st_mode) and info.st_size > 0
    except OSError:
        has_error = False
    status, error = swarms_status(str(path.parent), loop_count, has_error, raw)
    return {
        "format": Format.SWARMS,
        "conversation": conversation,
        "loop_count": loop_count if isinstance(loop_count, int) else 0,
        "task": tasks[-1] if tasks else None,
        "tasks": tasks,
        "status": status,
        "error": error,
        "journal_seq": 0,
    }


# swarms' structure folders: <name>-<stamp>, the stamp %Y%m%d_%H%M%S local time, or the first
# 12 hex of a uuid4 (SwarmRouter with autosave_use_timestamp=False).
_STRUCTURE_STAMP = re.compile(r"-(?:\d{8}_\d{6}|[0-9a-f]{12})$")


def structure_name(folder_name: str) -> str:
    """The swarm's name a structure folder ``<name>-<stamp>`` carries (its sanitized form), or
    the folder's name when it has no stamp."""
    return _STRUCTURE_STAMP.sub("", folder_name) or folder_name


def structure_status(metadata: dict[str, Any] | None) -> str:
    """The status of a swarms structure run, the one rule for it: swarms writes
    ``metadata.json`` only after a run that succeeded (its ``status`` says so: "completed");
    ``conversation_history.json`` is written when a run ends, whether it failed or not, and
    ``config.json`` when the structure is built. So a run with metadata is what its status
    says (``completed`` when it says none), and any other is ``unknown``."""
    if metadata is None:
        return Status.UNKNOWN
    status = metadata.get("status", Status.COMPLETED)
    if status in (Status.COMPLETED, Status.ERROR, Status.INTERRUPTED):
        return Status(status)
    return Status.UNKNOWN


def structure_messages(document: object) -> list[Any] | None:
    """The raw messages of a structure's conversation file (a list of ``{role, content,
    timestamp?, message_id?}``), or of its ``state.json`` (``conversation``); ``None`` when
    ``document`` holds none."""
    if isinstance(document, dict):
        document = document.get("conversation", document.get("conversation_history"))
    return document if isinstance(document, list) else None


def structure_steps(messages: Sequence[object]) -> int:
    """How many turns the structure's agents took: the messages from a speaker other than the
    system and the user (each agent's answer is one)."""
    return sum(normalize_message(m)["role"] not in ("system", "user") for m in messages)


def swarms_sanitized(name: str) -> str:
    """A name as swarms puts it in a structure folder's name (its ``_sanitize_name``):
    ``<>:"/\\|?*`` -> ``_``, dots and spaces at the ends dropped, spaces -> ``-``, at most 100
    characters; ``unnamed`` for none."""
    if not name:
        return "unnamed"
    for char in '<>:"/\\|?*':
        name = name.replace(char, "_")
    return name.strip(". ").replace(" ", "-")[:100]
