"""How a run is stopped: :meth:`RunSignals.request_stop` from another thread, SIGTERM in the
main thread (both end in :class:`~agent_tui.models.StopRequested` at the next check), and
Ctrl-C and SIGTERM held back while the final state is written."""

from __future__ import annotations

import signal
import threading
from typing import Any

from agent_tui.models import StopRequested

_HELD = {signal.SIGINT, signal.SIGTERM}


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


class RunSignals:
    """The stop request of one agent and its SIGTERM handler during a run."""

    def __init__(self) -> None:
        # Passed to the model call too, so a stop ends a stream or a retry wait at once.
        self.stop = threading.Event()
        # True while the final state is written: a SIGTERM then must not cut it short.
        self.finishing = False

    def request_stop(self) -> None:
        self.stop.set()

    def check(self) -> None:
        """Raise :class:`StopRequested` when a stop was asked for."""
        if self.stop.is_set():
            raise StopRequested()

    def install_sigterm(self) -> Any:
        """SIGTERM stops the run; returns the handler it replaced (None off the main thread,
        where signals cannot be handled)."""
        if not _in_main_thread():
            return None

        def on_sigterm(signum: int, frame: Any) -> None:
            if not self.finishing:
                raise StopRequested("SIGTERM")

        return signal.signal(signal.SIGTERM, on_sigterm)

    def restore_sigterm(self, previous: Any) -> None:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)

    def hold(self) -> bool:
        """Hold Ctrl-C and SIGTERM (main thread only): another one while the final state is
        written would lose it. They are delivered at :meth:`release`. True when held."""
        if not _in_main_thread():
            return False
        signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
        return True

    def release(self, held: bool) -> None:
        if held:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _HELD)
