"""The forms that start runs: a new run (``n``) and load / resume of a saved agent (``l``).

Both dismiss with a :class:`agent_tui.runner.RunSpec` (or ``None`` when cancelled) and check what
they can before a child is started, with a message that says what to fix.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Generic, TypeVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Label, Static
from textual.worker import Worker, WorkerState

from agent_tui.format.layout import Format, Status
from agent_tui.format.naming import agent_folder_name, stable_agent_id
from agent_tui.format.persistence import WorkspaceFileError
from agent_tui.models import MissingKeyError, missing_keys
from agent_tui.offline import is_offline, parse_model
from agent_tui.redaction import Redactor
from agent_tui.runner import CONTINUE_TASK, RunSpec, suggested_models
from agent_tui.settings import load_env
from agent_tui.tui.dialogs import ChoiceDialog
from agent_tui.tui.display import LOADING, failure_text, render_message
from agent_tui.units import plural, shorten
from agent_tui.workspace import (
    AgentRecord,
    load_config,
    load_conversation,
    load_state,
)


def demo_tools() -> list[str]:
    """The tools the app gives the runs it starts: the demo's (the runner gives none unless a
    spec names them). Imported when a run is started, not when the app paints."""
    from agent_tui.demo import DEMO_TOOL_REFS

    return list(DEMO_TOOL_REFS)


MAX_LOOPS = 10_000
DEFAULT_LOOPS = 5
OFFLINE_MODELS = ("offline/demo", "offline/demo?delay=0.05", "offline/demo?tool_steps=6")
PREVIEW_MESSAGES = 3
PREVIEW_CHARS = 240


def check_model(model: str) -> str | None:
    """Why ``model`` cannot run, or ``None``: the offline model's options, and a provider whose
    key is not set (refused with the words a run would use); the rest is litellm's to judge."""
    if not model:
        return "Type a model string (offline/demo needs no key and no network)."
    if " " in model:
        return f"A model string has no spaces: {model!r}."
    if is_offline(model):
        try:
            parse_model(model)
        except ValueError as exc:
            return str(exc)
    missing = missing_keys(model)  # the environment and .env; litellm is not imported
    if missing:
        return str(MissingKeyError(model, missing))
    return None


def check_loops(raw: str) -> tuple[int | None, str | None]:
    value = raw.strip()
    if not value.isdigit() or not 1 <= int(value) <= MAX_LOOPS:
        return None, f"Max loops must be a whole number from 1 to {MAX_LOOPS:,}, not {raw!r}."
    return int(value), None


def model_hint() -> Text:
    """Which model strings will work here: the offline ones, and those whose key is set."""
    load_env()
    text = Text("offline, no key: ", style="dim")
    text.append(", ".join(OFFLINE_MODELS[:2]))
    keyed = suggested_models()
    if keyed:
        text.append("\nkey found: ", style="dim")
        text.append(", ".join(f"{model} ({key})" for model, key in keyed))
    else:
        text.append("\nno provider key in the environment or .env", style="dim")
    return text


T = TypeVar("T")


