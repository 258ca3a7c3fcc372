"""Names in an agent folder, the statuses an agent can have and the kinds of journal record.

The enums are ``StrEnum``: their members are the strings on disk, so they compare equal to
what a reader parses and serialize as themselves.
"""

from __future__ import annotations

from enum import StrEnum

SCHEMA_VERSION = 1
CONFIG_NAME = "config.json"
STATE_SUFFIX = "_state.json"
JOURNAL_NAME = "journal.jsonl"
LOCK_NAME = "agent.lock"
# swarms' persistent memory of an agent: agents/<raw name>/MEMORY.md, no config beside it.
SWARMS_MEMORY_NAME = "MEMORY.md"
ERROR_TXT = "error.txt"  # swarms writes it when a run fails
TEMP_SUFFIX = ".tmp"
# swarms' multi-agent structures: <root>/swarms/<ClassName>/<name>-<stamp>/ holding these.
SWARMS_DIR = "swarms"
STRUCTURE_STATE_NAME = "state.json"
STRUCTURE_METADATA_NAME = "metadata.json"
STRUCTURE_CONVERSATION_NAMES = ("conversation_history.json", "conversation.json")


class Format(StrEnum):
    """Who wrote a folder: us, the swarms framework, or nobody we know."""

    OURS = "agent-tui"
    SWARMS = "swarms"
    UNKNOWN = "unknown"


class Layout(StrEnum):
    """What a folder is: an agent's (``agents/<folder>``), an agent's swarms memory
    (``agents/<raw name>/MEMORY.md``, no config), or the run of a swarms multi-agent structure
    (``swarms/<ClassName>/<name>-<stamp>``)."""

    AGENT = "agent"
    MEMORY = "memory"
    STRUCTURE = "structure"


class Status(StrEnum):
    """An agent's status. ``IDLE`` is an Agent that never ran; readers never report it.
    ``UNKNOWN`` and ``BROKEN`` are readers' words for folders that say too little or are damaged;
    ``MEMORY`` is a swarms memory folder's (no run of its own to have a status)."""

    RUNNING = "running"
    COMPLETED = "completed"
    ERROR = "error"
    INTERRUPTED = "interrupted"
    IDLE = "idle"
    UNKNOWN = "unknown"
    BROKEN = "broken"
    MEMORY = "memory"


# What a reader can report, in the order lists group them.
STATUSES = (
    Status.RUNNING,
    Status.COMPLETED,
    Status.ERROR,
    Status.INTERRUPTED,
    Status.UNKNOWN,
    Status.BROKEN,
    Status.MEMORY,
)
# What a config says once its run is over; only a claim of "running" needs the lock's word.
SETTLED = (Status.COMPLETED, Status.ERROR, Status.INTERRUPTED)


class Kind(StrEnum):
    """A journal record's ``kind``: a run began (``TASK``), a step ended, the run ended."""

    TASK = "task"
    STEP = "step"
    END = "end"
