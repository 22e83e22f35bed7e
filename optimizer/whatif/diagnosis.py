"""Diagnosis of targets that cannot be met: which goals are missed and by how much, the smallest single
relaxations that would meet every target, and the earliest year the mix can be reached (docs/outputs.md).

**Target miss.** For a scenario s, m(s) is the optimum of the first lexicographic stage alone,

    m(s) = min Σ_{sequence, t ≥ deadline} (over + under) + Σ_t overrun_t / mean pay      (heads),

so every target is met ⇔ m(s) ≤ MET. A *probe* builds the model of s and solves that stage at a relative gap
of PROBE_GAP, and stops as soon as its bound passes MET (``SolveOptions.stop_above``, HiGHS), which settles
the only question asked: a plan with m ≤ MET was found (met), or the bound proves m > MET (not met). A probe stopped by the time limit between the two is *undecided* and counts as not met, so
a reported relaxation is always one a solve has shown to be sufficient.

A probe first solves the pooled relaxation (every unit in one, :mod:`optimizer.model.pooled`): its optimum is a
lower bound on m, so a bound above MET settles "not met" in a fraction of a second, where the probe's MIP on a
large group runs out of time before its root (45k employees, unreachable mix: every search was undecided).

**Relaxations.** Each candidate key (CANDIDATES) relaxes a cap, a floor, a target or a switch: moving its
value v from v₀ toward the end L of its valid range only enlarges the feasible set, so m(v) does not increase
and v* = min {v : m(v) = 0} is found by bracketing. With u = ±v (u increases toward L) on the grid G of
numbers with 3 significant digits and no digit below RESOLUTION:

1. probe L; when it fails, the key alone cannot restore the targets (one probe);
2. keep lo < hi on G, lo failing (at first u₀, the run itself) and hi met. The next probe is the grid point
   at or above the secant root of the last two failures (m is about linear in a rate until it reaches 0)

       û = u₂ + m₂·(u₂ − u₁)/(m₁ − m₂),

   when û lies in (lo, hi]; otherwise the middle grid point between them (G has as many points per decade,
   so this bisects on a log scale);
3. stop when lo and hi are neighbours on G or after MAX_PROBES (enough to bisect a grid over [−1, 1] to the
   end): hi, met by a solve, is reported as ``to`` (rounded to G in the direction that keeps it sufficient),
   and the closest value a probe proved not to restore the targets as ``insufficient``.

A switch that is off (hiring, redundancy, unit transfers) takes one probe at "on".

**Re-grades.** When the budget is missed, a unit that falls a grade at a review inside the horizon pays less
from then on: for the REGRADE_UNITS units with the largest payroll whose first review within the horizon does
not already give the lowest band, one probe each with that review's grade set to the lowest band
(``unit_grading.reviews[unit=U,year=T].grade``). A re-grade is a policy decision, not a rate: it is reported
like a switch, as the change that would meet every target or would not.

**Earliest year.** d* = min {d > deadline : m = 0 with ``mix.deadline`` = d, ``horizon`` = max(H, d)}, the
``mix.deadline`` relaxation. Up to H a later deadline only drops band rows, so m does not increase in d:
probe H, then bisect. Beyond H each year extends the horizon, which is not monotone (attrition can carry a
share through the band and out again), so years H+1 … H+YEARS_BEYOND are probed in order.

**Infeasible models.** An elastic build (``ModelData.elastic``) gives every hard row — unit headcount bounds,
the operations floor, promotion floors — a named slack. Minimising their sum, then the target miss, names
the rows that must give way and by how much, and the goals that closest plan would still miss.

**Cost.** A probe rebuilds the model (1–2 s at 20,000 employees; a probe that meets the targets then takes
5–15 s, one that fails just short of them often runs to the time limit, proving that is the hard part).
Each search runs its probes one after another; the searches run in worker processes (one solve each), or
on a Dask cluster when one is given (``wfplan solve --scheduler``), when a probe is expected to take more than
PARALLEL_ABOVE seconds. The longest search is about a third of all the probes' time (13 searches, one
with ~10 probes), so a cluster of 4+ workers brings the diagnosis down toward that one search. The diagnosis
draws from the run's budget (:class:`optimizer.solvers.clock.Clock`: ``solver.time_limit`` for every solve of
the run, the plan's included; on its own, ``solver.time_limit`` from its start): every search ends by the
clock's deadline. A probe starts only when more is left than the run's model build took (a build cannot be
interrupted), its solve gets what is left once the model is built, and the probes it leaves out are
undecided (``undecided``; ``earliest_year_undecided`` for the earliest-year search), so a relaxation that is
reported has still been shown by a solve to be sufficient.
"""

