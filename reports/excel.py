"""Finance's workbook: ``report.xlsx``, written from a plan folder's files alone (docs/outputs.md).

``write_graded_workbook(plan_dir)`` reads ``actions.csv``, ``headcount.csv``, ``flows.csv``, ``budget.csv``,
``mix.csv``, ``units.csv``, ``requirements.csv`` and ``summary.json`` and writes ``plan_dir/report.xlsx``
with the sheets Summary, Finance, Budget, Requirements (only when requirements.csv has rows), Mix, Simulation (only
once ``wfplan simulate`` wrote simulation.csv: the fan charts), Headcount, Actions, Merit, Flows, Units, Grades and
Scenario, so the workbook shows exactly the numbers of the CSV files. Numbers are
numeric cells with number formats; the mix path and the budget against its cap are native Excel charts;
over-cap and out-of-band cells are marked by conditional formatting.
:func:`reports.plugins.write_workbook`, the ``excel`` writer of the ``wfplan.reports`` entry-point group, calls
:func:`write_graded_workbook` for these plans and :mod:`reports.ladder` for a plan of a scenario with its own
ladder, which builds on the cells, sheets and :func:`requirements_sheet` of this module.

Text from the input data (ids, unit ids, reasons) is always a string cell with the quote-prefix style,
never a formula, whatever it starts with; the CSV files' formula mark (:mod:`optimizer.plan.safe_text`) is
removed, so ``=E1`` reads ``=E1`` (the files are read through :mod:`optimizer.plan.reader`).

Long tables (Actions, Flows) can have a million rows. Writing them cell by cell through xlsxwriter takes
about a minute per million rows, so their data rows are built as sheet XML column-wise with pyarrow and
spliced into the sheet xlsxwriter wrote (header, frozen pane, autofilter, note row) when the package is
assembled by :mod:`reports.excel_stream`: a few seconds per million rows. A sheet holds at most
:data:`MAX_SHEET_ROWS` rows; a longer table shows what fits and a note row under it names the CSV file with
the full list.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from models.scenario import SEQUENCES
from optimizer.plan.grades import CHANGE_COLUMNS, grade_changes, grade_path_wide
from optimizer.plan.reader import PlanFiles, read_plan
from optimizer.simulate.confidence import confidence_sentences
from optimizer.simulate.results import simulation_sentences
from optimizer.whatif.sentences import diagnosis_sentences, missed_sentences, unproven_sentences
from reports import finance
from reports.excel_stream import LongRows, assemble, xf_index

__all__ = ["MAX_SHEET_ROWS", "REPORT_NAME", "requirements_sheet", "write_graded_workbook"]

REPORT_NAME = "report.xlsx"
MAX_SHEET_ROWS = 1_048_576
"""Rows of one worksheet, header included (Excel's limit)."""
SHEETS = ("Summary", "Finance", "Budget", "Requirements", "Mix", "Simulation", "Headcount", "Actions", "Merit",
          "Flows", "Units", "Grades", "Scenario")
"""Every sheet, in order; Requirements only when requirements.csv has rows, Simulation only once ``wfplan
simulate`` wrote simulation.csv."""
WORKBOOK_OPTIONS = {
    "constant_memory": True,
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
}
TOLERANCE = 1e-7
"""A share this close to its band (absolute) or a total this close to its cap (relative) is not marked, as
the summary's goal deviations do not count it."""
ALL = "ALL"
MONEY_COLUMNS = ("payroll", "table_payroll", "red_circled_payroll", "hiring_cost", "retraining_cost", "redundancy_cost",
                 "total", "cap", "overmanning_cost", "short_time_cost", "headroom")

STYLES: dict[str, dict[str, Any]] = {
    "title": {"bold": True, "font_size": 14},
    "section": {"bold": True, "font_size": 12},
    "header": {"bold": True, "bottom": 1, "bg_color": "#DDEBF7", "text_wrap": True, "valign": "top"},
    "label": {"bold": True},
    "note": {"italic": True, "font_color": "#595959"},
    "text": {"quote_prefix": True},
    "integer": {"num_format": "0"},
    "decimal": {"num_format": "0.00"},
    "money": {"num_format": "#,##0"},
    "share": {"num_format": "0.0%"},
    "heads": {"num_format": "#,##0.0"},
    "people": {"num_format": "#,##0"},
}
"""Cell styles by name; each also has a bold variant ``<name>_bold`` for total rows."""
MARKED = {"bg_color": "#FFC7CE", "font_color": "#9C0006"}
"""Conditional format of an over-cap or out-of-band cell."""
REQUIREMENT_STYLES = {"requirement": "text", "year": "integer",
                      **dict.fromkeys(["required", "headcount", "overmanning", "short_time"], "heads"), "cost": "money"}
"""Cell styles of the requirements.csv columns."""


# ---------------------------------------------------------------------------------------- writing cells


@dataclass(frozen=True)
class Book:
    """The workbook being written and its named cell styles."""

    workbook: xlsxwriter.Workbook
    styles: dict[str, Format]
    marked: Format

    @classmethod
    def create(cls, target: io.BytesIO) -> Book:
        """A workbook writing into ``target``, with every style of :data:`STYLES` and its bold variant."""
        workbook = xlsxwriter.Workbook(target, WORKBOOK_OPTIONS)
        styles = {}
        for name, properties in STYLES.items():
            styles[name] = workbook.add_format(properties)
            styles[f"{name}_bold"] = workbook.add_format({**properties, "bold": True})
        return cls(workbook, styles, workbook.add_format(MARKED))

    def style(self, name: str | None, bold: bool = False) -> Format | None:
        return None if name is None else self.styles[f"{name}_bold" if bold else name]

    def value_style(self, value: Any) -> Format | None:
        """The text style for a string, none (General) for anything else."""
        return self.styles["text"] if isinstance(value, str) else None


def write_cell(sheet: Worksheet, row: int, column: int, value: Any, style: Format | None = None) -> None:
    """A number as a number, a bool as a bool, anything else as a string (never a formula); nothing for a
    missing value or an empty string."""
    if value is None or value == "" or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return
    if isinstance(value, (bool, np.bool_)):
        sheet.write_boolean(row, column, bool(value), style)
    elif isinstance(value, (int, float, np.integer, np.floating)):
        sheet.write_number(row, column, float(value), style)
    else:
        sheet.write_string(row, column, str(value), style)


def write_row(sheet: Worksheet, row: int, values: Sequence[Any], styles: Sequence[Format | None]) -> None:
    for column, (value, style) in enumerate(zip(values, styles)):
        write_cell(sheet, row, column, value, style)


def write_header(book: Book, sheet: Worksheet, row: int, labels: Sequence[str]) -> None:
    for column, label in enumerate(labels):
        sheet.write_string(row, column, label, book.styles["header"])


def write_frame(book: Book, sheet: Worksheet, row: int, frame: pd.DataFrame, styles: dict[str, str | None],
                bold: Sequence[bool] | None = None) -> int:
    """``frame`` under a header row at ``row`` (column styles by name; rows where ``bold`` is true in bold);
    returns the row after the last one written."""
    write_header(book, sheet, row, list(frame.columns))
    plain = [book.style(styles.get(column)) for column in frame.columns]
    strong = [book.style(styles.get(column), bold=True) for column in frame.columns]
    flags = np.asarray(bold, bool) if bold is not None else np.zeros(len(frame), bool)
    for offset, (values, is_bold) in enumerate(zip(frame.itertuples(index=False), flags), start=1):
        write_row(sheet, row + offset, values, strong if is_bold else plain)
    return row + len(frame) + 1


def flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Nested dicts and lists as ``(dotted.key[index], scalar)`` rows; an empty dict or list is one row
    with no value."""
    if isinstance(value, dict) and value:
        return [row for key, item in value.items() for row in flatten(item, f"{prefix}.{key}" if prefix else str(key))]
    if isinstance(value, list) and value:
        return [row for index, item in enumerate(value) for row in flatten(item, f"{prefix}[{index}]")]
    return [(prefix, None if isinstance(value, (dict, list)) else value)]


# ------------------------------------------------------------------------------------------------ sheets


def summary_sheet(book: Book, sheet: Worksheet, plan: PlanFiles, notes: list[str]) -> None:
    """Status, mix targets against achieved shares, budget against cap by year (with a chart), year-1
    counts, missed targets (rounded, as the terminal words them) and the diagnosis as sentences, one a row (:func:`diagnosis_sentences`, the
    terminal's wording; its raw entry is on the Scenario sheet)."""
    summary = plan.summary
    sheet.set_column(0, 0, 34)
    sheet.set_column(1, 8, 16)
    sheet.write_string(0, 0, f"Workforce plan: {summary['scenario'].get('name', '')}", book.styles["title"])
    write_cell(sheet, 1, 0, summary["scenario"].get("description"), book.styles["text"])
    row = write_key_values(book, sheet, 3, _status_rows(summary) + [("Note", note, "note") for note in notes])
    row = _mix_targets(book, sheet, row + 1, plan)
    row = _budget_by_year(book, sheet, row + 1, plan)
    counts = sorted((summary.get("counts") or {}).items())
    sheet.write_string(row + 1, 0, "Year-1 actions", book.styles["section"])
    row = write_frame(book, sheet, row + 2, pd.DataFrame(counts, columns=["action", "employees"]),
                      {"action": "text", "employees": "money"})
    missed = missed_sentences(plan.mix, plan.budget, (summary.get("solver") or {}).get("stages", []))
    if missed:
        row = _sentences(book, sheet, row, "Missed targets", missed)
    unproven = unproven_sentences(summary)
    if unproven:
        row = _sentences(book, sheet, row, "Not proven", unproven)
    if summary.get("diagnosis"):
        row = _sentences(book, sheet, row, "Diagnosis", diagnosis_sentences(summary["diagnosis"]))
    if summary.get("confidence"):
        row = _sentences(book, sheet, row, "Confidence level and its cost", confidence_sentences(summary["confidence"]))
    if plan.simulation_summary is not None:
        _sentences(book, sheet, row, "Simulation (sheet Simulation)", simulation_sentences(plan.simulation_summary))


def _sentences(book: Book, sheet: Worksheet, row: int, title: str, sentences: list[str]) -> int:
    """A section title and its sentences, one a row, after ``row``; returns the last row written."""
    sheet.write_string(row + 1, 0, title, book.styles["section"])
    for offset, sentence in enumerate(sentences, start=2):
        sheet.write_string(row + offset, 0, sentence, book.styles["text"])
    return row + 1 + len(sentences)


def _status_rows(summary: dict[str, Any]) -> list[tuple[str, Any, str | None]]:
    """``(label, value, style)`` rows of the run's outcome."""
    objective = summary.get("objective") or {}
    return [
        ("Status", summary.get("status"), "text"),
        ("Exit code", summary.get("exit_code"), "integer"),
        ("Every target met", "yes" if summary.get("targets_met") else "no", "text"),
        ("Independent verification", "passed" if (summary.get("verification") or {}).get("ok") else "failed", "text"),
        ("Solver", (summary.get("solver") or {}).get("backend"), "text"),
        ("Roster employees", (summary.get("model") or {}).get("employees"), "money"),
        (f"Cost, years 1..{summary['scenario']['horizon']} (CNY)", objective.get("cost"), "money"),
        ("Disruption (promotions, moves, transfers, downgrades, redundancies)", objective.get("disruption"), "heads"),
    ]


def write_key_values(book: Book, sheet: Worksheet, row: int, rows: Sequence[tuple[str, Any, str | None]]) -> int:
    """``label | value`` rows from ``row`` (style by name; none: text or General); returns the next row."""
    for offset, (key, value, style) in enumerate(rows):
        sheet.write_string(row + offset, 0, key, book.styles["label"])
        write_cell(sheet, row + offset, 1, value, book.style(style) if style else book.value_style(value))
    return row + len(rows)


def _mix_targets(book: Book, sheet: Worksheet, row: int, plan: PlanFiles) -> int:
    """Per sequence: target, band, the share in year 0 and in every year the band applies, met or not."""
    years = sorted({0, *range(plan.deadline, plan.horizon + 1)})
    shares = plan.mix.pivot_table(index="sequence", columns="year", values="share", aggfunc="sum")
    bands = plan.mix.drop_duplicates("sequence").set_index("sequence")
    missed = {entry["sequence"] for entry in (plan.summary.get("goal_deviations") or {}).get("mix", [])}
    bounded = plan.mix.dropna(subset=["lower"]).drop_duplicates("sequence").set_index("sequence")
    sheet.write_string(row, 0, f"Mix: targets against achieved (band from year {plan.deadline})",
                       book.styles["section"])
    write_header(book, sheet, row + 1, ["sequence", "target", "lower", "upper",
                                        *(f"share year {year}" for year in years), "met"])
    styles = [book.styles["text"], *[book.styles["share"]] * (3 + len(years)), book.styles["text"]]
    sequences = [s for s in SEQUENCES if s in shares.index]
    for offset, sequence in enumerate(sequences, start=2):
        band = bounded.loc[sequence] if sequence in bounded.index else None
        values = [sequence, bands.loc[sequence, "target"], None if band is None else band["lower"],
                  None if band is None else band["upper"], *(shares.loc[sequence].get(year) for year in years),
                  "no" if sequence in missed else "yes"]
        write_row(sheet, row + offset, values, styles)
    return row + len(sequences) + 2


def _budget_by_year(book: Book, sheet: Worksheet, row: int, plan: PlanFiles) -> int:
    """The ALL rows of budget.csv: total, cap, headroom, within cap; and the column + line chart."""
    totals = plan.budget[plan.budget["unit_id"] == ALL].sort_values("year")
    over = {entry["year"] for entry in (plan.summary.get("goal_deviations") or {}).get("budget", [])}
    table = pd.DataFrame({
        "year": totals["year"].to_numpy(),
        "total": totals["total"].to_numpy(),
        "cap": totals["cap"].to_numpy(),
        "headroom": (totals["cap"] - totals["total"]).to_numpy(),
        "within cap": [None if pd.isna(cap) else "no" if year in over else "yes"
                       for year, cap in zip(totals["year"], totals["cap"])],
    })
    sheet.write_string(row, 0, "Budget against cap by year (CNY)", book.styles["section"])
    end = write_frame(book, sheet, row + 1, table, {"year": "integer", "total": "money", "cap": "money",
                                                    "headroom": "money", "within cap": "text"})
    first, last = row + 2, end - 1
    _mark_over_cap(book, sheet, first, last, total_col=1, cap_col=2, marked_cols=(1, 3))
    chart = book.workbook.add_chart({"type": "column"})
    chart.add_series({"name": "total", "categories": ["Summary", first, 0, last, 0],
                      "values": ["Summary", first, 1, last, 1], "fill": {"color": "#5B9BD5"}})
    cap = book.workbook.add_chart({"type": "line"})
    cap.add_series({"name": "cap", "categories": ["Summary", first, 0, last, 0],
                    "values": ["Summary", first, 2, last, 2], "line": {"color": "#C00000", "width": 2.25},
                    "marker": {"type": "diamond"}})
    chart.combine(cap)
    chart.set_title({"name": "Budget total against cap"})
    chart.set_x_axis({"name": "year"})
    chart.set_y_axis({"name": "CNY", "num_format": "#,##0"})
    chart.show_blanks_as("gap")
    sheet.insert_chart(row, 6, chart)
    return end


def _mark_over_cap(book: Book, sheet: Worksheet, first: int, last: int, total_col: int, cap_col: int,
                   marked_cols: Sequence[int]) -> None:
    """Conditional format: the ``marked_cols`` cells of a row whose total exceeds its cap."""
    total = f"${xl_col_to_name(total_col)}{first + 1}"
    cap = f"${xl_col_to_name(cap_col)}{first + 1}"
    criteria = f"=AND(ISNUMBER({cap}),{total}>{cap}*(1+{TOLERANCE}))"
    for column in marked_cols:
        sheet.conditional_format(first, column, last, column, {"type": "formula", "criteria": criteria,
                                                               "format": book.marked})


def budget_sheet(book: Book, sheet: Worksheet, plan: PlanFiles) -> None:
    """budget.csv's unit rows by year (with headroom = cap − total beside the cap, where a unit has a cap) under an
    autofilter, so a column of them sums to the group; below them, apart, the group total (``ALL``) rows and a row
    summing them over years 1..H. Totals over their cap are marked."""
    budget = plan.budget.copy()
    budget.insert(budget.columns.get_loc("cap") + 1, "headroom", budget["cap"] - budget["total"])
    units = budget[budget["unit_id"] != ALL].sort_values(["year", "unit_id"], kind="stable")
    group = budget[budget["unit_id"] == ALL].sort_values("year")
    later = group[group["year"] >= 1]
    grand = pd.DataFrame([{"year": None, "unit_id": ALL, "unit_name": f"group total, years 1..{plan.horizon}",
                           **{column: later[column].sum() for column in MONEY_COLUMNS}}])
    sheet.set_column(0, 0, 8)
    sheet.set_column(1, 2, 20)
    sheet.set_column(3, len(budget.columns), 16)
    sheet.freeze_panes(1, 3)
    styles = {"year": "integer", "unit_id": "text", "unit_name": "text", **dict.fromkeys(MONEY_COLUMNS, "money")}
    end = write_frame(book, sheet, 0, units, styles)
    columns = list(budget.columns)
    sheet.autofilter(0, 0, end - 1, len(columns) - 1)
    _mark_over_cap(book, sheet, 1, end - 1, columns.index("total"), columns.index("cap"),
                   (columns.index("total"), columns.index("headroom")))
    sheet.write_string(end + 1, 0, "Group total (ALL): kept apart from the unit rows above, which add up to it",
                       book.styles["section"])
    table = pd.concat([group, grand], ignore_index=True)
    last = write_frame(book, sheet, end + 2, table, styles, bold=[True] * len(table))
    _mark_over_cap(book, sheet, end + 3, last - 1, columns.index("total"), columns.index("cap"),
                   (columns.index("total"), columns.index("headroom")))


def finance_sheet(book: Book, sheet: Worksheet, plan: PlanFiles) -> None:
    """Finance's view (:mod:`reports.finance`): year-0 payroll actual and on the pay table; payroll by unit and
    year with the group total apart below; one-off costs by kind and year; every cap with total, change against
    year 0 and headroom; headcount change per unit in whole people."""
    budget, years = plan.budget, sorted(int(y) for y in plan.budget["year"].unique())
    sheet.set_column(0, 0, 30)
    sheet.set_column(1, 1, 22)
    sheet.set_column(2, 12, 16)
    both = finance.year0_both_ways(budget)
    sheet.write_string(0, 0, "Finance: payroll, one-off costs, caps (CNY)", book.styles["title"])
    row = write_key_values(book, sheet, 2, [("Year-0 payroll, actual (Σ salary)", both["actual"], "money"),
                                            ("Year-0 payroll on the pay table (structural)", both["structural"], "money"),
                                            ("Structural − actual, a year", both["difference"], "money")])
    units, group = finance.payroll_by_unit(budget)
    sheet.write_string(row + 1, 0, "Payroll by unit and year", book.styles["section"])
    table = units.rename(columns={y: f"year {y}" for y in years})
    table[f"change {years[0]}→{years[-1]}"] = units[years[-1]] - units[years[0]]
    money = dict.fromkeys(table.columns[2:], "money")
    row = write_frame(book, sheet, row + 2, table, {"unit_id": "text", "unit_name": "text", **money})
    total = ["group total (ALL)", "", *(group[y] for y in years), group[years[-1]] - group[years[0]]]
    write_row(sheet, row + 1, total, [book.styles["label"], None, *[book.styles["money_bold"]] * (len(years) + 1)])
    row += 3
    sheet.write_string(row, 0, "One-off costs by kind (group)", book.styles["section"])
    kinds = finance.one_off_by_kind(budget).rename(columns={y: f"year {y}" for y in years})
    row = write_frame(book, sheet, row + 1, kinds, {"kind": "text", **dict.fromkeys(kinds.columns[1:], "money")})
    sheet.write_string(row + 1, 0, "Caps and headroom (headroom = cap − total; change against year 0)",
                       book.styles["section"])
    caps = finance.against_cap(budget)
    row = write_frame(book, sheet, row + 2, caps, {"unit_id": "text", "unit_name": "text", "year": "integer",
                                                   **dict.fromkeys(["total", "change", "cap", "headroom"], "money")})
    change = finance.rounded_change(finance.headcount_change(plan.headcount, plan.flows, plan.units, plan.horizon))
    sheet.write_string(row + 1, 0, f"Headcount change per unit, years 1..{plan.horizon} (whole people; end = start − "
                       "attrition + hires − redundancies + transfers in − transfers out)", book.styles["section"])
    totals = pd.DataFrame([{"unit_id": ALL, "unit_name": "all units", **change[list(finance.CHANGE_PARTS)].sum()}])
    table = pd.concat([change, totals], ignore_index=True)
    write_frame(book, sheet, row + 2, table, {"unit_id": "text", "unit_name": "text",
                                              **dict.fromkeys(finance.CHANGE_PARTS, "people")},
                bold=[i == len(table) - 1 for i in range(len(table))])


def mix_sheet(book: Book, sheet: Worksheet, plan: PlanFiles) -> None:
    """mix.csv with years as rows and, per sequence, headcount, share, target and band; shares outside
    the band are marked; one line chart per sequence of its share against the band."""
    wide = _mix_wide(plan.mix)
    styles = {"year": "integer", "headcount": "people"}
    for column in wide.columns[2:]:
        styles[column] = "people" if column.endswith("headcount") else "share"
    sheet.set_column(0, 0, 8)
    sheet.set_column(1, len(wide.columns), 13)
    sheet.freeze_panes(1, 1)
    end = write_frame(book, sheet, 0, wide, styles)
    for index, sequence in enumerate(s for s in SEQUENCES if f"{s} share" in wide.columns):
        column = list(wide.columns).index(f"{sequence} share")
        _mark_out_of_band(book, sheet, end - 1, column)
        sheet.insert_chart(end + 1, 0, _mix_chart(book, sequence, column, end - 1), {"x_offset": 500 * index})


def _mix_wide(mix: pd.DataFrame) -> pd.DataFrame:
    """year, total headcount, then per sequence: headcount, share, target, lower, upper. Headcounts in whole people
    (:func:`reports.finance.whole_people` over each year's sequences, so they add up to the total); shares exact."""
    frame = pd.DataFrame({"year": sorted(mix["year"].unique())})
    whole = mix.assign(headcount=mix.groupby("year")["headcount"].transform(finance.whole_people))
    frame["headcount"] = frame["year"].map(whole.groupby("year")["headcount"].sum())
    for sequence in (s for s in SEQUENCES if s in set(mix["sequence"])):
        rows = whole[whole["sequence"] == sequence].set_index("year")
        for field in ("headcount", "share", "target", "lower", "upper"):
            frame[f"{sequence} {field}"] = frame["year"].map(rows[field])
    return frame


def _mark_out_of_band(book: Book, sheet: Worksheet, last: int, share_col: int) -> None:
    """Conditional format on a share column: outside [lower, upper] (the two columns after the target)."""
    share, lower, upper = (f"${xl_col_to_name(share_col + k)}2" for k in (0, 2, 3))
    criteria = f"=AND(ISNUMBER({lower}),OR({share}<{lower}-{TOLERANCE},{share}>{upper}+{TOLERANCE}))"
    sheet.conditional_format(1, share_col, last, share_col, {"type": "formula", "criteria": criteria,
                                                             "format": book.marked})


def _mix_chart(book: Book, sequence: str, share_col: int, last: int) -> Any:
    """Line chart of one sequence's share by year, with its target and band."""
    chart = book.workbook.add_chart({"type": "line"})
    lines = {"share": ({"color": "#2F5597", "width": 2.5}, {"type": "circle"}),
             "target": ({"color": "#548235", "dash_type": "dash"}, {"type": "none"}),
             "lower": ({"color": "#A6A6A6", "dash_type": "round_dot"}, {"type": "none"}),
             "upper": ({"color": "#A6A6A6", "dash_type": "round_dot"}, {"type": "none"})}
    for offset, (name, (line, marker)) in enumerate(lines.items()):
        chart.add_series({"name": name, "categories": ["Mix", 1, 0, last, 0],
                          "values": ["Mix", 1, share_col + offset, last, share_col + offset],
                          "line": line, "marker": marker})
    chart.set_title({"name": f"{sequence} share against the band"})
    chart.set_x_axis({"name": "year"})
    chart.set_y_axis({"num_format": "0%"})
    chart.show_blanks_as("gap")
    return chart


SIMULATION_STYLES = {"year": "integer", "measure": "text", "sequence": "text", "plan": "decimal", "p05": "decimal",
                     "p50": "decimal", "p95": "decimal", "probability": "share"}
FAN_LINES = {"p05": {"color": "#9DC3E6", "width": 1.5}, "p50": {"color": "#2F5597", "width": 2.5},
             "p95": {"color": "#9DC3E6", "width": 1.5}, "plan": {"color": "#404040", "dash_type": "dash"},
             "lower": {"color": "#A6A6A6", "dash_type": "round_dot"}, "upper": {"color": "#A6A6A6", "dash_type": "round_dot"},
             "cap": {"color": "#C00000", "width": 2.25}}
"""Lines of the fan charts: the 5 % and 95 % quantiles pale, the median strong, the plan dashed, band and cap."""


def _fan_table(simulation: pd.DataFrame, mix: pd.DataFrame, budget: pd.DataFrame) -> pd.DataFrame:
    """Years as rows; per sequence its share's p05, p50, p95, plan, lower, upper; then the total's and the cap."""
    frame = pd.DataFrame({"year": sorted(simulation["year"].unique())})
    for sequence in SEQUENCES:
        rows = simulation[(simulation["measure"] == "share") & (simulation["sequence"] == sequence)].set_index("year")
        band = mix[mix["sequence"] == sequence].set_index("year")
        for field in ("p05", "p50", "p95", "plan"):
            frame[f"{sequence} {field}"] = frame["year"].map(rows[field])
        for field in ("lower", "upper"):
            frame[f"{sequence} {field}"] = frame["year"].map(band[field])
    totals = simulation[simulation["measure"] == "total"].set_index("year")
    for field in ("p05", "p50", "p95", "plan"):
        frame[f"total {field}"] = frame["year"].map(totals[field])
    frame["total cap"] = frame["year"].map(budget[budget["unit_id"] == ALL].set_index("year")["cap"])
    return frame


def simulation_sheet(book: Book, sheet: Worksheet, plan: PlanFiles) -> None:
    """The fan table (years as rows, quantiles of each share with its band, of the total with its cap), one
    native line chart per sequence and one of the total (the fan charts), then simulation.csv as it is."""
    fan = _fan_table(plan.simulation, plan.mix, plan.budget)
    styles = {"year": "integer", **{c: "money" if c.startswith("total") else "share" for c in fan.columns[1:]}}
    sheet.set_column(0, 0, 8)
    sheet.set_column(1, len(fan.columns), 14)
    sheet.freeze_panes(1, 1)
    end = write_frame(book, sheet, 0, fan, styles)
    columns = list(fan.columns)
    groups = [(s, f"{s} share: 5 %, median, 95 % of simulations", "0%") for s in SEQUENCES] + [
        ("total", "Total (payroll + one-off) against the cap", "#,##0")]
    for index, (prefix, title, number_format) in enumerate(groups):
        chart = book.workbook.add_chart({"type": "line"})
        for name, line in FAN_LINES.items():
            if f"{prefix} {name}" not in columns:
                continue
            column = columns.index(f"{prefix} {name}")
            chart.add_series({"name": f"{prefix} {name}", "categories": ["Simulation", 1, 0, end - 1, 0],
                              "values": ["Simulation", 1, column, end - 1, column], "line": line,
                              "marker": {"type": "none"}})
        chart.set_title({"name": title})
        chart.set_x_axis({"name": "year"})
        chart.set_y_axis({"num_format": number_format})
        chart.show_blanks_as("gap")
        sheet.insert_chart(end + 1 + 16 * (index // 2), 0, chart, {"x_offset": 500 * (index % 2)})
    write_frame(book, sheet, end + 34, plan.simulation, SIMULATION_STYLES)


def headcount_sheet(book: Book, sheet: Worksheet, plan: PlanFiles) -> None:
    """headcount.csv summed over grades: one row per unit × sequence × tier, one column per year in whole people
    (:func:`reports.finance.whole_people`: each year's column adds up to its rounded total), and a total row."""
    frame = plan.headcount.assign(sequence=pd.Categorical(plan.headcount["sequence"], _sequence_order(plan.headcount)))
    pivot = frame.pivot_table(index=["unit_id", "sequence", "tier"], columns="year", values="headcount",
                              aggfunc="sum", fill_value=0.0, observed=True).sort_index()
    pivot.columns = [f"year {int(year)}" for year in pivot.columns]
    pivot = pivot.apply(finance.whole_people)  # whole people that add up; headcount.csv keeps exact values
    table = pivot.reset_index()
    table["sequence"] = table["sequence"].astype(str)
    total = pd.DataFrame([{"unit_id": ALL, "sequence": None, "tier": None, **pivot.sum().to_dict()}])
    table = pd.concat([table, total], ignore_index=True)
    sheet.set_column(0, 1, 16)
    sheet.set_column(2, len(table.columns), 11)
    sheet.freeze_panes(1, 3)
    styles = {"unit_id": "text", "sequence": "text", "tier": "integer", **dict.fromkeys(pivot.columns, "people")}
    end = write_frame(book, sheet, 0, table, styles, bold=table.index == len(table) - 1)
    sheet.autofilter(0, 0, end - 2, len(table.columns) - 1)


def _sequence_order(frame: pd.DataFrame) -> list[str]:
    """The contract's sequences first, in their order, then any other found (sorted)."""
    found = set(frame["sequence"].dropna())
    return [s for s in SEQUENCES if s in found] + sorted(found - set(SEQUENCES))


def units_sheet(book: Book, sheet: Worksheet, plan: PlanFiles) -> None:
    """units.csv: each unit's score, grade, pay coefficient and highest tier per year."""
    sheet.set_column(0, 0, 8)
    sheet.set_column(1, 2, 18)
    sheet.set_column(3, 6, 14)
    sheet.freeze_panes(1, 3)
    styles = {"year": "integer", "unit_id": "text", "name": "text", "score": "decimal", "grade": "text",
              "pay_coefficient": "decimal", "max_tier": "integer"}
    end = write_frame(book, sheet, 0, plan.units, styles)
    sheet.autofilter(0, 0, end - 1, len(plan.units.columns) - 1)


def grades_sheet(book: Book, sheet: Worksheet, plan: PlanFiles) -> None:
    """Each unit's grade path (one column per year), then every grade change with the unit's payroll in the
    years it holds, with and without it (:func:`optimizer.plan.grades.grade_changes`)."""
    wide = grade_path_wide(plan.units)
    sheet.set_column(0, 1, 18)
    sheet.set_column(2, len(CHANGE_COLUMNS), 14)
    sheet.write(0, 0, "Grade path", book.style("text", bold=True))
    row = write_frame(book, sheet, 1, wide, dict.fromkeys(wide.columns, "text")) + 1
    changes = grade_changes(plan.units, plan.budget)
    sheet.write(row, 0, "Grade changes: payroll of the unit in the years each holds, with it and re-priced at the "
                        "coefficient before it (table payroll × old / new coefficient, premiums unchanged; the plan held fixed)",
                book.style("text", bold=True))
    styles = {"unit_id": "text", "name": "text", "year": "integer", "until": "integer", "from_grade": "text",
              "to_grade": "text", "from_coefficient": "decimal", "to_coefficient": "decimal",
              "from_max_tier": "integer", "to_max_tier": "integer", "payroll": "money", "payroll_without": "money",
              "cost": "money"}
    write_frame(book, sheet, row + 1, changes, styles)


MERIT_STYLES = {"acted_performance": "decimal", "stayer_performance": "decimal"}
"""merit.csv's decimal columns (the others: text or whole numbers)."""


def merit_sheet(book: Book, sheet: Worksheet, plan: PlanFiles) -> None:
    """merit.csv: per position and year-1 action, the eligible, those who took it, the line (the performance
    of the last one in) and the best eligible who stays, and the exceptions a stated rule explains."""
    merit = plan.merit
    styles = {c: "text" if not pd.api.types.is_numeric_dtype(merit[c]) else MERIT_STYLES.get(c, "integer")
              for c in merit.columns}
    table_sheet(book, sheet, merit, styles)
    sheet.autofilter(0, 0, max(len(merit), 1), len(merit.columns) - 1)


def scenario_sheet(book: Book, sheet: Worksheet, summary: dict[str, Any]) -> None:
    """Every scenario parameter, every applied override, input hashes, versions, solver and model facts and
    the diagnosis (when there is one) of ``summary.json``, as ``section | key | value`` rows."""
    scenario = {key: value for key, value in summary["scenario"].items() if key != "applied_overrides"}
    overrides = summary["scenario"].get("applied_overrides") or []
    rows = [("scenario", key, value) for key, value in flatten(scenario)]
    rows += [("applied override", number, text) for number, text in enumerate(overrides, start=1)]
    rows += [] if overrides else [("applied override", "(none)", None)]
    for section in ("inputs", "versions", "solver", "model", *(["diagnosis"] if summary.get("diagnosis") else [])):
        rows += [(section, key, value) for key, value in flatten(summary.get(section) or {})]
    sheet.set_column(0, 0, 18)
    sheet.set_column(1, 1, 44)
    sheet.set_column(2, 2, 70)
    sheet.freeze_panes(1, 0)
    text = book.styles["text"]
    write_header(book, sheet, 0, ["section", "key", "value"])
    for row, (section, key, value) in enumerate(rows, start=1):
        write_row(sheet, row, [section, key, value], [text, book.value_style(key), book.value_style(value)])
    sheet.autofilter(0, 0, len(rows), 2)


def table_sheet(book: Book, sheet: Worksheet, table: pd.DataFrame, styles: dict[str, str],
                bold_last: bool = False) -> None:
    """``table`` with a frozen header and first column (its last row in bold when ``bold_last``)."""
    sheet.set_column(0, 0, 18)
    sheet.set_column(1, len(table.columns), 13)
    sheet.freeze_panes(1, 1)
    write_frame(book, sheet, 0, table, styles, bold=[bold_last and i == len(table) - 1 for i in table.index])


def requirements_sheet(book: Book, sheet: Worksheet, requirements: pd.DataFrame) -> None:
    """The rows of requirements.csv (its contract columns) under a frozen header."""
    table_sheet(book, sheet, requirements, REQUIREMENT_STYLES)


# ------------------------------------------------------------------------------------------- long sheets

LONG_SHEETS = {"Actions": "actions", "Flows": "flows"}
"""Sheets written by :class:`LongRows`, and the plan file each shows."""
LONG_STYLES: dict[str, dict[str, str]] = {
    "actions": {"old_salary": "money", "new_salary": "money"},
    "flows": {"count": "heads"},
}
"""Number styles of the long tables' numeric columns (others: whole numbers); text columns are text."""


def long_sheet(book: Book, sheet: Worksheet, table: pa.Table, source: str) -> tuple[LongRows, str | None]:
    """Header, frozen pane and autofilter of a long table's sheet; the rows that fit are returned to be
    spliced in (with a note when some did not fit, also written as the sheet's last row)."""
    fits = MAX_SHEET_ROWS - 1
    shown = table.num_rows if table.num_rows <= fits else fits - 1
    columns = table.column_names
    write_header(book, sheet, 0, columns)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(shown, 1), len(columns) - 1)
    sheet.set_column(0, len(columns) - 1, 13)
    sheet.set_column(len(columns) - 1, len(columns) - 1, 48)
    note = None
    if shown < table.num_rows:
        note = (f"The {sheet.name} sheet shows the first {shown:,} of {table.num_rows:,} rows (a sheet holds "
                f"{MAX_SHEET_ROWS:,}); the full list is in {source}.csv.")
        sheet.write_string(shown + 1, 0, note, book.styles["note"])
    styles = [
        xf_index(book.styles["text" if pa.types.is_string(table.schema.field(column).type)
                             else LONG_STYLES[source].get(column, "integer")])
        for column in columns
    ]
    return LongRows(table.slice(0, shown), styles, shown + 1 + (note is not None)), note


# ------------------------------------------------------------------------------------------------ entry


def write_graded_workbook(plan_dir: Path) -> Path:
    """Write ``plan_dir/report.xlsx`` from the files of a plan solved from input tables and return its path."""
    plan_dir = Path(plan_dir)
    plan = read_plan(plan_dir)
    written = io.BytesIO()
    book = Book.create(written)
    hidden = {"Requirements"} if plan.requirements.empty else set()
    hidden |= {"Simulation"} if plan.simulation is None else set()
    shown = [name for name in SHEETS if name not in hidden]
    sheets = {name: book.workbook.add_worksheet(name) for name in shown}
    long_rows, notes = {}, []
    for name, source in LONG_SHEETS.items():
        long_rows[name], note = long_sheet(book, sheets[name], plan.arrow(source), source)
        notes += [note] if note else []
    summary_sheet(book, sheets["Summary"], plan, notes)
    finance_sheet(book, sheets["Finance"], plan)
    budget_sheet(book, sheets["Budget"], plan)
    if "Requirements" in sheets:
        requirements_sheet(book, sheets["Requirements"], plan.requirements)
    mix_sheet(book, sheets["Mix"], plan)
    if "Simulation" in sheets:
        simulation_sheet(book, sheets["Simulation"], plan)
    headcount_sheet(book, sheets["Headcount"], plan)
    merit_sheet(book, sheets["Merit"], plan)
    units_sheet(book, sheets["Units"], plan)
    grades_sheet(book, sheets["Grades"], plan)
    scenario_sheet(book, sheets["Scenario"], plan.summary)
    book.workbook.close()
    target = plan_dir / REPORT_NAME
    assemble(written, target, long_rows)
    return target
