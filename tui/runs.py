"""Runs started from the app: the child process (``python -m agent_tui.runner``) and what its JSON
lines mean for one run.

No widgets here. :func:`spawn` starts the child; :func:`read_lines` turns its stdout into
JSON objects (records of :mod:`agent_tui.run_protocol` once decoded); :func:`apply_record` folds
one record into a :class:`Run` and returns the lines :mod:`agent_tui.run_render` makes of it,
the ones the CLI and the terminal demo print; :data:`STYLES` colours them. The run pane wires
these to widgets.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from rich.text import Text as RichText

from agent_tui.redaction import Redactor, StreamRedactor
from agent_tui.run_protocol import End, Event, Record, Start, Text, redacted
from agent_tui.run_render import Line, Tag, render
from agent_tui.runner import RunSpec
from agent_tui.units import plural

LINE_LIMIT = 4 * 1024 * 1024
STDERR_LINES = 20
# Interrupt, then terminate, then kill: each after this many seconds without an exit.
ESCALATION = ((signal.SIGINT, 4.0), (signal.SIGTERM, 3.0), (signal.SIGKILL, 2.0))
LIVE = frozenset({"starting", "running", "stopping"})

ERROR_STYLE = "bold #ff5f5f"
STYLES = {
    Tag.TASK: "bold",
    Tag.NOTE: "dim",
    Tag.STEP: "bold #5fd7ff",
    Tag.TOOL: "#ffaf5f",
    Tag.RESULT: "dim",
    Tag.SAVED: "dim",
    Tag.DONE: "bold #87d787",
    Tag.STOPPED: "bold #ffd75f",
    Tag.ERROR: ERROR_STYLE,
}


@dataclass
class Run:
    """What the app knows about one run, from the lines its child printed."""

    key: str
    spec: RunSpec
    name: str
    model: str
    status: str = "starting"
    process: asyncio.subprocess.Process | None = None
    pid: int | None = None
    folder: str | None = None
    step: int | None = None
    loop: int | None = None
    max_loops: int | None = None
    restored_steps: int = 0
    usage: dict[str, Any] = field(default_factory=dict)
    autosaves: int = 0
    last_autosave: tuple[str, int, float] | None = None
    error: str | None = None
    signals_sent: int = 0
    stderr: deque[str] = field(default_factory=lambda: deque(maxlen=STDERR_LINES))
    # The runner redacts its lines; the app redacts them again with what it knows (its own
    # environment), and redacts what the runner did not write as lines (its stderr).
    redactor: Redactor = field(default_factory=Redactor, repr=False)
    text_filter: StreamRedactor | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.text_filter = StreamRedactor(self.redactor)

    @property
    def live(self) -> bool:
        return self.status in LIVE


def runner_command(spec: RunSpec) -> list[str]:
    """The runner's command line. The spec goes on stdin (``-``), never here: any local user
    can read a process's arguments (``/proc/PID/cmdline``), and the task may be private."""
    # -P: the current folder is not put on sys.path, so a user's own package named like one
    # of ours cannot shadow the runner.
    return [sys.executable, "-P", "-m", "agent_tui.runner", "-"]


def runner_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    env.setdefault("LITELLM_OFFLINE_MODE", "true")
    return env


async def spawn(spec: RunSpec) -> asyncio.subprocess.Process:
    """Start the runner and hand it ``spec`` on stdin. Its own session: a Ctrl-C typed at the
    terminal is the app's key, not a signal to every run; the app decides which run to
    interrupt."""
    process = await asyncio.create_subprocess_exec(
        *runner_command(spec),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=runner_env(),
        start_new_session=True,
        limit=LINE_LIMIT,
    )
    assert process.stdin is not None
    try:
        process.stdin.write(spec.to_json().encode())
        await process.stdin.drain()
    except (BrokenPipeError, ConnectionResetError):
        pass  # the child died at once; its exit status (and stderr) say why
    finally:
        process.stdin.close()
    return process


def parse_line(line: bytes) -> dict[str, Any] | None:
    """One line of the child as its JSON object (:func:`agent_tui.run_protocol.decode` reads
    the record in it), or ``None`` for a line that is not one (cut short by a kill)."""
    try:
        document = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    return document if isinstance(document, dict) else None


async def read_lines(stream: asyncio.StreamReader) -> AsyncIterator[dict[str, Any]]:
    while True:
        try:
            line = await stream.readline()
        except ValueError:  # a line over LINE_LIMIT: skip it, keep reading
            continue
        if not line:
            return
        record = parse_line(line)
        if record is not None:
            yield record


