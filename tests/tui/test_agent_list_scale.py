"""The agent list at 100,000 rows: the right rows after sort, filter, insert and removal.

Checked against the plain answer (``sorted`` with the listing's key, a filter by list
comprehension) on the order itself and on what the app draws, including changes that arrive
while a large sort runs in its thread.
"""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest
from tui_fixtures import wait_until

from agent_tui.listing import SORTS, sort_key
from agent_tui.tui.agent_table import THREADED_MIN, AgentTable
from agent_tui.tui.app import AgentTUI, ScanChunk
from agent_tui.tui.row_order import Haystacks, RowOrder, arrange, matches, refine
from agent_tui.workspace import AgentRecord

N = 100_000
STATUSES = ("running", "completed", "error", "interrupted", "broken", "unknown")
MODELS = ("gpt-4o-mini", "offline/demo", "claude-sonnet", None)


def fleet(n: int, seed: int = 7) -> list[AgentRecord]:
    """``n`` records as a big workspace holds them: names reused, ties on every sort key."""
    rng = random.Random(seed)
    records = []
    for i in range(n):
        name = f"{rng.choice(('Agent', 'agent', 'Worker', 'ödön'))}-{rng.randrange(n // 4):05d}"
        records.append(
            AgentRecord(
                name,
                f"{i:012x}",
                f"/fleet/agents/{name}-{i:012x}",
                status=rng.choice(STATUSES),
                loop_count=rng.choice((None, *range(20))),
                size_bytes=rng.randrange(50) * 1000,
                modified_ns=rng.randrange(1, 40) * 10**15,
                model=rng.choice(MODELS),
                cost=rng.choice((None, 0.0, 0.5, 1.25)),
            )
        )
    return records


def expected(records: dict[str, AgentRecord], order: str, reverse: bool, needle: str) -> list[str]:
    key = sort_key(order)
    rows = sorted(
        (key(r), k) for k, r in records.items() if matches(r, needle)
    )  # the row key breaks ties, as the table's entries do
    keys = [k for _, k in rows]
    return keys[::-1] if reverse else keys


@pytest.fixture(scope="module")
def records() -> dict[str, AgentRecord]:
    return {r.path: r for r in fleet(N)}


def test_the_order_matches_a_plain_sort_after_changes(records: dict[str, AgentRecord]) -> None:
    rng = random.Random(1)
    current = dict(records)
    hay = Haystacks()
    for key, record in current.items():
        hay.put(key, record)
    for order in SORTS:
        for reverse in (False, True):
            rows = arrange(hay, current.items(), order, reverse)
            assert list(rows) == expected(current, order, reverse, "")
    rows = arrange(hay, current.items(), "age", False)
    keys = list(current)
    # Changes that move rows (new times, sizes, names), removals, and new folders.
    for key in rng.sample(keys, 2000):
        changed = replace(current[key], modified_ns=rng.randrange(1, 40) * 10**15, status="running")
        current[key] = changed
        hay.put(key, changed)
        rows.put(key, changed)
    for key in rng.sample(keys, 1500):
        if key in current:
            del current[key]
            del hay[key]
            assert rows.discard(key)
    added = fleet(3000, seed=99)
    for record in added:
        record.path = record.path.replace("/fleet/", "/fleet2/")
        current[record.path] = record
        hay.put(record.path, record)
    rows.extend((r.path, r) for r in added)
    assert list(rows) == expected(current, "age", False, "")
    assert len(rows) == len(current)
    # Where each row is, both ways.
    for row in rng.sample(range(len(rows)), 200):
        assert rows.row_of(rows.key_at(row)) == row
    # A filter from the whole order, then narrowed from its own result.
    wide = refine(rows, "agent-")
    assert list(wide) == expected(current, "age", False, "agent-")
    narrow = refine(wide, "agent-01")
    assert list(narrow) == expected(current, "age", False, "agent-01")
    assert list(refine(rows, "ÖDÖN")) == expected(current, "age", False, "ödön")


def drawn_keys(table: AgentTable) -> list[str]:
    """The agent rows the table draws now, as the folder's id column shows them."""
    lines = [table.render_line(y).text for y in range(1, table.scrollable_content_region.height)]
    return [line.split()[2] for line in lines if line.strip()]


def expected_drawn(keys: list[str], top: int, rows: int) -> list[str]:
    return [Path(key).name[-12:] for key in keys[top : top + rows]]


