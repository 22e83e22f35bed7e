"""The cohort model against the per-employee MILP a user would otherwise write (one binary per person and
allowed action, :mod:`benchmarks.per_employee`), on small rosters with mixed sequences, seniorities,
qualified flags and merit ties (10–200 people, 1–3 units), over eight one-year scenarios.

Checked per scenario, on HiGHS with every stage proven optimal (``solver.gap=0`` and no per-stage gap, so
each stage value is unique):

1. both models reach the same value in every lexicographic stage (mix, cost, disruption; redundancy where
   the scenario orders it) and the same objective terms;
2. they plan the same number of each action out of each state (and the same hires). Per *cohort* the
   counts need not agree: cohorts of one state that may take the same action (seniority 1 and 2 may both
   take a grade step) are interchangeable for every row and every objective, so the split between them
   is the solver's choice; where each state is one cohort (``one_cohort_per_state``) this is per cohort;
3. the two optima are optima of each other: the cohort plan handed out by merit
   (:func:`optimizer.plan.disaggregate.employee_actions`), plugged into the solved per-employee model, violates
   no row, and the per-employee plan counted per cohort, plugged into the solved cohort model, violates
   no row, in both cases including the model's own ``stage_fix`` rows (so each plan is lexicographically
   optimal for the other model, per cohort exactly).

HiGHS 1.16 can return a stage's MIP start unimproved and call it optimal; :func:`optimizer.solvers.backends.solve`
re-runs such a stage without the start (:func:`test_solve_model_proves_every_stage_with_mip_starts`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.scenario import Scenario
from models.scenario_files import build_scenario
from models.validation import load_inputs
from optimizer.solvers import backends
from optimizer.plan.disaggregate import employee_actions
from optimizer.plan.merit import MeritRule, availability, merit_flows
from optimizer.model.build import build_model
from optimizer.model.data import Index, ModelData
from optimizer.solvers.linear_model import LinearModel
from optimizer.model.network import HIRE
from benchmarks.per_employee import PerEmployeeIndex, build_per_employee_model, per_employee_actions, plan_values
from optimizer.model.kinds import graded_model_data
from optimizer.plan.results import cohort_plan
from optimizer.solvers.staged import Solution, solve_model
from tests.builders import PAY_BASE, QUIET, unit, write_group

SEQUENCE_SHARES = {"management": 0.1, "technical": 0.3, "operations": 0.6}
PERFORMANCE_LEVELS = (60.0, 75.0, 90.0)
"""Three merit levels only: plenty of ties inside every cohort."""


def pay_table(tiers: int = 3) -> pd.DataFrame:
    """Every grade step worth a different amount (by sequence, tier and grade), so that different plans
    rarely cost the same and the optimum is unique wherever cohorts are."""
    rows = []
    for number, (sequence, base) in enumerate(PAY_BASE.items()):
        for tier in range(1, tiers + 1):
            steps = np.cumsum([0] + [900 + 70 * tier + 30 * number + 17 * grade for grade in range(1, 5)])
            rows += [(sequence, tier, g, base + 9_000 * (tier - 1) + int(steps[g - 1])) for g in range(1, 6)]
    return pd.DataFrame(rows, columns=["sequence", "tier", "grade", "base_salary"])


def random_roster(seed: int, size: int, units: list[str], one_cohort_per_state: bool = False) -> list[dict]:
    """``size`` employees over ``units``, sequences, tiers 1–3, grades 1–5, 0–3 years in grade, 40% of them
    ``technical_eligible``, performance on three levels (ties). ``one_cohort_per_state``: years in grade and
    the eligible flag depend on the state only, so each state is one cohort and no two cohorts are
    interchangeable (seniorities and flags still vary from state to state)."""
    rng = np.random.default_rng(seed)
    sequences = rng.choice(list(SEQUENCE_SHARES), size=size, p=list(SEQUENCE_SHARES.values()))
    frame = pd.DataFrame({
        "employee_id": [f"E{i:04d}" for i in range(size)],
        "unit_id": rng.choice(units, size=size),
        "sequence": sequences,
        "tier": rng.integers(1, 4, size=size),
        "grade": rng.integers(1, 6, size=size),
        "performance": rng.choice(PERFORMANCE_LEVELS, size=size),
        "years_in_grade": rng.integers(0, 4, size=size),
        "technical_eligible": rng.random(size) < 0.4,
    })
    if one_cohort_per_state:
        state = pd.util.hash_pandas_object(frame[["unit_id", "sequence", "tier", "grade"]], index=False).to_numpy()
        frame["years_in_grade"] = (state % 4).astype(int)
        frame["technical_eligible"] = (state // 4) % 5 < 2
    return frame.to_dict("records")


THREE_BANDS = ("unit_grading.grades=[{name: A, min_score: 80, pay_coefficient: 1.1, max_tier: 3}, "
               "{name: B, min_score: 65, pay_coefficient: 1.05, max_tier: 3}, "
               "{name: C, min_score: 0, pay_coefficient: 1.0, max_tier: 2}]")
"""U1 (score 90) pays 10% more, U2 (70) 5% more; U3 (60) may not hold technical tier 3."""
UNITS = [unit("U1", 90), unit("U2", 70), unit("U3", 60)]
EXACT = ["solver.gap=0", "objective.stage_gap={}"]
ATTRITION = ["attrition.operations=0.07", "attrition.technical=0.05", "attrition.management=0.04"]


@dataclass(frozen=True)
class Case:
    size: int
    units: list[dict]
    overrides: list[str]
    expect: Callable[[dict[str, float], pd.Series], bool]
    """What makes the case the case, on (cohort objective terms, year-1 flow totals by kind)."""
    seed: int = 1
    one_cohort_per_state: bool = False


REACH_MIX = [
    *ATTRITION, THREE_BANDS, "mix.target={management: 0.08, technical: 0.36, operations: 0.56}", "mix.tolerance=0.01",
    "mobility.operations_to_technical=0.1", "mobility.management_to_technical=0.2",
    "mobility.mapping.management_to_technical={1: 2, 2: 3, 3: 3}", "hiring.enabled=true",
    "hiring.max_rate.technical=0.3", "hiring.entry_tiers={technical: [1, 2], operations: [1]}",
    "hiring.cost.technical=20000", "promotion.grade_rate=0.3", "promotion.tier_rate=0.1",
]
FLOORS = ["promotion.grade_rate=0.5", "promotion.grade_rate_floor=0.3", "promotion.tier_rate=0.3",
          "promotion.tier_rate_floor=0.2", "promotion.min_years_in_grade=3", "promotion.min_years_for_grade_step=1"]
CASES = {
    "ten_people_hired_up_to_a_minimum": Case(
        10, [unit("U1", 70, min_headcount=12)],
        [*ATTRITION, THREE_BANDS, "hiring.enabled=true", "hiring.max_rate.operations=0.5",
         "hiring.max_rate.technical=0.5", "hiring.entry_tiers={technical: [1, 3], operations: [1]}"],
        lambda terms, flows: flows[HIRE] >= 2,
        seed=6,
    ),
    "reach_mix_with_moves_and_hires": Case(
        120, UNITS[:2], [*REACH_MIX, "mix.operations_floor=0.56"],
        lambda terms, flows: terms["mix"] == 0 and flows["sequence_move"] > 0 and flows[HIRE] > 0,
    ),
    # No attrition here: with it, both models find this case infeasible under start_of_year. The cohort-level
    # "only stayers move" row lets at most ⌊(1−a)·n_c⌋ of a cohort move (none of a one-person cohort), while the
    # floor asks for ⌊rate·(1−a)·Σ n_c⌋ out of all the cohorts of (unit, sequence, tier).
    "floors_force_grade_steps_and_promotions": Case(
        200, UNITS[:1], FLOORS,
        lambda terms, flows: flows["grade_step"] > 0 and flows["tier_promotion"] > 0,
        seed=2,
    ),
    # The same floors with attrition, deciding first: every person of a cohort may act, so both models solve it.
    "floors_with_attrition_when_decisions_come_first": Case(
        200, UNITS[:1], [*FLOORS, *ATTRITION, "flow_convention=decide_then_attrition"],
        lambda terms, flows: flows["grade_step"] > 0 and flows["tier_promotion"] > 0,
        seed=2,
    ),
    "redundancy_under_a_max_headcount": Case(
        150, [{**UNITS[0], "max_headcount": 46}, {**UNITS[1], "min_headcount": 50}, UNITS[2]],
        ["attrition.operations=0.05", THREE_BANDS, "redundancy.enabled=true", "redundancy.max_rate=0.3",
         "redundancy.cost_factor=0.5", "mobility.unit_transfers=true", "mobility.transfer_rate=0.2",
         "mobility.transfer_cost=3000", "mix.operations_floor=0.4"],
        lambda terms, flows: flows["redundancy"] > 0 and flows["unit_transfer"] > 0,
        seed=3, one_cohort_per_state=True,
    ),
    "budget_overrun_forced_by_floors": Case(
        40, UNITS[1:],
        [THREE_BANDS, "budget.growth=0", "promotion.grade_rate=0.6", "promotion.grade_rate_floor=0.5",
         "promotion.tier_rate=0.5", "promotion.tier_rate_floor=0.5"],
        lambda terms, flows: terms["budget_overrun"] > 0,
        seed=4, one_cohort_per_state=True,
    ),
    "requirement_with_short_time_and_a_redundancy_goal": Case(
        90, UNITS[:2],
        [*ATTRITION, "flow_convention=service_dependent", "redundancy.enabled=true", "redundancy.max_rate=0.3",
         "redundancy.cost_factor=1.5",
         "hiring.enabled=true", "hiring.max_rate.technical=0.2", "hiring.entry_tiers={technical: [1, 2]}",
         "objective.order=[mix, redundancy, cost, disruption]", "requirements.short_time_fraction=0.4",
         "requirements.overmanning_max=1",
         ("requirements.demand=[{name: u1_ops, unit: U1, sequence: operations, headcount: {1: 24}, "
          "short_time_max: 3, short_time_cost: 30000, overmanning_cost: 20000}, "
          "{name: tech_t12, sequence: technical, tiers: [1, 2], headcount: {1: 16}, overmanning_cost: 5000}]")],
        lambda terms, flows: flows["redundancy"] > 0 and flows[HIRE] > 0,
        seed=7,
    ),
    "target_missed": Case(
        80, UNITS[:2],
        [*ATTRITION, "mix.target={management: 0.05, technical: 0.5, operations: 0.45}", "mix.tolerance=0.005",
         "mobility.operations_to_technical=0.1", "mobility.technical_to_management=0.1",
         "mobility.mapping.technical_to_management={2: 1, 3: 2}", "hiring.enabled=true",
         "hiring.max_rate.technical=0.1", "hiring.entry_tiers={technical: [1]}"],
        lambda terms, flows: terms["mix"] > 0,
        seed=5,
    ),
}


DECISIONS = ["grade_step", "tier_promotion", "sequence_move", "unit_transfer", "redundancy"]
SLACKS = ("mix_over[", "mix_under[", "budget_overrun[", "overmanning[", "short_time[")
KEY = ["cohort", "kind", "target"]
"""A planned flow: source cohort label (``hire`` for hires), kind, landing state ``u,s,k,g`` (``out``)."""


@dataclass(frozen=True)
class Solved:
    data: ModelData
    roster: pd.DataFrame
    cohort: tuple[LinearModel, Index, Solution]
    employee: tuple[LinearModel, PerEmployeeIndex, Solution]


def _case_data(case: Case, name: str, folder: Path) -> tuple[ModelData, pd.DataFrame, Scenario]:
    employees = random_roster(case.seed, case.size, [u["unit_id"] for u in case.units], case.one_cohort_per_state)
    write_group(folder, employees, case.units, pay_table())
    scenario = build_scenario(json.loads(json.dumps(QUIET)), name, [*EXACT, *case.overrides])
    data, _, roster = graded_model_data(load_inputs(folder), scenario)
    return data, roster, scenario


@pytest.fixture(scope="module", params=list(CASES))
def solved(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Solved:
    """Both models of one case, each solved through :func:`optimizer.solvers.staged.solve_model`, every stage proven
    optimal, and the case doing what it is named for."""
    case = CASES[request.param]
    data, roster, scenario = _case_data(case, request.param, tmp_path_factory.mktemp(request.param))
    model, index = build_model(data)
    employee_model, employee_index = build_per_employee_model(data, roster)
    cohort = solve_model(model, scenario, data.mean_pay)
    employee = solve_model(employee_model, scenario, data.mean_pay)
    assert cohort.status == employee.status == "optimal", (cohort.stages, employee.stages)
    kinds = _counts(_cohort_plan_counts(cohort.values, index)).groupby(level="kind").sum()
    assert case.expect(cohort.terms, kinds.reindex([*DECISIONS, HIRE], fill_value=0)), (cohort.terms, kinds)
    return Solved(data, roster, (model, index, cohort), (employee_model, employee_index, employee))


def _cohort_plan_counts(values: np.ndarray, index: Index) -> pd.DataFrame:
    """Year-1 flows of the cohort model as KEY + count, with the flow variable (``var``)."""
    rows = [
        (arc.source.label() if arc.source else HIRE, arc.kind,
         ",".join(map(str, arc.target.state)) if arc.target else "out", round(values[var]), var)
        for (arc, year), var in index.flow.items()
        if year == 1
    ]
    return pd.DataFrame(rows, columns=[*KEY, "count", "var"])


def _employee_plan_counts(values: np.ndarray, index: PerEmployeeIndex) -> pd.DataFrame:
    """The per-employee plan counted like :func:`_cohort_plan_counts` (without ``var``)."""
    chosen = index.candidates[np.round(values[index.candidates["var"]]) == 1]
    u, s, k, g, b = (chosen[c].astype(str) for c in ("unit_id", "sequence", "tier", "grade", "seniority"))
    cohort = u + "," + s + "," + k + "," + g + ",s" + b + ",q" + chosen["qualified"].astype(int).astype(str)
    moves = pd.DataFrame({"cohort": cohort, "kind": chosen["kind"], "target": chosen["target"]})
    counted = moves.groupby(KEY).size().rename("count").reset_index()
    hires = [(HIRE, HIRE, ",".join(map(str, σ)), round(values[var])) for σ, var in index.hire.items()]
    return pd.concat([counted, pd.DataFrame(hires, columns=[*KEY, "count"])], ignore_index=True)


def _counts(frame: pd.DataFrame, by_state: bool = False) -> pd.Series:
    """Non-zero counts indexed by KEY (the cohort label cut to its state with ``by_state``)."""
    if by_state:
        frame = frame.assign(cohort=frame["cohort"].str.replace(r",s\d+,q[01]$", "", regex=True))
    counts = frame.groupby(KEY)["count"].sum()
    return counts[counts > 0].sort_index()


def _cohort_values(solved: Solved) -> np.ndarray:
    """The per-employee optimum as cohort-model variables: its actions counted per cohort as year-1 flows,
    the stocks they imply (balance re-applied by :func:`optimizer.plan.results.cohort_plan`), and the slacks
    (mix, overrun, requirement slacks: same names in both models) copied from it."""
    model, index, _ = solved.cohort
    employee_model, employee_index, employee = solved.employee
    counts = _employee_plan_counts(employee.values, employee_index)
    flows = _cohort_plan_counts(np.zeros(model.n_vars), index).drop(columns="count")
    placed = counts[counts["count"] > 0].merge(flows, on=KEY, how="left", validate="one_to_one")
    assert placed["var"].notna().all(), placed[placed["var"].isna()]  # every planned flow is a cohort arc
    values = np.array(model.lb, dtype=float)  # x[c,0] is fixed to the roster, everything else starts at 0
    values[placed["var"].astype(int).to_numpy()] = placed["count"].to_numpy()
    for year, stock in enumerate(cohort_plan(values, solved.data, index).stock):
        for c, n in stock.items():
            values[index.stock[(c, year)]] = n
    slacks = [name for name in model.var_names if name.startswith(SLACKS)]
    values[[model.var(name) for name in slacks]] = employee.values[[employee_model.var(name) for name in slacks]]
    return values


def _terms(model: LinearModel, values: np.ndarray) -> dict[str, float]:
    return {term: model.evaluate(expr, values) for term, expr in model.objective_terms.items()}


def _assert_same_terms(terms: dict[str, float], optimum: Solution, data: ModelData) -> None:
    """Every objective term equals its optimal value. ``mix`` and ``budget_overrun`` are slacks, pinned only
    by the mix stage's fixing row, which lets mix + overrun/mean pay rise by stage_tolerance·max(1, value):
    later stages may leave them that much above their least value. Each fixed term may sit anywhere in its
    window [value, value·(1 + stage_tolerance)], so two optimal plans may differ by up to twice it."""
    tolerance = 2 * data.scenario.objective.stage_tolerance
    slack = tolerance * max(1.0, abs(optimum.stages[0].objective))
    within = {"mix": slack, "budget_overrun": slack * data.mean_pay}
    assert terms.keys() == optimum.terms.keys()
    for term, value in terms.items():
        assert value == pytest.approx(optimum.terms[term], rel=tolerance, abs=within.get(term, 1e-6)), term


def test_every_stage_reaches_the_same_value(solved: Solved) -> None:
    cohort, employee = solved.cohort[2], solved.employee[2]
    assert [s.term for s in cohort.stages] == [s.term for s in employee.stages] == solved.data.scenario.objective.order
    for ours, theirs in zip(cohort.stages, employee.stages):
        assert theirs.objective == pytest.approx(ours.objective, rel=1e-6, abs=1e-9), ours.term
    _assert_same_terms(employee.terms, cohort, solved.data)


def test_same_number_of_each_action_per_state(solved: Solved) -> None:
    cohort = _counts(_cohort_plan_counts(solved.cohort[2].values, solved.cohort[1]), by_state=True)
    employee = _counts(_employee_plan_counts(solved.employee[2].values, solved.employee[1]), by_state=True)
    pd.testing.assert_series_equal(employee, cohort, check_dtype=False)


def test_merit_handout_of_the_cohort_plan_is_optimal_for_the_per_employee_model(solved: Solved) -> None:
    _, index, cohort = solved.cohort
    employee_model, employee_index, _ = solved.employee
    flows = cohort_plan(cohort.values, solved.data, index).flows
    year1 = {arc: int(n) for (arc, year), n in flows.items() if year == 1}
    rule = MeritRule.of(index.network.arcs[1], availability(solved.data.initial, solved.data.acting_share))
    people = {arc: n for arc, n in year1.items() if arc.kind != HIRE}
    dealt = merit_flows(solved.roster, people, index.network.arcs[1], rule.limit)
    actions, _ = employee_actions(solved.roster, {**year1, **dealt, **{a: 0 for a in people if a not in dealt}},
                                  solved.data.pay, rule)
    values = plan_values(employee_model, employee_index, actions)
    assert "stage_fix[cost]" in {row.name for row in employee_model.rows}  # the stage fixes are rows too
    assert employee_model.row_violations(values) == []
    _assert_same_terms(_terms(employee_model, values), solved.employee[2], solved.data)
    columns = ["employee_id", "action", "to_unit", "to_sequence", "to_tier", "to_grade"]
    replanned = per_employee_actions(values, employee_index)
    replanned = replanned.astype({"to_unit": "str", "to_sequence": "str"})  # actions.csv text columns: str dtype
    pd.testing.assert_frame_equal(replanned.sort_values("employee_id", ignore_index=True),
                                  actions[columns].sort_values("employee_id", ignore_index=True), check_dtype=False)


def test_per_employee_plan_counted_per_cohort_is_optimal_for_the_cohort_model(solved: Solved) -> None:
    model = solved.cohort[0]
    values = _cohort_values(solved)
    assert "stage_fix[cost]" in {row.name for row in model.rows}
    assert model.row_violations(values) == []
    _assert_same_terms(_terms(model, values), solved.cohort[2], solved.data)


def test_per_employee_actions_name_every_employee_once(solved: Solved) -> None:
    _, index, employee = solved.employee
    actions = per_employee_actions(employee.values, index)
    people = actions[actions["action"] != HIRE]
    assert sorted(people["employee_id"]) == sorted(solved.roster["employee_id"])
    assert (actions["action"] == HIRE).sum() == sum(round(employee.values[var]) for var in index.hire.values())
    assert people["to_unit"].isna().sum() == (people["action"] == "redundancy").sum()
    stays = people[people["action"] == "stay"].merge(solved.roster, on="employee_id")
    assert (stays["to_unit"] == stays["unit_id"]).all() and (stays["to_grade"] == stays["grade"]).all()


def test_one_binary_per_employee_and_allowed_action(solved: Solved) -> None:
    model, index, _ = solved.employee
    candidates = index.candidates
    assert not candidates.duplicated(["employee_id", "kind", "target"]).any()
    assert all(model.integer[v] and model.lb[v] == 0 and model.ub[v] == 1 for v in candidates["var"])
    names = "assign[" + candidates["employee_id"] + "," + candidates["kind"] + "," + candidates["target"] + "]"
    assert [model.var_names[v] for v in candidates["var"]] == names.tolist()


def test_plan_values_refuses_an_action_the_employee_may_not_take(solved: Solved) -> None:
    employee_model, employee_index, _ = solved.employee
    first = solved.roster.iloc[0]
    actions = pd.DataFrame([{"employee_id": first["employee_id"], "action": "tier_promotion", "to_unit": "U9",
                             "to_sequence": "technical", "to_tier": 9, "to_grade": 1}])
    with pytest.raises(ValueError, match=f"{first['employee_id']} may not take tier_promotion"):
        plan_values(employee_model, employee_index, actions)


def test_solve_model_proves_every_stage_with_mip_starts(tmp_path: Path) -> None:
    """HiGHS 1.16 can return a MIP start unimproved and call it optimal; backends.solve re-runs such a stage."""
    data, _, scenario = _case_data(Case(120, UNITS[:2], REACH_MIX, lambda terms, flows: True), "reach_mix", tmp_path)
    model, _ = build_model(data)
    solution = solve_model(model, scenario, data.mean_pay)
    assert [stage.status for stage in solution.stages] == ["optimal"] * 3


def test_horizon_beyond_one_year_is_refused(tmp_path: Path) -> None:
    folder = write_group(tmp_path, random_roster(0, 10, ["U1"]), [unit("U1")], pay_table())
    scenario = build_scenario(json.loads(json.dumps(QUIET)), "two_years", ["horizon=2"])
    data, _, roster = graded_model_data(load_inputs(folder), scenario)
    with pytest.raises(ValueError, match="horizon 1.*expected values"):
        build_per_employee_model(data, roster)


def test_a_roster_that_is_not_the_models_is_refused(tmp_path: Path) -> None:
    folder = write_group(tmp_path, random_roster(0, 10, ["U1"]), [unit("U1")], pay_table())
    scenario = build_scenario(json.loads(json.dumps(QUIET)), "one_year", [])
    data, _, roster = graded_model_data(load_inputs(folder), scenario)
    with pytest.raises(ValueError, match="do not match"):
        build_per_employee_model(data, roster.iloc[1:])


def test_salaries_off_the_table_and_workload_floors_are_refused(tmp_path: Path) -> None:
    """The oracle prices the pay table only and has no workload rows: a premium over the table (one person paid
    1,000 more) or a workload floor is refused, never silently left out of the comparison."""
    roster = random_roster(0, 10, ["U1"])
    roster[0] = {**roster[0], "salary": 1_000.0 + pay_table().set_index(["sequence", "tier", "grade"]).loc[
        (roster[0]["sequence"], roster[0]["tier"], roster[0]["grade"]), "base_salary"]}
    folder = write_group(tmp_path, roster, [unit("U1")], pay_table())
    scenario = build_scenario(json.loads(json.dumps(QUIET)), "one_year", [])
    data, _, employees = graded_model_data(load_inputs(folder), scenario)
    assert sum(data.premium.values()) == pytest.approx(1_000.0)
    with pytest.raises(ValueError, match="premiums"):
        build_per_employee_model(data, employees)
    floors = build_scenario(json.loads(json.dumps(QUIET)), "floors", ["workload.headcount=0.9"])
    data, _, employees = graded_model_data(load_inputs(write_group(tmp_path / "plain", random_roster(0, 10, ["U1"]),
                                                                   [unit("U1")], pay_table())), floors)
    with pytest.raises(ValueError, match="workload.headcount"):
        build_per_employee_model(data, employees)
