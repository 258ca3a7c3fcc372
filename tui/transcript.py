"""A log of rendered messages that keeps the messages, not their lines.

Textual's ``RichLog`` renders what it is given once, into lines (a ``Strip`` each, with seven
small caches) that it keeps for as long as it holds the message. A State tab following a run
holds hundreds of messages, so thousands of such lines: tracked objects the garbage collector
walks on every full pass, and on a slow machine those passes were the longest stalls of an
autosave left on the UI. They are also wrapped for good at the width they were written at.

This log keeps each message as its ``Text`` and the number of lines it wraps to at the current
width. A line is drawn from its message when it comes into view (the lines of the few messages
on screen are cached), so a resize wraps everything again at the new width, and what the
collector walks grows by a message, not by its lines.
"""

from __future__ import annotations

from bisect import bisect_right

from rich.text import Text
from textual import events
from textual.cache import LRUCache
from textual.geometry import Size
from textual.strip import Strip

from agent_tui.tui.line_view import LineView

GAP = 1  # blank lines after each message


class Transcript(LineView, can_focus=True):
    """Messages, wrapped to the width, each followed by a blank line; scrolls as a log."""

    DEFAULT_CSS = """
    Transcript {
        overflow-x: hidden;
        overflow-y: auto;
        scrollbar-gutter: stable;
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.pieces: list[Text] = []
        self._ends: list[int] = []  # the line after each message's last, at self._width
        self._width = 0
        self._lines: LRUCache[int, list[Strip]] = LRUCache(64)  # message index -> its lines
        self._at_end = True  # scrolled to the last line (as of the last scroll)

    @property
    def line_count(self) -> int:
        return self._ends[-1] if self._ends else 0

    def write(self, text: Text) -> None:
        """Add ``text`` at the end (the view does not scroll: see :meth:`scroll_end`)."""
        self.pieces.append(text)
        if self._width:
            lines = self._wrap(text)
            self._lines[len(self.pieces) - 1] = lines
            self._ends.append(self.line_count + len(lines) + GAP)
            self._grow()

    def clear(self) -> None:
        self.pieces = []
        self._ends = []
        self._lines.clear()
        self._grow()
        self.refresh()

    def _wrap(self, text: Text) -> list[Strip]:
        console = self.app.console
        options = console.options.update_width(self._width)
        return [Strip(line, self._width) for line in console.render_lines(text, options)]

    def _grow(self) -> None:
        self.virtual_size = Size(self._width, self.line_count)

    def _rewrap(self, width: int) -> None:
        """Wrap every message again at ``width``, keeping the top line's message in view."""
        # The new size is in place, the old lines too: whether the end was in view is as of
        # the last scroll.
        following = self._at_end
        top = bisect_right(self._ends, self.scroll_y)
        self._width = width
        self._lines.clear()
        ends, end = [], 0
        for text in self.pieces:  # heights only: the lines in view are drawn when they show
            end += len(self._wrap(text)) + GAP
            ends.append(end)
        self._ends = ends
        self._grow()
        # After the refresh: the scroll range is the new one only once the screen is laid out.
        if following:
            self.scroll_end(animate=False)
        else:
            self.scroll_to(y=self._ends[top - 1] if top else 0, animate=False)
        self.refresh()

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._at_end = new >= self.max_scroll_y

    @property
    def allow_vertical_scroll(self) -> bool:
        # Textual allows a scroll once the layout has shown a scrollbar: a scroll to the end
        # asked for between a write and that layout was dropped, leaving the reader at the top.
        return not self._check_disabled() and self.max_scroll_y > 0

    @property
    def following(self) -> bool:
        """The end was in view as of the last scroll: lines added or taken away since keep it."""
        return self._at_end

    def on_resize(self, event: events.Resize) -> None:
        width = self.scrollable_content_region.width
        if width > 0 and width != self._width:
            self._rewrap(width)
        elif self._at_end:  # shorter or taller only: the last line stays at the bottom
            self.scroll_end(animate=False)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        line = y + self.scroll_offset.y
        style = self.line_style
        if line >= self.line_count or not self._width:
            return Strip.blank(width, style)
        index = bisect_right(self._ends, line)
        start = self._ends[index - 1] if index else 0
        lines = self._lines.get(index)
        if lines is None:
            lines = self._lines[index] = self._wrap(self.pieces[index])
        if line - start >= len(lines):
            return Strip.blank(width, style)  # the gap after the message
        return lines[line - start].crop_extend(0, width, style).apply_style(style)
