"""Reuse a solved plan for a what-if whose model only tightens the solved one: no solve, the same proof.

Let S be the feasible set of a solved model and S' that of a what-if's model. When
- both have the same variables (names, order, integrality), the same rows (names, order), the same goals
  (objective terms, with the mean pay that turns a budget overrun into heads) and the same ``objective`` and
  ``solver`` settings,
- every variable bound of S' lies within S's (lb' ≥ lb, ub' ≤ ub),
- every row of S' implies the row of S of the same name: its range lies within (lo' ≥ lo, hi' ≤ hi), and its
  coefficients are the same, or, in a one-sided row, move so that the row can only get harder to keep.
  In a row Σ c'·x ≤ hi' that is Σ (c'_j − c_j)·x_j ≥ 0 on the bounds of S': c'_j > c_j only where
  lb'_j ≥ 0 and c'_j < c_j only where ub'_j ≤ 0 (then Σ c·x ≤ Σ c'·x ≤ hi' ≤ hi); a row Σ c'·x ≥ lo' the
  other way round. A lower rate cap Σ promotions − r·x ≤ 0 (x a stock, ≥ 0) or a narrower mix band is such
  a row,
then S' ⊆ S. If the solved plan x also lies in S' (bounds, integrality, rows within the solver's feasibility
tolerance), x is as good for S' as it was for S, stage by stage: stage k's optimum over S' and the fixing
rows of stages < k (the same rows, since x attains the same goal values) is at least its optimum over S and
those rows, so every bound a stage proved still holds, x attains the same objective, and every gap is
unchanged. Typical what-ifs: a lower budget growth, a lower promotion or mobility rate cap, a narrower mix
band, a unit's tighter headcount bound, each where the plan already keeps within the new limit. Anything
else (a looser limit, a new horizon, another entry tier) is solved as usual.

A :class:`Reference` keeps only what the proof needs (about 12 bytes per coefficient, 24 per row and 25 per
variable): bounds, the rows (ranges and coefficients, compared exactly), a digest of the names and one of the
goals, the settings and the plan. Every graded plan folder holds its own as ``reference.npz``.

A what-if that is solved anyway is anchored to the reference (:func:`reference_flows`): its ``stability`` stage
(after the mix and cost goals, before the disruption tie-break; :mod:`optimizer.solvers.staged`) keeps as many
year-1 cohort flows as it can at the reference's values.
The anchor is the reference *model's* year-1 flows, not the written plan's: merit (:mod:`optimizer.plan.merit`)
deals each position's count per action over the position's cohorts, a function of those totals and the roster
only, so the model's flows name the reference's people again; the merit split itself is usually dearer than
the model's optimum (its later years re-solved), so a what-if fixed at its own cost could rarely reach it
(20k demo, budget growth raised: 970 flows apart, where the model's own flows are 0 apart). The reference
therefore also holds the names and values of its year-1 flows, for a what-if whose variables differ (another
horizon, entry tier or mapping); the same values are the what-if's start when they hold there
(:func:`reference_start`).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from models.io import InputError, Problem
from models.scenario import Scenario
from optimizer.solvers.base import Basis
from optimizer.solvers.linear_model import Expr, LinearModel, Row, row_arrays, row_sums
from optimizer.solvers.stability import Anchor
from optimizer.solvers.staged import ZERO_FIRST, Solution, StageResult, stage_terms

FEASIBILITY_TOLERANCE = 1e-6
"""A row holds when it is violated by at most this · max(1, |activity|) (as :meth:`LinearModel.row_violations`)."""

REFERENCE_FILE = "reference.npz"
BASIS_PREFIX = "merit_basis_"
"""Arrays ``merit_basis_columns_<goal>``, ``merit_basis_rows_<goal>`` of ``reference.npz``: the bases of merit's
re-solve (``Solution.bases``), the warm start of a what-if's later years (:mod:`optimizer.whatif.anchored`)."""


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
    row_starts: np.ndarray
    row_columns: np.ndarray
    row_coefficients: np.ndarray
    """The rows the formulation built, as a sparse matrix (:func:`optimizer.solvers.linear_model.row_arrays`)."""
    goals: bytes
    settings: str
    solution: Solution
    label: str
    """Where the plan came from (its plan folder), for the summary."""
    flow_names: list[str] | None = None
    """The names of the year-1 flow variables (None in a file written before they were kept)."""
    flow_values: np.ndarray | None = None
    """Their values in the solved model (before merit re-dealt them), in the same order."""
    merit: Solution | None = None
    """The written plan when merit re-dealt year 1 and the later years were solved again with year 1 fixed
    (:mod:`optimizer.plan.merit`): its values and stages; None when the plan is ``solution``'s."""
    merit_starved: bool = False
    """Merit's re-solve found no plan within the run's limit (``merit.starved``): the plan is the model's own,
    and a what-if that reuses ``solution`` keeps it too rather than trying that solve again."""


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def _expr_digest(expr: Expr) -> bytes:
    """Digest of an expression's terms, sorted by variable."""
    columns = np.fromiter(expr.keys(), dtype=np.int64, count=len(expr))
    coefficients = np.fromiter(expr.values(), dtype=float, count=len(expr))
    order = np.argsort(columns, kind="stable")
    return _digest(columns[order].tobytes() + coefficients[order].tobytes())


