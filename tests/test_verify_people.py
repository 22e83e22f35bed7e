"""The verifier's per-person checks, status checks and damaged files, on a real solved plan tampered with as an
attacker would: swap two employees' actions, land a promotion on another grade, change summary.json's status,
write random bytes into a file.

The plan: one unit, 16 operations people on tier 1 grade 1 (U1-O0000..05 technical_eligible and 3 years in
grade; U1-O0006..11 not eligible, 3 years; U1-O0012..15 with 0 years in grade) and 4 technical people on tier 1
grade 2 with 5 years. The scenario asks for more technical staff and floors on grade steps and tier promotions:
year 1 moves the top three eligible (O0000..02) to technical 1/1, steps the top three of O0006..11 to grade 2,
promotes T0000..01 to technical 2/1 and steps T0002 to grade 3 (performance falls with the number: 99, 79.2,
59.4, 39.6, 19.8, 0 in a cohort of six).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimizer.verify.graded import verify_plan
from tests.builders import Solved, people, solve_group, unit
from tests.test_verify import edit_csv, edit_summary, failures

pytestmark = pytest.mark.slow

SETTINGS = [
    "mix.target.technical=0.35", "mix.target.operations=0.65", "mix.tolerance=0.03",
    "promotion.grade_rate=0.3", "promotion.grade_rate_floor=0.3", "promotion.tier_rate=0.5",
    "promotion.tier_rate_floor=0.5", "promotion.min_years_in_grade=5", "mobility.operations_to_technical=0.5",
]
PLAN_FILES = ["actions.csv", "headcount.csv", "flows.csv", "budget.csv", "mix.csv", "units.csv", "requirements.csv",
              "summary.json"]
WFPLAN = Path(sys.executable).with_name("wfplan")


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> Solved:
    employees = (people("U1", "operations", 6, eligible=True) + people("U1", "operations", 6, first=6)
                 + people("U1", "operations", 4, years=0, first=12) + people("U1", "technical", 4, grade=2, years=5))
    return solve_group(tmp_path_factory.mktemp("people"), employees, [unit("U1")], SETTINGS)


@pytest.fixture
def plan(solved: Solved, tmp_path: Path) -> Path:
    """A fresh copy of the solved plan folder."""
    copy = tmp_path / "plan"
    shutil.copytree(solved.folder, copy)
    return copy


def verify(plan: Path, solved: Solved) -> dict[str, list[str]]:
    return failures(verify_plan(plan, solved.folder.parent / "data"))


def swap_actions(plan: Path, first: str, second: str) -> None:
    """Swap everything but the employee id and from-state between two actions.csv rows (counts stay equal)."""
    def swap(actions: pd.DataFrame) -> None:
        columns = ["action", "to_unit", "to_sequence", "to_tier", "to_grade", "new_salary", "reason"]
        one, two = actions.index[actions["employee_id"].eq(first)], actions.index[actions["employee_id"].eq(second)]
        actions.loc[one, columns], actions.loc[two, columns] = actions.loc[two, columns].values, \
            actions.loc[one, columns].values

    edit_csv(plan, "actions", swap)


def test_the_plan_is_as_described(solved: Solved) -> None:
    assert solved.exit_code == 0
    actions = solved.table("actions").set_index("employee_id")["action"]
    assert {kind: sorted(actions.index[actions.eq(kind)]) for kind in ("sequence_move", "grade_step", "tier_promotion")} \
        == {"sequence_move": ["U1-O0000", "U1-O0001", "U1-O0002"],
            "grade_step": ["U1-O0006", "U1-O0007", "U1-O0008", "U1-T0002"],
            "tier_promotion": ["U1-T0000", "U1-T0001"]}


def test_untampered_plan_passes(plan: Path, solved: Solved) -> None:
    report = verify_plan(plan, solved.folder.parent / "data")
    assert report.failures == []
    assert {"eligibility", "merit", "summary"} <= set(report.checks)


def test_a_low_performer_takes_the_top_performers_grade_step(plan: Path, solved: Solved) -> None:
    swap_actions(plan, "U1-O0006", "U1-O0011")
    where = "in U1/operations/1/1 seniority 3"
    found = verify(plan, solved)
    assert found.pop("position_merit")[0].startswith(
        "people passed over in their position for an action given to someone of lower merit (6): U1-O0006 "
        "(performance 99, 3 years) stays in U1/operations/1/1 on the wrong side of the grade_step line; ")
    assert found == {"merit": [
        "people passed over for an action given to someone of lower merit in their cohort (3): "
        f"U1-O0006 (stay, performance 99, 3 years) ranks above U1-O0011 (grade_step, performance 0, 3 years) {where}; "
        f"U1-O0009 (stay, performance 39.6, 3 years) ranks above U1-O0011 (grade_step, performance 0, 3 years) {where}; "
        f"U1-O0010 (stay, performance 19.8, 3 years) ranks above U1-O0011 (grade_step, performance 0, 3 years) {where}"
    ]}


def test_a_grade_step_below_min_years(plan: Path, solved: Solved) -> None:
    swap_actions(plan, "U1-O0008", "U1-O0012")
    assert verify(plan, solved) == {"eligibility": [
        "grade steps of people with fewer than promotion.min_years_for_grade_step = 1 years in grade (1): "
        "U1-O0012 grade_step U1/operations/1/1 → U1/operations/1/2 (performance 99, 0 years in grade)"
    ]}


def test_an_ineligible_person_moves_to_technical(plan: Path, solved: Solved) -> None:
    swap_actions(plan, "U1-O0000", "U1-O0009")
    found = verify(plan, solved)
    assert found.pop("position_merit")[0].startswith(
        "people passed over in their position for an action given to someone of lower merit (2): U1-O0000 "
        "(performance 99, 3 years) stays in U1/operations/1/1 on the wrong side of the grade_step line; U1-O0000")
    assert found == {
        "eligibility": [
            "operations → technical moves of people who are not technical_eligible (1): "
            "U1-O0009 sequence_move U1/operations/1/1 → U1/technical/1/1 (performance 39.6, 3 years in grade)"
        ],
        "merit": [
            "people passed over for an action given to someone of lower merit in their cohort (1): "
            "U1-O0000 (stay, performance 99, 3 years) ranks above U1-O0002 (sequence_move, performance 59.4, 3 years) "
            "in U1/operations/1/1 seniority 3 qualified"
        ],
    }


def test_a_promotion_on_the_wrong_grade(plan: Path, solved: Solved) -> None:
    def land_on_grade_2(actions: pd.DataFrame) -> None:
        actions.loc[actions["employee_id"].eq("U1-T0000"), ["to_grade", "new_salary"]] = ["2", "71000"]

    edit_csv(plan, "actions", land_on_grade_2)
    found = verify(plan, solved)
    assert found.keys() == {"eligibility", "actions_vs_flows", "pay"}
    assert found["pay"] == ["year-1 payroll does not reconcile with Σ new_salary of actions.csv less expected "
                            "attrition (1): U1: budget.csv 1,096,000, from the actions 1,097,000"]
    assert found["eligibility"] == [
        "actions not landing on the grade the pay rule gives (1): U1-T0000 tier_promotion U1/technical/1/2 → "
        "U1/technical/2/2 (performance 99, 5 years in grade) (the pay rule gives grade 1)"
    ]


@pytest.mark.parametrize(("change", "message"), [
    ({"status": "target_missed"}, 'status "target_missed", exit_code 0, targets_met true do not go together: '
                                  'status "target_missed" means targets_met false and exit_code 3'),
    ({"exit_code": 3}, 'status "optimal", exit_code 3, targets_met true do not go together: status "optimal" means '
                       'targets_met true and exit_code 0'),
    ({"status": "infeasible"}, 'status "infeasible", exit_code 0, targets_met true: a written plan\'s status is one '
                               'of "optimal", "feasible", "target_missed"'),
])
def test_a_tampered_status(plan: Path, solved: Solved, change: dict, message: str) -> None:
    edit_summary(plan, lambda summary: summary.update(change))
    assert verify(plan, solved) == {"summary": [message]}


def test_optimal_needs_every_stage_optimal(plan: Path, solved: Solved) -> None:
    def unproved(summary: dict) -> None:
        summary["solver"]["stages"][-1]["status"] = "feasible"

    edit_summary(plan, unproved)
    term = solved.summary["solver"]["stages"][-1]["term"]
    assert verify(plan, solved) == {"summary": [f'status "optimal" but solver stage(s) {term} are not optimal']}


@pytest.mark.parametrize("name", PLAN_FILES)
def test_random_bytes_are_a_finding(plan: Path, solved: Solved, name: str) -> None:
    (plan / name).write_bytes(np.random.default_rng(7).bytes(600))
    report = verify_plan(plan, solved.folder.parent / "data")
    assert not report.ok and report.checks == ["files"]
    assert any(finding.check == "files" and name in finding.message for finding in report.failures), report.failures
    done = subprocess.run([str(WFPLAN), "verify", str(plan), str(solved.folder.parent / "data")], capture_output=True,
                          text=True, encoding="utf-8", timeout=120, check=False)
    assert done.returncode == 5, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert f"[files] {plan / name}" in done.stdout or f"[files] {name}" in done.stdout


@pytest.mark.parametrize(("name", "content"), [
    ("actions.csv", "employee_id,year,action\nU1-O0000,1\n"),  # truncated: a missing field and missing columns
    ("headcount.csv", "year,unit_id,sequence,tier,grade,headcount\n0,U1,operations,one,1,2\n"),  # a word as a tier
    ("summary.json", "[1, 2, 3]"),
    ("summary.json", '{"status": "optimal"'),
    ("flows.csv", "\udcff"),
])
def test_damaged_files_are_findings(plan: Path, solved: Solved, name: str, content: str) -> None:
    (plan / name).write_bytes(content.encode("utf-8", "surrogateescape"))
    report = verify_plan(plan, solved.folder.parent / "data")
    assert not report.ok and report.checks == ["files"]
    assert any(name in finding.message for finding in report.failures), report.failures
