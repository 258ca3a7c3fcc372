"""The action log: one redacted JSON line per action, appended without following links,
bounded by rotation, read back from its tail, whole lines under concurrent writers."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent_tui.action_log import ActionLog
from agent_tui.format.persistence import WorkspaceFileError
from agent_tui.redaction import Redactor
from agent_tui.user_config import UserConfig

KEY = "sk-" + "Ab3dEf6hIj" * 4  # the shape of an OpenAI key: 43 characters


def quiet_redactor() -> Redactor:
    return Redactor(use_environment=False)


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_record_is_one_json_line_with_a_utc_time(tmp_path: Path) -> None:
    log = ActionLog(tmp_path / "cfg" / "actions.jsonl", redactor=quiet_redactor())
    before = datetime.now(UTC)
    assert log.record("trashed", folder=tmp_path / "ws" / "a-1", size=123, ok=True)
    assert log.record("run-started", agent="planner", model="offline/demo")
    first, second = lines(log.path)
    assert first["action"] == "trashed"
    assert first["folder"] == str(tmp_path / "ws" / "a-1")
    assert (first["size"], first["ok"]) == (123, True)
    when = datetime.fromisoformat(first["ts"])
    assert when.utcoffset() == timedelta(0) and before - timedelta(seconds=1) <= when
    assert list(second) == ["ts", "action", "agent", "model"]
    assert stat.S_IMODE(log.path.stat().st_mode) == 0o600
    assert log.recent() == [first, second]


def test_no_key_ever_reaches_the_file(tmp_path: Path) -> None:
    log = ActionLog(tmp_path / "actions.jsonl", redactor=quiet_redactor())
    log.record(
        "run-started",
        task=f"use {KEY} please",
        api_key="hunter2-is-my-password",
        folder=Path(f"/ws/{KEY}"),
        extra={"nested": [f"Bearer {KEY}"]},
    )
    log.record(f"deleted {KEY}")
    text = log.path.read_text()
    assert KEY not in text and "hunter2-is-my-password" not in text
    assert text.count("[REDACTED]") >= 5
    # A secret of the environment too, with the default redactor.
    os.environ["AGENT_TUI_TEST_SECRET_TOKEN"] = "zq-environment-secret-42"
    try:
        ActionLog(log.path).record("resumed", note="zq-environment-secret-42")
    finally:
        del os.environ["AGENT_TUI_TEST_SECRET_TOKEN"]
    assert "zq-environment-secret-42" not in log.path.read_text()


def test_a_link_planted_at_the_log_path_is_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "victim.txt"
    target.write_text("precious\n")
    before = hashlib.sha256(target.read_bytes()).hexdigest()
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "actions.jsonl").symlink_to(target)
    log = ActionLog(tmp_path / "cfg" / "actions.jsonl", redactor=quiet_redactor())
    assert log.record("deleted", folder="x") is False
    assert isinstance(log.last_error, OSError) and "symbolic link" in str(log.last_error)
    assert hashlib.sha256(target.read_bytes()).hexdigest() == before
    with pytest.raises(WorkspaceFileError, match="symbolic link"):
        log.recent()


def test_a_hard_link_or_a_folder_at_the_log_path_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "victim.txt"
    target.write_text("precious\n")
    os.link(target, tmp_path / "actions.jsonl")
    log = ActionLog(tmp_path / "actions.jsonl", redactor=quiet_redactor())
    assert log.record("deleted") is False
    assert target.read_text() == "precious\n"
    folder_log = ActionLog(tmp_path / "sub", redactor=quiet_redactor())
    (tmp_path / "sub").mkdir()
    assert folder_log.record("deleted") is False  # never raises into the caller


def test_an_unwritable_place_returns_false(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    log = ActionLog(tmp_path / "file" / "actions.jsonl", redactor=quiet_redactor())
    assert log.record("deleted") is False
    assert log.last_error is not None


def test_past_the_cap_the_log_rotates_to_one_old_generation(tmp_path: Path) -> None:
    log = ActionLog(tmp_path / "actions.jsonl", max_bytes=1000, redactor=quiet_redactor())
    for n in range(100):
        assert log.record("run-started", n=n)
    old = tmp_path / "actions.jsonl.1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["actions.jsonl", "actions.jsonl.1"]
    assert log.path.stat().st_size <= 1000 and old.stat().st_size <= 1000
    numbers = [r["n"] for r in lines(old) + lines(log.path)]
    assert numbers == list(range(numbers[0], 100))  # the newest, in order, none lost in between
    assert [r["n"] for r in log.recent(limit=5)] == [95, 96, 97, 98, 99]
    assert [r["n"] for r in log.recent()] == numbers  # both generations, newest last


def test_the_cap_comes_from_the_config(tmp_path: Path) -> None:
    config = UserConfig(action_log_mb=0.001, path=tmp_path / "cfg" / "config.toml")
    log = ActionLog.beside(config, redactor=quiet_redactor())
    assert log.path == tmp_path / "cfg" / "actions.jsonl"
    assert log.max_bytes == 1048
    for n in range(50):
        log.record("deleted", n=n)
    assert (tmp_path / "cfg" / "actions.jsonl.1").exists()


def test_recent_skips_a_torn_last_line_and_garbage(tmp_path: Path) -> None:
    log = ActionLog(tmp_path / "actions.jsonl", redactor=quiet_redactor())
    log.record("deleted", n=1)
    with log.path.open("ab") as out:
        out.write(b"not json at all\n[1, 2]\n\xff\xfe\n")
    log.record("deleted", n=2)
    with log.path.open("ab") as out:
        out.write(b'{"ts": "2025-01-01T00:00:00+00:00", "action": "torn", "n": 3')
    assert [r["n"] for r in log.recent()] == [1, 2]
    assert ActionLog(tmp_path / "none.jsonl", redactor=quiet_redactor()).recent() == []


def test_recent_reads_only_the_tail_of_a_big_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import agent_tui.action_log as action_log

    log = ActionLog(tmp_path / "actions.jsonl", redactor=quiet_redactor())
    for n in range(300):
        log.record("deleted", n=n)
    monkeypatch.setattr(action_log, "MAX_TAIL_BYTES", 1000)
    reads: list[int] = []
    real_pread = os.pread

    def pread(fd: int, size: int, offset: int) -> bytes:
        reads.append(size)
        return real_pread(fd, size, offset)

    monkeypatch.setattr(action_log.os, "pread", pread)
    records = log.recent()
    assert reads == [1000]
    assert records and records[-1]["n"] == 299
    assert [r["n"] for r in records] == list(range(records[0]["n"], 300))  # no cut first line


def _append_many(path: str, who: int, max_bytes: int = 5 * 1024 * 1024) -> None:
    log = ActionLog(path, max_bytes=max_bytes, redactor=Redactor(use_environment=False))
    for n in range(500):
        assert log.record("run-started", who=who, n=n, task="x" * (n % 300))


def test_two_processes_appending_at_once_leave_whole_lines(tmp_path: Path) -> None:
    path = str(tmp_path / "actions.jsonl")
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_append_many, args=(path, who)) for who in (1, 2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    records = lines(Path(path))  # every line parses
    assert len(records) == 1000
    for who in (1, 2):
        assert [r["n"] for r in records if r["who"] == who] == list(range(500))


def test_two_processes_rotating_at_once_lose_no_line_in_the_middle(tmp_path: Path) -> None:
    path = str(tmp_path / "actions.jsonl")
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_append_many, args=(path, who, 20_000)) for who in (1, 2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    old, new = lines(tmp_path / "actions.jsonl.1"), lines(Path(path))  # every line parses
    assert os.path.getsize(path) <= 20_000 + 2 * 400  # at most a line per writer over the cap
    assert new[-1]["n"] == 499  # the last line written is in the log
    for who in (1, 2):
        # What is kept of each writer is its newest records, in order, none missing between
        # (a writer that finished early may have rotated out altogether).
        numbers = [r["n"] for r in old + new if r["who"] == who]
        if numbers:
            assert numbers == list(range(numbers[0], 500))
        else:
            assert who != new[-1]["who"]
