"""The demo: a workspace made by real runs of the offline model, then one live run to watch.

``agent-tui demo`` (and ``make demo``) builds ``./agent_workspace`` with finished, failed and
interrupted agents (or reuses the ones a previous demo built), then opens the app on it with
one slow live run already streaming, so each autosave can be seen as it lands.
``--terminal`` streams the live run in the terminal instead, printing each autosave.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from agent_tui.agent import Agent, AgentEvent, AgentInterrupted
from agent_tui.format.naming import agent_folder_name, stable_agent_id
from agent_tui.models import ModelError
from agent_tui.runner import RunSpec

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    OpenDemo = Callable[[Path, RunSpec], int]

FACTS = {
    "fsync": "fsync flushes a file's data and metadata to stable storage.",
    "rename": "rename(2) replaces the target atomically within one file system.",
    "journal": "An append-only journal makes each step durable at constant cost.",
}


def word_count(text: str) -> int:
    """Count the words in a text.

    Args:
        text: The text to count.
    """
    return len(text.split())


def lookup_fact(topic: str) -> str:
    """Look up a short fact about a storage topic.

    Args:
        topic: A word such as fsync, rename or journal.
    """
    for key, fact in FACTS.items():
        if key in topic.lower():
            return fact
    return f"No fact stored about {topic!r}; known topics: {', '.join(FACTS)}."


DEMO_TOOLS = [word_count, lookup_fact]
# The same tools as references, for a run spec (the app's runs and the live demo).
DEMO_TOOL_REFS = [f"{__name__}:{tool.__name__}" for tool in DEMO_TOOLS]

DEMO_AGENTS = [
    ("research-assistant", "offline/demo", "Explain how fsync and rename make saves atomic"),
    ("report-writer", "offline/demo?words=120", "Write a short report on journal compaction"),
    ("flaky-fetcher", "offline/demo?fail_at=2&fail=rate_limit", "Fetch and summarise the logs"),
    ("night-batch", "offline/demo?delay=0.01&tool_steps=50", "Index every document in the archive"),
]


LIVE_NAME = "live-demo"
LIVE_TASK = "Explain how fsync, rename and a journal keep an agent's work safe"


def demo_folders(root: Path) -> list[Path]:
    """The folders :func:`build_demo_workspace` writes (and only those)."""
    return [
        root / "agents" / agent_folder_name(name, stable_agent_id(name))
        for name, _, _ in DEMO_AGENTS
    ]


def demo_workspace_ready(root: Path) -> bool:
    """True when a previous demo left every demo agent with a readable config."""
    from agent_tui.workspace import read_agent

    folders = demo_folders(root)
    return all(f.is_dir() for f in folders) and all(
        read_agent(f).status not in ("broken", "unknown", "running") for f in folders
    )


def live_run_spec(root: Path, *, delay: float = 0.08, steps: int = 9) -> RunSpec:
    """The demo's live run: slow enough to watch each step stream and autosave."""
    return RunSpec(
        agent_name=LIVE_NAME,
        task=LIVE_TASK,
        model=f"offline/demo?delay={delay}&tool_steps={steps - 1}&words=90",
        max_loops=steps + 1,
        workspace=str(root),
        tools=list(DEMO_TOOL_REFS),
    )


def build_demo_workspace(root: Path, *, quiet: bool = False) -> list[Path]:
    """Create finished, failed and interrupted agents under ``root`` by really running them."""
    folders = []
    for name, model, task in DEMO_AGENTS:
        agent = Agent(
            model_name=model, agent_name=name, max_loops=50, tools=DEMO_TOOLS, workspace_dir=root
        )
        if name == "night-batch":
            # Interrupted after a few steps, as Ctrl-C would.
            def stop_after_steps(event: AgentEvent, agent: Agent = agent) -> None:
                if event.kind == "step_end" and event.data["step"] >= 4:
                    agent.request_stop()

            agent.on_event = stop_after_steps
        try:
            agent.run(task)
            outcome = "completed"
        except ModelError as exc:
            outcome = f"failed: {exc.kind}"
        except AgentInterrupted:
            outcome = "interrupted"
        folders.append(Path(agent._get_agent_workspace_dir()))
        if not quiet:
            print(f"  {name:<20} {outcome:<22} {agent.loop_count} steps  {folders[-1]}")
    return folders


def live_run(root: Path, *, delay: float = 0.04, steps: int = 6) -> int:
    """Stream a live run in the terminal, with a line for each step and each autosave (the
    lines the Run tab shows, :mod:`agent_tui.run_render`)."""
    from agent_tui.run_render import TerminalPrinter

    agent = Agent(
        model_name=f"offline/demo?delay={delay}&tool_steps={steps - 1}",
        agent_name=LIVE_NAME,
        max_loops=steps,
        tools=DEMO_TOOLS,
        workspace_dir=root,
    )
    printer = TerminalPrinter(agent._redactor, notes=sys.stdout)
    agent.on_event = printer.event
    printer.note(f"Live run -> {agent._get_agent_workspace_dir()}")
    try:
        agent.run(LIVE_TASK, streaming_callback=printer.chunk)
    except KeyboardInterrupt:
        printer.note("Interrupted: state saved with status 'interrupted'.")
        return 130
    printer.note(f"Done: {agent.loop_count} steps, status {agent.status}.")
    printer.note(f"Files: {', '.join(sorted(os.listdir(agent._get_agent_workspace_dir())))}")
    return 0


def main(argv: list[str] | None = None, *, open_app: OpenDemo | None = None) -> int:
    """``agent-tui demo``. ``open_app(root, spec)`` opens the app with the live run (the UI
    side passes it); without it, or off a terminal, the live run streams here."""
    parser = argparse.ArgumentParser(
        prog="agent-tui demo",
        description="Build a demo workspace with real offline runs, then open agent-tui on it "
        "with a live run streaming.",
        epilog="examples:\n"
        "  agent-tui demo                  build (or reuse) ./agent_workspace and open the app\n"
        "  agent-tui demo --rebuild        run the demo agents again first\n"
        "  agent-tui demo --terminal       stream the live run in this terminal instead\n"
        "  agent-tui demo --no-live        only build the demo workspace\n"
        "  agent-tui demo --delay 0.2      a slower live run (seconds between chunks)\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--workspace", type=Path, default=None, help="workspace root")
    parser.add_argument("--delay", type=float, default=None, help="seconds between chunks")
    parser.add_argument(
        "--rebuild",
        action="store_true",
        help="run the demo agents again even if a previous demo built them",
    )
    parser.add_argument(
        "--terminal",
        "--no-app",
        dest="terminal",
        action="store_true",
        help="stream the live run in the terminal instead of opening the app",
    )
    parser.add_argument("--no-live", action="store_true", help="only build the workspace")
    args = parser.parse_args(argv)  # fmt: skip
    from agent_tui.settings import workspace_root

    root = workspace_root(args.workspace)
    if args.rebuild or not demo_workspace_ready(root):
        for folder in demo_folders(root):
            shutil.rmtree(folder, ignore_errors=True)
        print(f"Building a demo workspace in {root.resolve()} (offline model, no network):")
        build_demo_workspace(root)
    else:
        print(f"Reusing the demo workspace in {root.resolve()} (--rebuild to make it again).")
    if args.no_live:
        return 0
    if open_app is None or args.terminal or not (sys.stdin.isatty() and sys.stdout.isatty()):
        return live_run(root, delay=0.04 if args.delay is None else args.delay)
    spec = live_run_spec(root) if args.delay is None else live_run_spec(root, delay=args.delay)
    return open_app(root, spec)


if __name__ == "__main__":
    sys.exit(main())
