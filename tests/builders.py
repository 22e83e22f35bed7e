"""Tiny hand-made groups for tests: write input tables, solve through the real pipeline, read the plan; and a
small mixed-integer model that keeps HiGHS busy."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from models.scenario_files import build_scenario
from optimizer.pipeline import run_plan
from optimizer.solvers.linear_model import LinearModel

# A flat pay table: base = 50,000 + 10,000·(tier−1) + 1,000·(grade−1) for operations; technical +10,000;
# management +30,000. Two tiers per sequence keep hand calculations short.
PAY_BASE = {"operations": 50_000, "technical": 60_000, "management": 80_000}


def pay_table(tiers: int = 2) -> pd.DataFrame:
    rows = [
        (sequence, tier, grade, base + 10_000 * (tier - 1) + 1_000 * (grade - 1))
        for sequence, base in PAY_BASE.items()
        for tier in range(1, tiers + 1)
        for grade in range(1, 6)
    ]
    return pd.DataFrame(rows, columns=["sequence", "tier", "grade", "base_salary"])


def pay_of(sequence: str, tier: int, grade: int) -> int:
    return PAY_BASE[sequence] + 10_000 * (tier - 1) + 1_000 * (grade - 1)


def people(unit: str, sequence: str, count: int, tier: int = 1, grade: int = 1, years: int = 3,
           eligible: bool = False, first: int = 0) -> list[dict]:
    """``count`` identical employees, performance strictly falling from 99 to 0 (a strict merit order)."""
    return [
        {
            "employee_id": f"{unit}-{sequence[0].upper()}{first + i:04d}",
            "unit_id": unit,
            "sequence": sequence,
            "tier": tier,
            "grade": grade,
            "performance": round(99 - 99 * i / max(1, count - 1), 3),
            "years_in_grade": years,
            "technical_eligible": eligible,
        }
        for i in range(count)
    ]


def unit(unit_id: str, score: float = 60.0, **extra) -> dict:
    """A unit whose four scores all equal ``score`` (grade C under the default grading)."""
    return {"unit_id": unit_id, "name": f"单位{unit_id}", "strategic": score, "efficiency": score,
            "governance": score, "innovation": score, **extra}


def write_group(folder: Path, employees: list[dict], units: list[dict], pay: pd.DataFrame | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(employees).to_csv(folder / "employees.csv", index=False)
    pd.DataFrame(units).to_csv(folder / "units.csv", index=False)
    (pay if pay is not None else pay_table()).to_csv(folder / "pay.csv", index=False)
    return folder


# Settings that switch everything off, so each test turns on only what it examines.
QUIET = {
    "horizon": 1,
    "mix": {"target": {"management": 0.0, "technical": 0.3, "operations": 0.7}, "tolerance": 1.0, "deadline": 1},
    "budget": {"growth": 1.0},
    "promotion": {"grade_rate": 0.0, "tier_rate": 0.0, "min_years_in_grade": 2, "min_years_for_grade_step": 1},
    "mobility": {"operations_to_technical": 0.0, "management_to_technical": 0.0, "technical_to_management": 0.0,
                 "retraining_cost": 1000, "move_cost": 500},
    "attrition": {"management": 0.0, "technical": 0.0, "operations": 0.0},
    "hiring": {"enabled": False},
    "redundancy": {"enabled": False},
    "unit_grading": {"grades": [{"name": "C", "min_score": 0, "pay_coefficient": 1.0, "max_tier": 8}]},
}


@dataclass
class Solved:
    exit_code: int
    summary: dict
    folder: Path

    def table(self, name: str) -> pd.DataFrame:
        return pd.read_csv(self.folder / f"{name}.csv")

    def flow(self, kind: str, year: int = 1) -> float:
        flows = self.table("flows")
        return float(flows[(flows["kind"] == kind) & (flows["year"] == year)]["count"].sum())

    def headcount(self, year: int, **where) -> float:
        frame = self.table("headcount")
        frame = frame[frame["year"] == year]
        for column, value in where.items():
            frame = frame[frame[column] == value]
        return float(frame["headcount"].sum())


def solve_group(tmp_path: Path, employees: list[dict], units: list[dict], overrides: list[str] = (),
                base: dict | None = None, pay: pd.DataFrame | None = None) -> Solved:
    """Solve a tiny group with the QUIET base scenario plus ``overrides`` (``--set`` syntax)."""
    data = write_group(tmp_path / "data", employees, units, pay)
    scenario = build_scenario(json.loads(json.dumps(base or QUIET)), "test", list(overrides))
    result = run_plan(scenario, data, tmp_path / "plan")
    check_invariants(result.summary)
    return Solved(result.exit_code, result.summary, tmp_path / "plan")


def check_invariants(summary: dict) -> None:
    """Invariants of every solved plan (the verifier checks the files; this checks the solver agrees)."""
    assert summary["verification"]["ok"], summary["verification"]["failures"]
    merit = summary.get("merit") or {}
    solved = merit["stages"] if merit.get("resolved") else summary["solver"]["stages"]  # the plan's last solve
    stages = {stage["term"]: stage for stage in solved}
    if "cost" in stages and stages["cost"]["objective"] is not None:
        # The reported cost (Σ budget totals, recomputed from the written plan) is the solver's cost optimum.
        solver_cost = stages["cost"]["objective"]
        assert abs(summary["objective"]["cost"] - solver_cost) <= 1e-6 * max(1.0, abs(solver_cost)) + 1e-3


def with_unproven_cost(plan: Path, folder: Path) -> dict:
    """A copy of ``plan`` at ``folder`` whose summary.json says the cost stage stopped at its time limit before
    it had a bound (as on a large group); returns that summary."""
    shutil.copytree(plan, folder)
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    summary["solver"]["stages"] = [
        {**stage, "status": "feasible", "bound": None, "gap": None, "stopped_by": "time_limit"}
        if stage["term"] == "cost" else stage for stage in summary["solver"]["stages"]]
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    return summary


def as_an_earlier_version_wrote(plan: Path) -> Path:
    """``plan`` with ``red_circled_payroll`` taken out of its budget.csv, as every wfplan before that column wrote
    it (no cell holds a comma: unit names in the test groups have none)."""
    path = plan / "budget.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    column = lines[0].split(",").index("red_circled_payroll")
    path.write_text("\n".join(",".join(cell for i, cell in enumerate(line.split(",")) if i != column) for line in lines)
                    + "\n", encoding="utf-8")
    return plan


def market_split(model: LinearModel, rows: int = 4, columns: int = 40, seed: int = 1) -> list[int]:
    """Add a market split instance (Cornuéjols and Dawande) to ``model``: Σ_j a_ij x_j = ⌊Σ_j a_ij / 2⌋ for each
    row i, x binary, a_ij seeded in 0..99; returns the x. Its linear relaxation is feasible (x near ½) and branch
    and bound finds no whole x for a long while: HiGHS runs past 20 s on 4 × 40, sending nothing once it has
    its root bound."""
    a = np.random.default_rng(seed).integers(0, 100, size=(rows, columns)).astype(float)
    xs = [model.add_var(f"split_x{j}", 0, 1, integer=True) for j in range(columns)]
    for i in range(rows):
        half = float(np.floor(a[i].sum() / 2))
        model.add_row(f"split_{i}", {x: a[i, j] for j, x in enumerate(xs)}, lo=half, hi=half)
    return xs
