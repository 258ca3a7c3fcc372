"""``agent-tui run`` and ``agent-tui resume``: an agent run in this process, its answer
streamed to stdout and its progress to stderr.

A new task under a name whose agent exists asks first (:func:`ask_reuse`): continue that agent
(what a name always found: its folder, the earlier runs kept in its journal), start a new agent
beside it (a folder of its own: a fresh id), or cancel. ``--yes`` and ``--new`` answer for
scripts; with no terminal to ask on and neither given, nothing is written (exit 2).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from agent_tui.cli.commands import find_agent, local_root, shown_path, workspace_root
from agent_tui.cli.errors import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    EXIT_USAGE,
    PROG,
    CliError,
)
from agent_tui.cli.output import masker, plural
from agent_tui.defaults import CONTINUE_TASK

# What a user may answer when a name is in use, and what each answer means.
REUSE_ANSWERS = {"c": "continue", "continue": "continue", "n": "new", "new": "new"}
REUSE_ANSWERS |= {"q": "cancel", "quit": "cancel", "cancel": "cancel"}
REUSE_TRIES = 3


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
    folder = shown_path(Path(agent._get_agent_workspace_dir()))
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


def ask_reuse(name: str, folder: Path, stdin: TextIO, stderr: TextIO) -> str:
    """Ask on ``stderr``, read the answer from ``stdin``: ``"continue"`` the agent of ``name``
    in ``folder``, start a ``"new"`` one beside it, or ``"cancel"`` (also at end of input, or
    after :data:`REUSE_TRIES` answers that are none of c, n, q)."""
    shown = masker().redact_text(f"an agent named {name!r} exists already: {folder}")
    stderr.write(f"{shown}\n")
    for _ in range(REUSE_TRIES):
        stderr.write("[c]ontinue it, start a [n]ew agent beside it, or [q] cancel? [c/n/q] ")
        stderr.flush()
        line = stdin.readline()
        if not line:
            stderr.write("\n")
            return "cancel"
        answer = REUSE_ANSWERS.get(line.strip().lower())
        if answer is not None:
            return answer
    return "cancel"


def _reuse(args: argparse.Namespace, folder: Path) -> str | None:
    """How to treat the agent that already has ``args.name``: the flag's answer, the user's
    on a terminal, or ``None`` when there is neither (a script must say)."""
    if args.yes:
        return "continue"
    if args.new:
        return "new"
    if all(stream is not None and stream.isatty() for stream in (sys.stdin, sys.stderr)):
        return ask_reuse(args.name, folder, sys.stdin, sys.stderr)
    return None


def _agent(settings: dict[str, Any]) -> Any:
    from agent_tui import Agent

    try:
        return Agent(**settings)
    except ValueError as exc:
        raise CliError(str(exc)) from None


def cmd_run(args: argparse.Namespace) -> int:
    import uuid

    from agent_tui.agent.fork import existing_agent
    from agent_tui.demo import DEMO_TOOLS

    if not args.task.strip():
        raise CliError("the task is empty: say what the agent should do")
    settings: dict[str, Any] = {
        "model_name": args.model,
        "agent_name": args.name,
        "max_loops": args.max_loops,
        "autosave": True,
        "verbose": False,
        "tools": DEMO_TOOLS,  # the same tools as runs started from the app
        "workspace_dir": args.workspace,
    }
    agent = _agent(settings)  # bad settings are refused before anything is asked
    existing = existing_agent(args.name, local_root(args.workspace))
    choice = "continue" if existing is None else _reuse(args, existing)
    if choice is None:
        shown = masker().redact_text(
            f"an agent named {args.name!r} exists already ({existing}): pass --yes to "
            "continue it or --new to start a new agent beside it"
        )
        print(f"{PROG}: error: {shown}", file=sys.stderr)
        return EXIT_USAGE
    if choice == "cancel":
        print(f"{PROG}: cancelled; nothing was written", file=sys.stderr)
        return EXIT_ERROR
    if choice == "new":
        # A fresh id is a folder of its own; the name's folder keeps its agent.
        agent = _agent({**settings, "id": uuid.uuid4().hex})
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
