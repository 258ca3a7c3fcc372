"""``agent-tui history``: every run of one agent, oldest first, as a table or as JSON."""

from __future__ import annotations

import argparse
import shutil
import sys
from datetime import datetime

from agent_tui.cli.commands import find_agent, workspace_root
from agent_tui.cli.output import clip, masker, plural, table, write_json
from agent_tui.units import format_seconds

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from agent_tui.workspace.runs import Run

HEADERS = ["#", "STARTED", "TOOK", "STATUS", "STEPS", "TOKENS", "TASK"]
TASK_COLUMN = 6
# Without a terminal (a pipe, a test) the table still fits the classic 80 columns.
DEFAULT_WIDTH = 80


def _when(text: str | None) -> datetime | None:
    from agent_tui.workspace.status import parse_timestamp

    moment = parse_timestamp(text)
    return moment.astimezone() if moment is not None else None


def _row(number: int, run: dict[str, Any]) -> list[str]:
    """The cells of one run, from its masked document (what --json prints)."""
    started, ended = _when(run["started"]), _when(run["ended"])
    took = "-"
    if started is not None and ended is not None and ended >= started:
        took = format_seconds((ended - started).total_seconds())
    first, last = run["first_step"], run["last_step"]
    steps = "-" if first is None else (str(first) if first == last else f"{first}-{last}")
    total = run["tokens"]["total"]
    return [
        str(number),
        started.strftime("%Y-%m-%d %H:%M") if started else "-",
        took,
        clip(run["status"], 20),
        steps,
        "-" if total is None else f"{total:,}",
        clip(run["task"] or "-", sys.maxsize),
    ]


def cmd_history(args: argparse.Namespace) -> int:
    from agent_tui.format.persistence import WorkspaceFileError
    from agent_tui.workspace import load_config, read_agent
    from agent_tui.workspace.runs import read_runs

    folder = find_agent(args.agent, workspace_root(args))
    record = read_agent(folder)
    found = read_runs(folder, record=record)
    try:
        config: dict[str, Any] = load_config(folder)
    except WorkspaceFileError:
        config = {}
    # A task can quote a key, and a swarms config keeps its keys in plain text: everything
    # printed is masked with the environment's secrets and those this agent's files hold.
    mask = masker(config)
    runs = [mask.redact(run.to_dict()) for run in found.runs]
    problems = [mask.redact_text(problem) for problem in found.problems]
    if args.json:
        write_json(runs)
    elif not runs:
        print(f"no runs recorded for {clip(mask.redact_text(record.name), 200)}")
    else:
        width = shutil.get_terminal_size().columns if sys.stdout.isatty() else DEFAULT_WIDTH
        rows = [_row(number, run) for number, run in enumerate(runs, start=1)]
        print(table(HEADERS, rows, right={0, 5}, width=width, shrink={TASK_COLUMN}))
        print(_summary(found.runs))
    for problem in problems:
        print(f"problem: {clip(problem, 2000)}", file=sys.stderr)
    return 0


def _summary(runs: list[Run]) -> str:
    tokens = sum(run.total_tokens or 0 for run in runs)
    costs = [run.cost for run in runs if run.cost is not None]
    spent = f", ${sum(costs):.4f}" if costs else ""
    return f"{plural(len(runs), 'run')}, {plural(sum(r.steps for r in runs), 'step')}, {tokens:,} tokens{spent}"
