"""Re-solve speed: a baseline run against a one-value what-if in the same process.

1. Pipeline (what sweep and frontier workers do): the baseline run loads and validates the tables, as a
   worker does at its first point; the what-if changes one scenario value and reuses the validated tables
   from :mod:`optimizer.inputs_cache`, as a worker does at every later point.
2. Setup alone (load+validate, cohorts, build; best of REPEATS), cold against the cached tables: the part of
   a run the cache addresses, measured without the solver's run-to-run noise.
3. Solver probe (the next lever, not used by the pipeline): the what-if's first stage (target miss) solved
   cold, then with the baseline's first-stage plan as its MIP start.

    /tmp/venv/bin/wfplan generate --employees 100000 --units 50 --seed 1 --out /tmp/g100k
    /tmp/venv/bin/python benchmarks/resolve.py /tmp/g100k --set budget.growth=0.03
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from models.io import InputTables
from models.scenario import Scenario
from models.scenario_files import load_scenario, scenario_path
from models.validation import load_inputs
from optimizer.backends import SolveResult, solve
from optimizer.formulation import build_model
from optimizer.inputs_cache import cached_inputs
from optimizer.pipeline import model_data, run_plan
from optimizer.solve import solver_options, stage_terms

REPEATS = 3


def timed_run(scenario: Scenario, data: Path, out: Path) -> tuple[dict[str, float], str]:
    """Phase seconds of one pipeline run on the cached tables (``load+validate`` is measured here, since
    the pipeline is handed the tables; ``total`` is the wall time) and the run's status."""
    began = time.perf_counter()
    tables = cached_inputs(data)
    loaded = time.perf_counter() - began
    result = run_plan(scenario, data, out, tables=tables)
    timings = {**result.summary["timings"], "load+validate": loaded, "total": time.perf_counter() - began}
    return timings, result.summary["status"]


def setup_seconds(scenario: Scenario, data: Path, cached: bool) -> float:
    """Best of REPEATS: tables (loaded, or from the cache) → cohorts → model, the phases before solving."""
    best = float("inf")
    for _ in range(REPEATS):
        began = time.perf_counter()
        tables = cached_inputs(data) if cached else load_inputs(data)
        built, _, _ = model_data(tables, scenario)
        build_model(built)
        best = min(best, time.perf_counter() - began)
    return best


def first_stage(
    scenario: Scenario, tables: InputTables, start: np.ndarray | None = None
) -> tuple[SolveResult, list[str]]:
    """The first lexicographic stage of ``scenario`` alone, and the model's variable names."""
    data, _, _ = model_data(tables, scenario)
    model, _ = build_model(data)
    goal = stage_terms(model, data.mean_pay)[scenario.objective.order[0]]
    return solve(model, goal, solver_options(scenario), start=start), model.var_names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, help="input tables (e.g. a generated 100k group)")
    parser.add_argument("--set", dest="what_if", default="budget.growth=0.03", help="the one value changed")
    parser.add_argument("--time-limit", type=float, default=300.0, help="solver.time_limit (per stage) of every solve")
    args = parser.parse_args()
    limit = [f"solver.time_limit={args.time_limit}"]
    baseline = load_scenario(scenario_path("baseline"), limit)
    what_if = load_scenario(scenario_path("baseline"), [*limit, args.what_if])

    with tempfile.TemporaryDirectory() as scratch:
        base, base_status = timed_run(baseline, args.data, Path(scratch) / "baseline")
        other, other_status = timed_run(what_if, args.data, Path(scratch) / "what-if")
    print(f"1. pipeline: baseline ({base_status}) vs what-if {args.what_if} ({other_status}), seconds")
    for phase in dict.fromkeys([*base, *other]):
        print(f"   {phase:<16}{base.get(phase, 0.0):>10.3f}{other.get(phase, 0.0):>10.3f}")
    print(f"   whole run: what-if / baseline = {other['total'] / base['total']:.3f}")

    loading, cached = (setup_seconds(what_if, args.data, cached=flag) for flag in (False, True))
    print(f"2. setup (tables, cohorts, model), best of {REPEATS}: loading the tables {loading:.3f} s, "
          f"cached tables {cached:.3f} s; cached / loading = {cached / loading:.3f}")

    tables = cached_inputs(args.data)
    seed, seed_names = first_stage(baseline, tables)
    cold, names = first_stage(what_if, tables)
    if seed.values is None or names != seed_names:
        print("3. solver probe skipped: the baseline has no first-stage plan, or the what-if changes the variables")
        return
    warm, _ = first_stage(what_if, tables, start=seed.values)
    print("3. what-if first stage (target miss), seconds: "
          f"cold {cold.seconds:.2f} ({cold.status}, {cold.objective}), "
          f"from the baseline's plan {warm.seconds:.2f} ({warm.status}, {warm.objective}); "
          f"warm / cold = {warm.seconds / cold.seconds:.3f}")


if __name__ == "__main__":
    main()
