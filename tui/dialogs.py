"""Small modal dialogs: a yes/no confirmation, a choice between a few answers and a prompt
for a value."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Label

T = TypeVar("T")


class ConfirmDialog(ModalScreen[bool]):
    """Ask before doing something that cannot be undone; dismisses with True or False."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm-yes", tooltip="Go ahead"),
        Binding("n,escape", "answer(False)", "No", id="confirm-no", tooltip="Cancel"),
    ]

    def __init__(self, question: str, yes_label: str = "Delete") -> None:
        super().__init__(classes="dialog-screen")
        self.question = question
        self.yes_label = yes_label

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.question, classes="dialog-question")
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.yes_label} (y)", variant="error", id="yes")
                yield Button("Cancel (n)", variant="primary", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class ChoiceDialog(ModalScreen[str | None]):
    """A question with a few answers, each a button and a key; dismisses with the answer's
    name, or None on Escape. ``answers``: (name, label, key), the first one focused."""

    BINDINGS = [Binding("escape", "answer('')", "Cancel", id="choice-cancel", tooltip="Cancel")]

    def __init__(self, question: str, answers: Sequence[tuple[str, str, str]]) -> None:
        super().__init__(classes="dialog-screen")
        self.question = question
        self.answers = list(answers)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.question, classes="dialog-question")
            with Horizontal(classes="dialog-buttons"):
                for index, (name, label, key) in enumerate(self.answers):
                    yield Button(f"{label} ({key})", variant="primary" if index == 0 else "default",
                                 id=f"choice-{name}")  # fmt: skip

    def on_mount(self) -> None:
        self.query(Button).first().focus()

    def on_key(self, event) -> None:
        for name, _, key in self.answers:
            if event.key == key:
                event.stop()
                self.dismiss(name)
                return

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss((event.button.id or "").removeprefix("choice-") or None)

    def action_answer(self, name: str) -> None:
        self.dismiss(name or None)


def parse_count(text: str) -> int:
    """A whole number, 0 or more."""
    value = text.strip()
    if not value.isdigit():
        raise ValueError(f"Type a whole number (0 or more), not {text!r}.")
    return int(value)


class ValuePrompt(ModalScreen[T | None], Generic[T]):
    """Ask for a value ``parse`` reads; dismisses with it, or None when cancelled. A value
    ``parse`` refuses (``ValueError``) keeps the prompt open and its message on screen. With
    ``suggestions``, the input completes what is typed from them (right arrow takes it)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="value-cancel", tooltip="Close")]

    def __init__(
        self,
        question: str,
        default: str,
        parse: Callable[[str], T],
        suggestions: Sequence[str] = (),
    ) -> None:
        super().__init__(classes="dialog-screen")
        self.question = question
        self.default = default
        self.parse = parse
        self.suggestions = list(suggestions)

    def compose(self) -> ComposeResult:
        suggester = SuggestFromList(self.suggestions) if self.suggestions else None
        with Vertical(classes="dialog"):
            yield Label(self.question, classes="dialog-question")
            yield Input(self.default, id="value", suggester=suggester)
            yield Label("Enter to apply, Escape to cancel", classes="dialog-hint", id="value-hint")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        try:
            value = self.parse(event.value)
        except ValueError as exc:
            self.query_one("#value-hint", Label).update(str(exc))
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)
