"""A headless agent run in its own process, reporting on stdout as JSON lines.

``python -m agent_tui.runner -`` reads the spec (JSON) from stdin, never from argv, where any
user of the machine could read it in the process list, and builds an
:class:`agent_tui.agent.Agent` with the tools its spec names (none unless it names some),
optionally loads a saved agent (ours or swarms'), runs it and prints the records of
:mod:`agent_tui.run_protocol`, one JSON object a line: ``start`` once the agent is ready,
``event`` for every agent event, ``text`` for streamed model text (chunks batched over ~50 ms),
and ``end`` last, always, with status ``completed``, ``error`` or ``interrupted``.

SIGINT (what the TUI's interrupt sends) interrupts the run wherever it is, a hung model call
included: the agent saves its state as ``interrupted`` and the process exits 130. SIGTERM does
the same through the agent's own handler. If the parent goes away (stdout closed, or the parent
process died) the run is interrupted too, so nothing keeps running unseen.

The app never imports the agent runtime or litellm for a run; it only reads these lines (and the
disk, like any other reader).
"""

from __future__ import annotations

import os
import re
import signal
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import IO, Any

import orjson

from agent_tui.defaults import CONTINUE_TASK
from agent_tui.format.layout import Status
from agent_tui.models import missing_keys, needed_keys
from agent_tui.redaction import Redactor, StreamRedactor
from agent_tui.run_protocol import End, Event, Record, Start, Text, encode, redacted
from agent_tui.units import shorten

_TOOL_REF = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
_AGENT_ID = re.compile(r"^[0-9a-f]{12,64}$")

TEXT_FLUSH_SECONDS = 0.05
TEXT_BATCH_CHARS = 8000
MAX_FIELD_CHARS = 2000
PARENT_POLL_SECONDS = 0.5
EXIT_OK, EXIT_ERROR, EXIT_BAD_SPEC, EXIT_INTERRUPTED = 0, 1, 2, 130

# Models worth suggesting when their provider's keys are set (agent_tui.models.needed_keys).
SUGGESTED_MODELS = (
    "gpt-4o-mini",
    "claude-3-5-haiku-latest",
    "gemini/gemini-1.5-flash",
    "groq/llama-3.1-8b-instant",
    "mistral/mistral-small-latest",
    "deepseek/deepseek-chat",
    "openrouter/openai/gpt-4o-mini",
)


class SpecError(ValueError):
    """The run spec is not usable; the message says which field and why."""


@dataclass
class RunSpec:
    """What to run. A new run needs ``agent_name`` and ``task``; a resume needs ``folder`` (the
    saved agent's folder) and takes ``follow_up`` as its task (default :data:`CONTINUE_TASK`).
    ``model``/``max_loops`` of ``None`` on a resume mean "as saved"."""

    agent_name: str = ""
    task: str = ""
    model: str | None = "offline/demo"
    max_loops: int | None = 5
    workspace: str | None = None
    resume: bool = False
    folder: str | None = None
    follow_up: str = ""
    # The agent's tools, as "package.module:function" references (plain data for the JSON
    # spec). A run gets the tools its caller names and no others; the demo names its own.
    tools: list[str] = field(default_factory=list)
    # A new agent beside one of the same name: a folder of its own (None: the name's folder).
    agent_id: str | None = None

    def to_json(self) -> str:
        return orjson.dumps(asdict(self)).decode()

    @classmethod
    def from_json(cls, raw: str | bytes) -> RunSpec:
        try:
            document = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise SpecError(f"run spec is not JSON: {exc}") from None
        if not isinstance(document, dict):
            raise SpecError("run spec must be a JSON object")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(document) - known)
        if unknown:
            raise SpecError(f"unknown run spec fields: {', '.join(unknown)}")
        spec = cls(**document)
        spec.check()
        return spec

    def check(self) -> None:
        """Raise :class:`SpecError` naming the first bad field."""
        loops = self.max_loops
        if loops is not None and (
            not isinstance(loops, int) or isinstance(loops, bool) or loops < 1
        ):
            raise SpecError(f"max_loops must be a whole number of 1 or more, got {loops!r}")
        if self.model is not None and (not isinstance(self.model, str) or not self.model.strip()):
            raise SpecError("model must be a non-empty model string")
        if not isinstance(self.tools, list) or not all(
            isinstance(t, str) and _TOOL_REF.match(t) for t in self.tools
        ):
            raise SpecError("tools must be a list of 'package.module:function' references")
        if self.agent_id is not None and not (
            isinstance(self.agent_id, str) and _AGENT_ID.match(self.agent_id)
        ):
            raise SpecError("agent_id must be 12 to 64 hex digits")
        if self.resume:
            if not self.folder:
                raise SpecError("a resume needs the folder of the saved agent")
        else:
            if not isinstance(self.agent_name, str) or not self.agent_name.strip():
                raise SpecError("agent_name must be a non-empty name")
            if not isinstance(self.task, str) or not self.task.strip():
                raise SpecError("task must be a non-empty text")

    @property
    def run_task(self) -> str:
        """The task given to ``Agent.run``."""
        if self.resume:
            return self.follow_up.strip() or CONTINUE_TASK
        return self.task


