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
the mix stage (:func:`mix_bound`), whose gap a stage stopped before its own root relaxation can then report
(300k employees: no root bound in the mix stage's share). It is not a bound under ``service_dependent`` wastage,
where a transfer loses a·f people that staying keeps: :func:`mix_bound` gives None there.
"""

from __future__ import annotations

from dataclasses import replace

from models.pay import PayStructure
from optimizer.model import formulation as f
from optimizer.model.build import build_model
from optimizer.model.cohorts import Cohort
from optimizer.model.data import ModelData
from optimizer.model.kinds import GradedKind
from optimizer.solvers.backends import SolveOptions, solve

POOLED_UNIT = "*"
POOLED_FAMILIES = (f.add_stock_balance, f.add_outflow_availability, f.add_rate_caps, f.add_hiring_caps, f.add_mix_band)
"""The families that sum over units without loss (see the module docstring)."""
SOURCE = "the pooled relaxation (every unit in one)"
BOUND_SLACK = 1e-6
"""Relative tolerance taken off the pooled optimum, so a bound read from a floating-point LP never cuts off the
true optimum."""


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


def mix_bound(data: ModelData, options: SolveOptions) -> tuple[float, str] | None:
    """(a lower bound on the mix goal of every plan of ``data``'s graded model, :data:`SOURCE`): the optimum of the
    pooled linear program (module docstring), less :data:`BOUND_SLACK`; None when it is not a bound (an own
    ladder, one unit already, ``service_dependent`` wastage) or HiGHS does not prove its optimum within
    ``options.time_limit``."""
    if data.kind.name != "graded" or len(data.units) < 2 or data.scenario.flow_convention == "service_dependent":
        return None
    model, _ = build_model(pooled_data(data))
    model.integer = [False] * model.n_vars
    goal = model.objective_terms.get("mix", {})
    if not goal:
        return 0.0, SOURCE
    result = solve(model, goal, replace(options, backend="highs", node_limit=None, on_incumbent=None,
                                        stop_above=None, lp_method="simplex"))
    if result.status != "optimal" or result.objective is None:
        return None
    return max(0.0, result.objective - BOUND_SLACK * max(1.0, abs(result.objective))), SOURCE
