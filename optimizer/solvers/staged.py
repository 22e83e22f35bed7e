"""Solve the cohort MILP: lexicographic stages (default) or one weighted objective.

Stage terms, in ``objective.order``:
- ``mix``: target miss = heads outside the mix band + budget overrun / mean pay (CNY → heads), so 0 means
  every target is met; when it cannot be 0 the closest plan is kept and flagged;
- ``cost``: Σ_{t=1..H} payroll(t) + one-off costs(t) (CNY);
- ``disruption``: tier promotions, sequence moves, transfers, downgrades and redundancies (people);
- ``redundancy``: redundancies (people), for requirement-driven scenarios ("minimise redundancy").
Each stage stops at its own gap (``objective.stage_gap``, else ``solver.gap``). After each stage the term is fixed:
term ≤ value + stage_tolerance·max(1, |value|), and the stage's plan is the next stage's MIP start.
Shortcut for a goal that can't be negative and is often 0 (the mix miss, redundancies: :data:`ZERO_FIRST`): fix it at 0 and solve the next stage
at once. If that finds a plan, 0 is proven optimal for the goal and its own stage is skipped; if not (the
target can't be met), the row is dropped and the goal's stage runs as usual, its time including the try. A
goal with a known bound above 0 (the pooled relaxation's, for the mix) is not tried at 0.
This skips the mix stage whenever the targets are attainable, the slowest stage on large groups (its LP is
a pure feasibility problem: dual simplex on a zero objective took 57 s at 100k employees against 5 s for the
cost LP). Goals that count people are solved with the interior-point method for the LPs of the MIP search
(:func:`counts_people`). ``weighted`` mode minimises Σ weight·term once.
``solver.time_limit`` bounds the whole run's solving (:class:`optimizer.solvers.clock.Clock`, handed in by the
pipeline, which keeps shares of it for merit's re-solve and the diagnosis): each stage gets an equal share of
what is left (the shortcut's try two shares, since it solves two stages), so a stage's time that is not used
goes to the ones after it; the shares kept for a diagnosis (``clock.if_missed``) are given back once the mix
stage proves every target met, and a mixed-integer stage whose later goals the caller would re-plan with year 1
fixed may go on into their shares until its solver has a bound (:func:`first_bound_limit`). A stage with no previous plan starts from :func:`optimizer.solvers.start.idle_start` (doing
nothing but what the floors ask for, built by propagation without a solver where it can be), so a stage stopped by its limit still returns a plan whenever that start exists; each stage
records which limit stopped it (``stopped_by``). A mixed-integer stage on a large model whose search goes a
few seconds without a bound has its linear relaxation solved beside it on a spare core
(``SolveOptions.relaxation``): a stage stopped by the clock before its root then reports its gap to that
relaxation's optimum (``bound_source`` :data:`RELAXATION`) rather than to the weak bound HiGHS tells before its root.

Stable re-plans: given an *anchor* (the year-1 flows of a reference plan, f_ref), a stage ``stability``
follows the goals a what-if may ask for (the mix, the cost, redundancies), each fixed as above, and precedes
the ``disruption`` tie-break (:func:`stage_order`): min Σ_a |f[a,1] − f_ref[a]| over the anchored year-1 flows,
linearised per flow by d⁺, d⁻ ≥ 0 and f[a,1] − d⁺ + d⁻ = f_ref[a] (:func:`stability_model`). Year-1 flows
are whole people and name people by merit inside each cohort, so the optimum is the number of people whose
year-1 cohort flow changed against the reference; 0 keeps the reference's year-1 actions person for person.
It counts as one more stage in the shares of ``solver.time_limit``, starts from the plan of the stages before it,
and is skipped (optimal at 0) when that plan keeps every anchored flow. It and the stages after it solve a
copy of the model with the change variables, so the caller's model keeps only its fixing rows. In
``weighted`` mode it follows the one weighted stage.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from functools import partial

import numpy as np

from models.scenario import Scenario
from optimizer.solvers.backends import HighsLpSession, SolveOptions, SolveResult, solve
from optimizer.solvers.base import Basis, StoppedBy
from optimizer.solvers.clock import MET, Clock
from optimizer.solvers.highs_run import tells
from optimizer.solvers.linear_model import INF, Expr, LinearModel, combine
from optimizer.solvers.stability import Anchor, fewest_changes, stability_model, stability_start
from optimizer.solvers.start import idle_start

SOLVED = ("optimal", "feasible")
ZERO_FIRST = ("mix", "redundancy")
"""The goals first tried at 0 (the shortcut): 0 whenever every target is met, or nobody need be made redundant.
The cost is never negative either, but never 0 (a payroll): its try was an infeasible solve every run (4.3 s of
a 60 s budget at 45k employees)."""
RELAXATION = "the linear relaxation, solved beside the search"
"""The ``bound_source`` of a stage measured against its model's linear relaxation (:func:`with_known_bound`,
which it informs and does not prove: the stage keeps its status and ``stopped_by``): 100k group, the cost stage
stopped by the clock before its root told a bound 90% below its plan; its linear relaxation, 3.31298e10 in
15.5 s on the second core, puts the stage's plan within 2.7% of the least payroll (the written plan, after
merit's re-solve of the later years, within 2.12%)."""

