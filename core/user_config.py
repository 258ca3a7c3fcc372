"""The user's config file: ``config.toml`` in the platform's config folder (docs/CONFIG.md).

Where it is read from: ``--config PATH``, else ``$AGENT_TUI_CONFIG``, else
``platformdirs.user_config_path("agent-tui") / "config.toml"`` (``$XDG_CONFIG_HOME/agent-tui``
on Linux). A missing file at the default place means the defaults; a missing file someone named
explicitly is an error. The file is read like a workspace file (persistence's ``read_bytes``:
never through a link, regular files only, size-capped) and every setting is checked: an unknown
name gets a suggestion, a wrong type names what was expected and what was found.

Start-up cost: platformdirs (~14 ms) and tomllib (~10 ms) load only when a path is needed and a
file is there, so ``agent-tui --help`` pays for neither.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

APP_NAME = "agent-tui"
CONFIG_NAME = "config.toml"
CONFIG_ENV = "AGENT_TUI_CONFIG"
# A config file is a few lines; anything near this is not one.
MAX_CONFIG_BYTES = 1024 * 1024
DEFAULT_ACTION_LOG_MB = 5.0
# The top-level settings save_setting may rewrite (the app persists the theme the user picks).
STRING_SETTINGS = ("theme", "model")


class UserConfigError(Exception):
    """The config file cannot be used: missing (when named explicitly), unreadable, not TOML,
    or a setting that is unknown or of the wrong type. The message names the file."""


def default_config_dir() -> Path:
    """The platform's config folder for agent-tui (``~/.config/agent-tui`` on Linux)."""
    import platformdirs  # ~14 ms: only when a path is needed

    return platformdirs.user_config_path(APP_NAME)


def default_config_path() -> Path:
    """Where the config file is looked for when neither ``--config`` nor the env var names one."""
    return default_config_dir() / CONFIG_NAME


@dataclass(frozen=True)
class UserConfig:
    """The settings of the config file; every one has a default (docs/CONFIG.md)."""

    theme: str | None = None
    keys: dict[str, str] = field(default_factory=dict)
    workspaces: tuple[str, ...] = ()
    model: str | None = None
    bell: bool = False
    notify: bool = True
    action_log_mb: float = DEFAULT_ACTION_LOG_MB
    # Where the file was read from, or where it would be (save_setting writes there).
    path: Path = field(default_factory=default_config_path)


# name -> (accepted Python types, what the message says is expected)
_SETTINGS: dict[str, tuple[tuple[type, ...], str]] = {
    "theme": ((str,), "a string (a Textual theme name)"),
    "keys": ((dict,), 'a table of binding id = "key"'),
    "workspaces": ((list,), "an array of folder paths"),
    "model": ((str,), "a string (a model name)"),
    "bell": ((bool,), "true or false"),
    "notify": ((bool,), "true or false"),
    "action_log_mb": ((int, float), "a number of megabytes"),
}
_TOML_TYPES = {
    "str": "a string",
    "bool": "a boolean",
    "int": "an integer",
    "float": "a float",
    "list": "an array",
    "dict": "a table",
    "datetime": "a date-time",
    "date": "a date",
    "time": "a time",
}


def _toml_type(value: object) -> str:
    return _TOML_TYPES.get(type(value).__name__, type(value).__name__)


def _suggestion(name: str, known: Iterable[str]) -> str:
    from difflib import get_close_matches

    known = list(known)
    close = get_close_matches(name, known, n=1)
    return f"did you mean `{close[0]}`?" if close else f"known: {', '.join(known)}"


def config_path(
    path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] = os.environ
) -> tuple[Path, bool]:
    """The config file to read and whether it was named explicitly (``path``, else the env var)."""
    named = str(path) if path is not None else environ.get(CONFIG_ENV, "").strip()
    if not named:
        return default_config_path(), False
    # Links in the folders of a path the user typed are theirs to follow (/tmp on macOS is
    # one); the file itself never is.
    given = Path(named).expanduser()
    return Path(os.path.realpath(given.parent)) / given.name, True


def load_user_config(
    path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] = os.environ
) -> UserConfig:
    """Read and check the config file (see the module docstring for which one); the defaults
    when there is none at the default place. Raises :class:`UserConfigError`."""
    chosen, explicit = config_path(path, environ)
    if not os.path.lexists(chosen):
        if explicit:
            raise UserConfigError(f"config file not found: {chosen}")
        return UserConfig(path=chosen)
    return _from_document(_parse(_read(chosen), chosen), chosen)


def _read(path: Path) -> str:
    from agent_tui.format.persistence import WorkspaceFileError, read_bytes

    for place in (path, path.parent):
        if place.is_symlink():
            raise UserConfigError(
                f"{place}: is a symbolic link (to {os.readlink(place)}), not followed; "
                f"name the real file with --config or ${CONFIG_ENV}"
            )
    try:
        data = read_bytes(path, limit=MAX_CONFIG_BYTES + 1, head=True)
    except WorkspaceFileError as exc:
        raise UserConfigError(str(exc)) from None
    if len(data) > MAX_CONFIG_BYTES:
        raise UserConfigError(f"{path}: too large for a config file (over 1 MB), not read")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserConfigError(f"{path}: not valid UTF-8 (byte {exc.start})") from None


