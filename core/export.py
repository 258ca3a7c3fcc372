"""An agent's runs written out for people and programs: Markdown, one HTML page, or JSON.

Every run of the agent in the order the journal holds them (or up to step N, cut where
``diff --steps`` and ``fork`` see that step), each with its task, start, end and status and
then its messages: the role, the text, the tool calls with their arguments and the tools'
results. A swarms folder exports as its one run (:mod:`agent_tui.workspace.runs`).

The document is masked once, before any format sees it (the environment's secrets and those
the agent's own files hold), so no renderer can print a secret. What the files say is text
from anywhere: Markdown gets it quoted or fenced with its HTML characters escaped, HTML gets
every text escaped (no script, no style, no link of the export's own can run or load), and
control characters are spelled out in both, so a terminal that shows the file obeys none.
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

import orjson

from agent_tui.format.persistence import WorkspaceFileError, atomic_write_bytes, dumps
from agent_tui.redaction import Redactor
from agent_tui.units import printable
from agent_tui.workspace.documents import load_config
from agent_tui.workspace.folder import read_agent
from agent_tui.workspace.runs import read_runs

# typing costs 3 ms of start-up and is needed only by type checkers here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

__all__ = ["FORMATS", "export_agent", "export_document", "render", "write_export"]

FORMATS = ("md", "html", "json")


def export_document(folder: os.PathLike[str] | str, *, upto_step: int | None = None) -> dict:
    """``{"agent", "upto_step", "runs", "problems"}`` for the agent folder ``folder``: the
    agent's name, id, folder, format, status and model; each run as
    :meth:`agent_tui.workspace.runs.Run.to_dict` gives it, with its ``messages``; what could
    not be read. Masked. Raises :class:`~agent_tui.workspace.WorkspaceLookupError` for a
    step the journal does not hold (naming the last one)."""
    folder = Path(folder)
    record = read_agent(folder)
    found = read_runs(folder, record=record, messages=True, upto_step=upto_step)
    try:
        config: dict[str, Any] = load_config(folder)
    except WorkspaceFileError:
        config = {}
    document = {
        "agent": {
            "name": record.name,
            "id": record.agent_id,
            "folder": str(folder),
            "format": str(record.format),
            "status": str(record.status),
            "model": record.model,
        },
        "upto_step": upto_step,
        "runs": [run.to_dict(messages=True) for run in found.runs],
        "problems": [*record.problems, *found.problems],
    }
    # A swarms config keeps its keys in plain text: the redactor learns them first.
    redactor = Redactor()
    redactor.learn(config)
    masked: dict[str, Any] = redactor.redact(document)
    return masked


def render(document: dict[str, Any], fmt: str) -> bytes:
    """The export ``document`` (:func:`export_document`) in ``fmt``, one of :data:`FORMATS`."""
    renderers: dict[str, Callable[[dict[str, Any]], str]] = {
        "md": render_markdown,
        "html": render_html,
    }
    if fmt == "json":
        return dumps(document) + b"\n"
    if fmt not in renderers:
        raise ValueError(f"unknown export format {fmt!r}: one of {', '.join(FORMATS)}")
    return renderers[fmt](document).encode("utf-8", "backslashreplace")


def export_agent(
    folder: os.PathLike[str] | str, fmt: str = "md", *, upto_step: int | None = None
) -> bytes:
    """The runs of the agent in ``folder`` as ``fmt`` (see :func:`export_document`)."""
    return render(export_document(folder, upto_step=upto_step), fmt)


def write_export(path: os.PathLike[str] | str, data: bytes) -> None:
    """Replace the file ``path`` with ``data`` atomically (a temp file beside it, fsync,
    rename). A ``path`` that is a link, a FIFO, a device or a folder is refused
    (:class:`~agent_tui.format.persistence.UnsafePathError`), never written through or
    replaced; the folder it is in may be reached through links (it is the user's choice)."""
    target = Path(path)
    if target.name in ("", ".", ".."):
        from agent_tui.format.persistence import UnsafePathError

        raise UnsafePathError(target, "is a folder, not a regular file")
    atomic_write_bytes(target.parent.resolve() / target.name, data)


# ------------------------------------------------------------------------------ shared
def _line(text: object) -> str:
    """One line of printable text (a heading, a list item)."""
    return printable(" ".join(str(text).split())) if text not in (None, "") else "-"


def _steps(run: dict[str, Any]) -> str:
    first, last, count = run["first_step"], run["last_step"], run["steps"]
    if first is None:
        return f"{count} (none numbered)" if count else "none"
    span = str(first) if first == last else f"{first}-{last}"
    return f"{span} ({count} step{'' if count == 1 else 's'})"


def _usage(run: dict[str, Any]) -> str:
    tokens = run["tokens"]
    if tokens["total"] is None:
        text = "not recorded"
    else:
        text = f"{tokens['total']:,} ({tokens['prompt']:,} prompt, {tokens['completion']:,} completion)"
    cost = run["cost"]
    return text + (f"; cost ${cost:.4f}" if isinstance(cost, int | float) else "")


def _run_fields(run: dict[str, Any]) -> list[tuple[str, str]]:
    fields = [
        ("run id", run["run_id"] or "-"),
        ("started", run["started"] or "-"),
        ("ended", run["ended"] or "-"),
        ("status", run["status"]),
        ("steps", _steps(run)),
        ("tokens", _usage(run)),
    ]
    if run["error"]:
        fields.append(("error", run["error"]))
    return fields


def _agent_fields(agent: dict[str, Any], upto_step: int | None) -> list[tuple[str, str]]:
    fields = [(key, agent[key] or "-") for key in ("folder", "format", "status", "model", "id")]
    if upto_step is not None:
        fields.append(("up to step", str(upto_step)))
    return fields


def _label(message: dict[str, Any]) -> str:
    """``assistant``, ``tool lookup``, ``user``, with `` (step N)`` when numbered."""
    label = str(message.get("role") or "unknown")
    if message.get("name"):
        label += f" {message['name']}"
    step = message.get("step")
    if isinstance(step, int) and not isinstance(step, bool):
        label += f" (step {step})"
    return label


def _calls(message: dict[str, Any]) -> list[tuple[str, str, str]]:
    """``(name, id, arguments)`` of each tool call, the arguments indented when JSON."""
    calls = []
    for call in message.get("tool_calls") or []:
        if not isinstance(call, dict):
            continue
        function = call.get("function")
        if not isinstance(function, dict):
            function = {}
        arguments = function.get("arguments")
        calls.append(
            (str(function.get("name") or "-"), str(call.get("id") or "-"), _pretty(arguments))
        )
    return calls


def _pretty(arguments: object) -> str:
    if isinstance(arguments, str):
        try:
            return dumps(orjson.loads(arguments)).decode("utf-8", "replace")
        except orjson.JSONDecodeError:
            return arguments
    return dumps(arguments).decode("utf-8", "replace")


# ---------------------------------------------------------------------------- Markdown
_MD_HTML = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def _md(text: object) -> str:
    """One line of text for Markdown prose: printable, its HTML characters escaped (so a
    ``<script>`` in a message is text, not markup, in any renderer)."""
    return _line(text).translate(_MD_HTML)


def _md_quote(text: str) -> str:
    """A message's text as a block quote: its own Markdown renders, but a fence or a heading
    it opens ends with the quote, and its HTML characters are escaped."""
    lines = printable(text).translate(_MD_HTML).splitlines() or [""]
    return "\n".join(f"> {line}".rstrip() for line in lines)


def _md_fence(text: str, info: str = "") -> str:
    """``text`` as a fenced code block: a fence longer than any run of backticks inside."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{printable(text)}\n{fence}"


def render_markdown(document: dict[str, Any]) -> str:
    """The export as Markdown: a heading per run, its fields, then each message."""
    agent = document["agent"]
    out = [f"# {_md(agent['name'])}", ""]
    out += [f"- {key}: {_md(value)}" for key, value in _agent_fields(agent, document["upto_step"])]
    out += [f"- problem: {_md(problem)}" for problem in document["problems"]]
    if not document["runs"]:
        out += ["", "No runs recorded."]
    for number, run in enumerate(document["runs"], start=1):
        out += ["", f"## Run {number}: {_md(run['task'])}", ""]
        out += [f"- {key}: {_md(value)}" for key, value in _run_fields(run)]
        for message in run["messages"]:
            out += ["", f"### {_md(_label(message))}", ""]
            content = message.get("content") or ""
            if message.get("role") == "tool":
                out.append(_md_fence(content, "text"))
            elif content:
                out.append(_md_quote(content))
            for name, call_id, arguments in _calls(message):
                out += [
                    "",
                    f"Tool call {_md(name)} ({_md(call_id)}):",
                    "",
                    _md_fence(arguments, "json"),
                ]
    return "\n".join(out) + "\n"


# -------------------------------------------------------------------------------- HTML
_STYLE = """
body { font: 15px/1.5 system-ui, sans-serif; max-width: 60em; margin: 2em auto; padding: 0 1em;
  color: #1d1d1f; background: #fff; }
h1 { font-size: 1.6em; } h2 { font-size: 1.3em; border-top: 1px solid #ccc; padding-top: 1em; }
h3 { font-size: 1em; margin: 1.2em 0 0.3em; color: #555; }
dl { display: grid; grid-template-columns: max-content auto; gap: 0.1em 1em; }
dt { font-weight: 600; } dd { margin: 0; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f5f5f7; padding: 0.6em;
  border-radius: 4px; margin: 0.3em 0; }
.role-user pre.content { background: #eef4ff; } .role-tool pre { background: #f0f7ee; }
.call { margin-left: 1em; }
"""
# Nothing the page holds may run or load: only its own inline style is allowed.
_POLICY = "default-src 'none'; style-src 'unsafe-inline'"


def _h(text: object) -> str:
    """Text for HTML: printable and escaped, quotes too (it may sit in an attribute)."""
    return html.escape(printable(str(text)), quote=True)


def _dl(fields: list[tuple[str, str]]) -> str:
    items = "".join(f"<dt>{_h(key)}</dt><dd>{_h(value)}</dd>" for key, value in fields)
    return f"<dl>{items}</dl>"


def render_html(document: dict[str, Any]) -> str:
    """The export as one self-contained HTML page, every text escaped."""
    agent = document["agent"]
    name = _h(_line(agent["name"]))
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_POLICY}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{name} - agent-tui export</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{name}</h1>",
        _dl(_agent_fields(agent, document["upto_step"])),
    ]
    out += [f'<p class="problem">problem: {_h(problem)}</p>' for problem in document["problems"]]
    if not document["runs"]:
        out.append("<p>No runs recorded.</p>")
    for number, run in enumerate(document["runs"], start=1):
        out += ['<section class="run">', f"<h2>Run {number}: {_h(_line(run['task']))}</h2>"]
        out.append(_dl(_run_fields(run)))
        for message in run["messages"]:
            role = _h(message.get("role") or "unknown")
            out += [f'<article class="message role-{role}">', f"<h3>{_h(_label(message))}</h3>"]
            if message.get("content"):
                out.append(f'<pre class="content">{_h(message["content"])}</pre>')
            for call_name, call_id, arguments in _calls(message):
                out.append(
                    f'<div class="call"><p>tool call <code>{_h(call_name)}</code> '
                    f"({_h(call_id)})</p><pre>{_h(arguments)}</pre></div>"
                )
            out.append("</article>")
        out.append("</section>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
