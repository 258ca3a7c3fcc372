"""Full-text search (``agent_tui.search``, ``agent-tui search``): what real runs and swarms
folders said is found with its agent, step and role; the index never serves a stale file, a
hostile query or transcript, a secret, or a planted index file; results equal a brute-force
scan of the same corpus."""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest
from children import agent_tui
from hostile_corpus import LEAKED_KEY, build, outside_digest
from workspace_fixtures import write_ours, write_swarms

from agent_tui import Agent, cli
from agent_tui import search as search_module
from agent_tui.search import Hit, index_path, search
from agent_tui.settings import agents_dir
from agent_tui.workspace import load_conversation

# Shaped like no well-known token, so only knowing the value can catch it.
KEY = "tq-Zx81bLm0Qw7Yv3Nc5Rd2Kp9Hs"


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys are kept however recent their files (the default re-reads a folder changed in
    the last two seconds, which would hide a validation that does not work)."""
    monkeypatch.setattr(search_module, "RACY_NS", 0)


def index_files(root: Path) -> list[Path]:
    path = index_path(os.path.realpath(agents_dir(root)))
    assert path is not None
    return sorted(path.parent.glob(path.name + "*"))


def index_bytes(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in index_files(root))


def write_agent(root: Path, name: str, messages: list[str], *, when: float | None = None) -> Path:
    """A folder of ours with no state file: a task (system prompt and user message) then
    one step per further text, each an assistant message; all its times ``when``."""
    folder = root / "agents" / f"{name}-{hashlib.sha1(name.encode()).hexdigest()[:12]}"
    folder.mkdir(parents=True)
    meta = {"format": "agent-tui", "agent_name": name, "loop_count": len(messages) - 1}
    config = {"agent_name": name, "system_prompt": "sys", "_autosave_metadata": meta}
    (folder / "config.json").write_text(json.dumps(config))
    records = [
        {
            "seq": 1,
            "kind": "task",
            "loop_count": 0,
            "task": messages[0],
            "new_conversation": True,
            "messages": [
                {"role": "system", "content": "sys"},
                {"role": "user", "content": messages[0], "step": 0},
            ],
        }
    ]
    for step, text in enumerate(messages[1:], start=1):
        records.append(
            {
                "seq": step + 1,
                "kind": "step",
                "loop_count": step,
                "messages": [{"role": "assistant", "content": text, "step": step}],
            }
        )
    (folder / "journal.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    if when is not None:
        for path in (folder / "config.json", folder / "journal.jsonl", folder):
            os.utime(path, (when, when))
    return folder


# ------------------------------------------------------------------------ found, and where
def test_a_word_of_a_real_run_is_found_with_its_agent_step_and_role(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    Agent(
        model_name="offline/demo", agent_name="zebra-keeper", max_loops=2, workspace_dir=root
    ).run("Feed the okapi at noon")
    folder = next((root / "agents").iterdir())
    conversation = load_conversation(folder)

    # The offline model restates the task in its first step: found there too, newest first.
    answer, task = search(root, "OKAPI noon")
    assert task == Hit(folder, "zebra-keeper", 0, "user", "Feed the okapi at noon", 1)
    assert conversation[task.message_index]["content"] == "Feed the okapi at noon"
    assert (answer.role, answer.step, answer.message_index) == ("assistant", 1, 2)

    last = max(i for i, m in enumerate(conversation) if m["role"] == "assistant")
    word = max(re.findall(r"[A-Za-z]{6,}", conversation[last]["content"]), key=len)
    hits = search(root, word, limit=1000)
    assert all(word.lower() in h.snippet.lower() for h in hits)
    found = next(h for h in hits if h.message_index == last)
    step = conversation[last]["step"]
    assert (found.role, found.step, found.agent) == ("assistant", step, "zebra-keeper")


def test_a_swarms_transcript_is_searched(tmp_path: Path) -> None:
    folder = write_swarms(tmp_path, "Bond-Agent")
    write_ours(tmp_path, "alpha")
    hits = search(tmp_path, "bond")
    assert [(h.folder, h.agent, h.role, h.step) for h in hits] == [
        (folder, "Bond-Agent", "assistant", None),
        (folder, "Bond-Agent", "user", None),
    ]
    assert hits[0].snippet == "A bond is a loan to an issuer."
    assert [h.message_index for h in hits] == [2, 1]


def test_no_workspace_or_no_words_finds_nothing(tmp_path: Path) -> None:
    assert search(tmp_path / "none", "word") == []
    write_ours(tmp_path, "alpha")
    assert search(tmp_path, "  ") == [] and search(tmp_path, "answer", limit=0) == []


# ------------------------------------------------------------------------------ never stale
def test_a_rewritten_message_is_never_served_stale(tmp_path: Path, settled: None) -> None:
    folder = write_agent(tmp_path, "alpha", ["task", "the walrus sleeps"])
    assert [h.snippet for h in search(tmp_path, "walrus")] == ["the walrus sleeps"]
    journal = folder / "journal.jsonl"
    journal.write_text(journal.read_text().replace("the walrus sleeps", "a heron flies over"))
    assert search(tmp_path, "walrus") == []
    assert [h.snippet for h in search(tmp_path, "heron")] == ["a heron flies over"]


def test_a_rewrite_of_the_same_size_with_its_mtime_put_back_is_read_again(tmp_path: Path) -> None:
    # Same size, same inode, same mtime: its ctime, and the rule that a key this recent is
    # not kept, stand between this rewrite and a stale result.
    folder = write_agent(tmp_path, "alpha", ["task", "the walrus sleeps"])
    assert search(tmp_path, "walrus")
    journal = folder / "journal.jsonl"
    before = journal.stat()
    journal.write_text(journal.read_text().replace("walrus", "narwal"))
    os.utime(journal, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert search(tmp_path, "walrus") == []
    assert search(tmp_path, "narwal")


def test_a_grown_journal_removed_and_copied_folders(tmp_path: Path, settled: None) -> None:
    folder = write_agent(tmp_path, "alpha", ["task", "first answer"])
    other = write_agent(tmp_path, "beta", ["task", "beta answer"])
    assert len(search(tmp_path, "answer")) == 2
    with (folder / "journal.jsonl").open("a") as journal:
        step = {"role": "assistant", "content": "second answer, a grebe", "step": 2}
        record = {"seq": 3, "kind": "step", "loop_count": 2, "messages": [step]}
        journal.write(json.dumps(record) + "\n")
    [hit] = search(tmp_path, "grebe")
    assert (hit.folder, hit.step, hit.message_index) == (folder, 2, 3)

    shutil.rmtree(other)
    assert {h.folder for h in search(tmp_path, "answer")} == {folder}
    # A folder swapped for a link to a folder elsewhere is no agent here any more.
    elsewhere = write_agent(tmp_path / "elsewhere", "beta", ["task", "beta answer"])
    other.symlink_to(elsewhere)
    assert {h.folder for h in search(tmp_path, "answer")} == {folder}
    other.unlink()
    shutil.copytree(elsewhere, other)
    assert {h.folder for h in search(tmp_path, "answer")} == {folder, other}
    shutil.rmtree(other)
    other.symlink_to(elsewhere)
    assert {h.folder for h in search(tmp_path, "answer")} == {folder}

    copy = folder.with_name(folder.name + "-copy")
    subprocess.run(["cp", "-a", str(folder), str(copy)], check=True)
    assert {h.folder for h in search(tmp_path, "grebe")} == {folder, copy}
    assert len(search(tmp_path, "grebe")) == 2


def test_an_unchanged_workspace_reads_no_folder_again(
    tmp_path: Path, settled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(5):
        write_agent(tmp_path, f"agent{n}", ["task", f"answer {n}"])
    progress: list[tuple[int, int]] = []
    assert len(search(tmp_path, "answer", on_progress=lambda *a: progress.append(a))) == 5
    assert progress[0] == (0, 5) and progress[-1] == (5, 5)
    read = search_module._read_messages
    calls: list[Path] = []
    monkeypatch.setattr(search_module, "_read_messages", lambda f, r: calls.append(f) or read(f, r))
    assert len(search(tmp_path, "answer")) == 5
    assert calls == []
    write_agent(tmp_path, "agent9", ["task", "answer 9"])
    assert len(search(tmp_path, "answer")) == 6
    assert [f.name.split("-")[0] for f in calls] == ["agent9"]


# ------------------------------------------------------------------------------- hostile
@pytest.mark.parametrize(
    "query",
    ['"', '""', "*", "NEAR(", "NEAR(walrus sleeps)", 'walrus"', "walrus*", "^walrus",
     "text:walrus", "walrus OR heron", "NOT", "-walrus", "(walrus", "walrus)", "AND walrus",
     "'; DROP TABLE folders; --", "\x00walrus\x00", "walrus\x1b[31m", "{text}: walrus",
     "WALRUS", "wal rus"],
)  # fmt: skip
def test_a_hostile_query_is_words_never_syntax(tmp_path: Path, query: str) -> None:
    texts = ["sys", "task", "the walrus sleeps", "not a walrus or a heron"]
    write_agent(tmp_path, "alpha", texts[1:])
    words = set(search_module.query_terms(query))
    hits = search(tmp_path, query, limit=100)
    expected = [i for i in (3, 2, 1, 0) if words and words <= set(texts[i].split())]
    assert [h.message_index for h in hits] == expected
    assert search(tmp_path, "folders") == [] and len(search(tmp_path, "walrus")) == 2


@pytest.mark.parametrize("word", ["NEAR", "AND", "OR", "NOT", 'a"b', "*", "x:y", "^", "(", ""])
def test_each_term_is_a_quoted_string_to_fts5(word: str) -> None:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(text)")
    db.executemany("INSERT INTO t (text) VALUES (?)", [(f"one {word} two",), ("three",)])
    query = search_module.fts_query(["one", word])
    found = db.execute("SELECT text FROM t WHERE t MATCH ?", (query,)).fetchall()
    # Never syntax: a word is found as a word; punctuation alone (which query_terms never
    # gives) is an empty phrase that matches nothing, and raises nothing.
    assert found == ([(f"one {word} two",)] if re.search(r"\w", word) else [])


def test_hostile_transcript_text_gives_one_clean_short_line(tmp_path: Path) -> None:
    escapes = "\x1b[2J\x1b]0;owned\x07\x9b31m\r\x07bell\u202etxt.exe"
    long = "filler " * 150_000 + "the capybara ends it"  # a 1 MB message
    write_agent(tmp_path, "alpha", ["task", f"red{escapes}\nline two\n\npuffin here", long])
    [hit] = search(tmp_path, "puffin")
    assert "\n" not in hit.snippet and "\x1b" not in hit.snippet and "\x07" not in hit.snippet
    assert "\x9b" not in hit.snippet and "\u202e" not in hit.snippet and "\r" not in hit.snippet
    assert "puffin here" in hit.snippet and len(hit.snippet) <= 100
    [hit] = search(tmp_path, "capybara")
    assert hit.snippet.endswith("the capybara ends it") and len(hit.snippet) <= 100
    assert hit.snippet.startswith("…")
    [hit] = search(tmp_path, "filler", limit=5)
    assert hit.snippet.startswith("filler filler") and len(hit.snippet) <= 100


def test_a_folder_that_is_not_an_agent_is_skipped(tmp_path: Path) -> None:
    write_agent(tmp_path, "alpha", ["task", "a walrus"])
    agents = tmp_path / "agents"
    outside = tmp_path / "outside"
    write_agent(outside, "elsewhere", ["task", "a walrus outside"])
    (agents / "link").symlink_to(next((outside / "agents").iterdir()))
    (agents / "stray.txt").write_text("a walrus")
    broken = agents / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    (broken / "journal.jsonl").symlink_to("/dev/zero")
    assert [h.agent for h in search(tmp_path, "walrus")] == ["alpha"]


def test_the_hostile_corpus_is_searched_without_harm(tmp_path: Path) -> None:
    corpus = build(tmp_path / "corpus")
    leaky = corpus.folders["leaky-swarms"]
    config = json.loads((leaky / "config.json").read_text())
    config["short_memory"][2]["content"] = f"the lemur paid with {LEAKED_KEY} at noon"
    (leaky / "config.json").write_text(json.dumps(config))
    before = outside_digest(corpus.outside)
    env = {**os.environ, "AGENT_TUI_MAX_FILE_MB": "1"}
    for words in ("lemur", "step", "bond", "the", "paid with"):
        for extra in ([], ["--json"]):
            argv = ("search", words, "--limit", "500", "--workspace", str(corpus.root), *extra)
            done = agent_tui(*argv, env=env, timeout=60)
            said = done.stdout + done.stderr
            assert done.returncode == 0 and "Traceback" not in said, said[-2000:]
            assert "corpusleak" not in said.lower()
            if not extra:  # JSON keeps names as they are (escaped by JSON, not spelled)
                assert all(line.isprintable() for line in done.stdout.splitlines())
    [hit] = search(corpus.root, "lemur")
    assert hit.folder == leaky and "[REDACTED]" in hit.snippet
    assert search(corpus.root, "corpusLEAK0123456789abcdefXYZ") == []
    assert outside_digest(corpus.outside) == before
    data = index_bytes(corpus.root).lower()
    assert b"corpusleak" not in data and b"0123456789abcdefxyz" not in data


# ------------------------------------------------------------------------------- secrets
def test_a_secret_reaches_neither_output_nor_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "ws"
    write_agent(root, "alpha", ["task", f"the lemur key is {KEY} today"])
    swarms = write_swarms(root, "Keyed-Agent")
    config = json.loads((swarms / "config.json").read_text())
    config["llm_api_key"] = "plain-swarms-key-4417"
    config["short_memory"][2]["content"] = "lemur: I used plain-swarms-key-4417 there"
    (swarms / "config.json").write_text(json.dumps(config))

    # Indexed before the key is a secret: once it is, the index is emptied and rebuilt.
    assert KEY in search(root, "lemur")[-1].snippet
    monkeypatch.setenv("LEMUR_SERVICE_KEY", KEY)
    hits = search(root, "lemur")
    assert len(hits) == 2 and all("[REDACTED]" in h.snippet for h in hits)
    code, out, err = run_cli(capsys, "search", "lemur", "--workspace", str(root))
    code_json, out_json, _ = run_cli(capsys, "search", "lemur", "--json", "--workspace", str(root))
    assert code == code_json == 0 and len(json.loads(out_json)) == 2
    data = index_bytes(root)
    assert data  # the index is on disk
    for secret in (KEY, "plain-swarms-key-4417"):
        shown = out + err + out_json + repr(hits)
        assert secret not in shown
        for part in re.findall(r"[A-Za-z0-9]{4,}", secret):
            if part not in ("plain", "swarms", "4417"):
                assert part.lower().encode() not in data.lower(), part
        assert secret.encode() not in data
    assert search(root, "Zx81bLm0Qw7Yv3Nc5Rd2Kp9Hs") == []


# --------------------------------------------------------------------------- the index file
def test_the_index_is_private(tmp_path: Path) -> None:
    write_agent(tmp_path, "alpha", ["task", "a walrus"])
    assert search(tmp_path, "walrus")
    files = index_files(tmp_path)
    assert files and files[0].suffix == ".sqlite"
    for path in files:
        assert stat.S_IMODE(path.lstat().st_mode) == 0o600
    assert stat.S_IMODE(files[0].parent.stat().st_mode) == 0o700


@pytest.mark.parametrize("kind", ["garbage", "foreign", "empty", "other-workspace", "link"])
def test_a_bad_index_file_is_ignored_and_rebuilt(tmp_path: Path, kind: str) -> None:
    root = tmp_path / "ws"
    write_agent(root, "alpha", ["task", "a walrus"])
    path = index_path(os.path.realpath(agents_dir(root)))
    assert path is not None
    path.parent.mkdir(parents=True)
    outside = tmp_path / "precious.db"
    if kind == "garbage":
        path.write_bytes(b"SQLite format 3\x00" + os.urandom(5000))
    elif kind == "foreign":
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE folders (secret TEXT)")
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "other-workspace":
        other = tmp_path / "other"
        write_agent(other, "beta", ["task", "a walrus"])
        assert search(other, "walrus")
        shutil.copy(index_path(os.path.realpath(agents_dir(other))), path)
    else:
        with sqlite3.connect(outside) as db:
            db.execute("CREATE TABLE keep (x)")
        path.symlink_to(outside)
    before = outside.read_bytes() if kind == "link" else None
    [hit] = search(root, "walrus")
    assert hit.agent == "alpha"
    assert path.is_file() and not path.is_symlink()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    if kind == "link":
        assert outside.read_bytes() == before
    with sqlite3.connect(path) as db:
        (app_id,) = db.execute("PRAGMA application_id").fetchone()
    assert app_id == search_module.APPLICATION_ID
    assert search(root, "walrus") == [hit]


def test_a_cache_folder_that_cannot_be_ours_still_searches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_agent(tmp_path / "ws", "alpha", ["task", "a walrus"])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "linked-cache").symlink_to(elsewhere)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "linked-cache"))
    (elsewhere / "agent-tui").symlink_to(elsewhere)
    assert [h.agent for h in search(tmp_path / "ws", "walrus")] == ["alpha"]
    assert sorted(p.name for p in elsewhere.iterdir()) == ["agent-tui"]


# ------------------------------------------------------------------------------------ CLI
def test_cli_lines_fit_and_json_parses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    long_name = "an-agent-with-a-name-far-longer-than-any-column-" * 2
    write_agent(tmp_path, long_name, ["task", "walrus " + "word " * 60])
    write_agent(tmp_path, "alpha", ["task", "a walrus\x1b[2J here"])
    code, out, err = run_cli(capsys, "search", "walrus", "--workspace", str(tmp_path))
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert len(lines) == 2 and all(len(line) <= 80 for line in lines)
    assert lines[0] == "alpha  step 1  assistant  a walrus here"
    assert lines[1].startswith("an-agent-with-a-name-fa…  step 1  assistant  walrus word")
    code, out, err = run_cli(
        capsys, "search", "walrus", "--json", "--limit", "1", "--workspace", str(tmp_path)
    )
    [hit] = json.loads(out)
    assert hit == {
        "folder": hit["folder"],
        "agent": "alpha",
        "step": 1,
        "role": "assistant",
        "message_index": 2,
        "snippet": "a walrus here",
    }
    assert Path(hit["folder"]).parent == tmp_path / "agents"


def test_cli_no_match_is_one_line_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_agent(tmp_path, "alpha", ["task", "a walrus"])
    code, out, err = run_cli(capsys, "search", "okapi", "--workspace", str(tmp_path))
    assert (code, out) == (0, "")
    assert err == f"nothing matches 'okapi' in {tmp_path / 'agents'}\n"
    code, out, err = run_cli(capsys, "search", "okapi", "--json", "--workspace", str(tmp_path))
    assert (code, json.loads(out), err) == (0, [], "")


def test_cli_in_a_child_process_imports_no_runtime(tmp_path: Path) -> None:
    write_agent(tmp_path, "alpha", ["task", "a walrus"])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(__import__("sys").path)}
    code = (
        "import sys; from agent_tui import cli; rc = cli.main(sys.argv[1:]); "
        "assert 'litellm' not in sys.modules and 'agent_tui.agent' not in sys.modules, "
        "sorted(sys.modules); sys.exit(rc)"
    )
    done = subprocess.run(
        [
            __import__("sys").executable,
            "-c",
            code,
            "search",
            "walrus",
            "--workspace",
            str(tmp_path),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "alpha  step 1  assistant  a walrus\n" and done.stderr == ""
    done = agent_tui("search", "walrus", "--json", "--workspace", str(tmp_path), env=env)
    assert done.returncode == 0 and len(json.loads(done.stdout)) == 1


# ------------------------------------------------------------------------ against brute force
VOCABULARY = "ant bee cat dog eel fox gnu hen ibis jay kiwi lark mole newt owl".split()


def brute_force(root: Path, text: str, newest: dict[Path, float]) -> list[tuple[Path, int]]:
    """Every message holding every word, read from the files, newest folder first, then
    last message first: what the index must give."""
    terms = set(search_module.query_terms(text))
    found = []
    for folder in (root / "agents").iterdir():
        for number, message in enumerate(load_conversation(folder)):
            if terms <= set(re.findall(r"[a-z0-9]+", message["content"].lower())):
                found.append((-newest[folder], -number, folder))
    return [(folder, -number) for _, number, folder in sorted(found)]


def test_results_equal_a_brute_force_scan(tmp_path: Path, settled: None) -> None:
    rng = random.Random(14)
    newest: dict[Path, float] = {}
    for n in range(60):
        texts = [" ".join(rng.choices(VOCABULARY, k=rng.randrange(1, 8))) for _ in range(12)]
        when = 1_700_000_000 + n * 10 + rng.random()
        folder = write_agent(tmp_path, f"agent{n:02d}", texts, when=when)
        newest[folder] = when
    queries = [*VOCABULARY, "ant bee", "CAT dog", "owl newt mole", "kiwi kiwi", "sys"]
    for query in queries:
        hits = search(tmp_path, query, limit=10_000)
        assert [(h.folder, h.message_index) for h in hits] == brute_force(
            tmp_path, query, newest
        ), query
    # After changes, the same: a folder rewritten, one removed, one added.
    victim = sorted(newest)[7]
    shutil.rmtree(victim)
    del newest[victim]
    changed = sorted(newest)[3]
    shutil.rmtree(changed)
    newest[write_agent(tmp_path, changed.name.split("-")[0], ["ant", "ant bee"], when=2e9)] = 2e9
    newest[write_agent(tmp_path, "agent99", ["bee", "ant bee cat"], when=2.1e9)] = 2.1e9
    for query in queries:
        hits = search(tmp_path, query, limit=10_000)
        assert [(h.folder, h.message_index) for h in hits] == brute_force(
            tmp_path, query, newest
        ), query
    assert len(search(tmp_path, "ant", limit=3)) == 3


# ------------------------------------------------------------------ progress, cancel, busy
class Cancelled(Exception):
    pass


def test_a_raising_progress_callback_stops_and_keeps_what_was_read(
    tmp_path: Path, settled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_module, "BATCH", 2)
    for n in range(5):
        write_agent(tmp_path, f"agent{n}", ["task", f"answer {n}"])
    seen: list[tuple[int, int]] = []

    def cancel(done: int, total: int) -> None:
        seen.append((done, total))
        if done >= 4:
            raise Cancelled

    with pytest.raises(Cancelled):
        search(tmp_path, "answer", on_progress=cancel)
    assert seen == [(0, 5), (2, 5), (4, 5)]
    read = search_module._read_messages
    calls: list[Path] = []
    monkeypatch.setattr(search_module, "_read_messages", lambda f, r: calls.append(f) or read(f, r))
    assert len(search(tmp_path, "answer")) == 5
    assert len(calls) == 1  # the batch it stopped before


def test_an_index_held_by_another_process_is_left_to_it(
    tmp_path: Path, settled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_agent(tmp_path, "alpha", ["task", "a walrus"])
    assert search(tmp_path, "walrus")
    [path, *_] = index_files(tmp_path)
    inode = path.stat().st_ino
    monkeypatch.setattr(search_module, "BUSY_TIMEOUT_S", 0.1)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("INSERT INTO meta (key, value) VALUES ('held', 'by a test')")
    holder.execute("BEGIN IMMEDIATE")
    try:
        write_agent(tmp_path, "beta", ["task", "a walrus too"])
        assert {h.agent for h in search(tmp_path, "walrus")} == {"alpha", "beta"}
        assert path.stat().st_ino == inode
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert {h.agent for h in search(tmp_path, "walrus")} == {"alpha", "beta"}
    assert path.stat().st_ino == inode
    with sqlite3.connect(path) as db:  # the same file, not one made anew
        assert db.execute("SELECT value FROM meta WHERE key = 'held'").fetchall() == [
            ("by a test",)
        ]


def test_the_cli_shows_progress_only_on_a_terminal(tmp_path: Path) -> None:
    import pty
    import sys

    for n in range(210):
        write_agent(tmp_path / "ws", f"agent{n}", ["task", f"answer {n}"])
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache-tty")}
    argv = [sys.executable, "-m", "agent_tui.cli", "search", "answer", "--limit", "1"]
    argv += ["--workspace", str(tmp_path / "ws")]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stderr == "" and len(done.stdout.splitlines()) == 1

    shutil.rmtree(tmp_path / "cache-tty")
    master, slave = pty.openpty()
    child = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=slave, text=True)
    os.close(slave)
    out, _ = child.communicate(timeout=120)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    assert child.returncode == 0 and len(out.splitlines()) == 1
    assert b"indexing 0/210 agent folders" in shown
    assert shown.endswith(b"\r") and b"\n" not in shown


def test_a_root_given_through_a_link_names_folders_under_it(tmp_path: Path) -> None:
    folder = write_agent(tmp_path / "real", "alpha", ["task", "a walrus"])
    (tmp_path / "via").symlink_to(tmp_path / "real")
    [hit] = search(tmp_path / "via", "walrus")
    assert hit.folder == tmp_path / "via" / "agents" / folder.name
    assert search(tmp_path / "real", "walrus")[0].folder == folder
    assert index_files(tmp_path / "via") == index_files(tmp_path / "real")  # one index