@dataclass(frozen=True)
class StageResult:
    term: str
    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    seconds: float
    note: str = ""
    """How a stage ended without a search of its own, or where its bound comes from: a goal that is never
    negative (the mix miss) may be proven at 0 by its constructive start, or by solving the next stage with it
    fixed at 0 (its seconds are then its start's, if built, and the try's count as the next stage's); a bound
    known apart from the solver (the pooled relaxation); a reference's bound carried over."""
    stopped_by: StoppedBy = None
    """Which limit stopped the stage short of proven: ``time_limit``, ``node_limit``, ``gap`` (the stage's
    gap), ``other_limit``; None when the solver finished (optimal, infeasible, ...)."""
    bound_source: str | None = None
    """Where ``bound`` comes from when not from the stage's solver: a bound known apart from it that beats the
    solver's own (:func:`with_known_bound`: the pooled relaxation, or :data:`RELAXATION`); None: the solver's."""

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Solution:
    status: str
    """``optimal`` | ``feasible`` (a stage stopped at its limit with a plan) | ``infeasible`` | ``no_solution``
    | ``unbounded`` | ``error``."""
    values: np.ndarray | None
    stages: list[StageResult]
    terms: dict[str, float]
    """Value of every objective term (mix, budget_overrun, cost, disruption) at the final plan."""
    message: str = ""
    deferred: tuple[str, ...] = ()
    """Goals left to the caller's solve with year 1 fixed (``defer_to_fixed_year1``): their terms are not
    optimised here."""
    cut_short: bool = False
    """A stage was stopped by its time share before the solver had a bound (its root relaxation unfinished), or
    had it only in the shares lent to it, so the goals after it are among ``deferred`` (rule (2) of
    :func:`solve_model`): a large group."""
    bases: dict[str, Basis] = field(default_factory=dict)
    """The optimal basis of the first stage solved as a linear program on HiGHS (:class:`HighsLpSession`;
    the stages after it start hot in the session), by goal: the warm start of that stage in the next solve of
    a linear program of the same shape (``solve_model(warm=…)``), e.g. the later years with year 1 fixed at
    another split. For a mixed-integer solve: that of the later years' linear program it started from (a
    what-if's anchored start), which merit's re-solve of the later years starts from
    (:mod:`optimizer.solvers.steps`)."""


def stage_terms(model: LinearModel, mean_pay: float) -> dict[str, Expr]:
    """The goals as expressions over the model's objective terms (an own ladder has no budget overrun)."""
    terms = model.objective_terms
    overrun = terms.get("budget_overrun", {})
    return {
        "mix": combine((1.0, terms.get("mix", {})), (1.0 / mean_pay if overrun else 0.0, overrun)),
        "cost": terms.get("cost", {}),
        "disruption": terms.get("disruption", {}),
        "redundancy": terms.get("redundancy", {}),
    }


def solver_options(scenario: Scenario) -> SolveOptions:
    s = scenario.solver
    return SolveOptions(backend=s.backend, time_limit=s.time_limit, gap=s.gap, threads=s.threads, seed=s.seed,
                        node_limit=s.node_limit)


def _stage(term: str, result: SolveResult) -> StageResult:
    return StageResult(term, result.status, result.objective, result.bound, result.gap, round(result.seconds, 3),
                       stopped_by=result.stopped_by)


