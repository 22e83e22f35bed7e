"""Unit grades over time: reviews inside the horizon, worked out by hand.

The shipped grading (models.scenario.DEFAULT_GRADES): A pays coefficient 1.2 and admits technical tiers ≤ 8,
B 1.1 / 7, C 1.0 / 6, D 0.9 / 5. Units whose four scores are 60 grade C. Pay (tests.builders.pay_table with
8 tiers): technical base = 60,000 + 10,000·(tier − 1) + 1,000·(grade − 1), so T5G1 100,000, T6G1 110,000,
T7G1 120,000, T8G1 130,000. Every solve goes through the real pipeline and the independent verifier.
"""

from __future__ import annotations

import json

import numpy as np
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from models.grading import grade_path, review_years
from models.scenario import ScenarioError, UnitGrading, UnitReview
from models.scenario_files import build_scenario
from optimizer.cli import main
from optimizer.pipeline import run_plan
from optimizer.plan.grades import grade_changes
from optimizer.simulate.engine import simulate
from optimizer.simulate.folder import load_plan_inputs
from optimizer.whatif.sentences import diagnosis_sentences
from optimizer.whatif.sweep import grid_points, parse_grid
from reports.excel import write_graded_workbook
from reports.html import write_graded_report
from tests.builders import QUIET, pay_of, pay_table, people, solve_group, unit, write_group

FLOOR = ["promotion.tier_rate=0.5", "promotion.tier_rate_floor=0.5"]
"""Half the eligible stock of every (unit, sequence, tier) must be promoted wherever a promotion may land."""


def _units(**extra) -> pd.DataFrame:
    return pd.DataFrame([unit("U1", 60.0, **extra), unit("U2", 90.0)])


def test_reviews_fall_every_cycle_after_the_last_one():
    assert review_years(0, 3, 3) == [3]
    assert review_years(-1, 3, 5) == [2, 5]
    assert review_years(-2, 3, 1) == [1]
    assert review_years(-5, 3, 7) == [1, 4, 7]
    assert review_years(0, 3, 2) == []


def test_grade_path_from_projected_scores_a_given_grade_and_unchanged_scores():
    # U1 (60 → C) last reviewed in year −1: reviews in years 2 and 5. Year 2 projects strategic and innovation
    # 100 (score 0.3·100 + 0.3·60 + 0.2·60 + 0.2·100 = 80 → B); year 5 is not listed: scores unchanged, B again.
    # U2 (90 → A), last review 0: reviewed in year 3, given grade D outright.
    grading = UnitGrading(reviews=[
        UnitReview(unit="U1", year=2, scores={"strategic": 100, "innovation": 100}),
        UnitReview(unit="U2", year=3, grade="D"),
    ])
    units = pd.DataFrame([unit("U1", 60.0, last_review=-1), unit("U2", 90.0, last_review=0)])
    path = grade_path(units, grading, 5).set_index(["unit_id", "year"])
    assert path.loc["U1", "grade"].tolist() == ["C", "C", "B", "B", "B", "B"]
    assert path.loc[("U1", 2), "score"] == pytest.approx(80.0)
    assert path.loc["U1", "pay_coefficient"].tolist() == [1.0, 1.0, 1.1, 1.1, 1.1, 1.1]
    assert path.loc["U2", "grade"].tolist() == ["A", "A", "A", "D", "D", "D"]
    assert path.loc["U2", "max_tier"].tolist() == [8, 8, 8, 5, 5, 5]
    assert path.loc["U1", "review"].tolist() == [False, False, True, False, False, True]


def test_a_fixed_grade_holds_until_the_first_review_then_the_scores_decide():
    units = pd.DataFrame([unit("U1", 60.0, grade="A", last_review=-2)])
    assert grade_path(units, UnitGrading(), 2)["grade"].tolist() == ["A", "C", "C"]


def test_a_review_outside_the_units_review_years_is_refused_with_its_years():
    grading = UnitGrading(reviews=[UnitReview(unit="U1", year=2, grade="A"),
                                   UnitReview(unit="U9", year=3, grade="A")])
    with pytest.raises(ScenarioError) as raised:
        grade_path(_units(), grading, 3)
    assert raised.value.problems == [
        "unit_grading.reviews: unit 'U1' in year 2: not a review year of the unit (last review 0, every 3 years: "
        "reviews in years 3 of 1..3)",
        "unit_grading.reviews: unit 'U9' in year 3: the unit is not in the units table",
    ]


