"""Tiny models solved by hand: one test per constraint family showing its exact effect.

Every solve goes through the real pipeline (files written, independent verifier run), so each test also
checks the plan invariants the verifier enforces.
"""

from __future__ import annotations

import pytest

from models.pay import PayStructure
from models.scenario_files import load_scenario, scenario_path
from optimizer.model.cohorts import Cohort
from optimizer.model.data import ModelData
from optimizer.model.formulation import rate_cap_of
from optimizer.model.kinds import KINDS, LADDER
from optimizer.model.network import Arc
from tests.builders import people, solve_group, unit

MIX_100 = [*people("U1", "operations", 80, eligible=True), *people("U1", "technical", 20, first=100)]
"""One unit, 100 people: 80 qualified operations and 20 technical, all on T1 G1 (pay 50k and 60k)."""
REACH_30 = ["mix.tolerance=0.005", "mobility.operations_to_technical=0.1"]


@pytest.mark.slow
def test_stock_balance_applies_expected_attrition_each_year(tmp_path):
    # x1 = 0.9·100 = 90, x2 = 0.9·90 = 81: nothing else moves.
    solved = solve_group(tmp_path, people("U1", "technical", 100), [unit("U1")],
                         ["horizon=2", "mix.deadline=2", "attrition.technical=0.1"])
    assert solved.headcount(1) == pytest.approx(90)
    assert solved.headcount(2) == pytest.approx(81)
    assert solved.flow("attrition", 2) == pytest.approx(9)


@pytest.mark.slow
def test_attrition_by_tier_overrides_the_sequence_rate(tmp_path):
    group = [*people("U1", "technical", 50, tier=1), *people("U1", "technical", 50, tier=2, first=50)]
    solved = solve_group(tmp_path, group, [unit("U1")],
                         ["attrition.technical=0.1", "attrition.by_tier={technical: {2: 0.2}}"])
    assert solved.headcount(1, tier=1) == pytest.approx(45)
    assert solved.headcount(1, tier=2) == pytest.approx(40)


@pytest.mark.slow
def test_cheapest_way_to_reach_30_percent_technical_under_a_10_percent_move_cap(tmp_path):
    # Needed: (20+m+h)/(100+h) ≥ 0.295. A move costs 1,000 + 10,000 extra pay, a hire 50,000 + 60,000:
    # so use every move the cap allows (m = 10% of 80 = 8), then the fewest hires: 28+h ≥ 29.5+0.295h → h = 3.
    solved = solve_group(tmp_path, MIX_100, [unit("U1")],
                         [*REACH_30, "hiring.enabled=true", "hiring.max_rate.technical=0.5",
                          "hiring.cost.technical=50000", "hiring.entry_tiers={technical: [1]}"])
    assert solved.exit_code == 0
    assert solved.flow("sequence_move") == 8
    assert solved.flow("hire") == 3
    cost = 72 * 50_000 + 31 * 60_000 + 8 * 1_000 + 3 * 50_000
    assert solved.summary["objective"]["cost"] == pytest.approx(cost)
    mix = solved.table("mix").set_index(["year", "sequence"])
    assert mix.loc[(1, "technical"), "share"] == pytest.approx(31 / 103)


@pytest.mark.slow
def test_mix_band_miss_is_measured_in_heads_and_flagged(tmp_path):
    # Without hires the best is m = 8: technical 28/100 is 1.5 heads under 29.5%, operations 72 is 1.5 over 70.5%.
    solved = solve_group(tmp_path, MIX_100, [unit("U1")], REACH_30)
    assert solved.exit_code == 3
    assert solved.summary["status"] == "target_missed"
    assert solved.summary["objective"]["mix"] == pytest.approx(3.0)
    missed = {m["sequence"]: m["shortfall"] for m in solved.summary["goal_deviations"]["mix"]}
    assert missed == pytest.approx({"technical": 0.015, "operations": 0.015})


@pytest.mark.slow
def test_hiring_cap_limits_hires_to_a_share_of_the_sequence(tmp_path):
    # Hires ≤ 10% of 20 technical = 2 < the 3 needed: the band is missed by .295·102 − 30 = 0.09 heads each side.
    solved = solve_group(tmp_path, MIX_100, [unit("U1")],
                         [*REACH_30, "hiring.enabled=true", "hiring.max_rate.technical=0.1",
                          "hiring.entry_tiers={technical: [1]}"])
    assert solved.flow("hire") == 2
    assert solved.summary["objective"]["mix"] == pytest.approx(0.18)


@pytest.mark.slow
def test_operations_floor_keeps_a_units_operations_share(tmp_path):
    # Floor 75%: 80 − m ≥ 0.75·100 → at most 5 moves, although the cap allows 8.
    solved = solve_group(tmp_path, MIX_100, [unit("U1")], [*REACH_30, "mix.operations_floor=0.75"])
    assert solved.flow("sequence_move") == 5


