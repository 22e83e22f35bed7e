"""Solver values → the plan's cohort tables: flows, headcount, budget and mix by year.

Year-1 flows are rounded to whole people (not in LP mode); later flows below 1e-9 are dropped. Headcounts are then
*recomputed* from the roster and these flows with the model's balance equation, so the written tables
satisfy ``headcount(t) = headcount(t−1) − out + in`` exactly, whatever the solver's tolerances. Under the
``service_dependent`` and ``decide_then_attrition`` flow conventions the in-year losses of inflows are reported
as attrition of the destination state (:func:`leavers`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from models.scenario import SEQUENCES
from optimizer.model.cohorts import Cohort
from optimizer.model.data import Index, ModelData
from optimizer.model.payroll import wear_off
from optimizer.model.network import ATTRITION, DOWNGRADE, HIRE, REDUNDANCY, SEQUENCE_MOVE, UNIT_TRANSFER, Arc
from optimizer.plan.contract import columns

STATE = ["unit_id", "sequence", "tier", "grade"]
FROM_STATE = ["from_unit", "from_sequence", "from_tier", "from_grade"]
TO_STATE = ["to_unit", "to_sequence", "to_tier", "to_grade"]
REQUIREMENT_COLUMNS = columns("requirements")
"""requirements.csv (:func:`optimizer.model.requirements.requirements_table` rows)."""
COST_COLUMN = {HIRE: "hiring_cost", SEQUENCE_MOVE: "retraining_cost", UNIT_TRANSFER: "retraining_cost",
               DOWNGRADE: "retraining_cost", REDUNDANCY: "redundancy_cost"}


@dataclass(frozen=True)
class CohortPlan:
    """Flow counts per arc and year and the resulting expected stock per cohort and year."""

    flows: dict[tuple[Arc, int], float]
    stock: list[dict[Cohort, float]]


def cohort_plan(values: np.ndarray, data: ModelData, index: Index) -> CohortPlan:
    """Rounded year-1 flows, cleaned later flows and the stocks they imply (balance re-applied)."""
    flows: dict[tuple[Arc, int], float] = {}
    whole_year1 = data.scenario.solver.integer_year1
    for (arc, year), var in index.flow.items():
        value = float(values[var])
        value = float(round(value)) if year == 1 and whole_year1 else (value if value > 1e-9 else 0.0)
        if value > 0:
            flows[(arc, year)] = value
    cap = data.seniority_cap
    stock: list[dict[Cohort, float]] = [dict(data.initial)]
    for year in range(1, data.horizon + 1):
        nxt: dict[Cohort, float] = defaultdict(float)
        for c, n in stock[-1].items():
            nxt[c.one_year_older(cap)] += (1.0 - data.attrition(c)) * n
        for (arc, t), count in flows.items():
            if t != year:
                continue
            if arc.source is not None:
                nxt[arc.source.one_year_older(cap)] -= data.outflow_survival(arc.source) * count
            if arc.target is not None:
                nxt[arc.target] += data.inflow_survival(arc) * count
        stock.append({c: max(n, 0.0) for c, n in nxt.items() if abs(n) > 1e-12})
    return CohortPlan(flows, stock)


def headcount_table(plan: CohortPlan) -> pd.DataFrame:
    """``year, unit_id, sequence, tier, grade, headcount`` (states with people)."""
    rows = [(year, *c.state, n) for year, stock in enumerate(plan.stock) for c, n in stock.items()]
    frame = pd.DataFrame(rows, columns=["year", *STATE, "headcount"])
    frame = frame.groupby(["year", *STATE], as_index=False, sort=True)["headcount"].sum()
    return frame[frame["headcount"] > 1e-9].reset_index(drop=True)


def flows_table(plan: CohortPlan, data: ModelData) -> pd.DataFrame:
    """``year, kind, from_*, to_*, count``: decided flows plus expected attrition (empty to-state)."""
    empty = (None, None, None, None)
    rows = []
    for (arc, year), count in plan.flows.items():
        origin = arc.source.state if arc.source is not None else empty
        target = arc.target.state if arc.target is not None else empty
        rows.append((year, arc.kind, *origin, *target, count))
    for year in range(1, data.horizon + 1):
        rows += [(year, ATTRITION, *state, *empty, count) for state, count in leavers(plan, data, year).items()]
    frame = pd.DataFrame(rows, columns=["year", "kind", *FROM_STATE, *TO_STATE, "count"])
    keys = ["year", "kind", *FROM_STATE, *TO_STATE]
    frame = frame.groupby(keys, as_index=False, sort=True, dropna=False)["count"].sum()
    for column in ("from_tier", "from_grade", "to_tier", "to_grade"):
        frame[column] = frame[column].astype("Int64")
    return frame


def leavers(plan: CohortPlan, data: ModelData, year: int) -> dict[tuple, float]:
    """Expected attrition of each state σ = (unit, sequence, tier, grade) in ``year``, as the balance of
    :func:`cohort_plan` charges it: Σ_{c ∈ σ} (a_c·x[c,t−1] − (1−ρ_c)·Σ_{a out of c} f[a,t]) + Σ_{a into σ}
    (1−π_a)·f[a,t], with ρ_c and π_a of :func:`optimizer.model.formulation.add_stock_balance` (the second term
    only when decisions come first, the last only when inflows waste). States with none are left out."""
    lost: dict[tuple, float] = defaultdict(float)
    for c, n in plan.stock[year - 1].items():
        lost[c.state] += data.attrition(c) * n
    for (arc, t), count in plan.flows.items():
        if t != year:
            continue
        if arc.source is not None:
            lost[arc.source.state] -= (1.0 - data.outflow_survival(arc.source)) * count
        if arc.target is not None:
            lost[arc.target.state] += (1.0 - data.inflow_survival(arc)) * count
    return {state: count for state, count in lost.items() if count > 1e-12}


def premium_mass(plan: CohortPlan, data: ModelData, actions: pd.DataFrame | None) -> dict[tuple[int, str], float]:
    """R(u,t), the payroll above the pay table (:mod:`optimizer.model.payroll`), by (year, unit): year 0 from the
    roster; year 1 from the people the plan names, Σ (new_salary − pay(to-state)) of the year-1 actions that land
    in u, less the expected attrition of each state σ ∈ u (:func:`leavers`) times its roster mean premium r̄_σ;
    then worn off by
    the unit's mean attrition. Empty without salaries."""
    if not data.premium:
        return {}
    mass: dict[tuple[int, str], float] = defaultdict(float)
    for c, premium in data.premium.items():
        mass[(0, c.unit)] += premium
    for unit, value in _landed_premium(plan, data, actions).items():
        mass[(1, unit)] += value
    for state, count in leavers(plan, data, 1).items():
        mass[(1, state[0])] -= count * data.state_premium.get(state, 0.0)
    for year in range(2, data.horizon + 1):
        for unit in data.units:
            mass[(year, unit)] = mass[(1, unit)] * wear_off(data.unit_attrition.get(unit, 0.0), year)
    return dict(mass)