def _finish(model: LinearModel, values: np.ndarray | None, stages: list[StageResult], status: str, message: str) -> Solution:
    terms = {}
    if values is not None:
        terms = {name: model.evaluate(expr, values) for name, expr in model.objective_terms.items()}
    return Solution(status, values, stages, terms, message)


def fixing_row(goal: Expr, achieved: float, tolerance: float) -> tuple[Expr, float, float]:
    """goal ≤ achieved + tolerance·max(1, |achieved|), divided by max(1, |achieved|) so a cost row in CNY
    (≈1e10) is as well scaled as a row in heads: returns (expression, lo, hi) for ``add_row``."""
    scale = max(1.0, abs(achieved))
    return {var: coef / scale for var, coef in goal.items()}, -INF, achieved / scale + tolerance


def solve_model(
    model: LinearModel,
    scenario: Scenario,
    mean_pay: float,
    on_stage: Callable[[StageResult], None] = lambda stage: None,
    on_incumbent: Callable[[str, float, float | None], None] | None = None,
    anchor: Anchor | None = None,
    clock: Clock | None = None,
    start: np.ndarray | None = None,
    proven: list[tuple[str, float, float]] | None = None,
    defer_to_fixed_year1: bool = False,
    warm: dict[str, Basis] | None = None,
    bounds: dict[str, Callable[[], tuple[float, str] | None]] | None = None,
) -> Solution:
    """Solve ``model`` as the scenario's objective says; the model gains one fixing row per finished stage.
    ``on_stage`` hears about every finished stage (status, objective, bound, gap, seconds) as it ends;
    ``on_incumbent`` about every better plan a stage's solver reports (stage term, objective, gap).
    ``anchor`` (a reference plan's year-1 flows): the ``stability`` stage, placed by :func:`stage_order`. ``clock``: the
    run's budget to draw from (default: ``solver.time_limit`` from now, all of it for this solve). ``start``: a
    plan of ``model``, the first stage's start instead of the constructive one, and the plan kept if no stage
    finds one. With an ``anchor`` too, ``start`` keeps the reference's year 1 (:mod:`optimizer.whatif.anchored`),
    and each goal's stage stops at ``objective.stability_gap`` if that is larger than its own gap: a start
    within it of the stage's bound is kept, so the stability stage has nothing to change. ``proven``: (goal,
    achieved value, bound) of the first stages of a reference whose model this one only tightens
    (:func:`optimizer.solvers.reuse.inherited_bounds`); a stage whose plan so far is within its gap of such
    a bound is proven without a solve, its goal fixed at the reference's value when the plan attains it.
    ``defer_to_fixed_year1``: the caller solves the later years again with year 1 fixed (merit's re-solve, a
    linear program), so a mixed-integer model leaves to it, named in ``Solution.deferred``, the stages that
    could only plan the later years here: (1) with an ``anchor``, the ``disruption`` tie-break when last:
    after the stability stage year 1 is the reference's but for the changes the goals force (20k demo, a
    binding what-if: 14 s of a search that its time share stopped before its root bound); (2) every goal
    after a stage its time share stopped before the solver had a bound (its root LP unfinished; a bound below 0,
    which HiGHS can report before its root, counts as none: :func:`optimizer.solvers.highs_run.tells`): the stages
    after it get shares no larger, so they could only return their start, while the linear program with year 1
    fixed plans the later years in seconds (45k group with an unreachable mix: the cost and disruption
    stages spent 16 s so, merit's re-solve then had 4.8 s for a 15.6 s LP and ran over the limit); so too after a
    stage whose first bound came only in the shares lent to it (:func:`bound_after_share`). Without an
    ``anchor``, a stage that rule (2) could cut so may go on into its later goals' shares until its solver has a
    bound, and ends then if past its own share (:func:`first_bound_limit`): stopped before, it would leave those
    goals to the caller anyway.
    ``warm``: ``Solution.bases`` of an earlier solve of a linear program of this shape; a stage with nothing
    hotter to start from (the first LP the session runs) starts from its goal's basis there.
    ``bounds``: by goal, a lower bound known apart from the solver and where it comes from (the mix:
    :func:`optimizer.model.pooled.pooled_plan`), asked for when the goal's stage ends unproven; where it beats the
    solver's bound, the stage reports its gap
    against it, and is proven when that gap is within the stage's (:func:`with_known_bound`). The rules above
    that ask whether the solver had a bound still read the solver's own. A goal with such a bound that may be 0
    (:data:`ZERO_FIRST`, that bound not above 0) builds its stage's constructive start first, and only once
    (:func:`idle_start`, which follows the pooled plan; not for CP-SAT, which stops at a hint, nor for a linear
    program, which keeps the start only where its solve finds no plan): a start at 0 proves the stage without a
    solve and starts the next stage; else the shortcut's try at 0 runs and the stage starts from it (100k group:
    the try at 0, a MIP with no start, failed in 24 s, then the mix stage ended on a start 258.9 heads off the
    band; now the start reaches 0 in 15 s and the cost stage starts from it)."""
    options = solver_options(scenario)
    clock = clock or Clock.starting(options.time_limit)
    goals = stage_terms(model, mean_pay)
    objective = scenario.objective

    keeps_anchor = anchor is not None and start is not None  # the stages start from the reference's year 1

    def stage_options(term: str, goal: Expr, seconds: float) -> SolveOptions:
        gap = objective.stage_gap.get(term, options.gap)
        return replace(
            options,
            time_limit=seconds,
            gap=max(gap, objective.stability_gap) if keeps_anchor and term != "stability" else gap,
            on_incumbent=None if on_incumbent is None else partial(on_incumbent, term),
            lp_method="ipm" if counts_people(goal) else "simplex",
            relaxation=True,  # told where the process may spare a core (highs_run.relax_beside)
        )

    stages: list[StageResult] = []
    deferred: tuple[str, ...] = ()
    cut_short = False
    current = model
    """the model the stages solve: with an ``anchor``, from the stability stage on, its copy with the change
    variables (:func:`stability_model`), which the stages after it solve too"""
    values = start
    status = "optimal"
    if objective.mode == "weighted":
        goals["weighted"] = combine(*((objective.weights.get(term, 0.0), goals[term]) for term in objective.order))
        order = ["weighted", "stability"] if anchor else ["weighted"]
    else:
        order = stage_order(objective.order, anchor is not None)
        if defer_to_fixed_year1:
            deferred = left_to_fixed_year1(order, model, anchor is not None)
            order = order[: len(order) - len(deferred)]
    session = HighsLpSession(model) if options.backend == "highs" and not any(model.integer) else None

    def run(term: str, seconds: float, construct: bool = True, until_bound: float | None = None) -> SolveResult:
        """Solve ``term``'s stage from the previous stage's plan, else (``construct``) from :func:`idle_start`,
        in ``seconds``, or up to ``until_bound`` seconds while its solver has no bound;
        a linear program on HiGHS from the previous stage's basis (:class:`HighsLpSession`), within all the
        clock keeps for this solve rather than ``seconds``: an LP stopped early has no plan at all for the
        stages after it, and the time it does not use flows on to them (100k group: merit's re-solve stopped
        its first LP at its share of the time left and had no plan)."""
        if session is not None:
            options = stage_options(term, goals[term], max(seconds, clock.share(1)))
            if term == order[-1]:  # no stage after it chooses among its optimal vertices: HiGHS's usual one
                options = replace(options, lp_method="simplex")
            result = session.solve(goals[term], options, (warm or {}).get(term))
            if not bases and result.status == "optimal":  # the stages after the first start hot in the session
                bases[term] = session.basis()
            start = idle_start(current, options, goals[term]) if result.values is None and values is None \
                and construct else None  # the plan a cold stage would have started from (and kept): only when the LP found none
            if start is None:
                return result
            return replace(result, status="feasible", values=start, objective=current.evaluate(goals[term], start),
                           gap=None, message=f"{result.message}; the constructive start kept")
        options = replace(stage_options(term, goals[term], seconds), first_bound_limit=until_bound)
        return kept_anchored(term, _solve_stage(current, goals[term], options, values, construct, clock.left()))

    bases: dict[str, Basis] = {}
    keeping = start if keeps_anchor else None
    """the start keeping the reference's year 1, while every stage so far has kept it"""
    built = len(model.rows)  # the rows after these are the stages' fixing rows (and the shortcut's try at 0)

    def kept_anchored(term: str, result: SolveResult) -> SolveResult:
        """``result``, or the start keeping the reference's year 1 when it is within ``objective.stability_gap``
        of the stage's bound (decided here, not by where the solver's search went); a stage that moves off it
        ends the keeping."""
        nonlocal keeping
        if keeping is None or result.values is None:
            return result
        achieved, bound = current.evaluate(goals[term], keeping), result.bound
        outside = bound is None or achieved > bound + objective.stability_gap * max(1.0, abs(achieved))
        if result.values is not keeping and (outside or current.row_violations(keeping, rows=current.rows[built:])):
            keeping = None
            return result
        gap = None if bound is None else (achieved - bound) / max(1.0, abs(achieved))
        return replace(result, values=keeping, objective=achieved, gap=gap)

    inherited = [] if proven is None else list(proven)
    """the reference's stages still to carry over, in order (cleared once a stage is solved instead)"""

    def inherited_stage(term: str, achieved: float, bound: float) -> tuple[StageResult, float] | None:
        """The stage ``term`` proven by the reference's bound, when the current plan is within the stage's gap
        of it, with the value to fix the goal at: the reference's ``achieved`` value when the plan is as good
        (so the next stage's bound carries over too), else the plan's own (and nothing more carries over)."""
        mine = current.evaluate(goals[term], values)
        gap = max(mine - bound, 0.0) / max(1.0, abs(mine))
        if gap > stage_options(term, goals[term], 1.0).gap:
            return None
        proven_gap = gap <= objective.stage_gap.get(term, options.gap)
        stage = StageResult(term, "optimal" if proven_gap else "feasible", mine, bound, gap, 0.0,
                            "within its gap of the reference's bound: this what-if only tightens that model",
                            stopped_by=None if proven_gap else "gap")
        if mine <= achieved + objective.stage_tolerance * max(1.0, abs(achieved)):
            return stage, achieved
        inherited.clear()
        return stage, mine

    position = 0
    while position < len(order):
        if clock.if_missed and any(stage.term == "mix" and stage.status == "optimal" and stage.objective is not None
                                   and stage.objective <= MET for stage in stages):
            clock = clock.met()  # every target met: no diagnosis follows, its shares go to the stages
        term = order[position]
        following = order[position + 1] if position + 1 < len(order) else None
        left = len(order) - position
        result, probe_seconds, recorded, start_built = None, 0.0, None, False
        if inherited and inherited[0][0] != term:
            inherited.clear()  # the reference's stages are carried over as a prefix of this order only
        if term == "stability":
            current, goals[term] = stability_model(model, anchor)
            values = stability_start(values, anchor)
            keeping = None if keeping is None else stability_start(keeping, anchor)
            session = HighsLpSession(current) if session is not None else None
            changed = current.evaluate(goals[term], values)
            if changed <= 1e-6:  # every anchored flow kept: 0 is the optimum
                result = SolveResult("optimal", values, 0.0, 0.0, 0.0, 0.0, options.backend, "")
                recorded = StageResult(term, "optimal", 0.0, 0.0, 0.0, 0.0,
                                       "the goals' plan keeps every year-1 flow of the reference")
            elif changed <= fewest_changes(model, anchor) + 1e-6:
                result = SolveResult("optimal", values, changed, changed, 0.0, 0.0, options.backend, "")
                recorded = StageResult(term, "optimal", changed, changed, 0.0, 0.0,
                                       "no plan changes fewer: the year-1 rows the reference breaks need as many")
        elif inherited and values is not None:
            proof = inherited_stage(*inherited.pop(0))
            if proof is not None:
                stage, fixed_at = proof
                stages.append(stage)
                on_stage(stage)
                status = status if stage.status == "optimal" else "feasible"
                current.add_row(f"stage_fix[{term}]", *fixing_row(goals[term], fixed_at, objective.stage_tolerance))
                position += 1
                continue
            inherited.clear()
        elif following not in (None, "stability") and term in ZERO_FIRST and _never_negative(current, goals[term]) \
                and not _known_above_zero(bounds, term):
            start_built = values is None and bounds is not None and term in bounds and options.backend != "cpsat" \
                and session is None  # the start first: it may reach 0 (built once, kept by the stage if not)
            constructed = values
            if start_built:
                began = time.perf_counter()
                constructed = idle_start(current, stage_options(term, goals[term], max(clock.left(), 0.01)),
                                         goals[term])
                probe_seconds = time.perf_counter() - began
                met = None if constructed is None else current.evaluate(goals[term], constructed)
                if met is not None and met <= objective.stage_tolerance:
                    result = SolveResult("optimal", constructed, met, 0.0, 0.0, probe_seconds, options.backend, "")
                    recorded = StageResult(term, "optimal", met, 0.0, 0.0, round(probe_seconds, 3),
                                           "0 reached by the constructive start")
            if result is None:
                result, seconds = _next_stage_at_zero(current, term, goals[term], objective.stage_tolerance,
                                                      lambda: run(following, 2 * clock.share(left), False))
                started, probe_seconds = probe_seconds, probe_seconds + seconds
                values = constructed  # the try at 0 had no start; the goal's own stage starts from it
                if result is not None:  # the stage's seconds: its start's (the try's count as the next stage's)
                    met = current.evaluate(goals[term], result.values)
                    stages.append(StageResult(term, "optimal", met, 0.0, 0.0, round(started, 3),
                                              f"0 reached by the {following} stage"))
                    on_stage(stages[-1])
                    position, term = position + 1, following
        share = None
        if result is None:
            share = clock.share(left)
            result = run(term, share, not start_built,
                         first_bound_limit(order[position:], clock, model, defer_to_fixed_year1 and anchor is None))
            result = replace(result, seconds=result.seconds + probe_seconds)
        past_the_limit = result.values is None and values is None and result.status == "no_solution" \
            and any(current.integer) and options.backend != "cpsat"  # a linear program's stages have their fallback
        if past_the_limit:
            result = _started_past_the_limit(current, goals[term], stage_options(term, goals[term], RESCUE_SECONDS),
                                             result)
        stage = recorded or _stage(term, result)
        if past_the_limit and result.values is not None:
            stage = replace(stage, note=result.message)
        if recorded is None and result.relaxation is not None and stage.status == "feasible":
            stage = with_known_bound(stage, (result.relaxation, RELAXATION),
                                     stage_options(term, goals[term], 1.0).gap, proves=False)
        if bounds and term in bounds and stage.status == "feasible":
            stage = with_known_bound(stage, bounds[term](), stage_options(term, goals[term], 1.0).gap)
        stages.append(stage)
        on_stage(stage)
        if result.values is None:
            if values is None:
                return _finish(model, None, stages, result.status, result.message)
            return _finish(model, values[: model.n_vars], stages, "feasible",
                           f"stage {term}: {result.status}; {result.message}")
        values = result.values
        if stage.status != "optimal":
            status = "feasible"
        achieved = current.evaluate(goals[term], values)
        current.add_row(f"stage_fix[{term}]", *fixing_row(goals[term], achieved, objective.stage_tolerance))
        position += 1
        if defer_to_fixed_year1 and any(model.integer) and (
                (result.stopped_by == "time_limit" and not tells(result.bound)) or bound_after_share(result, share)):
            later = [goal for goal in order[position:] if goal != "stability"]
            deferred += tuple(goal for goal in later if goal not in deferred)
            order = order[:position] + [goal for goal in order[position:] if goal == "stability"]
            cut_short = True
    return replace(_finish(model, values[: model.n_vars], stages, status, ""), deferred=deferred, bases=bases,
                   cut_short=cut_short)


