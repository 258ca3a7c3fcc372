"""Our atomic write versus the bare minimum a durable replace needs, in the same run.

    .venv/bin/python bench/atomic_limit.py [--reps 500] [--big-reps 50] [--json out.json]

For a 50 KB and a 5 MB agent state (a conversation serialized by orjson, as the agent writes it),
four ways of replacing a file, interleaved round by round in a shuffled order so that disk and
CPU noise hit them all alike:

- ``ours``: ``agent_tui.format.persistence.atomic_write_bytes`` (unique temp file, write, fsync,
  ``os.replace``, fsync of the folder);
- ``ours+json``: ``agent_tui.format.persistence.atomic_write_json`` of the same document (adds serializing);
- ``bare``: ``os.open`` a temp file, ``os.write``, ``os.fsync``, ``os.close``, ``os.rename``,
  fsync of the folder -- the same guarantees with nothing else;
- ``bare, no dir fsync``: the same without the folder fsync (what most code does; the rename
  may be lost on power failure).

Goal (issue 7): ours within 1.3x of the bare write with the same guarantees.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent_tui.format.persistence import atomic_write_bytes, atomic_write_json, dumps  # noqa: E402

GOAL = 1.3


def state_of_size(target_bytes: int) -> dict:
    """A state document shaped like ours whose serialized form is about ``target_bytes``."""
    conversation = [{"role": "system", "content": "You are a helpful, careful assistant."}]
    document = {"schema_version": 1, "format": "agent-tui", "conversation": conversation}
    text = "Autosave keeps the work of a long run safe across crashes and restarts. " * 6
    step = 0
    while len(dumps(document)) < target_bytes:
        step += 1
        for _ in range(max(1, (target_bytes - len(dumps(document))) // 2000)):
            conversation.append(
                {"role": "assistant", "content": f"Step {step}. {text}", "step": step}
            )
    return document


def bare(folder: Path, data: bytes, counter: list[int], dir_fsync: bool) -> None:
    counter[0] += 1
    tmp = os.path.join(folder, f".bare.{counter[0]}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os.fsync(fd)
    os.close(fd)
    os.rename(tmp, os.path.join(folder, "bare.json"))
    if dir_fsync:
        dfd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        os.fsync(dfd)
        os.close(dfd)


def measure(folder: Path, size: int, reps: int, rng: random.Random) -> dict:
    document = state_of_size(size)
    data = dumps(document)
    counter = [0]
    writers: dict[str, Callable[[], object]] = {
        "ours": lambda: atomic_write_bytes(folder / "ours.json", data),
        "ours+json": lambda: atomic_write_json(folder / "ours_json.json", document),
        "bare": lambda: bare(folder, data, counter, dir_fsync=True),
        "bare, no dir fsync": lambda: bare(folder, data, counter, dir_fsync=False),
    }
    for write in writers.values():  # warm up: first writes allocate blocks and inodes
        write()
    samples: dict[str, list[float]] = {name: [] for name in writers}
    order = list(writers)
    for _ in range(reps):
        rng.shuffle(order)
        for name in order:
            start = time.perf_counter()
            writers[name]()
            samples[name].append((time.perf_counter() - start) * 1000)
    medians = {name: statistics.median(values) for name, values in samples.items()}
    floor = medians["bare"]
    return {
        "bytes": len(data),
        "reps": reps,
        "median_ms": {name: round(ms, 4) for name, ms in medians.items()},
        "p90_ms": {
            name: round(sorted(values)[int(0.9 * (len(values) - 1))], 4)
            for name, values in samples.items()
        },
        "ratio_to_bare": {name: round(ms / floor, 3) for name, ms in medians.items()},
        # Per round, ours over bare of the same round: robust to drift across the run.
        "paired_ratio_median": round(
            statistics.median(o / b for o, b in zip(samples["ours"], samples["bare"], strict=True)),
            3,
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reps", type=int, default=500, help="rounds for the 50 KB state")
    parser.add_argument("--big-reps", type=int, default=50, help="rounds for the 5 MB state")
    parser.add_argument("--dir", type=Path, help="where to write (default: a temp dir)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-atomic-", dir=args.dir) as tmp:
        for size, reps in ((50_000, args.reps), (5_000_000, args.big_reps)):
            rows.append(measure(Path(tmp), size, reps, rng))

    print(f"atomic replace of a state file, medians of interleaved rounds, {os.cpu_count()} cores")
    names = list(rows[0]["median_ms"])
    print(f"{'state':>10} " + " ".join(f"{name:>20}" for name in names) + f" {'ours/bare':>10}")
    for row in rows:
        cells = " ".join(
            f"{row['median_ms'][n]:>11.3f} ms {row['ratio_to_bare'][n]:>4.2f}x" for n in names
        )
        print(f"{row['bytes']:>10,} {cells} {row['ratio_to_bare']['ours']:>9.2f}x")
    worst = max(row["ratio_to_bare"]["ours"] for row in rows)
    met = worst <= GOAL
    print(f"\ngoal: ours within {GOAL}x of bare write+fsync+rename+dir fsync: worst {worst:.2f}x "
          f"-> {'met' if met else 'NOT met'}")  # fmt: skip
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        document = {
            "rows": rows,
            "goal": {"max_ratio": GOAL, "worst_ratio": worst, "met": met},
            "cores": os.cpu_count(),
        }
        args.json.write_text(json.dumps(document, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
