"""``agent-tui diff``: two agents, two JSON files, or two steps of one agent."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from agent_tui.cli.commands import find_agent, workspace_root
from agent_tui.cli.errors import CliError


def cmd_diff(args: argparse.Namespace) -> int:
    from agent_tui import diff as structural
    from agent_tui.compare import agent_document, compare
    from agent_tui.format.persistence import read_json
    from agent_tui.workspace import step_history

    root = workspace_root(args)
    if args.steps is not None:
        if args.b is not None:
            raise CliError("give one agent with --steps N M, not two")
        history = step_history(find_agent(args.a, root))
        first, second = args.steps
        old, new = history.document(first), history.document(second)
    elif args.b is None:
        raise CliError("give two agents or two JSON files to compare, or one agent and --steps")
    else:
        files = [Path(x).is_file() for x in (args.a, args.b)]
        if all(files):
            old, new = read_json(args.a), read_json(args.b)
        elif any(files):
            raise CliError("compare two JSON files or two agents, not one of each")
        else:
            old = agent_document(find_agent(args.a, root))
            new = agent_document(find_agent(args.b, root))
    changes = compare(old, new, ignore_noise=args.ignore_noise)
    if args.json:
        sys.stdout.buffer.write(structural.to_json(changes) + b"\n")
        return 0
    force = {"always": True, "never": False}.get(args.color)
    color = structural.use_color(sys.stdout, force)
    sys.stdout.write(structural.render_text(changes, color=color))
    return 0
