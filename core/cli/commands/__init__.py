"""One module per command (``run`` and ``resume`` share one); each imports what it needs when
it runs, so only ``run``/``resume`` ever load the agent runtime."""

from __future__ import annotations

from agent_tui.cli.errors import CliError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from pathlib import Path

    from agent_tui.store.mirror import Mirror


def workspace_root(args: argparse.Namespace) -> Path:
    """The workspace root the command acts on (``--workspace``, else the environment's); an
    ``s3://`` root is brought up to date in its mirror, which is returned."""
    return local_root(args.workspace)


def local_root(given: str | None) -> Path:
    """``given`` (or ``$WORKSPACE_DIR``) as a folder: a remote root's mirror, synced now."""
    from agent_tui.settings import workspace_root as root
    from agent_tui.store import is_remote
    from agent_tui.store import workspace_root as named_root

    url = named_root(given)
    if not is_remote(url):
        return root(given)
    return synced_mirror(str(url)).folder


_MIRRORS: dict[str, Mirror] = {}


def synced_mirror(url: str) -> Mirror:
    """The mirror of ``url``, synced once per command (a line on stderr while it runs)."""
    import sys

    from agent_tui.store.mirror import Mirror
    from agent_tui.store.s3 import StoreError

    url = url.rstrip("/")
    mirror = _MIRRORS.get(url)
    if mirror is not None:
        return mirror
    if sys.stderr.isatty():
        sys.stderr.write(f"reading {url} ...\r")
        sys.stderr.flush()
    try:
        mirror = Mirror(url)
        result = mirror.sync()
    except StoreError as exc:
        raise CliError(str(exc)) from None
    if sys.stderr.isatty():
        sys.stderr.write(" " * (len(url) + 12) + "\r")
    if result.skipped_names or result.skipped_large:
        print(
            f"{url}: skipped {result.skipped_names} objects with unsafe names and "
            f"{result.skipped_large} over 64 MB",
            file=sys.stderr,
        )
    _MIRRORS[url] = mirror
    return mirror


def shown_path(path: Path) -> str:
    """``path`` as the user knows it: in a remote root's mirror, its s3:// address."""
    mirror = next((m for m in _MIRRORS.values() if path.is_relative_to(m.folder)), None)
    if mirror is None:
        return str(path)
    relative = path.relative_to(mirror.folder).as_posix()
    return mirror.url if relative == "." else f"{mirror.url}/{relative}"


def mirror_at(folder: Path) -> Mirror | None:
    """The mirror this command synced whose folder is ``folder`` (a remote root), if any."""
    return next((m for m in _MIRRORS.values() if m.folder == folder), None)


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
