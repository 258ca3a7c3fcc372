"""Every run visible and time travel by step (Pilot, on the real app): the History view's
runs of an agent run twice with the offline model (the second run interrupted), and the
Config, State and Diff views as the agent was at a step, staying there through autosaves,
back to live on request; swarms agents and agents with no journal say so; a key quoted in a
task and a tool result is masked on every one of these screens."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.text import Text
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Static
from tui_fixtures import wait_until
from workspace_fixtures import write_ours, write_swarms

from agent_tui import Agent
from agent_tui.agent import AgentInterrupted
from agent_tui.format.persistence import atomic_write_json, read_json_object
from agent_tui.redaction import REDACTED
from agent_tui.tui.app import AgentTUI
from agent_tui.tui.display import LOADING
from agent_tui.tui.history_view import HistoryView
from agent_tui.tui.step_bar import NO_STEPS_NOTE, StepBar
from agent_tui.tui.watcher import AgentChanged
from agent_tui.workspace import AgentRecord, read_agent

# Shaped like no well-known token: only the environment's value can catch it.
KEY = "tq-Hq72mLw0Zp4Rv8Xc1Bd5Ns3Ke"
SECRET_VAR = "ACME_SERVICE_API_KEY"
SWARMS_KEY = "Wq81mZx0Lp7Rt2Vn5Yc9Bd4"
SIZE = (160, 45)


class HistoryScreen(Screen[None]):
    """The History view alone, until the app mounts it as a tab."""

    def __init__(self, view: HistoryView) -> None:
        super().__init__()
        self.view = view

    def compose(self) -> ComposeResult:
        yield self.view


def planner(root: Path, *, second_run: bool = True) -> tuple[Path, Agent]:
    """A real agent (offline model, two tool steps then an answer): "Plan the garden" runs
    steps 1-3 and completes; "Plan the kitchen" completes step 4 and is interrupted in step 5.
    The task and each tool result quote :data:`KEY` (no secret is known while it runs)."""
    calls = {"n": 0, "stop_at": 0}

    def lookup(term: str) -> str:
        """Look a term up."""
        calls["n"] += 1
        if calls["n"] == calls["stop_at"]:
            agent.request_stop()
        return f"result for {term}: {KEY}"

    agent = Agent(model_name="offline/demo?tool_steps=2", agent_name="planner", max_loops=5,
                  tools=[lookup], workspace_dir=root)  # fmt: skip
    agent.run(f"Plan the garden {KEY}")
    if second_run:
        calls["stop_at"] = calls["n"] + 2  # the second tool call of the second run
        with pytest.raises(AgentInterrupted):
            agent.run("Plan the kitchen")
    return Path(agent._get_agent_workspace_dir()), agent


def make_secret(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """The key is a secret from now on: the runs wrote it in plain text (checked)."""
    assert KEY in (folder / "journal.jsonl").read_text(encoding="utf-8")
    monkeypatch.setenv(SECRET_VAR, KEY)


def content(view: Static) -> str:
    return str(view.content)


def config_text(app: AgentTUI) -> str:
    view = app.config_view
    return f"{content(view.query_one('#config-header', Static))}\n" + content(
        view.query_one("#config-body", Static)
    )


def diff_text(app: AgentTUI) -> str:
    view = app.diff_view
    return f"{content(view.query_one('#diff-summary', Static))}\n" + content(
        view.query_one("#diff-body", Static)
    )


async def started(pilot, app: AgentTUI, folder: Path) -> AgentRecord:
    """The app has scanned ``folder`` and selected it; its record."""
    assert await wait_until(pilot, lambda: app.selected == str(folder))
    return app.table.records[str(folder)]


async def history_of(pilot, app: AgentTUI, record: AgentRecord | None) -> HistoryView:
    view = HistoryView(app.redactor, app.clock)
    await app.push_screen(HistoryScreen(view))
    view.show(record)
    return view


# ------------------------------------------------------------------------------- runs view
async def test_the_runs_view_lists_both_runs_masked_and_enter_picks_a_runs_last_step(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, _ = planner(workspace)
    make_secret(monkeypatch, folder)
    seen: list[object] = []
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        record = await started(pilot, app, folder)
        view = await history_of(pilot, app, record)
        assert await wait_until(pilot, lambda: view.table.row_count == 2)
        shown = view.text
        lines = shown.splitlines()
        garden, kitchen = lines[-2], lines[-1]  # oldest first
        assert f"Plan the garden {REDACTED}" in garden and "completed" in garden
        assert " 1-3 " in garden
        assert "Plan the kitchen" in kitchen and "interrupted" in kitchen
        assert " 4 " in kitchen
        assert "planner" in shown and "2 runs, 4 steps" in shown
        assert KEY not in shown and REDACTED in shown
        # The newest run has the cursor; enter asks for its last step, up asks for the first's.
        assert view.table.cursor_row == 1
        view.table.focus()
        await pilot.press("enter")
        await pilot.press("up", "enter")
        assert await wait_until(
            pilot, lambda: [m.step for m in seen if isinstance(m, HistoryView.StepPicked)] == [4, 3]
        )
        picked = [m for m in seen if isinstance(m, HistoryView.StepPicked)]
        assert all(m.folder == folder for m in picked)


async def test_the_runs_view_reads_again_only_when_the_journal_changed_and_keeps_its_cursor(
    workspace: Path,
) -> None:
    folder, agent = planner(workspace)
    seen: list[object] = []
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        record = await started(pilot, app, folder)
        view = await history_of(pilot, app, record)
        assert await wait_until(pilot, lambda: view.table.row_count == 2)
        view.table.move_cursor(row=0)
        loads = sum(isinstance(m, HistoryView.Loaded) for m in seen)

        view.show(read_agent(folder))  # an autosave that changed nothing the runs are read from
        await pilot.pause(0.3)
        assert sum(isinstance(m, HistoryView.Loaded) for m in seen) == loads

        agent.run("Plan the shed")  # a third run, appended to the journal
        view.show(read_agent(folder))
        assert await wait_until(pilot, lambda: view.table.row_count == 3)
        assert "Plan the shed" in view.text.splitlines()[-1]
        assert view.table.cursor_row == 0  # where the reader left it


async def test_a_swarms_agent_shows_its_one_run_and_no_journal_says_so(workspace: Path) -> None:
    swarms = write_swarms(workspace, "Finance-Agent", loop_count=2)
    # swarms keeps its key in plain text, and a task may quote it.
    config = read_json_object(swarms / "config.json")
    config["llm_api_key"] = SWARMS_KEY
    config["short_memory"][1]["content"] = f"What is a bond? Use {SWARMS_KEY}"
    atomic_write_json(swarms / "config.json", config)
    bare = write_ours(workspace, "bare", journal=False)
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        assert await wait_until(pilot, lambda: len(app.table.records) == 2)
        view = await history_of(pilot, app, app.table.records[str(swarms)])
        assert await wait_until(pilot, lambda: view.table.row_count == 1)
        assert f"What is a bond? Use {REDACTED}" in view.text and NO_STEPS_NOTE in view.text
        assert SWARMS_KEY not in view.text

        view.show(app.table.records[str(bare)])
        assert await wait_until(pilot, lambda: "no runs recorded" in view.text)
        assert view.table.row_count == 0


# ------------------------------------------------------------------------------ time travel
async def test_the_views_at_a_step_show_that_step_and_stay_there_through_autosaves(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, agent = planner(workspace, second_run=False)  # steps 1-3
    make_secret(monkeypatch, folder)
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        record = await started(pilot, app, folder)
        assert await wait_until(pilot, lambda: '"loop_count": 3' in config_text(app))

        app.step_bar.set_step(1)  # the app's bar: where it keeps the tab on screen
        app.config_view.show_step(record, 1)
        app.state_view.show_step(record, 1)
        app.diff_view.show_step(record, 2)
        assert await wait_until(pilot, lambda: '"loop_count": 1' in config_text(app))
        config = config_text(app)
        assert "as at step 1 (from the journal)" in config and "live: step 3" in config
        assert await wait_until(pilot, lambda: "Step 1: I will call" in app.state_view.text)
        state = app.state_view.text
        assert "as at step 1 (from the journal)" in state
        assert "Step 2:" not in state and "Looking at" not in state
        assert f"Plan the garden {REDACTED}" in state  # the task, step 0
        assert await wait_until(pilot, lambda: "step 1 -> step 2:" in diff_text(app))
        diff = diff_text(app)
        assert "Step 2: I will call" in diff and "Step 1:" not in diff
        assert "Looking at" not in diff
        for shown in (config, state, diff):
            assert KEY not in shown
        assert REDACTED in state and REDACTED in diff

        # The agent runs on and autosaves: what the views show stays at the step.
        agent.run("Plan the shed")
        moved = read_agent(folder)
        assert moved.loop_count is not None and moved.loop_count > 3
        app.post_message(AgentChanged(moved))  # what the watcher posts (the Config tab is on)
        app.state_view.show(moved)
        app.diff_view.show(moved, [moved])
        live = f"live: step {moved.loop_count}"
        assert await wait_until(pilot, lambda: live in config_text(app))
        await pilot.pause(0.3)
        assert '"loop_count": 1' in config_text(app)
        assert live in app.state_view.text and "Step 2:" not in app.state_view.text
        assert live in diff_text(app) and "step 1 -> step 2:" in diff_text(app)

        # Back to live: the latest.
        app.step_bar.set_step(None)
        app.config_view.show_step(moved, None)
        app.state_view.show_step(moved, None)
        app.diff_view.show_step(moved, None)
        last = f'"loop_count": {moved.loop_count}'
        assert await wait_until(pilot, lambda: last in config_text(app))
        assert "as at step" not in config_text(app)
        assert await wait_until(pilot, lambda: "Plan the shed" in app.state_view.text)
        assert "as at step" not in app.state_view.text
        after = f"step {moved.loop_count - 1} -> step {moved.loop_count}:"
        assert await wait_until(pilot, lambda: after in diff_text(app))
        assert "as at step" not in diff_text(app)


async def test_a_swarms_agent_has_no_step_history(workspace: Path) -> None:
    folder = write_swarms(workspace, "Finance-Agent", loop_count=2)
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        record = await started(pilot, app, folder)
        for view in (app.config_view, app.state_view, app.diff_view):
            view.show_step(record, 1)
        await pilot.pause(0.2)
        assert NO_STEPS_NOTE in config_text(app)
        assert NO_STEPS_NOTE in app.state_view.text
        assert NO_STEPS_NOTE in diff_text(app)
        app.config_view.show_step(record, None)
        assert await wait_until(pilot, lambda: "Finance-Agent" in config_text(app))
        assert await wait_until(pilot, lambda: "short_memory" in config_text(app))


async def test_a_step_the_journal_does_not_hold_is_said_not_shown(workspace: Path) -> None:
    folder, _ = planner(workspace, second_run=False)
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        record = await started(pilot, app, folder)
        app.config_view.show_step(record, 9)
        app.state_view.show_step(record, 9)
        app.diff_view.show_step(record, 0)
        assert await wait_until(pilot, lambda: "step 9 cannot be shown" in config_text(app))
        assert await wait_until(pilot, lambda: "step 9 cannot be shown" in app.state_view.text)
        assert await wait_until(pilot, lambda: "nothing before it" in diff_text(app))
        assert LOADING not in config_text(app)


# ------------------------------------------------------------------------------ step bar
async def test_the_step_bar_moves_between_steps_and_back_to_live(workspace: Path) -> None:
    app = AgentTUI(workspace_dir=workspace, watch=False)
    seen: list[object] = []
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        bar = StepBar()
        screen: Screen[None] = Screen()
        await app.push_screen(screen)
        await screen.mount(bar)
        bar.set_range(3)
        await pilot.pause()
        assert bar.render().plain.startswith(" live: step 3 ")  # as wide as "step 3 of 3"
        bar.earlier()
        bar.earlier()
        assert bar.step == 1
        line = bar.render()
        assert isinstance(line, Text) and line.plain.startswith(" step 1 of 3 ")
        bar.earlier()
        bar.earlier()  # no step before the first
        assert bar.step == 0
        bar.later()
        bar.later()
        bar.later()
        bar.later()  # past the last: live
        assert bar.step is None
        await pilot.pause()
        changes = [m.step for m in seen if isinstance(m, StepBar.Changed)]
        assert changes == [2, 1, 0, 1, 2, 3, None]


async def test_a_long_step_shows_its_last_messages_then_earlier_ones(workspace: Path) -> None:
    folder = write_ours(workspace, "long", loop_count=30)  # 32 messages after step 30
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        record = await started(pilot, app, folder)
        app.state_view.show_step(record, 25)  # 27 messages: more than a window
        assert await wait_until(pilot, lambda: "step 25 answer" in app.state_view.text)
        shown = app.state_view.text
        assert "27 messages after step 25" in shown and "step 26 answer" not in shown
        assert "earlier messages not shown" in shown and "count the words" not in shown
        app.state_view.load_earlier()
        assert await wait_until(pilot, lambda: "count the words" in app.state_view.text)
        assert "earlier messages not shown" not in app.state_view.text
        assert "step 26 answer" not in app.state_view.text


async def test_a_click_on_the_step_bar_picks_the_step_under_it(workspace: Path) -> None:
    app = AgentTUI(workspace_dir=workspace, watch=False)
    seen: list[object] = []
    async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
        bar = StepBar()
        screen: Screen[None] = Screen()
        await app.push_screen(screen)
        await screen.mount(bar)
        bar.set_range(10)
        await pilot.pause()
        track = len(" step 10 of 10 ") + 1  # where the track begins, wherever the step is
        width = bar.size.width - track
        await pilot.click(bar, offset=(track, 0))
        assert bar.step == 0
        await pilot.click(bar, offset=(track + width // 2, 0))
        assert bar.step == 5
        await pilot.click(bar, offset=(bar.size.width - 1, 0))
        assert bar.step is None
        await pilot.pause()
        assert [m.step for m in seen if isinstance(m, StepBar.Changed)] == [0, 5, None]