def suggested_models(environ: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """``(model, key names)`` for each suggested model whose keys are set (non-empty) in
    ``environ`` (default: the environment); the names, never the values."""
    environ = os.environ if environ is None else environ
    return [
        (model, " ".join(next(n for n in group if environ.get(n, "").strip()) for group in needs))
        for model in SUGGESTED_MODELS
        if (needs := needed_keys(model)) and not missing_keys(model, environ)
    ]


def _short(value: Any) -> Any:
    if isinstance(value, str):
        return shorten(value, MAX_FIELD_CHARS)
    if isinstance(value, dict):
        return {k: _short(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_short(v) for v in value]
    return value


class Reporter:
    """Writes the JSON lines; batches text chunks; notices when nobody is reading any more.

    Every line is redacted before it is written, streamed text across chunk boundaries, so what
    a reader of the lines (the app) gets is already clean."""

    def __init__(self, out: IO[bytes], redactor: Redactor | None = None) -> None:
        self.out = out
        self.closed = False
        self._text: list[str] = []
        self._text_chars = 0
        self._last_flush = 0.0
        self.on_closed: list[Any] = []
        self.use(redactor or Redactor())

    def use(self, redactor: Redactor) -> None:
        """Redact with ``redactor`` from now on (the agent's, once it knows its secrets)."""
        self.redactor = redactor
        self._stream = StreamRedactor(redactor)

    def emit(self, record: Record) -> None:
        if self.closed:
            return
        if not isinstance(record, Text):  # streamed text went through the stream redactor
            record = redacted(record, self.redactor)
        try:
            self.out.write(encode(record) + b"\n")
            self.out.flush()
        except (BrokenPipeError, OSError, ValueError):
            self.closed = True
            for callback in self.on_closed:
                callback()

    def text(self, chunk: str) -> None:
        chunk = self._stream.feed(chunk)
        self._text.append(chunk)
        self._text_chars += len(chunk)
        now = time.monotonic()
        if now - self._last_flush >= TEXT_FLUSH_SECONDS or self._text_chars >= TEXT_BATCH_CHARS:
            self.flush_text(end_of_stream=False)

    def flush_text(self, *, end_of_stream: bool = True) -> None:
        """Write the batched text; at the end of a stream (an event or the end of the run
        follows) also what the stream redactor held back."""
        if end_of_stream:
            self._text.append(self._stream.flush())
        if any(self._text):
            text, self._text, self._text_chars = "".join(self._text), [], 0
            self.emit(Text(text))
        else:
            self._text, self._text_chars = [], 0
        self._last_flush = time.monotonic()

    def event(self, kind: str, data: dict[str, Any]) -> None:
        self.flush_text()
        self.emit(Event(kind, _short(data)))


def import_tools(references: list[str]) -> list[Any]:
    """The functions named by ``"package.module:function"`` references; a reference that does
    not resolve is a :class:`SpecError` naming it."""
    import importlib

    found = []
    for reference in references:
        module_name, _, name = reference.partition(":")
        try:
            function = getattr(importlib.import_module(module_name), name)
        except (ImportError, AttributeError) as exc:
            raise SpecError(f"tool {reference!r} cannot be imported: {exc}") from None
        if not callable(function):
            raise SpecError(f"tool {reference!r} is not a function")
        found.append(function)
    return found


def build_agent(spec: RunSpec, reporter: Reporter):
    """The agent the spec asks for, loaded when it is a resume. Raises ``SpecError``,
    ``StateFileError`` or ``WorkspaceFileError`` with a message for the user."""
    from agent_tui.agent import Agent

    tools = import_tools(spec.tools)

    def on_event(event) -> None:
        reporter.event(event.kind, event.data)

    if not spec.resume:
        return Agent(
            model_name=spec.model or "offline/demo",
            agent_name=spec.agent_name,
            max_loops=spec.max_loops or 5,
            tools=tools,
            id=spec.agent_id,
            workspace_dir=spec.workspace,
            streaming_callback=reporter.text,
            on_event=on_event,
        )
    return resume_agent(
        Path(spec.folder or ""),
        model=spec.model,
        max_loops=spec.max_loops,
        tools=tools,
        streaming_callback=reporter.text,
        on_event=on_event,
    )


def resume_agent(
    folder: Path,
    *,
    model: str | None = None,
    max_loops: int | None = None,
    tools: list[Any] | None = None,
    **agent_kwargs: Any,
):
    """An :class:`agent_tui.agent.Agent` restored from the saved agent in ``folder`` (ours or
    swarms'), ready to ``run()`` a follow-up task. A swarms agent continues in a folder of our
    own beside it: theirs stays read-only. Raises ``SpecError`` (running, broken, nothing to
    load), ``StateFileError`` or ``WorkspaceFileError`` with a message for the user."""
    from agent_tui.agent import Agent
    from agent_tui.format.layout import CONFIG_NAME, JOURNAL_NAME, Format
    from agent_tui.format.naming import stable_agent_id
    from agent_tui.workspace import load_config, read_agent

    record = read_agent(folder)
    if record.status == Status.RUNNING:
        raise SpecError(f"{record.name!r} is running now ({record.holder}); wait for it to finish")
    if record.status == Status.BROKEN:
        raise SpecError(f"cannot resume {folder}: {'; '.join(record.problems) or 'broken'}")
    config = load_config(folder)
    saved_loops = config.get("max_loops")
    loops = max_loops or (saved_loops if isinstance(saved_loops, int) else 5)
    prompt = config.get("system_prompt")
    swarms = record.format == Format.SWARMS
    agent = Agent(
        model_name=model or record.model or "offline/demo",
        agent_name=record.name,
        # Each foreign agent continues in a folder of its own (two swarms agents may share a
        # name): the id derives from the swarms folder and id, never from the name alone.
        id=stable_agent_id(f"swarms:{folder.name}:{record.agent_id}")
        if swarms
        else record.agent_id,
        max_loops=max(1, loops),
        system_prompt=prompt if isinstance(prompt, str) else None,
        tools=tools or [],
        workspace_dir=folder.parent.parent,
        **agent_kwargs,
    )
    if swarms:
        agent.load(folder / CONFIG_NAME)
    elif record.state_file is not None or (folder / JOURNAL_NAME).is_file():
        # The folder given is the agent: a copied folder resumes in the copy.
        agent.load(record.state_file or folder)
    else:
        raise SpecError(f"cannot resume {folder}: no state file to load")
    return agent


def _watch_parent(parent: int) -> None:
    # Signals belong to the main thread (see agent_tui.agent.autosaver).
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    # The parent died (its pipe may stay open in a grandchild): interrupt, as Ctrl-C would.
    while True:
        time.sleep(PARENT_POLL_SECONDS)
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGINT)
            return


def run(spec: RunSpec, reporter: Reporter) -> int:
    """Run ``spec``; every outcome ends with an ``end`` line. Returns the exit status."""
    from agent_tui.agent import AgentInterrupted
    from agent_tui.format.persistence import WorkspaceFileError
    from agent_tui.models import MissingKeyError, ModelError

    agent = None

    def end(status: str, error: str | None, code: int) -> int:
        # A second Ctrl-C must not cut the last line in half; after it, Ctrl-C is as it was
        # (a process that calls run() and goes on, and its children, keep their Ctrl-C).
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            reporter.flush_text()
            reporter.emit(End.of(status, error, agent))
        finally:
            signal.signal(signal.SIGINT, previous)
        return code

    try:
        agent = build_agent(spec, reporter)
        agent.check_keys()  # before Start, which makes its folder
        # The agent's redactor knows its own key and what it learned from a loaded file.
        reporter.use(agent._redactor)
        reporter.on_closed.append(agent.request_stop)
        reporter.emit(Start.of(agent, pid=os.getpid(), resumed=spec.resume, task=spec.run_task))
        agent.run(spec.run_task)
    except KeyboardInterrupt:
        return end("interrupted", "interrupted (SIGINT / Ctrl-C); state saved", EXIT_INTERRUPTED)
    except AgentInterrupted as exc:
        return end("interrupted", str(exc), EXIT_INTERRUPTED)
    except MissingKeyError as exc:
        agent = None  # End.of(agent) would make the folder the run never needed
        return end("error", str(exc), EXIT_ERROR)
    except ModelError as exc:
        return end("error", str(exc), EXIT_ERROR)
    except (SpecError, WorkspaceFileError, ValueError) as exc:
        return end("error", str(exc), EXIT_ERROR)
    except Exception as exc:  # the app shows it; a traceback goes to stderr for the curious
        import traceback

        traceback.print_exc()
        return end("error", f"{type(exc).__name__}: {exc}", EXIT_ERROR)
    return end("completed", None, EXIT_OK)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # The protocol owns the real stdout; anything else that prints (a library, a tool) goes to
    # stderr, so it can never break a JSON line.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    reporter = Reporter(out)
    if argv != ["-"]:
        print("usage: python -m agent_tui.runner -   (the spec, JSON, on stdin)", file=sys.stderr)
        return EXIT_BAD_SPEC
    try:
        spec = RunSpec.from_json(sys.stdin.read())
    except (SpecError, TypeError) as exc:
        reporter.emit(End.of("error", str(exc)))
        return EXIT_BAD_SPEC
    # A parent that ignores SIGINT would pass that on; the interrupt must reach the run.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    return run(spec, reporter)


if __name__ == "__main__":
    sys.exit(main())
