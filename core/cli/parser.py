"""The ``agent-tui`` argument parser: every command, flag, help text and example.

Only the standard library and three small modules of ours load here: ``agent-tui --help`` and
a usage error answer before any command module is imported.
"""

from __future__ import annotations

import argparse

from agent_tui.cli.errors import EXIT_USAGE, PROG
from agent_tui.defaults import CONTINUE_TASK
from agent_tui.listing import SORTS

# typing costs 3 ms of start-up and is needed only by type checkers here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, NoReturn

DISTRIBUTION = "agent-tui-workspace"
SHELLS = ("bash", "zsh", "fish")
_WORKSPACE_HELP = (
    "workspace root (default: $WORKSPACE_DIR, else ./agent_workspace); repeat it to open "
    "several in the app or to search them all"
)


class _ConfigHelp(str):
    """--config's help, which names the platform's config folder: looked up (platformdirs,
    ~14 ms) only when argparse fills the help in, never for a command that runs."""

    def __mod__(self, params: object) -> str:
        from agent_tui.user_config import CONFIG_ENV, default_config_path

        return f"the user config file (default: {default_config_path()}; env {CONFIG_ENV})"


_CONFIG_HELP = _ConfigHelp("the user config file (default: the platform's config folder)")


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line that points at --help, instead of argparse's usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{PROG}: error: {message} (see '{self.prog} --help')\n")

    def _check_value(self, action: argparse.Action, value: object) -> None:
        # argparse's own check lists every choice; a near miss is better answered with a guess.
        if action.choices is None or value in action.choices:
            return
        from difflib import get_close_matches

        names = [str(choice) for choice in action.choices]
        close = get_close_matches(str(value), names, n=1)
        hint = f"did you mean `{close[0]}`?" if close else f"choose from {', '.join(names)}"
        if isinstance(action, argparse._SubParsersAction):
            raise argparse.ArgumentError(None, f"unknown command {value!r}; {hint}")
        raise argparse.ArgumentError(action, f"invalid choice: {value!r}; {hint}")


