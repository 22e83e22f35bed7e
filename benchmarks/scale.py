"""Speed at scale: every phase of one plan on generated groups of 10k, 100k and 1M employees, the
per-employee MILP baseline, and the I/O floor, each size in a fresh subprocess (so peak memory is its own).

    /tmp/venv/bin/python benchmarks/scale.py                       # 10k, 100k, 1M (about 15 minutes)
    /tmp/venv/bin/python benchmarks/scale.py --sizes 10000         # quick run
    /tmp/venv/bin/python benchmarks/scale.py --sizes 10000,100000 --baseline-sizes 10000 --baseline-limit 60

What one size measures (50 units, seed 1, the shipped ``baseline`` scenario: 3-year horizon; CSV inputs up to
``--parquet-from`` employees, Parquet above):

- ours: ``load`` (:func:`models.io.load_tables`), ``validate`` (the checks and dtype conversion of
  :func:`models.validation.load_inputs`), then :func:`optimizer.pipeline.run_plan` on those tables, whose
  timer gives ``cohorts, build, solve, plan, write, verify``; ``total`` is the wall time of all of it and
  ``peak MB`` the subprocess's ``ru_maxrss`` (which includes the what-if below).
- what-if: then, in the same process, :data:`WHAT_IF` (a lower budget growth) re-planned with the plan above
  as its reference (``wfplan solve --reference``, :mod:`optimizer.solvers.reuse`): the tables are in memory, the model
  is built, checked against the reference, and the plan written and verified. ``what-if s`` is its wall time;
  it solves only when the plan breaks the lower cap (then it costs about ``total``).
- floor: read the roster (pyarrow) and write an action list of the same number of rows and the same 16
  columns (pandas ``to_csv`` and pyarrow's CSV writer; the faster one counts); ``total / floor`` is how many
  times the minimal I/O a plan of that size needs.
- baseline (``--baseline-sizes``): the per-employee MILP of :mod:`benchmarks.per_employee` against the cohort
  model on the same data, both through :func:`optimizer.solvers.staged.solve_model` with HiGHS. The per-employee
  model is defined for a one-year horizon only, so this comparison runs the baseline scenario with
  ``horizon=1, mix.deadline=1`` and every stage proven (gap 0) for both models (build + solve timed; ``solver.time_limit`` =
  ``--baseline-limit`` per lexicographic stage). Objectives are compared stage by stage where both finish.

Results: ``benchmarks/results/scale.md`` and ``scale.csv`` (phases, what-if), ``baseline.csv`` (per-employee).
``benchmarks/resolve.py`` compares the what-if solved from scratch with the reused one.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
PHASES = ["load", "validate", "cohorts", "build", "solve", "plan", "write", "verify"]
UNITS, SEED = 50, 1
TARGETS = {1_000_000: (60.0, 2048.0), 100_000: (10.0, None)}
WHAT_IF = "budget.growth=0.03"
"""The one-parameter what-if re-solved after each plan (the scenario has 0.05), with that plan as reference."""
WHAT_IF_TARGET = (100_000, 3.0)
"""employees → (end-to-end seconds, peak MB) targets (benchmarks/README.md, "Targets"; reported, never asserted)."""


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kilobytes on Linux


def data_dir(cache: Path, n: int, parquet_from: int) -> Path:
    """Generated group of ``n`` employees (written once, reused while it exists)."""
    fmt = "parquet" if n >= parquet_from else "csv"
    folder = cache / f"g{n}_u{UNITS}_s{SEED}_{fmt}"
    if not (folder / f"employees.{fmt}").exists():
        from models.synthetic import write_generated

        write_generated(folder, n, UNITS, SEED, fmt=fmt)
    return folder


# ------------------------------------------------------------------------------------------ workers


def worker_ours(data: Path, time_limit: float | None) -> dict:
    """Every phase of one plan of the baseline scenario, in this (fresh) process."""
    from models.io import load_tables
    from models.scenario_files import load_scenario, scenario_path
    from models.validation import validated
    from optimizer.pipeline import run_plan

    overrides = [] if time_limit is None else [f"solver.time_limit={time_limit}"]
    scenario = load_scenario(scenario_path("baseline"), overrides)
    began = time.perf_counter()
    raw = load_tables(data)
    loaded = time.perf_counter()
    tables = validated(raw, str(data))
    validated_at = time.perf_counter()
    del raw
    with tempfile.TemporaryDirectory() as scratch:
        result = run_plan(scenario, data, Path(scratch) / "plan", tables=tables)
        total = time.perf_counter() - began
        what_if = load_scenario(scenario_path("baseline"), [*overrides, WHAT_IF])
        what_if_began = time.perf_counter()
        again = run_plan(what_if, data, Path(scratch) / "what-if", tables=tables, reference=result.reference)
        what_if_total = time.perf_counter() - what_if_began
    timings = result.summary["timings"]
    phases = {"load": loaded - began, "validate": validated_at - loaded,
              **{p: timings.get(p, 0.0) for p in PHASES[2:]}}
    solver = result.summary.get("solver", {})
    return {
        "phases": phases,
        "total": total,
        "peak_mb": peak_mb(),
        "status": result.summary["status"],
        "exit_code": result.exit_code,
        "model": result.summary["model"],
        "stages": [(s["term"], s["status"], s["objective"], s["seconds"]) for s in solver.get("stages", [])],
        "verified": result.summary.get("verification", {}).get("ok"),
        "what_if": {"total": what_if_total, "status": again.summary["status"], **again.summary["solver"]["reuse"]},
    }


def worker_floor(data: Path) -> dict:
    """Read the roster, write an action list of the same size: the least I/O any plan of this size needs."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    path = next(data.glob("employees.*"))
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "actions.csv"
        best = {}
        for writer in ("pandas", "pyarrow"):
            began = time.perf_counter()
            if path.suffix == ".parquet":
                table = pq.read_table(path)
            else:
                table = pacsv.read_csv(path)
            roster = table.select(["employee_id", "unit_id", "sequence", "tier", "grade", "salary"]).to_pandas()
            read = time.perf_counter() - began
            actions = pd.DataFrame({
                "employee_id": roster["employee_id"], "year": 1, "action": "stay",
                "from_unit": roster["unit_id"], "from_sequence": roster["sequence"], "from_tier": roster["tier"],
                "from_grade": roster["grade"], "to_unit": roster["unit_id"], "to_sequence": roster["sequence"],
                "to_tier": roster["tier"], "to_grade": roster["grade"], "old_salary": roster["salary"].astype(float),
                "new_salary": roster["salary"].astype(float) * 1.03, "reason": np.where(
                    np.arange(len(roster)) % 2 == 0, "rank 1 of 10 in U1 operations T1 G1: not selected", "stay"),
            })
            if writer == "pandas":
                actions.to_csv(out, index=False, lineterminator="\n", float_format="%.12g")
            else:
                pacsv.write_csv(pa.Table.from_pandas(actions, preserve_index=False), out)
            best[writer] = {"read": read, "write": time.perf_counter() - began - read,
                            "total": time.perf_counter() - began}
    fastest = min(best, key=lambda w: best[w]["total"])
    return {**best[fastest], "writer": fastest, "pandas_total": best["pandas"]["total"], "peak_mb": peak_mb()}


