"""The scan read by other processes (agent_tui.workspace.scan_process): the same records as a
scan in this process, for every kind of folder, and nothing lost when the child fails."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from hostile_corpus import build
from workspace_fixtures import write_broken_corpus, write_ours, write_swarms

from agent_tui.workspace import scan
from agent_tui.workspace import scan_process as sp


def by_path(records) -> dict:
    return {r.path: r for r in records}


@pytest.fixture
def mixed(workspace: Path) -> Path:
    for n in range(sp.CHUNK * 2 + 7):  # more than two chunks: both processes take some
        write_ours(
            workspace, f"ours-{n:03d}", loop_count=n % 5, status=("completed", "error")[n % 2]
        )
    for n in range(5):
        write_swarms(workspace, f"Swarms-{n}", error_text="boom" if n % 2 else "")
    write_broken_corpus(workspace)
    return workspace


def streamed(root: Path) -> tuple[list[list], set[str]]:
    seen: set[str] = set()
    return list(sp.stream_scan(root, seen)), seen


def test_the_streamed_scan_reads_what_a_scan_here_reads(mixed: Path) -> None:
    expected = by_path(scan(mixed))
    chunks, seen = streamed(mixed)
    got = by_path(r for chunk in chunks for r in chunk)
    assert len(chunks) >= 3
    assert seen == set(got) == set(expected)
    for path, record in expected.items():
        assert got[path] == record, path
        assert got[path].last_autosave == record.last_autosave


def test_hostile_folders_read_alike(tmp_path: Path) -> None:
    """Links, FIFOs, devices, huge and foreign files: the same records, and no hang."""
    corpus = build(tmp_path)
    expected = by_path(scan(corpus.root))
    chunks, seen = streamed(corpus.root)
    assert by_path(r for chunk in chunks for r in chunk) == expected
    assert seen == set(expected)


def test_records_cross_as_plain_values_and_back(mixed: Path) -> None:
    for record in scan(mixed):
        row = sp.record_row(record)
        assert all(type(v) in (str, int, float, bool, list, type(None)) for v in row)
        assert sp.row_record(row) == record


def test_a_child_that_dies_leaves_the_rest_to_the_caller(
    mixed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The child killed after its first chunk: the stream ends, what came is right and is
    what ``seen`` lists (the caller reads the rest), and no process is left behind."""
    expected = by_path(scan(mixed))
    seen: set[str] = set()
    stream = sp.stream_scan(mixed, seen)
    first = next(stream)
    # The child and its fork, found by their command line.
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"agent_tui.workspace.scan_process" in cmdline and str(mixed).encode() in cmdline:
            os.kill(int(pid), signal.SIGKILL)
    rest = [r for chunk in stream for r in chunk]  # ends: the pipes closed
    got = by_path([*first, *rest])
    assert all(got[p] == expected[p] for p in got)
    assert seen == set(got) <= set(expected)
    assert not _scan_children(mixed)


def test_a_caller_that_stops_early_stops_the_child_and_its_fork(mixed: Path) -> None:
    stream = sp.stream_scan(mixed, set())
    next(stream)
    stream.close()
    assert not _scan_children(mixed)


def _scan_children(root: Path) -> list[str]:
    """Live scan processes of ``root`` (given a moment to go: a kill is not instant)."""
    for _ in range(40):
        found = [pid for pid in os.listdir("/proc") if pid.isdigit() and _is_scan_child(pid, root)]
        if not found:
            return found
        time.sleep(0.05)
    return found


def _is_scan_child(pid: str, root: Path) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return (
        b"agent_tui.workspace.scan_process" in cmdline
        and str(root).encode() in cmdline
        and state != "Z"
    )


async def test_the_app_reads_itself_what_the_scan_processes_did_not_send(
    mixed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scan processes that stop halfway (killed, out of memory): the list still holds every
    folder, read by the app itself."""
    from tui_fixtures import wait_until

    from agent_tui.tui import app as app_module

    def half(root, seen):
        records = scan(root)
        sent = records[: len(records) // 2]
        seen.update(r.path for r in sent)
        yield sent

    monkeypatch.setattr(app_module, "SCAN_PROCESS_MIN", 10)
    monkeypatch.setattr(app_module, "stream_scan", half)
    expected = {r.path for r in scan(mixed)}
    app = app_module.AgentTUI(workspace_dir=mixed, watch=False)
    async with app.run_test(size=(120, 30)) as pilot:
        assert await wait_until(pilot, lambda: app._scanned_once)
        assert set(app.table.records) == set(app.table.keys) == expected


def test_the_scan_processes_keep_the_summary_index_as_a_scan_does(
    mixed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both processes' summaries reach the index: after a streamed scan, a scan here parses
    only the configs a scan here would parse after its own scan (those never kept)."""
    from agent_tui.workspace import folder as folder_module
    from agent_tui.workspace import summary

    time.sleep(summary.RACY_NS / 1e9 + 0.1)  # the fixtures' configs are old enough to keep
    parsed: list[str] = []
    real = folder_module._read_config

    def counting(path: str, size: int):
        parsed.append(path)
        return real(path, size)

    monkeypatch.setattr(folder_module, "_read_config", counting)
    list(sp.stream_scan(mixed, set()))
    scan(mixed)
    after_streamed = set(parsed)
    parsed.clear()
    scan(mixed)
    assert after_streamed == set(parsed)
    assert len(after_streamed) < len(list((mixed / "agents").iterdir())) // 2