def _parse(text: str, path: Path) -> dict[str, Any]:
    import tomllib  # ~10 ms: only when there is a file

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # the message ends "(at line L, column C)"
        raise UserConfigError(f"{path}: not valid TOML: {exc}") from None


def _from_document(document: dict[str, Any], path: Path) -> UserConfig:
    for name, value in document.items():
        if name not in _SETTINGS:
            raise UserConfigError(
                f"{path}: unknown setting `{name}`; {_suggestion(name, _SETTINGS)}"
            )
        types, expected = _SETTINGS[name]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise UserConfigError(f"{path}: `{name}` must be {expected}, got {_toml_type(value)}")
    settings = dict(document)
    for name in ("theme", "model"):
        if settings.get(name) == "":
            raise UserConfigError(f"{path}: `{name}` is empty (remove the line for the default)")
    for binding, key in settings.get("keys", {}).items():
        if not isinstance(key, str) or not key.strip():
            got = "an empty string" if isinstance(key, str) else _toml_type(key)
            raise UserConfigError(
                f'{path}: `keys.{binding}` must be a key such as "C" or "ctrl+n", got {got}'
            )
    if "workspaces" in settings:
        folders = settings["workspaces"]
        for index, folder in enumerate(folders):
            if not isinstance(folder, str) or not folder.strip():
                got = "an empty string" if isinstance(folder, str) else _toml_type(folder)
                raise UserConfigError(
                    f"{path}: `workspaces[{index}]` must be a folder path, got {got}"
                )
        settings["workspaces"] = tuple(os.path.expanduser(folder) for folder in folders)
    if not 0 < settings.get("action_log_mb", 1) < float("inf"):  # TOML has inf and nan
        raise UserConfigError(f"{path}: `action_log_mb` must be more than 0 and finite")
    return UserConfig(**settings, path=path)


def check_binding_ids(config: UserConfig, binding_ids: Iterable[str]) -> None:
    """Raise :class:`UserConfigError` for a ``[keys]`` entry that names none of
    ``binding_ids`` (the app's ``Binding(id=...)`` values), with the closest one."""
    known = sorted(set(binding_ids))
    for binding in config.keys:
        if binding not in known:
            raise UserConfigError(
                f"{config.path}: unknown binding `keys.{binding}`; {_suggestion(binding, known)}"
            )


# ------------------------------------------------------------------------- writing one setting
_ASSIGNMENT = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")
_TABLE_HEADER = re.compile(r"^\s*\[")
_COMMENT = re.compile(r"^\s*#")


def toml_string(value: str) -> str:
    """``value`` as a TOML basic string: quotes, backslashes and control characters escaped."""
    out = []
    for char in value:
        if char in '"\\':
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _with_setting(text: str, key: str, value: str) -> str:
    """``text`` with its top-level ``key = ...`` line replaced, or one added before the first
    table (after it, the line would belong to that table) and above that table's comments."""
    newline = "\r\n" if "\r\n" in text else "\n"
    line = f"{key} = {toml_string(value)}{newline}"
    lines = text.splitlines(keepends=True)
    for index, old in enumerate(lines):
        if _TABLE_HEADER.match(old):
            while index > 0 and _COMMENT.match(lines[index - 1]):
                index -= 1
            lines.insert(index, line)
            return "".join(lines)
        match = _ASSIGNMENT.match(old)
        if match and match.group(1) == key:
            lines[index] = line
            return "".join(lines)
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += newline
    return "".join([*lines, line])


def save_setting(config: UserConfig, key: str, value: str) -> UserConfig:
    """Write one top-level string setting (``theme``, ``model``) into ``config.path``: that
    line replaced or added, every other line and comment kept, written atomically, the folder
    created if needed; returns the config with the new value.

    Raises :class:`~agent_tui.format.persistence.UnsafePathError` when the file is a link (or
    anything but a regular file), :class:`UserConfigError` when the file is not valid TOML or
    the line cannot be rewritten safely, ``OSError`` when the disk refuses.
    """
    import tomllib

    from agent_tui.format.persistence import UnsafePathError, atomic_write_bytes

    if key not in STRING_SETTINGS:
        raise UserConfigError(
            f"`{key}` is not a setting saved from the app; {_suggestion(key, STRING_SETTINGS)}"
        )
    path = config.path
    if path.is_symlink():
        raise UnsafePathError(path, "is a symbolic link, not followed")
    old_text = _read(path) if os.path.lexists(path) else ""
    old = _parse(old_text, path)
    new_text = _with_setting(old_text, key, value)
    try:
        written = tomllib.loads(new_text)
    except tomllib.TOMLDecodeError:
        written = None
    if written != {**old, key: value}:
        raise UserConfigError(f"{path}: could not rewrite `{key}` safely; edit the file by hand")
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, new_text.encode("utf-8"))
    changes: dict[str, Any] = {key: value}
    return dataclasses.replace(config, **changes)