@pytest.mark.slow
def test_grade_rate_floor_forces_steps_that_cost_would_avoid(tmp_path):
    # 10 people eligible for a grade step; steps only cost money, so none happen without a floor;
    # floor 25% of 10 → ⌊2.5⌋ = 2 steps (year 1 rounds down to whole people).
    group = people("U1", "technical", 10)
    assert solve_group(tmp_path / "a", group, [unit("U1")], ["promotion.grade_rate=0.5"]).flow("grade_step") == 0
    solved = solve_group(tmp_path / "b", group, [unit("U1")], ["promotion.grade_rate=0.5", "promotion.grade_rate_floor=0.25"])
    assert solved.flow("grade_step") == 2


@pytest.mark.slow
def test_rate_cap_bounds_tier_promotions_by_the_start_of_year_stock(tmp_path):
    # tier_rate 0.1 on 25 people: at most ⌊2.5⌋ = 2; a floor at the cap asks for all of them.
    solved = solve_group(tmp_path, people("U1", "technical", 25), [unit("U1")],
                         ["promotion.tier_rate=0.1", "promotion.tier_rate_floor=0.1"])
    assert solved.flow("tier_promotion") == 2


@pytest.mark.slow
def test_promotion_needs_min_years_in_grade(tmp_path):
    # 10 people with 1 year in grade cannot be promoted (minimum 2); 10 with 3 years can.
    group = [*people("U1", "technical", 10, years=1), *people("U1", "technical", 10, years=3, first=10)]
    solved = solve_group(tmp_path, group, [unit("U1")], ["promotion.tier_rate=1.0", "promotion.tier_rate_floor=1.0"])
    assert solved.flow("tier_promotion") == 10
    actions = solved.table("actions")
    promoted = actions[actions["action"] == "tier_promotion"]["employee_id"]
    assert sorted(promoted) == [f"U1-T{i:04d}" for i in range(10, 20)]


@pytest.mark.slow
def test_tier_cap_blocks_promotions_above_the_units_max_tier(tmp_path):
    group = people("U1", "technical", 20)
    capped = {"unit_grading.grades": '[{name: C, min_score: 0, pay_coefficient: 1.0, max_tier: 1}]'}
    solved = solve_group(tmp_path, group, [unit("U1")],
                         ["promotion.tier_rate=1.0", "promotion.tier_rate_floor=1.0",
                          *(f"{k}={v}" for k, v in capped.items())])
    assert solved.flow("tier_promotion") == 0
    assert solved.headcount(1, tier=2) == 0


@pytest.mark.slow
def test_budget_overrun_is_exactly_the_cost_floors_force(tmp_path):
    # Cap = payroll(0) (growth 0); the floor forces 5 grade steps at +1,000 each → overrun 5,000.
    solved = solve_group(tmp_path, people("U1", "technical", 10), [unit("U1")],
                         ["budget.growth=0", "promotion.grade_rate=0.5", "promotion.grade_rate_floor=0.5"])
    assert solved.exit_code == 3
    assert solved.summary["goal_deviations"]["budget"][0]["overrun"] == pytest.approx(5_000)


@pytest.mark.slow
def test_unit_headcount_minimum_forces_hires(tmp_path):
    # 100 people, 10% attrition, minimum 95 → 90 + h ≥ 95 → 5 hires.
    solved = solve_group(tmp_path, people("U1", "operations", 100), [unit("U1", min_headcount=95)],
                         ["attrition.operations=0.1", "hiring.enabled=true", "hiring.max_rate.operations=0.5"])
    assert solved.flow("hire") == 5


@pytest.mark.slow
def test_unit_headcount_maximum_forces_the_cheapest_exit(tmp_path):
    # 100 people, maximum 90, no attrition: 10 redundancies at 2 years' pay each. Not more: over a one-year
    # horizon a redundancy saves one year's pay and costs two. (At cost_factor 0.5 the cap's 20 would be used.)
    solved = solve_group(tmp_path, people("U1", "operations", 100), [unit("U1", max_headcount=90)],
                         ["redundancy.enabled=true", "redundancy.max_rate=0.2", "redundancy.cost_factor=2"])
    assert solved.flow("redundancy") == 10
    budget = solved.table("budget").query("unit_id == 'ALL' and year == 1").iloc[0]
    assert budget["redundancy_cost"] == pytest.approx(10 * 2 * 50_000)
    redundant = solved.table("actions").query("action == 'redundancy'")["employee_id"]
    assert sorted(redundant) == [f"U1-O{i:04d}" for i in range(90, 100)]  # the lowest performers


