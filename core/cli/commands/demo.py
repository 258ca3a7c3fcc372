"""``agent-tui demo``: its options go to :func:`agent_tui.demo.main` untouched."""

from __future__ import annotations

import argparse


def cmd_demo(args: argparse.Namespace) -> int:
    from agent_tui.demo import main as demo_main

    extra = list(args.demo_args)
    if args.workspace is not None and "--workspace" not in extra:
        extra = ["--workspace", str(args.workspace), *extra]
    return demo_main(extra, open_app=args.open_demo)
