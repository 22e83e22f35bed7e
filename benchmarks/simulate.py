"""Simulation speed: ``wfplan simulate``'s engine on the plan of a generated group, against an unvectorised
baseline in the same run.

1. The plan: the shipped ``baseline`` scenario solved on a generated group (``--employees``, 50 units, seed 1;
   the group and its plan are cached under ``--cache`` and reused while they exist).
2. Loading: :func:`optimizer.simulate.folder.load_plan_inputs` (the plan's files and input tables → arrays).
3. Vectorised: :func:`optimizer.simulate.engine.simulate` with ``--reps`` repetitions (chunks of 1,000) in 1
   process and in ``--workers`` processes; the numbers must be identical (checked).
4. Baseline: the same engine one repetition at a time (``simulate_chunk(inputs, 1, seed, k)``, what a loop over
   repetitions costs), timed on ``--baseline-reps`` repetitions and scaled to ``--reps``.

    /tmp/venv/bin/python benchmarks/simulate.py                       # 100,000 employees, 10,000 repetitions
    /tmp/venv/bin/python benchmarks/simulate.py --employees 10000 --reps 2000

Writes ``benchmarks/results/simulate.md`` and ``simulate.csv`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from models.scenario_files import load_scenario, scenario_path
from models.synthetic import write_generated
from optimizer.pipeline import run_plan
from optimizer.plan.folders import folder_kind
from optimizer.distributed.base import Where
from optimizer.simulate.cluster import cluster_runner
from optimizer.simulate.engine import simulate, simulate_chunk
from optimizer.simulate.folder import load_plan_inputs
from optimizer.simulate.results import all_met

UNITS, SEED = 50, 1
HERE = Path(__file__).resolve().parent


def cached_plan(cache: Path, employees: int, time_limit: float) -> Path:
    """The baseline plan of a generated group (generated and solved once, reused while it exists)."""
    data = cache / f"g{employees}_u{UNITS}_s{SEED}_parquet"
    if not (data / "employees.parquet").exists():
        write_generated(data, employees, UNITS, SEED, fmt="parquet")
    plan = cache / f"plan{employees}_u{UNITS}_s{SEED}"
    if folder_kind(plan) != "plan" or not (plan / "headcount.csv").exists():
        scenario = load_scenario(scenario_path("baseline"), [f"solver.time_limit={time_limit}"])
        run_plan(scenario, data, plan)
    return plan


def timed(action):
    began = time.perf_counter()
    result = action()
    return time.perf_counter() - began, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--employees", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--baseline-reps", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time-limit", type=float, default=120.0, help="solver.time_limit of the plan's solve")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "wfplan-bench")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()

    plan_seconds, plan = timed(lambda: cached_plan(args.cache, args.employees, args.time_limit))
    load_seconds, (inputs, _) = timed(lambda: load_plan_inputs(plan))
    cpu_before = time.process_time()
    one_seconds, one = timed(lambda: simulate(inputs, args.reps, args.seed))
    one_cpu = time.process_time() - cpu_before
    many_seconds, many = timed(lambda: simulate(inputs, args.reps, args.seed,
                                                cluster_runner(Where(None, args.workers))))
    identical = bool(np.array_equal(one.heads, many.heads) and np.array_equal(one.total, many.total))
    loop_seconds, _ = timed(lambda: [simulate_chunk(inputs, 1, args.seed, k) for k in range(args.baseline_reps)])
    loop_scaled = loop_seconds * args.reps / args.baseline_reps
    row = {
        "employees": args.employees, "states": len(inputs.states), "flows": sum(len(f.count) for f in inputs.flows),
        "horizon": inputs.horizon, "reps": args.reps, "cpus": os.cpu_count(),
        "plan s (solve or cache)": round(plan_seconds, 2), "load s": round(load_seconds, 2),
        "1 process s": round(one_seconds, 2), "1 process CPU s": round(one_cpu, 2),
        f"{args.workers} processes s": round(many_seconds, 2),
        "identical": identical,
        "one rep at a time s (scaled)": round(loop_scaled, 1),
        "speed-up vs one at a time": round(loop_scaled / min(one_seconds, many_seconds), 1),
        "p_all_met": float(all_met(one, inputs).mean()),
        "load average (1 min)": round(os.getloadavg()[0], 1),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame([row])
    frame.to_csv(args.out / "simulate.csv", index=False)
    table = "| " + " | ".join(frame.columns) + " |\n|" + "---|" * len(frame.columns) + "\n"
    table += "| " + " | ".join(str(v) for v in frame.iloc[0]) + " |\n"
    stamp = time.strftime("%Y-%m-%d %H:%M")
    (args.out / "simulate.md").write_text(f"# Simulation benchmark ({os.cpu_count()} cores, {stamp})\n\n{table}",
                                          encoding="utf-8")
    print(table)


if __name__ == "__main__":
    main()
