"""The page's run queue: every solve in a worker process of its own, never in the page's thread.

A planner's request (:class:`RunRequest`: a base scenario, overrides, the input tables) becomes a
:class:`Job` with a run id of the run store and a plan folder ``runs/<scenario>/<run id>/``
(:func:`optimizer.registry.recording.run_target`). :class:`RunQueue` (one per server, shared by every browser
session) starts at most ``workers`` jobs at once and queues the rest in submission order, so two planners who
press *Run* together both get their plans. Each job runs :func:`optimizer.pipeline.run_plan` (the chain of
``wfplan solve``: verified plan folder, reports, diagnosis of a missed target, the run recorded in the store
with the folder) in a process started by a fork server (HiGHS keeps one scheduler per process), which writes
the progress lines the CLI prints to ``progress.log`` in the job's folder as they come and its outcome to
``outcome.json`` at the end; the page reads both. A run that fails (bad input, a bug) is recorded too, without
a folder, with its message. Cancel ends the job's process group (the solve and any diagnosis workers it
started); the pipeline's staged folder means a cancelled run leaves no partial plan and no record.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shlex
import signal
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from models.io import InputError
from models.scenario import Scenario, ScenarioError
from models.scenario_files import build_scenario
from optimizer.pipeline import EXIT_BAD_INPUT, run_plan
from optimizer.plan.folders import USER_ERRNOS, OutputFolderError, remove_stale_staging
from optimizer.plan.output import report_writers, write_json
from optimizer.registry.database import StoreError
from optimizer.registry.layout import file_hashes
from optimizer.registry.recording import PlanRecorder, RunTarget, run_target
from optimizer.registry.store import RunStore, record_of_summary

JobState = Literal["queued", "running", "finished", "failed", "cancelled"]
PROGRESS, OUTCOME, REQUEST, ERROR_LOG = "progress.log", "outcome.json", "request.json", "error.log"
EXIT_BUG = 1
KILL_AFTER = 5.0
"""Seconds a cancelled job has to end after SIGTERM before its process group gets SIGKILL."""


@dataclass(frozen=True)
class RunRequest:
    """What a planner asks to solve: the base scenario (resolved, as :meth:`Scenario.to_raw` gives it, named
    ``source`` in messages), the overrides the page's controls set (``key.path=value`` as ``--set`` takes
    them), the folder of validated input tables, whether a missed target is diagnosed (extra solves, as
    ``wfplan solve`` does; sweep points skip it), who asked, and for a sweep point its study and setting."""

    scenario: dict[str, Any]
    source: str
    overrides: tuple[str, ...]
    data_dir: str
    diagnose: bool = True
    user: str = ""
    study: str | None = None
    setting: str | None = None

    def resolved(self) -> Scenario:
        """The scenario to solve; raises :class:`ScenarioError` listing every problem of the overrides."""
        return build_scenario(dict(self.scenario), self.source, list(self.overrides))

    @property
    def kind(self) -> str:
        """The run's kind in the store: a sweep point or a solve."""
        return "sweep_point" if self.study else "solve"

    @property
    def command(self) -> str:
        """The run as the store records its command: what ``wfplan solve`` would be given."""
        sets = [part for text in self.overrides for part in ("--set", text)]
        return "wfplan serve: " + shlex.join(["solve", self.source, "--data", self.data_dir, *sets])


@dataclass(frozen=True)
class PlannerRecorder(PlanRecorder):
    """:class:`PlanRecorder` with the planner's name (given on the page) as the run's user."""

    user: str = ""
    study: str | None = None

    def __call__(self, folder: Path, summary: dict[str, Any]) -> None:
        record = record_of_summary(self.run_id, summary, self.target.folder, file_hashes(folder), self.command,
                                   self.kind, self.study)
        self.store.record(replace(record, username=self.user) if self.user else record, replaces=self.target.replaces)


@dataclass
class Job:
    """One run through the queue; a snapshot when returned by :class:`RunQueue` (copies, safe to read)."""

    run_id: str
    request: RunRequest
    scenario: str
    target: RunTarget
    folder: Path
    state: JobState = "queued"
    submitted: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    exit_code: int | None = None
    status: str | None = None
    """summary.json's ``status`` once the run has a plan folder (``optimal``, ``target_missed``, ...)."""
    message: str = ""
    cancel_requested: float | None = None
    recorded: bool = False
    """True once the queue's ``on_finish`` (the run store) has taken the ended job."""

    @property
    def plan_dir(self) -> Path:
        return self.target.folder

    @property
    def done(self) -> bool:
        return self.state in ("finished", "failed", "cancelled")

    def progress(self, last: int | None = None) -> list[str]:
        """The progress lines written so far (the last ``last`` of them)."""
        try:
            lines = (self.folder / PROGRESS).read_text(encoding="utf-8").splitlines()
        except OSError:
            return []
        return lines[-last:] if last else lines

    def seconds(self, now: float | None = None) -> float:
        """Seconds since it started (until it finished); 0 while queued."""
        if self.started is None:
            return 0.0
        return (self.finished or now or time.time()) - self.started


