"""``agent-tui``: the headless commands (ls, show, diff, run, resume, clean, demo).

Start-up cost matters (``agent-tui --help`` must answer in well under 0.3 s), so this module
imports only the standard library at the top; each command imports what it needs when it runs,
and only ``run``/``resume`` ever load the agent runtime. User errors are one line on stderr
(``agent-tui: error: ...``) and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from operator import itemgetter
from pathlib import Path

from agent_tui.defaults import CONTINUE_TASK
from agent_tui.units import format_bytes, format_seconds, printable, utf8_safe

# typing costs 3 ms of start-up and is needed only by type checkers here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, NoReturn

    from agent_tui.runner import RunSpec

    OpenApp = Callable[..., int]  # (workspace, *, read_only, watch) -> exit code
    OpenDemo = Callable[[Path, RunSpec], int]

    from agent_tui.cleanup import CleanupItem
    from agent_tui.workspace import AgentRecord

PROG = "agent-tui"
EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_TERMINATED = 1, 2, 130, 143
DEBUG_ENV = "AGENT_TUI_DEBUG"
STATUS_ORDER = ("running", "error", "interrupted", "unknown", "broken", "completed")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_POWERS = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4}


class CliError(Exception):
    """A user error: printed as one line, exit status 1."""


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line that points at --help, instead of argparse's usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{PROG}: error: {message} (see '{self.prog} --help')\n")


# ------------------------------------------------------------------------- argument types
def parse_duration(text: str) -> timedelta:
    """``"7d"``, ``"12h"``, ``"30m"``, ``"90s"``, ``"2w"`` -> a timedelta."""
    match = _DURATION.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 7d, 12h, 30m or 2w")
    return timedelta(seconds=float(match.group(1)) * _SECONDS[match.group(2).lower()])


def parse_size(text: str) -> int:
    """``"10MB"``, ``"1.5G"``, ``"500k"``, ``"2048"`` -> bytes (K/M/G/T are powers of 1024)."""
    match = _SIZE.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size like 10MB, 500K or 2G")
    return int(float(match.group(1)) * 1024 ** _POWERS[match.group(2).lower()])


def _whole_number(minimum: int):
    """An argparse type: a whole number of at least ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{text!r} must be {minimum} or more")
        return value

    return parse


_positive = _whole_number(1)
_count = _whole_number(0)


# ------------------------------------------------------------------------- the parser
_MAIN_EPILOG = """\
examples:
  agent-tui ls --sort age                 every agent, newest first
  agent-tui show my-agent                 settings, status and conversation of one agent
  agent-tui diff my-agent --steps 2 5     what steps 3-5 changed
  agent-tui run "Summarise autosave" --max-loops 3
  agent-tui clean --older-than 7d         what would be removed (nothing is, without --yes)
  agent-tui --workspace /tmp/ws ls        another workspace root (default: $WORKSPACE_DIR)
  agent-tui                               open the app on $WORKSPACE_DIR
  agent-tui --workspace /tmp/ws --read-only   the app, with cleanup disabled

With no command, agent-tui opens the terminal app (q quits, ? shows every key).
"""

