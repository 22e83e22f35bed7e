"""The lexicographic stages of :func:`optimizer.solvers.staged.solve_model`: the shortcut that proves a met target
from the next stage's plan, and the objective scaling of :func:`optimizer.solvers.backends.solve`."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from models.scenario_files import build_scenario
from models.validation import load_inputs
from optimizer.solvers.base import Basis
from optimizer.pipeline import run_plan
from optimizer.solvers.backends import HighsLpSession, SolveOptions, objective_scale, solve
from optimizer.model.build import build_model
from optimizer.solvers.linear_model import LinearModel
from optimizer.model.kinds import graded_model_data
from optimizer.solvers.staged import counts_people, solve_model, stage_terms
from tests.builders import QUIET, solve_group, unit, write_group
from tests.test_formulation import MIX_100, REACH_30

HIRES = ["hiring.enabled=true", "hiring.max_rate.technical=0.5", "hiring.cost.technical=50000",
         "hiring.entry_tiers={technical: [1]}"]


def _stages(summary: dict) -> dict[str, dict]:
    return {stage["term"]: stage for stage in summary["solver"]["stages"]}


@pytest.mark.slow
def test_a_met_mix_target_is_proved_by_the_cost_stage_without_a_mix_solve(tmp_path):
    # 8 moves + 3 hires reach the band (tests/test_formulation.py): the cost stage, solved with the mix miss
    # fixed at 0, finds that plan, so 0 is the mix optimum and the mix stage is not solved on its own.
    solved = solve_group(tmp_path, MIX_100, [unit("U1")], [*REACH_30, *HIRES])
    stages = _stages(solved.summary)
    assert list(stages) == ["mix", "cost", "disruption"]
    assert stages["mix"]["note"] == "0 reached by the cost stage"
    assert stages["mix"]["objective"] == pytest.approx(0.0, abs=1e-9)
    assert stages["mix"]["seconds"] == 0.0
    cost = 72 * 50_000 + 31 * 60_000 + 8 * 1_000 + 3 * 50_000
    assert stages["cost"]["objective"] == pytest.approx(cost)
    assert stages["cost"]["status"] == "optimal"


@pytest.mark.slow
def test_a_missed_mix_target_gets_its_own_stage_and_the_try_is_undone(tmp_path):
    # Without hires the band is missed by 3 heads (tests/test_formulation.py): the try at 0 finds no plan,
    # its row is dropped, and the mix stage proves 3; the cost stage then keeps the miss at 3.
    solved = solve_group(tmp_path, MIX_100, [unit("U1")], REACH_30)
    stages = _stages(solved.summary)
    assert stages["mix"]["note"] == ""
    assert stages["mix"]["objective"] == pytest.approx(3.0)
    assert stages["mix"]["status"] == "optimal"
    assert solved.summary["objective"]["mix"] == pytest.approx(3.0)
    assert solved.flow("sequence_move") == 8


@pytest.mark.slow
@pytest.mark.parametrize("overrides, diagnose, asked", [
    # the band reached: the cost stage proves the mix at 0, so no diagnosis can follow and the disruption
    # stage is sized without the diagnosis' shares (it is last: nothing to lend it)
    ([*REACH_30, *HIRES], True, [("disruption", 0, False)]),
    # the band missed by 3: the diagnosis' shares stay kept (the run diagnoses a missed target), and no stage
    # may take its later goals' shares
    (REACH_30, True, [("mix", 2, False), ("cost", 2, False), ("disruption", 2, False)]),
    # the same without a diagnosis: the mix and cost stages may take their later goals' shares until a bound
    (REACH_30, False, [("mix", 0, True), ("cost", 0, True), ("disruption", 0, False)]),
])
def test_the_diagnosis_shares_go_to_the_stages_once_the_targets_are_met_and_are_never_lent(
        tmp_path, monkeypatch, overrides, diagnose, asked):
    from optimizer.solvers import staged

    seen: list[tuple[str, int, bool]] = []
    real = staged.first_bound_limit

    def spy(order, clock, model, deferring):
        limit = real(order, clock, model, deferring)
        seen.append((order[0], clock.if_missed, limit is not None))
        return limit

    monkeypatch.setattr(staged, "first_bound_limit", spy)
    data = write_group(tmp_path / "data", MIX_100, [unit("U1")])
    scenario = build_scenario(json.loads(json.dumps(QUIET)), "test", overrides)
    summary = run_plan(scenario, data, tmp_path / "plan", diagnose=diagnose).summary
    assert seen == asked
    assert summary["solver"]["deferred"] == []  # each stage had its bound within its own share


def test_objective_scale_is_the_power_of_two_nearest_the_median_coefficient():
    assert objective_scale({0: 3e5, 1: 1e5, 2: 2e5}) == 2.0**18  # median 2e5, log2 = 17.6
    assert objective_scale({0: 1.0, 1: -1.0}) == 1.0
    assert objective_scale({}) == 1.0


def test_a_scaled_objective_is_reported_in_the_callers_units():
    # max 123457·a + 98765·b with a + b ≤ 1.5, a, b ∈ {0, 1}: a = 1, b = 0 → 123457 (scaled by 2^17 inside).
    model = LinearModel()
    a, b = model.add_var("a", 0, 1, integer=True), model.add_var("b", 0, 1, integer=True)
    model.add_row("pair", {a: 1.0, b: 1.0}, hi=1.5)
    found: list[float] = []
    options = SolveOptions(backend="highs", time_limit=10, gap=0.0, on_incumbent=lambda obj, gap: found.append(obj))
    result = solve(model, {a: 123457.0, b: 98765.0}, options, sense="max")
    assert result.objective == 123457.0 and result.bound == pytest.approx(123457.0)
    assert found[-1] == pytest.approx(123457.0)
    minimised = solve(model, {a: 123457.0, b: 98765.0}, replace(options, on_incumbent=None))
    assert minimised.objective == 0.0


def test_goals_that_count_people_are_solved_with_interior_point_lps(tmp_path):
    scenario = build_scenario(QUIET, "test", [*REACH_30, "budget.growth=0.0"])
    data, _, _ = graded_model_data(load_inputs(write_group(tmp_path, MIX_100, [unit("U1")])), scenario)
    model, _ = build_model(data)
    goals = stage_terms(model, data.mean_pay)
    assert {term: counts_people(goal) for term, goal in goals.items() if goal} == {
        "mix": True, "cost": False, "disruption": True}


def test_highs_with_interior_point_lps_reaches_the_same_optimum():
    model = LinearModel()
    a, b = model.add_var("a", 0, 10, integer=True), model.add_var("b", 0, 10, integer=True)
    model.add_row("capacity", {a: 3.0, b: 5.0}, hi=22.5)
    options = SolveOptions(backend="highs", time_limit=10, gap=0.0)
    simplex = solve(model, {a: 4.0, b: 7.0}, options, sense="max")
    ipm = solve(model, {a: 4.0, b: 7.0}, replace(options, lp_method="ipm"), sense="max")
    # 3a + 5b ≤ 22.5: (5, 1) → 27, (0, 4) → 28, (4, 2) → 30 (22 ≤ 22.5), (2, 3) → 29: the optimum is 30
    assert simplex.objective == ipm.objective == 30.0


def test_an_lp_session_solves_each_stage_from_the_last_basis_as_a_cold_solve_would():
    # min 2x + 2y + 3z s.t. x + y + z ≥ 10: cost 20 on the face x + y = 10, z = 0. With cost ≤ 20 fixed,
    # min y gives (10, 0, 0); with that row removed and y ≥ 4 added, min y is 4 (at cost 20 or more).
    model = LinearModel()
    x, y, z = (model.add_var(name) for name in "xyz")
    model.add_row("demand", {x: 1.0, y: 1.0, z: 1.0}, lo=10.0)
    cost, moves = {x: 2.0, y: 2.0, z: 3.0}, {y: 1.0}
    options = SolveOptions(backend="highs", time_limit=10, gap=0.0)
    session = HighsLpSession(model)

    def both(goal: dict[int, float]) -> tuple:
        hot, cold = session.solve(goal, options), solve(model, goal, options)
        assert hot.status == cold.status == "optimal" and hot.objective == pytest.approx(cold.objective)
        return hot.objective, tuple(round(v, 9) for v in hot.values)

    assert both(cost)[0] == pytest.approx(20.0)
    model.add_row("stage_fix[cost]", cost, hi=20.0)
    assert both(moves) == (0.0, (10.0, 0.0, 0.0))
    model.rows.pop()
    model.add_row("floor", {y: 1.0}, lo=4.0)
    assert both(moves)[0] == pytest.approx(4.0)
    assert session.highs.getNumRow() == 2  # the fixing row was taken out, the floor put in


def _follows(a: float, extra_row: bool = False) -> LinearModel:
    """min x + 2y s.t. x + y ≥ a (a fixed: lb = ub, as merit fixes year 1), x ≤ 3: x = min(a, 3), y = a − x."""
    model = LinearModel()
    fixed, x, y = model.add_var("a", a, a), model.add_var("x", 0, 3), model.add_var("y")
    model.add_row("follow", {x: 1.0, y: 1.0, fixed: -1.0}, lo=0.0)
    if extra_row:
        model.add_row("cap", {y: 1.0}, hi=10.0)
    model.add_objective("cost", {x: 1.0, y: 2.0})
    return model


def test_a_basis_of_the_same_shape_starts_another_lp_where_a_fixed_value_moved():
    # a = 2: x = 2, cost 2, and its basis. a = 5 from that basis (dual simplex): x = 3, y = 2, cost 7, as cold
    options = SolveOptions(backend="highs", time_limit=10, gap=0.0)
    session = HighsLpSession(_follows(2.0))
    assert session.basis() is None  # nothing solved yet
    assert session.solve({1: 1.0, 2: 2.0}, options).objective == pytest.approx(2.0)
    basis = session.basis()
    # a at its (fixed) bound, x basic, y at 0; the row at its lower side (x + y = a)
    assert (basis.columns.tolist(), basis.rows.tolist()) == ([0, 1, 0], [0])
    warm = HighsLpSession(_follows(5.0)).solve({1: 1.0, 2: 2.0}, options, basis)
    cold = solve(_follows(5.0), {1: 1.0, 2: 2.0}, options)
    assert warm.objective == cold.objective == pytest.approx(7.0) and warm.values.round(9).tolist() == [5.0, 3.0, 2.0]
    assert warm.message == "HiGHS kOptimal (from a basis of the same shape)"
    # a basis of another shape (one row more) is not taken: the run starts cold
    other = HighsLpSession(_follows(5.0, extra_row=True)).solve({1: 1.0, 2: 2.0}, options, basis)
    assert other.objective == pytest.approx(7.0) and other.message == "HiGHS kOptimal"
    # nor one holding statuses HiGHS does not have (a damaged reference.npz)
    damaged = Basis(np.array([0, 9, 0], dtype=np.int8), basis.rows)
    assert HighsLpSession(_follows(5.0)).solve({1: 1.0, 2: 2.0}, options, damaged).message == "HiGHS kOptimal"


def test_the_staged_solve_of_a_linear_program_keeps_each_stages_basis_and_starts_from_the_bases_given():
    scenario = build_scenario(QUIET, "test")
    first = solve_model(_follows(2.0), scenario, 1.0)
    # the basis of the first stage (the mix, empty here), which the stages after it started hot from
    assert list(first.bases) == ["mix"] and first.terms["cost"] == pytest.approx(2.0)
    again = solve_model(_follows(5.0), scenario, 1.0, warm=first.bases)
    assert again.terms["cost"] == pytest.approx(7.0) == solve_model(_follows(5.0), scenario, 1.0).terms["cost"]
    # a mixed-integer solve keeps none of its own
    whole = _follows(2.0)
    whole.integer[1] = True
    assert solve_model(whole, scenario, 1.0).bases == {}


def test_an_lp_session_holds_no_integer_column():
    model = LinearModel()
    model.add_var("a", 0, 1, integer=True)
    with pytest.raises(ValueError, match="linear programs only"):
        HighsLpSession(model)
