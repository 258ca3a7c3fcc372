"""Secrets on the app's screens (Pilot): the Run tab of real runs (child processes, a real
litellm model against the fake OpenAI server on loopback) whose server echoes the key in a 401
or spells it out in the answer, and the Config tab of a swarms agent whose error.txt holds the
key."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from fake_openai import FakeOpenAI
from textual.widgets import Static
from tui_fixtures import wait_until
from workspace_fixtures import write_swarms

from agent_tui.redaction import REDACTED
from agent_tui.runner import RunSpec
from agent_tui.tui.agent_table import AgentTable
from agent_tui.tui.app import AgentTUI
from agent_tui.tui.run_pane import RunPane
from agent_tui.tui.runs import Run

KEY = "tq-Zx81bLm0Qw7Yv3Nc5Rd2Kp9Hs"
RUN_TRIES = 1200  # x 50 ms: two children importing litellm on a loaded 2-core machine


def screen_of(app: AgentTUI, run: Run) -> str:
    view = app.run_pane.views[run.key]
    return f"{view.header.content}\n{view.log_view.text}"


async def test_run_tab_masks_a_key_in_a_401_and_in_a_streamed_answer(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    lines: list[bytes] = []

    def hook(message: object) -> None:
        if isinstance(message, RunPane.Output):  # the runner's lines, before the app sees them
            lines.append(orjson.dumps(message.record))

    app = AgentTUI(workspace_dir=workspace, watch=False)
    with FakeOpenAI("echo_key") as failing, FakeOpenAI("leak_key") as leaking:
        async with app.run_test(size=(140, 40), message_hook=hook) as pilot:
            app.tabs.active = "tab-run"
            runs = []
            for name, server in (("denied", failing), ("talker", leaking)):
                # The child inherits the environment it is spawned with.
                monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
                spec = RunSpec(agent_name=name, task="hello", model="openai/gpt-4o-mini",
                               max_loops=1, workspace=str(workspace))  # fmt: skip
                run = app.run_pane.start(spec)
                assert await wait_until(pilot, lambda r=run: r.process is not None)
                runs.append(run)
            for run in runs:
                assert await wait_until(pilot, lambda r=run: not r.live, RUN_TRIES), run
            denied, talker = runs
            assert denied.status == "error" and talker.status == "completed"
            answer = f"Your key is {REDACTED} - keep it safe."
            assert await wait_until(pilot, lambda: answer in screen_of(app, talker))
            app.run_pane.show(denied.key)
            assert await wait_until(pilot, lambda: "failed (auth)" in screen_of(app, denied))
            assert "Incorrect API key" in screen_of(app, denied)
            for run in runs:
                assert KEY not in screen_of(app, run) and KEY not in (run.error or "")
                assert await wait_until(pilot, lambda r=run: r.process.returncode is not None)
    assert failing.key == KEY and leaking.key == KEY  # both servers were sent the key
    assert lines and not [line for line in lines if KEY.encode() in line]


async def test_config_tab_masks_a_key_in_swarms_error_txt(workspace: Path) -> None:
    folder = write_swarms(
        workspace, "Keyed-Agent", loop_count=None, error_text=f"AuthenticationError: {KEY}\n"
    )
    config = json.loads((folder / "config.json").read_text())
    config["llm_api_key"] = KEY
    config["stopping_token"] = "<DONE>"
    (folder / "config.json").write_text(json.dumps(config))
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(140, 40)) as pilot:
        table = app.query_one(AgentTable)
        assert await wait_until(pilot, lambda: str(folder) in table.shown)
        table.move_cursor(table.row_of(str(folder)))
        problems = app.query_one("#config-problems", Static)
        body = app.query_one("#config-body", Static)
        assert await wait_until(pilot, lambda: REDACTED in str(problems.content))
        assert "AuthenticationError" in str(problems.content)
        assert await wait_until(pilot, lambda: "<DONE>" in str(body.content))
        for _ in range(5):  # later repaints stay masked too
            await pilot.pause(0.05)
            assert KEY not in str(problems.content) and KEY not in str(body.content)


async def test_notifications_are_masked(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(140, 40)) as pilot:
        # Widgets and screens notify through the app.
        app.query_one(AgentTable).notify(f"request failed: 401 {KEY}", title=f"key {KEY}")
        assert await wait_until(pilot, lambda: len(app._notifications) == 1)
        (note,) = list(app._notifications)
        shown = f"{note.title} {note.message}"
        assert KEY not in shown and f"401 {REDACTED}" in shown
