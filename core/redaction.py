"""Keep secrets off disk and off every screen: redact secret-named keys, known secret values and
token shapes.

Applied to every document before it is written (config, state, journal) and to everything
shown (CLI output and errors, the runner's JSON lines, the app's screens). Four nets:

1. keys that name a secret (``api_key``, ``password``, ``authorization``, ``X-Custom-Auth``,
   ``key``...) holding a string, and every value of a ``headers`` mapping;
2. any occurrence of a value that is a secret: secret-named environment variables (``.env`` is
   loaded into the environment first), secrets handed to the agent (``api_key=``) and values
   learned from documents, also in their base64, URL-encoded and JSON-escaped forms;
3. URL credentials (``https://alice:PASS@host``: the password);
4. strings shaped like well-known tokens (``sk-...``, ``Bearer ...``, ``ghp_...``, ``AKIA...``)
   and prose such as ``password hunter2`` / ``api key: abc123``.

A value found under a secret-named key (or as a URL's password) is learned, so the same value
is also caught where it appears later without its key (in a tool call's JSON arguments, in the
model's answer). Text that arrives in pieces (a streamed answer) goes through a
:class:`StreamRedactor`, which holds back what could be the start of a secret.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import quote, quote_plus

REDACTED = "[REDACTED]"
# A value of this length or more is searched for anywhere, as a substring.
MIN_SECRET_LEN = 6
# A shorter value from a source that says it is a secret (``api_key="k3y"``, a secret-named
# variable or key) is redacted where it stands as a whole token. Below 3 characters a whole
# token is a word, a number or a flag ("a", "on", "42") that ordinary text is full of; from 3
# on, an exact token match is rare enough in prose that masking it costs less than leaking it.
SHORT_SECRET_LEN = 3
# Values a secret-named setting holds when it is a switch, not a secret.
_NOT_SECRET_VALUES = frozenset({"true", "false", "none", "null", "yes", "off", "auto", "default"})
# A streamed word longer than this is shown without waiting for its end (unless it already
# looks like a token): a model spelling out a long base64 blob must not stall the screen.
MAX_STREAM_HOLD = 256

# Environment variables litellm reads for provider credentials (from a grep of litellm 1.110's
# ``get_secret``/``os.environ`` calls) that the name patterns below do not catch. Read once
# here: importing litellm to ask it costs ~5 s.
LITELLM_SECRET_ENV_NAMES = (
    "AWS_BEARER_TOKEN_BEDROCK",
    "AZURE_CREDENTIAL",
    "CIRCLE_OIDC_TOKEN_V2",
    "HCP_VAULT_APPROLE_SECRET_ID",
    "ISSUER_SIGNING_KEY_PEM",
    "LITELLM_LICENSE",
    "LITELLM_SECRET_AWS_KMS_LITELLM_LICENSE",
    "WATSONX_APIKEY",
    "WATSONX_ZENAPIKEY",
)
# The generic names: OPENAI_KEY, AZURE_OPENAI_KEY, LITELLM_MASTER_KEY, AIMLAPI_KEY, HF_TOKEN,
# DB_PASSWORD, GOOGLE_APPLICATION_CREDENTIALS...
# The shell's working folders (``pwd`` names a password elsewhere).
_NOT_SECRET_ENV_NAMES = frozenset({"PWD", "OLDPWD"})
_SECRET_ENV_SUFFIX = re.compile(r"_(KEY|TOKEN|SECRET|PASSWORD|CREDENTIALS?)$", re.IGNORECASE)

_SECRET_KEY = re.compile(
    r"(^|_)(api_?key|apikey|secret|secret_key|client_secret|token|access_token|refresh_token|"
    r"auth_token|password|passwd|pwd|passphrase|authorization|credentials?|private_key|cookie|"
    r"session_key|access_key|secret_access_key)$"
)
# Settings that end in "token" but name a marker in the text, not a credential.
_MARKER_TOKEN = re.compile(r"(^|_)(stop|stopping|eos|bos|pad|unk|sep|mask|start|end)_token$")
# Header-ish keys: X-Api-Key, X-Goog-Key, and plain ``key`` (``llm_args={"key": ...}``).
_HEADER_KEY = re.compile(r"^(key|x_.+_key)$")
_NOT_AUTH_WORDS = frozenset({"author", "authors", "authored", "authoring", "authority"})
_HEADERS_KEY = re.compile(r"(^|_)headers$")

_TOKEN_SHAPES = re.compile(
    r"(sk-[A-Za-z0-9_\-]{16,}|sk_(?:live|test)_[A-Za-z0-9]{16,}|gh[pousr]_[A-Za-z0-9]{20,}|"
    r"xox[abprs]-[A-Za-z0-9\-]{10,}|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_\-]{35}|"
    r"(?i:bearer)\s+[A-Za-z0-9._~+/\-]{12,}=*)"
)
_PROSE_SECRET = re.compile(
    r"(?i)\b(password|passwd|passphrase|api[ _-]?key|secret|access[ _-]?token)\b"
    r"(\s*(?:is|=|:)?\s*)([^\s\"',;]{6,})"
)
# A secret whose value may not have arrived in full yet (a stream cut after "is " or in the
# middle of the token after "Bearer").
_OPENING = re.compile(
    r"(?i)\b(?:(?:password|passwd|passphrase|api[ _-]?key|secret|access[ _-]?token)\b"
    r"\s*(?:is|=|:)?|bearer|api[ _-]?|access[ _-]?)\s*\S*$"
)
# [scheme:]//user:PASSWORD@ (the password ends at the last "@" of the authority). The scheme is
# not needed: a protocol-relative URL carries credentials too, and a stream may show the scheme
# before the rest arrives.
_URL_CREDENTIALS = re.compile(r"(//[^\s:/?#@\"'<>]*):([^\s/?#\"'<>]+)@")
_LAST_WORD = re.compile(r"\S*\Z")
# Where a token may start inside a word (``key=sk-...``, ``"ghp_...``).
_TOKEN_START = re.compile(r"[=:\"'(<\[{,;]")

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
# Words that open a prose secret: a stream cut inside one ("passw") holds it back.
_OPENERS = ("password", "passwd", "passphrase", "secret", "api", "access", "bearer")
_PROSE_HINTS = ("passw", "passphrase", "key", "secret", "token")


def _normal_key(key: str) -> str:
    return key.strip().lower().replace("-", "_").replace(" ", "_")


def is_secret_key(key: object) -> bool:
    """True when a mapping key names a secret (``OPENAI_API_KEY``, ``password``, ``x-api-key``,
    ``X-Custom-Auth``, ``key``), not a setting that merely ends in ``token``."""
    if not isinstance(key, str):
        return False
    normal = _normal_key(key)
    if _MARKER_TOKEN.search(normal):
        return False
    if _SECRET_KEY.search(normal) or _HEADER_KEY.match(normal):
        return True
    return any(
        part.startswith(("auth", "oauth")) and part not in _NOT_AUTH_WORDS
        for part in normal.split("_")
    )


def is_secret_env_name(name: str) -> bool:
    """True for an environment variable that holds a credential: a name litellm reads for one,
    or one ending in ``_KEY``, ``_TOKEN``, ``_SECRET``, ``_PASSWORD``, ``_CREDENTIALS``."""
    upper = name.upper()
    if upper in _NOT_SECRET_ENV_NAMES:
        return False
    if upper in LITELLM_SECRET_ENV_NAMES or _SECRET_ENV_SUFFIX.search(upper):
        return True
    return bool(_SECRET_KEY.search(_normal_key(name)))


def _usable(value: object) -> str | None:
    """The secret to look for (stripped: a key read from a file keeps its newline), or None
    when the value is too short or is a switch."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if len(value) < SHORT_SECRET_LEN or value == REDACTED or value.lower() in _NOT_SECRET_VALUES:
        return None
    return value


