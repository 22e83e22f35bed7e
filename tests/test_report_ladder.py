"""report.xlsx and report.html of an own-ladder plan: Williams' problem solved by ``wfplan solve``.

The CLI runs the registered report writers on the verified plan; the workbook is read back with openpyxl
and the page parsed with the standard library, both against Williams' published minimum-redundancy plan
(year 1: 1,157.0 unskilled against 1,000 required, 132.0 overmanned, 50 on short time) and against the
plan's own files. The page is also opened in headless Chromium when one is installed.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from optimizer.cli import main
from reports.ladder import NO_ACTIONS, SHEETS
from tests.test_report_html import Page, browser  # noqa: F401  (the headless Chromium fixture)


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ladder_reports") / "plan"
    result = CliRunner().invoke(main, ["solve", "manpower_williams", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def summary(plan: Path) -> dict:
    return json.loads((plan / "summary.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def book(plan: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(plan / "report.xlsx")


def _rows(sheet) -> list[tuple]:
    return [row for row in sheet.iter_rows(values_only=True) if any(cell is not None for cell in row)]


def test_solve_writes_both_reports_after_verification(plan: Path, summary: dict) -> None:
    assert {"report.xlsx", "report.html"} <= {p.name for p in plan.iterdir()}
    assert summary["verification"]["ok"] and "reports" in summary["timings"]


def test_workbook_sheets_and_summary_say_there_are_no_actions(book: openpyxl.Workbook, summary: dict) -> None:
    assert book.sheetnames == list(SHEETS)
    facts = {row[0]: row[1] for row in _rows(book["Summary"])}
    assert facts["Per-person actions"] == NO_ACTIONS
    assert facts["Independent verification"] == "passed"
    assert facts["Redundancies"] == pytest.approx(841.797, abs=1e-3)
    assert facts["Cost, years 1..3"] == pytest.approx(summary["objective"]["cost"])


def test_workbook_requirements_against_headcount(book: openpyxl.Workbook, plan: Path) -> None:
    header, *rows = _rows(book["Requirements"])
    assert header == ("requirement", "year", "required", "headcount", "overmanning", "short_time", "cost")
    by_key = {(row[0], row[1]): dict(zip(header, row)) for row in rows}
    unskilled = by_key[("unskilled", 1)]
    assert unskilled["required"] == 1000 and unskilled["short_time"] == 50
    assert unskilled["headcount"] == pytest.approx(1157.02, abs=0.01)
    assert unskilled["overmanning"] == pytest.approx(132.02, abs=0.01)
    assert by_key[("semi_skilled", 2)]["headcount"] == pytest.approx(2000) == by_key[("semi_skilled", 2)]["required"]
    assert len(rows) == len(pd.read_csv(plan / "requirements.csv")) == 9


def test_workbook_headcount_flows_and_costs(book: openpyxl.Workbook, plan: Path, summary: dict) -> None:
    header, *rows = _rows(book["Headcount"])
    assert header == ("category", "tier", "year 0", "year 1", "year 2", "year 3")
    assert rows[0][:3] == ("unskilled", 1, 2000) and rows[2][5] == pytest.approx(2000)
    assert rows[-1][0] == "all categories" and rows[-1][2] == 4500
    flows = pd.read_csv(plan / "flows.csv")
    _, *flow_rows = _rows(book["Flows"])
    assert len(flow_rows) == len(flows) and sum(row[-1] for row in flow_rows) == pytest.approx(flows["count"].sum())
    header, *rows = _rows(book["Costs"])
    assert header[0] == "year" and header[-1] == "total" and [row[0] for row in rows] == [1, 2, 3, "years 1..3"]
    assert rows[-1][-1] == pytest.approx(summary["objective"]["cost"], rel=1e-9)
    assert rows[-1][header.index("short_time")] == pytest.approx(65_000 + 25_000 + 25_000)


class Tables(HTMLParser):
    """Cell texts of every table with an id (header, body and footer rows), the element ids and the text of
    the element ``no-actions``."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.ids: list[str] = []
        self.no_actions, self._table, self._cell, self._in_note = "", None, None, False
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        ident = dict(attrs).get("id")
        self.ids += [ident] if ident else []
        self._in_note = self._in_note or ident == "no-actions"
        if tag == "table" and ident:
            self._table = self.tables.setdefault(ident, [])
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = ""

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self._table[-1].append(self._cell)
            self._cell = None
        elif tag == "table":
            self._table = None
        elif tag == "p":
            self._in_note = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell += data
        if self._in_note:
            self.no_actions += data


@pytest.fixture(scope="module")
def page_tables(plan: Path) -> Tables:
    return Tables((plan / "report.html").read_text(encoding="utf-8"))


def test_page_shows_requirements_headcount_flows_and_costs(page_tables: Tables, plan: Path, summary: dict) -> None:
    requirements = {(row[0], row[1]): row for row in page_tables.tables["requirements-table"][1:]}
    assert requirements[("unskilled", "1")][2:6] == ["1,000", "1,157.0", "132.0", "50"]
    assert requirements[("skilled", "3")][2:4] == ["2,000", "2,000"]
    headcount = page_tables.tables["headcount-table"]
    assert headcount[0] == ["category", "tier", "year 0", "year 1", "year 2", "year 3"]
    assert headcount[1] == ["unskilled", "1", "2,000", "1,157.0", "675", "175"]
    flows = page_tables.tables["flows-table"]
    assert len(flows) - 1 == len(pd.read_csv(plan / "flows.csv"))
    assert ["1", "downgrade", "skilled", "semi_skilled", "168.4"] in flows
    footer = page_tables.tables["costs-table"][-1]
    assert footer[0] == "years 1..3" and footer[-1] == f"{summary['objective']['cost']:,.2f}"


def test_page_says_there_are_no_actions_and_has_its_charts(page_tables: Tables) -> None:
    assert page_tables.no_actions == NO_ACTIONS
    assert {"chart-requirements", "chart-pyramids", "chart-flows", "status", "costs"} <= set(page_tables.ids)
    assert "unit-table" not in page_tables.ids  # the sections of plans from input tables are not there


@pytest.mark.slow
def test_page_draws_every_chart_in_chromium(browser, plan: Path) -> None:  # noqa: F811
    page = Page(browser, plan / "report.html")
    assert [entry for entry in page.log if entry["level"] == "SEVERE"] == []
    drawn = page.js("return [...document.querySelectorAll('.plotly-graph-div')]"
                    ".filter(div => div.querySelector('.main-svg')).map(div => div.id)")
    assert drawn == ["chart-requirements", "chart-pyramids", "chart-flows"]
    required = page.trace("chart-requirements", "skilled required")
    assert required["x"] == [1, 2, 3] and required["y"] == [1000, 1500, 2000]