def _names_digest(model: LinearModel, rows: int) -> bytes:
    names = "\n".join(model.var_names) + "\n\n" + "\n".join(row.name for row in model.rows[:rows])
    return _digest(names.encode())


def _goals_digest(model: LinearModel, mean_pay: float) -> bytes:
    goals = stage_terms(model, mean_pay)
    return _digest(b"".join(name.encode() + _expr_digest(goals[name]) for name in sorted(goals)))


def settings_key(scenario: Scenario) -> str:
    """The scenario settings a plan's proof depends on besides the model: the objective and the solver."""
    return json.dumps(
        {"objective": scenario.objective.model_dump(mode="json"), "solver": scenario.solver.model_dump(mode="json")},
        sort_keys=True,
    )


_Bounds = tuple[np.ndarray, np.ndarray, np.ndarray]
"""(integer, lb, ub) of every column."""


def _bounds(model: LinearModel) -> _Bounds:
    return np.asarray(model.integer, dtype=bool), np.asarray(model.lb, dtype=float), np.asarray(model.ub, dtype=float)


@dataclass(frozen=True)
class _Rows:
    """Rows as arrays: ranges and the sparse matrix (:func:`optimizer.solvers.linear_model.row_arrays`)."""

    lo: np.ndarray
    hi: np.ndarray
    starts: np.ndarray
    columns: np.ndarray
    coefficients: np.ndarray

    @classmethod
    def of(cls, rows: list[Row]) -> _Rows:
        return cls(np.fromiter((row.lo for row in rows), dtype=float, count=len(rows)),
                   np.fromiter((row.hi for row in rows), dtype=float, count=len(rows)),
                   *row_arrays([row.expr for row in rows]))


def make_reference(
    model: LinearModel, built_rows: int, scenario: Scenario, mean_pay: float, solution: Solution, label: str,
    flows: Sequence[int] = (),
    merit: Solution | None = None,
    merit_starved: bool = False,
) -> Reference:
    """The reference of a solved ``model`` whose first ``built_rows`` rows came from the formulation (the
    solve driver appends its fixing rows after them); ``flows`` are its year-1 flow variables, kept at their
    values in ``solution`` (the model's, which name the plan's people through merit; module docstring);
    ``merit`` is the solve with year 1 fixed at the merit split, when there was one; ``merit_starved``: that
    solve found no plan in the run's limit (``merit.starved``)."""
    if solution.values is None:
        raise ValueError("only a solved model (one with a plan) can be a reference")
    integer, lb, ub = _bounds(model)
    rows = _Rows.of(model.rows[:built_rows])
    return Reference(_names_digest(model, built_rows), integer, lb, ub, rows.lo, rows.hi, rows.starts,
                     rows.columns.astype(np.int32), rows.coefficients, _goals_digest(model, mean_pay),
                     settings_key(scenario), solution, label, [model.var_names[var] for var in flows],
                     solution.values[list(flows)], merit, merit_starved)


