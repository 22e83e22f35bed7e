"""Task functions for the process-pool tests, in a module with light imports (each worker imports it)."""

from __future__ import annotations

import os


def crash_on_two(task: int) -> int:
    """Task 2 kills its worker process (as a solver crash would), task 3 raises, the others return 10×task."""
    if task == 2:
        os._exit(9)
    if task == 3:
        raise RuntimeError("three")
    return task * 10


def record_runs(db: str, worker: int, count: int) -> None:
    """Open the run store at ``db`` and record ``count`` runs without a plan, of scenario ``w<worker>``."""
    from optimizer.registry.layout import new_run_id
    from optimizer.registry.store import RunStore, record_of_summary

    summary = {"scenario": {"name": f"w{worker}"}, "status": "infeasible", "exit_code": 4}
    with RunStore.open(db) as store:
        for i in range(count):
            store.record(record_of_summary(f"{new_run_id()}-w{worker}-{i}", summary, None, {}, "test"))