from __future__ import annotations

import bisect
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from models.io import InputTables
from models.scenario import Scenario, ScenarioError
from models.grading import grade_path
from models.scenario_files import build_scenario, lookup
from optimizer.distributed.base import ClusterError, Job, Where, default_workers
from optimizer.distributed.executor import run_points
from optimizer.distributed.shipping import FolderCopy
from optimizer.solvers.backends import solve
from optimizer.model.build import build_model
from optimizer.model.data import ModelData
from optimizer.whatif.inputs_cache import cached_inputs
from optimizer.model.kinds import graded_model_data
from optimizer.model.pooled import follow_pooled, pooled_plan
from optimizer.plan.results import budget_table, cohort_plan, goal_deviations, headcount_table, mix_table
from optimizer.solvers.base import Progress
from optimizer.solvers.clock import MIN_SECONDS, Clock
from optimizer.solvers.staged import StageResult, fixing_row, solver_options, stage_terms
from optimizer.solvers.start import idle_start

MET = 1e-6
"""Target miss (heads) up to which every target counts as met."""
PROBE_GAP = 0.1
"""Relative gap of a probe: any gap below 1 proves m > 0 when the solver stops on it."""
RESOLUTION = 1e-5
"""Finest step of the grid of relaxed values (3 significant digits above 1e-3)."""
MAX_PROBES = 13
"""Probes per key at most (the first one at the end of the range)."""
YEARS_BEYOND = 5
"""How far past the horizon the earliest year is looked for."""
PARALLEL_ABOVE = 2.0
"""Seconds a probe must be expected to take before the searches go to worker processes."""
UNINTERRUPTED_BUILDS = 3.0
"""A probe starts only with more time left than this many of the run's model builds (``build_seconds``), and
goes on to its start only with more than that less one of its own build: the build and its start's
constructions (the pushed start's search, about fifteen constructions) take about one and one and a half
builds, and no deadline interrupts them (100k group, horizon 4: build 3.0 s, search 4.5 s; with one build's
margin the diagnosis ran 6 s past the run's deadline)."""
GAMBLE_SHARE = 0.5
"""The part of a search's time left that a probe's solve may take when the run's mix stage never reached its root
relaxation (:func:`probes_solve`): a solve that ends undecided leaves the rest to the probes' starts."""


@dataclass(frozen=True)
class Candidate:
    """A scenario key whose relaxation may restore the targets, the end of its valid range, and when it applies."""

    key: str
    limit: float | bool
    applies: Callable[[Scenario], bool] = lambda scenario: True


CANDIDATES = (
    Candidate("promotion.tier_rate", 1.0),
    Candidate("mobility.operations_to_technical", 1.0),
    Candidate("mobility.management_to_technical", 1.0),
    Candidate("hiring.max_rate.technical", 1.0, lambda scenario: scenario.hiring.enabled),
    Candidate("hiring.max_rate.operations", 1.0, lambda scenario: scenario.hiring.enabled),
    Candidate("budget.growth", 1.0, lambda scenario: scenario.budget.caps is None and scenario.budget.growth < 1.0),
    Candidate("mix.tolerance", 1.0),
    Candidate("mix.operations_floor", 0.0),
    Candidate("promotion.tier_rate_floor", 0.0),
    Candidate("promotion.grade_rate_floor", 0.0),
    Candidate("hiring.enabled", True),
    Candidate("redundancy.enabled", True),
    Candidate("mobility.unit_transfers", True),
)
"""Searched in this order; a key already at its limit (or not applying) is left out. ``mix.deadline`` is the
earliest-year search."""

