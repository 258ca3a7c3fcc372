"""The search screen in the real app: typing finds messages of ours and swarms' transcripts,
enter opens the one under the cursor, escape closes; what is shown is masked, one line each,
never obeyed; a burst of keys runs few searches and the last query's results stay."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from textual.pilot import Pilot
from tui_fixtures import wait_until
from workspace_fixtures import ESCAPES, control_chars, write_ours, write_swarms

from agent_tui import search as core_search
from agent_tui.redaction import REDACTED
from agent_tui.search import Hit
from agent_tui.tui import search_screen
from agent_tui.tui.app import AgentTUI
from agent_tui.tui.search_screen import SearchPick, SearchScreen

SWARMS = "Financial-Analysis-Agent"
KEY = "sk-proj-Qm4Zt8Wc2Lx9Rv6Bn3Hy7Kd5"  # test-only; the environment names it a secret


def say(folder: Path, text: str) -> None:
    """Make the last message of the swarms agent in ``folder`` say ``text``."""
    config = json.loads((folder / "config.json").read_text())
    config["short_memory"][-1]["content"] = text
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")


def screen_text(app: AgentTUI) -> list[str]:
    """The lines of the screen as drawn."""
    strips = app.screen._compositor.render_strips()
    return ["".join(segment.text for segment in strip) for strip in strips]


class Picks:
    """What the screen dismissed with (the push_screen callback)."""

    def __init__(self) -> None:
        self.values: list[SearchPick | None] = []

    def __call__(self, value: SearchPick | None) -> None:
        self.values.append(value)


@asynccontextmanager
async def searching(
    workspace: Path, roots: list[Path] | None = None, size: tuple[int, int] = (160, 45)
) -> AsyncIterator[tuple[Pilot, SearchScreen, Picks]]:
    """The app on ``workspace`` with the search screen over ``roots`` (the workspace) on top."""
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=size) as pilot:
        picks = Picks()
        screen = SearchScreen(roots or [workspace], app.redactor)
        await app.push_screen(screen, picks)
        assert await wait_until(pilot, lambda: app.screen is screen and screen.input.has_focus)
        yield pilot, screen, picks


def settled(screen: SearchScreen, query: str) -> bool:
    """The status line speaks of ``query``: its results, or that nothing matched."""
    said = rf'(\d[\d,]* results?|no match) for "{re.escape(query)}"'
    return re.match(said, screen.status) is not None


async def type_query(pilot, screen: SearchScreen, query: str) -> None:
    """Clear the input, type ``query`` key by key, wait for its results."""
    screen.input.value = ""
    await pilot.press(*query)
    assert await wait_until(pilot, lambda: settled(screen, query)), screen.status


@pytest.fixture
def two_formats(workspace: Path) -> tuple[Path, Path, Path]:
    """Ours (alpha, 3 steps) and a swarms agent whose answer holds "issuer"."""
    ours = write_ours(workspace, "alpha", loop_count=3)
    swarms = write_swarms(workspace, SWARMS)
    return workspace, ours, swarms


async def test_a_word_of_a_swarms_transcript_lists_its_agent_step_and_role(two_formats) -> None:
    workspace, _, swarms = two_formats
    async with searching(workspace) as (pilot, screen, picks):
        app = pilot.app
        await type_query(pilot, screen, "issuer")
        assert screen.status == '1 result for "issuer"'
        (row,) = screen.results.rows
        assert (row.agent, row.step, row.role) == (SWARMS, "step -", "assistant")
        line = next(line for line in screen_text(app) if SWARMS in line)
        assert "step -" in line and "assistant" in line and "loan to an issuer" in line
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: picks.values)
    assert picks.values == [SearchPick(folder=swarms, step=None, message_index=2)]


async def test_down_then_enter_opens_our_agent_at_that_step(two_formats) -> None:
    workspace, ours, _ = two_formats
    async with searching(workspace) as (pilot, screen, picks):
        app = pilot.app
        await type_query(pilot, screen, "ANSWER")  # any case
        assert [row.step for row in screen.results.rows] == ["step 3", "step 2", "step 1"]
        await pilot.press("down", "down", "up")  # the input keeps the focus: keys still move
        assert screen.input.has_focus and screen.results.cursor == 1
        # The word typed is highlighted in each snippet, in the case it is written there.
        match = screen.results.get_component_rich_style("result-list--match", partial=True)
        segments = list(screen.results.render_line(2))
        assert [s.text for s in segments if s.style and s.style.color == match.color] == ["answer"]
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: picks.values)
        assert app.screen is not screen
    assert picks.values == [SearchPick(folder=ours, step=2, message_index=3)]


async def test_escape_dismisses_with_none_and_no_match_says_so(two_formats) -> None:
    workspace, _, _ = two_formats
    async with searching(workspace) as (pilot, screen, picks):
        app = pilot.app
        await type_query(pilot, screen, "zebra")
        assert screen.status == 'no match for "zebra"'
        assert screen.results.rows == []
        await pilot.press("enter")  # nothing to open: the screen stays
        await pilot.pause()
        assert app.screen is screen and picks.values == []
        await pilot.press("escape")
        assert await wait_until(pilot, lambda: picks.values)
    assert picks.values == [None]


async def test_query_syntax_characters_never_give_an_error(
    two_formats, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace, _, _ = two_formats
    monkeypatch.setattr(SearchScreen, "DEBOUNCE_SECONDS", 0.02)  # many queries: no waiting
    queries = ['"bond', "bond*", "NEAR(bond issuer)", "bond)", '"', "*", "NEAR(", ")", "-bond",
               "bond AND", "OR", "issuer OR zebra", "^bond", "bond:issuer"]  # fmt: skip
    async with searching(workspace) as (pilot, screen, _):
        for query in queries:
            if not core_search.query_terms(query):  # no word: the hint, no search
                screen.input.value = ""
                await pilot.press(*query)
                await pilot.pause(0.1)
                assert "Type words" in screen.status, (query, screen.status)
                continue
            await type_query(pilot, screen, query)
            assert "failed" not in screen.status, (query, screen.status)
        assert not any("Traceback" in line for line in screen_text(pilot.app))


async def test_a_root_that_is_not_a_folder_is_reported_beside_the_others_hits(
    two_formats, tmp_path: Path
) -> None:
    workspace, _, _ = two_formats
    stray = tmp_path / "stray"
    (stray).mkdir()
    (stray / "agents").write_text("not a folder", encoding="utf-8")
    async with searching(workspace, [stray, workspace]) as (pilot, screen, _):
        app = pilot.app
        screen.input.value = "issuer"
        assert await wait_until(
            pilot, lambda: "issuer" in screen.status and "agents" in screen.status
        )
        assert screen.status.startswith('1 result for "issuer": ')
        assert "is a file" in screen.status
        assert not any("Traceback" in line for line in screen_text(app))


async def test_a_secret_in_a_message_is_never_on_screen(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    say(write_swarms(workspace, SWARMS), f"the desk key is {KEY} and the bond desk has it")
    async with searching(workspace) as (pilot, screen, _):
        app = pilot.app
        await type_query(pilot, screen, "desk")
        assert screen.results.rows
        shown = "\n".join(screen_text(app))
        assert "desk key is" in shown
        assert KEY not in shown and KEY[8:20] not in shown


async def test_hits_are_masked_and_one_line_again_whatever_the_index_holds(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An index written by another version (or before a key became a secret) may hold a key
    or an escape code: the screen masks and pictures what it shows itself."""
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    folder = workspace / "agents" / "raw"
    raw = Hit(folder, f"agent {KEY}{ESCAPES}", 4, f"tool\n{ESCAPES}",
              f"found bond {KEY} then{ESCAPES}\nmore", 7)  # fmt: skip
    monkeypatch.setattr(search_screen, "search", lambda *args, **kwargs: [raw])
    async with searching(workspace) as (pilot, screen, _):
        app = pilot.app
        await pilot.press(*"bond ", *KEY)  # the key typed into the query too
        assert await wait_until(pilot, lambda: settled(screen, f"bond {REDACTED}"))
        lines = screen_text(app)
        results = [line for line in lines if "found bond" in line]
        status = screen.status
    assert len(results) == 1  # one line, whatever line breaks the hit holds
    assert not any("\n" in line or "\t" in line for line in lines)
    assert KEY not in results[0] and "agent" in results[0] and "step 4" in results[0]
    assert KEY not in status
    assert "\u241b[2J" in results[0]  # the escape shown as a picture
    assert not control_chars("\n".join(lines))


