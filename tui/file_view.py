"""The File tab: a viewer fit for the file picked in the tree.

JSON as a folded tree, ``.jsonl`` (the journal) a record to a line, Markdown rendered, CSV as a
table, and anything else as text read in windows, as toolong reads logs: the view opens on the
file's last 256 KiB and follows what is appended; scrolling to the top reads the window before,
``home`` jumps to the start, ``end`` back to the live tail. So a 1 GB log opens as fast as a
small one, and no file is ever read whole. Every read runs in a thread worker through
:mod:`agent_tui.workspace.files` (no links followed, no FIFO opened, no device read); every text
shown is masked by the app's redactor first. Non-regular entries (a link, a FIFO, a device)
are described, never opened.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip
from textual.widgets import ContentSwitcher, DataTable, Markdown, Static, Tree
from textual.widgets.tree import TreeNode

from agent_tui.format.persistence import WorkspaceFileError
from agent_tui.redaction import Redactor
from agent_tui.tui.line_view import LineView
from agent_tui.units import format_bytes, shorten
from agent_tui.workspace.files import (
    FileEntry,
    Window,
    looks_binary,
    read_after,
    read_before,
    read_head,
    read_tail,
)

# Documents read whole for a structured view; larger ones are shown as text windows.
DOCUMENT_LIMIT = 4 * 1024 * 1024
MARKDOWN_LIMIT = 1024 * 1024
CSV_ROWS = 1000
CSV_COLUMNS = 40
JSON_NODES = 5000
# The text view keeps at most this many lines; more are read again when scrolled back to.
MAX_LINES = 100_000
LINE_WIDTH = 2000  # cells of one line drawn (a 10 MB line is cut, not laid out)
POLL_SECONDS = 0.5

KIND_TEXT = {
    "folder": "a folder: open it in the tree on the left",
    "fifo": "a FIFO (named pipe): not opened, reading it could block",
    "socket": "a socket: not opened",
    "device": "a device: not read",
    "other": "not a regular file: not read",
}


def kind_of(entry: FileEntry) -> str:
    """The viewer for ``entry``: json, jsonl, markdown, csv or text."""
    suffix = os.path.splitext(entry.name)[1].lower()
    return {
        ".json": "json",
        ".jsonl": "jsonl",
        ".ndjson": "jsonl",
        ".md": "markdown",
        ".markdown": "markdown",
        ".csv": "csv",
        ".tsv": "csv",
    }.get(suffix, "text")


def journal_line(raw: str) -> str:
    """One journal record as a step line (``seq 12  step 3  2 messages``); other JSON lines
    and broken ones as they are."""
    try:
        record = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw
    if not isinstance(record, dict) or "kind" not in record:
        return raw
    parts = [f"seq {record.get('seq', '?')}", str(record.get("kind"))]
    if "loop_count" in record:
        parts.append(f"step {record['loop_count']}")
    stamp = record.get("ts")
    if isinstance(stamp, str):  # the time of day: the date is the same for most of a run
        parts.append(stamp[11:19] if len(stamp) >= 19 and stamp[10] == "T" else stamp)
    messages = record.get("messages")
    if isinstance(messages, list):
        parts.append(f"{len(messages)} message{'s' if len(messages) != 1 else ''}")
        last = messages[-1] if messages else None
        if isinstance(last, dict) and isinstance(last.get("content"), str):
            parts.append(f"{last.get('role', '?')}: {shorten(last['content'], 80)}")
    if isinstance(record.get("task"), str):
        parts.append(f"task: {shorten(record['task'], 80)}")
    if record.get("status"):
        parts.append(f"status {record['status']}")
    return "  ".join(str(part).replace("\n", " ") for part in parts)


def decode_lines(
    data: bytes, start: int, redactor: Redactor, journal: bool
) -> tuple[list[str], list[int]]:
    """The lines of ``data`` (read from byte ``start``), masked, and each one's offset."""
    raw = data.split(b"\n")
    if raw and raw[-1] == b"":
        raw.pop()
    offsets, at = [], start
    for line in raw:
        offsets.append(at)
        at += len(line) + 1
    text = [line.decode("utf-8", "replace").rstrip("\r") for line in raw]
    masked = redactor.redact_text("\n".join(text)).split("\n")
    if len(masked) != len(text):  # a mask never holds a newline, but never trust a count
        masked = [redactor.redact_text(line) for line in text]
    if journal:
        masked = [journal_line(line) for line in masked]
    return masked, offsets


# ------------------------------------------------------------------------- the text view
@dataclass
class WindowRead(Message):
    """A thread's read of the text view's file: ``how`` is replace, before or after."""

    view: TextView
    generation: int
    how: str
    window: Window | None
    lines: list[str]
    offsets: list[int]
    problem: str | None = None

    @property
    def control(self) -> TextView:
        return self.view


