"""Stable re-plans: a what-if solved with a reference plan has the ``stability`` stage, after the goals and before
the disruption tie-break, which keeps the reference's year-1 cohort flows wherever the targets, caps and costs
allow (optimizer/solvers/staged.py, reuse.py)."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from models.io import InputError
from models.scenario_files import build_scenario
from optimizer.pipeline import RunResult, run_plan
from optimizer.solvers.linear_model import LinearModel
from optimizer.solvers.reuse import REFERENCE_FILE, load_reference, make_reference, reference_flows, save_reference
from optimizer.solvers.staged import Solution, StageResult, solve_model, stage_order
from optimizer.whatif.compare import compare_runs
from tests.builders import QUIET, check_invariants, people, unit, write_group
from tests.test_formulation import MIX_100
from tests.test_sweep import REACH_30_EXACTLY

TWIN_UNITS = [*MIX_100, *people("U2", "operations", 80, eligible=True), *people("U2", "technical", 20, first=100)]
"""Two identical units of MIX_100: 200 people, 40 technical. Exactly 30% technical takes 20 moves, and any
split of them between U1 and U2 (each capped at 0.2·80 = 16) costs and disrupts the same."""


def _solve(tmp_path, name: str, overrides=(), reference: RunResult | None = None) -> RunResult:
    scenario = build_scenario(json.loads(json.dumps(REACH_30_EXACTLY)), "test", list(overrides))
    result = run_plan(scenario, tmp_path / "data", tmp_path / name,
                      reference=None if reference is None else reference.reference)
    check_invariants(result.summary)
    return result


def _changed_people(tmp_path, first: str, second: str) -> int:
    return len(compare_runs([tmp_path / first, tmp_path / second])["people"])


def _stability(result: RunResult) -> dict:
    """The stability stage, last of the solve: the disruption tie-break follows in the solve with year 1 fixed."""
    stages = result.summary["solver"]["stages"]
    assert stages[-1]["term"] == "stability" and result.summary["merit"]["resolved"]
    assert result.summary["merit"]["stages"][-1]["term"] == "disruption"
    assert result.summary["solver"]["deferred"] == ["disruption"]  # said in the summary
    return stages[-1]


def _stage(solution: Solution, term: str) -> StageResult:
    (stage,) = [stage for stage in solution.stages if stage.term == term]
    return stage


def test_a_tie_is_broken_the_way_the_reference_broke_it(tmp_path):
    write_group(tmp_path / "data", TWIN_UNITS, [unit("U1"), unit("U2")])
    base = _solve(tmp_path, "base")
    assert base.summary["counts"]["sequence_move"] == 20
    assert all(stage["term"] != "stability" for stage in base.summary["solver"]["stages"])
    looser = ["mobility.operations_to_technical=0.25"]  # cap 20 per unit: not a tightening, the optimum stays
    stable = _solve(tmp_path, "stable", looser, base)
    assert stable.summary["solver"]["reuse"]["reused"] is False
    assert stable.summary["objective"] == base.summary["objective"]
    stage = _stability(stable)
    assert (stage["status"], stage["objective"]) == ("optimal", pytest.approx(0))
    assert _changed_people(tmp_path, "base", "stable") == 0
    assert (tmp_path / "stable" / "actions.csv").read_bytes() == (tmp_path / "base" / "actions.csv").read_bytes()
    free = _solve(tmp_path, "free", looser)  # may split the 20 moves otherwise; never better, never worse
    assert free.summary["objective"] == base.summary["objective"]
    assert "stability" not in [stage["term"] for stage in free.summary["solver"]["stages"]]


@pytest.mark.slow
def test_other_variables_map_the_reference_flows_by_name(tmp_path):
    # a second year adds variables (the names digest differs): year-1 flows are matched by name
    write_group(tmp_path / "data", TWIN_UNITS, [unit("U1"), unit("U2")])
    base = _solve(tmp_path, "base")
    longer = _solve(tmp_path, "longer", ["horizon=2"], base)
    assert longer.summary["solver"]["reuse"]["reason"] == "the variables or rows differ"
    assert _stability(longer)["objective"] == pytest.approx(0)
    assert _changed_people(tmp_path, "base", "longer") == 0


@pytest.mark.slow
def test_a_binding_change_moves_only_the_people_it_must(tmp_path):
    # MIX_100: the reference retrains 10 (cap 0.2·80 = 16); a cap of 0.1·80 = 8 takes 2 of them back
    write_group(tmp_path / "data", MIX_100, [unit("U1")])
    base = _solve(tmp_path, "base")
    assert base.summary["counts"]["sequence_move"] == 10
    capped = _solve(tmp_path, "capped", ["mobility.operations_to_technical=0.1"], base)
    assert capped.summary["counts"]["sequence_move"] == 8 and capped.summary["status"] == "target_missed"
    assert _stability(capped)["objective"] == pytest.approx(2)
    assert _changed_people(tmp_path, "base", "capped") == 2


def _tiny() -> tuple[LinearModel, Solution]:
    """Two integer flows a, b ∈ [0, 10] with a + b = 5, solved at a = 3, b = 2."""
    model = LinearModel()
    a, b = model.add_var("flow[a,y1]", 0, 10, integer=True), model.add_var("flow[b,y1]", 0, 10, integer=True)
    model.add_row("r", {a: 1.0, b: 1.0}, lo=5.0, hi=5.0)
    model.add_objective("cost", {a: 1.0, b: 1.0})
    stage = StageResult("cost", "optimal", 5.0, 5.0, 0.0, 0.1)
    return model, Solution("optimal", np.array([3.0 + 1e-9, 2.0]), [stage], {"cost": 5.0})


def test_reference_flows_map_by_position_or_by_name_and_survive_the_file(tmp_path):
    model, solution = _tiny()
    scenario = build_scenario(json.loads(json.dumps(QUIET)), "test")
    reference = make_reference(model, 1, scenario, 1.0, solution, "runs/base", [0, 1])
    assert reference_flows(reference, model, [0, 1]) == {0: 3.0, 1: 2.0}
    save_reference(reference, tmp_path / REFERENCE_FILE)
    loaded = load_reference(tmp_path)
    assert loaded.flow_names == ["flow[a,y1]", "flow[b,y1]"]
    # another model: b first, a new flow c (nobody took it in the reference), a gone
    other = LinearModel()
    b, c = other.add_var("flow[b,y1]", 0, 10, integer=True), other.add_var("flow[c,y1]", 0, 10, integer=True)
    other.add_row("r", {b: 1.0, c: 1.0}, lo=5.0, hi=5.0)
    assert reference_flows(loaded, other, [b, c]) == {b: 2.0, c: 0.0}
    # a reference file from before the flow names: by position still, by name refused (exit 2)
    old = replace(loaded, flow_names=None, flow_values=None)
    assert reference_flows(old, model, [0, 1]) == {0: 3.0, 1: 2.0}
    with pytest.raises(InputError) as refused:
        reference_flows(old, other, [b, c])
    assert "reference.npz" in str(refused.value) and "solve the reference again" in str(refused.value)


@pytest.mark.parametrize(("mode", "terms"), [("lexicographic", ["mix", "cost", "stability", "disruption"]),
                                             ("weighted", ["weighted", "stability"])])
def test_the_stability_stage_follows_the_goals_in_either_mode(mode, terms):
    # a + b = 5 at cost 5 whatever the split: the anchor a = 4, b = 1 is kept, and nothing changes
    model, _ = _tiny()
    scenario = build_scenario(json.loads(json.dumps(QUIET)), "test", [f"objective.mode={mode}"])
    solution = solve_model(model, scenario, 1.0, anchor={0: 4.0, 1: 1.0})
    assert solution.values.round().tolist() == [4.0, 1.0] and solution.terms == {"cost": pytest.approx(5.0)}
    assert [stage.term for stage in solution.stages] == terms
    stability = _stage(solution, "stability")
    assert (stability.status, stability.objective) == ("optimal", pytest.approx(0.0))
    assert model.n_vars == 2  # the change variables live on a copy of the model
    plain = solve_model(_tiny()[0], scenario, 1.0)
    assert [stage.term for stage in plain.stages] == [term for term in terms if term != "stability"]


def test_the_stability_stage_follows_the_last_goal_a_what_if_can_ask_for():
    assert stage_order(["mix", "cost", "disruption"], True) == ["mix", "cost", "stability", "disruption"]
    assert stage_order(["disruption", "mix", "cost"], True) == ["disruption", "mix", "cost", "stability"]
    assert stage_order(["mix", "disruption", "cost"], True) == ["mix", "disruption", "cost", "stability"]
    assert stage_order(["redundancy", "cost"], True) == ["redundancy", "cost", "stability"]
    assert stage_order(["mix", "cost", "disruption"], False) == ["mix", "cost", "disruption"]


def test_the_disruption_tie_break_does_not_move_the_reference_people():
    # a + b = 5 at cost 5 whatever the split, but only a disrupts: alone, the tie-break takes a = 0, b = 5; with
    # the reference's a = 4, b = 1 the stability stage comes first and keeps it (4 disruptions, nobody changed)
    model, _ = _tiny()
    model.add_objective("disruption", {0: 1.0})
    scenario = build_scenario(json.loads(json.dumps(QUIET)), "test")
    alone = solve_model(model.copy(), scenario, 1.0)
    assert alone.values.round().tolist() == [0.0, 5.0] and alone.terms["disruption"] == pytest.approx(0.0)
    anchored = solve_model(model, scenario, 1.0, anchor={0: 4.0, 1: 1.0})
    assert anchored.values.round().tolist() == [4.0, 1.0] and anchored.terms["disruption"] == pytest.approx(4.0)
    assert _stage(anchored, "stability").objective == pytest.approx(0.0)
    assert _stage(anchored, "disruption").objective == pytest.approx(4.0)


def test_sweep_points_keep_the_base_plans_year1_actions(tmp_path):
    # Every point of a sweep is planned against the scenario's own plan (OUT/base): a looser mobility cap ties
    # on every goal, so each point names exactly the base plan's people, and says so by its stability stage.
    from click.testing import CliRunner

    from optimizer.cli import main

    write_group(tmp_path / "data", TWIN_UNITS, [unit("U1"), unit("U2")])
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(json.dumps(REACH_30_EXACTLY), encoding="utf-8")
    out = tmp_path / "sweep"
    result = CliRunner().invoke(main, ["sweep", str(scenario), "--grid", "mobility.operations_to_technical=0.25,0.3",
                                       "--data", str(tmp_path / "data"), "--out", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    base_actions = (out / "base" / "actions.csv").read_bytes()
    table = pd.read_csv(out / "sweep.csv")
    assert table["stage.stability"].tolist() == ["optimal", "optimal"]
    for run in table["run"]:
        assert (out / run / "actions.csv").read_bytes() == base_actions
        assert len(compare_runs([out / "base", out / run])["people"]) == 0
        summary = json.loads((out / run / "summary.json").read_text(encoding="utf-8"))
        assert summary["solver"]["reuse"]["reference"] == str(out / "base")  # where it is, not where it was staged


def _dearer_b() -> LinearModel:
    """Two integer flows a, b ∈ [0, 10] with a + b = 5, cost a + 1.0005·b: the optimum is a = 5 (cost 5); the
    reference's a = 0, b = 5 costs 5.0025, 0.05% above it."""
    model = LinearModel()
    a, b = model.add_var("flow[a,y1]", 0, 10, integer=True), model.add_var("flow[b,y1]", 0, 10, integer=True)
    model.add_row("r", {a: 1.0, b: 1.0}, lo=5.0, hi=5.0)
    model.add_objective("cost", {a: 1.0, b: 1.0005})
    return model


