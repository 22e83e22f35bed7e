"""A plan to start a stage from: doing nothing but what the hard rules ask for.

Two ways to it, the first tried first:

- :func:`constructive_start` builds it directly, with no solver: the variables their bounds fix at their
  value, the other idle variables at 0, the variables with a start rule (the promotions a floor asks for, the
  hires that fill a unit's workload floor) by their rule (raised to the variable's lower bound), everything else
  by *propagation*: a row with
  one unknown variable left fixes it (an equality) or bounds it (an inequality; the value nearest 0 within the
  bounds is taken, so a slack is as small as the row allows). Rows are swept until nothing more is learnt;
  where every row left has two unknowns or more (a softened row's two slacks), the first such row's unknowns
  but one are set nearest 0 and the sweep goes on. The point is then checked against every row and every
  integer variable; it is kept only when it holds. Linear in the model's non-zeros per sweep, a few sweeps per
  year of the horizon: well under a second at a million employees, where the restricted solve below took
  minutes.
- :func:`idle_start` solves the model with its idle variables fixed at 0 (HiGHS) for any plan at all, for
  models whose rules the construction cannot meet by rule (e.g. a unit minimum that needs hires, or hiring
  caps that the year-by-year hires of a workload floor break): first as a linear program with the year-1
  decisions (the whole variables) at their built values, then, failing that, as the MIP.

Given the stage's goal, the constructed plan is then *pushed* toward it (:func:`pushed_start`): the formulation
names the flows that move people toward the mix (``LinearModel.pushes``: sequence moves out of a sequence above
its band into one below it, each up to its share of its route's rate cap), and the start sets them all at one
fraction λ of that share, the best λ its search finds by the goal. Doing nothing is where a large
model's stage ends when its time runs out before its root relaxation (100k employees, 60 s: the plan was the
do-nothing start, 24,320 people off the mix in year 3); pushed, 9,902. With the pooled plan to follow
(:func:`optimizer.model.pooled.guided_pushes`) the pushes are fitted to the rows they break, and
:func:`mended_start` plans the later years of the pushed plan again for the goal: 0 at 100k.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import replace

import numpy as np

from optimizer.solvers.backends import SolveOptions, solve
from optimizer.solvers.linear_model import Expr, LinearModel, RowMatrix, row_arrays, row_sums

_TOLERANCE = 1e-7


def constructive_start(model: LinearModel) -> np.ndarray | None:
    """The plan that does only what the rules ask (see the module docstring), or None when propagation
    leaves a variable undetermined or the point breaks a row or an integrality."""
    values = _constructed(model)
    return values if values is not None and _holds(model, values) else None


def _constructed(model: LinearModel, push: float = 0.0, scale: dict[int, float] | None = None,
                 matrix: RowMatrix | None = None) -> np.ndarray | None:
    """The point the rules and propagation build (unchecked), or None when a variable stays undetermined; with
    ``push`` = λ > 0, each of the model's pushes set by the rule var = λ·σ_var·expr (σ = ``scale``, default 1:
    :func:`_fitted_scale`), whole ones in whole people by group (:func:`whole_pushes`). ``matrix``: the model's
    rows as arrays, when the caller holds them (built here otherwise)."""
    scale = scale or {}
    lb, ub = np.asarray(model.lb, dtype=float), np.asarray(model.ub, dtype=float)
    values = np.full(model.n_vars, np.nan)
    fixed = lb == ub
    values[fixed] = lb[fixed]
    values[_free_idle(model)] = 0.0
    rules = dict(model.start_rules)
    if push > 0:
        pushed = [var for var in model.pushes if not fixed[var] and var not in model.start_rules]
        whole = whole_pushes(model, values, pushed, push, scale)
        values[list(whole)] = list(whole.values())
        continuous = [var for var in pushed if not model.integer[var]]
        values[continuous] = np.nan  # set by their rule once the stocks they act on are known
        rules.update({var: (0.0, {v: push * scale.get(var, 1.0) * coef for v, coef in model.pushes[var].expr.items()})
                      for var in continuous})
    matrix = matrix or RowMatrix.of(model.rows)
    columns, coefficients, lo, hi = matrix.columns, matrix.coefficients, matrix.lo, matrix.hi
    row_of = np.repeat(np.arange(len(lo)), np.diff(matrix.starts))
    equality = lo == hi
    settled_by_equality = np.zeros(model.n_vars, dtype=bool)
    settled_by_equality[columns[equality[row_of]]] = True
    pending = _Rules({var: rule for var, rule in rules.items() if not fixed[var]})  # a fixed value stands
    while True:
        learnt = pending.apply(values, lb)
        learnt |= _propagate(values, lb, ub, row_of, columns, coefficients, lo, hi, settled_by_equality)
        if learnt:
            continue
        if not np.isnan(values).any():
            break
        if not _guess_one_row(values, lb, ub, row_of, columns):
            return None
    return values


class _Rules:
    """Start rules var = max(lb, constant + Σ coef·var′) as arrays (one CSR row per rule), each applied once every
    variable it reads is known."""

    def __init__(self, rules: dict[int, tuple[float, Expr]]):
        self.vars = np.fromiter(rules, dtype=np.int64, count=len(rules))
        self.constants = np.fromiter((constant for constant, _ in rules.values()), dtype=float, count=len(rules))
        self.starts, self.columns, self.coefficients = row_arrays([expr for _, expr in rules.values()])
        self.open = np.ones(len(rules), dtype=bool)

    def apply(self, values: np.ndarray, lb: np.ndarray) -> bool:
        """Set every open rule whose inputs are known (from the values before this call), raised to the
        variable's lower bound (a floor's hires: max(0, what the floor lacks)); True when one was set."""
        if not self.open.any():
            return False
        unknown = np.isnan(values[self.columns]).astype(np.int64)
        ready = self.open & (row_sums(self.starts, unknown) == 0)
        if not ready.any():
            return False
        sums = row_sums(self.starts, self.coefficients * np.nan_to_num(values[self.columns]))
        chosen = self.vars[ready]
        values[chosen] = np.maximum(lb[chosen], self.constants[ready] + sums[ready])
        self.open &= ~ready
        return True


def whole_shares(total: int, shares: list[float], room: list[int]) -> list[int] | None:
    """``total`` whole units split by largest remainder: each gets ⌊share⌋ (at most its ``room``), the rest go
    one at a time by largest fractional part (ties by position), never past a room. None when the rooms hold
    fewer than ``total``."""
    counts = [max(0, min(math.floor(share + 1e-9), spare)) for share, spare in zip(shares, room)]
    left = total - sum(counts)
    order = sorted(range(len(shares)), key=lambda i: (-(shares[i] - math.floor(shares[i] + 1e-9)), i))
    while left > 0:
        open_ = [i for i in order if counts[i] < room[i]]
        if not open_:
            return None
        for i in open_[:left]:
            counts[i] += 1
        left = total - sum(counts)
    return counts


WHOLE_SLACK = 1e-4
"""A share of people within this of a whole number is that number (:func:`whole_pushes`): a pushed share read
from a linear program's plan (:func:`optimizer.model.pooled.guided_pushes`) may fall short of 5 people by 1e-5."""