REGRADE_UNITS = 3
"""Units whose re-grade (to the lowest band at their first review) a missed budget probes, largest payroll first."""

SLACK_UNITS = {"unit_headcount": "people", "operations_floor": "people", "floor_tier_promotion": "promotions",
               "floor_grade_step": "grade steps"}


# ---------------------------------------------------------------------------------------------- probes


@dataclass(frozen=True)
class Probe:
    """What one solve of the first stage says about a scenario."""

    met: bool
    miss: float | None
    """The best target miss found (None: no plan)."""
    proven: bool
    """Met, or shown unmeetable (infeasible, or bound > MET)."""


UNDECIDED = Probe(False, None, False)
"""A probe the diagnosis' time did not allow (not solved, or stopped with neither answer shown)."""
REFUTED = Probe(False, None, True)
"""A probe the pooled relaxation settles: m > MET, with no plan of the full model."""


def pooled_refutes(data: ModelData) -> bool:
    """The pooled relaxation's bound on m (:func:`optimizer.model.pooled.pooled_plan`) is above MET: no plan of
    ``data``'s model meets every target."""
    pooled = pooled_plan(data, solver_options(data.scenario), guide=False)
    return pooled is not None and pooled.bound > MET


def target_miss(scenario: Scenario, tables: InputTables, ends: float | None = None, share: float = 1.0) -> Probe:
    """Build the model of ``scenario`` and solve its first stage, the target miss m, at PROBE_GAP, by ``ends``
    (``time.time()`` seconds; None: within ``solver.time_limit``), in ``share`` of the time left once the model
    and its start are built (0: no solve, the start alone settles it or leaves it undecided).

    First the pooled relaxation (:func:`optimizer.model.pooled.pooled_plan`, every unit in one: a linear program
    of the states alone): a bound above MET proves m > MET without the build or the solve. Otherwise the stage's
    constructive start, pushed toward the pooled plan dealt over the units (:func:`optimizer.solvers.start.idle_start`,
    as the run's mix stage starts): a start with m ≤ MET shows the targets met without the solve (45k group: a
    wider band or a later deadline is met by doing little, where the MIP found no plan before its root and the
    probe was undecided); else it is the solve's first incumbent (with no solve, the probe is undecided, its miss
    the start's)."""
    data, _, _ = graded_model_data(tables, scenario)
    options = replace(solver_options(scenario), gap=PROBE_GAP, stop_above=MET)
    ends = time.time() + options.time_limit if ends is None else ends  # the start and the solve share it
    pooled = pooled_plan(data, replace(options, time_limit=max(ends - time.time(), MIN_SECONDS)))
    if pooled is not None and pooled.bound > MET:
        return REFUTED
    began = time.time()
    model, index = build_model(data)
    built_in = time.time() - began
    if ends - time.time() <= (UNINTERRUPTED_BUILDS - 1) * built_in:  # no time for the start's constructions
        return UNDECIDED
    follow_pooled(model, data, index, pooled)
    goal = stage_terms(model, data.mean_pay)["mix"]
    start = idle_start(model, replace(options, time_limit=max(ends - time.time(), MIN_SECONDS), crossover=False),
                       goal)
    if start is not None and model.evaluate(goal, start) <= MET:
        return Probe(True, model.evaluate(goal, start), True)
    left = ends - time.time()
    if left * share < max(built_in, MIN_SECONDS):  # a solve given less than its build cannot get past presolve
        return UNDECIDED if start is None else Probe(False, model.evaluate(goal, start), False)
    result = solve(model, goal, replace(options, time_limit=left * share), start=start)
    met = result.objective is not None and result.objective <= MET
    refuted = result.status == "infeasible" or (result.bound is not None and result.bound > MET)
    return Probe(met, result.objective, met or refuted)