@pytest.mark.parametrize(("stability_gap", "kept"), [(0.001, True), (0.0, False)])
def test_a_start_keeping_the_reference_is_kept_within_the_stability_gap(stability_gap, kept):
    # from a start at the anchor (a = 0, b = 5): within 0.1% of the optimum it stays, and nobody changes; with
    # objective.stability_gap 0 the cost stage moves to a = 5 and 10 flow units change against the anchor
    scenario = build_scenario(json.loads(json.dumps(QUIET)), "test", [f"objective.stability_gap={stability_gap}"])
    solution = solve_model(_dearer_b(), scenario, 1.0, anchor={0: 0.0, 1: 5.0}, start=np.array([0.0, 5.0]))
    stability = _stage(solution, "stability")
    assert stability.status == "optimal"
    if kept:
        assert solution.values.round().tolist() == [0.0, 5.0] and solution.terms["cost"] == pytest.approx(5.0025)
        assert (stability.objective, stability.seconds) == (0.0, 0.0) and "keeps every year-1 flow" in stability.note
    else:
        assert solution.values.round().tolist() == [5.0, 0.0] and stability.objective == pytest.approx(10.0)


def test_the_reference_start_is_its_plan_where_it_holds_else_its_year1_with_later_years_solved_again():
    from optimizer.solvers.clock import Clock
    from optimizer.whatif.anchored import anchored_start

    # year 1: a + b = 5 (integer); year 2: c (continuous) ≥ a, c ≤ cap. The reference: a = 3, b = 2, c = 3.
    def model_with(cap: float, cost_c: float = 1.0) -> LinearModel:
        model = LinearModel()
        a, b = model.add_var("flow[a,y1]", 0, 10, integer=True), model.add_var("flow[b,y1]", 0, 10, integer=True)
        c = model.add_var("stock[c,y2]", 0, 10)
        model.add_row("r", {a: 1.0, b: 1.0}, lo=5.0, hi=5.0)
        model.add_row("follow", {c: 1.0, a: -1.0}, lo=0.0)
        model.add_row("cap", {c: 1.0}, hi=cap)
        model.add_objective("cost", {a: 1.0, b: 1.0, c: cost_c})
        return model

    scenario = build_scenario(json.loads(json.dumps(QUIET)), "test")
    solved = Solution("optimal", np.array([3.0, 2.0, 3.0]), [StageResult("cost", "optimal", 8.0, 8.0, 0.0, 0.1)], {})
    reference = make_reference(model_with(5.0), 3, scenario, 1.0, solved, "runs/base", [0, 1])
    anchor = {0: 3.0, 1: 2.0}
    clock = Clock.starting(10.0)
    # a looser cap: the reference's plan holds as it is
    start, how, _ = anchored_start(reference, model_with(9.0), anchor, scenario, 1.0, clock, 2)
    assert start.tolist() == [3.0, 2.0, 3.0] and how == "the reference's plan holds"
    # c costs less to hold now (the goals' coefficient changed): still holds
    start, how, _ = anchored_start(reference, model_with(5.0, 0.5), anchor, scenario, 1.0, clock, 2)
    assert how == "the reference's plan holds"
    # a cap of 4 on c breaks nothing; a row whose coefficients differ elsewhere: year 1 kept, c solved again
    other = model_with(5.0)
    other.rows[1] = replace(other.rows[1], lo=1.0)  # c ≥ a + 1: the reference's c = 3 breaks it
    start, how, _ = anchored_start(reference, other, anchor, scenario, 1.0, clock, 2)
    assert how == "the reference's year 1 kept, the later years solved again"
    assert start.round(6).tolist() == [3.0, 2.0, 4.0]
    # the reference's year 1 cannot be kept (c ≥ a + 1 and c ≤ 3): no start
    other.rows[2] = replace(other.rows[2], hi=3.0)
    start, how, _ = anchored_start(reference, other, anchor, scenario, 1.0, clock, 2)
    assert start is None and how.startswith("the reference's year 1 does not hold here")


