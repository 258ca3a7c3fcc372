"""The autosaving agent: model call -> tool calls -> autosave -> next step.

What lands on disk and when (see docs/FORMAT.md):

- ``config.json``: atomically at run start, after every step and at run end; small and of
  constant size, so the per-step cost does not grow with the history.
- ``journal.jsonl``: one line per completed step, written before the step ends, so ``kill -9``
  loses at most the step in flight and ``load()`` can replay every completed step.

The disk work of a step (the journal's fdatasync, the atomic ``config.json`` rewrite, each
fsynced) runs on the agent's autosave thread (:mod:`agent_tui.autosave_thread`), so a step never
waits for the disk; every full save waits for it. A killed process loses nothing a step
finished; a power cut at most the fsync in flight.
- ``{agent_name}_state.json``: the full state at run start, on model errors, on interrupts
  (SIGINT, SIGTERM, :meth:`Agent.request_stop`), on :meth:`Agent.save` and at run end.

Autosave never breaks a run: a failed write is reported (stderr, ``autosave_failures``, an
``autosave_failed`` event) and retried at the next step.
"""

from __future__ import annotations

import os
import signal
import socket
import stat
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent_tui.agent.autosaver import AutosaveThread, Outcome
from agent_tui.format import replay
from agent_tui.format.journal import JournalWriter, read_journal
from agent_tui.format.layout import CONFIG_NAME, JOURNAL_NAME, SCHEMA_VERSION, Format, Status
from agent_tui.format.lock import WorkspaceLock
from agent_tui.format.naming import agent_folder_name, stable_agent_id, state_file_name
from agent_tui.format.persistence import (
    StateFileError,
    WorkspaceFileError,
    atomic_write_json,
    dumps,
    is_temp_file,
    open_folder,
    read_json_object,
)
from agent_tui.format.swarms import swarms_state
from agent_tui.models import (
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    ModelError,
    ModelSettings,
    StopRequested,
    complete,
)
from agent_tui.offline import is_offline, parse_model
from agent_tui.redaction import Redactor
from agent_tui.settings import agents_dir
from agent_tui.tools import Tool, call_tool, tool_from_function

DEFAULT_SYSTEM_PROMPT = "You are a helpful, careful assistant. Use tools when they help."
FORMAT = Format.OURS
RUNNING, COMPLETED, ERROR, INTERRUPTED, IDLE = (
    Status.RUNNING,
    Status.COMPLETED,
    Status.ERROR,
    Status.INTERRUPTED,
    Status.IDLE,
)
_WIRE_KEYS = ("role", "content", "tool_calls", "tool_call_id", "name")


class AgentInterrupted(Exception):
    """The run was stopped (SIGTERM or :meth:`Agent.request_stop`); its state is saved."""


@dataclass
class AgentEvent:
    """Something that happened during a run, for progress displays.

    Kinds: ``run_start``, ``step_start``, ``tool_call``, ``tool_result``, ``step_end``,
    ``autosave``, ``autosave_failed``, ``run_end``.
    """

    kind: str
    data: dict[str, Any] = field(default_factory=dict)


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _plain(value: Any) -> bool:
    if value is None or isinstance(value, str | int | float | bool):
        return True
    if isinstance(value, list | tuple):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False


