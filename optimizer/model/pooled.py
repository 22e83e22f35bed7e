"""The pooled relaxation: every unit's people in one unit, a bound on the mix miss in a fraction of a second.

The mix band is a group-level target, so a lower bound on the heads outside it needs no unit detail. Pool every
unit into one unit ``*`` whose technical tier cap in each year is the highest any unit has then, and keep of the
graded model only the families that sum over units without loss: the stock balance, the outflow availability,
the rate caps, the group's hiring caps and the mix band. Every plan x of the full model then maps to a plan y of
the pooled one with the same mix miss, y[c] = Σ_u x[(u, c)] for every pooled cohort and flow (a unit transfer
becomes a stay):

- the balance of a pooled cohort is the sum of its units' balances, as the attrition rate a_σ depends on the
  state's sequence and tier only; a transfer lands on the same state and seniority bucket as staying, and with
  π = 1 − a (decide, then attrition) or π = ρ = 1 (start of year) it leaves the stock exactly as staying does;
- Σ_a f ≤ s_c·x (availability) and Σ f ≤ r·n (rate caps) sum over units; the pooled cohort has fewer outflows
  (no transfers); hiring caps and the mix rows are group rows already;
- an arc open in some unit is open in the pooled unit, whose tier cap is the largest;
- the families left out (promotion floors, unit headcount bounds, workload and operations floors, requirements,
  budget, cost, disruption) only remove plans, so dropping them can only lower the optimum, and the mix goal
  (mix miss + budget overrun / mean pay, :func:`optimizer.solvers.staged.stage_terms`) is at least the mix miss.

So min mix miss over the pooled linear program ≤ the full model's mix goal at any plan: a valid lower bound for
the mix stage (:func:`pooled_plan`), whose gap a stage stopped before its own root relaxation can then report
(300k employees: no root bound in the mix stage's share). It is not a bound under ``service_dependent``
wastage, where a transfer loses a·f people that staying keeps: :func:`pooled_plan` gives None there.

Its plan is also a guide: dealt back over the units at its rates (:func:`guided_pushes`), it is what the
constructive start pushes toward (:func:`optimizer.solvers.start.pushed_start`), so a stage stopped before its
root keeps a plan near the pooled optimum (45k employees, unreachable mix, 60 s: the mix stage ends at 26,251
heads off the band, 12.5% above the bound, where pushing the moves toward the band gave 34,003).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace

import numpy as np

from models.pay import PayStructure
from optimizer.model import formulation as f
from optimizer.model.build import build_model
from optimizer.model.cohorts import Cohort
from optimizer.model.data import Index, ModelData, var_name
from optimizer.model.formulation import rate_cap_of
from optimizer.model.kinds import GradedKind
from optimizer.model.network import Arc
from optimizer.solvers.backends import SolveOptions, solve
from optimizer.solvers.linear_model import LinearModel, Push
from optimizer.solvers.staged import fixing_row

POOLED_UNIT = "*"
POOLED_FAMILIES = (f.add_stock_balance, f.add_outflow_availability, f.add_rate_caps, f.add_hiring_caps, f.add_mix_band)
"""The families that sum over units without loss (see the module docstring)."""
SOURCE = "the pooled relaxation (every unit in one)"
PUSH_EPSILON = 1e-9
"""Pooled flows and stocks at most this are taken as 0."""
BOUND_SLACK = (1e-6, 1e-4)
"""(relative, absolute heads) taken off the pooled optimum, so a bound read from a floating-point linear program
never cuts off the true optimum (nor refutes a target met to within ``MET`` of the diagnosis)."""
POOLED_SECONDS = 10.0
"""The most the pooled linear programs may take (0.1 s at 45k employees: their size is set by the states, not by
the units or the headcount)."""


def pooled_pay(data: ModelData) -> PayStructure:
    """The pay structure of one unit ``*`` whose max tier in each year is the largest of any unit then (pay
    coefficient 1: the pooled model has no cost)."""
    pay = data.pay

    def cap(year: int) -> int:
        return max(pay.max_tier_at(unit, year) for unit in data.units)

    changes, last = [], cap(0)
    for year in range(1, data.horizon + 1):
        if cap(year) != last:
            last = cap(year)
            changes.append((year, 1.0, last))
    return PayStructure(pay.base_salary, {POOLED_UNIT: 1.0}, {POOLED_UNIT: cap(0)}, {POOLED_UNIT: tuple(changes)})


def pooled_data(data: ModelData) -> ModelData:
    """``data`` with every unit's cohorts pooled into unit ``*`` (:func:`pooled_pay`) and no unit rows or budget."""
    initial: dict[Cohort, int] = {}
    for c, n in data.initial.items():
        pooled = c._replace(unit=POOLED_UNIT)
        initial[pooled] = initial.get(pooled, 0) + n
    return ModelData(scenario=data.scenario, pay=pooled_pay(data), units=[POOLED_UNIT], initial=initial,
                     kind=replace(GradedKind(), families=POOLED_FAMILIES), mix_margin=data.mix_margin)


