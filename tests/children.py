"""Child processes for tests: the real command line, with a hard time bound (a hang fails)."""

from __future__ import annotations

import subprocess
import sys

CHILD_TIMEOUT = 120  # seconds; a reader that takes longer counts as hung


def agent_tui(*argv: str, env: dict[str, str], timeout: float = CHILD_TIMEOUT):
    """``agent-tui ARGV`` in a child process; returns the ``CompletedProcess`` (text mode).
    Raises ``subprocess.TimeoutExpired`` when it does not finish in ``timeout`` seconds."""
    return subprocess.run(
        [sys.executable, "-m", "agent_tui.cli", *argv],
        env=env,
        capture_output=True,
        text=True,
        # Undecodable bytes stay visible to the test as lone surrogates instead of failing here.
        errors="surrogateescape",
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
