"""Pilot tests of the Run tab: runs started from the form stream, autosave, stop, fail and
resume in real child processes (``python -m agent_tui.runner``) with the offline model."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, OptionList, Static
from tui_fixtures import run_agent, wait_until

from agent_tui import cli
from agent_tui.demo import DEMO_TOOL_REFS
from agent_tui.format.journal import read_journal
from agent_tui.runner import RunSpec
from agent_tui.tui.agent_table import AgentTable
from agent_tui.tui.app import AgentTUI
from agent_tui.tui.run_dialogs import NewRunDialog, ResumeDialog
from agent_tui.tui.runs import Run
from agent_tui.workspace import load_config, load_state, read_agent

RUN_TRIES = 600  # x 50 ms: a loaded 2-core machine starts a child in well under that


def header(app: AgentTUI, run: Run) -> str:
    return str(app.run_pane.views[run.key].header.content)


def log_text(app: AgentTUI, run: Run) -> str:
    return app.run_pane.views[run.key].log_view.text


def flat(text: str) -> str:
    return " ".join(text.split())


def meta(folder: Path) -> dict:
    return load_config(folder)["_autosave_metadata"]


async def start_from_form(pilot, app: AgentTUI, name: str, model: str, task: str, loops: str = "5"):
    await pilot.press("n")
    assert await wait_until(pilot, lambda: isinstance(app.screen, NewRunDialog))
    form = app.screen
    before = set(app.run_pane.runs)
    for selector, value in (("#run-name", name), ("#run-model", model), ("#run-task", task),
                            ("#run-loops", loops)):  # fmt: skip
        form.query_one(selector, Input).value = value
    form.query_one("#run-task", Input).focus()
    await pilot.press("enter")
    assert await wait_until(pilot, lambda: set(app.run_pane.runs) - before)
    (key,) = set(app.run_pane.runs) - before
    return app.run_pane.runs[key]


async def finished(pilot, run: Run) -> None:
    assert await wait_until(pilot, lambda: not run.live, tries=RUN_TRIES), run


async def test_run_from_the_form_streams_and_autosaves(workspace: Path) -> None:
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(140, 40)) as pilot:
        run = await start_from_form(
            pilot, app, "writer", "offline/demo?delay=0.02", "explain atomic saves"
        )
        assert app.tabs.active == "tab-run"
        # Streamed text is on screen while the run is still going.
        assert await wait_until(pilot, lambda: "I will call" in log_text(app, run), RUN_TRIES)
        assert run.live
        await finished(pilot, run)
        folder = Path(run.folder)
        assert meta(folder)["loop_count"] == 3 and meta(folder)["status"] == "completed"
        assert "completed" in header(app, run) and "step 3 of 5" in header(app, run)
        assert "last autosave config.json" in header(app, run)
        text = log_text(app, run)
        assert "[saved] config.json" in text and "[saved] journal.jsonl" in text
        answer = [m for m in load_state(folder)["conversation"] if m["role"] == "assistant"][-1]
        assert flat(answer["content"])[:120] in flat(text)


async def test_interrupt_saves_interrupted_state(workspace: Path) -> None:
    app = AgentTUI(workspace_dir=workspace)
    async with app.run_test(size=(140, 40)) as pilot:
        # The model hangs at step 2, after one completed step: only an interrupt ends it.
        run = await start_from_form(
            pilot, app, "stuck", "offline/demo?fail_at=2&fail=hang", "wait for me"
        )
        assert await wait_until(pilot, lambda: "step 2 of 5" in header(app, run), RUN_TRIES)
        await pilot.press("ctrl+c")
        await finished(pilot, run)
        assert run.status == "interrupted"
        assert "interrupted" in header(app, run)
        assert "-- run interrupted after 1 step" in log_text(app, run)
        assert "state saved" in log_text(app, run)
        folder = Path(run.folder)
        assert meta(folder)["status"] == "interrupted" and meta(folder)["loop_count"] == 1
        assert load_state(folder)["status"] == "interrupted"
        table = app.query_one(AgentTable)

        def row_status() -> str:
            if str(folder) not in table.shown:  # the watcher may not have seen it yet
                return ""
            return table.cell(str(folder), "status").plain.strip()

        assert await wait_until(pilot, lambda: row_status() == "interrupted")


async def test_resume_continues_the_step_count(workspace: Path) -> None:
    folder = run_agent(workspace, "alpha", loops=2)
    assert read_agent(folder).loop_count == 2
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(140, 40)) as pilot:
        table = app.query_one(AgentTable)
        assert await wait_until(pilot, lambda: app.selected == str(folder))
        await pilot.press("l")
        assert await wait_until(pilot, lambda: isinstance(app.screen, ResumeDialog))

        def preview() -> str:
            return flat(str(app.screen.query_one("#resume-preview-body", Static).content))

        assert await wait_until(pilot, lambda: "steps 2" in preview())  # read in a worker
        assert "count the words for alpha" in preview()
        app.screen.query_one("#resume-task", Input).value = "now summarise the count"
        app.screen.query_one("#resume-loops", Input).value = "2"
        app.screen.query_one("#resume-task", Input).focus()
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: app.run_pane.runs)
        (run,) = app.run_pane.runs.values()
        await finished(pilot, run)
        assert run.status == "completed", run.error
        assert "resumed after step 2" in log_text(app, run)
        assert "step 4 (2 of 2 this run)" in header(app, run)
        assert meta(folder)["loop_count"] == 4
        assert load_state(folder)["tasks"][-1] == "now summarise the count"
        assert table.is_attached


async def test_failing_model_shows_its_error_and_the_app_stays_up(workspace: Path) -> None:
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(140, 40)) as pilot:
        run = await start_from_form(pilot, app, "denied", "offline/demo?fail_at=1&fail=auth", "go")
        await finished(pilot, run)
        assert run.status == "error"
        assert "(auth)" in header(app, run) and "scripted auth failure" in header(app, run)
        assert "== error: model" in log_text(app, run)
        assert meta(Path(run.folder))["status"] == "error"
        assert app.is_running
        await pilot.press("2")  # the browser still works
        assert app.tabs.active == "tab-state"


async def test_form_explains_bad_input(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.chdir(workspace.parent)  # no .env of the developer's found above
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("n")
        assert await wait_until(pilot, lambda: isinstance(app.screen, NewRunDialog))
        form = app.screen

        def error() -> str:
            return str(form.query_one("#form-error", Static).content)

        form.query_one("#run-task", Input).focus()
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: "Type a task" in error())
        form.query_one("#run-task", Input).value = "do it"
        form.query_one("#run-loops", Input).value = "0"
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: "Max loops must be a whole number" in error())
        form.query_one("#run-loops", Input).value = "3"
        form.query_one("#run-model", Input).value = "offline/demo?speed=9"
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: "unknown option 'speed'" in error())
        # A provider whose key is not set: refused here, in the words a run would use.
        form.query_one("#run-model", Input).value = "openai/gpt-4o-mini"
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: "OPENAI_API_KEY is not set" in error())
        assert app.screen is form and not app.run_pane.runs
        assert not (workspace / "agents").exists() or not any((workspace / "agents").iterdir())
        await pilot.press("escape")
        assert await wait_until(pilot, lambda: not isinstance(app.screen, NewRunDialog))


async def test_two_runs_at_once_both_finish(workspace: Path) -> None:
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(140, 40)) as pilot:
        model = "offline/demo?delay=0.05"
        first = await start_from_form(pilot, app, "one", model, "first task")
        second = await start_from_form(pilot, app, "two", model, "second task")
        await finished(pilot, first)
        await finished(pilot, second)
        assert first.status == second.status == "completed"
        # At once: the second began before the first ended (from the journals, not from how
        # fast a loaded machine let the test look).
        first_end = read_journal(Path(first.folder) / "journal.jsonl").records[-1]["ts"]
        second_start = read_journal(Path(second.folder) / "journal.jsonl").records[0]["ts"]
        assert second_start < first_end
        assert meta(Path(first.folder))["loop_count"] == 3
        assert meta(Path(second.folder))["loop_count"] == 3
        assert app.query_one("#run-list", OptionList).option_count == 2
        assert "first task" in log_text(app, first) and "second task" in log_text(app, second)


async def test_demo_start_runs_open_on_the_run_tab(workspace: Path) -> None:
    spec = RunSpec(agent_name="auto", task="t", model="offline/demo", max_loops=2,
                   workspace=str(workspace))  # fmt: skip
    app = AgentTUI(workspace_dir=workspace, watch=False, start_runs=[spec])
    async with app.run_test(size=(140, 40)) as pilot:
        assert await wait_until(pilot, lambda: app.run_pane.runs)
        (run,) = app.run_pane.runs.values()
        await finished(pilot, run)
        assert app.tabs.active == "tab-run" and run.status == "completed"


async def test_the_run_tab_shows_the_progress_lines_the_cli_prints(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One renderer (agent_tui.run_render) for every face: the same run, from the CLI and from
    the app, reads the same step by step (before, each face spelled its own lines)."""
    task = "Explain fsync and rename"
    assert cli.main(["run", task, "--name", "from-cli", "--max-loops", "3"]) == 0
    printed = capsys.readouterr().err.splitlines()

    def progress(lines: list[str]) -> list[str]:
        marks = ("-- ", "tool ", "-> ", "step ")
        return [line.strip() for line in lines if line.strip().startswith(marks)]

    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(240, 50)) as pilot:
        app.tabs.active = "tab-run"
        spec = RunSpec(agent_name="from-app", task=task, model="offline/demo", max_loops=3,
                       workspace=str(workspace), tools=list(DEMO_TOOL_REFS))  # fmt: skip
        run = app.run_pane.start(spec)
        await finished(pilot, run)
        assert run.status == "completed"
        assert await wait_until(pilot, lambda: "-- run completed" in log_text(app, run))
        shown = log_text(app, run).splitlines()
    assert len(progress(printed)) >= 7  # steps, tool calls, results, saves, the end
    assert progress(shown) == progress(printed)


