"""Kill -9 at random moments, many times, and count: corrupt files, steps lost, resumes.

    .venv/bin/python bench/crash.py [--trials 1000] [--jobs 2] [--json out.json]

Each trial starts a real agent process writing large files (see tests/fixtures/crash_harness.py),
SIGKILLs it after a random delay, then checks every file parses, load() restores every step
the child had announced as completed, and a resumed run continues the step count.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "fixtures"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crash_harness import run_trial  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=2, help="trials run at once")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    start = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="bench-crash-") as tmp,
        ThreadPoolExecutor(args.jobs) as pool,
    ):
        futures = [
            pool.submit(run_trial, Path(tmp) / f"t{seed}", seed) for seed in range(args.trials)
        ]
        results = []
        for index, future in enumerate(futures, start=1):
            results.append(future.result())
            if index % 100 == 0 or index == args.trials:
                print(f"  {index}/{args.trials} trials", file=sys.stderr, flush=True)
    figures = {
        "trials": len(results),
        "corrupt_files": sum(len(r.corrupt_files) for r in results),
        "steps_lost": sum(r.steps_lost for r in results),
        "problems": [r.problem for r in results if r.problem],
        "kills_inside_atomic_write": sum(1 for r in results if r.temp_files_left),
        "kills_inside_journal_append": sum(1 for r in results if r.torn_journal_tail),
        "kills_before_first_step": sum(1 for r in results if r.reported_steps == 0),
        "completed_steps_restored": sum(r.restored_steps for r in results),
        "resumed_ok": sum(1 for r in results if r.resumed),
        "seconds": round(time.perf_counter() - start, 1),
    }
    for key, value in figures.items():
        print(f"{key:>28}: {value if key != 'problems' else len(value)}")
    for problem in figures["problems"][:10]:
        print(f"  problem: {problem}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return (
        0
        if not figures["problems"] and not figures["corrupt_files"] and not figures["steps_lost"]
        else 1
    )


if __name__ == "__main__":
    sys.exit(main())
