"""``agent-tui export`` and ``agent_tui.export``: every run of a real agent as Markdown, HTML
and JSON; the step cut; secrets masked in every format and sink; hostile text inert; ``-o``
written atomically and never through a link, into a FIFO or over a folder."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from children import agent_tui
from test_runs_history import KEY, SECRET_VAR, only_folder, resumed_agent, run_agent
from workspace_fixtures import ESCAPES, control_chars, write_swarms

from agent_tui.export import export_agent, export_document, render

FORMATS = ("md", "html", "json")


def export(env: dict[str, str], *argv: str) -> str:
    done = agent_tui("export", *argv, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1 and done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith("agent-tui: error: ")
    return line


@pytest.fixture
def two_runs(workspace: Path, child_env: dict[str, str]) -> Path:
    """An agent run twice under one name (a fresh run, then a resumed one)."""
    return resumed_agent(child_env, workspace, "planner")


# ------------------------------------------------------------------------- what is in it
def test_every_format_holds_both_runs_in_order_with_tool_calls_and_results(
    two_runs: Path, child_env: dict[str, str]
) -> None:
    document = json.loads(export(child_env, "planner", "--format", "json"))
    assert document["agent"]["name"] == "planner"
    assert document["agent"]["folder"] == str(two_runs)
    runs = document["runs"]
    assert [r["task"] for r in runs] == ["First task", "Second task"]
    assert [r["status"] for r in runs] == ["completed", "completed"]
    assert [(r["first_step"], r["last_step"]) for r in runs] == [(1, 2), (3, 4)]
    roles = [m["role"] for m in runs[0]["messages"]]
    assert roles == ["system", "user", "assistant", "tool", "assistant"]
    assert [m["role"] for m in runs[1]["messages"]] == ["user", "assistant", "tool", "assistant"]
    call = runs[0]["messages"][2]["tool_calls"][0]
    assert call["function"]["name"] == "lookup"
    result = runs[0]["messages"][3]
    assert result["name"] == "lookup" and result["content"].startswith("result for first task")
    second_result = runs[1]["messages"][2]["content"]

    markdown = export(child_env, "planner")  # Markdown is the default
    assert markdown.startswith("# planner\n")
    first, second = markdown.index("## Run 1: First task"), markdown.index("## Run 2: Second task")
    assert first < second
    assert "- status: completed" in markdown
    assert "### tool lookup (step 1)" in markdown and "Tool call lookup (" in markdown
    assert f"```text\n{result['content']}\n```" in markdown
    assert '```json\n{\n  "term": "first task' in markdown  # arguments, indented
    assert second_result in markdown[second:]

    page = export(child_env, "planner", "--format", "html")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<h2>Run 1: First task</h2>" in page and "<h2>Run 2: Second task</h2>" in page
    assert result["content"] in page and second_result in page
    assert "tool call <code>lookup</code>" in page
    # Self-contained: nothing to load, nothing to run.
    assert not re.search(r"<(script|link|img|iframe)\b|\bsrc=|\bhref=", page, re.I)


def test_the_library_and_the_command_give_the_same_bytes(
    two_runs: Path, child_env: dict[str, str], tmp_path: Path
) -> None:
    for fmt in FORMATS:
        out = tmp_path / f"planner.{fmt}"
        done = agent_tui("export", "planner", "--format", fmt, "-o", str(out), env=child_env)
        assert done.returncode == 0 and done.stdout == ""
        assert f"exported {fmt} to {out}" in done.stderr
        assert out.read_bytes() == export_agent(two_runs, fmt)
        assert render(export_document(two_runs), fmt) == out.read_bytes()
    # Atomic: a temp file beside the output, renamed; none left behind.
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


# ------------------------------------------------------------------------------ step cut
def test_step_n_cuts_every_format_and_a_step_beyond_the_last_is_named(
    two_runs: Path, child_env: dict[str, str]
) -> None:
    document = json.loads(export(child_env, "planner", "--format", "json", "--step", "3"))
    assert document["upto_step"] == 3
    first, second = document["runs"]
    assert first["last_step"] == 2 and second["last_step"] == 3 and second["steps"] == 1
    steps = [m.get("step") for run in document["runs"] for m in run["messages"]]
    assert 3 in steps and 4 not in steps
    assert [m["role"] for m in second["messages"]] == ["user", "assistant", "tool"]
    assert second["status"] == "completed"  # the run itself ended so; the export stops early

    document = json.loads(export(child_env, "planner", "--format", "json", "--step", "1"))
    (run,) = document["runs"]
    assert run["task"] == "First task" and run["last_step"] == 1
    markdown = export(child_env, "planner", "--step", "1")
    assert "## Run 2" not in markdown and "(step 2)" not in markdown
    assert "### tool lookup (step 1)" in markdown
    assert "Second task" not in export(child_env, "planner", "--format", "html", "--step", "1")

    line = one_line_error(agent_tui("export", "planner", "--step", "9", env=child_env))
    assert "step 9 is beyond the last step" in line and "(the last step is 4)" in line


# ------------------------------------------------------------------------------- secrets
def test_a_secret_said_in_a_run_is_masked_in_every_format_and_file(
    workspace: Path, child_env: dict[str, str], tmp_path: Path
) -> None:
    # The run knows no secret, so its journal keeps the key as it was said (the task, and
    # the user's message)...
    assert run_agent(child_env, "leaky", f"Log in with {KEY} please") == 0
    journal = (only_folder(workspace) / "journal.jsonl").read_text()
    assert journal.count(KEY) >= 2
    # ...and an export made where it is a key masks it in every format, on stdout and in files.
    env = {**child_env, SECRET_VAR: KEY}
    for fmt in FORMATS:
        out = export(env, "leaky", "--format", fmt)
        assert KEY not in out and "[REDACTED]" in out
        assert "Log in with" in out
        target = tmp_path / f"leaky.{fmt}"
        done = agent_tui("export", "leaky", "--format", fmt, "-o", str(target), env=env)
        assert done.returncode == 0 and KEY not in done.stderr
        assert KEY not in target.read_text()
    assert KEY in export(child_env, "leaky", "--format", "json")  # the check can fail


def test_a_swarms_agent_exports_its_run_with_its_plain_text_key_masked(
    workspace: Path, child_env: dict[str, str]
) -> None:
    folder = write_swarms(workspace, "Bond-Agent", loop_count=1)
    config = json.loads((folder / "config.json").read_text())
    config["llm_api_key"] = KEY  # swarms keeps it in plain text
    config["short_memory"][2]["content"] = f"A bond is a loan to an issuer. My key: {KEY}"
    (folder / "config.json").write_text(json.dumps(config))
    for fmt in FORMATS:
        out = export(child_env, "Bond-Agent", "--format", fmt)
        assert KEY not in out
        assert "What is a bond?" in out and "A bond is a loan to an issuer." in out
    (run,) = json.loads(export(child_env, "Bond-Agent", "--format", "json"))["runs"]
    assert [m["role"] for m in run["messages"]] == ["system", "user", "assistant"]
    assert run["status"] == "completed"
    line = one_line_error(agent_tui("export", "Bond-Agent", "--step", "1", env=child_env))
    assert "swarms workspace" in line


# ------------------------------------------------------------------------------- hostile
def test_hostile_names_and_messages_come_out_inert(
    workspace: Path, child_env: dict[str, str]
) -> None:
    name = f"evil{ESCAPES}\n<script>alert('name')</script>"
    task = (
        f"<script>alert(1)</script>{ESCAPES}\n```\n## Run 99: forged\n<img src=x onerror=alert(2)>"
    )
    assert run_agent(child_env, name, task) == 0
    folder = str(only_folder(workspace))

    page = export(child_env, folder, "--format", "html")
    assert not re.search(r"<\s*(script|img)", page, re.I)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page
    assert control_chars(page) == set()

    markdown = export(child_env, folder)
    assert not re.search(r"<\s*(script|img)", markdown, re.I)
    assert control_chars(markdown) == set()
    # The forged heading and fence stay inside the quoted message: one run, one heading.
    (heading,) = re.findall(r"^## .*", markdown, re.M)
    assert heading.startswith("## Run 1: &lt;script&gt;alert(1)&lt;/script&gt;")
    assert "> ## Run 99: forged" in markdown
    assert markdown.splitlines()[0].startswith("# evil") and "\n<" not in markdown

    document = json.loads(export(child_env, folder, "--format", "json"))
    assert document["agent"]["name"] == name  # JSON keeps the text, as JSON escapes
    assert document["runs"][0]["task"] == task


# -------------------------------------------------------------------------------- output
def tree_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_output_onto_a_link_a_fifo_or_a_folder_is_refused_and_nothing_changes(
    two_runs: Path, child_env: dict[str, str], tmp_path: Path
) -> None:
    target = tmp_path / "precious.txt"
    target.write_text("do not touch\n")
    before = tree_hash(target)
    link = tmp_path / "export.md"
    link.symlink_to(target)
    line = one_line_error(agent_tui("export", "planner", "-o", str(link), env=child_env))
    assert f"export not written: {link} is a symbolic link" in line and "left alone" in line
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert tree_hash(target) == before

    dangling = tmp_path / "dangling.md"
    dangling.symlink_to(tmp_path / "nowhere")
    one_line_error(agent_tui("export", "planner", "-o", str(dangling), env=child_env))
    assert not (tmp_path / "nowhere").exists()

    fifo = tmp_path / "pipe.md"
    os.mkfifo(fifo)
    line = one_line_error(
        agent_tui("export", "planner", "-o", str(fifo), env=child_env, timeout=30)
    )
    assert "FIFO" in line

    folder = tmp_path / "a-folder"
    folder.mkdir()
    line = one_line_error(agent_tui("export", "planner", "-o", str(folder), env=child_env))
    assert "is a folder" in line and list(folder.iterdir()) == []

    line = one_line_error(
        agent_tui("export", "planner", "-o", str(tmp_path / "no" / "x.md"), env=child_env)
    )
    assert "No such file or directory" in line


def test_output_replaces_a_regular_file_and_may_sit_in_a_linked_folder(
    two_runs: Path, child_env: dict[str, str], tmp_path: Path
) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "via").symlink_to(real)
    out = tmp_path / "via" / "planner.md"
    out.write_text("an older export\n")
    assert agent_tui("export", "planner", "-o", str(out), env=child_env).returncode == 0
    assert (real / "planner.md").read_text().startswith("# planner\n")
    assert not (real / "planner.md").is_symlink()


def test_history_and_export_never_load_the_model_library(
    two_runs: Path, child_env: dict[str, str]
) -> None:
    code = (
        "import sys\n"
        "from agent_tui import cli\n"
        "for argv in (['history', 'planner'], ['export', 'planner', '--format', 'html']):\n"
        "    assert cli.main(argv) == 0\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'litellm'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=child_env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"
