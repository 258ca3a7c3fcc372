"""What a folder's ``config.json`` (and the files beside it) says about its agent, for both
formats: who wrote it, its name, model, loop count, time, state file and status.

The status rules: ours say ``running``/``completed``/``error``/``interrupted`` in the config's
metadata, and a claimed run is believed only while a live process holds the lock; swarms'
come from :func:`agent_tui.format.swarms.swarms_status`.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import NamedTuple

from agent_tui.format.layout import (
    CONFIG_NAME,
    ERROR_TXT,
    LOCK_NAME,
    SETTLED,
    STATE_SUFFIX,
    Format,
    Status,
)
from agent_tui.format.lock import lock_holder
from agent_tui.format.naming import state_file_name
from agent_tui.format.persistence import WorkspaceFileError
from agent_tui.format.swarms import SWARMS_STATE, swarms_messages, swarms_status
from agent_tui.workspace.record import AgentRecord, from_ns

# typing costs 3 ms of start-up and is needed only by type checkers here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

NON_SERIALIZABLE = "<Non-serializable"


def parse_timestamp(value: object) -> datetime | None:
    """An aware datetime from ISO-8601 text, or None; never raises. A naive one (swarms) is
    taken as local time, or as UTC near year 1 or 9999, where the local zone cannot take it."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo:
        return moment
    try:
        # astimezone() on a naive datetime interprets it in the local zone, as swarms meant.
        return moment.astimezone()
    except (ValueError, OverflowError, OSError):
        return moment.replace(tzinfo=UTC)


# How much later than config.json's mtime its own timestamp may be and still be believed: the
# clocks of a writer and of its file server differ by seconds, not by minutes.
TIMESTAMP_SLACK_S = 300


def _disbelieve_timestamp(record: AgentRecord, saved: datetime, written_ns: int) -> None:
    """A timestamp later than the file that holds it was written (by more than
    :data:`TIMESTAMP_SLACK_S`) is not believed: one in 9999 would read "0s" old and never age
    into a cleanup. config.json's mtime stands in for it."""
    day = saved.date().isoformat()
    if saved > datetime.now(UTC):
        record.problems.append(f"config.json: future timestamp {day}; using its mtime")
    else:
        record.problems.append(f"config.json: timestamp {day} after its mtime; using its mtime")
    record.last_autosave = from_ns(written_ns)


def text_of(value: object) -> str | None:
    if isinstance(value, str) and value and not value.startswith(NON_SERIALIZABLE):
        return value
    return None


