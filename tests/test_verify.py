"""The independent verifier on a tiny plan written by hand, then on one corruption at a time.

The plan: two units, 钢联 (score 80 → grade A: pay coefficient 1.2, max technical tier 3) and 稀土 (score
50 → grade B: 1.0, tier 2); ten employees; horizon 2. Year 1: E03 is promoted technical 1/2 → 2/1, E04
moves operations 2/2 → technical 1/1 (retraining 30,000), E05 steps operations 1/1 → 1/2, one technical
hire into 稀土 (20,000). Year 2: a grade step in 稀土 technical 1/1 → 1/2. Nobody leaves: every attrition rate is
0 (the verifier restates flows.csv attrition from the rates). Every number below is worked out by hand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pandas as pd
import pytest

from models.scenario import (
    Attrition,
    Budget,
    GradeBand,
    Hiring,
    Mix,
    Mobility,
    Promotion,
    Scenario,
    SequenceRates,
    SequenceShares,
    UnitGrading,
)
from optimizer.verify.graded import VerificationReport, verify_command, verify_plan

EMPLOYEES = """\
employee_id,unit_id,sequence,tier,grade,performance,years_in_grade,name,salary,technical_eligible
E01,钢联,management,1,2,88,3,张伟,135000,false
E02,钢联,technical,2,2,75,2,王芳,97000,false
E03,钢联,technical,1,2,92,3,李娜,80000,false
E04,钢联,operations,2,2,81,4,刘洋,66500,true
E05,钢联,operations,1,1,70,2,陈静,48200,false
E06,钢联,operations,1,1,55,1,杨磊,47900,false
E07,稀土,technical,1,1,68,1,赵敏,60500,false
E08,稀土,operations,1,2,60,5,黄强,44100,false
E09,稀土,operations,1,2,58,2,周杰,43900,false
E10,稀土,operations,2,1,64,3,吴霞,50200,false
"""

UNITS_IN = """\
unit_id,name,strategic,efficiency,governance,innovation
钢联,包钢钢联股份有限公司,80,80,80,80
稀土,北方稀土,50,50,50,50
"""

PAY = """\
sequence,tier,grade,base_salary
management,1,1,100000
management,1,2,110000
technical,1,1,60000
technical,1,2,66000
technical,2,1,72000
technical,2,2,80000
technical,3,1,90000
technical,3,2,100000
operations,1,1,40000
operations,1,2,44000
operations,2,1,50000
operations,2,2,55000
"""

UNITS = """\
year,unit_id,name,score,grade,pay_coefficient,max_tier
0,钢联,包钢钢联股份有限公司,80,A,1.2,3
0,稀土,北方稀土,50,B,1,2
1,钢联,包钢钢联股份有限公司,80,A,1.2,3
1,稀土,北方稀土,50,B,1,2
2,钢联,包钢钢联股份有限公司,80,A,1.2,3
2,稀土,北方稀土,50,B,1,2
"""

# pay = base × coefficient: 钢联 ×1.2, 稀土 ×1.0. old_salary is the roster's salary; new_salary = pay(to) + (salary −
# pay(from)): the premium over the pay table travels (E03: 86,400 + 800; E04: 72,000 + 500; E05: 52,800 + 200).
ACTIONS = """\
employee_id,name,year,action,from_unit,from_sequence,from_tier,from_grade,to_unit,to_sequence,to_tier,to_grade,old_salary,new_salary,from_unit_name,to_unit_name,reason
E01,张伟,1,stay,钢联,management,1,2,钢联,management,1,2,135000,135000,包钢钢联股份有限公司,包钢钢联股份有限公司,
E02,王芳,1,stay,钢联,technical,2,2,钢联,technical,2,2,97000,97000,包钢钢联股份有限公司,包钢钢联股份有限公司,
E03,李娜,1,tier_promotion,钢联,technical,1,2,钢联,technical,2,1,80000,87200,包钢钢联股份有限公司,包钢钢联股份有限公司,merit rank 1 of 1
E04,刘洋,1,sequence_move,钢联,operations,2,2,钢联,technical,1,1,66500,72500,包钢钢联股份有限公司,包钢钢联股份有限公司,merit rank 1 of 1
E05,陈静,1,grade_step,钢联,operations,1,1,钢联,operations,1,2,48200,53000,包钢钢联股份有限公司,包钢钢联股份有限公司,merit rank 1 of 2
E06,杨磊,1,stay,钢联,operations,1,1,钢联,operations,1,1,47900,47900,包钢钢联股份有限公司,包钢钢联股份有限公司,
E07,赵敏,1,stay,稀土,technical,1,1,稀土,technical,1,1,60500,60500,北方稀土,北方稀土,
E08,黄强,1,stay,稀土,operations,1,2,稀土,operations,1,2,44100,44100,北方稀土,北方稀土,
E09,周杰,1,stay,稀土,operations,1,2,稀土,operations,1,2,43900,43900,北方稀土,北方稀土,
E10,吴霞,1,stay,稀土,operations,2,1,稀土,operations,2,1,50200,50200,北方稀土,北方稀土,
HIRE-稀土-1,,1,hire,,,,,稀土,technical,1,1,,60000,,北方稀土,external hire
"""

HEADCOUNT = """\
year,unit_id,sequence,tier,grade,headcount
0,钢联,management,1,2,1
0,钢联,operations,1,1,2
0,钢联,operations,2,2,1
0,钢联,technical,1,2,1
0,钢联,technical,2,2,1
0,稀土,operations,1,2,2
0,稀土,operations,2,1,1
0,稀土,technical,1,1,1
1,钢联,management,1,2,1
1,钢联,operations,1,1,1
1,钢联,operations,1,2,1
1,钢联,technical,1,1,1
1,钢联,technical,2,1,1
1,钢联,technical,2,2,1
1,稀土,operations,1,2,2
1,稀土,operations,2,1,1
1,稀土,technical,1,1,2
2,钢联,management,1,2,1
2,钢联,operations,1,1,1
2,钢联,operations,1,2,1
2,钢联,technical,1,1,1
2,钢联,technical,2,1,1
2,钢联,technical,2,2,1
2,稀土,operations,1,2,2
2,稀土,operations,2,1,1
2,稀土,technical,1,1,1
2,稀土,technical,1,2,1
"""

FLOWS = """\
year,kind,from_unit,from_sequence,from_tier,from_grade,to_unit,to_sequence,to_tier,to_grade,count
1,grade_step,钢联,operations,1,1,钢联,operations,1,2,1
1,hire,,,,,稀土,technical,1,1,1
1,sequence_move,钢联,operations,2,2,钢联,technical,1,1,1
1,tier_promotion,钢联,technical,1,2,钢联,technical,2,1,1
2,grade_step,稀土,technical,1,1,稀土,technical,1,2,1
"""

# table payroll 钢联: y0 132000+2·48000+66000+79200+96000 = 469200; y1 132000+48000+52800+72000+86400+96000 = 487200;
#                     y2 = y1.
# table payroll 稀土: y0 2·44000+50000+60000 = 198000; y1 2·44000+50000+2·60000 = 258000;
#                     y2 88000+50000+60000+66000 = 264000.
# premiums (salary − pay): 钢联 3000+1000+800+500+200−100 = 5400, 稀土 500+100−100+200 = 700; they stay in their units
# (nobody leaves, so nothing wears them off).
# payroll = table payroll + premiums; year 0 = Σ salary 673300. caps: 673300·1.2 = 807960, 673300·1.44 = 969552.
BUDGET = """\
year,unit_id,unit_name,payroll,table_payroll,red_circled_payroll,hiring_cost,retraining_cost,redundancy_cost,total,cap,overmanning_cost,short_time_cost
0,钢联,包钢钢联股份有限公司,474600,469200,0,0,0,0,474600,,,
0,稀土,北方稀土,198700,198000,0,0,0,0,198700,,,
0,ALL,group total,673300,667200,0,0,0,0,673300,,0,0
1,钢联,包钢钢联股份有限公司,492600,487200,0,0,30000,0,522600,,,
1,稀土,北方稀土,258700,258000,0,20000,0,0,278700,,,
1,ALL,group total,751300,745200,0,20000,30000,0,801300,807960,0,0
2,钢联,包钢钢联股份有限公司,492600,487200,0,0,0,0,492600,,,
2,稀土,北方稀土,264700,264000,0,0,0,0,264700,,,
2,ALL,group total,757300,751200,0,0,0,0,757300,969552,0,0
"""

REQUIREMENTS = "requirement,year,required,headcount,overmanning,short_time,cost\n"  # the scenario has none

MERIT = """\
unit_id,sequence,tier,grade,action,to_unit,to_sequence,to_tier,to_grade,eligible,acted,acted_performance,stayer_performance,exceptions
钢联,operations,1,1,grade_step,钢联,operations,1,2,2,1,70,55,0
钢联,operations,2,2,sequence_move,钢联,technical,1,1,1,1,62,,0
钢联,technical,1,2,tier_promotion,钢联,technical,2,1,1,1,90,,0
"""

# heads (management, technical, operations): y0 1, 3, 6 of 10; y1 1, 5, 5 of 11; y2 1, 5, 5 of 11.
MIX = f"""\
year,sequence,headcount,share,target,lower,upper
0,management,1,0.1,0.1,,
0,technical,3,0.3,0.45,,
0,operations,6,0.6,0.45,,
1,management,1,{1 / 11:.12g},0.1,,
1,technical,5,{5 / 11:.12g},0.45,,
1,operations,5,{5 / 11:.12g},0.45,,
2,management,1,{1 / 11:.12g},0.1,0.04,0.16
2,technical,5,{5 / 11:.12g},0.45,0.39,0.51
2,operations,5,{5 / 11:.12g},0.45,0.39,0.51
"""

SCENARIO = Scenario(
    name="fixture",
    horizon=2,
    mix=Mix(target=SequenceShares(management=0.1, technical=0.45, operations=0.45), tolerance=0.06, deadline=2),
    budget=Budget(growth=0.2),
    promotion=Promotion(grade_rate=0.5, tier_rate=1.0),
    mobility=Mobility(operations_to_technical=1.0),
    attrition=Attrition(management=0.0, technical=0.0, operations=0.0),
    hiring=Hiring(max_rate=SequenceRates(technical=0.5, operations=0.1)),
    unit_grading=UnitGrading(
        grades=[
            GradeBand(name="A", min_score=60, pay_coefficient=1.2, max_tier=3),
            GradeBand(name="B", min_score=0, pay_coefficient=1.0, max_tier=2),
        ]
    ),
)

SUMMARY: dict[str, Any] = {
    "status": "optimal",
    "exit_code": 0,
    "targets_met": True,
    "goal_deviations": {"mix": [], "budget": []},
    "objective": {"mix": 0.0, "cost": 801300 + 757300, "disruption": 2},
    "counts": {"grade_step": 1, "hire": 1, "sequence_move": 1, "stay": 7, "tier_promotion": 1},
    "merit": {"resolved": False, "people_moved": 0, "exceptions": 0},
    "scenario": SCENARIO.model_dump(mode="json"),
}


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    """(plan folder, data folder), both consistent."""
    data, plan = tmp_path / "data", tmp_path / "plan"
    data.mkdir()
    plan.mkdir()
    for folder, files in (
        (data, {"employees": EMPLOYEES, "units": UNITS_IN, "pay": PAY}),
        (plan, {"actions": ACTIONS, "headcount": HEADCOUNT, "flows": FLOWS, "budget": BUDGET, "mix": MIX,
                "units": UNITS, "requirements": REQUIREMENTS, "merit": MERIT}),
    ):
        for name, text in files.items():
            (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    (plan / "summary.json").write_text(json.dumps(SUMMARY, ensure_ascii=False, indent=2), encoding="utf-8")
    return plan, data


def edit_csv(folder: Path, name: str, change: Callable[[pd.DataFrame], pd.DataFrame | None]) -> None:
    """Rewrite ``folder/name.csv`` through ``change`` (cells stay text; blanks stay blank)."""
    path = folder / f"{name}.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    changed = change(frame)
    (frame if changed is None else changed).to_csv(path, index=False, encoding="utf-8", lineterminator="\n")


def edit_summary(plan: Path, change: Callable[[dict[str, Any]], None]) -> None:
    path = plan / "summary.json"
    summary = json.loads(path.read_text(encoding="utf-8"))
    change(summary)
    path.write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")


def failures(report: VerificationReport) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for finding in report.failures:
        found.setdefault(finding.check, []).append(finding.message)
    return found


@pytest.mark.slow
def test_consistent_plan_passes(dirs: tuple[Path, Path]) -> None:
    report = verify_plan(*dirs)
    assert report.failures == []
    assert report.ok
    assert report.checks == [
        "files", "units", "roster", "stock_flow", "attrition", "flow_rules", "tier_caps", "payroll", "budget", "pay", "names", "workload", "rate_caps",
        "flow_caps", "requirements", "overmanning_cap", "short_time_cap", "mix", "actions_vs_flows", "eligibility",
        "merit", "position_merit", "summary",
    ]
    assert report.to_dict() == {"ok": True, "checks": report.checks, "failures": []}


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["xlsx", "parquet"])
def test_inputs_as_workbook_or_parquet(dirs: tuple[Path, Path], tmp_path: Path, fmt: str) -> None:
    plan, data = dirs
    tables = {name: pd.read_csv(data / f"{name}.csv") for name in ("employees", "units", "pay")}
    if fmt == "xlsx":
        target = tmp_path / "inputs.xlsx"
        with pd.ExcelWriter(target) as writer:
            for name, frame in tables.items():
                frame.to_excel(writer, sheet_name=name, index=False)
    else:
        target = tmp_path / "parquet"
        target.mkdir()
        for name, frame in tables.items():
            frame.to_parquet(target / f"{name}.parquet")
    assert verify_plan(plan, target).failures == []


@pytest.mark.slow
def test_verify_command(dirs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    plan, data = dirs
    assert verify_command(plan, data) == 0
    assert capsys.readouterr().out.startswith(f"OK: {plan} passes all 23 checks (files, units, roster")
    edit_csv(plan, "actions", lambda a: a[a["employee_id"] != "E10"])
    assert verify_command(plan, data) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"FAILED: {plan}: 5 problem(s)")  # roster, summary, and pay and payroll (E10's pay)
    assert "  [roster] roster employees missing from actions.csv (1): E10\n" in out


def test_missing_file(dirs: tuple[Path, Path]) -> None:
    plan, data = dirs
    (plan / "mix.csv").unlink()
    report = verify_plan(plan, data)
    assert not report.ok and report.checks == ["files"]
    assert failures(report) == {"files": [f"{plan / 'mix.csv'} is missing"]}


@pytest.mark.slow
def test_lost_employee(dirs: tuple[Path, Path]) -> None:
    plan, data = dirs
    edit_csv(plan, "actions", lambda a: a[a["employee_id"] != "E10"])
    found = failures(verify_plan(plan, data))
    assert found["roster"] == ["roster employees missing from actions.csv (1): E10"]
    assert found["summary"] == [
        "summary.json figures that do not match the plan files (1): counts.stay: reported 7, recomputed 6"]
    # E10's 50,200 is missing from the people budget.csv's year 1 stands for: payroll no longer reconciles
    assert found["pay"] == ["year-1 payroll does not reconcile with Σ new_salary of actions.csv less expected "
                            "attrition (1): 稀土: budget.csv 258,700, from the actions 208,500"]
    assert set(found) == {"roster", "summary", "pay", "payroll"}


@pytest.mark.slow
def test_duplicated_employee(dirs: tuple[Path, Path]) -> None:
    plan, data = dirs
    edit_csv(plan, "actions", lambda a: pd.concat([a, a[a["employee_id"] == "E07"]]))
    found = failures(verify_plan(plan, data))
    assert set(found) == {"roster", "summary", "pay", "payroll"}  # E07's pay counted twice
    assert found["roster"] == ["employees listed more than once in actions.csv (1): E07 ×2"]


def _lower_caps(plan: Path) -> None:
    """Explicit caps 760,000 and 900,000 (in the scenario and on budget.csv's ALL rows): year 1 overruns."""

    def caps(summary: dict[str, Any]) -> None:
        summary["scenario"]["budget"]["caps"] = {"1": 760000, "2": 900000}

    def column(budget: pd.DataFrame) -> None:
        budget.loc[budget["unit_id"].eq("ALL") & budget["year"].eq("1"), "cap"] = "760000"
        budget.loc[budget["unit_id"].eq("ALL") & budget["year"].eq("2"), "cap"] = "900000"

    edit_summary(plan, caps)
    edit_csv(plan, "budget", column)


@pytest.mark.slow
def test_budget_overrun(dirs: tuple[Path, Path]) -> None:
    plan, data = dirs
    _lower_caps(plan)
    assert failures(verify_plan(plan, data)) == {
        "budget": [
            "total exceeds the budget cap (1): ALL year 1: total 801,300 exceeds cap 760,000 by 41,300 "
            "(summary.json says targets_met: true)"
        ]
    }


def _report_overrun(overrun: float) -> Callable[[dict[str, Any]], None]:
    def change(summary: dict[str, Any]) -> None:
        summary.update(status="target_missed", exit_code=3, targets_met=False)
        summary["goal_deviations"]["budget"] = [{"year": 1, "unit_id": "ALL", "total": 801300.0, "cap": 760000.0,
                                                 "overrun": overrun}]

    return change


@pytest.mark.slow
def test_reported_overrun_is_not_a_failure(dirs: tuple[Path, Path]) -> None:
    plan, data = dirs
    _lower_caps(plan)
    edit_summary(plan, _report_overrun(41300.0))
    assert verify_plan(plan, data).failures == []


@pytest.mark.slow
def test_misreported_overrun(dirs: tuple[Path, Path]) -> None:
    plan, data = dirs
    _lower_caps(plan)
    edit_summary(plan, _report_overrun(10000.0))
    assert failures(verify_plan(plan, data)) == {
        "budget": [
            "total exceeds the budget cap (1): ALL year 1: total 801,300 exceeds cap 760,000 by 41,300 "
            "(goal_deviations.budget reports total 801,300, cap 760,000, overrun 10,000)",
            "goal_deviations.budget entries that do not match the plan (1): year 1, unit_id ALL: "
            "total 801,300 (recomputed 801,300), cap 760,000 (recomputed 760,000), overrun 10,000 (recomputed 41,300)",
        ]
    }


@pytest.mark.slow
def test_promotions_above_tier_rate(dirs: tuple[Path, Path]) -> None:
    plan, data = dirs
    edit_summary(plan, lambda s: s["scenario"]["promotion"].update(tier_rate=0.5))
    assert failures(verify_plan(plan, data)) == {
        "rate_caps": [
            "flows above their rate cap on the start-of-year stock (1): "
            "tier promotions out of 钢联/technical/1 in year 1: 1 > 0.5 × 1 = 0.5"
        ]
    }


LANDING_ABOVE_CAP = {
    "tier_caps": [
        "flows land above the destination unit's max_tier (1): "
        "year 1 tier_promotion 钢联/technical/1/2 → 钢联/technical/2/1 ×1 (max_tier of 钢联 in year 1 is 1)"
    ],
    "eligibility": [
        "actions landing above the destination unit's max_tier (1): E03 tier_promotion 钢联/technical/1/2 → "
        "钢联/technical/2/1 (performance 92, 3 years in grade) (max_tier of 钢联 is 1)"
    ],
}
"""The findings when 钢联's max_tier falls to 1 in year 1 under E03's promotion to tier 2 (whichever way it falls)."""


@pytest.mark.slow
def test_landing_above_tier_cap(dirs: tuple[Path, Path]) -> None:
    plan, data = dirs
    edit_summary(plan, lambda s: s["scenario"]["unit_grading"]["grades"][0].update(max_tier=1))
    edit_csv(plan, "units", lambda u: u.assign(max_tier=u["max_tier"].where(u["unit_id"] != "钢联", "1")))
    assert failures(verify_plan(plan, data)) == LANDING_ABOVE_CAP


@pytest.mark.slow
def test_broken_stock_balance(dirs: tuple[Path, Path]) -> None:
    plan, data = dirs
    def halve_year_2_step(flows: pd.DataFrame) -> None:
        flows.loc[flows["year"].eq("2") & flows["kind"].eq("grade_step"), "count"] = "0.5"

    edit_csv(plan, "flows", halve_year_2_step)
    assert failures(verify_plan(plan, data)) == {
        "stock_flow": [
            "headcount does not balance with the flows (2): "
            "稀土/technical/1/1 year 2: headcount 1, expected 1.5 (= 2 − 0.5 + 0); "
            "稀土/technical/1/2 year 2: headcount 1, expected 0.5 (= 0 − 0 + 0.5)"
        ]
    }


@pytest.mark.slow
def test_action_flow_mismatch(dirs: tuple[Path, Path]) -> None:
    plan, data = dirs

    def land_e04_on_grade_2(actions: pd.DataFrame) -> None:
        actions.loc[actions["employee_id"].eq("E04"), ["to_grade", "new_salary"]] = ["2", "79700"]  # 79,200 + 500

    edit_csv(plan, "actions", land_e04_on_grade_2)
    found = failures(verify_plan(plan, data))
    # E04's new pay is not what budget.csv's year 1 holds for 钢联 either
    assert found.pop("pay") == ["year-1 payroll does not reconcile with Σ new_salary of actions.csv less expected "
                                "attrition (1): 钢联: budget.csv 492,600, from the actions 499,800"]
    assert found == {
        "actions_vs_flows": [
            "year-1 actions differ from year-1 flows.csv (2): "
            "sequence_move 钢联/operations/2/2 → 钢联/technical/1/1: 0 action(s), 1 in flows.csv; "
            "sequence_move 钢联/operations/2/2 → 钢联/technical/1/2: 1 action(s), 0 in flows.csv"
        ],
        "eligibility": [
            "actions not landing on the grade the pay rule gives (1): E04 sequence_move 钢联/operations/2/2 → "
            "钢联/technical/1/2 (performance 81, 4 years in grade) (the pay rule gives grade 1)"
        ],
    }


@pytest.mark.slow
def test_payroll_misstatement(dirs: tuple[Path, Path]) -> None:
    plan, data = dirs
    edit_csv(plan, "budget", lambda b: b.assign(payroll=b["payroll"].where(b["payroll"] != "258700", "230000")))
    assert failures(verify_plan(plan, data)) == {
        "payroll": [
            "budget.csv payroll differs from the recomputed value (1): "
            "稀土 year 1: reported 230,000, recomputed 258,700"
        ],
        "pay": ["year-1 payroll does not reconcile with Σ new_salary of actions.csv less expected attrition (1): "
                "稀土: budget.csv 230,000, from the actions 258,700"],
    }


@pytest.mark.slow
def test_mix_outside_band(dirs: tuple[Path, Path]) -> None:
    plan, data = dirs
    # Targets 10/40/50 % ± 2: year 2's 5 technical and 5 operations of 11 (45.45 % each) fall outside both bands.
    edit_summary(plan, lambda s: s["scenario"]["mix"].update(
        tolerance=0.02, target={"management": 0.1, "technical": 0.4, "operations": 0.5}))

    def narrow(mix: pd.DataFrame) -> None:
        mix["target"] = mix["sequence"].map({"management": "0.1", "technical": "0.4", "operations": "0.5"})
        year2 = mix["year"].eq("2")
        mix.loc[year2, "lower"] = ["0.08", "0.38", "0.48"]
        mix.loc[year2, "upper"] = ["0.12", "0.42", "0.52"]

    edit_csv(plan, "mix", narrow)
    assert failures(verify_plan(plan, data)) == {
        "mix": [
            "shares outside the mix band (2): "
            "year 2 operations: share 0.454545 below the band [0.48, 0.52] by 0.025455 (summary.json says targets_met: true); "
            "year 2 technical: share 0.454545 above the band [0.38, 0.42] by 0.034545 (summary.json says targets_met: true)"
        ]
    }


@pytest.mark.slow
def test_landing_above_the_cap_a_review_lowered_that_year(dirs: tuple[Path, Path]) -> None:
    """钢联 is reviewed in year 1 (last review year −2, cycle 3) and given grade X: coefficient 1.2 as before,
    max_tier 1 from year 1. E02 stays on technical tier 2 (kept: no finding); E03's year-1 promotion to tier 2
    lands above the cap of year 1, though year 0's cap (3) allowed it. Both are on tier 2 in years 1 and 2, paid
    the 1.2 they keep from year 0: red_circled_payroll 86,400 (T2G1) + 96,000 (T2G2) = 182,400."""
    plan, data = dirs
    (data / "units.csv").write_text(UNITS_IN.replace("innovation\n", "innovation,last_review\n")
                                    .replace(",80\n", ",80,-2\n").replace(",50\n", ",50,0\n"), encoding="utf-8")

    def lower(summary: dict[str, Any]) -> None:
        grading = summary["scenario"]["unit_grading"]
        grading["grades"].append({"name": "X", "min_score": 100, "pay_coefficient": 1.2, "max_tier": 1})
        grading["reviews"] = [{"unit": "钢联", "year": 1, "grade": "X", "scores": None}]

    edit_summary(plan, lower)
    edit_csv(plan, "units", lambda u: u.assign(
        grade=u["grade"].where((u["unit_id"] != "钢联") | (u["year"] == "0"), "X"),
        max_tier=u["max_tier"].where((u["unit_id"] != "钢联") | (u["year"] == "0"), "1")))
    edit_csv(plan, "budget", lambda b: b.assign(red_circled_payroll=b["red_circled_payroll"].where(
        ~b["unit_id"].isin(["钢联", "ALL"]) | (b["year"] == "0"), "182400")))
    assert failures(verify_plan(plan, data)) == LANDING_ABOVE_CAP
