"""``agent-tui clean``: the plan of what to remove (a dry run), or the removal with ``--yes``."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from agent_tui.cli.commands import existing_workspace, mirror_at
from agent_tui.cli.errors import EXIT_ERROR, EXIT_TERMINATED, PROG, CliError
from agent_tui.cli.output import ago, clip, plural, table, write_json
from agent_tui.units import format_bytes

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agent_tui.cleanup import CleanupItem, Usage

HEADERS = ["FOLDER", "STATUS", "SIZE", "DISK", "SAVED", "REASON"]


def _item_rows(
    items: list[CleanupItem], usages: dict[Path, Usage], now: datetime
) -> list[list[str]]:
    return [
        [
            clip(item.folder.name, 255),
            item.status,
            format_bytes(usages[item.folder].apparent),
            format_bytes(usages[item.folder].disk),
            ago(item.last_activity, now),
            clip(item.reason, 200),
        ]
        for item in items
    ]


class _ProgressBar:
    """A one-line bar on stderr, drawn only on a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, done: int, total: int, item: CleanupItem) -> None:
        if not self.enabled or not total:
            return
        filled = 30 * done // total
        bar = "#" * filled + "." * (30 - filled)
        sys.stderr.write(f"\r[{bar}] {done}/{total} {clip(item.folder.name, 30):<30}")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()


class _Terminated(KeyboardInterrupt):
    """SIGTERM during a clean, raised in the main thread: it unwinds like Ctrl-C, so the
    folders under way finish and no other starts."""


class _SigtermUnwinds:
    """Within the block, a first SIGTERM raises :class:`_Terminated`; any later one is ignored
    while the folders under way finish (SIGKILL still stops everything). Only the main thread
    can take signals, so elsewhere the block changes nothing."""

    def __enter__(self) -> None:
        import signal
        import threading

        self.previous = None
        if threading.current_thread() is not threading.main_thread():
            return
        self.fired = False
        self.previous = signal.signal(signal.SIGTERM, self._on_sigterm)

    def _on_sigterm(self, signum: int, frame: object) -> None:
        if not self.fired:
            self.fired = True
            raise _Terminated

    def __exit__(self, *exc: object) -> None:
        import signal

        if self.previous is not None:
            signal.signal(signal.SIGTERM, self.previous)