class _Roots(argparse.Action):
    """``--workspace``, repeatable: ``workspaces`` holds every root given, ``workspace`` the
    first (what a command acting on one root uses)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:  # fmt: skip
        roots = [*(getattr(namespace, "workspaces", None) or []), str(values)]
        namespace.workspaces = roots
        namespace.workspace = roots[0]


class _Version(argparse.Action):
    """``--version``: the installed version, looked up only when asked for."""

    def __init__(self, option_strings: list[str], dest: str, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> NoReturn:
        print(f"{PROG} {installed_version()}")
        parser.exit()


def installed_version() -> str:
    """The version of the installed distribution, else ``0+unknown`` (a source tree that was
    never installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "0+unknown"


# ------------------------------------------------------------------------- argument types
def _argument_type(module: str, name: str) -> Callable[[str], Any]:
    """``module.name`` (a parser that raises ``ValueError`` naming the accepted forms) as an
    argparse type: the error becomes a usage error, exit 2. The module is imported only when
    the option is given, so ``--help`` stays light."""

    def convert(text: str) -> Any:
        from importlib import import_module

        try:
            return getattr(import_module(module), name)(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return convert


_age = _argument_type("agent_tui.units", "parse_age")
_size = _argument_type("agent_tui.units", "parse_size")
_statuses = _argument_type("agent_tui.cleanup", "parse_statuses")


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
  agent-tui --workspace ~/ci --workspace ~/laptop   two roots in one tree

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
  agent-tui diff agent-a agent-b                  settings, memory and conversation of two agents
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
  agent-tui clean --older-than 14 --desktop-trash --yes   to the desktop trash (restorable)

Criteria combine: a folder is removed only when it meets every one given. Running agents
(a live process holds agent.lock) are never removed; links are never followed.
""",
    "history": """\
examples:
  agent-tui history planner                       every run of the agent, oldest first
  agent-tui history planner --json | jq '.[-1].status'
""",
    "fork": """\
examples:
  agent-tui fork planner --step 3                 a new agent: the conversation up to step 3
  agent-tui fork planner --step 3 --name planner-b --message "Plan it for two people"
  agent-tui fork planner --step 0 --json          from the task alone; the new folder as JSON

The original agent is never changed. The fork records where it came from (forked_from:
agent id, folder, step); continue it with: agent-tui resume NEW-NAME
""",
    "search": """\
examples:
  agent-tui search fsync                          every message that says fsync, in every agent
  agent-tui search "rate limit" --json --limit 20
""",
    "export": """\
examples:
  agent-tui export planner                        every run as Markdown, to stdout
  agent-tui export planner --format html -o planner.html
  agent-tui export planner --step 4 --format json up to step 4, as JSON

Tool calls and their results are included; secrets are masked as everywhere else.
""",
    "completion": """\
examples:
  source <(agent-tui completion bash)             bash, for this shell only
  agent-tui completion bash > ~/.local/share/bash-completion/completions/agent-tui
  agent-tui completion zsh > "${fpath[1]}/_agent-tui"   zsh, then start a new shell
  agent-tui completion fish > ~/.config/fish/completions/agent-tui.fish

The script is generated from this parser: it completes the commands, their options, the
choices an option takes, and folders and files where a path goes.
""",
}


def build_parser() -> argparse.ArgumentParser:
    """The ``agent-tui`` argument parser (every subcommand has ``--help`` with examples)."""
    formatter = argparse.RawDescriptionHelpFormatter
    common = _Parser(add_help=False)
    # SUPPRESS in the subcommands, so --workspace works before or after the command name.
    common.add_argument(
        "--workspace",
        metavar="PATH",
        action=_Roots,
        default=argparse.SUPPRESS,
        help=_WORKSPACE_HELP,
    )
    common.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS, help=_CONFIG_HELP)
    parser = _Parser(
        prog=PROG,
        description="Durable, visible LLM agent runs: list, inspect, diff, run, resume and "
        "clean agent workspaces (agent-tui's and swarms').",
        epilog=_MAIN_EPILOG,
        formatter_class=formatter,
    )
    parser.add_argument("--version", action=_Version, help="print the version and exit")
    parser.add_argument(
        "--workspace", metavar="PATH", action=_Roots, default=None, help=_WORKSPACE_HELP
    )
    parser.add_argument("--config", metavar="PATH", default=None, help=_CONFIG_HELP)
    parser.add_argument(
        "--read-only", action="store_true", help="app: disable cleanup and every destructive action"
    )
    parser.add_argument(
        "--no-watch", action="store_true", help="app: do not follow the disk (static view)"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    def command(name: str, help_text: str) -> _Parser:
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
        choices=SORTS,
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
    reuse = run.add_mutually_exclusive_group()
    reuse.add_argument(
        "--yes",
        action="store_true",
        help="an agent of this name exists: continue it without asking",
    )
    reuse.add_argument(
        "--new",
        action="store_true",
        help="an agent of this name exists: start a new agent beside it without asking",
    )

    resume = command("resume", "load an agent's saved state and continue it")
    resume.add_argument("agent", metavar="NAME|PATH", help="agent name, folder name or path")
    resume.add_argument("task", metavar="TASK", nargs="?", help=f"default: {CONTINUE_TASK!r}")
    resume.add_argument("--model", help="model (default: the one the agent used)")
    resume.add_argument("--max-loops", type=_positive, help="most steps (default: as before)")

    clean = command("clean", "remove old agent workspaces (a dry run unless --yes)")
    clean.add_argument(
        "--older-than", type=_age, metavar="AGE", help="e.g. 7d, 12h, 2w; a plain number is days"
    )
    clean.add_argument("--keep-last", type=_count, metavar="N", help="keep newest N per name")
    clean.add_argument(
        "--status",
        action="append",
        type=_statuses,
        metavar="STATUS",
        help="only these statuses (repeat or comma-separate): completed, error, interrupted, "
        "unknown, broken",
    )
    clean.add_argument("--min-size", type=_size, metavar="SIZE", help="e.g. 10MB, 500K, 2G")
    where = clean.add_mutually_exclusive_group()
    where.add_argument("--trash", metavar="DIR", help="move folders here instead of deleting")
    where.add_argument(
        "--desktop-trash",
        action="store_true",
        help="move folders to the desktop trash ($XDG_DATA_HOME/Trash) instead of deleting",
    )
    clean.add_argument("--yes", action="store_true", help="really remove (default: dry run)")
    clean.add_argument("--json", action="store_true", help="print the plan/result as JSON")

    history = command("history", "list every run of one agent: task, start, end, status, steps")
    history.add_argument("agent", metavar="NAME|PATH", help="agent name, folder name or path")
    history.add_argument("--json", action="store_true", help="print the runs as JSON")

    fork = command("fork", "start a new agent from one agent's conversation up to step N")
    fork.add_argument("agent", metavar="NAME|PATH", help="agent name, folder name or path")
    fork.add_argument(
        "--step", type=_count, required=True, metavar="N", help="keep the conversation to step N"
    )
    fork.add_argument("--name", metavar="NEW", help="the new agent's name (default: NAME-fork)")
    fork.add_argument(
        "--message", metavar="TEXT", help="replace the last user message up to step N with TEXT"
    )
    fork.add_argument("--json", action="store_true", help="print the new agent as JSON")

    search = command("search", "find text in every transcript of every agent")
    search.add_argument("text", metavar="TEXT", help="words to find (all of them, any case)")
    search.add_argument(
        "--limit", type=_positive, default=50, metavar="N", help="most results (default: 50)"
    )
    search.add_argument("--json", action="store_true", help="print the results as JSON")

    export = command("export", "write one agent's runs as Markdown, HTML or JSON")
    export.add_argument("agent", metavar="NAME|PATH", help="agent name, folder name or path")
    export.add_argument(
        "--format", choices=("md", "html", "json"), default="md", help="default: md"
    )
    export.add_argument("-o", "--output", metavar="FILE", help="write to FILE (default: stdout)")
    export.add_argument("--step", type=_count, metavar="N", help="only up to step N")

    completion = command("completion", "print a shell completion script for agent-tui")
    completion.add_argument("shell", choices=SHELLS, metavar="SHELL", help="bash, zsh or fish")

    # Options after `demo` go to agent_tui.demo untouched (main() passes the unparsed rest).
    # The demo has its own parser (agent_tui.demo.main): its options and --help pass straight through.
    commands.add_parser(
        "demo", help="build a demo workspace and open the app on it with a live run", add_help=False
    )
    return parser
