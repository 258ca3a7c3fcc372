"""``agent-tui run`` and ``agent-tui resume``: an agent run in this process, its answer
streamed to stdout and its progress to stderr."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from agent_tui.cli.commands import workspace_root
from agent_tui.cli.errors import EXIT_INTERRUPTED, EXIT_TERMINATED, PROG, CliError
from agent_tui.defaults import CONTINUE_TASK
from agent_tui.units import clip, printable


class _RunPrinter:
    """Streams the answer to stdout and one progress line per step to stderr, both redacted
    (the answer across chunk boundaries) with the agent's redactor."""

    def __init__(self, redactor: Any) -> None:
        from agent_tui.redaction import StreamRedactor

        self.redactor = redactor
        self.stream = StreamRedactor(redactor)
        self.at_line_start = True

    def chunk(self, text: str) -> None:
        self._write(self.stream.feed(text))

    def _write(self, text: str) -> None:
        if text:
            sys.stdout.write(printable(text))
            sys.stdout.flush()
            self.at_line_start = text.endswith("\n")

    def _note(self, text: str) -> None:
        self._write(self.stream.flush())  # the answer so far ends before any note
        if not self.at_line_start:
            sys.stdout.write("\n")
            sys.stdout.flush()
            self.at_line_start = True
        print(clip(self.redactor.redact_text(text), 300), file=sys.stderr, flush=True)

    def event(self, event: Any) -> None:
        data = event.data
        if event.kind == "step_start":
            self._note(f"-- step {data.get('step')} ({data.get('loop')}/{data.get('max_loops')})")
        elif event.kind == "tool_call":
            self._note(f"   tool {data.get('name')}({clip(str(data.get('arguments', '')), 80)})")
        elif event.kind == "tool_result":
            self._note(f"   -> {clip(str(data.get('result', '')), 100)}")
        elif event.kind == "step_end":
            calls = data.get("tool_calls") or 0
            self._note(f"   step {data.get('step')} saved ({calls} tool calls)")
        elif event.kind == "autosave_failed":
            self._note(f"   autosave failed: {data.get('error', data)} (retried next step)")
        elif event.kind == "run_end":
            self._note(f"-- run {data.get('status')} after {data.get('loop_count')} steps")


def _run_agent(agent: Any, task: str) -> int:
    from agent_tui.agent import AgentInterrupted
    from agent_tui.models import ModelError

    printer = _RunPrinter(agent._redactor)
    agent.on_event = printer.event
    folder = agent._get_agent_workspace_dir()
    try:
        agent.run(task, streaming_callback=printer.chunk)
    except ModelError as exc:
        printer._note("")
        message = printer.redactor.redact_text(f"{exc}; state saved in {folder}")
        raise CliError(message) from None
    except AgentInterrupted as exc:
        printer._note(f"{PROG}: {exc} in {folder}")
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        printer._note(f"{PROG}: interrupted; state saved in {folder} (resume: {PROG} resume)")
        return EXIT_INTERRUPTED
    printer._note(f"workspace: {folder}")
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
    from agent_tui.workspace import resolve_agent

    folder = resolve_agent(args.agent, workspace_root(args))
    try:
        from agent_tui.demo import DEMO_TOOLS

        agent = resume_agent(folder, model=args.model, max_loops=args.max_loops, tools=DEMO_TOOLS)
    except (SpecError, ValueError) as exc:
        raise CliError(str(exc)) from None
    print(
        f"resuming {agent.agent_name!r} after step {agent.loop_count} "
        f"({len(agent.conversation)} messages) in {agent._get_agent_workspace_dir()}",
        file=sys.stderr,
    )
    return _run_agent(agent, args.task or CONTINUE_TASK)
