"""Solver backends: same optimum on all four, honest statuses, MIP starts, LP/MPS files."""

from __future__ import annotations

import math
import time
from dataclasses import replace
from pathlib import Path

import highspy
import numpy as np
import pytest

from optimizer.solvers import backends
from optimizer.solvers.backends import SolveOptions, parse_cbc_log, solve
from optimizer.solvers.pulp_model import lp_name, write_lp
from optimizer.solvers.linear_model import INF, LinearModel

BACKENDS = ["highs", "cbc", "scip", "cpsat"]


def options(backend: str, time_limit: float = 10.0, gap: float = 0.0) -> SolveOptions:
    return SolveOptions(backend, time_limit, gap)


# ---------------------------------------------------------------- models with known answers


def knapsack() -> tuple[LinearModel, dict[int, float]]:
    """Weights 5, 4, 3, 2, values 10, 40, 30, 50, capacity 7: take items 2 and 4, value 90."""
    model = LinearModel("knapsack")
    take = [model.add_var(f"take[item{i},y1]", 0, 1, integer=True) for i in range(1, 5)]
    model.add_row("capacity[all]", dict(zip(take, [5, 4, 3, 2])), hi=7)
    return model, dict(zip(take, [10.0, 40.0, 30.0, 50.0]))


def one_year() -> tuple[LinearModel, dict[int, float]]:
    """100 juniors and 20 seniors, 5% attrition; integer hires h and promotions p (≤ 7% of juniors),
    continuous year-1 stocks; headcount ≥ 120 and seniors ≥ 20%; cost h + 0.5 p + 0.07 juniors.

    Headcount 114 + h ≥ 120 gives h ≥ 6; seniors 19 + p ≥ 0.2 (114 + h) gives p ≥ 3.8 + 0.2 h, so
    h = 6, p = 5, juniors 96, seniors 24, cost 6 + 2.5 + 6.72 = 15.22."""
    model = LinearModel("one_year")
    hire = model.add_var("hire[junior,y1]", 0, 50, integer=True)
    promote = model.add_var("promote_tier[BG007,technical,3,5,y1]", 0, INF, integer=True)
    junior = model.add_var("stock[junior,y1]", 0, INF)
    senior = model.add_var("stock[senior,y1]", 0, INF)
    model.add_row("balance[junior,y1]", {junior: 1, hire: -1, promote: 1}, 0.95 * 100, 0.95 * 100)
    model.add_row("balance[senior,y1]", {senior: 1, promote: -1}, 0.95 * 20, 0.95 * 20)
    model.add_row("tier_rate[junior,y1]", {promote: 1}, hi=0.07 * 100)
    model.add_row("headcount[y1]", {junior: 1, senior: 1}, lo=120)
    model.add_row("mix[senior,y1]", {senior: 0.8, junior: -0.2}, lo=0)
    return model, {hire: 1.0, promote: 0.5, junior: 0.07}


def three_years() -> tuple[LinearModel, dict[int, float]]:
    """Three tiers over three years: fractional stocks (0.95 retention) feed the next year's
    balance and promotion caps (0.07 × stock), so continuous variables survive any presolve."""
    model = LinearModel("three_years")
    start = [120, 40, 9]
    previous: list[int] = []
    cost: dict[int, float] = {}
    for year in (1, 2, 3):
        promote = [model.add_var(f"promote[{k},y{year}]", 0, INF, integer=True) for k in range(2)]
        hire = [model.add_var(f"hire[{k},y{year}]", 0, 30, integer=True) for k in range(3)]
        stock = [model.add_var(f"stock[{k},y{year}]", 0, INF) for k in range(3)]
        for k in range(3):
            balance = {stock[k]: 1.0, hire[k]: -1.0}
            if k > 0:
                balance[promote[k - 1]] = -1.0
            if k < 2:
                balance[promote[k]] = 1.0
            if previous:
                balance[previous[k]] = -0.95
            rhs = 0.0 if previous else 0.95 * start[k]
            model.add_row(f"balance[{k},y{year}]", balance, rhs, rhs)
            if k < 2:
                cap = {promote[k]: 1.0, **({previous[k]: -0.07} if previous else {})}
                model.add_row(f"tier_rate[{k},y{year}]", cap, hi=0.0 if previous else 0.07 * start[k])
            cost.update({hire[k]: 1.13 + 0.21 * k, stock[k]: 0.01 * (k + 1)})
        cost.update({p: 0.35 for p in promote})
        previous = stock
    model.add_row("mix[upper,y3]", {s: (1.0 if k else 0.0) - 0.3 for k, s in enumerate(previous)}, 0, 84.5)
    return model, cost


