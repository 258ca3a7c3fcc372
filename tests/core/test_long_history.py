"""Long histories read from their end: the state file outlined (its long arrays counted by
their lines, only their last items parsed), the journal read backwards, the rest swept for
secrets. Every reading is compared with a whole one (documents.py: the state file parsed,
every journal record replayed) at odd sizes and on what crashes and resumes leave."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import orjson
import pytest
from long_agent import count_parses, odd_agent, odd_message
from workspace_fixtures import write_swarms

from agent_tui.format import journal as journal_module
from agent_tui.format import replay
from agent_tui.format.journal import parse_records, read_tail
from agent_tui.format.layout import CONFIG_NAME, JOURNAL_NAME
from agent_tui.format.outline import NotOutlined, outline
from agent_tui.format.persistence import WorkspaceFileError, atomic_write_json, read_json_object
from agent_tui.redaction import REDACTED, Redactor
from agent_tui.workspace import detail as detail_module
from agent_tui.workspace import load_conversation, read_agent, step_history
from agent_tui.workspace.detail import DetailCache, load_detail, sweep_secrets
from agent_tui.workspace.documents import journal_records, replay_state
from agent_tui.workspace.sweep import sweep


@pytest.fixture
def tail_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small files read as long ones are: outlined, the journal in chunks of a few bytes."""
    monkeypatch.setattr(detail_module, "OUTLINE_BYTES", 0)
    monkeypatch.setattr(journal_module, "TAIL_CHUNK", 7)
    monkeypatch.setattr(journal_module, "TAIL_CHUNK_MAX", 64)


def whole_reading(folder: Path) -> replay.Replay:
    """What a reader that reads everything rebuilds: the state file parsed, every journal
    record after it replayed."""
    record = read_agent(folder)
    state = read_json_object(record.state_file) if record.state_file else None
    return replay_state(record, state, journal_records(folder)[0])


CASES = {
    # name: odd_agent's arguments
    "one step": {"steps": 1},
    "all folded": {"steps": 33},
    "killed after its last save": {"steps": 40, "folded": 11},
    "state newer than its journal": {"steps": 25, "journaled": 9},
    "restarted, then saved": {"steps": 30, "restart_at": 17},
    "restarted since its last save": {"steps": 30, "folded": 5, "restart_at": 21},
    "restarted just before the window": {"steps": 30, "folded": 2, "restart_at": 28},
    "torn last line": {"steps": 20, "folded": 13, "torn": True},
}


@pytest.mark.usefixtures("tail_reads")
@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("window", [1, 5, 30, 1000])
def test_a_window_read_from_the_end_is_that_window_of_a_whole_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str, window: int
) -> None:
    folder = odd_agent(tmp_path, **CASES[case])
    whole = load_conversation(folder)
    expected = whole_reading(folder)
    parsed = count_parses(monkeypatch)
    detail = load_detail(folder, window, cache=DetailCache(), redactor=Redactor())
    shown = detail.conversation
    assert shown.messages == whole[-window:]
    assert (shown.total, shown.first) == (len(whole), max(0, len(whole) - window))
    assert (detail.task, detail.memory, detail.usage) == (
        expected.task,
        expected.memory,
        expected.usage,
    )
    assert not [p for p in detail.problems if "cut short" not in p]
    state_name = read_agent(folder).state_file.name
    assert state_name not in parsed  # outlined, not parsed whole


@pytest.mark.usefixtures("tail_reads")
def test_earlier_messages_and_autosaves_after_a_read_from_the_end(tmp_path: Path) -> None:
    """A wider window (scrolling up) and the records an autosave appends read right too."""
    folder = odd_agent(tmp_path, 40, folded=12)
    cache = DetailCache()
    assert (
        load_detail(folder, 5, cache=cache).conversation.messages == load_conversation(folder)[-5:]
    )
    wide = load_detail(folder, 70, cache=cache).conversation
    assert wide.messages == load_conversation(folder)[-70:]
    with open(folder / JOURNAL_NAME, "ab") as journal:  # what a running agent appends
        record = {"seq": 42, "kind": "step", "loop_count": 41, "messages": [odd_message(41)]}
        journal.write(orjson.dumps(record) + b"\n")
    after = load_detail(folder, 70, cache=cache).conversation
    assert after.messages == load_conversation(folder)[-70:]
    assert after.total == wide.total + 1


