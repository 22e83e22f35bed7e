"""The run store: every run recorded, its lifecycle with an append-only audit trail, its files checked.

    from optimizer.registry.store import RunStore

    store = RunStore.open()                      # --db / $WFPLAN_DB / ./wfplan.db, migrated to the newest schema
    store.runs(scenario="baseline", status="approved")   # [RunInfo], newest first
    run = store.run("20261203-0915")             # a run by id or a unique id prefix (RunNotFound otherwise)
    run.changes                                  # files changed since it was recorded (checked on every read)
    store.submit(run.id, by="li.wei", note="Q1 plan")
    store.approve(run.id, by="hr.director")      # audit rows: store.run(run.id).audit
    store.diff(a, b)                             # the compare tables (optimizer.whatif.compare) of two runs
    store.export(run.id, "plan.zip")             # the folder and its record (record.json) in one zip file

Runs are written by :meth:`RunStore.record` (one run) and :meth:`RunStore.record_many` (a sweep's points),
each in one transaction with its files' hashes and its first audit row, so a run is in the store whole or
not at all. Rows are only ever inserted, except a run's ``status``; the audit table refuses UPDATE and
DELETE in the database itself. Every query goes through the ORM with bound parameters.

Errors a user can cause are :class:`~optimizer.registry.database.StoreError` (the CLI exits 2): an unknown
or ambiguous run id (:class:`RunNotFound`), an action the run's state does not allow
(:class:`TransitionError`), a run whose files changed since it was recorded (:class:`TamperedRunError`:
approve, diff and export refuse it), a store that cannot be reached.
"""

from __future__ import annotations

import getpass
import json
import math
import numbers
import os
import socket
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine, or_, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, selectinload

from optimizer.plan.folders import OutputFolderError
from optimizer.registry.database import StoreError, connect, first_line, shown
from optimizer.registry.layout import FileHash, file_hashes
from optimizer.registry.lifecycle import (
    APPROVED,
    DISCARDED,
    DRAFT,
    PLAN_EXITS,
    STATUSES,
    SUPERSEDED,
    TRANSITIONS,
)
from optimizer.registry.schema import AuditRow, RunFileRow, RunRow
from optimizer.whatif.compare import compare_runs

KINDS = ("solve", "demo", "sweep_point", "frontier_point")
TRANSITION_LOCK = zlib.crc32(b"wfplan run store transitions")
"""PostgreSQL advisory lock key held by a lifecycle transition (two approvals never both see no approved run)."""
RECORD_FILE = "record.json"
"""The run's record inside an export zip, beside its folder's files."""


class RunNotFound(StoreError):
    """No run has this id (or several share this prefix)."""


class TransitionError(StoreError):
    """The action is not allowed for the run in its state (or for this actor)."""


class TamperedRunError(StoreError):
    """A run's files no longer match their recorded hashes."""


