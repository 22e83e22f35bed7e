"""benchmarks/scale.py end to end on a 500-employee group: the script runs, every phase is timed, the plan
verifies, the what-if reuses it, and the per-employee baseline reaches the cohort model's objective in every
stage; benchmarks/unit_blocks.py's bounds and plans keep the order weak duality gives them."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from models.synthetic import write_generated

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
PHASES = ["load", "validate", "cohorts", "build", "solve", "plan", "write", "verify"]


def test_scale_benchmark_times_every_phase_and_the_baseline_agrees(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "scale.py"), "--sizes", "500", "--baseline-sizes", "500",
         "--out", str(tmp_path), "--cache", str(tmp_path / "cache")],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    row = pd.read_csv(tmp_path / "scale.csv").iloc[0]
    assert row["employees"] == 500 and bool(row["verified"])
    assert all(row[phase] >= 0 for phase in PHASES)
    assert row["total"] >= sum(row[phase] for phase in PHASES)
    # budget growth 0.05 → 0.03: the plan's payroll falls with attrition, far below either cap, so it is reused
    # (no solve: that is what makes the what-if cheap). Its time is reported, not compared with the plan's:
    # two wall-clock readings depend on the machine's load.
    assert bool(row["what_if_reused"]) and row["what_if_total"] > 0
    baseline = pd.read_csv(tmp_path / "baseline.csv").iloc[0]
    assert bool(baseline["finished"]) and bool(baseline["equal_objective"])
    ours = [stage.split(":")[:2] for stage in baseline["ours_stages"].split(";")]
    assert [term for term, _ in ours] == ["mix", "cost", "disruption"]
    assert "Per-employee baseline" in (tmp_path / "scale.md").read_text(encoding="utf-8")


def test_simulation_benchmark_runs_and_its_processes_agree(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "simulate.py"), "--employees", "500", "--reps", "1500",
         "--baseline-reps", "20", "--repeat", "1", "--before", "HEAD", "--out", str(tmp_path),
         "--cache", str(tmp_path / "cache")],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    rows = pd.read_csv(tmp_path / "simulate.csv")
    assert list(rows["engine"]) == ["before (HEAD)", "now"]
    for _, row in rows.iterrows():
        assert row["employees"] == 500 and row["reps"] == 1500 and bool(row["identical"])
        assert row["1 process CPU s min"] > 0 and 0.0 <= row["p_all_met"] <= 1.0
        assert bool(row["agrees with now (4 s.e.)"])
    assert rows.iloc[-1]["1 process s min / now"] == 1.0


def test_unit_blocks_bounds_sit_below_the_plans_and_the_units_plans_hold_the_coupling_rows(tmp_path: Path) -> None:
    # The cost stage of a 2,000-employee, 10-unit group split by unit (benchmarks/unit_blocks.py). The baseline's
    # coupling rows are the group's: 3 budget rows, 6 hiring caps (2 sequences × 3 years), 6 mix-band rows (3
    # sequences × lower/upper, deadline year). Weak duality orders the numbers: the linear relaxation ≤ the
    # Lagrangian bound of the priced unit MIPs ≤ any plan; each unit improved within its own shares of the
    # coupling rows gives a plan of the whole model no dearer than the one it started from.
    spec = importlib.util.spec_from_file_location("unit_blocks", ROOT / "benchmarks" / "unit_blocks.py")
    unit_blocks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(unit_blocks)
    write_generated(tmp_path / "data", 2000, 10, 1)
    said: list[str] = []
    found = unit_blocks.measure(tmp_path / "data", str(ROOT / "scenarios" / "baseline.yaml"), 5.0, said.append)
    assert found["coupling_rows"] == 15
    slack = 1e-7 * abs(found["lp_bound"])
    assert found["lp_bound"] <= found["lagrangian_bound"] + slack
    assert found["lagrangian_bound"] <= found["improved_cost"] + slack <= found["start_cost"] + 2 * slack
    assert found["improved_broken"] <= 1e-5
    assert len(said) == 5
