"""What a folder's ``config.json`` (and the files beside it) says about its agent, for both
formats: who wrote it, its name, model, loop count, time, state file and status.

The status rules: ours say ``running``/``completed``/``error``/``interrupted`` in the config's
metadata, and a claimed run is believed only while a live process holds the lock; swarms'
come from :func:`agent_tui.format.swarms.swarms_status`.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

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


def _believe_timestamp(record: AgentRecord) -> None:
    """A timestamp later than the file that holds it was written is not believed (one in 9999
    would read "0s" old and never age into a cleanup): config.json's mtime stands in for it."""
    saved, written_ns = record.last_autosave, record.config_mtime_ns
    if saved is None or written_ns is None:
        return
    if saved.timestamp() <= written_ns / 1e9 + TIMESTAMP_SLACK_S:
        return
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


def _detect_format(config: dict[str, Any], meta: dict[str, Any], top: dict[str, Any]) -> str:
    if meta.get("format") == Format.OURS or config.get("format") == Format.OURS:
        return Format.OURS
    if "short_memory" in config or any(SWARMS_STATE.match(n) for n in top):
        return Format.SWARMS
    return Format.UNKNOWN


def _plain_file_name(value: object) -> str | None:
    # A hostile config must not point the reader outside the folder ("../../etc/passwd").
    if isinstance(value, str) and value and os.sep not in value and value not in (".", ".."):
        return value
    return None


def pick_state_file(fmt: str, name: str, meta: dict[str, Any], top: dict) -> str | None:
    if fmt == Format.SWARMS:
        candidates = sorted(n for n in top if SWARMS_STATE.match(n))
    else:
        # The config names its state file; deriving the name is the fallback (and costs more).
        named = _plain_file_name(meta.get("state_file"))
        if named not in top:
            named = state_file_name(name)
        candidates = [named] if named in top else []
    if not candidates:
        candidates = sorted(n for n in top if n.endswith(STATE_SUFFIX))
    return candidates[0] if candidates else None


def fill_from_config(record: AgentRecord, config: dict[str, Any], top: dict) -> None:
    meta = config.get("_autosave_metadata")
    if meta is None:
        record.problems.append("config.json: no _autosave_metadata")
        meta = {}
    elif not isinstance(meta, dict):
        record.problems.append("config.json: _autosave_metadata is not an object")
        meta = {}
    record.format = _detect_format(config, meta, top)
    record.name = (
        text_of(config.get("agent_name")) or text_of(meta.get("agent_name")) or record.name
    )
    agent_id = meta.get("agent_id") or config.get("agent_id") or config.get("id")
    record.agent_id = agent_id if isinstance(agent_id, str) else None
    record.model = text_of(config.get("model_name")) or text_of(config.get("llm"))
    if config.get("model_name") is not None and not isinstance(config["model_name"], str):
        record.problems.append("config.json: model_name is not text")

    usage = meta.get("usage")
    if isinstance(usage, dict):
        cost = usage.get("cost")
        if isinstance(cost, int | float) and not isinstance(cost, bool) and cost >= 0:
            record.cost = float(cost)
    if "loop_count" in meta and meta["loop_count"] is not None:
        record.loop_count = whole_number(meta["loop_count"])
        if record.loop_count is None:
            record.problems.append("config.json: loop_count is not a whole number")
    if "timestamp" in meta:
        record.last_autosave = parse_timestamp(meta["timestamp"])
        if record.last_autosave is None:
            record.problems.append("config.json: timestamp is not an ISO-8601 time")
        else:
            _believe_timestamp(record)

    record.state_name = pick_state_file(record.format, record.name, meta, top)
    # The lock only confirms a claimed run (see probe_lock); a settled status needs no probe.
    if record.format != Format.OURS or meta.get("status") not in SETTLED:
        probe_lock(record, top)
    if record.format == Format.SWARMS:
        try:
            messages = swarms_messages(config, f"{record.path}/{CONFIG_NAME}")
        except WorkspaceFileError as exc:
            record.problems.append(f"config.json: {exc.reason}")
            messages = []
        status = _swarms_status(record, top, meta, messages)
    else:
        status = _our_status(record, meta)
    record.status = Status.RUNNING if record.holder else status


def _our_status(record: AgentRecord, meta: dict[str, Any]) -> str:
    status = meta.get("status")
    record.error = text_of(meta.get("error"))
    if status == Status.RUNNING:
        if not record.holder:
            record.problems.append("process died mid-run")
        return Status.INTERRUPTED
    if status in SETTLED:
        return status
    if status is None:
        record.problems.append("config.json: no run status")
    else:
        record.problems.append(f"config.json: unknown status {status!r}")
    return Status.UNKNOWN


def _swarms_status(
    record: AgentRecord, top: dict, meta: dict[str, Any], messages: list[Any]
) -> str:
    error_info = top.get(ERROR_TXT)
    has_error = error_info is not None and error_info.st_size > 0
    loop_count = meta.get("loop_count")
    status, record.error = swarms_status(record.path, loop_count, has_error, messages)
    return status


def probe_lock(record: AgentRecord, top: dict) -> None:
    """Fill ``record.holder`` when a live process holds the folder's lock.

    Called only where the config does not settle the status: it claims a run in progress, or
    it cannot be read. A config that says completed, error or interrupted is believed without
    a probe, which saves three system calls per finished folder in a scan.
    """
    if LOCK_NAME in top:
        # One probe: lock_holder says None when nobody holds the lock.
        record.holder = lock_holder(record.folder)
