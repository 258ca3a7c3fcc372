"""Finding the agent a user named: a path, a folder name or an ``agent_name``."""

from __future__ import annotations

import os
import re
from pathlib import Path

from agent_tui import settings
from agent_tui.format.naming import safe_name
from agent_tui.format.swarms import structure_name, swarms_sanitized
from agent_tui.workspace.folder import read_agent
from agent_tui.workspace.scan import iter_agent_folders
from agent_tui.workspace.structures import is_structure_folder

_ID12_SUFFIX = re.compile(r"-[0-9a-f]{12}$")


class WorkspaceLookupError(LookupError):
    """A name, path or step given by a user matches nothing, or more than one thing."""


def resolve_agent(query: str, root: os.PathLike[str] | str | None = None) -> Path:
    """The folder of the agent a user named: a path to a folder (or to a file in it), a folder
    name, or an ``agent_name`` (a swarms structure run: its folder's name or its swarm name).
    Raises :class:`WorkspaceLookupError` when nothing matches or when several do (the message
    lists them)."""
    as_path = Path(query).expanduser()
    if os.sep in query or query.startswith("."):
        if as_path.is_dir():
            return as_path
        if as_path.is_file():
            return as_path.parent
        raise WorkspaceLookupError(f"no agent folder at {query}")
    folders = list(iter_agent_folders(root))
    exact = [f for f in folders if f.name == query]
    if exact:
        return exact[0]
    prefix, run_prefix = safe_name(query), swarms_sanitized(query)
    by_folder = [
        f
        for f in folders
        if (
            structure_name(f.name) == run_prefix
            if is_structure_folder(f)
            else _ID12_SUFFIX.sub("", f.name) == prefix
        )
    ]
    matches = [f for f in by_folder if read_agent(f).name == query] or by_folder
    if not matches:
        records = [read_agent(f) for f in folders]
        matches = [r.folder for r in records if r.name == query] or [
            r.folder for r in records if r.name.lower() == query.lower()
        ]
    if not matches:
        if as_path.is_dir():
            return as_path
        where = settings.agents_dir(root)
        raise WorkspaceLookupError(f"no agent named {query!r} in {where}")
    if len(matches) > 1:
        listed = ", ".join(m.name for m in matches)
        raise WorkspaceLookupError(
            f"{query!r} matches {len(matches)} agents ({listed}); give the folder name or path"
        )
    return matches[0]
