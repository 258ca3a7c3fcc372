"""The Run tab: runs started from the app, each streaming in its own log.

Every run is a child process (``python -m agent_tui.runner``, see :mod:`agent_tui.tui.runs`): a slow or hung
model never touches the event loop, and litellm is never imported by the app. A worker per run
reads the child's JSON lines and posts them as messages; the handlers here update the run's
header (status, step i of N, tokens, cost, last autosave) and its log. Interrupt sends SIGINT
(then SIGTERM, then SIGKILL if the child does not exit); the agent saves its state as
``interrupted``. The browser side shows the same run through the disk, like any other.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.message import Message
from textual.widgets import Button, ContentSwitcher, OptionList, RichLog, Static
from textual.widgets.option_list import Option

from agent_tui.format.layout import Status
from agent_tui.run_protocol import End, Event, Start, decode
from agent_tui.run_render import Line, Tag
from agent_tui.runner import RunSpec
from agent_tui.tui.display import status_badge
from agent_tui.tui.runs import (
    STYLES,
    Run,
    apply_record,
    collect_stderr,
    exit_without_end,
    format_usage,
    read_lines,
    send_next_signal,
    spawn,
    step_text,
    styled,
)
from agent_tui.units import plural

MAX_LOG_LINES = 2000
# Events that change the run's header (step, usage, last autosave).
HEADER_EVENTS = frozenset({"step_start", "step_end", "autosave", "autosave_failed"})
# The open paragraph is re-wrapped on every chunk; past this size it is committed as it is.
MAX_TAIL_CHARS = 3000
EMPTY = (
    "No runs yet.\n\n"
    "  n       start a new run (any agent name, model, task)\n"
    "  l       load / resume the agent selected on the left\n"
    "  ctrl+c  interrupt the run shown here (its state is saved)\n\n"
    "Runs are child processes; the list on the left follows them on disk."
)


class StreamLog(RichLog):
    """A ``RichLog`` (wrapped, with a line cap) whose last paragraph grows chunk by chunk."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_lines=MAX_LOG_LINES, wrap=True, min_width=20, **kwargs)
        self._tail = Text()
        self._tail_lines = 0

    def add_line(self, line: Text | str) -> None:
        """A whole line after whatever is streaming."""
        self._close_tail()
        self.write(line, scroll_end=self._following())
        self.refresh()  # a short log (nothing to scroll) must still repaint its new line

    def add_text(self, chunk: str) -> None:
        """Streamed text: appended to the open paragraph; complete lines are committed."""
        self._tail.append(chunk)
        plain = self._tail.plain
        cut = plain.rfind("\n")
        if cut < 0 and len(plain) > MAX_TAIL_CHARS:
            cut = len(plain)
        if cut >= 0:
            whole = self._tail
            self._tail = whole[:cut]
            self._render_tail()
            self._close_tail()
            self._tail = whole[cut + 1 :]
        self._render_tail()

    def _close_tail(self) -> None:
        """The open paragraph is done: it stays as it is rendered."""
        if not self._size_known and self._tail.plain:
            self.write(self._tail.copy())  # deferred: rendered in order on the first resize
        self._tail = Text()
        self._tail_lines = 0

    def _following(self) -> bool:
        return self.scroll_y >= self.max_scroll_y - 1

    def _render_tail(self) -> None:
        # Replace the strips of the open paragraph with a fresh wrap of it. RichLog keeps its
        # rendered lines in ``lines``; its line cache is keyed by position, so it is cleared.
        if not self._size_known:
            return  # rendered on the first resize, after the deferred writes
        if self._tail_lines:
            del self.lines[-self._tail_lines :]
        self._tail_lines = 0
        if not self._tail.plain:
            self._line_cache.clear()
            self.refresh()
            return
        before, start = len(self.lines), self._start_line
        self.write(self._tail.copy(), scroll_end=self._following())
        self._tail_lines = len(self.lines) - before + (self._start_line - start)
        self._line_cache.clear()
        self.refresh()

    def on_resize(self, event: Resize) -> None:
        known = self._size_known
        super().on_resize(event)
        if not known and self._size_known and self._tail.plain:
            self._render_tail()

    @property
    def text(self) -> str:
        """What the log shows, as plain text (for tests and copy)."""
        return "\n".join(strip.text.rstrip() for strip in self.lines)


