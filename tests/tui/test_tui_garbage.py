"""Full garbage collections at quiet moments: while the app runs, Python's automatic full pass
is off and the app's tick runs one after a change, once the disk is quiet, or when overdue."""

from __future__ import annotations

import gc
from pathlib import Path

from tui_fixtures import wait_until

from agent_tui.tui.app import AgentTUI
from agent_tui.tui.garbage import NEVER, QuietCollector


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_full_collection_waits_for_quiet_and_never_more_than_a_minute() -> None:
    clock = Clock()
    collector = QuietCollector(clock)
    assert not collector.tick()  # nothing happened: nothing to collect
    collector.busy()
    clock.now += 1.0
    assert not collector.tick()  # still busy: frames are being drawn
    clock.now += collector.QUIET
    assert collector.tick() and collector.collections == 1  # quiet after a change
    assert not collector.tick()  # and once only
    for _ in range(int(collector.MAX_WAIT)):  # an agent that autosaves every second, forever
        clock.now += 1.0
        collector.busy()
        collector.tick()
    assert collector.collections == 2  # overdue: a full pass within the minute all the same


async def test_the_app_turns_the_automatic_full_pass_off_and_back_on(workspace: Path) -> None:
    before = gc.get_threshold()
    app = AgentTUI(workspace_dir=workspace, watch=False)
    async with app.run_test(size=(120, 30)) as pilot:
        assert await wait_until(pilot, lambda: gc.get_threshold()[2] == NEVER)
        assert gc.get_threshold()[:2] == before[:2]  # the young generations as they were
    assert gc.get_threshold() == before
