"""Notices of runs that end: said once per end, whoever started the run.

A run started in the app ends twice over: its child exits (the Run tab hears it) and, when the
watcher is on, its ``config.json`` turns from running to settled. A run started by another
process is seen only the second way. :class:`RunNotices` turns both into one notice per end.
"""

from __future__ import annotations

from agent_tui.format.layout import SETTLED, Status
from agent_tui.units import plural, shorten

# status -> (what is said, the toast's severity)
WORDS = {
    Status.COMPLETED: ("finished", "information"),
    Status.ERROR: ("failed", "error"),
    Status.INTERRUPTED: ("was interrupted", "warning"),
}


class RunNotices:
    """Remembers which ends were said, by agent folder."""

    def __init__(self) -> None:
        self._said: dict[str, str] = {}

    def started(self, folder: str) -> None:
        """A new run of ``folder`` began: its end is news again."""
        self._said.pop(folder, None)

    def ended(
        self, folder: str, name: str, status: str, *, loops: int | None, error: str | None
    ) -> tuple[str, str] | None:
        """The notice for a run of ``folder`` that is now ``status``, with its severity; None
        when it was said already or the run has not ended."""
        if status == Status.RUNNING:
            self.started(folder)
            return None
        if status not in SETTLED or self._said.get(folder) == status:
            return None
        self._said[folder] = status
        words, severity = WORDS[Status(status)]
        message = f"{name} {words}"
        if loops is not None:
            message += f" after {plural(loops, 'step')}"
        if error and status == Status.ERROR:
            message += f": {shorten(error, 160)}"
        return message, severity
