"""What the page shows, computed from a run's state and its plan folder (docs/outputs.md) alone: the status
in words, the scenario at a glance, headcount change per unit, budget by unit, the year-1 action list as
filtered, and the plan as a zip. Pure functions of frames and dictionaries, tested without a browser."""

from __future__ import annotations

import io
import itertools
import json
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


LIMIT_WORDS = {"gap": " (proven within the solver's requested gap of the best plan)"}
"""What a plan whose summary status is ``feasible`` was stopped by, in words (any other limit, or none known:
:data:`STOPPED_WORDS`)."""
STOPPED_WORDS = " (the solver stopped at a limit: the best plan found, not proven the best)"


def stopping_limit(folder: Path | None) -> str | None:
    """The limit that kept a plan's solve short of proven, from its summary.json (the solve's stages and merit
    re-solve's): ``time_limit``, ``node_limit`` or ``other_limit`` when any stage was so stopped, else
    ``gap`` when a stage stopped at its requested gap, else None (also without a readable summary)."""
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8")) if folder else {}
    except (OSError, ValueError):
        return None
    stages = [*summary.get("solver", {}).get("stages", []), *(summary.get("merit", {}).get("stages") or [])]
    limits = {stage.get("stopped_by") for stage in stages} - {None}
    return next((limit for limit in sorted(limits) if limit != "gap"), "gap" if "gap" in limits else None)


def status_words(state: str, exit_code: int | None, status: str | None, message: str = "",
                 position: int | None = None, folder: Path | None = None) -> Words:
    """The outcome of a run as a planner reads it, from its queue state, exit code (as ``wfplan solve``
    exits), summary status and, for a plan not proven optimal, what stopped its solve (its plan ``folder``)."""
    if state == "queued":
        ahead = "" if position is None else f" (number {position} in the queue)"
        return Words("info", f"Waiting for a free solver{ahead}.")
    if state == "running":
        return Words("info", "Solving…")
    if state == "cancelled":
        return Words("warning", f"Cancelled: {message or 'no plan was written'}.")
    if exit_code == 0:
        limit = LIMIT_WORDS.get(stopping_limit(folder), STOPPED_WORDS) if status == "feasible" else ""
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
