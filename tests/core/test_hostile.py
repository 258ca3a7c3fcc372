"""Hostile workspace contents: random, truncated, deeply nested, huge, non-UTF-8 and wrong-typed
files; swarms files with missing keys; symlink loops; files where folders belong. The reader,
the diff and load() report each clearly and never crash."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent_tui import Agent
from agent_tui import diff as jdiff
from agent_tui import workspace as ws
from agent_tui.agent import StateFileError
from agent_tui.format.layout import STATUSES

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
KEYS = [
    "_autosave_metadata",
    "loop_count",
    "timestamp",
    "agent_name",
    "agent_id",
    "status",
    "short_memory",
    "conversation",
    "journal_seq",
    "role",
    "content",
    "model_name",
    "format",
    "schema_version",
    "messages",
    "kind",
    "seq",
]
# Every document reaches the diff through orjson, which holds integers in 64 bits.
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), inner, max_size=6)
    ),
    max_leaves=40,
)
garbage = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
    json_values.map(lambda v: json.dumps(v).encode()[: max(0, len(json.dumps(v)) // 2)]),
    st.just(b"[" * 5000 + b"]" * 5000),
    st.just(b"\xff\xfe\x00{"),
    st.just(b"{}"),
    st.just(b""),
)
FILES = ["config.json", "probe_state.json", "journal.jsonl", "agent-" + "a" * 32 + "_state.json"]

_fresh = {"n": 0}


def _folder(root: Path) -> Path:
    _fresh["n"] += 1
    folder = root / "agents" / f"probe-{_fresh['n']:06d}"
    folder.mkdir(parents=True)
    return folder


def _read_everything(folder: Path) -> ws.AgentRecord:
    record = ws.read_agent(folder)
    assert record.status in STATUSES
    for call in (ws.load_conversation, ws.step_history, ws.load_state, ws.load_config):
        try:
            call(folder)
        except (ws.WorkspaceFileError, ws.WorkspaceLookupError) as exc:
            assert str(exc)  # a clear, non-empty reason
    return record


@SETTINGS
@given(files=st.dictionaries(st.sampled_from(FILES), garbage, min_size=1))
def test_reader_survives_random_files(tmp_path: Path, files: dict[str, bytes]) -> None:
    folder = _folder(tmp_path)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    record = _read_everything(folder)
    config = files.get("config.json")
    if config is not None:
        try:
            ok = isinstance(json.loads(config), dict)
        except (ValueError, RecursionError):
            ok = False
        if not ok:
            assert record.status == "broken" and record.problems, record


@SETTINGS
@given(data=garbage)
def test_load_reports_bad_state_files(tmp_path: Path, data: bytes) -> None:
    path = _folder(tmp_path) / "probe_state.json"
    path.write_bytes(data)
    agent = Agent(agent_name="probe", workspace_dir=tmp_path / "other")
    try:
        agent.load(path)
    except StateFileError as exc:
        assert str(path) in str(exc)
    assert path.read_bytes() == data  # the reader never rewrites what it reads


@SETTINGS
@given(old=json_values, new=json_values)
def test_diff_never_crashes_and_is_empty_for_equal_documents(old, new) -> None:
    changes = jdiff.diff(old, new)
    assert jdiff.diff(old, old) == []
    jdiff.render_text(changes, color=True)
    json.loads(jdiff.to_json(changes))
    if old != new:
        assert changes


@SETTINGS
@given(
    memory=st.lists(
        st.fixed_dictionaries(
            {},
            optional={
                "role": scalars,
                "content": json_values,
                "timestamp": scalars,
                "message_id": scalars,
            },
        )
        | scalars,
        max_size=6,
    )
    | scalars,
    meta=st.none() | st.dictionaries(st.sampled_from(KEYS), scalars, max_size=4) | scalars,
)
def test_swarms_files_with_missing_or_wrong_keys(tmp_path: Path, memory, meta) -> None:
    folder = _folder(tmp_path)
    config = {"agent_name": "swarm-probe", "short_memory": memory, "_autosave_metadata": meta}
    (folder / "config.json").write_text(json.dumps(config))
    (folder / ("agent-" + "b" * 32 + "_state.json")).write_text(json.dumps({"agent_name": 3}))
    _read_everything(folder)


def test_structural_oddities(tmp_path: Path) -> None:
    agents = tmp_path / "agents"
    agents.mkdir()
    (agents / "loop-a").symlink_to(agents / "loop-b")
    (agents / "loop-b").symlink_to(agents / "loop-a")
    (agents / "dangling").symlink_to(tmp_path / "nowhere")
    (agents / "a-file").write_text("not a folder")
    folder_config = agents / "config-is-folder"
    (folder_config / "config.json").mkdir(parents=True)
    inner_loop = agents / "inner-loop"
    inner_loop.mkdir()
    (inner_loop / "self").symlink_to(inner_loop)
    (inner_loop / "config.json").write_text('{"_autosave_metadata": {"loop_count": "many"}}')
    huge = agents / "huge"
    huge.mkdir()
    with open(huge / "config.json", "wb") as handle:  # 40 MB of one JSON string
        handle.write(b'{"system_prompt": "' + b"x" * (40 * 1024 * 1024) + b'"}')
    records = {r.folder.name: r for r in ws.scan(tmp_path)}
    assert set(records) == {
        "loop-a",
        "loop-b",
        "dangling",
        "a-file",
        "config-is-folder",
        "inner-loop",
        "huge",
    }
    for name in ("loop-a", "loop-b", "dangling", "a-file"):
        assert records[name].status == "broken" and records[name].problems, records[name]
    assert records["config-is-folder"].problems == ["config.json is a folder, expected a file"]
    assert records["inner-loop"].size_bytes < 10_000  # the self-link was not followed
    assert records["huge"].size_bytes > 40 * 1024 * 1024
    for folder in agents.iterdir():
        _read_everything(folder)


def test_agents_path_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "agents").write_text("oops")
    with pytest.raises(ws.WorkspaceFileError, match="is a file, expected the agents folder"):
        ws.scan(tmp_path)
    agent = Agent(agent_name="blocked", workspace_dir=tmp_path)
    with pytest.raises(OSError):
        agent._get_agent_workspace_dir()
    assert (tmp_path / "agents").read_text() == "oops"


def test_permission_denied() -> None:
    # Root reads everything: drop the effective uid for the read (the real uid stays root, so
    # it can be taken back). The folders on the way must be open to that user.
    base = Path(tempfile.mkdtemp(prefix="agent-tui-perm-"))
    try:
        folder = base / "agents" / "secret-agent"
        folder.mkdir(parents=True)
        for path in (base, base / "agents", folder):
            os.chmod(path, 0o755)
        (folder / "config.json").write_text("{}")
        os.chmod(folder / "config.json", 0)
        as_root = os.geteuid() == 0
        if as_root:
            os.seteuid(65534)
        try:
            record = ws.read_agent(folder)
        finally:
            if as_root:
                os.seteuid(0)
        assert record.status == "broken"
        assert record.problems == ["config.json: permission denied"]
    finally:
        shutil.rmtree(base)
