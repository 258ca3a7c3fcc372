"""Every write of a run, and the thread that does the disk work of a step.

What lands on disk and when (see docs/FORMAT.md):

- ``config.json``: atomically at run start, after every step and at run end; small and of
  constant size, so the per-step cost does not grow with the history.
- ``journal.jsonl``: one line per completed step, written before the step ends, so ``kill -9``
  loses at most the step in flight and ``load()`` can replay every completed step.
- ``{agent_name}_state.json``: the full state at run start, on model errors, on interrupts
  (SIGINT, SIGTERM, ``request_stop()``), on ``save()`` and at run end.

After each step the run writes its journal line itself (into the page cache: it survives a
killed process) and hands :class:`AutosaveThread` the rest: the journal's fdatasync and the
atomic ``config.json`` rewrite, each fsynced. The run never waits for the disk. When steps come
faster than the disk can take them, a newer config snapshot replaces one not yet written (the
journal has every step; a reader of config.json only wants the newest) and one fdatasync covers
every journal line written before it: group commit. :meth:`AutosaveThread.flush` waits until
everything handed over is on disk; every full save and the run's end call it. A killed process
loses nothing a step finished; a power cut at most the fsync in flight.

Outcomes (bytes written and milliseconds, or the ``OSError``) are collected on that thread and
reported by the run's thread, so callbacks and printing never happen on it. Autosave never
breaks a run: a failed write is reported (stderr, ``autosave_failures``, an ``autosave_failed``
event) and retried at the next step.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent_tui.agent.events import Events
from agent_tui.agent.home import Home
from agent_tui.agent.loading import catch_up
from agent_tui.agent.run_state import RunState, now
from agent_tui.format.journal import JournalWriter
from agent_tui.format.layout import CONFIG_NAME, JOURNAL_NAME, SCHEMA_VERSION, Format
from agent_tui.format.naming import state_file_name
from agent_tui.format.persistence import atomic_write_json, dumps
from agent_tui.redaction import Redactor


@dataclass
class Outcome:
    file: str
    path: Path
    result: int | OSError  # bytes written, or what went wrong
    ms: float
    loop_count: Any = None


WriteJson = Callable[[Path, Any], int]


class AutosaveThread:
    def __init__(self, write_json: WriteJson) -> None:
        self._write_json = write_json
        self._cond = threading.Condition()
        self._config: tuple[Path, dict[str, Any]] | None = None
        self._journal: JournalWriter | None = None
        self._busy = False
        self._closed = False
        self._outcomes: list[Outcome] = []
        self.superseded = 0  # config snapshots replaced by a newer one before being written
        self._thread = threading.Thread(target=self._loop, name="agent-autosave", daemon=True)
        self._thread.start()

    def submit(self, journal: JournalWriter | None, config_path: Path, document: dict) -> None:
        """Hand over one step: sync ``journal`` (if it was written to), write ``document``."""
        with self._cond:
            if self._config is not None:
                self.superseded += 1
            self._config = (config_path, document)
            if journal is not None:
                self._journal = journal
            self._cond.notify_all()

    def take_outcomes(self) -> list[Outcome]:
        """What finished since the last call (never waits)."""
        with self._cond:
            outcomes, self._outcomes = self._outcomes, []
        return outcomes

    def flush(self) -> list[Outcome]:
        """Wait until everything handed over is on disk; returns the outcomes not yet taken."""
        with self._cond:
            while self._busy or self._config is not None or self._journal is not None:
                # A timeout, so a Ctrl-C reaches the waiting (main) thread promptly.
                self._cond.wait(0.1)
            outcomes, self._outcomes = self._outcomes, []
        return outcomes

    def close(self) -> list[Outcome]:
        outcomes = self.flush()
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join()
        return outcomes

    def _loop(self) -> None:
        # Signals belong to the run's thread: if the kernel delivered SIGINT here, a main thread
        # blocked in a wait would never see it.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        while True:
            with self._cond:
                while self._config is None and self._journal is None and not self._closed:
                    self._cond.wait()
                if self._config is None and self._journal is None:
                    return  # closed with nothing left to do
                config, self._config = self._config, None
                journal, self._journal = self._journal, None
                self._busy = True
            done = self._work(config, journal)
            with self._cond:
                self._outcomes.extend(done)
                self._busy = False
                self._cond.notify_all()

    def _work(self, config, journal: JournalWriter | None) -> list[Outcome]:
        done: list[Outcome] = []
        if journal is not None:
            started = time.perf_counter()
            try:
                journal.sync()
            except OSError as exc:
                done.append(Outcome(journal.path.name, journal.path, exc, _ms(started)))
        if config is not None:
            path, document = config
            loop_count = (document.get("_autosave_metadata") or {}).get("loop_count")
            started = time.perf_counter()
            try:
                result: int | OSError = self._write_json(path, document)
            except OSError as exc:
                result = exc
            done.append(Outcome(path.name, path, result, _ms(started), loop_count))
        return done


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


class Autosaver:
    """The documents of an agent (config, state, journal records) and when they are written.

    Records are redacted when made and kept until the next journal append; a failed write
    is reported and retried then.
    """

    def __init__(
        self,
        enabled: bool,
        home: Home,
        state: RunState,
        redactor: Redactor,
        events: Events,
        settings: Callable[[], dict[str, Any]],
    ) -> None:
        self.enabled = enabled
        self._home = home
        self._state = state
        self._redactor = redactor
        self._events = events
        self._settings = settings
        self._journal: JournalWriter | None = None
        self._pending: list[dict[str, Any]] = []
        self._remote_pending: list[dict[str, Any]] = []  # written locally, not yet to the store
        self._disk: AutosaveThread | None = None
        self._redacted_settings: dict[str, Any] | None = None

    # ----------------------------------------------------------------- documents
    def forget_settings(self) -> None:
        """Redact the settings again at the next config write (a run or save() began)."""
        self._redacted_settings = None

    def config_document(self) -> dict[str, Any]:
        """Redacted settings + metadata. The settings do not change during a run, so they are
        redacted once per run, not once per step (a large system prompt would cost every step)."""
        if self._redacted_settings is None:
            self._redacted_settings = self._redactor.redact(self._settings())
        return {
            **self._redacted_settings,
            "_autosave_metadata": self._redactor.redact(self._metadata()),
        }

    def _metadata(self) -> dict[str, Any]:
        state, home = self._state, self._home
        return {
            "timestamp": now(),
            "loop_count": state.loop_count,
            "agent_id": home.agent_id,
            "agent_name": home.agent_name,
            "schema_version": SCHEMA_VERSION,
            "format": Format.OURS,
            "status": state.status,
            "run_id": state.run_id,
            "pid": os.getpid(),
            "hostname": socket.gethostname(),
            "started_at": state.started_at,
            "state_file": state_file_name(home.agent_name),
            "error": state.error,
            "usage": dict(state.usage),
            "autosave_failures": state.autosave_failures,
        }

    def state_document(self) -> dict[str, Any]:
        """The full state (what ``{agent_name}_state.json`` holds), not yet redacted."""
        state, home = self._state, self._home
        return {
            "schema_version": SCHEMA_VERSION,
            "format": Format.OURS,
            "agent_id": home.agent_id,
            "agent_name": home.agent_name,
            "saved_at": now(),
            "status": state.status,
            "error": state.error,
            "loop_count": state.loop_count,
            "task": state.task,
            "tasks": list(state.tasks),
            "conversation": state.conversation,
            "tool_results": state.tool_results,
            "memory": state.memory,
            "usage": dict(state.usage),
            "config": self._settings(),
            "journal_seq": state.journal_seq,
        }

    # ----------------------------------------------------------------- journal
    def record(self, kind: str, **fields: Any) -> None:
        """A journal record of the run so far, appended at the next flush."""
        if not self.enabled:
            return
        state = self._state
        state.journal_seq += 1
        record = {"seq": state.journal_seq, "kind": kind, "ts": now(), "run_id": state.run_id}
        record["loop_count"] = state.loop_count
        record.update(fields)
        self._pending.append(self._redactor.redact(record))

    def open_journal(self) -> None:
        """Open the journal, continuing its sequence (after what another process added)."""
        assert self._home.folder is not None
        if self._journal is None:
            journal = JournalWriter(self._home.folder / JOURNAL_NAME)
            journal.open()
            self._journal = journal
            catch_up(self._state, self._home.folder, journal.last_seq, self._events.verbose)
            self._state.journal_seq = max(self._state.journal_seq, journal.last_seq)

    def close_journal(self) -> None:
        self.drain()  # the autosave thread may be syncing this very file
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    def _flush_journal(self, *, sync: bool = True) -> bool:
        """Append the pending records; True when something was written."""
        if not self._pending:
            return False
        started = time.perf_counter()
        try:
            self.open_journal()
            assert self._journal is not None
            size = self._journal.append(self._pending, sync=sync)
        except OSError as exc:
            self.close_journal()
            self._failed(JOURNAL_NAME, exc)
            return False
        self._remote_pending.extend(self._pending)
        self._pending.clear()
        self._written(JOURNAL_NAME, self._journal.path, size, started)
        self._send_journal()
        return True

    def _send_journal(self) -> None:
        """The records to the store, one object each, before the step ends (a store that did not
        answer is retried at the next step; a lost agent ends the run: see :meth:`after_step`)."""
        remote = self._home.remote
        if remote is None or not self._remote_pending:
            return
        from agent_tui.store.remote import AgentLostError
        from agent_tui.store.s3 import StoreError

        try:
            remote.journal(self._remote_pending)
        except (StoreError, AgentLostError) as exc:
            self._failed(JOURNAL_NAME, OSError(str(exc)))
            return
        self._remote_pending.clear()

    def _send(self, what: str, send: Callable[[], object]) -> None:
        """A write to the store after the local one; its failure is reported, never raised."""
        if self._home.remote is None:
            return
        from agent_tui.store.remote import AgentLostError
        from agent_tui.store.s3 import StoreError

        try:
            send()
        except (StoreError, AgentLostError) as exc:
            self._failed(what, OSError(str(exc)))

    def _write_json(self, path: Path, document: dict[str, Any]) -> int:
        """The autosave thread's config write: the file, then (when due) the object."""
        size = atomic_write_json(path, document)
        remote = self._home.remote
        if remote is not None:
            from agent_tui.store.remote import AgentLostError
            from agent_tui.store.s3 import StoreError

            try:
                remote.config(document)
            except (StoreError, AgentLostError) as exc:
                raise OSError(str(exc)) from None
        return size

    def finish_remote(self) -> None:
        """At a run's end: the step objects compacted into the store's journal.jsonl."""
        remote = self._home.remote
        if remote is not None and self.enabled:
            self._send(JOURNAL_NAME, remote.compact)

    # ----------------------------------------------------------------- writes
    def _write_config(self) -> None:
        assert self._home.folder is not None
        path = self._home.folder / CONFIG_NAME
        started = time.perf_counter()
        document = self.config_document()
        try:
            size = atomic_write_json(path, document)
        except OSError as exc:
            self._failed(CONFIG_NAME, exc)
            return
        self._written(CONFIG_NAME, path, size, started)
        remote = self._home.remote
        if remote is not None:
            self._send(CONFIG_NAME, lambda: remote.config(document, force=True))

    def _write_state(self) -> None:
        assert self._home.folder is not None
        path = self._home.folder / state_file_name(self._home.agent_name)
        started = time.perf_counter()
        document = self._redactor.redact(self.state_document())
        try:
            size = atomic_write_json(path, document)
        except OSError as exc:
            self._failed(path.name, exc)
            return
        self._written(path.name, path, size, started)
        remote = self._home.remote
        if remote is not None:
            self._send(path.name, lambda: remote.state(path.name, dumps(document)))

    def write_all(self) -> None:
        """Everything now, on disk when it returns: the journal, the state file, the config."""
        self.drain()
        self._flush_journal()
        self._write_state()
        self._write_config()

    def full(self) -> None:
        """:meth:`write_all` when autosave is on (run start, errors, interrupts, run end)."""
        if self.enabled:
            self.write_all()

    def after_step(self) -> None:
        """The journal line now (it is what survives a killed process); the fsyncs and the
        config rewrite on the autosave thread."""
        if not self.enabled:
            return
        wrote = self._flush_journal(sync=False)
        remote = self._home.remote
        if remote is not None and remote.lock.lost:
            from agent_tui.store.remote import AgentLostError

            raise AgentLostError(
                f"{self._home.folder}: another writer took this agent over; this run stopped"
            )
        assert self._home.folder is not None
        if self._disk is None:
            self._disk = AutosaveThread(self._write_json)
        self._disk.submit(
            self._journal if wrote else None,
            self._home.folder / CONFIG_NAME,
            self.config_document(),
        )
        self._report(self._disk.take_outcomes())

    def drain(self) -> None:
        """Wait until the autosave thread has put everything on disk; report how it went."""
        if self._disk is not None:
            self._report(self._disk.flush())

    def stop_disk_thread(self) -> None:
        disk, self._disk = self._disk, None
        if disk is not None:
            self._report(disk.close())

    # ----------------------------------------------------------------- reports
    def _report(self, outcomes: list[Outcome]) -> None:
        for outcome in outcomes:
            if isinstance(outcome.result, OSError):
                self._failed(outcome.file, outcome.result)
            else:
                self._events.written(
                    outcome.file,
                    outcome.path,
                    outcome.result,
                    outcome.ms,
                    loop_count=outcome.loop_count,
                )

    def _written(self, what: str, path: Path, size: int, started: float) -> None:
        self._events.written(what, path, size, _ms(started))

    def _failed(self, what: str, exc: OSError) -> None:
        self._state.autosave_failures += 1
        self._events.write_failed(what, self._home.folder, exc)
