"""Cleanup never removes anything outside the selected folders: links pointing out, a
workspace that becomes running mid-cleanup, crafted names. Checked by hashing the tree around."""

from __future__ import annotations

import hashlib
import os
from datetime import timedelta
from pathlib import Path

import pytest

from agent_tui import Agent, cleanup
from agent_tui import workspace as ws
from agent_tui.format.lock import WorkspaceLock


def tree_hash(root: Path) -> dict[str, str]:
    """Path -> content hash (or link target) for everything under root, links not followed."""
    out: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = str(path.relative_to(root))
            if path.is_symlink():
                out[rel] = "link->" + os.readlink(path)
            elif path.is_file():
                out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                out[rel] = "dir"
    return out


def _make_agents(root: Path, names: list[str]) -> list[Path]:
    folders = []
    for name in names:
        agent = Agent(agent_name=name, workspace_dir=root)
        agent.run("hello")
        folders.append(Path(agent._get_agent_workspace_dir()))
    return folders


def test_links_out_of_the_tree_are_never_followed(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    outside = tmp_path / "precious"
    (outside / "deep").mkdir(parents=True)
    (outside / "deep" / "thesis.txt").write_text("years of work")
    (outside / "notes.md").write_text("do not delete")
    folders = _make_agents(root, ["a", "b", "c", "keep-me"])
    (folders[0] / "link-to-precious").symlink_to(outside)  # a link inside a workspace
    (folders[1] / "data").mkdir()
    (folders[1] / "data" / "file-link").symlink_to(outside / "notes.md")
    agents = root / "agents"
    (agents / "escape-hatch").symlink_to(outside)  # an agents/ entry that is itself a link
    # Names a user could craft: dots, dashes, spaces, look-alikes of parent references.
    for crafted in ("..-..-etc", ". ..", "-rf"):
        (agents / crafted).mkdir()
        (agents / crafted / "config.json").write_text("{}")

    before_outside = tree_hash(outside)
    keep_folder = folders[3]
    before_kept = tree_hash(keep_folder)
    before_root_files = {p.name for p in tmp_path.iterdir()}

    records = [r for r in ws.scan(root) if r.folder != keep_folder]
    plan = cleanup.plan(records, older_than=timedelta(0), agents_dir=agents)
    result = cleanup.execute(plan)

    assert tree_hash(outside) == before_outside
    assert tree_hash(keep_folder) == before_kept
    assert {p.name for p in tmp_path.iterdir()} == before_root_files
    remaining = {p.name for p in agents.iterdir()}
    assert keep_folder.name in remaining
    assert not (remaining & {f.name for f in folders[:3]})
    assert not (remaining & {"..-..-etc", ". ..", "-rf"})
    # The link in agents/ is removed as a link (or refused), never followed.
    assert outside.exists() and (outside / "deep" / "thesis.txt").read_text() == "years of work"
    assert result.freed_bytes > 0 and not result.failures


def test_workspace_that_becomes_running_mid_cleanup_is_spared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "ws"
    folders = _make_agents(root, [f"agent-{i}" for i in range(5)])
    plan = cleanup.plan(ws.scan(root), older_than=timedelta(0), agents_dir=root / "agents")
    assert len(plan.items) == 5  # nothing was running when the plan was made
    late = plan.items[3].folder
    before = tree_hash(late)
    lock = WorkspaceLock(late)
    remove_item = cleanup._remove_item

    def agent_starts_meanwhile(agents_fd, folder, trash, result) -> None:
        if folder == plan.items[1].folder:
            lock.acquire()  # an agent starts in folder 3 while folder 1 is being removed
        remove_item(agents_fd, folder, trash, result)

    monkeypatch.setattr(cleanup, "_remove_item", agent_starts_meanwhile)
    try:
        # One remover, so folder 1 is certainly removed before folder 3 is looked at.
        result = cleanup.execute(plan, workers=1)
    finally:
        lock.release()
    # Whole: every file as it was, but the lock, which the agent that started rewrote (its
    # pid and start time: the same bytes only when it started within the same second).
    after = tree_hash(late)
    assert late.exists() and after.pop("agent.lock", None) is not None
    before.pop("agent.lock", None)
    assert after == before
    assert [path for path, _ in result.skipped] == [late]
    assert "running" in result.skipped[0][1]
    assert sorted(result.removed) == sorted(f for f in folders if f != late)


def test_removers_side_by_side_report_in_plan_order(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    folders = _make_agents(root, [f"agent-{i:02d}" for i in range(40)])
    plan = cleanup.plan(ws.scan(root), older_than=timedelta(0), agents_dir=root / "agents")
    calls: list[int] = []
    result = cleanup.execute(plan, progress=lambda done, total, item: calls.append(done))
    assert result.removed == [item.folder for item in plan.items]
    assert not any(folder.exists() for folder in folders)
    assert result.freed_bytes == plan.total_bytes
    assert calls == list(range(41))


def test_trash_moves_instead_of_deleting(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    folders = _make_agents(root, ["old-one", "old-two"])
    before = {f.name: tree_hash(f) for f in folders}
    plan = cleanup.plan(ws.scan(root), older_than=timedelta(0), agents_dir=root / "agents")
    result = cleanup.execute(plan, trash_dir=tmp_path / "trash")
    assert sorted(result.trashed) == sorted(folders)
    assert {p.name: tree_hash(p) for p in (tmp_path / "trash").iterdir()} == before


def test_interrupted_cleanup_starts_no_other_folder_and_leaves_none_half_removed(
    tmp_path: Path,
) -> None:
    root = tmp_path / "ws"
    folders = _make_agents(root, [f"agent-{i:03d}" for i in range(200)])
    hashes = {f: tree_hash(f) for f in folders}
    plan = cleanup.plan(ws.scan(root), older_than=timedelta(0), agents_dir=root / "agents")

    def ctrl_c(done: int, total: int, item: cleanup.CleanupItem) -> None:
        if done == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cleanup.execute(plan, progress=ctrl_c)
    left = [f for f in folders if f.exists()]
    # The folders under way when Ctrl-C came finish; no other starts, none is left half gone.
    assert 100 <= len(left) < len(folders)
    assert all(tree_hash(f) == hashes[f] for f in left)
