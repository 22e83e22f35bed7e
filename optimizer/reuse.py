"""Reuse a solved plan for a what-if whose model only tightens the solved one: no solve, the same proof.

Let S be the feasible set of a solved model and S' that of a what-if's model. When
- both have the same variables (names, order, integrality), the same rows (names, order, coefficients), the
  same goals (objective terms, with the mean pay that turns a budget overrun into heads) and the same
  ``objective`` and ``solver`` settings,
- every variable bound and every row range of S' lies within S's (lb' ≥ lb, ub' ≤ ub, lo' ≥ lo, hi' ≤ hi),
then S' ⊆ S. If the solved plan x also lies in S' (bounds, integrality, rows within the solver's feasibility
tolerance), x is as good for S' as it was for S, stage by stage: stage k's optimum over S' and the fixing
rows of stages < k (the same rows, since x attains the same goal values) is at least its optimum over S and
those rows, so every bound a stage proved still holds, x attains the same objective, and every gap is
unchanged. Typical what-ifs: a lower budget growth, a unit's tighter headcount bound, each where the plan
already keeps within the new limit. Anything else (a looser limit, a changed coefficient such as a rate
cap, which multiplies a stock, a new horizon) is solved as usual.

A :class:`Reference` keeps only what the proof needs (about 32 bytes per row and 25 per variable): bounds,
row ranges, a digest of each row's coefficients and of the names, the goals' digest, the settings and the
plan. Every graded plan folder holds its own as ``reference.npz``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from models.io import InputError, Problem
from models.scenario import Scenario
from optimizer.linear_model import Expr, LinearModel, row_activities, row_arrays, row_sums
from optimizer.solve import Solution, StageResult, stage_terms

FEASIBILITY_TOLERANCE = 1e-6
"""A row holds when it is violated by at most this · max(1, |activity|) (as :meth:`LinearModel.row_violations`)."""

REFERENCE_FILE = "reference.npz"


@dataclass(frozen=True)
class Reference:
    """A solved model reduced to what :func:`reuse_solution` needs to prove its plan for a later model."""

    names: bytes
    """Digest of the variable names and the row names, in order."""
    integer: np.ndarray
    lb: np.ndarray
    ub: np.ndarray
    row_lo: np.ndarray
    row_hi: np.ndarray
    row_digests: np.ndarray
    """:func:`expr_digests` of the rows the formulation built."""
    goals: bytes
    settings: str
    solution: Solution
    label: str
    """Where the plan came from (its plan folder), for the summary."""


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def _mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: a bijection of 64-bit words that spreads every input bit over the output."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def expr_digests(exprs: list[Expr]) -> np.ndarray:
    """A 128-bit digest of each expression, shape (n, 2) uint64: per lane, Σ mix(column, coefficient bits)
    modulo 2^64 over its terms, so the order of the terms does not matter. Vectorised over all terms."""
    starts, columns, coefficients = row_arrays(exprs)
    column_bits = _mix64(columns.astype(np.uint64))
    value_bits = coefficients.view(np.uint64)
    with np.errstate(over="ignore"):
        lanes = (_mix64(column_bits ^ value_bits), _mix64(column_bits + _mix64(value_bits ^ np.uint64(0x9E3779B97F4A7C15))))
    return np.stack([row_sums(starts, lane) for lane in lanes], axis=1)


def _names_digest(model: LinearModel, rows: int) -> bytes:
    names = "\n".join(model.var_names) + "\n\n" + "\n".join(row.name for row in model.rows[:rows])
    return _digest(names.encode())


def _goals_digest(model: LinearModel, mean_pay: float) -> bytes:
    goals = stage_terms(model, mean_pay)
    names = sorted(goals)
    return _digest("\n".join(names).encode() + expr_digests([goals[name] for name in names]).tobytes())


def settings_key(scenario: Scenario) -> str:
    """The scenario settings a plan's proof depends on besides the model: the objective and the solver."""
    return json.dumps(
        {"objective": scenario.objective.model_dump(mode="json"), "solver": scenario.solver.model_dump(mode="json")},
        sort_keys=True,
    )


