"""What the executors share: where points run (:class:`Where`), the executor protocol, the error of an
unreachable cluster. See :mod:`optimizer.distributed.executor`."""


from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

Task = TypeVar("Task")
Result = TypeVar("Result")
Kept = TypeVar("Kept")
Inputs = Any

LOCAL_CLUSTER = "local"
SCHEDULER_ENV = "WFPLAN_SCHEDULER"
ADDRESS = re.compile(r"^(tcp|tls|inproc|ucx|ws|wss)://[^\s/]+$")
"""A Dask scheduler address, e.g. ``tcp://10.0.0.5:8786``."""


class ClusterError(RuntimeError):
    """The Dask scheduler cannot be reached or has no workers (a user's environment problem: exit 2)."""


def default_workers() -> int:
    """One worker per CPU."""
    return os.cpu_count() or 1


def scheduler_problem(text: str) -> str | None:
    """Why ``text`` is not a scheduler (``local`` or ``tcp://HOST:PORT``), or None when it is one."""
    if text == LOCAL_CLUSTER or ADDRESS.match(text):
        return None
    return f"'{text}' is not a Dask scheduler address: give tcp://HOST:PORT, or 'local' for a LocalCluster"


@dataclass(frozen=True)
class Where:
    """Where the points run: ``workers`` local processes, or the Dask scheduler ``scheduler``."""

    scheduler: str | None = None
    workers: int = 1

    @property
    def remote(self) -> bool:
        """True when workers may run on other machines, so files go to them by value, not by path."""
        return self.scheduler is not None and self.scheduler != LOCAL_CLUSTER

    def describe(self) -> str:
        if self.scheduler is None:
            return f"{self.workers} local process{'es' * (self.workers != 1)}"
        if self.scheduler == LOCAL_CLUSTER:
            return f"a Dask LocalCluster of {self.workers} worker{'s' * (self.workers != 1)}"
        return f"the Dask scheduler at {self.scheduler}"


def failure_message(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


@dataclass(frozen=True)
class Job(Generic[Task, Result, Kept]):
    """Points to run: ``func(inputs, task)`` for every task (see :mod:`optimizer.distributed.executor`).

    ``on_failure(task, message)`` stands for the result of a point that failed twice; ``receive(task,
    result)`` is called in the client as each result arrives and what it returns is kept; ``on_retry(task,
    message)`` is called when a point's first run failed and it runs again."""

    func: Callable[[Inputs, Task], Result]
    inputs: Inputs
    tasks: Sequence[Task]
    on_failure: Callable[[Task, str], Result]
    receive: Callable[[Task, Result], Kept] = lambda task, result: result
    on_retry: Callable[[Task, str], None] = lambda task, message: None


class Executor(Protocol):
    """Runs points where :class:`Where` says; open one with :func:`optimizer.distributed.executor.executor`."""

    def run(self, job: Job[Task, Result, Kept]) -> list[Kept]:
        """What ``job.receive`` keeps of every point's result, in task order."""
