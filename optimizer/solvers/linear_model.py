"""A solver-neutral mixed-integer linear model: named variables, named rows, named objective terms.

The formulation writes into this structure once; each backend translates it into its own solver.
Rows are ``lo ≤ Σ coef·var ≤ hi`` (either side may be infinite). Objective *terms* (e.g. ``mix``,
``cost``, ``disruption``) are kept apart so the solve driver can combine them lexicographically or by
weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import chain
from typing import NamedTuple

import numpy as np

INF = math.inf

Expr = dict[int, float]
"""A linear expression: variable index → coefficient."""


def add_to(expr: Expr, var: int, coef: float) -> None:
    """expr += coef·var (in place)."""
    if coef:
        expr[var] = expr.get(var, 0.0) + coef


def combine(*terms: tuple[float, Expr]) -> Expr:
    """Σ factor·expr over the given (factor, expr) pairs."""
    out: Expr = {}
    for factor, expr in terms:
        for var, coef in expr.items():
            add_to(out, var, factor * coef)
    return out


class Push(NamedTuple):
    """A flow a constructive start may raise (``LinearModel.pushes``): to λ·``expr`` (its part of what its
    ``group``, e.g. a rate-cap row, may move), whole people never past ``room`` (the people its cohort can give)."""

    group: str
    expr: Expr
    room: Expr


@dataclass
class Row:
    name: str
    expr: Expr
    lo: float
    hi: float


def row_arrays(exprs: list[Expr]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Expressions (rows) as one row-wise sparse matrix (CSR): ``(starts, columns, coefficients)``, row ``i``
    holding ``columns[starts[i]:starts[i + 1]]``."""
    lengths = np.fromiter((len(expr) for expr in exprs), dtype=np.int64, count=len(exprs))
    nonzeros = int(lengths.sum())
    starts = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    columns = np.fromiter(chain.from_iterable(exprs), dtype=np.int64, count=nonzeros)
    coefficients = np.fromiter(chain.from_iterable(expr.values() for expr in exprs), dtype=float, count=nonzeros)
    return starts, columns, coefficients


def row_sums(starts: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Σ of ``values`` over each CSR row given by ``starts`` (0 for an empty row); integers wrap around."""
    if len(starts) <= 1:
        return np.zeros(0, dtype=values.dtype)
    padded = np.concatenate((values, np.zeros(1, dtype=values.dtype)))
    sums = np.add.reduceat(padded, np.minimum(starts[:-1], len(values)))
    return np.where(starts[1:] > starts[:-1], sums, 0)


@dataclass(frozen=True)
class RowMatrix:
    """Rows ``lo ≤ Σ coef·var ≤ hi`` as arrays: the CSR matrix of :func:`row_arrays` and the two sides. Built once
    where many points are checked against the same rows (a constructive start's tries)."""

    starts: np.ndarray
    columns: np.ndarray
    coefficients: np.ndarray
    lo: np.ndarray
    hi: np.ndarray

    @classmethod
    def of(cls, rows: list[Row]) -> RowMatrix:
        starts, columns, coefficients = row_arrays([row.expr for row in rows])
        return cls(starts, columns, coefficients, np.fromiter((row.lo for row in rows), dtype=float, count=len(rows)),
                   np.fromiter((row.hi for row in rows), dtype=float, count=len(rows)))

    def violations(self, values: np.ndarray, tol: float = 1e-6, scaled: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """(positions, excesses) of the rows ``values`` breaks by more than ``tol``·max(1, |activity|)
        (``scaled``), else by more than ``tol``: one sparse product."""
        activity = row_sums(self.starts, self.coefficients * np.asarray(values, dtype=float)[self.columns])
        excess = np.maximum(np.maximum(self.lo - activity, activity - self.hi), 0.0)
        bad = np.flatnonzero(excess > (tol * np.maximum(1.0, np.abs(activity)) if scaled else tol))
        return bad, excess[bad]


@dataclass
class LinearModel:
    name: str = "wfplan"
    var_names: list[str] = field(default_factory=list)
    lb: list[float] = field(default_factory=list)
    ub: list[float] = field(default_factory=list)
    integer: list[bool] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    objective_terms: dict[str, Expr] = field(default_factory=dict)
    idle: set[int] = field(default_factory=set)
    """Variables a plan that does nothing unasked keeps at 0: the flows (people acting), less those a hard
    rule may ask for (promotions under a floor). :func:`optimizer.solvers.start.idle_start` fixes them."""
    start_rules: dict[int, tuple[float, Expr]] = field(default_factory=dict)
    """For variables that are not idle but a constructive plan can set by rule (the promotions a floor asks
    for, the hires that fill a workload floor): var = max(lb, constant + Σ coef·var′) over variables known
    before it (earlier years, or rules of the same year). Read by
    :func:`optimizer.solvers.start.constructive_start`."""
    pushes: dict[int, Push] = field(default_factory=dict)
    """Idle flows a constructive start may raise toward a stage's goal (they move people toward the mix): each
    at λ·its ``expr`` over variables of earlier years, whole ones rounded within their ``group`` and never past
    their ``room`` (a variable with a start rule keeps its rule). Read by
    :func:`optimizer.solvers.start.pushed_start`."""
    _index: dict[str, int] = field(default_factory=dict, repr=False)

    @property
    def n_vars(self) -> int:
        return len(self.var_names)

    def add_var(self, name: str, lb: float = 0.0, ub: float = INF, integer: bool = False) -> int:
        if name in self._index:
            raise ValueError(f"duplicate variable name {name}")
        self._index[name] = len(self.var_names)
        self.var_names.append(name)
        self.lb.append(lb)
        self.ub.append(ub)
        self.integer.append(integer)
        return self._index[name]

    def copy(self) -> LinearModel:
        """A model that starts as this one and may gain variables and rows without changing this one."""
        return LinearModel(self.name, list(self.var_names), list(self.lb), list(self.ub), list(self.integer),
                           list(self.rows), dict(self.objective_terms), set(self.idle), dict(self.start_rules),
                           dict(self.pushes), dict(self._index))

    def var(self, name: str) -> int:
        return self._index[name]

    def add_row(self, name: str, expr: Expr, lo: float = -INF, hi: float = INF) -> None:
        """Add ``lo ≤ expr ≤ hi``; a constant expression is checked, not added."""
        expr = {v: c for v, c in expr.items() if c != 0.0}
        if not expr:
            if lo > 1e-9 or hi < -1e-9:
                raise ValueError(f"row {name} has no variables and cannot hold: {lo} ≤ 0 ≤ {hi}")
            return
        self.rows.append(Row(name, expr, lo, hi))

    def add_objective(self, term: str, expr: Expr, factor: float = 1.0) -> None:
        """objective_terms[term] += factor·expr."""
        target = self.objective_terms.setdefault(term, {})
        for var, coef in expr.items():
            add_to(target, var, factor * coef)

    def evaluate(self, expr: Expr, values: np.ndarray) -> float:
        return float(sum(coef * values[var] for var, coef in expr.items()))

    def row_violations(self, values: np.ndarray, tol: float = 1e-6, scaled: bool = True,
                       rows: list[Row] | None = None) -> list[tuple[str, float]]:
        """Rows violated by ``values`` by more than ``tol``·max(1, |activity|) (``scaled``), else by more than
        ``tol``, with the size of the violation (one sparse product, so a start can be checked on a model of a
        million employees). ``rows``: only these (default: every row of the model)."""
        rows = self.rows if rows is None else rows
        bad, excess = RowMatrix.of(rows).violations(values, tol, scaled)
        return [(rows[i].name, float(amount)) for i, amount in zip(bad, excess)]
