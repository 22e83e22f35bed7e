"""``wfplan simulate PLAN_DIR``: read a written plan, simulate it, and add ``simulation.json`` and
``simulation.csv`` to its folder, with the reports written again so that they show the fan charts.

The plan folder is replaced whole, the way every wfplan output is (:func:`optimizer.plan.folders.staged_folder`):
a hidden sibling receives hard links to the plan's files (copies where the file system has no links), the new
simulation files and the new reports; it then takes the plan folder's place in one rename. A failure or a kill
leaves the plan as it was; the plan's own files are never opened for writing. Only a folder holding wfplan's
``plan`` marker is accepted.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from models.scenario import Scenario
from models.validation import load_inputs
from optimizer.model.kinds import graded_model_data
from optimizer.plan.folders import MARKER, STAGING_MARKER, folder_kind, staged_folder
from optimizer.plan.output import write_csv, write_json
from optimizer.plan.reader import read_plan
from optimizer.simulate.engine import Runner, run_local, simulate
from optimizer.simulate.inputs import PlanInputs, plan_inputs
from optimizer.simulate.results import simulation_summary, simulation_table

SIMULATION_JSON, SIMULATION_CSV = "simulation.json", "simulation.csv"
REPORTS = ("report.xlsx", "report.html")
CHECKED_TABLES = ("units", "pay")
"""Input tables a simulation reads (pay, unit grades); the roster's start is the plan's ``headcount.csv``."""


class SimulationInputError(ValueError):
    """A folder that is not a simulable plan, or input tables that are not the plan's; ``problems`` lists
    every reason."""

    def __init__(self, plan_dir: Path, problems: list[str]):
        self.problems = problems
        super().__init__(f"{plan_dir}: cannot simulate\n" + "\n".join(f"  - {p}" for p in problems))


def _plan_problems(plan_dir: Path) -> list[str]:
    if not plan_dir.is_dir():
        return ["no such folder"]
    if folder_kind(plan_dir) != "plan":
        return ["not a plan folder written by wfplan (no plan marker .wfplan)"]
    if not (plan_dir / "summary.json").is_file():
        return ["summary.json is missing"]
    return []


def load_plan_inputs(plan_dir: str | Path, data_dir: str | Path | None = None) -> tuple[PlanInputs, dict[str, Any]]:
    """The arrays of the plan at ``plan_dir`` and its summary.json. The rates, pay and one-off costs come from
    the plan's resolved scenario and its input tables (``data_dir``, default the path in summary.json), whose
    ``units`` and ``pay`` must be the files the plan was solved from (sha256 in summary.json)."""
    plan_dir = Path(plan_dir)
    problems = _plan_problems(plan_dir)
    if problems:
        raise SimulationInputError(plan_dir, problems)
    plan = read_plan(plan_dir)
    summary = plan.summary
    if summary["scenario"].get("categories", {}).get("levels"):
        raise SimulationInputError(plan_dir, ["an own-ladder plan (categories.levels) has no mix band or budget cap "
                                              "to simulate; simulate plans solved from input tables"])
    if "exit_code" not in summary or summary.get("exit_code") == 4 or not (plan_dir / "headcount.csv").is_file():
        raise SimulationInputError(plan_dir, ["the folder holds no plan (the solve found none, or only saved a model)"])
    data = Path(data_dir) if data_dir is not None else Path(summary["inputs"]["path"])
    if not data.exists():
        raise SimulationInputError(plan_dir, [f"the input tables {data} are not there; pass --data DIR"])
    tables = load_inputs(data)
    recorded = summary["inputs"]["hashes"]
    changed = [t for t in CHECKED_TABLES if tables.hashes.get(t) != recorded.get(t)]
    if changed:
        raise SimulationInputError(plan_dir, [
            f"{data}: the {t} table is not the one the plan was solved from (sha256 differs from summary.json)"
            for t in changed])
    scenario = Scenario.model_validate(summary["scenario"])
    model_data, _, _ = graded_model_data(tables, scenario)
    return plan_inputs(model_data, plan.headcount, plan.flows, plan.mix, plan.budget), summary


def _link(source: str, target: str) -> None:
    """A hard link (a copy where the file system has none): the plan's files are never written."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


@dataclass(frozen=True)
class SimulationRun:
    """A written simulation: its summary (simulation.json) and the folder."""

    summary: dict[str, Any]
    plan_dir: Path


def simulate_plan_folder(
    plan_dir: str | Path, reps: int, seed: int, data_dir: str | Path | None = None,
    report_writers: tuple[Callable[[Path], Any], ...] = (), runner: Runner = run_local,
) -> SimulationRun:
    """Simulate the plan at ``plan_dir`` (``reps`` repetitions, seed ``seed``) and replace the folder by one
    holding also ``simulation.json``, ``simulation.csv`` and the reports written again by ``report_writers``
    (the module docstring says how). ``runner`` runs the chunks (default: in this process; worker processes
    or a Dask cluster: :func:`optimizer.simulate.cluster.cluster_runner`)."""
    plan_dir = Path(plan_dir)
    inputs, _ = load_plan_inputs(plan_dir, data_dir)
    start = time.perf_counter()
    outcomes = simulate(inputs, reps, seed, runner)
    summary = simulation_summary(outcomes, inputs, seed, time.perf_counter() - start)
    replaced = {SIMULATION_JSON, SIMULATION_CSV, MARKER, STAGING_MARKER, *(REPORTS if report_writers else ())}
    with staged_folder(plan_dir, "plan") as staging:
        for item in sorted(plan_dir.iterdir()):
            if item.name in replaced:
                continue
            if item.is_dir() and not item.is_symlink():
                shutil.copytree(item, staging / item.name, copy_function=_link, symlinks=True)
            else:
                _link(str(item), str(staging / item.name))
        write_json(summary, staging / SIMULATION_JSON)
        write_csv(simulation_table(summary), staging / SIMULATION_CSV)
        for writer in report_writers:
            writer(staging)
    return SimulationRun(summary, plan_dir)
