"""The offline model: deterministic, streaming, multi-step, tool-calling, scriptable.

It serves the demo, every test and every benchmark, with no key and no network, and it never
imports litellm (a process that only uses it starts in a fraction of a second). It is also
registered with litellm as a custom provider (``agent_tui.litellm_provider``).

Options ride on the model string, query-style::

    offline/demo                         answers after calling each available tool once
    offline/demo?delay=0.05              sleep 50 ms before each streamed chunk
    offline/demo?fail_at=3&fail=rate_limit   fail on the 3rd step of the conversation
    offline/demo?tool_steps=4&words=80   four tool steps before answering; longer answers

Failure kinds: server, auth, rate_limit, timeout, connection, cut (the stream stops halfway),
bad_tool (a tool call whose arguments are not JSON), hang (never answers until stopped).
The step number is counted from the conversation (assistant messages + 1), so a resumed run
fails at the same step as a fresh one would.
"""

from __future__ import annotations

import hashlib
import random
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import orjson

PROVIDER = "offline"
FAIL_KINDS = ("server", "auth", "rate_limit", "timeout", "connection", "cut", "bad_tool", "hang")

_STOPWORDS = set(
    "the a an and or of to in on for with about into from by is are be this that these those "
    "what how why when which who your you our we it its as at can could should would please "
    "give make write list explain tell me some any all".split()
)
_OPENERS = [
    "Looking at {topic}, the first thing to settle is scope.",
    "Here is how I would approach {topic}.",
    "Working through {topic} step by step.",
    "A short, concrete take on {topic}.",
]
_BODY = [
    "The main driver is {w1}, which shapes everything downstream.",
    "{W2} matters less than it first appears, but it sets the pace.",
    "A careful look at {w1} and {w2} shows where the risk sits.",
    "Measure {w2} before changing anything; guesses here are usually wrong.",
    "The simplest plan keeps {w1} stable and iterates on {w3}.",
    "Most of the value comes from getting {w3} right early.",
    "Trade-offs between {w1} and {w3} should be written down, not assumed.",
    "Check the result against the original goal before moving on.",
    "Small, reversible steps beat one large rewrite here.",
    "Evidence from the tool results points the same way.",
]
_CLOSERS = [
    "In short: start with {w1}, verify with numbers, then widen the scope.",
    "Next step: pick one measurable target for {w2} and track it.",
    "That covers the essentials of {topic}.",
]


class OfflineModelError(Exception):
    """A scripted failure of the offline model; ``kind`` is one of :data:`FAIL_KINDS`."""

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        super().__init__(message)


@dataclass(frozen=True)
class OfflineOptions:
    delay: float = 0.0
    fail_at: int | None = None
    fail: str = "server"
    tool_steps: int | None = None
    words: int = 60


def parse_model(model_name: str) -> OfflineOptions:
    """Options from ``offline/<name>?key=value&...``; unknown keys or bad values raise ValueError."""
    _, _, query = model_name.partition("?")
    values: dict[str, Any] = {}
    for key, raw in parse_qsl(query, keep_blank_values=True):
        try:
            if key == "delay":
                values[key] = max(0.0, float(raw))
            elif key in ("fail_at", "tool_steps", "words"):
                values[key] = max(0, int(raw))
            elif key == "fail":
                if raw not in FAIL_KINDS:
                    raise ValueError(f"fail must be one of {', '.join(FAIL_KINDS)}")
                values[key] = raw
            else:
                raise ValueError(f"unknown option {key!r}")
        except ValueError as exc:
            raise ValueError(f"bad offline model option in {model_name!r}: {exc}") from None
    return OfflineOptions(**values)


def is_offline(model_name: str) -> bool:
    return model_name.split("/", 1)[0] == PROVIDER and "/" in model_name


@dataclass
class ToolCallEvent:
    id: str
    name: str
    arguments: str


def _content_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def _keywords(text: str) -> list[str]:
    words = [w.lower() for w in re.findall(r"[A-Za-z][A-Za-z0-9'-]{2,}", text)]
    seen: dict[str, None] = {}
    for word in words:
        if word not in _STOPWORDS:
            seen.setdefault(word, None)
    # Pad short tasks so the sentences name three different things.
    padding = [w for w in ("the design", "the data", "the schedule") if w not in seen]
    return (list(seen) + padding)[: max(3, len(seen))]


def _example_arguments(parameters: dict[str, Any], words: list[str], step: int) -> dict[str, Any]:
    args: dict[str, Any] = {}
    props = parameters.get("properties") or {}
    for index, name in enumerate(parameters.get("required") or list(props)):
        schema = props.get(name) or {}
        kind = schema.get("type", "string")
        if "enum" in schema:
            args[name] = schema["enum"][0]
        elif kind == "integer":
            args[name] = step * 7 + index
        elif kind == "number":
            args[name] = step * 1.5 + index
        elif kind == "boolean":
            args[name] = True
        elif kind == "array":
            args[name] = words[:3]
        elif kind == "object":
            args[name] = {}
        else:
            args[name] = " ".join(words[index : index + 3]) or "notes"
    return args


