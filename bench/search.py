"""Full-text search at scale (issue 14): ``agent_tui.search`` on 10,000 agents x 50 steps.

    .venv/bin/python bench/search.py [--agents 10000] [--steps 50] [--tmp /dev/shm]
                                     [--json out.json] [--quick]

Writes the agent folders directly in our on-disk format (``config.json``, the state file with
the whole conversation, ``journal.jsonl`` with a task record and one step record per step, as
a finished run leaves them), each message a sentence from a pool drawn from a Zipf-like
vocabulary, so query words range from rare to common. The cache folder (``XDG_CACHE_HOME``)
is the run's own. Then, side by side in one run and one process:

- **cold**: the first search, which builds the index of every folder;
- **warm**: a search with nothing changed (median of ``--repeat`` rounds of each query; one
  word rare, mid, common, two and three words, and one absent);
- **after 100 changed**: 100 folders get a step more (a journal line appended, config and
  state rewritten atomically), then one search (median of three rounds, 100 other folders
  each time);
- **baseline streaming scan**: what a grep-like search without an index costs: read every
  ``journal.jsonl`` whole, skip the files that do not hold every word, parse the lines of
  those that do and test each message (no replay, no redaction: a lower bound for a scan that
  would give our results).

Goal (issue 14): a warm search of 10,000 agents x 50 steps in under 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import orjson

GOAL_WARM_S = 1.0
VOCABULARY = 5000
POOL = 4000
WORDS_PER_MESSAGE = 24
CHANGED = 100


def word(n: int) -> str:
    """A made-up word, distinct for each ``n``: ``w<n>`` spelled in letters."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    text = ""
    n += 26 * 27
    while n:
        n, rest = divmod(n, 26)
        text += letters[rest]
    return text


def sentence_pool(rng: random.Random) -> list[str]:
    weights = [1 / (rank + 1) for rank in range(VOCABULARY)]
    words = [word(n) for n in range(VOCABULARY)]
    return [" ".join(rng.choices(words, weights, k=WORDS_PER_MESSAGE)) for _ in range(POOL)]


