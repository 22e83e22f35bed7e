"""Reusing a solved plan for a what-if that only tightens its model (optimizer/solvers/reuse.py), through the pipeline,
`wfplan solve --reference` and `wfplan sweep --reference`."""

from __future__ import annotations

import json
from dataclasses import replace
import math

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from models.io import InputError
from models.scenario_files import build_scenario
from optimizer.cli import main
from optimizer.solvers.base import Basis
from optimizer.solvers.linear_model import LinearModel
from optimizer.pipeline import run_plan
from optimizer.solvers.reuse import (
    REFERENCE_FILE,
    load_reference,
    make_reference,
    reuse_solution,
    save_reference,
)
from optimizer.solvers.staged import Solution, StageResult
from tests.builders import QUIET, check_invariants, people, unit, write_group
from tests.test_formulation import MIX_100
from tests.test_sweep import REACH_30_EXACTLY

SCENARIO = build_scenario(json.loads(json.dumps(QUIET)), "test")


def tiny_model(lo: float = 3.0, hi: float = 10.0, y_coef: float = 1.0, y_lb: float = 0.0) -> LinearModel:
    """min x + 2y s.t. lo ≤ x + y_coef·y ≤ hi, x, y integer in [0, 10] (y ≥ y_lb): optimum x = 3, y = 0."""
    model = LinearModel()
    x, y = model.add_var("x", 0, 10, integer=True), model.add_var("y", y_lb, 10, integer=True)
    model.add_row("r", {x: 1.0, y: y_coef}, lo=lo, hi=hi)
    model.add_objective("cost", {x: 1.0, y: 2.0})
    return model


def solved_tiny() -> Solution:
    stage = StageResult("cost", "optimal", 3.0, 3.0, 0.0, 0.25)
    return Solution("optimal", np.array([3.0, 0.0]), [stage], {"cost": 3.0})


def tiny_reference():
    return make_reference(tiny_model(), 1, SCENARIO, 1.0, solved_tiny(), "runs/base")


def test_a_tighter_range_that_the_plan_keeps_reuses_the_plan_with_its_proof():
    solution, why_not = reuse_solution(tiny_reference(), tiny_model(lo=3.0, hi=4.0), SCENARIO, 1.0)
    assert why_not == ""
    assert solution.values.tolist() == [3.0, 0.0] and solution.terms == {"cost": 3.0}
    (stage,) = solution.stages
    assert (stage.term, stage.status, stage.objective, stage.bound, stage.gap, stage.seconds) == (
        "cost", "optimal", 3.0, 3.0, 0.0, 0.0)
    assert stage.note.startswith("reused from runs/base")


@pytest.mark.parametrize(("changed", "reason"), [
    (tiny_model(lo=2.0), "row r is looser"),
    (tiny_model(hi=11.0), "row r is looser"),
    (tiny_model(y_coef=0.5), "row r has other coefficients, not only tighter ones"),
    (tiny_model(lo=4.0), "row r is violated by 1"),
    (tiny_model(y_lb=1.0), "variable y is outside its bounds"),
])
def test_a_model_that_is_not_a_tightening_or_that_the_plan_breaks_is_not_reused(changed, reason):
    assert reuse_solution(tiny_reference(), changed, SCENARIO, 1.0) == (None, reason)


def test_other_goals_or_solver_settings_are_not_reused():
    other_goal = tiny_model()
    other_goal.add_objective("cost", {1: 1.0})
    assert reuse_solution(tiny_reference(), other_goal, SCENARIO, 1.0) == (None, "the goals differ")
    other_gap = build_scenario(json.loads(json.dumps(QUIET)), "test", ["solver.gap=0.01"])
    assert reuse_solution(tiny_reference(), tiny_model(), other_gap, 1.0) == (
        None, "the objective or solver settings differ")
    extra_row = tiny_model()
    extra_row.add_row("s", {0: 1.0}, hi=9.0)
    assert reuse_solution(tiny_reference(), extra_row, SCENARIO, 1.0) == (None, "the variables or rows differ")


def test_a_one_sided_row_may_change_coefficients_towards_harder_to_keep():
    # x + y ≥ 3 with y ≥ 0: x + 0.5·y ≥ 3 is harder to keep (x + y ≥ x + 0.5·y), x + 2·y ≥ 3 is easier
    reference = make_reference(tiny_model(hi=math.inf), 1, SCENARIO, 1.0, solved_tiny(), "runs/base")
    solution, why_not = reuse_solution(reference, tiny_model(hi=math.inf, y_coef=0.5), SCENARIO, 1.0)
    assert why_not == "" and solution.values.tolist() == [3.0, 0.0]
    assert reuse_solution(reference, tiny_model(hi=math.inf, y_coef=2.0), SCENARIO, 1.0) == (
        None, "row r has other coefficients, not only tighter ones")
    # the same change on a variable that may be negative proves nothing
    assert reuse_solution(reference, tiny_model(hi=math.inf, y_coef=0.5, y_lb=-1.0), SCENARIO, 1.0)[0] is None


