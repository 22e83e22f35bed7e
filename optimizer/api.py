"""Python API for notebooks and scripts: a thin facade over :mod:`optimizer.pipeline` (no model logic here).

    from optimizer import api

    tables = api.load_tables("data/")                      # validated; api.InputError lists every problem
    sc = api.scenario("baseline", budget__growth=0.03)     # or overrides=["budget.growth=0.03"]
    plan = api.solve(sc, tables)                           # in memory: nothing is written
    plan.mix, plan.actions, plan.summary["objective"], plan.targets_met, plan.exit_code
    plan.verify().ok                                       # the independent verifier's report
    plan.write("runs/growth-3")                            # the same folder as `wfplan solve`
    api.compare(base, plan)["mix"]                         # optimizer.whatif.compare, as `wfplan compare`

    store = api.open_store()                               # the run store: --db / $WFPLAN_DB / ./wfplan.db
    run = plan.save(store)                                 # runs/<scenario>/<run id>/, recorded as a run
    store.runs(scenario="baseline", status="draft")        # RunInfo list, newest first
    store.submit(run.id, by="planner"); store.approve(run.id, by="hr.director", note="FY plan")
    store.run(run.id).audit, store.run(run.id).changes     # audit trail; files changed since recorded
    store.diff(a_id, b_id)["people"]; store.export(run.id, "plan.zip")

Bad input raises :class:`InputError` (tables) or :class:`ScenarioError` (scenario, overrides) with the
messages the CLI prints; a run store that cannot be used raises :class:`StoreError`. Nothing is written except
by :meth:`Plan.write` (an explicit folder, not recorded), which refuses an existing non-empty folder,
:meth:`Plan.save` (a new versioned folder, recorded in the run store, as `wfplan solve` does), and into
temporary folders this module creates and removes (:meth:`Plan.verify`, :func:`compare`). The run store's
whole API is :class:`~optimizer.registry.store.RunStore` (docs/registry.md). docs/api.md is a whole
notebook session.
"""

from __future__ import annotations

import copy
import math
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from models.io import InputError, InputTables
from models.scenario import Scenario, ScenarioError
from models.scenario_files import build_scenario, load_scenario, scenario_source
from models.validation import load_inputs
from optimizer.pipeline import (
    ComputedPlan,
    VerificationFailed,
    compute_ladder_plan,
    compute_plan,
    write_plan,
)
from optimizer.plan.folders import OutputFolderError
from optimizer.plan.output import report_writers
from optimizer.registry.database import StoreError
from optimizer.registry.recording import PlanRecorder, run_target
from optimizer.registry.store import RunInfo, RunStore, runs_table
from optimizer.verify.graded import verify_plan
from optimizer.verify.ladder import is_ladder_plan, verify_ladder_plan
from optimizer.verify.report import VerificationReport
from optimizer.whatif.compare import compare_runs, distinct_labels

__all__ = [
    "InputError", "OutputFolderError", "Plan", "RunInfo", "RunStore", "ScenarioError", "StoreError", "Tables",
    "VerificationReport", "compare", "load_tables", "open_store", "runs_table", "scenario", "solve", "verify",
]

PLAN_TABLES = ("actions", "headcount", "flows", "budget", "mix", "units", "requirements", "merit")
"""The plan tables a plan solved from input tables has (an own-ladder plan: headcount, flows, requirements)."""


@dataclass(frozen=True, eq=False)
class Tables:
    """Validated input tables and the folder (or workbook) they were read from, which the verifier reads
    again on its own. The frames have canonical dtypes (:func:`models.validation.load_inputs`)."""

    path: Path
    inputs: InputTables

    @property
    def employees(self) -> pd.DataFrame:
        return self.inputs.employees

    @property
    def units(self) -> pd.DataFrame:
        return self.inputs.units

    @property
    def pay(self) -> pd.DataFrame:
        return self.inputs.pay


def load_tables(path: str | Path) -> Tables:
    """Load and validate the input tables under ``path`` (a folder of CSV/Parquet files or a workbook), as
    ``wfplan validate`` does. Raises :class:`InputError` listing every problem."""
    return Tables(Path(path), load_inputs(path))


def override_text(key: str, value: Any) -> str:
    """``budget__growth``, 0.03 → ``budget.growth=0.03``: the value as YAML, which the override parser reads
    back as exactly this value."""
    text = yaml.safe_dump(value, default_flow_style=True, width=math.inf).removesuffix("...\n").strip()
    return f"{key.replace('__', '.')}={text}"


