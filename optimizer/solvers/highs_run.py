"""One HiGHS run of a model given as arrays, in this process or in a child process the clock can always stop.

HiGHS stops at its ``time_limit`` and when a callback interrupts it, but it checks both only between some
steps. Its root cut loop calls neither: py-spy on the 20k demo's stability stage (a 20 s limit, ended after
54–68 s with no LP iteration after the root LP) showed it in ``HighsPathSeparator::separateLpSolution``,
which aggregates paths of up to six rows from every tight row, and the fixing rows of earlier stages (the cost
goal's row holds every pay coefficient of the model) make those aggregations long. No HiGHS option turns that
separator off. So a mixed-integer run of a model with at least :data:`CHILD_MIN_COLUMNS` columns runs in a
child process (:func:`run_in_child`): the child sends every improving plan as it finds it, and at the
deadline (plus :data:`HIGHS_GRACE` of the limit) the parent takes the last one and kills the child. The
outcome is the same as in process whenever HiGHS stops by itself; when it had to be killed, it is the best
plan found by then (``stopped_by`` ``time_limit``) with the last bound HiGHS reported. A run with a
``first_bound_limit`` has two deadlines (:class:`Deadlines`): the longer one until HiGHS has a dual bound, its
time limit from then on; the child tells the parent when it first sees one, and both count from the moment the
parent started the run (``HighsJob.began``), so the child stops itself at the deadline and the parent's kill, a
grace later, is the backstop; a child whose parent dies (a worker process stopped mid-run) is killed by the
kernel (:func:`_die_with`). A run that asks for it (``HighsJob.relax``) and has gone :data:`RELAX_AFTER` seconds
without a dual bound gets its linear relaxation solved beside it in a second child, on a core of its own, for a
bound that does not wait for the MIP's root (``Outcome.relaxation``; the plan stays the MIP's). Smaller models and
linear programs (whose simplex and interior-point iterations call the interrupt) run in process
(:func:`run_job`): a child costs about half a second to start.
"""

from __future__ import annotations

import ctypes
import math
import os
import pickle
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import highspy
import numpy as np

from optimizer.solvers.base import Outcome, StoppedBy, Verdict
from optimizer.solvers.linear_model import INF, Expr, LinearModel, row_arrays
from optimizer.solvers.stops import raise_if_stopped

HIGHS_GRACE = 0.02
"""HiGHS is interrupted (in process) or killed (in a child) this share of its time limit after the limit."""
CHILD_MIN_COLUMNS = 20_000
"""Mixed-integer models with at least this many columns run in a child process (module docstring); the 20k
demo's model has 39,821, a test's a few hundred."""

HIGHS_STATUS: dict[str, Verdict] = {
    "kOptimal": "optimal",
    "kInfeasible": "infeasible",
    "kUnbounded": "unbounded",
    "kUnboundedOrInfeasible": "infeasible_or_unbounded",
}
HIGHS_LIMITS: dict[str, StoppedBy] = {
    "kTimeLimit": "time_limit",
    "kInterrupt": "time_limit",  # only the deadline of :func:`_interrupt_at` interrupts a run
    "kHighsInterrupt": "time_limit",
    "kSolutionLimit": "node_limit",  # mip_max_nodes (also mip_max_leaves, mip_max_improving_sols: not set)
    "kIterationLimit": "other_limit",
    "kObjectiveBound": "other_limit",
    "kObjectiveTarget": "other_limit",
    "kMemoryLimit": "other_limit",
}

RELAXATION_TOLERANCE = 1e-6
"""Relative margin taken off the relaxation's optimum before it is told as a bound: the interior-point method
without crossover ends within its tolerances (1e-8) of the optimum, not on it."""

RELAX_AFTER = 3.0
"""Seconds a mixed-integer run in a child may go without a dual bound before its linear relaxation is solved
beside it (``HighsJob.relax``): a run whose root comes sooner (the 20k demo's cost stage) costs nothing more."""

PR_SET_PDEATHSIG = 1
"""prctl(2) option: the signal the kernel sends a process when the thread that started it ends."""

Improved = Callable[[float, float | None, float | None, np.ndarray], None]
"""Called with (objective, relative gap or None, dual bound or None, the plan) for every improving plan."""


