"""The command palette: every key binding of the app and of the current screen, by name."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.dom import DOMNode


def bindings_of(*nodes: DOMNode) -> Iterator[tuple[DOMNode, Binding]]:
    """Each node's class bindings that have a description (hidden keys included)."""
    for node in nodes:
        for binding in type(node).BINDINGS:
            if isinstance(binding, Binding) and binding.description:
                yield node, binding


def available_bindings(*nodes: DOMNode) -> Iterator[tuple[DOMNode, Binding]]:
    """:func:`bindings_of` those that do something now: the node's ``check_action`` allows
    them (the browser's keys are not offered over the cleanup screen)."""
    for node, binding in bindings_of(*nodes):
        if node.check_action(binding.action.split("(")[0], ()) is True:
            yield node, binding


class BindingCommands(Provider):
    """Offers every described binding of the app and of the screen the palette opened on."""

    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        commands: list[tuple[str, str, Callable[[], object]]] = []
        for node, binding in available_bindings(self.screen, self.app):
            title = binding.description
            if binding.tooltip:
                title = f"{binding.description}: {binding.tooltip}"
            run = partial(self.app.run_action, binding.action, node)
            commands.append((title, f"key: {binding.key_display or binding.key}", run))
        return commands

    async def discover(self) -> Hits:
        for title, help_text, run in self._commands():
            yield DiscoveryHit(title, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, run in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), run, help=help_text)
