"""agent-tui: the live workspace browser and runner.

Left, the workspace as a tree: every agent folder with its status, loop count, age and size,
and under an opened agent the files in its folder; right, tabs for the selected agent (Config,
State, Diff), the File tab for the file picked in the tree, and the Run tab, where runs started here
(``n``, or ``l`` to resume a saved agent) stream in child processes (:mod:`agent_tui.tui.run_pane`). The
list and the views follow the disk through :mod:`agent_tui.tui.watcher`; all reading goes through
:mod:`agent_tui.workspace`. Workers (the scan, the watcher, deletions, runs) only post messages;
the handlers here change widgets.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from textual import on, work
from textual.app import App, ComposeResult, SuspendNotSupported, SystemCommand
from textual.binding import Binding
from textual.command import CommandPalette
from textual.containers import Horizontal, Vertical
from textual.dom import DOMNode
from textual.message import Message
from textual.screen import Screen
from textual.widgets import (
    Header,
    Input,
    Static,
    TabbedContent,
    TabPane,
    Tabs,
)
from textual.worker import Worker, WorkerState, get_current_worker

from agent_tui import settings, store
from agent_tui.action_log import ActionLog
from agent_tui.cleanup import CleanupPlan, CleanupResult, Progress
from agent_tui.format.layout import Format, Layout, Status
from agent_tui.format.persistence import WorkspaceFileError, is_temp_file
from agent_tui.listing import SORTS
from agent_tui.redaction import Redactor
from agent_tui.runner import RunSpec
from agent_tui.tui import safe_text
from agent_tui.tui.action_log_screen import ActionLogScreen
from agent_tui.tui.agent_table import COLUMN_SORTS, AgentTable, cost_text, tokens_text
from agent_tui.tui.cleanup_screen import CleanupScreen
from agent_tui.tui.commands import BindingCommands, available_bindings
from agent_tui.tui.config_view import ConfigView
from agent_tui.tui.dialogs import ConfirmDialog, ValuePrompt
from agent_tui.tui.diff_view import DiffView
from agent_tui.tui.display import Clock, field_text, json_fields, utc_now
from agent_tui.tui.file_view import FileView
from agent_tui.tui.footer import KeyFooter
from agent_tui.tui.fork_dialog import ExportDialog, ExportRequest, ForkDialog, ForkRequest
from agent_tui.tui.garbage import QuietCollector, settle_garbage
from agent_tui.tui.help_screen import INTRO, HelpScreen
from agent_tui.tui.history_view import HistoryView
from agent_tui.tui.notices import RunNotices
from agent_tui.tui.run_dialogs import NewRunDialog, ResumeDialog
from agent_tui.tui.run_pane import RunPane
from agent_tui.tui.search_screen import SearchPick, SearchScreen
from agent_tui.tui.state_view import StateView
from agent_tui.tui.steady_static import SteadyInput
from agent_tui.tui.step_bar import StepBar
from agent_tui.tui.watcher import (
    AgentChanged,
    AgentRemoved,
    WatcherNotice,
    WorkspaceReset,
    watch_workspace,
)
from agent_tui.units import format_bytes, plural
from agent_tui.user_config import UserConfig, UserConfigError, check_binding_ids, save_setting
from agent_tui.workspace import AgentRecord, iter_agent_folders, read_agent
from agent_tui.workspace.files import FileEntry, FileListing, list_files
from agent_tui.workspace.scan_process import stream_scan

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agent_tui.store.mirror import Mirror

SCAN_CHUNK = 500
# How often an s3:// root's listing is read (a LIST per 1,000 objects, a GET per changed one).
POLL_INTERVAL_S = float(os.environ.get("AGENT_TUI_POLL_INTERVAL", "1.5"))
SCAN_PROCESS_MIN = 2000  # folders; fewer are read here (starting the processes costs more)
SCAN_CHUNK_SECONDS = 0.05
SCAN_BATCH_SECONDS = 0.2  # records from the scan processes, handed to the list this often
SCAN_BATCH_MAX = 2000  # or in this many (what the list takes in one go: tens of ms)
FIRST_ROWS = 60
AGE_REFRESH_TICKS = 10
MAIN_SCREEN_ACTIONS = frozenset(
    {
        "focus_filter",
        "cycle_sort",
        "reverse_sort",
        "cleanup",
        "diff_last_step",
        "rescan",
        "show_tab",
        "focus_agents",
        "new_run",
        "resume",
        "interrupt_run",
        "load_earlier",
        "zoom",
        "copy_path",
        "copy_field",
        "fork",
        "export",
        "next_root",
        "add_root",
        "search",
        "step",
    }
)
TABS = ("tab-config", "tab-state", "tab-diff", "tab-run", "tab-file", "tab-history")
STEP_VIEWS = ("tab-config", "tab-state", "tab-diff")  # the tabs the step bar moves in time
LIST_SECONDS = 0.3  # an opened agent's files are listed again at most this often


def _root_path(text: str) -> Path | str:
    """A folder (or an s3:// address) typed in the add-root prompt (ValuePrompt keeps it open
    on a ValueError)."""
    if store.is_remote(text.strip()):
        from agent_tui.store.s3 import StoreError, parse_url

        try:
            parse_url(text.strip())
        except StoreError as exc:
            raise ValueError(str(exc)) from None
        return text.strip()
    path = Path(text.strip()).expanduser()
    if not text.strip():
        raise ValueError("Type a folder.")
    if not path.is_dir():
        raise ValueError(f"{path} is not a folder.")
    return path


@dataclass
class FilesListed(Message):
    """A worker's listing of an opened agent's folder."""

    key: str
    listing: FileListing


def binding_ids(*screens: type[DOMNode]) -> list[str]:
    """The ``id`` of every binding of these classes: what the config file's [keys] may name."""
    return [b.id for screen in screens for b in screen.BINDINGS if isinstance(b, Binding) and b.id]


class DetailTabs(TabbedContent):
    """The selected agent's tabs: ``z`` gives them the whole screen."""

    ALLOW_MAXIMIZE = True


@dataclass
class ScanChunk(Message):
    """Records read by the scan worker; ``seen`` (on the last chunk) lists every folder found."""

    records: list[AgentRecord]
    done: bool = False
    seen: frozenset[str] = field(default_factory=frozenset)