def bound_after_share(result: SolveResult, share: float | None) -> bool:
    """The stage's solver had its first bound only after the stage's own ``share`` of the clock, in the shares
    lent to it (:func:`first_bound_limit`): the goals after it get shares no larger, on the same rows and its
    fixing row, so rule (2) of :func:`solve_model` leaves them to the caller too (100k group, 90 s: the cost
    stage's root at 27 s of a 20.5 s share; the disruption stage then ran its 18.7 s share without reaching its
    root, and its plan was the cost stage's)."""
    return share is not None and result.first_bound is not None and result.first_bound > share


def first_bound_limit(order: list[str], clock: Clock, model: LinearModel, deferring: bool) -> float | None:
    """How long the stage ``order[0]`` may go on while its solver has no bound (``SolveOptions.first_bound_limit``):
    its share and those of the goals after it, when ``deferring`` (rule (2) of :func:`solve_model`, no anchor) and
    the model is a MIP. Stopped before it has a bound, such a stage leaves those goals to merit's linear program,
    so their shares would go unused; the shares kept for the solves after this one (``clock.later``) are not
    lent, nor those of a diagnosis that follows if a target is missed (``clock.if_missed``: the time would be
    the diagnosis'; 45k group with an unreachable mix, the mix stage lent 17 s without reaching its root, the
    diagnosis then had 24 s instead of 43). Measured at 100k employees: the cost stage's root relaxation, whose
    rounding is within 0.004% of the bound (2% below the start), needs 24–35 s; with 60 s its share is 13 s
    and 26 s with its tie-break's, with 90 s 20 s and 34 s (the root reached: 673 M CNY less). None: its share
    only."""
    goals = [goal for goal in order[1:] if goal != "stability"]
    if not (deferring and goals and any(model.integer)) or clock.if_missed:
        return None
    return (1 + len(goals)) * clock.share(len(order))


