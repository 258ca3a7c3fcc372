"""A hostile workspace: everything a careless or malicious neighbour can leave in one.

:func:`build` makes ``<root>/agents/`` full of real agents whose files were swapped for links to
files outside the corpus, FIFOs, device nodes (as root), links to ``/dev/zero``, hard links to
outside files, files over the size cap, names that are not UTF-8 or that carry bidi and
zero-width characters, far-past and far-future timestamps, a copied folder and swarms folders
leaking keys. :func:`outside_digest` hashes everything outside the corpus that those links point
at, so a test can prove that no reader or writer changed a byte of it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path

from workspace_fixtures import write_swarms

from agent_tui import Agent

LEAKED_KEY = "sk-corpusLEAK0123456789abcdefXYZ"
FILES = ("config.json", "STATE", "journal.jsonl", "agent.lock")


@dataclass
class Corpus:
    root: Path
    outside: Path
    folders: dict[str, Path] = field(default_factory=dict)

    @property
    def agents(self) -> Path:
        return self.root / "agents"


def _agent(root: Path, name: str, steps: int = 2) -> Path:
    agent = Agent(
        model_name="offline/demo?tool_steps=1", agent_name=name, max_loops=steps, workspace_dir=root
    )
    agent.run(f"task of {name}")
    return Path(agent._get_agent_workspace_dir())


def _file(folder: Path, which: str) -> Path:
    if which == "STATE":
        (state,) = folder.glob("*_state.json")
        return state
    return folder / which


def _swap(folder: Path, which: str, make) -> None:
    path = _file(folder, which)
    if path.exists() or path.is_symlink():
        path.unlink()
    make(path)


def build(base: Path) -> Corpus:
    """The corpus under ``base/corpus``; the files its links point at under ``base/outside``."""
    outside = base / "outside"
    (outside / "home").mkdir(parents=True)
    (outside / "home" / ".bashrc").write_text("export PATH=/usr/bin\n", encoding="utf-8")
    (outside / "prod.json").write_text(
        json.dumps({"agent_name": "OUTSIDE", "_autosave_metadata": {"format": "agent-tui"}}),
        encoding="utf-8",
    )
    (outside / "keep" / "precious.txt").parent.mkdir()
    (outside / "keep" / "precious.txt").write_text("do not delete\n", encoding="utf-8")
    corpus = Corpus(base / "corpus", outside)
    root = corpus.root
    folders = corpus.folders
    bashrc = outside / "home" / ".bashrc"

    for which in FILES:
        tag = which.lower().replace(".", "-")
        folder = _agent(root, f"link-{tag}")
        _swap(folder, which, lambda p: p.symlink_to(bashrc))
        folders[f"link-{tag}"] = folder
        folder = _agent(root, f"fifo-{tag}")
        _swap(folder, which, os.mkfifo)
        folders[f"fifo-{tag}"] = folder
        folder = _agent(root, f"hardlink-{tag}")
        _swap(folder, which, lambda p: os.link(bashrc, p))
        folders[f"hardlink-{tag}"] = folder
    for which in ("config.json", "journal.jsonl"):
        folder = _agent(root, f"zero-{which.split('.')[0]}")
        _swap(folder, which, lambda p: p.symlink_to("/dev/zero"))
        folders[f"zero-{which}"] = folder
    folder = _agent(root, "outside-json")
    _swap(folder, "config.json", lambda p: p.symlink_to(outside / "prod.json"))
    folders["outside-json"] = folder
    if os.geteuid() == 0:
        folder = _agent(root, "device-config")
        _swap(folder, "config.json", lambda p: os.mknod(p, 0o644 | stat.S_IFCHR, os.makedev(1, 5)))
        folders["device-config"] = folder
    folder = _agent(root, "huge-state")
    state = _file(folder, "STATE")
    with state.open("ab") as handle:
        handle.truncate(3 * 1024 * 1024)  # sparse, over a 1 MB cap
    folders["huge-state"] = folder

    # Folders that are links, to a folder outside and to themselves.
    (corpus.agents / "linked-folder-000000000000").symlink_to(outside / "keep")
    folders["linked-folder"] = corpus.agents / "linked-folder-000000000000"
    (corpus.agents / "loop").symlink_to(corpus.agents / "loop")
    folders["loop"] = corpus.agents / "loop"
    # A sub-folder linking out of the tree: sizes and cleanup must not follow it.
    folder = _agent(root, "inner-link")
    (folder / "reports").symlink_to(outside / "keep")
    folders["inner-link"] = folder

    # Names and times from other tools.
    raw = os.fsencode(corpus.agents) + b"/not-utf8-\xff\xfe"
    os.mkdir(raw)
    shutil.copy(_file(folders["inner-link"], "config.json"), os.fsdecode(raw) + "/config.json")
    folders["not-utf8"] = Path(os.fsdecode(raw))
    for label, stamp in (
        ("far-past", "0001-01-01T00:00:00"),
        ("far-future", "9999-12-31T23:59:59"),
    ):
        folder = _agent(root, label)
        config = json.loads((folder / "config.json").read_text("utf-8"))
        config["_autosave_metadata"]["timestamp"] = stamp
        (folder / "config.json").write_text(json.dumps(config), "utf-8")
        folders[label] = folder
    folder = _agent(root, "rtl\u202egnp.exe \u200b\u2066hidden\u2069")
    folders["bidi"] = folder
    copy = corpus.agents / "copied-backup-monday"
    shutil.copytree(_agent(root, "copied"), copy, symlinks=True)
    folders["copy"] = copy

    # swarms folders that leak a key, in error.txt and the config.
    leaky = write_swarms(root, "Leaky-Swarm", loop_count=None, error_text=f"401: {LEAKED_KEY}")
    config = json.loads((leaky / "config.json").read_text("utf-8"))
    config["llm_api_key"] = LEAKED_KEY
    (leaky / "config.json").write_text(json.dumps(config), "utf-8")
    folders["leaky-swarms"] = leaky
    fifo_error = write_swarms(root, "Fifo-Error-Swarm", loop_count=None)
    (fifo_error / "error.txt").unlink()
    os.mkfifo(fifo_error / "error.txt")
    folders["fifo-error-txt"] = fifo_error
    return corpus


def outside_digest(outside: Path) -> dict[str, str]:
    """Every file under ``outside`` and its sha256: unchanged means no reader wrote through."""
    found = {}
    for path in sorted(outside.rglob("*")):
        if path.is_file() and not path.is_symlink():
            found[str(path.relative_to(outside))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found