class Agent:
    """An LLM agent whose work survives errors, interrupts and crashes.

    >>> agent = Agent(model_name="offline/demo", agent_name="my-agent", max_loops=3)
    >>> answer = agent.run("Summarise the benefits of autosave")
    """

    def __init__(
        self,
        model_name: str = "offline/demo",
        agent_name: str = "agent",
        max_loops: int = 1,
        autosave: bool = True,
        verbose: bool = False,
        system_prompt: str | None = None,
        tools: list[Callable[..., Any]] | None = None,
        id: str | None = None,
        agent_description: str = "",
        temperature: float | None = None,
        max_tokens: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_RETRIES,
        retry_backoff: float = 1.0,
        api_key: str | None = None,
        api_base: str | None = None,
        workspace_dir: str | os.PathLike[str] | None = None,
        streaming_callback: Callable[[str], None] | None = None,
        on_event: Callable[[AgentEvent], None] | None = None,
        **extra: Any,
    ) -> None:
        if not isinstance(max_loops, int) or isinstance(max_loops, bool) or max_loops < 1:
            raise ValueError(f"max_loops must be a positive integer, got {max_loops!r}")
        if not isinstance(agent_name, str) or not agent_name.strip():
            raise ValueError("agent_name must be a non-empty string")
        if not isinstance(model_name, str) or not model_name.strip():
            raise ValueError("model_name must be a non-empty model string")
        if is_offline(model_name):
            parse_model(model_name)  # a bad option is a clear error now, not at the first step
        self.model_name = model_name
        self.agent_name = agent_name
        self.id = str(id) if id is not None else stable_agent_id(agent_name)
        self.max_loops = max_loops
        self.autosave = autosave
        self.verbose = verbose
        self.system_prompt = DEFAULT_SYSTEM_PROMPT if system_prompt is None else system_prompt
        self.agent_description = agent_description
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.timeout = timeout
        self.max_retries = max_retries
        self.api_base = api_base
        self.workspace_dir = workspace_dir
        self.streaming_callback = streaming_callback
        self.on_event = on_event
        # Unknown keyword arguments are kept as settings when they are plain data (swarms
        # users pass many); anything else would not survive a round trip through JSON.
        self.extra = {k: v for k, v in extra.items() if _plain(v)}
        self._tools: list[Tool] = [tool_from_function(f) for f in (tools or [])]
        self._tools_by_name = {t.name: t for t in self._tools}
        self._model_settings = ModelSettings(
            temperature, max_tokens, timeout, max_retries, api_key, api_base, retry_backoff
        )
        self._redactor = Redactor([api_key] if api_key else [])
        # Learned now, not at the first config write: the task record is journaled before it,
        # and a header or a URL password may appear in the task or the answer.
        self._redactor.learn([api_base, self.extra])

        self.conversation: list[dict[str, Any]] = []
        self.tool_results: list[dict[str, Any]] = []
        self.memory: dict[str, Any] = {}
        self.task: str | None = None
        self.tasks: list[str] = []
        self.loop_count = 0
        self.usage = {"prompt_tokens": 0, "completion_tokens": 0, "cost": 0.0}
        self.status = IDLE
        self.error: str | None = None
        self.autosave_failures = 0
        self.run_id: str | None = None
        self.started_at: str | None = None

        self._folder: Path | None = None
        # The folder given by load(path): once a folder exists it is the agent's identity, so
        # a copied folder resumes in itself, never in the folder its name would derive.
        self._home: Path | None = None
        # The journal's last seq when load() read it: a run that finds the journal moved on
        # since then replays what it missed instead of writing over it.
        self._loaded_seq: int | None = None
        self._lock: WorkspaceLock | None = None
        self._journal: JournalWriter | None = None
        self._seq = 0
        self._pending: list[dict[str, Any]] = []
        self._memory_written: bytes = b"{}"
        self._stop = threading.Event()
        self._finishing = False
        self._redacted_settings: dict[str, Any] | None = None
        self._disk: AutosaveThread | None = None
        # Lengths of conversation and tool_results when the step in flight began.
        self._step_mark: tuple[int, int] | None = None
        self._wire: list[dict[str, Any]] = []
        self._wire_source: list[dict[str, Any]] | None = None

    # ----------------------------------------------------------------- identity and files
    @property
    def agent_id(self) -> str:
        return self.id

    def _get_agent_workspace_dir(self) -> str:
        """The agent's folder, ``$WORKSPACE_DIR/agents/{safe-name}-{id12}``, created if missing."""
        return str(self._workspace_folder())

    def _workspace_folder(self) -> Path:
        if self._home is not None:
            info = os.lstat(self._home)  # FileNotFoundError: the folder was removed
            if not stat.S_ISDIR(info.st_mode):
                raise WorkspaceFileError(self._home, "is not a real folder (a link?), not used")
            return self._home
        root = agents_dir(self.workspace_dir)
        folder = root / agent_folder_name(self.agent_name, self.id)
        # The folder name is built to be one harmless component; check it anyway.
        if folder.parent != root or os.sep in folder.name or folder.name in (".", ".."):
            raise ValueError(f"refusing unsafe workspace folder {folder}")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise WorkspaceFileError(folder, "exists but is not a folder") from None
        if folder.is_symlink() or folder.resolve().parent != root.resolve():
            raise ValueError(f"workspace folder {folder} is a link or resolves outside {root}")
        return folder

    @property
    def state_path(self) -> Path:
        return Path(self._get_agent_workspace_dir()) / state_file_name(self.agent_name)

    @property
    def config_path(self) -> Path:
        return Path(self._get_agent_workspace_dir()) / CONFIG_NAME

    def _bind(self) -> Path:
        """Fix the folder for this run and open the journal (continuing its sequence)."""
        if self._folder is None or not os.path.isdir(self._folder):
            folder = self._workspace_folder()
            if folder != self._folder or self._lock is None:
                self._lock = WorkspaceLock(folder)
            self._folder = folder
        return self._folder

    def _remove_stale_temp_files(self) -> None:
        # A process killed inside an atomic write leaves its temp file; the target is intact.
        # Only called with the lock held, so no live writer owns these.
        assert self._folder is not None
        try:
            fd = open_folder(self._folder)
        except OSError:
            return
        try:
            for name in os.listdir(fd):
                if is_temp_file(name):
                    try:
                        os.unlink(name, dir_fd=fd)  # a link is removed as a link
                    except OSError:
                        pass
        finally:
            os.close(fd)

    def _open_journal(self) -> None:
        assert self._folder is not None
        if self._journal is None:
            journal = JournalWriter(self._folder / JOURNAL_NAME)
            journal.open()
            self._journal = journal
            self._catch_up(journal.last_seq)
            self._seq = max(self._seq, journal.last_seq)

    def _catch_up(self, last_seq: int) -> None:
        """A state loaded before another process ran more steps is stale: replay the journal
        records written since, so the run continues after them instead of dropping them."""
        if self._loaded_seq is None or last_seq <= self._seq:
            return
        assert self._folder is not None
        missed = [
            r
            for r in read_journal(self._folder / JOURNAL_NAME).records
            if isinstance(r.get("seq"), int) and r["seq"] > self._seq
        ]
        for record in missed:
            self._replay(record)
        self._wire_source = None
        self._memory_written = _memory_bytes(self.memory)
        if self.verbose or missed:
            print(
                f"[load] the journal of {self._folder} moved on since load(): "
                f"{len(missed)} newer record(s) replayed before this run",
                file=sys.stderr,
            )

    def _close_journal(self) -> None:
        self._drain()  # the autosave thread may be syncing this very file
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    # ----------------------------------------------------------------- documents
    def settings(self) -> dict[str, Any]:
        """The agent's plain-data settings (what ``config.json`` holds besides metadata)."""
        return {
            "agent_name": self.agent_name,
            "agent_id": self.id,
            "agent_description": self.agent_description,
            "model_name": self.model_name,
            "system_prompt": self.system_prompt,
            "max_loops": self.max_loops,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "timeout": self.timeout,
            "max_retries": self.max_retries,
            "api_base": self.api_base,
            "autosave": self.autosave,
            "verbose": self.verbose,
            "tools": [t.describe() for t in self._tools],
            **self.extra,
        }

    def _config_document(self) -> dict[str, Any]:
        """Redacted settings + metadata. The settings do not change during a run, so they are
        redacted once per run, not once per step (a large system prompt would cost every step)."""
        if self._redacted_settings is None:
            self._redacted_settings = self._redactor.redact(self.settings())
        return {
            **self._redacted_settings,
            "_autosave_metadata": self._redactor.redact(self._metadata()),
        }

    def _metadata(self) -> dict[str, Any]:
        return {
            "timestamp": _now(),
            "loop_count": self.loop_count,
            "agent_id": self.id,
            "agent_name": self.agent_name,
            "schema_version": SCHEMA_VERSION,
            "format": FORMAT,
            "status": self.status,
            "run_id": self.run_id,
            "pid": os.getpid(),
            "hostname": socket.gethostname(),
            "started_at": self.started_at,
            "state_file": state_file_name(self.agent_name),
            "error": self.error,
            "usage": dict(self.usage),
            "autosave_failures": self.autosave_failures,
        }

    def state(self) -> dict[str, Any]:
        """The full state (what ``{agent_name}_state.json`` holds)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "format": FORMAT,
            "agent_id": self.id,
            "agent_name": self.agent_name,
            "saved_at": _now(),
            "status": self.status,
            "error": self.error,
            "loop_count": self.loop_count,
            "task": self.task,
            "tasks": list(self.tasks),
            "conversation": self.conversation,
            "tool_results": self.tool_results,
            "memory": self.memory,
            "usage": dict(self.usage),
            "config": self.settings(),
            "journal_seq": self._seq,
        }

    # ----------------------------------------------------------------- autosave
    def _emit(self, kind: str, **data: Any) -> None:
        if self.on_event is not None:
            self.on_event(AgentEvent(kind, data))

    def _report_write(self, what: str, path: Path, size: int, started: float) -> None:
        self._report_done(what, path, size, (time.perf_counter() - started) * 1000)

    def _report_done(self, what: str, path: Path, size: int, ms: float, **extra: Any) -> None:
        if self.verbose:
            print(f"[autosave] {what} -> {path} ({size:,} B, {ms:.1f} ms)", file=sys.stderr)
        self._emit("autosave", file=what, path=str(path), bytes=size, ms=ms, **extra)

    def _report_failure(self, what: str, exc: OSError) -> None:
        self.autosave_failures += 1
        reason = exc.strerror or str(exc)
        print(
            f"[autosave] FAILED to write {what} in {self._folder}: {reason}; "
            "the run goes on and the write is retried at the next step",
            file=sys.stderr,
        )
        self._emit("autosave_failed", file=what, error=reason)

    def _record(self, kind: str, **fields: Any) -> None:
        if not self.autosave:
            return
        self._seq += 1
        record = {"seq": self._seq, "kind": kind, "ts": _now(), "run_id": self.run_id}
        record["loop_count"] = self.loop_count
        record.update(fields)
        self._pending.append(self._redactor.redact(record))

    def _flush_journal(self, *, sync: bool = True) -> bool:
        """Append the pending records; True when something was written."""
        if not self._pending:
            return False
        started = time.perf_counter()
        try:
            self._open_journal()
            assert self._journal is not None
            size = self._journal.append(self._pending, sync=sync)
        except OSError as exc:
            self._close_journal()
            self._report_failure(JOURNAL_NAME, exc)
            return False
        self._pending.clear()
        self._report_write(JOURNAL_NAME, self._journal.path, size, started)
        return True

    def _write_config(self) -> None:
        assert self._folder is not None
        path = self._folder / CONFIG_NAME
        started = time.perf_counter()
        try:
            size = atomic_write_json(path, self._config_document())
        except OSError as exc:
            self._report_failure(CONFIG_NAME, exc)
            return
        self._report_write(CONFIG_NAME, path, size, started)

    def _write_state(self) -> None:
        assert self._folder is not None
        path = self._folder / state_file_name(self.agent_name)
        started = time.perf_counter()
        try:
            size = atomic_write_json(path, self._redactor.redact(self.state()))
        except OSError as exc:
            self._report_failure(path.name, exc)
            return
        self._report_write(path.name, path, size, started)

    def _autosave_step(self) -> None:
        """The journal line now (it is what survives a killed process); the fsyncs and the
        config rewrite on the autosave thread."""
        wrote = self._flush_journal(sync=False)
        assert self._folder is not None
        if self._disk is None:
            self._disk = AutosaveThread(lambda path, doc: atomic_write_json(path, doc))
        self._disk.submit(
            self._journal if wrote else None, self._folder / CONFIG_NAME, self._config_document()
        )
        self._report(self._disk.take_outcomes())

    def _report(self, outcomes: list[Outcome]) -> None:
        for outcome in outcomes:
            if isinstance(outcome.result, OSError):
                self._report_failure(outcome.file, outcome.result)
            else:
                self._report_done(
                    outcome.file,
                    outcome.path,
                    outcome.result,
                    outcome.ms,
                    loop_count=outcome.loop_count,
                )

    def _drain(self) -> None:
        """Wait until the autosave thread has put everything on disk; report how it went."""
        if self._disk is not None:
            self._report(self._disk.flush())

    def flush_autosave(self) -> None:
        """Wait until every autosave of the run so far is written and fsynced."""
        self._drain()

    def _stop_disk_thread(self) -> None:
        disk, self._disk = self._disk, None
        if disk is not None:
            self._report(disk.close())

    def _autosave_full(self) -> None:
        if self.autosave:
            self._drain()
            self._flush_journal()
            self._write_state()
            self._write_config()

    def save(self) -> str:
        """Write the full state and config now; returns the state file's path."""
        self._bind()
        assert self._lock is not None
        self._redacted_settings = None
        with self._lock:
            self._drain()
            self._flush_journal()
            self._write_state()
            self._write_config()
            if self._journal is not None and not self._finishing and self.status != RUNNING:
                self._close_journal()
        return str(self._folder / state_file_name(self.agent_name))

    # ----------------------------------------------------------------- running
    def request_stop(self) -> None:
        """Ask a run in progress (in another thread) to stop; it saves and raises
        :class:`AgentInterrupted`."""
        self._stop.set()

    def _check_stop(self) -> None:
        if self._stop.is_set():
            raise StopRequested()

    def _tool_schemas(self) -> list[dict[str, Any]] | None:
        return [t.schema() for t in self._tools] or None

    def _wire_messages(self) -> list[dict[str, Any]]:
        # The model sees only the standard keys. Built incrementally: the conversation only
        # grows during a run (a rolled-back step or a load() replaces it, and is detected).
        source = self.conversation
        if self._wire_source is not source or len(self._wire) > len(source):
            self._wire, self._wire_source = [], source
        for message in source[len(self._wire) :]:
            self._wire.append({k: message[k] for k in _WIRE_KEYS if k in message})
        return list(self._wire)

    def run(
        self,
        task: str,
        streaming_callback: Callable[[str], None] | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> str:
        """Run the task (or continue a loaded conversation with it); returns the final answer.

        Raises :class:`agent_tui.models.ModelError` when the model fails, :class:`AgentInterrupted`
        on SIGTERM or :meth:`request_stop`, ``KeyboardInterrupt`` on Ctrl-C; in every case the
        state is saved first.
        """
        if not isinstance(task, str):
            raise TypeError(f"task must be a string, got {type(task).__name__}")
        on_chunk = streaming_callback or self.streaming_callback
        if self.autosave:
            self._bind()
            assert self._lock is not None
            self._lock.acquire()
            try:
                self._remove_stale_temp_files()
            except BaseException:
                self._lock.release()
                raise
        self._stop.clear()
        self._redactor.refresh()
        self._redacted_settings = None
        self.run_id = uuid.uuid4().hex[:12]
        self.started_at = _now()
        self.status = RUNNING
        self.error = None
        previous_sigterm = self._install_sigterm()
        final_text = ""
        try:
            if self.autosave:
                self._open_journal()
            new_conversation = not any(m.get("role") != "system" for m in self.conversation)
            if new_conversation:
                self.conversation = [
                    {"role": "system", "content": self.system_prompt, "ts": _now()}
                ]
            user = {"role": "user", "content": task, "ts": _now(), "step": self.loop_count}
            self.conversation.append(user)
            self.task = task
            self.tasks.append(task)
            opening = self.conversation[:] if new_conversation else [user]
            self._record("task", task=task, messages=opening, new_conversation=new_conversation)
            self._emit("run_start", task=task, max_loops=self.max_loops, loop_count=self.loop_count)
            self._autosave_full()
            for loop in range(1, self.max_loops + 1):
                reply = self._step(loop, on_chunk)
                final_text = reply.text
                if not reply.tool_calls:
                    break
            self.status = COMPLETED
            return final_text
        except KeyboardInterrupt:
            self._fail(INTERRUPTED, "interrupted (SIGINT / Ctrl-C)")
            raise
        except (StopRequested, AgentInterrupted) as exc:
            reason = str(exc) or "stop requested"
            self._fail(INTERRUPTED, f"interrupted ({reason})")
            raise AgentInterrupted(
                f"run of {self.agent_name!r} interrupted ({reason}); state saved"
            ) from None
        except ModelError as exc:
            self._fail(ERROR, str(exc))
            raise
        except Exception as exc:
            self._fail(ERROR, f"{type(exc).__name__}: {exc}")
            raise
        finally:
            self._finish(previous_sigterm)

    def _step(self, loop: int, on_chunk: Callable[[str], None] | None):
        self._check_stop()
        step = self.loop_count + 1
        mark = len(self.conversation), len(self.tool_results)
        self._step_mark = mark
        self._emit("step_start", step=step, loop=loop, max_loops=self.max_loops)
        reply = complete(
            self.model_name,
            self._wire_messages(),
            self._tool_schemas(),
            self._model_settings,
            on_chunk,
            self._stop,
        )
        assistant: dict[str, Any] = {
            "role": "assistant",
            "content": reply.text,
            "ts": _now(),
            "step": step,
        }
        if reply.tool_calls:
            assistant["tool_calls"] = [c.as_message_part() for c in reply.tool_calls]
        self.conversation.append(assistant)
        for call in reply.tool_calls:
            self._check_stop()
            self._emit("tool_call", step=step, name=call.name, arguments=call.arguments)
            outcome = call_tool(self._tools_by_name, call.name, call.arguments)
            self._redactor.learn(outcome.arguments)
            self.conversation.append(
                {
                    "role": "tool",
                    "tool_call_id": call.id,
                    "name": call.name,
                    "content": outcome.result,
                    "ts": _now(),
                    "step": step,
                }
            )
            result = {
                "step": step,
                "tool_call_id": call.id,
                "name": call.name,
                "arguments": outcome.arguments,
                "result": outcome.result,
                "is_error": outcome.is_error,
                "duration_ms": round(outcome.duration_ms, 3),
            }
            self.tool_results.append(result)
            self._emit("tool_result", **result)
        self._check_stop()
        self.loop_count = step
        self.usage["prompt_tokens"] += reply.prompt_tokens
        self.usage["completion_tokens"] += reply.completion_tokens
        self.usage["cost"] = round(self.usage["cost"] + reply.cost, 8)
        fields: dict[str, Any] = {
            "messages": self.conversation[mark[0] :],
            "tool_results": self.tool_results[mark[1] :],
            "usage": dict(self.usage),
        }
        memory = _memory_bytes(self.memory)
        if memory != self._memory_written:
            fields["memory"] = self.memory
            self._memory_written = memory
        # Time the run's own thread spends on autosave (redaction, the journal line, handing the
        # fsyncs over, waiting for the previous step's): what autosave costs a step.
        started = time.perf_counter()
        self._record("step", **fields)
        self._step_mark = None
        if self.autosave:
            self._autosave_step()
        autosave_ms = (time.perf_counter() - started) * 1000
        self._emit(
            "step_end",
            step=step,
            loop=loop,
            max_loops=self.max_loops,
            tool_calls=len(reply.tool_calls),
            usage=dict(self.usage),
            autosave_ms=autosave_ms,
        )
        return reply

    def _fail(self, status: str, message: str) -> None:
        # A step cut short is rolled back: a conversation that ends in tool calls with no
        # results would be rejected by the model on resume.
        mark = self._step_mark
        if mark is not None:
            self._wire_source = None
            del self.conversation[mark[0] :]
            del self.tool_results[mark[1] :]
            self._step_mark = None
        self.status = status
        self.error = message

    def _finish(self, previous_sigterm: Any) -> None:
        in_main = threading.current_thread() is threading.main_thread()
        blocked = {signal.SIGINT, signal.SIGTERM}
        if in_main:
            # Another Ctrl-C while the final state is written would lose it: hold signals
            # until the write is done; they are delivered right after.
            signal.pthread_sigmask(signal.SIG_BLOCK, blocked)
        self._finishing = True
        try:
            if self.autosave:
                self._record("end", status=self.status, error=self.error)
                self._autosave_full()
            self._emit("run_end", status=self.status, error=self.error, loop_count=self.loop_count)
        finally:
            self._finishing = False
            self._stop_disk_thread()
            self._close_journal()
            if self._lock is not None:
                self._lock.release()
            if previous_sigterm is not None:
                signal.signal(signal.SIGTERM, previous_sigterm)
            if in_main:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, blocked)

    def _install_sigterm(self) -> Any:
        if threading.current_thread() is not threading.main_thread():
            return None

        def on_sigterm(signum: int, frame: Any) -> None:
            if not self._finishing:
                raise StopRequested("SIGTERM")

        return signal.signal(signal.SIGTERM, on_sigterm)

    # ----------------------------------------------------------------- loading
    def load(self, path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
        """Restore a saved state (default: this agent's own), then replay every completed step
        recorded in the journal after it. Returns the restored state.

        ``path`` may be a state file or an agent's folder. Once loaded from a folder of ours,
        the agent saves and runs in that folder (a copy resumes in the copy).

        Raises :class:`StateFileError` naming the file and the reason when it is missing,
        corrupt, foreign or from a newer version; the file is never modified.
        """
        if path is not None and os.path.isdir(path) and not os.path.islink(path):
            if not _is_agent_folder(Path(path)):
                raise StateFileError(path, "not an agent folder (no config.json)")
            self._home, self._folder, path = Path(path), None, None
        if path is None:
            folder = Path(self._get_agent_workspace_dir())
            target = folder / state_file_name(self.agent_name)
            if not target.exists() and not (folder / JOURNAL_NAME).exists():
                raise StateFileError(
                    target, "no saved state for this agent yet: run it first or pass a path"
                )
        else:
            target = Path(path)
            folder = target.parent
        document = self._read_state(target) if target.exists() or path is not None else {}
        if path is not None and document.get("format") == FORMAT and _is_agent_folder(folder):
            # The folder is the agent's identity: saves and runs go back to where it was read.
            self._home = folder
            self._folder = None
        self._apply_state(document)
        journal = read_journal(folder / JOURNAL_NAME)
        base = int(document.get("journal_seq") or 0)
        if document.get("format", FORMAT) == FORMAT:
            for record in journal.records:
                if isinstance(record.get("seq"), int) and record["seq"] > base:
                    self._replay(record)
        for problem in journal.problems:
            if self.verbose:
                print(f"[load] {problem}", file=sys.stderr)
        self._memory_written = _memory_bytes(self.memory)
        self._loaded_seq = self._seq
        return self.state()

    def _read_state(self, path: Path) -> dict[str, Any]:
        try:
            document = read_json_object(path)
        except WorkspaceFileError as exc:
            raise StateFileError(exc.path, exc.reason) from None
        # Every secret of a foreign file (swarms keeps llm_api_key in plain text, in its config
        # and its state file) is learned before any of it is copied into a file of ours.
        self._redactor.learn(document)
        if "short_memory" in document or document.get("format") is None:
            for beside in _swarms_documents(path.parent):
                self._redactor.learn(beside)
            return swarms_state(document, path)
        if document.get("format") != FORMAT:
            raise StateFileError(path, f"unknown format {document.get('format')!r}")
        version = document.get("schema_version")
        if not isinstance(version, int):
            raise StateFileError(path, "schema_version is missing or not a number")
        if version > SCHEMA_VERSION:
            raise StateFileError(
                path,
                f"written by a newer agent-tui (schema {version} > {SCHEMA_VERSION}); "
                "upgrade agent-tui to load it",
            )
        conversation = document.get("conversation", [])
        if not isinstance(conversation, list) or not all(
            isinstance(m, dict) and isinstance(m.get("role"), str) for m in conversation
        ):
            raise StateFileError(path, "conversation is not a list of messages with roles")
        return document

    def _apply_state(self, document: dict[str, Any]) -> None:
        def pick(key: str, kind: type, default: Any) -> Any:
            value = document.get(key, default)
            return value if isinstance(value, kind) else default

        self.conversation = list(pick("conversation", list, []))
        self.tool_results = list(pick("tool_results", list, []))
        self.memory = dict(pick("memory", dict, {}))
        self.task = pick("task", str, None)
        self.tasks = list(pick("tasks", list, []))
        self.loop_count = pick("loop_count", int, 0)
        self.usage = replay.usage_of(pick("usage", dict, {}))
        self.status = pick("status", str, IDLE)
        self.error = pick("error", str, None)
        self._seq = max(self._seq, int(document.get("journal_seq") or 0))

    def _replay(self, record: dict[str, Any]) -> None:
        replay.apply(self, record)
        self._seq = max(self._seq, replay.seq_of(record) or 0)


def _is_agent_folder(folder: Path) -> bool:
    """A folder that holds an agent (its config), not a loose folder with a state file in it."""
    try:
        return stat.S_ISREG(os.lstat(folder / CONFIG_NAME).st_mode)
    except OSError:
        return False


def _memory_bytes(memory: dict[str, Any]) -> bytes:
    return dumps(memory, indent=False)


def _swarms_documents(folder: Path) -> list[dict[str, Any]]:
    """The swarms config and state file of ``folder`` that can be read (for their secrets)."""
    from agent_tui.workspace import read_agent

    paths = [folder / CONFIG_NAME]
    try:
        state = read_agent(folder).state_file
    except (OSError, WorkspaceFileError):
        state = None
    if state is not None:
        paths.append(state)
    documents = []
    for path in paths:
        try:
            documents.append(read_json_object(path))
        except (OSError, WorkspaceFileError):
            pass
    return documents