def probes_solve(stages: list[StageResult]) -> bool:
    """Whether a probe may give its solve all the time left when the pooled bound and its start leave it open:
    not when the run's own mix stage (the probes' goal on a model of the same size) ended by its time limit with
    no bound of its solver's above one known apart from it (``bound_source``: the pooled relaxation's, or the
    linear relaxation's solved beside the stage), i.e. before its root relaxation. A probe's solve
    then settles nothing before its own root, and would take the search's time with it (45k group, unreachable
    mix: the root relaxation takes 37 s; the first such probe ran the 40 s left undecided, and the nine after
    it had no time for their start). Such a search solves with GAMBLE_SHARE of the time left, until one probe
    ends undecided (:class:`Prober`). Where no such bound is known (one unit, ``service_dependent`` wastage, a
    what-if solved against its reference, when no relaxation was solved beside the stage) the stage's bound says
    nothing of its root, and probes solve in all the time left, as they did before there was a start."""
    mix = next((stage for stage in stages if stage.term == "mix"), None)
    return mix is None or not (mix.stopped_by == "time_limit" and mix.bound_source is not None)


@dataclass(frozen=True)
class SearchTask:
    """One search, as a worker process needs it: plain values (a worker builds its own models)."""

    key: str
    start: Any
    limit: Any
    start_miss: float | None
    base: dict[str, Any]
    data_dir: Path
    deadline: float | None = None
    """Wall-clock time (``time.time()``) by which the search must end: a probe gets at most what is left, and
    once it is up the remaining probes are undecided without a solve. None: each probe has the scenario's
    ``solver.time_limit``."""
    build_seconds: float = 0.0
    """What building the model took in the run: a probe is not started with no more than
    UNINTERRUPTED_BUILDS times that left."""
    solves: bool = True
    """A probe the pooled bound and its start leave open is solved in all the time left; else as
    :func:`probes_solve` says."""

    def overrides(self, value: Any) -> list[str]:
        """The ``--set`` overrides that give ``key`` the value (a deadline past the horizon extends it)."""
        if self.key == "mix.deadline":
            return [f"mix.deadline={value}"] + ([f"horizon={value}"] if value > self.base["horizon"] else [])
        return [f"{self.key}={json.dumps(value, ensure_ascii=False)}"]


class Prober:
    """The probes of one search: base scenario + overrides, solved on the cached tables, each one recorded."""

    def __init__(self, task: SearchTask):
        self.task = task
        self.history: list[tuple[Any, Probe]] = []
        self.lost = False
        """A probe given GAMBLE_SHARE of the time for its solve ended undecided (its solve stopped, or no time
        was left for one): the search's later probes rest on their start."""

    def share(self) -> float:
        """The part of the time left a probe's solve may take: all of it (``task.solves``), else GAMBLE_SHARE
        until such a probe has ended undecided, then none (:func:`probes_solve`; 20k demo with the mix due in
        year 1: year 2 is shown by a solve in 22 s, where the start misses; at 45k the first solve ends
        undecided and the probes after it are settled by their start)."""
        return 1.0 if self.task.solves else 0.0 if self.lost else GAMBLE_SHARE

    def __call__(self, value: Any) -> Probe:
        left = None if self.task.deadline is None else self.task.deadline - time.time()
        try:
            scenario = build_scenario(self.task.base, "diagnosis", self.task.overrides(value))
            tables = cached_inputs(self.task.data_dir)
            if left is not None and left <= UNINTERRUPTED_BUILDS * self.task.build_seconds:
                # the diagnosis' time is up, or would be before the model and its start are built: the pooled
                # bound alone
                probe = REFUTED if pooled_refutes(graded_model_data(tables, scenario)[0]) else UNDECIDED
            else:
                share = self.share()
                probe = target_miss(scenario, tables, self.task.deadline, share)
                self.lost = self.lost or (share < 1.0 and not probe.proven)
        except ScenarioError:  # a value the scenario rejects (e.g. a horizon past its maximum) cannot restore
            probe = Probe(False, None, True)
        self.history.append((value, probe))
        return probe

    def entry(self, to: Any, seconds: float) -> dict[str, Any]:
        """The search's result: ``to`` (None: nothing restores up to the limit), the ``--set`` list that applies
        it, ``insufficient`` = the value closest to it (or to the limit) shown not to restore (the start when no
        probe showed it), and the values whose probes the time limit left ``undecided``."""
        task = self.task
        toward = -1 if isinstance(task.start, int | float) and task.limit < task.start else 1
        refuted = [value for value, probe in self.history if probe.proven and not probe.met]
        return {
            "key": task.key, "from": task.start, "to": to, "limit": task.limit, "restores": to is not None,
            "set": task.overrides(to) if to is not None else [],
            "insufficient": max(refuted, key=lambda value: toward * value, default=task.start),
            "undecided": [value for value, probe in self.history if not probe.proven],
            "probes": len(self.history), "seconds": round(seconds, 3),
        }