def _write_json_atomically(payload: dict[str, Any], path: Path) -> None:
    partial = path.with_suffix(".partial")
    write_json(payload, partial)
    partial.replace(path)


def _record_failure(store: RunStore, request: RunRequest, target: RunTarget, outcome: dict[str, Any]) -> None:
    """A run that wrote no folder, recorded with its exit code and message."""
    try:
        scenario = request.resolved().model_dump(mode="json")
    except ScenarioError:
        scenario = {"name": request.source}
    summary = {"scenario": scenario, "status": outcome["status"], "exit_code": outcome["exit_code"]}
    record = record_of_summary(target.run_id, summary, None, {}, request.command, request.kind, request.study)
    store.record(replace(record, error=outcome["message"], **({"username": request.user} if request.user else {})))


def run_job(request: RunRequest, target: RunTarget, db: str, folder: str) -> None:
    """The worker process: solve ``request`` into ``target``'s folder as ``wfplan solve`` does, the run recorded
    in the store ``db``; progress lines to ``folder/progress.log``, the outcome (exit code, status, message) to
    ``folder/outcome.json``. Bad input is exit 2 with its message; any other exception exit 1 with its
    traceback in ``folder/error.log``; either is recorded as a run without a folder. The process leads a
    process group of its own, so cancelling ends it with every process it started."""
    os.setpgrp()
    folder_path = Path(folder)
    with (folder_path / PROGRESS).open("a", encoding="utf-8", buffering=1) as log, RunStore.open(db) as store:
        record = PlannerRecorder(store, target, request.command, request.kind, request.user, request.study)
        try:
            with target.writing() as plan_dir:
                result = run_plan(request.resolved(), request.data_dir, plan_dir, report_writers=report_writers(),
                                  progress=lambda line: log.write(line + "\n"), diagnose=request.diagnose,
                                  record=record)
            outcome = {"exit_code": result.exit_code, "status": result.summary["status"], "message": ""}
        except (InputError, ScenarioError, OutputFolderError, StoreError) as exc:
            outcome = {"exit_code": EXIT_BAD_INPUT, "status": "bad_input", "message": str(exc)}
        except OSError as exc:
            if exc.errno not in USER_ERRNOS:
                raise
            outcome = {"exit_code": EXIT_BAD_INPUT, "status": "bad_input", "message": str(exc)}
        except Exception as exc:  # noqa: BLE001 - a bug: recorded with its traceback, the page shows one line
            (folder_path / ERROR_LOG).write_text(traceback.format_exc(), encoding="utf-8")
            outcome = {"exit_code": EXIT_BUG, "status": "error",
                       "message": f"internal error (a bug in wfplan): {type(exc).__name__}: {exc}"}
        if outcome["exit_code"] in (EXIT_BAD_INPUT, EXIT_BUG):
            _record_failure(store, request, target, outcome)
    _write_json_atomically(outcome, folder_path / OUTCOME)


Finished = Callable[[Job], None]
"""Called once per job when it ends (finished, failed or cancelled), from the queue's thread."""


