"""The per-employee MILP a user would otherwise write: one binary per employee and allowed action.

It checks the cohort model's central claim (people inside a cohort are interchangeable for every
constraint, so integer cohort flows lose nothing) and is the benchmark baseline. Only a one-year horizon
has a per-person meaning: later years of the cohort model are expected values.

Notation: e an employee in state σ(e) = (unit u, sequence s, tier k, grade g) and cohort c(e) (state,
seniority bucket, qualified flag: :mod:`optimizer.model.cohorts`); A(e) the actions
:func:`optimizer.model.network.arcs_from` allows c(e) in year 1 (the network's eligibility, landing and tier-cap
rules, with the units' tier caps and pay coefficients of year 1, are the definition of what may happen), τ(a) the landing state of action a (none for a redundancy);
a_{s,k} the attrition rate; n_c, n_σ, n[u,s,k], n_s roster counts.

Variables: y[e,a] ∈ {0,1} for a ∈ A(e) (``assign[E0001,tier_promotion,U1,technical,3,1]``,
``assign[E0002,redundancy,out]``); h[σ] ∈ ℤ₊ hires into each entry state; x[σ] ≥ 0 the expected stock of σ
at the end of year 1; mix slacks, the budget overrun and requirement slacks ≥ 0. Objective terms carry the
cohort model's names (``mix``, ``budget_overrun``, ``cost``, ``disruption``, ``redundancy``), so
:func:`optimizer.solvers.staged.solve_model` runs the same lexicographic stages. Scenarios the cohort model solves
without people (an own ladder of ``categories``, the LP of ``solver.integer_year1: false``) are refused, and
so are downgrades (``mobility.downgrade.enabled``), flow caps (``requirements.caps``), first-year wastage
of recruits (``attrition.first_year``), workload floors (``workload``), unit budgets (``budget.unit_growth``) and
salaries off the pay table (a roster ``salary`` whose premium travels with the person): this baseline does not
model them (:func:`unsupported_keys`); it checks the cohort model's flows, eligibility and merit on the table pay.

Built vectorised: employees meet their cohort's actions in one merge and rows are summed per group; the
only loops over employees create the y variables and the one-action rows (one ``LinearModel`` call each).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.scenario import SEQUENCES, Scenario
from optimizer.model.cohorts import COHORT_COLUMNS, Cohort, cohort_counts
from optimizer.model.data import ModelData
from optimizer.solvers.linear_model import INF, Expr, LinearModel, add_to
from optimizer.model.network import (
    GRADE_STEP,
    HIRE,
    REDUNDANCY,
    ROUTES,
    SEQUENCE_MOVE,
    TIER_PROMOTION,
    UNIT_TRANSFER,
    arcs_from,
    hire_arcs,
)
from optimizer.plan.merit import FROM_BOTTOM, position_order
from optimizer.plan.results import STATE, TO_STATE

State = tuple[str, str, int, int]
GROUP = ["unit_id", "sequence", "tier"]
DISRUPTIVE = (TIER_PROMOTION, SEQUENCE_MOVE, UNIT_TRANSFER, REDUNDANCY)
KIND_CAP = {
    GRADE_STEP: "grade_rate", TIER_PROMOTION: "tier_rate", UNIT_TRANSFER: "transfer_rate", REDUNDANCY: "redundancy_rate"
}
"""Rate cap of each kind of action; sequence moves are capped per mobility route."""
OUT = "out"
"""Target label of a redundancy (no landing state)."""


@dataclass(frozen=True)
class RequirementRow:
    """An ``exact`` requirement: heads − over − weight·short = R, weight = 1 − short_time_fraction."""

    row: int
    over: int
    short: int
    over_cost: float
    short_cost: float
    weight: float


@dataclass(frozen=True)
class PerEmployeeIndex:
    """Where the per-employee model keeps what (variable and row positions in its LinearModel)."""

    employees: pd.DataFrame
    """The roster: employee_id, unit_id, sequence, tier, grade, seniority, qualified."""
    candidates: pd.DataFrame
    """One row per y[e,a]: employee_id, cohort columns, kind, to-state, target (``u,s,k,g`` or ``out``), var."""
    hire: dict[State, int]
    stock: dict[State, int]
    balance_row: dict[State, int]
    """Position of x[σ]'s balance row."""
    slack_row: dict[int, int]
    """Mix slack or overrun variable → position of the row it relaxes (coefficient −1, finite upper side)."""
    requirements: list[RequirementRow]
    overmanning_max: float
    merit_links: list[tuple[int, int, int | None]]
    """(z, y, z of the next eligible) of :func:`add_merit`, the last person of each chain first."""
    merit_limits: list[tuple[int, Expr, float]]
    """(full, Σ acted, L_c) per cohort (:func:`add_merit`)."""


