"""Requirement-driven planning on graded scenarios (input tables): tiny hand-solved groups, one test per new
family or rule showing its exact effect (first-year wastage of recruits, downgrades, flow caps).

Every solve goes through the real pipeline (files written, independent verifier run), so each test also
checks the plan invariants the verifier enforces.
"""

from __future__ import annotations

import json

import pytest

from models.scenario import ScenarioError
from models.scenario_files import build_scenario, load_scenario, scenario_path
from models.validation import load_inputs
from benchmarks.per_employee import build_per_employee_model
from optimizer.model.kinds import graded_model_data
from tests.builders import QUIET, pay_table, people, solve_group, unit, write_group

SERVICE = ["flow_convention=service_dependent"]
TECHNICAL_HALF = ["mix.target={management: 0.0, technical: 0.5, operations: 0.5}", "mix.tolerance=0.0"]
"""A mix band the group cannot reach: the ``mix`` stage then moves or hires as many people as the caps allow."""


@pytest.mark.slow
@pytest.mark.parametrize(("first_year", "recruits"), [(None, 19), (0.05, 20)])
def test_a_requirement_is_met_by_recruits_under_first_year_wastage(tmp_path, first_year, recruits):
    # 100 technical stay (no ordinary wastage); 119 are required. Without first-year wastage 19 recruits do;
    # when 5% of recruits leave in their first year, 100 + 0.95·h ≥ 119 → h = 20 (0.95·20 = 19 exactly).
    overrides = [*SERVICE, "hiring.enabled=true", "hiring.max_rate.technical=0.5",
                 "hiring.entry_tiers={technical: [1]}", "requirements.mode=minimum",
                 "requirements.demand=[{name: tech, unit: U1, sequence: technical, headcount: {1: 119}}]"]
    if first_year is not None:
        overrides.append(f"attrition.first_year={{technical: {first_year}}}")
    solved = solve_group(tmp_path, people("U1", "technical", 100), [unit("U1")], overrides)
    assert solved.flow("hire") == recruits
    assert solved.flow("attrition") == pytest.approx(recruits - 19)  # the recruits lost in their first year
    assert solved.headcount(1) == pytest.approx(119)


@pytest.mark.slow
def test_a_downgrade_loses_half_its_people(tmp_path):
    # 100 technical on T2 G1 (70,000). Exactly 60 must stay on T2 and 20 be on T1: downgrading g people
    # leaves 100 − g on T2 and brings 0.5·g to T1, so g = 40 and 20 of them leave in the year.
    # Landing grade: no T1 grade pays 70,000, so the top grade G5 (64,000). Cost: payroll 60·70,000 +
    # 20·64,000 = 5,480,000 plus 40 downgrades × 1,000.
    demand = ("requirements.demand=[{name: t1, unit: U1, sequence: technical, tiers: [1], headcount: {1: 20}}, "
              "{name: t2, unit: U1, sequence: technical, tiers: [2], headcount: {1: 60}}]")
    solved = solve_group(tmp_path, people("U1", "technical", 100, tier=2), [unit("U1")],
                         [*SERVICE, "mobility.downgrade={enabled: true, rate: 1.0, cost: 1000, wastage: 0.5}",
                          "requirements.overmanning_max=0", demand])
    assert solved.flow("downgrade") == 40
    assert solved.flow("attrition") == pytest.approx(20)
    assert solved.headcount(1, tier=1, grade=5) == pytest.approx(20)
    assert solved.headcount(1, tier=2) == pytest.approx(60)
    assert solved.summary["objective"]["cost"] == pytest.approx(60 * 70_000 + 20 * 64_000 + 40 * 1_000)
    # Year-1 downgrades name people: the 40 lowest in the merit order, paid 64,000 from then on.
    actions = solved.table("actions")
    downgraded = actions[actions["action"] == "downgrade"]
    assert sorted(downgraded["employee_id"]) == [f"U1-T{i:04d}" for i in range(60, 100)]
    assert set(downgraded["new_salary"]) == {64_000}


@pytest.mark.slow
@pytest.mark.parametrize(("max_tiers_down", "landing_tier", "landing_pay"), [(1, 2, 74_000), (2, 1, 64_000)])
def test_downgrades_are_capped_by_their_rate_and_land_within_max_tiers_down(tmp_path, max_tiers_down,
                                                                            landing_tier, landing_pay):
    # 100 technical on T3 G1 (80,000); a downgrade saves pay and costs nothing, so the cost stage takes as
    # many as the rate cap allows (30% of 100 = 30), as far down as allowed, on the top grade of the tier
    # reached (no lower-tier grade pays 80,000): payroll 70·80,000 + 30·landing pay.
    solved = solve_group(tmp_path, people("U1", "technical", 100, tier=3), [unit("U1")],
                         [f"mobility.downgrade={{enabled: true, rate: 0.3, max_tiers_down: {max_tiers_down}}}"],
                         pay=pay_table(tiers=3))
    assert solved.flow("downgrade") == 30
    assert solved.headcount(1, tier=landing_tier, grade=5) == pytest.approx(30)
    assert solved.summary["objective"]["cost"] == pytest.approx(70 * 80_000 + 30 * landing_pay)


