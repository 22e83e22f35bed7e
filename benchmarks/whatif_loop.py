"""The what-if loop (issue "a what-if loop planners can sit in"): stable re-plans, what-if seconds, always a plan.

Measures, on generated groups (cached under ``--cache``), in one process per measure:

1. **Stable re-plans** (the 20k demo group: 20 units, the demo's seed): the baseline plan, then
   - a non-binding what-if (``budget.growth`` 0.05 → 0.07) with the baseline as reference;
   - a tightening the plan keeps (``promotion.tier_rate`` 0.10 → 0.06: the plan is reused without a solve);
   - a binding one (``mobility.operations_to_technical`` 0.10 → 0.08: the plan breaks a year-2 cap) with the
     reference and without it;
   and for each the people whose year-1 action differs from the baseline (``wfplan compare``), and the
   what-if's wall time end to end (tables cached, as in a sweep worker).
2. **Unreachable target** (45k group, 30 units, seed 1; mix due in year 1 at ±0.1 points with operations →
   technical moves capped at 1%): ``wfplan solve`` with the diagnosis, ``solver.time_limit`` = ``--time-limit``:
   exit code, whether a plan was written, the mix stage's status, each stage's seconds and what stopped it,
   every solve of the run against the limit, end to end against the I/O floor (reading the tables, writing
   and verifying the plan). ``--unreachable-employees 300000`` runs the 300k group of the issue.

    /tmp/venv/bin/python benchmarks/whatif_loop.py                # both (~10 min on 2 quiet cores)
    /tmp/venv/bin/python benchmarks/whatif_loop.py --only stable

Writes ``benchmarks/results/whatif_loop.md``. Nothing here is asserted by the test suite.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from models.scenario_files import load_scenario, scenario_path
from models.synthetic import write_generated
from optimizer.cli.plan import DEMO_SEED
from optimizer.pipeline import run_plan
from optimizer.solvers.reuse import load_reference
from optimizer.whatif.compare import compare_runs
from optimizer.whatif.inputs_cache import cached_inputs

RESULTS = Path(__file__).parent / "results"
UNREACHABLE = ["mix.deadline=1", "mix.tolerance=0.001", "mobility.operations_to_technical=0.01"]
SOLVING = ("solve", "merit re-solve", "diagnosis")
"""The phases that draw from the run's budget of ``solver.time_limit`` (:mod:`optimizer.solvers.clock`)."""
IO_FLOOR = ("load+validate", "write", "verify")
"""Reading the tables, writing the plan and reading it back: what any run of that group costs."""


def group(cache: Path, employees: int, units: int, seed: int) -> Path:
    folder = cache / f"g{employees}_u{units}_s{seed}_csv"
    if not (folder / "employees.csv").exists():
        write_generated(folder, employees, units, seed)
    return folder


def stable(data: Path, scratch: Path, time_limit: float) -> list[tuple[str, str]]:
    """Rows (measure, value) of part 1."""
    limit = f"solver.time_limit={time_limit}"
    tables = cached_inputs(data)

    def plan(name: str, *overrides: str, reference=None) -> tuple[float, Path, dict]:
        began = time.perf_counter()
        result = run_plan(load_scenario(scenario_path("baseline"), [limit, *overrides]), data, scratch / name,
                          tables=tables, reference=reference)
        return time.perf_counter() - began, scratch / name, result.summary

    def split(summary: dict) -> str:
        """The solve's and the merit re-solve's seconds (where the time goes), and the stages' seconds."""
        timings = summary["timings"]
        stages = ", ".join(f"{s['term']} {s['seconds']:.1f}" for s in summary["solver"]["stages"])
        return f"{timings.get('solve', 0.0):.1f} / {timings.get('merit re-solve', 0.0):.1f} ({stages})"

    base_seconds, base_dir, base_summary = plan("base")
    base_reference = load_reference(base_dir)
    rows = [("baseline plan, s", f"{base_seconds:.1f} ({base_summary['status']})"),
            ("baseline plan: solve s / merit re-solve s", split(base_summary))]
    for label, overrides, with_reference in (
        ("non-binding what-if budget.growth=0.07, with the reference", ["budget.growth=0.07"], True),
        ("tightening the plan keeps, promotion.tier_rate=0.06, with the reference", ["promotion.tier_rate=0.06"],
         True),
        ("binding what-if mobility.operations_to_technical=0.08, with the reference",
         ["mobility.operations_to_technical=0.08"], True),
        ("binding what-if mobility.operations_to_technical=0.08, without it",
         ["mobility.operations_to_technical=0.08"], False),
    ):
        seconds, folder, summary = plan(label.split(",")[0].replace(" ", "_").replace("=", "-") +
                                        ("_ref" if with_reference else "_free"), *overrides,
                                        reference=base_reference if with_reference else None)
        changed = len(compare_runs([base_dir, folder])["people"])
        rows.append((f"{label}: people whose action differs", str(changed)))
        rows.append((f"{label}: end to end, s", f"{seconds:.1f} ({summary['status']})"))
        rows.append((f"{label}: solve s / merit re-solve s", split(summary)))
    return rows


