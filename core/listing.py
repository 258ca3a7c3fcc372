"""How a list of agents is ordered: the one rule ``agent-tui ls`` and the app's table share.

Name is A-Z as a person reads it (case-blind); size is largest first; age is newest first, an
agent with no time last; status puts what needs attention first; steps and cost are most
first, an agent with none last. Ties always go by name, then folder name, so two faces of one
workspace list it in one order. Reversed, the whole order is read from the end.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from agent_tui.workspace import AgentRecord

SORTS = ("name", "age", "size", "status", "steps", "cost")  # the app's `s` cycles in this order
STATUS_ORDER = ("running", "error", "interrupted", "unknown", "broken", "completed", "memory")
_STATUS_RANK = {status: rank for rank, status in enumerate(STATUS_ORDER)}


def _stamp(record: AgentRecord) -> float:
    moment = record.last_activity
    return moment.timestamp() if moment is not None else float("-inf")


def _tie(record: AgentRecord) -> tuple[str, str]:
    return record.name.lower(), record.folder_name


def sort_key(order: str) -> Callable[[AgentRecord], tuple]:
    """The key that sorts records in ``order`` (one of :data:`SORTS`; anything else: name)."""
    if order == "size":
        return lambda r: (-r.size_bytes, r.name.lower(), r.folder_name)
    if order == "age":
        return lambda r: (-_stamp(r), r.name.lower(), r.folder_name)
    if order == "steps":
        return lambda r: (-(r.loop_count if r.loop_count is not None else -1), *_tie(r))
    if order == "cost":
        return lambda r: (-(r.cost if r.cost is not None else -1.0), *_tie(r))
    if order == "status":
        return lambda r: (
            _STATUS_RANK.get(r.status, len(STATUS_ORDER)),
            r.name.lower(),
            r.folder_name,
        )
    return lambda r: (r.name.lower(), r.folder_name)