@pytest.mark.slow
def test_unit_transfer_moves_people_where_the_headcount_bounds_need_them(tmp_path):
    # U1 may keep 90 of its 100, U2 needs 10 more: 10 transfers, cheaper than anything else available.
    group = [*people("U1", "operations", 100), *people("U2", "operations", 50, first=100)]
    solved = solve_group(tmp_path, group, [unit("U1", max_headcount=90), unit("U2", min_headcount=60)],
                         ["mobility.unit_transfers=true", "mobility.transfer_rate=0.2"])
    assert solved.flow("unit_transfer") == 10
    assert solved.headcount(1, unit_id="U2") == 60


@pytest.mark.slow
def test_management_to_technical_move_lands_on_the_mapped_tier(tmp_path):
    # Management must fall to ≤ 5.5% of 100 and technical stay ≤ 5.5%: exactly 5 moves (cap 60% of 10 = 6),
    # landing on technical tier 2 as mapped; no T2 grade pays management's 80,000, so they land on the top grade.
    group = [*people("U1", "management", 10), *people("U1", "operations", 90, first=10)]
    solved = solve_group(tmp_path, group, [unit("U1")],
                         ["mix.target={management: 0.05, technical: 0.05, operations: 0.90}", "mix.tolerance=0.005",
                          "mobility.management_to_technical=0.6", "mobility.mapping.management_to_technical={1: 2}"])
    flows = solved.table("flows").query("kind == 'sequence_move'")
    assert flows["count"].sum() == 5
    assert set(zip(flows["to_tier"], flows["to_grade"])) == {(2, 5)}


@pytest.mark.slow
def test_disruption_stage_avoids_moves_that_cost_nothing(tmp_path):
    # Max headcount 90 forces 10 redundancies. At one year's pay each over a one-year horizon a redundancy
    # costs exactly what it saves, so the cost stage is indifferent between 10 and 20 (the cap);
    # the disruption stage keeps it to 10.
    solved = solve_group(tmp_path, people("U1", "operations", 100), [unit("U1", max_headcount=90)],
                         ["redundancy.enabled=true", "redundancy.max_rate=0.2", "redundancy.cost_factor=1"])
    assert solved.flow("redundancy") == 10
    assert solved.summary["objective"]["disruption"] == 10


def test_every_constraint_family_of_every_kind_has_a_test():
    """Each family either kind builds has a test of its exact effect (here, or in the requirement tests)."""
    from tests import test_payroll as payroll_tests
    from tests import test_requirements as ladder_tests
    from tests import test_requirements_graded as graded_requirement_tests

    tested = {
        "add_stock_balance": test_stock_balance_applies_expected_attrition_each_year,
        "add_outflow_availability": test_rate_cap_bounds_tier_promotions_by_the_start_of_year_stock,
        "add_rate_caps": test_rate_cap_bounds_tier_promotions_by_the_start_of_year_stock,
        "add_promotion_floors": test_grade_rate_floor_forces_steps_that_cost_would_avoid,
        "add_hiring_caps": test_hiring_cap_limits_hires_to_a_share_of_the_sequence,
        "add_unit_headcount_bounds": test_unit_headcount_minimum_forces_hires,
        "add_operations_workload": payroll_tests.test_operations_workload_floor_forces_operations_hires,
        "add_operations_floor": test_operations_floor_keeps_a_units_operations_share,
        "add_mix_band": test_mix_band_miss_is_measured_in_heads_and_flagged,
        "add_cost": test_cheapest_way_to_reach_30_percent_technical_under_a_10_percent_move_cap,
        "add_budget_cap": test_budget_overrun_is_exactly_the_cost_floors_force,  # unit caps: test_payroll
        "add_disruption": test_disruption_stage_avoids_moves_that_cost_nothing,
        "add_requirements": ladder_tests.test_requirement_met_by_recruits_under_first_year_wastage,
        "add_recruitment_caps": ladder_tests.test_recruitment_cap_limits_recruits_per_year,
        "add_retraining_caps": ladder_tests.test_retraining_caps_bound_moves_to_the_next_category,
        "add_flow_caps": graded_requirement_tests.test_recruitment_cap_per_group_and_year,
        "add_redundancy_count": ladder_tests.test_williams_manpower_planning_reproduces_the_published_optima,
    }
    built = {family.__name__ for kind in KINDS.values() for family in kind.families}
    assert set(tested) == built


@pytest.mark.parametrize("kind", list(KINDS.values()), ids=list(KINDS))
def test_a_flow_of_unknown_kind_has_no_cost_and_no_rate_cap(kind):
    """Loud, not silent: a flow kind the model does not know raises instead of costing nothing or taking
    another kind's cap."""
    scenario = load_scenario(scenario_path("manpower_williams" if kind is LADDER else "baseline"))
    data = ModelData(scenario, PayStructure({}, {}, {}), ["U1"], {}, kind)
    c = Cohort("U1", "skill", 1, 1, 0, False)
    arc = Arc("teleport", c, c)
    with pytest.raises(ValueError, match="teleport"):
        data.one_off_cost(arc, 1)
    with pytest.raises(ValueError, match="teleport"):
        rate_cap_of(arc, scenario)