@dataclass
class ScanFailed(Message):
    """The agents folder could not be listed."""

    problem: str


class AgentTUI(App[None]):
    """Browse, watch, diff and clean the agent workspaces under ``workspace_dir``."""

    CSS_PATH = "app.tcss"
    TITLE = "agent-tui"
    COMMANDS = App.COMMANDS | {BindingCommands}
    # Narrower than this, the agent list goes above the tabs (app.tcss: Screen.-narrow).
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit", tooltip="Leave agent-tui"),
        Binding("question_mark", "help", "Help", id="help", key_display="?",
                tooltip="Every key and what it does"),
        Binding("slash", "focus_filter", "Filter", id="filter", key_display="/",
                tooltip="Type to filter agents by name, folder, status or model"),
        Binding("s", "cycle_sort", "Sort", id="sort",
                tooltip="Sort by name, age, size, status, steps, cost in turn (or click a header)"),
        Binding("S", "reverse_sort", "Reverse", id="reverse-sort", show=False,
                tooltip="The same order the other way round (a header clicked again, too)"),
        Binding("c", "cleanup", "Cleanup", id="cleanup",
                tooltip="Mark and delete old workspaces (like ncdu)"),
        Binding("d", "diff_last_step", "Last step", id="diff-last", show=False,
                tooltip="Show what the last step of the selected agent changed"),
        Binding("r", "rescan", "Rescan", id="rescan", show=False, tooltip="Read every agent folder again"),
        Binding("1", "show_tab('tab-config')", "Config", id="tab-config", show=False,
                tooltip="The selected agent's config.json, live"),
        Binding("2", "show_tab('tab-state')", "State", id="tab-state", show=False,
                tooltip="The conversation, memory and task"),
        Binding("3", "show_tab('tab-diff')", "Diff", id="tab-diff", show=False,
                tooltip="Compare two steps or two agents"),
        Binding("5", "show_tab('tab-file')", "File", id="tab-file", show=False,
                tooltip="The file picked in the tree (enter on an agent lists its files)"),
        Binding("6", "show_tab('tab-history')", "History", id="tab-history", show=False,
                tooltip="Every run of the agent: task, start, end, status, steps, tokens, cost"),
        Binding("left_square_bracket", "step('earlier')", "Step back", id="step-earlier",
                key_display="[", show=False,
                tooltip="Config, State and Diff as they were one step earlier (from the journal)"),
        Binding("right_square_bracket", "step('later')", "Step on", id="step-later",
                key_display="]", show=False, tooltip="One step later; past the last, live again"),
        Binding("left_curly_bracket", "step('go_first')", "First step", id="step-first",
                key_display="{", show=False, tooltip="The agent as it was at its first step"),
        Binding("right_curly_bracket", "step('go_live')", "Live", id="step-live",
                key_display="}", show=False, tooltip="Back to the agent as it is now"),
        Binding("4", "show_tab('tab-run')", "Runs", id="tab-run", show=False,
                tooltip="Runs started here, each with its streamed output"),
        Binding("n", "new_run", "New run", id="new-run",
                tooltip="Start an agent run (name, model, task, max loops) in the Run tab"),
        Binding("l", "resume", "Resume", id="resume",
                tooltip="Load the selected agent (ours or swarms') and continue its run"),
        Binding("ctrl+f", "search", "Search", id="search",
                tooltip="Full text over every transcript of every root (also: / words enter)"),
        Binding("w", "next_root", "Next root", id="next-root", show=False,
                tooltip="Jump to the next workspace root's agents"),
        Binding("W", "add_root", "Add root", id="add-root", show=False,
                tooltip="Open another workspace root beside this one"),
        Binding("f", "fork", "Fork", id="fork", show=False,
                tooltip="A new agent from this one's conversation up to a step"),
        Binding("x", "export", "Export", id="export", show=False,
                tooltip="Write this agent's runs to a Markdown, HTML or JSON file"),
        Binding("ctrl+c", "interrupt_run", "Interrupt", id="interrupt", show=False,
                tooltip="Stop the run shown in the Run tab (saved as interrupted); with text "
                "selected, ctrl+c copies it instead"),
        Binding("e", "load_earlier", "Earlier", id="state-earlier", show=False,
                tooltip="State tab: show earlier messages of the conversation"),
        Binding("escape", "focus_agents", "Agents", id="focus-agents", show=False,
                tooltip="Back to the whole agent list: the filter cleared"),
        Binding("y", "copy_path", "Copy path", id="copy-path", show=False,
                tooltip="Copy the selected agent's folder path to the clipboard"),
        Binding("Y", "copy_field", "Copy field", id="copy-field", show=False,
                tooltip="Config tab: copy a field's value (type its path; right arrow completes)"),
        Binding("z", "zoom", "Zoom", id="zoom",
                tooltip="The selected agent's tabs on the whole screen; again to go back"),
    ]  # fmt: skip

    def __init__(
        self,
        workspace_dir: str | Path | Sequence[str | Path] | None = None,
        read_only: bool = False,
        watch: bool = True,
        clock: Clock = utc_now,
        start_runs: Sequence[RunSpec] = (),
        config: UserConfig | None = None,
    ) -> None:
        # Before anything is drawn: escape sequences in names or messages stay text.
        safe_text.install()
        super().__init__()
        self.start_runs = list(start_runs)
        self._pending_reveal: str | None = None
        # Absolute: the watcher reports absolute paths, and a relative root would match none.
        if workspace_dir is None and config is not None:
            workspace_dir = settings.configured_root(config.workspaces)
        given = (
            [workspace_dir]
            if isinstance(workspace_dir, (str, Path)) or workspace_dir is None
            else list(workspace_dir)
        )
        self.roots: list[Path] = []
        # s3:// roots: read through a mirror in the cache, kept by a poller (remote_poll).
        self.remotes: dict[Path, Mirror] = {}
        for root in given or [None]:
            url = store.workspace_root(None if root is None else str(root))
            if store.is_remote(url):
                path = self._remote_root(str(url))
            else:
                path = settings.workspace_root(root).absolute()
            if path not in self.roots:
                self.roots.append(path)
        self.root = self.roots[0]  # the first: where a new run goes when no agent is selected
        self.agents_dir = self.root / "agents"
        self.read_only = read_only
        self.watching = watch
        self.clock = clock
        self.redactor = Redactor()
        self.selected: str | None = None
        self._stop_watch: asyncio.Event | None = None
        self._scan_started = time.time()
        self._watch_paused_at: float | None = None  # a cleanup's removal is under way
        self._watch_since: float | None = None  # what a restarted watcher reports from
        self._ticks = 0
        self._scanned_once = False
        self._auto_selected: str | None = None  # picked by the scan, not by the user
        self.first_rows_at: float | None = None
        self.user_config = config if config is not None else UserConfig()
        self.actions = ActionLog.beside(self.user_config, redactor=self.redactor)
        self.notices = RunNotices()
        self._rescan_asked = False
        self.collector = QuietCollector()
        self._tab_before_file: str | None = None  # the tab a file's pick switched from
        self._listing: set[str] = set()  # opened agents whose files a worker is listing
        self._list_again: set[str] = set()  # ... and that changed again meanwhile
        # (the table's memory generation, (agents folder, agent name) -> its memory folders)
        self._memories: tuple[int, dict[tuple[str, str], list[str]]] = (-1, {})

    def notify(self, message: str, *, title: str = "", **options: object) -> None:
        """Every notification (the app's, a screen's, a widget's) is masked: an error or a
        problem may quote a key."""
        redact = self.redactor.redact_text
        super().notify(redact(str(message)), title=redact(title), **options)  # type: ignore[arg-type]

    def compose(self) -> ComposeResult:
        # Kept as attributes: App.query_one searches the active screen, which may be Cleanup.
        self.table = AgentTable(self.clock, id="agents")
        self.config_view = ConfigView(self.redactor, self.clock, id="config-view")
        self.state_view = StateView(self.redactor, id="state-view")
        self.diff_view = DiffView(self.redactor, id="diff-view")
        self.tabs = DetailTabs(id="tabs", initial="tab-config")
        self.status_line = Static("scanning...", id="scan-status")
        self.run_pane = RunPane(id="run-pane")
        self.file_view = FileView(self.redactor, id="file-view")
        self.history_view = HistoryView(self.redactor, self.clock, id="history-view")
        self.step_bar = StepBar(id="step-bar")
        yield Header()
        with Horizontal(id="main"):
            with Vertical(id="sidebar"):
                yield SteadyInput(
                    placeholder="/ filter agents, enter: search transcripts", id="filter"
                )
                yield self.table
                yield self.status_line
            with Vertical(id="detail"):
                yield self.step_bar
                with self.tabs:
                    with TabPane("Config", id="tab-config"):
                        yield self.config_view
                    with TabPane("State", id="tab-state"):
                        yield self.state_view
                    with TabPane("Diff", id="tab-diff"):
                        yield self.diff_view
                    with TabPane("Runs", id="tab-run"):
                        yield self.run_pane
                    with TabPane("File", id="tab-file"):
                        yield self.file_view
                    with TabPane("History", id="tab-history"):
                        yield self.history_view
        yield KeyFooter()

    def on_mount(self) -> None:
        self.collector.start()
        self.apply_user_config()
        self._title_roots()
        if len(self.roots) > 1:
            self._show_roots()
        self.table.focus()
        self.set_interval(1.0, self._tick)

    def apply_user_config(self) -> None:
        """The config file's theme and keys; the theme the user picks later is saved there."""
        config = self.user_config
        if config.theme:
            if config.theme in self.available_themes:
                self.theme = config.theme
            else:
                self.notify(f"{config.path}: no theme {config.theme!r}", severity="warning")
        if config.keys:
            try:
                check_binding_ids(config, KEYED_IDS)
            except UserConfigError as exc:
                self.notify(str(exc), severity="error", timeout=10)
            else:
                self.set_keymap(config.keys)
        self.theme_changed_signal.subscribe(self, self._theme_changed)

    def _theme_changed(self, theme: object) -> None:
        name = getattr(theme, "name", None)
        if isinstance(name, str) and name != self.user_config.theme:
            self._save_theme(name)

    @work(thread=True, group="save-theme", exclusive=True, exit_on_error=False,
          description="save the theme in the config file")  # fmt: skip
    def _save_theme(self, name: str) -> None:
        try:
            self.user_config = save_setting(self.user_config, "theme", name)
        except (OSError, UserConfigError) as exc:
            self.call_from_thread(self.notify, f"the theme is not saved: {exc}", severity="warning")

    def on_ready(self) -> None:
        # After the first frame: the scan thread must not compete with it for the GIL.
        self._scan_started = time.time()
        self.scan_workspace()
        for mirror in self.remotes.values():
            self.remote_poll(mirror)
        for spec in self.start_runs:
            self.start_run(spec)

    def on_unmount(self) -> None:
        self.collector.stop()
        if self._stop_watch is not None:
            self._stop_watch.set()

    # Workers: they read and post; the handlers below change widgets.

    @work(thread=True, group="scan", exclusive=True, exit_on_error=False,
          description="scan the workspace")  # fmt: skip
    def scan_workspace(self) -> None:
        seen: set[str] = set()
        # A screenful first, as the folder lists them (listing 100,000 in order takes a
        # while); then everything, in order, root by root.
        early = self._first_listed()
        if early:
            self.post_message(ScanChunk([read_agent(folder) for folder in early]))
        for root in self.roots:
            if not self._scan_root(root, early if root == self.root else [], seen):
                return  # cancelled
        self.post_message(ScanChunk([], done=True, seen=frozenset(seen)))

    def _scan_root(self, root: Path, early: list[Path], seen: set[str]) -> bool:
        """Read every agent folder of ``root`` (those not in ``seen``) and post them in
        chunks; False when the worker was cancelled."""
        worker = get_current_worker()
        chunk: list[AgentRecord] = []
        last = time.monotonic()
        try:
            folders = list(iter_agent_folders(root))
            if len(folders) >= SCAN_PROCESS_MIN:
                # Read by two other processes (this one keeps the interpreter for the
                # screen), handed over in batches.
                for records in stream_scan(root, seen):
                    if worker.is_cancelled:
                        return False
                    chunk += records
                    if len(chunk) >= SCAN_BATCH_MAX or time.monotonic() - last > SCAN_BATCH_SECONDS:
                        self.post_message(ScanChunk(chunk))
                        chunk, last = [], time.monotonic()
            else:  # the first screenful, read above, needs no second read
                listed = {str(folder) for folder in folders}
                seen.update(path for path in map(str, early) if path in listed)
            for folder in folders:  # all of them, or what the other processes did not send
                if str(folder) in seen:
                    continue
                if worker.is_cancelled:
                    return False
                chunk.append(read_agent(folder))
                seen.add(str(folder))
                if len(chunk) >= SCAN_CHUNK or time.monotonic() - last > SCAN_CHUNK_SECONDS:
                    self.post_message(ScanChunk(chunk))
                    chunk, last = [], time.monotonic()
        except WorkspaceFileError as exc:
            self.post_message(ScanFailed(str(exc) if len(self.roots) == 1 else f"{root}: {exc}"))
        if chunk:
            self.post_message(ScanChunk(chunk))
        return True

    def _first_listed(self) -> list[Path]:
        """Up to :data:`FIRST_ROWS` agent folders in the order the folder lists them."""
        try:
            with os.scandir(self.agents_dir) as listing:
                names = itertools.islice((e.name for e in listing if not is_temp_file(e.name)),
                                         FIRST_ROWS)  # fmt: skip
                return [self.agents_dir / name for name in names]
        except OSError:
            return []  # the full listing says what is wrong

    def _start_watching(self) -> None:
        """Watch the disk from now on, once: started when the first scan is over, so that on a
        large workspace the watcher's set-up (seconds of CPU at 100,000 folders) does not
        compete with the scan; what changed since the scan began is reported by the watcher
        when it is ready (its ``since``)."""
        if self.watching and self._stop_watch is None:
            self._stop_watch = asyncio.Event()
            self.watch_disk()

    def pause_watching(self) -> None:
        """Stop following the disk while a cleanup removes folders: the watcher's child would
        hear of every file of every removed folder (26,500 events at 5,000 folders), and its CPU
        and the messages it sends made the removal 2.3x slower than the CLI's. The rows of the
        removed folders go when the removal ends; :meth:`resume_watching` reports the rest."""
        if self._stop_watch is not None and self._watch_paused_at is None:
            self._stop_watch.set()
            self._stop_watch = None
            self._watch_paused_at = time.time()

    def resume_watching(self) -> None:
        """Follow the disk again after :meth:`pause_watching`: the new watcher reports what
        changed since the pause (its catch-up), and folders others removed meanwhile leave."""
        if self._watch_paused_at is None:
            return
        self._watch_since, self._watch_paused_at = self._watch_paused_at - 1.0, None
        self._start_watching()
        self.forget_vanished()

    @work(thread=True, group="vanished", exclusive=True, exit_on_error=False,
          description="look for folders removed while the watcher was paused")  # fmt: skip
    def forget_vanished(self) -> None:
        listed: dict[str, set[str]] = {}
        for root in self.roots:
            agents = root / "agents"
            try:
                with os.scandir(agents) as listing:
                    listed[os.fspath(agents)] = {entry.name for entry in listing}
            except OSError:
                continue  # a root that cannot be listed: its scan or watcher says why
        gone = [
            Path(key)
            for key in list(self.table.records)
            if (names := listed.get(os.path.dirname(key))) is not None
            and os.path.basename(key) not in names
        ]
        if gone:
            self.call_from_thread(self.forget_folders, gone)

    @work(group="watcher", exclusive=True, exit_on_error=False,
          description="watch the workspace for changes")  # fmt: skip
    async def watch_disk(self) -> None:
        assert self._stop_watch is not None
        since = self._scan_started - 1.0 if self._watch_since is None else self._watch_since
        stop = self._stop_watch
        await asyncio.gather(*(
            watch_workspace(root, self, stop, first=lambda: self.selected, since=since)
            for root in self.roots
        ))  # fmt: skip

    @on(Worker.StateChanged)
    def _worker_state(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            self.notify(f"{event.worker.description} failed: {error}", severity="error")

    # Messages from the workers.

    @on(ScanChunk)
    def _scan_chunk(self, event: ScanChunk) -> None:
        table = self.table
        table.add_records(event.records)
        if self.first_rows_at is None and table.row_count:
            self.first_rows_at = time.perf_counter()
        if event.done:
            # The first full list starts at the top, unless the user moved the cursor while
            # the scan ran (the rebuild keeps the cursor on it). The cursor, not
            # ``self.selected``: the highlight message of a move may not be handled yet.
            untouched = table.selected_key in (None, self._auto_selected)
            table.remove_records(set(table.records) - event.seen)
            if not self._scanned_once and table.row_count and untouched:
                table.move_cursor(0)
            if not self._scanned_once:
                self.call_after_refresh(settle_garbage)
                self._start_watching()
            self._scanned_once = True
            self._update_status()
            if self._rescan_asked:  # `r`: say what was read
                self._rescan_asked = False
                found = plural(len(table.records), "agent folder")
                where = self.agents_dir if len(self.roots) == 1 else plural(len(self.roots), "root")
                self.notify(f"Read {found} again in {where}", title="rescan")
        else:
            self.set_status(f"scanning... {len(table.records)}")
        if self.selected is None or self.selected not in table.records:
            self.select(table.selected_key)
            self._auto_selected = self.selected

    @on(ScanFailed)
    def _scan_failed(self, event: ScanFailed) -> None:
        self._start_watching()  # for when the folder can be read
        self.set_status(f"cannot read the workspace: {event.problem}")

    @on(AgentChanged)
    def _agent_changed(self, event: AgentChanged) -> None:
        record = event.record
        if not self.table.is_attached:
            return
        before = self.table.records.get(str(record.folder))
        self.collector.busy()
        self.table.upsert(record)
        if before is not None and before.status == Status.RUNNING:  # a run seen ending
            self.say_ended(record.path, record.name, record.status, record.loop_count, record.error)
        if isinstance(self.screen, CleanupScreen):
            self.screen.record_changed(record)
        key = str(record.folder)
        if key == self._pending_reveal:
            self._pending_reveal = None
            self.call_after_refresh(self.reveal_agent, key)
        if key in self.table.opened:
            self.list_files(key)
        if key == self.selected:
            self._step_range(record)  # a picked step stays picked; live moves on
            self._show(record)
        elif self.selected is None:
            self.call_after_refresh(lambda: self.select(self.table.selected_key))
        self._update_status()

    @on(WatcherNotice)
    def _watcher_notice(self, event: WatcherNotice) -> None:
        self.notify(event.text, title="watching", severity="error" if event.error else "warning")

    @on(AgentRemoved)
    def _agent_removed(self, event: AgentRemoved) -> None:
        if self.table.is_attached:  # not while the app shuts down
            self.forget_folders(event.folders)

    @on(WorkspaceReset)
    def _workspace_reset(self) -> None:
        self.scan_workspace()

    def forget_folders(self, folders: Iterable[Path]) -> None:
        """Drop rows for folders that are gone (the watcher saw it, or cleanup did it)."""
        table = self.table
        folders = list(folders)
        table.remove_records(str(folder) for folder in folders)
        if isinstance(self.screen, CleanupScreen):
            for folder in folders:
                self.screen.record_removed(folder)
        if self.selected not in table.records:
            self.select(table.selected_key)
        self._update_status()

    # Selection and views.

    @on(AgentTable.Highlighted, "#agents")
    def _row_highlighted(self, event: AgentTable.Highlighted) -> None:
        self.select(event.key)
        if event.file is not None and event.key is not None:
            self.show_file(Path(event.key), event.file)
        elif self.tabs.active == "tab-file" and self._tab_before_file is not None:
            self.tabs.active = self._tab_before_file  # back where the user was
            self._tab_before_file = None

    def show_file(self, folder: Path, entry: FileEntry) -> None:
        """Open ``entry`` of ``folder`` in the File tab (switched to; left again on an agent)."""
        if self.tabs.active != "tab-file":
            self._tab_before_file = self.tabs.active
            self.tabs.active = "tab-file"
        self.file_view.show(folder, entry)

    @on(AgentTable.Opened, "#agents")
    def _agent_opened(self, event: AgentTable.Opened) -> None:
        self.list_files(event.key)

    def list_files(self, key: str) -> None:
        """List an opened agent's folder in a worker: one listing at a time per agent, at most
        every :data:`LIST_SECONDS` (a tool writing many files is one listing, not one each)."""
        if key in self._listing:
            self._list_again.add(key)
            return
        self._listing.add(key)
        self._list_in_thread(key, self._memories_of(key))

    def _memories_of(self, key: str) -> tuple[str, ...]:
        """The swarms memory folders (``agents/<raw name>/MEMORY.md``) of agent ``key``'s
        name, in its root: shown among its files, as its memory."""
        record = self.table.records.get(key)
        if record is None or record.layout == Layout.MEMORY:
            return ()
        table = self.table
        if self._memories[0] != table.memory_generation:  # one pass, only when they changed
            found: dict[tuple[str, str], list[str]] = {}
            for path, other in table.records.items():
                if other.layout == Layout.MEMORY and other.memory_of is not None:
                    found.setdefault((os.path.dirname(path), other.memory_of), []).append(path)
            self._memories = (table.memory_generation, found)
        return tuple(self._memories[1].get((os.path.dirname(key), record.name), ()))

    @work(thread=True, group="list-files", exit_on_error=False, description="list an agent's files")
    def _list_in_thread(self, key: str, memories: tuple[str, ...]) -> None:
        listing = list_files(key, memories=memories)
        self.post_message(FilesListed(key, listing))

    @on(FilesListed)
    def _files_listed(self, event: FilesListed) -> None:
        if not self.table.is_attached:
            return
        self.table.set_files(event.key, event.listing)

        def again() -> None:
            self._listing.discard(event.key)
            if event.key in self._list_again:
                self._list_again.discard(event.key)
                if event.key in self.table.opened:
                    self.list_files(event.key)

        self.set_timer(LIST_SECONDS, again)

    @on(AgentTable.FileCommand, "#agents")
    def _file_command(self, event: AgentTable.FileCommand) -> None:
        self.open_outside(event.folder, event.file, event.command)

    def open_outside(self, folder: Path, entry: FileEntry, command: str) -> None:
        """``e``: the file in $EDITOR; ``o``: in $PAGER; the app suspended meanwhile. Only a
        regular file (a FIFO would hang the editor, a link lead elsewhere); no editing in a
        read-only session."""
        from agent_tui.tui.outside import OutsideError, external_command

        path = Path(entry.path_in(folder))
        try:
            argv = external_command(command, path, entry.kind, read_only=self.read_only)
        except OutsideError as exc:
            self.notify(str(exc), severity="warning")
            return
        try:
            with self.suspend():
                subprocess.run(argv, check=False)
        except SuspendNotSupported:  # no terminal to hand over (headless): run it beside
            subprocess.run(argv, check=False, stdin=subprocess.DEVNULL, capture_output=True)
        except OSError as exc:  # the program went missing, or cannot run
            self.notify(f"{argv[0]}: {exc}", severity="error")
            return
        if entry.kind == "file" and str(folder) in self.table.opened:
            self.list_files(str(folder))

    @on(AgentTable.Rearranged, "#agents")
    def _rearranged(self) -> None:
        if self._pending_reveal is not None and self.table.row_of(self._pending_reveal) is not None:
            self.reveal_agent(self._pending_reveal)
        self._update_status()

    @on(AgentTable.HeaderClicked, "#agents")
    def _header_selected(self, event: AgentTable.HeaderClicked) -> None:
        sort = COLUMN_SORTS.get(event.column)
        if sort:
            table = self.table
            table.set_sort(sort, reverse=sort == table.order and not table.reverse)
            self._update_status()

    def select(self, key: str | None) -> None:
        """Show the agent with row key ``key`` (a folder path) in the tabs."""
        if not self.table.is_attached:
            return  # shutting down
        record = self.table.records.get(key) if key else None
        if key == self.selected and record is not None:
            return
        self.selected = key if record is not None else None
        self.step_bar.set_step(None)  # another agent: live again
        self._step_range(record)
        self._show(record)

    def _step_range(self, record: AgentRecord | None) -> None:
        steps = record is not None and record.format == Format.OURS
        self.step_bar.set_range(record.loop_count if steps and record else None)

    def _show(self, record: AgentRecord | None) -> None:
        """Feed ``record`` to the view on screen; the others catch up when their tab is
        shown (a hidden view's update would still cost a layout of the screen). Each view
        reads in a worker of its own, so nothing here waits on disk. With a step picked
        (the step bar), Config, State and Diff show the agent as it was then."""
        active = self.tabs.active
        if active == "tab-history":
            self.history_view.show(record)
            return
        views: dict[str, ConfigView | StateView | DiffView] = {
            "tab-config": self.config_view, "tab-state": self.state_view,
            "tab-diff": self.diff_view,
        }  # fmt: skip
        view = views.get(active)
        if view is None:
            return
        step = self.step_bar.step
        if record is not None and (step is not None or view.step is not None) and step != view.step:
            view.show_step(record, step)
        elif active == "tab-diff":
            self.diff_view.show(record, list(self.table.records.values()))
        else:
            view.show(record)  # type: ignore[call-arg]

    def action_step(self, how: str) -> None:
        """Move the step bar: earlier, later, go_first or go_live."""
        record = self.table.records.get(self.selected) if self.selected else None
        if record is None or record.format != Format.OURS:
            self.notify("Steps are read from an agent-tui agent's journal: select one first.",
                        severity="warning")  # fmt: skip
            return
        if self.tabs.active not in STEP_VIEWS:
            self.tabs.active = "tab-state"
        getattr(self.step_bar, how)()

    @on(StepBar.Changed)
    def _step_changed(self, event: StepBar.Changed) -> None:
        record = self.table.records.get(self.selected) if self.selected else None
        if record is not None:
            self._show(record)

    @on(HistoryView.StepPicked)
    def _run_picked(self, event: HistoryView.StepPicked) -> None:
        """Enter on a run: the agent as it was at that run's last step."""
        self.tabs.active = "tab-state"
        self.step_bar.pick(event.step)

    @on(TabbedContent.TabActivated)
    def _tab_activated(self) -> None:
        record = self.table.records.get(self.selected) if self.selected else None
        # The step bar moves the selected agent's views in time: not shown over the runs
        # started here or a file.
        self.step_bar.display = self.tabs.active in (*STEP_VIEWS, "tab-history")
        self._show(record)

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.table.set_filter(event.value)
        self._update_status()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        """Enter in the filter: the words searched for in every transcript too (the filter
        matches names; the search, what the agents said)."""
        self.table.focus()
        if event.value.strip():
            self.action_search(event.value.strip())

    def action_search(self, query: str = "") -> None:
        def picked(pick: SearchPick | None) -> None:
            if pick is not None:
                self.open_at(str(pick.folder), pick.step)

        self.push_screen(SearchScreen(self.roots, self.redactor, query), picked)

    def open_at(self, key: str, step: int | None) -> None:
        """Select agent ``key`` and show its transcript (at ``step`` when the views can)."""
        if key not in self.table.records:
            self.notify(
                "That agent is not in the list (filtered out, or gone).", severity="warning"
            )
            return
        if self.table.needle and self.table.row_of(key) is None:  # the filter hid it
            self.query_one("#filter", Input).value = ""
            self.table.set_filter("")  # now: the cursor goes to it once the rows are back
        self.reveal_agent(key)
        self.select(key)
        self.tabs.active = "tab-state"
        record = self.table.records[key]
        if step is not None and record.format == Format.OURS:  # that step's transcript
            self.step_bar.pick(step)

    def _update_status(self) -> None:
        table = self.table
        shown, total = table.row_count, len(table.records)
        parts = [f"{n} {status}" for status, n in sorted(table.status_counts.items()) if n]
        head = f"{shown} of {plural(total, 'agent')}" if table.needle else plural(total, "agent")
        order = f"{table.order}, reversed" if table.reverse else table.order
        if table.arranging:
            order += " (sorting...)"
        if table.total_tokens > 0:
            parts.append(f"{tokens_text(table.total_tokens)} tokens")
        if table.total_cost > 0:
            parts.append(f"{cost_text(table.total_cost)} spent")
        text = f"{head}, sort: {order}" + (f"\n{', '.join(parts)}" if parts else "")
        if not total:
            text += "\nn starts a run here; `agent-tui demo` makes a demo workspace"
        self.set_status(text)

    def set_status(self, text: str) -> None:
        """The status line under the list. Its height is fixed (app.tcss), so a new text never
        needs a layout of the screen (Static.update asks for one: 40 ms on a slow machine)."""
        if text != str(self.status_line.content):
            self.status_line.update(text, layout=False)

    def _tick(self) -> None:
        if self.tabs.active == "tab-config":
            self.config_view.tick()
        self._ticks += 1
        if self._ticks % AGE_REFRESH_TICKS == 0:
            self.table.refresh_ages()
        self.collector.tick()

    # Runs.

    def start_run(self, spec: RunSpec) -> None:
        """Start ``spec`` in the Run tab and show it there."""
        self.tabs.active = "tab-run"
        self.run_pane.start(spec)
        if spec.resume:
            self.actions.record("resumed", folder=spec.folder, model=spec.model)
        else:
            self.actions.record("started", name=spec.agent_name, model=spec.model, task=spec.task)

    @on(RunPane.AgentStarted)
    def _run_agent_started(self, event: RunPane.AgentStarted) -> None:
        self.notices.started(event.folder)
        self.reveal_agent(event.folder)

    @on(RunPane.Exited)
    def _run_exited(self, event: RunPane.Exited) -> None:
        run = event.pane.runs.get(event.key)
        if run is not None and run.signals_sent:  # stopped from here: the key or the button
            self.actions.record("interrupted", name=run.name, folder=run.folder)
        if run is not None and run.folder:
            self.say_ended(run.folder, run.name, run.status, run.loop, run.error)

    def say_ended(
        self, folder: str, name: str, status: str, loops: int | None, error: str | None
    ) -> None:
        """A toast (and the bell, if the config asks) when a run ends, once per end."""
        notice = self.notices.ended(folder, name, status, loops=loops, error=error)
        if notice is None or not self.user_config.notify:
            return
        message, severity = notice
        self.notify(message, title="run ended", severity=severity)
        if self.user_config.bell:
            self.bell()

    def reveal_agent(self, key: str) -> None:
        """Put the list's cursor on agent ``key`` (now, or when the watcher first sees it)."""
        table = self.table
        row = table.row_of(key)
        if row is not None:
            table.move_cursor(row)
            self._pending_reveal = None
        else:
            self._pending_reveal = key

    # Actions (each one is a binding, so also a command in the palette).

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Browser actions make no sense over the cleanup screen or a dialog: hide them there
        # (the command palette is not such a screen: it offers the actions of the one below).
        return action not in MAIN_SCREEN_ACTIONS or self.working_screen is self.screen_stack[0]

    @property
    def working_screen(self) -> Screen:
        """The screen the user works on: under the command palette while it is open."""
        return next(s for s in reversed(self.screen_stack) if not isinstance(s, CommandPalette))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        # Quit is one of the app's keys, offered with them: not a second time.
        yield from (c for c in super().get_system_commands(screen) if c.title != "Quit")
        yield SystemCommand(
            "Action log",
            "What agent-tui deleted, started, interrupted and resumed, with times",
            lambda: self.push_screen(ActionLogScreen(self.actions)),
        )

    def action_help(self) -> None:
        screen = self.working_screen
        bindings = [b for _, b in available_bindings(screen, self)]
        self.push_screen(HelpScreen(bindings, getattr(screen, "HELP_INTRO", INTRO)))

    def action_focus_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_focus_agents(self) -> None:
        """Escape: back to the whole list (the filter cleared, as k9s and lazygit do)."""
        self.screen.minimize()
        self.query_one("#filter", Input).value = ""
        self.table.focus()

    def action_copy_path(self) -> None:
        if self.selected is None:
            self.notify("Select an agent on the left first.", severity="warning")
            return
        self.copy_to_clipboard(self.selected)
        self.notify(f"Copied {self.selected}", title="clipboard")

    def action_copy_field(self) -> None:
        document = self.config_view.document
        if document is None:
            self.notify("The Config tab has no document to copy from yet.", severity="warning")
            return
        fields = json_fields(document)  # the document as shown: masked

        def field(path: str) -> str:
            if path.strip() not in fields:
                raise ValueError(f"No field {path.strip()!r} in config.json (e.g. model_name).")
            return path.strip()

        def copy(path: str | None) -> None:
            if path is not None:
                self.copy_to_clipboard(field_text(fields[path]))
                self.notify(f"Copied the value of {path}", title="clipboard")

        prompt = ValuePrompt("Copy the value of which field?", "", field, suggestions=list(fields))
        self.push_screen(prompt, copy)

    def action_zoom(self) -> None:
        if self.screen.maximized is None:
            self.screen.maximize(self.tabs, container=False)
            self.tabs.query_one(Tabs).focus()  # not the hidden list's filter, which takes keys
        else:
            self.screen.minimize()
            self.table.focus()

    def action_cycle_sort(self) -> None:
        self.table.set_sort(SORTS[(SORTS.index(self.table.order) + 1) % len(SORTS)])
        self._update_status()

    def action_reverse_sort(self) -> None:
        self.table.set_sort(self.table.order, reverse=not self.table.reverse)
        self._update_status()

    def action_rescan(self) -> None:
        self._rescan_asked = True
        self.scan_workspace()

    def action_show_tab(self, tab: str) -> None:
        if tab in TABS:
            self.tabs.active = tab

    def action_load_earlier(self) -> None:
        self.tabs.active = "tab-state"
        self.state_view.load_earlier()

    def action_diff_last_step(self) -> None:
        self.tabs.active = "tab-diff"
        self.diff_view.last_step()

    def action_new_run(self) -> None:
        def started(spec: RunSpec | None) -> None:
            if spec is not None:
                self.start_run(spec)

        model = self.user_config.model or "offline/demo"
        root = self.root_of(self.selected)
        self.push_screen(NewRunDialog(root, dict(self.table.records), model=model), started)

    def action_resume(self) -> None:
        record = self._selected_record()
        if record is None:
            return
        refusal = record.resume_refusal()
        if refusal is not None:
            severity = "warning" if record.status == Status.RUNNING else "error"
            self.notify(f"{refusal}.", severity=severity)
            return

        def started(spec: RunSpec | None) -> None:
            if spec is not None:
                self.start_run(spec)

        self.push_screen(ResumeDialog(record, self.redactor), started)

    def _selected_record(self) -> AgentRecord | None:
        record = self.table.records.get(self.selected) if self.selected else None
        if record is None:
            self.notify("Select an agent on the left first.", severity="warning")
        return record

    def action_fork(self) -> None:
        record = self._selected_record()
        if record is None:
            return
        if record.format != Format.OURS:
            self.notify(f"{record.name} is not an agent-tui agent: only those can be forked "
                        "(their journal holds every step).", severity="warning")  # fmt: skip
            return

        def asked(request: ForkRequest | None) -> None:
            if request is not None:
                self._fork_in_thread(record.folder, request)

        self.push_screen(ForkDialog(record, self.step_bar.step), asked)

    @work(thread=True, group="fork", exit_on_error=False, description="fork an agent")
    def _fork_in_thread(self, folder: Path, request: ForkRequest) -> None:
        from agent_tui.agent.fork import ForkError, fork_agent

        try:
            made = fork_agent(folder, request.step, name=request.name, message=request.message)
        except (ForkError, WorkspaceFileError) as exc:
            self.call_from_thread(self.notify, f"Not forked: {exc}", severity="error")
            return
        record = read_agent(made.folder)
        self.post_message(AgentChanged(record))
        self.call_from_thread(self._forked, record, request.step)

    def _forked(self, record: AgentRecord, step: int) -> None:
        self.actions.record("fork", folder=record.path, step=step)
        self.notify(f"Forked from step {step} as {record.name}: {record.folder_name}")
        self.call_after_refresh(self.reveal_agent, record.path)

    def action_export(self) -> None:
        record = self._selected_record()
        if record is None:
            return

        def asked(request: ExportRequest | None) -> None:
            if request is not None:
                self._export_in_thread(record.folder, request)

        self.push_screen(ExportDialog(record, record.folder, self.step_bar.step), asked)

    @work(thread=True, group="export", exit_on_error=False, description="export an agent")
    def _export_in_thread(self, folder: Path, request: ExportRequest) -> None:
        from agent_tui.export import export_agent, write_export
        from agent_tui.workspace import WorkspaceLookupError

        try:
            data = export_agent(folder, request.fmt, upto_step=request.step)
            write_export(request.path, data)
        except (WorkspaceFileError, WorkspaceLookupError, OSError) as exc:
            self.call_from_thread(self.notify, f"Not exported: {exc}", severity="error")
            return
        size = format_bytes(len(data))
        self.actions.record(
            "export", folder=str(folder), file=str(request.path), format=request.fmt
        )
        self.call_from_thread(self.notify, f"Exported to {request.path} ({size})")

    def action_interrupt_run(self) -> None:
        if not self.run_pane.interrupt():
            self.notify("No run in progress in the Run tab. (Quit: q or ctrl+q)")

    async def action_quit(self) -> None:
        live = self.run_pane.live_runs
        if not live:
            self.exit()
            return

        async def answer(yes: bool | None) -> None:
            if yes:
                self.notify("Interrupting runs; their state is being saved...")
                await self.run_pane.stop_all()
                self.exit()

        question = (
            f"{len(live)} run(s) in progress. Interrupt them (their state is saved) and quit?"
        )
        self.push_screen(ConfirmDialog(question, yes_label="Interrupt and quit"), answer)

    def action_cleanup(self) -> None:
        """Cleanup of one root: the selected agent's (the first when none is selected)."""
        root = self.root_of(self.selected)
        agents = os.path.join(root / "agents", "")
        records = [r for path, r in self.table.records.items() if path.startswith(agents)]
        mirror = self.remotes.get(root)
        remover = None if mirror is None else partial(remove_remote, mirror)
        self.push_screen(
            CleanupScreen(
                records,
                root / "agents",
                read_only=self.read_only,
                clock=self.clock,
                remover=remover,
            )
        )

    # Workspace roots.

    def _remote_root(self, url: str) -> Path:
        from agent_tui.store.mirror import Mirror

        mirror = Mirror(url)
        mirror.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.remotes[mirror.folder] = mirror
        return mirror.folder

    def _show_roots(self) -> None:
        self.table.root_labels = {str(root): self.root_label(root) for root in self.roots}
        self.table.set_roots([str(root / "agents") for root in self.roots])

    def root_label(self, root: Path) -> str:
        """How a root is named on screen: its s3:// address for a remote one."""
        mirror = self.remotes.get(root)
        return mirror.url if mirror is not None else str(root)

    @work(thread=True, group="remote", exit_on_error=False,
          description="poll an s3:// root")  # fmt: skip
    def remote_poll(self, mirror: Mirror) -> None:
        """Sync the mirror every :data:`POLL_INTERVAL_S`: the watcher of its folder sees what
        changed and the rows follow, as for a local root. A failure is said once, then retried."""
        from agent_tui.store.s3 import StoreError

        worker = get_current_worker()
        failing = False
        while not worker.is_cancelled:
            started = time.monotonic()
            try:
                mirror.sync()
            except StoreError as exc:
                if not failing:
                    self.call_from_thread(self.notify, str(exc), severity="warning")
                failing = True
            else:
                if failing:
                    self.call_from_thread(self.notify, f"{mirror.url}: reachable again")
                failing = False
            time.sleep(max(0.05, POLL_INTERVAL_S - (time.monotonic() - started)))
        mirror.close()

    def root_of(self, key: str | None) -> Path:
        """The root agent ``key`` is under (the first root for none)."""
        for root in self.roots:
            if key is not None and key.startswith(os.path.join(root / "agents", "")):
                return root
        return self.root

    def _title_roots(self) -> None:
        first = self.root_label(self.root)
        where = first if len(self.roots) == 1 else f"{first} +{len(self.roots) - 1}"
        self.sub_title = where + ("  [read-only]" if self.read_only else "")

    def action_next_root(self) -> None:
        """Jump to the first agent of the next root (several roots open)."""
        starts = self.table.shown.group_starts()
        if len(starts) < 2:
            self.notify("One workspace root is open: W adds another.")
            return
        here = self.table.cursor_row
        later = [row for row, _ in starts if row > here]
        self.table.move_cursor(later[0] if later else starts[0][0])

    def action_add_root(self) -> None:
        def added(path: Path | str | None) -> None:
            if path is not None:
                self.add_root(path)

        self.push_screen(
            ValuePrompt(
                "Open another workspace root (a folder holding agents/, or s3://bucket/prefix):",
                "",
                _root_path,
            ),
            added,
        )

    def add_root(self, given: Path | str) -> None:
        """Show ``given``'s agents too: listed under a line naming it, watched, cleaned apart
        (an s3:// address: its mirror, polled)."""
        remote = store.is_remote(given)
        if remote:
            from agent_tui.store.s3 import StoreError

            try:
                path = self._remote_root(str(given))
            except StoreError as exc:
                self.notify(str(exc), severity="error")
                return
        else:
            path = Path(given).expanduser().absolute()
        if path in self.roots:
            self.notify(f"{self.root_label(path)} is open already.")
            return
        self.roots.append(path)
        if remote:
            self.remote_poll(self.remotes[path])
        self._show_roots()
        self._title_roots()
        if self._stop_watch is not None:  # watch every root again, the new one included
            self._stop_watch.set()
            self._stop_watch = None
            self._scan_started = time.time()
            self._scanned_once = False
        self.scan_workspace()


# Every screen's keys the user may remap in the config file ([keys] binding-id = "key").
KEYED_IDS = binding_ids(
    AgentTUI, CleanupScreen, HelpScreen, ActionLogScreen, ConfirmDialog, SearchScreen
)


def remove_remote(
    mirror: Mirror, cleanup: CleanupPlan, *, progress: Progress, to_desktop_trash: bool
) -> CleanupResult:
    """The cleanup screen's removal on an s3:// root: the objects of each folder deleted."""
    folders = [item.folder for item in cleanup.items]
    result = CleanupResult()
    if to_desktop_trash:
        reason = "objects on an s3:// root are deleted, not moved to a trash"
        result.failures = [(folder, reason) for folder in folders]
        return result
    result.removed, result.skipped, result.failures, result.freed_bytes = mirror.remove_folders(
        folders
    )
    if cleanup.items:
        progress(len(cleanup.items), len(cleanup.items), cleanup.items[-1])
    return result
