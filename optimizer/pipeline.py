"""The whole chain for one scenario: load → validate → grade → cohorts → build → solve → plan → write → verify.

Exit codes (README.md, "Exit codes"): 0 plan written and every target met; 2 bad input (raised as InputError /
ScenarioError before anything is written); 3 a target cannot be met (closest plan written, flagged);
4 no feasible plan within the time limit (only summary.json is written).
"""

from __future__ import annotations

import platform
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, replace
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from models.grading import PATH_COLUMNS
from models.io import InputTables
from models.scenario import Scenario, ScenarioError
from models.validation import load_inputs, scenario_problems
from optimizer.model.build import build_model
from optimizer.model.data import Index, ModelData
from optimizer.model.formulation import DISRUPTIVE
from optimizer.model.kinds import graded_model_data, ladder_model_data
from optimizer.model.requirements import requirements_table
from optimizer.model.network import Arc
from optimizer.plan.disaggregate import employee_actions
from optimizer.plan.merit import MeritRule
from optimizer.plan.folders import claim_folder, staged_folder
from optimizer.plan.output import write_json, write_tables
from optimizer.simulate import confidence
from optimizer.simulate.engine import simulate
from optimizer.simulate.inputs import PlanInputs, plan_inputs
from optimizer.plan.results import (
    REQUIREMENT_COLUMNS,
    budget_table,
    cohort_plan,
    flows_table,
    goal_deviations,
    headcount_table,
    mix_table,
    with_names,
)
from optimizer.solvers.base import Progress, Timer
from optimizer.solvers.clock import DIAGNOSIS_PARTS, MERIT_PARTS, MET, Clock
from optimizer.solvers.linear_model import LinearModel
from optimizer.solvers.pulp_model import write_lp
from optimizer.solvers.stops import deferred_stop
from optimizer.solvers.reuse import (
    REFERENCE_FILE,
    Reference,
    make_reference,
    save_reference,
)
from optimizer.solvers.staged import Solution
from optimizer.solvers.steps import merit_step, solve_step
from optimizer.verify.graded import VerificationReport, verify_plan
from optimizer.verify.ladder import verify_ladder_plan
from optimizer.whatif.diagnosis import diagnose_infeasible, diagnose_missed

EXIT_OK, EXIT_BAD_INPUT, EXIT_TARGET_MISSED, EXIT_NO_PLAN = 0, 2, 3, 4
ReportWriter = Callable[[Path], None]
"""Writes a human-readable report into a verified plan folder, reading only that folder's files."""


@dataclass(frozen=True)
class RunResult:
    exit_code: int
    summary: dict[str, Any]
    plan_dir: Path | None
    reference: Reference | None = None
    """The solved model of a graded plan, the reference for later what-ifs (:mod:`optimizer.solvers.reuse`)."""
    verification: VerificationReport | None = None
    """The independent verifier's report on the written plan (None when no plan was written)."""


class VerificationFailed(RuntimeError):
    """A written plan failed independent verification; ``report`` lists the findings."""

    def __init__(self, report: VerificationReport):
        super().__init__("the plan failed independent verification:\n" + "\n".join(str(f) for f in report.failures))
        self.report = report


Verifier = Callable[[Path], VerificationReport]
"""The independent verifier of a plan folder."""


class Recorder(Protocol):
    """Records a written run in a run store (:mod:`optimizer.registry`). :func:`write_plan` puts
    ``{"id": run_id}`` into summary.json as ``run`` and calls it on the staged folder once every file is
    written, before the folder replaces ``out_dir``: when it raises, nothing is replaced or kept."""

    run_id: str

    def __call__(self, folder: Path, summary: dict[str, Any]) -> None: ...