def test_a_review_needs_scores_or_a_grade_and_a_known_band_within_the_horizon():
    with pytest.raises(ScenarioError) as raised:
        build_scenario({}, "test", ["unit_grading.reviews[unit=U1,year=2].grade=Z",
                                    "unit_grading.reviews[unit=U2,year=9].grade=A"])
    text = "\n".join(raised.value.problems)
    assert "grade 'Z' of unit 'U1' in year 2 is not a band of unit_grading.grades (A, B, C, D)" in text
    assert "unit 'U2' is reviewed in year 9, beyond the horizon 3" in text
    with pytest.raises(ScenarioError, match="needs scores or a grade"):
        build_scenario({"unit_grading": {"reviews": [{"unit": "U1", "year": 1}]}}, "test")


def test_set_adds_a_review_or_changes_the_one_of_that_unit_and_year():
    base = {"unit_grading": {"reviews": [{"unit": "U1", "year": 3, "scores": {"strategic": 90}}]}}
    scenario = build_scenario(base, "test", ["unit_grading.reviews[unit=U1,year=3].grade=A",
                                             "unit_grading.reviews[unit=007,year=3].scores.innovation=95"])
    reviews = {(r.unit, r.year): r for r in scenario.unit_grading.reviews}
    assert set(reviews) == {("U1", 3), ("007", 3)}
    assert (reviews[("U1", 3)].grade, reviews[("U1", 3)].scores.strategic) == ("A", 90)
    assert (reviews[("007", 3)].grade, reviews[("007", 3)].scores.innovation) == (None, 95)
    assert scenario.applied_overrides == ["unit_grading.reviews[unit=U1,year=3].grade: None → 'A'",
                                          "unit_grading.reviews[unit=007,year=3].scores.innovation: None → 95"]
    with pytest.raises(ScenarioError, match=r"must look like list\[field=value,...\]"):
        build_scenario({}, "test", ["unit_grading.reviews[U1].grade=A"])


def test_a_given_grade_decides_over_projected_scores():
    grading = UnitGrading(reviews=[UnitReview(unit="U1", year=3, scores={"strategic": 100}, grade="D")])
    path = grade_path(_units(), grading, 3).set_index(["unit_id", "year"])
    assert (path.loc[("U1", 3), "grade"], path.loc[("U1", 3), "score"]) == ("D", pytest.approx(72.0))


def test_a_sweep_grid_can_range_over_a_reviews_grade():
    grid = parse_grid("unit_grading.reviews[unit=U1,year=3].grade=A,B,C")
    assert (grid.key, grid.values) == ("unit_grading.reviews[unit=U1,year=3].grade", ("A", "B", "C"))
    points = grid_points([grid])
    grades = [build_scenario({}, "test", p.overrides).unit_grading.reviews[0].grade for p in points]
    assert grades == ["A", "B", "C"]


# ------------------------------------------------------------------------------------------------ solves


def _table(solved, name: str) -> pd.DataFrame:
    return solved.table(name)


