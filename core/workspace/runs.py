"""Every run of one agent folder, from its ``journal.jsonl``: task, start, end, status, steps,
tokens and cost of each (``agent-tui history``, ``agent-tui export``, the app's runs view).

A run is the records that share a ``run_id``, one after another: its ``task`` record, its
``step`` records and its ``end`` record. A run the journal never saw end was cut short: it is
``running`` while a live process holds ``agent.lock`` (only the last run can be), else
``interrupted``, the word :mod:`agent_tui.workspace.status` uses for a run whose process died.

The journal's ``usage`` is the agent's running total, carried over from run to run when a
run resumes the saved state; a run's tokens and cost are what its steps added to the total
it started from (a run that begins a new conversation counts from nought).

A swarms folder keeps no journal: it reads as one run, built from its ``config.json`` (task,
status, loop count; no tokens). The journal is read a record at a time; a torn last line is
one of the problems reported, never an error.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from agent_tui.format import replay
from agent_tui.format.journal import JournalStream
from agent_tui.format.layout import CONFIG_NAME, JOURNAL_NAME, Format, Kind, Status
from agent_tui.format.lock import is_locked
from agent_tui.format.persistence import WorkspaceFileError, read_json_object
from agent_tui.format.swarms import normalize_message, swarms_messages
from agent_tui.workspace.folder import read_agent
from agent_tui.workspace.lookup import WorkspaceLookupError
from agent_tui.workspace.status import whole_number

# typing costs 3 ms of start-up and is needed only by type checkers here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from agent_tui.workspace.record import AgentRecord

__all__ = ["AgentRuns", "Run", "read_runs"]

_STATUSES = frozenset(Status) - {Status.IDLE}


@dataclass(slots=True)
class Run:
    """One run of an agent. ``started``/``ended`` are the journal's ISO-8601 times (``ended``
    is ``None`` for a run that has not ended, or never will); ``first_step``/``last_step`` the
    loop counts of its first and last completed step (``None``: it completed none). Tokens and
    cost are what the run spent (``None``: not recorded, as in a swarms folder). ``messages``
    (normalized, see :func:`normalize_message`) are filled only when asked for."""

    run_id: str | None
    task: str | None = None
    started: str | None = None
    ended: str | None = None
    status: str = Status.INTERRUPTED
    error: str | None = None
    first_step: int | None = None
    last_step: int | None = None
    steps: int = 0
    prompt_tokens: int | None = 0
    completion_tokens: int | None = 0
    cost: float | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def total_tokens(self) -> int | None:
        if self.prompt_tokens is None or self.completion_tokens is None:
            return None
        return self.prompt_tokens + self.completion_tokens

    def to_dict(self, *, messages: bool = False) -> dict[str, Any]:
        """The run as plain data (JSON-ready); with its messages when ``messages``."""
        document: dict[str, Any] = {
            "run_id": self.run_id,
            "task": self.task,
            "started": self.started,
            "ended": self.ended,
            "status": str(self.status),
            "error": self.error,
            "first_step": self.first_step,
            "last_step": self.last_step,
            "steps": self.steps,
            "tokens": {
                "prompt": self.prompt_tokens,
                "completion": self.completion_tokens,
                "total": self.total_tokens,
            },
            "cost": self.cost,
        }
        if messages:
            document["messages"] = self.messages
        return document


@dataclass
class AgentRuns:
    """The runs of the agent in ``folder``, oldest first, and what was wrong reading them.
    ``last_step``: the highest loop count any step of the journal completed (0: none)."""

    folder: Path
    name: str
    format: str
    runs: list[Run] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    last_step: int = 0


def read_runs(
    folder: os.PathLike[str] | str,
    *,
    record: AgentRecord | None = None,
    messages: bool = False,
    upto_step: int | None = None,
) -> AgentRuns:
    """The runs of the agent folder ``folder`` (never raises for what the journal holds).

    ``record``: the folder's fresh :class:`AgentRecord`, when the caller has one.
    ``messages``: keep each run's messages (an export needs them; a list of runs does not).
    ``upto_step``: only the journal up to step N, cut where ``diff --steps`` and ``fork`` see
    step N (just after the last ``step`` record with that loop count, and the ``end`` record
    that follows it in the same run); the run cut keeps its own status and end, its steps,
    tokens and messages are those up to the cut. Raises :class:`WorkspaceLookupError` naming
    the last step when the journal holds no step N.
    """
    folder = Path(folder)
    if record is None or record.folder != folder:
        record = read_agent(folder)
    result = AgentRuns(folder, record.name, str(record.format))
    if record.format == Format.SWARMS:
        if upto_step is not None:
            raise WorkspaceLookupError(
                f"{folder} is a swarms workspace; it keeps no per-step history to cut at a step"
            )
        result.runs.append(_swarms_run(record, messages, result.problems))
        return result
    if not os.path.lexists(folder / JOURNAL_NAME):
        result.problems.append(f"{folder / JOURNAL_NAME}: no journal, so no runs recorded")
        if upto_step is not None:
            raise WorkspaceLookupError(f"step {upto_step} is not recorded: {folder} has no journal")
        return result
    fold = _Fold(result, messages, upto_step)
    for entry in JournalStream(folder / JOURNAL_NAME, result.problems):
        fold.take(entry)
    fold.finish(live=is_locked(folder))
    return result


@dataclass(slots=True)
class _Tally:
    """What a run's fields do not keep: the usage total it began from, the last it recorded,
    and whether its end was recorded."""

    before: dict[str, Any] | None
    after: dict[str, Any] | None = None
    closed: bool = False


@dataclass
class _Fold:
    """The runs built a record at a time, each with its :class:`_Tally`."""

    result: AgentRuns
    messages: bool
    upto_step: int | None
    _tallies: list[_Tally] = field(default_factory=list)
    _total: dict[str, Any] | None = None  # the last usage any record carried
    # The cut at upto_step: how many runs it keeps, copies of the last one and its tally,
    # and how many of that run's messages; whether it was taken at a step record, and
    # whether the record after it (the run's end) may still join it.
    _cut: tuple[int, Run, _Tally, int] | None = None
    _cut_at_step: bool = False
    _armed: bool = False

    def take(self, entry: dict[str, Any]) -> None:
        if replay.seq_of(entry) is None:
            return  # what cannot be placed in the journal's order is no part of a run
        run_id = entry.get("run_id") if isinstance(entry.get("run_id"), str) else None
        kind = entry.get("kind")
        runs = self.result.runs
        run = runs[-1] if runs else None
        # A run is the records of one run id, one after another; a second task record
        # begins another run even under the same id (journals of old had no run ids).
        if run is None or run.run_id != run_id or (kind == Kind.TASK and run.task is not None):
            run = Run(run_id, started=_text(entry.get("ts")))
            runs.append(run)
            self._tallies.append(_Tally(self._total))
        tally = self._tallies[-1]
        if kind == Kind.TASK:
            if isinstance(entry.get("task"), str):
                run.task = entry["task"]
            if replay.starts_afresh(entry):
                tally.before = None  # a new agent counts its usage from nought
        elif kind == Kind.STEP:
            loop_count = whole_number(entry.get("loop_count"))
            if loop_count is not None:
                if run.first_step is None:
                    run.first_step = loop_count
                run.last_step = loop_count
                self.result.last_step = max(self.result.last_step, loop_count)
            run.steps += 1
            if isinstance(entry.get("usage"), dict):
                tally.after = self._total = entry["usage"]
        elif kind == Kind.END:
            status = entry.get("status")
            if status in _STATUSES:
                run.status = Status(status)
            else:
                run.status = Status.UNKNOWN
                self.result.problems.append(
                    f"{self.result.folder / JOURNAL_NAME}: seq {entry['seq']}: "
                    f"the run ended with an unknown status {status!r}"
                )
            run.error = _text(entry.get("error"))
            run.ended = _text(entry.get("ts"))
            tally.closed = True
        if self.messages:
            run.messages.extend(normalize_message(m) for m in replay.messages_of(entry))
        if self.upto_step is not None:
            self._mark(entry, kind)

    def _mark(self, entry: dict[str, Any], kind: object) -> None:
        """Keep where the journal stood after step ``upto_step``, as the history of steps
        places it: the last step record of that loop count, else the last record carrying it
        (step 0: the task); the end record right after it in its run goes with it."""
        is_step = kind == Kind.STEP
        kept = len(self.result.runs)
        if whole_number(entry.get("loop_count")) == self.upto_step and (
            is_step or not self._cut_at_step
        ):
            self._keep()
            self._cut_at_step, self._armed = is_step, True
        elif self._armed and kind == Kind.END and self._cut is not None and self._cut[0] == kept:
            self._keep()
            self._armed = False
        else:
            self._armed = False

    def _keep(self) -> None:
        run, tally = self.result.runs[-1], self._tallies[-1]
        # Messages are only appended to: the copy shares the list and keeps its length.
        self._cut = (len(self.result.runs), replace(run), replace(tally), len(run.messages))

    def finish(self, *, live: bool) -> None:
        """Cut at ``upto_step`` (see :func:`read_runs`), then settle what only the whole
        journal tells: which run is still going and what each spent."""
        result = self.result
        if self.upto_step is not None:
            self._apply_cut()
        last = len(result.runs) - 1
        for position, (run, tally) in enumerate(zip(result.runs, self._tallies, strict=True)):
            if not tally.closed:
                # Only the last run can still be going; one before it never will.
                run.status = Status.RUNNING if live and position == last else Status.INTERRUPTED
            _spent(run, tally.before, tally.after)

    def _apply_cut(self) -> None:
        result, step = self.result, self.upto_step
        if step is not None and step > result.last_step:
            raise WorkspaceLookupError(
                f"step {step} is beyond the last step of {result.folder} "
                f"(the last step is {result.last_step})"
            )
        if self._cut is None:
            raise WorkspaceLookupError(f"step {step} is not in the journal of {result.folder}")
        kept, run, tally, length = self._cut
        # The run cut short still ended as it did: its status is the run's, not the cut's.
        whole, whole_tally = result.runs[kept - 1], self._tallies[kept - 1]
        run.status, run.ended, run.error = whole.status, whole.ended, whole.error
        tally.closed = whole_tally.closed
        del run.messages[length:]
        del result.runs[kept:]
        del self._tallies[kept:]
        result.runs[-1], self._tallies[-1] = run, tally


def _spent(run: Run, before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
    """Fill the run's tokens and cost: ``after`` (its last usage) less ``before`` (the total
    it began from), or ``after`` itself when the total started again from nought."""
    if after is None:
        return
    end, start = replay.usage_of(after), replay.usage_of(before or {})
    if any(end[key] < start[key] for key in end):
        start = replay.usage_of({})
    run.prompt_tokens = end["prompt_tokens"] - start["prompt_tokens"]
    run.completion_tokens = end["completion_tokens"] - start["completion_tokens"]
    if _number(after.get("cost")):
        run.cost = round(end["cost"] - start["cost"], 8)


def _swarms_run(record: AgentRecord, messages: bool, problems: list[str]) -> Run:
    """The one run a swarms folder can tell of: its task (the first user message), the
    status the swarms mapping gives it, its loop count; no tokens (swarms records none)."""
    run = Run(None, status=record.status, error=record.error, cost=record.cost)
    run.prompt_tokens = run.completion_tokens = None
    if record.loop_count:
        run.first_step, run.last_step, run.steps = 1, record.loop_count, record.loop_count
    run.ended = record.last_autosave.isoformat() if record.last_autosave else None
    try:
        config = read_json_object(record.folder / CONFIG_NAME)
        raw = swarms_messages(config, record.folder / CONFIG_NAME)
    except WorkspaceFileError as exc:
        problems.append(str(exc))
        return run
    conversation = [normalize_message(m, record.name) for m in raw]
    run.task = next((m["content"] for m in conversation if m["role"] == "user"), None)
    run.started = next((m["ts"] for m in conversation if isinstance(m.get("ts"), str)), None)
    if messages:
        run.messages = conversation
    return run


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
