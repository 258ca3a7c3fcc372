"""``agent-tui fork``: a new agent from one agent's conversation up to step N.

Only reads and writes files (:mod:`agent_tui.agent.fork`): no model is loaded, so no litellm.
"""

from __future__ import annotations

import argparse
import shlex

from agent_tui.cli.commands import find_agent, mirror_at, workspace_root
from agent_tui.cli.errors import PROG, CliError
from agent_tui.cli.output import masked_record, masker, plural, write_json
from agent_tui.units import printable


def cmd_fork(args: argparse.Namespace) -> int:
    from agent_tui.agent.fork import ForkError, fork_agent
    from agent_tui.workspace import read_agent

    root = workspace_root(args)
    source = find_agent(args.agent, root)
    try:
        made = fork_agent(source, args.step, name=args.name, message=args.message)
    except ForkError as exc:
        raise CliError(str(exc)) from None
    remote = mirror_at(root)
    if remote is not None:  # the fork was made in the mirror: it belongs in the store
        from agent_tui.store.s3 import StoreError

        try:
            remote.upload_folder(made.folder)
        except StoreError as exc:
            raise CliError(f"the fork was made in {made.folder} but not stored: {exc}") from None
    if args.json:
        write_json({**masked_record(read_agent(made.folder)), "forked_from": made.forked_from})
        return 0
    mask = masker()
    lines = (
        f"forked {args.agent!r} at step {args.step} ({plural(made.messages, 'message')}) "
        f"into a new agent, {made.agent_name!r}:",
        str(made.folder),
        f"continue it: {PROG} resume {shlex.quote(made.folder.name)} 'the next task'",
    )
    for line in lines:
        print(printable(mask.redact_text(line)))
    return 0
