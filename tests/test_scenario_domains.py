"""Every scenario number has a domain: NaN and infinities, negative money, tiers off any ladder, solver
settings out of range and unreadable scenario files are refused with one problem line naming the key (or
the file), all problems at once; ``wfplan solve`` exits 2 and writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from models.scenario import MAX_TIER, ScenarioError
from models.scenario_files import load_scenario
from optimizer.cli import main
from tests.builders import people, unit, write_group
from tests.test_scenario import problems_of, write


def assert_refused(overrides: list[str], key: str, raw: dict | None = None) -> None:
    """Building the scenario fails, and one problem line is about exactly ``key``."""
    problems = problems_of(raw or {}, overrides)
    assert any(p.startswith(f"{key}: ") for p in problems), problems


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf"])
@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("unit_grading.weights.strategic={}", "unit_grading.weights.strategic"),
        ("objective.weights.mix={}", "objective.weights.mix"),
        ("objective.stage_gap.cost={}", "objective.stage_gap.cost"),
        ("budget.growth={}", "budget.growth"),
        ("budget.caps={{1: 1.0e9, 2: {}, 3: 1.0e9}}", "budget.caps.2"),
        ("solver.time_limit={}", "solver.time_limit"),
        ("solver.gap={}", "solver.gap"),
        ("promotion.tier_rate={}", "promotion.tier_rate"),
        ("attrition.technical={}", "attrition.technical"),
        ("attrition.by_tier={{technical: {{1: {}}}}}", "attrition.by_tier.technical.1"),
        ("attrition.first_year={{operations: {}}}", "attrition.first_year.operations"),
        ("hiring.cost.technical={}", "hiring.cost.technical"),
        ("mobility.retraining_cost={}", "mobility.retraining_cost"),
        ("unit_grading.grades=[{{name: A, min_score: 0, pay_coefficient: {}, max_tier: 8}}]",
         "unit_grading.grades.0.pay_coefficient"),
        ("requirements.demand=[{{name: r, sequence: technical, headcount: {{1: {}}}}}]",
         "requirements.demand.0.headcount.1"),
    ],
)
def test_no_number_may_be_nan_or_infinite(override, key, value):
    assert_refused([override.format(value)], key)


@pytest.mark.parametrize("cap", [".nan", "-1", "-1.0e9"])
def test_a_budget_cap_is_finite_and_not_negative(cap):
    assert_refused([f"budget.caps={{1: 1.0e9, 2: {cap}, 3: 1.0e9}}"], "budget.caps.2")


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("hiring.entry_tiers={technical: [0, -1]}", "hiring.entry_tiers.technical.0"),
        ("hiring.entry_tiers={technical: [0, -1]}", "hiring.entry_tiers.technical.1"),
        ("hiring.entry_tiers={operations: [99]}", "hiring.entry_tiers.operations.0"),
        ("attrition.by_tier={technical: {99: 0.1}}", "attrition.by_tier.technical.99 (the key)"),
        ("mobility.mapping.operations_to_technical={1: 99}", "mobility.mapping.operations_to_technical.1"),
        ("mobility.mapping.technical_to_management={0: 1}", "mobility.mapping.technical_to_management.0 (the key)"),
        ("unit_grading.grades=[{name: A, min_score: 0, pay_coefficient: 1, max_tier: 0}]",
         "unit_grading.grades.0.max_tier"),
        ("requirements.demand=[{name: r, sequence: technical, tiers: [0], headcount: {1: 5}}]",
         "requirements.demand.0.tiers.0"),
        ("mobility.downgrade.max_tiers_down=" + str(MAX_TIER), "mobility.downgrade.max_tiers_down"),
    ],
)
def test_a_tier_is_at_least_1_and_at_most_the_tier_maximum(override, key):
    assert_refused([override], key)


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("objective.weights.cost=-1", "objective.weights.cost"),
        ("objective.stage_gap.disruption=-0.01", "objective.stage_gap.disruption"),
        ("objective.stage_gap.mix=2", "objective.stage_gap.mix"),
        ("objective.stage_tolerance=1.5", "objective.stage_tolerance"),
        ("solver.seed=-1", "solver.seed"),
        (f"solver.seed={2**31}", "solver.seed"),
        ("solver.threads=0", "solver.threads"),
        ("solver.threads=100000", "solver.threads"),
        ("solver.time_limit=0", "solver.time_limit"),
        ("solver.time_limit=86401", "solver.time_limit"),
        ("solver.gap=1.5", "solver.gap"),
        ("solver.gap=-0.1", "solver.gap"),
    ],
)
def test_objective_and_solver_settings_have_a_range(override, key):
    assert_refused([override], key)


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("budget.growth=10.5", "budget.growth"),
        ("budget.growth=-2", "budget.growth"),
        ("budget.caps={1: 1.0e9, 2: 1.0e9, 3: 1.0e9, 16: 1.0e9}", "budget.caps.16 (the key)"),
        ("mix.deadline=16", "mix.deadline"),
        ("requirements.caps=[{name: c, kinds: [hire], max_share_of_destination: 1.5}]",
         "requirements.caps.0.max_share_of_destination"),
        ("requirements.caps=[{name: c, kinds: [hire], years: [0], max_per_year: 1}]", "requirements.caps.0.years.0"),
        ("requirements.demand=[{name: r, sequence: technical, headcount: {1: -5}}]",
         "requirements.demand.0.headcount.1"),
        ("requirements.demand=[{name: r, sequence: technical, headcount: {0: 5}}]",
         "requirements.demand.0.headcount.0 (the key)"),
    ],
)
def test_other_numbers_have_a_domain(override, key):
    assert_refused([override], key)


def test_a_budget_cap_beyond_the_horizon_is_refused():
    problems = problems_of({"horizon": 2, "mix": {"deadline": 2}, "budget": {"caps": {1: 1e9, 2: 1e9, 5: 1e9}}})
    assert any("budget.caps has caps for years [5] beyond the horizon 2" in p for p in problems), problems


def test_an_own_ladder_has_at_most_the_tier_maximum_of_levels():
    levels = [{"name": f"L{i}", "strength": 1} for i in range(MAX_TIER + 1)]
    assert_refused([], "categories.levels", {"categories": {"levels": levels}})


def test_every_bad_value_is_listed_at_once():
    problems = problems_of({
        "budget": {"growth": float("nan"), "caps": {1: -1.0, 2: 1e9, 3: 1e9}},
        "hiring": {"entry_tiers": {"operations": [99]}},
        "objective": {"weights": {"mix": -1.0}},
        "solver": {"seed": -1, "threads": 100000, "time_limit": float("inf")},
    })
    keys = ["budget.growth", "budget.caps.1", "hiring.entry_tiers.operations.0", "objective.weights.mix",
            "solver.seed", "solver.threads", "solver.time_limit"]
    assert [k for k in keys if not any(p.startswith(f"{k}: ") for p in problems)] == [], problems


@pytest.mark.parametrize("extends", [5, ["base.yaml"], ""])
def test_an_extends_that_is_not_a_file_name_is_an_error_naming_the_file(tmp_path, extends):
    path = write(tmp_path / "child.yaml", {"extends": extends, "name": "child"})
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.source == str(path.resolve()) and "extends" in caught.value.problems[0]


def test_a_data_key_that_is_not_text_is_refused_naming_the_key(tmp_path):
    path = write(tmp_path / "s.yaml", {"data": 5})
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert any(p.startswith("data: ") for p in caught.value.problems), caught.value.problems


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (bytes(range(256)), "not UTF-8 text"),
        ("name: café\n".encode("latin-1"), "not UTF-8 text"),
        (b"\x00\x01\x02binary", "not valid YAML"),
    ],
)
def test_a_file_that_is_not_text_is_an_error_naming_the_file(tmp_path, content, problem):
    path = tmp_path / "scenario.yaml"
    path.write_bytes(content)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.source == str(path) and problem in caught.value.problems[0]


def test_a_folder_is_not_a_scenario_file(tmp_path):
    with pytest.raises(ScenarioError, match="is a folder"):
        load_scenario(tmp_path)


def test_an_unreadable_file_is_an_error_naming_the_file(tmp_path, monkeypatch):
    path = write(tmp_path / "s.yaml", {"name": "s"})

    def refuse(*args, **kwargs):  # chmod does not bind root, who runs the tests in some containers
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_text", refuse)
    with pytest.raises(ScenarioError, match="cannot be read: Permission denied"):
        load_scenario(path)


def test_solve_with_a_nan_override_exits_2_naming_the_key_and_writes_nothing(tmp_path):
    data = write_group(tmp_path / "data", people("U1", "operations", 10), [unit("U1")])
    out = tmp_path / "plan"
    result = CliRunner().invoke(
        main, ["solve", "baseline", "--data", str(data), "--out", str(out), "--set", "budget.growth=.nan",
               "--set", "solver.threads=100000"]
    )
    assert result.exit_code == 2, result.output
    assert "budget.growth" in result.output and "solver.threads" in result.output
    assert not out.exists()
