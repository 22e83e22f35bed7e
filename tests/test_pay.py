"""Pay structure: pay = base × coefficient, vectorised pay, landing grades, ladder lengths."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.pay import PayStructure
from models.synthetic import LADDERS, pay_table

# Two tiers of technical, one of operations. Technical tier 2 grade 1 (112) lies between tier 1 grades 2 and 3.
BASE = {
    ("technical", 1, 1): 100.0, ("technical", 1, 2): 110.0, ("technical", 1, 3): 120.0,
    ("technical", 1, 4): 130.0, ("technical", 1, 5): 140.0,
    ("technical", 2, 1): 112.0, ("technical", 2, 2): 125.0, ("technical", 2, 3): 135.0,
    ("technical", 2, 4): 138.0, ("technical", 2, 5): 139.0,
    ("operations", 1, 1): 50.0, ("operations", 1, 2): 55.0, ("operations", 1, 3): 60.0,
    ("operations", 1, 4): 65.0, ("operations", 1, 5): 70.0,
}


@pytest.fixture
def structure() -> PayStructure:
    pay = pd.DataFrame([(s, t, g, b) for (s, t, g), b in BASE.items()],
                       columns=["sequence", "tier", "grade", "base_salary"])
    graded = pd.DataFrame({"unit_id": ["U1", "U2"], "pay_coefficient": [1.2, 0.9], "max_tier": [8, 5]})
    return PayStructure.from_tables(pay, graded)


def test_pay_is_base_salary_times_the_unit_coefficient(structure):
    assert structure.pay("U1", "technical", 1, 3) == pytest.approx(120.0 * 1.2)
    assert structure.pay("U2", "technical", 2, 1) == pytest.approx(112.0 * 0.9)
    assert structure.pay("U2", "operations", 1, 5) == pytest.approx(70.0 * 0.9)
    assert structure.coefficient == {"U1": 1.2, "U2": 0.9}
    assert structure.max_tier == {"U1": 8, "U2": 5}


def test_pay_accepts_numpy_integers(structure):
    assert structure.pay("U1", "technical", np.int64(2), np.int64(2)) == pytest.approx(125.0 * 1.2)


def test_pay_of_a_frame_equals_the_scalar_pay(structure):
    states = pd.DataFrame(
        [(u, s, t, g) for u in ("U1", "U2") for (s, t, g) in BASE],
        columns=["unit_id", "sequence", "tier", "grade"],
    ).sample(frac=1.0, random_state=3)  # any order
    vector = structure.pay_of(states)
    scalar = [structure.pay(u, s, t, g) for u, s, t, g in states.itertuples(index=False)]
    assert vector.shape == (2 * len(BASE),)
    np.testing.assert_allclose(vector, scalar)
    assert vector.sum() == pytest.approx(sum(BASE.values()) * (1.2 + 0.9))


def test_pay_of_accepts_text_columns_as_a_csv_gives_them(structure):
    states = pd.DataFrame({"unit_id": ["U1", "U2"], "sequence": ["technical", "operations"],
                           "tier": ["2", "1"], "grade": ["5", "1"]})
    np.testing.assert_allclose(structure.pay_of(states), [139.0 * 1.2, 50.0 * 0.9])


def test_pay_of_a_state_without_base_salary_is_nan(structure):
    states = pd.DataFrame({"unit_id": ["U1"], "sequence": ["operations"], "tier": [2], "grade": [1]})
    assert np.isnan(structure.pay_of(states)).all()
    assert not structure.has_state("operations", 2, 1)
    assert structure.has_state("operations", 1, 1)


@pytest.mark.parametrize(
    ("from_grade", "landing"),
    [
        (1, 1),  # 100 → 112 at grade 1
        (2, 1),  # 110 → 112
        (3, 2),  # 120 → 125
        (4, 3),  # 130 → 135
    ],
)
def test_landing_grade_is_the_lowest_grade_of_the_next_tier_not_cutting_pay(structure, from_grade, landing):
    base = BASE[("technical", 1, from_grade)]
    grade = structure.landing_grade("technical", 2, base)
    assert grade == landing
    assert BASE[("technical", 2, grade)] >= base
    assert all(BASE[("technical", 2, g)] < base for g in range(1, grade))


def test_landing_grade_exactly_equal_pay_is_not_a_cut(structure):
    assert structure.landing_grade("technical", 2, 125.0) == 2


def test_landing_grade_is_the_top_grade_when_every_grade_cuts_pay(structure):
    # 140 (technical tier 1 grade 5) is more than every tier-2 salary (top: 139)
    assert structure.landing_grade("technical", 2, BASE[("technical", 1, 5)]) == 5
    # an operations grade-5 salary lands on technical tier 1 grade 1 (moves across sequences too)
    assert structure.landing_grade("technical", 1, BASE[("operations", 1, 5)]) == 1


def test_landing_grades_on_the_shipped_pay_table():
    # one tier = 2.5 grade steps: grade 1 of tier k+1 lies between grades 3 and 4 of tier k
    structure = PayStructure.from_tables(pay_table(), pd.DataFrame({"unit_id": ["U"], "pay_coefficient": [1.0],
                                                                    "max_tier": [8]}))
    base = structure.base_salary
    for tier in range(1, LADDERS["technical"]):
        landings = [structure.landing_grade("technical", tier + 1, base[("technical", tier, g)]) for g in range(1, 6)]
        assert landings == [1, 1, 1, 2, 3], tier


def test_ladder_length_per_sequence(structure):
    assert structure.ladder("technical") == 2
    assert structure.ladder("operations") == 1
    assert structure.ladder("management") == 0  # no base salary at all


def test_ladder_lengths_of_the_shipped_pay_table():
    structure = PayStructure.from_tables(pay_table(), pd.DataFrame({"unit_id": [], "pay_coefficient": [],
                                                                    "max_tier": []}))
    assert {s: structure.ladder(s) for s in LADDERS} == {"management": 4, "technical": 8, "operations": 6}
    assert len(structure.base_salary) == 5 * (4 + 8 + 6)