def whole_pushes(model: LinearModel, values: np.ndarray, pushed: list[int], push: float,
                 scale: dict[int, float] | None = None) -> dict[int, float]:
    """The whole (integer) variables among ``pushed`` at fraction ``push`` = λ (each also at its ``scale``, default
    1), in whole people: each push group moves ⌊λ·Σ expr⌋ people (never more than its cap), split over its members by largest remainder
    (:func:`whole_shares`), none more than one above its own λ·expr nor past ⌊room⌋, so a group of cohorts each
    too small to move one person alone still moves its share (fewer when the rooms hold fewer). The members of
    a group whose expressions are not yet known (whole variables of a later year) stay at 0."""
    groups: dict[str, list[tuple[int, float, float]]] = defaultdict(list)

    def value(expr: Expr) -> float:
        return sum(coef * values[v] for v, coef in expr.items())

    for var in pushed:
        if model.integer[var]:
            group, expr, room = model.pushes[var]
            groups[group].append((var, push * (scale or {}).get(var, 1.0) * value(expr), value(room)))
    whole: dict[int, float] = {}
    for members in groups.values():
        raw = [share for _, share, _ in members]
        if any(math.isnan(number) for _, share, room in members for number in (share, room)):
            whole.update((var, 0.0) for var, _, _ in members)
            continue
        rooms = [max(0, min(math.ceil(share - WHOLE_SLACK), math.floor(room + WHOLE_SLACK)))
                 for _, share, room in members]
        counts = whole_shares(min(math.floor(sum(raw) + WHOLE_SLACK), sum(rooms)), raw, rooms)
        whole.update((var, float(count)) for (var, _, _), count in zip(members, counts))
    return whole


