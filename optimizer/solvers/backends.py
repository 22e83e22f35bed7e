"""Solver backends: one :class:`LinearModel`, four MILP solvers, one honest result.

``highs`` runs in process through highspy, ``cbc`` through PuLP (the CBC executable); ``scip`` and ``cpsat``
through OR-Tools' ``pywraplp`` (``Solver.SolveWithProto`` on an ``MPModelProto``, which unlike
``Solver.Solve`` also returns the solver's status text). Every backend minimises (``sense="max"``
negates the objective on the way in, the objective and bound on the way out). The status comes from
the solver itself, never from PuLP's status code (PuLP 3.3 calls a CBC run stopped by its time limit
"Optimal"):

- ``optimal``: proven, and the bound meets the objective: ``|objective − bound| ≤ 1e-6·max(1, |objective|)``.
  A run that stopped at ``options.gap`` with a larger gap than that is ``feasible``.
- ``feasible``: stopped (time limit, gap, other limit) with an incumbent.
- ``no_solution``: stopped without an incumbent, or a CP-SAT approximation that proves nothing.
- ``infeasible``: proven. ``unbounded``: claimed by the solver *and* a feasible point exists: a MIP's
  LP relaxation can be unbounded while the MIP is infeasible (CBC said "Problem is unbounded" for
  one), HiGHS and CP-SAT presolves may only know "infeasible or unbounded", and pywraplp reports
  SCIP's INFORUNBD as INFEASIBLE. Every such claim is settled by solving the feasibility problem (zero
  objective) with the same backend in the time left.
- ``error``: the solver failed or could not take the model; ``message`` says how.

``gap`` is ``|objective − bound| / |objective|`` (0 when they meet, ``inf`` when the objective is 0
and the bound is not), computed alike for every backend from the objective re-evaluated on the
returned values (integer columns rounded) and the solver's best bound.

Per backend (all four take ``start`` as a MIP start; each was checked in the solver's log):

- ``highs`` (highspy, in process): the model goes to ``Highs.passModel`` as one row-wise sparse matrix
  (:func:`optimizer.solvers.highs_run.lp_arrays`). Going through PuLP instead cost 1.5 s per stage at 1M employees (a Python object
  per variable and per coefficient, then one ``addCol``/``addRow`` call each) for the same HiGHS run.
  Model status, ``mip_dual_bound`` and the primal solution status come from the Highs object. Options
  ``random_seed``, ``threads``, ``mip_rel_gap``, ``time_limit``, and ``mip_lp_solver=ipm`` (a MIP) or
  ``solver=ipm`` (a linear program) when ``options.lp_method`` asks for the interior-point method; a MIP's
  ``options.first_bound_limit`` is kept by :mod:`optimizer.solvers.highs_run`; the process-wide HiGHS thread scheduler is
  reset before each solve (HiGHS refuses a run whose ``threads`` differs from the first run's). The
  start goes to ``Highs.setSolution`` before ``run()``, unless it breaks a row by more than HiGHS's absolute
  tolerance (:data:`HIGHS_FEASIBILITY`: HiGHS would repair it by an LP outside its time limit).
- ``cbc`` (``pulp.PULP_CBC_CMD`` on PuLP 3.3, ``pulp.COIN_CMD`` with ``pulp[cbc]`` on PuLP 4): status,
  incumbent and lower bound are parsed from CBC's log ("Result - Stopped on time limit",
  "Lower bound:"). Seeds ``randomCbcSeed``/``randomSeed`` (seed 0 keeps CBC's fixed defaults: CBC
  reads 0 as "seed from the clock"); more than one thread runs as ``threads 100+n``, CBC's repeatable
  parallel mode; ``msg`` prints the log after the run. CBC's solution file carries 8 significant
  digits, so continuous values can be off by ~1e-5 on rows with activities in the thousands.
- ``scip``: ``limits/gap``, ``randomization/randomseedshift``; single-threaded; start as solution hint.
- ``cpsat``: ``random_seed``, ``num_workers`` = threads (CP-SAT wants 8+), ``relative_gap_limit``; start as
  solution hint. CP-SAT solves integer programs only. A model is first tried through pywraplp with
  ``only_solve_ip``: without continuous variables, or when CP-SAT's MIP presolve eliminates them all,
  it is solved exactly and reported like any backend. Otherwise pywraplp's own conversion is no use:
  it puts continuous variables on a grid (step 1/``mip_var_scaling``) and keeps equality rows exact,
  so a balance row x[c,t] = 0.95·x[c,t−1] + … has no grid point (measured on the 400-employee
  baseline: "Invalid domain in constraint … domain: -883 domain: -884", MODEL_INVALID at every
  ``mip_var_scaling`` from 1 to 1e5, with or without ``mip_automatically_scale_variables`` or a larger
  ``mip_max_bound``; INFEASIBLE with ``mip_presolve_level:0``) – not an int64 overflow. So the backend
  builds the CP-SAT model itself (:class:`CpsatGrid`): continuous variables on a 1/``CPSAT_VAR_SCALING``
  grid with finite bounds derived from the rows (:func:`_implied_bounds`), every row widened by the
  most that rounding to the grid can move it, so the grid model holds the rounding of an optimal
  point. The integer part of CP-SAT's answer is kept and the continuous variables are re-optimised by
  GLOP; CP-SAT's best bound less the objective's grid error is a valid bound, so the answer is
  ``optimal`` only when it meets it (in practice ``feasible`` with a gap: the widening loosens the bound).
  Measured: the small tests and a 30-employee, three-year baseline give HiGHS's stage objectives;
  on the 400-employee baseline CP-SAT finds no grid solution within 60 s (1 or 2 workers), so the
  result is ``no_solution`` – use HiGHS, CBC or SCIP for such formulations.
"""

