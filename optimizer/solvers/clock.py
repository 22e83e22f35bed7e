"""The run's solving budget: ``solver.time_limit`` seconds, drawn from by every solve of one run.

A run solves up to four times: the lexicographic stages (:func:`optimizer.solvers.staged.solve_model`), the
stability stage among them (with a reference), merit's re-solve with year 1 fixed
(:func:`optimizer.solvers.steps.merit_step`) and the diagnosis' probes (:mod:`optimizer.whatif.diagnosis`). One :class:`Clock` is started when the
first solve starts and handed on, so the whole run's solving ends by ``solver.time_limit`` (loading, building and
writing are not counted: they do not depend on the limit):

- a stage gets an equal share of what is left among the stages still to run *and* the ``later`` parts kept for
  the solves after it: ``share(n) = left / (n + later)``. Time a stage does not use goes to the ones after it;
  the last solve of a run gets all that is left. A stage whose goals after it would be left to merit's re-solve
  if it stopped before its solver had a bound may go on into their shares until it has one
  (:func:`optimizer.solvers.staged.first_bound_limit`); the ``later`` parts are never lent.
- ``later`` is :data:`MERIT_PARTS` (merit's re-solve, when one is needed), and ``if_missed`` the
  :data:`DIAGNOSIS_PARTS` kept when the run diagnoses a missed target; each solve hands the clock on with the
  parts of the solves still to come (:meth:`Clock.keeping`). The stages give the diagnosis' parts back once the
  targets are proven met (:meth:`Clock.met`: the mix stage at 0), and merit's re-solve keeps them only when the
  solved model misses a target: else no diagnosis follows, and the time is the solves' before it.
- the diagnosis ends at :attr:`Clock.deadline`: a probe that cannot build its model and solve before it is
  left undecided without being started.

A solver is stopped by its own ``time_limit`` and, for HiGHS, interrupted from its callbacks shortly after
(:data:`optimizer.solvers.highs_run.HIGHS_GRACE`; a large MIP runs in a child process, killed then), so no single call runs past its share by more than that grace.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

MERIT_PARTS = 2
"""Shares of the budget kept for merit's re-solve while the stages run (given back when none is needed). Two:
the linear program with year 1 fixed takes about a fifth to a quarter of a 60 s limit at 10k employees
(12–14.5 s), while the stages there use their whole shares (stopped by the clock, not their gaps); one share
(15 s of 60) left it 13.9 s, and under load it found no plan."""
DIAGNOSIS_PARTS = 2
"""Shares kept for the diagnosis of a missed target while the plan is solved (the diagnosis probes ~13 keys)."""
MET = 1e-3
"""A target miss (heads outside the mix band + budget overrun in mean pays: the ``mix`` goal) at most this
counts as every target met: no diagnosis follows."""
MIN_SECONDS = 0.01
"""The least a solver is given: solvers need a positive limit (0 means "none" to SCIP)."""


@dataclass(frozen=True)
class Clock:
    """``deadline`` (``time.perf_counter()`` seconds) by which every solve of a run ends; ``later`` shares of
    what is left are kept for the solves after the current one, and ``if_missed`` more for a diagnosis that
    follows only if a target is missed."""

    deadline: float
    later: int = 0
    if_missed: int = 0

    @classmethod
    def starting(cls, seconds: float, later: int = 0, if_missed: int = 0) -> Clock:
        """A clock ending ``seconds`` from now."""
        return cls(time.perf_counter() + seconds, later, if_missed)

    def left(self) -> float:
        """Seconds until the deadline (0 once it has passed)."""
        return max(self.deadline - time.perf_counter(), 0.0)

    def share(self, stages: int) -> float:
        """Seconds for the next of ``stages`` stages still to solve: left / (stages + later + if_missed), at least
        MIN_SECONDS."""
        return max(self.left() / (max(stages, 1) + self.later + self.if_missed), MIN_SECONDS)

    def keeping(self, later: int) -> Clock:
        """The same deadline, keeping ``later`` shares (all of them) for the solves after the next one."""
        return replace(self, later=later, if_missed=0)

    def met(self) -> Clock:
        """The same clock once every target is proven met: no diagnosis follows, its shares are given back."""
        return replace(self, if_missed=0)

    def wall_deadline(self) -> float:
        """The deadline as ``time.time()`` seconds, for work in other processes (the diagnosis' workers)."""
        return time.time() + self.left()