_EPILOGS = {
    "ls": """\
examples:
  agent-tui ls
  agent-tui ls --sort size
  agent-tui ls --json | jq '.[] | select(.status == "error") | .folder'
""",
    "show": """\
examples:
  agent-tui show my-agent                         by agent name
  agent-tui show my-agent-3f2a9c1d0e4b            by folder name
  agent-tui show agent_workspace/agents/x-1234abcd5678
  agent-tui show my-agent --json
""",
    "diff": """\
examples:
  agent-tui diff agent-a agent-b                  config and conversation of two agents
  agent-tui diff old/config.json new/config.json  any two JSON files
  agent-tui diff my-agent --steps 2 5             step 2 vs step 5 of one agent's history
  agent-tui diff a b --ignore-noise --json        skip timestamps, pids, run ids; JSON out
""",
    "run": """\
examples:
  agent-tui run "Summarise the benefits of autosave"
  agent-tui run "Plan a trip" --name planner --max-loops 5
  agent-tui run "Explain fsync" --model gpt-4o-mini   (needs OPENAI_API_KEY)

The answer streams to stdout; progress per step goes to stderr. The agent has the demo
tools (word_count, lookup_fact), as runs started from the app do. Options of the offline
model: offline/demo?delay=0.05 (slow stream), ?fail_at=3&fail=rate_limit, ?tool_steps=4.
""",
    "resume": """\
examples:
  agent-tui resume planner                        continue where the last run stopped
  agent-tui resume planner "Now add a budget"     continue with a new task
""",
    "clean": """\
examples:
  agent-tui clean --older-than 7d                 dry run: the plan, nothing removed
  agent-tui clean --keep-last 3 --yes             keep the newest 3 folders of each agent
  agent-tui clean --status error,interrupted --min-size 10MB --yes
  agent-tui clean --older-than 30d --trash ~/agent-trash --yes

Criteria combine: a folder is removed only when it meets every one given. Running agents
(a live process holds agent.lock) are never removed; links are never followed.
""",
}