# -------------------------------------------------------------------------------------------- searches


def grid(low: float, high: float) -> list[float]:
    """Numbers in (low, high] with at most 3 significant digits and no digit below RESOLUTION, ascending."""
    first = RESOLUTION * 100  # from here on, 3 significant digits; below it, steps of RESOLUTION
    decades = range(max(0, math.ceil(math.log10(max(abs(low), abs(high), first) / first))) + 1)
    magnitudes = [k * RESOLUTION for k in range(1, 100)]
    magnitudes += [k * first * 10**d / 100 for d in decades for k in range(100, 1000)]
    values = {0.0} | {round(sign * m, 12) for m in magnitudes for sign in (1.0, -1.0)}
    return sorted(v for v in values if low < v <= high)


def _secant_root(failures: list[tuple[float, float | None]]) -> float | None:
    """Where the line through the last two failures (u, m) reaches m = 0, when m falls between them."""
    known = [(u, m) for u, m in failures if m is not None]
    if len(known) < 2:
        return None
    (u1, m1), (u2, m2) = known[-2:]
    return u2 + m2 * (u2 - u1) / (m1 - m2) if m1 > m2 > 0 else None


def _next_index(points: list[float], lo: int, hi: int, failures: list[tuple[float, float | None]]) -> int:
    """Index of the next probe, strictly between lo and hi (lo = −1: the start, the last failure being lo's
    value): at or above the secant root when that lies in (lo, hi], else the middle (module doc, step 2)."""
    guess = _secant_root(failures)
    if guess is not None and failures[-1][0] < guess <= points[hi] + 1e-12:
        index = bisect.bisect_left(points, guess - 1e-12)
    else:
        index = (lo + hi) // 2
    return min(max(index, lo + 1), hi - 1)


def smallest_value(probe: Callable[[float], Probe], start: float, start_miss: float | None,
                   limit: float) -> float | None:
    """The grid value closest to ``start`` toward ``limit`` with every target met (module doc, steps 1–3)."""
    sign = 1.0 if limit > start else -1.0
    points = grid(sign * start, sign * limit)
    if not probe(limit).met:
        return None
    lo, hi = -1, len(points) - 1
    failures = [(sign * start, start_miss)]
    for _ in range(MAX_PROBES - 1):
        if hi - lo <= 1:
            break
        i = _next_index(points, lo, hi, failures)
        result = probe(sign * points[i])
        if result.met:
            hi = i
        else:
            lo = i
            failures.append((points[i], result.miss))
    return sign * points[hi]


def earliest_deadline(probe: Callable[[int], Probe], deadline: int, horizon: int) -> int | None:
    """d* = min {d > deadline : met}: bisection up to the horizon, then year by year beyond it (module doc)."""
    if deadline < horizon and probe(horizon).met:
        below, above = deadline, horizon
        while above - below > 1:
            middle = (below + above) // 2
            below, above = (below, middle) if probe(middle).met else (middle, above)
        return above
    return next((year for year in range(horizon + 1, horizon + YEARS_BEYOND + 1) if probe(year).met), None)