from __future__ import annotations

import math
import re
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Literal

import highspy
import numpy as np
import pulp
from ortools.linear_solver import linear_solver_pb2 as mp
from ortools.linear_solver import pywraplp

from optimizer.solvers import highs_run
from optimizer.solvers.cpsat_grid import CPSAT_VAR_SCALING, CpsatGrid
from optimizer.solvers.highs_run import HIGHS_LIMITS, HIGHS_STATUS, HighsJob, highs_lp, lp_arrays
from optimizer.solvers.linear_model import INF, Expr, LinearModel
from optimizer.solvers.pulp_model import pulp_problem, pulp_values, set_pulp_start
from optimizer.solvers.stops import raise_if_stopped
from optimizer.solvers.base import (
    OPTIMALITY_TOLERANCE,
    Backend,
    Basis,
    StoppedBy,
    SolveOptions,
    SolveResult,
    Status,
    Verdict,
    Outcome,
)

__all__ = ["Backend", "HighsLpSession", "SolveOptions", "SolveResult", "Status", "solve"]

def solve(
    model: LinearModel,
    objective: dict[int, float],
    options: SolveOptions,
    start: np.ndarray | None = None,
    sense: Literal["min", "max"] = "min",
) -> SolveResult:
    """Solve ``model`` for ``objective`` with ``options.backend``; ``start`` is an optional MIP start.

    ``options.time_limit`` bounds the wall time of the whole call, every run inside it included (a settling
    probe, a re-run without the start): each run gets what is left of it, and HiGHS is also interrupted from
    its callbacks when it is up, since it checks its own limit only between some steps. A start that holds
    every row is never lost: when the solver ends without a plan of its own, the result is the start
    (``feasible``, with the solver's bound)."""
    began = time.perf_counter()
    scale = objective_scale(objective)
    sign = 1.0 if sense == "min" else -1.0
    minimise = {var: sign * coef / scale for var, coef in objective.items()}
    clean_start = None if start is None else _clean_start(model, start)
    if options.on_incumbent is not None:
        report, factor = options.on_incumbent, sign * scale
        options = replace(options, on_incumbent=lambda objective, gap: report(factor * objective, gap))
    if options.stop_above is not None:
        if sense != "min":
            raise ValueError("stop_above needs a minimisation")
        options = replace(options, stop_above=options.stop_above / scale)
    outcome = _run_backend(model, minimise, options, clean_start)
    if outcome.status in ("unbounded", "infeasible_or_unbounded"):
        probe_options = options.spent(time.perf_counter() - began)
        outcome = _settle_unbounded(model, probe_options, outcome)
    if outcome.status == "no_solution" and clean_start is not None and not model.row_violations(clean_start):
        outcome = replace(outcome, status="feasible", values=clean_start,
                          message=f"{outcome.message}; the start kept, the solver found no plan of its own")
    result = _result(model, minimise, outcome, sign * scale, options, time.perf_counter() - began)
    if clean_start is not None and _start_not_improved(result, options):
        # the re-run gets its own time limit only: the shares lent until a bound were for the first run
        retry = solve(model, objective, replace(options.spent(time.perf_counter() - began), first_bound_limit=None),
                      None, sense)
        if retry.values is not None and sign * retry.objective < sign * result.objective:
            return replace(retry, seconds=time.perf_counter() - began, message=f"re-solved without the start; {retry.message}")
    return result


