"""Widgets that lay the screen out only when their shape changes.

``Static.update`` asks for a layout of the whole screen every time, and so does each key typed
in an ``Input`` (its virtual size, the width of its text, is a layout reactive): 15-40 ms a
frame on a slow machine. A view that rewrites its header and document on every autosave mostly
changes numbers in place: the same lines, each as long, the same height; a filter box has the
size its CSS gives it, whatever is typed. These widgets update in place and ask for a layout
only when the lines change shape.
"""

from __future__ import annotations

from rich.text import Text
from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import Input, Static


def _shape(content: object) -> tuple[int, ...] | None:
    plain = content.plain if isinstance(content, Text) else content
    if not isinstance(plain, str):
        return None  # another renderable: its size is unknown, always lay out
    return tuple(len(line) for line in plain.split("\n"))


class SteadyStatic(Static):
    """See the module docstring."""

    _shown: object = None

    def update(self, content: object = "", *, layout: bool | None = None) -> None:
        if content == self._shown:
            return
        shape = _shape(content)
        if layout is None:
            layout = shape is None or shape != _shape(self._shown)
        self._shown = content
        super().update(content, layout=layout)  # type: ignore[arg-type]


class SteadyInput(Input):
    """An ``Input`` of a fixed size (set in CSS): what is typed moves its own scroll range,
    never the layout of the screen."""

    virtual_size: Reactive[Size] = Reactive(Size(0, 0))

    def watch_virtual_size(self, new: Size) -> None:
        self._scroll_update(new)
