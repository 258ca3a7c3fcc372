"""agent-tui's runtime: an autosaving agent, its workspaces, and the headless CLI.

Nothing here imports Textual; litellm is imported only when a non-offline model is called.
"""

from __future__ import annotations

# typing costs 3 ms of start-up and is needed only by type checkers here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from agent_tui.agent import Agent

__all__ = ["Agent"]


def __getattr__(name: str) -> Any:
    # Lazy, so `agent-tui --help` and `import agent_tui.workspace` do not pay for the runtime.
    if name == "Agent":
        from agent_tui.agent import Agent

        return Agent
    raise AttributeError(f"module 'core' has no attribute {name!r}")
