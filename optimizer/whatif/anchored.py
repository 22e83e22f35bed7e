"""Where a what-if solved against a reference plan starts: as close to the reference as the what-if allows.

A what-if the reference does not settle (:func:`optimizer.solvers.reuse.reuse_solution`) is solved, its goals
first, then the ``stability`` stage (:mod:`optimizer.solvers.staged`) keeps as many year-1 cohort flows at the
reference's values f_ref as the goals allow. That stage is a MIP as large as the model, with a weak bound (20k
demo, ``mobility.operations_to_technical`` 0.10 → 0.08: LP bound 123 against a start of 688 changed flows) and
a root cut loop HiGHS does not interrupt (53–68 s for a 20 s limit, measured). It is cheap only when the goals'
plan already keeps the reference's year 1. So the goals are solved from a start that does:

1. the reference's own plan, where it holds in the what-if's model (a looser limit:
   :func:`optimizer.solvers.reuse.reference_start`);
2. else the reference's year-1 flows fixed and the later years solved again (a linear program: year 1 holds
   the model's only integer variables, so it is as cheap as merit's re-solve), when that is feasible — a what-if
   whose new limit binds from year 2 on (a rate cap the later years can keep, a budget that binds later);
3. else, where the what-if binds in year 1 itself (the reference's year 1 breaks a new cap), the reference's
   year 1 trimmed to it (:func:`trimmed_year1`: whole people taken off the flows of each broken year-1 row) and
   the later years solved again, when that is feasible;
4. else none — the constructive start.

Each stage then starts from a plan that keeps every year-1 flow; where that plan is within the stage's gap of
its bound, the stage keeps it, and the stability stage finds nothing to change (0, no solve). Where the goals
need another year 1, the stages move off it as far as they must."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from models.scenario import Scenario
from optimizer.plan.merit import fixed_year1
from optimizer.solvers.base import Basis
from optimizer.solvers.clock import Clock
from optimizer.solvers.linear_model import LinearModel
from optimizer.solvers.reuse import Reference, reference_start
from optimizer.solvers.stability import Anchor
from optimizer.solvers.staged import solve_model

def anchored_start(
    reference: Reference, model: LinearModel, anchor: Anchor, scenario: Scenario, mean_pay: float, clock: Clock,
    stages: int, deferred: Sequence[str] = (),
) -> tuple[np.ndarray | None, str, dict[str, Basis]]:
    """(the start, how it was made, the bases of its linear program) for ``model``'s goals, as the module
    docstring lists; ``anchor`` holds f_ref for every year-1 flow of ``model``, whose rows are all the
    formulation's (no fixing row yet). ``stages``: the solves still to come after this one in ``clock``'s
    budget (the goals' stages, the stability stage), so the re-solve takes one share of what is left among
    them. The later years' linear program starts from the bases of the reference's own (merit's re-solve,
    ``Reference.merit``): the same shape, year 1 at other values (20k demo, a binding what-if: 4.2 → 0.3 s).
    ``deferred``: the goals the goals' solve leaves to merit's re-solve
    (:func:`optimizer.solvers.staged.left_to_fixed_year1`), which plans the later years for them again: the
    re-solve here leaves them out (20k demo, a binding what-if: the disruption LP, 0.15 s)."""
    held = reference_start(reference, model)
    if held is not None:
        return held, "the reference's plan holds", {}
    if not anchor or any(model.integer[var] and value != round(value) for var, value in anchor.items()):
        return None, "", {}
    if any(model.integer[var] for var in range(model.n_vars) if var not in anchor):
        return None, "", {}  # year 1 fixed leaves a MIP: as dear as the goals themselves
    trimmed = trimmed_year1(model, anchor)
    kept = trimmed == anchor
    if trimmed is None:
        return None, "the reference's year 1 does not hold here (a year-1 row it breaks from below)", {}
    if deferred:
        goals = [goal for goal in scenario.objective.order if goal not in deferred]
        scenario = scenario.model_copy(update={"objective": scenario.objective.model_copy(update={"order": goals})})
    repaired = solve_model(fixed_year1(model, len(model.rows), trimmed), scenario, mean_pay,
                           clock=clock.keeping(clock.later + clock.if_missed + stages),
                           warm=None if reference.merit is None else reference.merit.bases)
    if repaired.values is None:
        return None, f"the reference's year 1 does not hold here ({repaired.status})", {}
    if kept:
        return repaired.values, "the reference's year 1 kept, the later years solved again", repaired.bases
    cut = sum(anchor[var] - trimmed[var] for var in anchor)
    return repaired.values, (f"the reference's year 1 trimmed to the what-if's year-1 rows ({cut:g} fewer on its "
                             "flows), the later years solved again"), repaired.bases


def trimmed_year1(model: LinearModel, anchor: Anchor) -> Anchor | None:
    """The reference's year-1 flows ``anchor`` cut back to the rows year 1 alone decides: each row whose variables
    are all flows of ``anchor`` or fixed (lb = ub) and that the flows break from above is brought within its upper
    bound by taking whole people off its flows with a positive coefficient, the largest flow first (ties by
    variable index); rows are visited in the model's order. ``anchor`` itself when no such row is broken; None
    when one is broken from below or cannot be mended so (the later years' rows are the re-solve's to judge)."""
    values = dict(anchor)
    for row in model.rows:
        if not all(var in values or model.lb[var] == model.ub[var] for var in row.expr):
            continue
        total = sum(coef * values.get(var, model.lb[var]) for var, coef in row.expr.items())
        scale = 1e-6 * max(1.0, abs(row.hi) if math.isfinite(row.hi) else 1.0)
        if total < row.lo - 1e-6 * max(1.0, abs(row.lo)):
            return None
        excess = total - row.hi
        if excess <= scale:
            continue
        givers = sorted((var for var, coef in row.expr.items() if var in values and coef > 0 and values[var] > 0),
                        key=lambda var: (-values[var], var))
        for var in givers:
            cut = min(values[var], float(math.ceil(excess / row.expr[var] - 1e-9)))
            values[var] -= cut
            excess -= cut * row.expr[var]
            if excess <= scale:
                break
        if excess > scale:
            return None
    return values

