"""CP-SAT on a model with continuous variables: an integer model on a fine grid, built directly.

CP-SAT solves integer programs only. OR-Tools' own conversion keeps equality rows exact while putting
continuous variables on a grid, which leaves rows like x[c,t] = 0.95·x[c,t−1] + flows with empty domains.
Here every continuous variable becomes an integer count of 1/``CPSAT_VAR_SCALING``, every variable gets a
finite bound valid for at least one optimal solution (:func:`_implied_bounds`), rows are scaled to exact
integers and widened by the most grid rounding can move them, so the rounding of an optimal point always
fits. :mod:`optimizer.solvers.backends` then re-optimises the continuous part exactly.
"""

from __future__ import annotations

import math

import numpy as np
from ortools.sat.python import cp_model

from optimizer.solvers.linear_model import INF, Expr, LinearModel
from optimizer.solvers.base import SolveOptions, Outcome

CPSAT_VAR_SCALING = 1000.0
"""Grid of continuous variables (1/this) when CP-SAT must approximate them."""

_INT64_BUDGET = 2.0**60
"""Largest Σ |coefficient|·|bound| a CP-SAT row or objective may reach (CP-SAT refuses int64 overflow)."""


def _implied_bounds(model: LinearModel, objective: Expr) -> tuple[np.ndarray, np.ndarray, int]:
    """Finite bounds for the variables, valid for at least one optimal solution of the model, and the
    number of variables none could be derived for. Two rules, alternated until nothing changes:

    - activity bounds (valid for every feasible point): in a row lo ≤ Σ a_i x_i ≤ hi with a_j > 0,
      x_j ≤ (hi − Σ_{i≠j} min a_i x_i) / a_j and x_j ≥ (lo − Σ_{i≠j} max a_i x_i) / a_j (mirrored for
      a_j < 0) whenever the other terms are bounded; in the stock-flow model this bounds year-t flows by
      the rate caps on year t−1 stocks and year-t stocks by their balance rows, year after year;
    - dominated columns (valid for an optimal point): a variable with c_j ≥ 0 that only ever helps its
      rows when it grows (a_j > 0 only in rows without upper side, a_j < 0 only in rows without lower
      side) can be lowered to the largest value any row asks of it, max_rows (lo − Σ_{i≠j} max a_i x_i)/a_j,
      without losing feasibility or objective value: the mix slacks and the budget overrun. Mirrored
      for an infinite lower bound with c_j ≤ 0.

    Only infinite bounds are replaced (finite ones are kept as given), each widened by 1e-9 relative."""
    lb = np.array(model.lb, dtype=float)
    ub = np.array(model.ub, dtype=float)
    rows = [(np.fromiter(r.expr.keys(), int, len(r.expr)), np.fromiter(r.expr.values(), float, len(r.expr)), r.lo, r.hi)
            for r in model.rows]
    cost = np.zeros(model.n_vars)
    for var, coef in objective.items():
        cost[var] = coef
    by_var: list[list[int]] = [[] for _ in range(model.n_vars)]
    for k, (idx, _, _, _) in enumerate(rows):
        for var in idx:
            by_var[var].append(k)

    def pad(value: float, up: bool) -> float:
        return value + (1 if up else -1) * 1e-9 * max(1.0, abs(value))

    def activity(idx: np.ndarray, coef: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        low = np.where(coef > 0, coef * lb[idx], coef * ub[idx])
        high = np.where(coef > 0, coef * ub[idx], coef * lb[idx])
        return low, high

    def others(terms: np.ndarray) -> np.ndarray:
        """Σ_{i≠j} terms_i for every j (inf where another term is infinite)."""
        finite = np.isfinite(terms)
        total = terms[finite].sum()
        n_inf = (~finite).sum()
        out = np.where(finite, total - np.where(finite, terms, 0.0), total)
        if n_inf == 0:
            return out
        sign = np.sign(terms[~finite][0])
        return np.where((n_inf == 1) & ~finite, out, sign * INF)

    def propagate() -> bool:
        changed = False
        for idx, coef, lo, hi in rows:
            if not (np.isinf(lb[idx]).any() or np.isinf(ub[idx]).any()):
                continue
            low, high = activity(idx, coef)
            rest_low, rest_high = others(low), others(high)
            with np.errstate(invalid="ignore"):
                from_hi = (hi - rest_low) / coef  # an upper bound where coef > 0, a lower one where < 0
                from_lo = (lo - rest_high) / coef  # a lower bound where coef > 0, an upper one where < 0
            new_ub = np.where(coef > 0, from_hi, from_lo)
            new_lb = np.where(coef > 0, from_lo, from_hi)
            for j, var in enumerate(idx):
                if math.isinf(ub[var]) and math.isfinite(new_ub[j]):
                    ub[var] = pad(new_ub[j], True)
                    changed = True
                if math.isinf(lb[var]) and math.isfinite(new_lb[j]):
                    lb[var] = pad(new_lb[j], False)
                    changed = True
        return changed

    def dominated() -> bool:
        changed = False
        for var in range(model.n_vars):
            for up in (True, False):
                if not math.isinf(ub[var] if up else lb[var]) or (cost[var] < 0 if up else cost[var] > 0):
                    continue
                needed = lb[var] if up else ub[var]
                ok = math.isfinite(needed)
                for k in by_var[var]:
                    idx, coef, lo, hi = rows[k]
                    j = int(np.flatnonzero(idx == var)[0])
                    a = coef[j]
                    # up: x may only be held from below (a > 0: no upper side; a < 0: no lower side);
                    # down: only from above. The requirement on x is worst at the extreme rest.
                    pushes_against = (hi < INF) if (a > 0) == up else (lo > -INF)
                    if pushes_against:
                        ok = False
                        break
                    side = lo if (a > 0) == up else hi
                    if math.isinf(side):
                        continue
                    low, high = activity(idx, coef)
                    use_min_rest = (a > 0) == up
                    rest = float(np.delete(low if use_min_rest else high, j).sum())
                    value = (side - rest) / a
                    if not math.isfinite(value):
                        ok = False
                        break
                    needed = max(needed, value) if up else min(needed, value)
                if ok:
                    if up:
                        ub[var] = pad(needed, True)
                    else:
                        lb[var] = pad(needed, False)
                    changed = True
        return changed

    for _ in range(100):
        moved = False
        while propagate():
            moved = True
        if dominated():
            moved = True
        if not moved:
            break
    missing = int((np.isinf(lb) | np.isinf(ub)).sum())
    return lb, ub, missing


def _decimal_scale(values: np.ndarray, budget: float) -> tuple[float, float]:
    """(R, rounding error): the smallest power of ten R ≤ 1e9 that makes every R·value an integer
    (to 1e-9 relative, i.e. float noise), and the largest error |R·v − round(R·v)| it leaves; when
    no such R fits ``budget`` (R·Σ|v|·bound must stay below it), the largest power of ten that fits."""
    limit = 10.0 ** math.floor(math.log10(budget)) if budget > 0 else 1.0
    for k in range(10):
        scale = 10.0**k
        if scale > limit:
            break
        scaled = values * scale
        if (np.abs(scaled - np.round(scaled)) <= 1e-9 * np.maximum(1.0, np.abs(scaled))).all():
            return scale, 0.0
    scale = min(limit, 1e9)
    scaled = values * scale
    return scale, float(np.abs(scaled - np.round(scaled)).max(initial=0.0))


class CpsatGrid:
    """The model as a pure integer CP-SAT model whose feasible set holds the grid rounding of an optimal
    point, so that its best bound, minus the rounding error of the objective, bounds the model.

    Integer columns stay as they are; a continuous column x_j becomes X_j/S with X_j integer
    (S = ``scale``), X_j ∈ [⌊S·lb_j⌋, ⌈S·ub_j⌉] on the bounds of :func:`_implied_bounds`; fixed columns
    are constants. A row lo ≤ Σ a_i x_i ≤ hi becomes, with every coefficient multiplied by S·R (R the
    power of ten of :func:`_decimal_scale`) and rounded to k_i,
    ⌈R·S·lo − δ⌉ ≤ Σ k_i X_i ≤ ⌊R·S·hi + δ⌋ with δ = ½·Σ_{continuous} R·|a_j| (rounding x_j to the
    grid moves the scaled activity by at most that) + Σ |k_i − R·S·a_i|·max|X_i| (coefficient rounding,
    0 for the decimal coefficients of the formulation) + 1e-9·R·S·max(1, |side|) (float noise).
    Rows of integer columns with decimal coefficients therefore stay exact. The objective is scaled
    the same way (power of ten Q); ``error`` is how much the grid and the coefficient rounding can
    move it, so ``bound/Q − error`` is a valid bound for the model when every column got a derived
    bound (``missing`` = 0; other columns are capped at ±1e9/S and then nothing is proven)."""

    def __init__(self, model: LinearModel, objective: Expr, scale: float) -> None:
        self.model, self.scale = model, scale
        lb, ub, self.missing = _implied_bounds(model, objective)
        cap = 1e9 / scale
        lb, ub = np.maximum(lb, -cap), np.minimum(ub, cap)
        integer = np.asarray(model.integer, dtype=bool)
        self.integer = integer
        self.fixed = lb == ub
        self.constant = np.where(self.fixed, lb, 0.0)
        lo_x = np.where(integer, np.ceil(lb - 1e-9), np.floor(lb * scale + 1e-9))
        hi_x = np.where(integer, np.floor(ub + 1e-9), np.ceil(ub * scale - 1e-9))
        self.lo_x, self.hi_x = lo_x, hi_x
        self.unit = np.where(integer, 1.0, 1.0 / scale)  # x = unit · X
        magnitude = np.maximum(np.abs(lo_x), np.abs(hi_x))
        self.cp = cp_model.CpModel()
        proto = self.cp.proto
        self.empty_rows = []
        for var in range(model.n_vars):
            proto.variables.add().domain.extend([int(lo_x[var]), int(max(lo_x[var], hi_x[var]))])
            if lo_x[var] > hi_x[var]:
                self.empty_rows.append(model.var_names[var])
        for row in model.rows:
            idx = np.fromiter(row.expr.keys(), int, len(row.expr))
            coef = np.fromiter(row.expr.values(), float, len(row.expr))
            shift = float((coef * self.constant[idx])[self.fixed[idx]].sum())
            keep = ~self.fixed[idx]
            idx, coef = idx[keep], coef[keep]
            lo, hi = row.lo - shift, row.hi - shift
            if idx.size == 0:
                if lo > 1e-9 * max(1.0, abs(row.lo)) or hi < -1e-9 * max(1.0, abs(row.hi)):
                    self.empty_rows.append(row.name)
                continue
            weight = coef * self.unit[idx] * scale  # scaled row: Σ weight·X ∈ S·[lo, hi]
            size = float((np.abs(weight) * magnitude[idx]).sum())
            factor, _ = _decimal_scale(weight, _INT64_BUDGET / max(size, 1.0))
            ints = np.round(weight * factor)
            delta = 0.5 * float(np.abs(coef * factor)[~integer[idx]].sum())
            delta += float((np.abs(ints - weight * factor) * magnitude[idx]).sum())
            low = high = None
            if lo > -INF:
                low = math.ceil(factor * scale * lo - delta - 1e-9 * factor * scale * max(1.0, abs(lo)))
            if hi < INF:
                high = math.floor(factor * scale * hi + delta + 1e-9 * factor * scale * max(1.0, abs(hi)))
            if low is None and high is None:
                continue
            big = 2**62
            low, high = max(low if low is not None else -big, -big), min(high if high is not None else big, big)
            if low > high:
                self.empty_rows.append(row.name)
                continue
            linear = proto.constraints.add().linear
            linear.vars.extend(idx.tolist())
            linear.coeffs.extend(ints.astype(np.int64).tolist())
            linear.domain.extend([int(low), int(high)])
        # objective: Σ c_j x_j = constant + Σ c_j·unit_j·X_j
        o_idx = np.fromiter((v for v in objective if not self.fixed[v]), int)
        o_coef = np.array([objective[v] for v in o_idx.tolist()], dtype=float)
        self.offset = sum(c * self.constant[v] for v, c in objective.items() if self.fixed[v])
        weight = o_coef * self.unit[o_idx] if o_idx.size else np.zeros(0)
        size = float((np.abs(weight) * magnitude[o_idx]).sum()) if o_idx.size else 0.0
        self.factor, _ = _decimal_scale(weight, _INT64_BUDGET / max(size, 1.0)) if o_idx.size else (1.0, 0.0)
        ints = np.round(weight * self.factor)
        self.error = 0.5 / scale * float(np.abs(o_coef)[~integer[o_idx]].sum()) if o_idx.size else 0.0
        self.error += float((np.abs(ints - weight * self.factor) * magnitude[o_idx]).sum()) / self.factor if o_idx.size else 0.0
        if o_idx.size:
            proto.objective.vars.extend(o_idx.tolist())
            proto.objective.coeffs.extend(ints.astype(np.int64).tolist())

    def solve(self, options: SolveOptions, seconds: float, start: np.ndarray | None) -> Outcome:
        if self.empty_rows:
            return Outcome("infeasible_or_unbounded" if not self.missing else "no_solution",
                            message=f"grid model has empty rows or domains: {self.empty_rows[:3]}")
        if start is not None:
            hint = np.clip(np.round(start / self.unit), self.lo_x, self.hi_x)
            for var in np.flatnonzero(~self.fixed):
                self.cp.add_hint(self.cp.get_int_var_from_proto_index(int(var)), int(hint[var]))
        solver = cp_model.CpSolver()
        params = solver.parameters
        params.max_time_in_seconds = seconds
        params.num_workers = options.threads
        params.random_seed = options.seed
        params.relative_gap_limit = options.gap
        params.log_search_progress = options.msg
        status = solver.solve(self.cp)
        name = solver.status_name(status)
        message = f"CP-SAT {name}"
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            grid = np.array(solver.response_proto.solution, dtype=float)
            values = np.where(self.fixed, self.constant, grid * self.unit)
            bound = None
            if not self.missing:
                bound = (solver.best_objective_bound / self.factor) + self.offset - self.error
            return Outcome("feasible", values, bound, message)
        if status == cp_model.INFEASIBLE:
            return Outcome("infeasible_or_unbounded" if not self.missing else "no_solution", message=message)
        if status == cp_model.MODEL_INVALID:
            return Outcome("error", message=f"{message}: {self.cp.validate()}")
        return Outcome("no_solution", message=message)
