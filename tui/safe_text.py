"""Text from disk and from models must not drive the terminal.

Agent names, models, file names, messages and tool results come from files anyone can write
and from models anyone can prompt. Rich and Textual drop five control characters (bell,
backspace, vertical tab, form feed, carriage return) from every text they render, but escape,
which starts the sequences that clear the screen, move the cursor or retitle the window, and
the other C0 and C1 controls pass through to the terminal, and so do the characters that
reorder or hide text (``agent_tui.units.INVISIBLE``: a right-to-left override makes
``rtl\u202egnp.exe`` read as ``rtlexe.png``) and the lone surrogates a non-UTF-8 folder name
decodes to. :func:`install` adds them to both libraries' tables, each shown as a visible
picture (escape as ``␛``, the others as ``�``): one character for one, so styled spans keep
their places. The app calls it before it draws anything;
``tests/tui/test_tui_hostile_text.py`` fails if an upgrade of either library bypasses it.
"""

from __future__ import annotations

import rich.control
import textual.content

from agent_tui.units import INVISIBLE

KEPT = {0x09, 0x0A}  # tab and newline: layout, not control


def pictures() -> dict[int, str]:
    """Each C0 control (but tab and newline) as its Control Pictures glyph, DEL as ``␡``;
    each C1 control, invisible or reordering character and lone surrogate as ``�``."""
    table = {code: chr(0x2400 + code) for code in range(0x20) if code not in KEPT}
    table[0x7F] = "\u2421"
    hidden = (*range(0x80, 0xA0), *INVISIBLE, *range(0xD800, 0xE000))
    table.update({code: "\ufffd" for code in hidden})
    return table


def install() -> bool:
    """Extend Rich's and Textual's control-code tables in place (what the libraries already
    drop, they keep dropping). Returns False when a library no longer has its table."""
    tables = [
        getattr(rich.control, "_CONTROL_STRIP_TRANSLATE", None),
        getattr(textual.content, "_CONTROL_STRIP_TRANSLATE", None),
    ]
    for table in tables:
        if isinstance(table, dict):
            for code, picture in pictures().items():
                table.setdefault(code, picture)
    return all(isinstance(table, dict) for table in tables)
