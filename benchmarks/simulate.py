"""Simulation speed: ``wfplan simulate``'s engine on the plan of a generated group, against the engine of an
earlier revision and an unvectorised loop, all in the same run.

1. The plan: the shipped ``baseline`` scenario, with ``flow_convention: start_of_year`` (the convention every
   engine revision simulates; the baseline's ``decide_then_attrition`` came later), solved on a generated group
   (``--employees``, 50 units, seed 1; the group and its plan are cached under ``--cache`` and reused while they
   exist).
2. Loading: :func:`optimizer.simulate.folder.load_plan_inputs` (the plan's files and input tables → arrays).
3. Now: :func:`optimizer.simulate.engine.simulate` with ``--reps`` repetitions (chunks of 1,000) in 1 process
   and in ``--workers`` processes; the numbers must be identical (checked).
4. Before: ``optimizer/simulate/engine.py`` as it was at git revision ``--before`` (default: the engine before
   it ran in blocks), loaded from git and timed the same way, rounds alternating with the current engine's
   so that both see the same load. Its random stream may differ, so its numbers are compared in distribution
   (``p_all_met`` within four standard errors), not equality. ``--before none`` skips it.
5. One repetition at a time: the current engine called with one repetition per chunk
   (``simulate_chunk(inputs, 1, seed, k)``), timed on ``--baseline-reps`` repetitions and scaled to ``--reps``.

Every timing is repeated ``--repeat`` times (the machine is shared: read the minimum, and the median beside it).

    /tmp/venv/bin/python benchmarks/simulate.py                       # 100,000 employees, 10,000 repetitions
    /tmp/venv/bin/python benchmarks/simulate.py --employees 10000 --reps 2000 --repeat 1

Writes ``benchmarks/results/simulate.md`` and ``simulate.csv`` (or ``--out``): one row per engine.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from models.scenario_files import load_scenario, scenario_path
from models.synthetic import write_generated
from optimizer.distributed.base import Job, Where
from optimizer.distributed.executor import run_points
from optimizer.pipeline import run_plan
from optimizer.plan.folders import folder_kind
from optimizer.simulate.cluster import cluster_runner
from optimizer.simulate.engine import simulate, simulate_chunk
from optimizer.simulate.folder import load_plan_inputs
from optimizer.simulate.inputs import PlanInputs
from optimizer.simulate.results import all_met

UNITS, SEED = 50, 1
HERE = Path(__file__).resolve().parent
BEFORE = "a37759c"
"""The last revision whose engine simulated a chunk's 1,000 repetitions at once (before blocks)."""
BEFORE_MODULE = "wfplan_engine_before"


def cached_plan(cache: Path, employees: int, time_limit: float) -> Path:
    """The baseline plan of a generated group (generated and solved once, reused while it exists)."""
    data = cache / f"g{employees}_u{UNITS}_s{SEED}_parquet"
    if not (data / "employees.parquet").exists():
        write_generated(data, employees, UNITS, SEED, fmt="parquet")
    plan = cache / f"plan{employees}_u{UNITS}_s{SEED}"
    if folder_kind(plan) != "plan" or not (plan / "headcount.csv").exists():
        scenario = load_scenario(scenario_path("baseline"),
                                 [f"solver.time_limit={time_limit}", "flow_convention=start_of_year"])
        run_plan(scenario, data, plan)
    return plan