def test_a_saved_reference_loads_back_whole(tmp_path):
    bases = {"cost": Basis(np.array([1, 0], dtype=np.int8), np.array([2], dtype=np.int8)),
             "disruption": Basis(np.array([0, 1], dtype=np.int8), np.array([0, 1], dtype=np.int8))}
    reference = replace(tiny_reference(), merit=replace(solved_tiny(), bases=bases))
    save_reference(reference, tmp_path / REFERENCE_FILE)
    loaded = load_reference(tmp_path)
    assert loaded.merit.values.tolist() == [3.0, 0.0] and sorted(loaded.merit.bases) == ["cost", "disruption"]
    for term, basis in bases.items():  # merit's bases: the warm start of a what-if's later years
        assert loaded.merit.bases[term].columns.tolist() == basis.columns.tolist()
        assert loaded.merit.bases[term].rows.tolist() == basis.rows.tolist()
    for name in ("integer", "lb", "ub", "row_lo", "row_hi", "row_starts", "row_columns", "row_coefficients"):
        assert np.array_equal(getattr(loaded, name), getattr(reference, name)), name
    assert (loaded.names, loaded.goals, loaded.settings) == (reference.names, reference.goals, reference.settings)
    assert loaded.label == str(tmp_path) and loaded.solution.stages == solved_tiny().stages
    solution, why_not = reuse_solution(loaded, tiny_model(lo=3.0, hi=4.0), SCENARIO, 1.0)
    assert why_not == "" and solution.values.tolist() == [3.0, 0.0]


@pytest.mark.parametrize("content", [b"not a zip file", None])
def test_an_unreadable_reference_is_refused_naming_the_file(tmp_path, content):
    if content is None:  # a valid .npz that lacks the reference's fields
        np.savez(tmp_path / REFERENCE_FILE, values=np.zeros(2))
    else:
        (tmp_path / REFERENCE_FILE).write_bytes(content)
    with pytest.raises(InputError) as refused:
        load_reference(tmp_path)
    assert f"1 problem in {tmp_path}" in str(refused.value) and "reference.npz" in str(refused.value)
    assert "cannot be read" in str(refused.value)


def _solve(tmp_path, name, overrides=(), reference=None, data="data"):
    scenario = build_scenario(json.loads(json.dumps(REACH_30_EXACTLY)), "test", list(overrides))
    result = run_plan(scenario, tmp_path / data, tmp_path / name, reference=reference)
    check_invariants(result.summary)
    return result


@pytest.fixture
def base(tmp_path):
    """MIX_100 must reach exactly 30% technical: 10 retrained, year-1 cost 70·50,000 + 30·60,000 + 10·1,000 =
    5,310,000 against a cap of 5,200,000·(1 + 1.0) = 10,400,000 (mean pay 52,000)."""
    write_group(tmp_path / "data", MIX_100, [unit("U1")])
    result = _solve(tmp_path, "base")
    assert result.summary["objective"]["cost"] == pytest.approx(5_310_000)
    return result


@pytest.mark.slow
def test_a_lower_budget_growth_that_the_plan_keeps_takes_the_plan_without_a_solve(tmp_path, base):
    # cap 5,200,000·1.05 = 5,460,000 ≥ 5,310,000: the same plan, the same proof
    whatif = _solve(tmp_path, "whatif", ["budget.growth=0.05"], base.reference)
    solver = whatif.summary["solver"]
    assert solver["reuse"] == {"reference": str(tmp_path / "base"), "reused": True, "reason": "", "start": ""}
    before = base.summary["solver"]["stages"]
    assert [(s["term"], s["status"], s["objective"], s["bound"]) for s in solver["stages"]] == [
        (s["term"], s["status"], s["objective"], s["bound"]) for s in before]
    assert all(s["seconds"] == 0 and s["note"].startswith("reused from") for s in solver["stages"])
    for name in ("actions.csv", "flows.csv", "headcount.csv"):
        assert (tmp_path / "whatif" / name).read_bytes() == (tmp_path / "base" / name).read_bytes()
    budget = pd.read_csv(tmp_path / "whatif" / "budget.csv")
    year1 = budget[(budget["unit_id"] == "ALL") & (budget["year"] == 1)].iloc[0]
    assert (year1["total"], year1["cap"]) == pytest.approx((5_310_000, 5_460_000))