def reference_flows(reference: Reference, model: LinearModel, flows: Sequence[int]) -> Anchor:
    """f_ref for each of ``model``'s year-1 ``flows`` (its variables, before any fixing row is added): the
    reference plan's value of the same variable, by position when the variable and row names are the
    reference's (same digest), else by name. A flow the reference lacks gets 0 (nobody took it there); flows
    only the reference has are skipped. Integer flows are rounded (the solver's values carry noise ~1e-9).
    Raises InputError when the names differ and the reference file predates the names of its flows."""
    same = _names_digest(model, len(model.rows)) == reference.names
    if same and reference.flow_values is not None and len(reference.flow_values) == len(flows):
        values = reference.flow_values
    elif same:
        values = reference.solution.values[list(flows)]
    elif reference.flow_names is None:
        raise _refused(reference.label, "it predates stable re-plans and this what-if has other variables: "
                                        "solve the reference again")
    else:
        by_name = dict(zip(reference.flow_names, reference.flow_values.tolist()))
        values = np.array([by_name.get(model.var_names[var], 0.0) for var in flows])
    return {var: float(round(value)) if model.integer[var] else float(value)
            for var, value in zip(flows, values.tolist())}


def tightening_failure(
    reference: Reference, model: LinearModel, bounds: _Bounds, rows: _Rows, scenario: Scenario, mean_pay: float
) -> str:
    """Why ``model`` (``bounds``, ``rows``: its columns and rows as arrays) does not imply the reference's model,
    as the module docstring states it ("" when it does)."""
    if settings_key(scenario) != reference.settings:
        return "the objective or solver settings differ"
    if len(model.rows) != len(reference.row_lo) or _names_digest(model, len(model.rows)) != reference.names:
        return "the variables or rows differ"
    integer, lb, ub = bounds
    if not np.array_equal(integer, reference.integer):
        return "the integer variables differ"
    looser = np.flatnonzero((lb < reference.lb) | (ub > reference.ub))
    if looser.size:
        return f"variable {model.var_names[looser[0]]} has looser bounds"
    looser = np.flatnonzero((rows.lo < reference.row_lo) | (rows.hi > reference.row_hi))
    if looser.size:
        return f"row {model.rows[looser[0]].name} is looser"
    if _goals_digest(model, mean_pay) != reference.goals:
        return "the goals differ"
    for position in _changed_rows(reference, rows):
        row = model.rows[position]
        begin, end = reference.row_starts[position], reference.row_starts[position + 1]
        before = dict(zip(reference.row_columns[begin:end].tolist(), reference.row_coefficients[begin:end].tolist()))
        if not _implies(row, before, lb, ub):
            return f"row {row.name} has other coefficients, not only tighter ones"
    return ""


def _changed_rows(reference: Reference, rows: _Rows) -> np.ndarray:
    """Positions of the rows whose terms (variables, coefficients, order) differ from the reference's."""
    starts, columns, coefficients = rows.starts, rows.columns, rows.coefficients
    lengths, before = np.diff(starts), np.diff(reference.row_starts)
    same_length = np.flatnonzero(lengths == before)
    # the terms of equally long rows, position by position
    counts = lengths[same_length]
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    new = np.repeat(starts[same_length], counts) + offsets
    old = np.repeat(reference.row_starts[same_length], counts) + offsets
    differs = (columns[new] != reference.row_columns[old]) | (coefficients[new] != reference.row_coefficients[old])
    changed = np.zeros(len(lengths), dtype=bool)
    changed[lengths != before] = True
    changed[np.repeat(same_length, counts)[differs]] = True
    return np.flatnonzero(changed)


