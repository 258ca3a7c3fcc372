"""The State tab on a long agent (Pilot): it shows the last messages and the total, loads
earlier ones on request, and an autosave shows its new message without the state file being
parsed again."""

from __future__ import annotations

from pathlib import Path

import pytest
from long_agent import append_step, count_parses, long_agent, odd_agent
from textual.geometry import Region
from tui_fixtures import wait_until

from agent_tui.format.persistence import atomic_write_json, read_json_object
from agent_tui.redaction import REDACTED
from agent_tui.tui.app import AgentTUI
from agent_tui.tui.state_view import WINDOW
from agent_tui.tui.watcher import AgentChanged
from agent_tui.workspace import DEFAULT_WINDOW, load_conversation, read_agent

STEPS = WINDOW * 2 // 3  # 2 * STEPS + 1 messages: more than one window, less than two


def body(app: AgentTUI) -> str:
    return app.state_view.text


async def open_state_tab(pilot, app: AgentTUI, folder: Path, showing: str) -> None:
    assert await wait_until(pilot, lambda: str(folder) in app.table.records)
    app.select(str(folder))
    await pilot.press("2")
    assert await wait_until(pilot, lambda: showing in body(app))


async def test_a_long_agent_shows_its_last_messages_then_earlier_ones_and_each_autosave(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = long_agent(workspace, steps=STEPS)
    total = len(load_conversation(folder))
    state_name = next(folder.glob("*_state.json")).name
    parsed = count_parses(monkeypatch)
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(140, 40)) as pilot:
        await open_state_tab(pilot, app, folder, f"answer {STEPS}")
        shown = body(app)
        assert f"{total} messages" in shown
        assert f"{total - WINDOW} earlier messages not shown" in shown
        first_shown = (total - WINDOW + 1) // 2  # the step of the oldest message held
        assert f"answer {first_shown + 1}\n" in shown and "answer 1\n" not in shown

        await pilot.press("e")  # earlier
        assert await wait_until(pilot, lambda: "earlier messages not shown" not in body(app))
        assert "answer 1\n" in body(app) and f"answer {STEPS}" in body(app)

        append_step(folder, "the newest answer")
        app.post_message(AgentChanged(read_agent(folder)))  # what the watcher posts
        assert await wait_until(pilot, lambda: "the newest answer" in body(app))
        assert f"{total + 1} messages" in body(app)
    assert parsed.count(state_name) == 1


async def test_a_run_begun_afresh_is_written_again_not_appended(workspace: Path) -> None:
    """A new conversation longer than the old one must not read as its continuation."""
    folder = long_agent(workspace, steps=2)  # 5 messages
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(140, 40)) as pilot:
        await open_state_tab(pilot, app, folder, "answer 2")
        append_step(folder, "fresh answer", new_run=[f"fresh task {n}" for n in range(8)])
        app.post_message(AgentChanged(read_agent(folder)))
        assert await wait_until(pilot, lambda: "fresh answer" in body(app))
        shown = body(app)
        assert "answer 2" not in shown and "fresh task 0" in shown
        assert shown.count("fresh task") == 8


def transcript_lines(app: AgentTUI) -> list[str]:
    """The transcript's lines on screen (what it draws in its region), right-trimmed."""
    log = app.state_view.log_view
    return [log.render_line(y).text.rstrip() for y in range(log.scrollable_content_region.height)]


async def test_the_transcript_wraps_again_when_the_terminal_narrows(workspace: Path) -> None:
    words = [f"word{n:03d}" for n in range(30)]  # 239 characters: lines at any width
    folder = long_agent(workspace, steps=2)
    append_step(folder, " ".join(words))
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await open_state_tab(pilot, app, folder, "word029")
        for size in ((160, 45), (100, 30), (160, 45)):
            await pilot.resize_terminal(*size)
            await pilot.pause(0.3)
            width = app.state_view.log_view.scrollable_content_region.width
            lines = transcript_lines(app)
            shown = [w for line in lines for w in line.split() if w.startswith("word")]
            assert shown == words, f"at {size}: {lines}"
            assert all(len(line) <= width for line in lines)
            wrapped = [line for line in lines if "word" in line]
            # Wrapped at this width: each line but the last too full for the next word.
            assert all(len(line) + len(" word000") > width for line in wrapped[:-1]), size