class RunQueue:
    """Jobs in submission order; at most ``workers`` run at once, each in its own process. Thread-safe: every
    browser session of the server shares one queue (the page holds it in ``st.cache_resource``)."""

    def __init__(self, runs: Path, jobs: Path, workers: int, db: str,
                 on_finish: Finished = lambda job: None) -> None:
        self.runs, self.jobs_folder, self.workers, self.db = Path(runs), Path(jobs), max(1, workers), db
        self.store = RunStore.open(db)
        self._on_finish = on_finish
        self._jobs: dict[str, Job] = {}
        self._ended: list[Job] = []
        """Jobs ended since the loop last reported to ``on_finish``."""
        self._processes: dict[str, multiprocessing.process.BaseProcess] = {}
        self._context = multiprocessing.get_context("forkserver")
        self._changed = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="wfplan-run-queue", daemon=True)
        self._thread.start()

    # ----------------------------------------------------------------------------------------- public

    def submit(self, request: RunRequest) -> Job:
        """Queue ``request``; returns its job. Raises :class:`ScenarioError` when the scenario with its
        overrides is invalid, :class:`OutputFolderError` when its runs folder cannot be written (nothing is
        queued then)."""
        scenario = request.resolved()
        with self._changed:
            target = run_target(self.store, scenario.name, None, self.runs)
            folder = self.jobs_folder / target.run_id
            folder.mkdir(parents=True)
            write_json({"run_id": target.run_id, **asdict(request)}, folder / REQUEST)
            job = Job(target.run_id, request, scenario.name, target, folder)
            self._jobs[job.run_id] = job
            self._changed.notify_all()
            return replace(job)

    def cancel(self, run_id: str) -> bool:
        """Cancel a queued or running job; False when it has already ended (or is unknown)."""
        with self._changed:
            job = self._jobs.get(run_id)
            if job is None or job.done:
                return False
            if job.state == "queued":
                self._end(job, "cancelled", None, "cancelled before it started")
            elif job.cancel_requested is None:
                job.cancel_requested = time.time()
                self._signal(run_id, signal.SIGTERM)
            self._changed.notify_all()
            return True

    def snapshot(self) -> list[Job]:
        """Every job, oldest first (copies)."""
        with self._changed:
            return [replace(job) for job in self._jobs.values()]

    def job(self, run_id: str) -> Job | None:
        with self._changed:
            job = self._jobs.get(run_id)
            return None if job is None else replace(job)

    def position(self, run_id: str) -> int | None:
        """1 for the next job to start, 2 after it, ...; None when the job is not waiting."""
        with self._changed:
            waiting = [job.run_id for job in self._jobs.values() if job.state == "queued"]
        return waiting.index(run_id) + 1 if run_id in waiting else None

    def wait(self, run_id: str, timeout: float) -> Job:
        """Block until the job has ended and been recorded (TimeoutError after ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not self._jobs[run_id].recorded:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"run {run_id} still {self._jobs[run_id].state} after {timeout:g} s")
                self._changed.wait(min(left, 0.5))
            return replace(self._jobs[run_id])

    def close(self) -> None:
        """Cancel everything still queued or running, wait for the processes, stop the queue's thread."""
        for job in self.snapshot():
            self.cancel(job.run_id)
        deadline = time.monotonic() + KILL_AFTER + 5
        while any(not job.recorded for job in self.snapshot()) and time.monotonic() < deadline:
            time.sleep(0.1)
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        self._thread.join(timeout=5)
        self.store.close()

    # ---------------------------------------------------------------------------------------- the loop

    def _loop(self) -> None:
        while True:
            with self._changed:
                if self._closed:
                    return
                self._reap()
                self._start_waiting()
                ended, self._ended = self._ended, []
            for job in ended:
                self._on_finish(job)
            with self._changed:
                for job in ended:
                    self._jobs[job.run_id].recorded = True
                if ended:
                    self._changed.notify_all()
                self._changed.wait(0.2)

    def _start_waiting(self) -> None:
        waiting = [job for job in self._jobs.values() if job.state == "queued"]
        for job in waiting[: max(0, self.workers - len(self._processes))]:
            process = self._context.Process(target=run_job, args=(job.request, job.target, self.db, str(job.folder)),
                                            name=f"wfplan-run-{job.run_id}", daemon=False)
            process.start()
            self._processes[job.run_id] = process
            job.state, job.started = "running", time.time()

    def _reap(self) -> None:
        """End the jobs whose process has exited; SIGKILL a cancelled one that outlived KILL_AFTER."""
        for run_id, process in list(self._processes.items()):
            job = self._jobs[run_id]
            if process.is_alive():
                if job.cancel_requested is not None and time.time() - job.cancel_requested > KILL_AFTER:
                    self._signal(run_id, signal.SIGKILL)
                continue
            process.join()
            del self._processes[run_id]
            self._outcome(job, process.exitcode)

    def _outcome(self, job: Job, process_exit: int | None) -> None:
        try:
            outcome = json.loads((job.folder / OUTCOME).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            outcome = None
        if outcome is None:
            remove_stale_staging(job.plan_dir)
            if job.cancel_requested is not None:
                self._end(job, "cancelled", None, "cancelled while it ran; no plan was written")
            else:
                self._end(job, "failed", EXIT_BUG, f"the worker process ended without a result (exit {process_exit})")
        else:
            state: JobState = "finished" if outcome["exit_code"] in (0, 3, 4) else "failed"
            self._end(job, state, outcome["exit_code"], outcome["message"], outcome["status"])

    def _end(self, job: Job, state: JobState, exit_code: int | None, message: str, status: str | None = None) -> None:
        job.state, job.exit_code, job.message, job.status, job.finished = state, exit_code, message, status, time.time()
        self._ended.append(replace(job))

    def _signal(self, run_id: str, which: signal.Signals) -> None:
        process = self._processes.get(run_id)
        if process is None or process.pid is None:
            return
        try:
            os.killpg(process.pid, which)
        except (ProcessLookupError, PermissionError):  # not yet its own group leader: the process alone
            try:
                os.kill(process.pid, which)
            except ProcessLookupError:
                pass