@dataclass(frozen=True)
class HighsJob:
    """Everything one run needs, picklable: the model as HiGHS's row-wise arrays (:func:`lp_arrays`), the
    options to set, a start (or None), the time limit, with ``stop_above`` the bound at which to stop, and with
    ``first_bound_limit`` how long a mixed-integer run may go on while it has no dual bound
    (``SolveOptions.first_bound_limit``). ``began``: when the run started on the wall clock (``time.time()``),
    set by :func:`run_in_child` so that the child's deadlines are the parent's; None: when it starts here."""

    arrays: dict[str, np.ndarray]
    settings: dict[str, object]
    start: np.ndarray | None
    time_limit: float
    stop_above: float | None = None
    first_bound_limit: float | None = None
    began: float | None = None
    relax: bool = False
    """In a child (:func:`run_in_child`), with a core to spare: solve the linear relaxation beside the run once
    it has gone :data:`RELAX_AFTER` s without a dual bound, for ``Outcome.relaxation``."""

    def longest(self) -> float:
        """The most seconds the run may take: ``time_limit``, or longer while a MIP has no bound."""
        if not len(self.arrays["integer"]):
            return self.time_limit
        return max(self.time_limit, self.first_bound_limit or 0.0)


def lp_arrays(model: LinearModel, objective: Expr) -> dict[str, np.ndarray]:
    """The model as HiGHS's LP arrays: a row-wise sparse matrix built in one pass, ranges kept as ranges, rows
    free on both sides left out, integrality per column (empty for a linear program)."""
    inf = highspy.kHighsInf
    rows = [row for row in model.rows if row.lo > -INF or row.hi < INF]
    starts, columns, coefficients = row_arrays([row.expr for row in rows])
    cost = np.zeros(model.n_vars)
    np.add.at(cost, np.fromiter(objective.keys(), dtype=np.int64), np.fromiter(objective.values(), dtype=float))
    return {
        "cost": cost,
        "lower": np.clip(np.asarray(model.lb, dtype=float), -inf, inf),
        "upper": np.clip(np.asarray(model.ub, dtype=float), -inf, inf),
        "row_lower": np.clip(np.fromiter((row.lo for row in rows), dtype=float, count=len(rows)), -inf, inf),
        "row_upper": np.clip(np.fromiter((row.hi for row in rows), dtype=float, count=len(rows)), -inf, inf),
        "starts": starts.astype(np.int32),
        "columns": columns.astype(np.int32),
        "coefficients": np.asarray(coefficients, dtype=float),
        "integer": np.asarray(model.integer, dtype=bool) if any(model.integer) else np.zeros(0, dtype=bool),
    }


def highs_lp(arrays: dict[str, np.ndarray]) -> highspy.HighsLp:
    """HiGHS's own LP structure from :func:`lp_arrays`."""
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = len(arrays["cost"]), len(arrays["row_lower"])
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = arrays["cost"], arrays["lower"], arrays["upper"]
    lp.row_lower_, lp.row_upper_ = arrays["row_lower"], arrays["row_upper"]
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = arrays["starts"]
    lp.a_matrix_.index_ = arrays["columns"]
    lp.a_matrix_.value_ = arrays["coefficients"]
    if len(arrays["integer"]):
        kinds = (highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger)
        lp.integrality_ = [kinds[integer] for integer in arrays["integer"].tolist()]
    return lp


@dataclass
class Deadlines:
    """When a run is stopped (``time.perf_counter()`` seconds): at ``longest`` until HiGHS has a dual bound that
    :func:`tells` (the same as ``deadline`` without ``HighsJob.first_bound_limit``), at ``deadline`` from then on
    (:meth:`stop`); the parent of a child process kills it a ``grace`` later (:meth:`kill`). A bound first seen past ``deadline``
    moves it to a grace after that moment, so a run the bound's first plan proves ends by itself (100k group: the
    cost stage's root relaxation solved at 28–34 s, its rounding within the gap asked for, HiGHS done 0.1 s
    later)."""

    deadline: float
    longest: float
    grace: float
    began: float
    first_bound: float | None = None
    """Seconds from ``began`` to the first bound seen (None: none yet)."""

    @classmethod
    def of(cls, job: HighsJob, began: float) -> Deadlines:
        """The deadlines of ``job`` begun at ``began`` (``time.perf_counter()``), with :data:`HIGHS_GRACE` of the
        longer limit."""
        return cls(began + job.time_limit, began + job.longest(), HIGHS_GRACE * job.longest(), began)

    def stop(self) -> float:
        """The moment the run stops itself, as things stand."""
        return self.longest if self.first_bound is None else self.deadline

    def kill(self) -> float:
        """The moment the parent kills a child that has not answered, as things stand."""
        return self.stop() + self.grace

    def bound_seen(self) -> bool:
        """HiGHS reported a finite dual bound; True the first time."""
        if self.first_bound is not None:
            return False
        now = time.perf_counter()
        self.first_bound = now - self.began
        if now > self.deadline:
            self.deadline = min(now + self.grace, self.longest)
        return True