@pytest.mark.slow
def test_a_budget_the_plan_breaks_or_a_looser_one_is_solved_again(tmp_path, base):
    # cap 5,200,000·1.02 = 5,304,000: the plan is 6,000 over, 6,000 / 52,000 = 0.115385 in the scaled row
    tighter = _solve(tmp_path, "tighter", ["budget.growth=0.02"], base.reference)
    # solved from the reference's year 1 with the later years solved again: the budget is elastic (its overrun
    # is part of the mix goal), so that start exists, over the cap; the goals' stages then leave it
    assert tighter.summary["solver"]["reuse"] == {
        "reference": str(tmp_path / "base"), "reused": False, "reason": "row budget[y1] is violated by 0.115385",
        "start": "the reference's year 1 kept, the later years solved again"}
    stages = tighter.summary["solver"]["stages"]
    assert [s["term"] for s in stages] == ["mix", "cost", "stability"]  # the tie-break: with year 1 fixed
    assert [s["term"] for s in tighter.summary["merit"]["stages"]][-1] == "disruption"
    assert all(s["note"] == "" or "reached by" in s["note"] for s in stages if s["term"] != "stability")
    looser = _solve(tmp_path, "looser", ["budget.growth=2.0"], base.reference)
    assert looser.summary["solver"]["reuse"]["reason"] == "row budget[y1] is looser"
    assert looser.summary["solver"]["reuse"]["start"] == "the reference's plan holds"
    assert looser.summary["objective"]["cost"] == pytest.approx(5_310_000)


@pytest.mark.slow
def test_a_lower_rate_cap_that_the_plan_keeps_is_reused_and_one_it_breaks_is_not(tmp_path, base):
    # moves ≤ r·80 qualified operations staff: r = 0.2 allowed 16 and the plan makes 10
    kept = _solve(tmp_path, "kept", ["mobility.operations_to_technical=0.125"], base.reference)  # cap 10
    assert kept.summary["solver"]["reuse"]["reused"] is True
    assert kept.summary["counts"]["sequence_move"] == 10
    broken = _solve(tmp_path, "broken", ["mobility.operations_to_technical=0.1"], base.reference)  # cap 8
    assert broken.summary["solver"]["reuse"]["reason"] == "row cap_operations_to_technical[U1,operations,1,y1] is violated by 2"
    assert broken.summary["counts"]["sequence_move"] == 8


@pytest.mark.slow
def test_a_reused_plan_that_misses_a_target_is_diagnosed_like_a_solved_one(tmp_path):
    # a cap of 0.1·80 = 8 moves leaves technical at 28 of 100, short of exactly 30%
    write_group(tmp_path / "data", MIX_100, [unit("U1")])
    capped = ["mobility.operations_to_technical=0.1"]
    scenario = build_scenario(json.loads(json.dumps(REACH_30_EXACTLY)), "test", capped)
    missed = run_plan(scenario, tmp_path / "data", tmp_path / "missed")
    assert missed.summary["status"] == "target_missed"
    whatif = build_scenario(json.loads(json.dumps(REACH_30_EXACTLY)), "test", [*capped, "budget.growth=0.05"])
    again = run_plan(whatif, tmp_path / "data", tmp_path / "again", reference=missed.reference, diagnose=True)
    assert again.summary["solver"]["reuse"]["reused"] is True
    assert again.summary["status"] == "target_missed" and again.summary["objective"] == missed.summary["objective"]
    assert again.summary["diagnosis"]["missed"]["mix"]


@pytest.mark.slow
def test_a_reference_from_another_roster_is_not_reused(tmp_path, base):
    # one more technical employee: the year-0 stock of that cohort is fixed at 21, not 20
    write_group(tmp_path / "other", [*MIX_100, *people("U1", "technical", 1, first=200)], [unit("U1")])
    other = _solve(tmp_path, "other-plan", ["budget.growth=0.05"], base.reference, data="other")
    reason = other.summary["solver"]["reuse"]["reason"]
    assert other.summary["solver"]["reuse"]["reused"] is False
    assert reason == "variable stock[U1,technical,1,1,s2,q0,y0] has looser bounds", reason


@pytest.mark.slow
def test_solve_and_sweep_take_a_reference_plan_folder(tmp_path):
    data = write_group(tmp_path / "data", MIX_100, [unit("U1")])
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(json.dumps(REACH_30_EXACTLY), encoding="utf-8")
    common = [str(scenario), "--data", str(data)]
    runner = CliRunner()
    assert runner.invoke(main, ["solve", *common, "--out", str(tmp_path / "base")]).exit_code == 0
    result = runner.invoke(main, ["solve", *common, "--out", str(tmp_path / "whatif"), "--set", "budget.growth=0.05",
                                  "--reference", str(tmp_path / "base")])
    assert result.exit_code == 0, result.output
    assert f"reference {tmp_path / 'base'}: its plan holds, no solve" in result.output
    assert json.loads((tmp_path / "whatif" / "summary.json").read_text())["solver"]["reuse"]["reused"] is True

    sweep = runner.invoke(main, ["sweep", *common, "--grid", "budget.growth=0.05,2.0", "--out", str(tmp_path / "sw"),
                                 "--workers", "1", "--reference", str(tmp_path / "base")])
    assert sweep.exit_code == 0, sweep.output
    table = pd.read_csv(tmp_path / "sw" / "sweep.csv")
    assert table["reused"].tolist() == [True, False]
    assert table["objective.cost"].tolist() == pytest.approx([5_310_000, 5_310_000])

    missing = runner.invoke(main, ["solve", *common, "--out", str(tmp_path / "x"), "--reference", str(data)])
    assert missing.exit_code == 2
    assert f"1 problem in {data}" in missing.output and "reference.npz" in missing.output
    assert not (tmp_path / "x").exists()