def _bounds(model: LinearModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.asarray(model.integer, dtype=bool), np.asarray(model.lb, dtype=float), np.asarray(model.ub, dtype=float)


def _ranges(model: LinearModel, rows: int) -> tuple[np.ndarray, np.ndarray]:
    built = model.rows[:rows]
    return (np.fromiter((row.lo for row in built), dtype=float, count=len(built)),
            np.fromiter((row.hi for row in built), dtype=float, count=len(built)))


def make_reference(
    model: LinearModel, built_rows: int, scenario: Scenario, mean_pay: float, solution: Solution, label: str
) -> Reference:
    """The reference of a solved ``model`` whose first ``built_rows`` rows came from the formulation (the
    solve driver appends its fixing rows after them)."""
    if solution.values is None:
        raise ValueError("only a solved model (one with a plan) can be a reference")
    integer, lb, ub = _bounds(model)
    row_lo, row_hi = _ranges(model, built_rows)
    digests = expr_digests([row.expr for row in model.rows[:built_rows]])
    return Reference(_names_digest(model, built_rows), integer, lb, ub, row_lo, row_hi, digests,
                     _goals_digest(model, mean_pay), settings_key(scenario), solution, label)


def tightening_failure(reference: Reference, model: LinearModel, scenario: Scenario, mean_pay: float) -> str:
    """Why ``model`` is not the reference's model with bounds and ranges as tight or tighter ("" when it is)."""
    rows = len(model.rows)
    if settings_key(scenario) != reference.settings:
        return "the objective or solver settings differ"
    if rows != len(reference.row_lo) or _names_digest(model, rows) != reference.names:
        return "the variables or rows differ"
    integer, lb, ub = _bounds(model)
    if not np.array_equal(integer, reference.integer):
        return "the integer variables differ"
    looser = np.flatnonzero((lb < reference.lb) | (ub > reference.ub))
    if looser.size:
        return f"variable {model.var_names[looser[0]]} has looser bounds"
    row_lo, row_hi = _ranges(model, rows)
    looser = np.flatnonzero((row_lo < reference.row_lo) | (row_hi > reference.row_hi))
    if looser.size:
        return f"row {model.rows[looser[0]].name} is looser"
    if _goals_digest(model, mean_pay) != reference.goals:
        return "the goals differ"
    changed = np.flatnonzero((expr_digests([row.expr for row in model.rows]) != reference.row_digests).any(axis=1))
    if changed.size:
        return f"row {model.rows[changed[0]].name} has other coefficients"
    return ""


def plan_violation(model: LinearModel, values: np.ndarray) -> str:
    """The first bound, integrality or row of ``model`` that ``values`` break ("" when none)."""
    integer, lb, ub = _bounds(model)
    tolerance = FEASIBILITY_TOLERANCE * np.maximum(1.0, np.abs(values))
    outside = np.flatnonzero((values < lb - tolerance) | (values > ub + tolerance))
    if outside.size:
        return f"variable {model.var_names[outside[0]]} is outside its bounds"
    fractional = np.flatnonzero(integer & (np.abs(values - np.round(values)) > FEASIBILITY_TOLERANCE))
    if fractional.size:
        return f"variable {model.var_names[fractional[0]]} is not whole"
    activity = row_activities(model.rows, values)
    row_lo, row_hi = _ranges(model, len(model.rows))
    excess = np.maximum(np.maximum(row_lo - activity, activity - row_hi), 0.0)
    broken = np.flatnonzero(excess > FEASIBILITY_TOLERANCE * np.maximum(1.0, np.abs(activity)))
    if broken.size:
        return f"row {model.rows[broken[0]].name} is violated by {excess[broken[0]]:.6g}"
    return ""


def reuse_solution(
    reference: Reference, model: LinearModel, scenario: Scenario, mean_pay: float
) -> tuple[Solution | None, str]:
    """(the reference's solution for ``model``, "") when the proof above holds, else (None, why not).
    The reused stages keep their status, objective, bound and gap, with 0 seconds and a note."""
    reason = tightening_failure(reference, model, scenario, mean_pay) or plan_violation(
        model, reference.solution.values
    )
    if reason:
        return None, reason
    solved = reference.solution
    note = f"reused from {reference.label}: this model only tightens that one, and its plan holds here"
    stages = [replace(stage, seconds=0.0, note=note) for stage in solved.stages]
    terms = {name: model.evaluate(expr, solved.values) for name, expr in model.objective_terms.items()}
    return Solution(solved.status, solved.values, stages, terms, solved.message), ""


def save_reference(reference: Reference, path: Path) -> None:
    """``reference`` as one ``.npz`` file: the arrays, plus the digests, settings and stages as JSON text."""
    solution = reference.solution
    about = {
        "names": reference.names.hex(), "goals": reference.goals.hex(), "settings": reference.settings,
        "status": solution.status, "message": solution.message, "stages": [asdict(s) for s in solution.stages],
    }
    with path.open("wb") as handle:
        np.savez(handle, integer=reference.integer, lb=reference.lb, ub=reference.ub, row_lo=reference.row_lo,
                 row_hi=reference.row_hi, row_digests=reference.row_digests, values=solution.values,
                 about=np.array(json.dumps(about)))


def load_reference(plan_dir: Path) -> Reference:
    """The reference a plan folder holds; raises InputError naming the folder when it has none."""
    path = Path(plan_dir) / REFERENCE_FILE
    if not path.is_file():
        raise InputError(str(plan_dir), [Problem(
            file=REFERENCE_FILE, expected="the solved model of a plan that `wfplan solve` wrote from input tables "
            "(this folder has none)")])
    with np.load(path, allow_pickle=False) as arrays:
        about = json.loads(str(arrays["about"]))
        solution = Solution(about["status"], arrays["values"], [StageResult(**s) for s in about["stages"]], {},
                            about["message"])
        return Reference(bytes.fromhex(about["names"]), arrays["integer"], arrays["lb"], arrays["ub"],
                         arrays["row_lo"], arrays["row_hi"], arrays["row_digests"], bytes.fromhex(about["goals"]),
                         about["settings"], solution, str(plan_dir))
