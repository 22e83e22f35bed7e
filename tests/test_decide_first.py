"""``flow_convention: decide_then_attrition`` ("decide, then attrition"): a year's actions are decided on the whole
start-of-year stock, then everyone leaves at the rate of the state they hold. Tiny groups solved by hand through
the real pipeline (files written, the independent verifier run), the verifier's restated attrition, and the
simulation against an exact binomial probability.

The floor group: 10 technical people on T1 G1 (3 years in grade), technical attrition 10 % on T1 and 50 % on T2,
``promotion.tier_rate`` = ``tier_rate_floor`` = 0.2.

- ``start_of_year``: the floor asks ⌊0.2·(1−0.1)·10⌋ = ⌊1.8⌋ = 1 promotion of the 9 expected stayers; year 1
  holds T1 = 0.9·10 − 1 = 8 and T2 = 1; attrition 1 (all of it T1's).
- ``decide_then_attrition``: the floor asks ⌊0.2·10⌋ = 2 (the cap's 2 as well); year 1 holds
  T1 = 0.9·(10 − 2) = 7.2 and T2 = (1 − 0.5)·2 = 1; attrition 0.8 on T1 and 1 on T2.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest

from optimizer.simulate.engine import simulate
from optimizer.simulate.folder import load_plan_inputs
from optimizer.verify.graded import verify_plan
from tests.builders import Solved, people, solve_group, unit

pytestmark = pytest.mark.slow

DECIDE_FIRST = "flow_convention=decide_then_attrition"
FLOORS = ["attrition.technical=0.1", "attrition.by_tier={technical: {2: 0.5}}", "promotion.tier_rate=0.2",
          "promotion.tier_rate_floor=0.2"]


@pytest.fixture(scope="module")
def decided(tmp_path_factory: pytest.TempPathFactory) -> Solved:
    return solve_group(tmp_path_factory.mktemp("decided"), people("U1", "technical", 10), [unit("U1")],
                       [*FLOORS, DECIDE_FIRST])


def test_a_one_person_cohort_is_promoted_only_when_decisions_come_first(tmp_path: Path) -> None:
    # One person, attrition 10 %, a floor at the whole cohort: under start_of_year the limit is ⌊0.9·1⌋ = 0 (and
    # the floor ⌊0.9⌋ = 0); deciding first, the floor asks for ⌊1·1⌋ = 1 and the promoted person stays with 0.9.
    overrides = ["attrition.technical=0.1", "promotion.tier_rate=1.0", "promotion.tier_rate_floor=1.0"]
    held = solve_group(tmp_path / "held", people("U1", "technical", 1), [unit("U1")], overrides)
    assert held.flow("tier_promotion") == 0
    assert held.headcount(1, tier=1) == pytest.approx(0.9)
    moved = solve_group(tmp_path / "moved", people("U1", "technical", 1), [unit("U1")], [*overrides, DECIDE_FIRST])
    assert moved.flow("tier_promotion") == 1
    assert (moved.headcount(1, tier=1), moved.headcount(1, tier=2)) == (0, pytest.approx(0.9))
    assert moved.flow("attrition") == pytest.approx(0.1)
    actions = moved.table("actions")
    assert actions[["employee_id", "action", "to_tier"]].values.tolist() == [["U1-T0000", "tier_promotion", 2]]


def test_the_floor_counts_the_whole_stock_and_attrition_follows_the_decisions(tmp_path: Path, decided: Solved) -> None:
    held = solve_group(tmp_path, people("U1", "technical", 10), [unit("U1")], FLOORS)
    assert held.flow("tier_promotion") == 1
    assert (held.headcount(1, tier=1), held.headcount(1, tier=2)) == (pytest.approx(8), pytest.approx(1))
    assert held.flow("attrition") == pytest.approx(1)
    assert decided.flow("tier_promotion") == 2
    assert (decided.headcount(1, tier=1), decided.headcount(1, tier=2)) == (pytest.approx(7.2), pytest.approx(1))
    flows = decided.table("flows")
    leaving = flows[flows["kind"].eq("attrition")].set_index("from_tier")["count"]
    assert leaving.to_dict() == {1: pytest.approx(0.8), 2: pytest.approx(1.0)}
    promoted = decided.table("actions").query("action == 'tier_promotion'")["employee_id"]
    assert sorted(promoted) == ["U1-T0000", "U1-T0001"]  # the two best performers


def _findings(plan: Path, data: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for finding in verify_plan(plan, data).failures:
        found.setdefault(finding.check, []).append(finding.message)
    return found


def test_the_verifier_restates_attrition_by_the_plans_convention(decided: Solved, tmp_path: Path) -> None:
    data = decided.folder.parent / "data"
    plan = tmp_path / "plan"
    shutil.copytree(decided.folder, plan)
    summary = json.loads((plan / "summary.json").read_text())
    summary["scenario"]["flow_convention"] = "start_of_year"  # the same files read as if flows took stayers
    (plan / "summary.json").write_text(json.dumps(summary))
    assert _findings(plan, data)["attrition"] == [
        "flows.csv attrition differs from the rates (start_of_year) (2): "
        "U1/technical/1/1 year 1: 0.8, expected 1 (= 0.1 × 10 + 0 lost of inflows); "
        "U1/technical/2/1 year 1: 1, expected 0 (= 0.5 × 0 + 0 lost of inflows)"]
    shutil.copytree(decided.folder, plan, dirs_exist_ok=True)
    flows = pd.read_csv(plan / "flows.csv", dtype=str, keep_default_na=False)
    flows.loc[flows["kind"].eq("attrition") & flows["from_tier"].eq("2"), "count"] = "0.9"
    flows.to_csv(plan / "flows.csv", index=False)
    assert _findings(plan, data)["attrition"] == [
        "flows.csv attrition differs from the rates (decide_then_attrition) (1): "
        "U1/technical/2/1 year 1: 0.9, expected 1 (= 0.5 × (0 − 0) + 1 lost of inflows)"]


def test_the_simulation_decides_first_then_draws_the_leavers(decided: Solved) -> None:
    """The 2 promoted leave at T2's 50 %, the 8 others at 10 %: all 10 technical people are there at the end of
    year 1 with probability 0.9⁸·0.5² = 0.10761680 (nobody to hire, nothing else moves)."""
    inputs, _ = load_plan_inputs(decided.folder)
    assert inputs.decide_first
    exact = 0.9**8 * 0.5**2
    reps = 20_000
    outcomes = simulate(inputs, reps, seed=2026)
    everyone = float((outcomes.heads[:, 0, 1] == 10).mean())
    assert abs(everyone - exact) < 4 * math.sqrt(exact * (1 - exact) / reps)
    assert outcomes.heads[:, 0, 1].mean() == pytest.approx(8.2, abs=0.05)  # 0.9·8 + 0.5·2