def build_parser() -> argparse.ArgumentParser:
    """The ``agent-tui`` argument parser (every subcommand has ``--help`` with examples)."""
    formatter = argparse.RawDescriptionHelpFormatter
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS in the subcommands, so --workspace works before or after the command name.
    common.add_argument(
        "--workspace",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="workspace root (default: $WORKSPACE_DIR, else ./agent_workspace)",
    )
    parser = _Parser(
        prog=PROG,
        description="Durable, visible LLM agent runs: list, inspect, diff, run, resume and "
        "clean agent workspaces (agent-tui's and swarms').",
        epilog=_MAIN_EPILOG,
        formatter_class=formatter,
    )
    parser.add_argument("--workspace", metavar="PATH", default=None, help=argparse.SUPPRESS)
    parser.add_argument(
        "--read-only", action="store_true", help="app: disable cleanup and every destructive action"
    )
    parser.add_argument(
        "--no-watch", action="store_true", help="app: do not follow the disk (static view)"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return commands.add_parser(
            name,
            help=help_text,
            description=help_text[0].upper() + help_text[1:] + ".",
            epilog=_EPILOGS[name],
            formatter_class=formatter,
            parents=[common],
        )

    ls = command("ls", "list agent workspaces")
    ls.add_argument("--json", action="store_true", help="print records as JSON")
    ls.add_argument(
        "--sort",
        choices=("name", "size", "age", "status"),
        default="name",
        help="order: name (A-Z), size (largest first), age (newest first), status",
    )

    show = command("show", "show one agent: status, settings and conversation")
    show.add_argument("agent", metavar="NAME|PATH", help="agent name, folder name or path")
    show.add_argument("--json", action="store_true", help="print record, config, conversation")

    diff = command("diff", "compare two agents, two JSON files, or two steps of one agent")
    diff.add_argument("a", metavar="A", help="agent (name or path) or JSON file")
    diff.add_argument("b", metavar="B", nargs="?", help="agent or JSON file (not with --steps)")
    diff.add_argument("--steps", nargs=2, type=_count, metavar=("N", "M"), help="step N vs M of A")
    diff.add_argument("--json", action="store_true", help="print changes as JSON")
    diff.add_argument(
        "--ignore-noise", action="store_true", help="ignore timestamps, pids and run ids"
    )
    diff.add_argument(
        "--color", choices=("auto", "always", "never"), default="auto", help="colour output"
    )

    run = command("run", "run an agent on a task, streaming the answer")
    run.add_argument("task", metavar="TASK", help="what the agent should do")
    run.add_argument("--model", default="offline/demo", help="model (default: offline/demo)")
    run.add_argument("--name", default="agent", help="agent name (default: agent)")
    run.add_argument("--max-loops", type=_positive, default=3, help="most steps (default: 3)")

    resume = command("resume", "load an agent's saved state and continue it")
    resume.add_argument("agent", metavar="NAME|PATH", help="agent name, folder name or path")
    resume.add_argument("task", metavar="TASK", nargs="?", help=f"default: {CONTINUE_TASK!r}")
    resume.add_argument("--model", help="model (default: the one the agent used)")
    resume.add_argument("--max-loops", type=_positive, help="most steps (default: as before)")

    clean = command("clean", "remove old agent workspaces (a dry run unless --yes)")
    clean.add_argument("--older-than", type=parse_duration, metavar="AGE", help="e.g. 7d, 12h")
    clean.add_argument("--keep-last", type=_count, metavar="N", help="keep newest N per name")
    clean.add_argument(
        "--status",
        action="append",
        metavar="STATUS",
        help="only these statuses (repeat or comma-separate): completed, error, interrupted, "
        "unknown, broken",
    )
    clean.add_argument("--min-size", type=parse_size, metavar="SIZE", help="e.g. 10MB, 500K")
    clean.add_argument("--trash", metavar="DIR", help="move folders here instead of deleting")
    clean.add_argument("--yes", action="store_true", help="really remove (default: dry run)")
    clean.add_argument("--json", action="store_true", help="print the plan/result as JSON")

    # Options after `demo` go to agent_tui.demo untouched (main() passes the unparsed rest).
    # The demo has its own parser (agent_tui.demo.main): its options and --help pass straight through.
    commands.add_parser(
        "demo", help="build a demo workspace and open the app on it with a live run", add_help=False
    )
    return parser


# ------------------------------------------------------------------------- output helpers
def _table(headers: list[str], rows: list[Sequence[str]], right: set[int] = frozenset()) -> str:
    columns = list(zip(headers, *rows, strict=True))
    widths = [max(map(len, column)) for column in columns]
    # One %-format for every row (faster than str.format): ls prints tens of thousands.
    last = len(widths) - 1
    fmt = "  ".join(
        "%s" if i == last else ("%" if i in right else "%-") + f"{width}s"
        for i, width in enumerate(widths)
    )
    return "\n".join([(fmt % tuple(row)).rstrip() for row in [headers, *rows]])


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _clip(text: str, limit: int) -> str:
    """One line of at most ``limit`` characters, safe to print (see agent_tui.units.printable)."""
    if not text.isprintable():  # a newline, tab or control character (the rare case)
        text = printable(text.replace("\n", " ").replace("\t", " "))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _ago(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "-"
    return _ago_seconds((now - moment).total_seconds())


def _ago_seconds(seconds: float) -> str:
    return "in the future" if seconds < 0 else f"{format_seconds(seconds)} ago"


def _write_json(document: Any) -> None:
    """``document`` as indented JSON. JSON is UTF-8, which a folder name that is not cannot be:
    its bad bytes are written as the text ``\\xNN`` (:func:`agent_tui.units.utf8_safe`)."""
    import orjson

    try:
        data = orjson.dumps(document, option=orjson.OPT_INDENT_2, default=str)
    except orjson.JSONEncodeError:
        # orjson refuses lone surrogates; only such a name pays for a second pass.
        data = orjson.dumps(
            _utf8_document(document),
            option=orjson.OPT_INDENT_2,
            default=lambda value: utf8_safe(str(value)),
        )
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.write(b"\n")


def _utf8_document(value: Any) -> Any:
    if isinstance(value, str):
        return utf8_safe(value)
    if isinstance(value, dict):
        return {_utf8_document(key): _utf8_document(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_utf8_document(item) for item in value]
    return value


def _masker(*documents: Any):
    """A redactor for output: the environment's secrets (``.env`` included) and every secret
    held in ``documents`` (a foreign agent's config keeps its keys in plain text)."""
    from agent_tui.redaction import Redactor

    masker = Redactor()
    for document in documents:
        masker.learn(document)
    return masker


def _masked_record(record: AgentRecord) -> dict[str, Any]:
    """``record.to_dict()`` safe to print. Its free text (a swarms ``error.txt`` line, problems)
    can hold the agent's key, so it is masked with what that agent's config holds."""
    document = record.to_dict()
    if not record.error and not record.problems:
        return document
    from agent_tui.format.persistence import WorkspaceFileError
    from agent_tui.workspace import load_config

    try:
        config = load_config(record.folder)
    except (OSError, WorkspaceFileError):
        config = {}
    return _masker(config).redact(document)


def _root(args: argparse.Namespace) -> Path:
    from agent_tui.settings import workspace_root

    return workspace_root(args.workspace)


# ------------------------------------------------------------------------- ls
def _sort_key(order: str):
    # Ties, and --sort name, go by name as a person reads it (case-blind), then folder.
    if order == "size":
        return lambda r: (-r.size_bytes, r.name.lower(), r.folder_name)
    if order == "age":
        stamp = lambda r: r.last_activity.timestamp() if r.last_activity else 0  # noqa: E731
        return lambda r: (-stamp(r), r.name.lower(), r.folder_name)
    if order == "status":
        return lambda r: (STATUS_ORDER.index(r.status), r.name.lower(), r.folder_name)
    return lambda r: (r.name.lower(), r.folder_name)


def cmd_ls(args: argparse.Namespace) -> int:
    from agent_tui.workspace import scan_map

    root = _root(args)
    key = _sort_key(args.sort)
    # ls keeps every row until it prints and makes no reference cycles: the cyclic collector
    # would only re-walk the growing list (a tenth of the scan's time on 10,000 folders).
    gc.disable()
    # Rows are built by whichever process read the folder (scan_map), so a large workspace
    # sends back strings, not records.
    if args.json:
        found = scan_map(root, lambda r: (key(r), _masked_record(r)), jobs=2)
        _write_json([row for _, row in sorted(found, key=itemgetter(0))])
        return 0
    now = time.time()

    def row(r: AgentRecord) -> tuple[Any, ...]:
        # One flat tuple (sort key, size, then the cells): 10,000 of them cross between
        # processes and stay in memory until printed.
        saved = r.last_activity
        return (
            key(r),
            r.size_bytes,
            _clip(r.name, 40),
            r.status,
            "-" if r.loop_count is None else str(r.loop_count),
            "-" if saved is None else _ago_seconds(now - saved.timestamp()),
            format_bytes(r.size_bytes),
            _clip(r.model or "-", 24),
            r.format,
            _clip(r.folder_name, 255),
            _clip(r.problems[0], 60) if r.problems else "",
        )

    found = scan_map(root, row, jobs=2)
    if not found:
        print(f"no agents in {root / 'agents'}")
        return 0
    found.sort(key=itemgetter(0))
    headers = ["NAME", "STATUS", "LOOPS", "SAVED", "SIZE", "MODEL", "FORMAT", "FOLDER", "PROBLEM"]
    print(_table(headers, [found_row[2:] for found_row in found], right={2, 4}))
    total = sum(found_row[1] for found_row in found)
    print(f"{_plural(len(found), 'agent')}, {format_bytes(total)} in {root / 'agents'}")
    return 0


# ------------------------------------------------------------------------- show
def _describe(record: AgentRecord) -> list[tuple[str, str]]:
    now = datetime.now().astimezone()
    saved = record.last_autosave.isoformat() if record.last_autosave else "-"
    fields = [
        ("name", record.name),
        ("id", record.agent_id or "-"),
        ("folder", str(record.folder)),
        ("format", record.format),
        ("status", record.status + (f" (held by {record.holder})" if record.holder else "")),
        ("loops", "-" if record.loop_count is None else str(record.loop_count)),
        ("last autosave", f"{saved} ({_ago(record.last_autosave, now)})"),
        ("model", record.model or "-"),
        ("size", f"{format_bytes(record.size_bytes)} in {record.file_count} files"),
        ("state file", record.state_file.name if record.state_file else "-"),
    ]
    if record.error:
        fields.append(("error", record.error))
    fields += [("problem", p) for p in record.problems]
    return fields


def _message_lines(message: dict[str, Any]) -> list[str]:
    role = message["role"]
    label = f"{role} {message['name']}" if message.get("name") else role
    lines = [f"[{label}]"]
    lines += [f"  {line}" for line in (message.get("content") or "").splitlines()]
    for call in message.get("tool_calls") or []:
        function = call.get("function") if isinstance(call, dict) else None
        if isinstance(function, dict):
            lines.append(f"  -> {function.get('name')}({function.get('arguments', '')})")
    return lines


def cmd_show(args: argparse.Namespace) -> int:
    from agent_tui.format.persistence import WorkspaceFileError
    from agent_tui.workspace import load_config, load_conversation, read_agent, resolve_agent

    folder = resolve_agent(args.agent, _root(args))
    record = read_agent(folder)
    config: dict[str, Any] | None = None
    conversation: list[dict[str, Any]] | None = None
    unreadable: list[str] = []
    if record.status != "broken" or (folder / "config.json").is_file():
        for what, load in (("config", load_config), ("conversation", load_conversation)):
            try:
                if what == "config":
                    config = load(folder)
                else:
                    conversation = load(folder)
            except WorkspaceFileError as exc:
                unreadable.append(f"{what}: {exc}")
    # Foreign files (swarms keeps API keys in config.json and error.txt) must not leak onto a
    # screen or a log: everything printed is masked with what this agent's files hold.
    masker = _masker(config)
    config, conversation = masker.redact(config), masker.redact(conversation)
    unreadable = [masker.redact_text(problem) for problem in unreadable]
    if args.json:
        _write_json(
            {
                "record": masker.redact(record.to_dict()),
                "config": config,
                "conversation": conversation,
                "unreadable": unreadable,
            }
        )
        return 0
    described = [(key, masker.redact_text(value)) for key, value in _describe(record)]
    width = max(len(k) for k, _ in described)
    for key, value in described:
        print(f"{key + ':':<{width + 2}}{printable(value)}")
    for problem in unreadable:
        print(f"{'unreadable:':<{width + 2}}{printable(problem)}")
    if config:
        settings = {
            k: v
            for k, v in config.items()
            if k not in ("_autosave_metadata", "short_memory", "system_prompt")
            and isinstance(v, str | int | float | bool)
        }
        print("\nsettings:")
        for key, value in settings.items():
            print(f"  {key}: {_clip(str(value), 100)}")
    if conversation is not None:
        print(f"\nconversation ({len(conversation)} messages):")
        for message in conversation:
            print(printable("\n".join(_message_lines(message))))
    return 0


# ------------------------------------------------------------------------- diff
def _agent_document(query: str, root: Path) -> dict[str, Any]:
    from agent_tui.workspace import load_config, load_conversation, resolve_agent

    folder = resolve_agent(query, root)
    return {"config": load_config(folder), "conversation": load_conversation(folder)}


def cmd_diff(args: argparse.Namespace) -> int:
    from agent_tui import diff as structural
    from agent_tui.format.persistence import read_json
    from agent_tui.workspace import resolve_agent, step_history

    root = _root(args)
    if args.steps is not None:
        if args.b is not None:
            raise CliError("give one agent with --steps N M, not two")
        history = step_history(resolve_agent(args.a, root))
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
            old, new = _agent_document(args.a, root), _agent_document(args.b, root)
    masker = _masker(old, new)  # a secret of either side is masked on both
    changes = structural.diff(
        masker.redact(old), masker.redact(new), ignore_noise=args.ignore_noise
    )
    if args.json:
        sys.stdout.buffer.write(structural.to_json(changes) + b"\n")
        return 0
    force = {"always": True, "never": False}.get(args.color)
    color = structural.use_color(sys.stdout, force)
    sys.stdout.write(structural.render_text(changes, color=color))
    return 0


# ------------------------------------------------------------------------- run / resume
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
        print(_clip(self.redactor.redact_text(text), 300), file=sys.stderr, flush=True)

    def event(self, event: Any) -> None:
        data = event.data
        if event.kind == "step_start":
            self._note(f"-- step {data.get('step')} ({data.get('loop')}/{data.get('max_loops')})")
        elif event.kind == "tool_call":
            self._note(f"   tool {data.get('name')}({_clip(str(data.get('arguments', '')), 80)})")
        elif event.kind == "tool_result":
            self._note(f"   -> {_clip(str(data.get('result', '')), 100)}")
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

    folder = resolve_agent(args.agent, _root(args))
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


# ------------------------------------------------------------------------- clean
def _statuses(values: list[str] | None) -> set[str] | None:
    if not values:
        return None
    from agent_tui.format.layout import STATUSES

    chosen = {s.strip() for value in values for s in value.split(",") if s.strip()}
    unknown = chosen - set(STATUSES)
    if unknown:
        raise CliError(
            f"unknown status {', '.join(sorted(unknown))}; choose from {', '.join(STATUSES)}"
        )
    return chosen


def _item_rows(items: list[CleanupItem], now: datetime) -> list[list[str]]:
    return [
        [
            _clip(item.folder.name, 255),
            item.status,
            format_bytes(item.bytes),
            _ago(item.last_activity, now),
            _clip(item.reason, 200),
        ]
        for item in items
    ]


class _ProgressBar:
    """A one-line bar on stderr, drawn only on a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, done: int, total: int, item: CleanupItem) -> None:
        if not self.enabled or not total:
            return
        filled = 30 * done // total
        bar = "#" * filled + "." * (30 - filled)
        sys.stderr.write(f"\r[{bar}] {done}/{total} {_clip(item.folder.name, 30):<30}")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()


class _Terminated(KeyboardInterrupt):
    """SIGTERM during a clean, raised in the main thread: it unwinds like Ctrl-C, so the
    folders under way finish and no other starts."""


class _SigtermUnwinds:
    """Within the block, a first SIGTERM raises :class:`_Terminated`; any later one is ignored
    while the folders under way finish (SIGKILL still stops everything). Only the main thread
    can take signals, so elsewhere the block changes nothing."""

    def __enter__(self) -> None:
        import signal
        import threading

        self.previous = None
        if threading.current_thread() is not threading.main_thread():
            return
        self.fired = False
        self.previous = signal.signal(signal.SIGTERM, self._on_sigterm)

    def _on_sigterm(self, signum: int, frame: object) -> None:
        if not self.fired:
            self.fired = True
            raise _Terminated

    def __exit__(self, *exc: object) -> None:
        import signal

        if self.previous is not None:
            signal.signal(signal.SIGTERM, self.previous)


def cmd_clean(args: argparse.Namespace) -> int:
    from agent_tui import cleanup
    from agent_tui.settings import agents_dir
    from agent_tui.workspace import scan

    root = _root(args)
    try:
        cleanup.check_agents_dir(agents_dir(root))
    except cleanup.UnsafeAgentsDirError as exc:
        raise CliError(str(exc)) from None
    statuses = _statuses(args.status)
    if (
        args.older_than is None
        and args.keep_last is None
        and not statuses
        and args.min_size is None
    ):
        raise CliError("say what to clean: --older-than, --keep-last, --status or --min-size")
    plan = cleanup.plan(
        scan(root, jobs=2),
        older_than=args.older_than,
        keep_last=args.keep_last,
        statuses=statuses,
        min_size=args.min_size,
        agents_dir=agents_dir(root),
    )
    now = datetime.now().astimezone()
    if not args.json:
        if plan.items:
            print(
                _table(
                    ["FOLDER", "STATUS", "SIZE", "SAVED", "REASON"],
                    _item_rows(plan.items, now),
                    {2},
                )
            )
        if plan.skipped:
            print("\nskipped:")
            print(
                _table(
                    ["FOLDER", "STATUS", "SIZE", "SAVED", "REASON"],
                    _item_rows(plan.skipped, now),
                    {2},
                )
            )
        total = cleanup.format_bytes(plan.total_bytes)
        print(
            f"{_plural(len(plan.items), 'folder')}, {total} to free"
            + (f"; {len(plan.skipped)} skipped" if plan.skipped else "")
        )
    if not args.yes:
        if args.json:
            _write_json(_plan_json(plan, None))
        elif plan.items:
            print("dry run: nothing removed; run again with --yes to remove them")
        return 0
    trash = Path(args.trash).expanduser() if args.trash else None
    try:
        with _SigtermUnwinds():
            result = cleanup.execute(
                plan, trash_dir=trash, progress=_ProgressBar(sys.stderr.isatty() and not args.json)
            )
    except ValueError as exc:
        raise CliError(str(exc)) from None
    except _Terminated:
        print(
            f"\n{PROG}: terminated (SIGTERM): the folders under way were finished and no other "
            "was started; run the same clean again to go on",
            file=sys.stderr,
        )
        return EXIT_TERMINATED
    if args.json:
        _write_json(_plan_json(plan, result))
    else:
        verb = (
            f"moved {_plural(len(result.trashed), 'folder')} to {trash}"
            if trash
            else f"removed {_plural(len(result.removed), 'folder')}"
        )
        print(f"{verb}, freed {cleanup.format_bytes(result.freed_bytes)}")
        if result.finished:
            print(f"finished {_plural(len(result.finished), 'removal')} an interrupted clean left")
        for folder, reason in result.skipped:
            print(f"skipped {_clip(folder.name, 255)}: {_clip(reason, 200)}")
        for folder, reason in result.failures:
            message = _clip(f"could not remove {folder}: {reason}", 400)
            print(f"{PROG}: error: {message}", file=sys.stderr)
    return EXIT_ERROR if result.failures else 0


def _plan_json(plan: Any, result: Any) -> dict[str, Any]:
    def item(entry: CleanupItem) -> dict[str, Any]:
        return {
            "folder": str(entry.folder),
            "name": entry.name,
            "bytes": entry.bytes,
            "status": entry.status,
            "reason": entry.reason,
        }

    document: dict[str, Any] = {
        "agents_dir": str(plan.agents_dir),
        "items": [item(i) for i in plan.items],
        "skipped": [item(i) for i in plan.skipped],
        "total_bytes": plan.total_bytes,
        "dry_run": result is None,
    }
    if result is not None:
        document["result"] = {
            "removed": [str(p) for p in result.removed],
            "trashed": [str(p) for p in result.trashed],
            "skipped": [{"folder": str(p), "reason": r} for p, r in result.skipped],
            "failures": [{"folder": str(p), "reason": r} for p, r in result.failures],
            "freed_bytes": result.freed_bytes,
            "finished": [str(p) for p in result.finished],
        }
    return document


# ------------------------------------------------------------------------- demo, no command
def cmd_demo(args: argparse.Namespace) -> int:
    from agent_tui.demo import main as demo_main

    extra = list(args.demo_args)
    if args.workspace is not None and "--workspace" not in extra:
        extra = ["--workspace", str(args.workspace), *extra]
    return demo_main(extra, open_app=args.open_demo)


def _launch_app(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.open_app is None:  # the headless CLI alone (python -m agent_tui.cli): no app here
        parser.print_help()
        return 0
    return args.open_app(args.workspace, read_only=args.read_only, watch=not args.no_watch)


HANDLERS = {
    "ls": cmd_ls,
    "show": cmd_show,
    "diff": cmd_diff,
    "run": cmd_run,
    "resume": cmd_resume,
    "clean": cmd_clean,
    "demo": cmd_demo,
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
        return HANDLERS[args.command](args)
    except KeyboardInterrupt:
        print(f"\n{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`agent-tui ls | head`); stop quietly, as cat and ls do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_ERROR
    except Exception as exc:
        return _report(exc)


def _report(exc: Exception) -> int:
    from agent_tui.format.lock import WorkspaceBusyError
    from agent_tui.format.persistence import WorkspaceFileError
    from agent_tui.workspace import WorkspaceLookupError

    if isinstance(exc, CliError | WorkspaceFileError | WorkspaceBusyError | WorkspaceLookupError):
        message = str(exc)
    elif isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        message = f"{where}{exc.strerror or exc}"
    else:
        if os.environ.get(DEBUG_ENV):
            raise exc
        message = f"unexpected {type(exc).__name__}: {exc} (set {DEBUG_ENV}=1 for the traceback)"
    print(f"{PROG}: error: {_clip(_masker().redact_text(message), 2000)}", file=sys.stderr)
    return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
