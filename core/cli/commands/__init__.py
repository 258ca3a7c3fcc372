"""One module per command (``run`` and ``resume`` share one); each imports what it needs when
it runs, so only ``run``/``resume`` ever load the agent runtime."""

from __future__ import annotations

from agent_tui.cli.errors import CliError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from pathlib import Path


def workspace_root(args: argparse.Namespace) -> Path:
    """The workspace root the command acts on (``--workspace``, else the environment's)."""
    from agent_tui.settings import workspace_root as root

    return root(args.workspace)


def existing_workspace(args: argparse.Namespace) -> Path:
    """:func:`workspace_root` for a command that reads it: a :class:`CliError` naming the
    root when it is not a folder (a mistyped ``--workspace`` is not an empty workspace)."""
    root = workspace_root(args)
    require_folder(root)
    return root


def require_folder(root: Path) -> None:
    """Raise a :class:`CliError` naming ``root`` unless it is a folder."""
    if root.is_dir():
        return
    what = "it is a file, not a folder" if root.exists() else "no such folder"
    raise CliError(
        f"no workspace at {root}: {what} (choose one with --workspace PATH or $WORKSPACE_DIR)"
    )


def find_agent(query: str, root: Path) -> Path:
    """The folder of the agent ``query`` names (:func:`agent_tui.workspace.resolve_agent`).
    A path needs no workspace, so the root is checked only when the lookup fails: then a
    missing root is what the user hears about, not a missing agent."""
    from agent_tui.format.persistence import WorkspaceFileError
    from agent_tui.workspace import WorkspaceLookupError, resolve_agent

    try:
        return resolve_agent(query, root)
    except (WorkspaceLookupError, WorkspaceFileError):
        require_folder(root)
        raise
