"""One way to run many independent points: ``[func(inputs, task) for task in tasks]``, in parallel.

Contract of ``func`` (a module-level function, so workers import it by name): a pure function of
(``inputs``, ``task``) — the same arguments give the same result on any worker — that reports its own
failures in its result. ``inputs`` (the input tables, the base scenario, a reference plan) go to each worker
once; tasks and results travel by value.

Where the points run (:class:`Where`):

- ``scheduler=None``: ``workers`` local processes (:mod:`optimizer.distributed.pool`); the default, since
  it starts in 0.04 s against a LocalCluster's ~1.6 s and ran the 16-point demo sweep 13% faster with half
  the overhead (benchmarks/README.md, "Sweeps: process pool against LocalCluster").
- ``scheduler="local"``: a Dask ``LocalCluster`` of ``workers`` one-thread worker processes on 127.0.0.1.
- ``scheduler="tcp://HOST:PORT"``: the Dask scheduler there and its workers (:mod:`optimizer.distributed.cluster`).

A :class:`~optimizer.distributed.base.Job` holds ``func``, ``inputs``, the tasks and three callbacks.
Failures: a point whose worker dies (a solver crash, the OOM killer, a lost machine) or whose ``func``
raises is run once more (``on_retry``); when that fails too, ``on_failure(task, message)`` stands for its
result. Every other point still gets its own. ``receive(task, result)`` is called in the client as each result
arrives (progress, writing files a remote worker sent back) and what it returns is kept as that point's result.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from optimizer.distributed.base import Executor, Job, Kept, Result, Task, Where
from optimizer.distributed.cluster import connected
from optimizer.distributed.pool import ProcessPool


@contextmanager
def executor(where: Where) -> Iterator[Executor]:
    """An :class:`Executor` for ``where``: connected to its scheduler (or with its LocalCluster started) on
    entry, so a scheduler that cannot be reached raises :class:`ClusterError` before anything is written;
    the connection is closed (the LocalCluster stopped) on exit."""
    if where.scheduler is None:
        yield ProcessPool(where.workers)
        return
    with connected(where) as cluster:
        yield cluster


def run_points(job: Job[Task, Result, Kept], where: Where) -> list[Kept]:
    """:meth:`~optimizer.distributed.base.Executor.run` of ``job`` on an executor opened for this one call."""
    with executor(where) as opened:
        return opened.run(job)