def _landed_premium(plan: CohortPlan, data: ModelData, actions: pd.DataFrame | None) -> dict[str, float]:
    """Σ r_i of the year-1 actions landing in each unit: from ``actions`` (the people named), or, without them,
    as the model values it (a redundancy or transfer moves its cohort's mean premium)."""
    if actions is not None:
        landed = actions[actions["to_unit"].notna()]
        own = landed["new_salary"].to_numpy(dtype=float) - data.pay.pay_of(landed[TO_STATE].set_axis(STATE, axis=1), year=1)
        return {str(u): float(v) for u, v in pd.Series(own).groupby(landed["to_unit"].to_numpy()).sum().items()}
    held: dict[str, float] = defaultdict(float)
    for c, premium in data.premium.items():
        held[c.unit] += premium
    for (arc, year), count in plan.flows.items():
        if year == 1 and arc.kind in (REDUNDANCY, UNIT_TRANSFER):
            held[arc.source.unit] -= data.cohort_premium(arc.source) * count
        if year == 1 and arc.kind == UNIT_TRANSFER:
            held[arc.target.unit] += data.cohort_premium(arc.source) * count
    return dict(held)


def budget_table(plan: CohortPlan, data: ModelData, requirements: pd.DataFrame | None = None,
                 actions: pd.DataFrame | None = None) -> pd.DataFrame:
    """``year, unit_id, payroll, table_payroll, red_circled_payroll, hiring_cost, retraining_cost, redundancy_cost,
    total, cap, overmanning_cost, short_time_cost`` with ALL rows. ``table_payroll`` = Σ pay(σ,t)·headcount, of which
    ``red_circled_payroll`` is the part of the people above a lowered tier cap who keep their pay
    (:meth:`models.pay.PayStructure.kept_coefficient`); ``payroll`` adds the
    premium mass of the people's actual pay (:func:`premium_mass`, from ``actions``; equal without salaries).
    ``total`` is what the budget cap limits: ``cap`` on the ALL rows and on the rows of units with a cap of their
    own. The requirements' slack costs (``overmanning_cost``·overmanning and ``short_time_cost``·short_time of the
    rows of ``requirements``, a :data:`REQUIREMENT_COLUMNS` frame; None: none) are the last two columns, on ALL
    rows only, so that Σ_{t≥1} (total + overmanning_cost + short_time_cost) of the ALL rows is the ``cost``
    objective term."""
    money: dict[tuple[int, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    premiums = premium_mass(plan, data, actions)
    for year, stock in enumerate(plan.stock):
        for unit in data.units:
            money[(year, unit)]["table_payroll"] += 0.0
            money[(year, unit)]["red_circled_payroll"] += 0.0
            money[(year, unit)]["payroll"] += premiums.get((year, unit), 0.0)
        for c, n in stock.items():
            pay = data.pay_of(c, year) * n
            money[(year, c.unit)]["table_payroll"] += pay
            money[(year, c.unit)]["payroll"] += pay
            if data.pay.kept_coefficient(c.unit, c.sequence, c.tier, year) is not None:
                money[(year, c.unit)]["red_circled_payroll"] += pay
    for (arc, year), count in plan.flows.items():
        if arc.kind in COST_COLUMN:
            unit = arc.source.unit if arc.kind == REDUNDANCY else arc.target.unit
            money[(year, unit)][COST_COLUMN[arc.kind]] += data.one_off_cost(arc, year) * count
    parts = ["payroll", "hiring_cost", "retraining_cost", "redundancy_cost"]
    tables = ["table_payroll", "red_circled_payroll"]
    frame = pd.DataFrame(
        [(year, unit, *(cols.get(p, 0.0) for p in [*parts, *tables])) for (year, unit), cols in sorted(money.items())],
        columns=["year", "unit_id", *parts, *tables],
    )
    totals = frame.groupby("year", as_index=False)[[*parts, *tables]].sum().assign(unit_id="ALL")
    frame = pd.concat([frame, totals[frame.columns]], ignore_index=True)
    frame["total"] = frame[parts].sum(axis=1)
    caps = {(year, "ALL"): data.scenario.budget_cap(year, data.base_payroll) for year in range(1, data.horizon + 1)}
    caps.update({(year, unit): cap for unit, by_year in data.unit_cap.items() for year, cap in by_year.items()})
    frame["cap"] = [caps.get((year, unit), np.nan) for year, unit in zip(frame["year"], frame["unit_id"])]
    on_all = frame["unit_id"] == "ALL"
    slack = _requirement_costs(requirements, data)
    for column in slack.columns:
        frame[column] = np.where(on_all, frame["year"].map(slack[column]).fillna(0.0), np.nan)
    order = frame.assign(is_all=on_all).sort_values(["year", "is_all", "unit_id"])
    return order.drop(columns="is_all").reset_index(drop=True)


def _requirement_costs(requirements: pd.DataFrame | None, data: ModelData) -> pd.DataFrame:
    """``overmanning_cost, short_time_cost`` by year: Σ over the requirement rows of that year of the
    requirement's cost per head × overmanning (short time)."""
    columns = {"overmanning_cost": "overmanning", "short_time_cost": "short_time"}
    if requirements is None or requirements.empty:
        return pd.DataFrame(columns=list(columns), dtype=float)
    demand = {r.name: r for r in data.scenario.requirements.demand}
    costs = pd.DataFrame({
        column: requirements[heads] * requirements["requirement"].map(lambda name: getattr(demand[name], column))
        for column, heads in columns.items()
    })
    return costs.groupby(requirements["year"]).sum()


GROUP = "ALL"
GROUP_NAME = "group total"
"""The ``unit_name`` of budget.csv's group rows (``unit_id`` = ``ALL``)."""
UNIT_NAMES = {"actions": {"from_unit": "from_unit_name", "to_unit": "to_unit_name"}, "budget": {"unit_id": "unit_name"}}
"""Per plan table: unit-id column → the column holding that unit's name (from the units table)."""


def with_names(tables: dict[str, pd.DataFrame], names: dict[str, str]) -> dict[str, pd.DataFrame]:
    """``tables`` with the unit-name columns of :data:`UNIT_NAMES` filled from ``names`` (unit id → name; empty
    where the id is empty), each table in its contract's column order."""
    named = dict(tables)
    lookup = {**names, GROUP: GROUP_NAME}
    for table, pairs in UNIT_NAMES.items():
        frame = named[table]
        for id_column, name_column in pairs.items():
            frame = frame.assign(**{name_column: frame[id_column].map(lookup).astype("str")})
        named[table] = frame[columns(table)]
    return named


def mix_table(headcount: pd.DataFrame, data: ModelData) -> pd.DataFrame:
    """``year, sequence, headcount, share, target, lower, upper``; the band is filled from the deadline on."""
    mix = data.scenario.mix
    by_sequence = headcount.groupby(["year", "sequence"])["headcount"].sum()
    rows = []
    for year in range(0, data.horizon + 1):
        total = sum(by_sequence.get((year, s), 0.0) for s in SEQUENCES)
        for sequence in SEQUENCES:
            heads = float(by_sequence.get((year, sequence), 0.0))
            target = mix.target.get(sequence)
            banded = year >= mix.deadline
            rows.append(
                (
                    year,
                    sequence,
                    heads,
                    heads / total if total else 0.0,
                    target,
                    target - mix.tolerance if banded else np.nan,
                    target + mix.tolerance if banded else np.nan,
                )
            )
    return pd.DataFrame(rows, columns=["year", "sequence", "headcount", "share", "target", "lower", "upper"])


def goal_deviations(mix: pd.DataFrame, budget: pd.DataFrame) -> dict[str, list[dict[str, Any]]]:
    """Missed targets: mix shares outside the band and budget totals over the cap (tolerance 1e-7)."""
    banded = mix.dropna(subset=["lower", "upper"])
    shortfall = (banded["lower"] - banded["share"]).clip(lower=0) + (banded["share"] - banded["upper"]).clip(lower=0)
    missed_mix = banded.assign(shortfall=shortfall)[shortfall > 1e-7]
    totals = budget.dropna(subset=["cap"])
    overrun = totals["total"] - totals["cap"]
    missed_budget = totals.assign(overrun=overrun)[overrun > 1e-7 * totals["cap"].abs()]
    return {
        "mix": missed_mix[["year", "sequence", "share", "lower", "upper", "shortfall"]].to_dict("records"),
        "budget": missed_budget[["year", "unit_id", "total", "cap", "overrun"]].to_dict("records"),
    }
