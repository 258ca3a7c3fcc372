"""``agent-tui ls``: every agent of a workspace, as a table or as JSON."""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import sys
import time
from operator import itemgetter
from typing import Any

from agent_tui.cli.commands import existing_workspace, shown_path
from agent_tui.cli.output import ago_seconds, clip, masked_record, plural, table, write_json
from agent_tui.listing import sort_key
from agent_tui.units import format_bytes

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agent_tui.workspace import AgentRecord

HEADERS = ["NAME", "STATUS", "LOOPS", "SAVED", "SIZE", "MODEL", "FORMAT", "FOLDER", "PROBLEM"]
# The free-text columns, cut to fit a terminal: name, model, folder, problem.
SHRINK = frozenset({0, 5, 7, 8})


def _cell(text: str) -> str:
    """``text`` as one printable line, whole: the table cuts it only to fit a terminal."""
    return clip(text, sys.maxsize)


def cmd_ls(args: argparse.Namespace) -> int:
    from agent_tui.workspace import scan_map

    root = existing_workspace(args)
    key = sort_key(args.sort)
    # ls keeps every row until it prints and makes no reference cycles: the cyclic collector
    # would only re-walk the growing list (a tenth of the scan's time on 10,000 folders).
    gc.disable()
    # Rows are built by whichever process read the folder (scan_map), so a large workspace
    # sends back strings, not records.
    if args.json:
        found = scan_map(root, lambda r: (key(r), masked_record(r)), jobs=2)
        write_json([row for _, row in sorted(found, key=itemgetter(0))])
        return 0
    now = time.time()

    def row(r: AgentRecord) -> tuple[Any, ...]:
        # One flat tuple (sort key, size, then the cells) of plain strings and numbers, which
        # marshal carries (a StrEnum would send it all by pickle): 10,000 of them cross
        # between processes and stay in memory until printed.
        saved = r.last_activity
        name, model, folder = r.name, r.model, r.folder_name
        problem = r.problems[0] if r.problems else ""
        if r.problems or r.error:
            # A problem can quote the config ("unknown status 'sk-...'"): the text cells are
            # masked as ls --json masks the record (the rare rows with a problem pay for it).
            shown = masked_record(r)
            name, model, folder = shown["name"], shown["model"], shown["folder"]
            folder = folder.rpartition(os.sep)[2]
            problem = shown["problems"][0] if shown["problems"] else ""
        return (
            key(r),
            r.size_bytes,
            _cell(name),
            str(r.status),
            "-" if r.loop_count is None else str(r.loop_count),
            "-" if saved is None else ago_seconds(now - saved.timestamp()),
            format_bytes(r.size_bytes),
            _cell(model or "-"),
            str(r.format),
            _cell(folder),
            _cell(problem),
        )

    found = scan_map(root, row, jobs=2)
    if not found:
        print(f"no agents in {shown_path(root / 'agents')}")
        return 0
    found.sort(key=itemgetter(0))
    # A terminal gets lines that fit it; a pipe or a file gets every character.
    width = shutil.get_terminal_size().columns if sys.stdout.isatty() else None
    rows = [found_row[2:] for found_row in found]
    print(table(HEADERS, rows, right={2, 4}, width=width, shrink=SHRINK))
    total = sum(found_row[1] for found_row in found)
    print(f"{plural(len(found), 'agent')}, {format_bytes(total)} in {shown_path(root / 'agents')}")
    return 0
