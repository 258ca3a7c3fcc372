"""The key bar at the bottom of every screen, compact on a small terminal."""

from __future__ import annotations

from textual import events
from textual.widgets import Footer

COMPACT_BELOW = 120  # columns


class KeyFooter(Footer):
    """A ``Footer`` that drops its padding when the terminal is narrower than
    :data:`COMPACT_BELOW` columns, so the keys of an 80-column screen fit on its line."""

    def on_resize(self, event: events.Resize) -> None:
        self.compact = event.size.width < COMPACT_BELOW