def with_known_bound(stage: StageResult, known: tuple[float, str] | None, gap: float,
                     proves: bool = True) -> StageResult:
    """``stage`` measured against ``known`` = (a valid lower bound on its goal found apart from its solver, where
    it comes from) when that bound beats the solver's own: gap = (objective − bound) / max(1, |objective|), the
    source named in the stage's note (in place of an earlier bound's), and, with ``proves``, the stage proven (``optimal``, no ``stopped_by``) when
    the gap is within ``gap``. Without it the stage keeps its status and what stopped it: a bound whose arrival
    depends on the machine's load (:data:`RELAXATION`) tells, and decides nothing."""
    if known is None or stage.objective is None or (stage.bound is not None and stage.bound >= known[0]):
        return stage
    bound, source = known
    achieved = max(stage.objective - bound, 0.0) / max(1.0, abs(stage.objective))
    kept = [part for part in stage.note.split("; ") if part and not part.startswith("bound: ")]  # one source
    note = "; ".join([*kept, f"bound: {source}"])
    if proves and achieved <= gap:
        return replace(stage, status="optimal", bound=bound, gap=achieved, note=note, stopped_by=None,
                       bound_source=source)
    return replace(stage, bound=bound, gap=achieved, note=note, bound_source=source)


def left_to_fixed_year1(order: list[str], model: LinearModel, anchored: bool) -> tuple[str, ...]:
    """The trailing stages of ``order`` that a solve of ``model`` with ``defer_to_fixed_year1`` leaves to the
    caller's solve with year 1 fixed before it starts (rule (1) of :func:`solve_model`): the ``disruption``
    tie-break when last, the model a MIP and ``anchored`` (a reference plan's year 1 to keep)."""
    return ("disruption",) if anchored and order and order[-1] == "disruption" and any(model.integer) else ()


