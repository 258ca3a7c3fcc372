"""Cleanup against what a hostile neighbour, a crash or a race leaves: an agent starting in a
folder being removed, a linked ``agents/``, mount points, hard links, FIFOs, devices and sockets,
SIGTERM and SIGKILL mid-clean, a trash on another file system. All real: real child processes,
real signals, real links and special files; outside trees are hashed before and after."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import time
from datetime import timedelta
from pathlib import Path

import pytest
from test_cleanup_safety import tree_hash
from workspace_fixtures import write_ours

from agent_tui import cleanup
from agent_tui import workspace as ws

MiB = 1 << 20
IS_ROOT = os.geteuid() == 0
ZERO, NULL = (1, 5), (1, 3)  # device numbers of /dev/zero (reading never ends), /dev/null


def _plan_all(root: Path) -> cleanup.CleanupPlan:
    return cleanup.plan(ws.scan(root), older_than=timedelta(0), agents_dir=root / "agents")


def _cli(root: Path, *argv: str) -> list[str]:
    return [sys.executable, "-m", "agent_tui.cli", "--workspace", str(root), *argv]


def _hidden(agents: Path) -> list[str]:
    """Hidden entries of agents/: where a removal under way keeps its folder."""
    return [n for n in os.listdir(agents) if n.startswith(".")]


def _with_files(root: Path, name: str, files: int, size: int = 64) -> Path:
    folder = write_ours(root, name)
    (folder / "data").mkdir()
    for n in range(files):
        (folder / "data" / f"f{n:05d}").write_bytes(os.urandom(size))
    return folder


def _wait_until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.001)
    return False


# ----------------------------------------------------------------- an agent starting meanwhile
RACER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from agent_tui import Agent
    from agent_tui.format.naming import agent_folder_name

    root, runs = Path(sys.argv[1]), int(sys.argv[2])
    for _ in range(runs):
        agent = Agent(agent_name="racer", model_name="offline/demo?delay=0.001&tool_steps=2",
                      workspace_dir=root)
        journal = root / "agents" / agent_folder_name(agent.agent_name, agent.id) / "journal.jsonl"
        seen = []
        agent.streaming_callback = lambda chunk: seen.append(journal.exists())
        try:
            agent.run("go")
        except Exception as exc:  # could not start (busy, folder gone): nothing of it to lose
            print("REFUSED", type(exc).__name__, flush=True)
            continue
        lost = not all(seen) or agent.autosave_failures
        print("LOST" if lost else "KEPT", flush=True)
    """
)


