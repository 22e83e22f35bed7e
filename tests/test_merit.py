"""Merit across a position (optimizer.plan.merit): the people acted on in a position are its best eligible
performers whichever cohort holds them, redundancies take the weakest, the only exception is a person their
cohort's limit holds back, and the verifier finds a plan that passes someone over."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from optimizer.model.cohorts import Cohort
from optimizer.model.network import GRADE_STEP, SEQUENCE_MOVE, Arc
from optimizer.plan.merit import merit_flows
from optimizer.verify.graded import verify_plan
from tests.builders import solve_group, unit

GRADE_STEP_ONE = ["promotion.grade_rate=0.5", "promotion.grade_rate_floor=0.5"]
"""Two people in a position: the cap allows one grade step (0.5 × 2) and the floor asks for one."""


def _person(employee_id: str, performance: float, years: int, eligible: bool = False) -> dict:
    return {"employee_id": employee_id, "unit_id": "U1", "sequence": "operations", "tier": 1, "grade": 1,
            "performance": performance, "years_in_grade": years, "technical_eligible": eligible}


@pytest.mark.parametrize("horizon", [1, pytest.param(2, marks=pytest.mark.slow)])
@pytest.mark.parametrize("split", ["seniority", "qualification"])
@pytest.mark.parametrize("better", ["first", "second"])
def test_the_better_performer_gets_the_one_grade_step_whichever_cohort_holds_them(tmp_path, horizon, split, better):
    # two cohorts of one position: 1 and 3 years in grade (seniority buckets 1 and 2), or qualified and not
    years = (1, 3) if split == "seniority" else (3, 3)
    eligible = (False, False) if split == "seniority" else (True, False)
    high, low = (90, 60) if better == "first" else (60, 90)
    people = [_person("A", high, years[0], eligible[0]), _person("B", low, years[1], eligible[1])]
    solved = solve_group(tmp_path, people, [unit("U1")], [*GRADE_STEP_ONE, f"horizon={horizon}"])
    actions = solved.table("actions").set_index("employee_id")
    winner, loser = ("A", "B") if better == "first" else ("B", "A")
    assert actions.loc[winner, "action"] == "grade_step" and actions.loc[loser, "action"] == "stay"
    assert actions.loc[winner, "reason"] == "grade_step by merit: rank 1 of 2 eligible in U1 operations T1 G1 " \
                                            "(performance 90)"
    assert actions.loc[loser, "reason"] == "rank 2 of 2 in U1 operations T1 G1 (performance 60): below the " \
                                           "grade_step line at performance 90"
    line = solved.table("merit").iloc[0]
    assert (line["action"], line["eligible"], line["acted"]) == ("grade_step", 2, 1)
    assert (line["acted_performance"], line["stayer_performance"], line["exceptions"]) == (90, 60, 0)
    assert solved.summary["merit"]["exceptions"] == 0


@pytest.mark.parametrize("weaker", ["first", "second"])
def test_the_weaker_performer_is_made_redundant_whichever_cohort_holds_them(tmp_path, weaker):
    # the unit may keep one of two people (max_headcount 1, no attrition): one redundancy, the weakest first
    low, high = (30, 80) if weaker == "first" else (80, 30)
    people = [_person("A", low, 1, True), _person("B", high, 3)]
    solved = solve_group(tmp_path, people, [unit("U1", max_headcount=1)],
                         ["redundancy.enabled=true", "redundancy.max_rate=0.5", "redundancy.cost_factor=0.5"])
    actions = solved.table("actions").set_index("employee_id")
    gone, kept = ("A", "B") if weaker == "first" else ("B", "A")
    assert actions.loc[gone, "action"] == "redundancy" and actions.loc[kept, "action"] == "stay"
    assert actions.loc[gone, "reason"] == "redundancy, weakest first: rank 2 of 2 eligible in U1 operations T1 G1 " \
                                          "(performance 30)"
    line = solved.table("merit").iloc[0]
    assert (line["action"], line["acted_performance"], line["stayer_performance"]) == ("redundancy", 30, 80)


def test_a_person_held_back_by_the_cohort_limit_is_a_counted_exception(tmp_path):
    # attrition 0.5: A alone in their cohort (1 year in grade) may not act (⌊0.5·1⌋ = 0); B and C (3 years)
    # one of them (⌊0.5·2⌋ = 1). One grade step: the floor asks ⌊1.0 · 0.5 · 3⌋ = 1, and no more can act.
    people = [_person("A", 95, 1), _person("B", 80, 3), _person("C", 70, 3)]
    solved = solve_group(tmp_path, people, [unit("U1")], ["promotion.grade_rate=1.0", "promotion.grade_rate_floor=1.0",
                                                          "attrition.operations=0.5"])
    actions = solved.table("actions").set_index("employee_id")
    assert list(actions.loc[["A", "B", "C"], "action"]) == ["stay", "grade_step", "stay"]
    assert actions.loc["A", "reason"].startswith("held back in U1 operations T1 G1 (performance 95, above the "
                                                 "grade_step line at 80): at most 0 people of this cohort")
    assert solved.summary["merit"]["exceptions"] == 1
    assert solved.table("merit").iloc[0]["exceptions"] == 1


def test_the_verifier_finds_a_person_passed_over_in_their_position(tmp_path):
    people = [_person("A", 90, 1), _person("B", 60, 3)]
    solved = solve_group(tmp_path, people, [unit("U1")], GRADE_STEP_ONE)
    broken = tmp_path / "broken"
    shutil.copytree(solved.folder, broken)
    actions = pd.read_csv(broken / "actions.csv", dtype=str, keep_default_na=False)
    swap = {"A": "B", "B": "A"}
    moved = actions[actions["employee_id"].isin(swap)].copy()
    moved["employee_id"] = moved["employee_id"].map(swap)
    actions = pd.concat([actions[~actions["employee_id"].isin(swap)], moved])
    actions.to_csv(broken / "actions.csv", index=False)
    report = verify_plan(broken, tmp_path / "data")
    found = [f.message for f in report.failures if f.check == "position_merit"]
    assert len(found) == 1 and found[0].startswith("people passed over in their position for an action given to "
                                                   "someone of lower merit (1): A (performance 90, 1 years) stays in")
    summary = json.loads((solved.folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["verification"]["ok"]


def test_the_deal_meets_every_count_where_handing_out_action_by_action_would_not():
    # p1 (qualified, 1 year, performance 90) and p2 (qualified, 0 years, 80): a sequence move (qualified only)
    # and a grade step (1 year or more). Moving p1 first would leave nobody for the grade step; merit gives
    # p1 the grade step and p2 the move, and nobody who stays is passed over.
    one = Cohort("U1", "operations", 1, 1, 1, True)
    zero = Cohort("U1", "operations", 1, 1, 0, True)
    landed = Cohort("U1", "technical", 1, 1, 0, False)
    step = Arc(GRADE_STEP, one, one._replace(grade=2, seniority=0))
    moves = {c: Arc(SEQUENCE_MOVE, c, landed) for c in (one, zero)}
    roster = pd.DataFrame([("p1", *one, 90.0, 1), ("p2", *zero, 80.0, 0)],
                          columns=["employee_id", "unit_id", "sequence", "tier", "grade", "seniority", "qualified",
                                   "performance", "years_in_grade"])
    dealt = merit_flows(roster, {step: 1, moves[zero]: 1}, [step, *moves.values()], {one: 1, zero: 1})
    assert dealt == {step: 1, moves[zero]: 1}


def test_a_merit_resolve_left_at_its_start_by_the_time_limit_is_not_kept():
    # the re-solve's plan counts only if it is a solve's answer: a stage stopped by the time limit whose plan
    # misses the mix by more than half a person beyond the model's plan is its constructive start
    from optimizer.solvers.steps import resolve_starved
    from optimizer.solvers.staged import Solution, StageResult

    model_plan = Solution("feasible", np.zeros(1), [], {"mix": 0.0})
    stopped = [StageResult("mix", "feasible", 4241.0, None, None, 0.8, stopped_by="time_limit")]
    proven = [StageResult("mix", "optimal", 0.4, 0.4, 0.0, 0.8)]
    assert resolve_starved(Solution("feasible", np.zeros(1), stopped, {"mix": 4241.0}), model_plan)
    assert not resolve_starved(Solution("feasible", np.zeros(1), stopped, {"mix": 0.4}), model_plan)
    assert not resolve_starved(Solution("optimal", np.zeros(1), proven, {"mix": 3.0}), model_plan)  # merit's proven price
    assert resolve_starved(Solution("no_solution", None, stopped, {}), model_plan)


def test_a_reused_plan_whose_reference_found_no_merit_plan_in_time_is_kept_without_that_solve(tmp_path):
    # two years, A (90, qualified) and B (60): merit gives A the one grade step where the model gave it to B's
    # cohort, and the later years are solved again (merit.resolved). Had that solve found nothing in the
    # reference's limit (merit.starved; forced here), a what-if taking the reference's plan keeps the model's
    # own plan as the reference did rather than trying the same solve again
    from dataclasses import replace

    from models.scenario_files import build_scenario
    from optimizer.pipeline import run_plan
    from optimizer.solvers.reuse import REFERENCE_FILE, load_reference, save_reference
    from tests.builders import QUIET, check_invariants, write_group

    data = write_group(tmp_path / "data", [_person("A", 90, 3, True), _person("B", 60, 3)], [unit("U1")])

    def plan(name: str, overrides: list[str], reference=None):
        scenario = build_scenario(json.loads(json.dumps(QUIET)), "test", [*GRADE_STEP_ONE, "horizon=2", *overrides])
        result = run_plan(scenario, data, tmp_path / name, reference=reference)
        check_invariants(result.summary)
        return result

    base = plan("base", [])
    assert base.summary["merit"]["resolved"] and not base.reference.merit_starved
    starved = replace(base.reference, merit=None, merit_starved=True)  # as a starved run saves it
    kept = plan("kept", ["budget.growth=0.04"], starved)  # a lower budget the plan keeps: reused
    assert kept.summary["solver"]["reuse"]["reused"] is True
    merit = kept.summary["merit"]
    assert merit["starved"] and merit["unsolved"] and not merit["resolved"]
    assert "merit re-solve" not in kept.summary["timings"]
    assert kept.reference.merit_starved  # and so on for what-ifs of this one
    save_reference(starved, tmp_path / REFERENCE_FILE)
    assert load_reference(tmp_path).merit_starved is True