def current_user() -> str:
    """The login name runs are recorded under."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@dataclass(frozen=True)
class RunRecord:
    """What :meth:`RunStore.record` writes for one run (``files``: its folder's files and their hashes)."""

    id: str
    command: str
    kind: str
    scenario: str
    scenario_resolved: dict[str, Any]
    input_hashes: dict[str, Any]
    versions: dict[str, Any]
    solver_status: str
    exit_code: int
    objective: dict[str, Any]
    targets_met: bool | None
    folder: Path | None
    files: dict[str, FileHash] = field(default_factory=dict)
    study: str | None = None
    error: str | None = None
    username: str = field(default_factory=current_user)
    host: str = field(default_factory=socket.gethostname)
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def record_of_summary(run_id: str, summary: dict[str, Any], folder: Path | None, files: dict[str, FileHash],
                      command: str, kind: str = "solve", study: str | None = None) -> RunRecord:
    """The record of a run from its summary.json (docs/outputs.md) and its folder's files."""
    scenario = summary.get("scenario", {})
    return RunRecord(
        id=run_id, command=command, kind=kind, study=study, scenario=str(scenario.get("name", "")),
        scenario_resolved=scenario, input_hashes=dict(summary.get("inputs", {}).get("hashes", {})),
        versions=dict(summary.get("versions", {})), solver_status=str(summary.get("status", "")),
        exit_code=int(summary.get("exit_code", 1)), objective=dict(summary.get("objective", {})),
        targets_met=summary.get("targets_met"), folder=folder, files=files,
        error=(summary.get("solver", {}).get("message") or None) if summary.get("exit_code") == 4 else None,
    )


@dataclass(frozen=True)
class AuditEntry:
    """One audit row: ``action`` by ``actor`` at ``at`` (UTC) moved the run from ``from_status`` to
    ``to_status``, with the actor's ``comment``."""

    at: datetime
    actor: str
    action: str
    from_status: str | None
    to_status: str
    comment: str | None


@dataclass(frozen=True)
class FileChange:
    """A file of a run's folder that is not as recorded: ``changed`` (other content), ``missing`` or ``added``."""

    path: str
    change: str

    @property
    def alters(self) -> bool:
        """True when a recorded file is not as recorded (changed or missing); an added file alters nothing
        recorded (a note of yours, a simulation written into the folder) and is only reported."""
        return self.change != "added"

    def __str__(self) -> str:
        return f"{self.path}: {self.change}"


@dataclass(frozen=True)
class RunInfo:
    """A run as the store holds it, with its audit trail and the files checked against their hashes
    (``changes`` is empty when every file is as recorded; None when the run has no folder)."""

    id: str
    created_at: datetime
    user: str
    host: str
    command: str
    kind: str
    study: str | None
    scenario: str
    status: str
    solver_status: str
    exit_code: int
    targets_met: bool | None
    objective: dict[str, Any]
    folder: Path | None
    error: str | None
    input_hashes: dict[str, Any]
    versions: dict[str, Any]
    scenario_resolved: dict[str, Any]
    files: dict[str, FileHash]
    audit: tuple[AuditEntry, ...]
    changes: tuple[FileChange, ...] | None

    @property
    def when(self) -> str:
        """``created_at`` as people read it: ``2026-12-03 09:15:02 UTC``."""
        return self.created_at.strftime("%Y-%m-%d %H:%M:%S UTC")

    @property
    def targets(self) -> str:
        """``met``, ``missed``, or empty for a run without a plan."""
        return "" if self.targets_met is None else ("met" if self.targets_met else "missed")

    @property
    def altered(self) -> tuple[FileChange, ...]:
        """The recorded files that changed or are missing (empty when none, or not checked)."""
        return tuple(change for change in self.changes or () if change.alters)

    @property
    def has_plan(self) -> bool:
        """True when the run wrote a plan (exit 0 or 3) into a folder."""
        return self.exit_code in PLAN_EXITS and self.folder is not None and bool(self.files)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: times as ISO 8601 UTC, paths as text, files as ``{path: {sha256, size}}``."""
        data = asdict(self)
        data.update(created_at=self.created_at.isoformat(), folder=None if self.folder is None else str(self.folder),
                    audit=[{**asdict(entry), "at": entry.at.isoformat()} for entry in self.audit],
                    changes=None if self.changes is None else [asdict(change) for change in self.changes])
        return data


RUNS_TABLE_COLUMNS = ("run", "created", "user", "scenario", "kind", "study", "status", "outcome", "exit_code",
                      "targets", "cost", "folder")


def runs_table(found: list[RunInfo]) -> pd.DataFrame:
    """One row per run (``wfplan runs list``, the web page's list): :data:`RUNS_TABLE_COLUMNS`, ``cost`` in CNY
    (the objective's cost term, empty without one), ``folder`` empty for a run without one."""
    return pd.DataFrame(
        [{"run": r.id, "created": r.when, "user": r.user, "scenario": r.scenario, "kind": r.kind,
          "study": r.study or "", "status": r.status, "outcome": r.solver_status, "exit_code": r.exit_code,
          "targets": r.targets, "cost": r.objective.get("cost"), "folder": "" if r.folder is None else str(r.folder)}
         for r in found], columns=list(RUNS_TABLE_COLUMNS))


def json_ready(value: Any) -> Any:
    """``value`` as strict JSON holds it (PostgreSQL refuses NaN and infinity): non-finite floats become None,
    anything else JSON does not know becomes its text."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(key): json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(item) for item in value]
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, numbers.Integral):  # numpy integers
        return int(value)
    return json_ready(float(value)) if isinstance(value, numbers.Real) else str(value)


def _utc(moment: datetime) -> datetime:
    """A time read back from the store as UTC (SQLite returns it without its zone)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def folder_changes(folder: Path, recorded: dict[str, FileHash]) -> tuple[FileChange, ...]:
    """The files of ``folder`` that differ from ``recorded``: changed content, missing, added."""
    if not folder.is_dir():
        return (FileChange(".", "missing"),)
    now = file_hashes(folder)
    changes = [FileChange(path, "missing") for path in recorded if path not in now]
    changes += [FileChange(path, "changed") for path, found in now.items()
                if path in recorded and found.sha256 != recorded[path].sha256]
    changes += [FileChange(path, "added") for path in now if path not in recorded]
    return tuple(sorted(changes, key=lambda c: c.path))


class RunStore:
    """The run store on one database (:mod:`optimizer.registry.database`). Methods open a short transaction
    each; a database failure becomes a :class:`StoreError` and leaves the store as it was."""

    def __init__(self, engine: Engine):
        self.engine = engine

    @classmethod
    def open(cls, db: str | None = None, create: bool = True) -> RunStore:
        """The store at ``db`` (a URL or SQLite path; default ``$WFPLAN_DB``, else ``./wfplan.db``), created
        (unless ``create`` is False: :class:`~optimizer.registry.database.MissingStoreError` for a SQLite file
        that does not exist) or migrated to the newest schema. StoreError when it cannot be reached or used."""
        return cls(connect(db, create))

    @property
    def url(self) -> str:
        """The store's URL, password hidden."""
        return shown(self.engine.url)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _session(self) -> Iterator[Session]:
        """A session whose transaction commits at the end of the block; database errors → StoreError."""
        try:
            with Session(self.engine, expire_on_commit=False) as session, session.begin():
                yield session
        except SQLAlchemyError as exc:
            raise StoreError(f"run store {self.url}: {first_line(exc)}") from None

    # --- writing runs -------------------------------------------------------------------------------------

    def record(self, record: RunRecord, replaces: tuple[str, ...] = ()) -> None:
        """Insert one run (status draft) with its files and its first audit row, in one transaction.
        ``replaces``: draft runs whose folder this run's folder replaced (an explicit ``--out``); they become
        ``discarded`` in the same transaction."""
        self.record_many([record], replaces)

    def record_many(self, records: list[RunRecord], replaces: tuple[str, ...] = ()) -> None:
        """Insert several runs (a sweep's or a frontier's points) in one transaction: all or none; the
        ``replaces`` drafts are discarded in it."""
        with self._session() as session:
            for record in records:
                self._insert(session, record)
            for run_id in replaces:
                self._discard(session, run_id, records[0])

    @staticmethod
    def _insert(session: Session, record: RunRecord) -> None:
        if record.kind not in KINDS:
            raise ValueError(f"unknown run kind {record.kind!r}")
        session.add(RunRow(
            id=record.id, created_at=record.created_at, username=record.username, host=record.host,
            command=record.command, kind=record.kind, study=record.study, scenario=record.scenario,
            scenario_resolved=json_ready(record.scenario_resolved), input_hashes=json_ready(record.input_hashes),
            versions=json_ready(record.versions), solver_status=record.solver_status, exit_code=record.exit_code,
            objective=json_ready(record.objective), targets_met=record.targets_met,
            folder=None if record.folder is None else str(record.folder), error=record.error, status=DRAFT,
        ))
        session.flush()  # the run before its children (no ORM cascade needed)
        session.add_all(RunFileRow(run_id=record.id, path=path, sha256=h.sha256, size=h.size)
                        for path, h in record.files.items())
        session.add(AuditRow(run_id=record.id, at=record.created_at, actor=record.username, action="record",
                             from_status=None, to_status=DRAFT, comment=record.command))

    def _discard(self, session: Session, run_id: str, by: RunRecord) -> None:
        row = session.get(RunRow, run_id)
        if row is None or row.status != DRAFT:
            raise TransitionError(f"run {run_id}: only a draft's folder may be replaced")
        self._move(session, row, "discard", DISCARDED, by.username, f"its folder was replaced by run {by.id}")

    # --- reading ------------------------------------------------------------------------------------------

    def runs(self, scenario: str | None = None, status: str | None = None, kind: str | None = None,
             study: str | None = None, limit: int | None = None) -> list[RunInfo]:
        """Runs matching every filter given, newest first (files not checked: see :meth:`run`)."""
        if status is not None and status not in STATUSES:
            raise StoreError(f"unknown status {status!r}; one of {', '.join(STATUSES)}")
        query = select(RunRow).options(selectinload(RunRow.files), selectinload(RunRow.audit))
        for column, value in ((RunRow.scenario, scenario), (RunRow.status, status), (RunRow.kind, kind),
                              (RunRow.study, study)):
            if value is not None:
                query = query.where(column == value)
        query = query.order_by(RunRow.created_at.desc(), RunRow.id.desc()).limit(limit)
        with self._session() as session:
            return [self._info(row, check=False) for row in session.scalars(query)]

    def run(self, run_id: str) -> RunInfo:
        """The run ``run_id`` (or the one run whose id starts with it), its files checked against their
        hashes. RunNotFound when none or several match."""
        with self._session() as session:
            return self._info(self._row(session, run_id), check=True)

    def run_at(self, folder: str | Path) -> RunInfo | None:
        """The newest run recorded with the folder ``folder`` (an absolute path), or None."""
        query = (select(RunRow).where(RunRow.folder == str(Path(folder).absolute()))
                 .order_by(RunRow.created_at.desc()).limit(1))
        with self._session() as session:
            row = session.scalars(query).first()
            return None if row is None else self._info(row, check=False)

    def runs_under(self, folder: str | Path) -> list[RunInfo]:
        """The live runs (not discarded) recorded with the folder ``folder`` or a folder inside it."""
        path = str(Path(folder).absolute())
        query = (select(RunRow).options(selectinload(RunRow.files), selectinload(RunRow.audit))
                 .where(RunRow.status != DISCARDED)
                 .where(or_(RunRow.folder == path, RunRow.folder.startswith(path + "/", autoescape=True)))
                 .order_by(RunRow.id))
        with self._session() as session:
            return [self._info(row, check=False) for row in session.scalars(query)]

    def audit(self, run_id: str) -> list[AuditEntry]:
        """The audit trail of a run, oldest first."""
        return list(self.run(run_id).audit)

    def checked(self, run_id: str) -> RunInfo:
        """:meth:`run`, refused with :class:`TamperedRunError` when a recorded file of its folder changed or
        is missing (the record no longer describes the folder: approving, comparing or exporting it would
        vouch for files nobody checked); files added since are no obstacle."""
        info = self.run(run_id)
        if info.altered:
            raise TamperedRunError(
                f"run {info.id} is {info.status} but its folder {info.folder} changed since it was recorded: "
                + "; ".join(map(str, info.altered)))
        return info

    @staticmethod
    def _row(session: Session, run_id: str) -> RunRow:
        row = session.get(RunRow, run_id)
        if row is not None:
            return row
        matches = session.scalars(select(RunRow).where(RunRow.id.startswith(run_id, autoescape=True))
                                  .order_by(RunRow.id).limit(6)).all()
        if len(matches) == 1 and run_id:
            return matches[0]
        if not matches:
            raise RunNotFound(f"no run {run_id!r} in the store (wfplan runs list shows the runs)")
        raise RunNotFound(f"run {run_id!r} is ambiguous: {', '.join(r.id for r in matches[:5])}, …; "
                          "give more of the id")

    @staticmethod
    def _info(row: RunRow, check: bool) -> RunInfo:
        files = {f.path: FileHash(f.sha256, f.size) for f in row.files}
        folder = None if row.folder is None else Path(row.folder)
        changes = folder_changes(folder, files) if check and folder is not None and row.status != DISCARDED else None
        return RunInfo(
            id=row.id, created_at=_utc(row.created_at), user=row.username, host=row.host, command=row.command,
            kind=row.kind, study=row.study, scenario=row.scenario, status=row.status,
            solver_status=row.solver_status, exit_code=row.exit_code, targets_met=row.targets_met,
            objective=dict(row.objective or {}), folder=folder, error=row.error,
            input_hashes=dict(row.input_hashes or {}), versions=dict(row.versions or {}),
            scenario_resolved=dict(row.scenario_resolved or {}), files=files,
            audit=tuple(AuditEntry(_utc(a.at), a.actor, a.action, a.from_status, a.to_status, a.comment)
                        for a in row.audit),
            changes=changes,
        )

    # --- lifecycle ----------------------------------------------------------------------------------------

    def submit(self, run_id: str, by: str, note: str | None = None) -> RunInfo:
        """draft → submitted: put a plan up for approval."""
        return self.transition(run_id, "submit", by, note)

    def approve(self, run_id: str, by: str, note: str | None = None) -> RunInfo:
        """submitted → approved (by someone other than the submitter, the files as recorded); the run of the
        same scenario approved before becomes superseded."""
        return self.transition(run_id, "approve", by, note)

    def reject(self, run_id: str, by: str, note: str | None = None) -> RunInfo:
        """submitted → rejected."""
        return self.transition(run_id, "reject", by, note)

    def transition(self, run_id: str, action: str, by: str, note: str | None = None) -> RunInfo:
        """Apply ``action`` (submit, approve, reject; :data:`optimizer.registry.lifecycle.TRANSITIONS`) by the
        actor ``by``, with an audit row; returns the run after it. TransitionError when the run's state,
        its plan or the actor do not allow it; TamperedRunError when its files changed."""
        if action not in TRANSITIONS:
            raise TransitionError(f"unknown action {action!r}; one of {', '.join(TRANSITIONS)}")
        if not by.strip():
            raise TransitionError(f"{action}: name who does it (--by NAME)")
        step = TRANSITIONS[action]
        with self._session() as session:
            if self.engine.dialect.name == "postgresql":  # one transition at a time (SQLite: BEGIN IMMEDIATE)
                session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": TRANSITION_LOCK})
            row = self._row(session, run_id)
            if row.status != step.source:
                raise TransitionError(f"run {row.id} is {row.status}: only a {step.source} run can be {step.target}")
            info = self._info(row, check=True)
            if not info.has_plan:
                raise TransitionError(f"run {row.id} has no plan (exit {row.exit_code}, {row.solver_status}): "
                                      "nothing to approve")
            if info.altered:
                raise TamperedRunError(f"run {row.id} is {row.status} but its folder {row.folder} changed since it "
                                       "was recorded: " + "; ".join(map(str, info.altered)))
            if action == "approve":
                submitter = next(a.actor for a in reversed(row.audit) if a.action == "submit")
                if submitter == by.strip():
                    raise TransitionError(f"run {row.id} was submitted by {submitter}: someone else must approve it")
                earlier = session.scalars(select(RunRow).where(RunRow.scenario == row.scenario,
                                                               RunRow.status == APPROVED)).all()
                for other in earlier:
                    self._move(session, other, "supersede", SUPERSEDED, by, f"superseded by run {row.id}")
            self._move(session, row, action, step.target, by, note)
            run_id = row.id
        return self.run(run_id)

    @staticmethod
    def _move(session: Session, row: RunRow, action: str, target: str, actor: str, comment: str | None) -> None:
        session.add(AuditRow(run_id=row.id, at=datetime.now(UTC), actor=actor.strip(), action=action,
                             from_status=row.status, to_status=target, comment=comment))
        row.status = target

    # --- using a run's folder -----------------------------------------------------------------------------

    def record_added_files(self, run_id: str, paths: tuple[str, ...], actor: str, action: str, note: str) -> RunInfo:
        """Take the files ``paths`` of the run's folder, which a wfplan command (``action``, e.g. ``simulate``)
        added or wrote again, into the run's record, with an audit row (the status stays): the record describes
        the folder again, and the trail says who added what. The plan's own files are not among ``paths``;
        what else changed since the record still shows as changed (:meth:`checked` refuses the run)."""
        with self._session() as session:
            row = self._row(session, run_id)
            now = file_hashes(Path(row.folder))
            recorded = {f.path: f for f in row.files}
            for path in paths:
                found = now.get(path)
                if found is None:
                    continue
                if path in recorded:
                    recorded[path].sha256, recorded[path].size = found.sha256, found.size
                else:
                    session.add(RunFileRow(run_id=row.id, path=path, sha256=found.sha256, size=found.size))
            session.add(AuditRow(run_id=row.id, at=datetime.now(UTC), actor=actor.strip(), action=action,
                                 from_status=row.status, to_status=row.status, comment=note))
            run_id = row.id
        return self.run(run_id)

    def plan_folder(self, run_id: str) -> Path:
        """The folder of a run with a plan (checked: :meth:`checked`); StoreError when it has none."""
        info = self.checked(run_id)
        if not info.has_plan or info.status == DISCARDED:
            raise StoreError(f"run {info.id} has no plan folder (exit {info.exit_code}, status {info.status})")
        return info.folder

    def diff(self, a: str, b: str, *more: str) -> dict[str, pd.DataFrame]:
        """The comparison tables of two or more runs by id (the first is the reference), as
        ``wfplan compare`` makes them from folders (:func:`optimizer.whatif.compare.compare_runs`); the runs'
        columns are named by their ids."""
        ids = [self.run(r).id for r in (a, b, *more)]
        if len(set(ids)) != len(ids):
            raise StoreError(f"runs diff needs distinct runs, got {', '.join(ids)}")
        return compare_runs([self.plan_folder(run_id) for run_id in ids], ids)

    def export(self, run_id: str, target: str | Path) -> Path:
        """A zip file at ``target`` (a new file) holding the run's folder (``<run id>/...``) and its record
        (``<run id>/record.json``: the record, the files' hashes and the audit trail), only while its files
        are as recorded."""
        info = self.checked(run_id)
        target = Path(target)
        if target.exists() or target.is_symlink():
            raise OutputFolderError(f"{target}: refused: the file exists; choose a new file name")
        if not target.absolute().parent.is_dir():
            raise OutputFolderError(f"{target}: refused: no folder {target.absolute().parent}")
        record = json.dumps(info.to_dict(), indent=2, ensure_ascii=False, default=str)
        handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.absolute().parent)
        os.close(handle)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(name, 0o666 & ~umask)
        try:
            with zipfile.ZipFile(name, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                archive.writestr(f"{info.id}/{RECORD_FILE}", record)
                for path in info.files if info.status != DISCARDED else ():
                    archive.write(info.folder / path, f"{info.id}/{path}")
            os.link(name, target)  # never over a file that appeared meanwhile
        finally:
            os.unlink(name)
        return target
