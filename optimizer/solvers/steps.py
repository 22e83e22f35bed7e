"""The solve and merit steps of a run (:mod:`optimizer.pipeline`'s chain), with their progress lines: a
reference plan taken without a solve or anchoring the solve (:mod:`optimizer.solvers.reuse`,
:mod:`optimizer.whatif.anchored`), the staged solve (:mod:`optimizer.solvers.staged`), then merit across each
position (:mod:`optimizer.plan.merit`) and, where merit's year-1 split differs from the model's, the later years
solved again with year 1 fixed at it."""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from models.scenario import Scenario
from optimizer.model.cohorts import Cohort
from optimizer.model.data import Index, ModelData
from optimizer.model.network import HIRE, Arc
from optimizer.model.pooled import SOURCE, follow_pooled, pooled_plan
from optimizer.plan.merit import MeritRule, availability, fixed_year1, holds, merit_flows, with_year1, within_positions
from optimizer.solvers.base import Progress, Timer
from optimizer.solvers.clock import Clock
from optimizer.solvers.linear_model import LinearModel
from optimizer.solvers.reuse import Reference, inherited_bounds, reference_flows, reuse_solution
from optimizer.solvers.staged import (
    Solution,
    StageResult,
    left_to_fixed_year1,
    solve_model,
    solver_options,
    stage_order,
)
from optimizer.whatif.anchored import anchored_start


@dataclass
class IncumbentReporter:
    """Progress lines for better plans found inside a stage, at most one a second (the last always shows
    in the stage's own line when it ends)."""

    progress: Progress
    every: float = 1.0
    _last: float = -math.inf

    def __call__(self, term: str, objective: float, gap: float | None) -> None:
        now = time.perf_counter()
        if now - self._last < self.every:
            return
        self._last = now
        shown = "" if gap is None else f", gap {gap:.4%}"
        self.progress(f"  stage {term}: incumbent {objective:,.6g}{shown}")


def describe_stage(stage: StageResult) -> str:
    """One progress line per finished solver stage: status, objective, gap, seconds."""
    objective = "none" if stage.objective is None else f"{stage.objective:,.6g}"
    gap = "" if stage.gap is None else f", gap {stage.gap:.4%}"
    note = f" ({stage.note})" if stage.note else ""
    return f"  stage {stage.term}: {stage.status}, objective {objective}{gap}, {stage.seconds:.1f} s{note}"


def solver_summary(scenario: Scenario, solution: Solution) -> dict[str, Any]:
    return {
        "mode": "milp" if scenario.solver.integer_year1 else "lp",
        "backend": scenario.solver.backend,
        "time_limit": scenario.solver.time_limit,
        "gap": scenario.solver.gap,
        "stages": [stage.to_dict() for stage in solution.stages],
        "deferred": list(solution.deferred),
        "message": solution.message,
    }


