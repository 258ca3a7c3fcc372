"""Nothing in the app reads a workspace file on the UI thread.

Every view (Config, State, Diff, the resume preview) and the cleanup screen's plan read in
thread workers: a FIFO where a file belongs, or any reader that blocks, leaves the event loop
free. A ticker (``set_interval``) proves it: the longest gap between its ticks stays small
while the blocked agent is selected, and another agent selected afterwards shows its config.
"""

from __future__ import annotations

import errno
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.widgets import Button, Input, Static
from tui_fixtures import run_agent, wait_until

from agent_tui.tui import cleanup_screen, config_view, run_dialogs, state_view, step_bar
from agent_tui.tui.app import AgentTUI
from agent_tui.tui.cleanup_screen import CleanupScreen
from agent_tui.tui.dialogs import ValuePrompt
from agent_tui.tui.run_dialogs import ResumeDialog
from agent_tui.workspace import read_agent

SIZE = (160, 45)
TICK = 0.05
MAX_GAP = 0.5  # while a read is blocked and nothing else happens
MAX_GAP_BUSY = 2.0  # while four tabs and a dialog are drawn too (a frame can take 1 s on loaded CI)
RELEASE_AFTER = 10.0  # today's code blocks the loop until then: the gap shows it


def text_of(app: AgentTUI, selector: str) -> str:
    if selector == "#state-view":  # a header and a log of messages: all the view holds
        return app.state_view.text
    return str(app.screen.query_one(selector, Static).content)


class Ticker:
    """Times between ticks of an interval timer of the app: the event loop ran, or not."""

    def __init__(self, app: AgentTUI) -> None:
        self.times: list[float] = []
        app.set_interval(TICK, lambda: self.times.append(time.monotonic()))

    def max_gap(self, since: float = 0.0) -> float:
        """The longest time between two ticks (or the last tick and now) after ``since``."""
        stamps = [since, *(t for t in self.times if t > since), time.monotonic()]
        return max(b - a for a, b in zip(stamps, stamps[1:], strict=False))


