"""Where a run's folder goes and how it is recorded: the glue between the commands and the store.

A solve without ``--out`` writes ``runs/<scenario>/<run id>/`` (a new folder every time) and then points
``runs/<scenario>/latest`` at it. With an explicit ``--out DIR`` the plan is written at DIR as before (a new
or empty folder, or an earlier plan of wfplan, which it replaces), with one rule more: an earlier plan at DIR
that the store holds as a run may be replaced only while it is a draft, and that run then becomes
``discarded`` (its audit row names the run that replaced it); a submitted, approved, rejected or superseded
plan is never replaced (refused, exit 2, before solving). Sweeps and frontiers follow the same rules for
their output folder, with their points as the runs.

The record is written inside the staged folder, after every file (:class:`optimizer.pipeline.Recorder`):
a store that fails at that moment leaves neither a folder nor a record.
"""

from __future__ import annotations

import json
import shlex
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from models.scenario import Scenario, ScenarioError
from models.scenario_files import build_scenario
from optimizer.pipeline import versions
from optimizer.plan.folders import MARKER, OutputFolderError, absolute, claim_folder, folder_kind
from optimizer.registry.layout import LOCK_FILE, file_hashes, new_run_id, point_latest, runs_container
from optimizer.registry.lifecycle import DRAFT
from optimizer.registry.store import RunRecord, RunStore, record_of_summary
from optimizer.whatif.inputs_cache import cached_inputs

RUNS_ROOT = Path("runs")


def command_line(argv: list[str] | None = None) -> str:
    """The command as typed (``wfplan solve baseline --set ...``), for the record."""
    args = sys.argv[1:] if argv is None else argv
    return shlex.join(["wfplan", *args])


@dataclass(frozen=True)
class RunTarget:
    """Where a run is written: its id, its folder (absolute), the folder of versioned runs it goes into
    (None for an explicit ``--out``), and the draft runs whose folder it replaces."""

    run_id: str
    folder: Path
    container: Path | None = None
    replaces: tuple[str, ...] = ()

    @contextmanager
    def writing(self) -> Iterator[Path]:
        """Around the run's write: the container is created (with its marker) when missing, and removed
        again when the block fails and the container holds nothing else; after a successful block ``latest``
        points at the new folder. Yields the folder to write."""
        if self.container is None:
            yield self.folder
            return
        created = not self.container.exists()
        runs_container(self.container.parent, self.container.name)
        try:
            yield self.folder
        except BaseException:
            if created and {p.name for p in self.container.iterdir()} <= {MARKER, LOCK_FILE}:
                shutil.rmtree(self.container, ignore_errors=True)
            raise
        point_latest(self.folder)


def _container(root: Path, name: str) -> Path:
    """``root/name`` (absolute) checked as the folder of versioned runs (not created), with a plain message
    for an output of an older wfplan there."""
    path = absolute(root / name)
    found = folder_kind(path)
    if found not in (None, "runs"):
        raise OutputFolderError(
            f"{root / name}: refused: it is a {found} folder written by a wfplan before the run registry; outputs "
            f"now go to {root / name}/<run id>/: move it away (e.g. to {root / name}-old) or pass --out")
    claim_folder(path, "runs")
    return path


def replaced_drafts(store: RunStore, out: Path) -> tuple[str, ...]:
    """The runs recorded in the folder ``out`` or under it, which writing ``out`` again replaces: allowed
    only while every one is a draft (OutputFolderError naming the first that is not)."""
    held = store.runs_under(out)
    for run in held:
        if run.status != DRAFT:
            raise OutputFolderError(
                f"{out}: refused: it holds run {run.id}, {run.status}; recorded plans past draft are never "
                "replaced: choose a new folder, or leave out --out for a new versioned folder")
    return tuple(run.id for run in held)


def run_target(store: RunStore, name: str, out: str | Path | None, root: str | Path = RUNS_ROOT) -> RunTarget:
    """The folder of a new run: ``root/<name>/<run id>/`` when ``out`` is None, else ``out`` itself
    (:func:`replaced_drafts` decides whether an earlier plan there may go). Checked, nothing created."""
    run_id = new_run_id()
    if out is None:
        container = _container(Path(root), name)
        return RunTarget(run_id, container / run_id, container)
    folder = absolute(out)
    return RunTarget(run_id, folder, None, replaced_drafts(store, folder) if folder.exists() else ())


@dataclass(frozen=True)
class PlanRecorder:
    """:class:`optimizer.pipeline.Recorder` of one solve: records the staged folder's files and summary as
    the run ``target.run_id`` at ``target.folder``, discarding the drafts it replaces, in one transaction."""

    store: RunStore
    target: RunTarget
    command: str
    kind: str = "solve"

    @property
    def run_id(self) -> str:
        return self.target.run_id

    def __call__(self, folder: Path, summary: dict[str, Any]) -> None:
        record = record_of_summary(self.run_id, summary, self.target.folder, file_hashes(folder), self.command,
                                   self.kind)
        self.store.record(record, replaces=self.target.replaces)