def secrets_from_environment(environ: Mapping[str, str] | None = None) -> set[str]:
    """Values of secret-named environment variables (see :func:`is_secret_env_name`)."""
    environ = os.environ if environ is None else environ
    found = set()
    for name, value in environ.items():
        if is_secret_env_name(name):
            usable = _usable(value)
            if usable:
                found.add(usable)
    return found


@lru_cache(maxsize=1024)
def _forms(secret: str) -> frozenset[str]:
    """``secret`` as it may appear in text: itself, JSON-escaped, URL-encoded, and base64 of it
    (with or without its newline, standard or URL-safe alphabet, whole or inside a longer
    base64 text such as the ``user:KEY`` of a Basic header)."""
    forms = {secret, json.dumps(secret)[1:-1], quote(secret, safe=""), quote_plus(secret)}
    forms.add(quote(secret))
    for data in (secret.encode(), (secret + "\n").encode()):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            whole = encode(data).decode()
            forms.update((whole, whole.rstrip("=")))
            # At an offset of 1 or 2 bytes into a longer text, the characters that hold only
            # the secret's bits are the same whatever surrounds it.
            for shift in (0, 1, 2):
                shifted = encode(bytes(shift) + data).decode()
                inner = shifted[(8 * shift + 5) // 6 : (8 * (shift + len(data))) // 6]
                if len(inner) >= 8:
                    forms.add(inner)
    return frozenset(f for f in forms if len(f) >= MIN_SECRET_LEN)


class Redactor:
    """Redacts documents and text; knows the secret values of the environment (``.env``
    included), those handed to it and those it learned from documents."""

    def __init__(self, extra_secrets: Iterable[str] = (), *, use_environment: bool = True) -> None:
        self._extra = {s for s in map(_usable, extra_secrets) if s}
        self._use_environment = use_environment
        self._literals: tuple[str, ...] = ()
        self._short: re.Pattern[str] | None = None
        self._short_values: tuple[str, ...] = ()
        self.window = 0
        self._prefixes: frozenset[str] = frozenset()
        self.refresh()

    def refresh(self) -> None:
        """Re-read secret values from the environment (and ``.env``)."""
        if self._use_environment:
            from agent_tui.settings import load_env

            load_env()
            found = secrets_from_environment() | self._extra
        else:
            found = set(self._extra)
        forms: set[str] = set()
        short = []
        for secret in found:
            if len(secret) >= MIN_SECRET_LEN:
                forms |= _forms(secret)
            else:
                short.append(secret)
        # Longest first, so a secret that contains another is replaced whole.
        self._literals = tuple(sorted(forms, key=len, reverse=True))
        self._short_values = tuple(sorted(short, key=len, reverse=True))
        self._short = (
            re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, self._short_values)) + r")(?!\w)")
            if short
            else None
        )
        # A stream holds back only a tail that is the start of a secret it could still
        # complete; ordinary text is shown at once, whatever secrets are known.
        self.window = max((len(f) for f in (*self._literals, *short)), default=1) - 1
        self._prefixes = frozenset(
            value[:n] for value in (*self._literals, *short) for n in range(1, len(value))
        )

    def redact_text(self, text: str) -> str:
        for secret in self._literals:
            if secret in text:
                text = text.replace(secret, REDACTED)
        if self._short is not None and any(s in text for s in self._short_values):
            text = self._short.sub(REDACTED, text)
        if "//" in text and "@" in text:
            text = _URL_CREDENTIALS.sub(rf"\1:{REDACTED}@", text)
        # The regexes cost far more than a few substring tests: run them only on text that
        # holds one of their literal parts (this runs on every string of every step).
        low = text.lower()
        if any(hint in low for hint in _TOKEN_HINTS):
            text = _TOKEN_SHAPES.sub(REDACTED, text)
        if any(hint in low for hint in _PROSE_HINTS):
            text = _PROSE_SECRET.sub(_redact_prose, text)
        return text

    def learn(self, value: Any) -> None:
        """Remember the values held under secret-named keys anywhere inside ``value``, and the
        passwords of URLs in its text."""
        found: set[str] = set()
        _collect_secrets(value, found)
        new = {s for s in map(_usable, found) if s} - self._extra
        if new:
            self._extra |= new
            self.refresh()

    def redact(self, value: Any) -> Any:
        """A copy of ``value`` with every secret replaced by ``[REDACTED]``."""
        self.learn(value)
        return self._redact(value)

    def _redact(self, value: Any, *, header_values: bool = False) -> Any:
        if isinstance(value, str):
            return REDACTED if header_values and value else self.redact_text(value)
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                if is_secret_key(key) and isinstance(item, str) and item:
                    out[key] = REDACTED
                else:
                    headers = header_values or (
                        isinstance(key, str) and bool(_HEADERS_KEY.search(_normal_key(key)))
                    )
                    out[key] = self._redact(item, header_values=headers)
            return out
        if isinstance(value, list | tuple):
            return [self._redact(item, header_values=header_values) for item in value]
        return value

    def _spans(self, text: str) -> list[tuple[int, int]]:
        """Where in ``text`` :meth:`redact_text` would replace something."""
        spans = []
        for secret in self._literals:
            start = text.find(secret)
            while start >= 0:
                spans.append((start, start + len(secret)))
                start = text.find(secret, start + 1)
        patterns = [_URL_CREDENTIALS, _TOKEN_SHAPES, _PROSE_SECRET]
        if self._short is not None:
            patterns.append(self._short)
        for pattern in patterns:
            spans.extend(m.span() for m in pattern.finditer(text))
        return spans

    def stream_cut(self, text: str) -> int:
        """How much of ``text`` (the start of a stream not shown yet) is safe to redact and show
        now: the rest could be the start of a secret that the next piece completes."""
        end = len(text)
        cut = end
        for start in range(max(0, end - self.window), end):
            if text[start:] in self._prefixes:
                cut = start
                break
        last_word = _LAST_WORD.search(text)
        assert last_word is not None
        if end - last_word.start() <= MAX_STREAM_HOLD and _may_grow_into_secret(last_word.group()):
            cut = min(cut, last_word.start())
        opening = _OPENING.search(text, max(0, end - 64))
        if opening:
            cut = min(cut, opening.start())
        cut = max(cut, 0)
        # Never cut through something that would be redacted: hold all of it back.
        spans = self._spans(text)
        moved = True
        while moved:
            moved = False
            for start, stop in spans:
                if start < cut < stop:
                    cut, moved = start, True
        return cut