def objective_scale(objective: Expr) -> float:
    """The power of two nearest the median |coefficient|: the solver sees the objective divided by it, so
    a cost in CNY (coefficients ≈ 1e5 per head, ≈ 1e10 in all) is as well scaled as one in heads (HiGHS
    warns "badly scaled" and its simplex slows down otherwise). A power of two keeps the division exact."""
    magnitudes = [abs(coef) for coef in objective.values() if coef]
    if not magnitudes:
        return 1.0
    return float(2.0 ** round(math.log2(float(np.median(magnitudes)))))


def _start_not_improved(result: SolveResult, options: SolveOptions) -> bool:
    """A run with a MIP start that stopped early, well short of the requested gap: HiGHS 1.16 with
    presolve can return the start unimproved and call it optimal (a bound below the true optimum), so
    :func:`solve` re-runs such a stage once without the start and keeps the better plan."""
    stopped_early = result.seconds < 0.9 * options.time_limit
    return (
        result.status == "feasible"
        and stopped_early
        and result.gap is not None
        and result.gap > 10 * max(options.gap, 1e-6)
    )


# ---------------------------------------------------------------- shared bookkeeping


def _seconds_left(options: SolveOptions, began: float) -> float:
    """What is left of the time limit, at least 10 ms (a limit of 0 means "none" to SCIP)."""
    return max(options.time_limit - (time.perf_counter() - began), 0.01)


def _run_backend(model: LinearModel, objective: Expr, options: SolveOptions, start: np.ndarray | None) -> Outcome:
    try:
        return RUNNERS[options.backend](model, objective, options, start)
    except Exception as exc:  # a solver that fails is reported as status "error", not raised
        return Outcome("error", message=f"{type(exc).__name__}: {exc}")


def _settle_unbounded(model: LinearModel, options: SolveOptions, claim: Outcome) -> Outcome:
    """An "unbounded" or "infeasible or unbounded" claim becomes "unbounded" only if a feasible point
    exists: the same backend solves the feasibility problem (zero objective) to decide."""
    probe = _run_backend(model, {}, options, None)
    if probe.status in ("optimal", "feasible"):
        return Outcome("unbounded", message=f"{claim.message}; a feasible point exists")
    if probe.status in ("infeasible", "infeasible_or_unbounded", "unbounded"):  # 0 can't be unbounded
        return Outcome("infeasible", message=f"{claim.message}; the feasibility problem is infeasible")
    return Outcome("no_solution", message=f"{claim.message}; feasibility undecided: {probe.message}",
                   stopped_by=probe.stopped_by)


def _clean_start(model: LinearModel, start: np.ndarray) -> np.ndarray:
    """The start clipped to the bounds, integer columns rounded."""
    values = np.asarray(start, dtype=float)
    if values.shape != (model.n_vars,) or not np.isfinite(values).all():
        raise ValueError(f"start needs {model.n_vars} finite values, got shape {values.shape}")
    integer = np.asarray(model.integer, dtype=bool)
    values = np.where(integer, np.round(values), values)
    return np.clip(values, model.lb, model.ub)


def _relative_gap(objective: float, bound: float) -> float:
    diff = abs(objective - bound)
    if diff <= 1e-9 * max(1.0, abs(objective)):
        return 0.0
    return diff / abs(objective) if objective else math.inf


def _result(
    model: LinearModel, objective: Expr, outcome: Outcome, factor: float, options: SolveOptions, seconds: float
) -> SolveResult:
    """The shared bookkeeping; the solver minimised ``objective`` = the caller's objective / ``factor``
    (−1 for a maximisation, times :func:`objective_scale`). A plan short of proven whose gap is within
    ``options.gap`` was stopped by the gap, unless the solver named another limit."""
    status, values, bound, stopped_by = outcome.status, outcome.values, outcome.bound, outcome.stopped_by
    value = gap = None
    if values is not None:
        values = np.where(np.asarray(model.integer, dtype=bool), np.round(values), values)
        value = model.evaluate(objective, values)
        if bound is not None:
            gap = _relative_gap(value, bound)
        if status == "optimal" and (
            bound is None or abs(value - bound) > OPTIMALITY_TOLERANCE * max(1.0, abs(value))
        ):
            status = "feasible"
        if status == "feasible" and stopped_by is None and gap is not None and gap <= options.gap:
            stopped_by = "gap"
    return SolveResult(
        status=status,
        values=values,
        objective=None if value is None else factor * value,
        bound=None if bound is None else factor * bound,
        gap=gap,
        seconds=seconds,
        backend=options.backend,
        message=outcome.message,
        stopped_by=stopped_by if status in ("feasible", "no_solution") else None,
        first_bound=outcome.first_bound,
        relaxation=None if outcome.relaxation is None else factor * outcome.relaxation,
    )


