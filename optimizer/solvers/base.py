"""The vocabulary every backend shares: options in, results out, and a backend's raw outcome."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Literal, get_args

import numpy as np

Progress = Callable[[str], None]
"""Receives one line of progress at a time (a phase starting, a stage ending, a better plan found)."""
Backend = Literal["highs", "cbc", "scip", "cpsat"]
Status = Literal["optimal", "feasible", "infeasible", "unbounded", "no_solution", "error"]
Verdict = Status | Literal["infeasible_or_unbounded"]
"""What a backend may report; "infeasible_or_unbounded" is settled by :func:`solve`."""
StoppedBy = Literal["time_limit", "node_limit", "gap", "bound", "other_limit"] | None
"""Which limit ended a run before the solver proved its answer: ``time_limit`` (the seconds it was given),
``node_limit`` (``SolveOptions.node_limit``: branch-and-bound nodes, deterministic), ``gap`` (the relative
gap asked for), ``bound`` (the bound passed ``SolveOptions.stop_above``: the question asked is answered),
``other_limit`` (any other limit a solver reports); None when the solver finished: proven optimal,
infeasible or unbounded, or failed."""

OPTIMALITY_TOLERANCE = 1e-6
"""|objective − bound| ≤ this · max(1, |objective|) counts as proven optimal."""



@dataclass(frozen=True)
class SolveOptions:
    backend: Backend
    time_limit: float
    gap: float
    threads: int = 1
    seed: int = 0
    msg: bool = False
    on_incumbent: Callable[[float, float | None], None] | None = None
    """Called with (objective, relative gap or None) whenever the solver reports a better plan (HiGHS)."""
    node_limit: int | None = None
    """Stop after this many branch-and-bound nodes (HiGHS ``mip_max_nodes``, CBC ``maxNodes``, SCIP
    ``limits/nodes``; CP-SAT has no nodes and ignores it): a limit that stops at the same point whatever the
    machine's load, unlike ``time_limit``. None: no node limit."""
    stop_above: float | None = None
    """Stop once the best bound shows the optimum is above this (HiGHS, from its MIP callback; other backends
    ignore it): a diagnosis probe asks only whether the target miss can be 0, and a bound above 0 says no.
    The run ends ``feasible`` or ``no_solution`` with ``stopped_by`` ``bound``. None: no such stop."""
    lp_method: Literal["simplex", "ipm"] = "simplex"
    """How HiGHS solves the LPs of its MIP search, or a linear program given to :func:`~optimizer.solvers.backends.solve`
    (other backends ignore it): the interior-point method is several times faster on the degenerate LPs of a
    goal that counts people (see :mod:`optimizer.solvers.staged`). A :class:`~optimizer.solvers.backends.HighsLpSession`
    leaves the choice to HiGHS."""
    crossover: bool = True
    """HiGHS on a linear program by the interior-point method: end at a vertex (``run_crossover``). Off: the
    interior solution, where only its objective and its feasibility matter (a diagnosis probe's start: the 45k
    group's mending linear program over six years 20.6 → 11.3 s, 6 s of crossover saved, the same 0)."""
    relaxation: bool = False
    """HiGHS on a mixed-integer model run in a child process (other backends and smaller models ignore it): solve
    its linear relaxation beside it on a spare core once it has gone a few seconds without a dual bound
    (:func:`optimizer.solvers.highs_run.run_in_child`), for ``SolveResult.relaxation``. The run itself is not
    changed. For the plan's lexicographic stages, whose bound tells how far a plan stopped by the clock may be
    from the best."""
    first_bound_limit: float | None = None
    """HiGHS on a mixed-integer model (other backends and linear programs ignore it): while the run has no dual
    bound yet (its root relaxation unsolved) it may go on up to this many seconds instead of ``time_limit``;
    once it has one it ends at ``time_limit``, or, when that has passed, a grace after the bound (2% of this
    limit: :class:`optimizer.solvers.highs_run.Deadlines`). For a lexicographic stage whose
    later goals would be left to a linear program if it stopped without a bound
    (:func:`optimizer.solvers.staged.first_bound_limit`). None: ``time_limit`` only."""

    def __post_init__(self) -> None:
        if self.backend not in get_args(Backend):
            raise ValueError(f"unknown backend {self.backend!r}, not one of {get_args(Backend)}")
        if not (self.time_limit > 0 and self.gap >= 0 and self.threads >= 1 and self.seed >= 0):
            raise ValueError(f"need time_limit > 0, gap ≥ 0, threads ≥ 1, seed ≥ 0: {self}")
        if self.node_limit is not None and self.node_limit < 0:
            raise ValueError(f"need node_limit ≥ 0 or None: {self}")

    def spent(self, seconds: float) -> SolveOptions:
        """These options with ``seconds`` already used: both limits that much shorter (at least 10 ms each)."""
        return replace(self, time_limit=max(self.time_limit - seconds, 0.01),
                       first_bound_limit=None if self.first_bound_limit is None
                       else max(self.first_bound_limit - seconds, 0.01))


@dataclass(frozen=True)
class Basis:
    """A simplex basis of a linear program: HiGHS's basis status (``HighsBasisStatus``: 0 at its lower bound,
    1 basic, 2 at its upper bound, 3 zero, 4 nonbasic) of every column and every row, in order. Another LP of
    the same shape (columns, rows) starts from it by dual simplex: after a change of bounds the basis stays
    dual feasible, and a few hundred pivots replace thousands (20k demo, the later years with year 1 fixed
    at another split: 0.16 s from the basis against 4.2 s cold)."""

    columns: np.ndarray
    rows: np.ndarray


@dataclass(frozen=True)
class SolveResult:
    status: Status
    values: np.ndarray | None
    objective: float | None
    bound: float | None
    gap: float | None
    seconds: float
    backend: str
    message: str
    stopped_by: StoppedBy = None
    """Which limit stopped the run (:data:`StoppedBy`)."""
    first_bound: float | None = None
    """Seconds from the run's start to the first dual bound its solver told (HiGHS on a MIP with a
    ``first_bound_limit``: :class:`optimizer.solvers.highs_run.Deadlines`); None: none, or not tracked."""
    relaxation: float | None = None
    """The optimum of the model's linear relaxation, solved beside the run (``SolveOptions.relaxation``): a bound
    on the objective as ``bound`` is, known apart from the solver's search; None: not solved, or not in time."""


@dataclass
class Outcome:
    """What a backend found, in the minimisation frame, before the shared bookkeeping."""

    status: Verdict
    values: np.ndarray | None = None
    bound: float | None = None
    message: str = ""
    stopped_by: StoppedBy = None
    """The limit the solver says stopped it, when it says so (a gap stop is told by :func:`solve`)."""
    first_bound: float | None = None
    """As ``SolveResult.first_bound``."""
    relaxation: float | None = None
    """As ``SolveResult.relaxation``, in the minimised frame."""


@dataclass
class Timer:
    """Seconds per named phase, in the order the phases ran; a phase entered again adds to its seconds."""

    seconds: dict[str, float] = field(default_factory=dict)
    progress: Progress = lambda message: None

    @contextmanager
    def phase(self, name: str, announce: bool = True) -> Iterator[None]:
        """Time the block as ``name``; ``announce``: tell ``progress`` the phase starts (not for a phase's
        last bit of work after other phases, which would print its name a second time)."""
        if announce:
            self.progress(name)
        start = time.perf_counter()
        yield
        self.seconds[name] = round(self.seconds.get(name, 0.0) + time.perf_counter() - start, 4)