def cmd_clean(args: argparse.Namespace) -> int:
    from agent_tui import cleanup
    from agent_tui.settings import agents_dir
    from agent_tui.workspace import scan

    root = existing_workspace(args)
    try:
        cleanup.check_agents_dir(agents_dir(root))
    except cleanup.UnsafeAgentsDirError as exc:
        raise CliError(str(exc)) from None
    # Each --status is a set already (the parser's type); repeats add up.
    statuses = set().union(*args.status) if args.status else None
    if (
        args.older_than is None
        and args.keep_last is None
        and not statuses
        and args.min_size is None
    ):
        raise CliError("say what to clean: --older-than, --keep-last, --status or --min-size")
    plan = cleanup.plan(
        scan(root, jobs=2),
        older_than=args.older_than,
        keep_last=args.keep_last,
        statuses=statuses,
        min_size=args.min_size,
        agents_dir=agents_dir(root),
    )
    now = datetime.now().astimezone()
    # Apparent size and disk usage, as ncdu shows them (a sparse file differs in the two).
    usages = {item.folder: cleanup.usage(item.folder) for item in plan.items + plan.skipped}
    if not args.json:
        if plan.items:
            print(table(HEADERS, _item_rows(plan.items, usages, now), {2, 3}))
        if plan.skipped:
            print("\nskipped:")
            print(table(HEADERS, _item_rows(plan.skipped, usages, now), {2, 3}))
        apparent, disk = _totals(plan.items, usages)
        print(
            f"{plural(len(plan.items), 'folder')}, {format_bytes(apparent)} "
            f"({format_bytes(disk)} on disk) to free"
            + (f"; {len(plan.skipped)} skipped" if plan.skipped else "")
        )
    trash = Path(args.trash).expanduser() if args.trash else None
    # Where the folders go, as the summary names it; None: they are deleted.
    where = f"the trash ({cleanup.desktop_trash()})" if args.desktop_trash else trash
    if not args.yes:
        if args.json:
            write_json(_plan_json(plan, usages, None))
        elif plan.items and where:
            moving = plural(len(plan.items), "folder")
            print(f"dry run: nothing moved; with --yes, would move {moving} to {where}")
        elif plan.items:
            print("dry run: nothing removed; run again with --yes to remove them")
        return 0
    remote = mirror_at(root)
    if remote is not None and where:
        raise CliError(
            f"{remote.url}: objects are deleted, not moved to a trash (keep them with "
            "the bucket's versioning); run again without --trash/--desktop-trash"
        )
    try:
        with _SigtermUnwinds():
            if remote is not None:
                result = cleanup.CleanupResult()
                removed, skipped, failures, freed = remote.remove_folders(
                    [item.folder for item in plan.items]
                )
                result.removed, result.skipped, result.failures = removed, skipped, failures
                result.freed_bytes = freed
            else:
                result = cleanup.execute(
                    plan,
                    trash_dir=trash,
                    progress=_ProgressBar(sys.stderr.isatty() and not args.json),
                    to_desktop_trash=args.desktop_trash,
                )
    except ValueError as exc:
        raise CliError(str(exc)) from None
    except _Terminated:
        print(
            f"\n{PROG}: terminated (SIGTERM): the folders under way were finished and no other "
            "was started; run the same clean again to go on",
            file=sys.stderr,
        )
        return EXIT_TERMINATED
    if args.json:
        write_json(_plan_json(plan, usages, result))
    else:
        shown = format_bytes(result.freed_bytes)
        if where:
            print(f"moved {plural(len(result.trashed), 'folder')} ({shown}) to {where}")
        else:
            print(f"removed {plural(len(result.removed), 'folder')}, freed {shown}")
        if result.finished:
            print(f"finished {plural(len(result.finished), 'removal')} an interrupted clean left")
        for folder, reason in result.skipped:
            print(f"skipped {clip(folder.name, 255)}: {clip(reason, 200)}")
        for folder, reason in result.failures:
            message = clip(f"could not remove {folder}: {reason}", 400)
            print(f"{PROG}: error: {message}", file=sys.stderr)
    return EXIT_ERROR if result.failures else 0


def _totals(items: list[CleanupItem], usages: dict[Path, Usage]) -> tuple[int, int]:
    """``(apparent, disk)`` bytes of ``items``."""
    return (
        sum(usages[i.folder].apparent for i in items),
        sum(usages[i.folder].disk for i in items),
    )


def _plan_json(plan: Any, usages: dict[Path, Usage], result: Any) -> dict[str, Any]:
    def item(entry: CleanupItem) -> dict[str, Any]:
        return {
            "folder": str(entry.folder),
            "name": entry.name,
            "bytes": entry.bytes,
            "apparent_bytes": usages[entry.folder].apparent,
            "disk_bytes": usages[entry.folder].disk,
            "status": entry.status,
            "reason": entry.reason,
        }

    apparent, disk = _totals(plan.items, usages)
    document: dict[str, Any] = {
        "agents_dir": str(plan.agents_dir),
        "items": [item(i) for i in plan.items],
        "skipped": [item(i) for i in plan.skipped],
        "total_bytes": plan.total_bytes,
        "total_apparent_bytes": apparent,
        "total_disk_bytes": disk,
        "dry_run": result is None,
    }
    if result is not None:
        document["result"] = {
            "removed": [str(p) for p in result.removed],
            "trashed": [str(p) for p in result.trashed],
            "skipped": [{"folder": str(p), "reason": r} for p, r in result.skipped],
            "failures": [{"folder": str(p), "reason": r} for p, r in result.failures],
            "freed_bytes": result.freed_bytes,
            "finished": [str(p) for p in result.finished],
        }
    return document
