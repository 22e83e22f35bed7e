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
