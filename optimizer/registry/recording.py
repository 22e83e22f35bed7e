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

import shlex
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from optimizer.plan.folders import OutputFolderError, absolute, folder_kind
from optimizer.registry.layout import file_hashes, new_run_id, point_latest, runs_container
from optimizer.registry.lifecycle import DRAFT
from optimizer.registry.store import RunInfo, RunRecord, RunStore, record_of_summary

RUNS_ROOT = Path("runs")


def command_line(argv: list[str] | None = None) -> str:
    """The command as typed (``wfplan solve baseline --set ...``), for the record."""
    args = sys.argv[1:] if argv is None else argv
    return shlex.join(["wfplan", *args])


@dataclass(frozen=True)
class RunTarget:
    """Where a run is written: its id, its folder (absolute), whether it is a versioned folder whose
    container's ``latest`` should point at it, and the draft run whose folder it replaces (explicit --out)."""

    run_id: str
    folder: Path
    versioned: bool
    replaces: tuple[str, ...] = ()

    def finished(self) -> None:
        """After the folder is in place: point ``latest`` at a versioned folder."""
        if self.versioned:
            point_latest(self.folder)


def _container(root: Path, name: str) -> Path:
    """``root/name`` as the folder of versioned runs, with a plain message for a plan of an older wfplan."""
    path = root / name
    if folder_kind(path) == "plan":
        raise OutputFolderError(
            f"{path}: refused: it is a plan folder written by a wfplan before the run registry; plans now go "
            f"to {path}/<run id>/: move it away (e.g. to {path}-old) or pass --out")
    return runs_container(root, name)


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
    (:func:`replaced_drafts` decides whether an earlier plan there may go)."""
    run_id = new_run_id()
    if out is None:
        return RunTarget(run_id, absolute(_container(Path(root), name) / run_id), True)
    folder = absolute(out)
    return RunTarget(run_id, folder, False, replaced_drafts(store, folder) if folder.exists() else ())


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
                  kind: str, summaries: list[dict[str, Any]]) -> list[RunRecord]:
    """The records of a study's points: ``rows[i]`` a point's table row (with ``run``: its plan folder
    relative to the study's folder, for a sweep) and ``summaries[i]`` its summary (summary.json of its
    folder, or what the point knows when it wrote none). Ids are ``<study id>-p<point>``."""
    records = []
    for number, (row, summary) in enumerate(zip(rows, summaries, strict=True), start=1):
        relative = row.get("run")
        written = relative is not None and (staged / relative / "summary.json").exists()
        folder = target.folder / relative if written else None
        files = file_hashes(staged / relative) if written else {}
        record = record_of_summary(f"{target.run_id}-p{row.get('point', number)}", summary, folder, files,
                                   command, kind, study=target.run_id)
        records.append(replace(record, error=str(row["error"])) if row.get("error") else record)
    return records


def record_study(store: RunStore, records: list[RunRecord], target: RunTarget) -> None:
    """Record a study's points in one transaction, the drafts its folder replaces discarded."""
    store.record_many(records, replaces=target.replaces)


def run_info(store: RunStore, folder: str | Path) -> RunInfo | None:
    """The run recorded with the plan folder ``folder`` (resolved through ``latest``), or None."""
    return store.run_at(Path(folder).resolve())
