"""Independent verifier: re-checks a written plan from its output files and the input tables alone.

It shares no code with the formulation or the plan writer. Pay, one-off costs, caps, shares, rate limits
and stock balances are recomputed here from the input tables (``employees``, ``units``, ``pay``), the
plan folder's CSV files and the resolved scenario stored in ``summary.json``; docs/outputs.md is the
contract. Each check is a small function ``PlanData → list[Finding]``; a failure message names the numbers,
the state/unit/year and the employee ids (at most ``LIMIT`` items per finding). The checks of requirements
and flow caps (``requirements.csv``, ``requirements.caps``) are :mod:`optimizer.verify.requirements`,
shared with the verifier of own-ladder plans; the per-person checks (each action's eligibility, the merit order
inside each cohort) are :mod:`optimizer.verify.people`; where each kind of move may land is
:mod:`optimizer.verify.moves`, for flows and people alike; each state's attrition, restated from the rates and
the flow convention, is :mod:`optimizer.verify.attrition`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd

from optimizer.verify.data import (
    ACTIONS,
    ALL,
    CENT,
    COST_PARTS,
    CRITERIA,
    DISRUPTIVE,
    FROM,
    KINDS,
    LEAVING,
    ROUTES,
    SCORE_DIGITS,
    STATE,
    TO,
    REQUIREMENT_COSTS,
    PlanData,
    load_plan,
)
from optimizer.verify.attrition import ATTRITION_CHECKS
from optimizer.verify.frames import (
    differs,
    exceeds,
    finding_for,
    flow_label,
    flow_totals,
    isin,
    same_or_blank,
    same_state,
    state_label,
    truthy,
)
from optimizer.verify.moves import disabled, landing_grades, max_tier_at, misplaced, unpaid
from optimizer.verify.people import PEOPLE_CHECKS
from optimizer.verify.report import Finding, VerificationReport, fmt, print_report, run_checks
from optimizer.verify.requirements import REQUIREMENT_CHECKS

__all__ = ["Finding", "VerificationReport", "verify_plan", "verify_command"]

# ------------------------------------------------------------------------------------------- public API


def verify_plan(plan_dir: str | Path, data_dir: str | Path, tol: float = 1e-6) -> VerificationReport:
    """Run every check on the plan in ``plan_dir`` against the input tables in ``data_dir``.

    Unreadable or incomplete files fail the ``files`` check and stop there; otherwise every check runs,
    and a check that cannot run on malformed data reports that instead of stopping the others.
    """
    return run_checks(lambda: load_plan(Path(plan_dir), Path(data_dir), tol), CHECKS)


def verify_command(plan_dir: str | Path, data_dir: str | Path) -> int:
    """Print the verification of ``plan_dir``; 0 when every check passes, else 1."""
    return print_report(plan_dir, verify_plan(plan_dir, data_dir))


# ------------------------------------------------------------------------------------------------ helpers


def _reconcile(
    check: str, table: str, expected: pd.DataFrame, reported: pd.DataFrame, keys: list[str],
    where: Callable[[dict[str, Any]], str],
) -> tuple[pd.DataFrame, list[Finding]]:
    """Outer-join recomputed rows with a file's rows on ``keys``: findings for rows the file lists twice,
    lacks or adds, and the matched rows (the file's columns suffixed ``_reported``)."""
    repeated = reported[reported.duplicated(keys)]
    merged = expected.merge(
        reported.drop_duplicates(keys), on=keys, how="outer", suffixes=("", "_reported"), indicator=True
    )
    findings = [
        *finding_for(check, f"rows listed more than once in {table}", repeated, where),
        *finding_for(check, f"rows missing from {table}", merged[merged["_merge"] == "left_only"], where),
        *finding_for(check, f"unexpected rows in {table}", merged[merged["_merge"] == "right_only"], where),
    ]
    return merged[merged["_merge"] == "both"], findings


def _compare_columns(
    check: str, table: str, merged: pd.DataFrame, columns: Iterable[str], where: Callable[[dict[str, Any]], str],
    tol: float, floor: float = 0.0,
) -> list[Finding]:
    """One finding per column whose file value (``<column>_reported``) differs from the recomputed one."""
    findings: list[Finding] = []
    for column in columns:
        bad = merged[differs(merged[f"{column}_reported"], merged[column], tol, floor)]
        findings += finding_for(
            check, f"{table} {column} differs from the recomputed value", bad,
            lambda r: f"{where(r)}: reported {fmt(r[column + '_reported'])}, recomputed {fmt(r[column])}",
        )
    return findings


def _goal_findings(
    p: PlanData, check: str, actual: pd.DataFrame, keys: list[str], values: list[str], floor: float,
    headline: str, describe: Callable[[dict[str, Any]], str],
) -> list[Finding]:
    """Misses (``actual.missed``) are failures unless targets_met is false and goal_deviations.<check> reports
    them with the recomputed ``values``; every reported deviation must match the recomputed one."""
    source = f"goal_deviations.{check}"
    reported = pd.DataFrame(p.summary["goal_deviations"].get(check) or [], columns=[*keys, *values])
    reported = reported.astype({"year": "Int64"})
    if "unit_id" in keys:  # a deviation without a unit is the group's (plans written before unit caps)
        reported["unit_id"] = reported["unit_id"].fillna(ALL).astype("str")
    merged = actual.merge(reported, on=keys, how="outer", suffixes=("", "_reported"), indicator=True)
    wrong = pd.Series(False, index=merged.index)
    for value in values:
        wrong |= differs(merged[f"{value}_reported"], merged[value], p.tol, floor)
    correct = merged["_merge"].eq("both") & ~wrong
    excused = correct & (p.targets_met is False)

    def note(r: dict[str, Any]) -> str:
        if p.targets_met is not False:
            return f"{describe(r)} (summary.json says targets_met: {json.dumps(p.targets_met)})"
        if r["_merge"] == "left_only":
            return f"{describe(r)} (not listed in {source})"
        shown = ", ".join(f"{v} {fmt(r[v + '_reported'])}" for v in values)
        return f"{describe(r)} ({source} reports {shown})"

    def mismatch(r: dict[str, Any]) -> str:
        label = ", ".join(f"{k} {fmt(r[k])}" for k in keys)
        return f"{label}: " + ", ".join(f"{v} {fmt(r[v + '_reported'])} (recomputed {fmt(r[v])})" for v in values)

    listed = ~merged["_merge"].eq("left_only")
    return [
        *finding_for(check, headline, merged[truthy(merged["missed"]) & ~excused], note),
        *finding_for(check, f"{source} entries that do not match the plan", merged[listed & ~correct], mismatch),
    ]


# ------------------------------------------------------------------------------------------------- checks


def _expected_path(p: PlanData) -> tuple[pd.DataFrame, list[str]]:
    """year, unit_id, score, grade for every input unit and year 0..H, restated from the units table and
    ``unit_grading``: year t ≥ 1 is a review of a unit whose last review was year r ≤ 0 (blank: 0) when
    (t − r) is a multiple of review_cycle; at a review the scores become those the review projects (criteria it
    omits, and reviews it does not list, keep the scores held before) and the grade the review's grade or the
    highest band the score reaches; otherwise the grade of the year before holds; year 0's grade is the units
    table's fixed grade where given. Also the reviews of the scenario that are not a review of their unit."""
    grading, inputs = p.scenario.unit_grading, p.units_in
    bands = [(band.name, band.min_score) for band in grading.grades]  # descending min_score

    def band_of(score: float) -> str:
        return next((name for name, low in bands if score >= low - 1e-9), bands[-1][0])

    last = inputs["last_review"] if "last_review" in inputs.columns else pd.Series(0, index=inputs.index)
    fixed = inputs["grade"].str.strip() if "grade" in inputs.columns else pd.Series(pd.NA, index=inputs.index)
    listed = {(r.unit, r.year): r for r in grading.reviews}
    rows, used = [], set()
    for i, unit in enumerate(inputs["unit_id"]):
        held = {c: float(inputs[c].iloc[i]) for c in CRITERIA}
        score = sum(held[c] * getattr(grading.weights, c) for c in CRITERIA)
        given = fixed.iloc[i]
        grade = str(given) if isinstance(given, str) and given else band_of(score)
        r = 0 if pd.isna(last.iloc[i]) else int(last.iloc[i])
        rows.append((0, unit, score, grade))
        for year in range(1, p.horizon + 1):
            if (year - r) % grading.review_cycle == 0:
                review = listed.get((unit, year))
                used.add((unit, year))
                if review is not None and review.scores is not None:
                    held.update({c: v for c, v in review.scores.model_dump().items() if v is not None})
                score = sum(held[c] * getattr(grading.weights, c) for c in CRITERIA)
                grade = review.grade if review is not None and review.grade is not None else band_of(score)
            rows.append((year, unit, score, grade))
    stray = [f"unit {unit} year {year}" for unit, year in listed if (unit, year) not in used]
    return pd.DataFrame(rows, columns=["year", "unit_id", "score", "grade"]).astype({"year": "Int64"}), stray


def check_units(p: PlanData) -> list[Finding]:
    """units.csv lists exactly the input units for every year 0..H with the grade path of :func:`_expected_path`
    (score, grade); pay_coefficient and max_tier are the grade's band's; every review of unit_grading.reviews
    is a review of its unit within the horizon."""
    expected, stray = _expected_path(p)
    bands = pd.DataFrame([(b.name, b.pay_coefficient, b.max_tier) for b in p.scenario.unit_grading.grades],
                         columns=["grade", "pay_coefficient", "max_tier"])
    expected = expected.merge(bands, on="grade", how="left")
    where = lambda r: f"{r['unit_id']} year {fmt(r['year'])}"  # noqa: E731
    matched, findings = _reconcile("units", "units.csv", expected, p.units, ["year", "unit_id"], where)
    wrong_grade = matched[~same_or_blank(matched["grade"], matched["grade_reported"])]
    findings += finding_for("units", "units.csv grade differs from the unit's grade", wrong_grade,
                         lambda r: f"{where(r)}: reported {r['grade_reported']}, expected {r['grade']}")
    findings += _compare_columns("units", "units.csv", matched, ["score"], where, p.tol, SCORE_DIGITS)
    findings += _compare_columns("units", "units.csv", matched, ["pay_coefficient", "max_tier"], where, p.tol)
    findings += finding_for("units", "unit_grading.reviews that are not a review of their unit",
                            pd.DataFrame({"review": stray}), lambda r: r["review"])
    return findings


def check_roster(p: PlanData) -> list[Finding]:
    """Every roster employee has exactly one actions.csv row; every row is year 1; a row's from-state is the
    employee's roster state; the only other rows are hires, with an empty from-state."""
    a, roster = p.actions, p.roster
    hire = a["action"].eq("hire")
    listed_twice = a["employee_id"].duplicated(keep=False)
    repeated = a.loc[listed_twice, "employee_id"].value_counts().rename("rows").reset_index()
    people = a[~hire].drop_duplicates("employee_id")
    known = isin(people["employee_id"], roster["employee_id"])
    compared = people[known].merge(roster, on="employee_id")
    moved = compared[~same_state(compared, "from_", "")]
    from_given = a[list(FROM)].notna().any(axis=1)
    return [
        *finding_for("roster", "roster employees missing from actions.csv",
                  roster[~isin(roster["employee_id"], people["employee_id"])], lambda r: str(r["employee_id"])),
        *finding_for("roster", "employees listed more than once in actions.csv", repeated,
                  lambda r: f"{r['employee_id']} ×{r['rows']}"),
        *finding_for("roster", "actions.csv rows for ids that are not on the roster (and not hires)",
                  people[~known], lambda r: f"{r['employee_id']} ({r['action']})"),
        *finding_for("roster", "actions.csv rows whose year is not 1", a[~truthy(a["year"].eq(1))],
                  lambda r: f"{r['employee_id']}: year {fmt(r['year'])}"),
        *finding_for("roster", "actions.csv from-state differs from the roster state", moved,
                  lambda r: f"{r['employee_id']}: actions.csv {state_label(r, 'from_')}, roster {state_label(r)}"),
        *finding_for("roster", "hire rows with a from-state", a[hire & from_given],
                  lambda r: f"{r['employee_id']}: from {state_label(r, 'from_')}"),
    ]


def check_stock_flow(p: PlanData) -> list[Finding]:
    """headcount(σ,0) = number of roster employees in σ; for t = 1..H,
    headcount(σ,t) = headcount(σ,t−1) − Σ outflows(σ,t) + Σ inflows(σ,t) within tol·max(1, headcount);
    flows leave only states with people at t−1 (attrition also states with arrivals in year t: under
    ``service_dependent`` the arrivals' in-year loss); headcounts are ≥ 0, listed once, for years 0..H."""
    h, tol, keys = p.headcount, p.tol, ["year", *STATE]
    roster = p.roster.groupby(list(STATE), as_index=False).size().rename(columns={"size": "expected"})
    start = roster.merge(p.stock[p.stock["year"].eq(0)].drop(columns="year"), on=list(STATE), how="outer")
    start = start.fillna({"expected": 0.0, "headcount": 0.0})
    previous = p.stock.assign(year=p.stock["year"] + 1).rename(columns={"headcount": "previous"})
    outflow, inflow = flow_totals(p.flows, FROM, "outflow"), flow_totals(p.flows, TO, "inflow")
    balance = p.stock[p.stock["year"] >= 1]
    for part in (previous, outflow, inflow):
        balance = balance.merge(part, on=keys, how="outer")
    balance = balance[balance["year"].between(1, p.horizon)].fillna(
        {"headcount": 0.0, "previous": 0.0, "outflow": 0.0, "inflow": 0.0}
    )
    balance["expected"] = balance["previous"] - balance["outflow"] + balance["inflow"]
    # service_dependent: attrition of a state with arrivals may be the arrivals' in-year loss (docs/requirements.md)
    arrived = inflow[["year", *STATE]].set_axis(["year", *FROM], axis=1).assign(arrived=True)
    lost = p.flows[["year", *FROM]].merge(arrived, how="left")["arrived"].eq(True).to_numpy()
    lost = lost & p.flows["kind"].eq("attrition").to_numpy()
    orphans = flow_totals(p.flows[~lost], FROM, "outflow").merge(previous, on=keys, how="left")
    orphans = orphans[~truthy(orphans["previous"] > tol)]
    unbalanced = balance[differs(balance["headcount"], balance["expected"], tol)]
    return [
        *finding_for("stock_flow", "year-0 headcount differs from the roster count",
                  start[differs(start["headcount"], start["expected"], tol)],
                  lambda r: f"{state_label(r)}: headcount.csv {fmt(r['headcount'])}, roster {fmt(r['expected'])}"),
        *finding_for("stock_flow", "headcount does not balance with the flows", unbalanced,
                  lambda r: f"{state_label(r)} year {r['year']}: headcount {fmt(r['headcount'])}, "
                            f"expected {fmt(r['expected'])} "
                            f"(= {fmt(r['previous'])} − {fmt(r['outflow'])} + {fmt(r['inflow'])})"),
        *finding_for("stock_flow", "flows leave states with no people at the start of the year", orphans,
                  lambda r: f"{state_label(r)} year {r['year']}: {fmt(r['outflow'])} out of {fmt(r['previous'])}"),
        *finding_for("stock_flow", "negative headcounts", h[truthy(h["headcount"] < -tol)],
                  lambda r: f"{state_label(r)} year {r['year']}: {fmt(r['headcount'])}"),
        *finding_for("stock_flow", "states listed more than once in a year of headcount.csv", h[h.duplicated(keys)],
                  lambda r: f"{state_label(r)} year {r['year']}"),
        *finding_for("stock_flow", f"headcount.csv years outside 0..{p.horizon}",
                  h[~truthy(h["year"].between(0, p.horizon))], lambda r: f"{state_label(r)} year {fmt(r['year'])}"),
    ]


def check_flow_rules(p: PlanData) -> list[Finding]:
    """Each flow has a known kind, a year in 1..H, a count > 0, the states its kind needs (attrition and
    redundancy: from only; hire: to only; others: both), on the pay table in a known unit, and lands where
    its kind goes: grade_step (u,s,k,g)→(u,s,k,g+1); tier_promotion (u,s,k,·)→(u,s,k+1,·); sequence_move
    (u,s,k,·)→(u,s',m(k),·) on a mobility route s→s' with its tier mapping m; unit_transfer
    (u,s,k,g)→(u',s,k,g); downgrade (u,s,k,·)→(u,s,k′,·) with 1 ≤ k − k′ ≤ mobility.downgrade.max_tiers_down;
    hire → grade 1 of a hiring.entry_tiers tier. Tier promotions, sequence moves and downgrades land on the pay
    rule's grade of their to-tier: the lowest grade of (to_sequence, to_tier) whose base salary is at least the
    from-state's, else that tier's top grade. Transfers, downgrades, hires and redundancies only when the
    scenario enables them; year-1 counts other than attrition are whole numbers."""
    f, s, tol = p.flows, p.scenario, p.tol
    kind = f["kind"]
    has_from, no_from = f[list(FROM)].notna().all(axis=1), f[list(FROM)].isna().all(axis=1)
    has_to, no_to = f[list(TO)].notna().all(axis=1), f[list(TO)].isna().all(axis=1)
    shaped = (kind.isin(KINDS) & np.where(kind.eq("hire"), no_from, has_from)
              & np.where(kind.isin(LEAVING), no_to, has_to))
    fractional = truthy(f["year"].eq(1)) & ~kind.eq("attrition") & ((f["count"] - f["count"].round()).abs() > tol)
    rules = {
        "flows of an unknown kind": ~kind.isin(KINDS),
        f"flows outside years 1..{p.horizon}": ~truthy(f["year"].between(1, p.horizon)),
        "flows with a count ≤ 0": ~truthy(f["count"] > 0),
        "flows without the states their kind needs (attrition/redundancy: from only, hire: to only, others: both)":
            kind.isin(KINDS) & ~shaped,
        "flows landing where their kind cannot go": shaped & misplaced(p, f, kind),
        "flows of a kind the scenario disables (mobility.unit_transfers, mobility.downgrade.enabled, hiring.enabled, "
        "redundancy.enabled)": disabled(s, kind),
        "flows from or to a state without pay (unknown unit or no base salary)": unpaid(p, f),
        "year-1 flows other than attrition that are not whole numbers": fractional,
    }
    paid = f.assign(landing=landing_grades(p, f, kind))
    return [
        *(finding for headline, bad in rules.items() for finding in finding_for("flow_rules", headline, f[bad], flow_label)),
        *finding_for("flow_rules", "flows not landing on the grade the pay rule gives",
                  paid[truthy(paid["to_grade"].ne(paid["landing"]))],
                  lambda r: f"{flow_label(r)} (the pay rule lands on grade {fmt(r['landing'])})"),
    ]


def check_tier_caps(p: PlanData) -> list[Finding]:
    """No tier promotion, sequence move, unit transfer or hire of year t lands on a technical tier above the
    destination unit's max_tier of year t (units.csv); people already above a lowered cap may stay there."""
    landing = p.flows.assign(max_tier=max_tier_at(p, p.flows, p.flows["kind"]))
    return finding_for("tier_caps", "flows land above the destination unit's max_tier",
                    landing[truthy(landing["to_tier"] > landing["max_tier"])],
                    lambda r: f"{flow_label(r)} (max_tier of {r['to_unit']} in year {fmt(r['year'])} is "
                              f"{fmt(r['max_tier'])})")


def _budget_row(r: dict[str, Any]) -> str:
    return f"{r['unit_id']} year {fmt(r['year'])}"


def check_payroll(p: PlanData) -> list[Finding]:
    """budget.csv equals the recomputation per unit and year and on the ALL rows (Σ of the units):
    payroll = Σ_σ pay(σ)·headcount(σ,t), pay = base_salary × pay_coefficient; red_circled_payroll the part of it
    of the states above a lowered cap paid at a kept coefficient; hiring_cost = Σ hires ×
    hiring.cost.<sequence> (hiring unit); retraining_cost = Σ operations→technical moves × retraining_cost +
    management↔technical moves × move_cost + transfers × transfer_cost + downgrades × downgrade.cost
    (destination unit); redundancy_cost = Σ redundancies × cost_factor × pay(from) (unit left); total = the
    sum of the four. On ALL rows only, overmanning_cost and short_time_cost = Σ over requirements.csv rows of
    the year of overmanning_cost·overmanning and short_time_cost·short_time (outside total and the cap)."""
    stock = p.stock
    matched, findings = _reconcile("payroll", "budget.csv", p.costs, p.budget.drop(columns="cap"),
                                   ["year", "unit_id"], _budget_row)
    findings += _compare_columns("payroll", "budget.csv", matched,
                                 [*COST_PARTS, "table_payroll", "red_circled_payroll", "total", *REQUIREMENT_COSTS], _budget_row, p.tol, CENT)
    findings += finding_for("payroll", "headcount.csv states without pay (unknown unit or no base salary)",
                         stock[p.stock_pay.isna()], lambda r: f"{state_label(r)} year {r['year']}")
    return findings


def check_budget(p: PlanData) -> list[Finding]:
    """cap on the ALL rows of years t ≥ 1 = budget.caps[t] when given, else payroll(0)·(1 + growth)^t; on a unit's
    rows of years t ≥ 1 the units table's budget_cap where given, else payroll(u,0)·(1 + budget.unit_growth)^t when
    unit_growth is set; blank elsewhere. Recomputed total ≤ cap on every capped row, unless targets_met is false
    and goal_deviations.budget reports that year and unit's total, cap and overrun = total − cap."""
    b, tol, keys = p.budget, p.tol, ["year", "unit_id"]
    caps = p.caps.merge(b[[*keys, "cap"]].drop_duplicates(keys), on=keys, how="left", suffixes=("", "_reported"))
    expected = b[[*keys]].merge(p.caps, on=keys, how="left")["cap"].notna().to_numpy()
    totals = p.costs[[*keys, "total"]].merge(p.caps, on=keys)
    totals["overrun"] = totals["total"] - totals["cap"]
    totals["missed"] = exceeds(totals["total"], totals["cap"], tol)
    return [
        *_compare_columns("budget", "budget.csv", caps, ["cap"], _budget_row, tol, CENT),
        *finding_for("budget", "budget.csv cap filled on rows without a cap (only ALL and capped units, years ≥ 1)",
                     b[b["cap"].notna() & ~expected], lambda r: f"{_budget_row(r)}: {fmt(r['cap'])}"),
        *_goal_findings(p, "budget", totals, keys, ["total", "cap", "overrun"], CENT,
                        "total exceeds the budget cap",
                        lambda r: f"{_budget_row(r)}: total {fmt(r['total'])} exceeds cap {fmt(r['cap'])} "
                                  f"by {fmt(r['overrun'])}"),
    ]


def check_pay(p: PlanData) -> list[Finding]:
    """Real payroll, reconciled with the people (the pay rule of :class:`models.pay.PayStructure`): old_salary =
    the roster's salary (pay(from-state, 0) where blank), to the cent; new_salary = pay(to-state, 1) + old_salary −
    pay(from-state, 0) (hire: pay(to-state, 1); redundancy: blank), the table at each year's unit pay coefficient;
    payroll(ALL, 0) = Σ roster salary, to the cent; payroll(u, 1) = Σ new_salary of the year-1 actions landing in u
    − Σ_{σ ∈ u} year-1 attrition(σ) × (pay(σ, 1) + the roster's mean premium in σ, 0 where σ had nobody)."""
    a, tol = p.actions, p.tol
    people = a[~a["action"].eq("hire")]
    salary = people["employee_id"].map(pd.Series(np.asarray(p.roster_salary, dtype=float), index=p.roster["employee_id"]))
    from_pay, to_pay = p.pay_of(a, "from_", 0), p.pay_of(a, "to_", 1)
    rule = np.where(a["action"].eq("hire"), to_pay, to_pay + a["old_salary"] - from_pay)
    wrong_old = people.assign(expected=salary)[differs(people["old_salary"], salary, 0.0, CENT)]
    wrong_new = a.assign(expected=rule)[differs(a["new_salary"], pd.Series(rule, index=a.index), tol, CENT)]
    start = float(p.roster_salary.sum())
    reported_start = p.budget.loc[p.budget["unit_id"].eq(ALL) & p.budget["year"].eq(0), "payroll"].sum()
    landed = a[a["to_unit"].notna()].groupby("to_unit")["new_salary"].sum()
    left = p.flows[p.flows["kind"].eq("attrition") & p.flows["year"].eq(1)]
    left = left[[*FROM, "count"]].set_axis([*STATE, "count"], axis=1).merge(p.state_premium, how="left")
    valued = left["count"] * (p.pay_of(left, year=1) + left["premium"].fillna(0.0))
    year1 = p.budget[p.budget["year"].eq(1) & p.budget["unit_id"].ne(ALL)][["unit_id", "payroll"]]
    year1 = year1.assign(expected=year1["unit_id"].map(landed).fillna(0.0)
                         - year1["unit_id"].map(valued.groupby(left["unit"]).sum()).fillna(0.0))
    salary_of = lambda column: lambda r: f"{r['employee_id']}: {fmt(r[column])}, the pay rule gives {fmt(r['expected'])}"  # noqa: E731
    return [
        *finding_for("pay", "old_salary differs from the roster's salary", wrong_old, salary_of("old_salary")),
        *finding_for("pay", "new_salary differs from the pay rule (pay(to, 1) + old_salary − pay(from, 0))", wrong_new,
                     salary_of("new_salary")),
        *([Finding("pay", f"budget.csv payroll of ALL year 0 is {fmt(reported_start)}, the roster's Σ salary is "
                          f"{fmt(start)}")] if differs(pd.Series([reported_start]), pd.Series([start]), 0.0, CENT).any()
          else []),
        *finding_for("pay", "year-1 payroll does not reconcile with Σ new_salary of actions.csv less expected attrition",
                     year1[differs(year1["payroll"], year1["expected"], tol, CENT)],
                     lambda r: f"{r['unit_id']}: budget.csv {fmt(r['payroll'])}, from the actions {fmt(r['expected'])}"),
    ]


def check_rate_caps(p: PlanData) -> list[Finding]:
    """With n = headcount(unit, sequence, tier, t−1): tier promotions out ≤ tier_rate·n, grade steps ≤
    grade_rate·n, moves on route r ≤ mobility.<r>·n, unit transfers ≤ transfer_rate·n, downgrades ≤
    mobility.downgrade.rate·n, redundancies ≤ redundancy.max_rate·n; hires into sequence s in year t ≤
    hiring.max_rate.s × headcount(s, t−1) of the group. Promotion floors are not checked: they bind on the
    eligible stock, which the files do not show."""
    f, s, tol = p.flows, p.scenario, p.tol
    rules: dict[str, tuple[pd.Series, float]] = {
        "tier promotions": (f["kind"].eq("tier_promotion"), s.promotion.tier_rate),
        "grade steps": (f["kind"].eq("grade_step"), s.promotion.grade_rate),
        **{f"{route.replace('_to_', ' → ')} moves": (p.route.eq(route), getattr(s.mobility, route))
           for route in ROUTES},
        "unit transfers": (f["kind"].eq("unit_transfer"), s.mobility.transfer_rate),
        "downgrades": (f["kind"].eq("downgrade"), s.mobility.downgrade.rate),  # docs/requirements.md
        "redundancies": (f["kind"].eq("redundancy"), s.redundancy.max_rate),
    }
    rule = np.select([truthy(c).to_numpy(bool) for c, _ in rules.values()], list(rules), default="")
    keys = ["year", "from_unit", "from_sequence", "from_tier"]
    outs = f.assign(rule=rule)[rule != ""].groupby(["rule", *keys], as_index=False)["count"].sum()
    outs["rate"] = outs["rule"].map({name: rate for name, (_, rate) in rules.items()}).astype(float)
    stock = p.stock.assign(year=p.stock["year"] + 1)
    start = stock.groupby(["year", "unit", "sequence", "tier"], as_index=False)["headcount"].sum()
    outs = outs.merge(start.set_axis(["year", *keys[1:], "n"], axis=1), on=keys, how="left").fillna({"n": 0.0})
    hires = f[f["kind"].eq("hire")].groupby(["year", "to_sequence"], as_index=False)["count"].sum()
    group = stock.groupby(["year", "sequence"], as_index=False)["headcount"].sum()
    hires = hires.merge(group.set_axis(["year", "to_sequence", "n"], axis=1), on=["year", "to_sequence"], how="left")
    hires = hires.fillna({"n": 0.0}).assign(rate=hires["to_sequence"].map(s.hiring.max_rate.model_dump()).astype(float))
    for frame in (outs, hires):
        frame["limit"] = frame["rate"] * frame["n"]
    cap = lambda r: f"{fmt(r['count'])} > {fmt(r['rate'])} × {fmt(r['n'])} = {fmt(r['limit'])}"  # noqa: E731
    return [
        *finding_for("rate_caps", "flows above their rate cap on the start-of-year stock",
                  outs[exceeds(outs["count"], outs["limit"], tol)],
                  lambda r: f"{r['rule']} out of {r['from_unit']}/{r['from_sequence']}/{fmt(r['from_tier'])} "
                            f"in year {fmt(r['year'])}: {cap(r)}"),
        *finding_for("rate_caps", "hires above hiring.max_rate × the group's start-of-year headcount of the sequence",
                  hires[exceeds(hires["count"], hires["limit"], tol)],
                  lambda r: f"{r['to_sequence']} hires in year {fmt(r['year'])}: {cap(r)}"),
    ]


def check_mix(p: PlanData) -> list[Finding]:
    """mix.csv = the recomputation for every sequence and year 0..H: share = headcount(s,t) / Σ_s headcount(s,t),
    target, lower/upper = target ∓ tolerance from the deadline on (blank before); from the deadline on
    lower − tol ≤ share ≤ upper + tol, unless targets_met is false and goal_deviations.mix reports the miss
    (share, lower, upper, shortfall = distance from the share to the band)."""
    where = lambda r: f"year {fmt(r['year'])} {r['sequence']}"  # noqa: E731
    matched, findings = _reconcile("mix", "mix.csv", p.shares, p.mix, ["year", "sequence"], where)
    columns = ["headcount", "share", "target", "lower", "upper"]
    findings += _compare_columns("mix", "mix.csv", matched, columns, where, p.tol)
    banded = p.shares[p.shares["lower"].notna()].copy()
    below, above = banded["lower"] - banded["share"], banded["share"] - banded["upper"]
    banded["shortfall"] = below.clip(lower=0) + above.clip(lower=0)
    banded["missed"] = banded["shortfall"] > p.tol
    findings += _goal_findings(
        p, "mix", banded, ["year", "sequence"], ["share", "lower", "upper", "shortfall"], 0.0,
        "shares outside the mix band",
        lambda r: f"{where(r)}: share {fmt(r['share'])} {'below' if r['share'] < r['lower'] else 'above'} the band "
                  f"[{fmt(r['lower'])}, {fmt(r['upper'])}] by {fmt(r['shortfall'])}",
    )
    return findings


def check_actions_vs_flows(p: PlanData) -> list[Finding]:
    """Year-1 actions other than stay, counted by (action, from-state, to-state), equal the year-1 flows.csv
    counts by (kind, from-state, to-state) for every kind but attrition; stay rows keep their state (salaries:
    :func:`check_pay`)."""
    a, tol = p.actions, p.tol
    stay = a["action"].eq("stay")
    keys = ["action", *FROM, *TO]
    acted = a[~stay].groupby(keys, as_index=False, dropna=False).size().rename(columns={"size": "actions"})
    decided = p.flows[truthy(p.flows["year"].eq(1)) & ~p.flows["kind"].eq("attrition")]
    flowed = decided.rename(columns={"kind": "action"}).groupby(keys, as_index=False, dropna=False)["count"].sum()
    counts = acted.merge(flowed, on=keys, how="outer").fillna({"actions": 0.0, "count": 0.0})
    move = lambda r: f"{r['action']} {state_label(r, 'from_')} → {state_label(r, 'to_')}"  # noqa: E731
    findings = [
        *finding_for("actions_vs_flows", "actions of an unknown kind", a[~a["action"].isin(ACTIONS)],
                  lambda r: f"{r['employee_id']}: {r['action']}"),
        *finding_for("actions_vs_flows", "stay rows whose to-state differs from the from-state",
                  a[stay & ~same_state(a, "from_", "to_")], lambda r: f"{r['employee_id']}: {move(r)}"),
        *finding_for("actions_vs_flows", "year-1 actions differ from year-1 flows.csv",
                  counts[differs(counts["actions"], counts["count"], tol)],
                  lambda r: f"{move(r)}: {fmt(r['actions'])} action(s), {fmt(r['count'])} in flows.csv"),
    ]
    return findings


GROUP_NAME = "group total"
"""budget.csv ``unit_name`` of the ALL rows."""


def check_names(p: PlanData) -> list[Finding]:
    """Names shown where people look are the input's: units.csv ``name``, budget.csv ``unit_name`` (ALL: "group
    total") and actions.csv ``from_unit_name``/``to_unit_name`` are the units table's name of the unit id (blank
    where the id is blank); actions.csv ``name`` is the roster's name (blank for hires)."""
    given = p.units_in["name"] if "name" in p.units_in else p.units_in["unit_id"]
    unit_name = pd.Series([*given.fillna(""), GROUP_NAME], index=[*p.units_in["unit_id"], ALL], dtype=object)
    names = p.roster["name"].fillna("") if "name" in p.roster else pd.Series("", index=p.roster.index)
    roster_name = pd.Series(names.to_numpy(dtype=object), index=p.roster["employee_id"])
    a = p.actions
    placed = [("units.csv", p.units, "unit_id", "name", unit_name), ("budget.csv", p.budget, "unit_id", "unit_name", unit_name),
              ("actions.csv", a, "from_unit", "from_unit_name", unit_name), ("actions.csv", a, "to_unit", "to_unit_name", unit_name),
              ("actions.csv", a[~a["action"].eq("hire")], "employee_id", "name", roster_name)]
    findings = []
    for table, frame, key, column, names in placed:
        expected = frame[key].map(names).astype("str").fillna("")
        differ = frame[column].fillna("").ne(expected)
        wrong = frame[differ].assign(expected=expected[differ])  # the few rows, not a copy of the whole table
        findings += finding_for("names", f"{table} {column} differs from the input's name of {key}", wrong,
                                lambda r: f"{r[key]}: {r[column]!r}, expected {r['expected']!r}")
    return findings


def check_workload(p: PlanData) -> list[Finding]:
    """Every unit in every year t ≥ 1: headcount ≥ max(min_headcount, workload.headcount × its year-0 headcount),
    headcount ≤ max_headcount, operations headcount ≥ max(min_operations, workload.operations × its year-0
    operations headcount) (units table; blank: none), within tol·max(1, floor)."""
    stock, units, workload = p.stock, p.units_in.set_index("unit_id"), p.scenario.workload
    heads = stock.groupby(["year", "unit"])["headcount"].sum().unstack("unit", fill_value=0.0)
    ops = stock[stock["sequence"].eq("operations")].groupby(["year", "unit"])["headcount"].sum()
    ops = ops.unstack("unit", fill_value=0.0).reindex(index=heads.index, columns=heads.columns, fill_value=0.0)
    column = lambda name: units[name].astype(float) if name in units else pd.Series(np.nan, index=units.index)  # noqa: E731
    rules = (("headcount below the unit's floor", heads, np.fmax(column("min_headcount"), workload.headcount * heads.iloc[0]), 1),
             ("headcount above the unit's max_headcount", heads, column("max_headcount"), -1),
             ("operations headcount below the unit's workload floor", ops,
              np.fmax(column("min_operations"), workload.operations * ops.iloc[0]), 1))
    findings = []
    for headline, actual, bound, sign in rules:
        rows = []
        for unit, limit in bound.dropna().items():
            for year, value in actual.get(unit, pd.Series(0.0, index=actual.index)).items():
                if year >= 1 and sign * (limit - value) > p.tol * max(1.0, abs(limit)):
                    rows.append({"unit": unit, "year": year, "value": value, "limit": limit})
        findings += finding_for("workload", headline, pd.DataFrame(rows, columns=["unit", "year", "value", "limit"]),
                                lambda r: f"{r['unit']} year {fmt(r['year'])}: {fmt(r['value'])} against {fmt(r['limit'])}")
    return findings


WRITTEN_STATUS = {"optimal": (True, 0), "feasible": (True, 0), "target_missed": (False, 3)}
"""status of a written graded plan → (targets_met, exit_code) it goes with (docs/outputs.md, README exit codes)."""


def check_summary(p: PlanData) -> list[Finding]:
    """objective.cost = Σ_{t=1..H} (total + overmanning_cost + short_time_cost)(ALL, t) of budget.csv;
    objective.disruption = Σ flows of tier promotions, sequence moves, unit transfers, downgrades and
    redundancies over the horizon; counts = actions.csv rows per action; targets_met is true exactly when
    goal_deviations lists nothing (and the mix and budget checks recompute those deviations from mix.csv and
    budget.csv); status is one a written plan has and goes with targets_met and exit_code: "optimal" or
    "feasible" ⇔ targets_met true ⇔ exit_code 0, "target_missed" ⇔ targets_met false ⇔ exit_code 3;
    "optimal" only when every solver stage (solver.stages) reports optimal."""
    b, f, summary = p.budget, p.flows, p.summary
    objective = summary["objective"]
    counted = p.actions["action"].value_counts()
    reported_counts = summary["counts"]
    figures = [
        ("objective.cost", objective.get("cost"),
         b.loc[b["unit_id"].eq(ALL) & truthy(b["year"] >= 1), ["total", *REQUIREMENT_COSTS]].sum().sum()),
        ("objective.disruption", objective.get("disruption"), f.loc[f["kind"].isin(DISRUPTIVE), "count"].sum()),
        *((f"counts.{action}", reported_counts.get(action, 0), counted.get(action, 0))
          for action in sorted(set(counted.index) | set(reported_counts))),
    ]
    table = pd.DataFrame(figures, columns=["figure", "reported", "expected"])
    table["reported"] = pd.to_numeric(table["reported"], errors="coerce")
    listed = any(summary["goal_deviations"].get(goal) for goal in ("mix", "budget"))
    met, status, code = summary["targets_met"], summary["status"], summary["exit_code"]
    consistent = (met is True and not listed) or (met is False and listed)
    findings = finding_for("summary", "summary.json figures that do not match the plan files",
                           table[differs(table["reported"], table["expected"], p.tol)],
                           lambda r: f"{r['figure']}: reported {fmt(r['reported'])}, recomputed {fmt(r['expected'])}")
    if not consistent:
        findings.append(Finding("summary", f"targets_met is {json.dumps(met)} but goal_deviations "
                                           f"{'lists missed goals' if listed else 'lists no missed goal'}"))
    shown = f"status {json.dumps(status)}, exit_code {json.dumps(code)}, targets_met {json.dumps(met)}"
    if status not in WRITTEN_STATUS:
        findings.append(Finding("summary", f"{shown}: a written plan's status is one of "
                                           f"{', '.join(map(json.dumps, WRITTEN_STATUS))}"))
    elif (met, code) != WRITTEN_STATUS[status] or type(code) is not int:
        expected_met, expected_code = WRITTEN_STATUS[status]
        findings.append(Finding("summary", f"{shown} do not go together: status {json.dumps(status)} means "
                                           f"targets_met {json.dumps(expected_met)} and exit_code {expected_code}"))
    stages = (summary.get("solver") or {}).get("stages") or []
    unproved = [str(stage.get("term") if isinstance(stage, dict) else stage) for stage in stages
                if not isinstance(stage, dict) or stage.get("status") != "optimal"]
    if status == "optimal" and unproved:
        findings.append(Finding("summary", f'status "optimal" but solver stage(s) {", ".join(unproved)} are not optimal'))
    return findings


CHECKS: dict[str, Callable[[PlanData], list[Finding]]] = {
    "units": check_units,
    "roster": check_roster,
    "stock_flow": check_stock_flow,
    **ATTRITION_CHECKS,
    "flow_rules": check_flow_rules,
    "tier_caps": check_tier_caps,
    "payroll": check_payroll,
    "budget": check_budget,
    "pay": check_pay,
    "names": check_names,
    "workload": check_workload,
    "rate_caps": check_rate_caps,
    **REQUIREMENT_CHECKS,
    "mix": check_mix,
    "actions_vs_flows": check_actions_vs_flows,
    **PEOPLE_CHECKS,
    "summary": check_summary,
}
"""Every check, in the order it runs (after ``files``, the loading itself)."""
