"""Re-solve speed: a baseline run against a one-value what-if in the same process.

1. Pipeline (what sweep and frontier workers do): the baseline run loads and validates the tables, as a
   worker does at its first point; the what-if changes one scenario value and reuses the validated tables
   from :mod:`optimizer.whatif.inputs_cache`, as a worker does at every later point. The what-if runs twice: solved
   from scratch, and with the baseline's plan as its reference (``wfplan solve --reference``,
   :mod:`optimizer.solvers.reuse`), which takes that plan without a solve when the what-if only tightens the
   baseline's model and the plan keeps to it.
2. Setup alone (load+validate, cohorts, build; best of REPEATS), cold against the cached tables: the part of
   a run the cache addresses, measured without the solver's run-to-run noise.

    /tmp/venv/bin/wfplan generate --employees 100000 --units 50 --seed 1 --out /tmp/g100k
    /tmp/venv/bin/python benchmarks/resolve.py /tmp/g100k --set budget.growth=0.03
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from models.scenario import Scenario
from models.scenario_files import load_scenario, scenario_path
from models.validation import load_inputs
from optimizer.model.build import build_model
from optimizer.whatif.inputs_cache import cached_inputs
from optimizer.model.kinds import graded_model_data
from optimizer.pipeline import RunResult, run_plan
from optimizer.solvers.reuse import Reference

REPEATS = 3


def timed_run(
    scenario: Scenario, data: Path, out: Path, reference: Reference | None = None
) -> tuple[dict[str, float], RunResult]:
    """Phase seconds of one pipeline run on the cached tables (``load+validate`` is measured here, since
    the pipeline is handed the tables; ``total`` is the wall time) and the run's result."""
    began = time.perf_counter()
    tables = cached_inputs(data)
    loaded = time.perf_counter() - began
    result = run_plan(scenario, data, out, tables=tables, reference=reference)
    timings = {**result.summary["timings"], "load+validate": loaded, "total": time.perf_counter() - began}
    return timings, result


def setup_seconds(scenario: Scenario, data: Path, cached: bool) -> float:
    """Best of REPEATS: tables (loaded, or from the cache) → cohorts → model, the phases before solving."""
    best = float("inf")
    for _ in range(REPEATS):
        began = time.perf_counter()
        tables = cached_inputs(data) if cached else load_inputs(data)
        built, _, _ = graded_model_data(tables, scenario)
        build_model(built)
        best = min(best, time.perf_counter() - began)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, help="input tables (e.g. a generated 100k group)")
    parser.add_argument("--set", dest="what_if", default="budget.growth=0.03", help="the one value changed")
    parser.add_argument("--time-limit", type=float, default=300.0, help="solver.time_limit (the whole solve) of every solve")
    args = parser.parse_args()
    limit = [f"solver.time_limit={args.time_limit}"]
    baseline = load_scenario(scenario_path("baseline"), limit)
    what_if = load_scenario(scenario_path("baseline"), [*limit, args.what_if])

    with tempfile.TemporaryDirectory() as scratch:
        base, base_run = timed_run(baseline, args.data, Path(scratch) / "baseline")
        cold, cold_run = timed_run(what_if, args.data, Path(scratch) / "cold")
        reused, reused_run = timed_run(what_if, args.data, Path(scratch) / "reference", base_run.reference)
    reuse = reused_run.summary["solver"]["reuse"]
    print(f"1. pipeline, seconds: baseline ({base_run.summary['status']}), what-if {args.what_if} solved "
          f"({cold_run.summary['status']}), the same what-if with the baseline as reference "
          f"({reused_run.summary['status']}; {'reused' if reuse['reused'] else 'solved: ' + reuse['reason']})")
    for phase in dict.fromkeys([*base, *cold, *reused]):
        seconds = "".join(f"{run.get(phase, 0.0):>10.3f}" for run in (base, cold, reused))
        print(f"   {phase:<16}{seconds}")
    print(f"   whole run: solved what-if / baseline = {cold['total'] / base['total']:.3f}, "
          f"with the reference / baseline = {reused['total'] / base['total']:.3f}")
    for label, run in (("solved", cold_run), ("reused", reused_run)):
        stages = ", ".join(f"{s['term']} {s['objective']:,.6g} (gap {s['gap'] or 0:.2e})"
                           for s in run.summary["solver"]["stages"])
        print(f"   {label} what-if stages: {stages}")

    loading, cached = (setup_seconds(what_if, args.data, cached=flag) for flag in (False, True))
    print(f"2. setup (tables, cohorts, model), best of {REPEATS}: loading the tables {loading:.3f} s, "
          f"cached tables {cached:.3f} s; cached / loading = {cached / loading:.3f}")


if __name__ == "__main__":
    main()
