"""The search screen: full text over every transcript of every workspace root, as you type.

An input at the top, a status line, and under them the messages found, newest first, one line
each: the agent, its step, the role and a snippet with the words typed highlighted. Each key
typed waits :attr:`SearchScreen.DEBOUNCE_SECONDS` for the next; then a thread worker calls
:func:`agent_tui.search.search` once per root (never on the UI thread: a cold index reads every
folder) and the screen shows what the latest query found, whatever older workers return later.
Enter dismisses the screen with a :class:`SearchPick` (the agent's folder and the message's
step and index); escape with ``None``.

Everything shown comes from files anyone writes: each hit is masked again with the app's
redactor, made one line, and drawn as :class:`~rich.text.Text` (never markup), so the app's
:mod:`~agent_tui.tui.safe_text` pictures stand for the escape codes it holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.screen import Screen
from textual.strip import Strip
from textual.timer import Timer
from textual.widgets import Header, Input
from textual.worker import Worker, WorkerState, get_current_worker

from agent_tui.redaction import Redactor
from agent_tui.search import Hit, query_terms, search, snippet
from agent_tui.tui.footer import KeyFooter
from agent_tui.tui.line_view import LineView
from agent_tui.tui.steady_static import SteadyInput, SteadyStatic
from agent_tui.units import clip, plural

LIMIT = 50
GAP = 2  # blank columns between the parts of a result line
AGENT_MAX, AGENT_MIN = 32, 8  # the agent column shrinks first, down to this
ROLE_MAX, ROLE_MIN = 12, 4
QUERY_ECHO = 40  # characters of the query the status line repeats
HINT = "Type words to find in every transcript (any case, every word must be found)."


@dataclass(frozen=True, slots=True)
class SearchPick:
    """The message picked: the agent's folder, the message's step (``None`` for a swarms
    agent, which records none) and its index in the folder's conversation."""

    folder: Path
    step: int | None
    message_index: int


@dataclass(frozen=True, slots=True)
class ResultRow:
    """One hit as it is shown: every part masked and one line."""

    agent: str
    step: str
    role: str
    snippet: str
    pick: SearchPick


def one_line(text: str) -> str:
    """``text`` with its line breaks and runs of white space as one space (its control
    characters are left to :mod:`~agent_tui.tui.safe_text`, which shows them as pictures)."""
    return " ".join(text.split())


def result_row(hit: Hit, redactor: Redactor) -> ResultRow:
    """``hit`` masked again (the index may predate a secret) and made one line."""
    mask = redactor.redact_text
    return ResultRow(
        agent=one_line(mask(hit.agent)),
        step="step -" if hit.step is None else f"step {hit.step}",
        role=one_line(mask(hit.role)),
        snippet=one_line(mask(hit.snippet)),
        pick=SearchPick(hit.folder, hit.step, hit.message_index),
    )


def merge(found: list[list[Hit]], limit: int) -> list[Hit]:
    """The hits of several roots, each list newest first, taken in turn (the first of each,
    then the second of each, ...) up to ``limit``: each root's order is kept, and no root
    hides the others."""
    merged: list[Hit] = []
    for rank in range(max(map(len, found), default=0)):
        merged += [hits[rank] for hits in found if rank < len(hits)]
    return merged[:limit]


