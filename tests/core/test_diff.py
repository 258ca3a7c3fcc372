"""Structural diff: paths, appended messages, noise, text and JSON output."""

from __future__ import annotations

import io
import json
from pathlib import Path

from workspace_fixtures import write_ours

from agent_tui import workspace as ws
from agent_tui.diff import diff, render_text, summary, to_json, use_color


def _kinds(changes) -> list[tuple[str, str]]:
    return [(c.kind, c.path) for c in changes]


def test_equal_documents() -> None:
    document = {"a": [1, {"b": None}], "c": "x"}
    assert diff(document, json.loads(json.dumps(document))) == []
    assert render_text([]) == "no differences\n"


def test_added_removed_changed_by_path() -> None:
    old = {"_autosave_metadata": {"loop_count": 2, "status": "running"}, "gone": 1}
    new = {"_autosave_metadata": {"loop_count": 3, "status": "running"}, "fresh": [1]}
    changes = diff(old, new)
    assert _kinds(changes) == [
        ("changed", "_autosave_metadata.loop_count"),
        ("removed", "gone"),
        ("added", "fresh"),
    ]
    assert (changes[0].old, changes[0].new) == (2, 3)
    assert changes[1].to_dict() == {"kind": "removed", "path": "gone", "old": 1}


def test_appended_messages_are_not_a_rewritten_list() -> None:
    base = [{"role": "system", "content": "s"}, {"role": "user", "content": "task"}]
    grown = base + [
        {"role": "assistant", "content": "one"},
        {"role": "assistant", "content": "two"},
    ]
    changes = diff({"conversation": base}, {"conversation": grown})
    assert _kinds(changes) == [("appended", "conversation[2]"), ("appended", "conversation[3]")]
    assert changes[1].new == {"role": "assistant", "content": "two"}
    back = diff({"conversation": grown}, {"conversation": base})
    assert _kinds(back) == [("removed", "conversation[2]"), ("removed", "conversation[3]")]


def test_edited_message_shows_the_field() -> None:
    old = [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]
    new = [{"role": "user", "content": "a"}, {"role": "assistant", "content": "B"}]
    changes = diff({"conversation": old}, {"conversation": new})
    assert _kinds(changes) == [("changed", "conversation[1].content")]


def test_inserted_message_in_the_middle() -> None:
    msgs = [{"role": "user", "content": str(n)} for n in range(5)]
    inserted = msgs[:2] + [{"role": "tool", "content": "42"}] + msgs[2:]
    assert _kinds(diff(msgs, inserted)) == [("added", "[2]")]
    assert _kinds(diff(inserted, msgs)) == [("removed", "[2]")]


def test_odd_keys_are_quoted() -> None:
    changes = diff({"tools": [{"odd key": 1}]}, {"tools": [{"odd key": 2}]})
    assert changes[0].path == 'tools[0]["odd key"]'


def test_type_change_is_a_change() -> None:
    assert _kinds(diff({"x": 1}, {"x": True})) == [("changed", "x")]
    assert _kinds(diff({"x": [1]}, {"x": {"0": 1}})) == [("changed", "x")]


def test_noise_ignored_only_when_asked() -> None:
    old = {"_autosave_metadata": {"timestamp": "t1", "loop_count": 1}, "m": [{"ts": "a", "c": 1}]}
    new = {"_autosave_metadata": {"timestamp": "t2", "loop_count": 1}, "m": [{"ts": "b", "c": 1}]}
    assert _kinds(diff(old, new)) == [
        ("changed", "_autosave_metadata.timestamp"),
        ("changed", "m[0].ts"),
    ]
    assert diff(old, new, ignore_noise=True) == []
    grown = {**new, "m": new["m"] + [{"ts": "c", "c": 2}]}
    assert _kinds(diff(old, grown, ignore_noise=True)) == [("appended", "m[1]")]


def test_text_rendering_plain_and_coloured() -> None:
    changes = diff(
        {"loop_count": 1, "conversation": [{"role": "user", "content": "hi"}]},
        {
            "loop_count": 2,
            "conversation": [
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": "line one\nline two"},
            ],
        },
    )
    text = render_text(changes)
    assert text.splitlines() == [
        "~ loop_count: 1 -> 2",
        "+ conversation[1] (appended): assistant: line one\\nline two",
        "1 appended, 1 changed",
    ]
    assert "\x1b[" not in text
    coloured = render_text(changes, color=True)
    assert "\x1b[33m~ loop_count: 1 -> 2\x1b[0m" in coloured
    assert "\x1b[32m+ conversation[1]" in coloured


def test_long_values_are_cut() -> None:
    text = render_text(diff({"a": "x"}, {"a": "y" * 500}), width=40)
    assert len(text.splitlines()[0]) < 60
    assert text.splitlines()[0].endswith("…")


def test_json_output() -> None:
    changes = diff({"a": 1, "b": [1]}, {"a": 2, "b": [1, 2]})
    document = json.loads(to_json(changes))
    assert document == {
        "summary": summary(changes),
        "changes": [
            {"kind": "changed", "path": "a", "old": 1, "new": 2},
            {"kind": "appended", "path": "b[1]", "new": 2},
        ],
    }


def test_use_color(monkeypatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_color(Tty()) is True
    assert use_color(io.StringIO()) is False
    assert use_color(io.StringIO(), force=True) is True
    monkeypatch.setenv("NO_COLOR", "1")
    assert use_color(Tty()) is False


def test_step_documents_diff_as_appended(workspace: Path) -> None:
    folder = write_ours(workspace, "stepper", loop_count=3)
    history = ws.step_history(folder)
    changes = diff(history.document(1), history.document(3))
    assert _kinds(changes) == [
        ("changed", "loop_count"),
        ("appended", "conversation[3]"),
        ("appended", "conversation[4]"),
        ("added", "memory.notes"),
    ]
    assert changes[2].new["content"] == "step 3 answer"


def test_items_whose_json_is_the_same_are_still_compared() -> None:
    # JSON has no inf or nan: orjson writes them as null, so a list's item keys collide.
    changes = diff([None, None, False], [None, float("inf"), False])
    assert [(c.kind, c.path, c.old, c.new) for c in changes] == [
        ("changed", "[1]", None, float("inf"))
    ]
    same = [1, float("nan")]
    assert diff(same, same) == []
