"""``agent-tui search TEXT``: the messages of every agent that hold every word, newest first."""

from __future__ import annotations

import argparse
import shutil
import sys
import time

from agent_tui.cli.commands import existing_workspace, local_root, require_folder
from agent_tui.cli.output import clip, masker, plural, write_json

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from agent_tui.search import Hit

# Lines fit this many columns when stdout is not a terminal (a terminal's own width otherwise).
WIDTH = 80
AGENT_CHARS = 24
# A first index of fewer folders than this is quick: no progress line for it.
PROGRESS_MIN = 200
PROGRESS_EVERY_S = 0.1


def cmd_search(args: argparse.Namespace) -> int:
    from agent_tui.search import query_terms, search

    root = existing_workspace(args)
    roots = [
        root,
        *(local_root(path) for path in (getattr(args, "workspaces", None) or [])[1:]),
    ]
    for other in roots[1:]:
        require_folder(other)
    hits: list[Hit] = []
    for where in roots:  # every root given; each one's hits newest first, then the next root's
        hits += search(where, args.text, limit=args.limit - len(hits), on_progress=_progress())
        if len(hits) >= args.limit:
            break
    if args.json:
        write_json([hit.to_dict() for hit in hits])
        return 0
    if not hits:
        asked = clip(masker().redact_text(args.text), 60)
        place = str(root / "agents") if len(roots) == 1 else f"{len(roots)} workspace roots"
        print(f"nothing matches {asked!r} in {place}", file=sys.stderr)
        return 0
    width = shutil.get_terminal_size().columns if sys.stdout.isatty() else WIDTH
    terms = query_terms(args.text)
    for hit in hits:
        print(line(hit, terms, width))
    return 0


def line(hit: Hit, terms: list[str], width: int = WIDTH) -> str:
    """``agent  step N  role  snippet`` in at most ``width`` columns, every part one printable
    line; the snippet is cut again to what is left, around the word found."""
    from agent_tui.search import snippet

    step = "-" if hit.step is None else str(hit.step)
    head = f"{clip(hit.agent, AGENT_CHARS)}  step {step}  {clip(hit.role, 12)}  "
    room = width - len(head)
    if room < 10:  # a step number so long that nothing of the snippet would fit
        return clip(head + hit.snippet, width)
    return head + snippet(hit.snippet, terms, room)


def _progress() -> Callable[[int, int], None] | None:
    """A progress line on stderr while a first index reads many folders, when stderr is a
    terminal (a pipe or a log gets none); erased once done."""
    if not sys.stderr.isatty():
        return None
    shown = [0.0, 0]  # when it was last drawn, how long it was

    def report(done: int, total: int) -> None:
        if total < PROGRESS_MIN:
            return
        now = time.monotonic()
        if done < total and now - shown[0] < PROGRESS_EVERY_S:
            return
        text = "" if done >= total else f"indexing {done:,}/{plural(total, 'agent folder')}"
        sys.stderr.write("\r" + text.ljust(int(shown[1])) + ("\r" if not text else ""))
        sys.stderr.flush()
        shown[0], shown[1] = now, len(text)

    return report