class TextView(LineView, can_focus=True):
    """Lines of a file read in windows (see the module docstring)."""

    DEFAULT_CSS = """
    TextView { background: $surface; }
    """
    BINDINGS = [
        Binding("home,g", "head", "Start", show=False),
        Binding("end,G", "tail", "End", show=False),
    ]

    def __init__(self, redactor: Redactor, **kwargs) -> None:
        super().__init__(**kwargs)
        self.redactor = redactor
        self.path: Path | None = None
        self.journal = False
        self.lines: list[str] = []
        self.offsets: list[int] = []  # each line's first byte
        self.end = 0  # just after the last whole line read
        self.read_to = 0  # just after the last byte read (the unfinished line's too)
        self.partial = False  # the last line has no newline yet (being written)
        self.file_size = -1
        self.ino = -1
        self.follow = True  # keep the end in view as the file grows
        self._generation = 0
        self._busy = False
        self._placing = False
        self._width = 0

    # Loading.

    def open(self, path: Path, *, journal: bool = False) -> None:
        self.path, self.journal = path, journal
        self._generation += 1
        self.lines, self.offsets, self.end, self.read_to, self.partial = [], [], 0, 0, False
        self.file_size = self.ino = -1
        self.follow = True
        self._width = 0
        self.virtual_size = Size(0, 0)
        self._read("replace", None)

    def on_mount(self) -> None:
        self.set_interval(POLL_SECONDS, self._poll)

    def _read(self, how: str, at: int | None) -> None:
        if self.path is None:
            return
        self._busy = True
        self._read_in_thread(self.path, self._generation, how, at, self.journal)

    @work(thread=True, group="file-window", exit_on_error=False, description="read a file")
    def _read_in_thread(
        self, path: Path, generation: int, how: str, at: int | None, journal: bool
    ) -> None:
        try:
            if how == "replace":
                window = read_tail(path) if at is None else read_after(path, at)
            elif how == "before":
                window = read_before(path, at or 0)
            else:
                window = read_after(path, at or 0)
        except WorkspaceFileError as exc:
            self.post_message(WindowRead(self, generation, how, None, [], [], exc.reason))
            return
        lines, offsets = decode_lines(window.data, window.start, self.redactor, journal)
        self.post_message(WindowRead(self, generation, how, window, lines, offsets))

    def on_window_read(self, event: WindowRead) -> None:
        if event.generation != self._generation:
            return
        self._busy = False
        window = event.window
        if window is None:
            self.lines, self.offsets = [f"cannot read: {event.problem}"], [0]
            self._changed()
            return
        self.file_size, self.ino = window.size, window.ino
        partial = bool(window.data) and not window.data.endswith(b"\n")
        if event.how == "replace":
            self.lines, self.offsets = event.lines, event.offsets
        elif event.how == "before":
            self.lines[:0], self.offsets[:0] = event.lines, event.offsets
            if len(self.lines) > MAX_LINES:  # drop the far end: read again when scrolled to
                del self.lines[MAX_LINES:], self.offsets[MAX_LINES:]
                self.follow = self.partial = False
                self.end = self.read_to = self.offsets[-1]
            self._changed()
            # The lines in view stay in view, now further down.
            self._scroll_quietly(self.scroll_y + len(event.lines))
            self.call_after_refresh(self._check_edges)
            return
        else:  # after: appended lines (the unfinished last line read again, finished)
            if self.partial and self.lines:
                self.lines.pop()
                self.offsets.pop()
            self.lines.extend(event.lines)
            self.offsets.extend(event.offsets)
            if len(self.lines) > MAX_LINES:
                cut = len(self.lines) - MAX_LINES
                del self.lines[:cut], self.offsets[:cut]
                self._scroll_quietly(max(0, self.scroll_y - cut))
        self.partial = partial
        self.read_to = window.end
        # Where the next read of appended bytes starts: the unfinished line is read again.
        self.end = self.offsets[-1] if partial and self.offsets else window.end
        self._changed()
        self.call_after_refresh(self._check_edges)

    def _changed(self) -> None:
        widest = max((len(line) for line in self.lines[-200:]), default=0)
        self._width = min(LINE_WIDTH, max(self._width, widest))
        self.virtual_size = Size(self._width, len(self.lines))
        if self.follow:
            # After the new size is laid out: scroll_end measures the range it scrolls in.
            self.call_after_refresh(self._to_end)
        self.refresh()

    def _to_end(self) -> None:
        if self.follow:
            self._scroll_quietly(len(self.lines) - self.scrollable_content_region.height)

    def _scroll_quietly(self, y: float) -> None:
        """Scroll without reading (a move of ours, not the user's, at an edge)."""
        self._placing = True
        try:
            self.scroll_to(y=max(0, y), animate=False, immediate=True)
        finally:
            self._placing = False

    def _poll(self) -> None:
        """Read what was appended (the file grew) or the tail again (it was rewritten)."""
        if self.path is None or self._busy or not self.is_attached or not self.display:
            return
        try:
            info = os.lstat(self.path)
        except OSError:
            return
        if info.st_ino != self.ino or info.st_size < self.end:
            self._generation += 1
            self._read("replace", None)
        elif self.follow and info.st_size != self.file_size:
            self._read("after", self.end)

    # Moving.

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if not self._placing:
            self._check_edges()

    def _check_edges(self) -> None:
        """At the top, read the window before; at the bottom, what follows, or follow the
        file when its end is in view."""
        if self._busy or not self.offsets or self.path is None:
            return
        y = self.scroll_y
        if y <= 0 and self.offsets[0] > 0:
            self._read("before", self.offsets[0])
            return
        at_bottom = y >= self.max_scroll_y
        self.follow = at_bottom and self.read_to >= self.file_size
        if at_bottom and self.read_to < self.file_size:
            self._read("after", self.end)

    def action_head(self) -> None:
        self._generation += 1
        self.follow = False
        self._scroll_quietly(0)
        self._read("replace", 0)

    def action_tail(self) -> None:
        self._generation += 1
        self.follow = True
        self._read("replace", None)

    def on_resize(self, event: events.Resize) -> None:
        self.refresh()

    # Drawing.

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        row = int(self.scroll_y) + y
        if row >= len(self.lines):
            return Strip.blank(width, self.line_style)
        line = self.lines[row][: LINE_WIDTH + int(self.scroll_x)]
        text = Text(line, no_wrap=True, overflow="crop", end="")
        segments = list(text.render(self.app.console, end=""))
        strip = Strip(segments).crop(int(self.scroll_x), int(self.scroll_x) + width)
        strip = Strip(Segment.adjust_line_length(list(strip), width, Style()), width)
        return strip.apply_style(self.line_style)


