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
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from optimizer.solvers.backends import SolveOptions, solve
from optimizer.solvers.linear_model import Expr, LinearModel, row_arrays

_TOLERANCE = 1e-7


def constructive_start(model: LinearModel) -> np.ndarray | None:
    """The plan that does only what the rules ask (see the module docstring), or None when propagation
    leaves a variable undetermined or the point breaks a row or an integrality."""
    values = _constructed(model)
    return values if values is not None and _holds(model, values) else None


def _constructed(model: LinearModel) -> np.ndarray | None:
    """The point the rules and propagation build (unchecked), or None when a variable stays undetermined."""
    lb, ub = np.asarray(model.lb, dtype=float), np.asarray(model.ub, dtype=float)
    values = np.full(model.n_vars, np.nan)
    fixed = lb == ub
    values[fixed] = lb[fixed]
    values[_free_idle(model)] = 0.0
    starts, columns, coefficients = row_arrays([row.expr for row in model.rows])
    row_of = np.repeat(np.arange(len(model.rows)), np.diff(starts))
    lo = np.fromiter((row.lo for row in model.rows), dtype=float, count=len(model.rows))
    hi = np.fromiter((row.hi for row in model.rows), dtype=float, count=len(model.rows))
    equality = lo == hi
    settled_by_equality = np.zeros(model.n_vars, dtype=bool)
    settled_by_equality[columns[equality[row_of]]] = True
    pending = {var: rule for var, rule in model.start_rules.items() if not fixed[var]}  # a fixed value stands
    while True:
        learnt = _apply_rules(values, pending, lb)
        learnt |= _propagate(values, lb, ub, row_of, columns, coefficients, lo, hi, settled_by_equality)
        if learnt:
            continue
        if not np.isnan(values).any():
            break
        if not _guess_one_row(values, lb, ub, row_of, columns):
            return None
    return values


def _apply_rules(values: np.ndarray, pending: dict[int, tuple[float, Expr]], lb: np.ndarray) -> bool:
    """Set every pending rule whose inputs are known, raised to the variable's lower bound (a floor's hires,
    max(0, what the floor lacks)); True when one was set."""
    ready = [var for var, (_, expr) in pending.items() if not any(np.isnan(values[v]) for v in expr)]
    for var in ready:
        constant, expr = pending.pop(var)
        values[var] = max(lb[var], constant + sum(coef * values[v] for v, coef in expr.items()))
    return bool(ready)


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


def _holds(model: LinearModel, values: np.ndarray) -> bool:
    """Every variable determined, within its bounds, whole where integer, every row held."""
    if np.isnan(values).any():
        return False
    lb, ub = np.asarray(model.lb, dtype=float), np.asarray(model.ub, dtype=float)
    if (values < lb - _TOLERANCE).any() or (values > ub + _TOLERANCE).any():
        return False
    whole = np.asarray(model.integer, dtype=bool)
    if (np.abs(values[whole] - np.round(values[whole])) > _TOLERANCE).any():
        return False
    return not model.row_violations(values)


def idle_start(model: LinearModel, options: SolveOptions) -> np.ndarray | None:
    """A constructive start: :func:`constructive_start`, else a plan that does nothing the hard rules do not
    ask for, solved as the model with its ``idle`` variables (the flows, less promotions under a floor) fixed
    at 0, but those its bounds already fix (merit's year 1). Its plan holds in the model, so a stage given it as
    its MIP start ends with a plan whatever its limit. The restricted model is solved for feasibility alone
    (no objective), not for the stage's goal: the stage improves the start anyway, and the start must come first
    (45k group whose floors' hires break a hiring cap under "decide, then attrition": 7 s for a plan against
    31 s for the best one by the mix goal, which the stage's share did not leave; the run ended with no plan).
    None when the hard rules rule out doing so little (a unit minimum that needs hires, a requirement) or no
    such plan was found within ``options.time_limit``. HiGHS solves the restricted model whatever the stage's
    backend, with no node limit."""
    if not model.idle:
        return None
    built = _constructed(model)
    if built is not None and _holds(model, built):
        return built
    highs = replace(options, backend="highs", node_limit=None, on_incumbent=None)
    fixed = np.asarray(model.ub, dtype=float)
    fixed[_free_idle(model)] = 0.0
    restricted = replace(model, ub=fixed.tolist())
    whole = _whole_part(restricted, built)
    if whole is not None:
        result = solve(whole, {}, highs)
        if result.values is not None and _holds(model, result.values):
            return result.values
    return solve(restricted, {}, highs).values


def _whole_part(model: LinearModel, built: np.ndarray | None) -> LinearModel | None:
    """``model`` with every integer variable fixed (lb = ub, continuous) at its whole value in the point the
    rules built: a linear program for the rest (the later years' hires and stocks), which a point breaking
    only a later row (a hiring cap the floors' hires break) can mend in seconds where the MIP takes minutes.
    None without such a point, or when an integer variable's built value is not whole."""
    if built is None or np.isnan(built).any():
        return None
    whole = [var for var in range(model.n_vars) if model.integer[var]]
    if any(abs(built[var] - round(built[var])) > _TOLERANCE for var in whole):
        return None
    lb, ub = list(model.lb), list(model.ub)
    for var in whole:
        lb[var] = ub[var] = float(round(built[var]))
    return replace(model, lb=lb, ub=ub, integer=[False] * model.n_vars)