HIGHS_FEASIBILITY = 1e-6
"""HiGHS's ``primal_feasibility_tolerance``, absolute: a MIP start that breaks a row by more is not passed to
HiGHS. HiGHS 1.16 would first "complete" it by an LP over the continuous variables with the integer ones fixed,
on a clock of its own, then start the MIP with its full ``time_limit``: measured on the 45k-employee group
(loaded machine), a 10 s limit and a start breaking balance rows took 21.0 s (the LP 9.4 s by dual simplex,
our interrupt callbacks not called inside it). A plan of an earlier stage can break a row with an activity in
the millions by more than 1e-6 and still hold within :meth:`LinearModel.row_violations`' relative tolerance:
:func:`solve` then keeps it as the stage's plan if HiGHS finds none of its own."""

def _solve_highs(model: LinearModel, objective: Expr, options: SolveOptions, start: np.ndarray | None) -> Outcome:
    """One HiGHS run (:mod:`optimizer.solvers.highs_run`: in a child process for a large MIP, so that the
    time limit holds even where HiGHS does not check it)."""
    settings: dict[str, object] = {
        "output_flag": options.msg,
        "mip_rel_gap": options.gap,
        "threads": options.threads,
        "random_seed": options.seed,
    }
    if options.lp_method == "ipm":
        settings["mip_lp_solver" if any(model.integer) else "solver"] = "ipm"
    if not options.crossover:
        settings["run_crossover"] = "off"
    if options.node_limit is not None:
        settings["mip_max_nodes"] = options.node_limit
    note = ""
    if start is not None and model.row_violations(start, HIGHS_FEASIBILITY, scaled=False):
        start, note = None, "; the start was not passed (it breaks a row by more than HiGHS's 1e-6)"
    report = options.on_incumbent
    job = HighsJob(lp_arrays(model, objective), settings, start, options.time_limit, options.stop_above,
                   options.first_bound_limit, relax=options.relaxation)
    outcome = highs_run.run(job, None if report is None else lambda objective, gap, bound, values: report(objective, gap))
    return replace(outcome, message=f"{outcome.message}{note}")


