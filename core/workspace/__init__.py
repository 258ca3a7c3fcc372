"""Finding and reading agent workspaces, ours and swarms', into records and details a CLI or
a UI can show. Everything here reads; nothing writes.

- :mod:`.record`: :class:`AgentRecord`, what one folder holds as far as the disk tells;
- :mod:`.walk`: listing a folder and its sizes (``lstat``, links never followed);
- :mod:`.status`: what ``config.json`` says (format, name, time, state file, status) for both
  formats;
- :mod:`.folder`: :func:`read_agent`, one folder into a record, never raising;
- :mod:`.structures`: the runs of swarms' multi-agent structures
  (``swarms/<ClassName>/<name>-<stamp>/``), read into records like agent folders;
- :mod:`.scan` and :mod:`.forked`: every folder of a workspace, optionally shared with a
  forked child;
- :mod:`.summary`: the summary index, which spares a scan the configs that did not change
  (kept in the user's cache folder, never in a workspace);
- :mod:`.documents`: ``config.json``, the state file and the whole conversation;
- :mod:`.detail`: :class:`AgentDetail`, what a view shows, with a window of the conversation;
- :mod:`.history`: the per-step history from the journal;
- :mod:`.lookup`: the agent a user named.
"""

from agent_tui.format.persistence import WorkspaceFileError
from agent_tui.format.swarms import normalize_message
from agent_tui.workspace.documents import load_config, load_conversation, load_state
from agent_tui.workspace.folder import read_agent
from agent_tui.workspace.history import StepHistory, StepSnapshot, step_history
from agent_tui.workspace.lookup import WorkspaceLookupError, resolve_agent
from agent_tui.workspace.record import AgentRecord
from agent_tui.workspace.scan import PARALLEL_MIN, iter_agent_folders, scan, scan_map
from agent_tui.workspace.status import parse_timestamp
from agent_tui.workspace.summary import SummaryIndex
from agent_tui.workspace.walk import folder_size

# The views' details load on first use: `agent-tui ls` and the CLI never need them.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from agent_tui.workspace.detail import (
        DEFAULT_WINDOW,
        AgentDetail,
        ConversationWindow,
        DetailCache,
        load_detail,
    )
_DETAIL = ("DEFAULT_WINDOW", "AgentDetail", "ConversationWindow", "DetailCache", "load_detail")

__all__ = [
    "DEFAULT_WINDOW",
    "PARALLEL_MIN",
    "AgentDetail",
    "AgentRecord",
    "ConversationWindow",
    "DetailCache",
    "StepHistory",
    "StepSnapshot",
    "SummaryIndex",
    "WorkspaceFileError",
    "WorkspaceLookupError",
    "folder_size",
    "iter_agent_folders",
    "load_config",
    "load_detail",
    "load_conversation",
    "load_state",
    "normalize_message",
    "parse_timestamp",
    "read_agent",
    "resolve_agent",
    "scan",
    "scan_map",
    "step_history",
]


def __getattr__(name: str) -> object:
    if name in _DETAIL:
        from agent_tui.workspace import detail

        return getattr(detail, name)
    raise AttributeError(f"module 'agent_tui.workspace' has no attribute {name!r}")