def scenario(base: str | Path | Scenario | None = None, overrides: Iterable[str] = (), **settings: Any) -> Scenario:
    """A validated scenario: ``base`` is a shipped scenario's name (``"baseline"``), a scenario file, an
    existing :class:`Scenario` (to derive a what-if from it) or None (every default).

    ``overrides`` are ``key.path=value`` texts as ``wfplan solve --set`` takes them; ``settings`` are the same
    with ``__`` for the dots and Python values (``budget__growth=0.03``, ``hiring__enabled=False``). Both are
    checked as the CLI checks ``--set`` and recorded in ``Scenario.applied_overrides``; any problem (an
    unknown key, named with the nearest valid one; a bad value; a key given twice) raises
    :class:`ScenarioError` listing every one.
    """
    texts = [*overrides, *(override_text(key, value) for key, value in settings.items())]
    if isinstance(base, Scenario):
        return build_scenario(base.to_raw(), base.name, texts)
    return load_scenario(None if base is None else scenario_source(base), texts)


@dataclass(frozen=True, eq=False)
class Plan:
    """A solved scenario in memory. The plan tables are DataFrames with the columns of the plan files
    (docs/outputs.md): :attr:`actions`, :attr:`headcount`, :attr:`flows`, :attr:`budget`, :attr:`mix`,
    :attr:`units`, :attr:`requirements`; each access returns a fresh copy, so changing it never changes the
    plan. A table the plan does not have (an own-ladder plan has no actions, budget, mix or units; a run with
    no feasible plan has no tables) raises AttributeError saying so."""

    scenario: Scenario
    inputs: Tables | None
    """The input tables it was solved from (None for a scenario with its own ladder)."""
    computed: ComputedPlan

    @property
    def summary(self) -> dict[str, Any]:
        """summary.json as :meth:`write` writes it, without ``verification`` and ``timings`` (a copy)."""
        return copy.deepcopy(self.computed.summary)

    @property
    def exit_code(self) -> int:
        """As ``wfplan solve`` exits: 0 every target met, 3 a target missed (closest plan), 4 no feasible plan."""
        return self.computed.exit_code

    @property
    def targets_met(self) -> bool:
        return bool(self.computed.summary["targets_met"])

    @property
    def status(self) -> str:
        """``optimal``, ``feasible`` (stopped at a limit), ``target_missed``, ``infeasible`` or ``no_solution``."""
        return str(self.computed.summary["status"])

    @property
    def table_names(self) -> tuple[str, ...]:
        """The names of the plan tables this plan has, in file order."""
        return tuple(self.computed.tables)

    def table(self, name: str) -> pd.DataFrame:
        """The plan table ``name`` (a copy); AttributeError when this plan has no such table."""
        if name not in self.computed.tables:
            why = f"it has {', '.join(self.table_names)}" if self.table_names else f"no plan: status {self.status}"
            raise AttributeError(f"this plan has no {name} table ({why})")
        return self.computed.tables[name].copy()

    actions = property(lambda self: self.table("actions"), doc="Year-1 action of every employee and hire.")
    headcount = property(lambda self: self.table("headcount"), doc="Headcount by state and year.")
    flows = property(lambda self: self.table("flows"), doc="Flows between states by kind and year.")
    budget = property(lambda self: self.table("budget"), doc="Payroll, one-off costs and cap by unit and year.")
    mix = property(lambda self: self.table("mix"), doc="Sequence shares by year, with the target band.")
    units = property(lambda self: self.table("units"),
                     doc="Each unit's score, grade, pay coefficient and tier cap per year (its grade path).")
    requirements = property(lambda self: self.table("requirements"), doc="Requirements against headcount.")

    def write(self, folder: str | Path, reports: bool = True) -> Path:
        """Write the plan folder ``wfplan solve`` writes (with ``reports``: report.xlsx and report.html too),
        verified independently; returns its path. ``folder`` must not exist, be empty or hold an earlier plan
        written by wfplan (which it replaces): :class:`~optimizer.plan.folders.OutputFolderError` otherwise.
        Raises :class:`VerificationFailed` (with ``report``), replacing nothing, when verification fails. A run
        without a plan writes summary.json only.
        """
        folder = Path(folder)
        write_plan(self.computed, folder, report_writers=report_writers() if reports else ())
        return folder

    def save(self, store: RunStore, out: str | Path | None = None, root: str | Path = "runs",
             reports: bool = True, command: str = "api: Plan.save") -> RunInfo:
        """Write this plan as a run and record it in ``store``, as ``wfplan solve`` does: into a new folder
        ``root/<scenario>/<run id>/`` (then ``root/<scenario>/latest`` points at it), or at ``out`` (a new or
        empty folder, or a draft run's folder, which it replaces and discards; optimizer.registry.recording).
        Returns the recorded run. The folder and the record are written together or not at all."""
        target = run_target(store, self.scenario.name, out, root)
        with target.writing() as folder:
            write_plan(self.computed, folder, report_writers=report_writers() if reports else (),
                       record=PlanRecorder(store, target, command))
        return store.run(target.run_id)

    def verify(self) -> VerificationReport:
        """The independent verifier's report on this plan, written to a temporary folder (then removed) and
        re-checked from its files and the input tables alone, as ``wfplan verify`` does. ValueError when the
        run has no plan."""
        if not self.computed.tables:
            raise ValueError(f"there is no plan to verify (status {self.status})")
        with tempfile.TemporaryDirectory(prefix="wfplan-verify-") as scratch:
            try:
                return write_plan(self.computed, Path(scratch) / "plan").verification
            except VerificationFailed as failed:
                return failed.report


