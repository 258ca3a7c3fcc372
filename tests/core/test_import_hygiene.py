"""The runtime (core/, installed as agent_tui) never imports Textual or the UI (agent_tui.tui):
checked in a fresh interpreter that imports every module and runs the lazy paths, and in the
source, function-level imports included. And one namespace: a user's own ``core`` or ``tui``
package is never shadowed, nor does it shadow ours."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "core"
UI = ("textual", "agent_tui.tui")


def _is_ui(name: str) -> bool:
    return any(name == ui or name.startswith(ui + ".") for ui in UI)


def test_runtime_modules_and_their_lazy_paths_import_no_ui(
    child_env: dict[str, str], tmp_path: Path
) -> None:
    # Every module of every subpackage (agent/, cli/, format/, workspace/ ...), dotted.
    modules = sorted(
        ".".join(p.relative_to(CORE).with_suffix("").parts).removesuffix(".__init__")
        for p in CORE.rglob("*.py")
        if p.stem not in ("litellm_provider", "__main__") and p != CORE / "__init__.py"
    )
    # Import every module, then walk the paths that import more on demand: the CLI's
    # commands (ls, show, diff, clean, run with the offline model) and the demo's live run.
    code = f"""
import importlib, sys, io, contextlib
for name in {modules!r}:
    importlib.import_module('agent_tui.' + name)
from agent_tui import cli, Agent
root = {str(tmp_path)!r}
Agent(model_name='offline/demo', agent_name='a', max_loops=1, workspace_dir=root).run('t')
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    for argv in (['ls', '--workspace', root], ['show', 'a', '--workspace', root],
                 ['diff', 'a', '--steps', '0', '1', '--workspace', root],
                 ['clean', '--older-than', '0s', '--workspace', root],
                 ['run', 'task', '--name', 'b', '--max-loops', '1', '--workspace', root],
                 ['demo', '--workspace', root + '/demo', '--terminal', '--delay', '0'],
                 []):
        cli.main(argv)
print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'litellm')
             or m.startswith('agent_tui.tui')))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], env=child_env, capture_output=True, text=True, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_runtime_source_has_no_ui_imports_anywhere() -> None:
    offenders = []
    for path in CORE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {name}" for name in names if _is_ui(name)]
            offenders += [
                f"{path.name}: {name}" for name in names if name.split(".")[0] in ("core", "tui")
            ]
    assert offenders == []


def test_a_users_own_core_and_tui_packages_neither_shadow_nor_are_shadowed(
    child_env: dict[str, str], tmp_path: Path
) -> None:
    project = tmp_path / "django-site"
    for package in ("core", "tui"):
        (project / package).mkdir(parents=True)
        (project / package / "__init__.py").write_text(f"WHOSE = 'the user {package}'\n")
    env = {k: v for k, v in child_env.items() if k != "PYTHONPATH"}
    code = (
        "import core, tui; print(core.WHOSE, '|', tui.WHOSE)\n"
        "from agent_tui import Agent; import agent_tui.tui.app\n"
        "print(Agent.__module__, agent_tui.tui.app.__name__)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=project
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "the user core | the user tui",
        "agent_tui.agent agent_tui.tui.app",
    ]
    # A run from that folder works: the command, and a run as the app starts it (-P).
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "agent_tui.cli",
            "run",
            "hello",
            "--name",
            "here",
            "--max-loops",
            "1",
        ],
        env={**env, "WORKSPACE_DIR": str(tmp_path / "ws")},
        capture_output=True,
        text=True,
        cwd=project,
    )
    assert run.returncode == 0, run.stderr
    from agent_tui.runner import RunSpec
    from agent_tui.tui.runs import runner_command

    spec = RunSpec(agent_name="from-app", task="hi", max_loops=1, workspace=str(tmp_path / "ws"))
    child = subprocess.run(
        runner_command(spec),
        input=spec.to_json(),
        env=env,
        capture_output=True,
        text=True,
        cwd=project,
    )
    assert child.returncode == 0, child.stderr
    assert '"status":"completed"' in child.stdout.splitlines()[-1]


def test_the_public_surface(child_env: dict[str, str], tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from agent_tui import Agent\n"
        "import agent_tui.tui.launch\n"
        "assert 'textual' not in sys.modules, 'the console script must not load Textual'\n"
        "from agent_tui.tui import AgentTUI\n"
        "app = AgentTUI(workspace_dir=sys.argv[1], read_only=True, watch=False)\n"
        "print(type(app).__module__, app.read_only, Agent.__name__)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], env=child_env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["agent_tui.tui.app", "True", "Agent"]
