"""Cleanup measures folders as ncdu does (apparent size and disk usage, a hard link once) and
reads ages and sizes in any unit; the CLI shows both sizes."""

from __future__ import annotations

import json
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from workspace_fixtures import write_ours

from agent_tui import cleanup, cli
from agent_tui.units import parse_age, parse_size

HUNDRED_MB = 100 << 20


def sparse_agent(root: Path, name: str = "sparse", status: str = "error") -> Path:
    """An agent folder holding a 100 MB sparse file: 100 MB apparent, next to nothing on disk."""
    folder = write_ours(root, name, status=status)
    with open(folder / "scratch.bin", "wb") as out:
        out.truncate(HUNDRED_MB)
    return folder


def test_usage_tells_apparent_size_from_disk_usage(workspace: Path) -> None:
    folder = sparse_agent(workspace)
    measured = cleanup.usage(folder)
    assert HUNDRED_MB < measured.apparent < HUNDRED_MB + (1 << 20)
    assert measured.disk < 1 << 20


def test_usage_counts_a_hard_link_once(workspace: Path) -> None:
    folder = write_ours(workspace, "linked")
    before = cleanup.usage(folder)
    (folder / "data.bin").write_bytes(os.urandom(1 << 20))
    os.link(folder / "data.bin", folder / "same-data.bin")
    after = cleanup.usage(folder)
    assert after.apparent - before.apparent == 1 << 20
    assert 1 << 20 <= after.disk - before.disk < 2 << 20


def test_clean_dry_run_shows_size_and_disk_usage(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = sparse_agent(workspace)
    assert cli.main(["clean", "--status", "error"]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = lines[0].split()
    assert header[:4] == ["FOLDER", "STATUS", "SIZE", "DISK"]
    row = next(line for line in lines if line.startswith(folder.name))
    assert re.search(r" 100\.0 MB +\d+\.\d KB ", row), row  # the size, then the disk usage
    total = next(line for line in lines if line.startswith("1 folder, "))
    assert total.startswith("1 folder, 100.0 MB (") and " KB on disk) to free" in total

    assert cli.main(["clean", "--status", "error", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    [item] = document["items"]
    assert item["apparent_bytes"] > HUNDRED_MB > 100 * item["disk_bytes"]
    assert document["total_disk_bytes"] == item["disk_bytes"]
    assert folder.exists()


@pytest.mark.parametrize(
    ("text", "age"),
    [
        ("30m", timedelta(minutes=30)),
        ("12h", timedelta(hours=12)),
        ("7d", timedelta(days=7)),
        ("2W", timedelta(weeks=2)),
        ("90s", timedelta(seconds=90)),
        ("3", timedelta(days=3)),
    ],
)
def test_ages_in_any_unit(text: str, age: timedelta) -> None:
    assert parse_age(text) == age


@pytest.mark.parametrize(
    ("text", "size"),
    [("10MB", 10 << 20), ("10mb", 10 << 20), ("500K", 500 << 10), ("2g", 2 << 30), ("7", 7)],
)
def test_sizes_in_any_unit(text: str, size: int) -> None:
    assert parse_size(text) == size


def test_bad_ages_and_sizes_name_the_accepted_forms() -> None:
    with pytest.raises(ValueError, match=r"'soon' is not an age; .*30m, 12h, 7d or 2w"):
        parse_age("soon")
    with pytest.raises(ValueError, match=r"'10XB' is not a size; .*500K, 10MB or 2G"):
        parse_size("10XB")