class HighsLpSession:
    """A linear program (no integer column) kept in one HiGHS instance across lexicographic stages, so each
    stage after the first starts from the previous stage's optimal basis instead of from nothing.

    Between stages only the objective changes and rows are appended (a stage's fixing row, which the previous
    optimum satisfies) or removed from the end: after an optimal run with only rows appended since, the old
    basis stays primal feasible and HiGHS goes on by primal simplex; any other run starts as :func:`solve`
    would on a linear program: HiGHS's choice, or the interior-point method (with crossover, so the stages
    after it start hot) when ``options.lp_method`` asks for it. An interior-point run ends at another vertex of
    a degenerate optimum (Williams' least-redundancy plan at another cost), so the caller asks for it only
    where later stages choose among those vertices (:func:`optimizer.solvers.staged.solve_model`: merit's
    re-solve of the 100k group with an unreachable mix, its mix stage 20.2 s by dual simplex, 5.3 s so).
    :meth:`solve` first brings the instance's rows in line with ``model.rows`` (the rows
    both hold in the same order are kept; the rest are deleted and the model's added), so the caller edits
    ``model`` only. Measured on the merit re-solve of the 20k demo (the model with year 1 fixed, 39,761
    columns, an LP): its disruption stage took 52 s cold by the interior-point method, 1.4 s hot.

    A run is bounded by ``options.time_limit`` through HiGHS's interrupt callbacks (its own ``time_limit``
    counts the instance's earlier runs too). An outcome the session cannot settle (unbounded or "infeasible
    or unbounded") is handed to :func:`solve`, cold."""

    def __init__(self, model: LinearModel):
        if any(model.integer):
            raise ValueError("HighsLpSession holds linear programs only")
        self.model = model
        self.highs: highspy.Highs | None = None
        self.held: list = []
        """the model's rows the instance holds, in order (rows free on both sides are not passed to HiGHS)"""
        self.deadline = math.inf
        self.optimal = False
        """the last run ended optimal: the next starts from its basis by primal simplex"""

    def _passed(self, rows: list) -> int:
        return sum(1 for row in rows if row.lo > -INF or row.hi < INF)

    def _sync(self, objective: Expr) -> None:
        """Pass the model with ``objective`` (first run), else set the objective and align the rows."""
        cost = np.zeros(self.model.n_vars)
        np.add.at(cost, np.fromiter(objective.keys(), dtype=np.int64, count=len(objective)),
                  np.fromiter(objective.values(), dtype=float, count=len(objective)))
        if self.highs is None:
            highspy.Highs.resetGlobalScheduler(True)
            self.highs = highspy.Highs()
            self.highs.setOptionValue("output_flag", False)
            self.highs.passModel(highs_lp(lp_arrays(self.model, objective)))
            self.held = list(self.model.rows)
            for callback in (self.highs.cbSimplexInterrupt, self.highs.cbIpmInterrupt):
                callback.subscribe(self._interrupt)
            return
        same = 0
        for mine, theirs in zip(self.held, self.model.rows):
            if mine is not theirs:
                break
            same += 1
        dropped = self._passed(self.held[same:])
        self.optimal = self.optimal and not dropped  # a basis without one of its rows is not one to go on from
        if dropped:
            total = self.highs.getNumRow()
            self.highs.deleteRows(dropped, np.arange(total - dropped, total, dtype=np.int32))
        for row in self.model.rows[same:]:
            if row.lo > -INF or row.hi < INF:
                columns = np.fromiter(row.expr.keys(), dtype=np.int32, count=len(row.expr))
                values = np.fromiter(row.expr.values(), dtype=float, count=len(row.expr))
                self.highs.addRow(max(row.lo, -highspy.kHighsInf), min(row.hi, highspy.kHighsInf), len(columns),
                                  columns, values)
        self.held = list(self.model.rows)
        self.highs.changeColsCost(self.model.n_vars, np.arange(self.model.n_vars, dtype=np.int32), cost)

    def _interrupt(self, event) -> None:
        if time.perf_counter() >= self.deadline:
            event.interrupt()

    @staticmethod
    def _cold(options: SolveOptions, began: float) -> SolveOptions:
        """``options`` for :func:`solve` on the session's linear program in the time left, HiGHS choosing the
        method as the session does (``lp_method`` would ask a linear program for the interior-point method)."""
        return replace(options, time_limit=_seconds_left(options, began), lp_method="simplex")

    def solve(self, objective: Expr, options: SolveOptions, warm: Basis | None = None) -> SolveResult:
        """Minimise ``objective`` over the model's rows as they are now, from the last run's basis, else from
        ``warm`` (the basis of another LP of this shape: dual simplex; ignored when the shape differs); the
        result is :func:`solve`'s (same scaling, status, gap and bookkeeping); :meth:`basis` gives the basis
        it ended at."""
        began = time.perf_counter()
        scale = objective_scale(objective)
        minimise = {var: coef / scale for var, coef in objective.items()}
        hot = self.optimal  # the last run left an optimal basis (rows it holds only appended to since)
        self._sync(minimise)
        highs = self.highs
        warmed = not hot and warm is not None and self._set_basis(warm)
        highs.setOptionValue("threads", options.threads)
        highs.setOptionValue("random_seed", options.seed)
        highs.setOptionValue("solver", "simplex" if hot or warmed else "ipm" if options.lp_method == "ipm" else "choose")
        highs.setOptionValue("simplex_strategy", 4 if hot else 1)  # 4: primal from the basis; 1: dual
        self.deadline = began + options.time_limit
        highs.run()
        raise_if_stopped()  # a stop raised inside a callback comes back as an error status
        model_status = highs.getModelStatus().name
        self.optimal = model_status == "kOptimal"
        if (hot or warmed) and model_status in ("kInfeasible", "kUnbounded", "kUnboundedOrInfeasible", "kSolveError",
                                                "kUnknown"):
            # the last optimum holds every row, so "infeasible" from its basis is numerical trouble (seen once on
            # the 20k demo's merit LP at load 12): solve cold in the time left, as without a session
            return solve(self.model, objective, self._cold(options, began))
        if model_status in ("kUnbounded", "kUnboundedOrInfeasible"):
            return solve(self.model, objective, self._cold(options, began))
        status = HIGHS_STATUS.get(model_status)
        stopped_by = HIGHS_LIMITS.get(model_status)
        if stopped_by is not None:
            status = "no_solution"  # an LP stopped early has no proven plan
        started = " (from the previous stage's basis)" if hot else " (from a basis of the same shape)" if warmed else ""
        outcome = Outcome(status or "error", message=f"HiGHS {model_status}{started}", stopped_by=stopped_by)
        if status == "optimal":
            outcome.values = np.array(highs.getSolution().col_value, dtype=float)
            outcome.bound = highs.getInfo().objective_function_value
        return _result(self.model, minimise, outcome, scale, options, time.perf_counter() - began)

    def basis(self) -> Basis | None:
        """The basis the last run ended optimal at (None when it did not): a warm start for :meth:`solve` of
        another LP of this shape."""
        if not self.optimal:
            return None
        held = self.highs.getBasis()
        columns, rows = held.col_status, held.row_status  # each read converts HiGHS's whole vector
        return Basis(np.array([status.value for status in columns], dtype=np.int8),
                     np.array([status.value for status in rows], dtype=np.int8))

    def _set_basis(self, basis: Basis) -> bool:
        """Start the next run from ``basis`` when it has the instance's shape, only HiGHS's statuses (a basis
        read from a file may hold anything) and HiGHS takes it."""
        statuses = [highspy.HighsBasisStatus(k) for k in range(5)]
        if len(basis.columns) != self.highs.getNumCol() or len(basis.rows) != self.highs.getNumRow() or any(
                part.size and (part.min() < 0 or part.max() >= len(statuses)) for part in (basis.columns, basis.rows)):
            return False
        given = highspy.HighsBasis()
        given.col_status = [statuses[k] for k in basis.columns.tolist()]
        given.row_status = [statuses[k] for k in basis.rows.tolist()]
        given.valid = True
        return self.highs.setBasis(given) == highspy.HighsStatus.kOk


