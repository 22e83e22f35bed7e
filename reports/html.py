"""The planners' HTML report: one self-contained page, written from a plan folder's files alone.

``write_graded_report(plan_dir)`` reads ``headcount.csv``, ``flows.csv``, ``budget.csv``, ``mix.csv``,
``units.csv``, ``requirements.csv`` and ``summary.json`` (whose year-1 counts the verifier checked against
``actions.csv``) and writes ``report.html`` beside them: status and targets, the diagnosis in sentences when
there is one, the mix path against the target band, the budget against the cap, requirements against headcount
(when requirements.csv has rows), tier pyramids, a Sankey of the flows and a per-unit table; what a confidence
level achieved and cost (summary.json's ``confidence``, when the scenario asks for one); and, once ``wfplan
simulate`` has written ``simulation.json`` and ``simulation.csv``, the odds of the plan with fan charts. plotly.js
is embedded once, so the page opens offline. Every text that comes from the data is HTML-escaped.
:func:`reports.plugins.write_html_report`, the ``html`` writer of the ``wfplan.reports`` entry-point group,
calls :func:`write_graded_report` for these plans and :mod:`reports.ladder` for a plan of a scenario with its
own ladder, which builds on the sections of this module (:func:`frame_html`, :func:`requirements_section`).
The files are read through :mod:`optimizer.plan.reader`: ids and names stay text (a unit called ``NA`` or
``007`` is kept as written), restored from the CSV files' formula mark (``'=x`` is shown as ``=x``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from optimizer.plan.grades import grade_changes
from optimizer.plan.reader import PlanFiles, read_plan
from optimizer.simulate.confidence import confidence_sentences
from optimizer.simulate.results import simulation_sentences
from optimizer.whatif.sentences import diagnosis_sentences, missed_sentences, unproven_sentences
from reports import charts, finance
from reports.action_table import action_table_html

__all__ = ["frame_html", "merit_section", "requirements_section", "write_graded_report"]

REPORT_NAME = "report.html"
NUMERIC = ' class="num"'
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}
STYLE = """
body { font-family: system-ui, "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; margin: 0 auto;
       max-width: 1200px; padding: 1rem 2rem; color: #222; }
h1 { margin-bottom: .2rem; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; }
th, td { border: 1px solid #ddd; padding: .25rem .6rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } #action-table th { cursor: pointer; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tfoot td { font-weight: bold; background: #fafafa; }
dl { display: grid; grid-template-columns: max-content auto; gap: .15rem 1rem; margin: .3rem 0; }
dt { font-weight: 600; } dd { margin: 0; }
.badge { display: inline-block; padding: .15rem .6rem; border-radius: 1rem; color: #fff; font-weight: 600; }
.ok { background: #2e7d32; } .missed { background: #c62828; } .warn { background: #ef6c00; }
.legend span { display: inline-block; margin-right: 1rem; } .swatch { display: inline-block; width: .9rem;
  height: .9rem; border-radius: .2rem; vertical-align: middle; margin-right: .3rem; }
.note { color: #555; font-size: .9rem; }
.wide { max-width: 100%; overflow-x: auto; } .sentences li { margin: .2rem 0; }
"""


def _action_counts(summary: Mapping[str, Any]) -> dict[str, int]:
    """Year-1 actions by kind, from summary.json's ``counts`` (which the verifier checked against actions.csv)."""
    return {str(k): int(v) for k, v in sorted(summary["counts"].items())}


# ---------------------------------------------------------------- formatting


def html_text(value: Any) -> str:
    """``value`` as escaped HTML text: numbers readable, booleans as yes/no, missing as a dash."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return escape(f"{value:,.2f}" if abs(value) >= 1000 else f"{value:.6g}")
    return escape(str(value))


def format_heads(value: float, signed: bool = False) -> str:
    """A headcount: whole numbers without decimals, expected (fractional) values with one."""
    digits = 0 if abs(value - round(value)) < 1e-9 else 1
    shown = round(value, digits) + 0.0  # never -0.0
    return f"{shown:{'+' if signed and shown != 0 else ''},.{digits}f}"


def _millions(value: float, signed: bool = False) -> str:
    """CNY as millions with two decimals (never ``-0.00``)."""
    return charts.money_text(value, signed)


def _yes_no(ok: bool) -> str:
    """``yes``, or a bold ``no`` that catches the eye."""
    return "yes" if ok else "<strong>no</strong>"


def _percent(share: float) -> str:
    """A share as a percentage with two decimals; missing as a dash."""
    return "—" if pd.isna(share) else f"{share * 100:.2f}%"


def html_table(header: list[str], rows: list[list[str]], numeric: Collection[int] = (),
               footer: list[str] | None = None, css_id: str = "") -> str:
    """An HTML table from cells that are already HTML; columns in ``numeric`` are right-aligned."""
    def cells(values: list[str], tag: str) -> str:
        return "".join(f"<{tag}{NUMERIC if i in numeric else ''}>{v}</{tag}>" for i, v in enumerate(values))

    body = "".join(f"<tr>{cells(row, 'td')}</tr>" for row in rows)
    foot = f"<tfoot><tr>{cells(footer, 'td')}</tr></tfoot>" if footer else ""
    ident = f' id="{css_id}"' if css_id else ""
    return f"<table{ident}><thead><tr>{cells(header, 'th')}</tr></thead><tbody>{body}</tbody>{foot}</table>"


def _key(key: Any) -> str:
    """A JSON key as a heading: ``missed_goals`` → ``missed goals``, escaped."""
    return escape(str(key).replace("_", " "))


def render_value(value: Any) -> str:
    """Any JSON value as HTML: objects as definition lists, lists of objects as tables, other lists as
    bullet lists, scalars as escaped text (used for the diagnosis, missed goals and the scenario)."""
    if isinstance(value, Mapping):
        items = "".join(f"<dt>{_key(k)}</dt><dd>{render_value(v)}</dd>" for k, v in value.items())
        return f"<dl>{items}</dl>" if value else "—"
    if isinstance(value, list) and value and all(isinstance(item, Mapping) for item in value):
        columns = list(dict.fromkeys(key for item in value for key in item))
        rows = [[render_value(item.get(column)) for column in columns] for item in value]
        return html_table([_key(column) for column in columns], rows)
    if isinstance(value, list) and value:
        return "<ul>" + "".join(f"<li>{render_value(item)}</li>" for item in value) + "</ul>"
    if isinstance(value, list):
        return "none"
    return html_text(value)


# ---------------------------------------------------------------- sections


def html_section(anchor: str, title: str, content: str) -> str:
    """A ``<section>`` with id ``anchor``, the escaped heading ``title`` and ``content`` (HTML)."""
    return f'<section id="{anchor}"><h2>{escape(title)}</h2>{content}</section>'


def status_badge(summary: Mapping[str, Any]) -> str:
    """The run's status as a coloured badge: green when every target is met, red when one is missed."""
    met = bool(summary.get("targets_met"))
    css = "ok" if met else "missed" if summary.get("status") == "target_missed" else "warn"
    label = f"{summary.get('status', 'unknown')}: " + ("every target met" if met else "a target is missed")
    return f'<span class="badge {css}">{escape(label)}</span>'


def _solver_text(solver: Mapping[str, Any]) -> str:
    """``highs (mix: optimal, cost: feasible, ...)``: the backend and the status of each objective stage."""
    stages = ", ".join(f"{stage.get('term')}: {stage.get('status')}" for stage in solver.get("stages", []))
    return f"{solver.get('backend', '—')} ({stages})"


def _facts(plan: PlanFiles) -> str:
    """The scenario's key numbers and the run's outcome as a definition list."""
    summary, scenario = plan.summary, plan.summary.get("scenario", {})
    mix = scenario.get("mix", {})
    targets = ", ".join(f"{s} {_percent(v)}" for s, v in mix.get("target", {}).items())
    facts = {
        "scenario": scenario.get("name"),
        "description": scenario.get("description"),
        "horizon": f"{plan.horizon} years",
        "mix target": f"{targets} ± {_percent(mix.get('tolerance', float('nan')))} from year {mix.get('deadline')}",
        "budget growth": _percent(scenario.get("budget", {}).get("growth", float("nan"))),
        "employees (year 0)": format_heads(float(plan.headcount.loc[plan.headcount["year"] == 0, "headcount"].sum())),
        "solver": _solver_text(summary.get("solver", {})),
        "independent verification": "passed" if summary.get("verification", {}).get("ok") else "not passed",
        "applied overrides": ", ".join(scenario.get("applied_overrides", [])) or "none",
    }
    return "<dl>" + "".join(f"<dt>{escape(k)}</dt><dd>{html_text(v)}</dd>" for k, v in facts.items()) + "</dl>"


def _mix_targets(mix: pd.DataFrame) -> str:
    """Target, band and achieved share per sequence for every year the band applies."""
    banded = mix.dropna(subset=["lower", "upper"])
    years = sorted(banded["year"].unique())
    rows = []
    for sequence in charts.ordered_sequences(banded["sequence"]):
        own = banded[banded["sequence"] == sequence].set_index("year")
        first = own.iloc[0]
        band = f"{_percent(first['lower'])} – {_percent(first['upper'])}"
        met = ((own["share"] >= own["lower"] - 1e-7) & (own["share"] <= own["upper"] + 1e-7)).all()
        rows.append([escape(sequence), _percent(first["target"]), band,
                     *(_percent(own.loc[year, "share"]) for year in years), _yes_no(met)])
    header = ["sequence", "target", "band", *(f"share year {int(y)}" for y in years), "met"]
    return html_table(header, rows, numeric=set(range(1, len(header) - 1)))


def _budget_targets(budget: pd.DataFrame) -> str:
    """Total against cap for every capped year (group totals)."""
    totals = budget[(budget["unit_id"] == "ALL")].dropna(subset=["cap"]).sort_values("year")
    rows = [[str(int(r.year)), _millions(r.total), _millions(r.cap), _millions(r.cap - r.total, signed=True),
             _yes_no(r.total <= r.cap * (1 + 1e-7))] for r in totals.itertuples()]
    header = ["year", "total (CNY m)", "cap (CNY m)", "headroom (CNY m)", "within cap"]
    return html_table(header, rows, numeric={1, 2, 3})


def _status_section(plan: PlanFiles) -> str:
    summary = plan.summary
    deviations = summary.get("goal_deviations", {})
    missed = any(deviations.get(goal) for goal in deviations)
    actions = _action_counts(summary)
    counts = html_table(["year-1 action", "people"], [[escape(k), f"{v:,}"] for k, v in actions.items()],
                        numeric={1}, footer=["total", f"{sum(actions.values()):,}"])
    parts = [
        f"<p>{status_badge(summary)} exit code {html_text(summary.get('exit_code'))}</p>",
        _facts(plan),
        "<h3>Mix target</h3>", _mix_targets(plan.mix),
        "<h3>Budget against cap</h3>", _budget_targets(plan.budget),
        _missed_section(plan, deviations) if missed else "",
        _unproven_section(summary),
        "<h3>Year-1 actions</h3>", counts,
        f"<details><summary>Scenario: every parameter</summary>{render_value(summary.get('scenario', {}))}</details>",
    ]
    return html_section("status", "Status and targets", "".join(parts))


def _missed_section(plan: PlanFiles, deviations: Mapping[str, Any]) -> str:
    """The missed targets as the terminal words them (:func:`missed_sentences`: rounded, misses below half a
    person left out), then summary.json's ``goal_deviations`` as they are, collapsed."""
    raw = (f'<details><summary>Every deviation (summary.json)</summary>'
           f'<div class="wide">{render_value(deviations)}</div></details>')
    stages = (plan.summary.get("solver") or {}).get("stages", [])
    return f"<h3>Missed targets</h3>{_sentence_list(missed_sentences(plan.mix, plan.budget, stages))}{raw}"


def _unproven_section(summary: dict[str, Any]) -> str:
    """What the plan does not show about its payroll (:func:`unproven_sentences`); empty when the cost is proven."""
    sentences = unproven_sentences(summary)
    return f'<h3 id="unproven">Not proven</h3>{_sentence_list(sentences)}' if sentences else ""


def _diagnosis_section(summary: Mapping[str, Any]) -> str:
    """The diagnosis of ``summary.json`` as a list of the sentences the terminal prints
    (:func:`diagnosis_sentences`), then every number of it as it is, collapsed, for auditors; empty without one."""
    if "diagnosis" not in summary:
        return ""
    diagnosis = summary["diagnosis"]
    intro = '<p class="note">The targets cannot all be met; the optimiser\'s diagnosis:</p>'
    raw = (f'<details><summary>Every number of the diagnosis (summary.json)</summary>'
           f'<div class="wide">{render_value(diagnosis)}</div></details>')
    return html_section("diagnosis", "Diagnosis", intro + _sentence_list(diagnosis_sentences(diagnosis)) + raw)


def _sentence_list(sentences: list[str]) -> str:
    return '<ul class="sentences">' + "".join(f"<li>{escape(sentence)}</li>" for sentence in sentences) + "</ul>"


def _confidence_section(summary: Mapping[str, Any]) -> str:
    """What planning to a confidence level achieved and cost (summary.json's ``confidence``); empty without."""
    if "confidence" not in summary:
        return ""
    intro = ('<p class="note">The plan keeps margins inside its bands and under its caps so that they hold with the '
             "probability asked under binomial attrition, checked on fresh simulations (docs/confidence.md).</p>")
    return html_section("confidence", "Confidence level and its cost",
                        intro + _sentence_list(confidence_sentences(summary["confidence"])))


def _simulation_section(plan: PlanFiles) -> str:
    """``wfplan simulate``'s results (simulation.json and .csv): sentences, a table of the probabilities by year
    and the fan charts of the shares and of the total; empty before the plan was simulated."""
    simulated, table = plan.simulation_summary, plan.simulation
    if simulated is None or table is None:
        return ""
    rows = [[str(year["year"]), "—" if year["p_mix_met"] is None else _percent(year["p_mix_met"]),
             _percent(year["p_budget_held"]),
             *(f"{_percent(year['sequences'][s]['share']['p05'])} – {_percent(year['sequences'][s]['share']['p95'])}"
               for s in charts.SEQUENCES)] for year in simulated["years"]]
    header = ["year", "every band held", "cap held", *(f"{s} share, 5–95 %" for s in charts.SEQUENCES)]
    note = ('<p class="note">The plan under binomial attrition (docs/simulation.md): shaded, the 5–95 % range of '
            "the simulations; solid, their median; dashed, the plan; dotted grey, the band's edges.</p>")
    return html_section("simulation", "Simulation: the odds of the plan", "".join([
        note, _sentence_list(simulation_sentences(simulated)), html_table(header, rows, numeric={1, 2, 3, 4, 5}),
        html_chart(charts.share_fan_figure(table, plan.mix), "chart-share-fan"),
        html_chart(charts.total_fan_figure(table, plan.budget), "chart-total-fan"),
    ]))


def html_chart(figure: go.Figure, div_id: str) -> str:
    """A figure as a div plus its drawing script (plotly.js itself is in the page head)."""
    return figure.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, config=PLOTLY_CONFIG)


def _kind_legend(kinds: list[str]) -> str:
    """Colour key of the Sankey's link kinds."""
    spans = "".join(
        f'<span><i class="swatch" style="background:{charts.KIND_COLOURS.get(k, charts.OTHER_COLOUR)}"></i>'
        f"{escape(k.replace('_', ' '))}</span>" for k in kinds)
    return f'<p class="legend">{spans}</p>'


def flows_section(flows: pd.DataFrame) -> str:
    """The flows as a Sankey with its colour key (a note when there are none)."""
    if flows.empty:
        return html_section("flows", "Flows", '<p class="note">The plan has no flows.</p>')
    intro = ('<p class="note">Start-of-year tier (left) to end-of-year tier (right), summed over units and grades; '
             "hires enter from “in”, attrition and redundancies leave to “out”. Expected attrition is fractional. "
             "Links under 0.5% of the people are grouped by kind between the “other states” nodes. "
             "Choose year 1 or all years with the menu.</p>")
    kinds = [k for k in charts.KIND_COLOURS if k in set(flows["kind"])]
    chart = html_chart(charts.sankey_figure(flows), "chart-flows")
    return html_section("flows", "Flows", intro + _kind_legend(kinds) + chart)


def _unit_figures(heads: tuple[float, float], cost: tuple[float, float]) -> list[str]:
    """Headcount then cost (CNY m) cells: year 0, year H and the change."""
    (h0, h1), (c0, c1) = heads, cost
    return [format_heads(h0), format_heads(h1), format_heads(h1 - h0, True),
            _millions(c0), _millions(c1), _millions(c1 - c0, True)]


def _path_text(grades: pd.Series) -> str:
    """A unit's grades by year as ``C → A (year 2)``: the year-0 grade, then each change with its year."""
    parts, previous = [], None
    for year, grade in grades.items():
        if grade != previous:
            parts.append(escape(str(grade)) if previous is None else f"{escape(str(grade))} (year {int(year)})")
        previous = grade
    return " → ".join(parts)


def _units_section(plan: PlanFiles) -> str:
    """One row per unit of units.csv: its name, grade path, pay coefficient and max tier in year 0 and year H,
    headcount (whole people, :func:`reports.finance.whole_people`) and total cost in year 0 and year H with their
    changes; the footer holds the group totals (``ALL`` rows of budget.csv). Then the grade changes and what each
    costs (:mod:`optimizer.plan.grades`)."""
    last = plan.horizon
    path = plan.units.sort_values(["unit_id", "year"], kind="stable")
    order = plan.units["unit_id"].drop_duplicates()
    grades = {unit_id: rows.set_index("year")["grade"] for unit_id, rows in path.groupby("unit_id")}
    first, final = (path[path["year"] == year].set_index("unit_id").reindex(order) for year in (0, last))
    heads = plan.headcount.groupby(["unit_id", "year"])["headcount"].sum().unstack()
    heads = heads.reindex(index=order, columns=[0, last]).fillna(0.0)
    heads = heads.apply(finance.whole_people).astype(float)
    cost = plan.budget.pivot(index="unit_id", columns="year", values="total")
    cost = cost.reindex(index=[*order, "ALL"], columns=[0, last]).fillna(0.0)

    def span(column: str, unit_id: str) -> str:
        start, end = first.loc[unit_id, column], final.loc[unit_id, column]
        return html_text(start) if start == end else f"{html_text(start)} → {html_text(end)}"

    rows = [[escape(str(unit_id)), escape(str(first.loc[unit_id, "name"])), _path_text(grades[unit_id]),
             span("pay_coefficient", unit_id), span("max_tier", unit_id),
             *_unit_figures(tuple(heads.loc[unit_id]), tuple(cost.loc[unit_id]))]
            for unit_id in order]
    footer = ["all units", "", "", "", "", *_unit_figures(tuple(heads.sum()), tuple(cost.loc["ALL"]))]
    header = ["unit", "name", "grade path", f"pay coefficient (year 0 → {last})", f"max tier (year 0 → {last})",
              "headcount year 0", f"headcount year {last}", "change",
              "cost year 0 (CNY m)", f"cost year {last} (CNY m)", "change (CNY m)"]
    table = html_table(header, rows, numeric=set(range(3, 11)), footer=footer, css_id="unit-table")
    note = ('<p class="note">Cost = payroll + hiring + retraining + redundancy (budget.csv “total”). Headcounts '
            "in whole people (expected values rounded so that they add up; headcount.csv keeps them exact).</p>")
    return html_section("units", "Units", note + table + _grade_changes_html(plan))


def _grade_changes_html(plan: PlanFiles) -> str:
    """The grade changes of the plan's reviews and their payroll with and without each."""
    changes = grade_changes(plan.units, plan.budget)
    if changes.empty:
        return '<p class="note" id="grade-changes">No unit changes grade within the horizon.</p>'
    rows = [[escape(str(r.unit_id)), f"{int(r.year)}–{int(r.until)}", f"{escape(str(r.from_grade))} → "
             f"{escape(str(r.to_grade))}", f"{html_text(r.from_coefficient)} → {html_text(r.to_coefficient)}",
             f"{html_text(r.from_max_tier)} → {html_text(r.to_max_tier)}", _millions(r.payroll),
             _millions(r.payroll_without), _millions(r.cost, signed=True)] for r in changes.itertuples()]
    header = ["unit", "years", "grade", "pay coefficient", "max tier", "payroll with it (CNY m)",
              "payroll without it (CNY m)", "cost of the change (CNY m)"]
    note = ('<p class="note">Each grade change in force over its years: the plan’s payroll of the unit, and the '
            'same people priced at the coefficient before the change (the table part of the payroll × old / new '
            'coefficient; premiums over the table are unchanged). The plan itself is held fixed; re-solving with '
            'the review’s grade set is a what-if of its own.</p>')
    return "<h3>Grade changes</h3>" + note + html_table(header, rows, numeric={5, 6, 7}, css_id="grade-changes")


def _money_cells(values: list[float], signed: bool = False) -> list[str]:
    return [_millions(v, signed) for v in values]


def _finance_section(plan: PlanFiles) -> str:
    """For finance: year-0 payroll actual and structural; payroll by unit and year (the group total in the
    footer, apart from the unit rows); one-off costs by kind and year; every cap with total, change against
    year 0 and headroom (:mod:`reports.finance`)."""
    budget = plan.budget
    years = sorted(int(y) for y in budget["year"].unique())
    both = finance.year0_both_ways(budget)
    facts = {"year-0 payroll, actual (Σ salary)": _millions(both["actual"]) + " CNY m",
             "year-0 payroll on the pay table (structural)": _millions(both["structural"]) + " CNY m",
             "structural − actual": _millions(both["difference"], True) + " CNY m a year"}
    intro = "<dl>" + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts.items()) + "</dl>"
    units, group = finance.payroll_by_unit(budget)
    rows = [[escape(str(r["unit_id"])), escape(str(r["unit_name"])), *_money_cells([r[y] for y in years]),
             _millions(r[years[-1]] - r[years[0]], True)] for r in units.to_dict("records")]
    footer = ["group total", "", *_money_cells([group[y] for y in years]), _millions(group[years[-1]] - group[years[0]], True)]
    header = ["unit", "name", *(f"payroll year {y} (CNY m)" for y in years), f"change year {years[0]}→{years[-1]}"]
    payroll = html_table(header, rows, numeric=set(range(2, len(header))), footer=footer, css_id="payroll-table")
    kinds = finance.one_off_by_kind(budget)
    one_off = html_table(["one-off cost", *(f"year {y} (CNY m)" for y in years)],
                         [[escape(r["kind"]), *_money_cells([r[y] for y in years])] for r in kinds.to_dict("records")],
                         numeric=set(range(1, len(years) + 1)), css_id="one-off-table")
    caps = finance.against_cap(budget)
    cap_rows = [[escape("group" if r["unit_id"] == finance.GROUP else str(r["unit_id"])), escape(str(r["unit_name"])),
                 str(int(r["year"])), *_money_cells([r["total"]]), _millions(r["change"], True), _millions(r["cap"]),
                 _millions(r["headroom"], True), _yes_no(r["headroom"] >= -1e-7 * r["cap"])] for r in caps.to_dict("records")]
    cap_table = html_table(["budget", "name", "year", "total (CNY m)", "change vs year 0 (CNY m)", "cap (CNY m)",
                            "headroom (CNY m)", "within cap"], cap_rows, numeric={2, 3, 4, 5, 6}, css_id="cap-table")
    note = ('<p class="note">Payroll is the people\'s actual pay (budget.csv “payroll”); the unit rows add up to the '
            "group total in the footer. Total = payroll + one-off costs.</p>")
    return html_section("finance", "Finance: payroll, one-off costs and caps", "".join([
        intro, note, payroll, "<h3>One-off costs by kind (group)</h3>", one_off,
        "<h3>Caps and headroom</h3>", cap_table]))


def _change_section(plan: PlanFiles) -> str:
    """Headcount change per unit over the horizon, in whole people (:func:`reports.finance.rounded_change`)."""
    change = finance.rounded_change(finance.headcount_change(plan.headcount, plan.flows, plan.units, plan.horizon))
    parts = list(finance.CHANGE_PARTS)
    rows = [[escape(str(r["unit_id"])), escape(str(r["unit_name"])), *(f"{int(r[p]):,}" for p in parts),
             f"{int(r['end'] - r['start']):+,}"] for r in change.to_dict("records")]
    totals = change[parts].sum()
    footer = ["all units", "", *(f"{int(totals[p]):,}" for p in parts), f"{int(totals['end'] - totals['start']):+,}"]
    header = ["unit", "name", "start (year 0)", "attrition", "hires", "redundancies", "transfers in", "transfers out",
              f"end (year {plan.horizon})", "change"]
    note = (f'<p class="note">Years 1–{plan.horizon}: end = start − attrition + hires − redundancies + transfers in − '
            "transfers out. Attrition is expected (people leave at the scenario's rates); the plan hires where "
            "workload floors or the mix ask for people. Whole people: the parts are rounded so that rows and columns "
            "add up (flows.csv keeps exact values).</p>")
    return html_section("headcount-change", "Headcount change per unit", note + html_table(
        header, rows, numeric=set(range(2, len(header))), footer=footer, css_id="change-table"))


def _actions_section(plan: PlanFiles) -> str:
    """The searchable, sortable list of every year-1 action (:mod:`reports.action_table`)."""
    return html_section("actions", "Year-1 actions, person by person",
                        action_table_html(plan.arrow("actions"), finance.unit_names(plan.units)))


def frame_html(table: pd.DataFrame, css_id: str, money: Collection[str] = (), footer: bool = False) -> str:
    """``table`` as HTML (numbers right-aligned: the ``money`` columns with two decimals, other numbers as
    heads, with one decimal where fractional); its last row as the footer when ``footer``."""
    def cell(column: str, value: Any) -> str:
        if isinstance(value, str) or pd.isna(value):
            return html_text(None if pd.isna(value) else value)
        if column in ("year", "tier"):
            return str(int(value))
        return f"{value:,.2f}" if column in money else format_heads(float(value))

    rows = [[cell(column, value) for column, value in row.items()] for row in table.to_dict("records")]
    numeric = {i for i, column in enumerate(table.columns) if pd.api.types.is_numeric_dtype(table[column])}
    header = [escape(str(column).replace("_", " ")) for column in table.columns]
    body, foot = (rows[:-1], rows[-1]) if footer else (rows, None)
    return html_table(header, body, numeric=numeric, footer=foot, css_id=css_id)


def requirements_section(requirements: pd.DataFrame) -> str:
    """The rows of requirements.csv (its contract columns) as a table, and one chart of headcount against each
    requirement by year when there are rows."""
    chart = html_chart(charts.requirements_figure(requirements), "chart-requirements") if len(requirements) else ""
    note = ('<p class="note">Overmanning: heads above the requirement; short time: heads working part time, each '
            "counting as a fraction of a head.</p>")
    table = frame_html(requirements, "requirements-table", money=["cost"])
    return html_section("requirements", "Requirements against headcount", note + table + chart)


def merit_section(merit: pd.DataFrame, summary: Mapping[str, Any]) -> str:
    """merit.csv as the line a unit head sees: per position and year-1 action, the performance of the last person
    in (the first out for redundancies and downgrades) and the best eligible who stays, and the exceptions, each
    held back by a stated rule (in a collapsed block: one row per position and action)."""
    exceptions = int((summary.get("merit") or {}).get("exceptions") or 0)
    if merit.empty:
        return html_section("merit", "Merit lines", '<p class="note">Nobody acts in year 1.</p>')
    landing = (merit["to_unit"].fillna("").astype(str) + " " + merit["to_sequence"].fillna("").astype(str) + " T"
               + merit["to_tier"].astype("string").fillna("") + " G" + merit["to_grade"].astype("string").fillna(""))
    table = pd.DataFrame({
        "unit": merit["unit_id"], "sequence": merit["sequence"], "tier": merit["tier"], "grade": merit["grade"],
        "action": merit["action"], "to": landing.where(merit["to_unit"].notna(), ""),
        "eligible": merit["eligible"], "acted": merit["acted"], "line performance": merit["acted_performance"],
        "best stayer performance": merit["stayer_performance"], "exceptions": merit["exceptions"],
    })
    note = (f'<p class="note">In each position (unit, sequence, tier, grade) an action goes to the best eligible '
            f"performers (redundancies and downgrades to the weakest): the line is the performance of the last "
            f"one in, and every eligible person who stays is below it. {exceptions} exception(s), each held back "
            f"by the cohort limit (actions.csv says so in the reason column).</p>")
    block = f"<details><summary>{len(table)} positions and actions</summary>{frame_html(table, 'merit-table')}</details>"
    return html_section("merit", "Merit lines", note + block)


def _body(plan: PlanFiles) -> str:
    """Every section of the report, in reading order (requirements only when requirements.csv has rows)."""
    mix = plan.summary.get("scenario", {}).get("mix", {})
    return "".join([
        _status_section(plan),
        _diagnosis_section(plan.summary),
        _confidence_section(plan.summary),
        _simulation_section(plan),
        html_section("mix", "Mix path against the target band",
                     f'<p class="note">Share of each sequence by year; shaded: target ± tolerance, required from year '
                     f"{html_text(mix.get('deadline'))}.</p>" + html_chart(charts.mix_figure(plan.mix), "chart-mix")),
        html_section("budget", "Budget against cap",
                     '<p class="note">Group payroll and one-off costs by year (CNY million), and the overmanning and '
                     "short-time costs of requirements (outside the cap) where there are any; dashed: the cap.</p>"
                     + html_chart(charts.budget_figure(plan.budget), "chart-budget")),
        "" if plan.requirements.empty else requirements_section(plan.requirements),
        html_section("pyramids", "Tier pyramids",
                     f'<p class="note">Headcount by tier, year 0 (left) and year {plan.horizon} (right).</p>'
                     + html_chart(charts.pyramid_figure(plan.headcount), "chart-pyramids")),
        merit_section(plan.merit, plan.summary),
        flows_section(plan.flows),
        _finance_section(plan),
        _change_section(plan),
        _units_section(plan),
        _actions_section(plan),
    ])


def plan_title(summary: Mapping[str, Any]) -> str:
    return f"Workforce plan: {summary.get('scenario', {}).get('name') or 'plan'}"


def render_report(plan: PlanFiles) -> str:
    """The whole page of a plan solved from input tables."""
    return render_page(plan_title(plan.summary), _body(plan))


def render_page(title: str, body: str) -> str:
    """A whole page: head with the inline plotly.js and the style, the title, then ``body`` (HTML)."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n"
        f'<script type="text/javascript">{get_plotlyjs()}</script>\n</head>\n'
        f"<body>\n<h1>{escape(title)}</h1>\n{body}\n</body>\n</html>\n"
    )


def write_page(plan_dir: Path, page: str) -> Path:
    """Write ``page`` as ``plan_dir/report.html``; returns its path."""
    path = Path(plan_dir) / REPORT_NAME
    path.write_text(page, encoding="utf-8")
    return path


def write_graded_report(plan_dir: Path) -> Path:
    """Write ``plan_dir/report.html`` from the files of a plan solved from input tables; returns its path."""
    return write_page(plan_dir, render_report(read_plan(plan_dir)))
