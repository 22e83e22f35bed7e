"""The constructive start (:mod:`optimizer.solvers.start`): doing only what the floors ask, built without a
solver, checked against hand numbers, and the stage that keeps it when its solver finds nothing better."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from models.scenario_files import build_scenario
from models.validation import load_inputs
from optimizer.model.build import build_model
from optimizer.model.formulation import whole_shares
from optimizer.model.kinds import graded_model_data
from optimizer.model.network import GRADE_STEP
from optimizer.solvers.backends import SolveOptions, solve
from optimizer.solvers.linear_model import LinearModel
from optimizer.solvers.staged import stage_terms
from optimizer.solvers.start import constructive_start, idle_start
from tests.builders import QUIET, people, unit, write_group

# 20 technical people in tier 1 grade 1, 10% attrition, a grade-step floor of 25% (cap 50%), two years.
FLOORED = ["horizon=2", "mix.deadline=2", "attrition.technical=0.1", "promotion.grade_rate=0.5",
           "promotion.grade_rate_floor=0.25"]


def _model(tmp_path, employees, units, overrides):
    folder = write_group(tmp_path / "data", employees, units)
    scenario = build_scenario(json.loads(json.dumps(QUIET)), "test", overrides)
    data, _, _ = graded_model_data(load_inputs(folder), scenario)
    return build_model(data)


def test_whole_shares_split_by_largest_remainder_within_each_room():
    assert whole_shares(3, [1.5, 1.4, 0.1], [5, 5, 5]) == [2, 1, 0]
    assert whole_shares(3, [1.5, 1.4, 0.1], [1, 5, 5]) == [1, 2, 0]  # the largest remainder has no room left
    assert whole_shares(2, [0.5, 0.5], [1, 1]) == [1, 1]
    assert whole_shares(1, [0.5, 0.5], [1, 1]) == [1, 0]  # a tie goes to the first
    assert whole_shares(3, [1.5, 1.4, 0.1], [1, 1, 0]) is None  # the rooms hold 2


def test_the_start_does_what_the_floors_ask_and_rolls_the_stocks_forward(tmp_path):
    model, index = _model(tmp_path, people("U1", "technical", 20, years=3), [unit("U1")], FLOORED)
    values = constructive_start(model)
    assert values is not None
    assert model.row_violations(values) == []
    steps = {year: [(arc, values[var]) for arc, var in index.flows_of(year, GRADE_STEP)] for year in (1, 2)}
    # Year 1: 0.9·20 = 18 stay, the floor asks ⌊0.25·18⌋ = 4 whole grade steps.
    assert sum(count for _, count in steps[1]) == 4
    stock1 = {(c.grade, c.seniority): values[var] for (c, year), var in index.stock.items() if year == 1 and values[var]}
    assert sorted(stock1.values()) == pytest.approx([4.0, 14.0])  # 4 stepped up to grade 2, 14 stayed in grade 1
    assert [grade for grade, _ in sorted(stock1, key=stock1.get)] == [2, 1]
    # Year 2: the 14 left in grade 1 give 0.25·0.9·14 = 3.15 (expected people, not whole).
    from_grade1 = [count for arc, count in steps[2] if arc.source.grade == 1]
    assert from_grade1 == pytest.approx([3.15])
    # Every other flow (hires, moves, tier promotions) is 0: doing nothing unasked.
    others = [values[var] for (arc, year), var in index.flow.items() if arc.kind != GRADE_STEP]
    assert not any(others)


def test_no_start_is_built_when_a_rule_asks_for_more_than_doing_nothing(tmp_path):
    # A unit minimum of 25 needs hires; doing nothing ends the year with 20, so no plan is built by rule.
    model, _ = _model(tmp_path, people("U1", "technical", 20, years=3), [unit("U1", min_headcount=25)],
                      ["hiring.enabled=true", "hiring.max_rate.technical=0.5", "hiring.entry_tiers={technical: [1]}"])
    assert constructive_start(model) is None


def test_the_start_matches_the_restricted_solve_where_both_exist(tmp_path):
    # Independent check: the restricted model (idle fixed at 0) solved by HiGHS for the mix miss reaches the
    # start's mix miss, as doing nothing leaves no choice but the floors' split.
    model, _ = _model(tmp_path, [*people("U1", "technical", 20, years=3), *people("U1", "operations", 30)],
                      [unit("U1")], [*FLOORED, "mix.tolerance=0.01"])
    values = constructive_start(model)
    goal = stage_terms(model, 55_000.0)["mix"]
    fixed = np.asarray(model.ub, dtype=float)
    fixed[list(model.idle)] = 0.0
    restricted = solve(replace(model, ub=fixed.tolist()), goal, SolveOptions(backend="highs", time_limit=30, gap=0.0))
    assert model.evaluate(goal, values) == pytest.approx(restricted.objective, abs=1e-6)


def test_variables_fixed_by_their_bounds_keep_their_value_idle_or_under_a_floor(tmp_path):
    # Merit's re-solve fixes year 1 (lb = ub) at the merit split: the start keeps it and rolls the stocks
    # forward from it, where it used to set the idle flows to 0 against their bounds and find no start.
    # Year 1 fixed at 6 grade steps (the floor asks 4): 18 − 6 = 12 stay in grade 1, 6 in grade 2; year 2's
    # floor then asks 0.25·0.9·12 = 2.7 of grade 1.
    model, index = _model(tmp_path, people("U1", "technical", 20, years=3), [unit("U1")], FLOORED)
    fixed = model.copy()
    for arc, var in index.flows_of(1):
        fixed.lb[var] = fixed.ub[var] = 6.0 if arc.kind == GRADE_STEP else 0.0
        fixed.integer[var] = False
    values = constructive_start(fixed)
    assert values is not None and fixed.row_violations(values) == []
    assert sum(values[var] for _, var in index.flows_of(1, GRADE_STEP)) == 6
    stock1 = sorted(values[var] for (c, year), var in index.stock.items() if year == 1 and values[var])
    assert stock1 == pytest.approx([6.0, 12.0])
    from_grade1 = [values[var] for arc, var in index.flows_of(2, GRADE_STEP) if arc.source.grade == 1]
    assert from_grade1 == pytest.approx([2.7])


def _hires(cap_h2: float, link_h3: bool) -> tuple[LinearModel, int, int, int]:
    """Hires h1 ∈ [0, 8] (whole, year 1), h2 ∈ [0, cap_h2] (a later year's hiring cap as a row) must make
    h1 + h2 + m ≥ 10 (a floor); the move m is idle. With ``link_h3``, a later stock h3 = h1 lies within [0, 5]."""
    model = LinearModel()
    h1, h2 = model.add_var("hire[y1]", 0, 8, integer=True), model.add_var("hire[y2]", 0, 100)
    m = model.add_var("move[y1]", 0, 5, integer=True)
    model.idle.add(m)
    model.add_row("floor", {h1: 1.0, h2: 1.0, m: 1.0}, lo=10.0)
    model.add_row("cap_hires[y2]", {h2: 1.0}, hi=cap_h2)
    if link_h3:
        h3 = model.add_var("stock[y2]", 0, 5)
        model.add_row("link", {h3: 1.0, h1: -1.0}, lo=0.0, hi=0.0)
    return model, h1, h2, m


def test_when_the_rules_cannot_build_a_start_the_later_years_are_mended_by_a_linear_program():
    # Propagation sets h2 at 0 from its cap, then h1 would need 10 > 8: the built point (h1 = 8, h2 = 0) breaks
    # the floor. With the whole variables at their built values (h1 = 8, m = 0) the rest is a linear program
    # whose plans have h2 ∈ [2, 4]: the start keeps year 1 as built.
    model, h1, h2, m = _hires(4.0, link_h3=False)
    assert constructive_start(model) is None
    start = idle_start(model, SolveOptions(backend="highs", time_limit=10, gap=0.0))
    assert start is not None and not model.row_violations(start)
    assert (start[h1], start[m]) == (8.0, 0.0) and 2.0 - 1e-9 <= start[h2] <= 4.0 + 1e-9


def test_when_year1_as_built_has_no_plan_the_restricted_mip_finds_one():
    # h3 = h1 ≤ 5 rules out the built h1 = 8: the linear program has no plan, the MIP (m fixed at 0) takes
    # h1 ∈ [4, 5] and h2 = 10 − h1 ∈ [5, 6] within the cap of 6.
    model, h1, h2, m = _hires(6.0, link_h3=True)
    assert constructive_start(model) is None
    start = idle_start(model, SolveOptions(backend="highs", time_limit=10, gap=0.0))
    assert start is not None and not model.row_violations(start)
    assert start[m] == 0 and start[h1] in (4.0, 5.0) and start[h1] + start[h2] >= 10 - 1e-9
