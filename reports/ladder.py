"""The reports of an own-ladder plan (a scenario with ``categories.levels``): ``report.xlsx`` and ``report.html``.

Written from the plan folder's files alone (``headcount.csv``, ``flows.csv``, ``requirements.csv``,
``summary.json``), read through :func:`optimizer.verify.ladder.load_ladder_plan`, so the reports show the
verified numbers: headcount by category and year, the flows, requirements against headcount with
overmanning and short time, and the cost by year and part, whose total is the ``cost`` objective term.
A ladder has no named people, so there is no per-person action list: the reports say so instead.
:mod:`reports.plugins` calls :func:`write_ladder_workbook` and :func:`write_ladder_report` for ladder plans.
This module builds on the cells, sheets and sections of :mod:`reports.excel` and :mod:`reports.html` (which
do not import it).
"""

from __future__ import annotations

import io
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd
from xlsxwriter.worksheet import Worksheet

from optimizer.plan.contract import columns
from optimizer.plan.reader import read_plan_arrow, read_plan_table
from optimizer.verify.ladder import COST_PARTS, LadderPlan, load_ladder_plan
from reports import charts, excel, html
from reports.excel_stream import assemble

__all__ = ["NO_ACTIONS", "render_ladder_report", "write_ladder_report", "write_ladder_workbook"]

NO_ACTIONS = ("No per-person actions: an own-ladder plan has no named people, only headcounts and flows per "
              "category (expected values where wastage applies).")
SHEETS = ("Summary", "Requirements", "Headcount", "Flows", "Costs", "Scenario")
REQUIREMENT_COLUMNS = columns("requirements")


# ------------------------------------------------------------------------------------------- tables


def status_rows(plan: LadderPlan) -> list[tuple[str, Any, str | None]]:
    """``(label, value, style)`` rows of the run's outcome and objective terms (style: an excel style name)."""
    summary, scenario = plan.summary, plan.scenario
    objective = summary.get("objective") or {}
    return [
        ("Status", summary.get("status"), "text"),
        ("Exit code", summary.get("exit_code"), "integer"),
        ("Model", f"{(summary.get('model') or {}).get('mode', '')} ({scenario.flow_convention})", "text"),
        ("Requirements", f"{scenario.requirements.mode}, short time counts {scenario.requirements.short_time_fraction}",
         "text"),
        ("Objective order", ", ".join(scenario.objective.order), "text"),
        ("Independent verification", "passed" if (summary.get("verification") or {}).get("ok") else "not passed",
         "text"),
        ("Solver", (summary.get("solver") or {}).get("backend"), "text"),
        (f"Cost, years 1..{plan.horizon}", objective.get("cost"), "money"),
        ("Redundancies", objective.get("redundancy"), "heads"),
        ("Disruption (retraining, downgrades, redundancies)", objective.get("disruption"), "heads"),
        ("Per-person actions", NO_ACTIONS, "note"),
    ]


def headcount_table(plan: LadderPlan) -> pd.DataFrame:
    """``category, tier, year 0 … year H``: headcount.csv by category, lowest first."""
    years = range(plan.horizon + 1)
    return pd.DataFrame([{"category": plan.name(t), "tier": t, **{f"year {y}": plan.heads(t, y) for y in years}}
                         for t in plan.tiers])


def requirements_table(plan: LadderPlan) -> pd.DataFrame:
    """requirements.csv: requirement, year, required, headcount, overmanning, short_time, cost."""
    return pd.DataFrame(plan.requirements, columns=REQUIREMENT_COLUMNS)


def flows_table(plan: LadderPlan) -> pd.DataFrame:
    """``year, kind, from, to, count``: flows.csv by category name (``outside`` for hires and leavers)."""
    rows = [(m.year, m.kind, plan.name(m.source), plan.name(m.target), m.count) for m in plan.moves]
    return pd.DataFrame(rows, columns=["year", "kind", "from", "to", "count"]).sort_values(["year", "kind", "from"])


def costs_table(plan: LadderPlan) -> pd.DataFrame:
    """Cost by year and part, and a last row ``years 1..H`` summing them (its total is the cost term)."""
    costs = plan.costs.astype({"year": object})
    total = {"year": f"years 1..{plan.horizon}", **costs[[*COST_PARTS, "total"]].sum().to_dict()}
    return pd.concat([costs, pd.DataFrame([total])], ignore_index=True)


# ---------------------------------------------------------------------------------------------- workbook


def _summary_sheet(book: excel.Book, sheet: Worksheet, plan: LadderPlan, notes: list[str]) -> None:
    sheet.set_column(0, 0, 34)
    sheet.set_column(1, 1, 60)
    sheet.write_string(0, 0, html.plan_title(plan.summary), book.styles["title"])
    excel.write_cell(sheet, 1, 0, plan.scenario.description, book.styles["text"])
    excel.write_key_values(book, sheet, 3, status_rows(plan) + [("Note", note, "note") for note in notes])


