"""``agent-tui run`` and ``agent-tui resume``: an agent run in this process, its answer
streamed to stdout and its progress to stderr."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from agent_tui.cli.commands import find_agent, workspace_root
from agent_tui.cli.errors import EXIT_INTERRUPTED, EXIT_TERMINATED, PROG, CliError
from agent_tui.cli.output import plural
from agent_tui.defaults import CONTINUE_TASK


def _run_agent(agent: Any, task: str) -> int:
    from agent_tui.agent import AgentInterrupted
    from agent_tui.models import MissingKeyError, ModelError
    from agent_tui.run_render import Tag, TerminalPrinter

    try:
        agent.check_keys()  # before its folder is made: a run that cannot start leaves nothing
    except MissingKeyError as exc:
        raise CliError(str(exc)) from None
    # The answer to stdout, progress to stderr; the autosaves of every step only in the app.
    printer = TerminalPrinter(agent._redactor, hide=frozenset({Tag.SAVED}))
    agent.on_event = printer.event
    folder = agent._get_agent_workspace_dir()
    try:
        agent.run(task, streaming_callback=printer.chunk)
    except ModelError as exc:
        printer.note("")
        message = printer.redactor.redact_text(f"{exc}; state saved in {folder}")
        raise CliError(message) from None
    except AgentInterrupted as exc:
        printer.note(f"{PROG}: {exc} in {folder}")
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        printer.note(f"{PROG}: interrupted; state saved in {folder} (resume: {PROG} resume)")
        return EXIT_INTERRUPTED
    printer.note(f"workspace: {folder}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from agent_tui import Agent
    from agent_tui.demo import DEMO_TOOLS

    if not args.task.strip():
        raise CliError("the task is empty: say what the agent should do")
    try:
        agent = Agent(
            model_name=args.model,
            agent_name=args.name,
            max_loops=args.max_loops,
            autosave=True,
            verbose=False,
            tools=DEMO_TOOLS,  # the same tools as runs started from the app
            workspace_dir=args.workspace,
        )
    except ValueError as exc:
        raise CliError(str(exc)) from None
    return _run_agent(agent, args.task)


def cmd_resume(args: argparse.Namespace) -> int:
    from agent_tui.runner import SpecError, resume_agent

    folder = find_agent(args.agent, workspace_root(args))
    try:
        from agent_tui.demo import DEMO_TOOLS

        agent = resume_agent(folder, model=args.model, max_loops=args.max_loops, tools=DEMO_TOOLS)
    except (SpecError, ValueError) as exc:
        raise CliError(str(exc)) from None
    print(
        f"resuming {agent.agent_name!r} after step {agent.loop_count} "
        f"({plural(len(agent.conversation), 'message')}) in {agent._get_agent_workspace_dir()}",
        file=sys.stderr,
    )
    return _run_agent(agent, args.task or CONTINUE_TASK)
