"""What comparing two agents compares: the one rule ``agent-tui diff A B`` and the app's Diff
tab share (they drifted: the CLI compared config and conversation, the app loop count,
conversation and memory, each masked its own way).

An agent's document is its settings (``config.json``) and its latest work, shaped like a step
document (:meth:`agent_tui.workspace.StepHistory.document`) so it also compares with a step.
Both sides are masked with every secret either holds before they are compared.
"""

from __future__ import annotations

import os
from typing import Any

from agent_tui.diff import Change, diff
from agent_tui.redaction import Redactor


def agent_document(folder: os.PathLike[str] | str, *, with_config: bool = True) -> dict[str, Any]:
    """``{"config", "loop_count", "memory", "conversation"}`` of the agent in ``folder``; a step
    has no config, so an agent compared with a step leaves it out (``with_config=False``).
    Raises :class:`agent_tui.format.persistence.WorkspaceFileError` for an unreadable file."""
    from agent_tui.workspace import load_config, load_conversation, load_state, read_agent

    state = load_state(folder) or {}
    document: dict[str, Any] = {"config": load_config(folder)} if with_config else {}
    memory = state.get("memory")
    document |= {
        "loop_count": read_agent(folder).loop_count,
        "memory": memory if isinstance(memory, dict) else {},
        "conversation": load_conversation(folder),  # last: the longest part reads last
    }
    return document


def compare(
    old: Any, new: Any, *, redactor: Redactor | None = None, ignore_noise: bool = False
) -> list[Change]:
    """The changes from ``old`` to ``new``, masked: a secret of either side (or one
    ``redactor`` knows) is ``[REDACTED]`` on both."""
    redactor = redactor or Redactor()
    redactor.learn(old)
    redactor.learn(new)
    return diff(redactor.redact(old), redactor.redact(new), ignore_noise=ignore_noise)
