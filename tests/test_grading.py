"""Unit grading: weighted scores, band boundaries, fixed grades, custom grading from a scenario."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.grading import grade_for_score, grade_units, unit_scores
from models.io import InputError
from models.scenario import UnitGrading
from models.scenario_files import build_scenario

DEFAULT = UnitGrading()  # weights 0.3/0.3/0.2/0.2; A ≥ 85, B ≥ 70, C ≥ 55, D ≥ 0


def units(*rows: tuple, grades: list[str] | None = None) -> pd.DataFrame:
    """rows of (unit_id, strategic, efficiency, governance, innovation)."""
    frame = pd.DataFrame(rows, columns=["unit_id", "strategic", "efficiency", "governance", "innovation"])
    frame.insert(1, "name", [f"单位{u}" for u in frame["unit_id"]])
    if grades is not None:
        frame["grade"] = grades
    return frame


def test_weighted_score_by_hand():
    table = units(
        ("U1", 90, 80, 70, 60),   # 27 + 24 + 14 + 12 = 77
        ("U2", 100, 0, 50, 25),   # 30 + 0 + 10 + 5 = 45
        ("U3", 62.5, 71.5, 88.0, 93.0),  # 18.75 + 21.45 + 17.6 + 18.6 = 76.4
    )
    assert unit_scores(table, DEFAULT).tolist() == pytest.approx([77.0, 45.0, 76.4])
    graded = grade_units(table, DEFAULT)
    assert graded["score"].tolist() == pytest.approx([77.0, 45.0, 76.4])
    assert graded["grade"].tolist() == ["B", "D", "B"]


@pytest.mark.parametrize(
    ("score", "grade"),
    [(100, "A"), (85, "A"), (84.99, "B"), (70, "B"), (69.999, "C"), (55, "C"), (54.9, "D"), (0, "D")],
)
def test_band_boundaries(score, grade):
    assert grade_for_score(np.array([score]), DEFAULT).tolist() == [grade]


def test_a_weighted_score_of_exactly_85_is_grade_a():
    # 0.3·70 + 0.3·82 + 0.2·98 + 0.2·99 = 21 + 24.6 + 19.6 + 19.8 = 85, which floating point makes 84.99999999999999
    assert 70 * 0.3 + 82 * 0.3 + 98 * 0.2 + 99 * 0.2 < 85
    graded = grade_units(units(("U1", 70, 82, 98, 99), ("U2", 85, 85, 85, 85), ("U3", 70, 70, 70, 70)), DEFAULT)
    assert graded["score"].tolist() == [85.0, 85.0, 70.0]
    assert graded["grade"].tolist() == ["A", "A", "B"]


def test_pay_coefficient_and_max_tier_follow_the_grade():
    graded = grade_units(units(("A", 90, 90, 90, 90), ("B", 75, 75, 75, 75), ("C", 60, 60, 60, 60),
                               ("D", 10, 10, 10, 10)), DEFAULT)
    assert graded["grade"].tolist() == ["A", "B", "C", "D"]
    assert graded["pay_coefficient"].tolist() == [1.20, 1.10, 1.00, 0.90]
    assert graded["max_tier"].tolist() == [8, 7, 6, 5]
    assert graded.columns.tolist() == ["unit_id", "name", "score", "computed_grade", "grade", "grade_source",
                                       "pay_coefficient", "max_tier"]
    assert graded["name"].tolist() == ["单位A", "单位B", "单位C", "单位D"]


def test_a_fixed_grade_wins_and_blank_grades_are_computed():
    table = units(("U1", 90, 90, 90, 90), ("U2", 90, 90, 90, 90), ("U3", 40, 40, 40, 40), ("U4", 40, 40, 40, 40),
                  grades=["C", "", " B ", None])
    graded = grade_units(table, DEFAULT)
    assert graded["computed_grade"].tolist() == ["A", "A", "D", "D"]
    assert graded["grade"].tolist() == ["C", "A", "B", "D"]
    assert graded["grade_source"].tolist() == ["fixed", "computed", "fixed", "computed"]
    # the coefficient and the tier cap follow the grade in force, not the computed one
    assert graded["pay_coefficient"].tolist() == [1.00, 1.20, 1.10, 0.90]
    assert graded["max_tier"].tolist() == [6, 8, 7, 5]


def test_no_grade_column_means_every_grade_is_computed():
    graded = grade_units(units(("U1", 60, 60, 60, 60)), DEFAULT)
    assert graded["grade_source"].tolist() == ["computed"]
    assert graded["grade"].tolist() == ["C"]


def test_an_unknown_fixed_grade_is_an_input_error_naming_unit_and_grade():
    table = units(("U1", 90, 90, 90, 90), ("U2", 60, 60, 60, 60), ("U3", 60, 60, 60, 60), grades=["A", "Z", "AA"])
    with pytest.raises(InputError) as caught:
        grade_units(table, DEFAULT)
    problems = caught.value.problems
    assert [(p.key, p.value) for p in problems] == [("U2", "Z"), ("U3", "AA")]
    assert all(p.column == "grade" and "A, B, C, D" in p.expected for p in problems)
    assert isinstance(caught.value, ValueError)


def test_custom_weights_and_bands_from_a_scenario_change_the_result():
    table = units(("U1", 100, 40, 40, 40), ("U2", 40, 40, 40, 100))
    default = grade_units(table, DEFAULT)
    assert default["score"].tolist() == pytest.approx([58.0, 52.0])
    assert default["grade"].tolist() == ["C", "D"]

    scenario = build_scenario({"unit_grading": {
        "weights": {"strategic": 0.1, "efficiency": 0.1, "governance": 0.1, "innovation": 0.7},
        "grades": [
            {"name": "甲", "min_score": 80, "pay_coefficient": 1.5, "max_tier": 8},
            {"name": "乙", "min_score": 0, "pay_coefficient": 0.8, "max_tier": 3},
        ],
    }}, "test")
    custom = grade_units(table, scenario.unit_grading)
    # U1: 10 + 4 + 4 + 28 = 46; U2: 4 + 4 + 4 + 70 = 82
    assert custom["score"].tolist() == pytest.approx([46.0, 82.0])
    assert custom["grade"].tolist() == ["乙", "甲"]
    assert custom["pay_coefficient"].tolist() == [0.8, 1.5]
    assert custom["max_tier"].tolist() == [3, 8]


def test_a_fixed_grade_must_exist_in_the_scenario_bands():
    scenario = build_scenario({"unit_grading": {"grades": [
        {"name": "high", "min_score": 50, "pay_coefficient": 1.2, "max_tier": 8},
        {"name": "low", "min_score": 0, "pay_coefficient": 1.0, "max_tier": 5},
    ]}}, "test")
    table = units(("U1", 90, 90, 90, 90), ("U2", 90, 90, 90, 90), grades=["low", ""])
    graded = grade_units(table, scenario.unit_grading)
    assert graded["grade"].tolist() == ["low", "high"]
    with pytest.raises(InputError, match="'A'"):
        grade_units(units(("U1", 90, 90, 90, 90), grades=["A"]), scenario.unit_grading)


def test_grading_keeps_the_row_order_and_ids():
    table = units(("Z9", 10, 10, 10, 10), ("A1", 99, 99, 99, 99), ("M5", 60, 60, 60, 60))
    graded = grade_units(table, DEFAULT)
    assert graded["unit_id"].tolist() == ["Z9", "A1", "M5"]
    assert graded["grade"].tolist() == ["D", "A", "C"]
