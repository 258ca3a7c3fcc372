"""The command line on an s3:// root (moto on loopback): run, ls, show, history, search, export,
diff, fork, resume and clean, each reading the store through a mirror of its own cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from children import agent_tui

from agent_tui.store.s3 import S3Objects


@pytest.fixture
def env(s3_root: str, tmp_path: Path) -> dict[str, str]:
    import os

    environment = dict(os.environ)
    environment["WORKSPACE_DIR"] = s3_root
    environment["AGENT_TUI_CACHE_DIR"] = str(tmp_path / "cache")
    environment["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    environment["LITELLM_OFFLINE_MODE"] = "true"
    return environment


def ok(*argv: str, env: dict[str, str]) -> str:
    done = agent_tui(*argv, env=env)
    assert done.returncode == 0, (argv, done.stdout, done.stderr)
    return done.stdout


def folders(root: str) -> set[str]:
    return {info.key.split("/")[1] for info in S3Objects(root).list("agents/")}


def test_every_command_works_on_an_s3_root(
    s3_root: str, env: dict[str, str], tmp_path: Path
) -> None:
    ok("run", "--name", "alpha", "find the quokka in the files", env=env)
    done = agent_tui("run", "--name", "beta", "--model", "offline/demo?fail_at=1", "fail", env=env)
    assert done.returncode != 0
    assert len(folders(s3_root)) == 2

    listed = json.loads(ok("ls", "--json", env=env))
    status = {row["name"]: row["status"] for row in listed}
    assert status == {"alpha": "completed", "beta": "error"}
    shown = ok("show", "alpha", env=env)
    assert f"folder:        {s3_root}/agents/alpha-" in shown  # the address, not the cache
    assert ok("ls", env=env).rstrip().endswith(f"in {s3_root}/agents")
    history = json.loads(ok("history", "alpha", "--json", env=env))
    assert len(history) == 1 and history[0]["status"] == "completed"
    hits = json.loads(ok("search", "quokka", "--json", env=env))
    assert hits and hits[0]["agent"].startswith("alpha")
    exported = tmp_path / "alpha.md"
    ok("export", "alpha", "-o", str(exported), env=env)
    assert "quokka" in exported.read_text()
    assert "beta" in ok("diff", "alpha", "beta", env=env)

    forked = json.loads(ok("fork", "alpha", "--step", "1", "--name", "alpha-b", "--json", env=env))
    assert forked["forked_from"]["step"] == 1
    assert len(folders(s3_root)) == 3  # the fork is in the store, not only in this cache

    # Another machine (a cache of its own) continues the fork, and sees it.
    env2 = {**env, "AGENT_TUI_CACHE_DIR": str(tmp_path / "cache-2")}
    ok("resume", "alpha-b", "and then count them", env=env2)
    listed = {row["name"]: row for row in json.loads(ok("ls", "--json", env=env2))}
    assert listed["alpha-b"]["status"] == "completed"
    assert listed["alpha-b"]["loop_count"] > 1

    # Clean the failed one only: its objects are gone, the others' all there.
    before = {k for k in (i.key for i in S3Objects(s3_root).list()) if "beta" not in k}
    ok("clean", "--status", "error", "--yes", env=env)
    after = {info.key for info in S3Objects(s3_root).list()}
    assert after == before
    assert not any("beta" in key for key in after)


def test_clean_on_an_s3_root_refuses_a_trash(env: dict[str, str], tmp_path: Path) -> None:
    done = agent_tui("clean", "--status", "error", "--yes", "--trash", str(tmp_path / "t"), env=env)
    assert done.returncode != 0 and "not moved to a trash" in done.stderr