def infeasible() -> tuple[LinearModel, dict[int, float]]:
    model = LinearModel("infeasible")
    a = model.add_var("a", 0, 10, integer=True)
    b = model.add_var("b", 0, 10)
    model.add_row("too_much", {a: 1, b: 1}, lo=25)
    return model, {a: 1.0, b: 1.0}


def unbounded() -> tuple[LinearModel, dict[int, float]]:
    model = LinearModel("unbounded")
    a = model.add_var("a", 0, INF, integer=True)
    b = model.add_var("b", 0, 10)
    model.add_row("a_over_b", {a: 1, b: -1}, lo=1)
    return model, {a: -1.0, b: 1.0}


def infeasible_with_unbounded_relaxation() -> tuple[LinearModel, dict[int, float]]:
    """2y = 3 has no integer solution, while x and z can grow forever: CBC calls this unbounded."""
    model = LinearModel("trap")
    x = model.add_var("x", 0, INF)
    y = model.add_var("y", 0, 10, integer=True)
    z = model.add_var("z", 0, INF, integer=True)
    model.add_row("odd", {y: 2}, 3, 3)
    model.add_row("link", {z: 1, y: -1}, lo=1)
    return model, {x: -1.0, z: -1.0}


def free_variables() -> tuple[LinearModel, dict[int, float]]:
    """min t with t ≥ |a − 3.5|, a = n integer, all free: t = 0.5."""
    model = LinearModel("free")
    a = model.add_var("a", -INF, INF)
    t = model.add_var("t", -INF, INF)
    n = model.add_var("n", -INF, INF, integer=True)
    model.add_row("above", {t: 1, a: -1}, lo=-3.5)
    model.add_row("below", {t: 1, a: 1}, lo=3.5)
    model.add_row("integral", {a: 1, n: -1}, 0, 0)
    return model, {t: 1.0}


def market_split(planted: bool) -> tuple[LinearModel, dict[int, float], np.ndarray]:
    """Equal splits of random weights (Cornuéjols–Dawande): hard for every MIP solver. Planted: the
    right-hand sides come from a known 0/1 vector (returned), found by none within 0.3 s without it.
    Not planted: infeasible, which SCIP needs about a minute to prove."""
    rng = np.random.default_rng(7 if planted else 0)
    rows, cols = (5, 40) if planted else (4, 30)
    weights = rng.integers(0, 100, size=(rows, cols))
    known = rng.integers(0, 2, size=cols)
    sides = weights @ known if planted else weights.sum(axis=1) // 2
    model = LinearModel("market_split")
    x = [model.add_var(f"x[{j}]", 0, 1, integer=True) for j in range(cols)]
    for i in range(rows):
        row = {x[j]: float(weights[i, j]) for j in range(cols)}
        model.add_row(f"split[{i}]", row, float(sides[i]), float(sides[i]))
    return model, {x[j]: float(j % 3) for j in range(cols)}, known.astype(float)


# ---------------------------------------------------------------- same optimum everywhere


@pytest.mark.parametrize("backend", BACKENDS)
def test_knapsack_maximised(backend: str) -> None:
    model, value = knapsack()
    result = solve(model, value, options(backend), sense="max")
    assert result.status == "optimal", result.message
    assert result.objective == pytest.approx(90.0)
    assert result.bound == pytest.approx(90.0) and result.gap == 0.0
    assert result.values.tolist() == [0.0, 1.0, 0.0, 1.0]
    assert result.backend == backend


@pytest.mark.parametrize("backend", BACKENDS)
def test_mixed_model_with_fractional_coefficients(backend: str) -> None:
    model, cost = one_year()
    result = solve(model, cost, options(backend))
    assert result.status == "optimal", result.message
    assert result.objective == pytest.approx(15.22)
    assert result.values == pytest.approx([6, 5, 96, 24])
    assert model.row_violations(result.values) == []


@pytest.mark.parametrize("backend", ["highs", "cbc", "scip"])
def test_continuous_stocks_over_three_years(backend: str) -> None:
    model, cost = three_years()
    result = solve(model, cost, options(backend))
    assert result.status == "optimal", result.message
    assert result.objective == pytest.approx(6.87141625)
    assert model.row_violations(result.values, tol=1e-5) == []


