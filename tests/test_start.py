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
from optimizer.solvers.start import whole_shares
from optimizer.model.kinds import graded_model_data
from optimizer.model.network import GRADE_STEP
from optimizer.solvers.backends import SolveOptions, solve
from optimizer.solvers.linear_model import LinearModel, Push
from optimizer.solvers.staged import stage_terms
from optimizer.solvers.start import constructive_start, idle_start
from tests.builders import QUIET, pay_table, people, unit, write_group

# 20 technical people in tier 1 grade 1, 10% attrition, a grade-step floor of 25% (cap 50%), two years.
FLOORED = ["horizon=2", "mix.deadline=2", "attrition.technical=0.1", "promotion.grade_rate=0.5",
           "promotion.grade_rate_floor=0.25"]


def _model(tmp_path, employees, units, overrides, pay=None):
    folder = write_group(tmp_path / "data", employees, units, pay)
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


def _pushed_model(cap: float = 0.5) -> tuple[LinearModel, dict[str, int]]:
    """s0 = 10 people (fixed); a move f (idle, pushed at λ·s0) takes x1 = s0 − f to t1 = f, f ≤ cap·s0; the goal
    |t1 − 3| = over + under."""
    model = LinearModel()
    v = {name: model.add_var(name, *bounds) for name, bounds in
         (("s0", (10.0, 10.0)), ("f", (0.0, np.inf)), ("x1", (0.0, np.inf)), ("t1", (0.0, np.inf)),
          ("over", (0.0, np.inf)), ("under", (0.0, np.inf)))}
    model.idle.add(v["f"])
    model.pushes[v["f"]] = Push("group", {v["s0"]: 1.0}, {v["s0"]: 1.0})
    model.add_row("stay", {v["x1"]: 1.0, v["f"]: 1.0, v["s0"]: -1.0}, 0.0, 0.0)
    model.add_row("land", {v["t1"]: 1.0, v["f"]: -1.0}, 0.0, 0.0)
    model.add_row("cap", {v["f"]: 1.0, v["s0"]: -cap}, hi=0.0)
    model.add_row("above", {v["t1"]: 1.0, v["over"]: -1.0}, hi=3.0)
    model.add_row("below", {v["t1"]: -1.0, v["under"]: -1.0}, hi=-3.0)
    model.add_objective("mix", {v["over"]: 1.0, v["under"]: 1.0})
    return model, v


def test_a_pushed_start_moves_people_toward_the_goal_by_the_best_fraction_it_finds():
    from optimizer.solvers.start import pushed_start

    model, v = _pushed_model()
    goal = model.objective_terms["mix"]
    built = constructive_start(model)
    assert built[v["f"]] == 0.0 and model.evaluate(goal, built) == 3.0  # doing nothing: t1 = 0, 3 short
    # λ = 1 breaks the cap (f = 10 > 5); ½: f = 5, goal 2; ¼: 2.5, 0.5; ⅛: 1.25, 1.75 (worse: the descent stops).
    # Bisecting toward ¼'s neighbours: 3/16 → 1.125, 3/8 → 0.75; then 7/32 → 0.8125, 5/16 → f = 3.125, 0.125
    pushed = pushed_start(model, goal, built)
    assert pushed[v["f"]] == pytest.approx(3.125) and model.evaluate(goal, pushed) == pytest.approx(0.125)
    assert model.row_violations(pushed) == []
    # a work limit, not the clock, bounds the search, the fitted plan first: one construction (f = 10, breaking
    # the cap; scored as built, goal 7) leaves doing nothing; two fit it: the cap's excess 5 cut by 5% more,
    # f = 10 − 5.25 = 4.75, goal 1.75; λ = 1 and ½ (f = 5, goal 2) do no better; ¼ (goal 0.5) does
    assert pushed_start(model, goal, built, tries=1)[v["f"]] == 0.0
    assert pushed_start(model, goal, built, tries=2)[v["f"]] == pytest.approx(4.75)
    assert pushed_start(model, goal, built, tries=4)[v["f"]] == pytest.approx(4.75)
    assert pushed_start(model, goal, built, tries=5)[v["f"]] == pytest.approx(2.5)
    # a goal the moves do not change (the fixed s0): doing nothing, not the largest fraction that holds
    assert pushed_start(model, {v["s0"]: 1.0}, built)[v["f"]] == 0.0
    # no push without a goal, nor when every fraction breaks a row (a cap of 0)
    assert pushed_start(model, {}, built) is built
    model, v = _pushed_model(cap=0.0)
    assert pushed_start(model, model.objective_terms["mix"], constructive_start(model))[v["f"]] == 0.0
    # a flow a rule sets (a floor's promotions, a workload floor's hires) keeps its rule: f = 1, never pushed
    model, v = _pushed_model()
    model.start_rules[v["f"]] = (1.0, {})
    assert pushed_start(model, model.objective_terms["mix"], constructive_start(model))[v["f"]] == 1.0


