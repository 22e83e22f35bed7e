"""Workload floors in the start that does only what the rules ask (hires fill a floor), and the premium of real
pay kept at a scale the solver does not drop: tiny models worked out by hand, no solve."""

from __future__ import annotations

import json

import numpy as np
import pytest

from models.scenario_files import build_scenario
from models.validation import load_inputs
from optimizer.model.build import build_model
from optimizer.model.kinds import graded_model_data
from optimizer.model.network import GRADE_STEP, HIRE
from optimizer.plan.merit import fixed_year1
from optimizer.solvers.staged import stage_terms
from optimizer.solvers.start import constructive_start
from tests.builders import QUIET, people, unit, write_group

THREE_YEARS = ["horizon=3", "mix.deadline=3", "attrition.operations=0.1", "hiring.enabled=true",
               "hiring.max_rate.operations=1", "hiring.max_rate.technical=0"]


def _built(tmp_path, employees, overrides):
    folder = write_group(tmp_path / "data", employees, [unit("U1")])
    scenario = build_scenario(json.loads(json.dumps(QUIET)), "test", overrides)
    data, _, _ = graded_model_data(load_inputs(folder), scenario)
    return data, *build_model(data)


def _hires(model, index, values) -> list[float]:
    return [sum(values[var] for _, var in index.flows_of(year, HIRE)) for year in (1, 2, 3)]


@pytest.mark.parametrize("floor", ["workload.headcount=0.9", "workload.operations=0.9"])
def test_hires_fill_a_workload_floor_in_the_constructive_start(tmp_path, floor):
    # 20 operations people, 10% attrition, floor 0.9 × 20 = 18. Year 1: 20 × 0.9 = 18, no hire (year-1 hires stay
    # idle). Year 2: 18 × 0.9 = 16.2 without hiring, so the start hires 1.8; year 3 the same.
    data, model, index = _built(tmp_path, people("U1", "operations", 20), [*THREE_YEARS, floor])
    start = constructive_start(model)
    assert start is not None
    assert _hires(model, index, start) == pytest.approx([0.0, 1.8, 1.8])
    operations = [sum(start[index.stock[(c, t)]] for c in index.network.live[t]) for t in (1, 2, 3)]
    assert operations == pytest.approx([18.0, 18.0, 18.0])


def test_no_hire_where_the_floor_holds_without_one(tmp_path):
    # Floor 0.7 × 20 = 14: 20 × 0.9³ = 14.58 stays above it; the fill max(0, 14 − S) is 0 every year.
    data, model, index = _built(tmp_path, people("U1", "operations", 20), [*THREE_YEARS, "workload.headcount=0.7"])
    start = constructive_start(model)
    assert start is not None
    assert _hires(model, index, start) == pytest.approx([0.0, 0.0, 0.0])


def test_the_premium_mass_is_at_the_scale_of_pay_in_the_cost_goal(tmp_path):
    # Ten people each paid 1,000 below the table: a fixed premium of −10,000 × (1 − a) a year. In CNY its
    # coefficient (1) divided by a cost of ≈1e10 fell below HiGHS's 1e-9 and was dropped from the row fixing the
    # cost stage; counted in mean pays P its coefficient is P, like a head's pay.
    employees = [{**person, "salary": 59_000} for person in people("U1", "technical", 10)]
    data, model, index = _built(tmp_path, employees, ["horizon=2", "mix.deadline=2"])
    cost = stage_terms(model, data.mean_pay)["cost"]
    premium = [var for var in cost if model.var_names[var].startswith("premium")]
    assert len(premium) == 2
    assert [cost[var] for var in premium] == pytest.approx([data.mean_pay] * 2)
    assert data.mean_pay == pytest.approx(59_000)
    assert [cost[var] * model.lb[var] for var in premium] == pytest.approx([-10_000, -10_000])
    assert min(abs(coef) for coef in cost.values()) >= 1e-3 * data.mean_pay
    assert np.all(np.asarray(model.lb)[premium] == np.asarray(model.ub)[premium])


def test_a_fixed_flow_keeps_its_value_over_a_start_rule(tmp_path):
    # The merit re-solve fixes year 1 at the merit split. 20 technical people, a grade-step floor of 25%: the rule
    # asks ⌊0.25 × 20⌋ = 5 steps; fixed at 6 (within the 50% cap), the start keeps 6 and holds every row.
    data, model, index = _built(tmp_path, people("U1", "technical", 20),
                                ["promotion.grade_rate=0.5", "promotion.grade_rate_floor=0.25"])
    [(_, step)] = index.flows_of(1, GRADE_STEP)
    assert constructive_start(model)[step] == 5
    fixed = fixed_year1(model, len(model.rows), {var: (6.0 if var == step else 0.0) for _, var in index.flows_of(1)})
    start = constructive_start(fixed)
    assert start is not None and start[step] == 6