async def test_an_escape_sequence_in_a_transcript_never_reaches_the_screen(
    workspace: Path,
) -> None:
    say(write_swarms(workspace, f"evil{ESCAPES}"), f"the bond{ESCAPES} desk")
    async with searching(workspace) as (pilot, screen, _):
        app = pilot.app
        await type_query(pilot, screen, "desk")
        lines = screen_text(app)
        svg = app.export_screenshot()
    assert any("evil\u241b[2J" in line and "desk" in line for line in lines)
    assert not control_chars("\n".join(lines)) and not control_chars(svg)


async def test_at_80_columns_each_result_is_one_line_with_its_snippet(workspace: Path) -> None:
    long_name = "quarterly-revenue-forecasting-agent-for-the-emea-region"
    folder = write_swarms(workspace, long_name)
    say(folder, "word " * 40 + "the bond desk closes at five; " + "filler " * 40)
    write_ours(workspace, "alpha", loop_count=2)
    async with searching(workspace, size=(80, 24)) as (pilot, screen, _):
        app = pilot.app
        await type_query(pilot, screen, "bond")
        lines = screen_text(app)
        width = screen.results.scrollable_content_region.width
        strips = [screen.results.render_line(y) for y in range(len(screen.results.rows))]
    assert all(len(line) <= 80 for line in lines)
    assert all(strip.cell_length == width for strip in strips)
    found = [line for line in lines if "quarterly" in line]
    assert len(found) == 2  # the question ("What is a bond?") and the answer
    assert all(long_name not in line and "step -" in line for line in found)  # shortened, ...
    # ... so the snippet keeps half the line, around the word found.
    assert any("bond desk closes at five; fil" in line for line in found), found


