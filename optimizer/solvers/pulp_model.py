"""A :class:`LinearModel` as a PuLP problem (for CBC) and as LP/MPS files.

PuLP and LP/MPS files get readable sanitised names (OR-Tools takes the model's own)
(:func:`lp_name`: ``promote_tier[BG007,technical,3,5,y1]`` → ``promote_tier(BG007,technical,3,5,y1)``);
a ranged row ``lo ≤ expr ≤ hi`` becomes two PuLP rows ``<name>_lo`` and ``<name>_hi``; rows free on
both sides are left out; a variable in no row and not in the objective enters the PuLP objective with
coefficient 0 (PuLP 3 would drop it). :func:`write_lp` returns the renaming.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pulp

from optimizer.solvers.linear_model import INF, Expr, LinearModel, Row, combine


def write_lp(model: LinearModel, path: str | Path, objective: Expr | None = None) -> dict[str, str]:
    """Write ``model`` as ``.lp`` or ``.mps`` without solving; returns {original name: written name}
    for the names that had to change. The objective defaults to the sum of all objective terms."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".lp", ".mps"):
        raise ValueError(f"write_lp writes .lp or .mps files, not {path.name}")
    if objective is None:
        objective = combine(*((1.0, expr) for expr in model.objective_terms.values()))
    prob, _ = pulp_problem(model, objective)
    if suffix == ".mps":
        prob.writeMPS(str(path))
    else:
        prob.writeLP(str(path), max_length=255)
    names = model.var_names + [row.name for row in model.rows]
    written = _lp_names(model.var_names) + _lp_names([row.name for row in model.rows])
    return {old: new for old, new in zip(names, written) if old != new}


_LP_BRACKETS = str.maketrans("[]", "()")
_LP_UNSAFE = re.compile(r"[^A-Za-z0-9_(),.]")
_LP_BAD_START = re.compile(r"[0-9.]|[eE][0-9eE]")


def lp_name(name: str) -> str:
    """A readable name LP and MPS files accept: [] → (), other unsafe characters → _, and a leading _
    where the name would read as a number."""
    safe = _LP_UNSAFE.sub("_", name.translate(_LP_BRACKETS)) or "_"
    return "_" + safe if _LP_BAD_START.match(safe) else safe


def _lp_names(names: list[str]) -> list[str]:
    """lp_name of each, made unique with _2, _3, … where sanitising made two names equal."""
    seen: set[str] = set()
    out = []
    for name in names:
        base = candidate = lp_name(name)
        copy = 1
        while candidate in seen:
            copy += 1
            candidate = f"{base}_{copy}"
        seen.add(candidate)
        out.append(candidate)
    return out


_affine = getattr(pulp.LpAffineExpression, "from_list", pulp.LpAffineExpression)
"""(var, coef) pairs → expression: ``from_list`` on PuLP 4, the constructor on PuLP 3."""


def pulp_problem(model: LinearModel, objective: Expr) -> tuple[pulp.LpProblem, list[pulp.LpVariable]]:
    """``model`` as a PuLP problem minimising ``objective``, with sanitised names; also its columns."""
    prob = pulp.LpProblem(lp_name(model.name), pulp.LpMinimize)
    cols = [
        prob.add_variable(
            name,
            _finite_or_none(lb),
            _finite_or_none(ub),
            pulp.LpInteger if integer else pulp.LpContinuous,
        )
        for name, lb, ub, integer in zip(_lp_names(model.var_names), model.lb, model.ub, model.integer)
    ]
    for row, name in zip(model.rows, _lp_names([row.name for row in model.rows])):
        for suffix, constraint in _pulp_rows(row, cols):
            prob.addConstraint(constraint, name + suffix)
    used = set(objective).union(*(row.expr for row in model.rows))
    unused = [(cols[var], 0.0) for var in range(model.n_vars) if var not in used]
    # PuLP 3 keeps only columns that appear somewhere: unused ones join the objective at 0
    prob += _affine([(cols[var], coef) for var, coef in objective.items()] + unused)
    return prob, cols


def _pulp_rows(row: Row, cols: list[pulp.LpVariable]) -> list[tuple[str, pulp.LpConstraint]]:
    """The PuLP constraints of one row, with the name suffix each gets."""

    def expr() -> pulp.LpAffineExpression:
        return _affine([(cols[var], coef) for var, coef in row.expr.items()])

    if row.lo == row.hi:
        return [("", expr() == row.lo)]
    ranged = row.lo > -INF and row.hi < INF
    out = []
    if row.lo > -INF:
        out.append(("_lo" if ranged else "", expr() >= row.lo))
    if row.hi < INF:
        out.append(("_hi" if ranged else "", expr() <= row.hi))
    return out


def set_pulp_start(cols: list[pulp.LpVariable], start: np.ndarray | None) -> None:
    if start is not None:
        for col, value in zip(cols, start):
            col.setInitialValue(float(value))


def pulp_values(cols: list[pulp.LpVariable]) -> np.ndarray:
    return np.array([np.nan if col.varValue is None else col.varValue for col in cols], dtype=float)


def _finite_or_none(bound: float) -> float | None:
    return bound if math.isfinite(bound) else None
