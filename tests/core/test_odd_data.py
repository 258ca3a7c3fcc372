"""Odd data a careless or hostile neighbour leaves in a workspace: timestamps at the ends of the
calendar, a folder name that is not UTF-8, characters that reorder or hide text. Every reader
keeps going (no crash, valid JSON, exit 0), the far-future timestamp is not believed, and no
reordering character reaches the screen raw."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tui_fixtures import wait_until
from workspace_fixtures import write_ours

from agent_tui import cli
from agent_tui.tui import safe_text
from agent_tui.tui.app import AgentTUI
from agent_tui.units import INVISIBLE, printable
from agent_tui.workspace import parse_timestamp, read_agent

EARLY, LATE = "0001-01-01T00:00:00", "9999-12-31T23:59:59"
# A right-to-left override: shown raw, "rtl\u202egnp.exe" reads as "rtlexe.png".
TRICKY_NAMES = ["rtl\u202egnp.exe", "zero\u200bwidth", "iso\u2067late\u2069d", "bom\ufeffx\u061c"]
BAD_NAME = b"bad-\xff"
MONTH = 30 * 86400


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0 and not err, (argv, code, err)
    return out


def _with_timestamp(root: Path, name: str, timestamp: str, age_s: float = 0) -> Path:
    folder = write_ours(root, name)
    config = folder / "config.json"
    document = json.loads(config.read_text())
    document["_autosave_metadata"]["timestamp"] = timestamp
    config.write_text(json.dumps(document))
    if age_s:
        then = time.time() - age_s
        for path in (*folder.iterdir(), folder):
            os.utime(path, (then, then))
    return folder


@pytest.fixture(params=["UTC", "America/New_York", "Asia/Kolkata"])
def local_zone(request: pytest.FixtureRequest) -> Iterator[str]:
    """Naive timestamps are local time: each test runs in zones either side of UTC."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    yield request.param
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


