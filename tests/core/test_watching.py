"""The watcher process (agent_tui.watching): ready, then a JSON line per batch of changes; the
changes made while it was setting up; polling when inotify cannot watch; gone with its stdin."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from agent_tui import watching
from agent_tui.format.persistence import atomic_write_json, is_temp_file


def start(root: Path, *extra: str, since: float | None = None) -> subprocess.Popen:
    args = [sys.executable, "-P", "-m", "agent_tui.watching", str(root), "--since",
            str(time.time() if since is None else since), *extra]  # fmt: skip
    return subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE)


def read_event(child: subprocess.Popen, timeout: float = 20.0) -> dict:
    """The next JSON line (the pipe is read on a thread-free deadline via os.set_blocking)."""
    assert child.stdout is not None
    deadline = time.monotonic() + timeout
    line = b""
    os.set_blocking(child.stdout.fileno(), False)
    while not line.endswith(b"\n"):
        try:
            chunk = os.read(child.stdout.fileno(), 1)
        except BlockingIOError:
            chunk = None
        if chunk == b"":
            raise EOFError("the watcher exited")
        if chunk:
            line += chunk
        elif time.monotonic() > deadline:
            raise TimeoutError("no event")
        else:
            time.sleep(0.01)
    return json.loads(line)


def changes_until(child: subprocess.Popen, wanted: str) -> list[str]:
    seen: list[str] = []
    while not any(wanted in path for path in seen):
        event = read_event(child)
        seen += event.get("changes", [])
    return seen


def stop(child: subprocess.Popen) -> int:
    assert child.stdin is not None
    child.stdin.close()
    return child.wait(timeout=10)


@pytest.mark.parametrize("extra", [(), ("--poll",)], ids=["inotify", "polling"])
def test_it_reports_changes_without_temp_files_and_exits_with_its_stdin(
    workspace: Path, extra: tuple[str, ...]
) -> None:
    agents = workspace / "agents"
    agents.mkdir(parents=True)
    child = start(workspace, *extra)
    try:
        ready = read_event(child)
        assert ready == {"ready": True, "polling": bool(extra)}
        folder = agents / "alpha-0123456789ab"
        folder.mkdir()
        atomic_write_json(folder / "config.json", {"agent_name": "alpha"})
        seen = changes_until(child, "config.json")
        assert str(folder / "config.json") in seen
        assert not [p for p in seen if is_temp_file(os.path.basename(p))]  # atomic writes
    finally:
        assert stop(child) == 0


def test_what_changed_while_it_set_up_is_reported_first(workspace: Path) -> None:
    agents = workspace / "agents"
    old, new = agents / "old-0123456789ab", agents / "new-0123456789ab"
    for folder in (old, new):
        folder.mkdir(parents=True)
        atomic_write_json(folder / "config.json", {"agent_name": folder.name})
    past = time.time() - 3600
    os.utime(old / "config.json", (past, past))
    os.utime(old, (past, past))
    child = start(workspace, since=time.time() - 60)  # asked for a minute ago
    try:
        assert read_event(child)["ready"]
        first = read_event(child)
        assert str(new) in first["changes"] and str(old) not in first["changes"]
    finally:
        stop(child)


def test_a_tree_inotify_cannot_watch_is_polled(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """watchfiles failing to set inotify up (its limit of watches, most often): a notice, then
    the same events by polling."""
    import watchfiles

    calls: list[bool] = []

    def fake_watch(root, *, force_polling, **_kw):
        calls.append(force_polling)
        if not force_polling:
            raise OSError(28, "OS file watch limit reached")
        yield set()
        yield {(1, str(root / "agents" / "a" / "config.json"))}

    events: list[dict] = []
    monkeypatch.setattr(watchfiles, "watch", fake_watch)
    monkeypatch.setattr(watching, "emit", events.append)
    monkeypatch.setattr(sys, "stdin", open(os.devnull))  # noqa: SIM115
    assert watching.main([str(workspace)]) == 0
    assert calls == [False, True]
    assert "polling" in events[0]["notice"] and "limit" in events[0]["notice"]
    assert events[1] == {"ready": True, "polling": True}
    assert events[-1] == {"changes": [str(workspace / "agents" / "a" / "config.json")]}


def test_a_failure_is_said_not_hidden(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import watchfiles

    def broken(root, **_kw):
        raise RuntimeError("no such backend")
        yield  # pragma: no cover

    events: list[dict] = []
    monkeypatch.setattr(watchfiles, "watch", broken)
    monkeypatch.setattr(watching, "emit", events.append)
    monkeypatch.setattr(sys, "stdin", open(os.devnull))  # noqa: SIM115
    assert watching.main([str(workspace)]) == 1
    assert events[-1] == {"error": "RuntimeError: no such backend"}


async def test_changes_pending_are_read_once_latest_first_selected_first() -> None:
    """A folder changed again before it is read is read once; the selected agent jumps the
    queue; a burst is taken in slices."""
    from agent_tui.tui.watcher import Pending

    pending = Pending()
    burst = {Path(f"/ws/agents/a-{n:04d}") for n in range(1000)}
    pending.add(burst)
    pending.add({Path("/ws/agents/a-0001"), Path("/ws/agents/a-0500")})  # again: once
    assert len(pending.folders) == 1000 and pending.ready.is_set()
    first = pending.take("/ws/agents/a-0999")
    assert first[0] == Path("/ws/agents/a-0999") and len(first) == Pending.SLICE
    assert len(set(first)) == len(first)
    taken = list(first)
    while pending.folders:
        taken += pending.take(None)
    assert sorted(taken) == sorted(burst)  # each once, none lost
    assert not pending.ready.is_set()
    # The ones changed again come last: they are read as they are now, after the others.
    assert set(taken[-2:]) == {Path("/ws/agents/a-0001"), Path("/ws/agents/a-0500")}


def test_what_happens_inside_a_folder_being_removed_is_not_reported(tmp_path: Path) -> None:
    """A cleanup renames a folder to ``.removing-*.tmp`` and deletes it: thousands of events
    inside it are dropped in the watcher's process; the rename itself, and everything else,
    is kept, also under a root whose own path looks like a temp name."""
    root = tmp_path / ".odd.tmp" / "ws"
    keep = watching.outside_temp_folders(root)
    agents = root / "agents"
    removing = agents / ".removing-alpha-0123.tmp"
    assert not keep(None, str(removing / "journal.jsonl"))
    assert not keep(None, str(removing / "logs" / "agent.log"))
    assert not keep(None, str(agents / "alpha" / ".config.json.123.1.tmp"))  # an atomic write
    assert keep(None, str(agents / "alpha" / "config.json"))
    assert keep(None, str(agents / "alpha"))  # the folder renamed away: its removal
    assert keep(None, str(root / "agents"))


def test_folders_gone_in_one_batch_are_one_message(workspace: Path) -> None:
    from agent_tui.tui.watcher import AgentChanged, AgentRemoved, read_folders

    agents = workspace / "agents"
    alive = agents / "alive-0123456789ab"
    alive.mkdir(parents=True)
    atomic_write_json(alive / "config.json", {"agent_name": "alive"})
    gone = [agents / f"gone-{n}" for n in range(3)]
    messages = read_folders([gone[0], alive, gone[1], gone[2]])
    assert [type(m) for m in messages] == [AgentChanged, AgentRemoved]
    assert messages[1].folders == gone


def test_the_folders_a_batch_touches(tmp_path: Path) -> None:
    from agent_tui.tui.watcher import folders_touched

    agents = tmp_path / "ws" / "agents"
    paths = {
        str(agents / "alpha-1" / "config.json"),
        str(agents / "alpha-1" / "logs" / "agent.log"),
        str(agents / "beta-2"),
        str(agents / ".removing-gamma.tmp" / "config.json"),  # a temp folder: not an agent
        str(tmp_path / "ws" / "elsewhere.txt"),  # outside agents/
        str(agents) + "//beta-2//state.json",  # not normalized
    }
    assert folders_touched(agents, paths) == ({agents / "alpha-1", agents / "beta-2"}, False)
    assert folders_touched(agents, {str(agents)})[1] is True  # agents/ itself: rescan
    assert folders_touched(agents, {str(tmp_path / "ws")})[1] is True  # its parent
    assert folders_touched(agents, {str(tmp_path / "ws" / "agentsX" / "a")}) == (set(), False)


def test_a_catch_up_of_many_folders_comes_in_bounded_lines(workspace: Path) -> None:
    """A fleet just made (or a copy of thousands of folders) is one batch: it must reach the
    app as lines of at most CHANGES_PER_LINE paths (one line of 10,000 paths was past the
    app's line reader, which died: the app stopped following the disk)."""
    from agent_tui.watching import CHANGES_PER_LINE

    agents = workspace / "agents"
    made = {str(agents / f"agent-{n:04d}-0123456789ab") for n in range(3 * CHANGES_PER_LINE + 7)}
    for folder in made:
        os.makedirs(folder)
    child = start(workspace, since=time.time() - 60)
    try:
        assert read_event(child)["ready"]
        seen: set[str] = set()
        while not made <= seen:
            changes = read_event(child)["changes"]
            assert len(changes) <= CHANGES_PER_LINE
            seen.update(changes)
    finally:
        stop(child)


async def test_a_line_too_long_for_the_reader_is_skipped_not_fatal() -> None:
    from textual.message import Message

    from agent_tui.tui.watcher import Pending, WatcherNotice, _read_events

    posted: list[Message] = []

    class Target:
        def post_message(self, message: Message) -> bool:
            posted.append(message)
            return True

    reader = asyncio.StreamReader()
    long_line = orjson.dumps({"changes": [f"/ws/agents/a-{n:05d}" for n in range(500)]})
    reader.feed_data(long_line + b"\n")
    reader.feed_data(orjson.dumps({"changes": ["/ws/agents/b-0123456789ab/config.json"]}) + b"\n")
    reader.feed_eof()
    pending = Pending()
    # a limit of 1 KiB: the first line (13 KB) is past it
    assert await _read_events(reader, Path("/ws/agents"), Target(), pending, 1024)  # type: ignore[arg-type]
    assert list(pending.folders) == [Path("/ws/agents/b-0123456789ab")]  # the next line read
    assert [type(m) for m in posted] == [WatcherNotice]
