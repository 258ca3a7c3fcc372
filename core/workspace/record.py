"""The record of one agent folder: what the disk says about it, cheap to build and to list."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from agent_tui.format.layout import SWARMS_MEMORY_NAME, Format, Layout, Status

# typing costs 3 ms of start-up and is needed only by type checkers here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _is_regular(path: str) -> bool:
    """A regular file there, not followed if a link."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def from_ns(ns: int) -> datetime | None:
    """An aware UTC datetime from nanoseconds since the epoch; ``None`` for 0 (no time)."""
    return datetime.fromtimestamp(ns / 1e9, tz=UTC) if ns else None


@dataclass(slots=True)
class AgentRecord:
    """What one folder under ``<root>/agents`` (or a swarms structure run's under
    ``<root>/swarms/<ClassName>``) holds, as far as the disk tells.

    The folder, the state file and the newest mtime are kept as the strings and integers the
    scan found; :attr:`folder`, :attr:`state_file` and :attr:`modified` build the ``Path`` and
    ``datetime`` objects when asked. A scan of 10,000 folders would otherwise spend a fifth of
    its time building objects that a listing never looks at.
    """

    name: str
    agent_id: str | None
    path: str
    format: str = Format.UNKNOWN
    status: str = Status.UNKNOWN
    loop_count: int | None = None
    last_autosave: datetime | None = None
    model: str | None = None
    size_bytes: int = 0
    file_count: int = 0
    problems: list[str] = field(default_factory=list)
    config_mtime_ns: int | None = None
    # The state file's name inside the folder.
    state_name: str | None = None
    error: str | None = None
    # Newest mtime of any file in the folder: the age of a folder whose config cannot be read.
    modified_ns: int = 0
    holder: str | None = None
    cost: float | None = None  # dollars spent so far, from the config's usage (ours)
    tokens: int | None = None  # prompt + completion tokens so far, from the same usage
    # What the folder is (Layout): an agent's, a swarms memory folder, a swarms structure run.
    layout: str = Layout.AGENT
    memory_of: str | None = None  # a memory folder's agent name (the folder's raw name)
    swarm_class: str | None = None  # a structure run's class folder (SequentialWorkflow, ...)
    _folder: Path | None = field(default=None, repr=False, compare=False)

    @property
    def folder(self) -> Path:
        if self._folder is None:
            self._folder = Path(self.path)
        return self._folder

    @property
    def folder_name(self) -> str:
        return self.path.rpartition(os.sep)[2]

    @property
    def state_file(self) -> Path | None:
        return self.folder / self.state_name if self.state_name else None

    @property
    def modified(self) -> datetime | None:
        return from_ns(self.modified_ns)

    @property
    def last_activity(self) -> datetime | None:
        """The autosave time, or the newest file's mtime when the config has none."""
        return self.last_autosave or self.modified

    def resume_refusal(self) -> str | None:
        """Why this folder cannot be loaded and continued, or ``None`` when it can."""
        if self.layout == Layout.MEMORY:
            return (
                f"{self.folder_name} cannot be resumed: no config.json (the swarms"
                f" {SWARMS_MEMORY_NAME} memory of {self.memory_of}, not a saved agent)"
            )
        if self.layout == Layout.STRUCTURE:
            return (
                f"{self.folder_name} cannot be resumed: the run of a swarms"
                f" {self.swarm_class}, not a saved agent"
            )
        if self.status == Status.RUNNING:
            return f"{self.name} is running now; wait for it to finish"
        if self.status == Status.BROKEN or self.format == Format.UNKNOWN:
            problem = "; ".join(self.problems) or "no agent state found"
            if _is_regular(os.path.join(self.path, SWARMS_MEMORY_NAME)):
                problem += f" (a swarms {SWARMS_MEMORY_NAME} memory folder, not a saved agent)"
            return f"{self.folder_name} cannot be resumed: {problem}"
        return None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (paths and times as strings)."""
        modified = self.modified
        return {
            "name": self.name,
            "agent_id": self.agent_id,
            "folder": self.path,
            "format": self.format,
            "status": self.status,
            "loop_count": self.loop_count,
            "last_autosave": self.last_autosave.isoformat() if self.last_autosave else None,
            "model": self.model,
            "size_bytes": self.size_bytes,
            "file_count": self.file_count,
            "problems": list(self.problems),
            "state_file": os.path.join(self.path, self.state_name) if self.state_name else None,
            "error": self.error,
            "modified": modified.isoformat() if modified else None,
            "holder": self.holder,
            "cost": self.cost,
            "tokens": self.tokens,
            "layout": self.layout,
            "memory_of": self.memory_of,
            "swarm_class": self.swarm_class,
        }
