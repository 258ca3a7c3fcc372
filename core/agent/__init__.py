"""The autosaving agent: model call -> tool calls -> autosave -> next step.

:class:`Agent` is the seed's API and a facade over parts with one job each: its settings are
its own; what a run changes lives in a :class:`~agent_tui.agent.run_state.RunState`;
``step`` runs one model call and its tool calls, ``autosaver`` writes the documents, the
journal and (on its thread) the fsyncs, ``home`` finds the folder and holds its lock,
``signals`` turns SIGTERM and :meth:`Agent.request_stop` into a stop, ``events`` is what the
outside hears, ``loading`` reads a saved agent back. What lands on disk and when: see
:mod:`agent_tui.agent.autosaver` and docs/FORMAT.md.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, TypeVar, overload

from agent_tui.agent import loading
from agent_tui.agent.autosaver import Autosaver
from agent_tui.agent.events import AgentEvent, AgentInterrupted, Events
from agent_tui.agent.home import Home
from agent_tui.agent.run_state import RunState, now
from agent_tui.agent.signals import RunSignals
from agent_tui.agent.step import Step
from agent_tui.format.layout import CONFIG_NAME, Status
from agent_tui.format.naming import stable_agent_id, state_file_name
from agent_tui.format.persistence import StateFileError
from agent_tui.models import (
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    ModelError,
    ModelSettings,
    StopRequested,
    require_keys,
)
from agent_tui.offline import is_offline, parse_model
from agent_tui.redaction import Redactor
from agent_tui.tools import tool_from_function

__all__ = ["Agent", "AgentEvent", "AgentInterrupted", "StateFileError"]

DEFAULT_SYSTEM_PROMPT = "You are a helpful, careful assistant. Use tools when they help."

_T = TypeVar("_T")


class _Kept(Generic[_T]):
    """A public attribute of the agent that one of its parts keeps (read and written there)."""

    def __init__(self, part: str, name: str | None = None) -> None:
        self._part, self._name = part, name

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = self._name or name

    @overload
    def __get__(self, agent: None, owner: type) -> _Kept[_T]: ...
    @overload
    def __get__(self, agent: Agent, owner: type | None = None) -> _T: ...
    def __get__(self, agent: Agent | None, owner: type | None = None) -> _T | _Kept[_T]:
        if agent is None:
            return self
        return getattr(getattr(agent, self._part), self._name or "")

    def __set__(self, agent: Agent, value: _T) -> None:
        setattr(getattr(agent, self._part), self._name or "", value)


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

    # Identity and where it lives.
    agent_name: _Kept[str] = _Kept("_home")
    id: _Kept[str] = _Kept("_home", "agent_id")
    workspace_dir: _Kept[str | os.PathLike[str] | None] = _Kept("_home")
    # Where its news goes, and whether it autosaves.
    on_event: _Kept[Callable[[AgentEvent], None] | None] = _Kept("_events")
    verbose: _Kept[bool] = _Kept("_events")
    autosave: _Kept[bool] = _Kept("_autosaver", "enabled")
    # What a run changes.
    conversation: _Kept[list[dict[str, Any]]] = _Kept("_state")
    tool_results: _Kept[list[dict[str, Any]]] = _Kept("_state")
    memory: _Kept[dict[str, Any]] = _Kept("_state")
    task: _Kept[str | None] = _Kept("_state")
    tasks: _Kept[list[str]] = _Kept("_state")
    loop_count: _Kept[int] = _Kept("_state")
    usage: _Kept[dict[str, Any]] = _Kept("_state")
    status: _Kept[str] = _Kept("_state")
    error: _Kept[str | None] = _Kept("_state")
    autosave_failures: _Kept[int] = _Kept("_state")
    run_id: _Kept[str | None] = _Kept("_state")
    started_at: _Kept[str | None] = _Kept("_state")

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
        self.max_loops = max_loops
        self.system_prompt = DEFAULT_SYSTEM_PROMPT if system_prompt is None else system_prompt
        self.agent_description = agent_description
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.timeout = timeout
        self.max_retries = max_retries
        self.api_base = api_base
        self.streaming_callback = streaming_callback
        # Unknown keyword arguments are kept as settings when they are plain data (swarms
        # users pass many); anything else would not survive a round trip through JSON.
        self.extra = {k: v for k, v in extra.items() if _plain(v)}
        self._tools = [tool_from_function(f) for f in (tools or [])]
        self._redactor = Redactor([api_key] if api_key else [])
        # Learned now, not at the first config write: the task record is journaled before it,
        # and a header or a URL password may appear in the task or the answer.
        self._redactor.learn([api_base, self.extra])

        agent_id = str(id) if id is not None else stable_agent_id(agent_name)
        self._home = Home(agent_name, agent_id, workspace_dir)
        self._state = RunState()
        self._events = Events(on_event, verbose)
        self._signals = RunSignals()
        self._autosaver = Autosaver(
            autosave, self._home, self._state, self._redactor, self._events, self.settings
        )
        self._model_settings = ModelSettings(
            temperature, max_tokens, timeout, max_retries, api_key, api_base, retry_backoff
        )
        self._step = Step(
            self._state,
            self._tools,
            self._model_settings,
            self._redactor,
            self._events,
            self._signals,
            self._autosaver,
        )

    # ----------------------------------------------------------------- identity and files
    @property
    def agent_id(self) -> str:
        return self.id

    def _get_agent_workspace_dir(self) -> str:
        """The agent's folder, ``$WORKSPACE_DIR/agents/{safe-name}-{id12}``, created if missing."""
        return str(self._home.find())

    @property
    def state_path(self) -> Path:
        return Path(self._get_agent_workspace_dir()) / state_file_name(self.agent_name)

    @property
    def config_path(self) -> Path:
        return Path(self._get_agent_workspace_dir()) / CONFIG_NAME

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

    def state(self) -> dict[str, Any]:
        """The full state (what ``{agent_name}_state.json`` holds)."""
        return self._autosaver.state_document()

    # ----------------------------------------------------------------- saving
    def flush_autosave(self) -> None:
        """Wait until every autosave of the run so far is written and fsynced."""
        self._autosaver.drain()

    def save(self) -> str:
        """Write the full state and config now; returns the state file's path."""
        folder = self._home.bind()
        assert self._home.lock is not None
        self._autosaver.forget_settings()
        with self._home.lock:
            self._autosaver.write_all()
            if not self._signals.finishing and self.status != Status.RUNNING:
                self._autosaver.close_journal()
        return str(folder / state_file_name(self.agent_name))

    # ----------------------------------------------------------------- running
    def check_keys(self) -> None:
        """Raise :class:`agent_tui.models.MissingKeyError` when the model's provider needs a key
        that is neither in the environment nor in ``.env`` (nor given as ``api_key=`` /
        ``api_base=``). Cheap: it imports no model library and writes nothing."""
        settings = self._model_settings
        require_keys(self.model_name, api_key=settings.api_key, api_base=settings.api_base)

    def request_stop(self) -> None:
        """Ask a run in progress (in another thread) to stop; it saves and raises
        :class:`AgentInterrupted`."""
        self._signals.request_stop()

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
        state is saved first. A missing key (:meth:`check_keys`) is raised before anything is
        written.
        """
        if not isinstance(task, str):
            raise TypeError(f"task must be a string, got {type(task).__name__}")
        # Before the folder is made: a run that cannot start leaves nothing behind.
        self.check_keys()
        on_chunk = streaming_callback or self.streaming_callback
        if self.autosave:
            self._home.bind()
            lock = self._home.lock
            assert lock is not None
            lock.acquire()
            try:
                self._home.remove_stale_temp_files()
            except BaseException:
                lock.release()
                raise
        self._signals.stop.clear()
        self._redactor.refresh()
        self._autosaver.forget_settings()
        state = self._state
        state.run_id = uuid.uuid4().hex[:12]
        state.started_at = now()
        state.status = Status.RUNNING
        state.error = None
        previous_sigterm = self._signals.install_sigterm()
        final_text = ""
        try:
            if self.autosave:
                self._autosaver.open_journal()
            new_conversation = not any(m.get("role") != "system" for m in state.conversation)
            if new_conversation:
                state.conversation = [
                    {"role": "system", "content": self.system_prompt, "ts": now()}
                ]
            user = {"role": "user", "content": task, "ts": now(), "step": state.loop_count}
            state.conversation.append(user)
            state.task = task
            state.tasks.append(task)
            opening = state.conversation[:] if new_conversation else [user]
            self._autosaver.record(
                "task", task=task, messages=opening, new_conversation=new_conversation
            )
            self._events.emit(
                "run_start", task=task, max_loops=self.max_loops, loop_count=state.loop_count
            )
            self._autosaver.full()
            for loop in range(1, self.max_loops + 1):
                reply = self._step.run(self.model_name, loop, self.max_loops, on_chunk)
                final_text = reply.text
                if not reply.tool_calls:
                    break
            state.status = Status.COMPLETED
            return final_text
        except KeyboardInterrupt:
            self._fail(Status.INTERRUPTED, "interrupted (SIGINT / Ctrl-C)")
            raise
        except (StopRequested, AgentInterrupted) as exc:
            reason = str(exc) or "stop requested"
            self._fail(Status.INTERRUPTED, f"interrupted ({reason})")
            raise AgentInterrupted(
                f"run of {self.agent_name!r} interrupted ({reason}); state saved"
            ) from None
        except ModelError as exc:
            self._fail(Status.ERROR, str(exc))
            raise
        except Exception as exc:
            self._fail(Status.ERROR, f"{type(exc).__name__}: {exc}")
            raise
        finally:
            self._finish(previous_sigterm)

    def _fail(self, status: str, message: str) -> None:
        self._step.rollback()
        self._state.status = status
        self._state.error = message

    def _finish(self, previous_sigterm: Any) -> None:
        """The run's last record and full save, with Ctrl-C and SIGTERM held; then let go of
        the disk thread, the journal, the lock and the SIGTERM handler."""
        held = self._signals.hold()
        self._signals.finishing = True
        try:
            self._autosaver.record("end", status=self.status, error=self.error)
            self._autosaver.full()
            self._autosaver.finish_remote()
            self._events.emit(
                "run_end", status=self.status, error=self.error, loop_count=self.loop_count
            )
        finally:
            self._signals.finishing = False
            self._autosaver.stop_disk_thread()
            self._autosaver.close_journal()
            if self._home.lock is not None:
                self._home.lock.release()
            self._signals.restore_sigterm(previous_sigterm)
            self._signals.release(held)

    # ----------------------------------------------------------------- loading
    def load(self, path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
        """Restore a saved state (default: this agent's own), then replay every completed step
        recorded in the journal after it. Returns the restored state.

        ``path`` may be a state file or an agent's folder. Once loaded from a folder of ours,
        the agent saves and runs in that folder (a copy resumes in the copy).

        Raises :class:`StateFileError` naming the file and the reason when it is missing,
        corrupt, foreign or from a newer version; the file is never modified.
        """
        loading.load(self._home, self._state, self._redactor, path, verbose=self.verbose)
        return self.state()

    def fork(self, step: int, name: str | None = None, message: str | None = None) -> Agent:
        """A new agent whose conversation is this one's after step ``step`` (0: the first task
        alone), in a new folder beside this one's, which is never changed. ``name``: the new
        agent's (default ``NAME-fork``, ``NAME-fork-2``...); ``message`` replaces the last user
        message up to that step. Returns the new agent, loaded from its folder with this one's
        settings and tools: ``run()`` continues it there (its folder: ``state_path.parent``).

        Raises :class:`agent_tui.agent.fork.ForkError` (no such step, swarms, a name in use)
        or :class:`~agent_tui.format.persistence.WorkspaceFileError` (a file of this agent's
        folder that is not safe to read); see :func:`agent_tui.agent.fork.fork_agent`.
        """
        from agent_tui.agent.fork import fork_agent

        made = fork_agent(self._get_agent_workspace_dir(), step, name=name, message=message)
        settings = self._model_settings
        child = Agent(
            model_name=self.model_name,
            agent_name=made.agent_name,
            max_loops=self.max_loops,
            id=made.agent_id,
            autosave=self.autosave,
            verbose=self.verbose,
            system_prompt=self.system_prompt,
            tools=[tool.func for tool in self._tools],
            agent_description=self.agent_description,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            timeout=self.timeout,
            max_retries=self.max_retries,
            retry_backoff=settings.retry_backoff,
            api_key=settings.api_key,
            api_base=self.api_base,
            workspace_dir=made.folder.parent.parent,
            streaming_callback=self.streaming_callback,
            on_event=self.on_event,
            **self.extra,
        )
        child.load(made.folder)
        return child
