"""Points on Dask distributed: a scheduler at ``tcp://HOST:PORT`` with its workers, or a ``LocalCluster``
started for the run.

- ``inputs`` are scattered to every worker once (``Client.scatter(broadcast=True)``); a worker that joins
  later fetches them from a peer. Each point is one task holding that future, so nothing big travels per point.
- Points are submitted as the cluster has idle threads (never more in flight than its threads), so a worker
  that dies takes only the point it was running with it, and results are collected as they finish
  (``as_completed``). A point that errs — its worker died (``KilledWorker`` once the scheduler's own
  ``distributed.scheduler.allowed-failures`` re-runs are spent: 0 on the LocalCluster started here, and the
  docs tell to start a scheduler with 0, so the one retry below is the only one), or ``func`` raised — is
  submitted once more under a new key, ahead of the points not yet started; when that fails too,
  ``on_failure`` stands for its result.
- One point at a time per worker process even on a worker started with several threads: HiGHS keeps one
  scheduler per process and two solves in threads of one process can crash, so points take a process-wide lock.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from optimizer.distributed.base import ClusterError, Inputs, Job, Kept, Result, Task, Where, failure_message

CONNECT_SECONDS = 20
"""How long to wait for the scheduler to answer, and then for its first worker."""
QUIET_LOGGERS = ("distributed", "tornado", "asyncio")

_ONE_AT_A_TIME = threading.Lock()


def _call(func: Callable[[Inputs, Task], Result], inputs: Inputs, task: Task) -> Result:
    """``func(inputs, task)`` on a worker, never two at once in one process."""
    with _ONE_AT_A_TIME:
        return func(inputs, task)


@contextmanager
def _quiet_logs() -> Iterator[None]:
    """Dask's connection and shutdown chatter stays out of the command's progress lines (errors still show)."""
    loggers = [logging.getLogger(name) for name in QUIET_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


@contextmanager
def connected(where: Where) -> Iterator[DaskCluster]:
    """A :class:`DaskCluster` on the scheduler of ``where`` (a LocalCluster of ``where.workers`` one-thread
    processes on 127.0.0.1 for ``local``); ClusterError when it cannot be reached or has no worker."""
    import dask
    from distributed import Client, LocalCluster

    with _quiet_logs():
        if not where.remote:
            with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
                cluster = LocalCluster(n_workers=where.workers, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=None)
            with cluster, Client(cluster) as client:
                yield DaskCluster(client)
            return
        try:
            client = Client(where.scheduler, timeout=CONNECT_SECONDS)
        except (OSError, TimeoutError) as exc:
            raise ClusterError(f"cannot reach the Dask scheduler at {where.scheduler}: {exc}") from None
        with client:
            try:
                client.wait_for_workers(1, timeout=CONNECT_SECONDS)
            except (OSError, TimeoutError):
                raise ClusterError(f"the Dask scheduler at {where.scheduler} has no worker after "
                                   f"{CONNECT_SECONDS} s: start some with `dask worker {where.scheduler}`") from None
            yield DaskCluster(client)


@dataclass(frozen=True)
class DaskCluster:
    """An :class:`~optimizer.distributed.base.Executor` on a connected Dask client."""

    client: Any
    """A ``distributed.Client``."""

    def run(self, job: Job[Task, Result, Kept]) -> list[Kept]:
        """See :meth:`optimizer.distributed.base.Executor.run`."""
        func, inputs, tasks = job.func, job.inputs, job.tasks
        from distributed import as_completed

        run_id = f"{getattr(func, '__name__', 'point')}-{uuid.uuid4().hex[:8]}"
        shared = [self.client.scatter(inputs, broadcast=True, hash=False)]

        def submit(i: int, attempt: int) -> Any:
            if shared[0].status != "finished":  # every worker holding the inputs died: send them again
                shared[0] = self.client.scatter(inputs, broadcast=True, hash=False)
            return self.client.submit(_call, func, shared[0], tasks[i], key=f"{run_id}-{i}-try{attempt}", pure=False)

        kept: list[Any] = [None] * len(tasks)
        waiting: deque[tuple[int, int]] = deque((i, 1) for i in range(len(tasks)))
        running: dict[Any, tuple[int, int]] = {}
        finished = as_completed()

        def fill() -> None:
            """Submit points while the cluster has an idle thread (at least one point in flight)."""
            capacity = max(1, sum(self.client.nthreads().values()))
            while waiting and len(running) < capacity:
                i, attempt = waiting.popleft()
                future = submit(i, attempt)
                running[future] = (i, attempt)
                finished.add(future)

        with _quiet_logs():
            fill()
            for future in finished:
                i, attempt = running.pop(future)
                if future.status == "finished":
                    kept[i] = job.receive(tasks[i], future.result())
                elif attempt == 1:
                    job.on_retry(tasks[i], _task_error(future))
                    waiting.appendleft((i, 2))
                else:
                    kept[i] = job.receive(tasks[i], job.on_failure(tasks[i], _task_error(future)))
                future.release()
                fill()
        return kept


def _task_error(future: Any) -> str:
    """Why a task failed, in a line: a lost worker, or the exception ``func`` raised."""
    from distributed.scheduler import KilledWorker

    try:
        error = future.exception()
    except BaseException as exc:  # noqa: BLE001 — a cancelled future raises instead of returning its error
        error = exc
    if isinstance(error, KilledWorker):
        return "its worker died (the Dask scheduler reports KilledWorker)"
    return failure_message(error)