# ------------------------------------------------------------------------- documents
@dataclass
class DocumentRead(Message):
    """A thread's read of a document for the structured viewers."""

    viewer: FileView
    generation: int
    kind: str
    value: Any  # the parsed JSON, the Markdown text or the CSV rows
    note: str = ""


def json_label(key: str | None, value: Any) -> Text:
    label = Text()
    if key is not None:
        label.append(key, style="bold")
        label.append(": ")
    if isinstance(value, dict):
        label.append(f"{{{len(value)}}}", style="dim")
    elif isinstance(value, list):
        label.append(f"[{len(value)}]", style="dim")
    elif isinstance(value, str):
        label.append(repr(shorten(value, 200)) if "\n" in value else f'"{shorten(value, 200)}"',
                     style="green")  # fmt: skip
    elif value is None or isinstance(value, bool):
        label.append(str(value).lower() if value is not None else "null", style="magenta")
    else:
        label.append(str(value), style="cyan")
    return label


def fill_json(node: TreeNode, value: Any, budget: list[int], depth: int = 0) -> None:
    """Add ``value``'s members under ``node`` (at most ``budget[0]`` nodes in all); the first
    two levels open, the rest folded."""
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        if budget[0] <= 0:
            node.add_leaf(Text("... (more not shown)", style="dim italic"))
            return
        budget[0] -= 1
        label = json_label(str(key) if isinstance(value, dict) else f"[{key}]", item)
        if isinstance(item, (dict, list)) and item:
            child = node.add(label, expand=depth < 1)
            fill_json(child, item, budget, depth + 1)
        else:
            node.add_leaf(label)


def read_document(path: Path, kind: str, redactor: Redactor) -> tuple[str, Any, str]:
    """(viewer kind, value, note) for ``path``: ``text`` when it is too large or does not
    parse as its name says (the text view then shows it as it is)."""
    limit = MARKDOWN_LIMIT if kind == "markdown" else DOCUMENT_LIMIT
    data, size = read_head(path, limit)
    if size > limit:
        return "text", None, f"{format_bytes(size)}: larger than {format_bytes(limit)}, as text"
    if looks_binary(data):
        return "binary", None, ""
    if kind == "json":
        try:
            return "json", redactor.redact(orjson.loads(data)), ""
        except orjson.JSONDecodeError as exc:
            return "text", None, f"not valid JSON ({exc}), as text"
    text = redactor.redact_text(data.decode("utf-8", "replace"))
    if kind == "markdown":
        return "markdown", text, ""
    dialect = "excel-tab" if path.suffix.lower() == ".tsv" else "excel"
    rows = []
    try:
        for row in csv.reader(io.StringIO(text), dialect=dialect):
            rows.append([shorten(cell.replace("\n", " "), 60) for cell in row[:CSV_COLUMNS]])
            if len(rows) > CSV_ROWS:
                break
    except csv.Error as exc:
        return "text", None, f"not valid CSV ({exc}), as text"
    return "csv", rows, ""


