"""Unit grade paths and what each grade change costs, from a plan's ``units.csv`` and ``budget.csv`` alone.

A grade change is a year t ≥ 1 in which a unit's grade differs from its grade in year t−1 (a review that keeps
the grade is no change). It is in force from t until the unit's next change, or to the horizon H. Its cost is
the payroll of the unit in those years with the change against the same plan re-priced without it:

    payroll_without(u, y) = payroll(u, y) − (table_payroll(u, y) − red_circled_payroll(u, y)) · (1 − c_before / c_after),
    cost = Σ_y (payroll(u, y) − payroll_without(u, y))

with c_before, c_after the pay coefficients before and after the change: the table part of every salary of the
unit scales with its coefficient, while the people's premiums over the table do not (the pay rule of
:class:`models.pay.PayStructure`), so the people the plan has in the unit are priced as they would be paid under
the old grade. People above a lowered tier cap (red-circled) are paid at the coefficient they keep from the last
year their tier was admitted, which the change does not move (grades whose coefficients and caps rise together:
that year's coefficient is at least c_before), so their part of the table payroll is not re-priced.
The plan itself is held fixed (the same people, promotions and hires): what the plan would do differently
without the change (a higher tier closed or opened) is a what-if of its own, a re-solve with the review's grade
set (``--set unit_grading.reviews[unit=U,year=T].grade=G``; docs/decisions.md).
"""

from __future__ import annotations

import pandas as pd

CHANGE_COLUMNS = ["unit_id", "name", "year", "until", "from_grade", "to_grade", "from_coefficient",
                  "to_coefficient", "from_max_tier", "to_max_tier", "payroll", "payroll_without", "cost"]
"""One row per grade change: the unit, the year it takes effect and the last year it holds within the horizon
(``until``), the grades, coefficients and tier caps before and after, and the payroll of those years with
and without it (CNY)."""


def grade_path_wide(units: pd.DataFrame) -> pd.DataFrame:
    """``unit_id, name, year 0 … year H``: each unit's grade per year, one row per unit (units.csv order)."""
    wide = units.pivot(index="unit_id", columns="year", values="grade")
    wide.columns = [f"year {int(year)}" for year in wide.columns]
    names = units.drop_duplicates("unit_id").set_index("unit_id")["name"]
    order = units["unit_id"].drop_duplicates()
    return wide.reindex(order).reset_index().assign(name=names.reindex(order).to_numpy())[
        ["unit_id", "name", *wide.columns]]


def grade_changes(units: pd.DataFrame, budget: pd.DataFrame) -> pd.DataFrame:
    """:data:`CHANGE_COLUMNS` for every grade change of ``units`` (units.csv), priced with the unit rows of
    ``budget`` (budget.csv); sorted by unit, then year. Empty (with the columns) when no grade changes."""
    path = units.sort_values(["unit_id", "year"], kind="stable").reset_index(drop=True)
    before = path.groupby("unit_id")[["grade", "pay_coefficient", "max_tier"]].shift(1)
    changed = path[before["grade"].notna() & path["grade"].ne(before["grade"])].index
    indexed = budget.set_index(["unit_id", "year"])
    payroll, repriced = indexed["payroll"], indexed["table_payroll"] - indexed["red_circled_payroll"]
    horizon = int(path["year"].max()) if len(path) else 0
    rows = []
    for position, i in enumerate(changed):
        row = path.loc[i]
        following = [j for j in changed[position + 1:] if path.loc[j, "unit_id"] == row["unit_id"]]
        until = int(path.loc[following[0], "year"]) - 1 if following else horizon
        years = range(int(row["year"]), until + 1)
        paid = sum(float(payroll.get((row["unit_id"], y), 0.0)) for y in years)
        moved = sum(float(repriced.get((row["unit_id"], y), 0.0)) for y in years)
        without = paid - moved * (1.0 - float(before.loc[i, "pay_coefficient"]) / float(row["pay_coefficient"]))
        rows.append((row["unit_id"], row["name"], int(row["year"]), until, before.loc[i, "grade"], row["grade"],
                     float(before.loc[i, "pay_coefficient"]), float(row["pay_coefficient"]),
                     int(before.loc[i, "max_tier"]), int(row["max_tier"]), paid, without, paid - without))
    return pd.DataFrame(rows, columns=CHANGE_COLUMNS)
