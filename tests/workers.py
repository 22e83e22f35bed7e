"""Point functions for the executor tests, in a module with light imports (each worker imports it)."""

from __future__ import annotations

import os
import time
from pathlib import Path


def crash_on_two(inputs: int, task: int) -> int:
    """Task 2 kills its worker process (as a solver crash would), task 3 raises, the others return inputs × task."""
    if task == 2:
        os._exit(9)
    if task == 3:
        raise RuntimeError("three")
    return task * inputs


def killed_once(marker: str, task: int) -> tuple[int, int]:
    """(task, task²); task 2, the first time, writes its process id to ``marker`` and waits to be killed."""
    if task == 2 and not Path(marker).exists():
        Path(f"{marker}.part").write_text(str(os.getpid()), encoding="utf-8")
        os.replace(f"{marker}.part", marker)
        time.sleep(120)
    return task, task * task


def record_runs(db: str, worker: int, count: int) -> None:
    """Open the run store at ``db`` and record ``count`` runs without a plan, of scenario ``w<worker>``."""
    from optimizer.registry.layout import new_run_id
    from optimizer.registry.store import RunStore, record_of_summary

    summary = {"scenario": {"name": f"w{worker}"}, "status": "infeasible", "exit_code": 4}
    with RunStore.open(db) as store:
        for i in range(count):
            store.record(record_of_summary(f"{new_run_id()}-w{worker}-{i}", summary, None, {}, "test"))


def fails_then_waits(folder: str, task: int) -> int:
    """The first run of a task writes ``<task>.failed`` in ``folder`` and raises (so the point is retried alone); a
    second run writes its process id to ``<task>.pid`` and waits two minutes (a long solve)."""
    failed = Path(folder) / f"{task}.failed"
    if not failed.exists():
        failed.write_text("", encoding="utf-8")
        raise RuntimeError(f"task {task} fails its first run")
    (Path(folder) / f"{task}.pid").write_text(str(os.getpid()), encoding="utf-8")
    time.sleep(120)
    return task
