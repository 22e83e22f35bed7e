"""report.xlsx and report.html of plans from input tables show requirements.csv when it has rows.

Two tiny groups solved through the real pipeline with both report writers registered:

- ``exact``: the hand-solved case of tests/test_verify_graded.py: 100 technical against an exact requirement
  of 90 (φ = 0.5): 4 overmanned and 12 on short time, costing 4·5,000 + 12·1,000 = 32,000 in year 1.
- ``plain``: the same group without requirements (requirements.csv holds only its header).
"""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from models.scenario_files import build_scenario
from optimizer.pipeline import EXIT_OK, run_plan
from reports import charts
from reports.plugins import write_workbook
from reports.plugins import write_html_report
from tests.builders import QUIET, people, unit, write_group
from tests.test_report_ladder import Tables
from tests.test_verify_graded import EXACT

pytestmark = pytest.mark.slow

SHEETS = ["Summary", "Finance", "Budget", "Mix", "Headcount", "Actions", "Merit", "Flows", "Units", "Grades", "Scenario"]
HEADER = ("requirement", "year", "required", "headcount", "overmanning", "short_time", "cost")
BARS = ["Payroll", "Hiring", "Retraining and moves", "Redundancy"]


def _solve(folder: Path, overrides: list[str]) -> Path:
    """The plan folder of 100 technical in U1 solved with ``overrides`` and both reports written."""
    data = write_group(folder / "data", people("U1", "technical", 100), [unit("U1")])
    scenario = build_scenario(json.loads(json.dumps(QUIET)), "graded-report", overrides)
    result = run_plan(scenario, data, folder / "plan", report_writers=(write_workbook, write_html_report))
    assert result.exit_code == EXIT_OK and result.summary["verification"]["ok"]
    return folder / "plan"


@pytest.fixture(scope="module")
def exact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _solve(tmp_path_factory.mktemp("exact"), EXACT)


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _solve(tmp_path_factory.mktemp("plain"), [])


def _rows(sheet) -> list[tuple]:
    return [row for row in sheet.iter_rows(values_only=True) if any(cell is not None for cell in row)]


def _budget(plan: Path) -> pd.DataFrame:
    return pd.read_csv(plan / "budget.csv", dtype={"unit_id": str})


def _page(plan: Path) -> Tables:
    return Tables((plan / "report.html").read_text(encoding="utf-8"))


def test_workbook_has_a_requirements_sheet_after_the_budget(exact: Path) -> None:
    book = openpyxl.load_workbook(exact / "report.xlsx")
    assert book.sheetnames == [*SHEETS[:3], "Requirements", *SHEETS[3:]]
    sheet = book["Requirements"]
    assert _rows(sheet) == [HEADER, ("tech", 1, 90, 100, 4, 12, 32_000)]
    assert [cell.number_format for cell in sheet[2]] == ["General", "0", *["#,##0.0"] * 4, "#,##0"]
    assert sheet.freeze_panes == "B2"


def test_workbook_budget_sheet_shows_the_slack_costs(exact: Path) -> None:
    header, *rows = _rows(openpyxl.load_workbook(exact / "report.xlsx")["Budget"])
    year1 = next(dict(zip(header, row)) for row in rows if row[:2] == (1, "ALL"))
    assert (year1["total"], year1["overmanning_cost"], year1["short_time_cost"]) == (6_000_000, 20_000, 12_000)


def test_page_shows_the_requirement_and_its_chart(exact: Path) -> None:
    page = _page(exact)
    assert page.tables["requirements-table"] == [
        ["requirement", "year", "required", "headcount", "overmanning", "short time", "cost"],
        ["tech", "1", "90", "100", "4", "12", "32,000.00"],
    ]
    assert "chart-requirements" in page.ids
    assert page.ids.index("requirements") == page.ids.index("budget") + 2  # budget section, its chart, then this


def test_budget_chart_stacks_the_slack_costs_hatched(exact: Path, plain: Path) -> None:
    figure = charts.budget_figure(_budget(exact))
    slack = {bar.name: list(bar.y) for bar in figure.data[4:6]}
    assert [trace.name for trace in figure.data] == [
        *BARS, "Overmanning (outside the cap)", "Short time (outside the cap)", "Cap"]
    assert slack == {"Overmanning (outside the cap)": [0, 0.02], "Short time (outside the cap)": [0, 0.012]}
    assert figure.data[4].marker.pattern.shape == "/"
    assert [trace.name for trace in charts.budget_figure(_budget(plain)).data] == [*BARS, "Cap"]


def test_a_plan_without_requirements_has_no_requirements_sheet_or_section(plain: Path) -> None:
    assert (plain / "requirements.csv").read_text(encoding="utf-8").strip() == ",".join(HEADER)
    assert openpyxl.load_workbook(plain / "report.xlsx").sheetnames == SHEETS
    page = _page(plain)
    assert "requirements" not in page.ids and "requirements-table" not in page.tables