def run_search(task: SearchTask) -> dict[str, Any]:
    """One relaxation, searched in this process (the entry is :meth:`Prober.entry`)."""
    began = time.perf_counter()
    probe = Prober(task)
    if task.key == "mix.deadline":
        to = earliest_deadline(probe, task.start, task.base["horizon"])
    elif isinstance(task.start, bool | str):  # a switch or a re-grade: one probe at the other end
        to = task.limit if probe(task.limit).met else None
    else:
        to = smallest_value(probe, task.start, task.start_miss, task.limit)
    return probe.entry(to, time.perf_counter() - began)


def search_point(data: FolderCopy, task: SearchTask) -> dict[str, Any]:
    """:func:`run_search` as a point of a :class:`~optimizer.distributed.base.Job`: the searches share their
    input tables (``data``, read here from this worker's path to them)."""
    return run_search(replace(task, data_dir=data.path()))


def _crashed(task: SearchTask, message: str) -> dict[str, Any]:
    """The entry of a search whose worker raised or died: nothing shown, nothing restored."""
    return {"key": task.key, "from": task.start, "to": None, "limit": task.limit, "restores": False, "set": [],
            "insufficient": task.start, "undecided": [], "probes": 0, "seconds": None, "error": message}


def search_tasks(scenario: Scenario, data_dir: Path, miss: float | None, deadline: bool,
                 clock: Clock | None = None, build_seconds: float = 0.0, solves: bool = True) -> list[SearchTask]:
    """The searches: the earliest year (when ``deadline``), then every candidate that applies and can move.
    All of them end by the ``clock``'s deadline (the run's budget; None: ``solver.time_limit`` from now), and
    start no probe with UNINTERRUPTED_BUILDS × ``build_seconds`` or less left (:attr:`SearchTask.build_seconds`);
    their probes solve what their start leaves open in all the time left when ``solves`` (:func:`probes_solve`)."""
    base = scenario.to_raw()
    ends = time.time() + scenario.solver.time_limit if clock is None else clock.wall_deadline()
    tasks = [
        SearchTask(c.key, lookup(base, c.key), c.limit, miss, base, data_dir, ends, build_seconds, solves)
        for c in CANDIDATES if c.applies(scenario) and lookup(base, c.key) != c.limit
    ]
    if deadline:
        limit = scenario.horizon + YEARS_BEYOND
        tasks.insert(0, SearchTask("mix.deadline", scenario.mix.deadline, limit, miss, base, data_dir, ends,
                                   build_seconds, solves))
    return tasks


def regrade_key(unit: str, year: int) -> str:
    """The scenario key of the grade a unit's review gives: ``unit_grading.reviews[unit=U,year=T].grade``."""
    return f"unit_grading.reviews[unit={unit},year={year}].grade"


def regrade_tasks(scenario: Scenario, data_dir: Path, budget: pd.DataFrame, miss: float | None,
                  ends: float | None, build_seconds: float = 0.0, solves: bool = True) -> list[SearchTask]:
    """The re-grade searches of a missed budget (module doc): the REGRADE_UNITS units of largest payroll over the
    horizon (``budget``: the plan's budget table) whose first review within it gives a grade above the lowest
    band, each to the lowest band; they end by ``ends`` like the other searches (:func:`search_tasks`)."""
    grading = scenario.unit_grading
    path = grade_path(cached_inputs(data_dir).units, grading, scenario.horizon)
    lowest = grading.grades[-1].name
    first = path[path["review"]].sort_values(["unit_id", "year"]).drop_duplicates("unit_id")
    first = first[first["grade"] != lowest]
    units = budget[budget["unit_id"] != "ALL"].groupby("unit_id")["payroll"].sum()
    first = first.assign(payroll=first["unit_id"].map(units).fillna(0.0))
    chosen = first.sort_values(["payroll", "unit_id"], ascending=[False, True]).head(REGRADE_UNITS)
    base = scenario.to_raw()
    return [SearchTask(regrade_key(r.unit_id, int(r.year)), str(r.grade), lowest, miss, base, data_dir, ends,
                       build_seconds, solves) for r in chosen.itertuples()]