def _propagate(values: np.ndarray, lb: np.ndarray, ub: np.ndarray, row_of: np.ndarray, columns: np.ndarray,
               coefficients: np.ndarray, lo: np.ndarray, hi: np.ndarray, settled_by_equality: np.ndarray) -> bool:
    """One sweep: every row with exactly one unknown variable v and coefficient a gives
    (lo − s)/a ≤ v ≤ (hi − s)/a (sides swapped for a < 0), s = the known part; the intervals of a variable
    are intersected with its bounds and v is set to the point of the intersection nearest 0 (empty: the
    nearest end, and the final check refuses the plan). A variable in an equality row (a stock in its
    balance) is set only by an equality, never guessed from an inequality that happens to be ready first.
    True when a variable was set."""
    n_rows = len(lo)
    unknown = np.isnan(values[columns])
    missing = np.bincount(row_of, weights=unknown, minlength=n_rows)
    single = (missing == 1)[row_of]
    known_part = np.bincount(row_of, weights=np.where(unknown, 0.0, coefficients * np.nan_to_num(values[columns])),
                             minlength=n_rows)
    allowed = (lo == hi)[row_of] | ~settled_by_equality[columns]
    entries = np.flatnonzero(single & unknown & allowed)
    if not len(entries):
        return False
    rows, var, coef = row_of[entries], columns[entries], coefficients[entries]
    with np.errstate(invalid="ignore"):
        low_side, high_side = (lo[rows] - known_part[rows]) / coef, (hi[rows] - known_part[rows]) / coef
    floor = np.where(coef > 0, low_side, high_side)
    ceiling = np.where(coef > 0, high_side, low_side)
    low, high = lb.copy(), ub.copy()
    np.maximum.at(low, var, np.nan_to_num(floor, nan=-np.inf))
    np.minimum.at(high, var, np.nan_to_num(ceiling, nan=np.inf))
    chosen = np.unique(var)
    values[chosen] = np.minimum(np.maximum(0.0, low[chosen]), np.maximum(high[chosen], low[chosen]))
    return True


def _guess_one_row(values: np.ndarray, lb: np.ndarray, ub: np.ndarray, row_of: np.ndarray,
                   columns: np.ndarray) -> bool:
    """Once no row has a single unknown: in the first row with unknowns (two or more), set all of them but
    the last nearest 0 within their bounds (a softened row's slacks: the unused side stays 0); with no such
    row, the variables in no row. False when nothing is left to set."""
    unknown = np.flatnonzero(np.isnan(values[columns]))
    if len(unknown):
        guessed = columns[unknown[row_of[unknown] == row_of[unknown[0]]]][:-1]
    else:
        guessed = np.flatnonzero(np.isnan(values))
    values[guessed] = np.clip(0.0, lb[guessed], ub[guessed])
    return len(guessed) > 0


def _free_idle(model: LinearModel) -> list[int]:
    """The idle variables their bounds do not fix: a variable with lb = ub (merit's year 1,
    :func:`optimizer.plan.merit.fixed_year1`) keeps its value, idle or not."""
    return [var for var in model.idle if model.lb[var] != model.ub[var]]


def _broken(model: LinearModel, values: np.ndarray | None, matrix: RowMatrix | None = None) -> frozenset[str] | None:
    """The names of the rows ``values`` breaks (``matrix``: the model's rows as arrays, if held); None when a
    variable is undetermined, outside its bounds or not whole where integer."""
    if values is None or np.isnan(values).any():
        return None
    lb, ub = np.asarray(model.lb, dtype=float), np.asarray(model.ub, dtype=float)
    if (values < lb - _TOLERANCE).any() or (values > ub + _TOLERANCE).any():
        return None
    whole = np.asarray(model.integer, dtype=bool)
    if (np.abs(values[whole] - np.round(values[whole])) > _TOLERANCE).any():
        return None
    bad, _ = (matrix or RowMatrix.of(model.rows)).violations(values)
    return frozenset(model.rows[i].name for i in bad)


