"""Which file system a path is on (agent_tui.mounts, from a mountinfo), and the watcher polling
a root on a network file system from the start, with the reason in its ready line and a notice
in the app."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest
from test_watching import changes_until, read_event, start, stop

from agent_tui import mounts, watching
from agent_tui.format.persistence import atomic_write_json

NFS_REASON = "nfs4: inotify does not see other hosts' writes"


@pytest.fixture(autouse=True)
def no_poll_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    """The user's own AGENT_TUI_WATCH_POLL must not decide these tests (children inherit it)."""
    monkeypatch.delenv(watching.POLL_ENV, raising=False)


def line(n: int, point: str, fstype: str, source: str = "src", optional: str = "") -> str:
    escaped = point.replace("\\", "\\134").replace(" ", "\\040").replace("\t", "\\011")
    extra = f" {optional}" if optional else ""
    return f"{n} 1 0:{n} / {escaped} rw,relatime{extra} - {fstype} {source} rw"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A real folder whose parts a fake mount table mounts (paths are resolved first)."""
    base = tmp_path.resolve() / "m"
    for sub in ("share/local/deep", "share/sub", "shared", "my disk/x", "stack"):
        (base / sub).mkdir(parents=True)
    return base


def write_mountinfo(tmp_path: Path, *lines: str) -> str:
    path = tmp_path / "mountinfo"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def test_the_longest_mount_point_on_whole_components_decides(tmp_path: Path, tree: Path) -> None:
    info = write_mountinfo(
        tmp_path,
        line(1, "/", "ext4", "/dev/sda1", "shared:1"),
        line(2, f"{tree}/share", "nfs4", "server:/export", "shared:2 master:1"),
        line(3, f"{tree}/share/local", "ext4", "/dev/sdb1"),
        line(4, f"{tree}/my disk", "cifs", "//host/disk"),  # written \040 in the table
        line(5, f"{tree}/stack", "ext4"),
        line(6, f"{tree}/stack", "fuse.sshfs", "me@host:/"),  # mounted over it: on top
        "garbage line",
        "7 1 0:7 / /no/separator rw ext4 x rw",
    )
    assert mounts.filesystem_type(tree, info) == "ext4"
    assert mounts.filesystem_type(tree / "share", info) == "nfs4"
    assert mounts.filesystem_type(tree / "share" / "sub", info) == "nfs4"
    assert mounts.filesystem_type(tree / "share" / "local", info) == "ext4"
    assert mounts.filesystem_type(tree / "share" / "local" / "deep", info) == "ext4"
    assert mounts.filesystem_type(tree / "shared", info) == "ext4"  # not under .../share
    assert mounts.filesystem_type(tree / "my disk" / "x", info) == "cifs"
    assert mounts.filesystem_type(tree / "stack", info) == "fuse.sshfs"
    assert mounts.filesystem_type(tree / "share" / "not-made-yet", info) == "nfs4"
    # A link is followed to where it leads.
    (tree / "link").symlink_to(tree / "share" / "sub")
    assert mounts.filesystem_type(tree / "link", info) == "nfs4"
    assert mounts.is_network_filesystem(tree / "link", info)
    assert mounts.is_network_filesystem(tree / "share", info)
    assert not mounts.is_network_filesystem(tree / "share" / "local", info)
    assert not mounts.is_network_filesystem(tree / "shared", info)


def test_fields_are_unescaped_and_the_type_follows_the_separator() -> None:
    text = "\n".join([
        r"36 35 98:0 /mnt1 /mnt/parent\040dir\011tab\134back rw,noatime master:1 - ext3 /dev/root rw",
        "40 35 0:50 / /srv rw shared:7 - fuse mountpoint-s3 rw,user_id=0",
        "41 35 0:51 / /x rw - - odd-source rw",  # a type of "-" is read as a type, not skipped
    ])  # fmt: skip
    parsed = mounts.parse_mountinfo(text)
    assert parsed[0] == mounts.Mount("/mnt/parent dir\ttab\\back", "ext3", "/dev/root")
    assert parsed[1] == mounts.Mount("/srv", "fuse", "mountpoint-s3")
    assert parsed[2].fstype == "-"


@pytest.mark.parametrize(
    ("fstype", "source", "network"),
    [
        ("nfs", "h:/e", True), ("nfs4", "h:/e", True), ("cifs", "//h/s", True),
        ("smb3", "//h/s", True), ("9p", "drvfs", True), ("ceph", "mon:/", True),
        ("glusterfs", "h:/v", True), ("lustre", "m@tcp:/fs", True), ("gpfs", "fs0", True),
        ("afs", "AFS", True), ("fuse.sshfs", "me@h:/", True), ("fuse.s3fs", "s3fs", True),
        ("fuse.rclone", "remote:", True), ("fuse.glusterfs", "h:/v", True),
        ("fuse.something-new", "x", True), ("fuse", "mountpoint-s3", True),
        ("fuse.portal", "portal", False), ("fuse.lxcfs", "lxcfs", False),
        ("fuse.fuse-overlayfs", "fuse-overlayfs", False), ("fuseblk", "/dev/sdc1", False),
        ("fuse", "/dev/fuse", False), ("ext4", "/dev/sda1", False), ("tmpfs", "tmpfs", False),
        ("overlay", "overlay", False), ("btrfs", "/dev/sda2", False), ("NFS4", "h:/e", True),
    ],
)  # fmt: skip
def test_which_types_are_network_ones(fstype: str, source: str, network: bool) -> None:
    assert mounts.is_network_type(fstype, source) is network


def test_no_mount_table_is_dont_know_not_an_error(tmp_path: Path) -> None:
    for info in (str(tmp_path / "missing"), str(tmp_path)):  # gone; a folder
        assert mounts.filesystem_type(tmp_path, info) is None
        assert mounts.is_network_filesystem(tmp_path, info) is False
    empty = write_mountinfo(tmp_path, "")
    assert mounts.filesystem_type(tmp_path, empty) is None
    binary = tmp_path / "binary"
    binary.write_bytes(b"\xff\xfe\x00 - \x80\n1 2")
    assert mounts.filesystem_type(tmp_path, str(binary)) is None


def test_this_hosts_own_table_reads(tmp_path: Path) -> None:
    if not os.path.exists(mounts.MOUNTINFO):
        pytest.skip("no /proc/self/mountinfo here")
    assert mounts.filesystem_type("/") not in (None, "")
    assert isinstance(mounts.is_network_filesystem(tmp_path), bool)


def test_the_setting_overrides_the_mount_type(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nfs = write_mountinfo(tmp_path, line(1, "/", "ext4"), line(2, str(tmp_path.resolve()), "nfs4"))
    local = write_mountinfo(tmp_path / "..", line(1, "/", "ext4"))
    assert watching.poll_reason(tmp_path, nfs) == NFS_REASON
    assert watching.poll_reason(tmp_path, local) is None
    monkeypatch.setenv(watching.POLL_ENV, "0")
    assert watching.poll_reason(tmp_path, nfs) is None
    monkeypatch.setenv(watching.POLL_ENV, "1")
    assert watching.poll_reason(tmp_path, local) == "AGENT_TUI_WATCH_POLL=1"
    monkeypatch.setenv(watching.POLL_ENV, "maybe")  # not a setting: the mount type decides
    assert watching.poll_reason(tmp_path, local) is None
    assert watching.poll_reason(tmp_path, nfs) == NFS_REASON


def test_a_root_on_nfs_is_polled_from_the_start_and_changes_are_reported(
    workspace: Path, tmp_path: Path
) -> None:
    agents = workspace / "agents"
    agents.mkdir(parents=True)
    info = write_mountinfo(
        tmp_path, line(1, "/", "ext4"), line(2, str(workspace.resolve()), "nfs4", "srv:/ws")
    )
    child = start(workspace, "--mountinfo", info)
    try:
        assert read_event(child) == {"ready": True, "polling": True, "reason": NFS_REASON}
        folder = agents / "alpha-0123456789ab"
        folder.mkdir()
        atomic_write_json(folder / "config.json", {"agent_name": "alpha"})
        assert str(folder / "config.json") in changes_until(child, "config.json")
    finally:
        assert stop(child) == 0


def test_a_local_root_or_the_setting_at_0_keeps_inotify(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace.mkdir(parents=True)
    local = write_mountinfo(tmp_path, line(1, "/", "ext4"))
    nfs = write_mountinfo(tmp_path / "..", line(1, "/", "nfs4"))
    for info, setting in ((local, None), (nfs, "0")):
        if setting is not None:
            monkeypatch.setenv(watching.POLL_ENV, setting)
        child = start(workspace, "--mountinfo", info)
        try:
            assert read_event(child) == {"ready": True, "polling": False}
        finally:
            assert stop(child) == 0


class Collect:
    def __init__(self) -> None:
        self.posted: list[object] = []

    def post_message(self, message: object) -> bool:
        self.posted.append(message)
        return True


async def test_the_reason_to_poll_is_told_once_and_other_ready_lines_say_nothing() -> None:
    from agent_tui.tui.watcher import Pending, WatcherNotice, _read_events

    lines = [
        b'{"ready": true, "polling": true, "reason": "nfs4: inotify does not see other hosts\' writes"}',
        b'{"ready": true, "polling": false}',
        b'{"ready": true, "polling": true}',  # polling after a failure: its notice came before
    ]  # fmt: skip
    told: set[str] = set()
    notices = []
    for _ in range(2):  # a second child, after the first ended: not told again
        reader = asyncio.StreamReader()
        for data in lines:
            reader.feed_data(data + b"\n")
        reader.feed_eof()
        target = Collect()
        assert await _read_events(reader, Path("/ws/agents"), target, Pending(), told=told)  # type: ignore[arg-type]
        notices.append([m for m in target.posted if isinstance(m, WatcherNotice)])
    assert len(notices[0]) == 1 and notices[1] == []
    text = notices[0][0].text
    assert "/ws" in text and "polling every 1 s" in text and NFS_REASON in text
    assert not notices[0][0].error


async def test_the_app_side_tells_why_it_polls_and_still_follows_the_disk(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """watch_workspace with the real child, polling by the setting: a notice with the reason,
    then a folder written is read."""
    from agent_tui.tui.watcher import AgentChanged, WatcherNotice, watch_workspace

    monkeypatch.setenv(watching.POLL_ENV, "1")
    agents = workspace / "agents"
    agents.mkdir(parents=True)
    target = Collect()
    halt = asyncio.Event()
    task = asyncio.ensure_future(watch_workspace(workspace, target, halt))  # type: ignore[arg-type]
    try:
        deadline = time.monotonic() + 20
        while not any(isinstance(m, WatcherNotice) for m in target.posted):
            assert time.monotonic() < deadline, target.posted
            await asyncio.sleep(0.05)
        [notice] = [m for m in target.posted if isinstance(m, WatcherNotice)]
        assert "AGENT_TUI_WATCH_POLL=1" in notice.text and str(workspace) in notice.text
        folder = agents / "beta-0123456789ab"
        folder.mkdir()
        atomic_write_json(folder / "config.json", {"agent_name": "beta"})
        while not any(isinstance(m, AgentChanged) for m in target.posted):
            assert time.monotonic() < deadline + 10, target.posted
            await asyncio.sleep(0.05)
        [changed] = [m for m in target.posted if isinstance(m, AgentChanged)]
        assert changed.record.folder == folder
    finally:
        halt.set()
        await asyncio.wait_for(task, 10)
