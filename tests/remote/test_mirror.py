"""The mirror of an s3:// root against what a store may hold: keys that would climb out of the
mirror, keys too long or too deep, huge objects, plain-text keys written by swarms, agents
removed from the store, and leases that live and expire."""

from __future__ import annotations

import os
import time
from pathlib import Path

import orjson
import pytest

from agent_tui.format.lock import lock_holder
from agent_tui.store import lease as lease_module
from agent_tui.store import mirror as mirror_module
from agent_tui.store.lease import Lease
from agent_tui.store.mirror import Mirror
from agent_tui.store.s3 import S3Objects
from agent_tui.workspace import read_agent

LEAKED = "sk-live-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AGENT_TUI_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def raw_put(s3_endpoint: str, root: str, key: str, body: bytes) -> None:
    """A PUT of any key at all (obstore refuses to send some of these names)."""
    import boto3

    bucket, _, prefix = root[len("s3://") :].partition("/")
    client = boto3.client("s3", endpoint_url=s3_endpoint)
    client.put_object(Bucket=bucket, Key=f"{prefix}/{key}", Body=body)


def every_file(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() or p.is_symlink()]


def test_hostile_keys_are_skipped_and_nothing_lands_outside_the_mirror(
    s3_root: str, s3_endpoint: str, tmp_path: Path
) -> None:
    hostile = [
        "agents/../../../outside.txt",
        "agents/x/../../escape.json",
        "agents//double/config.json",
        "agents/" + "n" * 300 + "/config.json",
        "/".join(["agents", *["d"] * 14, "deep.txt"]),
        ".mirror.json",
    ]
    for key in hostile:
        raw_put(s3_endpoint, s3_root, key, b"{}")
    raw_put(s3_endpoint, s3_root, "agents/fine-1/config.json", b'{"agent_name": "fine"}')
    mirror = Mirror(s3_root)
    result = mirror.sync()
    assert result.skipped_names == len(hostile)
    names = sorted(p.relative_to(mirror.folder).as_posix() for p in every_file(mirror.folder))
    assert names == [".mirror.json", ".source", "agents/fine-1/config.json"]
    assert orjson.loads((mirror.folder / ".mirror.json").read_bytes())["url"] == s3_root
    assert not (tmp_path / "outside.txt").exists() and not list(tmp_path.rglob("escape.json"))