def tells(bound: float | None) -> bool:
    """A dual bound that says something about a goal that is never negative (every lexicographic goal):
    finite and not below 0. HiGHS can report a negative one before its root relaxation (the 100k group's
    disruption stage: −2.9 for a count of people, after a 90 s run's cost stage)."""
    return bound is not None and math.isfinite(bound) and bound >= 0


def _interrupt_at(highs: highspy.Highs, deadlines: Deadlines, stop_above: float | None,
                  bounded: Callable[[float], None]) -> list[bool]:
    """Interrupt the run at ``deadlines.stop()`` from the callbacks HiGHS calls inside simplex and
    interior-point iterations and the MIP search (its own ``time_limit``, set to the longer limit, is checked
    more rarely: a 20 s limit ended after 23.4 s in a root LP by IPM); ``bounded`` hears the first dual bound the
    MIP search reports.
    With ``stop_above`` (in the minimised objective's scale) the MIP is also interrupted once its dual bound
    passes it; the returned flag then holds True (the bound, not the time, stopped the run)."""
    by_bound = [False]

    def interrupt(event) -> None:
        if time.perf_counter() >= deadlines.stop():
            event.interrupt()

    def bound_passed(event) -> None:
        bound = event.data_out.mip_dual_bound
        if tells(bound) and deadlines.bound_seen():
            bounded(bound)
        if stop_above is not None and math.isfinite(bound) and bound > stop_above:
            by_bound[0] = True
            event.interrupt()
        else:
            interrupt(event)

    for callback in (highs.cbSimplexInterrupt, highs.cbIpmInterrupt):
        callback.subscribe(interrupt)
    highs.cbMipInterrupt.subscribe(bound_passed)
    return by_bound


def run_job(job: HighsJob, improved: Improved | None = None,
            bounded: Callable[[float], None] = lambda bound: None) -> Outcome:
    """Run ``job`` in this process; ``improved`` hears about every improving MIP plan, ``bounded`` the first
    dual bound HiGHS reports."""
    began = time.perf_counter() if job.began is None else time.perf_counter() - (time.time() - job.began)
    # HiGHS keeps one thread scheduler per process and refuses a later run asking for another
    # thread count ("scheduler has already been initialized"): start each solve with a fresh one
    highspy.Highs.resetGlobalScheduler(True)
    highs = highspy.Highs()
    for key, value in job.settings.items():
        highs.setOptionValue(key, value)
    highs.passModel(highs_lp(job.arrays))
    if job.start is not None:
        n = len(job.start)
        highs.setSolution(n, np.arange(n, dtype=np.int32), np.asarray(job.start, dtype=float))
    deadlines = Deadlines.of(job, began)
    if improved is not None or job.longest() > job.time_limit:
        def on_improved(event) -> None:
            data = event.data_out
            if tells(data.mip_dual_bound) and deadlines.bound_seen():
                bounded(data.mip_dual_bound)
            if improved is not None:
                improved(data.objective_function_value, data.mip_gap if math.isfinite(data.mip_gap) else None,
                         data.mip_dual_bound if math.isfinite(data.mip_dual_bound) else None,
                         np.array(data.mip_solution, dtype=float))

        highs.cbMipImprovingSolution.subscribe(on_improved)
    highs.setOptionValue("time_limit", max(deadlines.longest - time.perf_counter(), 0.01))  # building counts
    # (HiGHS's own limit is the longer one: from a bound on, the interrupt below keeps the deadline)
    by_bound = _interrupt_at(highs, deadlines, job.stop_above, bounded)
    highs.run()
    raise_if_stopped()  # a stop raised inside a callback comes back as an error status
    info = highs.getInfo()
    model_status = highs.getModelStatus().name
    has_solution = int(info.primal_solution_status) == 2  # kSolutionStatusFeasible
    stopped_by = "bound" if by_bound[0] and model_status in HIGHS_LIMITS else HIGHS_LIMITS.get(model_status)
    if model_status in HIGHS_LIMITS:
        status: Verdict = "feasible" if has_solution else "no_solution"
    else:
        status = HIGHS_STATUS.get(model_status, "error")
    if len(job.arrays["integer"]):
        bound = info.mip_dual_bound if math.isfinite(info.mip_dual_bound) else None
    else:
        bound = info.objective_function_value if status == "optimal" else None
    values = np.array(highs.getSolution().col_value, dtype=float) if status in ("optimal", "feasible") else None
    return Outcome(status, values, bound, f"HiGHS {model_status}", stopped_by, deadlines.first_bound)


