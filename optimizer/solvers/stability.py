"""The ``stability`` stage of a what-if with a reference plan (:mod:`optimizer.solvers.staged` places it):
its model, its start, and a lower bound that often proves the start without a solve.

Given the year-1 flows f_ref of a reference plan (the *anchor*), the stage minimises Σ_a |f[a,1] − f_ref[a]|
over the anchored flows, linearised per flow by d⁺, d⁻ ≥ 0 and f[a,1] − d⁺ + d⁻ = f_ref[a]. Year-1 flows are
whole people and name people by merit inside each cohort, so the optimum is the number of people whose
year-1 cohort flow changed against the reference.
"""

from __future__ import annotations

import math

import numpy as np

from optimizer.solvers.linear_model import Expr, LinearModel

Anchor = dict[int, float]
"""Year-1 flow variable → its value f_ref in a reference plan (:func:`optimizer.solvers.reuse.reference_flows`)."""


def stability_model(model: LinearModel, anchor: Anchor) -> tuple[LinearModel, Expr]:
    """A copy of ``model`` (rows, fixing rows included) with, for every anchored flow f of reference value
    f_ref, the variables d⁺ = ``change_up[<f>]``, d⁻ = ``change_down[<f>]`` ≥ 0 and the row ``change[<f>]``:
    f − d⁺ + d⁻ = f_ref; and the goal Σ (d⁺ + d⁻), which equals Σ |f − f_ref| at its minimum. d⁺, d⁻ are
    integer where f is (year-1 flows in MILP mode), so the solver knows the goal is whole and stops at a
    plan within 1 of its bound (20k demo: 43 s at a gap of 39% for continuous d, one person changed)."""
    stable, goal = model.copy(), {}
    for var, value in anchor.items():
        name = model.var_names[var]
        whole = model.integer[var]
        up = stable.add_var(f"change_up[{name}]", integer=whole)
        down = stable.add_var(f"change_down[{name}]", integer=whole)
        stable.add_row(f"change[{name}]", {var: 1.0, up: -1.0, down: 1.0}, value, value)
        goal[up] = goal[down] = 1.0
    return stable, goal


def stability_start(values: np.ndarray, anchor: Anchor) -> np.ndarray:
    """``values`` extended by d⁺ = max(f − f_ref, 0), d⁻ = max(f_ref − f, 0) per anchored flow, in the order
    :func:`stability_model` adds them: a plan of the stability model with the same flows."""
    change = values[list(anchor)] - np.fromiter(anchor.values(), dtype=float, count=len(anchor))
    return np.concatenate((values, np.column_stack((np.maximum(change, 0.0), np.maximum(-change, 0.0))).ravel()))


def fewest_changes(model: LinearModel, anchor: Anchor) -> int:
    """A lower bound on the stability goal over every plan of ``model``: the rows the reference's year 1 breaks
    and year 1 alone decides (every variable anchored and whole, or fixed) each need whole changes,
    Σ_a |Δ_a| ≥ ⌈e / max_a |c_a|⌉ for a row broken by e with coefficients c_a on its anchored flows; rows with
    no anchored flow in common add up (taken greedily, the largest need first). A what-if that tightens one
    year-1 cap the reference breaks by 0.04 person has a bound of 1: when its start changes that many, the
    start is optimal without a solve (the solver needs its search to lift an LP bound of 0.04 over 1)."""
    needs = []
    for row in model.rows:
        flows = [var for var in row.expr if var in anchor]
        if not flows or any(not model.integer[var] for var in flows) or any(
                var not in anchor and model.lb[var] != model.ub[var] for var in row.expr):
            continue
        total = sum(coef * anchor.get(var, model.lb[var]) for var, coef in row.expr.items())
        excess = max(row.lo - total if row.lo > -math.inf else 0.0, total - row.hi if row.hi < math.inf else 0.0)
        if excess <= 1e-6 * max(1.0, abs(total)):
            continue
        largest = max(abs(row.expr[var]) for var in flows)
        needs.append((math.ceil(excess / largest - 1e-9), row.name, flows))
    used: set[int] = set()
    bound = 0
    for need, _, flows in sorted(needs, key=lambda item: (-item[0], item[1])):
        if used.isdisjoint(flows):
            used.update(flows)
            bound += need
    return bound