class RunView(Vertical):
    """One run: a header (status, step, tokens, last autosave), an interrupt button, the log."""

    def __init__(self, run: Run) -> None:
        super().__init__(id=f"view-{run.key}", classes="run-view")
        self.run = run
        self.header = Static(classes="run-header")
        self.log_view = StreamLog(classes="run-log")
        self.stop_button = Button(
            "Interrupt (ctrl+c)", id=f"stop-{run.key}", classes="run-stop", compact=True
        )

    def compose(self) -> ComposeResult:
        yield self.header
        with Horizontal(classes="run-buttons"):
            yield self.stop_button
            yield Static(classes="run-where")

    def on_mount(self) -> None:
        self.mount(self.log_view)
        self.refresh_header()

    def refresh_header(self) -> None:
        run = self.run
        text = Text()
        text.append_text(status_badge(run.status if run.status != "starting" else "running"))
        text.append(f" {run.name}", style="bold")
        text.append(f"  {run.model}", style="dim")
        text.append(f"\n{step_text(run)}", style="bold")
        usage = format_usage(run.usage)
        if usage:
            text.append(f"  |  {usage}")
        if run.last_autosave:
            file, size, ms = run.last_autosave
            text.append(f"\nlast autosave {file}  {size:,} B  {ms:.1f} ms", style="#87d787")
            text.append(f"  ({plural(run.autosaves, 'write')})", style="dim")
        elif run.live:
            text.append("\nwaiting for the first autosave...", style="dim")
        if run.error and not run.live:
            style = STYLES[Tag.STOPPED if run.status == Status.INTERRUPTED else Tag.ERROR]
            text.append(f"\n{run.error}", style=style)
        self.header.update(text)
        where = self.query_one(".run-where", Static)
        where.update(Text(shown_folder(run), style="dim", overflow="ellipsis", no_wrap=True))
        self.stop_button.display = run.live  # a finished run has nothing to stop
        self.stop_button.label = "Force stop (ctrl+c)" if run.signals_sent else "Interrupt (ctrl+c)"


def shown_folder(run: Run) -> str:
    """The run's folder as the app names paths: under the workspace in its title bar, from
    there (``agents/<name>-<id>``); elsewhere, in full."""
    if not run.folder:
        return ""
    root = os.path.abspath(run.spec.workspace) if run.spec.workspace else None
    folder = os.path.abspath(run.folder)
    if root and folder.startswith(root + os.sep):
        return os.path.relpath(folder, root)
    return folder


def _entry(run: Run) -> Text:
    text = status_badge(run.status if run.status != "starting" else "running")
    text.append(f" {run.name}", style="bold")
    text.append(f"  {step_text(run)}", style="dim")
    return text


@dataclass
class RunPaneMessage(Message):
    """What the run pane posts: every message names the pane it came from (its control)."""

    pane: RunPane

    @property
    def control(self) -> RunPane:
        return self.pane


