"""One module per command (``run`` and ``resume`` share one); each imports what it needs when
it runs, so only ``run``/``resume`` ever load the agent runtime."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from pathlib import Path


def workspace_root(args: argparse.Namespace) -> Path:
    """The workspace root the command acts on (``--workspace``, else the environment's)."""
    from agent_tui.settings import workspace_root as root

    return root(args.workspace)
