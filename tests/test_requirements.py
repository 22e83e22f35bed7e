"""Requirement-driven planning on own ladders (``categories``): tiny hand-solved cases and Williams' problem.

Each test builds the model with the real formulation and solves it with the stage driver; the ladder
scenarios need no input tables.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from models.scenario import ScenarioError
from models.scenario_files import build_scenario, load_scenario, scenario_path
from optimizer.model.build import build_model
from optimizer.pipeline import run_ladder_plan
from optimizer.model.kinds import ladder_model_data
from optimizer.model.requirements import requirements_table
from optimizer.solvers.staged import solve_model


def ladder(levels: list[dict], demand: list[dict], **extra) -> dict:
    """A one-year LP scenario over ``levels`` (no wastage unless given), minimising cost."""
    return {"horizon": 1, "flow_convention": "service_dependent", "solver": {"integer_year1": False},
            "objective": {"order": ["cost"]}, "categories": {"levels": levels},
            "requirements": {"demand": demand}, **extra}


def solve(raw: dict, overrides: list[str] = ()) -> tuple[dict[str, float], list[dict]]:
    """Solve; returns (flow totals by kind over the horizon, requirements table rows)."""
    scenario = build_scenario(raw, "test", list(overrides))
    data = ladder_model_data(scenario)
    model, index = build_model(data)
    solution = solve_model(model, scenario, data.mean_pay)
    assert solution.status == "optimal", solution.message
    flows: dict[str, float] = {}
    for (arc, _year), var in index.flow.items():
        flows[arc.kind] = flows.get(arc.kind, 0.0) + float(solution.values[var])
    return flows, requirements_table(model, solution.values, data, index)


def test_requirement_met_by_recruits_under_first_year_wastage():
    # 100 stay (no wastage of the old hands); 90 more are needed and a tenth of recruits leave in their
    # first year: 0.9·r = 90 → r = 100 (in the integer mode too).
    staff = {"name": "staff", "strength": 100, "first_year_wastage": 0.1, "recruit_max": 500, "recruit_cost": 1}
    raw = ladder([staff], [{"name": "staff", "category": "staff", "headcount": {1: 190}}])
    for overrides in ([], ["solver.integer_year1=true"]):
        flows, rows = solve(raw, overrides)
        assert flows["hire"] == pytest.approx(100)
        assert rows[0]["headcount"] == pytest.approx(190)


def test_a_downgrade_loses_half_its_people():
    # The high category must shrink from 100 to 60, the low one grow from 0 to 20: downgrading g people
    # brings 0.5·g, so g = 40 (redundancies cost, downgrades do not).
    levels = [{"name": "low", "strength": 0},
              {"name": "high", "strength": 100, "redundancy_cost": 100, "downgrade_to": ["low"]}]
    demand = [{"name": "low", "category": "low", "headcount": {1: 20}},
              {"name": "high", "category": "high", "headcount": {1: 60}}]
    flows, rows = solve(ladder(levels, demand, requirements={"demand": demand, "overmanning_max": 0}))
    assert flows["downgrade"] == pytest.approx(40)
    assert flows.get("redundancy", 0.0) == pytest.approx(0)
    assert [row["headcount"] for row in rows] == pytest.approx([20, 60])


@pytest.mark.parametrize(("overmanning_cost", "overmanned", "redundant"), [(400, 10, 0), (600, 0, 10)])
def test_overmanning_is_used_only_when_cheaper_than_redundancy(overmanning_cost, overmanned, redundant):
    # 100 people, 90 required for one year; a redundancy costs 500, a head-year of overmanning as given.
    staff = {"name": "staff", "strength": 100, "redundancy_cost": 500}
    demand = [{"name": "staff", "category": "staff", "headcount": {1: 90}, "overmanning_cost": overmanning_cost}]
    flows, rows = solve(ladder([staff], demand))
    assert rows[0]["overmanning"] == pytest.approx(overmanned)
    assert flows.get("redundancy", 0.0) == pytest.approx(redundant)


def test_short_time_counts_at_half():
    # 100 people, 90 required; short time (cost 1) is the cheapest slack: 100 − 0.5·s = 90 → s = 20.
    staff = {"name": "staff", "strength": 100, "redundancy_cost": 1000}
    demand = [{"name": "staff", "category": "staff", "headcount": {1: 90}, "overmanning_cost": 1000,
               "short_time_max": 50, "short_time_cost": 1}]
    flows, rows = solve(ladder([staff], demand))
    assert rows[0]["short_time"] == pytest.approx(20)
    assert rows[0]["headcount"] == pytest.approx(100)
    assert flows.get("redundancy", 0.0) == pytest.approx(0)


def test_minimum_mode_needs_no_slack():
    # 100 people at 10% wastage, at least 80 required: nobody is made redundant, 90 remain.
    staff = {"name": "staff", "strength": 100, "wastage": 0.1}
    demand = [{"name": "staff", "category": "staff", "headcount": {1: 80}}]
    raw = ladder([staff], demand, requirements={"mode": "minimum", "demand": demand})
    _, rows = solve(raw, ["objective.order=[redundancy]"])
    assert rows[0]["headcount"] == pytest.approx(90)


def test_recruitment_cap_limits_recruits_per_year():
    # 100 staff, no wastage, at least 150 required: 50 recruits (cost 1); at most 60 may come in a year, so a
    # requirement of 161 has no plan.
    staff = {"name": "staff", "strength": 100, "recruit_max": 60, "recruit_cost": 1}

    def minimum(required: int) -> dict:
        demand = [{"name": "staff", "category": "staff", "headcount": {1: required}}]
        return ladder([staff], demand, requirements={"mode": "minimum", "demand": demand})

    flows, _ = solve(minimum(150))
    assert flows["hire"] == pytest.approx(50)
    assert solve(minimum(160))[0]["hire"] == pytest.approx(60)
    with pytest.raises(AssertionError, match="infeasible"):
        solve(minimum(161))


@pytest.mark.parametrize(("retraining", "most_high"), [
    ({"cost": 1, "max_per_year": 30}, 130),                # f ≤ 30
    ({"cost": 1, "max_share_of_destination": 0.25}, 133),  # f ≤ 0.25·(100 + f) ⇔ f ≤ 33⅓
])
def test_retraining_caps_bound_moves_to_the_next_category(retraining, most_high):
    # 100 low, 100 high, no wastage; only retraining (cost 1) can bring more people into high, so f = the
    # requirement − 100 up to the cap, and one more head required than the cap allows has no plan.
    levels = [{"name": "low", "strength": 100, "retraining": retraining},
              {"name": "high", "strength": 100}]

    def minimum(required: int) -> dict:
        demand = [{"name": "high", "category": "high", "headcount": {1: required}}]
        return ladder(levels, demand, requirements={"mode": "minimum", "demand": demand})

    flows, _ = solve(minimum(most_high))
    assert flows["tier_promotion"] == pytest.approx(most_high - 100)
    with pytest.raises(AssertionError, match="infeasible"):
        solve(minimum(most_high + 1))


@pytest.mark.parametrize("override", ["mix.operations_floor=0.1", "budget.growth=0.03", "hiring.enabled=false",
                                      "mobility.transfer_rate=0.5", "promotion.tier_rate_floor=0.05",
                                      "data=somewhere"])
def test_a_graded_key_is_refused_for_an_own_ladder(override):
    key = override.split("=")[0]
    with pytest.raises(ScenarioError) as caught:
        load_scenario(scenario_path("manpower_williams"), [override])
    assert caught.value.problems == [
        f"'{key}' has no meaning for an own-ladder scenario (categories.levels): only a graded scenario "
        "(planned from input tables) reads it"]


def test_every_graded_key_of_a_file_is_listed_for_an_own_ladder():
    raw = ladder([{"name": "staff", "strength": 1}], [], mix={"tolerance": 0.01, "target": {"management": 1,
                 "technical": 0, "operations": 0}}, budget={"growth": 0.1})
    with pytest.raises(ScenarioError) as caught:
        build_scenario(raw, "test")
    assert [p.split("'")[1] for p in caught.value.problems] == [
        "mix.tolerance", "mix.target.management", "mix.target.technical", "mix.target.operations", "budget.growth"]


def test_a_ladder_key_is_refused_for_a_graded_scenario():
    with pytest.raises(ScenarioError) as caught:
        load_scenario(scenario_path("baseline"), ["categories.unit=plant"])
    assert caught.value.problems == [
        "'categories.unit' has no meaning for a graded scenario (planned from input tables): only an own-ladder "
        "scenario (categories.levels) reads it"]


def test_requirement_names_a_known_category():
    demand = [{"name": "x", "category": "nobody", "headcount": {1: 1}}]
    with pytest.raises(ScenarioError, match="unknown category 'nobody'"):
        build_scenario(ladder([{"name": "staff", "strength": 1}], demand), "test")


# Williams, Model Building in Mathematical Programming, "Manpower planning"; optima as published in the
# Gurobi modeling-examples notebook (manpower_planning.ipynb): 841.796875 redundancies; cost £498,677.29,
# and £942,712.51 more (£1,441,389.80) for the plan that minimises redundancy.
WILLIAMS = scenario_path("manpower_williams")


@pytest.mark.parametrize(
    ("order", "term", "published"),
    [("[redundancy]", "redundancy", 841.796875), ("[cost]", "cost", 498_677.29), ("[redundancy]", "cost", 1_441_389.80)],
)
def test_williams_manpower_planning_reproduces_the_published_optima(order, term, published):
    scenario = load_scenario(WILLIAMS, [f"objective.order={order}"])
    data = ladder_model_data(scenario)
    model, _ = build_model(data)
    solution = solve_model(model, scenario, data.mean_pay)
    assert solution.status == "optimal"
    assert solution.terms[term] == pytest.approx(published, abs=0.01)


def test_williams_scenario_solves_without_input_tables(tmp_path: Path):
    result = run_ladder_plan(load_scenario(WILLIAMS), tmp_path / "plan")
    summary = json.loads((tmp_path / "plan" / "summary.json").read_text(encoding="utf-8"))
    assert result.exit_code == 0
    assert summary["solver"]["mode"] == "lp" and summary["model"]["integer_variables"] == 0
    assert summary["objective"]["redundancy"] == pytest.approx(841.796875, rel=1e-5)
    assert {p.name for p in (tmp_path / "plan").iterdir()} >= {"headcount.csv", "flows.csv", "requirements.csv"}


def test_williams_cheapest_minimum_redundancy_plan_is_the_published_one_at_zero_stage_tolerance():
    # [redundancy, cost] with the redundancy fixed exactly: the published plan's £1,441,389.80; with the
    # default tolerance (1e-6 relative: 0.00084 redundancies) the cost stage uses the room: £1,441,377.34.
    costs = {}
    for tolerance in ("0", "1e-6"):
        scenario = load_scenario(WILLIAMS, [f"objective.stage_tolerance={tolerance}"])
        data = ladder_model_data(scenario)
        model, _ = build_model(data)
        solution = solve_model(model, scenario, data.mean_pay)
        costs[tolerance] = (solution.terms["redundancy"], solution.terms["cost"])
    assert costs["0"] == pytest.approx((841.796875, 1_441_389.80), abs=0.01)
    assert costs["1e-6"][0] == pytest.approx(841.796875 * (1 + 1e-6), abs=1e-6)
    assert costs["1e-6"][1] == pytest.approx(1_441_377.34, abs=0.01)


def test_an_own_ladder_may_extend_a_graded_scenario_for_its_settings(tmp_path: Path):
    """Sections only the other kind reads, inherited through ``extends:``, are dropped; one the file itself
    writes is refused."""
    (tmp_path / "base.yaml").write_text(scenario_path("baseline").read_text(encoding="utf-8"), encoding="utf-8")
    own = {**ladder([{"name": "staff", "strength": 1}], []), "extends": "base.yaml",
           "solver": {"integer_year1": False, "time_limit": 5}}
    (tmp_path / "own.yaml").write_text(json.dumps(own), encoding="utf-8")
    scenario = load_scenario(tmp_path / "own.yaml")
    assert scenario.kind == "ladder" and scenario.solver.time_limit == 5
    assert "mix" not in scenario.to_raw() and "extends" not in scenario.to_raw()
    (tmp_path / "own.yaml").write_text(json.dumps({**own, "budget": {"growth": 0.1}}), encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(tmp_path / "own.yaml")
    assert [p.split("'")[1] for p in caught.value.problems] == ["budget.growth"]
