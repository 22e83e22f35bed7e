"""Requirement-driven planning: headcount required per category and year, and caps on the flows into them.

A requirement r selects a group of states S_r (one category of ``categories.levels``, or the states of a
unit / sequence / list of tiers) and asks for R[r,t] heads in year t. A flow cap (``requirements.caps``)
selects a group the same way and limits the people that flows of the kinds it lists bring into it.
Slack variables per requirement and year: over[r,t] (overmanning, heads above the requirement) and
short[r,t] (heads on short-time working, each counting as φ = ``requirements.short_time_fraction`` of a
head). Objective terms: overmanning and short-time costs join ``cost``; ``redundancy`` counts redundancies
(a goal of its own).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from models.scenario import Requirement, Scenario, Selection
from optimizer.model.cohorts import Cohort
from optimizer.model.data import Index, ModelData, stock_expr, var_name
from optimizer.model.ladder import category_cohort
from optimizer.model.network import HIRE, REDUNDANCY, TIER_PROMOTION
from optimizer.solvers.linear_model import Expr, LinearModel, add_to


def _selects(selection: Selection, scenario: Scenario, c: Cohort) -> bool:
    """c ∈ S: the category's cohort, or a cohort of the selected unit, sequence and tiers (None: any)."""
    if selection.category is not None:
        return c == category_cohort(scenario.categories, scenario.categories.tier_of(selection.category))
    return (
        selection.unit in (None, c.unit)
        and selection.sequence in (None, c.sequence)
        and (selection.tiers is None or c.tier in selection.tiers)
    )


def add_requirements(model: LinearModel, data: ModelData, index: Index) -> None:
    """For every requirement r and year t it names, with n[r,t] = Σ_{c ∈ S_r} x[c,t]:

    ``exact``:   n[r,t] − over[r,t] − (1−φ)·short[r,t] = R[r,t],  0 ≤ short[r,t] ≤ short_time_max_r,
                 Σ_r over[r,t] ≤ ``overmanning_max`` (when given);
    ``minimum``: n[r,t] ≥ R[r,t] (no slack variables).

    People on short time count φ each, so n heads with s of them on short time provide n − (1−φ)·s.
    ``cost`` += Σ_{r,t} (overmanning_cost_r·over[r,t] + short_time_cost_r·short[r,t]).
    """
    requirements = data.scenario.requirements
    over_by_year: dict[int, Expr] = defaultdict(dict)
    for requirement in requirements.demand:
        for year, required in sorted(requirement.headcount.items()):
            members = [c for c in index.network.live[year] if _selects(requirement, data.scenario, c)]
            expr = stock_expr(index, members, year)
            name = var_name("requirement", requirement.name, f"y{year}")
            if requirements.mode == "minimum":
                model.add_row(name, expr, lo=required)
                continue
            over = model.add_var(var_name("overmanning", requirement.name, f"y{year}"))
            short = model.add_var(var_name("short_time", requirement.name, f"y{year}"), 0.0, requirement.short_time_max)
            add_to(expr, over, -1.0)
            add_to(expr, short, -(1.0 - requirements.short_time_fraction))
            model.add_row(name, expr, required, required)
            model.add_objective("cost", {over: requirement.overmanning_cost, short: requirement.short_time_cost})
            add_to(over_by_year[year], over, 1.0)
    if requirements.overmanning_max is not None:
        for year, expr in sorted(over_by_year.items()):
            model.add_row(var_name("cap_overmanning", f"y{year}"), expr, hi=requirements.overmanning_max)


def add_recruitment_caps(model: LinearModel, data: ModelData, index: Index) -> None:
    """Own ladder: recruits into category i in year t ≤ ``recruit_max`` of i (before first-year wastage)."""
    for year in range(1, data.horizon + 1):
        for arc, var in index.flows_of(year, HIRE):
            level = data.scenario.categories.level(arc.target.tier)
            model.add_row(var_name("cap_recruits", level.name, f"y{year}"), {var: 1.0}, hi=level.recruit_max)


