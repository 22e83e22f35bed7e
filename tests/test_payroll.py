"""Real payroll from the roster's salary, unit budgets and workload floors: tiny groups worked out by hand, solved
through the real pipeline (files written, the independent verifier run), and the verifier catching plans that break
the pay rule, the names or a floor."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from optimizer.plan.grades import grade_changes
from optimizer.verify.graded import verify_plan
from tests.builders import QUIET, people, solve_group, unit

pytestmark = pytest.mark.slow


def _paid(group: list[dict], salaries: list[float]) -> list[dict]:
    """``group`` with a ``salary`` each."""
    return [{**person, "salary": salary} for person, salary in zip(group, salaries, strict=True)]


# Ten technical T1 G1 people (table pay 60,000), each paid differently: 60,500, 59,000, 62,000, ...
SALARIES = [60_500, 59_000, 62_000, 58_500, 61_000, 60_000, 62_250, 57_750, 60_100, 59_900]
TEN = _paid(people("U1", "technical", 10), SALARIES)
STEPS = ["promotion.grade_rate=0.5", "promotion.grade_rate_floor=0.5"]
"""A floor forcing 5 grade steps (half of 10), the top 5 by merit: +1,000 each on the pay table."""


def test_year0_payroll_is_the_roster_salary_and_a_grade_step_adds_the_table_step(tmp_path):
    # payroll(0) = Σ salary = 601,000 exactly (the table says 600,000); the cap grows from it (growth 0: 601,000);
    # the 5 forced grade steps add 5 × 1,000 whoever is picked: year 1 = 606,000, over the cap by 5,000.
    solved = solve_group(tmp_path, TEN, [unit("U1")], ["budget.growth=0", *STEPS])
    budget = solved.table("budget").set_index(["unit_id", "year"])
    assert budget.loc[("ALL", 0), "payroll"] == sum(SALARIES) == 601_000
    assert budget.loc[("ALL", 0), "table_payroll"] == 600_000
    assert budget.loc[("ALL", 1), "payroll"] == pytest.approx(606_000)
    assert budget.loc[("ALL", 1), "cap"] == pytest.approx(601_000)
    assert solved.exit_code == 3
    assert solved.summary["goal_deviations"]["budget"] == [
        {"year": 1, "unit_id": "ALL", "total": pytest.approx(606_000), "cap": pytest.approx(601_000),
         "overrun": pytest.approx(5_000)}]
    actions = solved.table("actions").set_index("employee_id")
    assert actions["old_salary"].tolist() == [dict(zip([p["employee_id"] for p in TEN], SALARIES))[i]
                                              for i in actions.index]
    stepped = actions[actions["action"] == "grade_step"]
    assert sorted(stepped.index) == [f"U1-T{i:04d}" for i in range(5)]  # the top five by performance
    assert (stepped["new_salary"] - stepped["old_salary"]).tolist() == [1_000] * 5
    stayed = actions[actions["action"] == "stay"]
    assert (stayed["new_salary"] == stayed["old_salary"]).all()
    assert actions["name"].isna().all() or (actions["name"].fillna("") == "").all()


def test_year1_payroll_reconciles_with_the_people_named_under_attrition(tmp_path):
    # Attrition 10%: 9 stay on, the floor asks for ⌊0.5 × 9⌋ = 4 grade steps. The expected leaver takes the
    # state's mean salary (60,100). Year 1 = Σ new_salary of the ten (601,000 + 4,000) − 1 × 60,100 = 544,900; on
    # the table: 4 × 61,000 + 5 × 60,000 = 544,000.
    solved = solve_group(tmp_path, TEN, [unit("U1")], ["attrition.technical=0.1", "budget.growth=1", *STEPS])
    budget = solved.table("budget").set_index(["unit_id", "year"])
    actions = solved.table("actions")
    assert (actions["action"] == "grade_step").sum() == 4
    assert actions["new_salary"].sum() == pytest.approx(605_000)
    assert budget.loc[("U1", 1), "payroll"] == pytest.approx(605_000 - 60_100)
    assert budget.loc[("U1", 1), "table_payroll"] == pytest.approx(544_000)


def test_a_year1_regrade_moves_the_table_part_and_the_premium_travels_with_whoever_merit_picks(tmp_path):
    # U1 (C, 1.0) is reviewed in year 1 and graded A (1.2). The pay rule: new_salary = pay(to, 1) + (salary −
    # pay(from, 0)). Stayers: 60,000 × 1.2 + r = salary + 12,000; the five stepped (the top five by merit):
    # 61,000 × 1.2 + r = salary + 13,200. Year 1 = 601,000 + 5 × 12,000 + 5 × 13,200 = 727,000, of which the table
    # 5 × 72,000 + 5 × 73,200 = 726,000. The change's cost re-prices the table part only: without it 727,000 −
    # 726,000 × (1 − 1/1.2) = 606,000, a cost of 121,000 (the premiums, 1,000, are paid either way).
    solved = solve_group(tmp_path, TEN, [unit("U1", last_review=-2)],
                         ["horizon=1", "mix.deadline=1", "budget.growth=1", *STEPS,
                          "unit_grading.reviews[unit=U1,year=1].grade=A"], base={**QUIET, "unit_grading": {}})
    assert solved.exit_code == 0
    actions = solved.table("actions").set_index("employee_id")
    raise_of = (actions["new_salary"] - actions["old_salary"]).round(6)
    stepped = actions["action"] == "grade_step"
    assert sorted(actions.index[stepped]) == [f"U1-T{i:04d}" for i in range(5)]
    assert raise_of[stepped].tolist() == [13_200] * 5 and raise_of[~stepped].tolist() == [12_000] * 5
    budget = solved.table("budget").set_index(["unit_id", "year"])
    assert budget.loc[("U1", 1), "payroll"] == pytest.approx(727_000)
    assert budget.loc[("U1", 1), "table_payroll"] == pytest.approx(726_000)
    changes = grade_changes(solved.table("units"), solved.table("budget"))
    assert changes.loc[0, ["payroll", "payroll_without", "cost"]].tolist() == pytest.approx([727_000, 606_000, 121_000])


def test_a_unit_cap_from_unit_growth_binds_on_its_own_rows(tmp_path):
    # U1 (the ten, forced steps) and U2 (five operations, nothing happens). unit_growth 0: U1's cap is its own
    # payroll(0) = 601,000, missed by 5,000; U2's cap 250,000 holds; the group's cap (growth 1) holds.
    group = [*TEN, *people("U2", "operations", 5, years=0)]  # U2: too new in grade for a step
    solved = solve_group(tmp_path, group, [unit("U1"), unit("U2")], ["budget.growth=1", "budget.unit_growth=0", *STEPS])
    budget = solved.table("budget").set_index(["unit_id", "year"])
    assert budget.loc[("U1", 1), "cap"] == pytest.approx(601_000)
    assert budget.loc[("U2", 1), "cap"] == pytest.approx(250_000)
    assert pd.isna(budget.loc[("U1", 0), "cap"])
    assert solved.exit_code == 3
    assert [(m["unit_id"], m["year"], m["overrun"]) for m in solved.summary["goal_deviations"]["budget"]] == [
        ("U1", 1, pytest.approx(5_000))]
    assert solved.summary["objective"]["budget_overrun"] == pytest.approx(5_000)


def test_a_unit_budget_cap_column_replaces_unit_growth(tmp_path):
    # U1's budget_cap 610,000 holds the 606,000; unit_growth 0 still caps U2 at 250,000.
    group = [*TEN, *people("U2", "operations", 5, years=0)]  # U2: too new in grade for a step
    solved = solve_group(tmp_path, group, [unit("U1", budget_cap=610_000), unit("U2")],
                         ["budget.growth=1", "budget.unit_growth=0", *STEPS])
    budget = solved.table("budget").set_index(["unit_id", "year"])
    assert budget.loc[("U1", 1), "cap"] == 610_000 and budget.loc[("U2", 1), "cap"] == pytest.approx(250_000)
    assert solved.exit_code == 0


def test_operations_workload_floor_forces_operations_hires(tmp_path):
    # 100 operations, 10% attrition, at least 95 operations staff (units table) → 90 + h ≥ 95 → 5 hires; the
    # scenario's share (workload.operations 0.97 → 97) wins where it is higher → 7 hires.
    group = [*people("U1", "operations", 100), *people("U1", "technical", 10, first=100)]
    hiring = ["attrition.operations=0.1", "hiring.enabled=true", "hiring.max_rate.operations=0.5"]
    solved = solve_group(tmp_path / "table", group, [unit("U1", min_operations=95)], hiring)
    assert solved.flow("hire") == 5
    solved = solve_group(tmp_path / "share", group, [unit("U1", min_operations=95)], [*hiring, "workload.operations=0.97"])
    assert solved.flow("hire") == 7


def test_headcount_workload_share_forces_hires(tmp_path):
    # 100 people, 10% attrition, workload.headcount 0.95 → 90 + h ≥ 95 → 5 hires.
    solved = solve_group(tmp_path, people("U1", "operations", 100), [unit("U1")],
                         ["attrition.operations=0.1", "hiring.enabled=true", "hiring.max_rate.operations=0.5",
                          "workload.headcount=0.95"])
    assert solved.flow("hire") == 5


# ------------------------------------------------------------------------------------ the verifier catches


@pytest.fixture(scope="module")
def paid_plan(tmp_path_factory):
    folder = tmp_path_factory.mktemp("paid")
    solve_group(folder, TEN, [unit("U1")], ["budget.growth=1", *STEPS])
    return folder


def _tampered(paid_plan, tmp_path, table: str, change) -> list[str]:
    """The failing checks of a copy of the plan whose ``table``.csv ``change`` edited."""
    copy = tmp_path / "plan"
    shutil.copytree(paid_plan / "plan", copy)
    frame = pd.read_csv(copy / f"{table}.csv", dtype={"employee_id": str})
    change(frame)
    frame.to_csv(copy / f"{table}.csv", index=False)
    return sorted({finding.check for finding in verify_plan(copy, paid_plan / "data").failures})


def test_the_untouched_plan_passes(paid_plan):
    assert verify_plan(paid_plan / "plan", paid_plan / "data").ok


def test_verifier_catches_a_table_salary_in_old_salary(paid_plan, tmp_path):
    def table_pay(frame):
        frame.loc[0, "old_salary"] = 60_000
        frame.loc[0, "new_salary"] = 60_000 + (frame.loc[0, "new_salary"] - SALARIES[0])
    assert "pay" in _tampered(paid_plan, tmp_path, "actions", table_pay)


def test_verifier_catches_a_new_salary_off_the_pay_rule(paid_plan, tmp_path):
    def raise_one(frame):
        frame.loc[frame["action"] == "stay", "new_salary"] += 1
    assert _tampered(paid_plan, tmp_path, "actions", raise_one) == ["pay", "payroll"]


def test_verifier_catches_a_year0_payroll_off_by_a_yuan(paid_plan, tmp_path):
    def off(frame):
        on = (frame["year"] == 0)
        frame.loc[on, "payroll"] += 1
        frame.loc[on, "total"] += 1
    assert _tampered(paid_plan, tmp_path, "budget", off) == ["pay", "payroll"]


def test_verifier_catches_a_wrong_unit_name(paid_plan, tmp_path):
    def rename(frame):
        frame.loc[0, "to_unit_name"] = "别的单位"
    assert _tampered(paid_plan, tmp_path, "actions", rename) == ["names"]
