"""A base for the line-API views (the transcript, the agent list): cheap to grow and to draw.

Two costs of a plain ``ScrollView`` that these views pay on every autosave, avoided here:

- Its ``virtual_size`` is a layout reactive: a change lays the whole screen out again (15-28 ms
  on a slow machine). Here it changes only the view's own scroll range, and asks for a layout
  only when the vertical scrollbar comes or goes, or the width changes.
- ``rich_style`` walks every ancestor's styles (about 0.26 ms on a slow machine); looked up for
  each line it was most of a frame. :attr:`line_style` is looked up once per frame.
"""

from __future__ import annotations

from rich.style import Style
from textual.geometry import Region, Size
from textual.reactive import Reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip


class LineView(ScrollView):
    """See the module docstring. Subclasses draw with :attr:`line_style` in ``render_line``."""

    virtual_size: Reactive[Size] = Reactive(Size(0, 0))

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.line_style = Style()  # this frame's (see render_lines)

    def watch_virtual_size(self, old: Size, new: Size) -> None:
        height = self.scrollable_content_region.height
        if (old.height > height) != (new.height > height) or old.width != new.width:
            self.refresh(layout=True)  # the scrollbar comes or goes
        else:
            self._scroll_update(new)
            self.refresh()

    def render_lines(self, crop: Region) -> list[Strip]:
        self.line_style = self.rich_style
        return super().render_lines(crop)
