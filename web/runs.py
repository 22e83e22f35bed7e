"""The runs the page lists: the jobs of this server's queue, and every plan folder under ``runs/`` (earlier
servers, ``wfplan solve --out runs/<scenario>/<id>``), newest first."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from optimizer.plan.folders import folder_kind
from web.jobs import Job


@dataclass(frozen=True)
class RunRow:
    """One run as the page lists it."""

    run_id: str
    scenario: str
    state: str
    """``queued``, ``running``, ``finished``, ``failed`` or ``cancelled``."""
    exit_code: int | None
    status: str | None
    when: float
    user: str = ""
    folder: Path | None = None
    """The plan folder, once it holds summary.json."""
    message: str = ""

    @property
    def has_plan(self) -> bool:
        return self.folder is not None and (self.folder / "mix.csv").is_file()

    @property
    def label(self) -> str:
        outcome = {0: "targets met", 3: "target missed", 4: "no plan", 2: "bad input", 1: "failed"}.get(
            self.exit_code, self.state) if self.state == "finished" or self.exit_code is not None else self.state
        who = f" · {self.user}" if self.user else ""
        return f"{self.run_id} · {self.scenario} · {outcome}{who}"


def _summary_folder(folder: Path) -> Path | None:
    return folder if folder_kind(folder) == "plan" and (folder / "summary.json").is_file() else None


def job_row(job: Job) -> RunRow:
    return RunRow(job.run_id, job.scenario, job.state, job.exit_code, job.status, job.submitted, job.request.user,
                  _summary_folder(job.plan_dir), job.message)


def folder_rows(runs_root: Path) -> list[RunRow]:
    """Every plan folder ``runs/<scenario>/<run id>/`` (with wfplan's marker and a summary.json)."""
    rows = []
    for summary_file in runs_root.glob("*/*/summary.json"):
        folder = summary_file.parent
        if _summary_folder(folder) is None:
            continue
        try:
            summary = json.loads(summary_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        rows.append(RunRow(folder.name, folder.parent.name, "finished", summary.get("exit_code"), summary.get("status"),
                           summary_file.stat().st_mtime, folder=folder))
    return rows


def run_rows(jobs: list[Job], runs_root: Path) -> list[RunRow]:
    """The queue's jobs and the plan folders not among them, newest first."""
    rows = {job.run_id: job_row(job) for job in jobs}
    for row in folder_rows(runs_root):
        rows.setdefault(row.run_id, row)
    return sorted(rows.values(), key=lambda row: (row.when, row.run_id), reverse=True)
