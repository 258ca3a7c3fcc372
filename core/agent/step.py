"""One loop step: the model call, its tool calls, the step's journal record; and the rollback
of a step cut short, so the saved conversation stays valid to resume."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from agent_tui.agent.autosaver import Autosaver
from agent_tui.agent.events import Events
from agent_tui.agent.run_state import RunState, memory_bytes, now
from agent_tui.agent.signals import RunSignals
from agent_tui.models import ModelReply, ModelSettings, complete
from agent_tui.redaction import Redactor
from agent_tui.tools import Tool, call_tool

# What the model sees of a message: the standard keys only.
_WIRE_KEYS = ("role", "content", "tool_calls", "tool_call_id", "name")


class Step:
    """Runs the steps of an agent over its :class:`RunState`."""

    def __init__(
        self,
        state: RunState,
        tools: list[Tool],
        model_settings: ModelSettings,
        redactor: Redactor,
        events: Events,
        signals: RunSignals,
        autosaver: Autosaver,
    ) -> None:
        self._state = state
        self._tools = tools
        self._tools_by_name = {t.name: t for t in tools}
        self._model_settings = model_settings
        self._redactor = redactor
        self._events = events
        self._signals = signals
        self._autosaver = autosaver
        # Lengths of conversation and tool_results when the step in flight began.
        self._mark: tuple[int, int] | None = None
        self._wire: list[dict[str, Any]] = []
        self._wire_source: list[dict[str, Any]] | None = None

    def run(
        self,
        model_name: str,
        loop: int,
        max_loops: int,
        on_chunk: Callable[[str], None] | None,
    ) -> ModelReply:
        """One step; its record is journaled (and the config handed to the disk thread)
        before it returns."""
        state, emit, check_stop = self._state, self._events.emit, self._signals.check
        check_stop()
        step = state.loop_count + 1
        mark = len(state.conversation), len(state.tool_results)
        self._mark = mark
        emit("step_start", step=step, loop=loop, max_loops=max_loops)
        reply = complete(
            model_name,
            self._wire_messages(),
            [t.schema() for t in self._tools] or None,
            self._model_settings,
            on_chunk,
            self._signals.stop,
        )
        assistant: dict[str, Any] = {
            "role": "assistant",
            "content": reply.text,
            "ts": now(),
            "step": step,
        }
        if reply.tool_calls:
            assistant["tool_calls"] = [c.as_message_part() for c in reply.tool_calls]
        state.conversation.append(assistant)
        for call in reply.tool_calls:
            check_stop()
            emit("tool_call", step=step, name=call.name, arguments=call.arguments)
            outcome = call_tool(self._tools_by_name, call.name, call.arguments)
            self._redactor.learn(outcome.arguments)
            state.conversation.append(
                {
                    "role": "tool",
                    "tool_call_id": call.id,
                    "name": call.name,
                    "content": outcome.result,
                    "ts": now(),
                    "step": step,
                }
            )
            result = {
                "step": step,
                "tool_call_id": call.id,
                "name": call.name,
                "arguments": outcome.arguments,
                "result": outcome.result,
                "is_error": outcome.is_error,
                "duration_ms": round(outcome.duration_ms, 3),
            }
            state.tool_results.append(result)
            emit("tool_result", **result)
        check_stop()
        state.loop_count = step
        state.usage["prompt_tokens"] += reply.prompt_tokens
        state.usage["completion_tokens"] += reply.completion_tokens
        state.usage["cost"] = round(state.usage["cost"] + reply.cost, 8)
        fields: dict[str, Any] = {
            "messages": state.conversation[mark[0] :],
            "tool_results": state.tool_results[mark[1] :],
            "usage": dict(state.usage),
        }
        memory = memory_bytes(state.memory)
        if memory != state.journaled_memory:
            fields["memory"] = state.memory
            state.journaled_memory = memory
        # Time the run's own thread spends on autosave (redaction, the journal line, handing the
        # fsyncs over, waiting for the previous step's): what autosave costs a step.
        started = time.perf_counter()
        self._autosaver.record("step", **fields)
        self._mark = None
        self._autosaver.after_step()
        autosave_ms = (time.perf_counter() - started) * 1000
        emit(
            "step_end",
            step=step,
            loop=loop,
            max_loops=max_loops,
            tool_calls=len(reply.tool_calls),
            usage=dict(state.usage),
            autosave_ms=autosave_ms,
        )
        return reply

    def rollback(self) -> None:
        """Undo a step cut short: a conversation that ends in tool calls with no results would
        be rejected by the model on resume."""
        mark = self._mark
        if mark is not None:
            self._wire_source = None
            del self._state.conversation[mark[0] :]
            del self._state.tool_results[mark[1] :]
            self._mark = None

    def _wire_messages(self) -> list[dict[str, Any]]:
        # Built incrementally: the conversation only grows during a run (a rolled-back step or
        # a load() replaces it, and is detected).
        source = self._state.conversation
        if self._wire_source is not source or len(self._wire) > len(source):
            self._wire, self._wire_source = [], source
        for message in source[len(self._wire) :]:
            self._wire.append({k: message[k] for k in _WIRE_KEYS if k in message})
        return list(self._wire)
