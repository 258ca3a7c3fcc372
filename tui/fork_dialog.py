"""The fork and export dialogs: a new agent from one agent's conversation up to step N, and the
agent's runs written to a file. Each only asks; the app does the work in a worker
(:func:`agent_tui.agent.fork.fork_agent`, :func:`agent_tui.export.export_agent`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Input, Label

from agent_tui.tui.run_dialogs import FormScreen
from agent_tui.workspace import AgentRecord

EXPORT_SUFFIXES = {".md": "md", ".markdown": "md", ".html": "html", ".htm": "html", ".json": "json"}


@dataclass(frozen=True)
class ForkRequest:
    step: int
    name: str | None
    message: str | None


@dataclass(frozen=True)
class ExportRequest:
    path: Path
    fmt: str
    step: int | None


def _step(text: str, last: int | None) -> tuple[int | None, str | None]:
    """The step typed (blank: ``None``), or the problem with it."""
    value = text.strip()
    if not value:
        return None, None
    if not value.isdigit():
        return None, f"The step is a whole number (0 to {last or 0}), not {value!r}."
    step = int(value)
    if last is not None and step > last:
        return None, f"Step {step} is past the last step ({last})."
    return step, None


class ForkDialog(FormScreen[ForkRequest]):
    """Step, new name, and an optional new text for the last user message up to that step."""

    START_LABEL = "Fork"

    def __init__(self, record: AgentRecord, step: int | None = None) -> None:
        super().__init__()
        self.record = record
        self.step = record.loop_count if step is None else step

    def compose(self) -> ComposeResult:
        last = self.record.loop_count or 0
        with VerticalScroll(classes="dialog run-form"):
            yield Label(f"Fork {self.record.name} (the original is not changed)",
                        classes="dialog-title")  # fmt: skip
            yield Label(f"From step (0 to {last})")
            yield Input(str(self.step or 0), id="fork-step", type="integer")
            yield Label("New agent's name (blank: NAME-fork)")
            yield Input(placeholder=f"{self.record.name}-fork", id="fork-name")
            yield Label("New last user message (optional: blank keeps it)")
            yield Input(id="fork-message")
            yield from self.buttons()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#fork-step", Input).focus()

    def spec(self) -> ForkRequest | None:
        step, problem = _step(self.value("#fork-step"), self.record.loop_count)
        if problem or step is None:
            self.fail(problem or "Type the step to fork from.")
            return None
        name = self.value("#fork-name") or None
        message = self.query_one("#fork-message", Input).value or None
        return ForkRequest(step, name, message)


class ExportDialog(FormScreen[ExportRequest]):
    """Where to write the export (its suffix picks the format) and up to which step."""

    START_LABEL = "Export"

    def __init__(self, record: AgentRecord, folder: Path, step: int | None = None) -> None:
        super().__init__()
        self.record = record
        self.folder = folder
        self.step = step

    def compose(self) -> ComposeResult:
        default = Path.cwd() / f"{self.record.folder_name}.md"
        with VerticalScroll(classes="dialog run-form"):
            yield Label(f"Export {self.record.name}: every run, secrets masked",
                        classes="dialog-title")  # fmt: skip
            yield Label("File (.md, .html or .json)")
            yield Input(str(default), id="export-path")
            yield Label(f"Up to step (blank: all, last is {self.record.loop_count or 0})")
            yield Input("" if self.step is None else str(self.step), id="export-step")
            yield from self.buttons()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#export-path", Input).focus()

    def spec(self) -> ExportRequest | None:
        text = self.value("#export-path")
        if not text:
            self.fail("Type the file to write.")
            return None
        path = Path(text).expanduser()
        fmt = EXPORT_SUFFIXES.get(path.suffix.lower())
        if fmt is None:
            self.fail("End the file name in .md, .html or .json (that picks the format).")
            return None
        step, problem = _step(self.value("#export-step"), self.record.loop_count)
        if problem:
            self.fail(problem)
            return None
        return ExportRequest(path if path.is_absolute() else Path.cwd() / path, fmt, step)