def test_an_agent_that_starts_during_a_removal_never_loses_its_files(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    """A real child process runs one agent over and over while this process removes its folder
    as fast as it can. A run that got the lock must keep its journal and save every step: the
    removal holds the lock and moves the folder away before emptying it, so a run that starts
    meanwhile is refused (lock held) or makes a fresh folder the removal never touches."""
    root = tmp_path / "ws"
    agents = root / "agents"
    agents.mkdir(parents=True)
    script = tmp_path / "racer.py"
    script.write_text(RACER)
    child = subprocess.Popen(
        [sys.executable, str(script), str(root), "80"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env,
    )
    removed = 0
    try:
        while child.poll() is None:
            for folder in list(agents.iterdir()):
                if folder.name.startswith("."):
                    continue
                item = cleanup.CleanupItem(folder, "racer", 0, "race")
                done = cleanup.execute(cleanup.CleanupPlan(agents, [item]), workers=1)
                removed += len(done.removed)
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    outcomes = out.split()
    assert "LOST" not in outcomes, out
    assert "FAILED to write" not in err, err
    assert outcomes.count("KEPT") > 20 and removed > 5  # the race really ran both ways
    assert _hidden(agents) == []


# ----------------------------------------------------------------- SIGKILL mid-removal
def test_a_clean_killed_mid_removal_leaves_only_a_hidden_folder_the_next_clean_finishes(
    workspace: Path, child_env: dict[str, str]
) -> None:
    root = workspace
    big = _with_files(root, "big", 20000, size=16)
    keep = write_ours(root, "bystander")
    keep_hash = tree_hash(keep)
    child = subprocess.Popen(
        _cli(root, "clean", "--status", "completed", "--min-size", "200K", "--yes"),
        env=child_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        hidden_seen = _wait_until(lambda: bool(_hidden(root / "agents")), 30)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert hidden_seen, "the removal never moved the folder to a hidden name first"
    # Half-removed, but under a hidden name: not listed, not mistaken for the agent.
    assert not big.exists()
    assert [r.folder for r in ws.scan(root)] == [keep]
    [hidden] = _hidden(root / "agents")
    assert hidden.endswith(".tmp")

    result = cleanup.execute(cleanup.CleanupPlan(root / "agents"))  # a clean with nothing new
    assert result.finished == [root / "agents" / hidden]
    assert not result.failures
    assert sorted(os.listdir(root / "agents")) == [keep.name]
    assert tree_hash(keep) == keep_hash


# ----------------------------------------------------------------- SIGTERM mid-clean
def test_sigterm_mid_clean_finishes_the_folders_under_way_and_starts_no_other(
    workspace: Path, child_env: dict[str, str]
) -> None:
    root = workspace
    folders = [_with_files(root, f"agent-{n:03d}", 40) for n in range(300)]
    before = {folder: tree_hash(folder) for folder in folders}
    child = subprocess.Popen(
        _cli(root, "clean", "--status", "completed", "--yes"),
        env=child_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        started = _wait_until(lambda: len(os.listdir(root / "agents")) < 290, 60)
        child.send_signal(signal.SIGTERM)
        _, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert started
    assert child.returncode == 143, err
    assert "terminated (SIGTERM)" in err and "Traceback" not in err
    left = [folder for folder in folders if folder.exists()]
    assert 0 < len(left) < len(folders)  # it really stopped half-way
    assert all(tree_hash(folder) == before[folder] for folder in left)
    assert _hidden(root / "agents") == []  # nothing half-removed, even under a hidden name


# ----------------------------------------------------------------- agents/ is a link
def test_an_agents_folder_that_is_a_link_is_refused_and_nothing_is_removed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from agent_tui import cli

    precious = tmp_path / "precious"
    write_ours(precious, "thesis")
    write_ours(precious, "photos")
    before = tree_hash(precious)
    root = tmp_path / "ws"
    root.mkdir()
    (root / "agents").symlink_to(precious / "agents")

    code = cli.main(["--workspace", str(root), "clean", "--older-than", "0s", "--yes"])
    err = capsys.readouterr().err
    assert code != 0
    assert "is a symbolic link" in err and "nothing was removed" in err
    assert len(err.strip().splitlines()) == 1
    assert tree_hash(precious) == before
    # The library refuses too, however the plan was made.
    plan = cleanup.plan(ws.scan(precious), older_than=timedelta(0), agents_dir=root / "agents")
    with pytest.raises(cleanup.UnsafeAgentsDirError, match="symbolic link"):
        cleanup.execute(plan)
    assert tree_hash(precious) == before


# ----------------------------------------------------------------- mount points
def test_a_folder_on_another_device_inside_an_agent_is_never_entered(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The device check stands in for a mount (tests cannot mount here without a namespace:
    the next test does it for real): ``mnt/`` reports another ``st_dev``. Nothing in it goes,
    the failure says why, and the folder keeps its name, visible, with what is left."""
    folder = _with_files(workspace, "mounted", 5)
    (folder / "mnt" / "deep").mkdir(parents=True)
    (folder / "mnt" / "deep" / "data.bin").write_bytes(b"another file system")
    (folder / "mnt" / "top.txt").write_text("keep")
    mounted = tree_hash(folder / "mnt")

    def device(fd: int) -> int:
        real = os.fstat(fd).st_dev
        return real + 1 if os.readlink(f"/proc/self/fd/{fd}").endswith("/mnt") else real

    monkeypatch.setattr(cleanup, "_device", device, raising=False)
    result = cleanup.execute(_plan_all(workspace))
    [(failed, reason)] = result.failures
    assert failed == folder and "mount point" in reason and "/mnt" in reason
    assert tree_hash(folder / "mnt") == mounted
    assert sorted(os.listdir(folder)) == ["agent.lock", "mnt"]  # the rest went
    assert _hidden(workspace / "agents") == []
    assert [r.folder for r in ws.scan(workspace)] == [folder]


MOUNTED_CLEAN = textwrap.dedent(
    """
    set -e
    mount -t tmpfs cleanup-test "$1/mnt"
    echo "on its own file system" > "$1/mnt/keep.txt"
    mkdir "$1/mnt/sub" && echo deep > "$1/mnt/sub/deep.txt"
    set +e
    "$2" -m agent_tui.cli --workspace "$3" clean --status completed --yes >/dev/null 2>"$4"
    echo "exit=$?"
    cat "$1/mnt/keep.txt" "$1/mnt/sub/deep.txt"
    umount "$1/mnt"
    """
)


def _can_unshare_mount() -> bool:
    if not IS_ROOT or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _can_unshare_mount(), reason="needs root and `unshare -m` to mount")
def test_a_real_mount_point_inside_an_agent_folder_is_not_crossed(
    workspace: Path, tmp_path: Path, child_env: dict[str, str]
) -> None:
    """A real tmpfs, mounted inside an agent folder in a private mount namespace, while a real
    ``agent-tui clean --yes`` runs: the mounted file system keeps every file."""
    folder = _with_files(workspace, "mounted", 5)
    (folder / "mnt").mkdir()
    err_file = tmp_path / "clean.err"
    shell = ["unshare", "-m", "--propagation", "private", "sh", "-c", MOUNTED_CLEAN, "sh"]
    run = subprocess.run(
        [*shell, str(folder), sys.executable, str(workspace), str(err_file)],
        env=child_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines == ["exit=1", "on its own file system", "deep"]
    assert "mount point" in err_file.read_text()
    assert folder.exists() and (folder / "mnt").is_dir()
    assert not (folder / "data").exists()


# ----------------------------------------------------------------- hard links
def test_a_hard_link_to_an_outside_file_is_unlinked_but_not_counted_as_freed(
    workspace: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.bin"
    outside.write_bytes(os.urandom(MiB))
    folder = write_ours(workspace, "linker")
    os.link(outside, folder / "big.bin")
    plan = _plan_all(workspace)
    result = cleanup.execute(plan)
    assert result.removed == [folder]
    assert outside.read_bytes() and os.stat(outside).st_nlink == 1
    assert result.freed_bytes == plan.total_bytes - MiB
    assert result.freed_bytes < 64 * 1024


# ----------------------------------------------------------------- FIFOs, devices, sockets
def _special_folder(
    workspace: Path, tmp_path: Path, device: tuple[int, int]
) -> tuple[Path, dict[str, str]]:
    """An agent folder holding a FIFO (also as agent.lock), a link out, and, as root, a
    character device with the given numbers."""
    folder = _with_files(workspace, "special", 3)
    os.mkfifo(folder / "pipe")
    (folder / "agent.lock").unlink()
    os.mkfifo(folder / "agent.lock")
    (folder / "out").symlink_to(tmp_path / "outside")
    if IS_ROOT:
        os.mknod(folder / "device", stat.S_IFCHR | 0o600, os.makedev(*device))
    return folder, tree_hash(tmp_path / "outside")


def test_fifos_and_devices_in_a_folder_are_removed_without_being_opened(
    workspace: Path, tmp_path: Path, child_env: dict[str, str]
) -> None:
    """A FIFO named agent.lock, a FIFO and a /dev/zero device node: a real ``clean --yes`` in a
    child process, bounded in time, removes them all (opening any of them would block or read
    forever) and touches nothing outside."""
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "notes.txt").write_text("mine")
    folder, outside = _special_folder(workspace, tmp_path, ZERO)
    run = subprocess.run(
        _cli(workspace, "clean", "--status", "completed", "--yes"),
        env=child_env,
        capture_output=True,
        text=True,
        timeout=30,  # opening the FIFO or the device would never end
    )
    assert run.returncode == 0, run.stderr
    assert not folder.exists() and _hidden(workspace / "agents") == []
    assert tree_hash(tmp_path / "outside") == outside


OTHER_DEVICE = Path("/dev/shm")


def _other_device(tmp_path: Path) -> Path:
    if not OTHER_DEVICE.is_dir() or os.stat(OTHER_DEVICE).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip(f"{OTHER_DEVICE} is not a second file system here: no cross-device move")
    trash = OTHER_DEVICE / f"agent-tui-test-trash-{os.getpid()}-{tmp_path.name}"
    return trash


@pytest.fixture
def shm_trash(tmp_path: Path):
    trash = _other_device(tmp_path)
    yield trash
    shutil.rmtree(trash, ignore_errors=True)


def test_a_trash_on_another_file_system_gets_fifos_links_and_devices_as_they_are(
    workspace: Path, tmp_path: Path, shm_trash: Path, child_env: dict[str, str]
) -> None:
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "notes.txt").write_text("mine")
    # /dev/null's numbers: a copy that opened the device would make a file, not hang.
    folder, outside = _special_folder(workspace, tmp_path, NULL)
    before = {p.relative_to(folder): stat.S_IFMT(p.lstat().st_mode) for p in folder.rglob("*")}
    files = {k: v for k, v in tree_hash(folder).items() if not v.startswith(("dir", "link"))}
    run = subprocess.run(
        _cli(workspace, "clean", "--status", "completed", "--trash", str(shm_trash), "--yes"),
        env=child_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    moved = shm_trash / folder.name
    assert not folder.exists() and _hidden(workspace / "agents") == []
    assert os.listdir(shm_trash) == [folder.name]  # no partial copy beside it
    after = {p.relative_to(moved): stat.S_IFMT(p.lstat().st_mode) for p in moved.rglob("*")}
    assert after == before  # every FIFO, link and device is what it was
    assert os.readlink(moved / "out") == str(tmp_path / "outside")
    copied = tree_hash(moved)
    assert all(copied[name] == digest for name, digest in files.items() if name in copied)
    assert tree_hash(tmp_path / "outside") == outside


def test_a_failed_move_to_another_file_system_leaves_no_partial_copy_and_the_folder_whole(
    workspace: Path, tmp_path: Path, shm_trash: Path
) -> None:
    """A live Unix socket cannot be copied: the move fails, the copy made so far is removed
    from the trash and the folder stays as it was, under its name."""
    folder = _with_files(workspace, "with-socket", 50)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(folder / "zz.sock"))
    try:
        before = tree_hash(folder)
        result = cleanup.execute(_plan_all(workspace), trash_dir=shm_trash)
    finally:
        server.close()
    [(failed, reason)] = result.failures
    assert failed == folder
    assert "zz.sock" in reason and "left whole" in reason
    assert os.listdir(shm_trash) == []
    assert tree_hash(folder) == before
    assert result.trashed == [] and result.freed_bytes == 0