def _label(*parts: object) -> str:
    return ",".join(str(p) for p in parts)


def _target_key(frame: pd.DataFrame, kind: str) -> pd.Series:
    """``u,s,k,g`` of each row's landing state, ``out`` for a redundancy (on candidates and on actions)."""
    parts = [frame[column].astype("string") for column in TO_STATE]
    joined = parts[0] + "," + parts[1] + "," + parts[2] + "," + parts[3]
    return joined.where(frame[kind] != REDUNDANCY, OUT).astype(str)


def _retention(data: ModelData, sequence: str, tier: int) -> float:
    """1 − a_{s,k}: the expected share of (sequence, tier) still there at the end of the year."""
    return 1.0 - data.scenario.attrition.rate(sequence, tier)


def _arrival_survival(data: ModelData, sequence: str, tier: int) -> float:
    """π: share of the people arriving in (sequence, tier) during the year still there at its end; 1 under
    ``flow_convention: start_of_year``, the destination's 1 − a_{s,k} under ``service_dependent`` and
    ``decide_then_attrition``."""
    return 1.0 if data.scenario.flow_convention == "start_of_year" else _retention(data, sequence, tier)


def _decide_first(data: ModelData) -> bool:
    """``flow_convention: decide_then_attrition``: everyone may be acted on; attrition follows the decisions."""
    return data.scenario.flow_convention == "decide_then_attrition"


def _acting_share(data: ModelData, sequence: str, tier: int) -> float:
    """s: the share of a cohort of (sequence, tier) the year's actions may take: its expected stayers 1 − a_{s,k},
    or everyone when decisions come first."""
    return 1.0 if _decide_first(data) else _retention(data, sequence, tier)


def _grouped(frame: pd.DataFrame, keys: list[str], coef: str | None = None) -> dict[tuple, Expr]:
    """{group key: Σ coef·var over the group's rows}, coef a column of ``frame`` (1 when None); vectorised:
    one stable sort by group number, then numpy splits (no DataFrame per group)."""
    groups = frame.groupby(keys, sort=True, observed=True)
    codes = groups.ngroup().to_numpy()
    order = np.argsort(codes, kind="stable")
    cuts = np.flatnonzero(np.diff(codes[order])) + 1
    variables = np.split(frame["var"].to_numpy()[order], cuts)
    weights = np.split((frame[coef].to_numpy(dtype=float) if coef else np.ones(len(frame)))[order], cuts)
    labels = [key if isinstance(key, tuple) else (key,) for key in groups.size().index]
    return {key: dict(zip(v.tolist(), w.tolist())) for key, v, w in zip(labels, variables, weights)}


def _state_sum(stock: dict[State, int], weight: Callable[[State], float]) -> Expr:
    """Σ_σ weight(σ)·x[σ] (zero weights left out)."""
    expr: Expr = {}
    for state, var in stock.items():
        add_to(expr, var, weight(state))
    return expr


def _relaxed_row(model: LinearModel, slack_row: dict[int, int], name: str, expr: Expr, hi: float, slack: str) -> int:
    """expr − slack ≤ hi with a new variable slack ≥ 0, recorded in ``slack_row``; returns the slack."""
    var = model.add_var(slack)
    slack_row[var] = len(model.rows)
    model.add_row(name, {**expr, var: -1.0}, hi=hi)
    return var


# ------------------------------------------------------------------------------------------- variables