@dataclass(frozen=True, eq=False)
class ComputedPlan:
    """What the chain computed for one scenario, before anything is written (:func:`write_plan` writes it).

    ``tables`` maps each plan file's name (``actions``, ``headcount``, ...; docs/outputs.md) to its frame, and
    is empty when there is no plan (exit 4, or a model saved instead of solved). ``summary`` is summary.json
    without ``verification`` and ``timings``, which writing adds; ``timings`` are the seconds of the phases run
    so far. ``verify`` checks a folder holding this plan; ``reference`` is the solved model of a graded plan.
    """

    exit_code: int
    summary: dict[str, Any]
    tables: dict[str, pd.DataFrame]
    timings: dict[str, float]
    verify: Verifier
    reference: Reference | None = None


def plan_objective(mix: pd.DataFrame, budget: pd.DataFrame, flows: pd.DataFrame) -> dict[str, float]:
    """The objective terms recomputed from the written plan (so the summary adds up to its own files):
    mix = heads outside the band, budget_overrun = CNY over the caps (the group's and the units'), cost = Σ_{t≥1} (total +
    overmanning_cost + short_time_cost) of the ALL rows (the requirements' slack costs are outside the cap but
    in the ``cost`` term), disruption = number of people on the flows the model's ``disruption`` term counts
    (:data:`optimizer.model.formulation.DISRUPTIVE`: tier promotions, sequence moves, transfers, downgrades and
    redundancies). Heads are rounded to 1e-5 (the stages are fixed with a relative slack of
    ``objective.stage_tolerance``; a hundred-thousandth of a person is solver noise, not a miss)."""
    banded = mix.dropna(subset=["lower", "upper"])
    total = banded.groupby("year")["headcount"].transform("sum")
    outside = (banded["headcount"] - banded["upper"] * total).clip(lower=0) + (
        banded["lower"] * total - banded["headcount"]
    ).clip(lower=0)
    totals = budget[(budget["unit_id"] == "ALL") & (budget["year"] >= 1)]
    capped = budget[budget["cap"].notna()]
    return {
        "mix": round(float(outside.sum()), 5),
        "budget_overrun": float((capped["total"] - capped["cap"]).clip(lower=0).sum()),
        "cost": float(totals[["total", "overmanning_cost", "short_time_cost"]].to_numpy().sum()),
        "disruption": float(flows[flows["kind"].isin(DISRUPTIVE)]["count"].sum()),
    }


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in ("wfplan", "pulp", "ortools", "highspy", "pandas", "numpy"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def _summary_base(scenario: Scenario, tables: InputTables, data_dir: Path, model, data: ModelData) -> dict[str, Any]:
    return {
        "scenario": scenario.model_dump(mode="json"),
        "inputs": {"path": str(data_dir), "hashes": dict(tables.hashes)},
        "versions": versions(),
        "model": {
            "variables": model.n_vars,
            "integer_variables": sum(model.integer),
            "rows": len(model.rows),
            "cohorts": len(data.initial),
            "states": len({c.state for c in data.initial}),
            "employees": int(sum(data.initial.values())),
        },
    }


def _probe_seconds(timer: Timer, solution: Solution) -> float:
    """What one diagnosis probe should cost: a model build and the first stage's solve."""
    return timer.seconds.get("build", 0.0) + solution.stages[0].seconds


def _model_only(model: LinearModel, save_lp: str | Path, summary: dict[str, Any], timer: Timer,
                verify: Verifier) -> ComputedPlan:
    """``--save-lp``: write the built model and stop before solving."""
    write_lp(model, save_lp)
    return ComputedPlan(EXIT_OK, {**summary, "status": "not_solved", "lp_file": str(save_lp)}, {}, timer.seconds,
                        verify)


def _no_plan(summary: dict[str, Any], solution: Solution, timer: Timer, verify: Verifier) -> ComputedPlan:
    """Exit 4: no plan tables; the folder will hold only ``summary.json`` (status, diagnosis if any, timings)."""
    summary.update(status=solution.status, exit_code=EXIT_NO_PLAN, targets_met=False)
    return ComputedPlan(EXIT_NO_PLAN, summary, {}, timer.seconds, verify)


PLAN_BYTES_PER_INPUT_BYTE = 4
"""A plan folder (actions.csv, the reports) takes at most about this many bytes per byte of input tables."""


def input_bytes(data_dir: str | Path) -> int:
    """Size of the input tables at ``data_dir`` (a folder or one workbook); 0 when it cannot be read."""
    path = Path(data_dir)
    try:
        return path.stat().st_size if path.is_file() else sum(p.stat().st_size for p in path.iterdir() if p.is_file())
    except OSError:
        return 0


def run_plan(
    scenario: Scenario,
    data_dir: str | Path,
    out_dir: str | Path,
    save_lp: str | Path | None = None,
    progress: Progress = lambda message: None,
    report_writers: tuple[ReportWriter, ...] = (),
    tables: InputTables | None = None,
    diagnose: bool = False,
    reference: Reference | None = None,
    scheduler: str | None = None,
    record: Recorder | None = None,
) -> RunResult:
    """Run the chain: :func:`compute_plan`, then :func:`write_plan` into ``out_dir`` (with ``save_lp``: the
    model is written there, not solved, and no folder is written). Raises InputError on bad input and
    :class:`~optimizer.plan.folders.OutputFolderError` on an output folder the tool may not or cannot write
    (:func:`~optimizer.plan.folders.claim_folder`), both before anything is solved or written.

    ``report_writers`` run on the verified plan folder before it replaces ``out_dir`` (the CLI passes the
    writers the ``reports`` package registers, so the dependency points reports → optimizer). The other
    arguments are :func:`compute_plan`'s, but ``record`` (:class:`Recorder`), :func:`write_plan`'s. This run's
    own solved model is written to the plan folder (``reference.npz``) and returned as ``RunResult.reference``.
    """
    if save_lp is None:
        claim_folder(out_dir, "plan", PLAN_BYTES_PER_INPUT_BYTE * input_bytes(data_dir), protect=(data_dir,))
    computed = compute_plan(scenario, data_dir, save_lp, progress, tables, diagnose, reference, scheduler)
    if save_lp is not None:
        return RunResult(computed.exit_code, computed.summary, None)
    return write_plan(computed, out_dir, progress, report_writers, record)


def compute_plan(
    scenario: Scenario,
    data_dir: str | Path,
    save_lp: str | Path | None = None,
    progress: Progress = lambda message: None,
    tables: InputTables | None = None,
    diagnose: bool = False,
    reference: Reference | None = None,
    scheduler: str | None = None,
) -> ComputedPlan:
    """The plan of ``scenario`` on the input tables in ``data_dir``, in memory: nothing is written (but
    ``save_lp``, where the built model is written instead of solved). Raises InputError on bad input.

    ``tables`` are the already validated tables of ``data_dir`` (a what-if re-solve reuses them instead
    of loading them again; the verifier still reads ``data_dir`` on its own).
    ``diagnose``: when a target is missed, or the model is infeasible, add the ``diagnosis``
    (:mod:`optimizer.whatif.diagnosis`: extra solves, so the CLI asks for it and sweeps do not); its searches
    run on the Dask ``scheduler`` when one is given (:func:`optimizer.whatif.diagnosis.relaxations`).
    ``reference``: an earlier run's solved model; its plan is taken without a solve when this model only
    tightens that one and the plan holds here (:mod:`optimizer.solvers.reuse`). This plan's own solved model
    is ``ComputedPlan.reference``.

    Every solve of the run (the stages, merit's re-solve, a confidence level's rounds, the diagnosis) draws from
    one budget of ``solver.time_limit`` seconds started with the first solve (:mod:`optimizer.solvers.clock`):
    while the plan is solved, shares are kept for merit's re-solve and, with ``diagnose``, for the diagnosis.
    """
    timer = Timer(progress=progress)
    data_dir = Path(data_dir)
    verify: Verifier = partial(verify_plan, data_dir=data_dir)
    with timer.phase("load+validate"):
        tables = tables if tables is not None else load_inputs(data_dir)
        misfits = scenario_problems(scenario, tables)
        if misfits:
            raise ScenarioError(f"scenario {scenario.name} on {data_dir}", misfits)
    with timer.phase("cohorts"):
        data, graded, roster = graded_model_data(tables, scenario)
    with timer.phase("build"):
        model, index = build_model(data)
    summary = _summary_base(scenario, tables, data_dir, model, data)
    if save_lp is not None:
        return _model_only(model, save_lp, summary, timer, verify)
    built_rows = len(model.rows)
    year1_flows = [var for _, var in index.flows_of(1)]
    diagnosis_parts = DIAGNOSIS_PARTS if diagnose else 0
    clock = Clock.starting(scenario.solver.time_limit, MERIT_PARTS, diagnosis_parts)
    solution = solve_step(model, scenario, data, timer, summary, reference, year1_flows, clock, defer_to_fixed_year1=True,
                          index=index)
    build_seconds = timer.seconds["cohorts"] + timer.seconds["build"]  # what a diagnosis probe takes before solving
    if solution.values is None:
        if diagnose and solution.status == "infeasible":
            with timer.phase("diagnosis"):
                summary["diagnosis"] = diagnose_infeasible(data, data_dir, _probe_seconds(timer, solution), progress,
                                                          scheduler, clock.keeping(0), build_seconds)
        return _no_plan(summary, solution, timer, verify)

    relaxed = solution
    reused = reference if reference is not None and summary["solver"]["reuse"]["reused"] else None

    def planned(model: LinearModel, built_rows: int, solution: Solution, data: ModelData, index: Index,
                reused: Reference | None = None) -> tuple[Solution, dict[str, pd.DataFrame]]:
        """Merit across each position (:func:`optimizer.solvers.steps.merit_step`), then the plan files' frames of that solution."""
        # the diagnosis' shares stay kept only when the solved model misses a target: else no diagnosis follows
        # (merit's split misses one only when its re-solve cannot keep the model's goals), and its re-solve gets
        # all that is left (10k group: 9.7 s of 29 kept back from a 14 s LP, which then found no plan)
        missed = solution.terms.get("mix", 0.0) + solution.terms.get("budget_overrun", 0.0) / data.mean_pay > MET
        merited, rule, named = merit_step(model, built_rows, scenario, data, index, roster, solution, timer, summary,
                                          reused, clock.keeping(diagnosis_parts if missed else 0))
        with timer.phase("plan"):
            tables = _graded_tables(model, merited, data, index, roster, graded, named, rule)
        summary["merit"]["exceptions"] = int(tables["merit"]["exceptions"].sum())
        return merited, tables

    solution, tables_out = planned(model, built_rows, solution, data, index, reused)
    if confidence.wanted(scenario):
        confident = _plan_to_confidence(scenario, data, tables_out, timer, summary, planned, clock)
        if confident is not None:
            model, index, relaxed, tables_out = confident.model, confident.index, confident.solution, confident.tables
            solution, built_rows = confident.merited, confident.built_rows
    with timer.phase("plan", announce=False):
        label = f"the unwritten plan of {scenario.name}"  # write_plan names it after its folder
        solved = make_reference(model, built_rows, scenario, data.mean_pay, relaxed, label, year1_flows,
                                solution if summary["merit"]["resolved"] else None,
                                bool(summary["merit"].get("starved")))
    deviations = goal_deviations(tables_out["mix"], tables_out["budget"])
    targets_met = not deviations["mix"] and not deviations["budget"]
    exit_code = EXIT_OK if targets_met else EXIT_TARGET_MISSED
    summary.update(
        status=solution.status if targets_met else "target_missed",
        exit_code=exit_code,
        targets_met=targets_met,
        goal_deviations=deviations,
        objective=plan_objective(tables_out["mix"], tables_out["budget"], tables_out["flows"]),
        counts={k: int(v) for k, v in tables_out["actions"]["action"].value_counts().sort_index().items()},
    )
    if diagnose and not targets_met:
        miss = summary["objective"]["mix"] + summary["objective"]["budget_overrun"] / data.mean_pay
        reused = reference is not None and summary["solver"]["reuse"]["reused"]
        solved_by = reference.solution if reused else relaxed  # the model's own stages (a reused plan took 0 s)
        probe = _probe_seconds(timer, solved_by)
        with timer.phase("diagnosis"):
            summary["diagnosis"] = diagnose_missed(scenario, data_dir, tables_out["mix"], tables_out["budget"], miss,
                                                   probe, progress, scheduler, clock.keeping(0), build_seconds,
                                                   solved_by.stages)
    return ComputedPlan(exit_code, summary, tables_out, timer.seconds, verify, solved)


def write_plan(
    computed: ComputedPlan, out_dir: str | Path, progress: Progress = lambda message: None,
    report_writers: tuple[ReportWriter, ...] = (), record: Recorder | None = None,
) -> RunResult:
    """Write ``computed`` as a plan folder that replaces ``out_dir`` once complete (docs/outputs.md): its
    tables, the solved model (``reference.npz``, when it has one) and summary.json with the verification and
    the timings added, verified independently, then the reports; or only summary.json when there is no plan
    (exit 4). ``computed`` is not changed: the returned summary is a copy. Raises :class:`VerificationFailed`
    when verification fails, and then replaces nothing. ``record`` (:class:`Recorder`) records the run last,
    in the staged folder."""
    timer = Timer(dict(computed.timings), progress)
    out_dir, summary = Path(out_dir), dict(computed.summary)
    finish: Callable[[Path, dict[str, Any]], None] = lambda folder, written: None
    if record is not None:
        summary["run"] = {"id": record.run_id}
        finish = record
    if not computed.tables:
        summary["timings"] = timer.seconds
        with staged_folder(out_dir, "plan") as folder:
            write_json(summary, folder / "summary.json")
            finish(folder, summary)
        return RunResult(computed.exit_code, summary, out_dir)
    reference = None if computed.reference is None else replace(computed.reference, label=str(out_dir))
    write_more = (lambda folder: None) if reference is None else (
        lambda folder: save_reference(reference, folder / REFERENCE_FILE))
    report = _write_verified(out_dir, computed.tables, summary, timer, computed.verify, report_writers, write_more,
                             finish)
    return RunResult(computed.exit_code, summary, out_dir, reference, report)


def _graded_tables(model: LinearModel, solution: Solution, data: ModelData, index: Index, roster: pd.DataFrame,
                   graded: pd.DataFrame, named: dict[Arc, int], rule: MeritRule) -> dict[str, pd.DataFrame]:
    """The plan files' frames of a solved graded model, by file name; ``named``: the year-1 flows that name
    people, dealt by merit under ``rule`` (:func:`optimizer.solvers.steps.merit_step`)."""
    plan = cohort_plan(solution.values, data, index)
    headcount = headcount_table(plan)
    requirements = _requirements_frame(model, solution, data, index)
    actions, lines = employee_actions(roster, named, data.pay, rule)
    return with_names({
        "actions": actions,
        "headcount": headcount,
        "flows": flows_table(plan, data),
        "budget": budget_table(plan, data, requirements, actions),
        "mix": mix_table(headcount, data),
        "units": graded[PATH_COLUMNS],
        "requirements": requirements,
        "merit": lines,
    }, dict(zip(graded["unit_id"].astype(str), graded["name"].astype(str))))


TablesOf = Callable[[LinearModel, int, Solution, ModelData, Index], tuple[Solution, dict[str, pd.DataFrame]]]
"""(model, its built rows, its solution, data, index) → (the solution with merit applied, the plan's frames)."""


@dataclass(frozen=True)
class ConfidentPlan:
    """One solve with margins (:func:`_plan_to_confidence`): the model, its solution, the plan's tables and inputs."""

    model: LinearModel
    built_rows: int
    """rows of the model as built (its margins' rows included), before any stage fixed a goal"""
    index: Index
    solution: Solution
    """as solved, before merit"""
    merited: Solution
    """with merit across each position applied (the plan's own)"""
    tables: dict[str, pd.DataFrame]
    inputs: PlanInputs
    margins: confidence.Margins
    round: int


def _plan_inputs(data: ModelData, tables: dict[str, pd.DataFrame]) -> PlanInputs:
    return plan_inputs(data, tables["headcount"], tables["flows"], tables["mix"], tables["budget"])


def _plan_to_confidence(
    scenario: Scenario, data: ModelData, expected: dict[str, pd.DataFrame], timer: Timer, summary: dict[str, Any],
    tables_of: TablesOf, clock: Clock,
) -> ConfidentPlan | None:
    """Solve again with the margins of ``mix.confidence`` / ``budget.confidence`` (:mod:`optimizer.simulate.confidence`:
    margins from the binomial variance along the last plan, widened while a calibration simulation falls short),
    check the last plan and the ``expected``-value plan by simulation on fresh numbers, and put the outcome and the
    cost of the confidence in ``summary["confidence"]``. Returns the last plan, or None when no solve with margins
    found one (the expected-value plan then stands, and the summary says so). Its solves draw from the run's
    ``clock``."""
    sim = scenario.simulation
    levels = (scenario.mix.confidence, scenario.budget.confidence)
    z_mix, z_budget = (None if level is None else confidence.normal_quantile(level) for level in levels)
    expected_inputs = inputs = _plan_inputs(data, expected)
    found: ConfidentPlan | None = None
    for number in range(1, sim.rounds + 1):
        used = confidence.margins(inputs, z_mix, z_budget)
        timer.progress(f"confidence round {number}: margins of z = {used.z_mix or 0:.2f} (mix), "
                       f"{used.z_budget or 0:.2f} (budget)")
        tightened = replace(data, mix_margin=used.mix, budget_margin=used.budget)
        with timer.phase("build"):
            model, index = build_model(tightened)
        built_rows = len(model.rows)
        solution = solve_step(model, scenario, tightened, timer, summary, clock=clock, index=index)
        if solution.values is None:
            break
        merited, tables = tables_of(model, built_rows, solution, tightened, index)
        inputs = _plan_inputs(tightened, tables)
        found = ConfidentPlan(model, built_rows, index, solution, merited, tables, inputs, used, number)
        with timer.phase("confidence"):
            achieved = confidence.Achieved.of(simulate(inputs, sim.calibration_reps, sim.seed), inputs)
        timer.progress(f"  calibration: every band held in {achieved.mix:.1%}, every cap in {achieved.budget:.1%}")
        if not achieved.short_of(scenario):
            break
        z_mix = confidence.next_z(z_mix, levels[0], achieved.mix)
        z_budget = confidence.next_z(z_budget, levels[1], achieved.budget)
    with timer.phase("confidence"):
        checked = expected_inputs if found is None else found.inputs
        plan_check = confidence.Achieved.of(simulate(checked, sim.check_reps, sim.seed + 1), checked)
        expected_check = confidence.Achieved.of(simulate(expected_inputs, sim.check_reps, sim.seed + 1),
                                                expected_inputs)
    final = expected if found is None else found.tables
    cost = {name: plan_objective(t["mix"], t["budget"], t["flows"])["cost"]
            for name, t in (("plan", final), ("expected", expected))}
    used = confidence.margins(expected_inputs, None, None) if found is None else found.margins
    summary["confidence"] = confidence.confidence_summary(
        scenario, plan_check, expected_check, used, 0 if found is None else found.round, cost["plan"], cost["expected"])
    return found


def _requirements_frame(model: LinearModel, solution: Solution, data: ModelData, index: Index) -> pd.DataFrame:
    """requirements.csv: one row per requirement and year (only the header when the scenario has none)."""
    return pd.DataFrame(requirements_table(model, solution.values, data, index), columns=REQUIREMENT_COLUMNS)


def _write_verified(
    out_dir: Path, tables: dict[str, pd.DataFrame], summary: dict[str, Any], timer: Timer,
    verify: Verifier, report_writers: tuple[ReportWriter, ...],
    write_more: Callable[[Path], None] = lambda folder: None,
    finish: Callable[[Path, dict[str, Any]], None] = lambda folder, summary: None,
) -> VerificationReport:
    """Write the plan's tables, summary.json and what ``write_more`` writes, verify them independently (the
    result goes into ``summary["verification"]``), run the report writers, then ``finish`` (recording the run),
    then let the folder replace ``out_dir``; returns the verification report. A plan that fails verification raises
    :class:`VerificationFailed` (a bug: exit 1) and replaces nothing: the staged folder is removed and an
    earlier plan at ``out_dir`` stays as it was. A stop (Ctrl-C, SIGTERM) from the record on waits until the folder
    is in place, so a recorded run always has its folder."""
    with ExitStack() as recording, staged_folder(out_dir, "plan") as folder:
        with timer.phase("write"):
            write_tables(folder, tables)
            write_more(folder)
            write_json({**summary, "timings": timer.seconds}, folder / "summary.json")
        with timer.phase("verify"):
            report = verify(folder)
        summary.update(verification=report.to_dict(), timings=timer.seconds)
        if not report.ok:
            raise VerificationFailed(report)
        write_json(summary, folder / "summary.json")
        if report_writers:
            with timer.phase("reports"):
                for writer in report_writers:
                    writer(folder)
            summary["timings"] = timer.seconds
            write_json(summary, folder / "summary.json")  # final timings, reports included
        recording.enter_context(deferred_stop())  # open until the staged folder is in place
        finish(folder, summary)
    return report


def run_ladder_plan(
    scenario: Scenario,
    out_dir: str | Path,
    save_lp: str | Path | None = None,
    progress: Progress = lambda message: None,
    report_writers: tuple[ReportWriter, ...] = (),
    record: Recorder | None = None,
) -> RunResult:
    """The chain for a scenario with its own ladder (``categories``): :func:`compute_ladder_plan`, then
    :func:`write_plan` into ``out_dir`` (with ``save_lp``: the model is written there, not solved, and no
    folder is written). The folder holds ``headcount.csv``, ``flows.csv``, ``requirements.csv`` and
    ``summary.json``, verified by :mod:`optimizer.verify.ladder` from those files alone, then the reports as
    in :func:`run_plan`.
    """
    if save_lp is None:
        claim_folder(out_dir, "plan")
    computed = compute_ladder_plan(scenario, save_lp, progress)
    if save_lp is not None:
        return RunResult(computed.exit_code, computed.summary, None)
    return write_plan(computed, out_dir, progress, report_writers, record)


def compute_ladder_plan(
    scenario: Scenario, save_lp: str | Path | None = None, progress: Progress = lambda message: None,
) -> ComputedPlan:
    """The plan of a scenario with its own ladder (``categories``), in memory: no input tables, no named
    people; tables ``headcount``, ``flows`` and ``requirements``, and ``summary["model"]["mode"]`` (``lp`` or
    ``milp``). Requirements are hard, so the exit code is 0 (a plan) or 4 (no feasible plan: no tables).
    """
    timer = Timer(progress=progress)
    with timer.phase("build"):
        data = ladder_model_data(scenario)
        model, index = build_model(data)
    mode = "milp" if scenario.solver.integer_year1 else "lp"
    summary: dict[str, Any] = {
        "scenario": scenario.model_dump(mode="json"),
        "versions": versions(),
        "model": {"mode": mode, "variables": model.n_vars, "integer_variables": sum(model.integer), "rows": len(model.rows)},
    }
    if save_lp is not None:
        return _model_only(model, save_lp, summary, timer, verify_ladder_plan)
    solution = solve_step(model, scenario, data, timer, summary)
    if solution.values is None:
        return _no_plan(summary, solution, timer, verify_ladder_plan)
    with timer.phase("plan"):
        plan = cohort_plan(solution.values, data, index)
        tables_out = {
            "headcount": headcount_table(plan),
            "flows": flows_table(plan, data),
            "requirements": _requirements_frame(model, solution, data, index),
        }
    summary.update(status=solution.status, exit_code=EXIT_OK, targets_met=True, objective=solution.terms)
    return ComputedPlan(EXIT_OK, summary, tables_out, timer.seconds, verify_ladder_plan)