class FormScreen(ModalScreen[T | None], Generic[T]):
    """Shared parts: an error line, Start/Cancel buttons, Enter submits, Escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="form-cancel", tooltip="Close the form")]
    START_LABEL = "Start"

    def __init__(self) -> None:
        super().__init__(classes="dialog-screen")

    def buttons(self) -> ComposeResult:
        yield Static(id="form-error", classes="form-error")
        with Horizontal(classes="dialog-buttons"):
            yield Button(f"{self.START_LABEL} (enter)", variant="primary", id="form-start")
            yield Button("Cancel (esc)", id="form-cancel-button")

    def value(self, selector: str) -> str:
        return self.query_one(selector, Input).value.strip()

    def fail(self, message: str) -> None:
        error = self.query_one("#form-error", Static)
        error.update(Text(message, style="bold #ff5f5f"))
        error.display = True

    def spec(self) -> T | None:
        raise NotImplementedError

    def submit(self) -> None:
        spec = self.spec()
        if spec is not None:
            self.dismiss(spec)

    def on_mount(self) -> None:
        self.query_one("#form-error").display = False

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.submit()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "form-start":
            self.submit()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class NewRunDialog(FormScreen[RunSpec]):
    """Agent name, model, task, max loops."""

    def __init__(
        self,
        root: Path,
        records: dict[str, AgentRecord],
        name: str = "my-agent",
        model: str = "offline/demo",
    ) -> None:
        super().__init__()
        self.root = root
        self.records = records
        self.default_name = name
        self.default_model = model

    def compose(self) -> ComposeResult:
        models = [*OFFLINE_MODELS, *(model for model, _ in suggested_models())]
        with VerticalScroll(classes="dialog run-form"):
            yield Label("New run", classes="dialog-title")
            yield Label("Agent name")
            yield Input(self.default_name, id="run-name")
            yield Static(id="run-name-note", classes="dialog-hint")
            yield Label("Model (any litellm model string)")
            yield Input(
                self.default_model,
                id="run-model",
                suggester=SuggestFromList(models, case_sensitive=False),
            )
            yield Static(model_hint(), id="run-model-hint", classes="dialog-hint")
            yield Label("Task")
            yield Input(placeholder="what should the agent do?", id="run-task")
            yield Label("Max loops")
            yield Input("5", id="run-loops", type="integer")
            yield from self.buttons()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#run-task", Input).focus()
        self._name_note(self.default_name)

    def _existing(self, name: str) -> AgentRecord | None:
        folder = self.root / "agents" / agent_folder_name(name, stable_agent_id(name))
        return self.records.get(str(folder))

    @on(Input.Changed, "#run-name")
    def _name_changed(self, event: Input.Changed) -> None:
        self._name_note(event.value.strip())

    def _name_note(self, name: str) -> None:
        record = self._existing(name) if name else None
        note = ""
        if record is not None:
            note = (
                f"{name!r} exists ({record.status}, {record.loop_count or 0} steps): Start asks "
                "whether to continue it or start a new agent beside it."
            )
        self.query_one("#run-name-note", Static).update(note)

    def submit(self) -> None:
        """A name whose agent exists asks first: continue it (its folder, its earlier runs
        kept in its journal), a new agent beside it (a folder of its own), or back to the form."""
        spec = self.spec()
        if spec is None:
            return
        existing = self._existing(spec.agent_name)
        if existing is None:
            self.dismiss(spec)
            return

        def answered(answer: str | None) -> None:
            if answer == "continue":
                self.dismiss(spec)
            elif answer == "new":
                self.dismiss(replace(spec, agent_id=uuid.uuid4().hex))

        question = (
            f"An agent named {spec.agent_name!r} exists ({existing.status}, "
            f"{existing.loop_count or 0} steps). Continue it, or start a new agent beside it?"
        )
        answers = [("continue", "Continue it", "c"), ("new", "New agent", "n"),
                   ("cancel", "Cancel", "q")]  # fmt: skip
        self.app.push_screen(ChoiceDialog(question, answers), answered)

    def spec(self) -> RunSpec | None:
        name, model, task = (
            self.value("#run-name"),
            self.value("#run-model"),
            self.value("#run-task"),
        )
        if not name:
            self.fail("Give the agent a name.")
            return None
        problem = check_model(model)
        if problem:
            self.fail(problem)
            return None
        if not task:
            self.fail("Type a task: what should the agent do?")
            return None
        loops, problem = check_loops(self.query_one("#run-loops", Input).value)
        if problem:
            self.fail(problem)
            return None
        existing = self._existing(name)
        if existing is not None and existing.status == Status.RUNNING:
            self.fail(f"{name!r} is running now; pick another name or wait for it.")
            return None
        return RunSpec(
            agent_name=name,
            task=task,
            model=model,
            max_loops=loops,
            workspace=str(self.root),
            tools=demo_tools(),
        )


def restore_preview(record: AgentRecord, redactor: Redactor) -> tuple[Text, dict[str, Any]]:
    """What a resume restores (steps, task, last messages), read through ``agent_tui.workspace``,
    with secrets masked; and the saved config (``{}`` when unreadable)."""
    text = Text()
    text.append(record.name, style="bold")
    text.append(f"   {record.folder.name}\n", style="dim")
    problems: list[str] = []
    try:
        state = redactor.redact(load_state(record.folder)) or {}
    except WorkspaceFileError as exc:
        state, problems = {}, [f"state file: {exc.reason}"]
    try:
        messages = redactor.redact(load_conversation(record.folder))
    except WorkspaceFileError as exc:
        messages, problems = [], [*problems, f"conversation: {exc.reason}"]
    try:
        config = load_config(record.folder)
    except WorkspaceFileError:
        config = {}
    tasks = [m.get("content") for m in messages if m.get("role") == "user"]
    task = state.get("task") or (tasks[-1] if tasks else None)
    text.append("steps  ", style="bold")
    text.append(f"{record.loop_count or 0}", style="bold #5fd7ff")
    text.append(f"   status {record.status}   {plural(len(messages), 'message')}")
    if record.model:
        text.append(f"   model {record.model}")
    text.append("\ntask   ", style="bold")
    text.append(str(task or "(none saved)"))
    if record.format == Format.SWARMS:
        text.append(
            "\nA swarms workspace: the run continues in an agent-tui folder of its own; this "
            "folder is not changed.",
            style="#ffd75f",
        )
    shown = messages[-PREVIEW_MESSAGES:]
    if shown:
        text.append(f"\n\nthe last {plural(len(shown), 'message')}", style="bold")
    for message in shown:
        message = dict(message)
        message["content"] = shorten(str(message.get("content") or ""), PREVIEW_CHARS)
        text.append("\n")
        text.append_text(render_message(message))
    for problem in problems:
        text.append(f"\n! {problem}", style="bold #ff5f5f")
    return text, config


def saved_max_loops(config: dict[str, Any]) -> int:
    """The saved run's ``max_loops``, the form's default for the next one."""
    loops = config.get("max_loops")
    if isinstance(loops, int) and not isinstance(loops, bool) and loops > 0:
        return loops
    return DEFAULT_LOOPS


class ResumeDialog(FormScreen[RunSpec]):
    """Shows what will be restored; asks for an optional follow-up task, model and max loops.

    The preview is read in a thread worker: until it arrives the dialog says "loading..." and
    its Resume button is disabled.
    """

    START_LABEL = "Resume"

    @dataclass
    class Loaded(Message):
        """What a resume restores, ready to show, and the saved ``max_loops``."""

        dialog: ResumeDialog
        preview: Text
        max_loops: int

        @property
        def control(self) -> ResumeDialog:
            return self.dialog

    def __init__(self, record: AgentRecord, redactor: Redactor) -> None:
        super().__init__()
        self.record = record
        self.redactor = redactor
        self.loaded = False

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog run-form"):
            yield Label("Load / resume", classes="dialog-title")
            with VerticalScroll(id="resume-preview"):
                yield Static(LOADING, id="resume-preview-body")
            yield Label("Follow-up task (optional)")
            yield Input(placeholder=CONTINUE_TASK, id="resume-task")
            with Horizontal(classes="form-row"):
                with Vertical():
                    yield Label("Model")
                    yield Input(self.record.model or "offline/demo", id="resume-model")
                with Vertical(classes="form-narrow"):
                    yield Label("Max loops")
                    yield Input(str(DEFAULT_LOOPS), id="resume-loops", type="integer")
            yield from self.buttons()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#form-start", Button).disabled = True
        self.query_one("#resume-task", Input).focus()
        self._load()

    @work(thread=True, group="resume-preview", exclusive=True, exit_on_error=False,
          description="read what a resume restores")  # fmt: skip
    def _load(self) -> None:
        preview, config = restore_preview(self.record, self.redactor)
        self.post_message(self.Loaded(self, preview, saved_max_loops(config)))

    @on(Loaded)
    def _loaded(self, event: Loaded) -> None:
        self.loaded = True
        self.query_one("#resume-preview-body", Static).update(event.preview)
        loops = self.query_one("#resume-loops", Input)
        if loops.value == str(DEFAULT_LOOPS):  # not changed by hand while the preview loaded
            loops.value = str(event.max_loops)
        self.query_one("#form-start", Button).disabled = False

    @on(Worker.StateChanged)
    def _load_failed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.query_one("#resume-preview-body", Static).update(failure_text(event.worker))

    def spec(self) -> RunSpec | None:
        if not self.loaded:
            self.fail("Still reading the saved agent: Resume works once its preview is shown.")
            return None
        model = self.value("#resume-model")
        problem = check_model(model)
        if problem:
            self.fail(problem)
            return None
        loops, problem = check_loops(self.query_one("#resume-loops", Input).value)
        if problem:
            self.fail(problem)
            return None
        return RunSpec(
            agent_name=self.record.name,
            model=model,
            max_loops=loops,
            workspace=str(self.record.folder.parent.parent),
            resume=True,
            folder=str(self.record.folder),
            follow_up=self.value("#resume-task"),
            tools=demo_tools(),
        )