@pytest.mark.slow
def test_regraded_c_to_a_in_year_2_pays_1_2_and_opens_tier_8_from_year_2(tmp_path):
    # U1 (C) last reviewed in year −1: its review falls in year 2 and grades it A. Ten technical T7G1 people
    # (above C's cap 6 from the start: they keep their tier). Year 1: no promotion to tier 8 can land (cap 6),
    # payroll 10 × 120,000 × 1.0 = 1,200,000. Year 2: the cap is 8, the floor promotes 0.5 × 10 = 5 to T8G1,
    # payroll (5 × 120,000 + 5 × 130,000) × 1.2 = 1,500,000; without the change 1,250,000: it costs 250,000.
    group = people("U1", "technical", 10, tier=7)
    overrides = ["horizon=2", "mix.deadline=2", *FLOOR, "unit_grading.reviews[unit=U1,year=2].grade=A"]
    solved = solve_group(tmp_path / "regraded", group, [unit("U1", last_review=-1)], overrides,
                         base={**QUIET, "unit_grading": {}}, pay=pay_table(8))
    assert solved.exit_code == 0
    units = _table(solved, "units")
    assert units[["year", "grade", "pay_coefficient", "max_tier"]].values.tolist() == [
        [0, "C", 1.0, 6], [1, "C", 1.0, 6], [2, "A", 1.2, 8]]
    assert solved.flow("tier_promotion", 1) == 0
    assert solved.flow("tier_promotion", 2) == pytest.approx(5)
    budget = _table(solved, "budget").set_index(["unit_id", "year"])
    assert budget.loc[("U1", 1), "payroll"] == pytest.approx(1_200_000)
    assert budget.loc[("U1", 2), "payroll"] == pytest.approx(1_500_000)
    actions = _table(solved, "actions")
    assert set(actions["action"]) == {"stay"}
    assert (actions["old_salary"] == 120_000).all() and (actions["new_salary"] == 120_000).all()
    changes = grade_changes(units, _table(solved, "budget"))
    assert changes[["unit_id", "year", "until", "from_grade", "to_grade"]].values.tolist() == [["U1", 2, 2, "C", "A"]]
    assert changes.loc[0, ["payroll", "payroll_without", "cost"]].tolist() == pytest.approx(
        [1_500_000, 1_250_000, 250_000])

    html = write_graded_report(solved.folder).read_text(encoding="utf-8")
    assert "C → A (year 2)" in html and "1 → 1.2" in html and "6 → 8" in html
    assert "<td>U1</td><td>2–2</td><td>C → A</td>" in html and "+0.25" in html  # CNY m: the change's cost
    book = openpyxl.load_workbook(write_graded_workbook(solved.folder), read_only=True)
    rows = [tuple(v for v in row if v is not None) for row in book["Grades"].iter_rows(values_only=True)]
    rows = [row for row in rows if row]
    assert rows[1:3] == [("unit_id", "name", "year 0", "year 1", "year 2"), ("U1", "单位U1", "C", "C", "A")]
    assert rows[5][:6] == ("U1", "单位U1", 2, 2, "C", "A") and rows[5][-3:] == pytest.approx((1_500_000, 1_250_000, 250_000))

    unchanged = solve_group(tmp_path / "unchanged", group, [unit("U1", last_review=-1)], overrides[:-1],
                            base={**QUIET, "unit_grading": {}}, pay=pay_table(8))
    assert unchanged.flow("tier_promotion", 2) == 0  # still C in year 2: tier 8 stays closed
    assert _table(unchanged, "units")["grade"].tolist() == ["C", "C", "C"]


@pytest.mark.slow
def test_a_unit_lowered_to_d_keeps_its_tier_6_people_and_lands_no_one_new_above_tier_5(tmp_path):
    # U1 (C, cap 6) is reviewed in year 1 (last review −2) and lowered to D (0.9, cap 5). Four T6G1 people and
    # ten T5G1 people; the floor asks to promote half of every tier where a promotion may land. Year 1: no
    # promotion to tier 6 (cap 5) nor 7; the four stay on tier 6 at their pay (coefficient 1.0 kept):
    # payroll 4 × 110,000 × 1.0 + 10 × 100,000 × 0.9 = 1,340,000. Kept at C, five T5 people would be promoted.
    group = [*people("U1", "technical", 4, tier=6), *people("U1", "technical", 10, tier=5, first=4)]
    overrides = ["horizon=1", *FLOOR, "unit_grading.reviews[unit=U1,year=1].grade=D"]
    solved = solve_group(tmp_path / "lowered", group, [unit("U1", last_review=-2)], overrides,
                         base={**QUIET, "unit_grading": {}}, pay=pay_table(8))
    assert solved.exit_code == 0
    assert solved.flow("tier_promotion", 1) == 0
    assert solved.headcount(1, tier=6) == 4 and solved.headcount(1, tier=5) == 10
    budget = _table(solved, "budget").set_index(["unit_id", "year"])
    assert budget.loc[("U1", 0), "payroll"] == pytest.approx(1_440_000)
    assert budget.loc[("U1", 1), "payroll"] == pytest.approx(1_340_000)
    assert budget.loc[("U1", 0), "red_circled_payroll"] == 0  # year 0's cap admits tier 6
    assert budget.loc[("U1", 1), "red_circled_payroll"] == pytest.approx(440_000)  # the four, at 1.0
    # the change costs −100,000: without it the ten on tier 5 are paid 100,000 each, the four 110,000 either way
    changes = grade_changes(_table(solved, "units"), _table(solved, "budget"))
    assert changes.loc[0, ["payroll", "payroll_without", "cost"]].tolist() == pytest.approx(
        [1_340_000, 1_440_000, -100_000])
    actions = _table(solved, "actions").set_index("employee_id")
    assert actions.loc["U1-T0000", "new_salary"] == pytest.approx(110_000)  # above the cap: pay kept
    assert actions.loc["U1-T0004", "new_salary"] == pytest.approx(90_000)  # within it: the D coefficient

    kept_c = solve_group(tmp_path / "kept", group, [unit("U1", last_review=-2)], overrides[:-1],
                         base={**QUIET, "unit_grading": {}}, pay=pay_table(8))
    assert kept_c.flow("tier_promotion", 1) == 5  # C admits tier 6: the floor promotes half of tier 5