_CBC_VERDICT = re.compile(
    r"^(?:Result - .+|(?:Optimal|Primal infeasible|Dual infeasible|Stopped[^-\n]*) - objective value.*"
    r"|Problem is (?:infeasible|unbounded).*|Pre-processing says.*)$",
    re.MULTILINE,
)
_CBC_OBJECTIVE = re.compile(r"objective value:?\s+([-+0-9.eE]+)", re.IGNORECASE)
_CBC_LOWER_BOUND = re.compile(r"^Lower bound:\s+([-+0-9.eE]+)", re.MULTILINE)


def parse_cbc_log(log: str) -> tuple[Verdict, float | None, str]:
    """Status, bound and verdict from CBC's log: its last verdict line (the MIP "Result - …" block,
    or Clp's line when CBC solved an LP or decided in preprocessing) and the numbers after it."""
    verdicts = list(_CBC_VERDICT.finditer(log))
    if not verdicts:
        return "error", None, "CBC gave no verdict"
    verdict = verdicts[-1].group(0).removeprefix("Result - ").strip()
    tail = log[verdicts[-1].start() :]
    objective = _CBC_OBJECTIVE.search(tail)
    lowered = verdict.lower()
    if "dual infeasible" in lowered or "unbounded" in lowered:
        status: Verdict = "infeasible_or_unbounded"
    elif lowered.startswith("optimal"):
        status = "optimal"
    elif "infeasible" in lowered:
        status = "infeasible"
    elif lowered.startswith("stopped"):
        # the MIP's "Objective value:" line is an incumbent; Clp's "Stopped … - objective value" is not
        status = "feasible" if objective and "objective value" not in lowered else "no_solution"
    else:
        status = "error"
    lower_bound = _CBC_LOWER_BOUND.search(tail)
    if lower_bound:
        bound: float | None = float(lower_bound.group(1))
    elif status == "optimal" and objective:
        bound = float(objective.group(1))
    else:
        bound = None
    return status, bound, f"CBC {verdict}"


