"""The trust boundary at the file level: links, FIFOs, devices and hard links where a file of
ours belongs. Writers never write through them; readers never follow, block on or exhaust
memory with them. Every case is real: real links, real FIFOs, real child processes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import threading
from pathlib import Path

import pytest
from children import agent_tui

from agent_tui import Agent
from agent_tui.format.journal import read_journal
from agent_tui.format.layout import JOURNAL_NAME, LOCK_NAME
from agent_tui.format.lock import WorkspaceLock
from agent_tui.format.persistence import (
    UnsafePathError,
    WorkspaceFileError,
    atomic_write_json,
    read_bytes,
    read_json,
)
from agent_tui.workspace import read_agent, scan


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_clean_failure(result: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert "Traceback" not in result.stdout


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A file outside the workspace that a hostile folder points at (a shell rc file, say)."""
    target = tmp_path / "outside" / "bashrc"
    target.parent.mkdir()
    target.write_text("export PATH=/usr/bin\n# the user's own file\n", encoding="utf-8")
    return target


def finished_agent(name: str = "victim", steps: int = 2) -> Agent:
    agent = Agent(model_name="offline/demo?tool_steps=1", agent_name=name, max_loops=steps)
    agent.run("count the words in this task")
    return agent


# ----------------------------------------------------------------------------- writers
def test_lock_link_is_never_truncated(workspace: Path, outside: Path) -> None:
    agent = finished_agent()
    folder = Path(agent._get_agent_workspace_dir())
    before = digest(outside)
    (folder / LOCK_NAME).unlink()
    (folder / LOCK_NAME).symlink_to(outside)
    again = Agent(model_name="offline/demo", agent_name="victim", max_loops=1)
    with pytest.raises(UnsafePathError, match="symbolic link"):
        again.run("go on")
    with pytest.raises(UnsafePathError):
        again.save()
    assert digest(outside) == before
    assert (folder / LOCK_NAME).is_symlink()  # reported and left alone


def test_lock_hard_link_is_never_truncated(workspace: Path, outside: Path) -> None:
    agent = finished_agent()
    folder = Path(agent._get_agent_workspace_dir())
    before = digest(outside)
    (folder / LOCK_NAME).unlink()
    os.link(outside, folder / LOCK_NAME)
    with pytest.raises(UnsafePathError, match="hard links"):
        Agent(model_name="offline/demo", agent_name="victim").run("go on")
    assert digest(outside) == before


def test_journal_link_is_never_written_through(
    workspace: Path, outside: Path, child_env: dict[str, str]
) -> None:
    agent = finished_agent()
    folder = Path(agent._get_agent_workspace_dir())
    (folder / JOURNAL_NAME).unlink()
    (folder / JOURNAL_NAME).symlink_to(outside)
    before = digest(outside)
    result = agent_tui("resume", str(folder), "and more", env=child_env)
    assert_clean_failure(result)
    assert result.returncode != 0
    assert "symbolic link" in result.stderr
    assert digest(outside) == before