def test_a_layout_that_cannot_be_outlined_is_parsed_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A state file written by another writer (compact, or its conversation on one line)
    reads the same, parsed whole."""
    monkeypatch.setattr(detail_module, "OUTLINE_BYTES", 0)
    folder = odd_agent(tmp_path, 12)
    state_path = read_agent(folder).state_file
    state = read_json_object(state_path)
    marked = orjson.dumps({**state, "conversation": "here"}, option=orjson.OPT_INDENT_2)
    for data in (
        orjson.dumps(state),
        marked.replace(b'"here"', orjson.dumps(state["conversation"])),
    ):
        state_path.write_bytes(data)
        parsed = count_parses(monkeypatch)
        detail = load_detail(folder, 4, cache=DetailCache())
        assert detail.conversation.messages == load_conversation(folder)[-4:]
        assert detail.conversation.total == len(load_conversation(folder))
        assert parsed.count(state_path.name) == 1


def random_value(rng: random.Random, depth: int = 0) -> object:
    if depth > 3 or rng.random() < 0.35:
        return rng.choice([0, -1.5, "x\n  ]", 'é 😀 "q" \\', None, True, "", "    {", "\t"])
    if rng.random() < 0.5:
        return {f"k{n}\n": random_value(rng, depth + 1) for n in range(rng.randint(0, 3))}
    return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]


def test_an_outline_is_what_a_whole_parse_gives() -> None:
    """Random documents, indented by orjson and by json (2, 4, a tab; ASCII-escaped or
    not): the members, each long array's length and last items, the order of the keys."""
    rng = random.Random(13)
    for _ in range(600):
        document = {
            "a": random_value(rng),
            "conversation": [random_value(rng) for _ in range(rng.randint(0, 25))],
        }
        document["tool_results"] = [random_value(rng) for _ in range(rng.randint(0, 4))]
        document["z"] = random_value(rng)
        indent = rng.choice([None, 2, 4, "\t"])
        if indent is None:
            data = orjson.dumps(document, option=orjson.OPT_INDENT_2)
        else:
            data = json.dumps(document, indent=indent, ensure_ascii=rng.random() < 0.5).encode()
        keep = rng.randint(0, 30)
        shape = outline(data, {"conversation": keep, "tool_results": 0})
        whole = orjson.loads(data)
        assert shape.order == list(whole)
        assert shape.members == {k: v for k, v in whole.items() if k not in shape.arrays}
        for key, array in shape.arrays.items():
            wanted = keep if key == "conversation" else 0
            assert array.total == len(whole[key])
            assert array.items == (whole[key][-wanted:] if wanted else [])


@pytest.mark.parametrize(
    "data",
    [
        b'{"conversation": [1, 2]}',  # not indented
        b'{\n  "conversation": [\n    1,\n    2]\n}',  # the array does not close on a line
        b'{\n  "conversation": [1,\n    2\n  ]\n}',  # an item on the opening line
        b'{\n  "conversation": [\n    1\n  ],\n  "conversation": [\n    2\n  ]\n}',
        b'{\n  "conversation": [\n    1\n  ]\n} trailing',
        b'{\n  "conversation": [\n    1\n  ] 2,\n  "a": 1\n}',  # junk after the array
        b'{\n  "conversation": [\n    [\n  ]\n    ]\n  ]\n}',  # a line lies about nesting
    ],
)
def test_a_document_laid_out_otherwise_is_not_outlined(data: bytes) -> None:
    with pytest.raises(NotOutlined):
        outline(data, {"conversation": 5})


def test_a_journal_read_backwards_gives_the_records_after_a_seq() -> None:
    """Random journals (bad lines, blank lines, non-objects, a torn end), read backwards in
    chunks of a few bytes: the records after the last one at or before a seq, and, when
    the whole journal was read, the problems a whole read reports."""
    rng = random.Random(5)
    for trial in range(400):
        journal_module_chunk = rng.choice([1, 7, 64, 1 << 16])
        lines = []
        for seq in range(1, rng.randint(0, 25) + 1):
            kind = rng.random()
            if kind < 0.05:
                lines.append(b"{bad json")
            elif kind < 0.08:
                lines.append(b"[1, 2]")
            elif kind < 0.1:
                lines.append(b"")
            else:
                lines.append(orjson.dumps({"seq": seq, "m": "x" * rng.randint(0, 90) + "é\n"}))
        data = b"".join(line + b"\n" for line in lines)
        if rng.random() < 0.3:
            data += b'{"seq": 99, "to'
        base = rng.randint(0, 27)
        whole = data[: data.rfind(b"\n") + 1]
        full = parse_records(whole, "j")
        at_or_before = [n for n, r in enumerate(full.records) if r["seq"] <= base]
        expected = full.records[at_or_before[-1] + 1 :] if at_or_before else full.records
        path = Path(f"/tmp/journal-{os.getpid()}-{trial}.jsonl")
        path.write_bytes(data)
        fd = os.open(path, os.O_RDONLY)
        try:
            saved = journal_module.TAIL_CHUNK, journal_module.TAIL_CHUNK_MAX
            journal_module.TAIL_CHUNK = journal_module_chunk
            journal_module.TAIL_CHUNK_MAX = journal_module_chunk * 4
            tail = read_tail(fd, len(data), "j", lambda r, base=base: r.get("seq", 0) <= base)
        finally:
            journal_module.TAIL_CHUNK, journal_module.TAIL_CHUNK_MAX = saved
            os.close(fd)
            path.unlink()
        assert tail.records == expected, (data, base)
        assert tail.end == len(whole)
        if not at_or_before:
            assert tail.problems == full.problems


