"""Requirements on graded scenarios (input tables): the plan folder's requirements.csv and budget.csv add up to
the solver's objective, downgrades count as disruption, and the independent verifier re-checks requirements,
their slack costs and the flow caps (one corrupted value → the exact finding).

Two tiny hand-solved plans, each solved once through the real pipeline (``solve_group``, which also checks that
the verifier passes and that the reported cost is the solver's cost optimum):

- ``exact``: 100 technical on T1 G1 of U1 (60,000 each), nothing can change (no flows are enabled); an exact
  requirement of 90 heads with φ = 0.5, overmanning at 5,000 and short time at 1,000 per head (at most 12).
  An effective head above the requirement costs 5,000 as overmanning or 2 × 1,000 on short time, so the cost
  stage puts the 12 allowed on short time (worth 6 heads) and the other 4 surplus heads on overmanning:
  100 − 4 − 0.5·12 = 90; slack cost 4·5,000 + 12·1,000 = 32,000; cost = 6,000,000 payroll + 32,000.
- ``capped``: 70 qualified operations and 30 technical; the mix band asks for 50 technical, and a flow cap
  allows retraining into technical of at most 25% of technical after the year's flows: m ≤ 0.25·(30 + m),
  so m = 10 sequence moves into 40 technical.
- ``downgraded``: 100 technical on T3 G1 (80,000) may be downgraded to T2, where every grade pays less
  (70,000 … 74,000, with G4 raised to G5's 74,000): the cost stage downgrades the 30 the rate allows, and the
  pay rule lands them on T2's top grade, G5.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from optimizer.verify.graded import verify_plan
from reports import charts
from reports.html import flows_section
from tests.builders import Solved, pay_table, people, solve_group, unit

pytestmark = pytest.mark.slow

EXACT = [
    "requirements.mode=exact", "requirements.short_time_fraction=0.5", "requirements.overmanning_max=4",
    "requirements.demand=[{name: tech, unit: U1, sequence: technical, headcount: {1: 90}, overmanning_cost: 5000, "
    "short_time_max: 12, short_time_cost: 1000}]",
]
CAPPED = [
    "mix.target={management: 0.0, technical: 0.5, operations: 0.5}", "mix.tolerance=0.0",
    "mobility.operations_to_technical=1.0",
    "requirements.caps=[{name: retrained, unit: U1, sequence: technical, kinds: [sequence_move], "
    "max_share_of_destination: 0.25}]",
]


@pytest.fixture(scope="module")
def exact(tmp_path_factory: pytest.TempPathFactory) -> Solved:
    return solve_group(tmp_path_factory.mktemp("exact"), people("U1", "technical", 100), [unit("U1")], EXACT)


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory) -> Solved:
    group = [*people("U1", "operations", 70, eligible=True), *people("U1", "technical", 30, first=100)]
    return solve_group(tmp_path_factory.mktemp("capped"), group, [unit("U1")], CAPPED)


@pytest.fixture(scope="module")
def downgraded(tmp_path_factory: pytest.TempPathFactory) -> Solved:
    pay = pay_table(tiers=3)
    top = pay["sequence"].eq("technical") & pay["tier"].eq(2)
    pay.loc[top & pay["grade"].eq(4), "base_salary"] = pay.loc[top & pay["grade"].eq(5), "base_salary"].item()
    return solve_group(tmp_path_factory.mktemp("downgraded"), people("U1", "technical", 100, tier=3), [unit("U1")],
                       ["mobility.downgrade={enabled: true, rate: 0.3}"], pay=pay)


def _copy(solved: Solved, tmp_path: Path) -> Path:
    copy = tmp_path / "plan"
    shutil.copytree(solved.folder, copy)
    return copy


def _edit_csv(plan: Path, name: str, column: str, value: str | None, **where: str) -> None:
    """Set ``column`` of the rows of ``plan/name.csv`` whose columns equal ``where`` to ``value`` (None: drop
    those rows). Cells stay text, blanks stay blank."""
    path = plan / f"{name}.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    rows = pd.Series(True, index=frame.index)
    for key, wanted in where.items():
        rows &= frame[key].eq(wanted)
    if value is None:
        frame = frame[~rows]
    else:
        frame.loc[rows, column] = value
    frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")


def _edit_scenario(plan: Path, change: Callable[[dict], None]) -> None:
    path = plan / "summary.json"
    summary = json.loads(path.read_text(encoding="utf-8"))
    change(summary)
    path.write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")


def _findings(plan: Path, solved: Solved) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for finding in verify_plan(plan, solved.folder.parent / "data").failures:
        found.setdefault(finding.check, []).append(finding.message)
    return found


# ------------------------------------------------------------------------------- files add up to the objective


def test_exact_requirement_writes_its_slack_to_requirements_csv(exact: Solved) -> None:
    rows = exact.table("requirements").to_dict("records")
    assert rows == [{"requirement": "tech", "year": 1, "required": 90, "headcount": 100, "overmanning": 4,
                     "short_time": 12, "cost": 32_000}]


def test_budget_csv_carries_the_slack_costs_outside_the_cap_and_adds_up_to_the_objective(exact: Solved) -> None:
    budget = exact.table("budget")
    year1 = budget[budget["year"] == 1].set_index("unit_id")
    assert year1.loc["ALL", ["payroll", "total", "cap", "overmanning_cost", "short_time_cost"]].tolist() == [
        6_000_000, 6_000_000, 12_000_000, 20_000, 12_000]
    assert year1.loc["U1", ["overmanning_cost", "short_time_cost"]].isna().all()  # not charged to a unit
    assert budget.loc[budget["year"] == 0, ["overmanning_cost", "short_time_cost"]].fillna(0).eq(0).all().all()
    cost_stage = next(s for s in exact.summary["solver"]["stages"] if s["term"] == "cost")
    assert exact.summary["objective"]["cost"] == pytest.approx(6_032_000)
    assert cost_stage["objective"] == pytest.approx(6_032_000)


def test_a_plan_without_requirements_writes_the_header_and_zero_slack_costs(capped: Solved) -> None:
    assert list(capped.table("requirements").columns) == [
        "requirement", "year", "required", "headcount", "overmanning", "short_time", "cost"]
    assert capped.table("requirements").empty
    on_all = capped.table("budget").query("unit_id == 'ALL'")
    assert on_all[["overmanning_cost", "short_time_cost"]].eq(0).all().all()


# --------------------------------------------------------------------------------------- downgrades disrupt


def test_downgrades_count_as_disruption_in_the_model_and_in_the_files(downgraded: Solved, tmp_path: Path) -> None:
    # A downgrade saves pay, so the cost stage takes the 30 the rate allows. The disruption stage cannot undo
    # them (cost is fixed): its optimum, and the recount, is 30.
    solved = downgraded
    stage = next(s for s in solved.summary["solver"]["stages"] if s["term"] == "disruption")
    assert solved.flow("downgrade") == 30
    assert solved.summary["objective"]["disruption"] == 30
    assert stage["objective"] == pytest.approx(30)
    plan = _copy(solved, tmp_path / "copy")
    _edit_scenario(plan, lambda s: s["objective"].update(disruption=0))
    assert _findings(plan, solved) == {"summary": [
        "summary.json figures that do not match the plan files (1): objective.disruption: reported 0, recomputed 30"]}
    # The report's Sankey draws downgrades in their own colour, with a legend entry.
    flows = solved.table("flows")
    sankey = charts.sankey_figure(flows).data[0]
    downgrade = [colour for colour, label in zip(sankey.link.color, sankey.link.label) if label == "downgrade"]
    assert downgrade == ["rgba(230,171,2,0.5)"]
    assert f'background:{charts.KIND_COLOURS["downgrade"]}"></i>downgrade</span>' in flows_section(flows)


# ------------------------------------------------------------------------- the verifier rejects one change


def test_a_downgrade_lands_on_the_top_grade_of_a_tier_that_pays_less(downgraded: Solved) -> None:
    moved = downgraded.table("flows").query("kind == 'downgrade'")
    assert moved[["from_tier", "from_grade", "to_tier", "to_grade", "count"]].values.tolist() == [[3, 1, 2, 5, 30]]


def test_flow_rules_reject_a_downgrade_off_its_landing_grade(downgraded: Solved, tmp_path: Path) -> None:
    # T2 G4 pays what G5 pays, so moving the 30 downgraded to G4 in every file keeps pay, budget and stock
    # consistent: only the landing rule sees it.
    plan = _copy(downgraded, tmp_path)
    _edit_csv(plan, "flows", "to_grade", "4", kind="downgrade")
    _edit_csv(plan, "actions", "to_grade", "4", action="downgrade")
    _edit_csv(plan, "headcount", "grade", "4", year="1", tier="2")
    found = _findings(plan, downgraded)
    assert found.keys() == {"flow_rules", "eligibility"}
    assert found["flow_rules"] == [
        "flows not landing on the grade the pay rule gives (1): year 1 downgrade U1/technical/3/1 → U1/technical/2/4 "
        "×30 (the pay rule lands on grade 5)"]
    [people] = found["eligibility"]
    assert people.startswith("actions not landing on the grade the pay rule gives (30): U1-T0070 downgrade "
                             "U1/technical/3/1 → U1/technical/2/4 (performance 29, 3 years in grade) (the pay rule "
                             "gives grade 5); ")
    assert people.endswith("; … and 10 more")


def test_requirements_reject_a_changed_overmanning(exact: Solved, tmp_path: Path) -> None:
    plan = _copy(exact, tmp_path)
    _edit_csv(plan, "requirements", "overmanning", "5", requirement="tech", year="1")
    assert _findings(plan, exact) == {
        "overmanning_cap": ["year 1: 5 overmanning > overmanning_max 4"],
        "payroll": ["budget.csv overmanning_cost differs from the recomputed value (1): ALL year 1: reported 20,000, "
                    "recomputed 25,000"],
        "requirements": [
            "requirements.csv tech year 1: 100 heads − 5 overmanning − 0.5 × 12 short time = 89, required 90",
            "requirements.csv tech year 1: cost 32,000, recomputed 37,000",
        ],
    }


def test_requirements_reject_a_headcount_that_is_not_headcount_csv(exact: Solved, tmp_path: Path) -> None:
    plan = _copy(exact, tmp_path)
    _edit_csv(plan, "requirements", "headcount", "99", requirement="tech", year="1")
    assert _findings(plan, exact) == {
        "requirements": ["requirements.csv tech year 1: headcount 99, headcount.csv has 100"]}


def test_requirements_reject_a_missing_row(exact: Solved, tmp_path: Path) -> None:
    plan = _copy(exact, tmp_path)
    _edit_csv(plan, "requirements", "requirement", None, requirement="tech", year="1")
    assert _findings(plan, exact) == {
        "payroll": ["budget.csv overmanning_cost differs from the recomputed value (1): ALL year 1: reported 20,000, "
                    "recomputed 0",
                    "budget.csv short_time_cost differs from the recomputed value (1): ALL year 1: reported 12,000, "
                    "recomputed 0"],
        "requirements": ["requirements.csv lacks tech year 1"],
    }


def test_budget_slack_cost_must_match_requirements_csv_and_the_objective(exact: Solved, tmp_path: Path) -> None:
    plan = _copy(exact, tmp_path)
    _edit_csv(plan, "budget", "short_time_cost", "13000", unit_id="ALL", year="1")
    assert _findings(plan, exact) == {
        "payroll": ["budget.csv short_time_cost differs from the recomputed value (1): ALL year 1: reported 13,000, "
                    "recomputed 12,000"],
        "summary": ["summary.json figures that do not match the plan files (1): objective.cost: reported 6,032,000, "
                    "recomputed 6,033,000"],
    }


def test_overmanning_cap_rejects_more_than_overmanning_max(exact: Solved, tmp_path: Path) -> None:
    plan = _copy(exact, tmp_path)
    _edit_scenario(plan, lambda s: s["scenario"]["requirements"].update(overmanning_max=3))
    assert _findings(plan, exact) == {"overmanning_cap": ["year 1: 4 overmanning > overmanning_max 3"]}


def test_short_time_cap_rejects_more_than_short_time_max(exact: Solved, tmp_path: Path) -> None:
    plan = _copy(exact, tmp_path)
    _edit_scenario(plan, lambda s: s["scenario"]["requirements"]["demand"][0].update(short_time_max=10))
    assert _findings(plan, exact) == {"short_time_cap": ["tech year 1: short time 12 > short_time_max 10"]}


def test_flow_caps_hold_in_the_solved_plan(capped: Solved) -> None:
    assert capped.flow("sequence_move") == 10
    assert capped.headcount(1, sequence="technical") == pytest.approx(40)


@pytest.mark.parametrize(("limit", "finding"), [
    ({"max_share_of_destination": 0.2}, "retrained year 1: 10 brought in > max_share_of_destination × 40 = 8"),
    ({"max_per_year": 9}, "retrained year 1: 10 brought in > max_per_year = 9"),
])
def test_flow_caps_reject_more_flows_than_the_cap(capped: Solved, tmp_path: Path, limit: dict, finding: str) -> None:
    plan = _copy(capped, tmp_path)
    _edit_scenario(plan, lambda s: s["scenario"]["requirements"]["caps"][0].update(limit))
    assert _findings(plan, capped) == {"flow_caps": [finding]}


def test_flow_caps_count_only_flows_of_their_kinds_into_their_states(capped: Solved, tmp_path: Path) -> None:
    # The same cap on hires (none), or on moves into operations (none land there), finds nothing to reject.
    for change in ({"kinds": ["hire"], "max_per_year": 0}, {"sequence": "operations", "max_per_year": 0}):
        plan = _copy(capped, tmp_path / change.get("sequence", "hire"))
        _edit_scenario(plan, lambda s: s["scenario"]["requirements"]["caps"][0].update(change))
        assert _findings(plan, capped) == {}