def _implies(row: Row, before: Expr, lb: np.ndarray, ub: np.ndarray) -> bool:
    """Whether a one-sided ``row`` (with bounds lb, ub on its variables) implies the same row with the
    coefficients ``before`` and the same or a looser side: Σ (c' − c)·x ≥ 0 for a ≤ row, ≤ 0 for a ≥ row."""
    upper, lower = row.hi < math.inf, row.lo > -math.inf
    if upper == lower:
        return False
    sign = 1.0 if upper else -1.0
    for var in row.expr.keys() | before.keys():
        change = sign * (row.expr.get(var, 0.0) - before.get(var, 0.0))
        if (change > 0 and lb[var] < 0) or (change < 0 and ub[var] > 0):
            return False
    return True


def plan_violation(model: LinearModel, bounds: _Bounds, rows: _Rows, values: np.ndarray) -> str:
    """The first bound, integrality or row of ``model`` (``bounds``, ``rows``: its columns and rows as arrays)
    that ``values`` break ("" when none)."""
    integer, lb, ub = bounds
    tolerance = FEASIBILITY_TOLERANCE * np.maximum(1.0, np.abs(values))
    outside = np.flatnonzero((values < lb - tolerance) | (values > ub + tolerance))
    if outside.size:
        return f"variable {model.var_names[outside[0]]} is outside its bounds"
    fractional = np.flatnonzero(integer & (np.abs(values - np.round(values)) > FEASIBILITY_TOLERANCE))
    if fractional.size:
        return f"variable {model.var_names[fractional[0]]} is not whole"
    activity = row_sums(rows.starts, rows.coefficients * values[rows.columns])
    excess = np.maximum(np.maximum(rows.lo - activity, activity - rows.hi), 0.0)
    broken = np.flatnonzero(excess > FEASIBILITY_TOLERANCE * np.maximum(1.0, np.abs(activity)))
    if broken.size:
        return f"row {model.rows[broken[0]].name} is violated by {excess[broken[0]]:.6g}"
    return ""


def reuse_solution(
    reference: Reference, model: LinearModel, scenario: Scenario, mean_pay: float
) -> tuple[Solution | None, str]:
    """(the reference's solution for ``model``, "") when the proof above holds, else (None, why not).
    The reused stages keep their status, objective, bound and gap, with 0 seconds and a note."""
    bounds, rows = _bounds(model), _Rows.of(model.rows)
    reason = tightening_failure(reference, model, bounds, rows, scenario, mean_pay) or plan_violation(
        model, bounds, rows, reference.solution.values
    )
    if reason:
        return None, reason
    solved = reference.solution
    note = f"reused from {reference.label}: this model only tightens that one, and its plan holds here"
    stages = [replace(stage, seconds=0.0, note=note) for stage in solved.stages]
    terms = {name: model.evaluate(expr, solved.values) for name, expr in model.objective_terms.items()}
    return Solution(solved.status, solved.values, stages, terms, solved.message), ""


def inherited_bounds(
    reference: Reference, model: LinearModel, scenario: Scenario, mean_pay: float
) -> list[tuple[str, float, float]]:
    """(goal, value the reference fixed it at, the reference's bound) of the reference's stages up to its first
    without a bound (or its stability stage), when ``model`` only tightens the reference's (the module
    docstring's S' ⊆ S); else []. With the goals before a stage fixed at the reference's values, the stage's
    optimum over S' is at least its optimum over S, so the reference's bound holds for it
    (:func:`optimizer.solvers.staged.solve_model` proves a stage by it when its plan is close enough). A goal
    the reference reached at 0 by the shortcut was fixed at 0."""
    if tightening_failure(reference, model, _bounds(model), _Rows.of(model.rows), scenario, mean_pay):
        return []
    proven = []
    for stage in reference.solution.stages:
        if stage.term == "stability" or stage.objective is None or stage.bound is None:
            break
        shortcut = stage.term in ZERO_FIRST and stage.bound == 0.0 and stage.objective <= FEASIBILITY_TOLERANCE
        proven.append((stage.term, 0.0 if shortcut else stage.objective, stage.bound))
    return proven


