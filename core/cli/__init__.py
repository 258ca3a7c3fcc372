"""``agent-tui``: the headless commands (ls, show, diff, run, resume, clean, demo, completion).

Start-up cost matters (``agent-tui --help`` must answer in well under 0.3 s): the parser
(:mod:`agent_tui.cli.parser`) loads only the standard library, and a command's module
(:mod:`agent_tui.cli.commands`) is imported when that command runs. Output goes through
:mod:`agent_tui.cli.output`; failures become one line on stderr (:mod:`agent_tui.cli.errors`).
"""

from __future__ import annotations

import os
import sys
from importlib import import_module

from agent_tui.cli.errors import EXIT_ERROR, EXIT_INTERRUPTED, PROG, report
from agent_tui.cli.parser import build_parser

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable
    from pathlib import Path

    from agent_tui.runner import RunSpec

    OpenApp = Callable[..., int]  # (workspace, *, read_only, watch) -> exit code
    OpenDemo = Callable[[Path, RunSpec], int]

__all__ = ["build_parser", "main"]

# command -> the module under agent_tui.cli.commands that defines cmd_<command>
COMMANDS = {
    "ls": "ls",
    "show": "show",
    "diff": "diff",
    "run": "run",
    "resume": "run",
    "clean": "clean",
    "demo": "demo",
    "completion": "completion",
}


def main(
    argv: list[str] | None = None,
    *,
    open_app: OpenApp | None = None,
    open_demo: OpenDemo | None = None,
) -> int:
    """The command line; returns the exit status. The console script (the UI side,
    :mod:`agent_tui.tui.launch`) passes ``open_app`` and ``open_demo``, how to open the app
    with no command and for ``demo``: this package never imports the UI itself."""
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if rest and args.command != "demo":
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    args.demo_args = rest
    args.open_app, args.open_demo = open_app, open_demo
    try:
        if args.command is None:
            return _launch_app(parser, args)
        module = import_module(f"agent_tui.cli.commands.{COMMANDS[args.command]}")
        return getattr(module, f"cmd_{args.command}")(args)
    except KeyboardInterrupt:
        print(f"\n{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`agent-tui ls | head`); stop quietly, as cat and ls do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_ERROR
    except Exception as exc:
        return report(exc)


def _launch_app(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.open_app is None:  # the headless CLI alone (python -m agent_tui.cli): no app here
        parser.print_help()
        return 0
    return args.open_app(args.workspace, read_only=args.read_only, watch=not args.no_watch)
