"""Synthetic input data: contract columns, determinism, and the Baogang-like shape of the roster."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.grading import grade_units
from models.pay import PayStructure
from models.scenario import SEQUENCES, UnitGrading
from models.synthetic import (
    EMPLOYEE_COLUMNS,
    LADDERS,
    PAY_COLUMNS,
    UNIT_COLUMNS,
    generate_tables,
    write_generated,
)

N_EMPLOYEES, N_UNITS, SEED = 20_000, 20, 7
CJK = r"[\u4e00-\u9fff]"


@pytest.fixture(scope="module")
def tables() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    return generate_tables(N_EMPLOYEES, N_UNITS, SEED)


@pytest.fixture(scope="module")
def graded(tables) -> pd.DataFrame:
    return grade_units(tables[1], UnitGrading())


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_same_seed_gives_byte_identical_files(tmp_path, fmt):
    first = write_generated(tmp_path / "a", 3_000, 12, seed=11, fmt=fmt)
    second = write_generated(tmp_path / "b", 3_000, 12, seed=11, fmt=fmt)
    assert sorted(first) == ["employees", "pay", "units"]
    for name, path in first.items():
        assert path.name == f"{name}.{fmt}"
        assert path.read_bytes() == second[name].read_bytes(), name


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_written_files_read_back_to_the_same_tables(tmp_path, fmt):
    paths = write_generated(tmp_path, 2_000, 9, seed=5, fmt=fmt)
    read = pd.read_csv if fmt == "csv" else pd.read_parquet
    for name, frame in zip(("employees", "units", "pay"), generate_tables(2_000, 9, 5)):
        pd.testing.assert_frame_equal(read(paths[name]), frame, check_dtype=False, obj=name)


def test_csv_is_utf8_with_unix_line_ends(tmp_path):
    paths = write_generated(tmp_path, 500, 8, seed=1)
    raw = paths["units"].read_bytes()
    assert b"\r\n" not in raw
    assert "包钢" in raw.decode("utf-8")


def test_different_seeds_give_different_rosters_and_the_same_pay():
    employees_a, units_a, pay_a = generate_tables(2_000, 10, seed=1)
    employees_b, units_b, pay_b = generate_tables(2_000, 10, seed=2)
    assert not employees_a.equals(employees_b)
    assert not units_a.equals(units_b)
    pd.testing.assert_frame_equal(pay_a, pay_b)


def test_columns_shapes_and_ids(tables):
    employees, units, pay = tables
    assert list(employees.columns) == EMPLOYEE_COLUMNS
    assert list(units.columns) == UNIT_COLUMNS
    assert list(pay.columns) == PAY_COLUMNS
    assert "grade" not in units.columns
    assert len(employees) == N_EMPLOYEES and len(units) == N_UNITS
    assert employees["employee_id"].is_unique
    assert employees["employee_id"].str.fullmatch(r"E\d{7}").all()
    assert employees["employee_id"].iloc[0] == "E0000001"
    assert units["unit_id"].tolist() == [f"BG{i:03d}" for i in range(1, N_UNITS + 1)]
    assert units["max_headcount"].isna().all()
    heads = employees.groupby("unit_id").size().reindex(units["unit_id"]).to_numpy()
    operations = employees[employees["sequence"] == "operations"].groupby("unit_id").size()
    operations = operations.reindex(units["unit_id"], fill_value=0).to_numpy()
    assert ((units["min_headcount"] >= np.floor(0.80 * heads)) & (units["min_headcount"] <= 0.90 * heads)).all()
    assert ((units["min_operations"] >= np.floor(0.60 * operations)) & (units["min_operations"] <= 0.70 * operations)).all()
    assert set(employees["sequence"]) == set(SEQUENCES)
    assert employees["grade"].between(1, 5).all()


def test_every_unit_has_staff_and_sizes_vary(tables):
    employees, units, _ = tables
    headcount = employees["unit_id"].value_counts().reindex(units["unit_id"], fill_value=0)
    assert (headcount >= 1).all()
    assert headcount.max() > 3 * headcount.median()


def test_ids_widen_beyond_seven_digits():
    employees, units, _ = generate_tables(12, 1, seed=0)
    assert employees["employee_id"].str.len().eq(8).all()
    assert units["unit_id"].tolist() == ["BG001"]


def test_start_mix_is_near_8_12_80(tables):
    share = tables[0]["sequence"].value_counts(normalize=True)
    for sequence, target in {"management": 0.08, "technical": 0.12, "operations": 0.80}.items():
        assert abs(share[sequence] - target) <= 0.02, sequence


def test_tiers_form_a_pyramid(tables):
    employees = tables[0]
    for sequence, tiers in LADDERS.items():
        counts = employees.loc[employees["sequence"] == sequence, "tier"].value_counts()
        assert set(counts.index) <= set(range(1, tiers + 1)), sequence
        assert counts.get(1, 0) > counts.get(tiers, 0), sequence
        assert counts.get(1, 0) > counts.get(2, 0), sequence


def test_technical_tiers_respect_the_unit_grade_cap(tables, graded):
    employees = tables[0]
    technical = employees[employees["sequence"] == "technical"].merge(graded[["unit_id", "max_tier"]], on="unit_id")
    assert (technical["tier"] <= technical["max_tier"]).all()
    assert technical["tier"].max() == graded["max_tier"].max()  # the cap binds, not an accident of the pyramid


def test_unit_grades_a_to_d_all_occur(graded):
    assert set(graded["grade"]) == {"A", "B", "C", "D"}


@pytest.mark.parametrize("seed", range(5))
def test_unit_grades_a_to_d_occur_with_eight_units(seed):
    _, units, _ = generate_tables(8, 8, seed)
    assert set(grade_units(units, UnitGrading())["grade"]) == {"A", "B", "C", "D"}
    assert units[["strategic", "efficiency", "governance", "innovation"]].stack().between(0, 100).all()


def test_performance_and_eligibility(tables):
    employees = tables[0]
    assert employees["performance"].between(0, 100).all()
    assert abs(employees["performance"].mean() - 75) < 1
    assert employees["years_in_grade"].between(0, 10).all()
    assert 0.40 <= (employees["years_in_grade"] >= 2).mean() <= 0.60
    operations = employees[employees["sequence"] == "operations"]
    assert 0.15 <= operations["technical_eligible"].mean() <= 0.25
    assert not employees.loc[employees["sequence"] != "operations", "technical_eligible"].any()
    by_flag = operations.groupby("technical_eligible")["performance"].mean()
    assert by_flag[True] > by_flag[False] + 5


def test_pay_table_is_complete_and_monotone(tables):
    pay = tables[2]
    expected = {(s, t, g) for s, tiers in LADDERS.items() for t in range(1, tiers + 1) for g in range(1, 6)}
    assert set(pay[["sequence", "tier", "grade"]].itertuples(index=False, name=None)) == expected
    assert len(pay) == len(expected)
    assert pay["base_salary"].dtype == np.int64 and (pay["base_salary"] > 0).all()
    base = pay.set_index(["sequence", "tier", "grade"])["base_salary"]
    for sequence, tiers in LADDERS.items():
        for t in range(1, tiers + 1):
            assert all(np.diff([base[(sequence, t, g)] for g in range(1, 6)]) > 0), (sequence, t)
        for t in range(1, tiers):
            assert base[(sequence, t, 2)] < base[(sequence, t + 1, 1)] < base[(sequence, t, 4)], (sequence, t)
    for tier in range(1, 5):
        for grade in range(1, 6):
            key = (tier, grade)
            assert base[("management", *key)] > base[("technical", *key)] > base[("operations", *key)], key
    assert base[("operations", 1, 1)] == 60_000
    assert base[("technical", 1, 1)] == 80_000 and base[("technical", 8, 5)] == 600_000
    assert base[("management", 1, 1)] == 200_000 and base[("management", 4, 5)] == 1_000_000


def test_salary_is_pay_times_a_personal_factor(tables, graded):
    employees, _, pay = tables
    expected = PayStructure.from_tables(pay, graded).pay_of(employees)
    ratio = employees["salary"].to_numpy() / expected
    assert ratio.min() >= 0.95 - 1e-4 and ratio.max() <= 1.05 + 1e-4
    assert ratio.std() > 0.02


def test_names_are_chinese(tables):
    employees, units, _ = tables
    assert employees["name"].str.fullmatch(f"{CJK}{{2,3}}").all()
    assert employees["name"].nunique() > 1_000
    assert units["name"].is_unique
    assert units["name"].str.fullmatch(f"包钢{CJK}+公司").all()


def test_unit_names_stay_unique_past_the_word_list():
    _, units, _ = generate_tables(400, 400, seed=3)
    assert units["name"].is_unique


@pytest.mark.parametrize("n_employees, n_units", [(5, 6), (10, 0)])
def test_bad_sizes_are_rejected(n_employees, n_units):
    with pytest.raises(ValueError, match="n_units"):
        generate_tables(n_employees, n_units, seed=0)


def test_unknown_format_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="fmt"):
        write_generated(tmp_path, 10, 2, seed=0, fmt="xlsx")  # type: ignore[arg-type]
