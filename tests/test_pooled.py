"""The pooled relaxation (:mod:`optimizer.model.pooled`): every unit in one, a lower bound on the mix goal, checked
against hand numbers and against the full model's proven optimum; and a stage measured against such a bound
(:func:`optimizer.solvers.staged.with_known_bound`)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from models.scenario_files import build_scenario, load_scenario, scenario_path
from models.synthetic import write_generated
from models.validation import load_inputs
from optimizer.model.build import build_model
from optimizer.model.kinds import graded_model_data
from optimizer.model.pooled import POOLED_UNIT, guided_pushes, pooled_data, pooled_plan
from optimizer.solvers.backends import SolveOptions
from optimizer.solvers.staged import RELAXATION, StageResult, solve_model, stage_terms, with_known_bound
from optimizer.solvers.start import idle_start
from tests.builders import QUIET, people, unit, write_group

OPTIONS = SolveOptions(backend="highs", time_limit=30.0, gap=1e-6)
# 100 eligible operations people in each of two units, no attrition, one year; 5% of a unit's operations may
# retrain into technical; band ±1 point around 0 / 30 / 70
MOVES = ["mix.tolerance=0.01", "mobility.operations_to_technical=0.05"]


def _data(tmp_path, floor_u1: float | None, overrides=MOVES):
    extra = {} if floor_u1 is None else {"min_operations": floor_u1}
    employees = people("U1", "operations", 100, eligible=True) + people("U2", "operations", 100, eligible=True)
    folder = write_group(tmp_path / "data", employees, [unit("U1", **extra), unit("U2")])
    scenario = build_scenario(json.loads(json.dumps(QUIET)), "test", list(overrides))
    return graded_model_data(load_inputs(folder), scenario)[0]


def _solved_mix(data) -> float:
    model, _ = build_model(data)
    solution = solve_model(model, data.scenario, data.mean_pay)
    assert solution.stages[0].status == "optimal"
    return model.evaluate(stage_terms(model, data.mean_pay)["mix"], solution.values)


def test_the_pooled_model_holds_every_units_people_in_one_unit(tmp_path):
    pooled = pooled_data(_data(tmp_path, None))
    assert pooled.units == [POOLED_UNIT]
    assert sum(pooled.initial.values()) == 200 and {c.unit for c in pooled.initial} == {POOLED_UNIT}
    assert pooled.min_operations == {} and pooled.unit_cap == {}


def test_the_bound_is_the_full_optimum_when_no_unit_row_binds(tmp_path):
    # each unit retrains ⌊0.05·100⌋ = 5: technical 10 of 200, 0.29·200 − 10 = 48 under; operations 190,
    # 190 − 142 = 48 over: 96 heads, pooled or not
    data = _data(tmp_path, None)
    bound = pooled_plan(data, OPTIONS).bound
    assert bound == pytest.approx(96.0, abs=1e-3) and bound <= 96.0
    assert _solved_mix(data) == pytest.approx(96.0)


def test_the_bound_drops_the_unit_rows_and_stays_below_the_optimum(tmp_path):
    # U1's workload floor keeps its 100 operations people: only U2 retrains 5, technical 5 (53 under), operations
    # 195 (53 over): 106 heads. Pooled, the floor is gone (it binds per unit): 96, a bound 10 heads below
    data = _data(tmp_path, 100.0)
    assert _solved_mix(data) == pytest.approx(106.0)
    assert pooled_plan(data, OPTIONS).bound == pytest.approx(96.0, abs=1e-3)
    alone = pooled_plan(data, OPTIONS, guide=False)  # a diagnosis probe's: the bound without the plan
    assert alone.bound == pytest.approx(96.0, abs=1e-3) and alone.values is None


def test_the_start_follows_the_pooled_plan_dealt_over_the_units(tmp_path):
    # the pooled plan retrains 10 of the 200 (5%), and nothing else (the fewest flows with that miss): each
    # unit's move is pushed at 5% of its cohort, in whole people 5 + 5, the pooled optimum of 96 heads
    data = _data(tmp_path, None)
    plan = pooled_plan(data, OPTIONS)
    assert sum(plan.values[var] for var in plan.index.flow.values()) == pytest.approx(10.0, abs=1e-4)
    model, index = build_model(data)
    model.pushes = guided_pushes(data, index, plan)
    moves = {arc.source.unit: var for arc, var in index.flows_of(1)}
    assert set(model.pushes) == set(moves.values())
    for unit, var in moves.items():
        group, expr, _ = model.pushes[var]
        assert group == f"cap_operations_to_technical[{unit},operations,1,y1]"
        assert list(expr.values()) == [pytest.approx(0.05, abs=1e-6)]
    goal = stage_terms(model, data.mean_pay)["mix"]
    start = idle_start(model, OPTIONS, goal)
    assert [start[moves[unit]] for unit in ("U1", "U2")] == [5.0, 5.0]
    assert model.evaluate(goal, start) == pytest.approx(96.0) and model.row_violations(start) == []


def test_no_bound_where_a_transfer_is_not_a_stay(tmp_path):
    # under service_dependent wastage a transferred person leaves at the destination's rate on top of the source's:
    # pooling the transfer into a stay would not be a relaxation
    assert pooled_plan(_data(tmp_path, None, [*MOVES, "flow_convention=service_dependent"]), OPTIONS) is None


@pytest.mark.parametrize("convention", ["decide_then_attrition", "start_of_year"])
def test_the_pooled_bound_never_exceeds_the_proven_mix_optimum_of_a_generated_group(tmp_path, convention):
    # a cross-check between two independent computations: 400 people in 4 units whose mix cannot be reached in
    # one year (its miss solved to optimality: 216.9 heads under decide-then-attrition) against the pooled LP's
    # bound (184.8 there)
    write_generated(tmp_path / "data", 400, 4, 7)
    scenario = load_scenario(scenario_path("baseline"), ["mix.deadline=1", "mix.tolerance=0.001",
                                                         "mobility.operations_to_technical=0.01",
                                                         f"flow_convention={convention}"])
    data = graded_model_data(load_inputs(tmp_path / "data"), scenario)[0]
    bound = pooled_plan(data, OPTIONS).bound
    optimum = _solved_mix(data)
    assert 0.0 < bound <= optimum + 1e-6


def _stage(objective: float | None, bound: float | None) -> StageResult:
    return StageResult("mix", "feasible", objective, bound, None, 12.0, stopped_by="time_limit")


def test_a_known_bound_gives_an_unproven_stage_its_gap_and_proves_it_within_the_stages_gap():
    measured = with_known_bound(_stage(100.0, None), (71.0, "the pooled relaxation"), 0.01)
    assert (measured.status, measured.bound, measured.gap, measured.stopped_by) == \
        ("feasible", 71.0, 0.29, "time_limit")
    assert measured.note == "bound: the pooled relaxation" and measured.bound_source == "the pooled relaxation"
    proven = with_known_bound(_stage(100.0, 90.0), (99.5, "the pooled relaxation"), 0.01)
    assert (proven.status, proven.gap, proven.stopped_by) == ("optimal", pytest.approx(0.005), None)
    assert proven.bound_source == "the pooled relaxation" and _stage(100.0, 90.0).bound_source is None



def test_a_bound_known_apart_may_only_inform_and_a_better_one_replaces_it_in_the_note():
    # The linear relaxation solved beside a stage (staged.RELAXATION) tells a gap and proves nothing: the stage
    # keeps its status and what stopped it even within its gap; a later, higher bound names only its own source.
    told = with_known_bound(_stage(100.0, None), (99.5, RELAXATION), 0.01, proves=False)
    assert (told.status, told.bound, told.gap, told.stopped_by) == ("feasible", 99.5, pytest.approx(0.005),
                                                                     "time_limit")
    assert told.note == f"bound: {RELAXATION}" and told.bound_source == RELAXATION
    better = with_known_bound(replace(told, note=f"reused; bound: {RELAXATION}"), (99.8, "the pooled relaxation"),
                              0.01)
    assert better.note == "reused; bound: the pooled relaxation" and better.status == "optimal"


def test_a_known_bound_no_better_than_the_solvers_changes_nothing():
    stage = _stage(100.0, 80.0)
    assert with_known_bound(stage, (71.0, "x"), 0.01) is stage
    assert with_known_bound(stage, None, 0.01) is stage
    assert with_known_bound(_stage(None, None), (71.0, "x"), 0.01).bound is None


def test_merits_re_solve_of_a_stopped_plan_keeps_within_its_flows_per_position(tmp_path):
    # two years, each unit retrains 5% a year: the year-2 flows of the two units' cohorts (seniority 0 after a
    # move, 3+ for the stayers) are bounded by the solved total of their (year, kind, from, to state); year 1 as
    # fixed, and the solved plan itself fits, so the bounded re-solve keeps its mix miss
    from collections import defaultdict

    from optimizer.plan.merit import fixed_year1, within_positions

    data = _data(tmp_path, None, [*MOVES, "horizon=2", "mix.deadline=2"])
    model, index = build_model(data)
    solved = solve_model(model, data.scenario, data.mean_pay)
    year1 = {var: solved.values[var] for _, var in index.flows_of(1)}
    bounded = within_positions(fixed_year1(model, len(model.rows), year1), solved.values, index, 2)
    totals = defaultdict(float)
    for arc, var in index.flows_of(2):
        totals[(arc.kind, arc.source.state, arc.target.state)] += solved.values[var]
    assert any(value > 0 for value in totals.values())
    for arc, var in index.flows_of(2):
        assert bounded.ub[var] == pytest.approx(totals[(arc.kind, arc.source.state, arc.target.state)])
    for var, value in year1.items():
        assert bounded.lb[var] == bounded.ub[var] == value
    goal = stage_terms(model, data.mean_pay)["mix"]
    again = solve_model(bounded, data.scenario, data.mean_pay)
    assert model.evaluate(goal, again.values) == pytest.approx(model.evaluate(goal, solved.values), abs=1e-6)


def test_a_start_that_meets_the_mix_proves_its_stage_and_the_cost_stage_agrees_with_the_shortcut(tmp_path):
    # 30% of each unit's operations may retrain: the pooled plan meets the band (technical ≥ 29%) with the
    # fewest moves, 58 of 200, dealt 29 + 29 over the units, which meets it too: the mix stage is proven at 0
    # by its start, with no solve. The cost stage then starts from it and reaches the optimum the shortcut's
    # try at 0 (the cost stage with the mix fixed at 0, no start) reaches
    data = _data(tmp_path, None, ["mix.tolerance=0.01", "mobility.operations_to_technical=0.3"])
    plan = pooled_plan(data, OPTIONS)
    assert plan.bound == pytest.approx(0.0, abs=1e-6)
    model, index = build_model(data)
    model.pushes = guided_pushes(data, index, plan)
    started = solve_model(model, data.scenario, data.mean_pay, bounds={"mix": lambda: (plan.bound, "pooled")})
    assert started.stages[0].note == "0 reached by the constructive start" and started.stages[0].status == "optimal"
    shortcut_model, _ = build_model(data)
    shortcut = solve_model(shortcut_model, data.scenario, data.mean_pay)
    assert shortcut.stages[0].note == "0 reached by the cost stage"
    assert [stage.term for stage in started.stages] == [stage.term for stage in shortcut.stages]
    assert started.terms["cost"] == pytest.approx(shortcut.terms["cost"], rel=1e-9)
    assert started.status == shortcut.status == "optimal"


def test_a_start_short_of_the_mix_is_the_stage_start_after_the_shortcuts_try(tmp_path):
    # U1's workload floor keeps its 100 operations people, which the pooled model does not see (its bound is 0):
    # only U2 retrains, at most 30, technical 30 of 200: 0.29·200 − 30 = 28 under, operations 170 − 142 = 28
    # over, 56 heads. The start built first misses 0, the try at 0 finds no plan, the mix stage starts from
    # that start and proves 56, as the run without the bound does
    data = _data(tmp_path, 100.0, ["mix.tolerance=0.01", "mobility.operations_to_technical=0.3"])
    plan = pooled_plan(data, OPTIONS)
    assert plan.bound == pytest.approx(0.0, abs=1e-6)
    model, index = build_model(data)
    model.pushes = guided_pushes(data, index, plan)
    started = solve_model(model, data.scenario, data.mean_pay, bounds={"mix": lambda: (plan.bound, "pooled")})
    plain_model, _ = build_model(data)
    plain = solve_model(plain_model, data.scenario, data.mean_pay)
    for solution in (started, plain):
        mix = solution.stages[0]
        assert (mix.term, mix.status, mix.note) == ("mix", "optimal", "")
        assert mix.objective == pytest.approx(56.0)
    assert started.terms["cost"] == pytest.approx(plain.terms["cost"], rel=1e-9)
