"""Backend comparison: CBC, HiGHS, SCIP and CP-SAT on the same cohort models, stage by stage.

    /tmp/venv/bin/python benchmarks/backends.py                          # demo 20k group + 10k/50-unit group
    /tmp/venv/bin/python benchmarks/backends.py --time-limit 10 --backends highs,cbc

For each scenario the cohort model is built once per backend (fresh process each, so a crash or a stuck
solver cannot take the others down) and solved by :func:`optimizer.solvers.staged.solve_model` with the baseline
scenario's lexicographic stages (mix → cost → disruption), ``solver.time_limit`` = ``--time-limit`` seconds
for the whole solve, 1 thread. Per stage: status, objective, seconds. Results: ``benchmarks/results/backends.md`` and
``backends.csv``.

Groups: ``demo20k`` is the group ``wfplan demo`` solves (20,000 employees, 20 units, seed 2026); ``g10k`` is
the 10,000-employee, 50-unit group of ``benchmarks/scale.py`` (seed 1).
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
GROUPS = {"demo20k": (20_000, 20, 2026), "g10k": (10_000, 50, 1)}
BACKENDS = ["highs", "cbc", "scip", "cpsat"]


def worker(data: Path, backend: str, limit: float) -> dict:
    from models.scenario_files import load_scenario, scenario_path
    from models.validation import load_inputs
    from optimizer.model.build import build_model
    from optimizer.model.kinds import graded_model_data
    from optimizer.solvers.staged import solve_model

    scenario = load_scenario(scenario_path("baseline"), [f"solver.backend={backend}", f"solver.time_limit={limit}"])
    data_, _, _ = graded_model_data(load_inputs(data), scenario)
    began = time.perf_counter()
    model, _ = build_model(data_)
    built = time.perf_counter()
    solution = solve_model(model, scenario, data_.mean_pay)
    return {
        "build": built - began,
        "solve": time.perf_counter() - built,
        "status": solution.status,
        "message": solution.message,
        "variables": model.n_vars,
        "integer": sum(model.integer),
        "stages": [s.to_dict() for s in solution.stages],
        "terms": solution.terms,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--groups", default=",".join(GROUPS), help=f"comma-separated, from {', '.join(GROUPS)}")
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--time-limit", type=float, default=30.0, help="seconds per lexicographic stage")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "wfplan-bench")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.data, args.worker, args.time_limit), default=str))
        return

    from models.synthetic import write_generated

    rows = []
    for group in args.groups.split(","):
        n, units, seed = GROUPS[group]
        data = args.cache / f"{group}_csv"
        if not (data / "employees.csv").exists():
            write_generated(data, n, units, seed)
        for backend in args.backends.split(","):
            print(f"[{group}] {backend} …", flush=True)
            command = [sys.executable, __file__, "--worker", backend, "--data", str(data),
                       "--time-limit", str(args.time_limit)]
            began = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
            wall = time.perf_counter() - began
            if done.returncode != 0:
                tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
                rows.append({"group": group, "backend": backend, "stage": "—", "status": f"error: {tail[0][:120]}",
                             "objective": None, "seconds": wall})
                continue
            result = json.loads(done.stdout.strip().splitlines()[-1])
            for stage in result["stages"]:
                rows.append({"group": group, "backend": backend, "stage": stage["term"], "status": stage["status"],
                             "objective": stage["objective"], "bound": stage["bound"], "gap": stage["gap"],
                             "seconds": stage["seconds"]})
            rows.append({"group": group, "backend": backend, "stage": "all", "status": result["status"],
                         "objective": None, "seconds": result["build"] + result["solve"],
                         "variables": result["variables"], "integer": result["integer"]})
            print(f"[{group}] {backend}: {result['status']} in {result['solve']:.1f} s "
                  + ", ".join(f"{s['term']} {s['status']} {s['objective']}" for s in result["stages"]), flush=True)

    args.out.mkdir(parents=True, exist_ok=True)
    columns = list(dict.fromkeys(k for r in rows for k in r))
    with (args.out / "backends.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        writer.writerows(rows)
    lines = [f"# Backend comparison (baseline scenario, {args.time_limit:g} s for the whole solve, 1 thread)", "",
             "| group | backend | stage | status | objective | gap | seconds |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        objective = "—" if r.get("objective") is None else f"{r['objective']:.6g}"
        gap = "—" if r.get("gap") is None else f"{r['gap']:.2%}"
        stage = r["stage"] if r["stage"] != "all" else "**all (build + solve)**"
        lines.append(f"| {r['group']} | {r['backend']} | {stage} | {r['status']} | {objective} | {gap} | {r['seconds']:.1f} |")
    text = "\n".join(lines) + "\n"
    (args.out / "backends.md").write_text(text, encoding="utf-8")
    print("\n" + text)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
