"""The independent verifier of own-ladder plans: solved plans pass, every check rejects a corrupted file.

Plans are solved through the real pipeline (``run_ladder_plan``): Williams' manpower-planning problem (LP,
both objectives) and a tiny integer ladder with wages, a recruit cap, a retraining cap, a downgrade route,
a flow cap, and the ``start_of_year`` convention. Each corruption copies a solved plan and changes one value.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from models.scenario_files import build_scenario, load_scenario, scenario_path
from optimizer.cli import main
from optimizer.plan.output import write_csv
from optimizer.pipeline import EXIT_OK, run_ladder_plan
from optimizer.verify.graded import Finding
from optimizer.verify.ladder import CHECKS, verify_ladder_plan

TINY = {
    "name": "tiny_ladder", "horizon": 2, "flow_convention": "start_of_year",
    "solver": {"integer_year1": True}, "objective": {"order": ["cost"]},
    "categories": {"unit": "shop", "sequence": "staff", "levels": [
        {"name": "junior", "strength": 10, "wastage": 0.1, "wage": 1000, "recruit_max": 5, "recruit_cost": 100,
         "redundancy_cost": 300, "retraining": {"cost": 50, "max_per_year": 3, "max_share_of_destination": 0.5}},
        {"name": "senior", "strength": 6, "wage": 2000, "redundancy_cost": 800, "downgrade_to": ["junior"],
         "downgrade_cost": 20},
    ]},
    "requirements": {
        "mode": "exact", "overmanning_max": 2, "short_time_fraction": 0.5,
        "demand": [
            {"name": "junior", "category": "junior", "headcount": {1: 11, 2: 12}, "overmanning_cost": 400,
             "short_time_max": 2, "short_time_cost": 100},
            {"name": "senior", "category": "senior", "headcount": {1: 8, 2: 9}, "overmanning_cost": 500,
             "short_time_max": 1, "short_time_cost": 150},
        ],
        "caps": [{"name": "junior_recruits", "category": "junior", "kinds": ["hire"], "max_per_year": 4.5}],
    },
}


def _solve(folder: Path, scenario) -> Path:
    result = run_ladder_plan(scenario, folder)
    assert result.exit_code == EXIT_OK
    return folder


@pytest.fixture(scope="module")
def williams(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Williams' plan minimising redundancy, then cost."""
    return _solve(tmp_path_factory.mktemp("williams") / "plan", load_scenario(scenario_path("manpower_williams")))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _solve(tmp_path_factory.mktemp("tiny") / "plan", build_scenario(TINY, "tiny"))


def _messages(plan: Path, check: str) -> list[str]:
    return [f.message for f in verify_ladder_plan(plan).failures if f.check == check]


def _corrupt(plan: Path, tmp_path: Path, file: str, edit: Callable[[pd.DataFrame], None]) -> Path:
    """A copy of ``plan`` whose ``file`` (CSV) was changed in place by ``edit``."""
    copy = tmp_path / "corrupt"
    shutil.copytree(plan, copy)
    frame = pd.read_csv(copy / file, keep_default_na=False, na_values=[""]).convert_dtypes()
    edit(frame)
    write_csv(frame, copy / file)
    return copy


def _row(frame: pd.DataFrame, **match) -> pd.Index:
    """The index of the one row whose columns equal ``match``."""
    mask = pd.Series(True, index=frame.index)
    for column, value in match.items():
        mask &= frame[column] == value
    assert mask.sum() == 1, match
    return frame.index[mask]


def _set(file_frame: pd.DataFrame, column: str, value: float, **match) -> None:
    """Set ``column`` of the one row matching ``match`` (a float turns the column into floats)."""
    file_frame[column] = file_frame[column].astype("Float64" if isinstance(value, float) else file_frame[column].dtype)
    file_frame.loc[_row(file_frame, **match), column] = value


# ------------------------------------------------------------------------------------------- solved plans


@pytest.mark.parametrize("order", ["[redundancy,cost]", "[cost]"])
def test_williams_plans_pass_every_check(tmp_path: Path, order: str) -> None:
    plan = _solve(tmp_path / "plan", load_scenario(scenario_path("manpower_williams"), [f"objective.order={order}"]))
    report = verify_ladder_plan(plan)
    assert report.failures == [] and report.ok
    assert report.checks == ["files", *CHECKS]
    summary = json.loads((plan / "summary.json").read_text(encoding="utf-8"))
    assert summary["verification"] == report.to_dict() and summary["solver"]["mode"] == "lp"
    assert "verify" in summary["timings"]


def test_tiny_integer_ladder_passes_with_whole_year1_flows(tiny: Path) -> None:
    assert verify_ladder_plan(tiny).failures == []
    flows = pd.read_csv(tiny / "flows.csv")
    decided = flows[(flows["year"] == 1) & (flows["kind"] != "attrition")]
    assert set(decided["kind"]) >= {"hire", "tier_promotion"}
    assert (decided["count"] == decided["count"].round()).all()


