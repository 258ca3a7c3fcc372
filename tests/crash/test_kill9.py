"""50+ real SIGKILLs at random moments, many inside writes: nothing torn, no completed step lost."""

from __future__ import annotations

from pathlib import Path

from crash_harness import run_trial

TRIALS = 52


def test_kill9_trials(tmp_path: Path) -> None:
    results = [run_trial(tmp_path / f"t{seed}", seed) for seed in range(TRIALS)]
    corrupt = [f for r in results for f in r.corrupt_files]
    lost = sum(r.steps_lost for r in results)
    problems = [r.problem for r in results if r.problem]
    assert corrupt == [] and lost == 0 and problems == []
    # The trials really exercised the interesting cases: kills before, during and after steps.
    assert sum(1 for r in results if r.reported_steps == 0) >= 1
    assert sum(1 for r in results if r.reported_steps >= 2) >= 10
    assert sum(1 for r in results if r.temp_files_left or r.torn_journal_tail) >= 10
    assert all(r.resumed for r in results if r.restored_steps or r.reported_steps)