@pytest.mark.slow
@pytest.mark.parametrize(("limit", "moves"), [("max_share_of_destination: 0.25", 10), ("max_per_year: 4", 4)])
def test_retraining_cap_relative_to_the_destination_strength(tmp_path, limit, moves):
    # 70 qualified operations and 30 technical; the band asks for 50 technical, so the mix stage retrains
    # as many as the cap allows. Share cap: m ≤ 0.25·(30 + m) → m ≤ 10, and 10 = 25% of the 40 technical
    # at the end of the year. Absolute cap: m ≤ 4.
    group = [*people("U1", "operations", 70, eligible=True), *people("U1", "technical", 30, first=100)]
    cap = f"requirements.caps=[{{name: retrained, unit: U1, sequence: technical, kinds: [sequence_move], {limit}}}]"
    solved = solve_group(tmp_path, group, [unit("U1")],
                         [*TECHNICAL_HALF, "mobility.operations_to_technical=1.0", cap])
    assert solved.flow("sequence_move") == moves
    assert solved.headcount(1, sequence="technical") == pytest.approx(30 + moves)
    assert solved.summary["objective"]["mix"] == pytest.approx(2 * (20 - moves))


@pytest.mark.slow
def test_recruitment_cap_per_group_and_year(tmp_path):
    # 80 operations and 20 technical; the band asks for hires, hiring.max_rate allows 1.0·20 = 20 a year,
    # the cap on recruits into technical allows 7 in year 1 and 3 in year 2.
    group = [*people("U1", "operations", 80), *people("U1", "technical", 20, first=100)]
    caps = ("requirements.caps=[{name: recruits_y1, sequence: technical, kinds: [hire], years: [1], max_per_year: 7}, "
            "{name: recruits_y2, sequence: technical, kinds: [hire], years: [2], max_per_year: 3}]")
    solved = solve_group(tmp_path, group, [unit("U1")],
                         [*TECHNICAL_HALF, "horizon=2", "hiring.enabled=true", "hiring.max_rate.technical=1.0",
                          "hiring.entry_tiers={technical: [1]}", caps])
    assert solved.flow("hire", 1) == 7
    assert solved.flow("hire", 2) == 3
    assert solved.headcount(2, sequence="technical") == pytest.approx(30)


def test_shipped_graded_example_states_the_new_keys():
    # scenarios/requirements_graded.yaml (solved on the demo data in docs/requirements.md; too slow here).
    scenario = load_scenario(scenario_path("requirements_graded"))
    assert scenario.flow_convention == "service_dependent" and scenario.mobility.downgrade.enabled
    assert scenario.attrition.first_year_rate("technical", 1) == 0.10
    assert scenario.attrition.first_year_rate("management", 1) == scenario.attrition.management
    assert [cap.name for cap in scenario.requirements.caps] == ["bg001_senior_technical_inflow", "technical_recruits"]


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ({"attrition": {"first_year": {"technical": 0.1}}}, "attrition.first_year needs flow_convention"),
        ({"mobility": {"downgrade": {"enabled": True, "wastage": 0.5}}}, "mobility.downgrade.wastage needs"),
        ({"requirements": {"caps": [{"name": "c", "kinds": ["hire"]}]}}, "needs max_per_year or max_share"),
        ({"requirements": {"caps": [{"name": "c", "kinds": ["hire"], "years": [9], "max_per_year": 1}]}},
         "'c' has years [9] outside 1..3"),
        ({"requirements": {"caps": [{"name": "c", "kinds": ["attrition"], "max_per_year": 1}]}}, "kinds"),
    ],
)
def test_graded_requirement_keys_are_checked(raw, problem):
    with pytest.raises(ScenarioError, match=problem.replace("[", r"\[").replace("]", r"\]").replace(".", r"\.")):
        build_scenario(raw, "test")


def test_the_per_employee_model_refuses_downgrades(tmp_path):
    folder = write_group(tmp_path, people("U1", "technical", 10, tier=2), [unit("U1")], pay_table())
    scenario = build_scenario(json.loads(json.dumps(QUIET)), "test", ["mobility.downgrade.enabled=true"])
    data, _, roster = graded_model_data(load_inputs(folder), scenario)
    with pytest.raises(ValueError, match="does not model mobility.downgrade.enabled"):
        build_per_employee_model(data, roster)