def wake_readers(path: Path) -> bool:
    """Open the FIFO's write end and close it: every reader blocked on it wakes to EOF.
    False when no reader is waiting."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno in (errno.ENXIO, errno.ENOENT):
            return False
        raise
    os.close(fd)
    return True


@pytest.fixture
def fifo_releaser() -> Iterator[Callable[[Path], None]]:
    """Wakes readers of the FIFOs it is given, from ``RELEASE_AFTER`` seconds on (a UI that
    blocks on one then stops blocking, so the test fails instead of hanging) and at the end
    (so no worker thread is left blocked when the event loop closes)."""
    fifos: list[Path] = []
    stop = threading.Event()

    def keep_waking() -> None:
        if stop.wait(RELEASE_AFTER):
            return
        while not stop.wait(0.05):
            for fifo in fifos:
                wake_readers(fifo)

    thread = threading.Thread(target=keep_waking, daemon=True)

    def add(fifo: Path) -> None:
        fifos.append(fifo)
        if not thread.is_alive():
            thread.start()

    yield add
    stop.set()
    if thread.is_alive():
        thread.join()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if not any([wake_readers(fifo) for fifo in fifos]):
            time.sleep(0.1)
            if not any([wake_readers(fifo) for fifo in fifos]):
                break


def replace_with_fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


async def select(pilot, app: AgentTUI, folder: Path) -> None:
    table = app.table
    assert await wait_until(pilot, lambda: str(folder) in table.shown)
    table.move_cursor(table.row_of(str(folder)))
    assert await wait_until(pilot, lambda: app.selected == str(folder))


def shows_config_of(app: AgentTUI, name: str) -> bool:
    return f'"agent_name": "{name}"' in text_of(app, "#config-body")


@pytest.mark.parametrize("which", ["config.json", "state file", "journal.jsonl"])
async def test_a_fifo_in_an_agent_folder_never_freezes_the_app(
    workspace: Path, fifo_releaser: Callable[[Path], None], which: str
) -> None:
    alpha = run_agent(workspace, "alpha", loops=1)
    victim = run_agent(workspace, "victim", loops=2)
    state_file = read_agent(victim).state_file
    assert state_file is not None
    fifo = {"config.json": victim / "config.json", "state file": state_file}.get(
        which, victim / "journal.jsonl"
    )
    replace_with_fifo(fifo)
    fifo_releaser(fifo)
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        assert await wait_until(pilot, lambda: len(app.table.records) == 2)
        ticker = Ticker(app)
        selecting = time.monotonic()
        await select(pilot, app, victim)
        for key in ("1", "2", "3", "4", "1"):
            await pilot.press(key)
            await pilot.pause(0.1)
        await pilot.press("l")
        await pilot.pause(0.3)
        if isinstance(app.screen, ResumeDialog):
            # A reader that blocks leaves the preview loading and Resume disabled; one that
            # refuses the FIFO shows why. Either way, Resume works exactly once it is read.
            loading = "loading" in text_of(app, "#resume-preview-body")
            assert app.screen.query_one("#form-start", Button).disabled == loading
            await pilot.press("escape")
        assert await wait_until(pilot, lambda: not isinstance(app.screen, ResumeDialog))
        await select(pilot, app, alpha)
        assert await wait_until(pilot, lambda: shows_config_of(app, "alpha"), tries=40)
        gap = ticker.max_gap(since=selecting)
        assert gap < MAX_GAP_BUSY, f"the UI stood still {gap:.1f} s"
        assert app.is_running


class Gate:
    """A loader that blocks until released (at most ``RELEASE_AFTER`` s), then reads; it
    notes when and on which thread it was entered."""

    def __init__(self, real: Callable, only: str | None = None) -> None:
        self.real, self.only = real, only
        self.released = threading.Event()
        self.entered = threading.Event()
        self.entered_at = 0.0
        self.threads: set[threading.Thread] = set()

    def __call__(self, folder, *args, **kwargs):
        if self.only is None or Path(folder).name.startswith(self.only):
            self.entered_at = time.monotonic()
            self.threads.add(threading.current_thread())
            self.entered.set()
            self.released.wait(RELEASE_AFTER)
        return self.real(folder, *args, **kwargs)


async def hold(pilot, ticker: Ticker, gate: Gate, seconds: float = 1.0) -> None:
    """The read ran in a worker thread, and the UI kept ticking for ``seconds`` while it was
    blocked."""
    assert await wait_until(pilot, gate.entered.is_set, tries=40)
    assert threading.main_thread() not in gate.threads, "read on the UI thread"
    await pilot.pause()  # what the action itself draws (a dialog's first frame) is not the read
    since = time.monotonic()
    while time.monotonic() < since + seconds:
        await pilot.pause(0.05)
    assert gate.entered.is_set() and not gate.released.is_set()
    gap = ticker.max_gap(since)
    assert gap < MAX_GAP, f"the UI stood still {gap:.1f} s"


VIEWS = {
    # tab key, module, loader the view calls, what shows once the read is done
    "config": ("1", config_view, "load_detail", "#config-body", '"agent_name": "alpha"'),
    "state": ("2", state_view, "load_detail", "#state-view", "count the words for alpha"),
    "diff": ("3", step_bar, "step_history", "#diff-summary", "step 1 -> step 2"),
}


@pytest.mark.parametrize("view", sorted(VIEWS))
async def test_a_blocking_read_leaves_the_view_loading_and_the_ui_running(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, view: str
) -> None:
    key, module, loader, selector, loaded = VIEWS[view]
    alpha = run_agent(workspace, "alpha", loops=2)
    gate = Gate(getattr(module, loader))
    monkeypatch.setattr(module, loader, gate)
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        assert await wait_until(pilot, lambda: len(app.table.records) == 1)
        ticker = Ticker(app)
        await pilot.press(key)
        await select(pilot, app, alpha)
        await hold(pilot, ticker, gate)
        assert loaded not in text_of(app, selector)
        if view == "config":  # the header comes from the record: no read needed
            assert "loop 2" in text_of(app, "#config-header")
            assert "loading" in text_of(app, "#config-body")
        gate.released.set()
        assert await wait_until(pilot, lambda: loaded in text_of(app, selector))


async def test_a_newer_selection_wins_over_an_older_load(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alpha = run_agent(workspace, "alpha", loops=1)
    beta = run_agent(workspace, "beta", loops=1)
    gate = Gate(config_view.load_detail, only="alpha")
    monkeypatch.setattr(config_view, "load_detail", gate)
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        assert await wait_until(pilot, lambda: len(app.table.records) == 2)
        await select(pilot, app, alpha)
        assert await wait_until(pilot, gate.entered.is_set, tries=40)
        assert threading.main_thread() not in gate.threads, "read on the UI thread"
        await select(pilot, app, beta)
        assert await wait_until(pilot, lambda: shows_config_of(app, "beta"), tries=40)
        gate.released.set()  # alpha's read ends now, after beta's: it must not replace it
        await pilot.pause(0.3)
        assert shows_config_of(app, "beta")
        assert app.config_view.document["agent_name"] == "beta"


async def test_the_resume_dialog_loads_its_preview_in_the_background(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alpha = run_agent(workspace, "alpha", loops=2)
    gate = Gate(run_dialogs.load_state)
    monkeypatch.setattr(run_dialogs, "load_state", gate)
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, app, alpha)
        ticker = Ticker(app)
        await pilot.press("l")
        assert await wait_until(pilot, lambda: isinstance(app.screen, ResumeDialog), tries=40)
        await hold(pilot, ticker, gate)
        dialog = app.screen
        assert "loading" in text_of(app, "#resume-preview-body")
        assert dialog.query_one("#form-start", Button).disabled
        await pilot.press("enter")  # Enter in the task field: not before the preview is read
        await pilot.pause(0.1)
        assert app.screen is dialog
        gate.released.set()
        assert await wait_until(pilot, lambda: "steps  2" in text_of(app, "#resume-preview-body"))
        assert not dialog.query_one("#form-start", Button).disabled
        assert dialog.query_one("#resume-loops", Input).value == "2"


async def test_cleanup_marks_by_age_off_the_ui_thread(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_agent(workspace, "alpha", loops=1)
    real = cleanup_screen.plan
    released = threading.Event()
    threads: set[threading.Thread] = set()

    def slow_plan(*args, **kwargs):
        threads.add(threading.current_thread())
        released.wait(RELEASE_AFTER)
        return real(*args, **kwargs)

    monkeypatch.setattr(cleanup_screen, "plan", slow_plan)
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        assert await wait_until(pilot, lambda: len(app.table.records) == 1)
        ticker = Ticker(app)
        await pilot.press("c")
        assert await wait_until(pilot, lambda: isinstance(app.screen, CleanupScreen))
        screen = app.screen
        await pilot.press("o")
        assert await wait_until(pilot, lambda: isinstance(app.screen, ValuePrompt))
        asked = time.monotonic()
        await pilot.press("backspace", "0", "enter")
        assert await wait_until(pilot, lambda: app.screen is screen)
        while time.monotonic() < asked + 1.0:
            await pilot.pause(0.05)
        gap = ticker.max_gap(since=asked)
        assert gap < MAX_GAP, f"the UI stood still {gap:.1f} s"
        assert threads and threading.main_thread() not in threads
        released.set()
        assert await wait_until(pilot, lambda: len(screen.marked) == 1)
