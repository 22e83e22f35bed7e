"""Independent solves in worker processes: one solve at a time per process (HiGHS keeps one scheduler per
process), workers started by a fork server (a clean process, never a fork of a parent that already ran a
solver), tasks and results sent by value (solver objects do not pickle: workers build their own models).

A worker process that dies (a solver crash, the OOM killer) breaks the whole pool; the tasks that had not
finished are then re-run each in a fresh single-worker pool (``workers`` of them at a time), so the crash is
pinned on the task that causes it and every other task still gets its result.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

Task = TypeVar("Task")
Result = TypeVar("Result")


def default_workers() -> int:
    """One worker per CPU."""
    return os.cpu_count() or 1


def _pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("forkserver"))


def _outcome(future: Future, task: Task, on_crash: Callable[[Task, str], Result]) -> Result | None:
    """The task's result; None when the pool broke before it finished; on_crash for an exception it raised."""
    error = future.exception()
    if error is None:
        return future.result()
    if isinstance(error, BrokenProcessPool):
        return None
    return on_crash(task, f"{type(error).__name__}: {error}")


def run_in_processes(
    func: Callable[[Task], Result],
    tasks: Sequence[Task],
    workers: int,
    on_crash: Callable[[Task, str], Result],
    on_result: Callable[[Result], None] = lambda result: None,
) -> list[Result]:
    """``[func(task) for task in tasks]`` in ``workers`` processes, in task order.

    ``func`` (a module-level function) should report its own failures in its result; an exception it lets
    escape, or the death of its process, becomes ``on_crash(task, message)``. ``on_result`` is called in the
    parent as each result arrives (for progress).
    """
    results: list[Result | None] = [None] * len(tasks)
    with _pool(max(1, min(workers, len(tasks)))) as pool:
        futures = {pool.submit(func, task): i for i, task in enumerate(tasks)}
        for future in as_completed(futures):
            i = futures[future]
            results[i] = _outcome(future, tasks[i], on_crash)
            if results[i] is not None:
                on_result(results[i])
    retry = [i for i, result in enumerate(results) if result is None]
    with ThreadPoolExecutor(max_workers=max(1, workers)) as threads:
        isolated = threads.map(lambda i: _isolated(func, tasks[i], on_crash), retry)
        for i, result in zip(retry, isolated, strict=True):
            results[i] = result
            on_result(result)
    return results


def _isolated(func: Callable[[Task], Result], task: Task, on_crash: Callable[[Task, str], Result]) -> Result:
    """``func(task)`` alone in a fresh single-worker pool, so a dying process names its task."""
    with _pool(1) as pool:
        future = pool.submit(func, task)
        future.exception()
    result = _outcome(future, task, on_crash)
    return result if result is not None else on_crash(task, "its worker process died")