def add_assignments(model: LinearModel, data: ModelData, roster: pd.DataFrame) -> pd.DataFrame:
    """y[e,a] ∈ {0,1} for every employee e and a ∈ A(e); Σ_a y[e,a] ≤ 1 where |A(e)| ≥ 2.

    Returns the candidates (one row per y) with the action's one-off cost and rate cap name."""
    arcs = pd.DataFrame(
        [
            (*c, number, arc.kind, *(arc.target.state if arc.target else (None,) * 4), arc.route)
            for c in cohort_counts(roster)
            for number, arc in enumerate(arcs_from(c, data.scenario, data.pay, data.units, 1))
        ],
        columns=[*COHORT_COLUMNS, "arc", "kind", *TO_STATE, "route"],
    ).astype({"to_tier": "Int64", "to_grade": "Int64"})
    candidates = roster[["employee_id", *COHORT_COLUMNS]].merge(arcs, on=COHORT_COLUMNS)
    candidates = candidates.sort_values(["employee_id", "arc"], kind="mergesort", ignore_index=True)
    candidates["target"] = _target_key(candidates, "kind")
    who = candidates["employee_id"].astype(str)
    names = "assign[" + who + "," + candidates["kind"] + "," + candidates["target"] + "]"
    first = model.n_vars
    for name in names.tolist():
        model.add_var(name, 0.0, 1.0, integer=True)
    candidates["var"] = np.arange(first, model.n_vars)
    candidates["one_off"] = _one_off(candidates, data)
    candidates["cap"] = candidates["kind"].map(KIND_CAP).fillna(candidates["route"])
    several = candidates[candidates.duplicated("employee_id", keep=False)]
    for (employee,), expr in _grouped(several, ["employee_id"]).items():
        model.add_row(f"one_action[{employee}]", expr, hi=1.0)
    return candidates


def _one_off(candidates: pd.DataFrame, data: ModelData) -> np.ndarray:
    """One-off CNY of each action: retraining (operations → technical) or move cost for a sequence move,
    transfer cost, severance = cost_factor × pay(σ(e), year 1); grade steps and promotions cost pay only."""
    mobility, kind = data.scenario.mobility, candidates["kind"].to_numpy()
    move = np.where(candidates["route"] == "operations_to_technical", mobility.retraining_cost, mobility.move_cost)
    severance = data.scenario.redundancy.cost_factor * data.pay.pay_of(candidates, year=1)
    chosen = [kind == SEQUENCE_MOVE, kind == UNIT_TRANSFER, kind == REDUNDANCY]
    return np.select(chosen, [move, mobility.transfer_cost, severance], 0.0)


def add_hires_and_stock(model: LinearModel, data: ModelData, roster: pd.DataFrame,
                        candidates: pd.DataFrame) -> tuple[dict[State, int], dict[State, int]]:
    """h[σ] ∈ ℤ₊ for every entry state of :func:`optimizer.model.network.hire_arcs`; x[σ] ≥ 0 for every state
    that holds people or that an action or a hire lands on."""
    entries = sorted({arc.target.state for arc in hire_arcs(data.scenario, data.pay, data.units, 1)})
    hire = {σ: model.add_var(f"hire[{_label(*σ)}]", integer=True) for σ in entries}
    landed = candidates.loc[candidates["kind"] != REDUNDANCY, TO_STATE].drop_duplicates()
    held = roster[STATE].drop_duplicates()
    states = {(u, s, int(k), int(g)) for frame in (landed, held) for u, s, k, g in frame.itertuples(index=False)}
    stock = {σ: model.add_var(f"stock[{_label(*σ)},y1]") for σ in sorted(states.union(hire))}
    return hire, stock


# ------------------------------------------------------------------------------------ constraint families


def add_balance(model: LinearModel, data: ModelData, roster: pd.DataFrame, candidates: pd.DataFrame,
                hire: dict[State, int], stock: dict[State, int]) -> dict[State, int]:
    """Expected stock at the end of year 1, for every state σ, with π_σ from :func:`_arrival_survival`:

    x[σ] = (1−a_σ)·n_σ − ρ_σ·Σ_{e∈σ} Σ_a y[e,a] + π_σ·(Σ_{e,a: τ(a)=σ} y[e,a] + h[σ]), ρ_σ = 1 − a_σ when
    decisions come first (the people acted on would otherwise have left at a_σ), else 1. Returns σ → row position.
    """
    leaving = candidates[[*STATE, "var"]].assign(coef=1.0)
    arriving = candidates.loc[candidates["kind"] != REDUNDANCY, [*TO_STATE, "var"]].set_axis([*STATE, "var"], axis=1)
    moves = _grouped(pd.concat([leaving, arriving.assign(coef=-1.0)], ignore_index=True), STATE, "coef")
    headcount = roster.groupby(STATE).size()
    rows: dict[State, int] = {}
    for σ, var in stock.items():
        survival = _arrival_survival(data, σ[1], σ[2])
        spared = _retention(data, σ[1], σ[2]) if _decide_first(data) else 1.0
        expr = {var: 1.0, **{y: coef * spared if coef > 0 else coef * survival for y, coef in moves.get(σ, {}).items()}}
        if σ in hire:
            expr[hire[σ]] = -survival
        retained = float(headcount.get(σ, 0)) * _retention(data, σ[1], σ[2])
        rows[σ] = len(model.rows)
        model.add_row(f"balance[{_label(*σ)},y1]", expr, retained, retained)
    return rows