def _holds(model: LinearModel, values: np.ndarray, matrix: RowMatrix | None = None) -> bool:
    """Every variable determined, within its bounds, whole where integer, every row held."""
    return _broken(model, values, matrix) == frozenset()


def _fitted_scale(model: LinearModel, values: np.ndarray, broken: frozenset[str], scale: dict[int, float],
                  pushed: set[int]) -> dict[int, float] | None:
    """The pushes' scales σ after one fitting round: in every row of ``broken`` (rows ``values`` breaks), the pushed
    variables that push it past its bound are cut by the same factor 1 − excess / their part of the activity
    (a variable in several such rows by the smallest factor), so the pushes fit the caps, floors and
    availabilities the pushes alone did not see (a unit's rate cap where the pushes follow another split, a
    cohort whose floor's promotions take its people). The cut is :data:`FIT_MARGIN` more than the excess, and one
    person more where whole people are pushed (rounded down from λ·σ·expr, a cut below one person may change
    nothing), so a row the next construction moves a little (its stocks follow the earlier years' cuts) is not
    broken again. None when no broken row has a pushed variable to cut."""
    fitted = dict(scale)
    for row in (row for row in model.rows if row.name in broken):
        activity = sum(coef * values[var] for var, coef in row.expr.items())
        side = 1.0 if activity > row.hi else -1.0
        excess = activity - row.hi if side > 0 else row.lo - activity
        part = {var: side * coef * values[var] for var, coef in row.expr.items() if var in pushed}
        share = sum(amount for amount in part.values() if amount > 0)
        if excess <= 0 or share <= _TOLERANCE:
            continue
        whole = any(model.integer[var] for var, amount in part.items() if amount > 0)
        factor = max(0.0, 1.0 - (excess * (1.0 + FIT_MARGIN) + whole) / share)
        for var, amount in part.items():
            if amount > 0:
                fitted[var] = min(fitted.get(var, 1.0), scale.get(var, 1.0) * factor)
    return None if fitted == scale else fitted


FIT_MARGIN = 0.05
FIT_ROUNDS = 4
"""The most fitting rounds (:func:`_fitted_scale`) a pushed start's try makes at one λ (each a construction)."""
PUSHES = (1.0, 0.5, 0.25, 0.125, 0.0625, 0.03125)
"""The fractions λ a pushed start tries (:func:`pushed_start`), largest first."""
REFINE_STEPS = 2
"""Bisections between the best λ found and its neighbours."""
PUSH_WORK = 50_000_000
"""The most model non-zeros the tries of :func:`pushed_start` may sweep together (at least :data:`MIN_TRIES`
tries): a work limit, not a time limit, so the start never depends on how busy the machine is. One try
(a construction) sweeps the model a few times, 0.15–0.2 s at 100k employees (1.5M non-zeros: every try fits;
0.45–0.65 s while each try rebuilt the rows' arrays and checked its start rules one by one); at 1M employees
three tries fit."""
MIN_TRIES = 3