def write_ladder_workbook(plan_dir: Path) -> Path:
    """Write ``plan_dir/report.xlsx`` (sheets Summary, Requirements, Headcount, Flows, Costs, Scenario) and
    return its path."""
    plan_dir = Path(plan_dir)
    plan = load_ladder_plan(plan_dir)
    written = io.BytesIO()
    book = excel.Book.create(written)
    sheets = {name: book.workbook.add_worksheet(name) for name in SHEETS}
    flows, note = excel.long_sheet(book, sheets["Flows"], read_plan_arrow(plan_dir, "flows"), "flows")
    _summary_sheet(book, sheets["Summary"], plan, [note] if note else [])
    excel.requirements_sheet(book, sheets["Requirements"], requirements_table(plan))
    headcount = headcount_table(plan)
    total = {"category": "all categories", "tier": None, **headcount.iloc[:, 2:].sum().to_dict()}
    excel.table_sheet(book, sheets["Headcount"], pd.concat([headcount, pd.DataFrame([total])], ignore_index=True),
                 {"category": "text", "tier": "integer", **dict.fromkeys(headcount.columns[2:], "heads")}, True)
    excel.table_sheet(book, sheets["Costs"], costs_table(plan),
                 {"year": "integer", **dict.fromkeys([*COST_PARTS, "total"], "money")}, True)
    excel.scenario_sheet(book, sheets["Scenario"], plan.summary)
    book.workbook.close()
    target = plan_dir / excel.REPORT_NAME
    assemble(written, target, {"Flows": flows})
    return target


# ------------------------------------------------------------------------------------------------- page


def _status_section(plan: LadderPlan) -> str:
    facts = "".join(f"<dt>{escape(label)}</dt><dd>{html.html_text(value)}</dd>"
                    for label, value, _ in status_rows(plan))
    scenario = html.render_value(plan.summary.get("scenario", {}))
    return html.html_section("status", "Status", (
        f"<p>{html.status_badge(plan.summary)} exit code {html.html_text(plan.summary.get('exit_code'))}</p>"
        f"<p>{html.html_text(plan.scenario.description)}</p><dl>{facts}</dl>"
        f'<p class="note" id="no-actions">{escape(NO_ACTIONS)}</p>'
        f"<details><summary>Scenario: every parameter</summary>{scenario}</details>"))


def _headcount_section(plan: LadderPlan, headcount: pd.DataFrame, levels: str) -> str:
    note = f'<p class="note">Year 0 (left) and year {plan.horizon} (right); {escape(levels)}.</p>'
    chart = html.html_chart(charts.pyramid_figure(headcount), "chart-pyramids")
    table = html.frame_html(headcount_table(plan), "headcount-table")
    return html.html_section("headcount", "Headcount by category", table + note + chart)


def _flows_section(plan: LadderPlan, flows: pd.DataFrame, levels: str) -> str:
    if not plan.moves:
        return html.html_section("flows", "Flows", '<p class="note">The plan has no flows.</p>')
    note = (f'<p class="note">{escape(levels)}; hires enter from “in”, attrition and redundancies leave to '
            "“out”.</p>")
    chart = html.html_chart(charts.sankey_figure(flows), "chart-flows")
    return html.html_section("flows", "Flows", html.frame_html(flows_table(plan), "flows-table") + note + chart)


def _costs_section(plan: LadderPlan) -> str:
    note = ('<p class="note">Wages, one-off costs of the flows, overmanning and short time; the last row is the '
            "plan's cost objective.</p>")
    table = html.frame_html(costs_table(plan), "costs-table", money=[*COST_PARTS, "total"], footer=True)
    return html.html_section("costs", "Costs by year", note + table)


def render_ladder_report(plan_dir: Path) -> str:
    """The whole page of an own-ladder plan: status, requirements against headcount, headcount by category,
    flows and costs."""
    plan = load_ladder_plan(plan_dir)
    levels = ", ".join(f"T{t} = {plan.name(t)}" for t in plan.tiers)
    sections = [
        _status_section(plan),
        html.requirements_section(requirements_table(plan)),
        _headcount_section(plan, read_plan_table(plan_dir, "headcount"), levels),
        _flows_section(plan, read_plan_table(plan_dir, "flows"), levels),
        _costs_section(plan),
    ]
    return html.render_page(html.plan_title(plan.summary), "".join(sections))


def write_ladder_report(plan_dir: Path) -> Path:
    """Write ``plan_dir/report.html`` (:func:`render_ladder_report`) and return its path."""
    return html.write_page(plan_dir, render_ladder_report(plan_dir))
