"""Keep secrets off disk: redact secret-named keys, known secret values and token shapes.

Applied to every document before it is written (config, state, journal). Three nets:
1. keys that name a secret (``api_key``, ``OPENAI_API_KEY``, ``password``, ``authorization``...)
   holding a string;
2. any occurrence of a value that is a secret: secret-named environment variables (``.env`` is
   loaded into the environment) and secrets handed to the agent (``api_key=``);
3. strings shaped like well-known tokens (``sk-...``, ``Bearer ...``, ``ghp_...``, ``AKIA...``)
   and prose such as ``password hunter2`` / ``api key: abc123``.

A value found under a secret-named key is learned, so the same value is also caught where it
appears later without its key (in a tool call's JSON arguments, in the model's answer).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

REDACTED = "[REDACTED]"
MIN_SECRET_LEN = 6

_SECRET_KEY = re.compile(
    r"(^|_)(api_?key|apikey|secret|secret_key|client_secret|token|access_token|refresh_token|"
    r"auth_token|password|passwd|pwd|passphrase|authorization|credentials?|private_key|cookie|"
    r"session_key|access_key|secret_access_key)$"
)
_TOKEN_SHAPES = re.compile(
    r"(sk-[A-Za-z0-9_\-]{16,}|sk_(?:live|test)_[A-Za-z0-9]{16,}|gh[pousr]_[A-Za-z0-9]{20,}|"
    r"xox[abprs]-[A-Za-z0-9\-]{10,}|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_\-]{35}|"
    r"(?i:bearer)\s+[A-Za-z0-9._~+/\-]{12,}=*)"
)
_PROSE_SECRET = re.compile(
    r"(?i)\b(password|passwd|passphrase|api[ _-]?key|secret|access[ _-]?token)\b"
    r"(\s*(?:is|=|:)?\s*)([^\s\"',;]{6,})"
)


_TOKEN_HINTS = (
    "sk-",
    "sk_",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "xox",
    "akia",
    "aiza",
    "bearer",
)
_PROSE_HINTS = ("passw", "passphrase", "key", "secret", "token")


def is_secret_key(key: object) -> bool:
    """True when a mapping key names a secret (``OPENAI_API_KEY``, ``password``, ``x-api-key``)."""
    if not isinstance(key, str):
        return False
    normal = key.strip().lower().replace("-", "_").replace(" ", "_")
    return bool(_SECRET_KEY.search(normal))


def secrets_from_environment(environ: Mapping[str, str] | None = None) -> set[str]:
    """Values of secret-named environment variables, long enough not to be a common word."""
    environ = os.environ if environ is None else environ
    return {
        value
        for name, value in environ.items()
        if is_secret_key(name) and len(value.strip()) >= MIN_SECRET_LEN
    }


class Redactor:
    """Redacts documents; knows the secret values of the environment and any added by hand."""

    def __init__(self, extra_secrets: Iterable[str] = (), *, use_environment: bool = True) -> None:
        self._extra = {s for s in extra_secrets if isinstance(s, str) and len(s) >= MIN_SECRET_LEN}
        self._use_environment = use_environment
        self._env_snapshot: tuple[tuple[str, str], ...] | None = None
        self._secrets: tuple[str, ...] = ()
        self.refresh()

    def add_secret(self, value: str | None) -> None:
        if isinstance(value, str) and len(value) >= MIN_SECRET_LEN:
            self._extra.add(value)
            self.refresh()

    def refresh(self) -> None:
        """Re-read secret values from the environment (cheap when nothing changed)."""
        found = secrets_from_environment() if self._use_environment else set()
        # Longest first, so a secret that contains another is replaced whole.
        self._secrets = tuple(sorted(found | self._extra, key=len, reverse=True))

    def redact_text(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        # The regexes cost far more than a few substring tests: run them only on text that
        # holds one of their literal parts (this runs on every string of every step).
        low = text.lower()
        if any(hint in low for hint in _TOKEN_HINTS):
            text = _TOKEN_SHAPES.sub(REDACTED, text)
        if any(hint in low for hint in _PROSE_HINTS):
            text = _PROSE_SECRET.sub(_redact_prose, text)
        return text

    def learn(self, value: Any) -> None:
        """Remember the values held under secret-named keys anywhere inside ``value``."""
        found: set[str] = set()
        _collect_secrets(value, found)
        new = {s for s in found if len(s) >= MIN_SECRET_LEN and s != REDACTED} - self._extra
        if new:
            self._extra |= new
            self.refresh()

    def redact(self, value: Any) -> Any:
        """A copy of ``value`` with every secret replaced by ``[REDACTED]``."""
        self.learn(value)
        return self._redact(value)

    def _redact(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redact_text(value)
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                if is_secret_key(key) and isinstance(item, str) and item:
                    out[key] = REDACTED
                else:
                    out[key] = self._redact(item)
            return out
        if isinstance(value, list | tuple):
            return [self._redact(item) for item in value]
        return value


def _redact_prose(match: re.Match[str]) -> str:
    if match.group(3) == REDACTED or match.group(3).startswith("["):
        return match.group(0)
    return f"{match.group(1)}{match.group(2)}{REDACTED}"


def _collect_secrets(value: Any, found: set[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if is_secret_key(key) and isinstance(item, str):
                found.add(item)
            else:
                _collect_secrets(item, found)
    elif isinstance(value, list | tuple):
        for item in value:
            _collect_secrets(item, found)


def redact(value: Any) -> Any:
    """Redact with the current environment's secrets only."""
    return Redactor().redact(value)
