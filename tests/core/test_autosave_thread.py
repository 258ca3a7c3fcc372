"""The autosave thread: newest snapshot wins, flush waits for the disk, failures come back."""

from __future__ import annotations

import errno
import json
import threading
from pathlib import Path

from agent_tui.agent.autosaver import AutosaveThread
from agent_tui.format.journal import JournalWriter, read_journal
from agent_tui.format.persistence import atomic_write_json


def test_newest_snapshot_wins_and_flush_waits(tmp_path: Path) -> None:
    gate = threading.Event()

    def slow_write(path: Path, document: dict) -> int:
        gate.wait(5)  # the disk is slower than the steps
        return atomic_write_json(path, document)

    disk = AutosaveThread(slow_write)
    target = tmp_path / "config.json"
    for n in range(1, 51):
        disk.submit(None, target, {"_autosave_metadata": {"loop_count": n}})
    gate.set()
    outcomes = disk.close()
    assert json.loads(target.read_text())["_autosave_metadata"]["loop_count"] == 50
    assert disk.superseded >= 40  # most snapshots were replaced before the disk took them
    assert [o.loop_count for o in outcomes][-1] == 50
    assert all(isinstance(o.result, int) for o in outcomes)


def test_journal_sync_and_failures_are_reported(tmp_path: Path) -> None:
    journal = JournalWriter(tmp_path / "journal.jsonl")
    journal.append([{"seq": 1, "kind": "step"}], sync=False)

    def failing_write(path: Path, document: dict) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    disk = AutosaveThread(failing_write)
    disk.submit(journal, tmp_path / "config.json", {"_autosave_metadata": {"loop_count": 1}})
    outcomes = disk.flush()
    assert [o.file for o in outcomes] == ["config.json"]  # the journal sync went through
    assert isinstance(outcomes[0].result, OSError) and outcomes[0].result.errno == errno.ENOSPC
    assert not (tmp_path / "config.json").exists()
    assert read_journal(tmp_path / "journal.jsonl").records == [{"seq": 1, "kind": "step"}]
    disk.close()
    journal.close()


def test_take_outcomes_never_waits(tmp_path: Path) -> None:
    gate = threading.Event()
    disk = AutosaveThread(lambda path, doc: gate.wait(5) and 0)
    disk.submit(None, tmp_path / "c.json", {"_autosave_metadata": {}})
    # The write is held at the gate: an answer now proves take_outcomes did not wait for it.
    assert disk.take_outcomes() == []
    gate.set()
    assert len(disk.close()) == 1