@pytest.mark.parametrize("watch", [False, True], ids=["run-tab-only", "with-watcher"])
async def test_a_run_started_here_that_ends_is_said_once(workspace: Path, watch: bool) -> None:
    app = AgentTUI(workspace_dir=workspace, watch=watch)
    async with app.run_test(size=(140, 40)) as pilot:
        run = await start_from_form(pilot, app, "noisy", "offline/demo", "count", loops="2")
        await finished(pilot, run)
        assert await wait_until(
            pilot, lambda: any("noisy" in n.message for n in app._notifications)
        )
        await pilot.pause(1.0)  # the watcher's view of the same end comes in too
        said = [n.message for n in app._notifications if "noisy" in n.message]
        assert said == ["noisy finished after 2 steps"], said


async def test_a_finished_run_offers_no_stop_and_names_its_folder_from_the_workspace(
    workspace: Path,
) -> None:
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(140, 40)) as pilot:
        run = await start_from_form(pilot, app, "tidy", "offline/demo?delay=0.05", "go", "3")
        view = app.run_pane.views[run.key]
        assert await wait_until(pilot, lambda: run.folder is not None)
        assert view.stop_button.display  # live: it can be interrupted
        await finished(pilot, run)
        await pilot.pause(0.2)
        assert not view.stop_button.display
        where = str(view.query_one(".run-where", Static).content)
        assert where == f"agents/{Path(run.folder).name}"  # as the title bar's root names it