def pushed_start(model: LinearModel, goal: Expr, built: np.ndarray, mendable: frozenset[str] = frozenset(),
                 tries: int | None = None, matrix: RowMatrix | None = None) -> np.ndarray:
    """The best of ``built`` (the constructive start) and two pushed plans by ``goal``, each the constructive start
    with the model's pushes (``LinearModel.pushes``: moves toward the mix) set to a share of their expressions:

    - *fitted*: every push at its full expression, each then cut by the rows the plan breaks
      (:func:`_fitted_scale`, up to :data:`FIT_ROUNDS` constructions); it may still break the ``mendable``
      rows and rows holding a later year's push (:func:`_later_pushes`), which :func:`mended_start` mends by
      setting the later years again, and it scores by the goal as built, before that mending;
    - *one fraction λ* for every push, for λ whose plan breaks no row but the ``mendable`` ones (those ``built``
      breaks too, which that linear program mends): λ = 1, ½, ¼, … (:data:`PUSHES`) until a plan that holds does
      worse than the one before it (the goal falls with λ until the moves overshoot the band, then rises), then
      the best λ refined by :data:`REFINE_STEPS` bisections toward its neighbours.

    The fitted plan follows pushes that do not share one rate (the pooled plan dealt over the units,
    :func:`optimizer.model.pooled.guided_pushes`), where one λ is held back by the unit whose cap binds first.
    Each construction is linear in the model's non-zeros; at most ``tries`` of them, the fitted plan's first
    (default: as many as :data:`PUSH_WORK` allows). ``matrix``: the model's rows as arrays, if held."""
    if not model.pushes or not goal:
        return built
    matrix = matrix or RowMatrix.of(model.rows)
    if tries is None:
        tries = max(MIN_TRIES, PUSH_WORK // max(1, sum(len(row.expr) for row in model.rows)))
    tried: dict[float, float] = {0.0: model.evaluate(goal, built)}
    plans: dict[float, np.ndarray] = {0.0: built}
    pushed = set(model.pushes)
    later = set(_later_pushes(model))
    cuttable = mendable | frozenset(row.name for row in model.rows if any(var in later for var in row.expr))

    def construct(push: float, rounds: int) -> tuple[np.ndarray | None, frozenset[str] | None]:
        """The plan at λ = ``push``, fitted over up to ``rounds`` constructions, and the rows it breaks."""
        nonlocal tries
        scale: dict[int, float] = {}
        values, broken = None, None
        for _ in range(rounds):
            if tries <= 0:
                break
            tries -= 1
            values = _constructed(model, push, scale, matrix)
            broken = _broken(model, values, matrix)
            if broken is None or broken <= mendable:
                break
            scale = _fitted_scale(model, values, broken - mendable, scale, pushed)
            if scale is None:
                break
        return values, broken

    def attempt(push: float) -> float | None:
        values, broken = construct(push, 1)
        if broken is None or not broken <= mendable:
            return None
        tried[push], plans[push] = model.evaluate(goal, values), values
        return tried[push]

    def best() -> float:
        return min(tried, key=lambda push: (tried[push], push))  # a tie keeps the fewer moves

    fitted, fitted_broken = construct(1.0, FIT_ROUNDS)
    grid, last = [0.0], None
    for push in PUSHES:
        grid.append(push)
        reached = attempt(push)
        if reached is not None and last is not None and reached > last:
            break
        last = reached if reached is not None else last
    grid.sort()
    for _ in range(REFINE_STEPS):
        centre = best()
        for neighbour in (max((p for p in grid if p < centre), default=None),
                          min((p for p in grid if p > centre), default=None)):
            if neighbour is not None:
                grid.append((centre + neighbour) / 2)
                attempt(grid[-1])
        grid.sort()
    if fitted_broken is not None and fitted_broken <= cuttable and model.evaluate(goal, fitted) < tried[best()]:
        return fitted
    return plans[best()]


def idle_start(model: LinearModel, options: SolveOptions, goal: Expr | None = None) -> np.ndarray | None:
    """A constructive start: :func:`constructive_start`, else a plan that does nothing the hard rules do not
    ask for, solved as the model with its ``idle`` variables (the flows, less promotions under a floor) fixed
    at 0, but those its bounds already fix (merit's year 1). Its plan holds in the model, so a stage given it as
    its MIP start ends with a plan whatever its limit. The restricted model is solved for feasibility alone
    (no objective), not for the stage's goal: the stage improves the start anyway, and the start must come first
    (45k group whose floors' hires break a hiring cap under "decide, then attrition": 7 s for a plan against
    31 s for the best one by the mix goal, which the stage's share did not leave; the run ended with no plan).
    With the stage's ``goal``, the constructed plan is first pushed toward it (:func:`pushed_start`); a pushed
    plan that breaks rows is mended first, within half of ``options.time_limit``, by :func:`mended_start` (that
    restricted linear program with year 1 as pushed and the later years' pushes free, solved for the goal). 100k group: the mix miss of the mended start 258.9 heads (the pushes kept at
    most as pushed, Σ pushes maximised, dual simplex 9.5–10.2 s, and no plan at all when that ran past its
    limit) → 0 (5.5 s), so the mix stage is proven by its start (:func:`optimizer.solvers.staged.solve_model`).
    None when the hard rules rule out doing so little (a unit minimum that needs hires, a requirement) or no
    such plan was found within ``options.time_limit``, which its solves share (each fallback gets what the
    ones before it left). HiGHS solves the restricted model whatever the stage's
    backend, with no node limit."""
    if not model.idle:
        return None
    began = time.perf_counter()
    matrix = RowMatrix.of(model.rows)
    built = _constructed(model, matrix=matrix)
    broken = _broken(model, built, matrix)
    pushed = None if goal is None or broken is None else pushed_start(model, goal, built, broken, matrix=matrix)
    if pushed is None or pushed is built:
        pushed = None
    elif _holds(model, pushed, matrix):
        return pushed
    if broken == frozenset() and pushed is None:
        return built
    highs = replace(options, backend="highs", node_limit=None, on_incumbent=None)
    if pushed is not None:
        mended = mended_start(model, pushed, goal or {}, replace(highs, time_limit=highs.time_limit / 2), matrix)
        if mended is not None:
            return mended

    def left(chosen: SolveOptions) -> SolveOptions:  # the fallbacks share what is left of ``options.time_limit``
        return chosen.spent(time.perf_counter() - began)

    lp = replace(highs, lp_method="simplex")  # a linear program: HiGHS chooses the method
    restricted = _restricted(model)
    whole = _whole_part(restricted, built) if broken else None
    if whole is not None:
        result = solve(whole, {}, left(lp))
        if result.values is not None and _holds(model, result.values, matrix):
            return result.values
    return built if broken == frozenset() else solve(restricted, {}, left(highs if any(model.integer) else lp)).values


def mended_start(model: LinearModel, point: np.ndarray, goal: Expr, options: SolveOptions,
                 matrix: RowMatrix | None = None) -> np.ndarray | None:
    """``point`` (a pushed plan) with its whole variables (year 1) kept and the rest the restricted model of
    :func:`idle_start` leaves free (the later years' hires, stocks and pushes; every other idle flow at 0)
    solved again for ``goal``: one linear program (HiGHS, interior-point method, within ``options.time_limit``)
    in which the later years make up for what the rows cut from year 1's pushes. None when it finds no plan
    that holds in ``model`` (``matrix``: its rows as arrays, if held)."""
    whole = _whole_part(_restricted(model), point, model.ub)
    if whole is None:
        return None
    highs = replace(options, backend="highs", node_limit=None, on_incumbent=None, lp_method="ipm")
    result = solve(whole, goal, highs)
    return result.values if result.values is not None and _holds(model, result.values, matrix) else None


def _restricted(model: LinearModel) -> LinearModel:
    """``model`` with its free idle variables (:func:`_free_idle`) fixed at 0: the plans that do only what the
    rules ask."""
    fixed = np.asarray(model.ub, dtype=float)
    fixed[_free_idle(model)] = 0.0
    return replace(model, ub=fixed.tolist())


def _later_pushes(model: LinearModel) -> list[int]:
    """The pushes a linear program may set (:func:`_whole_part`): continuous (the later years'), with no start rule."""
    return [var for var in model.pushes if not model.integer[var] and var not in model.start_rules]


def _whole_part(model: LinearModel, built: np.ndarray | None, push_bounds: list[float] | None = None) -> LinearModel | None:
    """``model`` with every integer variable fixed (lb = ub, continuous) at its whole value in the point the
    rules built, and with ``push_bounds`` (upper bounds by variable, the unrestricted model's) the later years'
    pushes (:func:`_later_pushes`) free up to them: a linear program for the rest (the later years' hires and
    stocks, and their pushes), which a point breaking only a later row (a hiring cap the floors' hires break)
    can mend in seconds where the MIP takes minutes. None without such a point, or when an integer variable's
    built value is not whole."""
    if built is None or np.isnan(built).any():
        return None
    whole = [var for var in range(model.n_vars) if model.integer[var]]
    if any(abs(built[var] - round(built[var])) > _TOLERANCE for var in whole):
        return None
    lb, ub = list(model.lb), list(model.ub)
    for var in whole:
        lb[var] = ub[var] = float(round(built[var]))
    for var in _later_pushes(model) if push_bounds is not None else ():
        ub[var] = push_bounds[var]
    return replace(model, lb=lb, ub=ub, integer=[False] * model.n_vars)
