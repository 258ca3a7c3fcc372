"""A run on an s3:// root (moto on loopback): what lands in the store, and what a reader on
another machine (a fresh mirror) sees of it."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from agent_tui import Agent
from agent_tui.store.mirror import Mirror, mirror_folder
from agent_tui.store.s3 import S3Objects
from agent_tui.workspace import load_conversation, read_agent


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("AGENT_TUI_CACHE_DIR", str(folder))
    return folder


def keys(root: str) -> list[str]:
    return sorted(info.key for info in S3Objects(root).list())


def test_a_run_writes_its_objects_and_a_fresh_mirror_reads_it_as_a_local_run(
    s3_root: str, cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent = Agent(agent_name="remote-one", model_name="offline/demo", workspace_dir=s3_root)
    answer = agent.run("count the files")
    folder_name = f"agents/{Path(agent._get_agent_workspace_dir()).name}"
    stored = keys(s3_root)
    assert f"{folder_name}/config.json" in stored
    assert f"{folder_name}/journal.jsonl" in stored
    assert f"{folder_name}/remote-one_state.json" in stored
    assert not [k for k in stored if "/journal/" in k]  # compacted at the end of the run
    lease = orjson.loads(S3Objects(s3_root).get(f"{folder_name}/agent.lock")[0])
    assert lease["released"] is True

    # Another machine: a cache of its own.
    monkeypatch.setenv("AGENT_TUI_CACHE_DIR", str(tmp_path / "other-cache"))
    mirror = Mirror(s3_root)
    result = mirror.sync()
    folder = mirror_folder(s3_root) / folder_name
    assert folder in result.changed
    record = read_agent(folder)
    assert record.status == "completed" and record.loop_count == agent.loop_count
    conversation = load_conversation(folder)
    assert conversation[-1]["content"] == answer
    again = mirror.sync()
    assert again.fetched == 0 and not again.changed  # nothing changed: nothing fetched
    mirror.close()


def test_a_run_started_in_a_mirror_writes_to_its_store(s3_root: str) -> None:
    """The app starts a new run in the selected root's folder: for a remote root, its mirror;
    the run must land in the store, not stay in the cache."""
    mirror = Mirror(s3_root)
    mirror.sync()
    agent = Agent(agent_name="from-app", model_name="offline/demo", workspace_dir=mirror.folder)
    agent.run("hello")
    name = Path(agent._get_agent_workspace_dir()).name
    assert f"agents/{name}/config.json" in keys(s3_root)
    mirror.close()