KEYS = ["api_key", "API-KEY", "x-custom-auth", "Authorization", "password", "my token",
        "cookie", "api_\u212aey", "stop_token", "author", "content", "key", "passphrase"]  # fmt: skip
VALUES = ["s3cr3t-%d", "https://bob:hunter%d@host/x", "plain %d", "true", "ab", "é %d ü"]


def secretive_value(rng: random.Random, depth: int = 0) -> object:
    if depth > 3 or rng.random() < 0.5:
        value = rng.choice(VALUES)
        return value % rng.randint(0, 999) if "%d" in value else value
    if rng.random() < 0.8:
        return {rng.choice(KEYS): secretive_value(rng, depth + 1) for _ in range(rng.randint(0, 3))}
    return [secretive_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]


def test_a_sweep_of_the_bytes_learns_what_a_parse_and_learn_would() -> None:
    """Secret-named keys in any case, a Kelvin sign for a k, characters escaped as \\u or
    \\/ (as a hostile writer may), URL credentials: the same secrets, found from the bytes."""
    rng = random.Random(11)
    for _ in range(800):
        document = {"conversation": [secretive_value(rng) for _ in range(rng.randint(0, 6))]}
        text = json.dumps(document, ensure_ascii=rng.random() < 0.5, indent=rng.choice([None, 2]))
        if rng.random() < 0.3:
            text = text.replace("/", "\\/").replace("k", "\\u006b")
        data = text.encode()
        parsed, swept = Redactor(use_environment=False), Redactor(use_environment=False)
        parsed.learn(orjson.loads(data))
        sweep(data, 0, len(data), swept)
        for value in VALUES + [f"s3cr3t-{n}" for n in range(1000)][:50]:
            assert swept.redact_text(value) == parsed.redact_text(value)
        learned = {
            s for s in (f"s3cr3t-{n}" for n in range(1000)) if REDACTED in parsed.redact_text(s)
        }
        assert all(REDACTED in swept.redact_text(s) for s in learned)


@pytest.mark.usefixtures("tail_reads")
def test_a_secret_far_back_is_masked_once_the_rest_is_swept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The window of a long run read from its end is masked with what was read; the value
    under a secret-named key far back, quoted in the last message, is masked once the rest is
    swept (at once when the caller does not defer it)."""
    monkeypatch.setattr(detail_module, "SWEEP_NOW_BYTES", 0)
    secret = "qq-far-back-Lm0Tw7Yx3"
    folder = odd_agent(tmp_path, 2 * detail_module.DEFAULT_WINDOW)  # past what a read holds
    state_path = read_agent(folder).state_file
    state = read_json_object(state_path)
    state["conversation"][1]["api_key"] = secret
    state["conversation"][-1]["content"] = f"the key was {secret}"
    atomic_write_json(state_path, state)
    redactor, cache = Redactor(use_environment=False), DetailCache()
    first = load_detail(folder, 3, cache=cache, redactor=redactor, defer_sweep=True)
    assert secret in first.conversation.messages[-1]["content"]  # not learned yet
    assert sweep_secrets(folder, cache=cache, redactor=redactor)  # read again, please
    again = load_detail(folder, 3, cache=cache, redactor=redactor, defer_sweep=True)
    assert again.conversation.messages[-1]["content"] == f"the key was {REDACTED}"
    assert not sweep_secrets(folder, cache=cache, redactor=redactor)
    at_once = load_detail(folder, 3, cache=DetailCache(), redactor=Redactor(use_environment=False))
    assert at_once.conversation.messages[-1]["content"] == f"the key was {REDACTED}"


@pytest.mark.usefixtures("tail_reads")
def test_a_long_swarms_config_shows_its_last_messages_and_settings(tmp_path: Path) -> None:
    """swarms keep the conversation in config.json: the State tab's window and total come
    from its end; the settings shown hold the last few messages after a line saying how many
    came before, and every other key as it is, in the file's order."""
    folder = write_swarms(tmp_path)
    config = read_json_object(folder / CONFIG_NAME)
    config["short_memory"] = [
        {"role": "Human" if n % 2 else "Financial-Analysis-Agent", "content": f"turn {n}\n»"}
        for n in range(detail_module.LONG_LIST + 50)
    ]
    atomic_write_json(folder / CONFIG_NAME, config)
    whole = load_conversation(folder)
    detail = load_detail(folder, 7, cache=DetailCache())
    assert detail.conversation.messages == whole[-7:]
    assert detail.conversation.total == len(whole)
    settings = load_detail(folder, 0, cache=DetailCache()).settings
    assert settings is not None and list(settings) == list(config)
    shown = settings["short_memory"]
    assert shown[0].startswith(f"... {len(whole) - detail_module.SHOWN_ITEMS:,} earlier items")
    assert shown[1:] == config["short_memory"][-detail_module.SHOWN_ITEMS :]
    assert {k: v for k, v in settings.items() if k != "short_memory"} == {
        k: v for k, v in config.items() if k != "short_memory"
    }


