"""What a run tells the outside: :class:`AgentEvent` to the ``on_event`` callback, and the
autosave lines on stderr (every write when ``verbose``, every failure always)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class AgentInterrupted(Exception):
    """The run was stopped (SIGTERM or :meth:`Agent.request_stop`); its state is saved."""


@dataclass
class AgentEvent:
    """Something that happened during a run, for progress displays.

    Kinds: ``run_start``, ``step_start``, ``tool_call``, ``tool_result``, ``step_end``,
    ``autosave``, ``autosave_failed``, ``run_end``.
    """

    kind: str
    data: dict[str, Any] = field(default_factory=dict)


class Events:
    """The agent's one way out for events and write reports."""

    def __init__(self, on_event: Callable[[AgentEvent], None] | None, verbose: bool) -> None:
        self.on_event = on_event
        self.verbose = verbose

    def emit(self, kind: str, **data: Any) -> None:
        if self.on_event is not None:
            self.on_event(AgentEvent(kind, data))

    def written(self, what: str, path: Path, size: int, ms: float, **extra: Any) -> None:
        """A file (``what``) was written: ``size`` bytes in ``ms`` milliseconds."""
        if self.verbose:
            print(f"[autosave] {what} -> {path} ({size:,} B, {ms:.1f} ms)", file=sys.stderr)
        self.emit("autosave", file=what, path=str(path), bytes=size, ms=ms, **extra)

    def write_failed(self, what: str, folder: Path | None, exc: OSError) -> None:
        reason = exc.strerror or str(exc)
        print(
            f"[autosave] FAILED to write {what} in {folder}: {reason}; "
            "the run goes on and the write is retried at the next step",
            file=sys.stderr,
        )
        self.emit("autosave_failed", file=what, error=reason)
