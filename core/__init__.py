"""agent-tui's runtime: an autosaving agent, its workspaces, and the headless CLI.

Nothing here imports Textual; litellm is imported only when a non-offline model is called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.agent import Agent

__all__ = ["Agent"]


def __getattr__(name: str) -> Any:
    # Lazy, so `agent-tui --help` and `import core.workspace` do not pay for the runtime.
    if name == "Agent":
        from core.agent import Agent

        return Agent
    raise AttributeError(f"module 'core' has no attribute {name!r}")