@pytest.mark.usefixtures("tail_reads")
def test_a_secret_in_a_journal_line_not_read_is_learned_though_the_journal_grew(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The journal's lines before the state file's last record are not read; their secrets
    are swept, also when the running agent appended to the journal in between."""
    monkeypatch.setattr(detail_module, "SWEEP_NOW_BYTES", 0)
    secret = "qq-in-the-journal-4Rt8Vw"
    folder = odd_agent(tmp_path, 40)
    path = folder / JOURNAL_NAME
    lines = path.read_bytes().splitlines(keepends=True)
    record = orjson.loads(lines[3])
    record["messages"][0]["password"] = secret
    lines[3] = orjson.dumps(record) + b"\n"
    path.write_bytes(b"".join(lines))
    state_path = read_agent(folder).state_file
    state = read_json_object(state_path)
    state["conversation"][-1]["content"] = f"it was {secret}"
    atomic_write_json(state_path, state)
    redactor, cache = Redactor(use_environment=False), DetailCache()
    first = load_detail(folder, 2, cache=cache, redactor=redactor, defer_sweep=True)
    assert first.conversation.messages[-1]["content"] == f"it was {secret}"
    with open(path, "ab") as journal:  # an autosave lands before the sweep
        journal.write(orjson.dumps({"seq": 99, "kind": "step", "loop_count": 41}) + b"\n")
    assert sweep_secrets(folder, cache=cache, redactor=redactor)
    again = load_detail(folder, 2, cache=cache, redactor=redactor, defer_sweep=True)
    assert again.conversation.messages[-1]["content"] == f"it was {REDACTED}"


def test_a_history_read_on_from_where_it_stopped_is_a_whole_read(tmp_path: Path) -> None:
    """A running agent's journal grows: the history read on from the last one (its new
    records only) has the steps and documents of a history read whole."""
    folder = odd_agent(tmp_path, 30)
    before = step_history(folder)
    with open(folder / JOURNAL_NAME, "ab") as journal:
        for n in (31, 32):
            record = {"seq": n + 1, "kind": "step", "loop_count": n, "messages": [odd_message(n)]}
            journal.write(orjson.dumps(record) + b"\n")
        journal.write(b'{"seq": 40, "kind": "st')  # the next line, still being written
    grown = step_history(folder, since=before)
    whole = step_history(folder)
    assert grown.loop_counts == whole.loop_counts == [*before.loop_counts, 31, 32]
    for step in (0, 17, 30, 32):
        assert grown.document(step) == whole.document(step)
    assert grown.problems == whole.problems and len(whole.problems) == 1
    assert before.loop_counts[-1] == 30  # the history read before is as it was
    with open(folder / JOURNAL_NAME, "ab") as journal:  # the line in flight, written
        journal.write(b'ep", "loop_count": 39, "messages": []}\n')
    again = step_history(folder, since=grown)
    assert again.loop_counts == [*whole.loop_counts, 39] and not again.problems


def test_a_journal_read_backwards_further_than_the_cap_is_too_large(tmp_path: Path) -> None:
    """No reader holds more than the cap: a tail that would need more says so, in the
    words of a whole read of as much."""
    path = tmp_path / JOURNAL_NAME
    path.write_bytes(
        b"".join(orjson.dumps({"seq": n, "pad": "x" * 50}) + b"\n" for n in range(100))
    )
    fd = os.open(path, os.O_RDONLY)
    try:
        near = read_tail(fd, path.stat().st_size, path, lambda r: r["seq"] <= 97, limit=500)
        assert [r["seq"] for r in near.records] == [98, 99]
        with pytest.raises(WorkspaceFileError, match="too large"):
            read_tail(fd, path.stat().st_size, path, lambda r: False, limit=500)
    finally:
        os.close(fd)
