"""The model layer: one call = one streamed step, for the offline model or any litellm model.

litellm is imported lazily (it costs ~5 s and ~200 MB), only when a non-offline model is called,
after the environment that keeps it off the network is set. Every failure becomes a
:class:`ModelError` that names the model and the cause.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from agent_tui.offline import (
    OfflineModel,
    OfflineModelError,
    ToolCallEvent,
    count_tokens,
    is_offline,
    tokens_for_chars,
)
from agent_tui.settings import configure_litellm_offline, load_env
from agent_tui.units import shorten

DEFAULT_TIMEOUT = 60.0
DEFAULT_RETRIES = 2
ERROR_CHARS = 300  # the most of a provider's error message a run keeps
# Worth another attempt; auth and bad requests will fail the same way again.
RETRYABLE = frozenset({"rate_limit", "server", "timeout", "connection"})


class ModelError(Exception):
    """A model call failed. ``kind``: auth, rate_limit, timeout, connection, bad_request,
    server, stream_cut, config or unknown."""

    def __init__(self, model: str, kind: str, cause: str) -> None:
        self.model = model
        self.kind = kind
        self.cause = cause
        super().__init__(f"model {model!r} failed ({kind}): {cause}")


# What each provider reads from the environment before it can answer (litellm's names): every
# group must have one of its variables set. A provider not listed (ollama, hosted_vllm, the
# offline model, anything unknown) needs none that we know of, and is never refused.
PROVIDER_KEYS: dict[str, tuple[tuple[str, ...], ...]] = {
    "openai": (("OPENAI_API_KEY",),),
    "anthropic": (("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"),),
    "gemini": (("GEMINI_API_KEY", "GOOGLE_API_KEY"),),
    "mistral": (("MISTRAL_API_KEY",),),
    "groq": (("GROQ_API_KEY",),),
    "cohere": (("COHERE_API_KEY", "CO_API_KEY"),),
    "cohere_chat": (("COHERE_API_KEY", "CO_API_KEY"),),
    # AZURE_API_VERSION has a default in litellm; the endpoint and a credential do not.
    "azure": (("AZURE_API_BASE",), ("AZURE_API_KEY", "AZURE_OPENAI_API_KEY", "AZURE_AD_TOKEN")),
    "openrouter": (("OPENROUTER_API_KEY",),),
    "deepseek": (("DEEPSEEK_API_KEY",),),
    "xai": (("XAI_API_KEY",),),
    "together_ai": (("TOGETHER_API_KEY", "TOGETHERAI_API_KEY", "TOGETHER_AI_TOKEN"),),
    "fireworks_ai": (("FIREWORKS_AI_API_KEY", "FIREWORKS_API_KEY", "FIREWORKSAI_API_KEY"),),
    "perplexity": (("PERPLEXITYAI_API_KEY",),),
    "cerebras": (("CEREBRAS_API_KEY",),),
    "deepinfra": (("DEEPINFRA_API_KEY",),),
}
# Model names litellm routes without a provider prefix.
_BARE_PROVIDERS = (
    (re.compile(r"(gpt-|chatgpt-|o[1-9])"), "openai"),
    (re.compile("claude-"), "anthropic"),
)


class MissingKeyError(ModelError):
    """The model's provider needs environment variables that are not set: found before the run
    starts, so nothing is written and litellm is never imported."""

    def __init__(self, model: str, missing: list[tuple[str, ...]]) -> None:
        self.missing = missing
        names = " and ".join(
            group[0] + (f" (or {', '.join(group[1:])})" if group[1:] else "") for group in missing
        )
        example = " ".join(f"{group[0]}=..." for group in missing)
        cause = (
            f"{names} {'is' if len(missing) == 1 else 'are'} not set: export {example}, "
            f"or put {example} in a .env file in this folder or a parent "
            "(offline/demo needs no key)"
        )
        super().__init__(model, "auth", cause)
        self.args = (f"model {model!r} cannot start: {cause}",)


def needed_keys(model_name: str) -> tuple[tuple[str, ...], ...]:
    """The environment variables ``model_name``'s provider needs: groups of alternatives, one
    of each group to be set; ``()`` when it needs none we know of."""
    if "/" in model_name:
        return PROVIDER_KEYS.get(model_name.split("/", 1)[0].lower(), ())
    for pattern, provider in _BARE_PROVIDERS:
        if pattern.match(model_name):
            return PROVIDER_KEYS[provider]
    return ()


def missing_keys(
    model_name: str,
    environ: Mapping[str, str] | None = None,
    *,
    api_key: str | None = None,
    api_base: str | None = None,
) -> list[tuple[str, ...]]:
    """The groups of :func:`needed_keys` that ``model_name`` finds none of; empty when it can
    run. A key or endpoint given explicitly is the caller's business, never
    refused. ``environ`` defaults to the environment, with ``.env`` loaded."""
    if api_key or api_base:
        return []
    if environ is None:
        load_env()
        environ = os.environ
    return [
        group
        for group in needed_keys(model_name)
        if not any(environ.get(name, "").strip() for name in group)
    ]


def require_keys(
    model_name: str, *, api_key: str | None = None, api_base: str | None = None
) -> None:
    """Raise :class:`MissingKeyError` when ``model_name`` cannot run for want of a key."""
    missing = missing_keys(model_name, api_key=api_key, api_base=api_base)
    if missing:
        raise MissingKeyError(model_name, missing)


class StopRequested(Exception):
    """Raised inside a model call when the run was asked to stop (interrupt)."""


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: str

    def as_message_part(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }


@dataclass
class ModelReply:
    text: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    duration_ms: float = 0.0


@dataclass
class ModelSettings:
    temperature: float | None = None
    max_tokens: int | None = None
    timeout: float = DEFAULT_TIMEOUT
    max_retries: int = DEFAULT_RETRIES
    api_key: str | None = None
    api_base: str | None = None
    retry_backoff: float = 1.0  # seconds before the first retry; doubles each time, max 30 s


ChunkCallback = Callable[[str], None]

_OFFLINE_KIND = {
    "server": "server",
    "auth": "auth",
    "rate_limit": "rate_limit",
    "timeout": "timeout",
    "connection": "connection",
    "cut": "stream_cut",
}


def complete(
    model_name: str,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]] | None,
    settings: ModelSettings,
    on_chunk: ChunkCallback | None = None,
    stop: threading.Event | None = None,
) -> ModelReply:
    """Run one streamed model call and assemble the reply."""
    stop = stop or threading.Event()
    start = time.perf_counter()
    if is_offline(model_name):
        reply = _complete_offline(model_name, messages, tools, settings, on_chunk, stop)
    else:
        reply = _complete_litellm(model_name, messages, tools, settings, on_chunk, stop)
    reply.duration_ms = (time.perf_counter() - start) * 1000
    return reply


def _past_deadline(model_name: str, timeout: float) -> ModelError:
    return ModelError(model_name, "timeout", f"no complete answer within the {timeout:g} s timeout")


def _complete_offline(model_name, messages, tools, settings, on_chunk, stop) -> ModelReply:
    try:
        model = OfflineModel(model_name)
    except ValueError as exc:
        raise ModelError(model_name, "config", str(exc)) from None
    reply = ModelReply(text="")
    parts: list[str] = []
    deadline = time.monotonic() + settings.timeout
    try:
        for event in model.stream(messages, tools, stop, deadline):
            if stop.is_set():
                raise StopRequested()
            if time.monotonic() > deadline:
                raise _past_deadline(model_name, settings.timeout)
            if isinstance(event, ToolCallEvent):
                reply.tool_calls.append(ToolCall(event.id, event.name, event.arguments))
            else:
                parts.append(event)
                if on_chunk:
                    on_chunk(event)
    except OfflineModelError as exc:
        raise ModelError(model_name, _OFFLINE_KIND.get(exc.kind, "unknown"), str(exc)) from None
    if stop.is_set():
        raise StopRequested()
    reply.text = "".join(parts)
    prompt = sum(len(str(m.get("content") or "")) for m in messages)
    reply.prompt_tokens = tokens_for_chars(prompt)
    reply.completion_tokens = count_tokens(reply.text)
    return reply


def _classify_litellm_error(exc: Exception) -> str:
    name = type(exc).__name__
    text = str(exc)
    if "Stream ended before" in text or name == "MidStreamFallbackError":
        return "stream_cut"
    if name == "AuthenticationError" or "Missing credentials" in text or "api_key" in text.lower():
        return "auth"
    if name == "RateLimitError":
        return "rate_limit"
    if name in ("Timeout", "APITimeoutError") or "timed out" in text.lower():
        return "timeout"
    if name in ("APIConnectionError", "ServiceUnavailableError") or "Connection" in text:
        return "connection"
    if name in ("BadRequestError", "NotFoundError", "UnprocessableEntityError"):
        return "bad_request"
    if name in ("InternalServerError", "APIError"):
        return "server"
    return "unknown"


def _complete_litellm(model_name, messages, tools, settings, on_chunk, stop) -> ModelReply:
    """Retries are ours, not litellm's (its ``num_retries`` needs an optional package and
    the OpenAI client retries on its own): up to ``max_retries`` more attempts for retryable
    failures, with exponential backoff, and only while nothing has been streamed yet, so a
    retry never repeats text the user already saw."""
    configure_litellm_offline()
    import litellm

    from agent_tui import litellm_provider

    litellm_provider.register()
    litellm.suppress_debug_info = True
    attempt = 0
    streamed = [False]

    def forward(text: str) -> None:
        streamed[0] = True
        if on_chunk:
            on_chunk(text)

    while True:
        try:
            return _litellm_attempt(litellm, model_name, messages, tools, settings, forward, stop)
        except ModelError as exc:
            if exc.kind not in RETRYABLE or streamed[0] or attempt >= settings.max_retries:
                raise
        wait = min(30.0, settings.retry_backoff * 2**attempt)
        attempt += 1
        if stop.wait(wait):
            raise StopRequested()


def _litellm_attempt(litellm, model_name, messages, tools, settings, on_chunk, stop) -> ModelReply:
    """One request. ``settings.timeout`` bounds all of it: litellm's own timeout bounds the wait
    for the answer and for each chunk, and a deadline checked between chunks bounds a stream
    that keeps coming (a chunk every 10 ms would otherwise run for ever)."""
    deadline = time.monotonic() + settings.timeout
    kwargs: dict[str, Any] = {
        "model": model_name,
        "messages": messages,
        "stream": True,
        "stream_options": {"include_usage": True},
        # litellm's default timeout is 6000 s: a silent server would hang the run for hours.
        "timeout": settings.timeout,
        "num_retries": 0,
        "max_retries": 0,
    }
    if tools:
        kwargs["tools"] = tools
    if settings.temperature is not None:
        kwargs["temperature"] = settings.temperature
    if settings.max_tokens:
        kwargs["max_tokens"] = settings.max_tokens
    if settings.api_key:
        kwargs["api_key"] = settings.api_key
    if settings.api_base:
        kwargs["api_base"] = settings.api_base

    reply = ModelReply(text="")
    parts: list[str] = []
    calls: dict[int, dict[str, str]] = {}
    chunks: list[Any] = []
    stream = None
    try:
        stream = litellm.completion(**kwargs)
        for chunk in stream:
            if stop.is_set():
                raise StopRequested()
            if time.monotonic() > deadline:
                raise _past_deadline(model_name, settings.timeout)
            chunks.append(chunk)
            usage = getattr(chunk, "usage", None)
            if usage:
                reply.prompt_tokens = getattr(usage, "prompt_tokens", 0) or reply.prompt_tokens
                reply.completion_tokens = (
                    getattr(usage, "completion_tokens", 0) or reply.completion_tokens
                )
            if not chunk.choices:
                continue
            delta = chunk.choices[0].delta
            text = getattr(delta, "content", None)
            if text:
                parts.append(text)
                on_chunk(text)
            for part in getattr(delta, "tool_calls", None) or []:
                slot = calls.setdefault(part.index or 0, {"id": "", "name": "", "arguments": ""})
                if part.id:
                    slot["id"] = part.id
                if part.function and part.function.name:
                    slot["name"] = part.function.name
                if part.function and part.function.arguments:
                    slot["arguments"] += part.function.arguments
    except (StopRequested, ModelError):
        raise
    except Exception as exc:
        raise ModelError(
            model_name, _classify_litellm_error(exc), _first_line(exc, settings)
        ) from None
    finally:
        # A stream given up on (deadline, stop, error) hangs up now, not when collected.
        close = getattr(stream, "close", None)
        if callable(close):
            close()
    reply.text = "".join(parts)
    reply.tool_calls = [
        ToolCall(c["id"] or f"call_{i}", c["name"], c["arguments"] or "{}")
        for i, c in sorted(calls.items())
    ]
    try:
        built = litellm.stream_chunk_builder(chunks, messages=messages)
        reply.cost = float(litellm.completion_cost(completion_response=built) or 0.0)
    except Exception:
        reply.cost = 0.0  # unknown pricing is not an error; the run goes on
    return reply


def _first_line(exc: Exception, settings: ModelSettings | None = None) -> str:
    """litellm's messages repeat themselves and append help links; keep the informative part.
    Secrets are masked first (a 401 body may echo the key; cutting first could halve one)."""
    from agent_tui.redaction import Redactor

    key = settings.api_key if settings is not None else None
    text = Redactor([key] if key else []).redact_text(" ".join(str(exc).split()))
    for marker in (" Original exception:", " Received Model Group", " LiteLLM Retried"):
        text = text.split(marker)[0]
    return shorten(text, ERROR_CHARS) or type(exc).__name__
