"""The conventions of a well-made CLI: --version, a global --workspace in the usage,
"did you mean", a missing workspace said as such, output that fits the terminal, plurals,
no ``None`` on screen, and shell completion generated from the parser."""

from __future__ import annotations

import fcntl
import importlib.metadata
import json
import os
import re
import shlex
import shutil
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
from children import agent_tui
from workspace_fixtures import write_ours, write_swarms

from agent_tui import cli
from agent_tui.listing import SORTS

SCRIPT = Path(sys.executable).parent / "agent-tui"
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "agent_tui.cli"]


def exits(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``agent-tui ARGV`` in this process, for an argv that argparse ends with SystemExit."""
    with pytest.raises(SystemExit) as exited:
        cli.main(list(argv))
    out, err = capsys.readouterr()
    return exited.value.code or 0, out, err


# ------------------------------------------------------------------------- --version
def test_version_prints_the_installed_distributions_version() -> None:
    done = subprocess.run([*COMMAND, "--version"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    expected = importlib.metadata.version("agent-tui-workspace")
    assert done.stdout == f"agent-tui {expected}\n"
    assert done.stderr == ""


def test_version_without_an_installed_distribution(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def missing(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", missing)
    assert exits(capsys, "--version") == (0, "agent-tui 0+unknown\n", "")


# ------------------------------------------------------------------------- --workspace
def test_workspace_is_in_the_top_level_usage_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = exits(capsys, "--help")
    assert code == 0
    usage = out.split("\n\n")[0]
    assert usage.startswith("usage: agent-tui") and "[--workspace PATH]" in usage
    options = out.split("options:")[1].split("commands:")[0]
    assert "--workspace PATH" in options and "$WORKSPACE_DIR" in options
    assert "--version" in options and "print the version" in options


# ------------------------------------------------------------------------- did you mean
@pytest.mark.parametrize(
    ("typed", "meant"), [("sho", "show"), ("lss", "ls"), ("dif", "diff"), ("reusme", "resume")]
)
def test_a_mistyped_command_gets_a_suggestion(
    typed: str, meant: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = exits(capsys, typed)
    assert code == 2
    assert out == ""
    assert f"did you mean `{meant}`?" in err
    assert err.startswith("agent-tui: error: ") and len(err.splitlines()) == 1


def test_a_command_like_nothing_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = exits(capsys, "xyzzy")
    assert (code, out) == (2, "")
    assert "did you mean" not in err
    assert "unknown command 'xyzzy'" in err and "ls, show, diff" in err


def test_a_mistyped_choice_gets_a_suggestion_too(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = exits(capsys, "ls", "--sort", "sise")
    assert (code, out) == (2, "")
    assert "invalid choice: 'sise'; did you mean `size`?" in err


# ------------------------------------------------------------------------- missing workspace
def _not_a_workspace(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "a-file").write_text("not a folder")
    return {"missing": tmp_path / "nonexistent", "file": tmp_path / "a-file"}


@pytest.mark.parametrize("kind", ["missing", "file"])
@pytest.mark.parametrize(
    "argv",
    [
        ["ls"],
        ["ls", "--json"],
        ["show", "alpha"],
        ["diff", "a", "b"],
        ["diff", "a", "--steps", "0", "1"],
        ["resume", "alpha"],
        ["clean", "--older-than", "7d"],
        ["history", "alpha"],
        ["fork", "alpha", "--step", "1"],
        ["search", "word"],
        ["export", "alpha"],
    ],  # fmt: skip
)
def test_a_workspace_that_is_not_a_folder_is_named(
    kind: str, argv: list[str], tmp_path: Path, child_env: dict[str, str]
) -> None:
    root = _not_a_workspace(tmp_path)[kind]
    done = agent_tui(*argv, "--workspace", str(root), env=child_env)
    assert done.returncode == 1
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"agent-tui: error: no workspace at {root}: ")
    assert ("no such folder" if kind == "missing" else "it is a file, not a folder") in line


def test_the_environments_workspace_is_checked_too(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["ls"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and f"no workspace at {workspace}: no such folder" in err


def test_an_agent_given_by_path_needs_no_workspace_one_given_by_name_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_ours(tmp_path / "elsewhere", "alpha")
    missing = tmp_path / "nonexistent"
    assert cli.main(["show", str(folder), "--workspace", str(missing)]) == 0
    assert "name:" in capsys.readouterr().out
    assert cli.main(["show", "alpha", "--workspace", str(missing)]) == 1
    assert f"no workspace at {missing}: no such folder" in capsys.readouterr().err


# ------------------------------------------------------------------------- ls fits the terminal
LONG_NAME = "a-very-long-agent-name-" + "that-goes-on-" * 6 + "end"


def _on_a_terminal(argv: list[str], env: dict[str, str], columns: int) -> list[str]:
    """``agent-tui ARGV`` with a pseudo-terminal ``columns`` wide as its stdout: its lines."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = {k: v for k, v in env.items() if k not in ("COLUMNS", "LINES")}
    with subprocess.Popen(
        [*COMMAND, *argv], stdout=slave, stderr=subprocess.PIPE, env=env
    ) as child:
        os.close(slave)
        chunks = []
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert child.wait(timeout=30) == 0, child.stderr.read() if child.stderr else ""
    os.close(master)
    return b"".join(chunks).decode().replace("\r\n", "\n").splitlines()


def _listed(workspace: Path) -> None:
    write_ours(workspace, LONG_NAME, loop_count=3)
    write_ours(workspace, "alpha")
    write_swarms(workspace, "Bond-Agent", loop_count=None)
    (workspace / "agents" / "junk").write_text("x")  # a problem in the last column


@pytest.mark.parametrize("columns", [80, 120, 40])
def test_ls_on_a_terminal_fits_its_width(
    columns: int, workspace: Path, child_env: dict[str, str]
) -> None:
    _listed(workspace)
    lines = _on_a_terminal(["ls"], child_env, columns)
    table, summary = lines[:-1], lines[-1]
    assert len(table) == 5 and summary.startswith("4 agents, ")
    assert all(len(line) <= columns for line in table), [len(line) for line in table]
    assert LONG_NAME not in "\n".join(lines)
    assert any(line.startswith(LONG_NAME[:3]) and "…" in line for line in table)
    if columns >= 80:  # room for every column: only the free text is cut, the rest is whole
        assert table[0].split() == [
            "NAME", "STATUS", "LOOPS", "SAVED", "SIZE", "MODEL", "FORMAT", "FOLDER", "PROBLEM"
        ]  # fmt: skip
        assert all(status in "\n".join(table) for status in ("completed", "interrupted"))


def test_ls_piped_or_as_json_cuts_nothing(workspace: Path, child_env: dict[str, str]) -> None:
    _listed(workspace)
    piped = agent_tui("ls", env={**child_env, "COLUMNS": "80"})
    assert piped.returncode == 0
    row = next(line for line in piped.stdout.splitlines() if line.startswith(LONG_NAME))
    assert row.split()[0] == LONG_NAME and "…" not in piped.stdout
    assert "is a file, expected an agent folder" in piped.stdout  # the problem, whole
    listed = json.loads(agent_tui("ls", "--json", env={**child_env, "COLUMNS": "80"}).stdout)
    assert LONG_NAME in [record["name"] for record in listed]


# ------------------------------------------------------------------------- shell completion
def _script(shell: str, tmp_path: Path) -> Path:
    done = subprocess.run([*COMMAND, "completion", shell], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    path = tmp_path / f"agent-tui.{shell}"
    path.write_text(done.stdout)
    return path


def _bash_completes(script: Path, *words: str) -> list[str]:
    """COMPREPLY of the function ``script`` registers for agent-tui, the cursor on the last
    of ``words`` (what bash does on TAB)."""
    line = " ".join(words)
    code = f"""
source {shlex.quote(str(script))}
function=$(complete -p agent-tui | sed -n 's/.* -F \\([^ ]*\\) .*/\\1/p')
COMP_WORDS=({" ".join(shlex.quote(word) for word in words)})
COMP_CWORD=$(({len(words) - 1}))
COMP_LINE={shlex.quote(line)}
COMP_POINT={len(line)}
"$function" agent-tui {shlex.quote(words[-1])} {shlex.quote(words[-2])}
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    done = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", code], capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return done.stdout.splitlines()


def test_bash_completes_commands_options_and_their_values(tmp_path: Path) -> None:
    script = _script("bash", tmp_path)
    assert _bash_completes(script, "agent-tui", "sh") == ["show"]
    assert "completion" in _bash_completes(script, "agent-tui", "")
    assert _bash_completes(script, "agent-tui", "ls", "--so") == ["--sort"]
    assert set(_bash_completes(script, "agent-tui", "ls", "--sort", "")) == set(SORTS)
    assert _bash_completes(script, "agent-tui", "diff", "a", "--ignore") == ["--ignore-noise"]
    assert _bash_completes(script, "agent-tui", "clean", "--ye") == ["--yes"]
    assert _bash_completes(script, "agent-tui", "clean", "--desk") == ["--desktop-trash"]
    # The global option before the command, and its value skipped to find the command.
    assert _bash_completes(script, "agent-tui", "--workspace", "/tmp", "ls", "--js") == ["--json"]
    assert _bash_completes(script, "agent-tui", "--wor") == ["--workspace"]
    assert set(_bash_completes(script, "agent-tui", "completion", "")) == {"bash", "zsh", "fish"}
    folder = tmp_path / "a folder"
    folder.mkdir()
    assert _bash_completes(script, "agent-tui", "ls", "--workspace", str(tmp_path / "a f")) == [
        str(folder)
    ]


def test_every_command_and_option_is_in_each_script(tmp_path: Path) -> None:
    from agent_tui.cli.commands.completion import grammar

    top, commands = grammar(cli.build_parser())
    names = {command.name for command in commands}
    assert names == {
        *("ls", "show", "diff", "run", "resume", "clean", "completion", "demo"),
        *("history", "fork", "search", "export"),
    }
    for shell in ("bash", "zsh", "fish"):
        text = _script(shell, tmp_path).read_text()
        for command in commands:
            assert re.search(rf"\b{command.name}\b", text), (shell, command.name)
            for option in command.options:
                flag = option.flags[-1]
                assert (flag if shell != "fish" else f"-l {flag[2:]}") in text, (shell, flag)
        assert "--workspace" in text or "-l workspace" in text


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_completes_commands_and_options(tmp_path: Path) -> None:
    script = _script("zsh", tmp_path)
    assert subprocess.run(["zsh", "-n", str(script)], capture_output=True).returncode == 0
    typed = {
        "agent-tui sh": "agent-tui show ",
        "agent-tui ls --so": "agent-tui ls --sort ",
        "agent-tui ls --sort a": "agent-tui ls --sort age ",
        "agent-tui --wor": "agent-tui --workspace ",
        "agent-tui clean --ye": "agent-tui clean --yes ",
        "agent-tui completion f": "agent-tui completion fish ",
    }
    # A real interactive zsh in a pseudo-terminal (zsh/zpty): each line is typed, then TAB,
    # then ^T, bound to a widget that prints the line as completion left it, between << >>.
    driver = f"""
zmodload zsh/zpty
zpty z 'zsh -f -i'
zpty -w z 'autoload -U compinit; compinit -u -D; source {script}; \\
  report() {{ print -rn -- "<<$BUFFER>>"; BUFFER=; }}; zle -N report; bindkey "^T" report; \\
  print RE""ADY'
zpty -r z seen '*READY*'
for line in {" ".join(shlex.quote(line) for line in typed)}; do
    zpty -w -n z "$line"$'\\t\\C-t'
    zpty -r z seen '*<<*>>*' && print -r -- "${{${{seen##*<<}}%%>>*}}"
done
zpty -d z
"""
    done = subprocess.run(["zsh", "-f", "-c", driver], capture_output=True, text=True, timeout=30)
    assert done.stdout.splitlines() == list(typed.values()), done.stderr


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_completes_commands_and_options(tmp_path: Path) -> None:
    script = _script("fish", tmp_path)
    assert subprocess.run(["fish", "--no-execute", str(script)]).returncode == 0

    def completes(line: str) -> list[str]:
        code = f"source {shlex.quote(str(script))}; complete -C {shlex.quote(line)}"
        done = subprocess.run(["fish", "--no-config", "-c", code], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return [row.split("\t")[0] for row in done.stdout.splitlines()]

    assert completes("agent-tui sh") == ["show"]
    assert completes("agent-tui ls --so") == ["--sort"]
    assert set(completes("agent-tui ls --sort ")) == set(SORTS)
    assert set(completes("agent-tui completion ")) == {"bash", "zsh", "fish"}


def test_completion_of_an_unknown_shell_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = exits(capsys, "completion", "bsh")
    assert (code, out) == (2, "")
    assert "invalid choice: 'bsh'; did you mean `bash`?" in err
    code, out, err = exits(capsys, "completion", "powershell")
    assert (code, out) == (2, "")
    assert "choose from bash, zsh, fish" in err
    code, out, _ = exits(capsys, "completion", "--help")
    assert code == 0 and "Print a shell completion script" in out and "SHELL" in out


@pytest.mark.parametrize("argv", [["--version"], ["completion", "bash"], ["completion", "zsh"]])
def test_version_and_completion_load_no_runtime(argv: list[str], child_env: dict[str, str]) -> None:
    code = f"""
import contextlib, io, sys
from agent_tui.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    try:
        main({argv!r})
    except SystemExit as exited:
        assert not exited.code, exited.code
assert out.getvalue().startswith(("agent-tui ", "# bash completion", "#compdef")), out.getvalue()
print(sorted(m for m in sys.modules if m.split('.')[0] in ('litellm', 'textual', 'orjson')
             or m in ('agent_tui.agent', 'agent_tui.workspace')))
"""
    done = subprocess.run(
        [sys.executable, "-c", code], env=child_env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# ------------------------------------------------------------------------- plurals, no None
def _one_of_each(workspace: Path) -> Path:
    """A swarms agent of one file (its config) holding one message, whose tool call has
    neither a name nor arguments."""
    folder = write_swarms(workspace, "Solo-Agent")
    for path in folder.iterdir():
        if path.name != "config.json":
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    config = json.loads((folder / "config.json").read_text())
    call = {"id": "c1", "type": "function", "function": {"arguments": None}}
    config["short_memory"] = [{"role": "Solo-Agent", "content": "hm", "tool_calls": [call]}]
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def test_show_says_one_file_one_message_and_never_none(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _one_of_each(workspace)
    (workspace / "agents" / "empty-folder").mkdir()
    assert cli.main(["show", "Solo-Agent"]) == 0
    out = capsys.readouterr().out
    assert " in 1 file\n" in out and "conversation (1 message):" in out
    assert "  -> -()" in out
    assert "None" not in out
    assert cli.main(["show", "empty-folder"]) == 0
    out = capsys.readouterr().out
    assert "\nlast autosave: -\n" in out and " in 0 files\n" in out
    assert "None" not in out


def test_resume_says_one_message(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _one_of_each(workspace)
    assert cli.main(["resume", "Solo-Agent", "go on", "--model", "offline/demo"]) == 0
    assert "after step 1 (1 message) in " in capsys.readouterr().err


def test_the_new_command_and_options_say_what_they_do(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = exits(capsys, "--help")
    assert re.search(r"\n +completion +print a shell completion script for agent-tui\n", out)
    assert re.search(r"\n +--version +print the version and exit\n", out)
    code, out, _ = exits(capsys, "completion", "--help")
    # The global options (--workspace, ...) between -h and the operand.
    assert code == 0 and re.match(
        r"usage: agent-tui completion \[-h\] \[--workspace PATH\].* SHELL\n", out
    )
    examples = out.split("examples:")[1]
    assert all(f"agent-tui completion {shell}" in examples for shell in ("bash", "zsh", "fish"))