async def test_typing_fast_runs_few_searches_and_the_last_query_wins(
    two_formats, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace, _, _ = two_formats
    asked: list[str] = []
    release = threading.Event()

    def counting(root: Path, text: str, **kwargs: object) -> list[Hit]:
        asked.append(text)
        if text == "bo":  # the first search is slow: it returns after the last one
            release.wait(10)
        return core_search.search(root, text, **kwargs)

    monkeypatch.setattr(search_screen, "search", counting)
    async with searching(workspace) as (pilot, screen, _):
        await pilot.press("b", "o")
        assert await wait_until(pilot, lambda: asked == ["bo"])
        await pilot.press(*"nd is a loan")
        assert await wait_until(pilot, lambda: settled(screen, "bond is a loan"))
        release.set()
        await pilot.pause(0.3)
        assert screen.status == '1 result for "bond is a loan"'
        assert [row.agent for row in screen.results.rows] == [SWARMS]
    assert len(asked) <= 3, asked  # 12 keys typed
    assert asked[-1] == "bond is a loan"


async def test_a_cold_index_shows_its_progress_and_a_replaced_search_stops(
    two_formats, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace, _, _ = two_formats
    release = threading.Event()
    stopped: list[BaseException] = []

    def cold(root: Path, text: str, *, on_progress, **kwargs: object) -> list[Hit]:
        if text == "issuer":
            on_progress(1234, 10_000)
            release.wait(10)
            try:
                on_progress(1434, 10_000)  # the next batch: the search is no longer wanted
            except Exception as exc:
                stopped.append(exc)
                raise
        return core_search.search(root, text, on_progress=on_progress, **kwargs)

    monkeypatch.setattr(search_screen, "search", cold)
    async with searching(workspace) as (pilot, screen, _):
        await pilot.press(*"issuer")
        assert await wait_until(pilot, lambda: screen.status == "indexing 1,234 of 10,000 folders")
        await type_query(pilot, screen, "bond")
        release.set()
        assert await wait_until(pilot, lambda: stopped)
        await pilot.pause(0.1)
        assert screen.status == '2 results for "bond"'
    assert isinstance(stopped[0], search_screen.SearchStopped)


def test_results_of_several_roots_take_turns_up_to_the_limit() -> None:
    def hits(root: str, count: int) -> list[Hit]:
        return [Hit(Path(root), root, n, "user", "x", n) for n in range(count)]

    merged = search_screen.merge([hits("a", 3), hits("b", 1), hits("c", 2)], limit=5)
    assert [(h.agent, h.step) for h in merged] == [("a", 0), ("b", 0), ("c", 0), ("a", 1), ("c", 1)]
