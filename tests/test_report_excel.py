"""report.xlsx, read back with openpyxl, against the plan folder's CSV files; formula-safe CSV text.

A tiny group is solved through the real pipeline with the workbook writer registered: two units whose ids
start with ``+`` and ``@`` (Chinese after the sign), employees whose ids and names start with ``=``, ``-``
and ``'=``, one Chinese id, and one id holding XML's special characters and Excel's ``_xHHHH_`` escape.
The scenario asks for technical 50% ± 5% by year 1, which takes three operations → technical moves and two
technical hires (into +钢联: @稀土 is at its maximum headcount). A second solve of the same group, with
the budget cap halving every year, misses the cap.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl.utils.escape import unescape
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from models.scenario_files import build_scenario
from optimizer.cli import main
from optimizer.plan.output import write_csv
from optimizer.pipeline import EXIT_OK, EXIT_TARGET_MISSED, run_plan
from optimizer.plan.safe_text import restore, restore_text
from optimizer.whatif.sentences import unproven_sentences
from reports import excel
from reports.plugins import write_workbook
from tests.builders import QUIET, people, unit, with_unproven_cost, write_group

SHEETS = ["Summary", "Finance", "Budget", "Mix", "Headcount", "Actions", "Merit", "Flows", "Units", "Grades", "Scenario"]
UNITS = [unit("+钢联", score=80, name="+包钢钢联股份有限公司"), unit("@稀土", name="=北方稀土", max_headcount=8)]
TEXT = {
    "actions": ["employee_id", "name", "action", "from_unit", "from_sequence", "to_unit", "to_sequence",
                "from_unit_name", "to_unit_name", "reason"],
    "flows": ["kind", "from_unit", "from_sequence", "to_unit", "to_sequence"],
    "budget": ["unit_id", "unit_name"], "mix": ["sequence"], "headcount": ["unit_id", "sequence"],
    "units": ["unit_id", "name", "grade"],
}
OVERRIDES = ["horizon=2", "mix.deadline=1", "mix.target.technical=0.5", "mix.target.operations=0.5",
             "mix.tolerance=0.05", "mobility.operations_to_technical=0.3", "hiring.enabled=true",
             "hiring.max_rate.technical=0.5"]


def _person(employee_id: str, unit_id: str, sequence: str, name: str, performance: float) -> dict:
    return {"employee_id": employee_id, "unit_id": unit_id, "sequence": sequence, "tier": 1, "grade": 1,
            "performance": performance, "years_in_grade": 3, "technical_eligible": True, "name": name}


EMPLOYEES = [
    _person("=E1", "+钢联", "technical", '=HYPERLINK("http://example.com","x")', 99),
    _person("-E2", "+钢联", "operations", "-2+3", 98),
    _person("'=E3", "@稀土", "operations", "@SUM(A1:A9)", 97),
    _person("张三", "@稀土", "technical", "张三", 96),
    _person("R&D<1>_x0041_", "+钢联", "operations", "R&D", 95),
    *people("+钢联", "operations", 6), *people("@稀土", "operations", 6), *people("+钢联", "technical", 3, tier=2),
]


def _solve(folder: Path, overrides: list[str]) -> tuple[int, Path, Path]:
    """(exit code, plan folder, data folder) of the group solved with the workbook writer registered."""
    data = write_group(folder / "data", EMPLOYEES, UNITS)
    scenario = build_scenario(json.loads(json.dumps(QUIET)), "excel-test", overrides)
    result = run_plan(scenario, data, folder / "plan", report_writers=(write_workbook,))
    return result.exit_code, folder / "plan", data


@pytest.fixture(scope="module")
def solved(tmp_path_factory) -> tuple[int, Path, Path]:
    return _solve(tmp_path_factory.mktemp("excel"), OVERRIDES)


@pytest.fixture(scope="module")
def plan(solved) -> Path:
    return solved[1]


@pytest.fixture(scope="module")
def book(plan) -> Workbook:
    return openpyxl.load_workbook(plan / "report.xlsx")


@pytest.fixture(scope="module")
def over_budget(tmp_path_factory) -> tuple[int, Path, Path]:
    return _solve(tmp_path_factory.mktemp("over"), [*OVERRIDES, "budget.growth=-0.5"])


def _csv(plan: Path, name: str) -> pd.DataFrame:
    """A plan file as the writer was given it: text columns as text with the formula mark removed."""
    frame = pd.read_csv(plan / f"{name}.csv", dtype=dict.fromkeys(TEXT[name], str), keep_default_na=False,
                        na_values=[""])
    return frame.assign(**{column: restore_text(frame[column]) for column in TEXT[name]})


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts, a missing value as None (as openpyxl reads an empty cell)."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def _table(sheet: Worksheet, first_row: int = 1, last_row: int | None = None) -> pd.DataFrame:
    """Cells ``first_row..last_row`` under the header in ``first_row``, as read (missing cells: None)."""
    rows = list(sheet.iter_rows(min_row=first_row, max_row=last_row, values_only=True))
    return pd.DataFrame(rows[1:], columns=rows[0], dtype=object)


def _row_of(sheet: Worksheet, label: str) -> int:
    """The first row whose column A reads ``label``."""
    return next(cell.row for cell in sheet["A"] if cell.value == label)


def _excel_text(value: str) -> str:
    """A string cell as Excel shows it (openpyxl leaves Excel's ``_xHHHH_`` escapes in the value)."""
    return unescape(value)


# ------------------------------------------------------------------------------------------ the workbook


def test_the_run_writes_every_sheet(solved, book):
    exit_code, plan, _ = solved
    assert exit_code == EXIT_OK
    assert book.sheetnames == SHEETS
    counts = json.loads((plan / "summary.json").read_text(encoding="utf-8"))["counts"]
    assert counts == {"hire": 2, "sequence_move": 3, "stay": 17}


def _budget_blocks(sheet: Worksheet) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The Budget sheet's unit rows (under the header in row 1) and its group block (under its own header)."""
    section = _row_of(sheet, "Group total (ALL): kept apart from the unit rows above, which add up to it")
    return _table(sheet, 1, section - 2), _table(sheet, section + 1)


def test_budget_sheet_shows_budget_csv_with_the_group_total_apart(plan, book):
    units, group = _budget_blocks(book["Budget"])
    csv = _csv(plan, "budget")
    on_units = csv[csv["unit_id"] != "ALL"].sort_values(["year", "unit_id"], kind="stable")
    assert list(units["unit_id"]) == list(on_units["unit_id"]) and set(units["unit_id"]) == {"+钢联", "@稀土"}
    assert list(units["unit_name"]) == list(on_units["unit_name"])
    shown, grand = group.iloc[:-1].reset_index(drop=True), group.iloc[-1]
    group_csv = csv[csv["unit_id"] == "ALL"].sort_values("year")
    for column in ["year", "payroll", "table_payroll", "hiring_cost", "retraining_cost", "redundancy_cost", "total",
                   "cap"]:
        assert units[column].astype(float).tolist() == pytest.approx(on_units[column].astype(float).tolist(),
                                                                     rel=1e-15, nan_ok=True), column
        assert shown[column].astype(float).tolist() == pytest.approx(group_csv[column].astype(float).tolist(),
                                                                     rel=1e-15, nan_ok=True), column
    # summing the unit rows of a year gives the group row: nothing double-counted
    by_year = units.astype({"total": float}).groupby("year")["total"].sum()
    assert by_year.tolist() == pytest.approx(shown["total"].astype(float).tolist())
    capped = group_csv["cap"].notna().to_numpy()
    assert shown["headroom"][capped].tolist() == pytest.approx((group_csv["cap"] - group_csv["total"])[capped].tolist())
    assert shown["headroom"][~capped].isna().all() and units["headroom"].isna().all()
    totals = group_csv[group_csv["year"] >= 1]
    summary = json.loads((plan / "summary.json").read_text(encoding="utf-8"))
    assert grand["unit_name"] == "group total, years 1..2"
    assert grand["total"] == pytest.approx(totals["total"].sum()) == pytest.approx(summary["objective"]["cost"])
    assert grand["cap"] == pytest.approx(totals["cap"].sum())
    assert grand["hiring_cost"] == pytest.approx(2 * 20_000)  # two technical hires at the default 20,000


def test_finance_sheet_shows_payroll_by_unit_caps_and_headcount_change(plan, book):
    sheet = book["Finance"]
    csv = _csv(plan, "budget")
    facts = {row[0]: row[1] for row in sheet.iter_rows(min_row=3, max_row=5, values_only=True)}
    start = csv[(csv["unit_id"] == "ALL") & (csv["year"] == 0)].iloc[0]
    assert facts["Year-0 payroll, actual (Σ salary)"] == pytest.approx(start["payroll"])
    assert facts["Year-0 payroll on the pay table (structural)"] == pytest.approx(start["table_payroll"])
    first = _row_of(sheet, "Payroll by unit and year") + 1
    table = _table(sheet, first, first + 2)
    for record in table.to_dict("records"):
        row = csv[csv["unit_id"] == record["unit_id"]].set_index("year")["payroll"]
        assert [record[f"year {y}"] for y in range(3)] == pytest.approx(row.tolist())
    group = next(row for row in sheet.iter_rows(min_row=first + 3, max_row=first + 5, values_only=True)
                 if row[0] == "group total (ALL)")
    assert list(group[2:5]) == pytest.approx(table[["year 0", "year 1", "year 2"]].sum().tolist())
    change_row = next(cell.row for cell in sheet["A"] if str(cell.value).startswith("Headcount change per unit"))
    change = _table(sheet, change_row + 1)
    parts = ["start", "attrition", "hires", "redundancies", "transfers_in", "transfers_out", "end"]
    units, total = change.iloc[:-1], change.iloc[-1]
    assert (units["start"] - units["attrition"] + units["hires"] - units["redundancies"] + units["transfers_in"]
            - units["transfers_out"] == units["end"]).all()
    assert [total[p] for p in parts] == [units[p].sum() for p in parts]
    assert total["hires"] == 2 and total["start"] == 22 - 2


def test_numbers_are_numeric_cells_with_number_formats(book):
    expected = {
        ("Budget", "D"): "#,##0", ("Budget", "E"): "#,##0", ("Budget", "I"): "#,##0",
        ("Mix", "D"): "0.0%", ("Mix", "B"): "#,##0",
        ("Headcount", "D"): "#,##0", ("Headcount", "F"): "#,##0",
        ("Actions", "M"): "#,##0", ("Actions", "N"): "#,##0",
        ("Flows", "K"): "#,##0.0", ("Units", "F"): "0.00",
    }
    for (name, column), number_format in expected.items():
        heading = book[name][f"{column}1"].value  # the Budget sheet repeats its header above the group block
        cells = [cell for cell in book[name][column][1:] if cell.value is not None and cell.value != heading]
        assert cells, (name, column)
        assert {cell.data_type for cell in cells} == {"n"}, (name, column)
        assert {cell.number_format for cell in cells} == {number_format}, (name, column)
    number_like = [(sheet.title, cell.coordinate, cell.value) for sheet in book for row in sheet.iter_rows()
                   for cell in row if cell.data_type == "s" and re.fullmatch(r"-?[\d,]+(\.\d+)?%?", cell.value)]
    assert number_like == []


def test_charts_for_the_budget_and_the_mix_path(book):
    (budget,) = book["Summary"]._charts
    assert [type(chart).__name__ for chart in budget._charts] == ["BarChart", "LineChart"]
    first = _row_of(book["Summary"], "Budget against cap by year (CNY)") + 2
    total, cap = budget._charts[0].series[0], budget._charts[1].series[0]
    assert total.val.numRef.f == f"Summary!$B${first}:$B${first + 2}"
    assert cap.val.numRef.f == f"Summary!$C${first}:$C${first + 2}"
    mix = book["Mix"]._charts
    assert [type(chart).__name__ for chart in mix] == ["LineChart"] * 3
    assert [len(chart.series) for chart in mix] == [4, 4, 4]
    header = [cell.value for cell in book["Mix"][1]]
    share = openpyxl.utils.get_column_letter(header.index("technical share") + 1)
    assert mix[1].series[0].val.numRef.f == f"Mix!${share}$2:${share}$4"


def test_text_from_data_is_a_string_never_a_formula(book):
    assert [(s.title, c.coordinate) for s in book for row in s.iter_rows() for c in row if c.data_type == "f"] == []
    ids = {cell.value: cell for cell in book["Actions"]["A"][1:]}
    for value in ("=E1", "-E2", "'=E3", "+钢联-O0000", "@稀土-O0000", "HIRE-+钢联-0001"):
        assert ids[value].data_type == "s" and ids[value].quotePrefix, value
    units = {(cell.value, cell.data_type) for cell in book["Units"]["B"][1:]}
    assert units == {("+钢联", "s"), ("@稀土", "s")}
    budget_units = {cell.value for cell in book["Budget"]["B"][1:]}
    assert {"+钢联", "@稀土"} <= budget_units


def test_chinese_text_intact(book):
    actions = _table(book["Actions"])
    row = actions[actions["employee_id"] == "张三"].iloc[0]
    assert (row["from_unit"], row["reason"]) == ("@稀土", "no change planned for @稀土 technical T1 G1")
    assert actions["reason"].str.contains("by merit: rank 1 of ", regex=False).any()
    assert actions["reason"].str.endswith(" eligible in @稀土 operations T1 G1 (performance 97)").any()
    headcount = _table(book["Headcount"])
    assert set(headcount["unit_id"]) == {"+钢联", "@稀土", "ALL"}


def test_actions_sheet_equals_actions_csv(plan, book):
    sheet = _table(book["Actions"])
    sheet["employee_id"] = sheet["employee_id"].map(_excel_text)
    assert len(sheet) == 22
    assert _records(sheet) == _records(_csv(plan, "actions"))
    assert "R&D<1>_x0041_" in set(sheet["employee_id"])
    assert book["Actions"].freeze_panes == "A2"
    assert book["Actions"].auto_filter.ref == "A1:Q23"


def test_flows_mix_headcount_and_units_sheets_equal_their_csv(plan, book):
    assert _records(_table(book["Flows"])) == _records(_csv(plan, "flows"))
    mix, wide = _csv(plan, "mix"), _table(book["Mix"])
    for record in mix.to_dict("records"):
        row = wide[wide["year"] == record["year"]].iloc[0]
        for field in ("share", "target", "lower", "upper"):
            shown, expected = row[f"{record['sequence']} {field}"], record[field]
            assert (shown is None) if pd.isna(expected) else shown == pytest.approx(expected, rel=1e-15)
        heads = row[f"{record['sequence']} headcount"]  # whole people (largest remainder), within one of exact
        assert heads == int(heads) and abs(heads - record["headcount"]) < 1
    for row in wide.to_dict("records"):
        assert row["headcount"] == sum(row[f"{s} headcount"] for s in ("management", "technical", "operations"))
        assert row["headcount"] == round(mix.loc[mix["year"] == row["year"], "headcount"].sum())
    headcount, pivot = _csv(plan, "headcount"), _table(book["Headcount"])
    sums = headcount.groupby(["unit_id", "sequence", "tier", "year"])["headcount"].sum()
    for (unit_id, sequence, tier, year), heads in sums.items():
        row = pivot[(pivot["unit_id"] == unit_id) & (pivot["sequence"] == sequence) & (pivot["tier"] == tier)]
        shown = row.iloc[0][f"year {year}"]
        assert shown == int(shown) and abs(shown - heads) < 1
    total = pivot[pivot["unit_id"] == "ALL"].iloc[0]
    by_year = headcount.groupby("year")["headcount"].sum()
    assert [total[f"year {year}"] for year in range(3)] == [round(v) for v in by_year]
    assert [total[f"year {year}"] for year in range(3)] == pivot.iloc[:-1][[f"year {y}" for y in range(3)]].sum().tolist()
    assert _records(_table(book["Units"])) == _records(_csv(plan, "units"))


def test_summary_states_status_targets_and_counts(plan, book):
    summary = book["Summary"]
    value = {row[0]: row[1] for row in summary.iter_rows(values_only=True) if row[0] is not None}
    assert (value["Status"], value["Exit code"], value["Every target met"]) == ("optimal", 0, "yes")
    assert value["Roster employees"] == 20
    assert value["hire"] == 2 and value["sequence_move"] == 3 and value["stay"] == 17
    targets = _table(summary, _row_of(summary, "sequence"), _row_of(summary, "sequence") + 3).set_index("sequence")
    mix = _csv(plan, "mix").set_index(["sequence", "year"])
    assert targets.loc["technical", "share year 1"] == pytest.approx(mix.loc[("technical", 1), "share"])
    assert targets.loc["technical", "target"] == 0.5 and targets.loc["technical", "met"] == "yes"


def test_scenario_sheet_lists_parameters_overrides_hashes_and_versions(plan, book):
    summary = json.loads((plan / "summary.json").read_text(encoding="utf-8"))
    rows = {(section, key): value for section, key, value in book["Scenario"].iter_rows(min_row=2, values_only=True)}
    assert rows[("scenario", "mix.target.technical")] == 0.5
    assert rows[("scenario", "hiring.max_rate.technical")] == 0.5
    assert rows[("scenario", "hiring.entry_tiers.technical[1]")] == 2
    assert rows[("scenario", "hiring.enabled")] is True
    assert rows[("scenario", "unit_grading.grades[0].name")] == "C"
    overrides = [value for (section, _), value in rows.items() if section == "applied override"]
    assert overrides == summary["scenario"]["applied_overrides"] and len(overrides) == len(OVERRIDES)
    for table, digest in summary["inputs"]["hashes"].items():
        assert rows[("inputs", f"hashes.{table}")] == digest
    assert rows[("versions", "pandas")] == pd.__version__
    leaves = sum(1 for section, _ in rows if section == "scenario")
    assert leaves == _leaf_count({k: v for k, v in summary["scenario"].items() if k != "applied_overrides"})


def _leaf_count(value) -> int:
    if isinstance(value, dict) and value:
        return sum(_leaf_count(item) for item in value.values())
    if isinstance(value, list) and value:
        return sum(_leaf_count(item) for item in value)
    return 1


@pytest.mark.slow
def test_over_budget_years_are_marked(over_budget):
    exit_code, plan, _ = over_budget
    assert exit_code == EXIT_TARGET_MISSED
    book = openpyxl.load_workbook(plan / "report.xlsx")
    summary = book["Summary"]
    first = _row_of(summary, "Budget against cap by year (CNY)") + 1
    by_year = _table(summary, first, first + 3)
    assert by_year["within cap"].tolist() == [None, "no", "no"]
    assert (by_year["total"][1:] > by_year["cap"][1:]).all()
    rules = {str(cf.sqref): [rule.formula[0] for rule in cf.rules] for cf in book["Budget"].conditional_formatting}
    units, group = _budget_blocks(book["Budget"])
    first = len(units) + 5  # the group block's first data row: header, unit rows, a blank row, its title, its header
    # total (J) over cap (K) marks total and headroom (L)
    assert rules == {"J2:J7": ["AND(ISNUMBER($K2),$J2>$K2*(1+1e-07))"], "L2:L7": ["AND(ISNUMBER($K2),$J2>$K2*(1+1e-07))"],
                     f"J{first}:J{first + 3}": [f"AND(ISNUMBER($K{first}),$J{first}>$K{first}*(1+1e-07))"],
                     f"L{first}:L{first + 3}": [f"AND(ISNUMBER($K{first}),$J{first}>$K{first}*(1+1e-07))"]}
    all_rows = group.iloc[:-1]
    assert (all_rows["total"][1:] > all_rows["cap"][1:]).all() and (all_rows["headroom"][1:] < 0).all()


# ---------------------------------------------------------------------------------- formula-safe CSV text


@pytest.mark.slow
def test_csv_files_mark_formula_text_and_verify_still_passes(solved):
    _, plan, data = solved
    lines = (plan / "actions.csv").read_text(encoding="utf-8").splitlines()
    first_fields = {line.split(",")[0] for line in lines[1:]}
    assert {"'=E1", "'-E2", "''=E3", "'+钢联-O0000", "'@稀土-O0000", "张三", "HIRE-+钢联-0001"} <= first_fields
    moved = next(line for line in lines if line.startswith("'-E2,"))
    assert moved.split(",")[4:14] == ["'+钢联", "operations", "1", "1", "'+钢联", "technical", "1", "1", "50000", "60000"]
    assert "\n0,'@稀土," in (plan / "budget.csv").read_text(encoding="utf-8")
    assert "\n1,management,0,0,0,-0.05,0.05\n" in (plan / "mix.csv").read_text(encoding="utf-8")  # a negative number
    result = CliRunner().invoke(main, ["verify", str(plan), str(data)])
    assert result.exit_code == 0, result.output


def test_write_csv_marks_text_cells_only(tmp_path):
    frame = pd.DataFrame({
        "text": ["=1+2", "-E2", "@x", "+y", "\tz", "'=q", "'plain", "plain", None, "-5"],
        "number": [-1.5, -2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, -10.0],
        "whole": pd.array([-1, 2, None, 4, 5, 6, 7, 8, 9, 10], dtype="Int64"),
        "mixed": pd.Series([-3, "=x", None, 2.5, "+", "a", "b", "c", "d", "e"], dtype=object),
    })
    write_csv(frame, tmp_path / "t.csv")
    read = pd.read_csv(tmp_path / "t.csv", dtype=str, keep_default_na=False)
    assert read["text"].tolist() == ["'=1+2", "'-E2", "'@x", "'+y", "'\tz", "''=q", "'plain", "plain", "", "'-5"]
    assert read["number"].tolist() == ["-1.5", "-2", "3", "4", "5", "6", "7", "8", "9", "-10"]
    assert read["whole"].tolist() == ["-1", "2", "", "4", "5", "6", "7", "8", "9", "10"]
    assert read["mixed"].tolist() == ["-3", "'=x", "", "2.5", "'+", "a", "b", "c", "d", "e"]
    assert [restore(value) for value in read["text"]] == [*frame["text"][:8], "", "-5"]


# ------------------------------------------------------------------------------------------ long sheets


def _copy(plan: Path, folder: Path) -> Path:
    shutil.copytree(plan, folder)
    return folder


def test_a_sheet_holds_what_fits_and_names_the_full_list(plan, tmp_path, monkeypatch):
    copy = _copy(plan, tmp_path / "plan")
    monkeypatch.setattr(excel, "MAX_SHEET_ROWS", 6)
    book = openpyxl.load_workbook(write_workbook(copy))
    actions = book["Actions"]
    assert actions.max_row == 6
    shown = _table(actions, 1, 5)
    assert shown["employee_id"].tolist() == _csv(plan, "actions")["employee_id"][:4].tolist()
    note = actions["A6"].value
    assert note == ("The Actions sheet shows the first 4 of 22 rows (a sheet holds 6); "
                    "the full list is in actions.csv.")
    assert actions.auto_filter.ref == "A1:Q5"
    flows = book["Flows"]
    assert flows.max_row == 4 and flows.auto_filter.ref == "A1:K4"  # three flows fit
    notes = [row[1] for row in book["Summary"].iter_rows(values_only=True) if row[0] == "Note"]
    assert notes == [note]


def test_long_rows_escape_what_xml_cannot_hold(plan, tmp_path):
    copy = _copy(plan, tmp_path / "plan")
    actions = _csv(copy, "actions")
    awkward = "bell\x07 & <b> \"q\" _x0041_ \u00e9"
    actions.loc[0, "reason"] = awkward
    write_csv(actions, copy / "actions.csv")
    book = openpyxl.load_workbook(write_workbook(copy))
    assert _excel_text(book["Actions"]["Q2"].value) == awkward
    assert book["Actions"]["A2"].value == actions.loc[0, "employee_id"]


def test_a_payroll_the_time_limit_left_unproven_is_said_on_the_summary_sheet(plan, tmp_path):
    """A cost stage stopped by the time limit before it had a bound (as on a large group) gets the sentence of
    :func:`unproven_sentences` under "Not proven"; the solved plan (its cost proven) has no such section."""
    assert "Not proven" not in [cell.value for cell in openpyxl.load_workbook(plan / "report.xlsx")["Summary"]["A"]]
    folder = tmp_path / "plan"
    summary = with_unproven_cost(plan, folder)
    sheet = openpyxl.load_workbook(write_workbook(folder))["Summary"]
    row = _row_of(sheet, "Not proven")
    assert [sheet.cell(row + 1, 1).value] == unproven_sentences(summary)
    assert sheet.cell(row + 1, 1).value.startswith("The payroll is not shown to be the least possible")
