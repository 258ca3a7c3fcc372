"""A regular install (``pip install .`` into a fresh venv, not the editable one the suite uses),
used from a folder that holds its own ``core/`` and ``tui/`` packages, as a Django project does:
ours is importable only as ``agent_tui``, the user's packages stay theirs, and the command, the
library and a run started from the app all work there."""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

APP_RUN = textwrap.dedent(
    """
    import asyncio, sys
    from agent_tui.runner import RunSpec
    from agent_tui.tui.app import AgentTUI

    async def main() -> None:
        spec = RunSpec(agent_name="from-app", task="hi", model="offline/demo", max_loops=2,
                       workspace=sys.argv[1])
        app = AgentTUI(workspace_dir=sys.argv[1], watch=False, start_runs=[spec])
        async with app.run_test(size=(100, 30)) as pilot:
            for _ in range(600):
                runs = list(app.run_pane.runs.values())
                if runs and not runs[0].live:
                    break
                await pilot.pause(0.05)
            print("RUN", runs[0].status if runs else "none", runs[0].folder if runs else "")

    asyncio.run(main())
    """
)


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new venv with only our regular build installed; the dependencies come from the test
    venv's site-packages through a .pth line (that folder's own .pth files, among them the
    editable finder, are not run)."""
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    (Path(purelib) / "deps.pth").write_text(site.getsitepackages()[0] + "\n")
    # From a copy of the sources: setuptools reuses a build/ folder left in a checkout, and
    # would ship modules that are gone from it.
    source = venv.parent / "source"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(
        ".*", "build", "*.egg-info", "__pycache__", "bench", "screenshots", "tests", "docs"))  # fmt: skip
    build = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
         str(source)],
        capture_output=True, text=True, cwd=venv.parent,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr
    return venv


def test_a_regular_install_works_from_a_folder_with_its_own_core_and_tui(
    fresh_venv: Path, child_env: dict[str, str], tmp_path: Path
) -> None:
    project = tmp_path / "django-site"
    for package in ("core", "tui"):
        (project / package).mkdir(parents=True)
        (project / package / "__init__.py").write_text(f"WHOSE = 'the user {package}'\n")
    workspace = tmp_path / "ws"
    env = {k: v for k, v in child_env.items() if k != "PYTHONPATH"}
    env["WORKSPACE_DIR"] = str(workspace)
    python, command = fresh_venv / "bin" / "python", fresh_venv / "bin" / "agent-tui"

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(argv, env=env, capture_output=True, text=True, cwd=project)

    probe = run(
        str(python), "-c",
        "import core, tui, agent_tui; from agent_tui import Agent\n"
        "print(core.WHOSE, '|', tui.WHOSE); print(Agent.__module__); print(agent_tui.__file__)",
    )  # fmt: skip
    assert probe.returncode == 0, probe.stderr
    whose, module, location = probe.stdout.splitlines()
    assert whose == "the user core | the user tui"
    assert module.startswith("agent_tui.agent")
    assert Path(location).is_relative_to(fresh_venv) and not Path(location).is_relative_to(REPO)
    installed = Path(location).parent
    shipped = {p.relative_to(installed) for p in installed.rglob("*.py")}
    sources = {p.relative_to(REPO / "core") for p in (REPO / "core").rglob("*.py")}
    sources |= {"tui" / p.relative_to(REPO / "tui") for p in (REPO / "tui").rglob("*.py")}
    assert shipped == sources  # every module, mapped under agent_tui, and nothing else
    assert not (installed.parent / "core").exists() and not (installed.parent / "tui").exists()

    cli = run(str(command), "run", "hello", "--name", "here", "--max-loops", "1")
    assert cli.returncode == 0, cli.stderr
    (folder,) = (workspace / "agents").glob("here-*")
    assert (folder / "config.json").is_file()

    app = run(str(python), "-c", APP_RUN, str(workspace))
    assert app.returncode == 0, app.stderr
    status, _, run_folder = app.stdout.strip().splitlines()[-1].removeprefix("RUN ").partition(" ")
    assert status == "completed", app.stdout + app.stderr
    assert Path(run_folder).parent == workspace / "agents"
    assert os.path.isfile(Path(run_folder) / "from-app_state.json")
