"""``agent-tui``: the headless commands (ls, show, diff, run, resume, clean, history, fork,
search, export, demo, completion).

Start-up cost matters (``agent-tui --help`` must answer in well under 0.3 s): the parser
(:mod:`agent_tui.cli.parser`) loads only the standard library, and a command's module
(:mod:`agent_tui.cli.commands`) is imported when that command runs. Output goes through
:mod:`agent_tui.cli.output`; failures become one line on stderr (:mod:`agent_tui.cli.errors`).
"""

from __future__ import annotations

import os
import sys
from importlib import import_module

from agent_tui.cli.errors import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_USAGE, PROG, CliError, report
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
    "history": "history",
    "fork": "fork",
    "search": "search",
    "export": "export",
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
    from agent_tui.user_config import UserConfigError

    try:
        args = _with_user_config(parser, args, argv)
    except UserConfigError as exc:
        report(CliError(str(exc)))
        return EXIT_USAGE
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


def _with_user_config(
    parser: argparse.ArgumentParser, args: argparse.Namespace, argv: list[str] | None
) -> argparse.Namespace:
    """Load the user config once (``args.user_config``) and fill in what the command line left
    open: run's ``--model``, and the workspace root after ``--workspace`` and $WORKSPACE_DIR.
    Raises :class:`~agent_tui.user_config.UserConfigError` for a file that cannot be used."""
    from argparse import _SubParsersAction

    from agent_tui.user_config import load_user_config

    if args.command == "completion":  # a script made at install time owes nothing to a config
        args.user_config = None
        return args
    config = load_user_config(args.config)
    if args.command == "run" and config.model:
        # The config's model becomes run's default, so an explicit --model still wins.
        (commands,) = (a for a in parser._actions if isinstance(a, _SubParsersAction))
        commands.choices["run"].set_defaults(model=config.model)
        extra = args.demo_args, args.open_app, args.open_demo
        args, _ = parser.parse_known_args(argv)
        args.demo_args, args.open_app, args.open_demo = extra
    # The demo builds its own workspace: never inside the user's real one.
    if config.workspaces and args.workspace is None and args.command != "demo":
        from agent_tui.settings import configured_root

        args.workspace = configured_root(config.workspaces)
    args.user_config = config
    return args


def _launch_app(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.open_app is None:  # the headless CLI alone (python -m agent_tui.cli): no app here
        parser.print_help()
        return 0
    # Without a file the config is the defaults at the default place: the app's own defaults.
    config = args.user_config
    extra = {"config": config} if config.path.is_file() else {}
    roots = getattr(args, "workspaces", None) or []
    where = roots if len(roots) > 1 else args.workspace
    return args.open_app(where, read_only=args.read_only, watch=not args.no_watch, **extra)