def add_availability(model: LinearModel, data: ModelData, candidates: pd.DataFrame) -> None:
    """Only stayers move: Σ_{e∈c} Σ_a y[e,a] ≤ s_σ·n_c for every cohort c (s from :func:`_acting_share`). Who
    leaves is known in expectation only, so this stays a cohort-level row in a per-employee model too."""
    for key, expr in _grouped(candidates, COHORT_COLUMNS).items():
        c = Cohort(*key)
        model.add_row(f"available[{c.label()},y1]", expr, hi=data.initial[c] * _acting_share(data, c.sequence, c.tier))


def add_merit(model: LinearModel, data: ModelData, roster: pd.DataFrame,
              candidates: pd.DataFrame) -> tuple[list[tuple[int, int, int | None]], list[tuple[int, Expr, float]]]:
    """Merit across each position σ and action κ (kind, landing state), the cohort model's rule
    (:mod:`optimizer.plan.merit`): with e_1, e_2, … the people of σ eligible for κ in merit order (the
    weakest first for redundancies), acted(e) = Σ_a y[e,a] and L_c = ⌊s_σ·n_c⌋ the cohort limit,

    z[e_i,κ] ≥ y[e_i,κ], z[e_i,κ] ≥ z[e_{i+1},κ] (z: someone at or after e_i takes κ), z ∈ [0,1];
    z[e_{i+1},κ] ≤ acted(e_i) + full[c(e_i)] (nobody eligible stays ahead of a taker unless held back);
    Σ_{e∈c} acted(e) ≥ L_c·full[c], full[c] ∈ {0,1} (held back only when the cohort acts on its limit).
    Returns (z, y, z of the next) per chain link in the order made (the last person first) and (full, Σ acted,
    L_c) per cohort, for :func:`plan_values`."""
    ranked = position_order(roster[["employee_id", *COHORT_COLUMNS, "performance", "years_in_grade"]])
    rank = dict(zip(ranked["employee_id"], ranked["position_rank"]))
    acted = _grouped(candidates, ["employee_id"])
    members = _grouped(candidates, COHORT_COLUMNS)
    full: dict[tuple, int] = {}
    limits: list[tuple[int, Expr, float]] = []
    links: list[tuple[int, int, int | None]] = []
    for key, expr in members.items():
        c = Cohort(*key)
        limit = float(math.floor(data.initial[c] * _acting_share(data, c.sequence, c.tier) + 1e-9))
        full[key] = model.add_var(f"merit_full[{c.label()}]", 0.0, 1.0, integer=True)
        model.add_row(f"merit_limit[{c.label()}]", {**expr, full[key]: -limit}, lo=0.0)
        limits.append((full[key], expr, limit))
    frame = candidates.assign(rank=candidates["employee_id"].map(rank))
    for (*position, kind, target), group in frame.groupby([*STATE, "kind", "target"], sort=True):
        group = group.sort_values("rank", ascending=kind not in FROM_BOTTOM)
        rows = list(group[["employee_id", *COHORT_COLUMNS, "var"]].itertuples(index=False, name=None))
        after = None
        for employee, *cohort, var in reversed(rows):
            z = model.add_var(f"merit_after[{employee},{kind},{target}]", 0.0, 1.0)
            model.add_row(f"merit_take[{employee},{kind},{target}]", {z: 1.0, var: -1.0}, lo=0.0)
            links.append((z, var, after))
            if after is not None:
                model.add_row(f"merit_chain[{employee},{kind},{target}]", {z: 1.0, after: -1.0}, lo=0.0)
                ahead = {after: 1.0, full[tuple(cohort)]: -1.0}
                for y, coef in acted[(employee,)].items():
                    add_to(ahead, y, -coef)
                model.add_row(f"merit_ahead[{employee},{kind},{target}]", ahead, hi=0.0)
            after = z
    return links, limits