def _searched(tasks: list[SearchTask], where: Where,
              report: Callable[[SearchTask, dict[str, Any]], dict[str, Any]]) -> list[dict[str, Any]]:
    """The searches where ``where`` says, their shared input tables sent by value to a remote cluster."""
    data = FolderCopy.of(tasks[0].data_dir, by_value=where.remote)
    return run_points(Job(search_point, data, tasks, on_failure=_crashed, receive=report), where)


def relaxations(tasks: list[SearchTask], probe_seconds: float, workers: int | None = None,
                progress: Progress = lambda message: None, scheduler: str | None = None) -> dict[str, Any]:
    """Run the searches, telling ``progress`` as each ends; restoring relaxations first, in candidate order.

    When a probe is expected to take more than PARALLEL_ABOVE s, the searches run in parallel: on the Dask
    ``scheduler`` when one is given (``tcp://HOST:PORT``, or ``local``; :mod:`optimizer.distributed`), else in
    ``workers`` local processes (default one per CPU); below that, or when the deadline leaves no time for a
    probe, one after another in this process."""
    began, done = time.perf_counter(), 0

    def report(task: SearchTask, entry: dict[str, Any]) -> dict[str, Any]:
        nonlocal done
        done += 1
        outcome = f"→ {_number(entry['to'])}" if entry["restores"] else "cannot restore the targets"
        probes = entry["probes"]
        progress(f"diagnosis {done}/{len(tasks)}: {entry['key']} {outcome} ({probes} probe{'s' * (probes != 1)})")
        return entry

    if workers is None:
        workers = default_workers() if probe_seconds > PARALLEL_ABOVE else 1
    if tasks and tasks[0].deadline is not None and \
            tasks[0].deadline - time.time() <= UNINTERRUPTED_BUILDS * tasks[0].build_seconds:
        workers, scheduler = 1, None  # no probe can start: every one is undecided at once, with no worker to start
    parallel = len(tasks) > 1 and (workers > 1 or (scheduler is not None and probe_seconds > PARALLEL_ABOVE))
    if parallel:
        try:
            found = _searched(tasks, Where(scheduler, workers), report)
        except ClusterError as exc:  # the plan is solved: a cluster out of reach costs speed, not the diagnosis
            progress(f"diagnosis: {exc}; searching in {workers} local process{'es' * (workers != 1)}")
            scheduler, found = None, _searched(tasks, Where(None, workers), report)
    else:
        workers, found = 1, [report(task, run_search(task)) for task in tasks]
    deadline = next((f for f in found if f["key"] == "mix.deadline"), None)
    return {
        "relaxations": sorted(found, key=lambda f: not f["restores"]),
        "earliest_year": deadline["to"] if deadline else None,
        "earliest_year_limit": deadline["limit"] if deadline else None,
        "earliest_year_undecided": bool(deadline and deadline["to"] is None and deadline["undecided"]),
        "search": {"probes": sum(f["probes"] for f in found),
                   "workers": scheduler if parallel and scheduler is not None else workers,
                   "seconds": round(time.perf_counter() - began, 3)},
    }


# ------------------------------------------------------------------------------------------ missed goals


def missed_goals(mix: pd.DataFrame, budget: pd.DataFrame) -> dict[str, list[dict[str, Any]]]:
    """The goals a plan misses, from its mix and budget tables (:func:`optimizer.plan.results.goal_deviations`):
    a share outside the band by ``points`` = 100·shortfall, i.e. ``heads`` = shortfall·N_t people of the
    year's total N_t; a budget total over the cap by ``overrun`` CNY, ``percent_of_cap`` = 100·overrun/cap."""
    deviations = goal_deviations(mix, budget)
    totals = mix.groupby("year")["headcount"].sum()
    return {
        "mix": [
            {**miss, "side": "below" if miss["share"] < miss["lower"] else "above",
             "points": 100 * miss["shortfall"], "heads": float(miss["shortfall"] * totals[miss["year"]])}
            for miss in deviations["mix"]
        ],
        "budget": [{**miss, "percent_of_cap": 100 * miss["overrun"] / miss["cap"]} for miss in deviations["budget"]],
    }