def test_the_fitted_push_cuts_only_the_pushes_a_row_holds_back():
    from optimizer.solvers.start import pushed_start

    # two moves out of s0 = 10 people each, f1 ≤ 2 and f2 ≤ 10, into one sequence t = f1 + f2 wanted at 12.
    # One fraction λ for both stops at λ = 0.2 (f1's cap): t = 4, goal 8. Fitted: f1 = 10 breaks its cap by 8,
    # cut by 8·1.05 = 8.4 to 1.6, f2 stays 10: t = 11.6, goal 0.4
    model = LinearModel()
    v = {name: model.add_var(name, *bounds) for name, bounds in
         (("s0", (10.0, 10.0)), ("f1", (0.0, np.inf)), ("f2", (0.0, np.inf)), ("t", (0.0, np.inf)),
          ("under", (0.0, np.inf)))}
    for flow, cap in (("f1", 2.0), ("f2", 10.0)):
        model.idle.add(v[flow])
        model.pushes[v[flow]] = Push(flow, {v["s0"]: 1.0}, {v["s0"]: 1.0})
        model.add_row(f"cap_{flow}", {v[flow]: 1.0}, hi=cap)
    model.add_row("land", {v["t"]: 1.0, v["f1"]: -1.0, v["f2"]: -1.0}, 0.0, 0.0)
    model.add_row("below", {v["t"]: -1.0, v["under"]: -1.0}, hi=-12.0)
    model.add_objective("mix", {v["under"]: 1.0})
    goal = model.objective_terms["mix"]
    pushed = pushed_start(model, goal, constructive_start(model))
    assert (pushed[v["f1"]], pushed[v["f2"]]) == (pytest.approx(1.6), pytest.approx(10.0))
    assert model.evaluate(goal, pushed) == pytest.approx(0.4) and model.row_violations(pushed) == []


def test_a_pushed_start_may_break_only_the_rows_doing_nothing_breaks():
    from optimizer.solvers.start import pushed_start

    # a row of fixed variables only (s0 ≤ 9) that every plan breaks: the mending linear program's to judge
    model, v = _pushed_model()
    model.add_row("broken", {v["s0"]: 1.0}, hi=9.0)
    goal = model.objective_terms["mix"]
    built = np.array([10.0, 0.0, 10.0, 0.0, 0.0, 3.0])
    assert pushed_start(model, goal, built)[v["f"]] == 0.0  # every try breaks "broken"
    assert pushed_start(model, goal, built, frozenset({"broken"}))[v["f"]] == pytest.approx(3.125)


def test_whole_pushes_move_each_groups_share_in_whole_people():
    from optimizer.solvers.start import whole_pushes

    model = LinearModel()
    sizes = [4.0, 4.0, 4.0, 25.0, 1.0, 1.0]
    stocks = [model.add_var(f"s{i}", size, size) for i, size in enumerate(sizes)]
    moves = [model.add_var(f"f{i}", 0.0, np.inf, integer=True) for i in range(len(sizes))]
    later = model.add_var("x1", 0.0, np.inf)
    late_move = model.add_var("f_late", 0.0, np.inf, integer=True)
    for i, (stock, move) in enumerate(zip(stocks, moves)):
        group, rate = ("small", 0.1) if i < 3 else ("large", 0.1) if i == 3 else ("tiny", 0.6)
        model.pushes[move] = Push(group, {stock: rate}, {stock: 0.9})  # 90% of a cohort can act
    model.pushes[late_move] = Push("late", {later: 0.1}, {later: 0.9})
    values = np.full(model.n_vars, np.nan)
    values[stocks] = sizes
    # the small cohorts each push 0.4 of a person: together ⌊1.2⌋ = 1, to the first (a tie); 2.5 → 2; the two
    # one-person cohorts push 0.6 each, but ⌊0.9·1⌋ = 0 of either can act: nobody; an unknown stock (a later
    # year) moves nobody
    assert whole_pushes(model, values, [*moves, late_move], 1.0) == {
        moves[0]: 1.0, moves[1]: 0.0, moves[2]: 0.0, moves[3]: 2.0, moves[4]: 0.0, moves[5]: 0.0, late_move: 0.0}
    assert whole_pushes(model, values, moves, 0.5)[moves[0]] == 0.0  # ⌊0.6⌋ = 0