@pytest.mark.parametrize(
    "value",
    [EARLY, LATE, "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "0001-01-01"],
)
def test_parse_timestamp_never_raises(local_zone: str, value: str) -> None:
    moment = parse_timestamp(value)
    assert moment is not None and moment.tzinfo is not None
    assert moment.year in (1, 9999)
    # What readers do with it next: sort, age, print.
    moment.timestamp(), datetime.now(UTC) - moment, moment.isoformat()  # noqa: B018


# ---------------------------------------------------------------- timestamps


def test_ls_and_clean_survive_the_ends_of_the_calendar(
    workspace: Path, capsys: pytest.CaptureFixture[str], local_zone: str
) -> None:
    _with_timestamp(workspace, "early", EARLY)
    _with_timestamp(workspace, "late", LATE)
    table = _cli(capsys, "ls")
    assert "early" in table and "late" in table
    rows = {row["name"]: row for row in json.loads(_cli(capsys, "ls", "--json"))}
    assert rows["early"]["last_autosave"].startswith("0001-01-01")
    for order in ("age", "name"):
        assert "late" in _cli(capsys, "ls", "--sort", order)
    plan = json.loads(_cli(capsys, "clean", "--older-than", "1d", "--json"))
    assert [item["name"] for item in plan["items"]] == ["early"]


def test_a_far_future_timestamp_is_not_believed(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _with_timestamp(workspace, "late", LATE, age_s=MONTH)
    record = read_agent(folder)
    written = datetime.fromtimestamp(time.time() - MONTH, tz=UTC)
    assert abs(record.last_autosave - written) < timedelta(seconds=5)
    assert "config.json: future timestamp 9999-12-31; using its mtime" in record.problems
    table = _cli(capsys, "ls")
    assert "30d ago" in table and "future timestamp 9999-12-31" in table
    (row,) = json.loads(_cli(capsys, "ls", "--json"))
    assert row["last_autosave"].startswith(written.date().isoformat())
    # It ages like any other folder: a month old by its file's time, so cleanable.
    plan = json.loads(_cli(capsys, "clean", "--older-than", "1d", "--json"))
    assert [item["name"] for item in plan["items"]] == ["late"]
    assert "(30d old)" in plan["items"][0]["reason"]


def test_a_timestamp_a_little_after_its_mtime_is_believed(workspace: Path) -> None:
    # Clocks of a writer and its file server differ by seconds: no problem for that.
    folder = _with_timestamp(workspace, "skewed", "2000-01-01T00:00:00+00:00", age_s=1)
    then = datetime(2000, 1, 1, tzinfo=UTC).timestamp() - 60
    os.utime(folder / "config.json", (then, then))
    record = read_agent(folder)
    assert record.last_autosave == datetime(2000, 1, 1, tzinfo=UTC)
    assert not record.problems


# ---------------------------------------------------------------- names


def _bad_folder(root: Path) -> Path:
    agents = root / "agents"
    agents.mkdir(parents=True, exist_ok=True)
    os.mkdir(os.fsencode(agents) + b"/" + BAD_NAME)
    return agents / os.fsdecode(BAD_NAME)


def test_a_folder_name_that_is_not_utf8_gives_valid_json(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The name's bad bytes are written as the text ``\\xNN``: JSON must be UTF-8, and the
    escaped form still says which byte it was (a replacement character would not)."""
    write_ours(workspace, "fine")
    bad = _bad_folder(workspace)
    listed = json.loads(_cli(capsys, "ls", "--json").encode())
    assert {row["name"] for row in listed} == {"fine", "bad-\\xff"}
    shown = json.loads(_cli(capsys, "show", "--json", str(bad)))
    assert shown["record"]["folder"].endswith("/agents/bad-\\xff")
    plan = json.loads(_cli(capsys, "clean", "--status", "unknown", "--json"))
    assert [item["name"] for item in plan["items"]] == ["bad-\\xff"]
    assert "bad-\\xff" in _cli(capsys, "ls")
    done = json.loads(_cli(capsys, "clean", "--status", "unknown", "--yes", "--json"))
    assert done["result"]["removed"] == [plan["items"][0]["folder"]]
    assert not bad.exists() and (workspace / "agents").exists()


def test_reordering_and_invisible_characters_are_spelled_out_in_the_cli(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in TRICKY_NAMES:
        write_ours(workspace, name)
    screens = [_cli(capsys, "ls"), _cli(capsys, "show", TRICKY_NAMES[0])]
    for screen in screens:
        assert not {c for c in screen if ord(c) in INVISIBLE}, screen
    assert "rtl\\u202egnp.exe" in screens[0] and "rtl\\u202egnp.exe" in screens[1]
    assert "zero\\u200bwidth" in screens[0] and "bom\\ufeffx\\u061c" in screens[0]


def test_printable_keeps_its_fast_path_for_plain_text() -> None:
    for text in ("plain", "Grüße, 東京", "tab\there"):
        assert printable(text) == text
    assert not any(chr(code).isprintable() for code in INVISIBLE)  # so _clip's check sees them


# ---------------------------------------------------------------- the app


async def test_the_app_shows_every_odd_row_without_raw_reordering_characters(
    workspace: Path,
) -> None:
    _with_timestamp(workspace, "early", EARLY)
    late = _with_timestamp(workspace, "late", LATE, age_s=MONTH)
    for name in TRICKY_NAMES:
        write_ours(workspace, name)
    _bad_folder(workspace)
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(200, 40)) as pilot:
        table = app.table
        assert await wait_until(pilot, lambda: len(table.records) == 7), len(table.records)
        table.move_cursor(table.row_of(str(late)))
        assert await wait_until(pilot, lambda: app.selected == str(late))
        await pilot.pause(0.2)
        screen = app.export_screenshot()
    assert not {c for c in screen if ord(c) in INVISIBLE}
    assert "early" in screen and "late" in screen and "bad-\ufffd" in screen
    assert "rtl\ufffdgnp.exe" in screen and "iso\ufffdlate\ufffdd" in screen
    assert "30d" in screen  # the far-future row ages by its file's time


def test_install_covers_reordering_characters() -> None:
    assert safe_text.install()
    from rich.text import Text
    from textual.content import Content

    assert Text("rtl\u202egnp.exe").plain == "rtl\ufffdgnp.exe"
    assert Content("a\u2066b\u200bc").plain == "a\ufffdb\ufffdc"