def worker_baseline(data: Path, limit: float) -> dict:
    """Cohort model against the per-employee model, one-year horizon, same data, same backend."""
    from dataclasses import replace

    from models.scenario_files import load_scenario, scenario_path
    from models.validation import load_inputs
    from optimizer.model.build import build_model
    from benchmarks.per_employee import build_per_employee_model
    from optimizer.model.kinds import graded_model_data
    from optimizer.solvers.staged import solve_model

    # every stage proven (gap 0) so the two models' stage objectives can be compared exactly; the baseline's
    # workload floors and the roster's salaries (premiums) left out: the per-employee model does not model them
    overrides = ["horizon=1", "mix.deadline=1", "solver.backend=highs", f"solver.time_limit={limit}",
                 "solver.gap=0", "objective.stage_gap={mix: 0, cost: 0, disruption: 0}",
                 "workload.headcount=0", "workload.operations=0"]
    scenario = load_scenario(scenario_path("baseline"), overrides)
    inputs = load_inputs(data)
    inputs = replace(inputs, employees=inputs.employees.assign(salary=float("nan")))  # blank: paid the table
    data_, _, roster = graded_model_data(inputs, scenario)
    runs = {}
    for name, build in (("ours", lambda: build_model(data_)),
                        ("per_employee", lambda: build_per_employee_model(data_, roster))):
        began = time.perf_counter()
        model, _ = build()
        built = time.perf_counter()
        solution = solve_model(model, scenario, data_.mean_pay)
        runs[name] = {
            "build": built - began,
            "solve": time.perf_counter() - built,
            "variables": model.n_vars,
            "rows": len(model.rows),
            "status": solution.status,
            "stages": [(s.term, s.status, s.objective, s.seconds) for s in solution.stages],
        }
        del model
    ours, theirs = runs["ours"], runs["per_employee"]
    # finished: a plan from every stage, none stopped by the time limit (a stage can end "feasible" at gap 0
    # when the solver's bound sits a hair under its objective)
    finished = all(
        run["status"] in ("optimal", "feasible") and all(stage[3] < 0.99 * limit for stage in run["stages"])
        for run in (ours, theirs)
    )
    equal = None
    if finished:
        equal = all(
            a[0] == b[0] and a[2] is not None and b[2] is not None
            and abs(a[2] - b[2]) <= 1e-6 * max(1.0, abs(a[2])) + 1e-9
            for a, b in zip(ours["stages"], theirs["stages"])
        )
    return {**runs, "finished": finished, "equal_objective": equal, "limit": limit}