def test_cpsat_approximates_surviving_continuous_variables_honestly() -> None:
    model, cost = three_years()
    result = solve(model, cost, options("cpsat"))
    assert result.status in ("feasible", "optimal") and "grid" in result.message
    assert result.objective == pytest.approx(6.87141625)
    assert result.bound is not None and result.bound <= result.objective + 1e-9  # a valid bound
    assert model.row_violations(result.values) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_free_variables(backend: str) -> None:
    model, objective = free_variables()
    result = solve(model, objective, options(backend))
    assert result.status == "optimal", result.message
    assert result.objective == pytest.approx(0.5)


# ---------------------------------------------------------------- honest statuses


@pytest.fixture
def limits_given(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The time limit handed to every backend run inside :func:`solve`, in order."""
    given: list[float] = []
    for name, run in list(backends.RUNNERS.items()):
        def spy(model, objective, options, start, run=run):
            given.append(options.time_limit)
            return run(model, objective, options, start)
        monkeypatch.setitem(backends.RUNNERS, name, spy)
    return given


@pytest.mark.parametrize("backend", BACKENDS)
def test_infeasible(backend: str) -> None:
    model, objective = infeasible()
    result = solve(model, objective, options(backend))
    assert result.status == "infeasible", result.message
    assert result.values is None and result.objective is None


@pytest.mark.parametrize("backend", BACKENDS)
def test_unbounded(backend: str) -> None:
    model, objective = unbounded()
    result = solve(model, objective, options(backend))
    assert result.status == "unbounded", result.message
    assert result.values is None


@pytest.mark.parametrize("backend", BACKENDS)
def test_unbounded_relaxation_of_an_infeasible_mip_is_infeasible(backend: str) -> None:
    model, objective = infeasible_with_unbounded_relaxation()
    assert solve(model, objective, options(backend)).status == "infeasible"


@pytest.mark.parametrize("backend", BACKENDS)
def test_time_limit_without_solution(backend: str, limits_given: list[float]) -> None:
    """A run that the time limit stops before it finds a plan is ``no_solution`` and carries nothing. The
    model is infeasible (SCIP needs about a minute to prove it), so a run that ignored its 0.3 s limit
    would end "infeasible": the status shows the limit stopped it, whatever the machine's load. The
    backend was handed exactly that limit, and the result says the time limit stopped it (HiGHS's model
    status, kTimeLimit or the interrupt at the deadline; CBC's "Stopped on time limit"; pywraplp's
    NOT_SOLVED)."""
    model, objective, _ = market_split(planted=False)
    result = solve(model, objective, options(backend, time_limit=0.3))
    assert result.status == "no_solution", result.message
    assert result.values is None and result.objective is None
    assert limits_given == [0.3]
    assert result.stopped_by == "time_limit"


@pytest.mark.parametrize("backend", BACKENDS)
def test_start_is_used_and_a_stopped_run_is_only_feasible(backend: str, limits_given: list[float]) -> None:
    """The planted start is a plan no solver finds within 0.3 s: the answer is at least as good, and a run
    stopped by the limit is ``feasible`` with a bound short of its objective (never "optimal"). Every
    backend run inside :func:`solve` (a re-run without the start included) gets at most the 0.3 s asked
    for, the first run all of it; the result says the time limit stopped it."""
    model, objective, known = market_split(planted=True)
    planted_value = model.evaluate(objective, known)
    result = solve(model, objective, options(backend, time_limit=0.3), start=known)
    assert result.status in ("feasible", "optimal"), result.message
    assert result.objective <= planted_value + 1e-9
    assert model.row_violations(result.values) == []
    if result.status == "feasible":
        assert result.bound < result.objective and result.gap > 0
        assert result.stopped_by == "time_limit"
    assert limits_given[0] == 0.3 and all(0 < limit <= 0.3 for limit in limits_given)


@pytest.mark.parametrize("backend", ["highs", "cbc", "scip"])
def test_a_node_limit_stops_at_the_same_point_whatever_the_load(backend: str) -> None:
    """One node finds no plan of market split on its own (HiGHS, CBC, SCIP all branch): without a start the
    run is ``no_solution``, with the planted start that start comes back ``feasible`` with its gap, and
    both say the node limit stopped them, however long a node took."""
    model, objective, _ = market_split(planted=False)
    alone = solve(model, objective, replace(options(backend, time_limit=60), node_limit=1))
    assert (alone.status, alone.stopped_by) == ("no_solution", "node_limit"), alone.message
    model, objective, known = market_split(planted=True)
    started = solve(model, objective, replace(options(backend, time_limit=60), node_limit=1), start=known)
    assert (started.status, started.stopped_by) == ("feasible", "node_limit"), started.message
    assert started.objective <= model.evaluate(objective, known) + 1e-9 and started.gap > 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_start_on_mixed_model(backend: str) -> None:
    model, cost = one_year()
    start = np.array([7.0, 6.0, 96.0, 25.0])  # feasible, cost 16.72
    result = solve(model, cost, options(backend), start=start)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(15.22)


def test_start_must_cover_every_variable() -> None:
    model, cost = one_year()
    with pytest.raises(ValueError, match="4 finite values"):
        solve(model, cost, options("highs"), start=np.zeros(3))


@pytest.mark.parametrize("backend", BACKENDS)
def test_relative_gap_stop_is_feasible_unless_the_gap_closed(backend: str) -> None:
    rng = np.random.default_rng(3)
    model = LinearModel("multi_knapsack")
    x = [model.add_var(f"x[{i}]", 0, 1, integer=True) for i in range(60)]
    for k in range(5):
        weights = rng.integers(1000, 100000, 60)
        model.add_row(f"capacity[{k}]", dict(zip(x, weights.tolist())), hi=float(weights.sum() // 3))
    value = dict(zip(x, rng.integers(1000, 100000, 60).astype(float).tolist()))
    result = solve(model, value, options(backend, gap=0.05), sense="max")
    assert result.bound >= result.objective - 1e-6
    if result.status == "optimal":
        assert result.gap <= 1e-6
    else:
        assert result.status == "feasible" and 1e-6 < result.gap <= 0.06


def test_options_are_checked() -> None:
    with pytest.raises(ValueError, match="unknown backend"):
        SolveOptions("gurobi", 10, 0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="time_limit > 0"):
        SolveOptions("highs", 0, 0)


def test_highs_runs_with_changing_thread_counts() -> None:
    model, value = knapsack()
    for threads in (1, 2, 1):
        result = solve(model, value, SolveOptions("highs", 10, 0, threads=threads), sense="max")
        assert result.status == "optimal", result.message


# ---------------------------------------------------------------- CBC's log


def test_cbc_log_verdicts() -> None:
    stopped = "Result - Stopped on time limit\n\nObjective value:   3.0\nLower bound:  1.5\nGap: 0.5\n"
    assert parse_cbc_log(stopped)[:2] == ("feasible", 1.5)
    nothing = "Result - Stopped on time limit\n\nNo feasible solution found\nLower bound:  12\n"
    assert parse_cbc_log(nothing)[:2] == ("no_solution", 12.0)
    gap = "Result - Optimal solution found (within gap tolerance)\n\nObjective value: 9\nLower bound: 8.5\n"
    assert parse_cbc_log(gap)[:2] == ("optimal", 8.5)  # solve() then calls it feasible
    lp = "Optimal - objective value -22.5\nOptimal objective -22.5 - 0 iterations time 0.002\n"
    assert parse_cbc_log(lp)[:2] == ("optimal", -22.5)
    assert parse_cbc_log("Dual infeasible - objective value -5e+12\n")[0] == "infeasible_or_unbounded"
    assert parse_cbc_log("Primal infeasible - objective value 11.5\n")[0] == "infeasible"
    assert parse_cbc_log("Pre-processing says infeasible or unbounded\n")[0] == "infeasible_or_unbounded"
    assert parse_cbc_log("Problem is infeasible - 0.00 seconds\n")[0] == "infeasible"
    assert parse_cbc_log("Stopped on iterations - objective value 4\n")[0] == "no_solution"
    assert parse_cbc_log("Coin0008I MODEL read with 0 errors\n")[0] == "error"


# ---------------------------------------------------------------- LP and MPS files


def test_lp_names_are_readable_and_safe() -> None:
    assert lp_name("promote_tier[BG007,technical,3,5,y1]") == "promote_tier(BG007,technical,3,5,y1)"
    assert lp_name("move[ops->tech y2]") == "move(ops__tech_y2)"
    assert lp_name("3rd") == "_3rd"
    assert lp_name("e12") == "_e12"


@pytest.mark.parametrize("suffix", [".lp", ".mps"])
def test_write_lp_keeps_names_and_reads_back(tmp_path, suffix: str) -> None:
    model, cost = one_year()
    promote = model.var("promote_tier[BG007,technical,3,5,y1]")
    model.add_row("promotions[band]", {promote: 1}, 1, 6)  # ranged: written as _lo and _hi
    model.add_var("unused[x-y]", 1, 5, integer=True)
    model.add_objective("cost", cost)
    path = tmp_path / f"model{suffix}"
    renamed = write_lp(model, path)
    assert renamed["promote_tier[BG007,technical,3,5,y1]"] == "promote_tier(BG007,technical,3,5,y1)"
    assert renamed["unused[x-y]"] == "unused(x_y)"
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    assert highs.readModel(str(path)) == highspy.HighsStatus.kOk
    lp = highs.getLp()
    assert sorted(lp.col_names_) == sorted(renamed.get(name, name) for name in model.var_names)
    assert {"promotions(band)_lo", "promotions(band)_hi", "mix(senior,y1)"} <= set(lp.row_names_)
    highs.run()
    assert highs.getInfo().objective_function_value == pytest.approx(15.22)


def test_write_lp_refuses_other_formats(tmp_path) -> None:
    model, _ = knapsack()
    with pytest.raises(ValueError, match=".lp or .mps"):
        write_lp(model, tmp_path / "model.txt")


# ---------------------------------------------------------------- CP-SAT on a formulation-shaped model


NO_FLOORS_TIGHT_FIXING = ("workload.headcount=0", "workload.operations=0", "objective.stage_tolerance=1e-9",
                          "flow_convention=start_of_year")
"""The baseline without its workload floors (CP-SAT's grid model of the continuous years finds no plan with them
within its limit) and with flows taken from the stayers (under the baseline's decide_then_attrition the year-1
outflows carry the 0.93–0.96 retentions too, and CP-SAT ends UNKNOWN within 15 s), each stage's goal fixed within 1e-9: at the default 1e-6 the cost stage leaves about 9 CNY of
room on this group, which buys the disruption stage 8e-5 relative, so two backends whose cost stages land 0.05
CNY apart end the disruption stage that far apart."""


@pytest.mark.slow
def test_cpsat_matches_highs_stage_objectives_on_a_small_multi_year_formulation(tmp_path) -> None:
    """Three years, year-1 integer flows, continuous stocks with 0.93–0.96 retention, money rows: the
    CP-SAT grid model (derived bounds, widened rows) plus GLOP re-optimisation lands on HiGHS's
    stage objectives; CP-SAT's answer is never claimed optimal past its (valid) bound."""
    from models.io import write_tables
    from models.scenario_files import load_scenario
    from models.synthetic import generate_tables
    from models.validation import load_inputs
    from optimizer.model.build import build_model
    from optimizer.model.kinds import graded_model_data
    from optimizer.solvers.staged import solve_model

    employees, units, pay = generate_tables(30, 1, 3)
    write_tables({"employees": employees, "units": units, "pay": pay}, tmp_path)
    terms = {}
    for backend in ("highs", "cpsat"):
        scenario = load_scenario(
            Path(__file__).parents[1] / "scenarios" / "baseline.yaml",
            [f"solver.backend={backend}", "solver.time_limit=15", "solver.gap=0", *NO_FLOORS_TIGHT_FIXING],
        )
        data, _, _ = graded_model_data(load_inputs(tmp_path), scenario)
        model, _ = build_model(data)
        solution = solve_model(model, scenario, data.mean_pay)
        assert solution.status in ("optimal", "feasible"), solution.message
        for stage in solution.stages:
            if stage.bound is not None:
                assert stage.bound <= stage.objective + 1e-6 * max(1.0, abs(stage.objective))
        terms[backend] = [stage.objective for stage in solution.stages]
    # Each stage fixes its goal within 1e-9 relative (objective.stage_tolerance), so a later stage's optimum
    # moves little with the earlier stage's value: 1e-5 relative is as close as two backends can be asked to agree.
    assert terms["cpsat"] == pytest.approx(terms["highs"], rel=1e-5, abs=1e-6)


def test_highs_reports_every_better_plan_as_it_searches() -> None:
    model, value = knapsack()
    found: list[tuple[float, float | None]] = []
    result = solve(model, value, replace(options("highs"), on_incumbent=lambda obj, gap: found.append((obj, gap))),
                   sense="max")
    assert result.objective == pytest.approx(90.0)
    assert found and found[-1][0] == pytest.approx(90.0)  # in the caller's sense (a maximum here)


def test_highs_is_not_handed_a_start_that_breaks_a_row_by_more_than_its_absolute_tolerance() -> None:
    """The optimum of :func:`one_year` (h = 6, p = 5, juniors 96, seniors 24) with seniors 24.00001 breaks the
    senior balance (24.00001 − 5 = 19.00001 against 19) by 1e-5: within 1e-6 of the row's activity, so it
    holds for :meth:`LinearModel.row_violations`, but HiGHS (absolute 1e-6) would first repair it by an LP on a
    clock of its own. It is not passed; the exact optimum is, and both runs find cost 15.22."""
    model, objective = one_year()
    exact = np.array([6.0, 5.0, 96.0, 24.0])
    nudged = exact + np.array([0.0, 0.0, 0.0, 1e-5])
    assert model.row_violations(nudged) == [] and model.row_violations(nudged, 1e-6, scaled=False) != []
    refused = solve(model, objective, options("highs"), start=nudged)
    assert "the start was not passed" in refused.message
    taken = solve(model, objective, options("highs"), start=exact)
    assert "the start was not passed" not in taken.message
    assert refused.objective == pytest.approx(15.22) and taken.objective == pytest.approx(15.22)


def test_highs_stops_once_its_bound_answers_the_question_asked() -> None:
    """A diagnosis probe asks only "can the miss be below the threshold?": once the best bound is above it, the
    answer is no. Elastic market split (slacks s⁺, s⁻ on each split, plus z ≥ 1): min z + Σ (s⁺ + s⁻) has a
    bound of at least 1 from the start and is hard to prove, so HiGHS stops at its first MIP callback with
    ``stopped_by`` ``bound`` and a bound above the threshold 0.5, well before its 10 s."""
    model, _, _ = market_split(planted=False)
    miss = {model.add_var("z", 1.0, 10.0): 1.0}
    for i, row in enumerate(model.rows):
        up, down = model.add_var(f"over[{i}]", 0, INF), model.add_var(f"under[{i}]", 0, INF)
        row.expr.update({up: -1.0, down: 1.0})
        miss.update({up: 1.0, down: 1.0})
    result = solve(model, miss, replace(options("highs", time_limit=10.0), stop_above=0.5))
    assert result.stopped_by == "bound", result.message
    assert result.status in ("feasible", "no_solution") and result.bound > 0.5


def _knapsack() -> tuple[LinearModel, dict[int, float]]:
    """30 integer x_i ∈ [0, 10], Σ (1 + i mod 7)·x_i ≥ 37.5, cost Σ (1 + 0.3·(i mod 5))·x_i. Optimum 6: every unit
    of x costs at least 1 and weighs at most 7, so 5 units weigh at most 35 < 37.5; 6 of x_20 (weight 7, cost
    1.0) reach 42 at cost 6."""
    model = LinearModel()
    xs = [model.add_var(f"x{i}", 0, 10, integer=True) for i in range(30)]
    model.add_row("r", {x: 1.0 + (i % 7) for i, x in enumerate(xs)}, lo=37.5)
    return model, {x: 1.0 + (i % 5) * 0.3 for i, x in enumerate(xs)}


def test_a_large_mip_runs_in_a_child_process_with_the_same_answer(monkeypatch):
    # the child path (optimizer/solvers/highs_run.py) on a model made "large" by lowering the threshold:
    # the same plan, bound and status as in process, and the incumbents reported on the way
    from optimizer.solvers import highs_run

    model, goal = _knapsack()
    heard: list[float] = []
    options = SolveOptions(backend="highs", time_limit=30, gap=0.0, on_incumbent=lambda o, g: heard.append(o))
    here = solve(model, goal, options)
    monkeypatch.setattr(highs_run, "CHILD_MIN_COLUMNS", 0)
    child = solve(model, goal, options)
    assert (child.status, child.objective, child.bound) == (here.status, here.objective, here.bound) == \
        ("optimal", pytest.approx(6.0), pytest.approx(6.0))
    assert child.values.tolist() == here.values.tolist() and heard[-1] == pytest.approx(6.0)


def test_a_child_past_its_deadline_is_killed_and_says_so():
    # a limit of 0: the deadline has passed before the child can answer, so the parent kills it
    from optimizer.solvers.highs_run import HighsJob, lp_arrays, run_in_child

    model, goal = _knapsack()
    outcome = run_in_child(HighsJob(lp_arrays(model, goal), {"output_flag": False}, None, 0.0))
    assert (outcome.status, outcome.values, outcome.stopped_by) == ("no_solution", None, "time_limit")
    assert "killed" in outcome.message


def _transport(n: int = 150) -> tuple[LinearModel, dict[int, float], np.ndarray]:
    """Ship from n sources to n sinks (seeded supplies 10–49, the demands a permutation of them, costs 1–99), whole
    units, at least cost, and the north-west corner plan as a start. Its LP has whole vertices, so HiGHS proves
    the optimum, 8,625 at n = 150, at its root relaxation: about 0.3–0.5 s after presolve, well past 10 ms."""
    rng = np.random.default_rng(7)
    supply = rng.integers(10, 50, size=n)
    demand = supply[rng.permutation(n)]
    cost = rng.integers(1, 100, size=(n, n))
    model = LinearModel("transport")
    ship = np.array([[model.add_var(f"ship[{i},{j}]", 0, 1e9, integer=True) for j in range(n)] for i in range(n)])
    for i in range(n):
        model.add_row(f"supply[{i}]", {int(v): 1.0 for v in ship[i]}, lo=float(supply[i]), hi=float(supply[i]))
        model.add_row(f"demand[{i}]", {int(v): 1.0 for v in ship[:, i]}, lo=float(demand[i]), hi=float(demand[i]))
    start, left, wanted, i, j = np.zeros(model.n_vars), supply.astype(float), demand.astype(float), 0, 0
    while i < n and j < n:  # the north-west corner rule
        amount = min(left[i], wanted[j])
        start[ship[i, j]], left[i], wanted[j] = amount, left[i] - amount, wanted[j] - amount
        i, j = (i + 1, j) if left[i] == 0 else (i, j + 1)
    return model, {int(ship[i, j]): float(cost[i, j]) for i in range(n) for j in range(n)}, start


@pytest.mark.parametrize("in_child", [True, False])
def test_a_mip_without_a_bound_goes_on_to_its_first_bound_limit(monkeypatch, in_child):
    # 22,500 columns run in a child process; the threshold raised, in this one. A 10 ms limit stops HiGHS
    # before its root relaxation: the start, no bound. With a first_bound_limit of 10 s it goes on to its root,
    # which proves the optimum here (a stage whose later goals would otherwise be left to a linear program);
    # the grace after a bound is 0.2 s, shorter than the root takes, so a bound seen too soon would show
    from optimizer.solvers import highs_run

    if not in_child:
        monkeypatch.setattr(highs_run, "CHILD_MIN_COLUMNS", 10**9)
    model, goal, start = _transport()
    short = SolveOptions("highs", 0.01, 0.0)
    stopped = solve(model, goal, short, start=start)
    assert (stopped.status, stopped.bound, stopped.stopped_by) == ("feasible", None, "time_limit")
    assert stopped.objective == pytest.approx(model.evaluate(goal, start))
    rooted = solve(model, goal, replace(short, first_bound_limit=10.0), start=start)
    assert (rooted.status, rooted.objective, rooted.bound) == ("optimal", pytest.approx(8625.0), pytest.approx(8625.0))
    # when the bound came is told: after the 10 ms limit (the stage then leaves its later goals to the caller)
    assert stopped.first_bound is None and 0.01 < rooted.first_bound < 10.0


def test_the_deadline_moves_to_the_time_limit_once_highs_has_a_bound():
    from optimizer.solvers.highs_run import HIGHS_GRACE, HighsJob, Deadlines, lp_arrays, tells

    model, goal = _knapsack()
    job = HighsJob(lp_arrays(model, goal), {}, None, 10.0, first_bound_limit=100.0)
    grace = HIGHS_GRACE * 100.0  # of the longer limit
    began = time.perf_counter() - 1000.0  # begun long ago: both deadlines have passed
    deadlines = Deadlines.of(job, began)
    assert deadlines.stop() == pytest.approx(began + 100.0)  # no bound yet: the longer limit
    assert deadlines.kill() == pytest.approx(began + 100.0 + grace)  # the parent's kill, a grace later
    assert deadlines.bound_seen() and not deadlines.bound_seen()  # True the first time only
    assert deadlines.stop() == pytest.approx(began + 100.0)  # a bound seen past both: the longer holds
    midway = Deadlines.of(job, time.perf_counter() - 50.0)  # past the time limit, short of the longer one
    seen = time.perf_counter()
    midway.bound_seen()  # the run stops a grace after the bound, and is killed a grace after that
    assert seen + grace <= midway.stop() <= time.perf_counter() + grace
    assert midway.kill() == pytest.approx(midway.stop() + grace)
    early = Deadlines.of(job, 1e12)  # begun in the future: the time limit has not passed
    early.bound_seen()
    assert early.stop() == pytest.approx(1e12 + 10.0)  # a bound in time: the time limit holds
    # a bound says something about a goal that is never negative only when it is not below 0 (HiGHS reported
    # −2.9 for a count of people before its root)
    assert tells(0.0) and tells(5.0) and not tells(-2.9) and not tells(None) and not tells(-math.inf)
    # a linear program, or no first_bound_limit: the time limit only
    assert replace(job, first_bound_limit=None).longest() == 10.0
    assert replace(job, arrays={**job.arrays, "integer": np.zeros(0, dtype=bool)}).longest() == 10.0


def test_the_interior_point_method_reaches_a_linear_program_and_a_mips_lps(monkeypatch):
    # lp_method="ipm": HiGHS's `solver` for a linear program, `mip_lp_solver` for a MIP; "simplex" sets neither
    from optimizer.solvers import highs_run

    seen: list[dict] = []
    real = highs_run.run
    monkeypatch.setattr(highs_run, "run", lambda job, improved=None: seen.append(job.settings) or real(job, improved))
    model = LinearModel("lp")
    x, y = model.add_var("x", 0, 4), model.add_var("y", 0, 4)
    model.add_row("sum", {x: 1.0, y: 1.0}, lo=3.0)
    for integer in (False, True):
        model.integer = [integer, integer]
        for method in ("ipm", "simplex"):
            result = solve(model, {x: 1.0, y: 2.0}, replace(options("highs"), lp_method=method))
            assert result.objective == pytest.approx(3.0)  # x = 3, y = 0
    ipm_lp, simplex_lp, ipm_mip, simplex_mip = seen
    assert ipm_lp.get("solver") == "ipm" and "mip_lp_solver" not in ipm_lp
    assert ipm_mip.get("mip_lp_solver") == "ipm" and "solver" not in ipm_mip
    assert "solver" not in simplex_lp and "mip_lp_solver" not in simplex_lp and "solver" not in simplex_mip


def test_an_interior_point_run_without_crossover_ends_inside_the_optimal_face():
    # min Σ x over the cycle x_i + x_(i+1) ≥ 2 (i mod 4) on [0, 2]^4: Σ x ≥ 4 (add the rows), and every point of
    # the segment from (2, 0, 2, 0) to (0, 2, 0, 2) is optimal. Crossover ends at a vertex, one of the two ends;
    # without it the interior-point method stops near the segment's centre, (1, 1, 1, 1): the option reaches
    # HiGHS, and the objective is the same.
    model = LinearModel("cycle")
    xs = [model.add_var(f"x{i}", 0, 2) for i in range(4)]
    for i in range(4):
        model.add_row(f"pair{i}", {xs[i]: 1.0, xs[(i + 1) % 4]: 1.0}, lo=2.0)
    ipm = replace(options("highs"), lp_method="ipm")
    vertex = solve(model, dict.fromkeys(xs, 1.0), ipm)
    inside = solve(model, dict.fromkeys(xs, 1.0), replace(ipm, crossover=False))
    assert vertex.objective == pytest.approx(4.0) and inside.objective == pytest.approx(4.0)
    assert sorted(vertex.values) == pytest.approx([0.0, 0.0, 2.0, 2.0], abs=1e-9)
    assert inside.values == pytest.approx([1.0] * 4, abs=1e-3)


def test_an_lp_session_runs_its_cold_stage_by_the_interior_point_method_when_asked():
    # The 4-cycle LP above: a session asked for lp_method="ipm" solves its first (cold) run by the interior-point
    # method (with crossover: a basis for the stages after it), otherwise by HiGHS's choice, simplex here; the
    # next run, from that basis, goes on by simplex either way.
    from optimizer.solvers.backends import HighsLpSession

    for method, ipm_first in (("ipm", True), ("simplex", False)):
        model = LinearModel("cycle")
        xs = [model.add_var(f"x{i}", 0, 2) for i in range(4)]
        for i in range(4):
            model.add_row(f"pair{i}", {xs[i]: 1.0, xs[(i + 1) % 4]: 1.0}, lo=2.0)
        session = HighsLpSession(model)
        first = session.solve(dict.fromkeys(xs, 1.0), replace(options("highs"), lp_method=method))
        assert first.objective == pytest.approx(4.0) and session.basis() is not None
        assert (session.highs.getInfo().ipm_iteration_count > 0) == ipm_first
        model.add_row("fix", dict.fromkeys(xs, 1.0), hi=4.0)
        second = session.solve({xs[0]: 1.0}, replace(options("highs"), lp_method=method))
        assert second.objective == pytest.approx(0.0, abs=1e-9)  # (0, 2, 0, 2)
        assert session.highs.getInfo().ipm_iteration_count == 0
