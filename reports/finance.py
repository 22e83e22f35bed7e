"""The finance view of a plan and the headcount change per unit, as tables both reports show (HTML and Excel),
computed from the plan folder's ``budget.csv``, ``flows.csv``, ``headcount.csv`` and ``units.csv`` alone.

- :func:`payroll_by_unit`: unit × year payroll, the group total kept apart (its own frame, never a row among
  the units, so a column of unit rows sums to it);
- :func:`one_off_by_kind`: one-off costs by kind and year (group);
- :func:`against_cap`: per capped row (the group, and units with a cap of their own) and year: total, cap,
  headroom = cap − total, and the change of total against year 0;
- :func:`year0_both_ways`: year-0 payroll actual (Σ salary) and structural (everyone on the pay table);
- :func:`headcount_change`: per unit over the horizon: start, attrition, hires, redundancies, transfers in and
  out, end, with end = start − attrition + hires − redundancies + transfers in − transfers out;
- :func:`whole_people`: expected headcounts rounded to whole people so that they add up to the rounded total
  (largest remainder). Reports show these; the CSV files keep exact values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

GROUP = "ALL"
ONE_OFF = {"hiring_cost": "hiring", "retraining_cost": "retraining and moves", "redundancy_cost": "redundancy"}
"""budget.csv one-off cost columns → the kind shown."""
CHANGE_PARTS = ("start", "attrition", "hires", "redundancies", "transfers_in", "transfers_out", "end")


def whole_people(values: pd.Series | np.ndarray) -> np.ndarray:
    """``values`` (≥ 0, expected heads) rounded to integers that sum to round(Σ values): each is floored, then the
    remaining people go to the largest fractional parts (ties: the earlier entry). Whole inputs stay as they are."""
    exact = np.asarray(values, dtype=float)
    if exact.size == 0:
        return exact.astype(np.int64)
    floors = np.floor(exact + 1e-9)
    left = int(round(float(exact.sum()) - float(floors.sum())))
    order = np.argsort(-(exact - floors), kind="stable")
    floors[order[:max(left, 0)]] += 1
    return floors.astype(np.int64)


def unit_names(units: pd.DataFrame) -> dict[str, str]:
    """unit_id → name (units.csv)."""
    return dict(zip(units["unit_id"].astype(str), units["name"].fillna("").astype(str)))


def payroll_by_unit(budget: pd.DataFrame, column: str = "payroll") -> tuple[pd.DataFrame, pd.Series]:
    """(unit rows: ``unit_id, unit_name`` and one column per year of ``column``; the group total by year)."""
    units = budget[budget["unit_id"] != GROUP]
    table = units.pivot_table(index=["unit_id", "unit_name"], columns="year", values=column, aggfunc="sum")
    group = budget[budget["unit_id"] == GROUP].set_index("year")[column]
    return table.reset_index(), group


def one_off_by_kind(budget: pd.DataFrame) -> pd.DataFrame:
    """``kind`` and one column per year: the group's one-off costs by kind (from the ``ALL`` rows)."""
    group = budget[budget["unit_id"] == GROUP].set_index("year")
    frame = pd.DataFrame({label: group[column] for column, label in ONE_OFF.items()}).T
    frame.index.name = "kind"
    return frame.reset_index()


def against_cap(budget: pd.DataFrame) -> pd.DataFrame:
    """``unit_id, unit_name, year, total, change, cap, headroom`` for every row with a cap (years ≥ 1); change =
    total − the row's year-0 total; headroom = cap − total (negative: over the cap). Group rows first."""
    start = budget[budget["year"] == 0].set_index("unit_id")["total"]
    capped = budget.dropna(subset=["cap"]).copy()
    capped["change"] = capped["total"] - capped["unit_id"].map(start)
    capped["headroom"] = capped["cap"] - capped["total"]
    capped["group"] = capped["unit_id"] != GROUP
    ordered = capped.sort_values(["group", "unit_id", "year"])
    return ordered[["unit_id", "unit_name", "year", "total", "change", "cap", "headroom"]].reset_index(drop=True)


def year0_both_ways(budget: pd.DataFrame) -> dict[str, float]:
    """Year-0 group payroll: ``actual`` (Σ salary), ``structural`` (everyone on the pay table) and ``difference``
    = structural − actual, what moving everyone onto the pay table would cost a year."""
    row = budget[(budget["unit_id"] == GROUP) & (budget["year"] == 0)].iloc[0]
    actual, structural = float(row["payroll"]), float(row["table_payroll"])
    return {"actual": actual, "structural": structural, "difference": structural - actual}


def headcount_change(headcount: pd.DataFrame, flows: pd.DataFrame, units: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """``unit_id, unit_name`` and :data:`CHANGE_PARTS` over years 1..H per unit (flows.csv, headcount.csv), one row
    per unit of units.csv (which has one row per unit and year). Moves inside a unit (grade steps, promotions,
    sequence moves, downgrades) change nobody's unit and do not appear."""
    units = units.drop_duplicates("unit_id")
    heads = headcount.groupby(["year", "unit_id"])["headcount"].sum()
    ids = units["unit_id"].astype(str)

    def summed(kind: str, side: str) -> pd.Series:
        chosen = flows[flows["kind"] == kind]
        return chosen.groupby(f"{side}_unit")["count"].sum().reindex(ids).fillna(0.0)

    frame = pd.DataFrame({
        "unit_id": ids.to_numpy(),
        "unit_name": units["name"].fillna("").astype(str).to_numpy(),
        "start": heads.get(0, pd.Series(dtype=float)).reindex(ids).fillna(0.0).to_numpy(),
        "attrition": summed("attrition", "from").to_numpy(),
        "hires": summed("hire", "to").to_numpy(),
        "redundancies": summed("redundancy", "from").to_numpy(),
        "transfers_in": summed("unit_transfer", "to").to_numpy(),
        "transfers_out": summed("unit_transfer", "from").to_numpy(),
        "end": heads.get(horizon, pd.Series(dtype=float)).reindex(ids).fillna(0.0).to_numpy(),
    })
    return frame


def rounded_change(change: pd.DataFrame) -> pd.DataFrame:
    """:func:`headcount_change` in whole people: every part but attrition rounded across units by
    :func:`whole_people` (each column adds up to its rounded total; ``end`` as the other tables show it), then
    attrition, the expected part, = start + hires − redundancies + transfers in − transfers out − end, so each row
    adds up too."""
    whole = change.copy()
    for part in CHANGE_PARTS:
        if part != "attrition":
            whole[part] = whole_people(change[part].clip(lower=0.0))
    whole["attrition"] = (whole["start"] + whole["hires"] - whole["redundancies"] + whole["transfers_in"]
                          - whole["transfers_out"] - whole["end"])
    return whole
