"""What the page shows, computed from a run's state and its plan folder (docs/outputs.md) alone: the status
in words, the scenario at a glance, headcount change per unit, budget by unit, the year-1 action list as
filtered, and the plan as a zip. Pure functions of frames and dictionaries, tested without a browser."""

from __future__ import annotations

import io
import itertools
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from optimizer.plan.folders import MARKER
from optimizer.plan.reader import PlanFiles

Tone = Literal["success", "warning", "error", "info"]


@dataclass(frozen=True)
class Words:
    """A status for people: its tone (the page's colour) and one sentence."""

    tone: Tone
    text: str


def status_words(state: str, exit_code: int | None, status: str | None, message: str = "",
                 position: int | None = None) -> Words:
    """The outcome of a run as a planner reads it, from its queue state, exit code (as ``wfplan solve``
    exits) and summary status."""
    if state == "queued":
        ahead = "" if position is None else f" (number {position} in the queue)"
        return Words("info", f"Waiting for a free solver{ahead}.")
    if state == "running":
        return Words("info", "Solving…")
    if state == "cancelled":
        return Words("warning", f"Cancelled: {message or 'no plan was written'}.")
    if exit_code == 0:
        limit = " (the solver stopped at a limit: the best plan found, not proven the best)" if status == "feasible" else ""
        return Words("success", f"Every target met{limit}: the plan is written and verified.")
    if exit_code == 3:
        return Words("warning", "A target cannot be met: the closest plan is written, with the diagnosis below.")
    if exit_code == 4:
        return Words("error", f"No feasible plan within the time limit ({status}); see the diagnosis below, if any.")
    if exit_code == 2:
        return Words("error", f"Bad input, nothing was solved: {message}")
    return Words("error", message or "The run failed.")


def glance(scenario: dict[str, Any]) -> dict[str, str]:
    """The scenario's headline numbers (a resolved scenario as a mapping): mix targets and band, deadline,
    budget growth (or its explicit caps), horizon."""
    mix = scenario["mix"]
    targets = " / ".join(f"{share * 100:g}% {sequence}" for sequence, share in mix["target"].items())
    caps = scenario["budget"].get("caps")
    budget = (f"explicit caps for years {', '.join(str(year) for year in caps)}" if caps else
              f"{scenario['budget']['growth'] * 100:+g}% a year over year-0 payroll")
    return {
        "Scenario": str(scenario["name"]),
        "Mix target": targets,
        "Band": f"± {mix['tolerance'] * 100:g} points from year {mix['deadline']}",
        "Budget": budget,
        "Horizon": f"{scenario['horizon']} years",
    }


def unit_changes(plan: PlanFiles) -> pd.DataFrame:
    """One row per unit: grade (its path when a review changes it: ``C → A``), headcount in year 0 and in the last
    year, and the change (largest cut first)."""
    last = plan.horizon
    heads = plan.headcount.groupby(["unit_id", "year"])["headcount"].sum().unstack().reindex(columns=[0, last])
    path = plan.units.sort_values(["unit_id", "year"], kind="stable")
    grades = path.groupby("unit_id", sort=False)["grade"].agg(
        lambda g: " → ".join(str(grade) for grade, _ in itertools.groupby(g))).reset_index()
    frame = grades.merge(heads.fillna(0.0), left_on="unit_id", right_index=True, how="left")
    frame = frame.rename(columns={0: "year 0", last: f"year {last}"})
    frame["change"] = frame[f"year {last}"] - frame["year 0"]
    return frame.sort_values(["change", "unit_id"]).reset_index(drop=True)


def budget_by_unit(budget: pd.DataFrame) -> pd.DataFrame:
    """Total cost (payroll + one-off costs, budget.csv ``total``) by unit and year, CNY million, with the group
    total and its cap (the cap is on the group row)."""
    units = budget[budget["unit_id"] != "ALL"].pivot(index="year", columns="unit_id", values="total") / 1e6
    group = budget[budget["unit_id"] == "ALL"].set_index("year")
    units["ALL"] = group["total"] / 1e6
    units["cap"] = group["cap"] / 1e6
    return units.reset_index()


def filter_actions(actions: pd.DataFrame, units: list[str] | None = None, kinds: list[str] | None = None,
                   text: str = "") -> pd.DataFrame:
    """The year-1 action rows of the chosen units (from or to) and actions whose id or name contains
    ``text`` (case-insensitive); an empty choice keeps everything."""
    keep = pd.Series(True, index=actions.index)
    if units:
        keep &= actions["from_unit"].isin(units) | actions["to_unit"].isin(units)
    if kinds:
        keep &= actions["action"].isin(kinds)
    needle = text.strip().casefold()
    if needle:
        found = actions["employee_id"].astype(str).str.casefold().str.contains(needle, regex=False)
        if "name" in actions.columns:
            found |= actions["name"].fillna("").astype(str).str.casefold().str.contains(needle, regex=False)
        keep &= found
    return actions[keep]


def with_names(actions: pd.DataFrame, employees: pd.DataFrame) -> pd.DataFrame:
    """The action list with the employees' ``name`` (from the input tables) after ``employee_id``; hires have
    none. A plan's ``actions.csv`` has the names already (a plan written before it had them gets them here)."""
    if "name" in actions.columns:
        return actions
    names = employees.set_index("employee_id")["name"] if "name" in employees.columns else pd.Series(dtype=str)
    frame = actions.copy()
    frame.insert(1, "name", frame["employee_id"].map(names).fillna(""))
    return frame


def plan_zip(folder: Path) -> bytes:
    """The plan folder as a zip (every file, under the run id's folder name), without wfplan's marker."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.name != MARKER:
                archive.write(path, f"{folder.name}/{path.relative_to(folder)}")
    return buffer.getvalue()
