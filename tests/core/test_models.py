"""The offline model, the litellm adapter, tools and the model error contract."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from agent_tui.models import ModelError, ModelSettings, complete
from agent_tui.offline import OfflineModel, ToolCallEvent, parse_model
from agent_tui.tools import call_tool, tool_from_function


def search_notes(query: str, limit: int = 5, exact: bool = False) -> list[str]:
    """Search the notes.

    Args:
        query: What to look for.
        limit: How many results at most.
    """
    return [query] * limit


def _run(model: str, messages, tools=None):
    return list(OfflineModel(model).stream(messages, tools))


def test_offline_model_is_deterministic_and_streams() -> None:
    messages = [{"role": "user", "content": "Compare SQLite and Postgres for a small app"}]
    first, second = _run("offline/demo", messages), _run("offline/demo", messages)
    assert first == second
    assert len(first) > 20 and all(isinstance(c, str) for c in first)
    text = "".join(first)
    assert "sqlite" in text.lower() or "postgres" in text.lower()


def test_offline_model_calls_tools_then_answers() -> None:
    tool = tool_from_function(search_notes).schema()
    messages = [{"role": "user", "content": "find notes on fsync"}]
    events = _run("offline/demo", messages, [tool])
    calls = [e for e in events if isinstance(e, ToolCallEvent)]
    assert len(calls) == 1 and calls[0].name == "search_notes"
    outcome = call_tool(
        {"search_notes": tool_from_function(search_notes)}, "search_notes", calls[0].arguments
    )
    assert not outcome.is_error
    messages += [
        {"role": "assistant", "content": "", "tool_calls": [{"id": calls[0].id}]},
        {"role": "tool", "content": outcome.result},
    ]
    answer = _run("offline/demo", messages, [tool])
    assert not any(isinstance(e, ToolCallEvent) for e in answer)
    assert "The tools reported" in "".join(answer)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("auth", "auth"), ("rate_limit", "rate_limit"), ("timeout", "timeout"), ("cut", "stream_cut")],
)
def test_scripted_failures_become_model_errors(kind: str, expected: str) -> None:
    chunks: list[str] = []
    with pytest.raises(ModelError) as info:
        complete(
            f"offline/demo?fail_at=1&fail={kind}",
            [{"role": "user", "content": "hello there"}],
            None,
            ModelSettings(),
            chunks.append,
        )
    assert info.value.kind == expected and info.value.model.startswith("offline/demo")
    assert (kind == "cut") == bool(chunks)  # a cut stream delivered half its text first


def test_bad_options_are_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown option 'colour'"):
        parse_model("offline/demo?colour=red")
    with pytest.raises(ModelError, match="fail must be one of"):
        complete("offline/demo?fail=explode", [], None, ModelSettings())


def test_tool_schema_from_signature_and_docstring() -> None:
    tool = tool_from_function(search_notes)
    assert tool.description == "Search the notes."
    props = tool.parameters["properties"]
    assert props["query"] == {"type": "string", "description": "What to look for."}
    assert props["limit"]["type"] == "integer" and props["limit"]["default"] == 5
    assert props["exact"]["type"] == "boolean"
    assert tool.parameters["required"] == ["query"]


def test_bad_tool_calls_are_errors_for_the_model() -> None:
    tools = {"search_notes": tool_from_function(search_notes)}
    assert call_tool(tools, "nope", "{}").result.startswith("Error: unknown tool 'nope'")
    assert "not valid JSON" in call_tool(tools, "search_notes", "{bad").result
    assert "bad arguments" in call_tool(tools, "search_notes", '{"zzz": 1}').result


def test_offline_path_never_imports_litellm(child_env, workspace) -> None:
    code = textwrap.dedent(
        """
        import sys
        from agent_tui import Agent
        Agent(agent_name="light", max_loops=2).run("hello")
        import agent_tui.workspace, agent_tui.cli
        print("litellm" in sys.modules, "textual" in sys.modules)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=child_env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False"]


def test_registered_with_litellm_as_custom_provider() -> None:
    from agent_tui import litellm_provider

    litellm_provider.register()
    import litellm

    messages = [{"role": "user", "content": "explain write-ahead logs"}]
    response = litellm.completion(model="offline/demo", messages=messages)
    text = response.choices[0].message.content
    assert text == "".join(_run("offline/demo", messages))
    streamed = "".join(
        chunk.choices[0].delta.content or ""
        for chunk in litellm.completion(model="offline/demo", messages=messages, stream=True)
    )
    assert streamed == text


def test_litellm_errors_name_model_and_cause() -> None:
    # A refused connection on loopback, no retries, short timeout: one clear ModelError.
    with pytest.raises(ModelError) as info:
        complete(
            "openai/gpt-4o-mini",
            [{"role": "user", "content": "hi"}],
            None,
            ModelSettings(
                timeout=2, max_retries=0, api_key="sk-fake", api_base="http://127.0.0.1:9"
            ),
        )
    assert info.value.model == "openai/gpt-4o-mini"
    assert info.value.kind in ("connection", "timeout")
