"""Where an agent lives: its folder and the lock on it.

A name finds a folder only the first time (``$WORKSPACE_DIR/agents/{safe-name}-{id12}``);
once :meth:`Home.adopt` was given a folder (by ``load()``), that folder is the agent.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from agent_tui.format.lock import WorkspaceLock
from agent_tui.format.naming import agent_folder_name
from agent_tui.format.persistence import WorkspaceFileError, is_temp_file, open_folder
from agent_tui.settings import AGENTS_SUBDIR, agents_dir
from agent_tui.store import is_remote, workspace_root

if TYPE_CHECKING:
    from agent_tui.store.remote import RemoteAgent, RemoteLease


class Home:
    """The agent's folder, derived from its name and id or adopted, and its lock."""

    def __init__(
        self, agent_name: str, agent_id: str, workspace_dir: str | os.PathLike[str] | None
    ) -> None:
        self.agent_name = agent_name
        self.agent_id = agent_id
        self.workspace_dir = workspace_dir
        # The folder given by load(path): a copied folder resumes in itself, never in the
        # folder its name would derive.
        self._adopted: Path | None = None
        # The folder the current (or last) run writes to, fixed by bind().
        self.folder: Path | None = None
        self.lock: WorkspaceLock | RemoteLease | None = None
        # On an s3:// root: the agent's objects there (the folder is then its mirror's).
        self.remote: RemoteAgent | None = None

    def adopt(self, folder: Path) -> None:
        """From now on the agent is ``folder``."""
        self._adopted, self.folder = folder, None

    def find(self) -> Path:
        """The agent's folder, created if missing."""
        if self._adopted is not None:
            info = os.lstat(self._adopted)  # FileNotFoundError: the folder was removed
            if not stat.S_ISDIR(info.st_mode):
                raise WorkspaceFileError(self._adopted, "is not a real folder (a link?), not used")
            self._adopt_remote(self._adopted)
            return self._adopted
        url = workspace_root(self.workspace_dir)
        if not is_remote(url) and url is not None:
            from agent_tui.store.mirror import remote_of

            url = remote_of(url) or url  # a remote root's mirror (a new run from the app)
        if is_remote(url):
            return self._find_remote(str(url))
        root = agents_dir(self.workspace_dir)
        folder = root / agent_folder_name(self.agent_name, self.agent_id)
        # The folder name is built to be one harmless component; check it anyway.
        if folder.parent != root or os.sep in folder.name or folder.name in (".", ".."):
            raise ValueError(f"refusing unsafe workspace folder {folder}")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise WorkspaceFileError(folder, "exists but is not a folder") from None
        if folder.is_symlink() or folder.resolve().parent != root.resolve():
            raise ValueError(f"workspace folder {folder} is a link or resolves outside {root}")
        return folder

    def _find_remote(self, url: str) -> Path:
        from agent_tui.store.mirror import mirror_folder
        from agent_tui.store.remote import RemoteAgent

        name = agent_folder_name(self.agent_name, self.agent_id)
        if os.sep in name or name in (".", ".."):
            raise ValueError(f"refusing unsafe workspace folder {name!r}")
        root = mirror_folder(url) / AGENTS_SUBDIR
        folder = root / name
        if self.remote is None or self.remote.folder != folder:
            remote = RemoteAgent(url, f"{AGENTS_SUBDIR}/{name}", folder)
            remote.prepare()  # the store is checked and what it holds of the agent brought down
            self.remote = remote
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        return folder

    def _adopt_remote(self, folder: Path) -> None:
        """A folder of a remote root's mirror (``resume`` of an s3:// agent) writes back there."""
        from agent_tui.store.mirror import mirror_of

        found = mirror_of(folder)
        if found is None or (self.remote is not None and self.remote.folder == folder):
            return
        from agent_tui.store.remote import RemoteAgent

        url, key = found
        remote = RemoteAgent(url, key, folder)
        remote.prepare()
        self.remote = remote

    def bind(self) -> Path:
        """Fix the folder for this run (and the lock that guards it)."""
        if self.folder is None or not os.path.isdir(self.folder):
            folder = self.find()
            if folder != self.folder or self.lock is None:
                self.lock = self.remote.lock if self.remote else WorkspaceLock(folder)
            self.folder = folder
        return self.folder

    def remove_stale_temp_files(self) -> None:
        """A process killed inside an atomic write leaves its temp file; the target is intact.
        Only called with the lock held, so no live writer owns these."""
        assert self.folder is not None
        try:
            fd = open_folder(self.folder)
        except OSError:
            return
        try:
            for name in os.listdir(fd):
                if is_temp_file(name):
                    try:
                        os.unlink(name, dir_fd=fd)  # a link is removed as a link
                    except OSError:
                        pass
        finally:
            os.close(fd)