# --------------------------------------------------------------------------------------- the parent


def run_worker(kind: str, data: Path, *extra: str) -> dict:
    """Run one worker in a fresh interpreter; its result is the JSON on the last line of stdout."""
    command = [sys.executable, __file__, "--worker", kind, "--data", str(data), *extra]
    began = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        return {"error": (done.stderr or done.stdout).strip().splitlines()[-1:], "seconds": time.perf_counter() - began}
    return json.loads(done.stdout.strip().splitlines()[-1])


def fmt(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def markdown(rows: list[dict], baseline: list[dict]) -> str:
    head = ["employees", "input", *PHASES, "total s", "peak MB", "floor s", "total / floor", "cohorts",
            "variables", "status", "what-if s", "what-if reused"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        lines.append("| " + " | ".join([
            f"{r['employees']:,}", r["input"], *(fmt(r.get(p)) for p in PHASES), fmt(r.get("total")),
            fmt(r.get("peak_mb"), 0), fmt(r.get("floor")), fmt(r.get("floor_ratio"), 1), str(r.get("n_cohorts", "—")),
            str(r.get("variables", "—")), str(r.get("status", "—")), fmt(r.get("what_if_total")),
            str(r.get("what_if_reused", "—")),
        ]) + " |")
    out = ["## Phases (seconds), baseline scenario, 3-year horizon, 50 units, HiGHS", "", *lines, ""]
    if baseline:
        head = ["employees", "ours build s", "ours solve s", "per-employee build s", "per-employee solve s",
                "per-employee variables", "per-employee status", "ratio per-employee / ours", "equal objective"]
        out += ["## Per-employee baseline (horizon 1, `mix.deadline=1`, HiGHS)", "",
                "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for b in baseline:
            out.append("| " + " | ".join([
                f"{b['employees']:,}", fmt(b.get("ours_build")), fmt(b.get("ours_solve")), fmt(b.get("pe_build")),
                fmt(b.get("pe_solve")), str(b.get("pe_variables", "—")), str(b.get("pe_status", "—")),
                fmt(b.get("ratio"), 1) + ("" if b.get("finished") else " (at least)"), str(b.get("equal_objective")),
            ]) + " |")
        out.append("")
    return "\n".join(out)


def targets(rows: list[dict], baseline: list[dict]) -> list[str]:
    """Where each performance target (benchmarks/README.md, "Targets") lands (never asserted)."""
    lines = []
    by_n = {r["employees"]: r for r in rows}
    for n, (seconds, mb) in TARGETS.items():
        r = by_n.get(n)
        if r is None or r.get("total") is None:
            continue
        worst = max(PHASES, key=lambda p: r.get(p) or 0.0)
        verdict = f"{n:,}: end to end {r['total']:.1f} s (target ≤ {seconds:.0f} s: {'met' if r['total'] <= seconds else 'MISSED'})"
        if mb is not None:
            verdict += f", peak {r['peak_mb']:.0f} MB (target ≤ {mb:.0f} MB: {'met' if r['peak_mb'] <= mb else 'MISSED'})"
        lines.append(f"{verdict}; largest phase {worst} {r[worst]:.1f} s")
    solves = [(n, by_n[n]["solve"]) for n in sorted(by_n) if by_n[n].get("solve") is not None]
    if len(solves) >= 2:
        spread = " → ".join(f"{n:,}: {s:.1f} s" for n, s in solves)
        flat = max(s for _, s in solves) <= 1.5 * min(s for _, s in solves)
        lines.append(f"solve time {spread} ({'flat' if flat else 'NOT flat'}: target max ≤ 1.5 × min)")
    for b in baseline:
        if b.get("ratio") is None:
            continue
        lines.append(f"per-employee at {b['employees']:,}: {b['ratio']:.1f}× slower"
                     f"{'' if b['finished'] else ' (at least; it did not finish)'}, equal objective: {b['equal_objective']}"
                     + (" (target ≥ 20×: " + ("met" if b["ratio"] >= 20 and b["equal_objective"] else "MISSED") + ")"
                        if b["employees"] == 100_000 else ""))
    n, seconds = WHAT_IF_TARGET
    r = by_n.get(n)
    if r is not None and r.get("what_if_total") is not None:
        verdict = "met" if r["what_if_total"] <= seconds else "MISSED"
        how = "reused the plan, no solve" if r["what_if_reused"] else f"solved again: {r['what_if_reason']}"
        lines.append(f"one-parameter what-if ({WHAT_IF}) at {n:,}, the plan as reference: {r['what_if_total']:.1f} s, "
                     f"{how} (target ≤ {seconds:.0f} s: {verdict}); a what-if that moves the optimum solves "
                     "again and costs about the total")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000", help="employee counts, comma-separated")
    parser.add_argument("--baseline-sizes", default="10000,100000",
                        help="sizes that also run the per-employee baseline ('' for none)")
    parser.add_argument("--baseline-limit", type=float, default=120.0, help="solver.time_limit of the baseline, s")
    parser.add_argument("--time-limit", type=float, default=None, help="solver.time_limit of our runs (scenario's by default)")
    parser.add_argument("--parquet-from", type=int, default=100_000, help="Parquet inputs from this size on")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "wfplan-bench",
                        help="where generated groups are kept")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for scale.md / scale.csv / baseline.csv")
    parser.add_argument("--worker", choices=["ours", "floor", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        result = {"ours": lambda: worker_ours(args.data, args.time_limit),
                  "floor": lambda: worker_floor(args.data),
                  "baseline": lambda: worker_baseline(args.data, args.baseline_limit)}[args.worker]()
        print(json.dumps(result, default=str))
        return

    sizes = [int(s) for s in args.sizes.split(",") if s]
    baseline_sizes = {int(s) for s in args.baseline_sizes.split(",") if s}
    extra = [] if args.time_limit is None else ["--time-limit", str(args.time_limit)]
    rows, baseline = [], []
    for n in sizes:
        data = data_dir(args.cache, n, args.parquet_from)
        print(f"[{n:,}] ours …", flush=True)
        ours = run_worker("ours", data, *extra)
        floor = run_worker("floor", data)
        row = {"employees": n, "input": "parquet" if n >= args.parquet_from else "csv"}
        if "error" in ours:
            row["status"] = f"error: {ours['error']}"
        else:
            row.update(ours["phases"], total=ours["total"], peak_mb=ours["peak_mb"], status=ours["status"],
                       n_cohorts=ours["model"]["cohorts"], variables=ours["model"]["variables"],
                       rows=ours["model"]["rows"], verified=ours["verified"],
                       stages=";".join(f"{t}:{s}:{o}:{sec}" for t, s, o, sec in ours["stages"]),
                       what_if_total=ours["what_if"]["total"], what_if_reused=ours["what_if"]["reused"],
                       what_if_reason=ours["what_if"]["reason"])
        if "error" not in floor:
            row.update(floor=floor["total"], floor_writer=floor["writer"], floor_pandas=floor["pandas_total"])
            if row.get("total"):
                row["floor_ratio"] = row["total"] / floor["total"]
        rows.append(row)
        print(f"[{n:,}] " + ", ".join(f"{p} {row.get(p, 0):.2f}" for p in PHASES)
              + f" | total {row.get('total', 0):.2f} s, peak {row.get('peak_mb', 0):.0f} MB, status {row.get('status')}"
              + (f" | floor {row['floor']:.2f} s ({row['floor_writer']}), ours = {row['floor_ratio']:.1f}× the floor"
                 if row.get("floor_ratio") else "")
              + (f" | what-if {row['what_if_total']:.2f} s (reused: {row['what_if_reused']})"
                 if row.get("what_if_total") is not None else ""), flush=True)
        if n in baseline_sizes:
            print(f"[{n:,}] per-employee baseline (horizon 1, limit {args.baseline_limit:g} s per stage) …", flush=True)
            b = run_worker("baseline", data, "--baseline-limit", str(args.baseline_limit))
            entry = {"employees": n}
            if "error" in b:
                entry["pe_status"] = f"error: {b['error']}"
            else:
                o, p = b["ours"], b["per_employee"]
                entry.update(ours_build=o["build"], ours_solve=o["solve"], ours_status=o["status"],
                             ours_variables=o["variables"], pe_build=p["build"], pe_solve=p["solve"],
                             pe_status=p["status"], pe_variables=p["variables"], pe_rows=p["rows"],
                             finished=b["finished"], equal_objective=b["equal_objective"],
                             ratio=(p["build"] + p["solve"]) / (o["build"] + o["solve"]),
                             ours_stages=";".join(f"{t}:{s}:{v}" for t, s, v, _ in o["stages"]),
                             pe_stages=";".join(f"{t}:{s}:{v}" for t, s, v, _ in p["stages"]))
                print(f"[{n:,}] ours build {o['build']:.2f} + solve {o['solve']:.2f} s ({o['status']}); per-employee "
                      f"build {p['build']:.2f} + solve {p['solve']:.2f} s ({p['status']}); ratio per-employee/ours "
                      f"{entry['ratio']:.1f}; objectives equal: {b['equal_objective']}", flush=True)
            baseline.append(entry)

    args.out.mkdir(parents=True, exist_ok=True)
    columns = list(dict.fromkeys(k for r in rows for k in r))
    with (args.out / "scale.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        writer.writerows(rows)
    if baseline:
        columns = list(dict.fromkeys(k for b in baseline for k in b))
        with (args.out / "baseline.csv").open("w", newline="") as handle:
            writer = csv.DictWriter(handle, columns)
            writer.writeheader()
            writer.writerows(baseline)
    verdicts = targets(rows, baseline)
    machine = f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d %H:%M')}"
    text = f"# Scale benchmark ({machine})\n\n" + markdown(rows, baseline) + "\n## Targets\n\n" + "\n".join(
        f"- {v}" for v in verdicts) + "\n"
    (args.out / "scale.md").write_text(text, encoding="utf-8")
    print("\n" + text)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