class RunPane(Vertical):
    """The list of runs and the selected run's view."""

    @dataclass
    class Spawned(RunPaneMessage):
        """The child of run ``key`` started (posted by the run's worker)."""

        key: str
        process: asyncio.subprocess.Process

    @dataclass
    class Output(RunPaneMessage):
        """One line from run ``key``'s child, as its JSON object (decoded by :meth:`feed`)."""

        key: str
        record: dict[str, Any]

    @dataclass
    class Exited(RunPaneMessage):
        """Run ``key``'s child is gone (``returncode`` is None when it never started)."""

        key: str
        returncode: int | None
        problem: str | None = None

    @dataclass
    class AgentStarted(RunPaneMessage):
        """A run reported its agent folder: the app can point the browser at it."""

        folder: str

    @dataclass
    class StopTimeout(RunPaneMessage):
        """Run ``key`` did not exit in time after a signal: escalate."""

        key: str

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.runs: dict[str, Run] = {}
        self.views: dict[str, RunView] = {}
        self._keys = itertools.count(1)

    def compose(self) -> ComposeResult:
        yield OptionList(id="run-list")
        yield Static(EMPTY, id="run-empty")
        yield ContentSwitcher(id="run-views")

    def on_mount(self) -> None:
        self.query_one("#run-list").display = False

    def on_unmount(self) -> None:
        # The app is closing: interrupt what is still running; each child saves and exits on
        # its own (and notices a dead parent if this never arrives).
        for run in self.runs.values():
            if run.live and not run.signals_sent:
                send_next_signal(run)

    # Public API used by the app.

    @property
    def current(self) -> Run | None:
        key = self.query_one("#run-views", ContentSwitcher).current
        return self.runs.get(key.removeprefix("view-")) if key else None

    @property
    def live_runs(self) -> list[Run]:
        return [run for run in self.runs.values() if run.live]

    def start(self, spec: RunSpec) -> Run:
        """Add a run entry and start its child."""
        run = self.add_run(spec)
        self._drive(run)
        return run

    def add_run(self, spec: RunSpec) -> Run:
        """A run entry with its view, shown now; :meth:`feed` gives it records."""
        key = f"run{next(self._keys)}"
        name = spec.agent_name or (spec.folder or "agent").rstrip("/").rsplit("/", 1)[-1]
        run = Run(key, spec, name=name, model=spec.model or "(as saved)")
        self.runs[key] = run
        view = RunView(run)
        self.views[key] = view
        switcher = self.query_one("#run-views", ContentSwitcher)
        switcher.mount(view)
        run_list = self.query_one("#run-list", OptionList)
        run_list.add_option(Option(_entry(run), id=key))
        run_list.display = True
        self.query_one("#run-empty").display = False
        self.show(key)
        return run

    def show(self, key: str) -> None:
        if key not in self.views:
            return
        self.query_one("#run-views", ContentSwitcher).current = f"view-{key}"
        run_list = self.query_one("#run-list", OptionList)
        index = run_list.get_option_index(key)
        if run_list.highlighted != index:
            run_list.highlighted = index

    def feed(self, key: str, line: dict[str, Any]) -> None:
        """Apply one line of run ``key``'s child (its JSON object) and show it (also how
        recorded streams are replayed)."""
        run = self.runs.get(key)
        record = decode(line)
        if run is None or record is None:
            return
        self._show(self.views[key], apply_record(run, record))
        if isinstance(record, Start) and run.folder:
            self.post_message(self.AgentStarted(self, run.folder))
        if isinstance(record, Start | End) or (
            isinstance(record, Event) and record.kind in HEADER_EVENTS
        ):
            self._refresh(run)

    @staticmethod
    def _show(view: RunView, lines: list[Line]) -> None:
        for line in lines:
            if line.tag == Tag.ANSWER:
                view.log_view.add_text(line.text)
            else:
                view.log_view.add_line(styled(line))

    def interrupt(self, key: str | None = None) -> bool:
        """Interrupt run ``key`` (default: the one shown); a second call escalates."""
        run = self.runs.get(key) if key else self.current
        if run is None or not run.live:
            return False
        sent = send_next_signal(run)
        if sent is None:
            return False
        sig, wait = sent
        run.status = "stopping"
        self.views[run.key].log_view.add_line(
            styled(Line(f"== {sig.name} sent; waiting for the agent to save ==", Tag.STOPPED))
        )
        self._refresh(run)
        self._watch_stop(run, wait)
        return True

    async def stop_all(self, timeout: float = 8.0) -> None:
        """Interrupt every live run and wait (bounded) until their children are gone."""
        for run in self.live_runs:
            self.interrupt(run.key)
        processes = [r.process for r in self.runs.values() if r.process is not None]
        waits = [p.wait() for p in processes if p.returncode is None]
        if waits:
            await asyncio.wait([asyncio.ensure_future(w) for w in waits], timeout=timeout)

    # Workers: they read the child and post messages; they never touch widgets.

    @work(group="runs", exit_on_error=False, description="agent run")
    async def _drive(self, run: Run) -> None:
        try:
            process = await spawn(run.spec)
        except OSError as exc:
            self.post_message(self.Exited(self, run.key, None, f"cannot start the runner: {exc}"))
            return
        self.post_message(self.Spawned(self, run.key, process))
        assert process.stdout is not None and process.stderr is not None
        errors = asyncio.ensure_future(collect_stderr(process.stderr, run.stderr, run.redactor))
        try:
            async for record in read_lines(process.stdout):
                self.post_message(self.Output(self, run.key, record))
            code = await process.wait()
            await errors
        except asyncio.CancelledError:
            if process.returncode is None and not run.signals_sent:
                # The app is going away: interrupt; the agent saves its state and exits.
                run.signals_sent += 1
                process.send_signal(signal.SIGINT)
            raise
        self.post_message(self.Exited(self, run.key, code))

    @work(group="run-stop", exit_on_error=False, description="wait for an interrupted run")
    async def _watch_stop(self, run: Run, wait: float) -> None:
        process = run.process
        if process is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(process.wait()), wait)
        except TimeoutError:
            self.post_message(self.StopTimeout(self, run.key))

    # Handlers.

    @on(Spawned)
    def _spawned(self, event: Spawned) -> None:
        run = self.runs[event.key]
        run.process = event.process
        run.pid = event.process.pid

    @on(Output)
    def _output(self, event: Output) -> None:
        self.feed(event.key, event.record)

    @on(Exited)
    def _exited(self, event: Exited) -> None:
        run = self.runs.get(event.key)
        if run is None:
            return
        if event.problem:
            run.status, run.error = "error", event.problem
        self._show(self.views[event.key], exit_without_end(run, event.returncode))
        self._refresh(run)

    @on(StopTimeout)
    def _stop_timeout(self, event: StopTimeout) -> None:
        run = self.runs.get(event.key)
        if run is not None and run.process is not None and run.process.returncode is None:
            self.interrupt(run.key)

    @on(OptionList.OptionHighlighted, "#run-list")
    def _picked(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id:
            self.show(event.option.id)

    @on(Button.Pressed, ".run-stop")
    def _stop_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.interrupt(str(event.button.id).removeprefix("stop-"))

    def _refresh(self, run: Run) -> None:
        self.views[run.key].refresh_header()
        self.query_one("#run-list", OptionList).replace_option_prompt(run.key, _entry(run))
