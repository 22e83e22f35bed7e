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
3. else none (the what-if binds in year 1 itself: the reference's year 1 breaks it) — the constructive start.

Each stage then starts from a plan that keeps every year-1 flow; where that plan is within the stage's gap of
its bound, the stage keeps it, and the stability stage finds nothing to change (0, no solve). Where the goals
need another year 1, the stages move off it as far as they must."""

from __future__ import annotations

import numpy as np

from models.scenario import Scenario
from optimizer.plan.merit import fixed_year1
from optimizer.solvers.clock import Clock
from optimizer.solvers.linear_model import LinearModel
from optimizer.solvers.reuse import Reference, reference_start
from optimizer.solvers.staged import Anchor, solve_model

def anchored_start(
    reference: Reference, model: LinearModel, anchor: Anchor, scenario: Scenario, mean_pay: float, clock: Clock,
    stages: int,
) -> tuple[np.ndarray | None, str]:
    """(the start, how it was made) for ``model``'s goals, as the module docstring lists; ``anchor`` holds
    f_ref for every year-1 flow of ``model``, whose rows are all the formulation's (no fixing row yet).
    ``stages``: the solves still to come after this one in ``clock``'s budget (the goals' stages, the stability
    stage), so the re-solve takes one share of what is left among them."""
    held = reference_start(reference, model)
    if held is not None:
        return held, "the reference's plan holds"
    if not anchor or any(model.integer[var] and value != round(value) for var, value in anchor.items()):
        return None, ""
    fixed = fixed_year1(model, len(model.rows), anchor)
    if any(model.integer[var] for var in range(model.n_vars) if var not in anchor):
        return None, ""  # year 1 fixed leaves a MIP: as dear as the goals themselves
    repaired = solve_model(fixed, scenario, mean_pay, clock=clock.keeping(clock.later + stages))
    if repaired.values is None:
        return None, f"the reference's year 1 does not hold here ({repaired.status})"
    return repaired.values, "the reference's year 1 kept, the later years solved again"