def _cbc_solver(options: SolveOptions, seconds: float, warm: bool, log: Path) -> pulp.LpSolver:
    """CBC stopping after ``seconds`` of wall time (``timeMode elapsed``: CBC counts CPU time otherwise, which
    falls behind the clock on a loaded machine) or ``options.node_limit`` nodes."""
    extra = ["timeMode elapsed"]
    if options.seed:
        extra += [f"randomCbcSeed {options.seed}", f"randomSeed {options.seed}"]
    if options.node_limit is not None:
        extra.append(f"maxNodes {options.node_limit}")
    cbc = getattr(pulp, "PULP_CBC_CMD", None) or pulp.COIN_CMD  # bundled CBC on PuLP 3, pulp[cbc] on 4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return cbc(
            msg=False,
            timeLimit=seconds,
            gapRel=options.gap,
            threads=100 + options.threads if options.threads > 1 else None,
            warmStart=warm,
            logPath=str(log),
            options=extra,
        )


def _cbc_stopped_by(message: str) -> StoppedBy:
    """The limit named by CBC's "Stopped on …" verdict (None for any other verdict)."""
    lowered = message.lower()
    if "stopped" not in lowered:
        return None
    return "time_limit" if "time" in lowered else "node_limit" if "node" in lowered else "other_limit"


def _solve_cbc(model: LinearModel, objective: Expr, options: SolveOptions, start: np.ndarray | None) -> Outcome:
    began = time.perf_counter()
    prob, cols = pulp_problem(model, objective)
    set_pulp_start(cols, start)
    with tempfile.TemporaryDirectory(prefix="wfplan-cbc-") as folder:
        log_path = Path(folder) / "cbc.log"
        prob.solve(_cbc_solver(options, _seconds_left(options, began), start is not None, log_path))
        log = log_path.read_text()
    if options.msg:
        print(log)
    status, bound, message = parse_cbc_log(log)
    values = pulp_values(cols) if status in ("optimal", "feasible") else None
    return Outcome(status, values, bound, message, _cbc_stopped_by(message))


# ---------------------------------------------------------------- OR-Tools (SCIP, CP-SAT)

_MP_STATUS: dict[int, Verdict] = {
    mp.MPSOLVER_OPTIMAL: "optimal",
    mp.MPSOLVER_FEASIBLE: "feasible",
    mp.MPSOLVER_INFEASIBLE: "infeasible",
    mp.MPSOLVER_UNBOUNDED: "unbounded",
    mp.MPSOLVER_NOT_SOLVED: "no_solution",
}
_MP_AMBIGUOUS = re.compile(r"infeasible or unbounded|may actually be unbounded", re.IGNORECASE)


def _mp_model(model: LinearModel, objective: Expr, start: np.ndarray | None) -> mp.MPModelProto:
    """The model as OR-Tools' MPModelProto (minimisation), with ``start`` as its solution hint."""
    proto = mp.MPModelProto(name=model.name)
    for name, lb, ub, integer in zip(model.var_names, model.lb, model.ub, model.integer):
        proto.variable.add(name=name, lower_bound=lb, upper_bound=ub, is_integer=integer)
    for var, coef in objective.items():
        proto.variable[var].objective_coefficient = coef
    for row in model.rows:
        proto.constraint.add(
            name=row.name,
            lower_bound=row.lo,
            upper_bound=row.hi,
            var_index=list(row.expr),
            coefficient=list(row.expr.values()),
        )
    if start is not None:
        proto.solution_hint.var_index.extend(range(model.n_vars))
        proto.solution_hint.var_value.extend(start.tolist())
    return proto


def _solve_mp(
    proto: mp.MPModelProto, solver_type: int, seconds: float | None, parameters: str, msg: bool
) -> mp.MPSolutionResponse:
    request = mp.MPModelRequest(
        model=proto,
        solver_type=solver_type,
        solver_specific_parameters=parameters,
        enable_internal_solver_output=msg,
    )
    if seconds is not None:
        request.solver_time_limit_seconds = seconds
    response = mp.MPSolutionResponse()
    pywraplp.Solver.SolveWithProto(request, response)
    return response