def stage_order(goals: list[str], anchored: bool) -> list[str]:
    """The stages in order: the goals of ``objective.order``; with an anchor (a reference plan), ``stability``
    right after the last goal a what-if can ask for (the targets, the cost, the redundancies: every goal but
    the ``disruption`` tie-break), so a what-if keeps the reference's people unless the targets, caps or costs
    force a change, and a disruption stage after it moves the fewest people within that."""
    order = list(goals)
    if anchored:
        asked = [position for position, goal in enumerate(order) if goal != "disruption"]
        order.insert(asked[-1] + 1 if asked else 0, "stability")
    return order


def _solve_stage(
    model: LinearModel, goal: Expr, options: SolveOptions, start: np.ndarray | None, construct: bool,
    start_seconds: float,
) -> SolveResult:
    """One stage in ``options.time_limit`` seconds, the search of a start included: ``start`` (the previous
    stage's plan), else with ``construct`` the :func:`idle_start`, whose search may take up to
    ``start_seconds`` (all the run has left: a plan comes before the stage's search, which gets what is left
    of its share, if anything; 300k unreachable group: the restricted start's linear program took 9.7 s of a
    7 s share, and the run ended with no plan). The shortcut's try at 0 has no constructive start: doing little misses the
    targets it asks for. Nor has CP-SAT: hinted with it, its grid model stopped at the hint (30-employee
    baseline: mix miss 8.1, against 0.2 without). A run stopped by a limit with no plan of its own (a linear
    program, such as the merit re-solve, has none before it is optimal) keeps its start, which holds."""
    began = time.perf_counter()
    if start is None and construct and options.backend != "cpsat":
        start = idle_start(model, replace(options, time_limit=max(start_seconds, options.time_limit)), goal)
    spent = time.perf_counter() - began
    result = solve(model, goal, options.spent(spent), start=start)
    if result.values is None and start is not None and result.stopped_by is not None:
        # A linear program (the merit re-solve) stopped by its limit has no incumbent, the start stands.
        result = replace(result, status="feasible", values=start, objective=model.evaluate(goal, start),
                         message=f"the start kept: {result.message}")
    return replace(result, seconds=result.seconds + spent,
                   first_bound=None if result.first_bound is None else result.first_bound + spent)