def in_child(job: HighsJob) -> bool:
    """Whether :func:`run` sends ``job`` to a child process: a mixed-integer model of at least
    :data:`CHILD_MIN_COLUMNS` columns."""
    return bool(job.arrays["integer"].any()) and len(job.arrays["cost"]) >= CHILD_MIN_COLUMNS


def run(job: HighsJob, improved: Improved | None = None) -> Outcome:
    """Run ``job`` where the clock can stop it (module docstring)."""
    return run_in_child(job, improved) if in_child(job) else run_job(job, improved)


def run_in_child(job: HighsJob, improved: Improved | None = None) -> Outcome:
    """Run ``job`` in a child process (``python -m optimizer.solvers.highs_run``), killed a grace after its
    deadline if it has not ended (:class:`Deadlines`, the child's own: it tells when HiGHS has a bound); then
    the outcome is the last improving plan the child sent (``feasible``) with that plan's bound, or none
    (``no_solution``), ``stopped_by`` ``time_limit``. A bound told without a plan moves the deadline only: it
    may be HiGHS's estimate before its root relaxation (the 100k group's disruption stage told −2.9 for a
    count of people), which as the stage's bound would say the root was solved (:func:`optimizer.solvers.staged.solve_model`,
    rule (2)).

    With ``job.relax`` and a core to spare, a run that has gone :data:`RELAX_AFTER` s without a bound gets its
    linear relaxation (:func:`relaxation_of`) solved in a second child until the first one ends; its optimum is
    ``Outcome.relaxation``, a lower bound on the run's objective (100k group, the cost stage: 3.31298e10 in
    15.5 s where the run reached no root in its 26.5 s and told a bound of a tenth of that). It changes nothing
    else: the run is not stopped on it, so the plan is the one the run finds alone, whenever either child ends."""
    deadlines = Deadlines.of(job, time.perf_counter())
    job = replace(job, began=time.time())
    messages: queue.Queue = queue.Queue()
    children: list[_Child] = []
    relax_at = deadlines.began + RELAX_AFTER if job.relax and _core_to_spare(job) else math.inf
    relaxation: float | None = None
    best: tuple | None = None
    try:
        children.append(_Child.start(job, "run", messages))
        while True:
            wake = min(deadlines.kill(), relax_at)
            try:
                source, message = messages.get(timeout=max(wake - time.perf_counter(), 0.0))
            except queue.Empty:
                if time.perf_counter() >= deadlines.kill():
                    return _killed(best, deadlines, relaxation)
                if deadlines.first_bound is None:
                    try:
                        children.append(_Child.start(relaxation_of(job), "relaxation", messages))
                    except OSError:
                        pass  # no process to spare: the run goes on without its relaxation
                relax_at = math.inf
                continue
            if source == "relaxation":
                if message[0] == "done" and message[1].status == "optimal" and message[1].bound is not None:
                    found = message[1].bound  # the interior point's objective: within its tolerance of the optimum
                    relaxation = found - RELAXATION_TOLERANCE * max(1.0, abs(found))
                continue
            if message[0] == "bounded" or (message[0] == "improved" and tells(message[3])):
                deadlines.bound_seen()
            if message[0] == "improved":
                best = message
                if improved is not None:
                    improved(*message[1:])
            elif message[0] == "done":
                return replace(message[1], relaxation=relaxation)
            elif message[0] != "bounded":
                return Outcome("error", message="the HiGHS child process ended without an answer") \
                    if best is None else _killed(best, deadlines, relaxation)
    finally:
        for child in children:
            child.end()


def relaxation_of(job: HighsJob) -> HighsJob:
    """``job``'s linear relaxation, solved for its optimum only: integrality dropped, no start, by the interior
    point method without crossover (100k group, the cost stage: 15.5 s, where dual simplex took 142 s), until the
    run's longest deadline (counted from the same moment); HiGHS's output off, beside the run's own."""
    settings = {key: value for key, value in job.settings.items() if not key.startswith("mip_")}
    settings.update(output_flag=False, solver="ipm", run_crossover="off")
    return HighsJob({**job.arrays, "integer": job.arrays["integer"][:0]}, settings, None, job.longest(),
                    began=job.began)