def test_a_reference_whose_year1_breaks_a_new_cap_is_trimmed_to_it_and_the_later_years_solved_again():
    from optimizer.solvers.clock import Clock
    from optimizer.whatif.anchored import anchored_start, trimmed_year1

    # year 1: a + b ≤ 5 (integer), a ≤ 0.25·s with s = 10 people fixed (lb = ub); year 2: c ≥ a, c + d ≥ 3.
    # The reference: a = 3, b = 2 (before the cap on a). The cap allows 2.5: one person off a (the largest flow
    # of the row), b kept; then c ≥ 2 and c + d ≥ 3 at least cost: c = 3, d = 0 (d costs 2, c 1).
    model = LinearModel()
    a, b = model.add_var("flow[a,y1]", 0, 10, integer=True), model.add_var("flow[b,y1]", 0, 10, integer=True)
    s, c, d = model.add_var("stock[s,y0]", 10, 10), model.add_var("stock[c,y2]", 0, 10), model.add_var("hire[d,y2]", 0, 10)
    model.add_row("r", {a: 1.0, b: 1.0}, hi=5.0)
    model.add_row("cap_a", {a: 1.0, s: -0.25}, hi=0.0)
    model.add_row("follow", {c: 1.0, a: -1.0}, lo=0.0)
    model.add_row("enough", {c: 1.0, d: 1.0}, lo=3.0)
    model.add_objective("cost", {a: 1.0, b: 1.0, c: 1.0, d: 2.0})
    anchor = {a: 3.0, b: 2.0}
    assert trimmed_year1(model, anchor) == {a: 2.0, b: 2.0}
    scenario = build_scenario(json.loads(json.dumps(QUIET)), "test")
    reference_model = model.copy()
    reference_model.rows = [row for row in reference_model.rows if row.name != "cap_a"]
    solved = Solution("optimal", np.array([3.0, 2.0, 10.0, 3.0, 0.0]), [StageResult("cost", "optimal", 8.0, 8.0, 0.0, 0.1)], {})
    reference = make_reference(reference_model, 4, scenario, 1.0, solved, "runs/base", [a, b])
    start, how, _ = anchored_start(reference, model, anchor, scenario, 1.0, Clock.starting(10.0), 2)
    assert how == ("the reference's year 1 trimmed to the what-if's year-1 rows (1 fewer on its flows), "
                   "the later years solved again")
    assert start.round(6).tolist() == [2.0, 2.0, 10.0, 3.0, 0.0]
    # a year-1 floor the reference breaks from below is not mended: no trimmed start
    model.add_row("floor_b", {b: 1.0}, lo=3.0)
    assert trimmed_year1(model, anchor) is None


