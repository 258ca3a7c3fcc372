"""``agent-tui export``: one agent's runs as Markdown, HTML or JSON, to stdout or a file."""

from __future__ import annotations

import argparse
import sys

from agent_tui.cli.commands import find_agent, workspace_root
from agent_tui.cli.errors import CliError


def cmd_export(args: argparse.Namespace) -> int:
    from agent_tui.export import export_agent, write_export
    from agent_tui.format.persistence import UnsafePathError

    folder = find_agent(args.agent, workspace_root(args))
    data = export_agent(folder, args.format, upto_step=args.step)
    if args.output is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        return 0
    try:
        write_export(args.output, data)
    except UnsafePathError as exc:
        raise CliError(f"export not written: {args.output} {exc.reason}; left alone") from None
    except OSError as exc:
        raise CliError(f"export not written to {args.output}: {exc.strerror or exc}") from None
    print(f"exported {args.format} to {args.output}", file=sys.stderr)
    return 0