_relax_beside = False
"""Whether :func:`relax_beside` turned the relaxation on in this process."""


def relax_beside(on: bool = True) -> None:
    """Let this process's runs that ask for it (``HighsJob.relax``) solve their linear relaxation on a spare core
    (:func:`run_in_child`). Off unless asked: the command line turns it on for ``wfplan solve`` and ``wfplan demo``,
    which solve one plan at a time; the worker processes of a sweep, a frontier, a diagnosis or the web page (as
    many as the cores, or the page's queue) leave it off, where a second child per run would crowd the cores and
    slow the runs a clock stops."""
    global _relax_beside
    _relax_beside = on


def _core_to_spare(job: HighsJob) -> bool:
    """:func:`relax_beside` is on and this process may use a core beyond the threads ``job`` asks HiGHS for (its
    CPU affinity, where the system tells it)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return _relax_beside and cores > int(job.settings.get("threads", 1))


@dataclass
class _Child:
    """One ``python -m optimizer.solvers.highs_run`` process running a job, its messages put on a shared queue
    as (``source``, message), ("gone",) once it closes its output."""

    process: subprocess.Popen
    reader: threading.Thread

    @classmethod
    def start(cls, job: HighsJob, source: str, messages: queue.Queue) -> _Child:
        root = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
        process = subprocess.Popen([sys.executable, "-m", "optimizer.solvers.highs_run", str(os.getpid())],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=None if job.settings.get("output_flag") else subprocess.DEVNULL, env=env)

        def read() -> None:
            try:
                while True:
                    messages.put((source, pickle.load(process.stdout)))
            except (EOFError, OSError, pickle.UnpicklingError):
                messages.put((source, ("gone",)))

        def send() -> None:  # in a thread: the child reads its job only once its imports are done
            try:
                pickle.dump(job, process.stdin, protocol=pickle.HIGHEST_PROTOCOL)
                process.stdin.close()
            except OSError:
                pass  # the child died: told as "gone"

        child = cls(process, threading.Thread(target=read, daemon=True))
        try:
            child.reader.start()
            threading.Thread(target=send, daemon=True).start()
        except BaseException:
            child.end()
            raise
        return child

    def end(self) -> None:
        """Kill the process if it still runs, and reap it."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        if self.reader.ident is not None:
            self.reader.join(timeout=1.0)


def _killed(best: tuple | None, deadlines: Deadlines, relaxation: float | None = None) -> Outcome:
    """The outcome of a child killed at its deadline: its last improving plan, if any, with its bound."""
    message = "HiGHS stopped by the clock (a step that does not check the time limit, killed)"
    if best is None:
        return Outcome("no_solution", message=message, stopped_by="time_limit", first_bound=deadlines.first_bound,
                       relaxation=relaxation)
    _, _, _, bound, values = best
    return Outcome("feasible", values, bound, message, "time_limit", deadlines.first_bound, relaxation)


def _die_with(parent: int) -> None:
    """Have the kernel kill this process (SIGKILL) when the thread that started it ends (Linux
    ``PR_SET_PDEATHSIG``; elsewhere nothing is asked), and end now if ``parent`` (the pid that started it) is
    already gone. A worker process stopped while it waits for this run (``wfplan frontier`` stopped by SIGTERM)
    then leaves no HiGHS run behind; without it the child went on until HiGHS next checked its deadline, which its
    root cut loop does not. :func:`run_in_child` ends its child before it returns, so the thread that started it
    outlives it."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)


def _child() -> None:
    """The child's side (``python -m optimizer.solvers.highs_run PARENT_PID``): read a job from stdin, run it,
    send ("improved", objective, gap, bound, plan) for every improving plan, ("bounded", bound) when HiGHS first
    reports a dual bound and ("done", outcome) at the end, pickled, on the original stdout. HiGHS writes its
    banner and log to file descriptor 1, so that goes to stderr instead. It dies with its parent (:func:`_die_with`)."""
    _die_with(int(sys.argv[1]))
    channel = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    job: HighsJob = pickle.load(sys.stdin.buffer)

    def send(*message) -> None:
        pickle.dump(message, channel, protocol=pickle.HIGHEST_PROTOCOL)
        channel.flush()

    send("done", run_job(job, lambda *improvement: send("improved", *improvement), lambda bound: send("bounded", bound)))


if __name__ == "__main__":
    _child()