def test_plain_text_keys_from_swarms_never_reach_the_mirror(
    s3_root: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", LEAKED)
    objects = S3Objects(s3_root)
    config = {"agent_name": "sw", "llm_api_key": LEAKED, "model_name": "gpt-4o"}
    objects.put("agents/sw-1/config.json", orjson.dumps(config))
    objects.put("agents/sw-1/error.txt", f"401 Incorrect API key provided: {LEAKED}".encode())
    objects.put("agents/sw-1/notes.md", f"the key is {LEAKED}\n".encode())
    mirror = Mirror(s3_root)
    mirror.sync()
    files = every_file(mirror.folder / "agents" / "sw-1")
    assert len(files) == 3
    for path in files:
        assert LEAKED not in path.read_text(), path
        assert (path.stat().st_mode & 0o777) == 0o600
    assert (mirror.folder.stat().st_mode & 0o777) == 0o700
    assert orjson.loads((mirror.folder / "agents/sw-1/config.json").read_bytes())["model_name"]


def test_a_huge_object_is_counted_not_copied(s3_root: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mirror_module, "MAX_OBJECT_BYTES", 1000)
    objects = S3Objects(s3_root)
    objects.put("agents/big-1/config.json", b'{"agent_name": "big"}')
    objects.put("agents/big-1/agent.log", b"x" * 5000)
    mirror = Mirror(s3_root)
    result = mirror.sync()
    assert result.skipped_large == 1
    assert not (mirror.folder / "agents/big-1/agent.log").exists()
    assert (mirror.folder / "agents/big-1/config.json").is_file()


def test_an_agent_removed_from_the_store_leaves_the_mirror(s3_root: str) -> None:
    objects = S3Objects(s3_root)
    for name in ("a-1", "b-1"):
        objects.put(f"agents/{name}/config.json", b'{"agent_name": "x"}')
        objects.create(f"agents/{name}/journal/000000000001.json", b'{"seq": 1, "kind": "task"}\n')
    mirror = Mirror(s3_root)
    mirror.sync()
    assert (mirror.folder / "agents/a-1/journal.jsonl").read_bytes().count(b"\n") == 1
    objects.delete([info.key for info in objects.list("agents/a-1/")])
    result = mirror.sync()
    assert mirror.folder / "agents/a-1" in result.changed
    assert not (mirror.folder / "agents/a-1").exists()
    assert (mirror.folder / "agents/b-1/journal.jsonl").is_file()


def test_a_live_lease_reads_as_running_until_it_expires(
    s3_root: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lease_module, "CLOCK_SLACK_S", 0.0)
    objects = S3Objects(s3_root)
    meta = {"status": "running", "loop_count": 2, "agent_name": "busy", "agent_id": "1"}
    config = {"agent_name": "busy", "_autosave_metadata": meta}
    objects.put("agents/busy-1/config.json", orjson.dumps(config))
    objects.put("agents/busy-1/agent.lock", Lease.mine(1.5, "r1").encode())
    mirror = Mirror(s3_root)
    mirror.sync()
    folder = mirror.folder / "agents/busy-1"
    assert lock_holder(folder) is not None and f"pid {os.getpid()}" in lock_holder(folder)
    assert read_agent(folder).status == "running"
    time.sleep(2.0)
    mirror.sync()
    assert lock_holder(folder) is None
    record = read_agent(folder)
    assert record.status == "interrupted" and "process died mid-run" in record.problems
    mirror.close()


def test_a_live_runs_new_steps_are_fetched_alone_and_never_twice(s3_root: str) -> None:
    objects = S3Objects(s3_root)
    objects.put("agents/live-1/config.json", b'{"agent_name": "live"}')

    def step(seq: int) -> None:
        record = {"seq": seq, "kind": "step", "loop_count": seq}
        objects.create(f"agents/live-1/journal/{seq:012d}.json", orjson.dumps(record) + b"\n")

    def seqs() -> list[int]:
        data = (mirror.folder / "agents/live-1/journal.jsonl").read_bytes()
        return [orjson.loads(line)["seq"] for line in data.splitlines()]

    for seq in (1, 2, 3):
        step(seq)
    mirror = Mirror(s3_root)
    mirror.sync()
    assert seqs() == [1, 2, 3]
    fetched: list[str] = []
    real_get = mirror.objects.get
    mirror.objects.get = lambda key: fetched.append(key) or real_get(key)  # type: ignore[method-assign]
    step(4)
    step(5)
    mirror.sync()
    assert seqs() == [1, 2, 3, 4, 5]
    assert [k for k in fetched if "/journal/" in k] == [
        "agents/live-1/journal/000000000004.json",
        "agents/live-1/journal/000000000005.json",
    ]
    # A run on this host appended step 6 to the mirror's journal itself: not appended again.
    with open(mirror.folder / "agents/live-1/journal.jsonl", "ab") as handle:
        handle.write(orjson.dumps({"seq": 6, "kind": "step"}) + b"\n")
    step(6)
    step(7)
    mirror.sync()
    assert seqs() == [1, 2, 3, 4, 5, 6, 7]
    # The run's end: compacted into journal.jsonl, the step objects removed.
    lines = b"".join(orjson.dumps({"seq": n, "kind": "step"}) + b"\n" for n in range(1, 8))
    objects.put("agents/live-1/journal.jsonl", lines)
    objects.delete([i.key for i in objects.list("agents/live-1/journal/")])
    mirror.sync()
    assert seqs() == [1, 2, 3, 4, 5, 6, 7]
    mirror.close()