async def test_the_app_lists_100000_agents_in_order_through_sorts_filters_and_changes(
    workspace: Path, records: dict[str, AgentRecord]
) -> None:
    assert N > THREADED_MIN  # the threaded sort and filter are what this test runs
    current = dict(records)
    app = AgentTUI(workspace_dir=workspace, watch=False)
    app.scan_workspace = lambda: None  # the test plays the scan worker itself
    async with app.run_test(size=(200, 45)) as pilot:
        table = app.table
        values = list(current.values())
        for start in range(0, N, 5000):
            app.post_message(ScanChunk(values[start : start + 5000]))
        app.post_message(ScanChunk([], done=True, seen=frozenset(current)))
        assert await wait_until(pilot, lambda: table.row_count == N and app._scanned_once)
        await pilot.pause()
        height = table.scrollable_content_region.height - 1
        assert table.keys == expected(current, "name", False, "")
        assert drawn_keys(table) == expected_drawn(table.keys, 0, height)

        # A sort: in a thread; the old order stays until the new one arrives, and a row that
        # changes meanwhile lands where it belongs in the new one.
        selected = table.selected_key
        await pilot.press("s")  # name -> age
        moved = next(iter(current))
        current[moved] = replace(current[moved], modified_ns=10**18)  # the newest of all
        table.upsert(current[moved])
        assert await wait_until(pilot, lambda: table.order == "age" and not table.arranging)
        assert table.keys == expected(current, "age", False, "")
        assert table.keys[0] == moved
        # The cursor stays on the agent it was on, wherever the sort put it, and in view.
        assert table.selected_key == selected == app.selected
        top = int(table.scroll_y)
        assert top <= table.cursor_row < top + height
        assert drawn_keys(table) == expected_drawn(table.keys, top, height)
        assert str(app.status_line.content).startswith(f"{N} agents, sort: age")

        # The filter, typed key by key: each narrows what the previous one passed.
        await pilot.press("slash")
        for char in "worker-1":
            await pilot.press(char)
        assert await wait_until(pilot, lambda: table.needle == "worker-1" and not table.arranging)
        assert table.keys == expected(current, "age", False, "worker-1")
        assert 0 < table.row_count < N
        await pilot.press("backspace", "backspace")  # widened again: from every row
        assert await wait_until(pilot, lambda: table.needle == "worker" and not table.arranging)
        assert table.keys == expected(current, "age", False, "worker")

        # Removals and new folders under the filter.
        gone = [k for k in table.keys[:50]] + [k for k in list(current)[:50]]
        app.forget_folders(Path(k) for k in gone)
        for key in gone:
            current.pop(key, None)
        new = fleet(20, seed=5)
        for record in new:
            record.path = record.path.replace("/fleet/", "/new/")
            record.name = f"worker-new-{record.agent_id}"
            current[record.path] = record
            table.upsert(record)
        await pilot.pause()
        assert table.keys == expected(current, "age", False, "worker")
        assert set(table.keys) >= {r.path for r in new}
        assert len(table.records) == len(current)

        # Reversed, and the cursor at the end: the last rows are drawn.
        await pilot.press("escape")  # clears the filter
        assert await wait_until(pilot, lambda: table.needle == "" and not table.arranging)
        table.focus()
        await pilot.press("S")
        assert await wait_until(pilot, lambda: table.reverse and not table.arranging)
        assert table.keys == expected(current, "age", True, "")
        await pilot.press("G")
        await pilot.pause()
        assert table.cursor_row == len(current) - 1
        assert table.selected_key == table.keys[-1] == app.selected
        top = int(table.scroll_y)
        assert top == len(current) - height
        assert drawn_keys(table) == expected_drawn(table.keys, top, height)


async def test_a_stale_arrangement_is_dropped(workspace: Path) -> None:
    """Keys typed faster than a large list sorts: only the last one's rows are shown."""
    current = {r.path: r for r in fleet(THREADED_MIN * 2, seed=3)}
    app = AgentTUI(workspace_dir=workspace, watch=False)
    app.scan_workspace = lambda: None
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.table
        app.post_message(ScanChunk(list(current.values()), done=True, seen=frozenset(current)))
        assert await wait_until(pilot, lambda: table.row_count == len(current))
        for needle in ("a", "ag", "age", "agent-0", "w"):
            table.set_filter(needle)
        assert await wait_until(pilot, lambda: not table.arranging)
        await pilot.pause(0.2)
        assert table.needle == "w"
        assert table.keys == expected(current, "name", False, "w")


def test_an_order_of_no_rows_answers_without_failing() -> None:
    rows = RowOrder(Haystacks())
    assert len(rows) == 0 and list(rows) == [] and rows.row_of("x") is None
    assert not rows.discard("x")