def test_the_model_pushes_moves_from_sequences_above_their_band_into_those_below(tmp_path):
    # U1: 90 eligible operations people (attrition 10%), 10 in management; technical empty. Band ±1 point around
    # 0 / 30 / 70: operations (90%) and management (10%) above, technical below
    employees = people("U1", "operations", 90, eligible=True) + people("U1", "management", 10)
    overrides = ["horizon=2", "mix.tolerance=0.01", "attrition.operations=0.1", "mobility.operations_to_technical=0.05",
                 "mobility.management_to_technical=0.2", "mobility.technical_to_management=0.3"]
    model, index = _model(tmp_path, employees, [unit("U1")], overrides, pay_table(tiers=4))  # management 1 → technical 4
    pushes = {(arc.source.sequence, arc.target.sequence, year): model.pushes[var]
              for (arc, year), var in index.flow.items() if var in model.pushes}
    assert {key[:2] for key in pushes} == {("operations", "technical"), ("management", "technical")}
    assert {key[2] for key in pushes} == {1, 2}
    group, expr, room = pushes[("operations", "technical", 1)]
    assert group == "cap_operations_to_technical[U1,operations,1,y1]" and list(expr.values()) == [pytest.approx(0.05)]
    assert list(room.values()) == [pytest.approx(0.9)]  # the stayers of a 10% attrition may act
    assert list(pushes[("management", "technical", 1)].expr.values()) == [pytest.approx(0.2)]
    # the start pushes every route to its cap: year 1 ⌊0.05·90⌋ = 4 and ⌊0.2·10⌋ = 2 people, year 2 the same
    # rates of 0.9·90 − 4 = 77 and 8 (3.85 and 1.6). Mix miss, years 1 and 2: 39.87 + 24.581 = 64.451 heads,
    # against 51.87 + 47.253 = 99.123 doing nothing
    goal = stage_terms(model, 1.0)["mix"]
    options = SolveOptions(backend="highs", time_limit=10.0, gap=1e-4)
    idle, pushed = idle_start(model, options), idle_start(model, options, goal)
    assert model.evaluate(goal, idle) == pytest.approx(99.123) and model.evaluate(goal, pushed) == pytest.approx(64.451)
    moved = {arc.source.sequence: pushed[var] for arc, var in index.flows_of(1) if var in model.pushes}
    assert moved == {"operations": 4.0, "management": 2.0}
    assert model.row_violations(pushed) == []


def test_a_mended_start_keeps_year1_and_plans_the_later_years_for_the_goal():
    from optimizer.solvers.start import mended_start

    # s0 = 10 (fixed); year 1 moves f1 (whole, ≤ 3) into t, year 2 moves f2 ≤ ½·x1 of the x1 = 10 − f1 left;
    # the goal wants t2 = f1 + f2 ≥ 7. The point pushed f1 = 2 and f2 = 0.1·x1 = 0.8: goal 7 − 2.8 = 4.2.
    # Mended, year 1 stays (f1 = 2, x1 = 8) and f2 goes up to its cap, 4: goal 1 (the old mending kept
    # f2 ≤ 0.8: 4.2; with f1 free too, 3 + 3.5 would give 0.5)
    model = LinearModel()
    v = {name: model.add_var(name, *bounds, integer=name == "f1") for name, bounds in
         (("s0", (10.0, 10.0)), ("f1", (0.0, np.inf)), ("x1", (0.0, np.inf)), ("f2", (0.0, np.inf)),
          ("x2", (0.0, np.inf)), ("under", (0.0, np.inf)))}
    for flow, expr in (("f1", {v["s0"]: 1.0}), ("f2", {v["x1"]: 0.1})):
        model.idle.add(v[flow])
        model.pushes[v[flow]] = Push(flow, expr, expr)
    model.add_row("cap1", {v["f1"]: 1.0}, hi=3.0)
    model.add_row("stay1", {v["x1"]: 1.0, v["f1"]: 1.0, v["s0"]: -1.0}, 0.0, 0.0)
    model.add_row("cap2", {v["f2"]: 1.0, v["x1"]: -0.5}, hi=0.0)
    model.add_row("stay2", {v["x2"]: 1.0, v["f2"]: 1.0, v["x1"]: -1.0}, 0.0, 0.0)
    model.add_row("below", {v["f1"]: -1.0, v["f2"]: -1.0, v["under"]: -1.0}, hi=-7.0)
    model.add_objective("mix", {v["under"]: 1.0})
    goal = model.objective_terms["mix"]
    point = np.array([10.0, 2.0, 8.0, 0.8, 7.2, 4.2])
    assert model.row_violations(point) == [] and model.evaluate(goal, point) == pytest.approx(4.2)
    mended = mended_start(model, point, goal, SolveOptions(backend="highs", time_limit=10, gap=0.0))
    assert mended[v["f1"]] == 2.0 and mended[v["f2"]] == pytest.approx(4.0)
    assert model.evaluate(goal, mended) == pytest.approx(1.0) and model.row_violations(mended) == []
