"""Plain Python functions as tools: JSON schema from the signature and docstring, safe calls."""

from __future__ import annotations

import inspect
import re
import time
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from agent_tui.models import StopRequested

_JSON_TYPES: dict[Any, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    list: "array",
    tuple: "array",
    set: "array",
    dict: "object",
}
_ARG_LINE = re.compile(r"^\s*(\*{0,2}\w+)\s*(?:\([^)]*\))?\s*:\s*(.+)$")
_SECTION = re.compile(r"^\s*(Args|Arguments|Parameters|Returns|Raises|Yields|Examples?)\s*:?\s*$")


def _json_type(annotation: Any) -> dict[str, Any]:
    if annotation is inspect.Parameter.empty or annotation is Any:
        return {}
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _json_type(options[0]) if len(options) == 1 else {}
    if origin is typing.Literal:
        return {"enum": list(typing.get_args(annotation))}
    if origin in (list, tuple, set):
        args = typing.get_args(annotation)
        schema: dict[str, Any] = {"type": "array"}
        if args and origin is list:
            schema["items"] = _json_type(args[0])
        return schema
    if origin is dict:
        return {"type": "object"}
    kind = _JSON_TYPES.get(annotation)
    return {"type": kind} if kind else {}


def _parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """Summary (text before the first section) and per-argument descriptions (Google style)."""
    summary: list[str] = []
    params: dict[str, str] = {}
    section = None
    current = None
    for line in inspect.cleandoc(doc).splitlines():
        header = _SECTION.match(line)
        if header:
            section = header.group(1).lower()
            current = None
            continue
        if section is None:
            summary.append(line)
        elif section in ("args", "arguments", "parameters"):
            match = _ARG_LINE.match(line)
            if match:
                current = match.group(1).lstrip("*")
                params[current] = match.group(2).strip()
            elif current and line.strip():
                params[current] += " " + line.strip()
    return " ".join(" ".join(summary).split()), params


@dataclass(frozen=True)
class Tool:
    """A callable with the schema a model sees."""

    name: str
    description: str
    parameters: dict[str, Any]
    func: Callable[..., Any]

    def schema(self) -> dict[str, Any]:
        """OpenAI/litellm ``tools=`` entry."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }

    def describe(self) -> dict[str, Any]:
        """Plain data for config.json."""
        return {"name": self.name, "description": self.description, "parameters": self.parameters}


def tool_from_function(func: Callable[..., Any]) -> Tool:
    """Build a :class:`Tool` from a function's name, type hints and docstring."""
    if not callable(func):
        raise TypeError(f"tools must be callables, got {type(func).__name__}")
    name = getattr(func, "__name__", type(func).__name__)
    summary, arg_docs = _parse_docstring(inspect.getdoc(func) or "")
    try:
        hints = typing.get_type_hints(func)
    except Exception:
        hints = {}
    properties: dict[str, Any] = {}
    required: list[str] = []
    for param in inspect.signature(func).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        schema = _json_type(hints.get(param.name, param.annotation))
        if param.name in arg_docs:
            schema["description"] = arg_docs[param.name]
        if param.default is param.empty:
            required.append(param.name)
        else:
            try:
                orjson.dumps(param.default)
                schema["default"] = param.default
            except TypeError:
                pass
        properties[param.name] = schema
    parameters = {"type": "object", "properties": properties, "required": required}
    return Tool(name=name, description=summary or f"Call {name}.", parameters=parameters, func=func)


@dataclass
class ToolOutcome:
    result: str
    is_error: bool
    arguments: Any
    duration_ms: float


def _stringify(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return orjson.dumps(value, default=str).decode()
    except TypeError:
        return repr(value)


def call_tool(tools: dict[str, Tool], name: str, raw_arguments: str | dict | None) -> ToolOutcome:
    """Run one tool call from a model. Never raises: a bad call or a failing tool becomes an error
    result the model can read on its next step."""
    start = time.perf_counter()

    def outcome(result: str, is_error: bool, arguments: Any) -> ToolOutcome:
        return ToolOutcome(result, is_error, arguments, (time.perf_counter() - start) * 1000)

    tool = tools.get(name)
    if tool is None:
        known = ", ".join(sorted(tools)) or "none"
        return outcome(f"Error: unknown tool {name!r} (available: {known})", True, raw_arguments)
    if isinstance(raw_arguments, dict):
        arguments: Any = raw_arguments
    else:
        try:
            arguments = orjson.loads(raw_arguments or "{}")
        except orjson.JSONDecodeError as exc:
            return outcome(f"Error: arguments are not valid JSON ({exc.msg})", True, raw_arguments)
    if not isinstance(arguments, dict):
        return outcome("Error: arguments must be a JSON object", True, arguments)
    try:
        inspect.signature(tool.func).bind(**arguments)
    except TypeError as exc:
        return outcome(f"Error: bad arguments for {name}: {exc}", True, arguments)
    try:
        value = tool.func(**arguments)
    except StopRequested:
        raise  # an interrupt (SIGTERM) landing inside a tool stops the run, not just the tool
    except Exception as exc:  # a failing tool is reported to the model, not fatal to the run
        return outcome(f"Error: {name} raised {type(exc).__name__}: {exc}", True, arguments)
    return outcome(_stringify(value), False, arguments)
