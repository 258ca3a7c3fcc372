"""Where a workspace's bytes live: a local folder (the default, written with fsync + rename by
:mod:`agent_tui.format.persistence`) or object storage through the S3 API (``s3://bucket/prefix``,
:mod:`agent_tui.store.s3`).

A remote root is read through a mirror (:mod:`agent_tui.store.mirror`): a local copy of its
objects in the user's cache, in the same layout, kept by ETag. Every reader of a local workspace
(``ls``, ``show``, ``diff``, search, the app) reads the mirror, so a remote workspace looks the
same as one copied down with ``aws s3 sync``. A run on a remote root writes its objects
directly (:mod:`agent_tui.store.remote`).
"""

from __future__ import annotations

import os

SCHEME = "s3://"


def is_remote(root: object) -> bool:
    """``root`` names object storage (``s3://bucket/prefix``), not a folder."""
    return isinstance(root, str) and root.startswith(SCHEME)


def workspace_root(root: str | os.PathLike[str] | None) -> str | os.PathLike[str] | None:
    """``root`` as given, or ``$WORKSPACE_DIR`` when it is None and that names a remote root."""
    if root is None:
        from agent_tui.settings import load_env

        load_env()
        env = os.environ.get("WORKSPACE_DIR", "").strip()
        if is_remote(env):
            return env
    return root
