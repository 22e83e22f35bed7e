"""Scenario schema: shipped files, ``extends``, ``--set`` overrides, strict keys, impossible values, docs."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from models.scenario import Scenario, ScenarioError, Solver
from models.scenario_files import VALID_KEYS, build_scenario, load_scenario, render_scenario_reference, scenario_path

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted(p.stem for p in (ROOT / "scenarios").glob("*.yaml"))

# The scenario keys that are part of the public contract (more may exist; docs/scenarios.md lists them all),
# expanded: these must keep their meaning.
CONTRACT_KEYS = (
    "horizon",
    "mix.target.management", "mix.target.technical", "mix.target.operations",
    "mix.tolerance", "mix.deadline",
    "budget.growth",
    "promotion.grade_rate", "promotion.tier_rate", "promotion.min_years_in_grade",
    "mobility.operations_to_technical",
    "attrition.management", "attrition.technical", "attrition.operations",
    "solver.backend", "solver.time_limit", "solver.gap",
)


def problems_of(raw: dict, overrides: list[str] = ()) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        build_scenario(raw, "test.yaml", list(overrides))
    return caught.value.problems


def write(path: Path, body: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(body, allow_unicode=True), encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------------ shipped files


def test_the_four_documented_scenarios_are_shipped():
    assert {"baseline", "tight_budget", "slow_promotion", "five_year"} <= set(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_scenario_loads(name):
    scenario = load_scenario(scenario_path(name))
    assert scenario.name == name
    assert scenario.mix.deadline <= scenario.horizon
    assert scenario.applied_overrides == []


def test_baseline_is_the_design_target():
    s = load_scenario(scenario_path("baseline"))
    assert (s.mix.target.management, s.mix.target.technical, s.mix.target.operations) == (0.05, 0.30, 0.65)
    assert (s.horizon, s.mix.deadline, s.mix.tolerance, s.budget.growth) == (3, 3, 0.005, 0.05)
    assert s.solver.backend == "highs"


def test_shipped_what_ifs_change_only_what_they_say():
    baseline = load_scenario(scenario_path("baseline")).model_dump()
    expected = {
        "tight_budget": {("budget", "growth"): -0.04},
        "slow_promotion": {("promotion", "tier_rate"): 0.05, ("promotion", "tier_rate_floor"): 0.01,
                           ("mobility", "operations_to_technical"): 0.05},
        "five_year": {("horizon",): 5, ("mix", "deadline"): 5},
        "confident": {("mix", "confidence"): 0.9, ("solver", "time_limit"): 180.0},
    }
    for name, changes in expected.items():
        child = load_scenario(scenario_path(name)).model_dump()
        for path, value in changes.items():
            node = child
            for part in path:
                node = node[part]
            assert node == value, (name, path)
        # everything else is inherited from baseline
        for section in ("attrition", "hiring", "unit_grading", "objective", "solver"):
            changed = {path[1] for path in changes if path[0] == section and len(path) == 2}
            assert {k: v for k, v in child[section].items() if k not in changed} == \
                {k: v for k, v in baseline[section].items() if k not in changed}, (name, section)
        assert child["extends"] == "baseline.yaml"


# ----------------------------------------------------------------------------------------------- extends


def test_child_overrides_parent_key_by_key(tmp_path):
    write(tmp_path / "parent.yaml", {"name": "parent", "horizon": 4,
                                      "mix": {"tolerance": 0.02, "deadline": 4},
                                      "promotion": {"tier_rate": 0.2, "grade_rate": 0.4}})
    write(tmp_path / "child.yaml", {"extends": "parent.yaml", "name": "child",
                                     "mix": {"tolerance": 0.01}, "promotion": {"tier_rate": 0.15}})
    s = load_scenario(tmp_path / "child.yaml")
    assert s.name == "child"
    assert s.horizon == 4                      # inherited
    assert s.mix.tolerance == 0.01             # overridden
    assert s.mix.deadline == 4                 # sibling key of an overridden one: inherited
    assert s.promotion.tier_rate == 0.15
    assert s.promotion.grade_rate == 0.4
    assert s.budget.growth == Scenario().budget.growth  # given by neither: the default


def test_extends_paths_are_relative_to_the_file_that_names_them(tmp_path):
    write(tmp_path / "base" / "root.yaml", {"name": "root", "horizon": 5, "data": "tables"})
    write(tmp_path / "base" / "middle.yaml", {"extends": "root.yaml", "name": "middle", "budget": {"growth": 0.02}})
    write(tmp_path / "what_ifs" / "leaf.yaml", {"extends": "../base/middle.yaml", "name": "leaf"})
    s = load_scenario(tmp_path / "what_ifs" / "leaf.yaml")
    assert (s.name, s.horizon, s.budget.growth) == ("leaf", 5, 0.02)
    # ``data`` is relative to the file that declares it, not to the child
    assert Path(s.data) == (tmp_path / "base" / "tables").resolve()


def test_an_extends_cycle_is_an_error_naming_the_files(tmp_path):
    write(tmp_path / "a.yaml", {"extends": "b.yaml", "name": "a"})
    write(tmp_path / "b.yaml", {"extends": "a.yaml", "name": "b"})
    with pytest.raises(ScenarioError) as caught:
        load_scenario(tmp_path / "a.yaml")
    text = str(caught.value)
    assert "cycle" in text
    assert "a.yaml" in text and "b.yaml" in text


def test_a_file_extending_itself_is_a_cycle(tmp_path):
    write(tmp_path / "self.yaml", {"extends": "self.yaml"})
    with pytest.raises(ScenarioError, match="cycle"):
        load_scenario(tmp_path / "self.yaml")


def test_a_missing_parent_file_is_an_error_naming_it(tmp_path):
    write(tmp_path / "child.yaml", {"extends": "no_such_parent.yaml", "name": "child"})
    with pytest.raises(ScenarioError) as caught:
        load_scenario(tmp_path / "child.yaml")
    assert "no_such_parent.yaml" in str(caught.value)
    assert "not found" in str(caught.value)
    assert str(tmp_path / "child.yaml") in str(caught.value)  # and the file that names it


def test_a_missing_scenario_file_and_bad_yaml_are_errors(tmp_path):
    with pytest.raises(ScenarioError, match="not found"):
        load_scenario(tmp_path / "absent.yaml")
    (tmp_path / "broken.yaml").write_text("mix: [unclosed\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario(tmp_path / "broken.yaml")
    (tmp_path / "list.yaml").write_text("- horizon\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="mapping"):
        load_scenario(tmp_path / "list.yaml")


# ------------------------------------------------------------------------------------------- --set


def test_overrides_are_applied_type_checked_and_recorded():
    s = load_scenario(scenario_path("baseline"), ["promotion.tier_rate=0.12", "solver.backend=cbc", "horizon=4"])
    assert s.promotion.tier_rate == 0.12
    assert s.solver.backend == "cbc"
    assert s.horizon == 4
    assert s.applied_overrides == [
        "promotion.tier_rate: 0.1 → 0.12",
        "solver.backend: 'highs' → 'cbc'",
        "horizon: 3 → 4",
    ]


def test_override_of_a_key_the_file_does_not_set_records_the_default_as_old_value():
    s = build_scenario({}, "test.yaml", ["mobility.move_cost=7000"])
    assert s.mobility.move_cost == 7000
    assert s.applied_overrides == ["mobility.move_cost: 5000.0 → 7000"]


def test_override_with_the_wrong_type_is_an_error():
    problems = problems_of({}, ["promotion.tier_rate=abc"])
    assert len(problems) == 1
    assert problems[0].startswith("promotion.tier_rate:")
    assert "'abc'" in problems[0]


def test_override_value_that_is_not_yaml_is_a_type_error_not_a_crash():
    problems = problems_of({}, ["horizon=["])
    assert problems == [p for p in problems if p.startswith("horizon:")] and "'['" in problems[0]


def test_override_reaches_nested_dict_keys():
    s = build_scenario({}, "test.yaml", ["attrition.by_tier.technical.1=0.1"])
    assert s.attrition.by_tier == {"technical": {1: 0.1}}
    assert s.attrition.rate("technical", 1) == 0.1
    assert s.attrition.rate("technical", 2) == s.attrition.technical
    assert s.applied_overrides == ["attrition.by_tier.technical.1: None → 0.1"]

    s = build_scenario({"attrition": {"by_tier": {"technical": {1: 0.2, 2: 0.3}}}}, "test.yaml",
                       ["attrition.by_tier.technical.1=0.1"])
    assert s.attrition.by_tier == {"technical": {1: 0.1, 2: 0.3}}
    assert s.applied_overrides == ["attrition.by_tier.technical.1: 0.2 → 0.1"]


def test_override_parses_yaml_values():
    s = build_scenario({}, "test.yaml", ["hiring.entry_tiers.technical=[1, 2, 3]", "redundancy.enabled=true"])
    assert s.hiring.entry_tiers["technical"] == [1, 2, 3]
    assert s.redundancy.enabled is True


def test_the_same_key_twice_is_an_error():
    problems = problems_of({}, ["promotion.tier_rate=0.2", "promotion.tier_rate=0.3"])
    assert problems == ["override 'promotion.tier_rate' is given twice"]


def test_override_of_an_unknown_key_names_the_nearest():
    problems = problems_of({}, ["horizn=3"])
    assert len(problems) == 1 and "'horizon'" in problems[0]
    problems = problems_of({}, ["mix.tolerence=0.1"])
    assert len(problems) == 1 and "'mix.tolerance'" in problems[0]


def test_override_without_equals_sign_is_an_error():
    with pytest.raises(ScenarioError, match="key.path=value"):
        build_scenario({}, "test.yaml", ["promotion.tier_rate"])


def test_override_into_a_value_that_is_not_a_section_is_an_error():
    problems = problems_of({"solver": {"backend": "highs"}}, ["solver.backend.name=cbc", "horizon=0"])
    assert len(problems) == 2, problems
    assert any("'backend' is not a section" in p for p in problems)
    assert any(p.startswith("horizon:") for p in problems)  # reported together
    # a horizon that failed its own check is not compared with the deadline as well
    assert not any("beyond the horizon" in p for p in problems)


def test_overrides_do_not_change_the_raw_input():
    raw = {"promotion": {"tier_rate": 0.1}}
    build_scenario(raw, "test.yaml", ["promotion.tier_rate=0.2"])
    assert raw == {"promotion": {"tier_rate": 0.1}}


# -------------------------------------------------------------------------------------------- strict keys


@pytest.mark.parametrize(
    ("raw", "nearest"),
    [
        ({"horizn": 3}, "horizon"),
        ({"mix": {"tolerence": 0.01}}, "mix.tolerance"),
        ({"mix": {"target": {"managment": 0.05, "technical": 0.3, "operations": 0.65}}}, "mix.target.management"),
        ({"promotion": {"tier_rates": 0.1}}, "promotion.tier_rate"),
        ({"mobility": {"mapping": {"operations_to_tecnical": {1: 1}}}}, "mobility.mapping.operations_to_technical"),
        ({"solver": {"timelimit": 10}}, "solver.time_limit"),
        ({"unit_grading": {"weight": {"strategic": 1.0}}}, "unit_grading.weights"),
    ],
)
def test_unknown_keys_at_any_depth_name_the_nearest_valid_key(raw, nearest):
    problems = problems_of(raw)
    unknown = [p for p in problems if p.startswith("unknown key")]
    assert len(unknown) == 1, problems
    assert f"did you mean '{nearest}'" in unknown[0]


def test_unknown_key_in_a_file_names_the_nearest(tmp_path):
    write(tmp_path / "s.yaml", {"name": "s", "budget": {"grwth": 0.03}})
    with pytest.raises(ScenarioError) as caught:
        load_scenario(tmp_path / "s.yaml")
    assert "budget.grwth" in str(caught.value) and "'budget.growth'" in str(caught.value)
    assert str(tmp_path / "s.yaml") in str(caught.value)


# ------------------------------------------------------------------------------------- impossible values


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ({"mix": {"target": {"management": 0.1, "technical": 0.3, "operations": 0.65}}}, "sum to 1"),
        ({"promotion": {"tier_rate": 1.5}}, "promotion.tier_rate"),
        ({"attrition": {"operations": -0.1}}, "attrition.operations"),
        ({"attrition": {"by_tier": {"technical": {1: 1.2}}}}, "attrition.by_tier.technical.1"),
        ({"mix": {"tolerance": 2}}, "mix.tolerance"),
        ({"horizon": 3, "mix": {"deadline": 4}}, "mix.deadline 4 is beyond the horizon 3"),
        ({"promotion": {"tier_rate": 0.1, "tier_rate_floor": 0.2}}, "tier_rate_floor 0.2 exceeds tier_rate 0.1"),
        ({"promotion": {"grade_rate": 0.1, "grade_rate_floor": 0.3}}, "grade_rate_floor 0.3 exceeds grade_rate 0.1"),
        ({"horizon": 3, "budget": {"caps": {1: 1e9, 2: 1e9}}}, "budget.caps has no cap for years [3]"),
        ({"unit_grading": {"weights": {"strategic": 0.5, "efficiency": 0.3, "governance": 0.2, "innovation": 0.2}}},
         "weights must sum to 1"),
        ({"unit_grading": {"grades": [{"name": "A", "min_score": 60, "pay_coefficient": 1.1, "max_tier": 8},
                                      {"name": "A", "min_score": 0, "pay_coefficient": 1.0, "max_tier": 6}]}},
         "grade names must be unique"),
        ({"unit_grading": {"grades": [{"name": "A", "min_score": 60, "pay_coefficient": 1.1, "max_tier": 8},
                                      {"name": "B", "min_score": 10, "pay_coefficient": 1.0, "max_tier": 6}]}},
         "min_score 0"),
        ({"solver": {"backend": "gurobi"}}, "solver.backend"),
        ({"objective": {"order": ["mix", "cost"]}}, "objective.order"),
    ],
)
def test_impossible_values_are_errors(raw, fragment):
    problems = problems_of(raw)
    assert len(problems) == 1, problems
    assert fragment in problems[0]


def test_budget_caps_for_every_year_are_accepted_and_used():
    s = build_scenario({"horizon": 2, "mix": {"deadline": 2}, "budget": {"caps": {1: 100.0, 2: 250.0}}}, "t")
    assert s.budget_cap(1, base_payroll=1e9) == 100.0
    assert s.budget_cap(2, base_payroll=1e9) == 250.0
    growth = build_scenario({"budget": {"growth": 0.1}}, "t")
    assert growth.budget_cap(2, base_payroll=1000.0) == pytest.approx(1210.0)


def test_grade_bands_are_sorted_by_descending_min_score():
    s = build_scenario({"unit_grading": {"grades": [
        {"name": "low", "min_score": 0, "pay_coefficient": 0.9, "max_tier": 4},
        {"name": "high", "min_score": 80, "pay_coefficient": 1.3, "max_tier": 8},
        {"name": "mid", "min_score": 50, "pay_coefficient": 1.0, "max_tier": 6},
    ]}}, "t")
    assert [g.name for g in s.unit_grading.grades] == ["high", "mid", "low"]


def test_every_problem_of_one_file_is_reported_together(tmp_path):
    write(tmp_path / "bad.yaml", {
        "name": "bad",
        "horizn": 3,                                                                   # misspelt key
        "horizon": 3,
        "mix": {"tolerence": 0.01, "deadline": 5,                                       # misspelt, beyond horizon
                "target": {"management": 0.2, "technical": 0.3, "operations": 0.65}},  # sums to 1.15
        "promotion": {"tier_rate": 1.5},                                                # outside 0..1
        "solver": {"backend": "gurobi"},                                                # not a backend
    })
    with pytest.raises(ScenarioError) as caught:
        load_scenario(tmp_path / "bad.yaml")
    problems = caught.value.problems
    assert len(problems) == 6, problems
    text = "\n".join(problems)
    for fragment in ("'horizon'", "'mix.tolerance'", "sum to 1", "promotion.tier_rate", "solver.backend",
                     "mix.deadline 5 is beyond the horizon 3"):
        assert fragment in text


def test_override_problems_are_reported_together():
    problems = problems_of({}, ["horizn=3", "mix.tolerence=0.1", "promotion.tier_rate=0.2", "promotion.tier_rate=0.3"])
    assert len(problems) == 3, problems
    assert any("'horizon'" in p for p in problems)
    assert any("'mix.tolerance'" in p for p in problems)
    assert any("given twice" in p for p in problems)


def test_scenario_objects_are_immutable():
    s = Scenario()
    with pytest.raises(ValidationError, match="frozen"):
        s.horizon = 5  # type: ignore[misc]
    assert s.horizon == 3


# ------------------------------------------------------------------------------------------ docs/contract


def test_docs_scenarios_md_is_the_generated_reference():
    assert (ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8") == render_scenario_reference()


def test_the_reference_lists_every_leaf_key():
    reference = render_scenario_reference()
    sections = {k for k in VALID_KEYS if any(other.startswith(k + ".") for other in VALID_KEYS)}
    for key in set(VALID_KEYS) - sections:
        assert f"`{key}`" in reference, key


@pytest.mark.parametrize("key", CONTRACT_KEYS)
def test_contract_keys_exist_under_their_names(key):
    assert key in VALID_KEYS
    assert f"`{key}`" in render_scenario_reference() or key.startswith("mix.target.")
    # and they can be overridden from the command line
    value = {"solver.backend": "cbc", "horizon": 3, "mix.deadline": 3, "promotion.min_years_in_grade": 1}.get(key, 0.2)
    if key.startswith("mix.target."):
        value = 0.04
    overrides = [f"{key}={value}"]
    if key.startswith("mix.target."):  # shares must still sum to 1
        others = [s for s in ("management", "technical", "operations") if s != key.rsplit(".", 1)[1]]
        overrides += [f"mix.target.{others[0]}=0.48", f"mix.target.{others[1]}=0.48"]
    s = load_scenario(scenario_path("baseline"), overrides)
    node = s
    for part in key.split("."):
        node = getattr(node, part)
    assert node == value


def test_solver_backends_are_the_contract_ones():
    assert set(typing.get_args(Solver.model_fields["backend"].annotation)) == {"cbc", "highs", "scip", "cpsat"}
