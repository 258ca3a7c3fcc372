"""The summary index (agent_tui.workspace.summary): a scan that uses it gives exactly the records
of a scan that parses every config, never serves a row of a config that changed, survives any
index file, and keeps no secret.

Each test compares against ``scan(root, index=False)``, which parses every ``config.json``.
Fixture files are seconds old, younger than ``RACY_NS``: the tests that need entries kept set
it to 0 and make sure a rewrite changes the file's ctime (:func:`rewrite`), which is what the
real setting guarantees on a clock of coarse ticks.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import stat
import subprocess
import sys
import time
import zlib
from datetime import timedelta
from pathlib import Path

import pytest
from hostile_corpus import LEAKED_KEY
from hostile_corpus import build as build_hostile
from workspace_fixtures import (
    write_broken_corpus,
    write_escape_agents,
    write_ours,
    write_swarms,
)

from agent_tui.format.lock import WorkspaceLock
from agent_tui.workspace import folder as folder_module
from agent_tui.workspace import scan, scan_map, summary
from agent_tui.workspace.summary import index_path

# The package's ``scan`` is the function; the module is in sys.modules.
scan_module = sys.modules["agent_tui.workspace.scan"]


@pytest.fixture
def keep_fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep configs written a moment ago (the fixtures' are)."""
    monkeypatch.setattr(summary, "RACY_NS", 0)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The folders whose config.json a scan parses, in order."""
    seen: list[str] = []
    real = folder_module._read_config

    def counting(path: str, size: int):
        seen.append(os.path.basename(path))
        return real(path, size)

    monkeypatch.setattr(folder_module, "_read_config", counting)
    return seen


def index_file(root: Path) -> Path:
    path = index_path(os.path.realpath(root / "agents"))
    assert path is not None
    return path


def rewrite(path: Path, data: bytes) -> None:
    """Write ``data`` into ``path`` in place, as a careless writer would, until its ctime moved
    on (a rewrite inside one tick of the file system's clock would keep it)."""
    before = os.lstat(path)
    while True:
        with path.open("r+b") as handle:
            handle.truncate(0)
            handle.write(data)
        if os.lstat(path).st_ctime_ns != before.st_ctime_ns:
            return
        time.sleep(0.001)


def mixed_workspace(root: Path) -> None:
    """Ours in every status, swarms v16 and older shapes, broken configs and hostile text."""
    write_ours(root, "alpha")
    write_ours(root, "beta", status="error", loop_count=3)
    write_ours(root, "gamma", status="interrupted", loop_count=1)
    write_ours(root, "delta", status="running")  # nobody holds the lock: interrupted
    write_ours(root, "epsilon", state=False, journal=False)
    write_swarms(root, "Financial-Analysis-Agent")
    write_swarms(root, "Interrupted-Swarm", loop_count=None)
    write_swarms(root, "Failed-Swarm", loop_count=None, error_text="model exploded\n")
    # swarms v14: short_memory as a dict, no state file; a persistent memory folder
    v14 = write_swarms(root, "Old-Swarm", loop_count=None)
    config = json.loads((v14 / "config.json").read_text())
    config["short_memory"] = {"conversation_history": config["short_memory"][:1]}
    (v14 / "config.json").write_text(json.dumps(config))
    for state in v14.glob("agent-*_state.json"):
        state.unlink()
    memory = root / "agents" / "Memory Agent"
    memory.mkdir()
    (memory / "MEMORY.md").write_text("remember this\n")
    write_broken_corpus(root)
    write_escape_agents(root)


def assert_same_as_full_read(root: Path, **kwargs) -> list:
    full = scan(root, index=False)
    cold = scan(root, **kwargs)
    warm = scan(root, **kwargs)
    assert [r.to_dict() for r in cold] == [r.to_dict() for r in full]
    assert warm == full
    assert [r.to_dict() for r in warm] == [r.to_dict() for r in full]
    return full


def reparsed_every_time(records: list) -> set[str]:
    """The folders whose summary the index must not keep: error text of ours, an unknown
    status (both text of the config's own), and configs that cannot be parsed at all."""
    return {
        r.folder_name
        for r in records
        if (r.error and r.format != "swarms")
        or (r.status == "broken" and r.config_mtime_ns is not None)
        or any("unknown status" in problem for problem in r.problems)
    }


def test_same_records_as_a_full_read_and_only_changed_configs_parsed(
    workspace: Path, keep_fresh: None, reads: list[str]
) -> None:
    mixed_workspace(workspace)
    full = assert_same_as_full_read(workspace)
    assert len(full) > 30
    reads.clear()
    assert scan(workspace) == full
    assert set(reads) == reparsed_every_time(full)
    assert not any(name.startswith(("alpha", "Financial", "Old-Swarm")) for name in reads)


def test_forked_scan_with_the_index_gives_the_same_records(
    workspace: Path, keep_fresh: None, monkeypatch: pytest.MonkeyPatch, reads: list[str]
) -> None:
    mixed_workspace(workspace)
    monkeypatch.setattr(scan_module, "PARALLEL_MIN", 2)
    monkeypatch.setattr("agent_tui.workspace.forked.PARALLEL_CHUNK", 3)
    full = assert_same_as_full_read(workspace, jobs=2)
    # What the child parsed reached the index too: a scan here parses only what it must.
    reads.clear()
    assert scan(workspace) == full
    assert set(reads) == reparsed_every_time(full)


def test_same_records_on_the_hostile_corpus(tmp_path: Path, keep_fresh: None) -> None:
    corpus = build_hostile(tmp_path)
    assert_same_as_full_read(corpus.root)


def test_a_rewrite_with_the_same_size_and_mtime_is_read_again(
    workspace: Path, keep_fresh: None
) -> None:
    folder = write_ours(workspace, "alpha", model="model-one")
    config = folder / "config.json"
    scan(workspace)
    assert scan(workspace)[0].model == "model-one"
    before = os.lstat(config)
    rewrite(config, config.read_bytes().replace(b"model-one", b"model-two"))
    os.utime(config, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.lstat(config)
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (
        before.st_size,
        before.st_mtime_ns,
        before.st_ino,
    )
    assert scan(workspace)[0].model == "model-two"
    assert scan(workspace) == scan(workspace, index=False)


@pytest.mark.parametrize("how", ["cp -a", "copytree"])
def test_a_folder_replaced_by_a_copy_of_another_is_read_again(
    workspace: Path, keep_fresh: None, how: str
) -> None:
    one = write_ours(workspace, "agent-one", model="model-aaa")
    two = write_ours(workspace, "agent-two", model="model-bbb")
    assert (one / "config.json").stat().st_size == (two / "config.json").stat().st_size
    scan(workspace)
    assert [r.model for r in scan(workspace)] == ["model-aaa", "model-bbb"]
    shutil.rmtree(one)
    if how == "cp -a":
        subprocess.run(["cp", "-a", str(two), str(one)], check=True)
    else:
        shutil.copytree(two, one, copy_function=shutil.copy2)
    # The copy keeps the other config's size and mtime (and maybe a freed inode number).
    assert os.lstat(one / "config.json").st_mtime_ns == os.lstat(two / "config.json").st_mtime_ns
    records = scan(workspace)
    assert [r.model for r in records] == ["model-bbb", "model-bbb"]
    assert records == scan(workspace, index=False)


@pytest.mark.parametrize("kind", ["symlink", "fifo", "folder"])
def test_a_config_replaced_by_a_link_or_fifo_is_not_served_from_the_index(
    workspace: Path, tmp_path: Path, keep_fresh: None, kind: str
) -> None:
    folder = write_ours(workspace, "alpha")
    config = folder / "config.json"
    outside = tmp_path / "outside.json"
    outside.write_bytes(config.read_bytes())
    scan(workspace)
    config.unlink()
    if kind == "symlink":
        config.symlink_to(outside)
    elif kind == "fifo":
        os.mkfifo(config)
    else:
        config.mkdir()
    (record,) = scan(workspace)
    assert record.status in ("broken", "unknown")
    assert record.agent_id is None and record.model is None
    assert [record] == scan(workspace, index=False)


def corrupt_cases(path: Path, other_index: bytes) -> dict[str, object]:
    good = path.read_bytes()
    header, _, body = good.partition(b"\n")
    flipped = bytearray(body)
    flipped[len(flipped) // 2] ^= 0x01
    return {
        "bit flip": header + b"\n" + bytes(flipped),
        "truncated": good[: len(good) // 2],
        "empty": b"",
        "garbage": os.urandom(4096),
        "other workspace": other_index,
        "older version": good.replace(b" 1 ", b" 0 ", 1),
        "not json": b"agent-tui summary index 1 00000000\n{",
    }


def test_a_corrupt_foreign_or_truncated_index_is_ignored_and_rewritten(
    workspace: Path, tmp_path: Path, keep_fresh: None
) -> None:
    mixed_workspace(workspace)
    full = scan(workspace, index=False)
    other = tmp_path / "other"
    write_ours(other, "stranger")
    scan(other)
    scan(workspace)
    path = index_file(workspace)
    good = path.read_bytes()
    for case, data in corrupt_cases(path, index_file(other).read_bytes()).items():
        path.write_bytes(data)
        assert scan(workspace) == full, case
        assert path.read_bytes() == good, case  # rewritten whole
        assert scan(workspace) == full, case


def read_index(path: Path) -> tuple[dict, list[str], list[list]]:
    """The head, the folder names and the entries of an index file."""
    _, head, listing, entries = path.read_bytes().split(b"\n", 3)
    document = json.loads(head)
    starts = [0, *document["ends"]]
    lines = [entries[a:b] for a, b in zip(starts, starts[1:], strict=False)]
    return document, listing.decode().split("\0"), [json.loads(line) for line in lines]


def forge(path: Path, entries: dict[str, list]) -> None:
    """An index with a valid CRC whose entries say whatever ``entries`` says."""
    head, names, _ = read_index(path)
    assert names == list(entries)
    lines = [json.dumps(entry).encode() for entry in entries.values()]
    head["ends"] = list(itertools.accumulate(map(len, lines)))
    body = b"\n".join([json.dumps(head).encode(), "\0".join(names).encode(), b"".join(lines)])
    path.write_bytes(b"agent-tui summary index 1 %08x\n" % zlib.crc32(body) + body)


def test_an_index_of_wrong_values_with_a_right_checksum_yields_no_wrong_row(
    workspace: Path, keep_fresh: None
) -> None:
    write_ours(workspace, "alpha")
    write_swarms(workspace, "Swarm")
    full = scan(workspace, index=False)
    scan(workspace)
    path = index_file(workspace)
    _, names, lines = read_index(path)
    entries = dict(zip(names, lines, strict=True))
    hostile_values = [
        5,  # declared
        ["name"],
        {"id": 1},
        7,
        "1.5",  # cost
        True,  # loop_count
        3,
        ["x"],
        ["completed"],  # status
        "an error text",
        ["nonsense", None],  # swarms
        [1, 2],  # problems
        {"x": 1},
    ]
    for field, value in enumerate(hostile_values):
        for name, entry in entries.items():
            forged = dict(entries)
            forged[name] = [*entry[:5], *entry[5 : 5 + field], value, *entry[6 + field :]]
            forge(path, forged)
            assert scan(workspace) == full, (field, value)
    forge(path, {name: entry[:-1] for name, entry in entries.items()})
    assert scan(workspace) == full
    head, names, lines = read_index(path)
    for ends in (["1", "2"], [10**30, -(10**30)], [True, 5], [3]):
        header, _, rest = path.read_bytes().partition(b"\n")
        _, listing, entries_bytes = rest.split(b"\n", 2)
        body = b"\n".join([json.dumps({**head, "ends": ends}).encode(), listing, entries_bytes])
        path.write_bytes(b"agent-tui summary index 1 %08x\n" % zlib.crc32(body) + body)
        assert scan(workspace) == full, ends


def test_a_symlinked_or_fifo_index_is_never_followed(
    workspace: Path, tmp_path: Path, keep_fresh: None
) -> None:
    write_ours(workspace, "alpha")
    full = scan(workspace, index=False)
    scan(workspace)
    path = index_file(workspace)
    target = tmp_path / "precious.txt"
    target.write_bytes(path.read_bytes())  # a sound index, but not ours to read or write
    before = target.read_bytes()
    path.unlink()
    path.symlink_to(target)
    assert scan(workspace) == full
    assert target.read_bytes() == before
    assert not path.is_symlink() and stat.S_ISREG(os.lstat(path).st_mode)
    path.unlink()
    os.mkfifo(path)
    assert scan(workspace) == full  # a FIFO is not waited on
    assert stat.S_ISREG(os.lstat(path).st_mode)


def test_an_index_or_cache_folder_not_ours_is_ignored(
    workspace: Path, keep_fresh: None, reads: list[str]
) -> None:
    folder = write_ours(workspace, "alpha")
    scan(workspace)
    path = index_file(workspace)
    reads.clear()
    scan(workspace)
    assert reads == []
    for spoil in (
        lambda: path.chmod(0o622),  # writable by others: anyone could have forged it
        lambda: os.chown(path, 65534, -1),  # another user's
        lambda: path.parent.chmod(0o777),  # in a folder anyone can write
        lambda: os.link(path, path.parent / "another-name"),  # a hard link
    ):
        if os.geteuid() != 0 and spoil.__code__.co_names[-1:] == ("chown",):
            continue
        spoil()
        reads.clear()
        assert scan(workspace) == scan(workspace, index=False)
        assert reads == [folder.name, folder.name]  # ignored, then rewritten as ours:
        info = os.lstat(path)
        assert (info.st_uid, info.st_nlink, stat.S_IMODE(info.st_mode)) == (os.geteuid(), 1, 0o600)
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        reads.clear()
        scan(workspace)
        assert reads == []


def test_an_unwritable_cache_still_lists(
    workspace: Path, user_cache_home: Path, keep_fresh: None, reads: list[str]
) -> None:
    mixed_workspace(workspace)
    full = scan(workspace, index=False)
    user_cache_home.parent.mkdir(parents=True, exist_ok=True)
    user_cache_home.write_text("a file where the cache folder should be")
    assert scan(workspace) == full
    assert scan(workspace, jobs=2) == full
    assert user_cache_home.read_text() == "a file where the cache folder should be"


def test_a_read_only_workspace_lists_and_is_left_as_it_was(
    workspace: Path, keep_fresh: None
) -> None:
    mixed_workspace(workspace)
    before = sorted((str(p), p.lstat().st_mtime_ns) for p in workspace.rglob("*"))
    for path in workspace.rglob("*"):
        if not path.is_symlink():
            path.chmod(path.lstat().st_mode & ~0o222)
    try:
        assert_same_as_full_read(workspace)
    finally:
        for path in workspace.rglob("*"):
            if not path.is_symlink():
                path.chmod(path.lstat().st_mode | 0o200)
    assert sorted((str(p), p.lstat().st_mtime_ns) for p in workspace.rglob("*")) == before


SECRET_ENV = "envSECRETvalue-4242xyz"  # no token shape: caught as the environment's


def test_no_secret_reaches_the_index_file(
    workspace: Path, keep_fresh: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET_ENV)
    failed = write_ours(workspace, "failed", status="error")
    config = json.loads((failed / "config.json").read_text())
    config["_autosave_metadata"]["error"] = f"401 Unauthorized: key {LEAKED_KEY} rejected"
    (failed / "config.json").write_text(json.dumps(config))
    odd = write_ours(workspace, "odd-status")
    config = json.loads((odd / "config.json").read_text())
    config["_autosave_metadata"]["status"] = f"paused by {LEAKED_KEY}"
    (odd / "config.json").write_text(json.dumps(config))
    write_ours(workspace, f"name-{LEAKED_KEY}")  # in the folder's name too (lower-cased)
    write_ours(workspace, "env-model", model=f"proxy/{SECRET_ENV}")
    leaky = write_swarms(workspace, "Leaky-Swarm", loop_count=None, error_text=f"401: {LEAKED_KEY}")
    config = json.loads((leaky / "config.json").read_text())
    config["llm_api_key"] = LEAKED_KEY
    (leaky / "config.json").write_text(json.dumps(config))
    write_ours(workspace, "plain")

    full = assert_same_as_full_read(workspace)
    assert any(LEAKED_KEY in (r.error or "") for r in full)
    data = index_file(workspace).read_bytes().lower()
    for secret in (LEAKED_KEY, SECRET_ENV):
        assert secret.lower().encode() not in data
    assert b"leaky-swarm" in data and b'"plain"' in data  # the rest is kept


def test_a_config_changed_within_the_racy_window_is_not_kept(
    workspace: Path, reads: list[str]
) -> None:
    write_ours(workspace, "alpha")  # written now: younger than RACY_NS
    scan(workspace)
    reads.clear()
    scan(workspace)
    assert len(reads) == 1


def test_the_index_file_is_private_and_one_per_workspace(
    tmp_path: Path, user_cache_home: Path, keep_fresh: None
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    write_ours(first, "alpha")
    write_ours(second, "alpha")
    assert scan(first, index=False) and not user_cache_home.exists()
    scan(first)
    scan(second)
    folder = user_cache_home / "agent-tui"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    files = sorted(folder.iterdir())
    assert files == sorted([index_file(first), index_file(second)])
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    assert all(not f.name.endswith(".tmp") for f in files)


def test_the_lock_is_still_asked_when_the_summary_claims_a_run(
    workspace: Path, keep_fresh: None
) -> None:
    folder = write_ours(workspace, "alpha")
    config = json.loads((folder / "config.json").read_text())
    config["_autosave_metadata"]["status"] = "running"
    (folder / "config.json").write_text(json.dumps(config))
    scan(workspace)
    assert scan(workspace)[0].status == "interrupted"
    with WorkspaceLock(folder):
        (record,) = scan(workspace)
        assert record.status == "running" and record.holder
    assert scan(workspace)[0].status == "interrupted"


def test_scan_map_converts_the_same_rows_cold_and_warm(workspace: Path, keep_fresh: None) -> None:
    mixed_workspace(workspace)

    def row(record):
        return (record.name, str(record.status), record.loop_count, record.model)

    full = scan_map(workspace, row, index=False)
    assert scan_map(workspace, row) == full
    assert scan_map(workspace, row) == full


def test_ls_json_is_the_same_cold_and_warm_and_as_a_full_read(
    workspace: Path, keep_fresh: None, capsys: pytest.CaptureFixture[str], reads: list[str]
) -> None:
    from agent_tui.cli import main

    mixed_workspace(workspace)

    def ls() -> list:
        assert main(["--workspace", str(workspace), "ls", "--json"]) == 0
        return json.loads(capsys.readouterr().out)

    cold = ls()
    reads.clear()
    warm = ls()
    assert cold == warm
    assert len(reads) < len(warm) // 2  # masking re-reads those with errors or problems
    full = scan(workspace, index=False)
    assert [row["folder"] for row in warm] == sorted(
        (r.path for r in full),
        key=lambda p: next((r.name.lower(), r.folder_name) for r in full if r.path == p),
    )


def test_names_not_utf8_are_kept_and_names_with_a_newline_read_every_time(
    workspace: Path, keep_fresh: None, reads: list[str]
) -> None:
    source = write_ours(workspace, "alpha")
    for odd in ("two\nlines", os.fsdecode(b"bytes-\xff\xfe")):
        shutil.copytree(source, workspace / "agents" / odd)
    full = assert_same_as_full_read(workspace)
    reads.clear()
    assert scan(workspace) == full
    assert reads == ["two\nlines"]  # the index's list of names has no room for a newline


@pytest.fixture
def restore_zone():
    """The process's time zone as it was. Restoring ``TZ`` is monkeypatch's job, but its
    teardown runs after this one: tzset here alone left the test's zone in the C library for
    every later test of the session (a child process, started with the restored ``TZ``, then
    read naive swarms times in another zone than its parent)."""
    saved = os.environ.get("TZ")
    yield
    if saved is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = saved
    time.tzset()


def test_a_change_of_time_zone_reads_naive_timestamps_again(
    workspace: Path, keep_fresh: None, monkeypatch: pytest.MonkeyPatch, restore_zone: None
) -> None:
    write_swarms(workspace, "Swarm")  # naive timestamps: local time
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    scan(workspace)
    in_utc = scan(workspace)[0].last_autosave
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    (record,) = scan(workspace)
    assert record.last_autosave == scan(workspace, index=False)[0].last_autosave
    assert in_utc is not None and record.last_autosave is not None
    assert in_utc - record.last_autosave == timedelta(hours=5, minutes=30)


def test_a_temp_file_left_by_a_writer_that_died_is_removed(
    workspace: Path, keep_fresh: None
) -> None:
    write_ours(workspace, "alpha")
    path = index_file(workspace)
    path.parent.mkdir(parents=True, mode=0o700)
    stale = path.parent / f".{path.name}.99999.0.tmp"
    recent = path.parent / f".{path.name}.99998.0.tmp"
    other = path.parent / ".someone-else.1.0.tmp"
    for left in (stale, recent, other):
        left.write_bytes(b"half an index")
    old = time.time() - summary.STALE_TEMP_S - 60
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    scan(workspace)
    assert path.exists() and not stale.exists()
    assert recent.exists() and other.exists()  # maybe still being written; not ours
