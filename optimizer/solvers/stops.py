"""Stopping a command by Ctrl-C or SIGTERM, so that it unwinds instead of dying where it stands.

- :func:`stopping_on_signals`: within the block, SIGINT and SIGTERM raise :class:`KeyboardInterrupt` and
  :class:`Terminated` in the main thread, once: a second signal while the first unwinds is ignored, so the
  unwinding (worker processes stopped, a staged folder removed) is not itself cut short. A signal the process
  inherited as ignored stays ignored.
- :func:`raise_if_stopped`: HiGHS, run in this process, turns an exception raised inside one of its callbacks
  (where a signal arriving during a solve lands) into an error status and returns; its callers re-raise the stop
  after ``run()``, so a stopped solve stops the command instead of passing for a failed stage.
- :func:`deferred_stop`: a section that must not be cut in two (a plan folder put in place and its run
  recorded) takes a stop at its end instead.

Outside :func:`stopping_on_signals` (a worker process, a test runner's thread, the web page's job processes)
nothing here changes how a signal is handled.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C's :class:`KeyboardInterrupt` so that every ``with`` unwinds the same way."""


@dataclass
class _State:
    stop: KeyboardInterrupt | None = None
    """The stop a signal asked for (None: none)."""
    deferring: int = 0
    """How many :func:`deferred_stop` sections are open."""


_STATE = _State()


def _stop(signum: int, frame: Any) -> None:
    if _STATE.stop is not None:
        return  # the first stop is unwinding: let it finish
    _STATE.stop = Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()
    raise_if_stopped()


@contextmanager
def stopping_on_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise their stop in the main thread within the block (module docstring)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)
                if signal.getsignal(sig) is not signal.SIG_IGN}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _STATE.stop = None


def raise_if_stopped() -> None:
    """Raise the stop a signal asked for, unless a :func:`deferred_stop` section is open."""
    if _STATE.stop is not None and not _STATE.deferring:
        raise _STATE.stop


@contextmanager
def deferred_stop() -> Iterator[None]:
    """A stop asked for within the block is raised at its end (sections nest)."""
    _STATE.deferring += 1
    try:
        yield
    finally:
        _STATE.deferring -= 1
    raise_if_stopped()
