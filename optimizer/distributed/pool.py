"""Points in local worker processes: one point at a time per process (HiGHS keeps one scheduler per
process), processes started by a fork server (a clean process, never a fork of a parent that already ran a
solver), ``inputs`` handed to each process once when it starts, tasks and results sent by value (solver
objects do not pickle: workers build their own models).

A worker process that dies breaks the whole pool; the points that had not finished are then run again, each
in a fresh single-worker pool (``workers`` of them at a time), so the crash is pinned on the point that causes
it and every other point still gets its result. A point whose function raised is run again the same way.

An exception that ends the run early — Ctrl-C, or SIGTERM turned into one by the command line — stops every
worker process it started before the pool closes (:func:`_stopped_on_error`): closing waits for the points
that are running, which would go on for a whole solve each and, with the parent gone, leave their processes
waiting for work forever (`wfplan frontier` stopped by SIGTERM: a worker and the fork server still alive
minutes later). A HiGHS child of a stopped worker dies with it (:mod:`optimizer.solvers.highs_run`).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from optimizer.distributed.base import Inputs, Job, Kept, Result, Task, failure_message

_INPUTS: dict[str, Any] = {}
"""This worker process's inputs, set once when it starts."""


def _install(inputs: Inputs) -> None:
    _INPUTS["inputs"] = inputs


def _call(func: Callable[[Inputs, Task], Result], task: Task) -> Result:
    return func(_INPUTS["inputs"], task)


def _pool(workers: int, inputs: Inputs) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("forkserver"),
                               initializer=_install, initargs=(inputs,))


@contextmanager
def _stopped_on_error() -> Iterator[None]:
    """Terminate (SIGTERM) every child process started in the block when an exception leaves it, before the
    blocks around it close: enter it inside the pool's ``with`` (a pool starts its processes at the first
    submit), so the pool's exit finds them gone instead of waiting for their points."""
    before = set(multiprocessing.active_children())
    try:
        yield
    except BaseException:
        for process in set(multiprocessing.active_children()) - before:
            process.terminate()
        raise


def _error(future: Future) -> str | None:
    """Why the point failed (None: it has a result); BrokenProcessPool when its process died."""
    error = future.exception()
    if error is None:
        return None
    if isinstance(error, BrokenProcessPool):
        return "its worker process died"
    return failure_message(error)


@dataclass(frozen=True)
class ProcessPool:
    """An :class:`~optimizer.distributed.base.Executor` of ``workers`` local processes."""

    workers: int

    def run(self, job: Job[Task, Result, Kept]) -> list[Kept]:
        """See :meth:`optimizer.distributed.base.Executor.run`."""
        func, inputs, tasks = job.func, job.inputs, job.tasks
        kept: list[Any] = [None] * len(tasks)
        retry: list[int] = []
        with _pool(max(1, min(self.workers, len(tasks))), inputs) as pool, _stopped_on_error():
            futures = {pool.submit(_call, func, task): i for i, task in enumerate(tasks)}
            for future in as_completed(futures):
                i = futures[future]
                error = _error(future)
                if error is None:
                    kept[i] = job.receive(tasks[i], future.result())
                else:
                    retry.append(i)
                    job.on_retry(tasks[i], error)
        with ThreadPoolExecutor(max_workers=max(1, self.workers)) as threads, _stopped_on_error():
            again = threads.map(lambda i: self._isolated(func, inputs, tasks[i], job.on_failure), sorted(retry))
            for i, result in zip(sorted(retry), again, strict=True):
                kept[i] = job.receive(tasks[i], result)
        return kept

    @staticmethod
    def _isolated(func: Callable[[Inputs, Task], Result], inputs: Inputs, task: Task,
                  on_failure: Callable[[Task, str], Result]) -> Result:
        """``func(inputs, task)`` alone in a fresh single-worker pool, so a dying process names its point."""
        with _pool(1, inputs) as pool:
            future = pool.submit(_call, func, task)
            error = _error(future)
        return future.result() if error is None else on_failure(task, error)