RESCUE_SECONDS = 60.0
"""What a run whose limit left it no plan at all gives its constructive start after the limit (below)."""


def _started_past_the_limit(model: LinearModel, goal: Expr, options: SolveOptions, result: SolveResult) -> SolveResult:
    """``result`` (a stage that found no plan before the run's limit, and none before it) with the constructive
    start (:func:`idle_start`, doing what the rules ask, within ``options.time_limit``) as its plan, built after
    the limit: no plan is a claim that the hard rules conflict (exit 4), which a clock does not show, and that
    plan exists whenever they do not (a 500-employee group at ``solver.time_limit`` 0.01, a 100k group at 12:
    "no feasible plan" before). The limit is exceeded only so (the stages after it get no time), and the
    stage's note says by how much. ``result`` as it was when there is no such plan either. Only for a MIP's
    stages: a linear program's (merit's re-solve with year 1 fixed) keep their start in :func:`solve_model`'s
    ``run``, and merit falls back on the solved plan's own split."""
    began = time.perf_counter()
    start = idle_start(model, options, goal)
    spent = time.perf_counter() - began
    if start is None:
        return replace(result, seconds=result.seconds + spent)
    return replace(result, status="feasible", values=start, objective=model.evaluate(goal, start), gap=None,
                   seconds=result.seconds + spent,
                   message=f"no plan within the time limit; the constructive start, built {spent:.1f} s past it")


