"""Year-1 cohort flows → one named action per employee (plus one row per planned hire).

Inside a cohort people are interchangeable for every constraint, so any assignment of the cohort's flow
counts to its members is optimal for the model; we hand them out by merit. Members are ranked by
performance (desc), then years in grade (desc), then employee_id (asc) — a stable, reproducible
tie-break — and flows are given from the top in the order tier promotion, sequence move, grade step,
unit transfer; redundancies are taken from the bottom of the ranking, then downgrades from just above
them. Everyone else stays.
Vectorised: the only Python loops run over cohorts and arcs, never over employees.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.pay import PayStructure
from optimizer.cohorts import COHORT_COLUMNS, Cohort
from optimizer.network import (
    DOWNGRADE,
    GRADE_STEP,
    HIRE,
    REDUNDANCY,
    SEQUENCE_MOVE,
    TIER_PROMOTION,
    UNIT_TRANSFER,
    Arc,
)
from optimizer.results import FROM_STATE, STATE, TO_STATE

HAND_OUT_ORDER = (TIER_PROMOTION, SEQUENCE_MOVE, GRADE_STEP, UNIT_TRANSFER, REDUNDANCY, DOWNGRADE)
FROM_BOTTOM = (REDUNDANCY, DOWNGRADE)
"""Kinds handed out from the bottom of the merit order (in HAND_OUT_ORDER: redundancies lowest)."""
ACTION_COLUMNS = ["employee_id", "year", "action", *FROM_STATE, *TO_STATE, "old_salary", "new_salary", "reason"]
STAY = -1


def merit_order(roster: pd.DataFrame) -> pd.DataFrame:
    """Roster sorted by cohort, then merit; adds ``rank`` (1-based within the cohort) and ``cohort_size``."""
    ordered = roster.sort_values(
        [*COHORT_COLUMNS, "performance", "years_in_grade", "employee_id"],
        ascending=[True] * len(COHORT_COLUMNS) + [False, False, True],
        kind="mergesort",
    ).reset_index(drop=True)
    groups = ordered.groupby(COHORT_COLUMNS, sort=False, observed=True)
    return ordered.assign(rank=groups.cumcount() + 1, cohort_size=groups["employee_id"].transform("size"))


def _assign(ordered: pd.DataFrame, arcs: list[Arc], counts: list[int]) -> np.ndarray:
    """Arc number per merit-ordered employee (STAY = -1): top-down kinds from rank 1, FROM_BOTTOM kinds from the end."""
    starts = ordered.drop_duplicates(COHORT_COLUMNS)
    first_row = {
        Cohort(u, s, int(t), int(g), int(b), bool(q)): (int(i), int(n))
        for u, s, t, g, b, q, i, n in zip(*(starts[c] for c in COHORT_COLUMNS), starts.index, starts["cohort_size"])
    }
    by_cohort: dict[Cohort, list[int]] = {}
    for number, arc in enumerate(arcs):
        by_cohort.setdefault(arc.source, []).append(number)
    assigned = np.full(len(ordered), STAY, dtype=np.int64)
    for cohort, numbers in by_cohort.items():
        numbers.sort(key=lambda k: (HAND_OUT_ORDER.index(arcs[k].kind), arcs[k].target or ()))
        start, size = first_row[cohort]
        top, bottom = start, start + size
        for number in numbers:
            if arcs[number].kind in FROM_BOTTOM:
                bottom -= counts[number]
                assigned[bottom : bottom + counts[number]] = number
            else:
                assigned[top : top + counts[number]] = number
                top += counts[number]
        if top > bottom:
            raise ValueError(f"cohort {cohort.label()}: flows for {size + top - bottom} people, {size} members")
    return assigned


def _label(unit: pd.Series, sequence: pd.Series, tier: pd.Series, grade: pd.Series) -> pd.Series:
    return unit + " " + sequence + " T" + tier.astype(str) + " G" + grade.astype(str)


def _targets(arcs: list[Arc]) -> pd.DataFrame:
    """One row per arc (plus a final STAY row): action and to-state, None where the arc has no target."""
    rows = [(a.kind, *(a.target.state if a.target is not None else (None,) * 4)) for a in arcs]
    frame = pd.DataFrame(rows + [("stay", None, None, None, None)], columns=["action", *TO_STATE])
    return frame.astype({"to_tier": "Int64", "to_grade": "Int64"})


def employee_actions(roster: pd.DataFrame, year1_flows: dict[Arc, int], pay: PayStructure) -> pd.DataFrame:
    """One row per roster employee (year 1) plus one per planned hire, in the ``actions.csv`` layout.

    ``roster`` must carry the cohort columns of :func:`optimizer.cohorts.assign_cohorts`.
    """
    arcs = sorted(
        (a for a, n in year1_flows.items() if a.kind != HIRE and n > 0),
        key=lambda a: (a.source, a.kind, a.target or ()),
    )
    ordered = merit_order(roster)
    assigned = _assign(ordered, arcs, [int(year1_flows[a]) for a in arcs])
    targets = _targets(arcs).iloc[assigned].reset_index(drop=True)  # STAY (-1) picks the final row
    stays = assigned == STAY
    actions = pd.DataFrame(
        {
            "employee_id": ordered["employee_id"],
            "year": 1,
            "action": targets["action"],
            **{new: ordered[old] for old, new in zip(STATE, FROM_STATE)},
        }
    )
    for old, new in zip(STATE, TO_STATE):
        actions[new] = targets[new].where(~stays, ordered[old])
    actions = actions.astype({"from_tier": "Int64", "from_grade": "Int64", "to_tier": "Int64", "to_grade": "Int64"})
    actions["old_salary"] = pay.pay_of(ordered)
    actions["new_salary"] = _pay_or_nan(actions, pay)
    actions["reason"] = _reasons(ordered, assigned)
    hires = hire_rows({a: n for a, n in year1_flows.items() if a.kind == HIRE and n > 0}, pay)
    if hires.empty:
        return actions[ACTION_COLUMNS]
    return pd.concat([actions, hires], ignore_index=True)[ACTION_COLUMNS]


def _pay_or_nan(actions: pd.DataFrame, pay: PayStructure) -> np.ndarray:
    """pay(to-state), NaN where there is no to-state (redundancy)."""
    present = actions["to_unit"].notna().to_numpy()
    salaries = np.full(len(actions), np.nan)
    states = actions.loc[present, TO_STATE].set_axis(STATE, axis=1)
    salaries[present] = pay.pay_of(states)
    return salaries


def _reasons(ordered: pd.DataFrame, assigned: np.ndarray) -> pd.Series:
    """Why each person got their action: their merit rank inside their cohort."""
    where = _label(ordered["unit_id"], ordered["sequence"], ordered["tier"], ordered["grade"])
    ranked = "rank " + ordered["rank"].astype(str) + " of " + ordered["cohort_size"].astype(str)
    cohort_moves = pd.Series(assigned != STAY).groupby(
        [ordered[c] for c in COHORT_COLUMNS], sort=False, observed=True
    ).transform("any")
    moved = assigned != STAY
    merit = " (performance " + ordered["performance"].map("{:g}".format) + ")"
    reason = np.where(moved, ranked + " eligible in " + where + merit, ranked + " in " + where + ": not selected")
    return pd.Series(np.where(moved | cohort_moves.to_numpy(), reason, "no change planned for " + where))


def hire_rows(hires: dict[Arc, int], pay: PayStructure) -> pd.DataFrame:
    """One row per planned hire: ``HIRE-<unit>-<n>`` numbered per unit, in arc order (vectorised: one row
    per arc, repeated by its count)."""
    arcs = sorted(hires, key=lambda a: a.target)
    per_arc = pd.DataFrame([a.target.state for a in arcs], columns=TO_STATE)
    per_arc["new_salary"] = [pay.pay(*a.target.state) for a in arcs]
    per_arc["reason"] = [f"planned hire into {u} {s} T{k} G{g}" for u, s, k, g in (a.target.state for a in arcs)]
    rows = per_arc.loc[per_arc.index.repeat([int(hires[a]) for a in arcs])].reset_index(drop=True)
    number = rows.groupby("to_unit", sort=False).cumcount() + 1
    frame = rows.assign(
        employee_id="HIRE-" + rows["to_unit"].astype(str) + "-" + number.astype(str).str.zfill(4),
        year=1, action=HIRE, from_unit=None, from_sequence=None, from_tier=None, from_grade=None, old_salary=np.nan,
    )[ACTION_COLUMNS]
    return frame.astype({"from_tier": "Int64", "from_grade": "Int64", "to_tier": "Int64", "to_grade": "Int64"})
