"""Plain-text screens for the terminal: the data overview after validation, the units' grade paths and the plan
summary."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from models.io import InputTables
from models.pay import PayStructure
from models.scenario import SEQUENCES, Scenario
from optimizer.plan.grades import grade_path_wide
from optimizer.whatif.sentences import missed_sentences, unproven_sentences


def _money(value: float) -> str:
    return f"{value / 1e6:,.1f}M"


def data_overview(tables: InputTables, graded: pd.DataFrame, scenario: Scenario) -> str:
    """One screen: headcount by sequence × unit grade, today's mix against the target, payroll."""
    employees = tables.employees.merge(graded[["unit_id", "grade"]].rename(columns={"grade": "unit_grade"}), on="unit_id")
    table = pd.crosstab(employees["sequence"], employees["unit_grade"], margins=True, margins_name="total")
    pay = PayStructure.from_tables(tables.pay, graded)
    payroll = float(pay.pay_of(tables.employees).sum())
    shares = employees["sequence"].value_counts(normalize=True)
    lines = [
        f"{len(tables.employees):,} employees in {len(tables.units)} units; payroll {_money(payroll)} CNY/year "
        "(pay table × unit pay coefficient)",
        "",
        "headcount by sequence and unit grade:",
        table.to_string(),
        "",
        "mix today vs target:",
    ]
    for sequence in SEQUENCES:
        lines.append(
            f"  {sequence:<11} {shares.get(sequence, 0.0):6.1%}  target {scenario.mix.target.get(sequence):5.1%}"
        )
    return "\n".join(lines)


def plan_summary(summary: dict[str, Any], mix: pd.DataFrame, budget: pd.DataFrame) -> str:
    """Mix path against the band, budget against the cap, year-1 counts by action, and the missed targets in
    the diagnosis' words (:func:`missed_sentences`: rounded, misses below half a person left out) when the
    run has no diagnosis (which begins with them), then what the plan does not show about its payroll
    (:func:`unproven_sentences`)."""
    lines = [f"status: {summary['status']} (exit {summary['exit_code']})", "", "mix path (share; band from the deadline):"]
    pivot = mix.pivot(index="year", columns="sequence", values="share")[list(SEQUENCES)]
    for year, row in pivot.iterrows():
        band = mix[(mix["year"] == year)].set_index("sequence")
        cells = []
        for sequence in SEQUENCES:
            lower, upper = band.loc[sequence, "lower"], band.loc[sequence, "upper"]
            mark = "" if pd.isna(lower) else (" ok" if lower - 1e-7 <= row[sequence] <= upper + 1e-7 else " MISS")
            cells.append(f"{sequence[:4]} {row[sequence]:6.2%}{mark}")
        lines.append(f"  year {year}: " + "  ".join(cells))
    lines += ["", "budget (CNY, total vs cap):"]
    for _, row in budget[budget["unit_id"] == "ALL"].iterrows():
        cap = "" if pd.isna(row["cap"]) else f" / cap {_money(row['cap'])} ({row['total'] / row['cap']:.1%})"
        lines.append(f"  year {row['year']}: {_money(row['total'])}{cap}")
    lines += ["", "year-1 actions: " + ", ".join(f"{k} {v:,}" for k, v in summary.get("counts", {}).items())]
    if "diagnosis" not in summary:  # the diagnosis says the same first
        lines += [f"  missed: {sentence}" for sentence in missed_sentences(mix, budget, summary["solver"]["stages"])]
    lines += [f"  note: {sentence}" for sentence in unproven_sentences(summary)]
    return "\n".join(lines)


def _whole_as_int(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every number column whose values are all whole shown as whole numbers (as the CSV has them)."""
    numbers = frame.select_dtypes("number")
    whole = [c for c in numbers if numbers[c].notna().all() and (numbers[c] == numbers[c].round()).all()]
    return frame.astype(dict.fromkeys(whole, "Int64"))


def ladder_summary(summary: dict[str, Any], requirements: pd.DataFrame | None) -> str:
    """An own-ladder (requirement-driven) run: status, the objective terms, requirements by year."""
    lines = [f"status: {summary['status']} (exit {summary['exit_code']}, {summary['model']['mode']} model)"]
    lines += [f"  {term}: {value:,.2f}" for term, value in summary.get("objective", {}).items()]
    if requirements is not None and not requirements.empty:
        lines += ["", "requirements (heads, overmanning, short time):", _whole_as_int(requirements).to_string(index=False)]
    return "\n".join(lines)


def grade_path_overview(path: pd.DataFrame) -> pd.DataFrame:
    """One row per unit of a grade path (:func:`models.grading.grade_path`): ``unit_id, name``, its grade in each
    year (``year 0`` …; a review year's grade starred) and its pay coefficient and tier cap in the last year."""
    marked = path.assign(grade=path["grade"].astype(str) + np.where(path["review"], "*", ""))
    last = path[path["year"] == path["year"].max()].set_index("unit_id")[["pay_coefficient", "max_tier"]]
    wide = grade_path_wide(marked)
    return wide.join(last.add_suffix(" (last year)"), on="unit_id")