def unreachable(data: Path, scratch: Path, time_limit: float) -> list[tuple[str, str]]:
    """Rows (measure, value) of part 2: ``wfplan solve`` in a subprocess, as a user runs it."""
    out = scratch / "unreachable"
    command = [sys.executable, "-c", "from optimizer.cli import main; main()", "solve", "baseline", "--data", str(data), "--out", str(out),
               *(arg for o in [*UNREACHABLE, f"solver.time_limit={time_limit}"] for arg in ("--set", o))]
    began = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - began
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8")) if (out / "summary.json").exists() else {}
    stages = {s["term"]: s for s in summary.get("solver", {}).get("stages", [])}
    timings = summary.get("timings", {})
    mix, merit = stages.get("mix", {}), summary.get("merit", {})
    solving = sum(timings.get(phase, 0.0) for phase in SOLVING)
    floor = sum(timings.get(phase, 0.0) for phase in IO_FLOOR)
    return [
        ("exit code", str(done.returncode) + ("" if done.returncode in (0, 3) else
                                               f" ({done.stderr.strip().splitlines()[-1:]})")),
        ("plan written", str((out / "actions.csv").exists())),
        ("mix stage: status, heads off the band / bound (gap), stopped by",
         f"{mix.get('status')}, {_heads(mix.get('objective'))} / {_heads(mix.get('bound'))} "
         f"({'none' if mix.get('gap') is None else format(mix['gap'], '.1%')}), {mix.get('stopped_by')}"
         + (f"; {mix['note']}" if mix.get("note") else "")),
        ("the plan: heads off the band (Σ years from the deadline)", _heads(summary.get("objective", {}).get("mix"))),
        ("stages (seconds, stopped by)", ", ".join(f"{s['term']} {s['seconds']:.1f} {s.get('stopped_by')}"
                                                    for s in stages.values())),
        ("solve s / diagnosis s", f"{timings.get('solve', float('nan')):.1f} / "
                                  f"{timings.get('diagnosis', float('nan')):.1f}"),
        ("merit: re-solve s; resolved / starved / unsolved; exceptions",
         f"{timings.get('merit re-solve', 0.0):.1f}; {merit.get('resolved')} / {bool(merit.get('starved'))} / "
         f"{bool(merit.get('unsolved'))}; {merit.get('exceptions')}"),
        ("every solve of the run (solve, merit re-solve, diagnosis) s / time_limit",
         f"{solving:.1f} / {time_limit:g} ({solving / time_limit:.2f}×)"),
        ("diagnosis: relaxations that restore (shown insufficient); searches left with undecided probes; "
         "earliest year", _diagnosed(summary.get("diagnosis", {}))),
        ("end to end, s", f"{seconds:.1f}"),
        ("I/O floor (load+validate, write, verify), s; end to end / floor",
         f"{floor:.1f}; {seconds / floor:.1f}×" if floor else "n/a"),
    ]


def _diagnosed(diagnosis: dict) -> str:
    """What the diagnosis found: each restoring key with its value (and the closest value shown not to), the
    keys whose search left probes undecided, and the earliest year (or why not)."""
    if not diagnosis:
        return "none"
    found = diagnosis.get("relaxations", [])
    restoring = ", ".join(f"{r['key']} {r['to']:g} ({r['insufficient']:g})" for r in found
                          if r["restores"] and not isinstance(r["to"], bool | str)) or "none"
    undecided = ", ".join(f"{r['key']} ({len(r['undecided'])})" for r in found if r["undecided"]) or "none"
    year = diagnosis.get("earliest_year") or ("undecided" if diagnosis.get("earliest_year_undecided") else "none")
    return f"{restoring}; {undecided}; {year}"


def _heads(value: float | None) -> str:
    return "none" if value is None else f"{value:,.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "wfplan-bench")
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--only", choices=["stable", "unreachable"])
    parser.add_argument("--stable-employees", type=int, default=20_000)
    parser.add_argument("--unreachable-employees", type=int, default=45_000)
    args = parser.parse_args()
    sections = []
    with tempfile.TemporaryDirectory() as scratch:
        if args.only in (None, "stable"):
            rows = stable(group(args.cache, args.stable_employees, 20, DEMO_SEED), Path(scratch), args.time_limit)
            sections.append((f"Stable re-plans, {args.stable_employees:,} employees (20 units)", rows))
        if args.only in (None, "unreachable"):
            rows = unreachable(group(args.cache, args.unreachable_employees, 30, 1), Path(scratch), args.time_limit)
            sections.append((f"Unreachable target, {args.unreachable_employees:,} employees (30 units)", rows))
    measured = {title: "| measure | value |\n|---|---|\n" + "\n".join(f"| {m} | {v} |" for m, v in rows)
                for title, rows in sections}
    path = RESULTS / "whatif_loop.md"
    text = results_text(path.read_text(encoding="utf-8") if path.exists() else "", measured)
    RESULTS.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(text)


def results_text(existing: str, measured: dict[str, str]) -> str:
    """The results file: each section of ``existing`` (``## title`` and its table) replaced by the measured one
    of the same title, the others kept (a run with ``--only`` or another size), new titles last."""
    sections = dict(re.findall(r"^## (.+?)\n\n(.*?)\s*(?=^## |\Z)", existing, flags=re.M | re.S))
    sections.update(measured)
    return "# What-if loop\n\n" + "\n\n".join(f"## {title}\n\n{table}" for title, table in sections.items()) + "\n"


if __name__ == "__main__":
    main()