def add_retraining_caps(model: LinearModel, data: ModelData, index: Index) -> None:
    """Own ladder: people retrained out of category i into i+1 in year t (f[i→i+1,t]):

    f[i→i+1,t] ≤ ``retraining.max_per_year`` of i;
    f[i→i+1,t] ≤ ``retraining.max_share_of_destination`` of i · x[i+1,t] (the destination's strength
    after that year's flows, e.g. retrainees ≤ 25% of the skilled).
    """
    for year in range(1, data.horizon + 1):
        for arc, var in index.flows_of(year, TIER_PROMOTION):
            level = data.scenario.categories.level(arc.source.tier)
            limits = level.retraining
            if limits.max_per_year is not None:
                model.add_row(var_name("cap_retraining", level.name, f"y{year}"), {var: 1.0}, hi=limits.max_per_year)
            if limits.max_share_of_destination is not None:
                expr = {var: 1.0}
                add_to(expr, index.stock[(arc.target, year)], -limits.max_share_of_destination)
                model.add_row(var_name("cap_retraining_share", level.name, f"y{year}"), expr, hi=0.0)


def add_flow_caps(model: LinearModel, data: ModelData, index: Index) -> None:
    """For every cap r of ``requirements.caps`` and year t it covers (``years``, default all), with K_r its
    ``kinds`` and F[r,t] = Σ_{a: kind(a) ∈ K_r, τ(a) ∈ S_r} f[a,t] the people those flows bring into S_r
    (counted before in-year wastage; a flow whose source is in S_r too still counts):

    F[r,t] ≤ ``max_per_year`` (e.g. hires into operations of unit u ≤ 40 in year t);
    F[r,t] ≤ ``max_share_of_destination`` · Σ_{c ∈ S_r} x[c,t] (the group's strength after that year's
    flows, e.g. retrainees into technical tiers ≥ 3 of u ≤ 25% of that group at the end of year t).

    A cap that no flow can reach adds no row. Rows ``cap_flows[r,y<t>]`` and ``cap_flows_share[r,y<t>]``.
    """
    for cap in data.scenario.requirements.caps:
        for year in cap.years or range(1, data.horizon + 1):
            flows: Expr = {}
            for arc, var in index.flows_of(year):
                if arc.kind in cap.kinds and arc.target is not None and _selects(cap, data.scenario, arc.target):
                    add_to(flows, var, 1.0)
            if not flows:
                continue
            if cap.max_per_year is not None:
                model.add_row(var_name("cap_flows", cap.name, f"y{year}"), dict(flows), hi=cap.max_per_year)
            if cap.max_share_of_destination is not None:
                members = [c for c in index.network.live[year] if _selects(cap, data.scenario, c)]
                expr = dict(flows)
                for var, coef in stock_expr(index, members, year).items():
                    add_to(expr, var, -cap.max_share_of_destination * coef)
                model.add_row(var_name("cap_flows_share", cap.name, f"y{year}"), expr, hi=0.0)


def add_redundancy_count(model: LinearModel, data: ModelData, index: Index) -> None:
    """``redundancy`` term: Σ_t Σ f[a,t] over redundancy arcs (the goal "minimise redundancies")."""
    model.add_objective("redundancy", {var: 1.0 for (arc, _), var in index.flow.items() if arc.kind == REDUNDANCY})


def requirements_table(model: LinearModel, values: np.ndarray, data: ModelData, index: Index) -> list[dict[str, float | int | str]]:
    """Rows ``requirement, year, required, headcount, overmanning, short_time, cost`` of a solved model."""

    exact = data.scenario.requirements.mode == "exact"

    def value(kind: str, requirement: Requirement, year: int) -> float:
        return float(values[model.var(var_name(kind, requirement.name, f"y{year}"))]) if exact else 0.0

    rows = []
    for requirement in data.scenario.requirements.demand:
        for year, required in sorted(requirement.headcount.items()):
            members = [c for c in index.network.live[year] if _selects(requirement, data.scenario, c)]
            over, short = value("overmanning", requirement, year), value("short_time", requirement, year)
            rows.append({
                "requirement": requirement.name, "year": year, "required": required,
                "headcount": model.evaluate(stock_expr(index, members, year), values),
                "overmanning": over, "short_time": short,
                "cost": requirement.overmanning_cost * over + requirement.short_time_cost * short,
            })
    return rows