# ----------------------------------------------------------------------------------- one check at a time


def test_files_missing_or_not_a_ladder(williams: Path, tmp_path: Path) -> None:
    copy = tmp_path / "plan"
    shutil.copytree(williams, copy)
    (copy / "requirements.csv").unlink()
    summary = json.loads((copy / "summary.json").read_text(encoding="utf-8"))
    summary["scenario"]["categories"]["levels"] = []
    summary["scenario"]["requirements"]["demand"] = []
    summary["scenario"]["objective"]["order"] = ["mix", "cost", "disruption"]
    (copy / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    report = verify_ladder_plan(copy)
    assert report.checks == ["files"] and not report.ok
    messages = [f.message for f in report.failures]
    assert any("requirements.csv is missing" in m for m in messages)
    assert any("no categories.levels" in m for m in messages)


def test_states_rejects_a_state_off_the_ladder(williams: Path, tmp_path: Path) -> None:
    plan = _corrupt(williams, tmp_path, "headcount.csv", lambda f: _set(f, "grade", 2, year=3, tier=3))
    assert any("company/skill/3/2 is not a category" in m for m in _messages(plan, "states"))


def test_initial_rejects_a_changed_strength(williams: Path, tmp_path: Path) -> None:
    plan = _corrupt(williams, tmp_path, "headcount.csv", lambda f: _set(f, "headcount", 1999.0, year=0, tier=1))
    assert _messages(plan, "initial") == ["unskilled year 0: headcount 1,999, strength 2,000"]


def test_flow_rules_reject_a_downgrade_to_a_category_not_allowed(williams: Path, tmp_path: Path) -> None:
    def upgrade(f: pd.DataFrame) -> None:  # the skilled → semi-skilled downgrade becomes unskilled → semi-skilled
        _set(f, "from_tier", 1, year=1, kind="downgrade")

    messages = _messages(_corrupt(williams, tmp_path, "flows.csv", upgrade), "flow_rules")
    assert messages == ["flows.csv row 5: year 1 downgrade unskilled → semi_skilled ×168.4375: "
                        "unskilled may be downgraded only to []"]


def test_flow_rules_reject_retraining_that_skips_a_category(williams: Path, tmp_path: Path) -> None:
    plan = _corrupt(williams, tmp_path, "flows.csv", lambda f: _set(f, "to_tier", 3, year=1, kind="tier_promotion",
                                                                      from_tier=1))
    assert any("may only be retrained to the next category up" in m for m in _messages(plan, "flow_rules"))


def test_integer_year1_rejects_a_fractional_year1_hire(tiny: Path, tmp_path: Path) -> None:
    plan = _corrupt(tiny, tmp_path, "flows.csv", lambda f: _set(f, "count", 3.5, year=1, kind="hire"))
    assert _messages(plan, "integer_year1") == [
        "flows.csv row 3: year 1 hire outside → junior ×3.5: not a whole number"]


def test_stock_flow_rejects_an_unbalanced_headcount(williams: Path, tmp_path: Path) -> None:
    plan = _corrupt(williams, tmp_path, "headcount.csv", lambda f: _set(f, "headcount", 2010.0, year=2, tier=2))
    messages = _messages(plan, "stock_flow")
    assert any(m.startswith("semi_skilled year 2: headcount 2,010, expected 2,000") for m in messages)


def test_stock_flow_rejects_more_outflow_than_stayers(tiny: Path, tmp_path: Path) -> None:
    # 10 juniors at 10% wastage: 9 stay through year 1, so at most 9 can be retrained or made redundant
    plan = _corrupt(tiny, tmp_path, "flows.csv", lambda f: _set(f, "count", 10.0, year=1, kind="tier_promotion"))
    assert "junior year 1: 10 flow out, but only 9 stay through the year" in _messages(plan, "stock_flow")


def test_attrition_rejects_a_changed_attrition_row(williams: Path, tmp_path: Path) -> None:
    plan = _corrupt(williams, tmp_path, "flows.csv", lambda f: _set(f, "count", 60.0, year=1, kind="attrition",
                                                                      from_tier=3))
    report = verify_ladder_plan(plan)
    assert [(f.check, f.message) for f in report.failures] == [
        ("attrition", "skilled year 1: flows.csv attrition 60, expected 62.8125")]


def test_recruitment_caps_reject_too_many_recruits(williams: Path, tmp_path: Path) -> None:
    plan = _corrupt(williams, tmp_path, "flows.csv", lambda f: _set(f, "count", 510.0, year=2, kind="hire", to_tier=3))
    assert _messages(plan, "recruitment_caps") == ["skilled year 2: 510 recruits > recruit_max 500"]


def test_retraining_caps_reject_the_absolute_and_the_share_cap(williams: Path, tmp_path: Path) -> None:
    def retrain_more(f: pd.DataFrame) -> None:
        _set(f, "count", 210.0, year=1, kind="tier_promotion", from_tier=1)
        _set(f, "count", 300.0, year=1, kind="tier_promotion", from_tier=2)

    messages = _messages(_corrupt(williams, tmp_path, "flows.csv", retrain_more), "retraining_caps")
    assert messages == ["unskilled year 1: 210 retrained > max_per_year 200",
                        "semi_skilled year 1: 300 retrained > 0.25 × 1,025 skilled = 256.25"]


def test_flow_caps_reject_too_many_flows_into_a_group(tiny: Path, tmp_path: Path) -> None:
    plan = _corrupt(tiny, tmp_path, "flows.csv", lambda f: _set(f, "count", 5.0, year=1, kind="hire"))
    assert _messages(plan, "flow_caps") == ["junior_recruits year 1: 5 brought in > max_per_year = 4.5"]


def test_requirements_reject_an_unmet_exact_requirement(williams: Path, tmp_path: Path) -> None:
    plan = _corrupt(williams, tmp_path, "requirements.csv",
                    lambda f: _set(f, "overmanning", 140.0, requirement="unskilled", year=2))
    assert _messages(plan, "requirements") == [
        "requirements.csv unskilled year 2: 675 heads − 140 overmanning − 0.5 × 50 short time = 510, required 500",
        "requirements.csv unskilled year 2: cost 250,000, recomputed 235,000",
    ]


def test_requirements_reject_a_minimum_not_reached(tmp_path: Path) -> None:
    raw = {**TINY, "requirements": {"mode": "minimum", "demand": [
        {"name": "all", "unit": "shop", "headcount": {1: 16, 2: 17}}]}}
    plan = _solve(tmp_path / "plan", build_scenario(raw, "tiny-minimum"))
    assert verify_ladder_plan(plan).failures == []
    summary = json.loads((plan / "summary.json").read_text(encoding="utf-8"))
    summary["scenario"]["requirements"]["demand"][0]["headcount"]["2"] = 40
    (plan / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    assert any("heads < required 40" in m for m in _messages(plan, "requirements"))


def test_overmanning_cap_rejects_too_much_overmanning(williams: Path, tmp_path: Path) -> None:
    plan = _corrupt(williams, tmp_path, "requirements.csv",
                    lambda f: _set(f, "overmanning", 10.0, requirement="semi_skilled", year=2))
    assert _messages(plan, "overmanning_cap") == ["year 2: 160 overmanning > overmanning_max 150"]


def test_short_time_cap_rejects_too_much_short_time(williams: Path, tmp_path: Path) -> None:
    plan = _corrupt(williams, tmp_path, "requirements.csv",
                    lambda f: _set(f, "short_time", 60.0, requirement="skilled", year=1))
    assert _messages(plan, "short_time_cap") == ["skilled year 1: short time 60 > short_time_max 50"]


def test_objective_rejects_a_cost_that_does_not_add_up(tiny: Path, tmp_path: Path) -> None:
    copy = tmp_path / "plan"
    shutil.copytree(tiny, copy)
    summary = json.loads((copy / "summary.json").read_text(encoding="utf-8"))
    cost = summary["objective"]["cost"]
    summary["objective"]["cost"] = cost + 100
    (copy / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    assert verify_ladder_plan(copy).failures == [
        Finding("objective", f"summary.json objective.cost: reported {cost + 100:,.0f}, recomputed {cost:,.0f}")]


# ---------------------------------------------------------------------------------------------- command


def test_wfplan_verify_needs_no_data_dir_for_a_ladder_plan(williams: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    passed = runner.invoke(main, ["verify", str(williams)])
    assert passed.exit_code == 0 and f"passes all {len(CHECKS) + 1} ladder checks" in passed.output
    plan = _corrupt(williams, tmp_path, "requirements.csv",
                    lambda f: _set(f, "short_time", 60.0, requirement="skilled", year=1))
    failed = runner.invoke(main, ["verify", str(plan), str(tmp_path)])
    assert failed.exit_code == 5 and "[short_time_cap] skilled year 1" in failed.output
    assert "DATA_DIR is not read" in failed.stderr


def test_wfplan_verify_asks_for_data_dir_for_a_plan_from_tables(tmp_path: Path) -> None:
    (tmp_path / "summary.json").write_text(json.dumps({"scenario": {"name": "baseline"}}), encoding="utf-8")
    result = CliRunner().invoke(main, ["verify", str(tmp_path)])
    assert result.exit_code == 2 and "pass the input tables as DATA_DIR" in result.output
