"""Trade-off frontiers by the epsilon-constraint method: a scenario parameter x (the resource, e.g.
``budget.growth``) is fixed at each value of a grid, the goal y is optimised at each, and the points that
no other point beats on both x and y form the frontier.

Goals (``--y``), each solved on the cohort model without writing a plan:

- ``technical_share`` (maximise): the highest technical share reachable in the deadline year with every
  budget cap held as a hard limit and every policy cap in force; the mix band is left out (it is what the
  goal measures). The share N_tech/N is a ratio, maximised exactly by Dinkelbach's method: maximise
  N_tech − θ·N, set θ to the share of the plan found, repeat until no plan beats θ (each re-solve starts
  from the previous plan).
- ``deadline`` (minimise): the earliest ``mix.deadline`` from which every target is met (the mix band to
  the horizon, the budget caps), found by the diagnosis' earliest-year search
  (:func:`optimizer.whatif.diagnosis.run_search` on ``mix.deadline`` from 0): bisection up to the horizon, then
  year by year up to ``YEARS_BEYOND`` past it with the horizon extended; no value when none is reached.
- ``cost`` (minimise): the lowest total cost over the horizon (Σ payroll + one-off costs) of a plan that
  meets every target; no value when the targets cannot all be met. The point with the most resource (the
  largest x when low x is cheaper, ``--x-better low``; else the smallest) is solved first, and its solved model
  serves every other point as a reference (:mod:`optimizer.solvers.reuse`): a point whose model only tightens
  it, and where its plan holds, takes that plan without a solve, with the same proof (``solves`` 0). A cost
  frontier over a range where the limit does not bind is then one solve and a model check per point.

Each point is a pure function of the frontier's :class:`FrontierInputs` and its x (:func:`evaluate_point`),
solved in local worker processes or on a Dask cluster (:mod:`optimizer.distributed`) whose workers keep the
validated tables in memory.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from models.io import InputError
from models.scenario import Scenario, ScenarioError
from models.scenario_files import build_scenario
from models.validation import load_inputs
from optimizer.distributed.base import Job, Where
from optimizer.distributed.executor import executor
from optimizer.distributed.shipping import FolderCopy
from optimizer.solvers.backends import solve
from optimizer.whatif.diagnosis import MET, YEARS_BEYOND, SearchTask, run_search
from optimizer.model.build import build_model
from optimizer.model.data import Index, ModelData, stock_expr
from optimizer.whatif.inputs_cache import cached_inputs
from optimizer.solvers.linear_model import LinearModel, combine
from optimizer.plan.folders import claim_folder, staged_folder
from optimizer.plan.output import write_csv
from optimizer.model.kinds import graded_model_data
from optimizer.plan.results import cohort_plan, headcount_table, mix_table
from optimizer.solvers.reuse import Reference, make_reference, reuse_solution
from optimizer.solvers.staged import solve_model, solver_options, stage_terms
from optimizer.solvers.start import constructive_start

Sense = Literal["min", "max"]
DINKELBACH_TOLERANCE = 1e-9
"""Stop when the best N_tech − θ·N is at most this share of N (the share is then exact to ~1e-9)."""
DINKELBACH_ROUNDS = 30


@dataclass(frozen=True)
class Goal:
    name: str
    sense: Sense
    label: str


GOALS: dict[str, Goal] = {
    goal.name: goal
    for goal in (
        Goal("technical_share", "max", "highest technical share in the deadline year"),
        Goal("deadline", "min", "earliest year the mix band holds"),
        Goal("cost", "min", "lowest total cost over the horizon (CNY)"),
    )
}


@dataclass(frozen=True)
class GoalValue:
    """The optimised goal (None when no plan reaches it), the solver status behind it, and solves used (0: a
    reference's plan taken without a solve); ``reference``: the solved model, when it was asked for."""

    value: float | None
    status: str
    solves: int
    reference: Reference | None = None


def _model(scenario: Scenario, data_dir: Path) -> tuple[ModelData, LinearModel, Index]:
    data, _, _ = graded_model_data(cached_inputs(data_dir), scenario)
    model, index = build_model(data)
    return data, model, index


def _with(scenario: Scenario, *overrides: str) -> Scenario:
    return build_scenario(scenario.to_raw(), scenario.name, list(overrides))


def best_technical_share(scenario: Scenario, data_dir: Path) -> GoalValue:
    """Dinkelbach iterations on max N_tech(d) − θ·N(d), d = the deadline year, budget overrun fixed at 0."""
    data, model, index = _model(scenario, data_dir)
    for var in index.overrun.values():
        model.ub[var] = 0.0
    year = scenario.mix.deadline
    cohorts = index.network.live[year]
    technical = stock_expr(index, [c for c in cohorts if c.sequence == "technical"], year)
    total = stock_expr(index, cohorts, year)
    options, share, start = solver_options(scenario), 0.0, constructive_start(model)  # None: it breaks a cap
    for rounds in range(1, DINKELBACH_ROUNDS + 1):
        result = solve(model, combine((1.0, technical), (-share, total)), options, start=start, sense="max")
        if result.values is None:
            return GoalValue(None, result.status, rounds)
        start = result.values
        technical_heads, heads = model.evaluate(technical, start), model.evaluate(total, start)
        if technical_heads - share * heads <= DINKELBACH_TOLERANCE * heads:
            status = result.status
            break
        share = technical_heads / heads
    else:
        status = "feasible"  # still improving after DINKELBACH_ROUNDS: the best share found, unproven
    mix = mix_table(headcount_table(cohort_plan(start, data, index)), data)
    reached = mix[(mix["year"] == year) & (mix["sequence"] == "technical")]["share"]
    return GoalValue(float(reached.iloc[0]), status, rounds)


def earliest_deadline(scenario: Scenario, data_dir: Path) -> GoalValue:
    """The diagnosis' earliest-year search from year 1 (``optimal`` when every probe was decided)."""
    found = run_search(SearchTask(key="mix.deadline", start=0, limit=scenario.horizon + YEARS_BEYOND, start_miss=None,
                                  base=scenario.to_raw(), data_dir=data_dir))
    status = "target_missed" if found["to"] is None else "feasible" if found["undecided"] else "optimal"
    return GoalValue(found["to"], status, found["probes"])


def least_cost(scenario: Scenario, data_dir: Path, reference: Reference | None = None,
               keep_reference: bool = False) -> GoalValue:
    """The mix then cost stages of the lexicographic solve (the disruption tie-break is skipped: 100% gap);
    ``reference``'s plan without a solve where it proves optimal here (:func:`optimizer.solvers.reuse.reuse_solution`);
    ``keep_reference``: the result carries this point's solved model as a reference."""
    scenario = _with(scenario, "objective.mode=lexicographic", "objective.order=[mix, cost, disruption]",
                     "objective.stage_gap.disruption=1")
    data, model, _ = _model(scenario, data_dir)
    built_rows = len(model.rows)
    reused = None if reference is None else reuse_solution(reference, model, scenario, data.mean_pay)[0]
    solution = reused or solve_model(model, scenario, data.mean_pay)
    solves = 0 if reused else len(solution.stages)
    if solution.values is None:
        return GoalValue(None, solution.status, solves)
    kept = make_reference(model, built_rows, scenario, data.mean_pay, solution, "frontier") if keep_reference else None
    miss = model.evaluate(stage_terms(model, data.mean_pay)["mix"], solution.values)
    if miss > MET:
        return GoalValue(None, "target_missed", solves, kept)
    return GoalValue(solution.terms["cost"], solution.status, solves, kept)


SOLVERS: dict[str, Callable[[Scenario, Path], GoalValue]] = {
    "technical_share": best_technical_share,
    "deadline": earliest_deadline,
}
REUSING: dict[str, Callable[[Scenario, Path, Reference | None, bool], GoalValue]] = {"cost": least_cost}
"""Goals whose point with the most resource is solved first and serves the others as a reference: (scenario,
tables, the reference or None, whether to return this point's solved model as one)."""


def x_values(current: Any, points: int, span: tuple[float, float] | None) -> list[str]:
    """``points`` evenly spaced values over ``span`` (default 0 … 2 × the current value), as ``--set``
    texts; whole numbers when the key holds an integer."""
    if span is None:
        if isinstance(current, bool) or not isinstance(current, int | float) or current <= 0:
            raise ValueError(f"give --range a:b (the current value {current!r} sets no default range)")
        span = (0.0, 2.0 * float(current))
    grid = np.linspace(span[0], span[1], points)
    if isinstance(current, int) and not isinstance(current, bool):
        return [str(v) for v in sorted({int(round(v)) for v in grid})]
    return [f"{v:.12g}" for v in grid]


def non_dominated(x: list[float], y: list[float | None], y_sense: Sense, x_sense: Sense = "min") -> list[bool]:
    """True where no other point is at least as good on x and y and strictly better on one (y None: False)."""
    sign_x = 1.0 if x_sense == "min" else -1.0
    sign_y = 1.0 if y_sense == "min" else -1.0
    keyed = [(sign_x * a, sign_y * b) if b is not None else None for a, b in zip(x, y, strict=True)]

    def beaten(p: tuple[float, float]) -> bool:
        return any(q is not None and q[0] <= p[0] and q[1] <= p[1] and q != p for q in keyed)

    return [p is not None and not beaten(p) for p in keyed]


@dataclass(frozen=True)
class FrontierInputs:
    """What every point shares, sent to each worker once: the key, the goal, the base scenario, the tables, and
    for a goal of :data:`REUSING`, the reference the first point's solve left (None for that point)."""

    key: str
    goal: str
    base: dict[str, Any]
    source: str
    data: FolderCopy
    reference: Reference | None = None
    keep_reference: bool = False
    """the point solved first of a goal of :data:`REUSING`: its row carries its solved model (``reference``)"""


def evaluate_point(inputs: FrontierInputs, x: str) -> dict[str, Any]:
    """The point at ``x`` as a row ``x, y, status, solves, seconds, error``; never raises. For a goal that
    is :data:`REUSING`, the point solved first (``inputs.keep_reference``) adds ``reference``: its solved model."""
    began = time.perf_counter()
    row: dict[str, Any] = {"x": x, "y": None, "status": "error", "solves": 0, "error": None}
    try:
        scenario = build_scenario(inputs.base, inputs.source, [f"{inputs.key}={x}"])
        if inputs.goal in REUSING:
            found = REUSING[inputs.goal](scenario, inputs.data.path(), inputs.reference, inputs.keep_reference)
            if found.reference is not None:
                row["reference"] = found.reference
        else:
            found = SOLVERS[inputs.goal](scenario, inputs.data.path())
        row.update(y=found.value, status=found.status, solves=found.solves)
    except (ScenarioError, InputError) as exc:
        row.update(status="bad_input", error=str(exc))
    except Exception as exc:  # one failing point is recorded; the frontier goes on
        row.update(error=f"{type(exc).__name__}: {exc}")
    row["seconds"] = round(time.perf_counter() - began, 3)
    return row


def _crashed(x: str, message: str) -> dict[str, Any]:
    return {"x": x, "y": None, "status": "error", "solves": 0, "error": message, "seconds": None}


def most_resource(xs: list[str], x_sense: Sense) -> str:
    """The x with the most of the resource: the largest when low x is cheaper (``x_sense`` min), else the
    smallest; non-numbers last (they fail as points of their own)."""
    def key(x: str) -> float:
        try:
            return float(x) if x_sense == "min" else -float(x)
        except ValueError:
            return -math.inf
    return max(xs, key=key)


def frontier_table(rows: list[dict[str, Any]], key: str, goal: str, x_sense: Sense) -> pd.DataFrame:
    """Rows sorted by x (numeric where possible) with the ``frontier`` flag; columns named after key and goal."""
    frame = pd.DataFrame(rows)
    frame["x"] = pd.to_numeric(frame["x"], errors="coerce")
    frame["y"] = pd.to_numeric(frame["y"], errors="coerce")
    frame = frame.sort_values("x", kind="stable").reset_index(drop=True)
    ys = [None if pd.isna(v) else float(v) for v in frame["y"]]
    frame["frontier"] = non_dominated(frame["x"].tolist(), ys, GOALS[goal].sense, x_sense)
    columns = ["x", "y", "frontier", "status", "solves", "seconds", "error"]
    return frame[columns].rename(columns={"x": key, "y": goal})


def frontier_figure(table: pd.DataFrame, key: str, goal: str) -> go.Figure:
    """Every evaluated point (grey) and the frontier (line), y in percent for shares."""
    solved = table.dropna(subset=[goal])
    front = solved[solved["frontier"]]
    fig = go.Figure()
    fig.add_scatter(x=solved[key], y=solved[goal], mode="markers", name="evaluated",
                    marker={"color": "#999999", "size": 9})
    fig.add_scatter(x=front[key], y=front[goal], mode="lines+markers", name="non-dominated",
                    marker={"color": "#2b83ba", "size": 11}, line={"color": "#2b83ba"})
    fig.update_layout(title=f"{GOALS[goal].label} against {key}", xaxis_title=key,
                      yaxis_title=GOALS[goal].label, template="plotly_white")
    if goal == "technical_share":
        fig.update_yaxes(tickformat=".1%")
    return fig


FrontierProgress = Callable[[int, int, dict[str, Any]], None]
"""Called with (done, total, the finished point's row)."""


def run_frontier(
    scenario: Scenario,
    key: str,
    goal: str,
    xs: list[str],
    data_dir: str | Path,
    out_dir: str | Path,
    where: Where,
    x_sense: Sense = "min",
    progress: FrontierProgress = lambda done, total, row: None,
    on_retry: Callable[[str, str], None] = lambda x, message: None,
    on_written: Callable[[Path, pd.DataFrame], None] = lambda folder, table: None,
) -> pd.DataFrame:
    """Optimise ``goal`` at each x of ``key``, where ``where`` says (local processes or a Dask cluster); write
    ``out_dir/frontier.csv`` and the self-contained ``out_dir/frontier.html`` chart; return the table.
    ``on_retry(x, why)``: the point at x failed once and runs again. ``on_written(folder, table)`` runs last in
    the staged folder, before it replaces ``out_dir``. Raises InputError when the tables are invalid,
    ClusterError when the scheduler cannot be reached (nothing written)."""
    if goal not in GOALS:
        raise ValueError(f"unknown goal {goal!r}; choose one of {', '.join(GOALS)}")
    data_dir, out_dir = Path(data_dir).resolve(), Path(out_dir)
    load_inputs(data_dir)
    done = 0

    def receive(x: str, row: dict[str, Any]) -> dict[str, Any]:
        nonlocal done
        done += 1
        progress(done, len(xs), row)
        return row

    with executor(where) as pool:
        claim_folder(out_dir, "frontier", protect=(data_dir,))
        inputs = FrontierInputs(key, goal, scenario.to_raw(), scenario.name, FolderCopy.of(data_dir, where.remote))
        first = most_resource(xs, x_sense) if goal in REUSING else None
        rows = []
        if first is not None:
            rows = pool.run(Job(evaluate_point, replace(inputs, keep_reference=True), [first], on_failure=_crashed,
                                receive=receive, on_retry=on_retry))
            inputs = replace(inputs, reference=rows[0].pop("reference", None))
        rest = [x for x in xs if x != first]
        rows += pool.run(Job(evaluate_point, inputs, rest, on_failure=_crashed, receive=receive, on_retry=on_retry))
    table = frontier_table(rows, key, goal, x_sense)
    with staged_folder(out_dir, "frontier") as folder:
        write_csv(table, folder / "frontier.csv")
        frontier_figure(table, key, goal).write_html(folder / "frontier.html", include_plotlyjs=True, full_html=True)
        on_written(folder, table)
    return table