@pytest.mark.slow
def test_a_missed_budget_is_diagnosed_with_the_regrade_that_would_meet_it(tmp_path):
    # U1 (C) is reviewed in year 1 (last review −2). Ten technical T1G1 people: payroll(0) = 600,000 = the cap
    # (growth 0). The floor forces 5 grade steps (+1,000 each): 605,000, 5,000 over. Graded D at the review,
    # year 1 pays 0.9 × 605,000 = 544,500: the budget holds. The diagnosis names that re-grade in words.
    data = write_group(tmp_path / "data", people("U1", "technical", 10), [unit("U1", last_review=-2)])
    overrides = ["budget.growth=0", "promotion.grade_rate=0.5", "promotion.grade_rate_floor=0.5"]
    scenario = build_scenario({**QUIET, "unit_grading": {}}, "test", overrides)
    summary = run_plan(scenario, data, tmp_path / "plan", diagnose=True).summary
    assert summary["exit_code"] == 3
    key = "unit_grading.reviews[unit=U1,year=1].grade"
    regrade = next(r for r in summary["diagnosis"]["relaxations"] if r["key"] == key)
    assert (regrade["from"], regrade["to"], regrade["restores"]) == ("C", "D", True)
    assert regrade["set"] == [f'{key}="D"']
    sentences = " ".join(diagnosis_sentences(summary["diagnosis"]))
    assert "unit U1 graded D at its year-1 review" in sentences
    applied = solve_group(tmp_path / "applied", people("U1", "technical", 10), [unit("U1", last_review=-2)],
                          [*overrides, *regrade["set"]], base={**QUIET, "unit_grading": {}})
    assert applied.exit_code == 0
    budget = applied.table("budget").set_index(["unit_id", "year"])
    assert budget.loc[("ALL", 1), "total"] == pytest.approx(544_500)


def test_each_grade_change_is_priced_over_the_years_it_holds():
    # U1: C (1.0) → A (1.2) in year 2 → D (0.9) in year 4; U2 never changes. Payroll of U1: 100 a year at the
    # coefficient of the year. The C → A change holds years 2–3: 120 + 120 with it, 100 + 100 without (× 1.0/1.2).
    # The A → D change holds years 4–5: 90 + 90 with it, 120 + 120 without (× 1.2/0.9): it saves 60.
    # U1's people are paid 30 a year above the table (their premium): it is in the payroll, with the change and
    # without it alike (a review re-prices the table part only), so the costs stay 40 and −60. From year 4 U1 also
    # has people above D's cap paid 24 a year at the A coefficient they keep (red-circled): the same with the
    # change and without it, not re-priced (re-priced, the change would seem to save 76).
    grades = ["C", "C", "A", "A", "D", "D"]
    coefficient = {"A": 1.2, "C": 1.0, "D": 0.9}
    tiers = {"A": 8, "C": 6, "D": 5}
    units = pd.DataFrame(
        [(t, "U1", "one", 60.0, g, coefficient[g], tiers[g]) for t, g in enumerate(grades)]
        + [(t, "U2", "two", 90.0, "A", 1.2, 8) for t in range(6)],
        columns=["year", "unit_id", "name", "score", "grade", "pay_coefficient", "max_tier"])
    kept = [0.0, 0.0, 0.0, 0.0, 24.0, 24.0]
    budget = pd.DataFrame([("U1", t, 100.0 * coefficient[g] + 30.0 + kept[t], 100.0 * coefficient[g] + kept[t], kept[t])
                           for t, g in enumerate(grades)]
                          + [("U2", t, 50.0, 50.0, 0.0) for t in range(6)] + [("ALL", t, 0.0, 0.0, 0.0) for t in range(6)],
                          columns=["unit_id", "year", "payroll", "table_payroll", "red_circled_payroll"])
    changes = grade_changes(units, budget)
    assert changes[["unit_id", "year", "until", "from_grade", "to_grade", "from_max_tier", "to_max_tier"]].values.tolist() == [
        ["U1", 2, 3, "C", "A", 6, 8], ["U1", 4, 5, "A", "D", 8, 5]]
    assert changes["payroll"].tolist() == pytest.approx([300.0, 288.0])
    assert changes["payroll_without"].tolist() == pytest.approx([260.0, 348.0])
    assert changes["cost"].tolist() == pytest.approx([40.0, -60.0])


