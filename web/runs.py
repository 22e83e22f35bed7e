"""The runs the page lists: every run of the run store (:mod:`optimizer.registry`), newest first, and ahead of
them this server's jobs that have not yet ended (queued or solving, not yet recorded)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from optimizer.registry.lifecycle import PLAN_EXITS
from optimizer.registry.store import RunInfo
from web.jobs import Job

OUTCOMES = {0: "targets met", 3: "target missed", 4: "no plan", 2: "bad input", 1: "failed"}


@dataclass(frozen=True)
class RunRow:
    """One run as the page lists it."""

    run_id: str
    scenario: str
    state: str
    """``queued``, ``running`` or ``cancelled`` (a job of this server), else ``finished`` or ``failed``."""
    exit_code: int | None
    status: str | None
    """The solver's status (summary.json ``status``)."""
    when: float
    user: str = ""
    folder: Path | None = None
    """The run's folder (None while it runs, and for a run that wrote none)."""
    message: str = ""
    approval: str | None = None
    """The run's lifecycle state in the store (draft, submitted, approved, ...); None until recorded."""

    @property
    def has_plan(self) -> bool:
        return self.exit_code in PLAN_EXITS and self.folder is not None

    @property
    def outcome(self) -> str:
        """``targets met``, ``target missed``, ``no plan``, ``bad input``, ``failed``; else the job's state."""
        return OUTCOMES.get(self.exit_code, self.state) if self.exit_code is not None else self.state

    @property
    def name(self) -> str:
        """How the page names the run in a choice: what never changes about it (its outcome shows beside)."""
        return f"{self.run_id} · {self.scenario}" + (f" · {self.user}" if self.user else "")


def stored_row(info: RunInfo) -> RunRow:
    folder = info.folder if info.folder is not None and (info.folder / "summary.json").is_file() else None
    return RunRow(info.id, info.scenario, "finished" if info.exit_code in (0, 3, 4) else "failed", info.exit_code,
                  info.solver_status, info.created_at.timestamp(), info.user, folder, info.error or "", info.status)


def job_row(job: Job) -> RunRow:
    return RunRow(job.run_id, job.scenario, job.state, job.exit_code, job.status, job.submitted, job.request.user,
                  message=job.message)


def run_rows(jobs: list[Job], stored: list[RunInfo]) -> list[RunRow]:
    """This server's jobs that the store does not hold (queued, running, cancelled), then the stored runs;
    newest first."""
    rows = {info.id: stored_row(info) for info in stored}
    for job in jobs:
        rows.setdefault(job.run_id, job_row(job))
    return sorted(rows.values(), key=lambda row: (row.when, row.run_id), reverse=True)
