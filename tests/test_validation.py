"""Validation rules: each one with a bad example and the message it must produce."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from models.grading import grade_units
from models.io import write_tables
from models.scenario import MAX_TIER, UnitGrading
from models.scenario_files import load_scenario, scenario_path
from models.validation import InputError, Problem, load_inputs, scenario_problems
from optimizer.cli import main


def only(problems: list[Problem]) -> Problem:
    """The single problem found; fails listing them all otherwise."""
    assert len(problems) == 1, "\n".join(map(str, problems))
    return problems[0]


def test_valid_data_has_no_problems(problems_in, text_frames):
    assert problems_in(text_frames) == []


def test_canonical_dtypes(tmp_path, frames):
    write_tables(frames, tmp_path)
    tables = load_inputs(tmp_path)
    employees, units, pay = tables.employees, tables.units, tables.pay
    assert list(employees.columns) == [
        "employee_id", "unit_id", "sequence", "tier", "grade", "performance", "years_in_grade", "salary",
        "technical_eligible", "name",
    ]
    assert employees["tier"].dtype == "int64" and pay["grade"].dtype == "int64"
    assert employees["performance"].dtype == "float64" and employees["salary"].dtype == "float64"
    assert units["strategic"].dtype == "float64" and pay["base_salary"].dtype == "float64"
    assert employees["technical_eligible"].dtype == bool
    assert units["min_headcount"].dtype == "Int64" and units["max_headcount"].isna().sum() == 1
    assert pd.api.types.is_string_dtype(employees["employee_id"]) and pd.api.types.is_string_dtype(units["grade"])
    assert employees["salary"].isna().sum() == 5
    assert list(employees.index) == list(range(20))


def test_absent_optional_columns_take_defaults(tmp_path, frames):
    frames["employees"] = frames["employees"].drop(columns=["salary", "technical_eligible", "name"])
    frames["units"] = frames["units"].drop(columns=["grade", "min_headcount", "max_headcount"])
    write_tables(frames, tmp_path)
    tables = load_inputs(tmp_path)
    assert not tables.employees["technical_eligible"].any()
    assert (tables.employees["name"] == "").all() and tables.employees["salary"].isna().all()
    assert (tables.units["grade"] == "").all() and tables.units["max_headcount"].isna().all()


def test_problem_renders_one_line():
    problem = Problem(file="employees.csv", row=17, key="E000016", key_name="employee_id", column="tier",
                      value="11", expected="an integer in 1..8 for sequence technical")
    assert str(problem) == (
        "employees.csv row 17 (employee_id=E000016) column tier: got '11', "
        "expected an integer in 1..8 for sequence technical"
    )


# ------------------------------------------------------------------------------------------ files


def test_missing_file(tmp_path, frames):
    write_tables(frames, tmp_path)
    (tmp_path / "pay.csv").unlink()
    with pytest.raises(InputError) as caught:
        load_inputs(tmp_path)
    problem = only(caught.value.problems)
    assert problem.expected == "one file pay.csv or pay.parquet (found neither)"
    assert str(caught.value).startswith(f"1 problem in {tmp_path}:\n")


def test_two_files_for_one_table(tmp_path, frames):
    write_tables(frames, tmp_path)
    write_tables(frames, tmp_path, fmt="parquet")
    (tmp_path / "units.parquet").unlink()
    (tmp_path / "pay.parquet").unlink()
    with pytest.raises(InputError) as caught:
        load_inputs(tmp_path)
    assert only(caught.value.problems).expected == "one file employees.csv or employees.parquet (found both; keep one)"


def test_missing_sheet_names_the_nearest(tmp_path, frames):
    frames["Units"] = frames.pop("units")
    with pd.ExcelWriter(tmp_path / "data.xlsx") as writer:
        for sheet, frame in frames.items():
            frame.to_excel(writer, sheet_name=sheet, index=False)
    with pytest.raises(InputError) as caught:
        load_inputs(tmp_path)
    assert str(only(caught.value.problems)) == "data.xlsx: expected a sheet named 'units'; found a sheet 'Units'"


def test_two_workbooks_are_ambiguous(tmp_path, frames):
    write_tables(frames, tmp_path, fmt="xlsx")
    (tmp_path / "copy.xlsx").write_bytes((tmp_path / "tables.xlsx").read_bytes())
    with pytest.raises(InputError) as caught:
        load_inputs(tmp_path)
    assert only(caught.value.problems).expected == (
        "employees, units and pay as .csv or .parquet files, or one .xlsx workbook (found copy.xlsx, tables.xlsx)"
    )


def test_empty_folder(tmp_path):
    with pytest.raises(InputError) as caught:
        load_inputs(tmp_path)
    assert str(only(caught.value.problems)) == (
        f"{tmp_path.name}: expected employees, units and pay as .csv or .parquet files, or one .xlsx workbook "
        "(found none)"
    )


def test_file_not_in_utf8(tmp_path, frames):
    write_tables(frames, tmp_path)
    (tmp_path / "units.csv").write_bytes("unit_id,name\nU1,包钢稀土\n".encode("gbk"))
    with pytest.raises(InputError) as caught:
        load_inputs(tmp_path)
    problem = only(caught.value.problems)
    assert str(problem) == (
        "units.csv: expected UTF-8 text (line 2 has byte 0xb0, which is not UTF-8; save it as 'CSV UTF-8')"
    )


def test_missing_required_column_names_the_near_miss(problems_in, text_frames):
    text_frames["employees"] = text_frames["employees"].rename(columns={"tier": "Tier"})
    assert str(only(problems_in(text_frames))) == (
        "employees.csv column tier: expected a required column in the header (found 'Tier')"
    )


def test_table_without_rows(problems_in, text_frames):
    """The empty table is the one problem: the employees whose unit it cannot list are not problems of their own."""
    text_frames["units"] = text_frames["units"].iloc[:0]
    assert str(only(problems_in(text_frames))) == "units.csv: expected at least one data row"


# -------------------------------------------------------------------------------------- ids and keys


@pytest.mark.parametrize(
    ("table", "row", "column", "expected"),
    [
        ("employees", 5, "employee_id", "employees.csv row 7 (employee_id=E000002) column employee_id: "
         "got 'E000002', expected a unique employee_id; row 3 already has it"),
        ("units", 2, "unit_id", "units.csv row 4 (unit_id=U1) column unit_id: "
         "got 'U1', expected a unique unit_id; row 2 already has it"),
    ],
)
def test_duplicate_ids(problems_in, text_frames, table, row, column, expected):
    first = 1 if table == "employees" else 0
    text_frames[table].loc[row, column] = text_frames[table].loc[first, column]
    assert str(only([p for p in problems_in(text_frames) if p.file == f"{table}.csv"])) == expected


def test_duplicate_pay_state(problems_in, text_frames):
    pay = text_frames["pay"]
    text_frames["pay"] = pd.concat([pay, pay.iloc[[7]].assign(base_salary="99000")], ignore_index=True)
    assert str(only(problems_in(text_frames))) == (
        "pay.csv row 92 (sequence/tier/grade=management/2/3) column sequence/tier/grade: "
        "got 'management/2/3', expected a unique sequence/tier/grade; row 9 already has it"
    )


def test_blank_ids(problems_in, text_frames):
    text_frames["employees"].loc[3, "employee_id"] = "  "
    text_frames["units"].loc[2, "unit_id"] = ""
    text_frames["employees"]["unit_id"] = text_frames["employees"]["unit_id"].replace("U3", "U1")
    messages = [str(p) for p in problems_in(text_frames)]
    assert messages == [
        "employees.csv row 5 column employee_id: got '', expected a non-empty employee_id",
        "units.csv row 4 column unit_id: got '', expected a non-empty unit_id",
    ]


def test_unknown_unit(problems_in, text_frames):
    text_frames["employees"].loc[9, "unit_id"] = "U7"
    problem = only(problems_in(text_frames))
    assert (problem.file, problem.row, problem.key, problem.column, problem.value) == (
        "employees.csv", 11, "E000010", "unit_id", "U7")
    assert problem.expected == "a unit_id listed in units.csv; 1 employee has it"


# ------------------------------------------------------------------------------------------- values


@pytest.mark.parametrize(
    ("table", "column", "value", "expected"),
    [
        ("employees", "performance", "high", "a number in 0..100"),
        ("employees", "tier", "3rd", f"an integer in 1..{MAX_TIER}"),
        ("employees", "grade", "2.5", "an integer in 1..5"),
        ("employees", "years_in_grade", "", "a number in 0..60"),
        ("employees", "salary", "12k", "a number in 0..100,000,000"),
        ("units", "strategic", "n/a", "a number in 0..100"),
        ("units", "max_headcount", "ten", "an integer in 0..10,000,000"),
        ("pay", "base_salary", "1,000", "a number in 1..100,000,000"),
    ],
)
def test_non_numeric_values(problems_in, text_frames, table, column, value, expected):
    text_frames[table].loc[1, column] = value
    problem = only(problems_in(text_frames))
    assert (problem.file, problem.row, problem.column, problem.value, problem.expected) == (
        f"{table}.csv", 3, column, value, expected)


def test_tier_beyond_the_ladder(problems_in, text_frames):
    text_frames["employees"].loc[15, "tier"] = "11"
    assert str(only(problems_in(text_frames))) == (
        "employees.csv row 17 (employee_id=E000016) column tier: got '11', "
        "expected an integer in 1..8 for sequence technical; 1 employee has it"
    )


def test_ladder_is_the_highest_tier_in_pay(problems_in, text_frames):
    pay = text_frames["pay"]
    text_frames["pay"] = pay[~((pay["sequence"] == "technical") & (pay["tier"] == "8"))]
    problem = only(problems_in(text_frames))
    assert (problem.row, problem.value, problem.expected) == (
        17, "8", "an integer in 1..7 for sequence technical; 1 employee has it")


@pytest.mark.parametrize("table", ["employees", "pay"])
def test_tier_above_the_tier_maximum(problems_in, text_frames, table):
    """No ladder is longer than MAX_TIER, the bound the scenario schema puts on every tier."""
    text_frames[table].loc[0, "tier"] = str(MAX_TIER + 1)
    assert any((p.file, p.row, p.column, p.expected) == (f"{table}.csv", 2, "tier", f"an integer in 1..{MAX_TIER} (out of range)")
               for p in problems_in(text_frames))


@pytest.mark.parametrize(("table", "value"), [("employees", "0"), ("employees", "6"), ("pay", "6")])
def test_grade_outside_1_to_5(problems_in, text_frames, table, value):
    text_frames[table].loc[0, "grade"] = value
    problem = only(problems_in(text_frames))
    assert (problem.file, problem.row, problem.value, problem.expected) == (
        f"{table}.csv", 2, value, "an integer in 1..5 (out of range)")


@pytest.mark.parametrize("table", ["employees", "pay"])
def test_unknown_sequence(problems_in, text_frames, table):
    text_frames[table].loc[0, "sequence"] = "sales"
    text_frames[table].loc[1, "sequence"] = ""
    problems = problems_in(text_frames)
    assert [(p.file, p.row, p.column, p.value) for p in problems] == [
        (f"{table}.csv", 2, "sequence", "sales"), (f"{table}.csv", 3, "sequence", "")]
    assert {p.expected for p in problems} == {"one of management, technical, operations"}


@pytest.mark.parametrize(
    ("table", "column", "value"),
    [("employees", "performance", "100.5"), ("employees", "performance", "-1"),
     ("units", "governance", "101"), ("units", "innovation", "-0.1")],
)
def test_scores_outside_0_to_100(problems_in, text_frames, table, column, value):
    text_frames[table].loc[0, column] = value
    problem = only(problems_in(text_frames))
    assert (problem.row, problem.column, problem.value, problem.expected) == (
        2, column, value, "a number in 0..100 (out of range)")


def test_negative_years_in_grade(problems_in, text_frames):
    text_frames["employees"].loc[2, "years_in_grade"] = "-0.5"
    assert str(only(problems_in(text_frames))) == (
        "employees.csv row 4 (employee_id=E000003) column years_in_grade: got '-0.5', "
        "expected a number in 0..60 (out of range)"
    )


@pytest.mark.parametrize(
    ("table", "column", "value", "expected"),
    [("pay", "base_salary", "0", "a number in 1..100,000,000 (out of range)"),
     ("pay", "base_salary", "-5000", "a number in 1..100,000,000 (out of range)"),
     ("employees", "salary", "-1", "a number in 0..100,000,000 (out of range)")],
)
def test_non_positive_salaries(problems_in, text_frames, table, column, value, expected):
    text_frames[table].loc[4, column] = value
    problem = only(problems_in(text_frames))
    assert (problem.file, problem.row, problem.value, problem.expected) == (f"{table}.csv", 6, value, expected)


def test_min_headcount_above_max(problems_in, text_frames):
    text_frames["units"].loc[0, "min_headcount"] = "25"
    assert str(only(problems_in(text_frames))) == (
        "units.csv row 2 (unit_id=U1) column min_headcount: got '25', expected at most max_headcount (20)"
    )


@pytest.mark.parametrize("value", ["maybe", "Y", "2"])
def test_bad_boolean(problems_in, text_frames, value):
    text_frames["employees"].loc[0, "technical_eligible"] = value
    problem = only(problems_in(text_frames))
    assert (problem.row, problem.column, problem.value, problem.expected) == (
        2, "technical_eligible", value, "true/false, 1/0 or yes/no")


def test_boolean_words(tmp_path, text_frames):
    words = ["yes", "NO", "1", "0", "True", "false", ""]
    text_frames["employees"].loc[: len(words) - 1, "technical_eligible"] = words
    write_tables(text_frames, tmp_path)
    flags = load_inputs(tmp_path).employees["technical_eligible"][: len(words)]
    assert flags.tolist() == [True, False, True, False, True, False, False]


# ------------------------------------------------------------------------------------------ pay gaps


def test_pay_gap_reported_once_per_state(problems_in, text_frames):
    employees, pay = text_frames["employees"], text_frames["pay"]
    employees.loc[[4, 9, 14], ["sequence", "tier", "grade"]] = ["technical", "3", "4"]  # E000019 holds it too
    state = pay["sequence"] + "/" + pay["tier"] + "/" + pay["grade"]
    text_frames["pay"] = pay[~state.isin(["technical/3/4", "technical/1/1"])]  # E000001 alone holds 1/1
    assert [str(p) for p in problems_in(text_frames)] == [
        "employees.csv row 2 (employee_id=E000001) column sequence/tier/grade: got 'technical/1/1', "
        "expected a state with a base_salary in pay.csv; 1 employee holds it",
        "employees.csv row 6 (employee_id=E000005) column sequence/tier/grade: got 'technical/3/4', "
        "expected a state with a base_salary in pay.csv; 4 employees hold it",
    ]


# ---------------------------------------------------------------------------------------- everything


def test_every_problem_is_reported_at_once(tmp_path, text_frames):
    employees, units, pay = text_frames["employees"], text_frames["units"], text_frames["pay"]
    employees.loc[0, "performance"] = "abc"
    employees.loc[3, "employee_id"] = "E000001"
    employees.loc[5, "unit_id"] = "U9"
    employees.loc[15, "tier"] = "11"
    units.loc[1, "efficiency"] = "120"
    pay.loc[10, "base_salary"] = "0"
    write_tables(text_frames, tmp_path)
    with pytest.raises(InputError) as caught:
        load_inputs(tmp_path)
    found = [(p.file, p.row, p.column) for p in caught.value.problems]
    assert found == [  # a repeated id (a root cause) first, then the cells in reading order
        ("employees.csv", 5, "employee_id"),
        ("employees.csv", 2, "performance"),
        ("employees.csv", 7, "unit_id"),
        ("employees.csv", 17, "tier"),
        ("units.csv", 3, "efficiency"),
        ("pay.csv", 12, "base_salary"),
    ]
    assert str(caught.value).splitlines()[0] == f"6 problems in {tmp_path}:"


def test_printed_list_is_capped_but_all_are_kept(tmp_path, frames):
    frames["employees"] = pd.concat([frames["employees"]] * 15, ignore_index=True).assign(performance=200.0)
    frames["employees"]["employee_id"] = [f"E{i:06d}" for i in range(len(frames["employees"]))]
    write_tables(frames, tmp_path)
    with pytest.raises(InputError) as caught:
        load_inputs(tmp_path)
    lines = str(caught.value).splitlines()
    assert len(caught.value.problems) == 300
    assert lines[0] == f"300 problems in {tmp_path}:" and len(lines) == 1 + 200 + 1
    assert lines[-1] == "  … and 100 more"


# ----------------------------------------------------------------- out of range, spaces, root causes


@pytest.mark.parametrize(
    ("table", "column", "value", "expected"),
    [
        ("employees", "tier", "99999999999999999999", "an integer in 1..20 (out of range)"),
        ("units", "min_headcount", "1e20", "an integer in 0..10,000,000 (out of range)"),
        ("pay", "base_salary", "1e300", "a number in 1..100,000,000 (out of range)"),
        ("pay", "base_salary", "1e-300", "a number in 1..100,000,000 (out of range)"),
        ("employees", "years_in_grade", "1e300", "a number in 0..60 (out of range)"),
    ],
)
def test_values_out_of_range_name_the_cell(tmp_path, text_frames, table, column, value, expected):
    text_frames[table].loc[0, column] = value
    text_frames["units"].loc[0, "max_headcount"] = ""  # min_headcount alone: the range, not the bound pair
    write_tables(text_frames, tmp_path)
    with pytest.raises(InputError) as caught:
        load_inputs(tmp_path)
    problem = only(caught.value.problems)
    assert (problem.file, problem.row, problem.column, problem.value, problem.expected) == (
        f"{table}.csv", 2, column, value, expected)


def test_spaces_around_ids_and_codes_are_removed(tmp_path, text_frames):
    employees, units = text_frames["employees"], text_frames["units"]
    employees.loc[0, ["employee_id", "unit_id", "sequence", "tier"]] = ["E000001 ", " U1", "\ttechnical ", " 1"]
    units.loc[0, "unit_id"], units.loc[1, "grade"] = "U1\u3000", " B "
    write_tables(text_frames, tmp_path)
    tables = load_inputs(tmp_path)
    assert tables.employees.loc[0, ["employee_id", "unit_id", "sequence", "tier"]].tolist() == [
        "E000001", "U1", "technical", 1]
    assert tables.units["unit_id"].tolist() == ["U1", "U2", "U3"] and tables.units.loc[1, "grade"] == "B"


def test_a_duplicated_unit_comes_before_its_consequences(tmp_path, text_frames):
    """U3's row now repeats U1: the repeat is the root cause and comes first; U3's employees are one line."""
    employees = text_frames["employees"]
    employees["performance"] = "high"  # 20 cell problems that, unsorted, would come first
    text_frames["units"].loc[2, "unit_id"] = "U1"
    write_tables(text_frames, tmp_path)
    with pytest.raises(InputError) as caught:
        load_inputs(tmp_path)
    messages = [str(p) for p in caught.value.problems]
    assert messages[0] == (
        "units.csv row 4 (unit_id=U1) column unit_id: got 'U1', expected a unique unit_id; row 2 already has it")
    holders = int((employees["unit_id"] == "U3").sum())
    assert [m for m in messages if "column unit_id" in m and m.startswith("employees")] == [
        f"employees.csv row 4 (employee_id=E000003) column unit_id: got 'U3', expected a unit_id listed in "
        f"units.csv; {holders} employees have it"
    ]
    assert len(messages) == 2 + len(employees)


def test_only_the_first_lines_are_printed_with_the_rest_counted():
    problems = [Problem(file="employees.csv", row=r, column="tier", expected="an integer") for r in range(2, 252)]
    lines = str(InputError("data", problems)).splitlines()
    assert lines[0] == "250 problems in data:" and len(lines) == 1 + InputError.MAX_LINES + 1
    assert lines[-1] == f"  … and {250 - InputError.MAX_LINES} more"


def test_a_unit_grade_outside_the_scenario_names_file_row_and_unit(tmp_path, text_frames):
    units = text_frames["units"]
    units.loc[2, "grade"] = "Z"
    blank = pd.DataFrame([[""] * len(units.columns)], columns=units.columns)
    text_frames["units"] = pd.concat([units.iloc[:1], blank, units.iloc[1:]])  # file rows are not positions
    write_tables(text_frames, tmp_path)
    units = load_inputs(tmp_path).units
    with pytest.raises(InputError) as caught:
        grade_units(units, UnitGrading())
    assert str(only(caught.value.problems)) == (
        "units.csv row 5 (unit_id=U3) column grade: got 'Z', expected a grade the scenario's unit_grading defines "
        "(A, B, C, D) or blank"
    )


@pytest.mark.parametrize(("override", "problem"), [
    ("hiring.entry_tiers={operations: [1, 7]}",
     "hiring.entry_tiers.operations: tiers [7] are not on the operations ladder of the pay table (tiers 1..6)"),
    ("attrition.by_tier={technical: {9: 0.1}}",
     "attrition.by_tier.technical: tiers [9] are not on the technical ladder of the pay table (tiers 1..8)"),
    ("requirements.demand=[{name: r, unit: U9, headcount: {1: 1}}]",
     "requirements.demand 'r': unit 'U9' is not in the units table"),
    ("requirements.demand=[{name: r, sequence: sales, headcount: {1: 1}}]",
     "requirements.demand 'r': sequence 'sales' has no ladder in the pay table (management, operations, technical)"),
    ("requirements.caps=[{name: c, sequence: management, tiers: [5], kinds: [hire], max_per_year: 1}]",
     "requirements.caps 'c' tiers: tiers [5] are not on the management ladder of the pay table (tiers 1..4)"),
])
def test_a_scenario_key_naming_what_the_tables_lack_is_a_problem(tmp_path, frames, override, problem):
    """Tiers, units and sequences a scenario names are checked against the tables (the schema bounds a tier
    by 1..MAX_TIER only); ``wfplan validate --scenario`` and ``solve`` report them, exit 2."""
    write_tables(frames, tmp_path / "data")
    tables = load_inputs(tmp_path / "data")
    assert scenario_problems(load_scenario(scenario_path("baseline"), [override]), tables) == [problem]
    assert scenario_problems(load_scenario(scenario_path("baseline")), tables) == []
    out = tmp_path / "plan"
    result = CliRunner().invoke(main, ["solve", "baseline", "--data", str(tmp_path / "data"), "--set", override,
                                       "--out", str(out), "--quiet"])
    assert result.exit_code == 2 and problem in result.stderr and not out.exists()