def _tool_name(tool: dict[str, Any]) -> str:
    return (tool.get("function") or tool).get("name", "tool")


def _tool_parameters(tool: dict[str, Any]) -> dict[str, Any]:
    return (tool.get("function") or tool).get("parameters") or {}


class OfflineModel:
    """Generates one step's reply as a stream of text chunks and tool-call events."""

    def __init__(self, model_name: str = "offline/demo") -> None:
        self.model_name = model_name
        self.options = parse_model(model_name)

    def stream(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]] | None = None,
        stop: threading.Event | None = None,
        deadline: float | None = None,
    ) -> Iterator[str | ToolCallEvent]:
        """Yield text chunks (``str``) and at most one :class:`ToolCallEvent` per step.

        ``deadline`` (``time.monotonic()`` seconds): a delay or a hang that would pass it
        raises a ``timeout`` failure when it comes, as a real provider's timeout would."""
        opts = self.options
        stop = stop or threading.Event()
        step = 1 + sum(1 for m in messages if m.get("role") == "assistant")
        last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
        task = _content_text(messages[last_user]) if last_user >= 0 else ""
        calls_since_task = sum(
            1
            for m in messages[last_user + 1 :]
            if m.get("role") == "assistant" and m.get("tool_calls")
        )
        seed = hashlib.sha256(f"{task}\x00{step}".encode()).digest()
        rng = random.Random(seed)
        words = _keywords(task)
        tools = tools or []
        tool_steps = len(tools) if opts.tool_steps is None else opts.tool_steps
        failing = opts.fail_at is not None and step == opts.fail_at

        if failing and opts.fail not in ("cut", "bad_tool"):
            if opts.fail == "hang":
                while not _pause(0.1, stop, deadline):  # woken often, so signal handlers run
                    pass
                return
            raise OfflineModelError(opts.fail, f"scripted {opts.fail} failure at step {step}")

        if tools and calls_since_task < tool_steps:
            tool = tools[calls_since_task % len(tools)]
            name = _tool_name(tool)
            args = _example_arguments(_tool_parameters(tool), words, step)
            text = f"Step {step}: I will call {name} to learn more about {' '.join(words[:2])}. "
            yield from self._chunks(text, stop, deadline)
            if failing and opts.fail == "bad_tool":
                arguments = '{"unterminated": '
            else:
                arguments = orjson.dumps(args).decode()
            yield ToolCallEvent(id=f"call_{step}_{seed.hex()[:8]}", name=name, arguments=arguments)
            return

        text = self._answer(words, rng, messages[last_user + 1 :])
        if failing and opts.fail == "cut":
            half = text[: len(text) // 2]
            yield from self._chunks(half, stop, deadline)
            raise OfflineModelError("cut", f"stream cut off halfway at step {step}")
        yield from self._chunks(text, stop, deadline)

    def _answer(self, words: list[str], rng: random.Random, since_task: list[dict]) -> str:
        fill = {
            "topic": " ".join(words[:3]),
            "w1": words[0],
            "w2": words[1 % len(words)],
            "W2": words[1 % len(words)].capitalize(),
            "w3": words[2 % len(words)],
        }
        parts = [rng.choice(_OPENERS).format(**fill)]
        results = [_content_text(m) for m in since_task if m.get("role") == "tool"]
        if results:
            shown = "; ".join(r[:60] for r in results[-3:])
            parts.append(f"The tools reported: {shown}.")
        body = _BODY[:]
        rng.shuffle(body)
        while sum(len(p.split()) for p in parts) < self.options.words and body:
            parts.append(body.pop().format(**fill))
        parts.append(rng.choice(_CLOSERS).format(**fill))
        return " ".join(parts)

    def _chunks(self, text: str, stop: threading.Event, deadline: float | None) -> Iterator[str]:
        pieces = re.findall(r"\S+\s*", text)
        for piece in pieces:
            if self.options.delay and _pause(self.options.delay, stop, deadline):
                return
            yield piece


def _pause(seconds: float, stop: threading.Event, deadline: float | None) -> bool:
    """Wait ``seconds``; True when stopped. Past ``deadline``, a ``timeout`` failure."""
    if deadline is not None:
        left = deadline - time.monotonic()
        if left < seconds:
            if stop.wait(max(left, 0.0)):
                return True
            raise OfflineModelError("timeout", "no complete answer before the deadline (timeout)")
    return stop.wait(seconds)


def count_tokens(text: str) -> int:
    """A rough token count (4 characters a token) for usage figures of the offline model."""
    return tokens_for_chars(len(text))


def tokens_for_chars(chars: int) -> int:
    return max(1, chars // 4) if chars else 0