def word_pattern(terms: list[str]) -> re.Pattern[str] | None:
    """The query's words as whole words, any case (as the index finds them); ``None`` for
    no words."""
    if not terms:
        return None
    words = "|".join(map(re.escape, sorted(terms, key=len, reverse=True)))
    return re.compile(rf"(?<![^\W_])(?:{words})(?![^\W_])", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Columns:
    """The widths of a result line's parts; the snippet takes the rest."""

    agent: int
    step: int
    role: int

    @classmethod
    def fit(cls, rows: list[ResultRow], width: int) -> Columns:
        """Widths for ``rows`` in ``width`` cells: each part as wide as its longest (capped),
        then the agent, then the role, narrowed until the snippet has half the line."""
        agent = min(AGENT_MAX, max((Text(r.agent).cell_len for r in rows), default=AGENT_MIN))
        role = min(ROLE_MAX, max((Text(r.role).cell_len for r in rows), default=ROLE_MIN))
        step = max((len(r.step) for r in rows), default=0)
        agent, role = max(agent, AGENT_MIN), max(role, ROLE_MIN)
        over = agent + role + step + 3 * GAP - width // 2
        if over > 0:
            cut = min(over, agent - AGENT_MIN)
            agent -= cut
            role -= min(over - cut, role - ROLE_MIN)
        return cls(agent, step, role)


def fit(text: Text, width: int) -> Text:
    """``text`` cut (with an ellipsis) or padded to exactly ``width`` cells."""
    text = text.copy()
    text.truncate(width, overflow="ellipsis", pad=True)
    return text


class ResultList(LineView):
    """The hits, one line each, with a cursor; drawn only where they are on screen. It never
    takes the focus: the input keeps it, and the screen moves the cursor."""

    DEFAULT_CSS = """
    ResultList {
        background: $surface;
        overflow-x: hidden;
        & > .result-list--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .result-list--agent { text-style: bold; }
        & > .result-list--step { text-style: dim; }
        & > .result-list--role { color: $text-secondary; }
        & > .result-list--match { color: $text-warning; text-style: bold; }
    }
    """
    COMPONENT_CLASSES = {
        "result-list--cursor",
        "result-list--agent",
        "result-list--step",
        "result-list--role",
        "result-list--match",
    }

    @dataclass
    class Picked(Message):
        """A result was double-clicked."""

        results: ResultList

        @property
        def control(self) -> ResultList:
            return self.results

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.rows: list[ResultRow] = []
        self.cursor = 0
        self._words: re.Pattern[str] | None = None
        self._terms: list[str] = []
        self._columns = Columns.fit([], 0)
        self._lines: dict[int, Strip] = {}  # row -> its line at the current width

    @property
    def selected(self) -> ResultRow | None:
        return self.rows[self.cursor] if self.rows else None

    def set_rows(self, rows: list[ResultRow], terms: list[str]) -> None:
        """Show ``rows`` (found for the words ``terms``), the cursor on the first."""
        self.rows = rows
        self._terms = terms
        self._words = word_pattern(terms)
        self.cursor = 0
        self._relayout()
        self.scroll_to(y=0, animate=False, immediate=True)

    def move_cursor(self, row: int) -> None:
        if not self.rows:
            return
        self.cursor = max(0, min(row, len(self.rows) - 1))
        top, height = int(self.scroll_y), max(1, self.scrollable_content_region.height)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)
        self.refresh()

    @property
    def page(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def on_resize(self, event: events.Resize) -> None:
        self._relayout()

    def _relayout(self) -> None:
        self._lines.clear()
        width = self.scrollable_content_region.width
        self._columns = Columns.fit(self.rows, width)
        self.virtual_size = Size(width, len(self.rows))
        self.refresh()

    def on_click(self, event: events.Click) -> None:
        row = int(self.scroll_y) + event.y
        if 0 <= row < len(self.rows):
            self.move_cursor(row)
            if event.chain == 2:
                self.post_message(self.Picked(self))

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        row = int(self.scroll_y) + y
        if row >= len(self.rows):
            return Strip.blank(width, self.line_style)
        if row == self.cursor:  # drawn each time: the cursor's line drops the dim colours
            strip = self._line(self.rows[row], width, cursor=True)
            cursor = self.get_component_rich_style("result-list--cursor")
            return strip.apply_style(self.line_style + cursor)
        cached = self._lines.get(row)
        if cached is None:
            cached = self._lines[row] = self._line(self.rows[row], width)
        strip = cached
        return strip.apply_style(self.line_style)

    def _line(self, row: ResultRow, width: int, *, cursor: bool = False) -> Strip:
        """One result as exactly ``width`` cells: agent, step, role, then what is left of the
        snippet, cut again around the first word found."""
        columns = self._columns

        def style(name: str) -> Style:  # its own colours only: the cursor's background shows
            if cursor and name in ("result-list--step", "result-list--role"):
                return Style()
            return self.get_component_rich_style(name, partial=True)

        gap = Text(" " * GAP)
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append_text(fit(Text(row.agent, style=style("result-list--agent")), columns.agent))
        line.append_text(gap)
        line.append_text(fit(Text(row.step, style=style("result-list--step")), columns.step))
        line.append_text(gap)
        line.append_text(fit(Text(row.role, style=style("result-list--role")), columns.role))
        line.append_text(gap)
        room = width - line.cell_len
        if room > 0:
            text = snippet(row.snippet, self._terms, room) if self._terms else row.snippet
            found = Text(text)
            if self._words is not None:
                found.highlight_regex(self._words, style=style("result-list--match"))
            line.append_text(fit(found, room))
        segments = list(line.render(self.app.console, end=""))
        return Strip(Segment.adjust_line_length(segments, width, Style()), width)


@dataclass(frozen=True, slots=True)
class SearchOutcome:
    """What one search found: the query, its hits over every root (masked, one line each),
    and what went wrong in a root (each a message; the other roots' hits are kept)."""

    query: str
    rows: list[ResultRow]
    problems: list[str]


class SearchStopped(Exception):
    """Raised through :func:`agent_tui.search.search` to stop a search that is no longer
    wanted (a newer query replaced it)."""


class SearchScreen(Screen[SearchPick | None]):
    """Search every transcript of ``roots`` as you type; dismisses with the message picked
    (:class:`SearchPick`) or ``None``."""

    HELP_INTRO = (
        "Search: type words to find them in every message of every agent (ours and swarms') "
        "in every workspace; each message found must hold every word, in any case. Results "
        "come newest first. Up and down move, enter opens the agent at that message, escape "
        "goes back.\n"
    )
    DEFAULT_CSS = """
    SearchScreen {
        #search-input { border: tall $accent; }
        #search-status { height: 1; padding: 0 1; color: $text-muted; background: $panel; }
        #search-results { height: 1fr; }
    }
    SearchScreen.-narrow #search-input { border: none; height: 1; padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape", "close", "Back", id="search-back",
                tooltip="Close the search, back to where it was opened"),
        Binding("enter", "open", "Open", id="search-open", priority=True,
                tooltip="Open the agent of the result under the cursor, at its step"),
        # Priority: the input's own up/down (scroll, a no-op on one line) would hide them.
        Binding("up", "move(-1)", "Up", id="search-up", key_display="↑", priority=True,
                tooltip="The result above (also while typing)"),
        Binding("down", "move(1)", "Down", id="search-down", key_display="↓", priority=True,
                tooltip="The result below (also while typing)"),
        Binding("pageup", "page(-1)", "Page up", id="search-page-up", show=False,
                priority=True, tooltip="A page of results up"),
        Binding("pagedown", "page(1)", "Page down", id="search-page-down", show=False,
                priority=True, tooltip="A page of results down"),
    ]  # fmt: skip
    #: How long a key typed waits for the next before the search starts (a class attribute,
    #: so a test can change it).
    DEBOUNCE_SECONDS = 0.2

    @dataclass
    class Progress(Message):
        """A search's index is being built: ``done`` of ``total`` folders read."""

        screen: SearchScreen
        generation: int
        done: int
        total: int

        @property
        def control(self) -> SearchScreen:
            return self.screen

    def __init__(
        self, roots: list[Path], redactor: Redactor, query: str = "", *, limit: int = LIMIT
    ) -> None:
        super().__init__()
        self.roots = list(dict.fromkeys(roots))
        self.redactor = redactor
        self.initial_query = query
        self.limit = limit
        self.generation = 0  # of the latest search asked for; older results are dropped
        self._worker: Worker[SearchOutcome] | None = None
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield SteadyInput(
            self.initial_query,
            placeholder="search every transcript",
            select_on_focus=False,  # a query given is to refine, not to type over
            id="search-input",
        )
        yield SteadyStatic(Text(HINT), id="search-status")
        yield ResultList(id="search-results")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.title = "Search"
        where = [str(root) for root in self.roots]
        self.sub_title = where[0] + (f" and {len(where) - 1:,} more" if len(where) > 1 else "")
        self.query_one("#search-input", Input).focus()
        if self.initial_query.strip():
            self._start(self.initial_query)

    @property
    def input(self) -> Input:
        return self.query_one("#search-input", Input)

    @property
    def results(self) -> ResultList:
        return self.query_one("#search-results", ResultList)

    @property
    def status(self) -> str:
        """The status line's text."""
        return self.query_one("#search-status", SteadyStatic).content.plain  # type: ignore[union-attr]

    def _say(self, text: str) -> None:
        self.query_one("#search-status", SteadyStatic).update(
            Text(text, no_wrap=True, overflow="ellipsis"), layout=False
        )

    def _echo(self, query: str) -> str:
        return clip(self.redactor.redact_text(query.strip()), QUERY_ECHO)

    # Searching.

    @on(Input.Changed, "#search-input")
    def _typed(self, event: Input.Changed) -> None:
        if self._timer is not None:
            self._timer.stop()
        query = event.value
        self._timer = self.set_timer(self.DEBOUNCE_SECONDS, lambda: self._start(query))

    def _start(self, query: str) -> None:
        """Search for ``query`` now, replacing any search still running."""
        self.generation += 1
        if not query_terms(query):
            self.workers.cancel_group(self, "search")
            self._worker = None
            self.results.set_rows([], [])
            self._say(HINT)
            return
        self._say("searching...")
        self._worker = self._search(self.generation, query)

    @work(
        thread=True,
        exclusive=True,
        group="search",
        exit_on_error=False,
        description="search every transcript",
    )
    def _search(self, generation: int, query: str) -> SearchOutcome:
        worker = get_current_worker()

        def progress(done: int, total: int) -> None:
            if worker.is_cancelled:
                raise SearchStopped()
            self.post_message(self.Progress(self, generation, done, total))

        found: list[list[Hit]] = []
        problems: list[str] = []
        for root in self.roots:
            if worker.is_cancelled:
                raise SearchStopped()
            try:
                found.append(search(root, query, limit=self.limit, on_progress=progress))
            except SearchStopped:
                raise
            except Exception as exc:  # one root's failure must not hide the others' hits
                problems.append(self.redactor.redact_text(one_line(str(exc)) or repr(exc)))
        rows = [result_row(hit, self.redactor) for hit in merge(found, self.limit)]
        return SearchOutcome(query, rows, problems)

    @on(Progress)
    def _progress(self, event: Progress) -> None:
        if event.generation != self.generation:
            return
        if event.done < event.total:
            folders = "folder" if event.total == 1 else "folders"
            self._say(f"indexing {event.done:,} of {event.total:,} {folders}")
        else:
            self._say("searching...")

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker is not self._worker:
            return  # an older search's: a newer query replaced it
        if event.state == WorkerState.SUCCESS and isinstance(worker.result, SearchOutcome):
            self._show(worker.result)
        elif event.state == WorkerState.ERROR:
            error = worker.error
            text = one_line(str(error)) or type(error).__name__
            self.results.set_rows([], [])
            self._say(f"search failed: {self.redactor.redact_text(text)}")

    def _show(self, outcome: SearchOutcome) -> None:
        self.results.set_rows(outcome.rows, query_terms(outcome.query))
        echo = self._echo(outcome.query)
        count = len(outcome.rows)
        if count:
            text = f'{plural(count, "result")} for "{echo}"'
            if count >= self.limit:
                text += f" (the newest {self.limit:,})"
        else:
            text = f'no match for "{echo}"'
        if outcome.problems:
            text += ": " + "; ".join(outcome.problems)
        self._say(text)

    # Keys.

    def action_move(self, delta: int) -> None:
        self.results.move_cursor(self.results.cursor + delta)

    def action_page(self, direction: int) -> None:
        self.results.move_cursor(self.results.cursor + direction * self.results.page)

    def action_open(self) -> None:
        row = self.results.selected
        if row is not None:
            self.dismiss(row.pick)

    @on(ResultList.Picked)
    def _picked(self) -> None:
        self.action_open()

    def action_close(self) -> None:
        self.dismiss(None)