def add_rate_caps(model: LinearModel, data: ModelData, roster: pd.DataFrame, candidates: pd.DataFrame) -> None:
    """Σ_{e∈(u,s,k)} Σ_{a capped by κ} y[e,a] ≤ rate_κ·n[u,s,k] for κ = grade steps, tier promotions, each
    mobility route, transfers, redundancies (the start-of-year stock, eligible or not)."""
    scenario = data.scenario
    rates = {
        "grade_rate": scenario.promotion.grade_rate,
        "tier_rate": scenario.promotion.tier_rate,
        "transfer_rate": scenario.mobility.transfer_rate,
        "redundancy_rate": scenario.redundancy.max_rate,
        **{route: getattr(scenario.mobility, route) for route in ROUTES.values()},
    }
    headcount = roster.groupby(GROUP).size()
    for (cap, *group), expr in _grouped(candidates, ["cap", *GROUP]).items():
        model.add_row(f"cap_{cap}[{_label(*group)},y1]", expr, hi=rates[cap] * float(headcount[tuple(group)]))


def add_floors(model: LinearModel, data: ModelData, candidates: pd.DataFrame) -> None:
    """Σ_{e∈(u,s,k)} y[e, tier promotion] ≥ ⌊tier_rate_floor·s_{s,k}·#{e∈(u,s,k) eligible}⌋, and likewise for
    grade steps: whole people, out of the eligible people the actions may take (:func:`_acting_share`)."""
    promotion = data.scenario.promotion
    for kind, rate in ((TIER_PROMOTION, promotion.tier_rate_floor), (GRADE_STEP, promotion.grade_rate_floor)):
        if rate <= 0:
            continue
        for (unit, sequence, tier), expr in _grouped(candidates[candidates["kind"] == kind], GROUP).items():
            eligible = len(expr) * _acting_share(data, sequence, tier)  # one y of this kind per eligible employee
            lower = float(math.floor(rate * eligible + 1e-9))
            model.add_row(f"floor_{kind}[{_label(unit, sequence, tier)},y1]", expr, lo=lower)


def add_hiring_caps(model: LinearModel, data: ModelData, roster: pd.DataFrame, hire: dict[State, int]) -> None:
    """Σ_{σ∈s} h[σ] ≤ hiring.max_rate[s]·n_s for every sequence s with entry states."""
    headcount = roster["sequence"].value_counts()
    for sequence in SEQUENCES:
        hires = {var: 1.0 for σ, var in hire.items() if σ[1] == sequence}
        if hires:
            cap = data.scenario.hiring.max_rate.get(sequence) * float(headcount.get(sequence, 0))
            model.add_row(f"cap_hires[{sequence},y1]", hires, hi=cap)


def add_unit_rows(model: LinearModel, data: ModelData, stock: dict[State, int]) -> None:
    """min_headcount[u] ≤ Σ_{σ∈u} x[σ] ≤ max_headcount[u] where the units table bounds u, and
    Σ_{σ∈(u,operations)} x[σ] ≥ mix.operations_floor·Σ_{σ∈u} x[σ] for every unit when the floor is set."""
    floor = data.scenario.mix.operations_floor
    for unit in data.units:
        lo, hi = data.min_headcount.get(unit, -INF), data.max_headcount.get(unit, INF)
        if lo > -INF or hi < INF:
            members = _state_sum(stock, lambda σ, u=unit: float(σ[0] == u))
            model.add_row(f"unit_headcount[{unit},y1]", members, lo, hi)
        if floor > 0:
            share = _state_sum(stock, lambda σ, u=unit: (σ[0] == u) * ((σ[1] == "operations") - floor))
            model.add_row(f"operations_floor[{unit},y1]", share, lo=0.0)


