"""How the CLI fails: exit statuses, the user error, and one line on stderr for any exception.

A user error is ``agent-tui: error: ...`` on stderr and a non-zero exit, never a traceback
(``AGENT_TUI_DEBUG=1`` shows the traceback of an unexpected one).
"""

from __future__ import annotations

import os
import sys

PROG = "agent-tui"
EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_TERMINATED = 1, 2, 130, 143
DEBUG_ENV = "AGENT_TUI_DEBUG"


class CliError(Exception):
    """A user error: printed as one line, exit status 1."""


def report(exc: Exception) -> int:
    """Print ``exc`` as one masked line on stderr; returns the exit status."""
    from agent_tui.cli.output import clip, masker
    from agent_tui.format.lock import WorkspaceBusyError
    from agent_tui.format.persistence import WorkspaceFileError
    from agent_tui.workspace import WorkspaceLookupError

    if isinstance(exc, CliError | WorkspaceFileError | WorkspaceBusyError | WorkspaceLookupError):
        message = str(exc)
    elif isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        message = f"{where}{exc.strerror or exc}"
    else:
        if os.environ.get(DEBUG_ENV):
            raise exc
        message = f"unexpected {type(exc).__name__}: {exc} (set {DEBUG_ENV}=1 for the traceback)"
    print(f"{PROG}: error: {clip(masker().redact_text(message), 2000)}", file=sys.stderr)
    return EXIT_ERROR
