"""How the cost stage decomposes by unit: the rows that couple units, the full linear relaxation, and the
Lagrangian bound of the units' own MIPs priced at its duals (issue 13's "decomposition by unit").

The cost stage with every target met (the mix goal's slacks fixed at 0, as when the mix stage proves 0) is

    min c·x  s.t.  A_u x_u ∈ local rows of unit u (every u),  Σ_u C_u x_u ≤ b  (the coupling rows),  x_u ∈ X_u,

where the coupling rows are those with columns of two units or more, or of none (the group's budget, hiring
caps and mix band). With y the coupling rows' duals of the linear relaxation (HiGHS's sign convention:
reduced cost = c − Cᵀy), every y gives the Lagrangian bound

    L(y) = Σ_u min { (c_u − C_uᵀy)·x_u : x_u ∈ X_u with unit u's local rows } + Σ_r y_r·b_r

(b_r the side of row r the dual's sign names), a lower bound on the MIP's optimum that is at least the linear
relaxation's when the units' problems are solved as MIPs. The script prints the sizes, the seconds and both
bounds, and how far the units' priced plans, put together, break the coupling rows (a Lagrangian plan is not
feasible in general: the bound is what it gives).

With ``--start-seconds S`` it also takes the plan a run's stages reach in S seconds (``solver.time_limit`` S:
on a large group, about the constructive start the cost stage begins from) and improves it unit by unit,
each unit held to its own share of every coupling row in that plan (C_u x_u ≤ C_u x̄_u): every unit's plan
is feasible for its problem (x̄_u is one), so the units' plans put together are feasible for the whole model
and cost no more than x̄.

    python benchmarks/unit_blocks.py /tmp/wfplan-bench/g100000_u50_s1_parquet
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import highspy
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.scenario_files import load_scenario  # noqa: E402
from models.validation import load_inputs  # noqa: E402
from optimizer.model.build import build_model  # noqa: E402
from optimizer.model.kinds import graded_model_data  # noqa: E402
from optimizer.solvers.base import Timer  # noqa: E402
from optimizer.solvers.highs_run import highs_lp, lp_arrays  # noqa: E402
from optimizer.solvers.staged import stage_terms  # noqa: E402
from optimizer.solvers.steps import solve_step  # noqa: E402

NO_UNIT = -1


def unit_of_columns(names: list[str], units: list[str]) -> np.ndarray:
    """Each column's unit (its position in ``units``): the first field of its name's label, ``kind[unit,…]``;
    :data:`NO_UNIT` for the group's columns (mix slacks, budget overruns)."""
    position = {unit: i for i, unit in enumerate(units)}
    return np.array([position.get(name.partition("[")[2].split(",")[0].rstrip("]"), NO_UNIT) for name in names])


def highs(lp: highspy.HighsLp, **options: object) -> highspy.Highs:
    solver = highspy.Highs()
    solver.setOptionValue("output_flag", False)
    for key, value in options.items():
        solver.setOptionValue(key, value)
    solver.passModel(lp)
    return solver


class UnitBlocks:
    """The model's rows split by unit: each unit's own rows and columns, solved one unit at a time."""

    def __init__(self, arrays: dict[str, np.ndarray], unit: np.ndarray, coupling: np.ndarray, units: int):
        self.arrays, self.unit, self.coupling, self.units = arrays, unit, coupling, units
        starts = arrays["starts"]
        self.row = np.repeat(np.arange(len(starts) - 1), np.diff(starts))

    def solve(self, cost: np.ndarray, shares_of: np.ndarray | None = None) -> tuple[np.ndarray, list[float], float]:
        """Every unit's MIP with ``cost`` on its own rows (and, given a plan ``shares_of``, each coupling row held
        to that plan's share of it): the units' plans as one, their seconds, the sum of their objectives."""
        a, row, columns, values = self.arrays, self.row, self.arrays["columns"], self.arrays["coefficients"]
        n = len(cost)
        plan, seconds, total = np.zeros(n), [], 0.0
        for u in range(self.units):
            mine = np.flatnonzero(self.unit == u)
            column_at = np.full(n, -1)
            column_at[mine] = np.arange(len(mine))
            touches = np.bincount(row[column_at[columns] >= 0], minlength=len(self.coupling)) > 0
            own = ~self.coupling & touches
            shared = self.coupling & touches if shares_of is not None else np.zeros_like(touches)
            rows = np.flatnonzero(own | shared)
            row_at = np.full(len(self.coupling), -1)
            row_at[rows] = np.arange(len(rows))
            keep = (row_at[row] >= 0) & (column_at[columns] >= 0)
            order = np.lexsort((column_at[columns[keep]], row_at[row[keep]]))
            lower, upper = a["row_lower"][rows].copy(), a["row_upper"][rows].copy()
            if shares_of is not None:
                share = np.bincount(row[keep], weights=values[keep] * shares_of[columns[keep]],
                                    minlength=len(self.coupling))[rows]
                held = shared[rows]
                upper[held] = np.where(np.isfinite(upper[held]), share[held] + 1e-7, upper[held])
                lower[held] = np.where(np.isfinite(lower[held]), share[held] - 1e-7, lower[held])
            block = highs_lp({
                "cost": cost[mine], "lower": a["lower"][mine], "upper": a["upper"][mine],
                "row_lower": lower, "row_upper": upper,
                "starts": np.concatenate(([0], np.cumsum(np.bincount(row_at[row[keep]], minlength=len(rows))))).astype(np.int32),
                "columns": column_at[columns[keep]][order].astype(np.int32),
                "coefficients": values[keep][order], "integer": a["integer"][mine]})
            solver = highs(block, mip_rel_gap=1e-6)
            began = time.perf_counter()
            solver.run()
            seconds.append(time.perf_counter() - began)
            total += solver.getInfo().objective_function_value
            plan[mine] = np.asarray(solver.getSolution().col_value)
        return plan, seconds, total