def _tables_for(scenario: Scenario, tables: Tables | str | Path | None) -> Tables:
    if isinstance(tables, Tables):
        return tables
    if tables is None and scenario.data is None:
        raise ValueError(f"scenario {scenario.name!r} needs input tables: api.solve(sc, api.load_tables(path)) "
                         "(or a 'data:' entry in the scenario)")
    return load_tables(scenario.data if tables is None else tables)


def solve(
    scenario: Scenario,
    tables: Tables | str | Path | None = None,
    *,
    reference: Plan | None = None,
    diagnose: bool = False,
    progress: Callable[[str], None] | None = None,
) -> Plan:
    """Solve ``scenario`` and return the :class:`Plan` in memory (nothing is written).

    ``tables``: the input tables (:func:`load_tables`, or their path); default the scenario's ``data``. A
    scenario with its own ladder (``categories``) takes no tables. ``reference``: an earlier plan on the
    same tables; a what-if that only tightens its model, and that its plan keeps, takes that plan without a
    solve (docs/whatif.md). ``diagnose``: when a target is missed or there is no plan, add the diagnosis to
    the summary (extra solves in worker processes, as ``wfplan solve`` does). ``progress`` receives one line
    per phase and solver stage (e.g. ``print``). Raises :class:`InputError` on bad tables.
    """
    report = progress or (lambda message: None)
    if scenario.kind == "ladder":
        if tables is not None or reference is not None:
            raise ValueError(f"scenario {scenario.name!r} has its own ladder: it reads no input tables and "
                             "takes no reference")
        return Plan(scenario, None, compute_ladder_plan(scenario, progress=report))
    inputs = _tables_for(scenario, tables)
    solved = None if reference is None else reference.computed.reference
    computed = compute_plan(scenario, inputs.path, progress=report, tables=inputs.inputs, diagnose=diagnose,
                            reference=solved)
    return Plan(scenario, inputs, computed)


def open_store(db: str | None = None) -> RunStore:
    """The run store at ``db`` (a SQLAlchemy URL, ``sqlite:///PATH`` or ``postgresql://USER@HOST:PORT/DB``, or
    a SQLite file path; default ``$WFPLAN_DB``, else ``wfplan.db`` in the working folder), created or migrated
    to the newest schema. Raises :class:`StoreError` when it cannot be reached or used."""
    return RunStore.open(db)


def verify(folder: str | Path, tables: Tables | str | Path | None = None) -> VerificationReport:
    """The independent verifier's report on a written plan folder, as ``wfplan verify`` gives it: a plan
    solved from input tables needs them (``tables``, or their path); an own-ladder plan needs nothing else."""
    if is_ladder_plan(folder):
        return verify_ladder_plan(folder)
    if tables is None:
        raise ValueError(f"{folder} is not an own-ladder plan: pass the input tables it was solved from")
    return verify_plan(folder, tables.path if isinstance(tables, Tables) else tables)


def compare(*runs: Plan | str | Path, labels: Iterable[str] | None = None) -> dict[str, pd.DataFrame]:
    """Side-by-side tables of two or more plans (in-memory :class:`Plan` objects or written plan folders),
    as ``wfplan compare`` writes them (docs/whatif.md): ``mix``, ``budget``, ``actions``, ``units`` and
    ``people``; the first run is the reference and every other gets a ``delta:<label>`` column. ``labels``
    name the runs' columns (default: a plan's scenario name, a folder's name). Plans are written to a
    temporary folder (then removed) for the comparison. ValueError when a run has no plan tables.
    """
    names = list(labels) if labels is not None else distinct_labels(
        [run.scenario.name if isinstance(run, Plan) else Path(run).name for run in runs])
    with tempfile.TemporaryDirectory(prefix="wfplan-compare-") as scratch:
        folders = [
            run.write(Path(scratch) / str(i), reports=False) if isinstance(run, Plan) else Path(run)
            for i, run in enumerate(runs)
        ]
        return compare_runs(folders, names)
