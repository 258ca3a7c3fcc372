"""agent-tui's app (installed as ``agent_tui.tui``): ``from agent_tui.tui import AgentTUI``.

Textual is imported only when the app is asked for, so the console script (:mod:`.launch`)
starts headless commands without it.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from agent_tui.tui.app import AgentTUI

__all__ = ["AgentTUI"]


def __getattr__(name: str) -> Any:
    if name == "AgentTUI":
        from agent_tui.tui.app import AgentTUI

        return AgentTUI
    raise AttributeError(f"module 'agent_tui.tui' has no attribute {name!r}")