def test_the_anchored_start_leaves_the_goals_merit_solves_again_to_merit():
    from optimizer.solvers.clock import Clock
    from optimizer.solvers.staged import left_to_fixed_year1
    from optimizer.whatif.anchored import anchored_start

    # year 1: a + b = 5 (integer), the reference a = 3, b = 2; year 2: c + d ≥ 3, c a hair cheaper (cost 1 against
    # 1 + 1e-7, within the cost stage's tolerance), d moves nobody (disruption counts c). The reference's c ≥ 4
    # breaks a new row c + d ≤ 3, so the later years are solved again: with the disruption stage c = 0, d = 3;
    # left to merit's re-solve (deferred), the cost stage's c = 3, d = 0 stands
    def model_with(cap: float) -> LinearModel:
        model = LinearModel()
        a, b = model.add_var("flow[a,y1]", 0, 10, integer=True), model.add_var("flow[b,y1]", 0, 10, integer=True)
        c, d = model.add_var("flow[c,y2]", 0, 10), model.add_var("flow[d,y2]", 0, 10)
        model.add_row("r", {a: 1.0, b: 1.0}, lo=5.0, hi=5.0)
        model.add_row("enough", {c: 1.0, d: 1.0}, lo=3.0, hi=cap)
        model.add_objective("cost", {a: 1.0, b: 1.0, c: 1.0, d: 1.0 + 1e-7})
        model.add_objective("disruption", {c: 1.0})
        return model

    scenario = build_scenario(json.loads(json.dumps(QUIET)), "test")
    assert scenario.objective.order[-1] == "disruption"
    reference = make_reference(model_with(9.0), 2, scenario, 1.0, Solution(
        "optimal", np.array([3.0, 2.0, 4.0, 0.0]), [StageResult("cost", "optimal", 9.0, 9.0, 0.0, 0.1)], {}),
        "runs/base", [0, 1])
    anchor, model = {0: 3.0, 1: 2.0}, model_with(3.0)
    assert left_to_fixed_year1(stage_order(scenario.objective.order, True), model, True) == ("disruption",)
    start, how, _ = anchored_start(reference, model, anchor, scenario, 1.0, Clock.starting(10.0), 2)
    assert how == "the reference's year 1 kept, the later years solved again"
    assert start.round(6).tolist() == [3.0, 2.0, 0.0, 3.0]
    start, _, _ = anchored_start(reference, model, anchor, scenario, 1.0, Clock.starting(10.0), 2, ("disruption",))
    assert start.round(6).tolist() == [3.0, 2.0, 3.0, 0.0]
    # an LP model (solver.integer_year1 false) plans its later years in the goals' solve: nothing is left
    assert left_to_fixed_year1(["mix", "cost", "stability", "disruption"], LinearModel(), True) == ()