def softened_plan(data: ModelData, clock: Clock | None = None) -> dict[str, list[dict[str, Any]]] | None:
    """The closest plan to an infeasible model: minimise Σ slack of the elastic build, fix it (with the stage
    tolerance), then minimise the target miss, each solve a share of the ``clock`` (default:
    ``solver.time_limit`` from now). Returns the rows that give way (``softened``: constraint, side, stated
    limit, missed_by) and the goals that plan misses; None when no plan was found in the time limit."""
    scenario = data.scenario
    elastic = replace(data, elastic=True)
    model, index = build_model(elastic)
    options = solver_options(scenario)
    clock = clock or Clock.starting(options.time_limit)
    slack = model.objective_terms.get("softened", {})
    first = solve(model, slack, replace(options, time_limit=clock.share(2)))
    if first.values is None:
        return None
    achieved = model.evaluate(slack, first.values)
    model.add_row("stage_fix[softened]", *fixing_row(slack, achieved, scenario.objective.stage_tolerance))
    second = solve(model, stage_terms(model, elastic.mean_pay)["mix"], replace(options, time_limit=clock.share(1)),
                   start=first.values)
    values = second.values if second.values is not None else first.values
    plan = cohort_plan(values, elastic, index)
    softened = [
        {"constraint": s.row, "side": s.side, "limit": s.limit, "missed_by": float(values[s.var]),
         "unit": SLACK_UNITS[s.row.split("[")[0]]}
        for s in index.softened if values[s.var] > MET
    ]
    goals = missed_goals(mix_table(headcount_table(plan), elastic), budget_table(plan, elastic))
    return {"softened": softened, **goals}


# ------------------------------------------------------------------------------------------------ entry


def diagnose_missed(scenario: Scenario, data_dir: Path, mix: pd.DataFrame, budget: pd.DataFrame, miss: float,
                    probe_seconds: float, progress: Progress = lambda message: None,
                    scheduler: str | None = None, clock: Clock | None = None,
                    build_seconds: float = 0.0, stages: list[StageResult] | None = None) -> dict[str, Any]:
    """Diagnosis of a written plan that misses a target by ``miss`` heads (its target miss m); the searches
    run as :func:`relaxations` says (``scheduler``: a Dask cluster), by the ``clock``'s deadline, a probe
    started only with time for UNINTERRUPTED_BUILDS × ``build_seconds`` (:func:`search_tasks`), and solved as
    the ``stages`` of the plan's model allow (:func:`probes_solve`)."""
    missed = {**missed_goals(mix, budget), "softened": []}
    data_dir = Path(data_dir).resolve()
    solves = probes_solve(stages or [])
    tasks = search_tasks(scenario, data_dir, miss, True, clock, build_seconds, solves)
    tasks += regrade_tasks(scenario, data_dir, budget, miss, tasks[0].deadline, build_seconds, solves) \
        if missed["budget"] else []
    return {"feasible": True, "missed": missed,
            **relaxations(tasks, probe_seconds, progress=progress, scheduler=scheduler)}


def diagnose_infeasible(data: ModelData, data_dir: Path, probe_seconds: float,
                        progress: Progress = lambda message: None, scheduler: str | None = None,
                        clock: Clock | None = None, build_seconds: float = 0.0) -> dict[str, Any]:
    """Diagnosis of an infeasible model: the hard rules that must give way (elastic re-solve, a third of what is
    left of the ``clock``), and the single relaxations that would make it feasible with every target met
    (:func:`search_tasks`). No deadline search: a later deadline cannot make hard rules compatible."""
    clock = clock or Clock.starting(data.scenario.solver.time_limit)
    missed = softened_plan(data, clock.keeping(1))
    tasks = search_tasks(data.scenario, Path(data_dir).resolve(), None, False, clock, build_seconds)
    return {"feasible": False, "missed": missed,
            **relaxations(tasks, probe_seconds, progress=progress, scheduler=scheduler)}


def _number(value: Any) -> str:
    return json.dumps(value) if isinstance(value, bool | str) else f"{value:g}"