def reference_start(reference: Reference, model: LinearModel) -> np.ndarray | None:
    """The reference's plan as the first stage's start of a what-if it does not settle (a looser limit, or a
    tighter one its plan still keeps but whose rows changed otherwise), when ``model`` has the reference's
    variables and rows (same names) and the plan keeps every bound, integrality and row of it; else None (a
    binding what-if: the plan breaks a new limit). Every stage then starts at least as well as the reference
    did, and a plan the goals leave as it was keeps every year-1 flow, so the stability stage has nothing to do."""
    values = reference.solution.values
    if len(values) != model.n_vars or _names_digest(model, len(model.rows)) != reference.names:
        return None
    return None if plan_violation(model, _bounds(model), _Rows.of(model.rows), values) else values


def save_reference(reference: Reference, path: Path) -> None:
    """``reference`` as one ``.npz`` file: the arrays, plus the digests, settings and stages as JSON text."""
    solution = reference.solution
    about = {
        "names": reference.names.hex(), "goals": reference.goals.hex(), "settings": reference.settings,
        "status": solution.status, "message": solution.message, "stages": [asdict(s) for s in solution.stages],
        "merit_stages": None if reference.merit is None else [asdict(s) for s in reference.merit.stages],
        "merit_starved": reference.merit_starved,
    }
    merit = {} if reference.merit is None else {"merit_values": reference.merit.values, **{
        f"{BASIS_PREFIX}{part}_{term}": getattr(basis, part)
        for term, basis in reference.merit.bases.items() for part in ("columns", "rows")}}
    with path.open("wb") as handle:
        np.savez(handle, integer=reference.integer, lb=reference.lb, ub=reference.ub, row_lo=reference.row_lo,
                 row_hi=reference.row_hi, row_starts=reference.row_starts,
                 row_columns=reference.row_columns, row_coefficients=reference.row_coefficients,
                 values=solution.values, about=np.array(json.dumps(about)),
                 flow_names=np.array("\n".join(reference.flow_names or [])), flow_values=reference.flow_values,
                 **merit)


def load_reference(plan_dir: Path) -> Reference:
    """The reference a plan folder holds; raises InputError naming the folder and the file when it has none,
    or one this version cannot read."""
    path = Path(plan_dir) / REFERENCE_FILE
    if not path.is_file():
        raise _refused(plan_dir, "this folder has none")
    try:
        with np.load(path, allow_pickle=False) as arrays:
            about = json.loads(str(arrays["about"]))
            solution = Solution(about["status"], arrays["values"], [StageResult(**s) for s in about["stages"]], {},
                                about["message"])
            names = str(arrays["flow_names"]) if "flow_names" in arrays.files else None
            flows = (None, None) if names is None else (names.split("\n") if names else [], arrays["flow_values"])
            bases = {name.removeprefix(f"{BASIS_PREFIX}columns_"): Basis(
                arrays[name], arrays[name.replace(f"{BASIS_PREFIX}columns_", f"{BASIS_PREFIX}rows_", 1)])
                for name in arrays.files if name.startswith(f"{BASIS_PREFIX}columns_")}
            merit = None if not about.get("merit_stages") else Solution(
                about["status"], arrays["merit_values"], [StageResult(**s) for s in about["merit_stages"]], {},
                bases=bases)
            return Reference(bytes.fromhex(about["names"]), arrays["integer"], arrays["lb"], arrays["ub"],
                             arrays["row_lo"], arrays["row_hi"], arrays["row_starts"],
                             arrays["row_columns"], arrays["row_coefficients"], bytes.fromhex(about["goals"]),
                             about["settings"], solution, str(plan_dir), *flows, merit,
                             bool(about.get("merit_starved", False)))
    except (OSError, ValueError, KeyError, TypeError) as exc:  # zip, JSON and missing-field errors alike
        raise _refused(plan_dir, f"this one cannot be read: {type(exc).__name__}: {exc}") from None


def _refused(plan_dir: str | Path, why: str) -> InputError:
    """The reference in ``plan_dir`` cannot serve, and ``why`` (exit 2, naming the folder and the file)."""
    expected = f"the solved model of a plan that `wfplan solve` wrote from input tables ({why})"
    return InputError(str(plan_dir), [Problem(file=REFERENCE_FILE, expected=expected)])
