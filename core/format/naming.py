"""Turning user-supplied agent names and ids into folder and file names that cannot escape.

An ``agent_name`` comes from a user and is hostile until proven otherwise: ``../../etc``,
``/abs``, NUL bytes, 300 characters or emoji must all map to one harmless path component.
"""

from __future__ import annotations

import re

MAX_NAME_CHARS = 100
# A path component is limited to 255 bytes; the folder adds "-" + 12 hex, files "_state.json".
MAX_NAME_BYTES = 200
_ID_NAMESPACE = bytes.fromhex("6f1c2b8e5d4a4e8b9a372f6c1d0e9b55")

_FOLDER_UNSAFE = re.compile(r'[\s_/\\:*?"<>|\x00-\x1f\x7f]')
_FILE_UNSAFE = re.compile(r'[/\\:*?"<>|\x00-\x1f\x7f]')
_DASH_RUNS = re.compile(r"-{2,}")
_HEX = re.compile(r"[0-9a-f]")


def _valid_utf8(name: object) -> str:
    # Lone surrogates (from undecodable bytes) cannot be encoded into a file name.
    return str(name).encode("utf-8", "replace").decode("utf-8").replace("?", "-")


def _clip(text: str) -> str:
    text = text[:MAX_NAME_CHARS]
    while len(text.encode("utf-8")) > MAX_NAME_BYTES:
        text = text[:-1]
    return text


def _strip_edges(text: str) -> str:
    return text.strip(" .-")


def safe_name(agent_name: str) -> str:
    """The folder-name form of ``agent_name``: lower-case; spaces, ``_`` and ``/\\:*?"<>|`` (and
    control characters) become ``-``; runs of ``-`` collapse; leading/trailing dots and dashes go;
    at most 100 characters. Never empty, never ``.`` or ``..``."""
    text = _FOLDER_UNSAFE.sub("-", _valid_utf8(agent_name).lower())
    text = _DASH_RUNS.sub("-", text)
    return _strip_edges(_clip(_strip_edges(text))) or "agent"


def file_safe_name(agent_name: str) -> str:
    """The file-name form of ``agent_name`` for ``{name}_state.json``: case kept, path separators
    and control characters replaced, no leading dot, at most 100 characters."""
    text = _FILE_UNSAFE.sub("-", _valid_utf8(agent_name))
    return _strip_edges(_clip(_strip_edges(text))) or "agent"


def _name_uuid(text: str) -> str:
    # uuid5 by hand: the stdlib version cannot encode lone surrogates from undecodable names.
    # Imported here: reading workspaces never derives an id, and hashlib costs 3 ms at start-up.
    import hashlib
    import uuid

    digest = hashlib.sha1(_ID_NAMESPACE + str(text).encode("utf-8", "surrogatepass"))
    return uuid.UUID(bytes=digest.digest()[:16], version=5).hex


def stable_agent_id(agent_name: str) -> str:
    """The default id of an agent: derived from its name, so a new process finds the same folder."""
    return _name_uuid(agent_name)


def short_id(agent_id: str) -> str:
    """The last 12 hex digits of ``agent_id``; ids that are not hex are hashed to 12 hex first."""
    digits = "".join(_HEX.findall(str(agent_id).lower().replace("-", "")))
    if len(digits) >= 12 and len(digits) == len(str(agent_id).replace("-", "")):
        return digits[-12:]
    return _name_uuid("id:" + str(agent_id))[-12:]


def agent_folder_name(agent_name: str, agent_id: str) -> str:
    """``{safe-name}-{id12}``: the folder of one agent under ``$WORKSPACE_DIR/agents``."""
    return f"{safe_name(agent_name)}-{short_id(agent_id)}"


def state_file_name(agent_name: str) -> str:
    """``{agent_name}_state.json`` with the name made file-name safe."""
    return f"{file_safe_name(agent_name)}_state.json"