def measure(data_dir: Path, scenario_file: str, start_seconds: float = 0.0,
            say: Callable[[str], None] = print) -> dict[str, float]:
    """The numbers the module docstring describes, said line by line as they come and returned by name:
    ``lp_bound``, ``lagrangian_bound``, ``priced_broken`` (how far the priced plans put together break the
    coupling rows), ``coupling_rows`` and, with ``start_seconds``, ``start_cost``, ``improved_cost`` and
    ``improved_broken``; ``*_seconds`` the solves' times."""
    scenario = load_scenario(scenario_file)
    data, _, _ = graded_model_data(load_inputs(data_dir), scenario)
    model, index = build_model(data)
    found: dict[str, float] = {}
    start = None
    if start_seconds:
        began = time.perf_counter()
        limited = load_scenario(scenario_file, [f"solver.time_limit={start_seconds:g}"])
        start = solve_step(model.copy(), limited, data, Timer(), {}, index=index).values
        say(f"the stages' plan in {start_seconds:g} s: {time.perf_counter() - began:.1f} s"
            + ("" if start is not None else ", none found: nothing to improve"))
    goals = stage_terms(model, data.mean_pay)
    for var in goals["mix"]:  # every target met: the mix goal's slacks at 0
        model.ub[var] = 0.0
    arrays = lp_arrays(model, goals["cost"])
    integer = arrays["integer"]
    relaxed = highs_lp({**arrays, "integer": np.zeros(0, dtype=bool)})
    unit = unit_of_columns(model.var_names, list(data.units))
    starts, columns, values = arrays["starts"], arrays["columns"], arrays["coefficients"]
    row = np.repeat(np.arange(len(starts) - 1), np.diff(starts))
    lowest = np.minimum.reduceat(unit[columns], starts[:-1]) if len(columns) else np.zeros(0)
    highest = np.maximum.reduceat(unit[columns], starts[:-1]) if len(columns) else np.zeros(0)
    coupling = (lowest != highest) | (lowest == NO_UNIT)
    found["coupling_rows"] = int(coupling.sum())
    say(f"{model.n_vars:,} columns ({int(integer.sum()):,} integer), {len(coupling):,} rows, "
        f"{len(data.units)} units, {int(coupling.sum())} coupling rows")

    began = time.perf_counter()
    full = highs(relaxed, solver="ipm", run_crossover="off")
    full.run()
    found["lp_seconds"], found["lp_bound"] = time.perf_counter() - began, full.getInfo().objective_function_value
    say(f"full linear relaxation (interior point, no crossover): {found['lp_seconds']:.1f} s, "
        f"bound {found['lp_bound']:.6g}")
    dual = np.where(coupling, np.asarray(full.getSolution().row_dual), 0.0)
    side = np.where(dual < 0, arrays["row_upper"], arrays["row_lower"])
    priced = arrays["cost"] - np.bincount(columns, weights=dual[row] * values, minlength=model.n_vars)

    def broken(plan: np.ndarray) -> float:
        """How far ``plan`` breaks the coupling rows at most (≤ 0: it holds them)."""
        activity = np.bincount(row, weights=values * plan[columns], minlength=len(coupling))
        return float(np.maximum(activity - arrays["row_upper"], arrays["row_lower"] - activity)[coupling].max())

    blocks = UnitBlocks(arrays, unit, coupling, len(data.units))
    plan, seconds, total = blocks.solve(priced)
    found["lagrangian_bound"] = total + float(np.dot(dual[coupling], side[coupling]))
    found["lagrangian_seconds"], found["priced_broken"] = sum(seconds), broken(plan)
    bound = found["lagrangian_bound"]
    say(f"the units' MIPs at those prices: {sum(seconds):.1f} s in all, {min(seconds):.2f}–{max(seconds):.2f} s each; "
        f"Lagrangian bound {bound:.6g} ({(bound - found['lp_bound']) / abs(found['lp_bound']):+.4%} on the "
        f"relaxation's); their plans put together: cost {np.dot(arrays['cost'], plan):.6g}, the coupling rows broken "
        f"by up to {found['priced_broken']:.1f}")
    if start is not None:
        found["start_cost"] = float(np.dot(arrays["cost"], start))
        better, seconds, found["improved_cost"] = blocks.solve(arrays["cost"], shares_of=start)
        found["improved_seconds"], found["improved_broken"] = sum(seconds), broken(better)
        was, now = found["start_cost"], found["improved_cost"]
        say(f"the stages' plan: cost {was:.6g} ({(was - bound) / abs(bound):.3%} above the Lagrangian bound); improved "
            f"unit by unit within its shares: {now:.6g} ({(now - bound) / abs(bound):.3%} above), "
            f"{sum(seconds):.1f} s in all, {max(seconds):.2f} s at most; the coupling rows broken by up to "
            f"{found['improved_broken']:.2g} (the stages' plan: {broken(start):.2g})")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--scenario", default=str(Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"))
    parser.add_argument("--start-seconds", type=float, default=0.0,
                        help="improve the plan the stages reach in this many seconds unit by unit (0: do not)")
    args = parser.parse_args()
    measure(args.data, args.scenario, args.start_seconds)


if __name__ == "__main__":
    main()