def test_a_start_that_breaks_an_earlier_goal_is_not_kept():
    # the mix miss m ≥ 1 − a: the anchor a = 0, b = 5 misses the mix by 1. The shortcut fixes the mix at 0 and
    # solves the cost stage (a = 5 at cost 5); the start is within 0.1% of that cost but breaks the mix row, so
    # the stage's own plan stands, and the stability stage then counts the 10 flow units that moved
    model = _dearer_b()
    m = model.add_var("mix_miss", 0, 10)
    model.add_row("miss", {m: 1.0, 0: 1.0}, lo=1.0)
    model.add_objective("mix", {m: 1.0})
    scenario = build_scenario(json.loads(json.dumps(QUIET)), "test")
    solution = solve_model(model, scenario, 1.0, anchor={0: 0.0, 1: 5.0}, start=np.array([0.0, 5.0, 1.0]))
    assert solution.terms["mix"] == pytest.approx(0.0) and solution.values[:2].round().tolist() == [5.0, 0.0]
    assert _stage(solution, "stability").objective == pytest.approx(10.0)


def test_the_fewest_changes_bound_counts_the_broken_year1_rows_that_share_no_flow():
    from optimizer.solvers.stability import fewest_changes

    # The reference: a = 3, b = 2, c = 4, d = 1 (whole), e = 1 (continuous), s = 4 people (fixed), g free.
    model = LinearModel()
    a, b, c, d = (model.add_var(f"flow[{n},y1]", 0, 10, integer=True) for n in "abcd")
    e, s, g = model.add_var("flow[e,y1]", 0, 10), model.add_var("stock[s,y0]", 4, 4), model.add_var("later[g]", 0, 9)
    model.add_row("r1", {a: 1.0, b: 1.0}, hi=4.96)       # broken by 0.04: one person
    model.add_row("r2", {c: 1.0, s: -0.5}, hi=0.0)       # c ≤ 2, broken by 2: two people
    model.add_row("r3", {a: 1.0, d: 1.0}, hi=3.0)        # broken by 1, but shares a with r1
    model.add_row("r4", {e: 1.0}, hi=0.0)                # a continuous flow: any share of a person
    model.add_row("r5", {a: 1.0, g: 1.0}, hi=0.0)        # a later-year variable: not year 1's alone
    anchor = {a: 3.0, b: 2.0, c: 4.0, d: 1.0, e: 1.0}
    assert fewest_changes(model, anchor) == 3            # r2 (2) + r1 (1); r3 overlaps r1, r4 and r5 skipped
    # the bound is the optimum here: a 3 → 2 mends r1 and r3 at once, c 4 → 2 mends r2
    model.rows.pop()                                     # without r5 (it asks a ≤ 0: more changes)
    model.add_objective("cost", {g: 1.0})
    scenario = build_scenario(json.loads(json.dumps(QUIET)), "test")
    alone = solve_model(model.copy(), scenario, 1.0, anchor={var: v for var, v in anchor.items() if var != e})
    assert _stage(alone, "stability").objective == pytest.approx(3.0)


