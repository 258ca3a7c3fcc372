"""A Static that lays the screen out only when its shape changes.

``Static.update`` asks for a layout of the whole screen every time (15-28 ms a frame on a slow
machine). A view that rewrites its header and document on every autosave mostly changes numbers
in place: the same lines, each as long, the same height. This one updates those in place, skips
an update to the same content, and asks for a layout only when the lines change shape.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


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
