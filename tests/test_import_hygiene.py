"""core/ never imports Textual (or tui); checked in a fresh interpreter and in the source."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parent.parent / "core"


def test_core_modules_import_without_textual(child_env) -> None:
    modules = sorted(
        p.stem for p in CORE.glob("*.py") if p.stem not in ("__init__", "litellm_provider")
    )
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module('core.' + name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'tui', 'litellm')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=child_env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_core_source_has_no_textual_imports() -> None:
    offenders = []
    for path in CORE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if name.split(".")[0] == "textual":
                    offenders.append(f"{path.name}: {name}")
    assert offenders == []
