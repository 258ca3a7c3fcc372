"""Cleanup: plans select the right folders; the act never harms a running, linked or outside one."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from workspace_fixtures import BASE_TIME, live_run, write_ours, write_swarms

from agent_tui import cleanup
from agent_tui import workspace as ws
from agent_tui.format.lock import WorkspaceLock

NOW = BASE_TIME + timedelta(days=30)


def _names(items) -> list[str]:
    return [item.folder.name for item in items]


def _history(root: Path) -> dict[str, Path]:
    """Four runs of "worker" (ages 20, 10, 5, 1 days) and one old "solo"."""
    folders = {}
    for age in (20, 10, 5, 1):
        folders[f"worker-{age}"] = write_ours(
            root, "worker", agent_id=f"{age:032x}", timestamp=NOW - timedelta(days=age)
        )
    folders["solo"] = write_ours(root, "solo", timestamp=NOW - timedelta(days=15), status="error")
    return folders


def test_plan_needs_a_criterion(workspace: Path) -> None:
    with pytest.raises(ValueError, match="say what to clean"):
        cleanup.plan(ws.scan())


def test_plan_by_age(workspace: Path) -> None:
    folders = _history(workspace)
    result = cleanup.plan(ws.scan(), older_than=timedelta(days=7), now=NOW)
    assert sorted(_names(result.items)) == sorted(
        [folders["worker-20"].name, folders["worker-10"].name, folders["solo"].name]
    )
    assert result.total_bytes == sum(item.bytes for item in result.items)
    assert all(item.bytes > 0 for item in result.items)
    solo = next(i for i in result.items if i.folder == folders["solo"])
    assert solo.reason == "older than 7d (15d old)"


def test_plan_keep_last_per_name(workspace: Path) -> None:
    folders = _history(workspace)
    result = cleanup.plan(ws.scan(), keep_last=2, now=NOW)
    assert sorted(_names(result.items)) == sorted(
        [folders["worker-20"].name, folders["worker-10"].name]
    )
    assert result.items[0].reason == "beyond the newest 2 of 'worker'"


def test_plan_criteria_combine(workspace: Path) -> None:
    folders = _history(workspace)
    records = ws.scan()
    by_status = cleanup.plan(records, statuses={"error"}, now=NOW)
    assert _names(by_status.items) == [folders["solo"].name]
    both = cleanup.plan(records, older_than=timedelta(days=12), keep_last=1, now=NOW)
    assert _names(both.items) == [folders["worker-20"].name]
    big = cleanup.plan(records, min_size=10**9, now=NOW)
    assert big.items == []


def test_plan_skips_running(workspace: Path) -> None:
    folders = _history(workspace)
    with live_run(folders["worker-20"]):
        result = cleanup.plan(ws.scan(), keep_last=2, now=NOW)
    assert _names(result.items) == [folders["worker-10"].name]
    [skipped] = result.skipped
    assert skipped.folder == folders["worker-20"]
    assert skipped.reason.startswith(f"running (pid {os.getpid()}")


def test_plan_skips_folders_outside_the_agents_dir(tmp_path: Path, workspace: Path) -> None:
    foreign = write_ours(tmp_path / "other", "foreign", timestamp=NOW - timedelta(days=99))
    record = ws.read_agent(foreign)
    result = cleanup.plan([record], older_than=timedelta(days=1), now=NOW)
    assert result.items == []
    assert result.skipped[0].reason == f"outside {workspace / 'agents'}"


def test_execute_removes_and_reports_bytes(workspace: Path) -> None:
    folders = _history(workspace)
    records = ws.scan()
    result = cleanup.plan(records, keep_last=2, now=NOW)
    calls = []
    done = cleanup.execute(result, progress=lambda n, total, item: calls.append((n, total)))
    assert not folders["worker-20"].exists() and not folders["worker-10"].exists()
    assert folders["worker-5"].exists() and folders["solo"].exists()
    assert sorted(done.removed) == sorted([folders["worker-20"], folders["worker-10"]])
    assert done.freed_bytes == result.total_bytes
    assert done.failures == []
    assert calls == [(0, 2), (1, 2), (2, 2)]


def test_execute_rechecks_running_before_deleting(workspace: Path) -> None:
    folders = _history(workspace)
    result = cleanup.plan(ws.scan(), keep_last=2, now=NOW)
    # The agent started after the plan was made.
    with WorkspaceLock(folders["worker-10"]):
        done = cleanup.execute(result)
    assert folders["worker-10"].exists()
    assert (folders["worker-10"] / "config.json").exists()
    assert done.skipped[0][0] == folders["worker-10"]
    assert done.skipped[0][1].startswith("running (pid")
    assert done.removed == [folders["worker-20"]]


def test_execute_never_follows_links(tmp_path: Path, workspace: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "keep.txt").write_text("do not delete")
    folder = write_swarms(workspace, "linker")
    os.symlink(precious, folder / "logs" / "escape")
    os.symlink(precious / "keep.txt", folder / "file-link")
    top_link = workspace / "agents" / "linked-agent"
    os.symlink(precious, top_link)

    records = [ws.read_agent(folder), ws.read_agent(top_link)]
    result = cleanup.plan(records, statuses={"completed", "broken"}, now=NOW)
    assert sorted(_names(result.items)) == sorted([folder.name, "linked-agent"])
    done = cleanup.execute(result)
    assert done.failures == []
    assert not folder.exists()
    assert not os.path.lexists(top_link)
    assert (precious / "keep.txt").read_text() == "do not delete"


def test_execute_refuses_paths_outside_the_agents_dir(tmp_path: Path, workspace: Path) -> None:
    _history(workspace)
    victim = tmp_path / "victim"
    (victim / "inner").mkdir(parents=True)
    (victim / "inner" / "data").write_text("keep")
    agents = workspace / "agents"
    os.symlink(victim, agents / "evil")
    # A plan made (or edited) by hand: paths that only look like they sit under agents/.
    hostile = cleanup.CleanupPlan(
        agents,
        [
            cleanup.CleanupItem(agents / "evil" / "inner", "x", 4, "by hand"),
            cleanup.CleanupItem(agents / ".." / ".." / "victim", "y", 4, "by hand"),
            cleanup.CleanupItem(agents, "z", 4, "by hand"),
        ],
    )
    done = cleanup.execute(hostile)
    assert done.removed == [] and done.freed_bytes == 0
    assert [reason for _, reason in done.skipped] == [f"outside {agents}"] * 3
    assert (victim / "inner" / "data").read_text() == "keep"
    assert agents.is_dir()


def test_execute_moves_to_trash(tmp_path: Path, workspace: Path) -> None:
    folders = _history(workspace)
    result = cleanup.plan(ws.scan(), keep_last=3, now=NOW)
    trash = tmp_path / "trash"
    done = cleanup.execute(result, trash_dir=trash)
    assert done.trashed == [folders["worker-20"]]
    assert not folders["worker-20"].exists()
    assert (trash / folders["worker-20"].name / "config.json").exists()
    assert done.freed_bytes == result.total_bytes


def test_trash_inside_agents_is_refused(workspace: Path) -> None:
    _history(workspace)
    result = cleanup.plan(ws.scan(), keep_last=3, now=NOW)
    with pytest.raises(ValueError, match="must not be inside"):
        cleanup.execute(result, trash_dir=workspace / "agents" / "trash")


def test_execute_reports_partial_failures(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folders = _history(workspace)
    result = cleanup.plan(ws.scan(), keep_last=3, now=NOW)
    real_unlink = os.unlink

    def unlink(name, *args, **kwargs):
        if name == "journal.jsonl":
            raise PermissionError(13, "Permission denied")
        return real_unlink(name, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", unlink)
    done = cleanup.execute(result)
    folder = folders["worker-20"]
    assert done.removed == []
    [(failed, reason)] = done.failures
    assert failed == folder
    assert "journal.jsonl: Permission denied" in reason
    assert (folder / "journal.jsonl").exists()
    # What stays (the journal, and the lock: a folder not wholly removed keeps it) is not freed.
    left = sum(p.stat().st_size for p in folder.iterdir())
    assert {p.name for p in folder.iterdir()} <= {"journal.jsonl", "agent.lock"}
    assert done.freed_bytes == result.total_bytes - left


def test_format_bytes() -> None:
    assert cleanup.format_bytes(512) == "512 B"
    assert cleanup.format_bytes(1536) == "1.5 KB"
    assert cleanup.format_bytes(10 * 1024**2) == "10.0 MB"