def add_mix_band(model: LinearModel, data: ModelData, stock: dict[State, int], slack_row: dict[int, int]) -> None:
    """With N = Σ_σ x[σ] and N_s = Σ_{σ∈s} x[σ], for every sequence s:
    N_s − (target_s+tol)·N ≤ over[s] and (target_s−tol)·N − N_s ≤ under[s]; ``mix`` += over + under."""
    mix = data.scenario.mix
    for sequence in SEQUENCES:
        high, low = mix.target.get(sequence) + mix.tolerance, mix.target.get(sequence) - mix.tolerance
        upper = _state_sum(stock, lambda σ, s=sequence, b=high: (σ[1] == s) - b)
        lower = _state_sum(stock, lambda σ, s=sequence, b=low: b - (σ[1] == s))
        over = _relaxed_row(model, slack_row, f"mix_upper[{sequence},y1]", upper, 0.0, f"mix_over[{sequence},y1]")
        under = _relaxed_row(model, slack_row, f"mix_lower[{sequence},y1]", lower, 0.0, f"mix_under[{sequence},y1]")
        model.add_objective("mix", {over: 1.0, under: 1.0})


def add_budget(model: LinearModel, data: ModelData, roster: pd.DataFrame, candidates: pd.DataFrame,
               hire: dict[State, int], stock: dict[State, int], slack_row: dict[int, int]) -> None:
    """spend = Σ_σ pay(σ, year 1)·x[σ] + Σ_{e,a} one_off(e,a)·y[e,a] + Σ_σ hiring.cost[s(σ)]·h[σ];
    spend/P − overrun ≤ cap(1)/P with cap from the roster's payroll and P the mean pay (the row in units
    of P, as the cohort model states it); ``cost`` += spend, ``budget_overrun`` += P·overrun (CNY)."""
    spend = _state_sum(stock, lambda σ: data.pay.pay(*σ, year=1))
    spend.update(zip(candidates["var"].tolist(), candidates["one_off"].tolist()))
    spend.update({var: data.scenario.hiring.cost.get(σ[1]) for σ, var in hire.items()})
    model.add_objective("cost", spend)
    cap = data.scenario.budget_cap(1, float(data.pay.pay_of(roster).sum()))
    unit = data.mean_pay
    scaled = {var: coef / unit for var, coef in spend.items()}
    overrun = _relaxed_row(model, slack_row, "budget[y1]", scaled, cap / unit, "budget_overrun[y1]")
    model.add_objective("budget_overrun", {overrun: unit})


def add_requirements(
    model: LinearModel, data: ModelData, stock: dict[State, int]
) -> tuple[list[RequirementRow], float]:
    """For every requirement r of year 1, with n_r = Σ_{σ ∈ S_r} x[σ] (S_r: the states of its unit,
    sequence and tiers, each ``None`` meaning all) and φ = ``short_time_fraction``:

    ``exact``: n_r − over_r − (1−φ)·short_r = R_r, 0 ≤ short_r ≤ short_time_max_r, Σ_r over_r ≤
    ``overmanning_max`` (when given), ``cost`` += overmanning_cost_r·over_r + short_time_cost_r·short_r;
    ``minimum``: n_r ≥ R_r. Returns the exact rows and the overmanning cap (INF when none).
    """
    requirements = data.scenario.requirements
    cap = INF if requirements.overmanning_max is None else requirements.overmanning_max
    exact: list[RequirementRow] = []
    for r in requirements.demand:
        if 1 not in r.headcount:
            continue
        required = float(r.headcount[1])
        heads = _state_sum(stock, lambda σ, r=r: float(
            r.unit in (None, σ[0]) and r.sequence in (None, σ[1]) and (r.tiers is None or σ[2] in r.tiers)))
        if requirements.mode == "minimum":
            model.add_row(f"requirement[{r.name},y1]", heads, lo=required)
            continue
        over = model.add_var(f"overmanning[{r.name},y1]")
        short = model.add_var(f"short_time[{r.name},y1]", 0.0, r.short_time_max)
        weight = 1.0 - requirements.short_time_fraction
        exact.append(RequirementRow(len(model.rows), over, short, r.overmanning_cost, r.short_time_cost, weight))
        model.add_row(f"requirement[{r.name},y1]", {**heads, over: -1.0, short: -weight}, required, required)
        model.add_objective("cost", {over: r.overmanning_cost, short: r.short_time_cost})
    if exact and cap < INF:
        model.add_row("cap_overmanning[y1]", {row.over: 1.0 for row in exact}, hi=cap)
    return exact, cap