def make_corpus(root: Path, agents: int, steps: int, seed: int = 14) -> list[Path]:
    """``agents`` folders of ours after a ``steps``-step run, under ``root/agents``."""
    rng = random.Random(seed)
    pool = sentence_pool(rng)
    base = root / "agents"
    base.mkdir(parents=True)
    folders = []
    for n in range(agents):
        name = f"agent-{n:05d}"
        agent_id = f"{rng.getrandbits(48):012x}"
        folder = base / f"{name}-{agent_id}"
        folder.mkdir()
        task = f"task {n}: " + rng.choice(pool)
        system = {"role": "system", "content": "You are a careful agent."}
        user = {"role": "user", "content": task, "step": 0}
        records = [
            {"seq": 1, "kind": "task", "loop_count": 0, "task": task, "run_id": "r1",
             "new_conversation": True, "messages": [system, user]}
        ]  # fmt: skip
        conversation = [system, user]
        for step in range(1, steps + 1):
            message = {"role": "assistant", "content": rng.choice(pool), "step": step}
            conversation.append(message)
            records.append({"seq": step + 1, "kind": "step", "loop_count": step,
                            "run_id": "r1", "messages": [message], "usage": {}})  # fmt: skip
        records.append(
            {"seq": steps + 2, "kind": "end", "status": "completed", "loop_count": steps}
        )
        meta = {"format": "agent-tui", "agent_name": name, "agent_id": agent_id,
                "loop_count": steps, "status": "completed", "schema_version": 1,
                "timestamp": "2026-11-26T09:00:00+00:00", "state_file": f"{name}_state.json"}  # fmt: skip
        config = {"agent_name": name, "agent_id": agent_id, "model_name": "offline/demo",
                  "system_prompt": system["content"], "_autosave_metadata": meta}  # fmt: skip
        state = {"schema_version": 1, "format": "agent-tui", "agent_id": agent_id,
                 "agent_name": name, "status": "completed", "loop_count": steps, "task": task,
                 "conversation": conversation, "tool_results": [], "memory": {},
                 "journal_seq": steps + 2}  # fmt: skip
        (folder / "config.json").write_bytes(orjson.dumps(config))
        (folder / f"{name}_state.json").write_bytes(orjson.dumps(state))
        (folder / "journal.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
        folders.append(folder)
    return folders


def change(folder: Path, rng: random.Random) -> None:
    """One step more: a journal line appended, state and config rewritten (temp + rename)."""
    name = folder.name.rsplit("-", 1)[0]
    state_path = folder / f"{name}_state.json"
    state = orjson.loads(state_path.read_bytes())
    step = state["loop_count"] + 1
    message = {"role": "assistant", "content": f"changed step {step} {rng.random()}", "step": step}
    seq = state["journal_seq"] + 1
    record = {"seq": seq, "kind": "step", "loop_count": step, "messages": [message]}
    with (folder / "journal.jsonl").open("ab") as journal:
        journal.write(orjson.dumps(record) + b"\n")
    state.update(loop_count=step, journal_seq=seq)
    state["conversation"].append(message)
    for path, data in ((state_path, state), (folder / "config.json", None)):
        if data is None:
            data = orjson.loads(path.read_bytes())
            data["_autosave_metadata"]["loop_count"] = step
        temp = path.with_name(f".{path.name}.bench.tmp")
        temp.write_bytes(orjson.dumps(data))
        os.replace(temp, path)


def streaming_scan(root: Path, text: str, limit: int) -> list[tuple[str, int]]:
    """The baseline: every journal read, the messages holding every word (case-blind)."""
    words = [w.encode() for w in text.lower().split()]
    found = []
    for folder in (root / "agents").iterdir():
        try:
            data = (folder / "journal.jsonl").read_bytes()
        except OSError:
            continue
        low = data.lower()
        if not all(w in low for w in words):
            continue
        number = 0
        for line in data.splitlines():
            record = orjson.loads(line)
            for message in record.get("messages", ()):
                content = message.get("content", "").lower()
                if all(w.decode() in content for w in words):
                    found.append((folder.name, number))
                number += 1
    return found[:limit]


def queries() -> dict[str, str]:
    return {
        "rare word": word(4000),
        "mid word": word(300),
        "common word": word(2),
        "two words": f"{word(40)} {word(90)}",
        "three words": f"{word(1)} {word(4)} {word(20)}",
        "absent word": "zzzzzz",
    }


def timed(call) -> tuple[float, object]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5, help="rounds of each warm query")
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="1,000 agents, for a quick look")
    parser.add_argument("--tmp", type=Path, help="where to make the folders (default: $TMPDIR)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    agents = 1000 if args.quick else args.agents
    with tempfile.TemporaryDirectory(dir=args.tmp, prefix="bench-search-") as scratch:
        os.environ["XDG_CACHE_HOME"] = str(Path(scratch) / "cache")
        from agent_tui.search import index_path, search
        from agent_tui.settings import agents_dir
        from agent_tui.workspace.summary import RACY_NS

        root = Path(scratch) / "ws"
        made, folders = timed(lambda: make_corpus(root, agents, args.steps))
        size = sum(f.stat().st_size for folder in folders for f in folder.iterdir())
        print(
            f"made {agents:,} agents x {args.steps} steps ({size / 2**20:.0f} MB) in {made:.1f} s"
        )
        asked = queries()
        # A folder changed in the last RACY_NS is read again by each search until it settles:
        # the cold build is timed on a corpus that has.
        time.sleep(RACY_NS / 1e9 + 0.1)
        cold, _ = timed(lambda: search(root, asked["rare word"], limit=args.limit))
        index = index_path(os.path.realpath(agents_dir(root)))
        index_mb = sum(p.stat().st_size for p in index.parent.glob(index.name + "*")) / 2**20
        print(f"cold index build: {cold:.2f} s, index {index_mb:.0f} MB")

        rows = []
        for label, text in asked.items():
            warm_times, scan_times = [], []
            hits: list = []
            for _ in range(args.repeat):
                seconds, hits = timed(lambda t=text: search(root, t, limit=args.limit))
                warm_times.append(seconds)
            for _ in range(max(1, args.repeat // 2)):
                seconds, scanned = timed(lambda t=text: streaming_scan(root, t, args.limit))
                scan_times.append(seconds)
            warm, scan = statistics.median(warm_times), statistics.median(scan_times)
            rows.append({"query": label, "text": text, "hits": len(hits), "warm_s": round(warm, 4),
                         "scan_s": round(scan, 4), "scan_over_warm": round(scan / warm, 1)})  # fmt: skip

        rng = random.Random(2)
        changed_times = []
        order = rng.sample(folders, CHANGED * 3)
        for round_ in range(3):
            for folder in order[round_ * CHANGED : (round_ + 1) * CHANGED]:
                change(folder, rng)
            seconds, hits = timed(lambda: search(root, "changed", limit=args.limit))
            changed_times.append(seconds)
            time.sleep(RACY_NS / 1e9 + 0.1)  # then they settle (read once more, untimed)
            search(root, "changed", limit=1)
        after_changed = statistics.median(changed_times)
        found_changed = len(search(root, "changed", limit=10_000))

        warm_median = statistics.median(r["warm_s"] for r in rows)
        scan_median = statistics.median(r["scan_s"] for r in rows)
        print()
        print(f"{'query':14} {'hits':>5} {'warm s':>8} {'scan s':>8} {'scan/warm':>10}")
        for r in rows:
            print(f"{r['query']:14} {r['hits']:>5} {r['warm_s']:>8.3f} {r['scan_s']:>8.3f} "
                  f"{r['scan_over_warm']:>9.1f}x")  # fmt: skip
        print()
        print(f"cold index build          {cold:8.2f} s")
        print(f"warm search (median)      {warm_median:8.3f} s   goal < {GOAL_WARM_S} s: "
              f"{'met' if warm_median < GOAL_WARM_S else 'NOT met'}")  # fmt: skip
        print(f"  worst warm query        {max(r['warm_s'] for r in rows):8.3f} s")
        print(f"after {CHANGED} folders changed  {after_changed:8.3f} s   "
              f"({found_changed} changed messages found of {3 * CHANGED})")  # fmt: skip
        print(f"streaming scan (median)   {scan_median:8.3f} s   "
              f"{scan_median / warm_median:.1f}x the warm search")  # fmt: skip
        print(f"cold build / scan         {cold / scan_median:8.1f}x  (the index pays for itself "
              f"after ~{cold / max(scan_median - warm_median, 1e-9):.0f} searches)")  # fmt: skip
        document = {
            "agents": agents,
            "steps": args.steps,
            "corpus_mb": round(size / 2**20, 1),
            "index_mb": round(index_mb, 1),
            "made_s": round(made, 2),
            "cold_s": round(cold, 3),
            "warm_median_s": round(warm_median, 4),
            "after_changed_s": round(after_changed, 4),
            "after_changed_rounds_s": [round(s, 4) for s in changed_times],
            "changed_found": found_changed,
            "scan_median_s": round(scan_median, 4),
            "rows": rows,
            "goal": {"warm_s": GOAL_WARM_S, "met": warm_median < GOAL_WARM_S},
            "table": [
                [
                    f"warm search, {agents:,} agents x {args.steps} steps (median)",
                    f"{warm_median:.3f} s",
                    f"< {GOAL_WARM_S} s",
                    "met" if warm_median < GOAL_WARM_S else "not met",
                ],
            ],  # fmt: skip
        }
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(document, indent=2) + "\n")
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
