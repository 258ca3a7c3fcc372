"""AgentDetail: one typed reading of an agent for the views, ours and swarms' alike, holding a
window of the conversation; a refresh after an autosave reads only what was appended."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from long_agent import SECRET, append_step, count_parses, long_agent
from workspace_fixtures import write_ours, write_swarms

from agent_tui.format.layout import CONFIG_NAME
from agent_tui.redaction import REDACTED, Redactor
from agent_tui.workspace import AgentDetail, DetailCache, load_conversation, load_detail
from agent_tui.workspace import detail as detail_module


def test_the_window_holds_the_last_messages_the_total_and_where_it_starts(tmp_path: Path) -> None:
    folder = long_agent(tmp_path)
    whole = load_conversation(folder)
    detail = load_detail(folder, window=10)
    window = detail.conversation
    assert window.total == len(whole) and window.first == len(whole) - 10
    assert window.messages == whole[-10:]
    assert load_detail(folder, window=1000).conversation.messages == whole
    assert load_detail(folder, window=0).conversation.total == 0  # settings only


def test_an_autosave_is_read_from_the_journal_without_parsing_the_state_file_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = long_agent(tmp_path)
    parsed = count_parses(monkeypatch)
    cache = DetailCache()
    before = load_detail(folder, window=5, cache=cache)
    append_step(folder, "the newest answer")
    after = load_detail(folder, window=5, cache=cache)
    state_name = next(folder.glob("*_state.json")).name
    assert parsed.count(state_name) == 1
    assert parsed.count(CONFIG_NAME) == 2  # rewritten by the autosave: read again
    assert after.conversation.total == before.conversation.total + 1
    assert after.conversation.messages[-1]["content"] == "the newest answer"
    assert after.conversation.messages == load_conversation(folder)[-5:]


def test_a_secret_anywhere_in_the_documents_is_masked_in_the_window(tmp_path: Path) -> None:
    folder = long_agent(tmp_path)
    append_step(folder, f"I used the key {SECRET} as told")  # the key, without its field name
    shown = load_detail(
        folder, window=3, cache=DetailCache(), redactor=Redactor(use_environment=False)
    )
    text = repr(dataclasses.asdict(shown))
    assert SECRET not in text
    assert f"I used the key {REDACTED} as told" in text


def test_ours_and_swarms_carry_the_same_fields(tmp_path: Path) -> None:
    ours = load_detail(write_ours(tmp_path, "alpha", loop_count=2))
    swarms = load_detail(write_swarms(tmp_path))
    for detail in (ours, swarms):
        assert isinstance(detail, AgentDetail)
        assert detail.name and detail.status and detail.settings is not None
        assert detail.conversation.total == len(detail.conversation.messages) > 0
        assert {"role", "content"} <= set(detail.conversation.messages[0])
        assert isinstance(detail.memory, dict) and isinstance(detail.usage, dict)
    assert ours.format != swarms.format
    assert set(ours.usage) == {"prompt_tokens", "completion_tokens", "cost"}
    # Swarms roles are ours once normalized: the views never see "Human" or "System".
    roles = {m["role"] for m in swarms.conversation.messages}
    assert roles <= {"system", "user", "assistant", "tool"}


def test_a_cached_long_conversation_holds_only_its_tail_and_counts_right(tmp_path: Path) -> None:
    """The cache keeps the last messages of a long run, not all of them (every object kept
    alive is walked by each garbage collection on the UI's time); totals stay exact, and a
    wider window than was held reads the files again."""
    steps = 3 * detail_module.DEFAULT_WINDOW
    folder = long_agent(tmp_path, steps=steps)
    whole = load_conversation(folder)
    cache = DetailCache()
    detail = load_detail(folder, window=10, cache=cache)
    (held,) = cache._conversations.values()
    assert len(held.replay.conversation) <= 2 * detail_module.DEFAULT_WINDOW
    assert held.dropped + len(held.replay.conversation) == len(whole)
    assert (detail.conversation.total, detail.conversation.first) == (len(whole), len(whole) - 10)
    for n in range(3 * detail_module.DEFAULT_WINDOW):  # autosaves of a run going on
        append_step(folder, f"later {n}")
    detail = load_detail(folder, window=10, cache=cache)
    assert len(held.replay.conversation) <= 2 * detail_module.DEFAULT_WINDOW
    assert detail.conversation.messages == load_conversation(folder)[-10:]
    assert detail.conversation.total == len(load_conversation(folder))
    wide = load_detail(folder, window=len(whole), cache=cache)
    assert wide.conversation.messages == load_conversation(folder)[-len(whole) :]
