"""A reader scanning while 8 writers autosave at full speed: no torn reads, no lost writes."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from agent_tui import workspace as ws
from agent_tui.format.journal import read_journal

WRITERS = 8
STEPS = 400

WRITER = """
import sys
from agent_tui import Agent
def note(text: str) -> str:
    '''Take a note.'''
    return text * 50
Agent(model_name="offline/demo?tool_steps=100000", agent_name=f"writer-{sys.argv[1]}",
      max_loops=int(sys.argv[2]), tools=[note]).run("write notes as fast as possible")
"""


def test_reader_never_sees_torn_files(child_env: dict[str, str], workspace: Path) -> None:
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(i), str(STEPS)], env=child_env)
        for i in range(WRITERS)
    ]
    scans = 0
    reads = 0
    problems: list[str] = []
    deadline = time.monotonic() + 120
    while any(p.poll() is None for p in procs) and time.monotonic() < deadline:
        for record in ws.scan(workspace):
            reads += 1
            # A file mid-rewrite must still parse: problems here would be torn reads.
            problems += [p for p in record.problems if p.startswith("config.json:")]
            if record.status == "unknown":  # a folder created a moment before its first write
                assert record.problems[0].startswith("no config.json"), record
            else:
                assert record.status in ("running", "completed", "interrupted"), record
        scans += 1
    assert all(p.wait(timeout=60) == 0 for p in procs)
    assert problems == []
    assert scans >= 5 and reads >= 5 * WRITERS

    records = ws.scan(workspace)
    assert len(records) == WRITERS
    for record in records:
        assert record.status == "completed" and record.loop_count == STEPS
        config = json.loads((record.folder / "config.json").read_text())
        assert config["_autosave_metadata"]["loop_count"] == STEPS
        journal = read_journal(record.folder / "journal.jsonl")
        steps = [r["loop_count"] for r in journal.records if r["kind"] == "step"]
        assert steps == list(range(1, STEPS + 1)) and journal.problems == []