def add_disruption(model: LinearModel, candidates: pd.DataFrame) -> None:
    """``disruption`` = Σ y[e,a] over tier promotions, sequence moves, unit transfers and redundancies;
    ``redundancy`` = Σ y[e, redundancy] (a goal of its own in requirement-driven scenarios)."""
    disruptive = candidates.loc[candidates["kind"].isin(DISRUPTIVE), "var"]
    model.add_objective("disruption", dict.fromkeys(disruptive.tolist(), 1.0))
    redundant = candidates.loc[candidates["kind"] == REDUNDANCY, "var"]
    model.add_objective("redundancy", dict.fromkeys(redundant.tolist(), 1.0))


def unsupported_keys(scenario: Scenario) -> list[str]:
    """Scenario keys in use that the per-employee model does not model (it refuses them)."""
    used = {
        "mobility.downgrade.enabled": scenario.mobility.downgrade.enabled,
        "requirements.caps": bool(scenario.requirements.caps),
        "attrition.first_year": bool(scenario.attrition.first_year),
        "workload.headcount": scenario.workload.headcount > 0,
        "workload.operations": scenario.workload.operations > 0,
        "budget.unit_growth": scenario.budget.unit_growth is not None,
    }
    return [key for key, on in used.items() if on]


def build_per_employee_model(data: ModelData, roster: pd.DataFrame) -> tuple[LinearModel, PerEmployeeIndex]:
    """Build the per-employee MILP for ``data``'s one-year scenario (without solving). ``roster`` is the
    employees table after :func:`optimizer.model.cohorts.assign_cohorts`, as :func:`optimizer.model.kinds.graded_model_data`
    returns it with ``data``."""
    if data.horizon != 1:
        raise ValueError(
            f"the per-employee model needs horizon 1, not {data.horizon}: years after the first are expected "
            "values (fractional attrition compounds), which have no per-person meaning"
        )
    if data.scenario.kind == "ladder":
        raise ValueError("an own ladder (categories.levels) replaces the roster: there are no employees to model")
    if not data.scenario.solver.integer_year1:
        raise ValueError("solver.integer_year1 is false: the cohort model is then an LP in expected heads, "
                         "which no choice of whole people reproduces")
    if unsupported_keys(data.scenario):
        raise ValueError(f"the per-employee model does not model {', '.join(unsupported_keys(data.scenario))}: "
                         "solve with the cohort model")
    if data.premium:
        raise ValueError("the roster's salaries differ from the pay table (premiums, models.pay.PayStructure): "
                         "the per-employee model prices the table only; compare on a roster without salary")
    if cohort_counts(roster) != data.initial:
        raise ValueError("the roster's cohorts do not match data.initial: pass the roster the ModelData came from")
    model = LinearModel(name=f"{data.scenario.name}_per_employee")
    candidates = add_assignments(model, data, roster)
    hire, stock = add_hires_and_stock(model, data, roster, candidates)
    balance_row = add_balance(model, data, roster, candidates, hire, stock)
    add_availability(model, data, candidates)
    links, limits = add_merit(model, data, roster, candidates)
    add_rate_caps(model, data, roster, candidates)
    add_floors(model, data, candidates)
    add_hiring_caps(model, data, roster, hire)
    add_unit_rows(model, data, stock)
    slack_row: dict[int, int] = {}
    add_mix_band(model, data, stock, slack_row)
    add_budget(model, data, roster, candidates, hire, stock, slack_row)
    exact, overmanning_max = add_requirements(model, data, stock)
    add_disruption(model, candidates)
    employees = roster[["employee_id", *STATE, "seniority", "qualified"]].reset_index(drop=True)
    return model, PerEmployeeIndex(employees, candidates, hire, stock, balance_row, slack_row, exact, overmanning_max,
                                   links, limits)


# ------------------------------------------------------------------------------------------ plans