def solve_step(
    model: LinearModel, scenario: Scenario, data: ModelData, timer: Timer, summary: dict[str, Any],
    reference: Reference | None = None, year1_flows: list[int] | None = None, clock: Clock | None = None,
    defer_to_fixed_year1: bool = False, index: Index | None = None,
) -> Solution:
    """Solve with a progress line per stage; the solver's account goes into ``summary["solver"]``. With a
    ``reference`` whose plan is proven for this model too (:func:`optimizer.solvers.reuse.reuse_solution`), that plan
    is taken without solving; ``summary["solver"]["reuse"]`` says whether it was, and why not. A reference
    that is not reused anchors the solve: its ``stability`` stage keeps the ``year1_flows`` as close to
    the reference's as the goals allow (:func:`optimizer.solvers.reuse.reference_flows`), and the goals start
    from a plan keeping the reference's year 1 where one exists (:mod:`optimizer.whatif.anchored`);
    ``summary["solver"]["reuse"]["start"]`` says which. ``clock``: the run's
    budget (:mod:`optimizer.solvers.clock`; default ``solver.time_limit`` for this solve alone).
    ``defer_to_fixed_year1``: stages that could only plan the later years are left to :func:`merit_step`
    (:func:`optimizer.solvers.staged.solve_model`). The pooled relaxation (:mod:`optimizer.model.pooled`, every
    unit in one: a linear program of the states alone) is solved first when there is no reference: a mix stage
    that ends unproven (stopped before its root relaxation on a large group) reports its gap against its bound
    where that is the better one, and, given the model's ``index``, its plan dealt over the units is what the
    constructive start pushes toward (:func:`optimizer.model.pooled.guided_pushes`, in place of the moves
    toward the band)."""
    clock = clock or Clock.starting(scenario.solver.time_limit)
    with timer.phase("solve"):
        solution, why_not, anchor, start, started, proven, bases = None, "", None, None, "", None, {}
        if reference is not None:
            solution, why_not = reuse_solution(reference, model, scenario, data.mean_pay)
            outcome = "its plan holds, no solve" if solution else f"solving, since {why_not}"
            timer.progress(f"  reference {reference.label}: {outcome}")
        if reference is not None and solution is None:
            anchor = reference_flows(reference, model, year1_flows or [])
            deferred = left_to_fixed_year1(stage_order(scenario.objective.order, True), model, True) \
                if defer_to_fixed_year1 and scenario.objective.mode == "lexicographic" else ()
            start, started, bases = anchored_start(reference, model, anchor, scenario, data.mean_pay, clock,
                                                   len(scenario.objective.order) + 1, deferred)
            if started:
                said = f"the goals start from a plan where {started}" if start is not None else started
                timer.progress(f"  reference {reference.label}: {said}")
            if start is not None:
                proven = inherited_bounds(reference, model, scenario, data.mean_pay)
        if solution is None:
            pooled = pooled_plan(data, solver_options(scenario)) if reference is None else None
            if index is not None:
                follow_pooled(model, data, index, pooled)
            solution = solve_model(
                model,
                scenario,
                data.mean_pay,
                on_stage=lambda stage: timer.progress(describe_stage(stage)),
                on_incumbent=IncumbentReporter(timer.progress),
                anchor=anchor,
                clock=clock,
                start=start,
                proven=proven,
                defer_to_fixed_year1=defer_to_fixed_year1,
                bounds={} if pooled is None else {"mix": lambda: (pooled.bound, SOURCE)},
            )
            if reference is not None and not solution.bases:  # merit's re-solve starts from the later years' bases
                solution = replace(solution, bases=bases or ({} if reference.merit is None else reference.merit.bases))
    summary["solver"] = solver_summary(scenario, solution)
    if reference is not None:
        summary["solver"]["reuse"] = {"reference": reference.label, "reused": not why_not, "reason": why_not,
                                      "start": started}
    return solution


