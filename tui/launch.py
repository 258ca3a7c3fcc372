"""The ``agent-tui`` console script: headless commands go to :mod:`agent_tui.cli`; no command
(or ``demo`` on a terminal) opens the app.

It lives on the UI side so that nothing in the runtime imports the UI: the CLI is handed the
two ways of opening the app as plain callables.
"""

from __future__ import annotations

from agent_tui import cli

# Only what `agent-tui ls` needs is imported up front: the app loads when it opens.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from agent_tui.runner import RunSpec
    from agent_tui.user_config import UserConfig


def open_app(
    workspace: str | list[str] | None,
    *,
    read_only: bool = False,
    watch: bool = True,
    config: UserConfig | None = None,
) -> int:
    """Run the app on ``workspace`` (one root, or a list of them) until the user quits; returns its exit code. ``config``:
    the user config file as the CLI loaded it (None: there is none, the defaults apply)."""
    from agent_tui.tui.app import AgentTUI

    app = AgentTUI(workspace_dir=workspace, read_only=read_only, watch=watch, config=config)
    app.run()
    return app.return_code or 0


def open_demo(root: Path, spec: RunSpec) -> int:
    """The app on the demo workspace with the live run ``spec`` already streaming."""
    from agent_tui.tui.app import AgentTUI

    app = AgentTUI(workspace_dir=root, start_runs=[spec])
    app.run()
    return app.return_code or 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``agent-tui``; returns the exit status."""
    return cli.main(None if argv is None else list(argv), open_app=open_app, open_demo=open_demo)


if __name__ == "__main__":
    raise SystemExit(main())