def _next_stage_at_zero(
    model: LinearModel, term: str, goal: Expr, tolerance: float, solve_next: Callable[[], SolveResult]
) -> tuple[SolveResult | None, float]:
    """Fix ``goal`` at 0 (its fixing row) and solve the next stage. With a plan: (that stage's result, 0),
    the row stays and 0 is the goal's proven optimum. Without: the row is removed again, and the result is
    (None, seconds spent), which the goal's own stage adds to its time."""
    model.add_row(f"stage_fix[{term}]", *fixing_row(goal, 0.0, tolerance))
    result = solve_next()
    if result.values is not None:
        return result, 0.0
    model.rows.pop()
    return None, result.seconds


def _known_above_zero(bounds: dict[str, Callable[[], tuple[float, str] | None]] | None, term: str) -> bool:
    """A bound known apart from the solver (``solve_model(bounds=…)``) proves ``term`` cannot be 0: the shortcut's
    try at 0 would be an infeasible solve (45k group with an unreachable mix: 7 s of its share)."""
    known = bounds[term]() if bounds and term in bounds else None
    return known is not None and known[0] > 0


def counts_people(goal: Expr) -> bool:
    """Every coefficient 1 (the mix miss in heads, disruption, redundancies): such a goal has huge sets of
    equally good LP vertices, where dual simplex crawls and the interior-point method does not. Measured
    on the baseline (HiGHS 1.16, one thread): the disruption stage's LP at 10k employees took 33 s by dual
    simplex and 6.5 s by IPM with crossover; the whole disruption stage at 100k 40 s against 26 s; the cost
    LP (pay coefficients) is faster by simplex (stage 19 s against 23 s)."""
    return bool(goal) and all(abs(coef - 1.0) <= 1e-12 for coef in goal.values())


def _never_negative(model: LinearModel, goal: Expr) -> bool:
    """goal ≥ 0 at every point: non-negative coefficients on non-negative variables (the mix miss)."""
    return bool(goal) and all(coef >= 0 and model.lb[var] >= 0 for var, coef in goal.items())
