"""The page's scenario controls (bounds from the schema, overrides for exactly what changed, a YAML file
that loads back to the same scenario) and the words and tables it shows (web.views)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from models.scenario import Scenario
from models.scenario_files import load_scenario
from optimizer import api
from web import views
from web.controls import BY_KEY, CONTROLS, overrides_for, scenario_yaml


@pytest.fixture
def baseline() -> Scenario:
    return api.scenario("baseline")


def shown_of(raw: dict) -> dict:
    return {control.key: control.shown(raw) for control in CONTROLS}


def test_every_control_is_a_scenario_key_shown_in_its_unit(baseline: Scenario) -> None:
    raw = baseline.to_raw()
    shown = shown_of(raw)
    assert shown["mix.target.technical"] == 30.0 and shown["mix.tolerance"] == 0.5
    assert shown["budget.growth"] == 5.0 and shown["mix.deadline"] == 3 and shown["hiring.enabled"] is True
    assert overrides_for(raw, shown) == []


def test_bounds_come_from_the_schema() -> None:
    assert BY_KEY["budget.growth"].bounds() == (-100, 1000)
    assert BY_KEY["mix.deadline"].bounds() == (1, 15)
    assert BY_KEY["promotion.tier_rate"].bounds() == (0, 100)
    assert BY_KEY["promotion.tier_rate"].help == "max tier promotions / stock of (unit, sequence, tier)"
    assert BY_KEY["workload.headcount"].bounds() == (0, 100) and BY_KEY["budget.unit_growth"].bounds() == (-100, 1000)


def test_overrides_name_exactly_the_changed_keys(baseline: Scenario) -> None:
    raw = baseline.to_raw()
    shown = shown_of(raw) | {"budget.growth": 3.0, "hiring.enabled": False, "mix.deadline": 2,
                             "mix.tolerance": 0.5000000001}
    assert overrides_for(raw, shown, "lean") == ["name=lean", "mix.deadline=2", "budget.growth=0.03",
                                                 "hiring.enabled=false"]
    scenario = api.scenario(baseline, overrides=overrides_for(raw, shown, "lean"))
    assert (scenario.name, scenario.budget.growth, scenario.hiring.enabled, scenario.mix.deadline) == (
        "lean", 0.03, False, 2)


def test_the_yaml_loads_back_to_the_same_scenario(baseline: Scenario, tmp_path: Path) -> None:
    raw = baseline.to_raw()
    scenario = api.scenario(baseline, overrides=overrides_for(raw, shown_of(raw) | {"promotion.tier_rate": 12.0}))
    text = scenario_yaml(scenario, "shipped scenario: baseline")
    assert text.splitlines()[:2] == ["# What-if baseline, from shipped scenario: baseline",
                                     "#   promotion.tier_rate: 0.1 → 0.12"]
    (tmp_path / "whatif.yaml").write_text(text, encoding="utf-8")
    loaded = load_scenario(tmp_path / "whatif.yaml")
    assert loaded.model_dump(exclude={"applied_overrides"}) == scenario.model_dump(exclude={"applied_overrides"})


def test_status_in_words() -> None:
    assert views.status_words("queued", None, None, position=2) == views.Words(
        "info", "Waiting for a free solver (number 2 in the queue).")
    assert views.status_words("finished", 0, "optimal").text == "Every target met: the plan is written and verified."
    assert views.status_words("finished", 3, "target_missed").tone == "warning"
    assert views.status_words("finished", 4, "infeasible").tone == "error"
    assert views.status_words("failed", 2, "bad_input", "1 problem in x").text == (
        "Bad input, nothing was solved: 1 problem in x")
    assert views.status_words("cancelled", None, None, "cancelled while it ran").text == "Cancelled: cancelled while it ran."


@pytest.mark.parametrize(("stopped_by", "words"), [
    (["gap", None], "Every target met (proven within the solver's requested gap of the best plan): the plan"),
    (["gap", "time_limit"], "Every target met (the solver stopped at a limit: the best plan found, not proven"),
    ([], "Every target met (the solver stopped at a limit"),  # feasible, nothing recorded: the cautious words
])
def test_a_plan_stopped_at_its_gap_is_not_called_unproven(tmp_path, stopped_by, words):
    stages = [{"term": term, "stopped_by": limit} for term, limit in zip(("cost", "disruption"), stopped_by)]
    summary = {"solver": {"stages": stages[:1]}, "merit": {"stages": stages[1:]}}
    (tmp_path / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    assert views.status_words("finished", 0, "feasible", folder=tmp_path).text.startswith(words)


def test_glance(baseline: Scenario) -> None:
    assert views.glance(baseline.to_raw()) == {
        "Scenario": "baseline",
        "Mix target": "5% management / 30% technical / 65% operations",
        "Band": "± 0.5 points from year 3",
        "Budget": "+5% a year over year-0 payroll",
        "Horizon": "3 years",
    }


def test_action_filters() -> None:
    actions = pd.DataFrame({
        "employee_id": ["E1", "E2", "E3", "H1"],
        "name": ["王伟", "Li Na", "Zhang Wei", None],
        "action": ["stay", "tier_promotion", "unit_transfer", "hire"],
        "from_unit": ["U1", "U1", "U2", None],
        "to_unit": ["U1", "U1", "U3", "U3"],
    })
    assert views.filter_actions(actions)["employee_id"].tolist() == ["E1", "E2", "E3", "H1"]
    assert views.filter_actions(actions, units=["U3"])["employee_id"].tolist() == ["E3", "H1"]
    assert views.filter_actions(actions, kinds=["stay", "hire"])["employee_id"].tolist() == ["E1", "H1"]
    assert views.filter_actions(actions, text=" wei ")["employee_id"].tolist() == ["E3"]
    assert views.filter_actions(actions, text="王")["employee_id"].tolist() == ["E1"]
    assert views.filter_actions(actions, units=["U1"], kinds=["tier_promotion"], text="e2")["employee_id"].tolist() == ["E2"]


def test_budget_by_unit_in_millions() -> None:
    budget = pd.DataFrame({
        "year": [1, 1, 1, 2, 2, 2],
        "unit_id": ["U1", "U2", "ALL", "U1", "U2", "ALL"],
        "total": [2e6, 3e6, 5e6, 2.5e6, 3e6, 5.5e6],
        "cap": [None, None, 6e6, None, None, 6.3e6],
    })
    table = views.budget_by_unit(budget)
    assert table.to_dict("records") == [{"year": 1, "U1": 2.0, "U2": 3.0, "ALL": 5.0, "cap": 6.0},
                                        {"year": 2, "U1": 2.5, "U2": 3.0, "ALL": 5.5, "cap": 6.3}]