async def test_a_transcript_at_its_end_stays_there_when_its_pane_gets_shorter(
    workspace: Path,
) -> None:
    """The step bar coming into view, or a shorter terminal, takes lines off the pane: a
    reader at the end still sees the last message, not the lines above it."""
    folder = long_agent(workspace, steps=STEPS)
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await open_state_tab(pilot, app, folder, f"answer {STEPS}")
        # Opened at its end, though the scrollbar was not laid out yet when the end was asked.
        assert await wait_until(
            pilot, lambda: f"answer {STEPS}" in "\n".join(transcript_lines(app))
        )
        for height in (30, 24):
            await pilot.resize_terminal(160, height)
            await pilot.pause(0.3)
            lines = transcript_lines(app)
            assert any(f"answer {STEPS}" in line for line in lines), (height, lines)


async def test_a_frame_of_the_transcript_looks_its_style_up_once(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The widget's style walks every ancestor's styles (0.3 ms on a slow machine): looked
    up for each line it was most of a 30 ms frame. Every line still carries it."""
    folder = long_agent(workspace, steps=STEPS)
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await open_state_tab(pilot, app, folder, f"answer {STEPS}")
        log = app.state_view.log_view

        def drawn() -> list:
            region = log.scrollable_content_region
            return log.render_lines(Region(0, 0, region.width, region.height))

        # Written is not yet scrolled to: on a loaded machine the end comes a frame later.
        assert await wait_until(pilot, lambda: any(f"answer {STEPS}" in s.text for s in drawn()))
        looked_up = []
        style = log.rich_style
        cls = type(log)
        monkeypatch.setattr(cls, "rich_style", property(lambda self: looked_up.append(1) or style))
        region = log.scrollable_content_region
        log.refresh()  # every line dirty: drawn again, not served from the widget's cache
        lines = log.render_lines(Region(0, 0, region.width, region.height))
        assert len(looked_up) == 1
        assert len(lines) == region.height > 20
        assert any(f"answer {STEPS}" in line.text for line in lines)
        background = style.bgcolor
        assert background is not None
        assert all(seg.style.bgcolor == background for line in lines for seg in line if seg.style)


@pytest.fixture
def read_from_the_end(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small agents read as long ones are: the state file outlined, the secrets of the rest
    swept after the window is shown."""
    from agent_tui.workspace import detail

    monkeypatch.setattr(detail, "OUTLINE_BYTES", 0)
    monkeypatch.setattr(detail, "SWEEP_NOW_BYTES", 0)


@pytest.mark.usefixtures("read_from_the_end")
async def test_a_long_run_read_from_its_end_shows_its_last_messages_and_total(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run killed after its last full save: the state file read from its end, the steps
    since from the journal's end; the last messages, the total and the earlier ones on `e`
    are those of a whole read, and the state file is never parsed whole."""
    folder = odd_agent(workspace, 3 * WINDOW, folded=WINDOW)
    whole = load_conversation(folder)
    parsed = count_parses(monkeypatch)
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await open_state_tab(pilot, app, folder, f"end {3 * WINDOW}")
        shown = app.state_view.detail
        assert shown is not None
        assert shown.conversation.messages == whole[-WINDOW:]
        assert f"{len(whole)} messages" in body(app)
        assert f"{len(whole) - WINDOW} earlier messages not shown" in body(app)
        await pilot.press("e")
        assert await wait_until(pilot, lambda: f"end {3 * WINDOW - WINDOW}\n" in body(app))
        assert app.state_view.detail.conversation.messages == whole[-2 * WINDOW :]
    assert read_agent(folder).state_file.name not in parsed


@pytest.mark.usefixtures("read_from_the_end")
async def test_a_secret_far_back_is_masked_on_screen_once_swept(workspace: Path) -> None:
    """The value under a secret-named key in the first message, quoted in the last one:
    the transcript is written again, masked, once the rest of the state file is swept."""
    secret = "qq-Far-Back-8Hn2Kd9Lw"
    folder = odd_agent(workspace, 2 * DEFAULT_WINDOW)
    state_path = read_agent(folder).state_file
    state = read_json_object(state_path)
    state["conversation"][1]["api_key"] = secret
    state["conversation"][-1]["content"] = f"the key: {secret} (end)"
    atomic_write_json(state_path, state)
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await open_state_tab(pilot, app, folder, "(end)")
        assert await wait_until(pilot, lambda: f"the key: {REDACTED} (end)" in body(app))
        assert secret not in body(app)
