"""The Run tab. Part 2 (issue 5) puts the live run pane here: a new-run form (``n``), the
streamed output, interrupt, and load/resume (``l``). For now it says what is coming."""

from __future__ import annotations

from textual.widgets import Static

PLACEHOLDER = (
    "Runs started from agent-tui will appear here: a new-run form, the streamed answer,\n"
    "step i of N, each autosave as it lands, interrupt, and load/resume of a saved agent.\n\n"
    "Until then, start agents from Python or the CLI (agent-tui run ...); the workspace\n"
    "list on the left follows them live."
)


class RunPane(Static):
    """Placeholder for the live run pane."""

    def __init__(self, **kwargs) -> None:
        super().__init__(PLACEHOLDER, **kwargs)
