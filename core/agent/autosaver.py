"""The agent's autosave thread: the disk work of a step, off the run's own thread.

After each step the run writes its journal line itself (into the page cache: it survives a
killed process) and hands this thread the rest: the journal's fdatasync and the atomic
``config.json`` rewrite, each fsynced. The run never waits for the disk. When steps come faster
than the disk can take them, a newer config snapshot replaces one not yet written (the journal
has every step; a reader of config.json only wants the newest) and one fdatasync covers every
journal line written before it: group commit. :meth:`AutosaveThread.flush` waits until
everything handed over is on disk; the agent calls it before every full save and at run end.

Outcomes (bytes written and milliseconds, or the ``OSError``) are collected here and reported by
the run's thread, so callbacks and printing never happen on this one.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent_tui.format.journal import JournalWriter


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