def test_a_start_changing_no_more_than_the_bound_is_proven_without_a_solve(tmp_path):
    # MIX_100: the cap row of year 1 takes 2 moves back from the reference's 10; the trimmed start changes 2
    write_group(tmp_path / "data", MIX_100, [unit("U1")])
    base = _solve(tmp_path, "base")
    capped = _solve(tmp_path, "capped", ["mobility.operations_to_technical=0.1"], base)
    stage = _stability(capped)
    assert (stage["status"], stage["objective"], stage["seconds"]) == ("optimal", pytest.approx(2), 0.0)
    assert stage["note"].startswith("no plan changes fewer")


def _cheaper_a(cap_a: float) -> LinearModel:
    """a + b = 5 (whole), a ≤ cap_a, cost a + 1.002·b: the optimum takes as much a as the cap allows."""
    model = LinearModel()
    a, b = model.add_var("flow[a,y1]", 0, 10, integer=True), model.add_var("flow[b,y1]", 0, 10, integer=True)
    model.add_row("r", {a: 1.0, b: 1.0}, lo=5.0, hi=5.0)
    model.add_row("cap", {a: 1.0}, hi=cap_a)
    model.add_objective("cost", {a: 1.0, b: 1.002})
    return model


def test_a_tightening_what_if_carries_the_references_bounds_over():
    from optimizer.solvers.reuse import inherited_bounds

    scenario = build_scenario(json.loads(json.dumps(QUIET)), "test")
    solved = solve_model(_cheaper_a(10.0), scenario, 1.0)  # a = 5, cost 5, proven
    assert solved.values.round().tolist() == [5.0, 0.0]
    reference = make_reference(_cheaper_a(10.0), 2, scenario, 1.0, solved, "runs/base", [0, 1])
    proven = inherited_bounds(reference, _cheaper_a(4.5), scenario, 1.0)
    assert [(term, round(value, 9), round(bound, 9)) for term, value, bound in proven][:2] == [
        ("mix", 0.0, 0.0), ("cost", 5.0, 5.0)]
    assert inherited_bounds(reference, _cheaper_a(11.0), scenario, 1.0) == []  # looser: S' ⊄ S
    # a ≤ 4.5: the optimum a = 4, b = 1 costs 5.002, 0.04% above the reference's bound 5, within the 0.1%
    # stability gap: the start is the cost stage's plan with no solve ("feasible": beyond solver.gap 0.01%)
    anchor = {0: 5.0, 1: 0.0}
    kept = solve_model(_cheaper_a(4.5), scenario, 1.0, anchor=anchor, start=np.array([4.0, 1.0]), proven=proven)
    cost = _stage(kept, "cost")
    assert (cost.status, cost.stopped_by, cost.seconds, cost.bound) == ("feasible", "gap", 0.0, 5.0)
    assert cost.objective == pytest.approx(5.002) and "reference's bound" in cost.note
    assert kept.values.round().tolist() == [4.0, 1.0] and _stage(kept, "stability").objective == pytest.approx(2)
    # a start 0.2% above the bound (a = 0, b = 5) is beyond it: the cost stage is solved and finds a = 4
    solved_again = solve_model(_cheaper_a(4.5), scenario, 1.0, anchor=anchor, start=np.array([0.0, 5.0]),
                               proven=proven)
    assert _stage(solved_again, "cost").note == "" and solved_again.values.round().tolist() == [4.0, 1.0]

