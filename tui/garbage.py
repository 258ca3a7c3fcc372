"""When the garbage collector walks everything: at a quiet moment, not in the middle of a frame.

A full collection walks every tracked object, and a Textual screen holds many (each rendered
line keeps seven little caches). Python starts one whenever enough objects have survived, that
is where the allocations are: in the middle of a frame, where on a slow machine it added 10 to
40 ms to a refresh already 30 ms long. Two measures:

- :func:`settle_garbage` (``gc.freeze``): what exists after the first scan, or once a
  transcript is written, lives as long as the view; frozen, later passes walk only what came
  since. The cost: a reference cycle frozen while alive is never collected; acyclic objects
  (rendered lines, parsed JSON) are still freed as soon as they are dropped.
- :class:`QuietCollector`: the automatic full pass is off while the app runs; the app's
  one-second tick runs one once the disk has been quiet for :attr:`~QuietCollector.QUIET`
  seconds after a change, and at least every :attr:`~QuietCollector.MAX_WAIT` seconds of
  activity, so cycles are still freed within a minute.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

NEVER = 1_000_000  # young collections before a full one: never, in practice


def settle_garbage() -> None:
    """Move what lives now out of the garbage collector's sight (see the module docstring)."""
    gc.freeze()


class QuietCollector:
    """Full collections at quiet moments; :meth:`start` and :meth:`stop` bracket the app."""

    QUIET = 2.0  # seconds without a change on disk
    MAX_WAIT = 60.0  # seconds of activity at most between two full collections

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.last_busy = self.last_full = clock()
        self.changed = False  # since the last full collection
        self.collections = 0
        self._saved: tuple[int, int, int] | None = None

    def start(self) -> None:
        if self._saved is None:
            self._saved = gc.get_threshold()
            gc.set_threshold(self._saved[0], self._saved[1], NEVER)

    def stop(self) -> None:
        if self._saved is not None:
            gc.set_threshold(*self._saved)
            self._saved = None

    def busy(self) -> None:
        """Something changed (an autosave seen): frames are being drawn."""
        self.last_busy = self.clock()
        self.changed = True

    def tick(self) -> bool:
        """Collect now if it is time (see the class docstring); True when it did."""
        now = self.clock()
        quiet = now - self.last_busy >= self.QUIET
        overdue = now - self.last_full >= self.MAX_WAIT
        if not (self.changed and quiet) and not overdue:
            return False
        gc.collect()
        self.last_full, self.changed = self.clock(), False
        self.collections += 1
        return True
