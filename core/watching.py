"""Watching a workspace from a process of its own: ``python -P -m agent_tui.watching ROOT``.

watchfiles sets its watcher up without letting go of the interpreter: on 100,000 agent folders
that is 5.7 s during which no other thread of the process runs (the app's screen froze).
Here it runs in a child, which writes one JSON line per event to stdout:

- ``{"ready": true, "polling": false}`` once the watcher is set up. ``polling``: the tree is
  polled (every ``POLL_MS``), because ``--poll`` asked, because inotify could not watch it (often
  its limit of watches: a ``notice`` line before says so), or because of where the root is, and
  then ``reason`` says why: ``{"ready": true, "polling": true, "reason": "nfs4: inotify does
  not see other hosts' writes"}``;
- ``{"changes": [path, ...]}`` for each batch of changes (temp files of atomic writes left out).
  The first batch after ``ready`` holds the agent folders whose folder or ``config.json`` changed
  since ``--since`` (the time the parent asked for the watcher), and the swarms structure runs
  whose folder or files did: what happened while it was set up, which no event reports;
- ``{"error": "..."}`` before it exits on a failure.

A root on a network file system (NFS, SMB, sshfs and other FUSE ones, 9p, Ceph, Lustre ...:
:mod:`agent_tui.mounts` tells) is polled from the start: inotify there only hears of this
host's own writes, and agents running on other hosts would show nothing. The environment
variable ``AGENT_TUI_WATCH_POLL`` overrides that: ``1`` always polls, ``0`` never polls because
of the mount type (``--poll``, and polling when inotify fails, still do); unset or anything
else, the mount type decides.

It exits when its stdin closes (the parent is gone or done), so it never outlives the app.
No Textual here; the app's side is :mod:`agent_tui.tui.watcher`.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from pathlib import Path

import orjson

from agent_tui.format.layout import CONFIG_NAME
from agent_tui.format.persistence import is_temp_file

POLL_MS = 1000  # between polls of a tree inotify cannot watch
POLL_ENV = "AGENT_TUI_WATCH_POLL"


def emit(event: dict) -> None:
    sys.stdout.buffer.write(orjson.dumps(event) + b"\n")
    sys.stdout.buffer.flush()


def keep_change(_change: object, path: str) -> bool:
    """The ``watch_filter``: everything except temp files of atomic writes."""
    return not is_temp_file(os.path.basename(path))


def outside_temp_folders(root: Path):
    """A ``watch_filter`` that also drops what happens inside a temp folder under ``root``
    (a cleanup renames each folder to ``.removing-*.tmp`` before it deletes it: thousands of
    file events nobody needs to hear of)."""
    prefix = os.path.join(os.fspath(root), "")

    def keep(change: object, path: str) -> bool:
        if not keep_change(change, path):
            return False
        inside = path[len(prefix) :] if path.startswith(prefix) else path
        return not any(is_temp_file(part) for part in inside.split(os.sep)[:-1])

    return keep


def changed_since(agents: Path, since: float) -> list[str]:
    """Agent folders whose folder entry or ``config.json`` is newer than ``since`` (seconds)."""
    found: list[str] = []
    try:
        listing = os.scandir(agents)
    except OSError:
        return found
    with listing:
        for entry in listing:
            if is_temp_file(entry.name):
                continue
            try:
                newest = entry.stat(follow_symlinks=False).st_mtime
                if entry.is_dir(follow_symlinks=False):
                    config = os.stat(os.path.join(entry.path, CONFIG_NAME), follow_symlinks=False)
                    newest = max(newest, config.st_mtime)
            except OSError:
                pass  # no config.json: the folder's own time is all there is
            if newest >= since:
                found.append(entry.path)
    return found


def structures_changed_since(root: Path, since: float) -> list[str]:
    """swarms structure run folders (``<root>/swarms/<ClassName>/<run>``) whose folder entry or
    any file at its top is newer than ``since`` (swarms rewrites its files in place)."""
    from agent_tui.workspace.structures import structure_folders

    found: list[str] = []
    for folder in structure_folders(root):
        try:
            newest = os.lstat(folder).st_mtime
            with os.scandir(folder) as listing:
                for entry in listing:
                    newest = max(newest, entry.stat(follow_symlinks=False).st_mtime)
        except OSError:
            pass  # a file, a link, or gone: the folder's own time (if any) is all there is
        if newest >= since:
            found.append(os.fspath(folder))
    return found


CHANGES_PER_LINE = 256


def poll_reason(root: Path, mountinfo: str | None = None) -> str | None:
    """Why ``root`` must be polled rather than watched with inotify (``AGENT_TUI_WATCH_POLL``,
    then the file system it is on), or None when inotify will do."""
    from agent_tui import mounts

    setting = os.environ.get(POLL_ENV, "").strip().lower()
    if setting in ("1", "true", "yes", "on"):
        return f"{POLL_ENV}={os.environ[POLL_ENV].strip()}"
    if setting in ("0", "false", "no", "off"):
        return None
    mount = mounts.mount_of(root, mountinfo or mounts.MOUNTINFO)
    if mount is None or not mounts.is_network_type(mount.fstype, mount.source):
        return None
    return f"{mount.fstype}: inotify does not see other hosts' writes"


def watch(
    root: Path,
    debounce_ms: int,
    step_ms: int,
    since: float,
    polling: bool,
    reason: str | None = None,
) -> None:
    from watchfiles import watch as watch_tree

    stop = threading.Event()

    def until_stdin_closes() -> None:
        sys.stdin.buffer.read()
        stop.set()

    threading.Thread(target=until_stdin_closes, daemon=True).start()
    ready = False
    changes = watch_tree(
        root,
        watch_filter=outside_temp_folders(root),
        debounce=debounce_ms,
        step=step_ms,
        stop_event=stop,
        rust_timeout=50,
        yield_on_timeout=True,  # an empty batch soon after set-up: the sign it is ready
        force_polling=polling,
        poll_delay_ms=POLL_MS,
    )
    for batch in changes:
        paths = {path for _, path in batch}
        if not ready:
            ready = True
            emit({"ready": True, "polling": polling, **({"reason": reason} if reason else {})})
            paths.update(changed_since(root / "agents", since))
            paths.update(structures_changed_since(root, since))
        # In lines of a bounded length: a catch-up of a fleet just made, or a copy of
        # thousands of folders, is one batch (10,000 paths were a 500 KB line, past the limit
        # of the parent's line reader: its reading died and the app stopped following the disk).
        ordered = sorted(paths)
        for start in range(0, len(ordered), CHANGES_PER_LINE):
            emit({"changes": ordered[start : start + CHANGES_PER_LINE]})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--debounce-ms", type=int, default=50)
    parser.add_argument("--step-ms", type=int, default=10)
    parser.add_argument("--since", type=float, default=0.0)
    parser.add_argument("--poll", action="store_true", help="poll instead of inotify")
    parser.add_argument("--mountinfo", help=argparse.SUPPRESS)  # a mount table, for tests
    args = parser.parse_args(argv)
    try:
        reason = None if args.poll else poll_reason(args.root, args.mountinfo)
        polling = args.poll or reason is not None
        try:
            watch(args.root, args.debounce_ms, args.step_ms, args.since, polling, reason)
        except Exception as exc:
            if polling:
                raise
            # inotify could not watch the tree (its limit of watches, most often): poll it.
            emit({"notice": f"watching by polling every {POLL_MS / 1000:g} s: {exc}"})
            watch(args.root, args.debounce_ms, args.step_ms, args.since, True)
    except KeyboardInterrupt:
        return 0
    except Exception as exc:  # the parent shows it: it must say what failed
        emit({"error": f"{type(exc).__name__}: {exc}"})
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
