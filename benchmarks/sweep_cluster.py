"""A 16-point sweep on the 20,000-employee demo group: the local process pool against a Dask LocalCluster,
both with the same number of one-thread workers, in one run (so the ratio is measured under the same load).

Each backend runs the whole sweep (``optimizer.whatif.sweep.run_sweep``: every point planned, written and
verified) from a cold start: the pool's processes or the LocalCluster's scheduler and workers are started
inside the timing, as ``wfplan sweep`` starts them. The tables must agree row for row (the wall-time column
aside); the script says so, or which points differ. The machine's load average is recorded before and after
each backend, since other jobs on a shared machine move the wall times.

    /tmp/venv/bin/python benchmarks/sweep_cluster.py                      # demo group, 4 × 4 grid, 2 workers
    /tmp/venv/bin/python benchmarks/sweep_cluster.py --order cluster,pool # the other order, to see drift
    /tmp/venv/bin/python benchmarks/sweep_cluster.py --set solver.time_limit=300   # a loaded machine
"""

from __future__ import annotations

import argparse
import csv
import os
import tempfile
import time
from pathlib import Path

import pandas as pd

from models.scenario_files import load_scenario, scenario_path
from models.synthetic import write_generated
from optimizer.distributed.base import LOCAL_CLUSTER, Where
from optimizer.whatif.sweep import parse_grids, run_sweep

DEMO_EMPLOYEES, DEMO_UNITS, DEMO_SEED = 20_000, 20, 2026
"""The group `wfplan demo` plans (optimizer/cli/plan.py)."""
GRIDS = ["budget.growth=0.03,0.04,0.05,0.06", "promotion.tier_rate=0.06,0.08,0.10,0.12"]
RESULTS = Path(__file__).parent / "results"


def demo_data(cache: Path) -> Path:
    folder = cache / f"demo_{DEMO_EMPLOYEES}_u{DEMO_UNITS}_s{DEMO_SEED}"
    if not (folder / "employees.csv").exists():
        write_generated(folder, DEMO_EMPLOYEES, DEMO_UNITS, DEMO_SEED)
    return folder


def timed_sweep(where: Where, data: Path, out: Path, overrides: list[str]) -> tuple[dict, pd.DataFrame]:
    scenario = load_scenario(scenario_path("baseline"), overrides)
    load_before = os.getloadavg()[0]
    began = time.perf_counter()
    table = run_sweep(scenario, parse_grids(GRIDS), data, out, where)
    wall = time.perf_counter() - began
    return {
        "backend": "process pool" if where.scheduler is None else "Dask LocalCluster",
        "workers": where.workers,
        "points": len(table),
        "wall s": round(wall, 1),
        "Σ point s": round(float(table["seconds"].sum()), 1),
        "overhead s": round(wall - float(table["seconds"].sum()) / where.workers, 1),
        "statuses": ", ".join(f"{status} {count}" for status, count in table["status"].value_counts().items()),
        "load before": round(load_before, 2),
        "load after": round(os.getloadavg()[0], 2),
    }, table


def rows(table: pd.DataFrame) -> pd.DataFrame:
    return table.drop(columns=["seconds"]).astype(object).where(table.drop(columns=["seconds"]).notna(), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--order", default="pool,cluster", help="which backend runs first")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a value of the baseline scenario for every point")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "wfplan-bench")
    args = parser.parse_args()
    data = demo_data(args.cache)
    backends = {"pool": Where(None, args.workers), "cluster": Where(LOCAL_CLUSTER, args.workers)}
    measured, tables = [], {}
    with tempfile.TemporaryDirectory(prefix="sweep-cluster-") as scratch:
        for name in args.order.split(","):
            row, tables[name] = timed_sweep(backends[name], data, Path(scratch) / name, args.overrides)
            measured.append(row)
            print(row, flush=True)
    first = measured[0]["wall s"]
    for row in measured:
        row["wall / first"] = round(row["wall s"] / first, 3)
    same = rows(tables["pool"]).equals(rows(tables["cluster"]))
    differ = [] if same else [int(p) for p, a, b in zip(tables["pool"]["point"], rows(tables["pool"]).to_dict("records"),
                                                          rows(tables["cluster"]).to_dict("records"), strict=True)
                                if a != b]
    RESULTS.mkdir(exist_ok=True)
    with open(RESULTS / "sweep_cluster.csv", "w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(measured[0]))
        writer.writeheader()
        writer.writerows(measured)
    header = "| " + " | ".join(measured[0]) + " |\n|" + " --- |" * len(measured[0]) + "\n"
    body = "".join("| " + " | ".join(str(v) for v in row.values()) + " |\n" for row in measured)
    verdict = "tables equal row for row" if same else f"tables differ at points {differ}"
    (RESULTS / "sweep_cluster.md").write_text(
        f"16-point sweep ({' × '.join(GRIDS)}) of `baseline` {' '.join(args.overrides)} on the demo group "
        f"({DEMO_EMPLOYEES:,} employees), "
        f"{args.workers} workers, {time.strftime('%Y-%m-%d %H:%M')}: {verdict}.\n\n{header}{body}", encoding="utf-8")
    print(verdict)


if __name__ == "__main__":
    main()