def merit_step(
    model: LinearModel, built_rows: int, scenario: Scenario, data: ModelData, index: Index, roster: pd.DataFrame,
    solution: Solution, timer: Timer, summary: dict[str, Any], reused: Reference | None = None,
    clock: Clock | None = None,
) -> tuple[Solution, MeritRule, dict[Arc, int]]:
    """Merit across each position (:mod:`optimizer.plan.merit`): the solved year-1 counts per position and
    action are dealt over the cohorts by merit; where that split differs from the model's, the model is solved
    again with year 1 fixed at it (the merit split and the hires: an LP), so later years follow the people
    merit names, unless the solved later years still fit the merit split (:func:`optimizer.plan.merit.with_year1`:
    then they are kept, with every goal as solved). ``reused``: the reference whose solution this is (taken
    without a solve, :mod:`optimizer.solvers.reuse`); its own merit plan is taken too when it has the same year
    1 and holds here (the what-if only tightens the model with year 1 fixed, so that plan stays optimal), and
    where its re-solve found no plan (``Reference.merit_starved``) it is not tried again: the plan is kept as
    the reference kept it (100k group: a reused what-if took 87 s, retrying the re-solve). On
    HiGHS each stage of the re-solve starts from the last one's basis
    (:class:`optimizer.solvers.backends.HighsLpSession`), and the first from ``solution.bases`` (a what-if's
    anchored start: the same linear program with year 1 at the reference's values; 20k demo 5.0 → 0.2 s). The
    solved model without merit is a relaxation of the model with it, so the goals can only get worse; ``summary["merit"]`` records by how much (``cost_of_merit``, the goals after minus before).
    Returns the solution, the rule and the year-1 flows that name people. LP mode (``solver.integer_year1:
    false``) names the whole part of each expected flow, dealt by merit, and keeps its expected later years.
    The re-solve draws from the run's ``clock`` (:mod:`optimizer.solvers.clock`): ``solver.time_limit`` bounds
    the wait. When it finds no plan in what is left, or only its start missing the targets
    (:func:`resolve_starved`; ``merit.starved``), the plan keeps the model's later years where they fit the
    merit split, else the model's own year-1 split, every cohort held to it (``merit.unsolved``); goals left
    to the re-solve (below) are then unplanned, and the solution ``feasible``, not ``optimal``. A solution
    with deferred goals (``Solution.deferred``) is always solved again with year 1 fixed, merit's split or its
    own, so the later years get them; ``cost_of_merit`` leaves the deferred goals out. When a stage was stopped
    before its root relaxation (``Solution.cut_short``: a large group), the later years
    are solved within the solved plan's flows per position (:func:`optimizer.plan.merit.within_positions`,
    ``merit.within_positions``): the whole linear program found no plan in its time at 300k employees."""
    rule = MeritRule.of(index.network.arcs[1], availability(data.initial, data.acting_share))
    whole = scenario.solver.integer_year1
    flows = {arc: int(round(solution.values[var])) if whole else int(solution.values[var] + 1e-9)
             for arc, var in index.flows_of(1)}
    with timer.phase("merit"):
        year1 = {arc: n for arc, n in flows.items() if arc.kind != HIRE and n > 0}
        dealt = merit_flows(roster, year1, index.network.arcs[1], rule.limit)
        named = {**dealt, **{arc: n for arc, n in flows.items() if arc.kind == HIRE and n > 0}}
        changed = dealt != year1 and whole
        kept = with_year1(model, built_rows, solution.values, data, index, named) if changed else solution.values
    moved = sum(max(dealt.get(a, 0) - year1.get(a, 0), 0) for a in dealt)
    record: dict[str, Any] = {"resolved": False, "people_moved": moved, "exceptions": 0}
    summary["merit"] = record
    if not changed and not solution.deferred:
        return solution, rule, named

    def keeping_later_years() -> tuple[Solution, MeritRule, dict[Arc, int]]:
        terms = {term: model.evaluate(expr, kept) for term, expr in model.objective_terms.items()}
        record["cost_of_merit"] = {goal: terms[goal] - solution.terms[goal] for goal in sorted(solution.terms)
                                   if goal in terms and goal not in solution.deferred}
        return replace(solution, values=kept, terms={**solution.terms, **terms}), rule, named

    if kept is not None and not solution.deferred:
        return keeping_later_years()
    fixed = fixed_year1(model, built_rows, {var: named.get(arc, 0) for arc, var in index.flows_of(1)})
    earlier = None if reused is None else reused.merit
    if earlier is not None and holds(fixed, built_rows, earlier.values):
        terms = {term: model.evaluate(expr, earlier.values) for term, expr in model.objective_terms.items()}
        again = replace(earlier, terms=terms)
        timer.progress("  merit: the reference's plan holds, no second solve")
    elif reused is not None and reused.merit_starved:  # the same solve, which found nothing in a limit like this
        record["starved"] = True
        timer.progress("  merit: the reference's solve with year 1 fixed found no plan in its limit; its plan kept")
    else:
        if solution.cut_short:
            fixed = within_positions(fixed, solution.values, index, data.horizon)
            record["within_positions"] = True
            timer.progress("  merit: the later years re-solved within the solved plan's flows per position")
        with timer.phase("merit re-solve"):
            again = solve_model(fixed, scenario, data.mean_pay,
                                on_stage=lambda stage: timer.progress(describe_stage(stage)), clock=clock,
                                warm=solution.bases)
        if resolve_starved(again, solution):
            record["starved"] = True
    if record.get("starved"):  # a plan all the same: the model's own, which keeps every rule
        if solution.deferred:  # the goals left to the re-solve were not planned: no longer proven optimal
            solution = replace(solution, status="feasible")
        if kept is not None:
            timer.progress("  merit: no plan with year 1 fixed within solver.time_limit; the solved later years kept")
            return keeping_later_years()
        record["unsolved"] = True
        timer.progress("  merit: no plan with year 1 fixed within solver.time_limit; the model's own year-1 split "
                       "kept, not dealt by merit across its cohorts")
        own = {arc: n for arc, n in flows.items() if n > 0}
        acted: dict[Cohort, int] = defaultdict(int)
        for arc, n in own.items():
            if arc.kind != HIRE:
                acted[arc.source] += n
        # each cohort is held to what the model's split gives it: who that passes over counts as an exception
        return solution, MeritRule(rule.eligible, {c: acted.get(c, 0) for c in rule.limit}), own
    goals = sorted((set(solution.terms) & set(again.terms)) - set(solution.deferred))
    record.update(resolved=True, stages=[stage.to_dict() for stage in again.stages],
                  cost_of_merit={goal: again.terms[goal] - solution.terms[goal] for goal in goals})
    status = again.status if solution.status == "optimal" else solution.status  # proven only if both stages are
    return replace(again, status=status), rule, named


def resolve_starved(again: Solution, solution: Solution) -> bool:
    """Merit's re-solve (``again``) ended without a plan worth keeping: none at all, or one stopped by its
    time limit that misses the targets by more than half a person beyond what the model's plan (``solution``)
    missed. That plan is the re-solve's constructive start, not a solve's answer (20k demo, a what-if whose
    stability stage overran: the re-solve had under 2 s, and its start missed the mix by 4,241 people where the
    model met it), so the model's own plan is kept instead."""
    if again.values is None:
        return True
    stopped = any(stage.stopped_by == "time_limit" for stage in again.stages)
    return stopped and again.terms.get("mix", 0.0) > solution.terms.get("mix", 0.0) + 0.5