class StreamRedactor:
    """Redacts text that arrives in pieces. A secret split across pieces (``sk-ab`` + ``cd...``)
    is caught: :meth:`feed` returns only what is safe to show and holds back a tail that is
    the start of a known secret (at most ``len(longest secret) - 1`` characters) and a word
    that may still become a token;
    :meth:`flush` returns the rest at the end of the stream."""

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor
        self._held = ""

    def feed(self, chunk: str) -> str:
        text = self._held + chunk
        cut = self.redactor.stream_cut(text)
        self._held = text[cut:]
        return self.redactor.redact_text(text[:cut]) if cut else ""

    def flush(self) -> str:
        text, self._held = self._held, ""
        return self.redactor.redact_text(text) if text else ""


def _may_grow_into_secret(word: str) -> bool:
    """Whether the last word of a stream so far may still become a URL with credentials, a
    token or a prose secret (``https:``, ``//bob:pw``, ``sk-ab``, ``gh``, ``passw``); an
    ordinary word is shown at once."""
    if any(c in word for c in ":/@"):
        return True
    tail = _TOKEN_START.split(word)[-1].lower()
    if not tail:
        return False
    if any(tail.startswith(hint) or hint.startswith(tail) for hint in _TOKEN_HINTS):
        return True
    return any(opener.startswith(tail) for opener in _OPENERS)


def _redact_prose(match: re.Match[str]) -> str:
    if match.group(3) == REDACTED or match.group(3).startswith("["):
        return match.group(0)
    return f"{match.group(1)}{match.group(2)}{REDACTED}"


def _collect_secrets(value: Any, found: set[str]) -> None:
    if isinstance(value, str):
        if "//" in value and "@" in value:
            found.update(m.group(2) for m in _URL_CREDENTIALS.finditer(value))
    elif isinstance(value, dict):
        for key, item in value.items():
            if is_secret_key(key) and isinstance(item, str):
                found.add(item)
            else:
                _collect_secrets(item, found)
    elif isinstance(value, list | tuple):
        for item in value:
            _collect_secrets(item, found)
