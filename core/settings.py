"""Where workspaces live and which environment the runtime reads.

Settings are read at use time, never cached for the life of the process: a test, a script or the
TUI may change ``WORKSPACE_DIR`` between two calls and expect the second call to see it.
"""

from __future__ import annotations

import os
from pathlib import Path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

DEFAULT_WORKSPACE_DIR = "agent_workspace"
AGENTS_SUBDIR = "agents"

_loaded_dotenv_for: set[str] = set()


def load_env() -> None:
    """Load the nearest ``.env`` (searched upward from the current directory) once per directory.

    Values already in the environment win over the file, as python-dotenv does by default.
    """
    cwd = os.getcwd()
    if cwd in _loaded_dotenv_for:
        return
    _loaded_dotenv_for.add(cwd)
    from dotenv import find_dotenv, load_dotenv

    path = find_dotenv(usecwd=True)
    if path:
        load_dotenv(path, override=False)


def workspace_root(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The workspace root: ``explicit``, else ``$WORKSPACE_DIR``, else ``./agent_workspace``."""
    # Loaded whichever way the root is chosen: redaction must know the secrets ``.env`` holds.
    load_env()
    if explicit is not None:
        return Path(explicit).expanduser()
    value = os.environ.get("WORKSPACE_DIR", "").strip()
    return Path(value or DEFAULT_WORKSPACE_DIR).expanduser()


def configured_root(configured: Sequence[str]) -> str | None:
    """The user config's first workspace root, when nothing stronger names one: it comes after
    ``--workspace`` and ``$WORKSPACE_DIR`` (``.env`` included), before ``./agent_workspace``."""
    if not configured:
        return None
    load_env()
    return None if os.environ.get("WORKSPACE_DIR", "").strip() else configured[0]


def agents_dir(root: str | os.PathLike[str] | None = None) -> Path:
    """``<workspace root>/agents``: the only folder the runtime ever writes agent folders into."""
    return workspace_root(root) / AGENTS_SUBDIR


def configure_litellm_offline() -> None:
    """Stop litellm from reaching the network at import (cost map) and at call time (tokenizers).

    Must run before ``import litellm``; setting the variables afterwards has no effect.
    """
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    os.environ.setdefault("LITELLM_OFFLINE_MODE", "true")
    os.environ.setdefault("LITELLM_LOG", "ERROR")
