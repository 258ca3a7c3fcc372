"""Opening a workspace file in the user's own programs: ``$EDITOR`` and ``$PAGER``.

The command comes from the environment, split as a shell would split it (``EDITOR="code -w"``)
but never run through a shell; the path is its last argument, one argument whatever it holds.
Only regular files are opened: a FIFO would hang the editor and a link lead out of the folder.
"""

from __future__ import annotations

import os
import shlex
import shutil
from pathlib import Path

DEFAULTS = {"edit": ("EDITOR", ("VISUAL", "EDITOR"), "vi"), "page": ("PAGER", ("PAGER",), "less")}


class OutsideError(Exception):
    """Why the file cannot be opened outside the app (said to the user as it is)."""


def external_command(
    command: str,
    path: Path,
    kind: str,
    *,
    read_only: bool = False,
    environ: dict[str, str] | None = None,
) -> list[str]:
    """The argv that opens ``path`` for ``command`` (``edit`` or ``page``)."""
    env = os.environ if environ is None else environ
    name, variables, fallback = DEFAULTS[command]
    if kind != "file":
        raise OutsideError(f"{path.name} is a {kind}, not a regular file: not opened")
    if command == "edit" and read_only:
        raise OutsideError("read-only session: e is off (o opens the file in $PAGER)")
    text = next((env[v] for v in variables if env.get(v, "").strip()), fallback)
    try:
        argv = shlex.split(text)
    except ValueError as exc:
        raise OutsideError(f"${name} cannot be read ({exc}): {text!r}") from None
    if not argv or shutil.which(argv[0], path=env.get("PATH")) is None:
        raise OutsideError(f"{argv[0] if argv else text!r} not found: set ${name}")
    return [*argv, os.fspath(path.absolute())]  # absolute: never read as an option