@pytest.mark.parametrize("name", ["config.json", "victim_state.json"])
def test_config_and_state_links_are_refused_and_reported(
    workspace: Path, outside: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    agent = finished_agent()
    folder = Path(agent._get_agent_workspace_dir())
    (folder / name).unlink()
    (folder / name).symlink_to(outside)
    before = digest(outside)
    again = Agent(model_name="offline/demo", agent_name="victim", max_loops=2)
    again.run("a new task")  # autosave never breaks a run: the failure is reported
    assert again.autosave_failures > 0
    assert f"FAILED to write {name}" in capsys.readouterr().err
    assert digest(outside) == before
    assert (folder / name).is_symlink()


def test_atomic_write_refuses_fifo_device_and_planted_temp_link(
    tmp_path: Path, outside: Path
) -> None:
    folder = tmp_path / "agent"
    folder.mkdir()
    os.mkfifo(folder / "config.json")
    with pytest.raises(UnsafePathError, match="FIFO"):
        atomic_write_json(folder / "config.json", {"a": 1})
    # A link planted at the temp file's name is not followed (O_EXCL|O_NOFOLLOW).
    import agent_tui.format.persistence as persistence

    planted = folder / f".state.json.{os.getpid()}.999999.tmp"
    planted.symlink_to(outside)
    before = digest(outside)
    real = persistence._counter
    persistence._counter = iter([999999])
    try:
        with pytest.raises(FileExistsError):
            atomic_write_json(folder / "state.json", {"secret": "x"})
    finally:
        persistence._counter = real
    assert digest(outside) == before


def test_agent_folder_that_is_a_link_is_never_written(workspace: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    from agent_tui.format.naming import agent_folder_name, stable_agent_id

    agents = workspace / "agents"
    agents.mkdir(parents=True)
    (agents / agent_folder_name("linked", stable_agent_id("linked"))).symlink_to(elsewhere)
    with pytest.raises(ValueError, match="link"):
        Agent(model_name="offline/demo", agent_name="linked").run("task")
    assert list(elsewhere.iterdir()) == []


def test_stale_temp_links_are_removed_as_links(workspace: Path, outside: Path) -> None:
    agent = finished_agent()
    folder = Path(agent._get_agent_workspace_dir())
    (folder / ".config.json.1.2.tmp").symlink_to(outside)
    before = digest(outside)
    finished_agent()
    assert not (folder / ".config.json.1.2.tmp").is_symlink()
    assert digest(outside) == before


# ----------------------------------------------------------------------------- readers
def test_read_bytes_refuses_links_fifos_devices_and_caps_size(
    tmp_path: Path, outside: Path
) -> None:
    (tmp_path / "link").symlink_to(outside)
    with pytest.raises(WorkspaceFileError, match="symbolic link"):
        read_bytes(tmp_path / "link")
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(WorkspaceFileError, match="FIFO"):
        read_bytes(tmp_path / "fifo")
    (tmp_path / "zero").symlink_to("/dev/zero")
    with pytest.raises(WorkspaceFileError, match="symbolic link"):
        read_bytes(tmp_path / "zero")
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (3 * 1024 * 1024))
    with pytest.raises(WorkspaceFileError, match=r"too large: 3\.0 MB, cap 1 MB"):
        read_bytes(big, limit=1024 * 1024)
    # A folder that is a link is not entered either.
    (tmp_path / "linked-folder").symlink_to(outside.parent)
    with pytest.raises(WorkspaceFileError, match="symbolic link"):
        read_json(tmp_path / "linked-folder" / "bashrc")


@pytest.mark.skipif(os.geteuid() != 0, reason="creating a device node needs root")
def test_a_device_node_named_config_is_not_read(tmp_path: Path) -> None:
    folder = tmp_path / "agents" / "dev-agent"
    folder.mkdir(parents=True)
    os.mknod(folder / "config.json", 0o644 | 0o020000, os.makedev(1, 5))  # /dev/zero
    record = read_agent(folder)
    assert record.status != "completed"
    assert any("not a regular file" in p for p in record.problems)
    with pytest.raises(WorkspaceFileError, match="character device"):
        read_bytes(folder / "config.json")


def fifo_agent(name: str, which: str) -> Path:
    agent = finished_agent(name)
    folder = Path(agent._get_agent_workspace_dir())
    target = {"config": "config.json", "state": f"{name}_state.json", "journal": JOURNAL_NAME}
    path = folder / target[which]
    path.unlink()
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("which", ["config", "state", "journal"])
def test_fifo_files_never_hang_a_command(
    workspace: Path, which: str, child_env: dict[str, str]
) -> None:
    fifo = fifo_agent("piped", which)
    folder = fifo.parent
    for argv in (
        ["show", str(folder)],
        ["show", str(folder), "--json"],
        ["diff", str(folder), "--steps", "0", "1"],
        ["resume", str(folder), "more"],
        ["ls"],
        ["ls", "--json"],
    ):
        result = agent_tui(*argv, env=child_env)  # TimeoutExpired here is the hang
        assert_clean_failure(result)
        if argv[0] == "resume":  # nothing to continue from a FIFO: refused, and says why
            assert result.returncode != 0
            assert "FIFO" in result.stderr or "not a regular file" in result.stderr
    assert fifo.is_fifo()  # left alone


@pytest.mark.parametrize("which", ["config.json", JOURNAL_NAME])
def test_links_to_dev_zero_are_not_read(
    workspace: Path, which: str, child_env: dict[str, str]
) -> None:
    agent = finished_agent("zeroed")
    folder = Path(agent._get_agent_workspace_dir())
    (folder / which).unlink()
    (folder / which).symlink_to("/dev/zero")
    for argv in (["show", str(folder)], ["diff", str(folder), "--steps", "0", "1"], ["ls"]):
        result = agent_tui(*argv, env=child_env)
        assert_clean_failure(result)
        assert "MemoryError" not in result.stderr
    # The reader names the link and does not follow it.
    if which == JOURNAL_NAME:
        journal = read_journal(folder / JOURNAL_NAME)
        assert journal.records == []
        assert any("symbolic link (to /dev/zero), not followed" in p for p in journal.problems)
    else:
        assert any("not a regular file" in p for p in read_agent(folder).problems)


def test_show_never_prints_a_linked_outside_config(
    workspace: Path, tmp_path: Path, child_env: dict[str, str]
) -> None:
    secret = tmp_path / "outside.json"
    secret.write_text('{"agent_name": "OUTSIDE-CONTENT", "db_url": "prod-host"}', "utf-8")
    agent = finished_agent("linked-config")
    folder = Path(agent._get_agent_workspace_dir())
    (folder / "config.json").unlink()
    (folder / "config.json").symlink_to(secret)
    for argv in (["show", str(folder)], ["show", str(folder), "--json"], ["ls", "--json"]):
        result = agent_tui(*argv, env=child_env)
        assert_clean_failure(result)
        assert "OUTSIDE-CONTENT" not in result.stdout + result.stderr
        assert "prod-host" not in result.stdout + result.stderr


def test_size_cap_is_a_setting_with_a_clear_problem(
    workspace: Path, child_env: dict[str, str]
) -> None:
    agent = finished_agent("bulky")
    folder = Path(agent._get_agent_workspace_dir())
    state = folder / "bulky_state.json"
    document = state.read_text("utf-8")
    state.write_text(document[:-1] + ', "pad": "' + "x" * (2 * 1024 * 1024) + '"}', "utf-8")
    env = {**child_env, "AGENT_TUI_MAX_FILE_MB": "1"}
    result = agent_tui("show", str(folder), env=env)
    assert_clean_failure(result)
    assert "too large: 2.0 MB, cap 1 MB (AGENT_TUI_MAX_FILE_MB)" in result.stdout + result.stderr


def test_ls_while_config_flips_between_file_and_fifo(
    workspace: Path, child_env: dict[str, str]
) -> None:
    folders = [Path(finished_agent(f"flip-{n}", 1)._get_agent_workspace_dir()) for n in range(3)]
    stop = threading.Event()
    original = {f: (f / "config.json").read_bytes() for f in folders}

    def flip() -> None:
        while not stop.is_set():
            for folder in folders:
                path = folder / "config.json"
                tmp = folder / "config.swap"
                try:
                    if path.is_fifo():
                        tmp.write_bytes(original[folder])
                    else:
                        os.mkfifo(tmp)
                    os.replace(tmp, path)
                except OSError:
                    pass

    flipper = threading.Thread(target=flip, daemon=True)
    flipper.start()
    try:
        for _ in range(30):
            result = agent_tui("ls", env=child_env)
            assert_clean_failure(result)
            assert result.returncode == 0
    finally:
        stop.set()
        flipper.join()


def test_scan_reports_fifo_and_link_problems_without_reading(
    workspace: Path, outside: Path
) -> None:
    folder = fifo_agent("scanned", "config").parent
    linked = Path(finished_agent("scanned-link")._get_agent_workspace_dir())
    (linked / "config.json").unlink()
    (linked / "config.json").symlink_to(outside)
    records = {r.path: r for r in scan(workspace)}
    assert records[str(folder)].status in ("broken", "unknown")
    assert any("not a regular file" in p for p in records[str(linked)].problems)


def test_lock_holder_note_is_read_without_blocking(workspace: Path) -> None:
    agent = finished_agent("noted")
    folder = Path(agent._get_agent_workspace_dir())
    (folder / LOCK_NAME).unlink()
    os.mkfifo(folder / LOCK_NAME)
    record = read_agent(folder)  # probes the lock: must not open the FIFO blocking
    assert record.holder is None
    with pytest.raises(UnsafePathError, match="FIFO"):
        WorkspaceLock(folder).acquire()