@dataclass(frozen=True)
class PooledPlan:
    """The pooled linear program's answer: ``bound`` (its least mix miss, less :data:`BOUND_SLACK`: at most the
    mix goal of every plan of the full model, module docstring) and, when the mix has rows, its
    plan ``values`` over the pooled model's ``index``: the fewest flows (each person on a flow counting one)
    among the plans with the least mix miss, so it holds no action the mix does not ask for."""

    bound: float
    values: np.ndarray | None
    index: Index


def pooled_plan(data: ModelData, options: SolveOptions, guide: bool = True) -> PooledPlan | None:
    """The pooled linear program of ``data`` solved for the least mix miss, then (``guide``) for the fewest flows
    with the mix miss fixed (:class:`PooledPlan`; without ``guide`` its ``values`` are None: the bound alone, as
    a diagnosis probe asks); None when it is not a relaxation (an own ladder, one unit already,
    ``service_dependent`` wastage) or HiGHS does not prove the first optimum within ``options.time_limit`` (at most
    :data:`POOLED_SECONDS`)."""
    if data.kind.name != "graded" or len(data.units) < 2 or data.scenario.flow_convention == "service_dependent":
        return None
    model, index = build_model(pooled_data(data))
    model.integer = [False] * model.n_vars
    goal = model.objective_terms.get("mix", {})
    if not goal:
        return PooledPlan(0.0, None, index)
    lp = replace(options, backend="highs", node_limit=None, on_incumbent=None, stop_above=None, lp_method="simplex",
                 time_limit=min(options.time_limit, POOLED_SECONDS))
    least = solve(model, goal, lp)
    if least.status != "optimal" or least.objective is None:
        return None
    relative, absolute = BOUND_SLACK
    bound = max(0.0, least.objective - relative * abs(least.objective) - absolute)
    if not guide:
        return PooledPlan(bound, None, index)
    model.add_row("pooled_mix_fixed", *fixing_row(goal, least.objective, data.scenario.objective.stage_tolerance))
    fewest = solve(model, {var: 1.0 for var in index.flow.values()}, lp)
    return PooledPlan(bound, fewest.values if fewest.status == "optimal" else least.values, index)


def _pooled(c: Cohort | None) -> Cohort | None:
    return None if c is None else c._replace(unit=POOLED_UNIT)


def follow_pooled(model: LinearModel, data: ModelData, index: Index, plan: PooledPlan | None) -> None:
    """Set ``model``'s pushes (the moves its constructive start makes toward the stage's goal) to ``plan`` dealt
    over the units (:func:`guided_pushes`), where it has any; else leave them as the formulation built them."""
    guided = {} if plan is None else guided_pushes(data, index, plan)
    if guided:
        model.pushes = guided


def guided_pushes(data: ModelData, index: Index, plan: PooledPlan) -> dict[int, Push]:
    """The pooled plan dealt back over the units, as pushes for the constructive start
    (:func:`optimizer.solvers.start.pushed_start`): a flow out of cohort c
    in year t at the pooled plan's rate ȳ_a / Ȳ_c of its pooled cohort, λ·ȳ_a/Ȳ_c·x[c,t−1], grouped by its
    rate-cap row; a hire into unit u at the unit's part of the pooled hires, λ·ȳ_a·x[u,s,t−1]/Ȳ_s (s the hire's
    sequence), grouped by the hiring cap. Unit transfers have no pooled flow and are not pushed. Empty when
    the plan has no values."""
    if plan.values is None:
        return {}
    values, pooled = plan.values, plan.index
    pushes: dict[int, Push] = {}
    for year in range(1, data.horizon + 1):
        held: dict[str, float] = defaultdict(float)
        for c in pooled.network.live[year - 1]:
            held[c.sequence] += values[pooled.stock[(c, year - 1)]]
        members: dict[tuple[str, str], list[int]] = defaultdict(list)
        for c in index.network.live[year - 1]:
            members[(c.unit, c.sequence)].append(index.stock[(c, year - 1)])
        for arc, var in index.flows_of(year):
            pooled_var = pooled.flow.get((Arc(arc.kind, _pooled(arc.source), _pooled(arc.target)), year))
            moved = 0.0 if pooled_var is None else values[pooled_var]
            if moved <= PUSH_EPSILON:
                continue
            if arc.source is None:
                sequence = arc.target.sequence
                if held[sequence] > PUSH_EPSILON:
                    stocks = members[(arc.target.unit, sequence)]
                    pushes[var] = Push(var_name("cap_hires", sequence, f"y{year}"),
                                       {stock: moved / held[sequence] for stock in stocks},
                                       {stock: 1.0 for stock in stocks})
                continue
            source = values[pooled.stock[(_pooled(arc.source), year - 1)]]
            if source > PUSH_EPSILON:
                route, _ = rate_cap_of(arc, data.scenario)
                stock = index.stock[(arc.source, year - 1)]
                pushes[var] = Push(var_name(f"cap_{route}", arc.source.unit, arc.source.sequence, arc.source.tier,
                                            f"y{year}"),
                                   {stock: moved / source}, {stock: data.acting_share(arc.source)})
    return pushes
