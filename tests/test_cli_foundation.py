"""The data side of `wfplan`: generate, validate, grade-units, and bad input refused before anything is written.

Runs through ``click.testing.CliRunner`` on ``optimizer.cli.main``, and through the installed ``wfplan``
console script in a real subprocess where it matters that no traceback reaches the user.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from models.grading import grade_units
from models.io import write_tables
from models.scenario import UnitGrading
from models.synthetic import generate_tables, write_generated
from optimizer.cli import main
from optimizer.plan.folders import MARKER

EMPLOYEES, UNITS, SEED = 500, 5, 11
WFPLAN = Path(sys.executable).with_name("wfplan")


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def run_installed(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The installed console script, as a user runs it."""
    return subprocess.run([str(WFPLAN), *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          encoding="utf-8", timeout=120, check=False)


def snapshot(folder: Path) -> dict[str, str]:
    """relative path → sha256 of every file under ``folder`` (folders as '<dir>')."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "<dir>"
        for p in sorted(folder.rglob("*"))
    }


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    employees, units, pay = generate_tables(EMPLOYEES, UNITS, SEED)
    return {"employees": employees, "units": units, "pay": pay}


@pytest.fixture(scope="module")
def clean(tmp_path_factory, frames) -> Path:
    folder = tmp_path_factory.mktemp("clean")
    write_generated(folder, EMPLOYEES, UNITS, SEED)
    return folder


def with_mistakes(frames: dict[str, pd.DataFrame], folder: Path) -> Path:
    """The clean data as text with six kinds of mistakes; returns the folder written."""
    text = {name: frame.astype(str).replace({"nan": "", "<NA>": ""}) for name, frame in frames.items()}
    employees = text["employees"]
    employees.loc[1, "employee_id"] = employees.loc[0, "employee_id"]                   # duplicate id (row 3)
    employees.loc[2, ["sequence", "tier"]] = ["technical", "9"]                          # bad tier (row 4)
    employees.loc[3, "unit_id"] = "NO_SUCH_UNIT"                                         # unknown unit (row 5)
    employees.loc[4, "years_in_grade"] = "-2"                                            # negative years (row 6)
    employees.loc[5, "performance"] = "excellent"                                        # not a number (row 7)
    pay = text["pay"]
    gap = (pay["sequence"] == "operations") & (pay["tier"] == "1") & (pay["grade"] == "2")
    text["pay"] = pay[~gap]                                                              # pay gap
    write_tables(text, folder)
    return folder


@pytest.fixture
def bad(tmp_path, frames) -> Path:
    return with_mistakes(frames, tmp_path / "bad")


def expected_problems(frames) -> list[str]:
    employees = frames["employees"]
    holders = ((employees["sequence"] == "operations") & (employees["tier"] == 1) & (employees["grade"] == 2))
    assert holders.iloc[6:].any()  # the pay gap hits employees beyond the rows changed above
    first_id = employees.loc[0, "employee_id"]
    return [
        f"employees.csv row 3 (employee_id={first_id}) column employee_id: got '{first_id}', expected a unique",
        (f"employees.csv row 4 (employee_id={employees.loc[2, 'employee_id']}) column tier: got '9', expected an "
         "integer in 1..8"),
        f"employees.csv row 5 (employee_id={employees.loc[3, 'employee_id']}) column unit_id: got 'NO_SUCH_UNIT'",
        (f"employees.csv row 6 (employee_id={employees.loc[4, 'employee_id']}) column years_in_grade: got '-2', "
         "expected a number in 0..60 (out of range)"),
        (f"employees.csv row 7 (employee_id={employees.loc[5, 'employee_id']}) column performance: got 'excellent', "
         "expected a number in 0..100"),
        "column sequence/tier/grade: got 'operations/1/2', expected a state with a base_salary in pay.csv",
    ]


# -------------------------------------------------------------------------------------------- validate


def test_validate_clean_data_prints_the_overview(clean, frames):
    result = run("validate", clean)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"{EMPLOYEES:,} employees in {UNITS} units" in out

    # headcount by sequence × unit grade, counted independently
    graded = grade_units(frames["units"], UnitGrading())
    unit_grade = frames["employees"]["unit_id"].map(graded.set_index("unit_id")["grade"])
    counts = frames["employees"].groupby(["sequence", unit_grade]).size()
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("unit_grade")).split()[1:]
    assert header[-1] == "total" and set(header[:-1]) == set(graded["grade"])
    for sequence in ("management", "technical", "operations"):
        row = next(line for line in lines if line.startswith(sequence + " ")).split()[1:]
        expected = [int(counts.get((sequence, g), 0)) for g in header[:-1]]
        assert [int(x) for x in row] == [*expected, sum(expected)], sequence
    total = next(line for line in lines if line.startswith("total ")).split()[1:]
    assert int(total[-1]) == EMPLOYEES

    # today's mix against 5/30/65
    shares = frames["employees"]["sequence"].value_counts(normalize=True)
    for sequence, target in (("management", 5.0), ("technical", 30.0), ("operations", 65.0)):
        assert re.search(rf"{sequence}\s+{shares[sequence]:.1%}\s+target\s+{target:.1f}%", out), sequence

    # payroll = Σ base_salary × unit pay coefficient
    base = frames["pay"].set_index(["sequence", "tier", "grade"])["base_salary"]
    coefficient = graded.set_index("unit_id")["pay_coefficient"]
    employees = frames["employees"]
    payroll = sum(
        base[(s, t, g)] * coefficient[u]
        for u, s, t, g in employees[["unit_id", "sequence", "tier", "grade"]].itertuples(index=False)
    )
    assert f"payroll {payroll / 1e6:,.1f}M" in out


def test_validate_lists_every_mistake_and_exits_2(bad, frames):
    before = snapshot(bad.parent)
    result = run("validate", bad)
    assert result.exit_code == 2
    assert "6 problems" in result.stderr
    for expected in expected_problems(frames):
        assert expected in result.stderr, expected
    assert result.stdout == ""  # no overview for bad data
    assert snapshot(bad.parent) == before


@pytest.mark.slow
def test_installed_wfplan_validate_on_bad_data_has_no_traceback(bad, frames, tmp_path):
    assert WFPLAN.exists(), f"the wfplan console script is not installed next to {sys.executable}"
    work = tmp_path / "cwd"
    work.mkdir()
    before = snapshot(tmp_path)
    done = run_installed("validate", bad, cwd=work)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    for expected in expected_problems(frames):
        assert expected in done.stderr, expected
    assert snapshot(tmp_path) == before  # nothing written, not even in the working folder


@pytest.mark.slow
def test_validate_gives_the_same_output_for_csv_parquet_and_xlsx(tmp_path, frames):
    outputs = {}
    for fmt in ("csv", "parquet", "xlsx"):
        written = write_tables(frames, tmp_path / fmt, fmt)
        assert {p.suffix for p in written.values()} == {f".{fmt}"}
        result = run("validate", tmp_path / fmt)
        assert result.exit_code == 0, result.output
        outputs[fmt] = result.stdout
    assert f"{EMPLOYEES:,} employees" in outputs["csv"]
    assert outputs["csv"] == outputs["parquet"] == outputs["xlsx"]


def test_the_same_mistakes_are_reported_from_a_workbook(tmp_path, frames):
    csv = with_mistakes(frames, tmp_path / "csv")
    tables = {name: pd.read_csv(csv / f"{name}.csv", dtype=str, keep_default_na=False) for name in frames}
    write_tables(tables, tmp_path / "xlsx", "xlsx")
    result = run("validate", tmp_path / "xlsx")
    assert result.exit_code == 2
    assert "6 problems" in result.stderr
    assert "tables.xlsx sheet employees row 7" in result.stderr and "'excellent'" in result.stderr


def test_validate_refuses_an_unknown_fixed_unit_grade(tmp_path, frames):
    units = frames["units"].copy()
    units["grade"] = ["", "Z", "", "", ""]
    write_tables({**frames, "units": units}, tmp_path / "data")
    result = run("validate", tmp_path / "data")
    assert result.exit_code == 2, result.output
    assert f"units.csv row 3 (unit_id={units.loc[1, 'unit_id']}) column grade: got 'Z'" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


def _header_only(folder: Path) -> None:
    path = folder / "employees.csv"
    path.write_text(path.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")


def _tier_out_of_range(folder: Path) -> None:
    employees = pd.read_csv(folder / "employees.csv", dtype=str, keep_default_na=False)
    employees.loc[0, "tier"] = "99999999999999999999"
    employees.to_csv(folder / "employees.csv", index=False)


def _zero_row_parquet(folder: Path) -> None:
    pd.read_csv(folder / "pay.csv").iloc[:0].to_parquet(folder / "pay.parquet", index=False)
    (folder / "pay.csv").unlink()


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (_header_only, "employees.csv: expected at least one data row"),
        (_tier_out_of_range, "column tier: got '99999999999999999999', expected an integer in 1..20 (out of range)"),
        (_zero_row_parquet, "pay.parquet: expected at least one data row"),
    ],
)
def test_validate_on_a_damaged_table_exits_2_without_traceback(tmp_path, frames, damage, expected):
    write_tables(frames, tmp_path / "data")
    damage(tmp_path / "data")
    result = run("validate", tmp_path / "data")
    assert result.exit_code == 2, result.output
    assert expected in result.stderr and "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_validate_a_missing_folder_exits_2(tmp_path):
    result = run("validate", tmp_path / "nowhere")
    assert result.exit_code == 2
    assert "nowhere" in result.stderr


# ---------------------------------------------------------------------------------------------- solve


def test_solve_with_a_misspelt_scenario_key_names_the_nearest_and_writes_nothing(tmp_path, clean, monkeypatch):
    monkeypatch.chdir(tmp_path)
    scenario = tmp_path / "what_if.yaml"
    scenario.write_text("name: what_if\nmix:\n  tolerence: 0.01\n", encoding="utf-8")
    result = run("solve", scenario, "--data", clean, "--out", tmp_path / "plan")
    assert result.exit_code == 2
    assert "'mix.tolerance'" in result.stderr
    assert not (tmp_path / "plan").exists()
    assert not (tmp_path / "runs").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["what_if.yaml"]


def test_solve_with_a_misspelt_override_names_the_nearest_and_writes_nothing(tmp_path, clean, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("solve", "baseline", "--data", clean, "--set", "horizn=4", "--set", "promotion.tier_rate=abc")
    assert result.exit_code == 2
    assert "'horizon'" in result.stderr
    assert "promotion.tier_rate" in result.stderr and "'abc'" in result.stderr  # both reported at once
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_installed_wfplan_solve_with_an_unparsable_override_has_no_traceback(tmp_path, clean):
    done = run_installed("solve", "baseline", "--data", clean, "--out", tmp_path / "plan", "--set", "horizon=[",
                         cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "horizon" in done.stderr
    assert not (tmp_path / "plan").exists()


def test_solve_with_bad_data_leaves_an_existing_plan_untouched(tmp_path, bad, frames):
    plan = tmp_path / "plan"
    plan.mkdir()
    (plan / "actions.csv").write_text("employee_id,year,action\nE1,1,stay\n", encoding="utf-8")
    (plan / "summary.json").write_text('{"status": "optimal"}\n', encoding="utf-8")
    (plan / MARKER).write_text('{"kind": "plan"}\n', encoding="utf-8")  # an earlier plan wfplan wrote
    before = snapshot(tmp_path)
    result = run("solve", "baseline", "--data", bad, "--out", plan, "--quiet")
    assert result.exit_code == 2
    for expected in expected_problems(frames):
        assert expected in result.stderr, expected
    assert snapshot(tmp_path) == before  # same files, same bytes, no staging folder left beside it


def test_solve_with_an_unknown_fixed_unit_grade_exits_2(tmp_path, frames):
    units = frames["units"].copy()
    units["grade"] = ["S", "", "", "", ""]
    write_tables({**frames, "units": units}, tmp_path / "data")
    result = run("solve", "baseline", "--data", tmp_path / "data", "--out", tmp_path / "plan", "--quiet")
    assert result.exit_code == 2, result.output
    assert "'S'" in result.stderr
    assert not (tmp_path / "plan").exists()


# ------------------------------------------------------------------------------------------- generate


def test_generate_twice_with_the_same_seed_gives_identical_files(tmp_path):
    for name in ("one", "two"):
        result = run("generate", "--employees", 300, "--units", 4, "--seed", 7, "--out", tmp_path / name)
        assert result.exit_code == 0, result.output
    one, two = snapshot(tmp_path / "one"), snapshot(tmp_path / "two")
    assert set(one) == {"employees.csv", "units.csv", "pay.csv", MARKER}
    assert one == two
    other = run("generate", "--employees", 300, "--units", 4, "--seed", 8, "--out", tmp_path / "three")
    assert other.exit_code == 0
    assert snapshot(tmp_path / "three")["employees.csv"] != one["employees.csv"]
    employees = pd.read_csv(tmp_path / "one" / "employees.csv")
    assert len(employees) == 300 and employees["unit_id"].nunique() == 4


def test_generate_parquet_gives_the_same_data_as_csv(tmp_path):
    csv = run("generate", "--employees", 300, "--units", 4, "--seed", 7, "--out", tmp_path / "csv")
    parquet = run("generate", "--employees", 300, "--units", 4, "--seed", 7, "--out", tmp_path / "pq",
                  "--format", "parquet")
    assert csv.exit_code == 0 and parquet.exit_code == 0, parquet.output
    assert set(snapshot(tmp_path / "pq")) == {"employees.parquet", "units.parquet", "pay.parquet", MARKER}
    again = run("generate", "--employees", 300, "--units", 4, "--seed", 7, "--out", tmp_path / "pq2",
                "--format", "parquet")
    assert again.exit_code == 0 and snapshot(tmp_path / "pq") == snapshot(tmp_path / "pq2")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "pq" / "employees.parquet"),
                                  pd.read_csv(tmp_path / "csv" / "employees.csv"), check_dtype=False)
    assert run("validate", tmp_path / "pq").stdout == run("validate", tmp_path / "csv").stdout


def test_generate_more_units_than_employees_is_a_usage_error(tmp_path):
    result = run("generate", "--employees", 3, "--units", 5, "--out", tmp_path / "g")
    assert result.exit_code == 2
    assert "Usage:" in result.output and "--units" in result.output
    assert not (tmp_path / "g").exists()


def test_generate_requires_a_positive_size(tmp_path):
    result = run("generate", "--employees", 0, "--units", 1, "--out", tmp_path / "g")
    assert result.exit_code == 2
    assert not (tmp_path / "g").exists()


# ---------------------------------------------------------------------------------------- grade-units


def test_grade_units_writes_the_contract_columns(tmp_path, clean, frames):
    out = tmp_path / "units.csv"
    result = run("grade-units", clean, "--out", out)
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out)
    assert written.columns.tolist() == ["year", "unit_id", "name", "score", "grade", "pay_coefficient", "max_tier"]
    assert written["year"].tolist() == [0, 1, 2, 3] * len(frames["units"])  # the baseline's horizon
    written = written[written["year"] == 0]
    expected = grade_units(frames["units"], UnitGrading())
    assert written["unit_id"].tolist() == expected["unit_id"].tolist()
    assert written["grade"].tolist() == expected["grade"].tolist()
    assert written["score"].tolist() == pytest.approx(expected["score"].tolist())
    coefficients = {"A": 1.2, "B": 1.1, "C": 1.0, "D": 0.9}
    tiers = {"A": 8, "B": 7, "C": 6, "D": 5}
    assert written["pay_coefficient"].tolist() == [coefficients[g] for g in written["grade"]]
    assert written["max_tier"].tolist() == [tiers[g] for g in written["grade"]]
    for unit_id, grade in zip(written["unit_id"], written["grade"]):
        assert re.search(rf"{unit_id}\s+\S+\s+[\d.]+\s+{grade}\s+{grade}\s+computed", result.stdout)


def test_grade_units_uses_the_scenario_grading(tmp_path, clean):
    scenario = tmp_path / "flat.yaml"
    scenario.write_text(
        "name: flat\nunit_grading:\n  grades:\n    - {name: X, min_score: 0, pay_coefficient: 1.05, max_tier: 4}\n",
        encoding="utf-8",
    )
    result = run("grade-units", clean, "--scenario", scenario, "--out", tmp_path / "units.csv")
    assert result.exit_code == 0, result.output
    written = pd.read_csv(tmp_path / "units.csv")
    assert set(written["grade"]) == {"X"}
    assert set(written["pay_coefficient"]) == {1.05} and set(written["max_tier"]) == {4}


@pytest.mark.slow
def test_chinese_unit_names_round_trip_through_grade_units(tmp_path, frames):
    names = ["包钢稀土高新技术有限公司", "白云鄂博铁矿", "包钢（集团）钢联股份", "内蒙古包钢金属制造", "巴润矿业"]
    ids = ["稀土", "白云", "钢联", "金属", "巴润"]
    units = frames["units"].assign(unit_id=ids, name=names)
    employees = frames["employees"].assign(
        unit_id=frames["employees"]["unit_id"].map(dict(zip(frames["units"]["unit_id"], ids))))
    data = tmp_path / "data"
    write_tables({**frames, "units": units, "employees": employees}, data)
    out = tmp_path / "单位.csv"
    result = run("grade-units", data, "--out", out)
    assert result.exit_code == 0, result.output
    assert pd.read_csv(out, encoding="utf-8")["unit_id"].drop_duplicates().tolist() == ids
    for name in names:
        assert name in result.stdout
    # and through a real console, whose encoding is the platform's
    done = run_installed("grade-units", data, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    for unit_id, name in zip(ids, names):
        assert re.search(rf"{unit_id}\s+{re.escape(name)}\s", done.stdout)


def test_grade_units_on_bad_data_exits_2(bad):
    result = run("grade-units", bad)
    assert result.exit_code == 2
    assert "6 problems" in result.stderr


def test_grade_units_shows_each_units_grade_path_with_a_review_set_on_the_command_line(tmp_path, clean, frames):
    # Baseline: horizon 3, reviews every 3 years after year 0: year 3 is a review. U01 is given grade A there.
    unit_id = str(frames["units"]["unit_id"].iloc[0])
    out = tmp_path / "path.csv"
    result = run("grade-units", clean, "--set", f"unit_grading.reviews[unit={unit_id},year=3].grade=A", "--out", out)
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out).set_index(["unit_id", "year"])
    today = written.loc[(unit_id, 0), "grade"]
    assert [written.loc[(unit_id, year), "grade"] for year in range(4)] == [today, today, today, "A"]
    assert (written.loc[(unit_id, 3), "pay_coefficient"], written.loc[(unit_id, 3), "max_tier"]) == (1.2, 8)
    assert re.search(rf"{unit_id}\s+.*\s{today}\s+{today}\s+{today}\s+A\*\s+1.2\s+8", result.stdout)


def test_grade_units_refuses_a_review_outside_the_units_review_years(clean, frames):
    unit_id = str(frames["units"]["unit_id"].iloc[0])
    result = run("grade-units", clean, "--set", f"unit_grading.reviews[unit={unit_id},year=2].grade=A")
    assert result.exit_code == 2
    assert f"unit '{unit_id}' in year 2: not a review year of the unit" in result.stderr
