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

    python benchmarks/unit_blocks.py /tmp/wfplan-bench/g100000_u50_s1_parquet
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import highspy
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.scenario_files import load_scenario  # noqa: E402
from models.validation import load_inputs  # noqa: E402
from optimizer.model.build import build_model  # noqa: E402
from optimizer.model.kinds import graded_model_data  # noqa: E402
from optimizer.solvers.highs_run import highs_lp, lp_arrays  # noqa: E402
from optimizer.solvers.staged import stage_terms  # noqa: E402

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--scenario", default=str(Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"))
    args = parser.parse_args()

    scenario = load_scenario(args.scenario)
    data, _, _ = graded_model_data(load_inputs(args.data), scenario)
    model, _ = build_model(data)
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
    print(f"{model.n_vars:,} columns ({int(integer.sum()):,} integer), {len(coupling):,} rows, "
          f"{len(data.units)} units, {int(coupling.sum())} coupling rows")

    began = time.perf_counter()
    full = highs(relaxed, solver="ipm", run_crossover="off")
    full.run()
    lp_seconds, lp_bound = time.perf_counter() - began, full.getInfo().objective_function_value
    print(f"full linear relaxation (interior point, no crossover): {lp_seconds:.1f} s, bound {lp_bound:.6g}")
    dual = np.where(coupling, np.asarray(full.getSolution().row_dual), 0.0)
    side = np.where(dual < 0, arrays["row_upper"], arrays["row_lower"])
    priced = arrays["cost"] - np.bincount(columns, weights=dual[row] * values, minlength=model.n_vars)

    local_row = ~coupling[row]
    plan = np.zeros(model.n_vars)
    seconds, total = [], float(np.dot(dual[coupling], side[coupling]))
    for u in range(len(data.units)):
        mine = np.flatnonzero(unit == u)
        column_at = np.full(model.n_vars, -1)
        column_at[mine] = np.arange(len(mine))
        rows = np.flatnonzero(~coupling & (lowest == u))
        row_at = np.full(len(coupling), -1)
        row_at[rows] = np.arange(len(rows))
        keep = local_row & (row_at[row] >= 0)
        order = np.lexsort((column_at[columns[keep]], row_at[row[keep]]))
        counts = np.bincount(row_at[row[keep]], minlength=len(rows))
        block = highs_lp({
            "cost": priced[mine], "lower": arrays["lower"][mine], "upper": arrays["upper"][mine],
            "row_lower": arrays["row_lower"][rows], "row_upper": arrays["row_upper"][rows],
            "starts": np.concatenate(([0], np.cumsum(counts))).astype(np.int32),
            "columns": column_at[columns[keep]][order].astype(np.int32),
            "coefficients": values[keep][order], "integer": integer[mine]})
        solver = highs(block, mip_rel_gap=1e-6)
        began = time.perf_counter()
        solver.run()
        seconds.append(time.perf_counter() - began)
        total += solver.getInfo().objective_function_value
        plan[mine] = np.asarray(solver.getSolution().col_value)
    print(f"the units' MIPs at those prices: {sum(seconds):.1f} s in all, {min(seconds):.2f}–{max(seconds):.2f} s each; "
          f"Lagrangian bound {total:.6g} ({(total - lp_bound) / abs(lp_bound):+.4%} on the relaxation's)")
    activity = np.bincount(row, weights=values * plan[columns], minlength=len(coupling))
    broken = np.maximum(activity - arrays["row_upper"], arrays["row_lower"] - activity)
    print(f"the priced plans put together: cost {np.dot(arrays['cost'], plan):.6g}; "
          f"{int((broken[coupling] > 1e-6).sum())} coupling rows broken, by up to {broken[coupling].max():.1f}")


if __name__ == "__main__":
    main()
