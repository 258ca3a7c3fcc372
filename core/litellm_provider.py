"""The offline model registered with litellm as the custom provider ``offline``.

``register()`` makes ``litellm.completion(model="offline/demo", ...)`` work (streamed or not).
Importing this module imports litellm: only the litellm path of :mod:`agent_tui.models` does.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from agent_tui.settings import configure_litellm_offline

configure_litellm_offline()

import litellm  # noqa: E402
from litellm import CustomLLM  # noqa: E402
from litellm.types.utils import GenericStreamingChunk  # noqa: E402

from agent_tui.offline import PROVIDER, OfflineModel, ToolCallEvent, count_tokens  # noqa: E402

_registered = False


def _events(model: str, messages: list[dict], optional_params: dict | None):
    tools = (optional_params or {}).get("tools")
    return OfflineModel(f"{PROVIDER}/{model}").stream(messages, tools)


class OfflineLLM(CustomLLM):
    """litellm adapter around :class:`agent_tui.offline.OfflineModel`."""

    def completion(self, model: str, messages: list, *args: Any, **kwargs: Any):
        text: list[str] = []
        calls: list[dict[str, Any]] = []
        for event in _events(model, messages, kwargs.get("optional_params")):
            if isinstance(event, ToolCallEvent):
                calls.append(
                    {
                        "id": event.id,
                        "type": "function",
                        "function": {"name": event.name, "arguments": event.arguments},
                    }
                )
            else:
                text.append(event)
        message: dict[str, Any] = {"role": "assistant", "content": "".join(text)}
        if calls:
            message["tool_calls"] = calls
        content = "".join(text)
        return litellm.ModelResponse(
            model=f"{PROVIDER}/{model}",
            created=int(time.time()),
            choices=[
                {"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}
            ],
            usage={
                "prompt_tokens": count_tokens(str(messages)),
                "completion_tokens": count_tokens(content),
                "total_tokens": count_tokens(str(messages)) + count_tokens(content),
            },
        )

    def streaming(self, model: str, messages: list, *args: Any, **kwargs: Any) -> Iterator:
        index = 0
        for event in _events(model, messages, kwargs.get("optional_params")):
            chunk: GenericStreamingChunk = {
                "text": "",
                "tool_use": None,
                "is_finished": False,
                "finish_reason": "",
                "usage": None,
                "index": 0,
            }
            if isinstance(event, ToolCallEvent):
                chunk["tool_use"] = {
                    "id": event.id,
                    "type": "function",
                    "function": {"name": event.name, "arguments": event.arguments},
                    "index": index,
                }
                index += 1
            else:
                chunk["text"] = event
            yield chunk
        yield {
            "text": "",
            "tool_use": None,
            "is_finished": True,
            "finish_reason": "tool_calls" if index else "stop",
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
            "index": 0,
        }

    async def acompletion(self, model: str, messages: list, *args: Any, **kwargs: Any):
        return self.completion(model, messages, *args, **kwargs)

    async def astreaming(self, model: str, messages: list, *args: Any, **kwargs: Any):
        for chunk in self.streaming(model, messages, *args, **kwargs):
            yield chunk


def register() -> None:
    """Register the provider and a zero cost entry (without one, every call pays a failed cost
    lookup and prints noise). Idempotent."""
    global _registered
    if _registered:
        return
    handler = OfflineLLM()
    litellm.custom_provider_map = [
        item for item in litellm.custom_provider_map if item.get("provider") != PROVIDER
    ] + [{"provider": PROVIDER, "custom_handler": handler}]
    litellm.register_model(
        {
            f"{PROVIDER}/demo": {
                "max_tokens": 8192,
                "input_cost_per_token": 0.0,
                "output_cost_per_token": 0.0,
                "litellm_provider": PROVIDER,
                "mode": "chat",
            }
        }
    )
    _registered = True