def whole_number(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class ConfigSummary(NamedTuple):
    """What a record takes from its ``config.json`` alone: nothing that depends on the files
    beside it, the lock or the clock. :func:`summarize` makes it from the parsed document,
    :func:`fill_from_summary` turns it into the record's fields; the summary index
    (:mod:`agent_tui.workspace.summary`) keeps it, so a folder whose config did not change is
    listed without parsing it again."""

    declared: str | None  # Format.OURS, Format.SWARMS (short_memory), or None: ask the files
    name: str | None
    agent_id: str | None
    model: str | None
    cost: float | None
    loop_count: int | None
    # The metadata's timestamp as parse_timestamp() read it, in ISO form with its offset (a
    # naive one in the local zone, which the index records); "" when unreadable; None: absent.
    timestamp: str | None
    state_hint: str | None  # the state file the metadata names, when a plain file name
    status: object  # the metadata's status, as written
    error: str | None  # the metadata's error text (ours)
    # swarms_status() of the folder without an error.txt: (status, error), or None for ours.
    swarms: tuple[str, str | None] | None
    problems: tuple[str, ...]  # what the document gets wrong, before the timestamp's
    messages_problem: str | None  # what short_memory gets wrong (a swarms folder's)
    tokens: int | None = None  # prompt + completion tokens so far, from the usage (ours)


def summarize(config: dict[str, Any], folder: str) -> ConfigSummary:
    """The :class:`ConfigSummary` of the parsed ``config.json`` of the agent folder ``folder``."""
    problems = []
    meta = config.get("_autosave_metadata")
    if meta is None:
        problems.append("config.json: no _autosave_metadata")
        meta = {}
    elif not isinstance(meta, dict):
        problems.append("config.json: _autosave_metadata is not an object")
        meta = {}
    declared = None
    if meta.get("format") == Format.OURS or config.get("format") == Format.OURS:
        declared = Format.OURS
    elif "short_memory" in config:
        declared = Format.SWARMS
    name = text_of(config.get("agent_name")) or text_of(meta.get("agent_name"))
    agent_id = meta.get("agent_id") or config.get("agent_id") or config.get("id")
    model = text_of(config.get("model_name")) or text_of(config.get("llm"))
    if config.get("model_name") is not None and not isinstance(config["model_name"], str):
        problems.append("config.json: model_name is not text")

    cost = tokens = None
    usage = meta.get("usage")
    if isinstance(usage, dict):
        spent = usage.get("cost")
        if isinstance(spent, int | float) and not isinstance(spent, bool) and spent >= 0:
            cost = float(spent)
        read = [whole_number(usage.get(k)) for k in ("prompt_tokens", "completion_tokens")]
        counts = [count for count in read if count is not None and count >= 0]
        if counts:
            tokens = sum(counts)
    loop_count = None
    if meta.get("loop_count") is not None:
        loop_count = whole_number(meta["loop_count"])
        if loop_count is None:
            problems.append("config.json: loop_count is not a whole number")
    timestamp = None
    if "timestamp" in meta:
        # Kept as the time it means, with its offset: a naive one (swarms) is taken in the
        # local zone once, here (astimezone costs more than the rest of a listed row).
        moment = parse_timestamp(meta["timestamp"])
        timestamp = moment.isoformat() if moment is not None else ""

    swarms = None
    messages_problem = None
    if declared != Format.OURS:  # swarms by its short_memory, or by a state file beside it
        try:
            messages = swarms_messages(config, f"{folder}/{CONFIG_NAME}")
        except WorkspaceFileError as exc:
            messages_problem = f"config.json: {exc.reason}"
            messages = []
        swarms = swarms_status(folder, meta.get("loop_count"), False, messages)
    return ConfigSummary(
        declared,
        name,
        agent_id if isinstance(agent_id, str) else None,
        model,
        cost,
        loop_count,
        timestamp,
        _plain_file_name(meta.get("state_file")),
        meta.get("status"),
        text_of(meta.get("error")),
        swarms,
        tuple(problems),
        messages_problem,
        tokens,
    )


def _plain_file_name(value: object) -> str | None:
    # A hostile config must not point the reader outside the folder ("../../etc/passwd").
    if isinstance(value, str) and value and os.sep not in value and value not in (".", ".."):
        return value
    return None


def pick_state_file(fmt: str, name: str, named: str | None, top: dict) -> str | None:
    """The state file of a folder whose files are ``top``: for ours, the one the config
    ``named`` (a plain file name) or the one derived from ``name``; for swarms, the first
    ``agent-<32>_state.json``; else the first ``*_state.json``."""
    if fmt == Format.SWARMS:
        candidates = [n for n in top if n.endswith(STATE_SUFFIX) and SWARMS_STATE.match(n)]
        candidates.sort()
    else:
        # The config names its state file; deriving the name is the fallback (and costs more).
        if named not in top:
            named = state_file_name(name)
        candidates = [named] if named in top else []
    if not candidates:
        candidates = sorted(n for n in top if n.endswith(STATE_SUFFIX))
    return candidates[0] if candidates else None


def fill_from_summary(record: AgentRecord, summary: ConfigSummary, top: dict) -> None:
    """Fill ``record`` from its config's summary and the folder's files ``top`` (name -> lstat):
    the format, name, times, state file, lock and status, as a full read would."""
    (declared, name, agent_id, model, cost, loop_count, timestamp, state_hint, status, error,
     swarms, problems, messages_problem, tokens) = summary  # fmt: skip
    if problems:
        record.problems.extend(problems)
    if declared is not None:
        fmt = _FORMATS[declared]
    else:
        fmt = Format.SWARMS if any(map(SWARMS_STATE.match, top)) else Format.UNKNOWN
    record.format = fmt
    if name:
        record.name = name
    record.agent_id = agent_id
    record.model = model
    record.cost = cost
    record.tokens = tokens
    record.loop_count = loop_count
    if timestamp is not None:
        saved = record.last_autosave = parse_timestamp(timestamp)
        written_ns = record.config_mtime_ns
        if saved is None:
            record.problems.append("config.json: timestamp is not an ISO-8601 time")
        elif written_ns and saved.timestamp() > written_ns / 1e9 + TIMESTAMP_SLACK_S:
            _disbelieve_timestamp(record, saved, written_ns)

    record.state_name = pick_state_file(fmt, record.name, state_hint, top)
    # The lock only confirms a claimed run (see probe_lock); a settled status needs no probe.
    if fmt != Format.OURS or status not in SETTLED:
        probe_lock(record, top)
    if fmt == Format.SWARMS:
        if messages_problem:
            record.problems.append(messages_problem)
        error_info = top.get(ERROR_TXT)
        if error_info is not None and error_info.st_size > 0:
            settled, record.error = swarms_status(record.path, None, True)
        else:
            # No error.txt: what the config alone says (summarize asked the same rule).
            assert swarms is not None
            settled, record.error = swarms
        settled = _STATUSES[settled]
    else:
        settled = _our_status(record, status, error)
    record.status = Status.RUNNING if record.holder else settled


_FORMATS = {fmt.value: fmt for fmt in Format}


def _our_status(record: AgentRecord, status: object, error: str | None) -> str:
    record.error = error
    if status == Status.RUNNING:
        if not record.holder:
            record.problems.append("process died mid-run")
        return Status.INTERRUPTED
    if status in SETTLED:
        return _STATUSES[status]  # type: ignore[index]
    if status is None:
        record.problems.append("config.json: no run status")
    else:
        record.problems.append(f"config.json: unknown status {status!r}")
    return Status.UNKNOWN


_STATUSES = {status.value: status for status in Status}


def probe_lock(record: AgentRecord, top: dict) -> None:
    """Fill ``record.holder`` when a live process holds the folder's lock.

    Called only where the config does not settle the status: it claims a run in progress, or
    it cannot be read. A config that says completed, error or interrupted is believed without
    a probe, which saves three system calls per finished folder in a scan.
    """
    if LOCK_NAME in top:
        # One probe: lock_holder says None when nobody holds the lock.
        record.holder = lock_holder(record.folder)