class FileView(Vertical):
    """The file picked in the tree, in the viewer its kind calls for."""

    DEFAULT_CSS = """
    FileView { height: 1fr; }
    FileView > #file-header { height: auto; color: $text-muted; padding: 0 1; }
    FileView ContentSwitcher { height: 1fr; }
    FileView #file-json, FileView #file-csv, FileView #file-markdown { height: 1fr; }
    FileView #file-note { padding: 1 2; }
    """

    def __init__(self, redactor: Redactor, **kwargs) -> None:
        super().__init__(**kwargs)
        self.redactor = redactor
        self.folder: Path | None = None
        self.entry: FileEntry | None = None
        self.shown_kind = "note"
        self._generation = 0

    def compose(self) -> ComposeResult:
        yield Static(
            "Pick a file in the tree (enter on an agent lists its files).", id="file-header"
        )
        with ContentSwitcher(initial="file-note"):
            yield Static("", id="file-note")
            yield TextView(self.redactor, id="file-text")
            yield Tree[None]("", id="file-json")
            yield Markdown("", id="file-markdown", open_links=False)
            yield DataTable(id="file-csv", zebra_stripes=True)

    @property
    def path(self) -> Path | None:
        if self.folder is None or self.entry is None:
            return None
        return Path(self.entry.path_in(self.folder))

    def show(self, folder: Path, entry: FileEntry) -> None:
        """Open ``entry`` of the agent folder ``folder``."""
        if self.folder == folder and self.entry is not None and self.entry.rel == entry.rel \
                and self.entry.base == entry.base:  # fmt: skip
            return  # the same file, perhaps rewritten: each viewer follows it itself
        self.folder, self.entry = folder, entry
        self._generation += 1
        size = "" if entry.kind == "folder" else f"  {format_bytes(entry.size)}"
        self.query_one("#file-header", Static).update(
            Text.assemble((entry.rel, "bold"), size, ("  e edit  o pager", "dim"))
        )
        path = self.path
        assert path is not None
        if entry.kind == "link":
            try:
                target = self.redactor.redact_text(os.readlink(path))
            except OSError as exc:
                target = f"? ({exc.strerror})"
            self._note(f"a symbolic link to {target}: not followed")
            return
        if entry.kind != "file":
            self._note(KIND_TEXT.get(entry.kind, KIND_TEXT["other"]))
            return
        kind = kind_of(entry)
        if kind in ("text", "jsonl"):
            self._text(path, journal=kind == "jsonl")
            return
        self._note("reading...")
        self._read_document(path, kind, self._generation)

    def _note(self, text: str) -> None:
        self.query_one("#file-note", Static).update(Text(text))
        self._switch("file-note")

    def _text(self, path: Path, *, journal: bool) -> None:
        view = self.query_one("#file-text", TextView)
        view.open(path, journal=journal)
        self._switch("file-text")

    def _switch(self, which: str) -> None:
        self.shown_kind = which
        self.query_one(ContentSwitcher).current = which

    @work(thread=True, group="file-document", exit_on_error=False, description="read a file")
    def _read_document(self, path: Path, kind: str, generation: int) -> None:
        try:
            shown, value, note = read_document(path, kind, self.redactor)
        except WorkspaceFileError as exc:
            shown, value, note = "note", None, f"cannot read: {exc.reason}"
        self.post_message(DocumentRead(self, generation, shown, value, note))

    def on_document_read(self, event: DocumentRead) -> None:
        if event.generation != self._generation or self.path is None:
            return
        if event.kind == "note":
            self._note(event.note)
        elif event.kind == "binary":
            self._note("binary data: not shown (o opens it in $PAGER)")
        elif event.kind == "text":
            self._text(self.path, journal=False)
            if event.note:
                self.notify(event.note, timeout=4)
        elif event.kind == "json":
            tree = self.query_one("#file-json", Tree)
            tree.clear()
            value = event.value
            tree.root.set_label(json_label(None, value))
            if isinstance(value, (dict, list)):
                fill_json(tree.root, value, [JSON_NODES])
            tree.root.expand()
            self._switch("file-json")
        elif event.kind == "markdown":
            self.query_one("#file-markdown", Markdown).update(event.value)
            self._switch("file-markdown")
        else:
            table = self.query_one("#file-csv", DataTable)
            table.clear(columns=True)
            rows = event.value
            if rows:
                width = max(len(row) for row in rows)
                head = rows[0] + [""] * (width - len(rows[0]))
                table.add_columns(*(Text(cell, style="bold") for cell in head))
                for row in rows[1:CSV_ROWS]:
                    table.add_row(*(Text(cell) for cell in row + [""] * (width - len(row))))
            self._switch("file-csv")