def study_target(store: RunStore, kind: str, name: str, out: str | Path | None,
                 root: str | Path = RUNS_ROOT) -> RunTarget:
    """The output folder of a sweep or a frontier (``kind``): ``root/<kind>-<name>/<study id>/`` when ``out``
    is None, else ``out`` (as :func:`run_target`)."""
    return run_target(store, f"{kind}-{name}", out, root)


def point_records(rows: list[dict[str, Any]], staged: Path, target: RunTarget, command: str,
                  summaries: list[dict[str, Any]]) -> list[RunRecord]:
    """The runs of a sweep's points: ``rows[i]`` a point's row of the sweep table (``point``, ``run``: its
    plan folder relative to the sweep's folder, ``error``) and ``summaries[i]`` its summary.json (or what is
    known of a point that wrote none). Ids are ``<sweep id>-p<point>``; a point's files are hashed in the
    staged sweep folder ``staged``."""
    records = []
    for row, summary in zip(rows, summaries, strict=True):
        written = (staged / row["run"] / "summary.json").exists()
        folder = target.folder / row["run"] if written else None
        files = file_hashes(staged / row["run"]) if written else {}
        record = record_of_summary(f"{target.run_id}-p{row['point']}", summary, folder, files, command,
                                   "sweep_point", study=target.run_id)
        error = row.get("error")
        records.append(replace(record, error=error) if isinstance(error, str) and error else record)
    return records


def _point_summary(plan_dir: Path, scenario: str, row: dict[str, Any]) -> dict[str, Any]:
    """A sweep point's summary.json, or what its row knows when it wrote none (a failed point)."""
    try:
        return json.loads((plan_dir / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"scenario": {"name": scenario}, "status": row["status"], "exit_code": int(row["exit_code"])}


StudyRecorder = Callable[[Path, pd.DataFrame], None]
"""Records a study's points from its staged folder and its table (``on_written`` of a sweep or frontier)."""


SWEEP_BASE = "base"
"""The folder, inside a sweep's, of the plan of its own scenario that every point is planned against."""


def sweep_recorder(store: RunStore, target: RunTarget, command: str, scenario: str) -> StudyRecorder:
    """Records every point of a sweep as a run (kind ``sweep_point``, study = the sweep's id) and the plan of
    the sweep's own scenario when it solved one (``<sweep id>-base``, kind ``solve``, folder ``base``), in one
    transaction, the drafts the sweep's folder replaces discarded."""
    def record(folder: Path, table: pd.DataFrame) -> None:
        rows = table.to_dict("records")
        summaries = [_point_summary(folder / row["run"], scenario, row) for row in rows]
        records = point_records(rows, folder, target, command, summaries)
        base = folder / SWEEP_BASE
        if (base / "summary.json").exists():
            summary = json.loads((base / "summary.json").read_text(encoding="utf-8"))
            records.insert(0, record_of_summary(f"{target.run_id}-{SWEEP_BASE}", summary, target.folder / SWEEP_BASE,
                                                file_hashes(base), command, "solve", study=target.run_id))
        store.record_many(records, replaces=target.replaces)

    return record


def _exit_of_frontier_point(row: dict[str, Any], goal: str) -> int:
    """0 the goal has a value; 3 no plan reaches it; 2 a value the scenario rejects; 1 the point failed."""
    if pd.notna(row[goal]):
        return 0
    if row["status"] == "bad_input":
        return 2
    return 1 if isinstance(row.get("error"), str) else 3


def frontier_recorder(store: RunStore, target: RunTarget, command: str, scenario: Scenario, key: str, goal: str,
                      data_dir: Path) -> StudyRecorder:
    """Records every point of a frontier as a run (kind ``frontier_point``, study = the frontier's id, folder
    = the frontier's folder, no files of its own): the scenario with the point's ``key`` value, the goal's
    value as its objective."""
    def record(folder: Path, table: pd.DataFrame) -> None:
        hashes = dict(cached_inputs(data_dir).hashes)
        records = []
        for number, row in enumerate(table.to_dict("records"), start=1):
            try:
                resolved = build_scenario(scenario.to_raw(), scenario.name, [f"{key}={row[key]}"])
                settings = resolved.model_dump(mode="json")
            except ScenarioError:
                settings = {**scenario.model_dump(mode="json"), "frontier_point": {key: row[key]}}
            summary = {"scenario": settings, "inputs": {"hashes": hashes}, "versions": versions(),
                       "status": row["status"], "exit_code": _exit_of_frontier_point(row, goal),
                       "objective": {goal: None if pd.isna(row[goal]) else float(row[goal])}}
            point = record_of_summary(f"{target.run_id}-p{number}", summary, target.folder, {}, command,
                                      "frontier_point", study=target.run_id)
            error = row.get("error")
            records.append(replace(point, error=error) if isinstance(error, str) and error else point)
        store.record_many(records, replaces=target.replaces)

    return record
