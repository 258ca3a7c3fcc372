"""Every reader and writer against the hostile corpus (tests/fixtures/hostile_corpus.py), each in a real
child process with a time bound: 0 hangs, 0 tracebacks, 0 leaked keys on stdout or stderr, and
0 bytes changed outside the corpus."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from children import agent_tui
from hostile_corpus import LEAKED_KEY, build, outside_digest

from agent_tui.tui.agent_table import AgentTable
from agent_tui.tui.app import AgentTUI

TIMEOUT = 60


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("hostile")
    return build(base)


def check(result, argv: list[str]) -> None:
    said = result.stdout + result.stderr
    assert "Traceback" not in said, (argv, said[-2000:])
    assert LEAKED_KEY not in said, argv
    assert result.returncode in (0, 1), (argv, result.returncode, said[-500:])


@pytest.mark.slow
def test_every_command_on_every_hostile_folder(
    corpus, child_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**child_env, "WORKSPACE_DIR": str(corpus.root), "AGENT_TUI_MAX_FILE_MB": "1"}
    before = outside_digest(corpus.outside)
    commands = [["ls"], ["ls", "--json"], ["clean", "--older-than", "0s", "--json"]]
    for folder in corpus.folders.values():
        target = os.fsdecode(os.fsencode(folder))
        commands += [
            ["show", target],
            ["show", target, "--json"],
            ["diff", target, "--steps", "0", "1"],
            ["resume", target, "continue", "--model", "offline/demo", "--max-loops", "1"],
        ]
    for argv in commands:
        check(agent_tui(*argv, env=env, timeout=TIMEOUT), argv)
    assert outside_digest(corpus.outside) == before
    # The swarms folder keeps its own key; nothing we wrote (resumes included) holds it.
    leaky = corpus.folders["leaky-swarms"]
    for path in corpus.agents.rglob("*"):
        ours = leaky not in path.parents and path.is_file() and not path.is_symlink()
        if ours and path.stat().st_size < 4 * 1024 * 1024:
            assert LEAKED_KEY.encode() not in path.read_bytes(), path
    # Clean everything it may: the outside survives, links are removed as links.
    trash = tmp_path / "trash"
    for argv in (
        ["clean", "--older-than", "0s", "--trash", str(trash), "--yes"],
        ["clean", "--older-than", "0s", "--yes"],
    ):
        check(agent_tui(*argv, env=env, timeout=TIMEOUT), argv)
    assert outside_digest(corpus.outside) == before
    assert (corpus.outside / "keep" / "precious.txt").read_text("utf-8") == "do not delete\n"


async def test_every_app_tab_on_every_hostile_folder(tmp_path: Path) -> None:
    corpus = build(tmp_path)
    before = outside_digest(corpus.outside)
    app = AgentTUI(workspace_dir=corpus.root, watch=False)
    async with app.run_test(size=(160, 45)) as pilot:
        table = app.query_one(AgentTable)
        for _ in range(200):
            await pilot.pause(0.05)
            if table.row_count >= len(corpus.folders) - 2:
                break
        assert table.row_count >= len(corpus.folders) - 2
        for row in range(table.row_count):
            table.move_cursor(row)
            for tab in ("tab-config", "tab-state", "tab-diff", "tab-config"):
                app.tabs.active = tab
                await pilot.pause(0.02)
            assert app.is_running
            screen = app.export_screenshot()
            assert LEAKED_KEY not in screen
    assert outside_digest(corpus.outside) == before