def per_employee_actions(values: np.ndarray, index: PerEmployeeIndex) -> pd.DataFrame:
    """``employee_id, action, to_unit, to_sequence, to_tier, to_grade``: every employee once (``stay`` keeps
    the state, a redundancy has no to-state), then one ``hire`` row per hire, ``HIRE-<unit>-<n>`` numbered
    per unit in state order (as in ``actions.csv``)."""
    chosen = index.candidates[np.round(values[index.candidates["var"].to_numpy()]) == 1]
    if chosen["employee_id"].duplicated().any():
        raise ValueError("an employee has more than one action: the values break the one-action rows")
    actions = index.employees[["employee_id"]].merge(
        chosen[["employee_id", "kind", *TO_STATE]], on="employee_id", how="left", validate="one_to_one"
    )
    stays = actions["kind"].isna().to_numpy()
    for old, new in zip(STATE, TO_STATE):
        actions[new] = actions[new].where(~stays, index.employees[old].to_numpy())
    actions = actions.rename(columns={"kind": "action"}).fillna({"action": "stay"})
    hired = pd.DataFrame([σ for σ, var in index.hire.items() for _ in range(round(values[var]))], columns=TO_STATE)
    if len(hired):
        number = (hired.groupby("to_unit").cumcount() + 1).map("{:04d}".format)
        hired = hired.assign(employee_id="HIRE-" + hired["to_unit"] + "-" + number, action=HIRE)
        actions = pd.concat([actions, hired[actions.columns]], ignore_index=True)
    return actions.astype({"to_tier": "Int64", "to_grade": "Int64"})


def plan_values(model: LinearModel, index: PerEmployeeIndex, actions: pd.DataFrame) -> np.ndarray:
    """The model's variables for a given year-1 plan in the ``actions.csv`` layout (e.g. a disaggregated
    cohort plan): y and h from the actions, the merit indicators z and full at their least
    values, x[σ] from its balance row, each mix slack and the overrun at its
    least value max(0, activity − upper side), requirement slacks at least cost
    (:func:`_least_cost_requirement_slacks`). Raises ValueError for an action the employee may not take."""
    values = np.zeros(model.n_vars)
    taken = actions[~actions["action"].isin(["stay", HIRE])]
    located = taken.assign(target=_target_key(taken, "action")).merge(
        index.candidates[["employee_id", "kind", "target", "var"]],
        left_on=["employee_id", "action", "target"], right_on=["employee_id", "kind", "target"], how="left",
    )
    if located["var"].isna().any():
        bad = located[located["var"].isna()].iloc[0]
        raise ValueError(f"employee {bad['employee_id']} may not take {bad['action']} to {bad['target']}")
    values[located["var"].astype(int).to_numpy()] = 1.0
    for (u, s, k, g), n in actions[actions["action"] == HIRE].groupby(TO_STATE).size().items():
        values[index.hire[(u, s, int(k), int(g))]] = n
    for full, acted, limit in index.merit_limits:
        values[full] = float(model.evaluate(acted, values) >= limit - 1e-9)
    for z, y, after in index.merit_links:  # z = max(y, z of the next), the next made first
        values[z] = max(values[y], 0.0 if after is None else values[after])
    for σ, var in index.stock.items():  # x[σ] has coefficient 1 in its balance row and is still 0 here
        row = model.rows[index.balance_row[σ]]
        values[var] = row.lo - model.evaluate(row.expr, values)
    for var, position in index.slack_row.items():
        row = model.rows[position]
        values[var] = max(0.0, model.evaluate(row.expr, values) - row.hi)
    _least_cost_requirement_slacks(model, index, values)
    return values


def _least_cost_requirement_slacks(model: LinearModel, index: PerEmployeeIndex, values: np.ndarray) -> None:
    """Given the stock, each exact requirement needs over + w·short = e (e = heads − R, w = 1 − φ): the
    least-cost split under Σ over ≤ cap is a fractional knapsack. Start from the least overmanning (short
    time as far as short_time_max allows), then, cheapest saving first, turn short time back into
    overmanning where a head of overmanning costs less than 1/w heads of short time, while the cap allows."""
    for r in index.requirements:
        row = model.rows[r.row]
        excess = model.evaluate(row.expr, values) - row.lo  # over and short are still 0 here
        values[r.short] = min(model.ub[r.short], max(excess, 0.0) / r.weight) if r.weight > 0 else 0.0
        values[r.over] = max(excess - r.weight * values[r.short], 0.0)
    room = index.overmanning_max - sum(values[r.over] for r in index.requirements)
    cheaper = [r for r in index.requirements if r.weight > 0 and r.over_cost < r.short_cost / r.weight]
    for r in sorted(cheaper, key=lambda r: r.over_cost - r.short_cost / r.weight):
        shift = max(min(room, r.weight * values[r.short]), 0.0)
        values[r.over] += shift
        values[r.short] -= shift / r.weight
        room -= shift
