"""What every browser session of one server shares: the settings and the run queue, one per home folder.

The Streamlit script runs again on every interaction; this module is imported once per server process, so the
queue made here outlives the reruns and is the same for every session (two planners share one queue). It is
closed when the process exits: queued runs are dropped and running solves cancelled, never left behind.
"""

from __future__ import annotations

import atexit
import threading
from dataclasses import dataclass

from web.jobs import RunQueue
from web.settings import Settings


@dataclass(frozen=True)
class Services:
    settings: Settings
    queue: RunQueue


_LOCK = threading.Lock()
_SERVICES: dict[Settings, Services] = {}


def services(settings: Settings) -> Services:
    """The services of ``settings`` (made on first use, then shared)."""
    with _LOCK:
        found = _SERVICES.get(settings)
        if found is None:
            queue = RunQueue(settings.runs, settings.jobs, settings.workers, settings.store)
            found = _SERVICES[settings] = Services(settings, queue)
        return found


def close_all() -> None:
    """Close every queue (cancel what still runs); the next :func:`services` call starts afresh."""
    with _LOCK:
        closing = list(_SERVICES.values())
        _SERVICES.clear()
    for found in closing:
        found.queue.close()


atexit.register(close_all)