@pytest.mark.slow
def test_a_sweep_over_the_grade_of_a_review_plans_each_grade(tmp_path):
    # Ten technical T1G1 people (60,000) in U1, reviewed in year 1 (last review −2): graded A, C or D there,
    # year 1's payroll is 600,000 × 1.2, × 1.0, × 0.9 (nobody moves in the QUIET scenario).
    data = write_group(tmp_path / "data", people("U1", "technical", 10), [unit("U1", last_review=-2)])
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(json.dumps({**QUIET, "unit_grading": {}, "budget": {"growth": 1.0}}), encoding="utf-8")
    key = "unit_grading.reviews[unit=U1,year=1].grade"
    out = tmp_path / "sweep"
    result = CliRunner().invoke(main, ["sweep", str(scenario), "--grid", f"{key}=A,C,D", "--data", str(data),
                                       "--out", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "sweep.csv")
    assert table[key].tolist() == ["A", "C", "D"] and table["exit_code"].tolist() == [0, 0, 0]
    assert table["objective.cost"].tolist() == pytest.approx([720_000, 600_000, 540_000])
    for run, grade in zip(table["run"], "ACD"):
        assert pd.read_csv(out / run / "units.csv")["grade"].tolist() == ["C", grade]


@pytest.mark.slow
def test_the_simulation_prices_each_year_at_that_years_coefficient(tmp_path):
    # U2 is reviewed in year 2 and graded A (1.2): with nobody leaving, every simulated year's payroll is the
    # plan's (budget.csv), years 2 and 3 at U2's new coefficient.
    base = {**QUIET, "horizon": 3, "mix": {**QUIET["mix"], "deadline": 3}, "unit_grading": {},
            "promotion": {**QUIET["promotion"], "grade_rate": 0.3, "grade_rate_floor": 0.3},
            "attrition": {"management": 0.0, "technical": 0.0, "operations": 0.0}}
    group = people("U1", "technical", 10) + people("U2", "technical", 8, tier=2)
    solved = solve_group(tmp_path, group, [unit("U1"), unit("U2", last_review=-1)],
                         ["unit_grading.reviews[unit=U2,year=2].grade=A"], base=base)
    units = solved.table("units")
    assert units[units["unit_id"] == "U2"]["grade"].tolist() == ["C", "C", "A", "A"]
    inputs, _ = load_plan_inputs(solved.folder)
    outcomes = simulate(inputs, 50, seed=3)
    budget = solved.table("budget")
    totals = budget[budget["unit_id"] == "ALL"].set_index("year")
    for year in (1, 2, 3):
        assert np.allclose(outcomes.payroll[:, year - 1], totals.loc[year, "payroll"], rtol=1e-9)
    heads = solved.table("headcount")
    heads = heads[heads["unit_id"] == "U2"]
    base_pay = heads.assign(base=[pay_of(s, t, g) * n for s, t, g, n in
                                  heads[["sequence", "tier", "grade", "headcount"]].itertuples(index=False)])
    base_pay = base_pay.groupby("year")["base"].sum()
    u2 = budget[budget["unit_id"] == "U2"].set_index("year")["payroll"]
    assert [u2[t] / base_pay[t] for t in range(4)] == pytest.approx([1.0, 1.0, 1.2, 1.2])