def timed(action: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall seconds, this process's CPU seconds, result) of ``action()``."""
    began, cpu = time.perf_counter(), time.process_time()
    result = action()
    return time.perf_counter() - began, time.process_time() - cpu, result


def before_engine(revision: str, folder: Path) -> Path:
    """The engine module of ``revision``, written to ``folder`` from git."""
    source = subprocess.run(["git", "show", f"{revision}:optimizer/simulate/engine.py"], cwd=HERE.parent,
                            capture_output=True, text=True, check=True).stdout
    path = folder / f"{BEFORE_MODULE}.py"
    path.write_text(source, encoding="utf-8")
    return path


def load_engine(path: Path) -> ModuleType:
    """The module at ``path``, registered as :data:`BEFORE_MODULE` (so its outcomes unpickle by name)."""
    if BEFORE_MODULE not in sys.modules:
        spec = importlib.util.spec_from_file_location(BEFORE_MODULE, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[BEFORE_MODULE] = module
        spec.loader.exec_module(module)
    return sys.modules[BEFORE_MODULE]


def before_chunk(inputs: tuple[PlanInputs, int, Path], chunk: tuple[int, int]) -> Any:
    """One chunk of the earlier engine (a point of :mod:`optimizer.distributed`, run in a worker process)."""
    plan, seed, path = inputs
    index, reps = chunk
    return load_engine(path).simulate_chunk(plan, reps, seed, index)


def before_failed(chunk: tuple[int, int], message: str) -> Any:
    raise RuntimeError(f"chunk {chunk[0]} of the earlier engine failed twice: {message}")


def before_runner(path: Path, workers: int) -> Callable[[PlanInputs, list[tuple[int, int]], int], list[Any]]:
    """The earlier engine's chunks in ``workers`` local processes."""
    def run(plan: PlanInputs, chunks: list[tuple[int, int]], seed: int) -> list[Any]:
        return run_points(Job(before_chunk, (plan, seed, path), chunks, before_failed), Where(None, workers))
    return run


def spread(values: list[float]) -> dict[str, float]:
    return {"min": round(min(values), 2), "median": round(statistics.median(values), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--employees", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="timings per engine and process count")
    parser.add_argument("--before", default=BEFORE, help="git revision of the engine to compare with, or none")
    parser.add_argument("--baseline-reps", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time-limit", type=float, default=120.0, help="solver.time_limit of the plan's solve")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "wfplan-bench")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()

    plan_seconds, _, plan = timed(lambda: cached_plan(args.cache, args.employees, args.time_limit))
    load_seconds, _, (inputs, _) = timed(lambda: load_plan_inputs(plan))
    load_before = round(os.getloadavg()[0], 1)
    engines: dict[str, tuple[Callable[..., Any], Callable[[int], Any]]] = {
        "now": (simulate, lambda workers: cluster_runner(Where(None, workers)))}
    with tempfile.TemporaryDirectory() as scratch:
        if args.before != "none":
            path = before_engine(args.before, Path(scratch))
            engines = {f"before ({args.before})": (load_engine(path).simulate,
                                                   lambda workers: before_runner(path, workers)), **engines}
        walls: dict[tuple[str, int], list[float]] = {(name, w): [] for name in engines for w in (1, args.workers)}
        cpus: dict[str, list[float]] = {name: [] for name in engines}
        results: dict[tuple[str, int], Any] = {}
        for _ in range(args.repeat):
            for name, (run, runner) in engines.items():
                wall, cpu, results[name, 1] = timed(lambda: run(inputs, args.reps, args.seed))
                walls[name, 1].append(wall)
                cpus[name].append(cpu)
                wall, _, results[name, args.workers] = timed(
                    lambda: run(inputs, args.reps, args.seed, runner(args.workers)))
                walls[name, args.workers].append(wall)
    loop_seconds, _, _ = timed(lambda: [simulate_chunk(inputs, 1, args.seed, k) for k in range(args.baseline_reps)])
    loop_scaled = loop_seconds * args.reps / args.baseline_reps
    now_p = float(all_met(results["now", 1], inputs).mean())
    rows = []
    for name in engines:
        one, many = results[name, 1], results[name, args.workers]
        p_all = float(all_met(one, inputs).mean())
        error = math.sqrt(max(p_all * (1 - p_all), now_p * (1 - now_p), 1e-12) * 2 / args.reps)
        rows.append({
            "engine": name, "employees": args.employees, "states": len(inputs.states),
            "flows": sum(len(f.count) for f in inputs.flows), "horizon": inputs.horizon, "reps": args.reps,
            "cpus": os.cpu_count(), "repeat": args.repeat,
            "plan s (solve or cache)": round(plan_seconds, 2), "load s": round(load_seconds, 2),
            "1 process s min": spread(walls[name, 1])["min"], "1 process s median": spread(walls[name, 1])["median"],
            "1 process CPU s min": spread(cpus[name])["min"],
            f"{args.workers} processes s min": spread(walls[name, args.workers])["min"],
            f"{args.workers} processes s median": spread(walls[name, args.workers])["median"],
            "identical": bool(np.array_equal(one.heads, many.heads) and np.array_equal(one.total, many.total)),
            "p_all_met": p_all,
            "agrees with now (4 s.e.)": abs(p_all - now_p) <= 4 * error,
            "one rep at a time s (scaled)": round(loop_scaled, 1),
            "load average (1 min) before, after": f"{load_before}, {round(os.getloadavg()[0], 1)}",
        })
    frame = pd.DataFrame(rows)
    for column in ("1 process s", f"{args.workers} processes s"):
        for stat in ("min", "median"):
            frame[f"{column} {stat} / now"] = (frame[f"{column} {stat}"] / frame.iloc[-1][f"{column} {stat}"]).round(2)
    args.out.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out / "simulate.csv", index=False)
    table = "| " + " | ".join(frame.columns) + " |\n|" + "---|" * len(frame.columns) + "\n"
    table += "".join("| " + " | ".join(str(v) for v in row) + " |\n" for row in frame.itertuples(index=False))
    stamp = time.strftime("%Y-%m-%d %H:%M")
    (args.out / "simulate.md").write_text(f"# Simulation benchmark ({os.cpu_count()} cores, {stamp})\n\n{table}",
                                          encoding="utf-8")
    print(table)


if __name__ == "__main__":
    main()