async def collect_stderr(
    stream: asyncio.StreamReader, tail: deque[str], redactor: Redactor | None = None
) -> None:
    """Keep the last lines of the child's stderr (shown when it dies without a last line),
    redacted: a traceback may quote a key."""
    while line := await stream.readline():
        text = line.decode(errors="replace").rstrip()
        if text:
            tail.append(redactor.redact_text(text) if redactor is not None else text)


def send_next_signal(run: Run) -> tuple[signal.Signals, float] | None:
    """Send the next signal of :data:`ESCALATION`; returns it and how long to wait for an exit,
    or ``None`` when the process is gone or every signal was sent."""
    process = run.process
    if process is None or process.returncode is not None or run.signals_sent >= len(ESCALATION):
        return None
    sig, wait = ESCALATION[run.signals_sent]
    run.signals_sent += 1
    try:
        process.send_signal(sig)
    except ProcessLookupError:
        return None
    return sig, wait


def format_usage(usage: dict[str, Any]) -> str:
    if not usage:
        return ""
    text = (
        f"tokens {usage.get('prompt_tokens', 0):,} in / {usage.get('completion_tokens', 0):,} out"
    )
    cost = usage.get("cost") or 0
    if cost:
        text += f"  |  cost ${cost:.4f}"
    return text


def step_text(run: Run) -> str:
    """``step 3 of 8`` (for a resumed run: ``step 7 (3 of 8 this run)``)."""
    if run.step is None:
        if run.restored_steps:
            return f"restored {plural(run.restored_steps, 'step')}"
        return "step -"
    of = f"of {run.max_loops}" if run.max_loops else ""
    if run.loop is not None and run.loop != run.step:
        return f"step {run.step} ({run.loop} {of} this run)"
    return f"step {run.step} {of}".strip()


def styled(line: Line) -> RichText:
    """A rendered line (:mod:`agent_tui.run_render`) in the Run tab's colours."""
    return RichText(line.text, style=STYLES.get(line.tag, ""))


def apply_record(run: Run, record: Record) -> list[Line]:
    """Fold one record into ``run``; returns what the log shows (``ANSWER`` lines are streamed
    text). Everything is redacted: text across record boundaries, the rest record by record."""
    assert run.text_filter is not None
    if isinstance(record, Text):
        return render(Text(run.text_filter.feed(record.text)))
    held = render(Text(run.text_filter.flush()))
    record = redacted(record, run.redactor)
    _fold(run, record)
    return [*held, *render(record)]


def _fold(run: Run, record: Record) -> None:
    if isinstance(record, Start):
        run.status = "running" if run.status == "starting" else run.status
        run.pid = record.pid
        run.folder = record.folder
        run.name = record.agent_name or run.name
        run.model = record.model or run.model
        run.max_loops = record.max_loops
        run.restored_steps = record.loop_count
    elif isinstance(record, End):
        run.status = record.status or "error"
        run.error = record.error
        run.usage = record.usage if record.usage is not None else run.usage
        run.folder = record.folder or run.folder
    elif isinstance(record, Event):
        _fold_event(run, record.kind, record.data)


def _fold_event(run: Run, kind: str, data: dict[str, Any]) -> None:
    if kind == "step_start":
        run.step, run.loop = data.get("step"), data.get("loop")
        run.max_loops = data.get("max_loops") or run.max_loops
    elif kind == "step_end" and isinstance(data.get("usage"), dict):
        run.usage = data["usage"]
    elif kind == "autosave":
        run.autosaves += 1
        try:
            size, ms = int(data.get("bytes") or 0), float(data.get("ms") or 0.0)
        except (TypeError, ValueError):
            size, ms = 0, 0.0
        run.last_autosave = (str(data.get("file")), size, ms)


def exit_without_end(run: Run, returncode: int | None) -> list[Line]:
    """The child ended without its last line (killed, or it crashed): say so, as its ``end``
    record would have."""
    if run.status not in LIVE:
        return []
    assert run.text_filter is not None
    held = render(Text(run.text_filter.flush()))
    _explain_exit(run, returncode)
    return [*held, *render(End(run.status, run.error))]


def _explain_exit(run: Run, returncode: int | None) -> None:
    if returncode is not None and returncode < 0:
        name = signal.Signals(-returncode).name
        run.status = "interrupted"
        run.error = f"runner killed by {name}; the last completed step is on disk"
    else:
        run.status = "error"
        tail = " | ".join(list(run.stderr)[-3:])
        run.error = f"runner exited with status {returncode}" + (f": {tail}" if tail else "")