def _mp_outcome(solver: str, response: mp.MPSolutionResponse, limit: StoppedBy = "time_limit") -> Outcome:
    """The outcome of a pywraplp run; ``limit`` is what stopped a run that ended short of proven
    (FEASIBLE or NOT_SOLVED: pywraplp does not say which limit)."""
    status = _MP_STATUS.get(response.status, "error")
    if _MP_AMBIGUOUS.search(response.status_str):
        status = "infeasible_or_unbounded"  # pywraplp calls SCIP's INFORUNBD "INFEASIBLE"
    name = mp.MPSolverResponseStatus.Name(response.status).removeprefix("MPSOLVER_")
    message = f"{solver} {name} {response.status_str}".strip()
    stopped_by = limit if status in ("feasible", "no_solution") else None
    if status not in ("optimal", "feasible"):
        return Outcome(status, message=message, stopped_by=stopped_by)
    bound = response.best_objective_bound
    values = np.array(response.variable_value, dtype=float)
    return Outcome(status, values, bound if math.isfinite(bound) else None, message, stopped_by)


def _solve_scip(model: LinearModel, objective: Expr, options: SolveOptions, start: np.ndarray | None) -> Outcome:
    began = time.perf_counter()
    parameters = f"limits/gap = {options.gap!r}\nrandomization/randomseedshift = {options.seed}\n"
    if options.node_limit is not None:
        parameters += f"limits/nodes = {options.node_limit}\n"
    proto = _mp_model(model, objective, start)
    seconds = _seconds_left(options, began)
    response = _solve_mp(proto, mp.MPModelRequest.SCIP_MIXED_INTEGER_PROGRAMMING, seconds, parameters, options.msg)
    ran_out = time.perf_counter() - began >= 0.99 * options.time_limit
    return _mp_outcome("SCIP", response, "time_limit" if ran_out or options.node_limit is None else "node_limit")


def _solve_cpsat(model: LinearModel, objective: Expr, options: SolveOptions, start: np.ndarray | None) -> Outcome:
    began = time.perf_counter()
    proto = _mp_model(model, objective, start)
    common = (
        f"random_seed:{options.seed} num_workers:{options.threads} "
        f"relative_gap_limit:{options.gap!r} log_search_progress:{str(options.msg).lower()}"
    )
    sat = mp.MPModelRequest.SAT_INTEGER_PROGRAMMING
    exact = _solve_mp(proto, sat, _seconds_left(options, began), f"{common} only_solve_ip:true", options.msg)
    if "only_solve_ip" not in exact.status_str:
        return _mp_outcome("CP-SAT", exact)  # an integer program after CP-SAT's MIP presolve
    grid = CpsatGrid(model, objective, CPSAT_VAR_SCALING)
    gridded = grid.solve(options, _seconds_left(options, began), start)
    return _exact_continuous(proto, gridded, grid)


def _exact_continuous(proto: mp.MPModelProto, gridded: Outcome, grid: CpsatGrid) -> Outcome:
    """Keep the integer part of CP-SAT's gridded answer and re-optimise the continuous variables
    with GLOP. The grid model holds the rounding of an optimal point, so its bound (less the
    objective's rounding error) bounds the model; the answer is optimal only when it meets it."""
    note = f"CP-SAT on a 1/{CPSAT_VAR_SCALING:g} grid for the continuous variables"
    if grid.missing:
        note += f" ({grid.missing} without derived bounds: capped, no bound)"
    if gridded.status in ("unbounded", "infeasible_or_unbounded"):
        return Outcome(gridded.status, message=f"{note}: {gridded.message}")
    if gridded.status == "error":
        return Outcome("error", message=f"{note} could not convert the model: {gridded.message}")
    if gridded.values is None:
        return Outcome("no_solution", message=f"{note}: {gridded.message}, which proves nothing for the model")
    fixed = mp.MPModelProto()
    fixed.CopyFrom(proto)
    fixed.ClearField("solution_hint")
    for variable, value in zip(fixed.variable, gridded.values):
        if variable.is_integer:
            variable.lower_bound = variable.upper_bound = round(value)
            variable.is_integer = False
    response = _solve_mp(fixed, mp.MPModelRequest.GLOP_LINEAR_PROGRAMMING, None, "", False)
    if response.status != mp.MPSOLVER_OPTIMAL:
        return Outcome("no_solution", message=f"{note}: its integer part does not fit the model")
    values = np.array(response.variable_value, dtype=float)
    return Outcome("optimal", values, gridded.bound, f"{note}, continuous variables re-optimised by GLOP")


RUNNERS: dict[str, Callable[[LinearModel, Expr, SolveOptions, np.ndarray | None], Outcome]] = {
    "highs": _solve_highs,
    "cbc": _solve_cbc,
    "scip": _solve_scip,
    "cpsat": _solve_cpsat,
}
"""The runner of each backend name: (model, objective, options, start) → its raw :class:`Outcome`."""
