"""The page's run queue with real solves in worker processes: two runs at once both get verified plans and
records in the run store, a third waits its turn, cancel leaves no plan and no record, bad input is a failed
run recorded with its message."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from models.synthetic import write_generated
from optimizer import api
from optimizer.registry.store import RunStore
from tests.webpage import write_group
from web.jobs import RunQueue, RunRequest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_group(tmp_path_factory.mktemp("web_jobs") / "data")


def request(data_dir: Path, *overrides: str) -> RunRequest:
    return RunRequest(api.scenario("baseline").to_raw(), "baseline", overrides, str(data_dir), user="tester")


def summary_of(folder: Path) -> dict:
    return json.loads((folder / "summary.json").read_text(encoding="utf-8"))


def test_two_runs_at_once_both_get_verified_plans_and_a_third_waits(data_dir: Path, tmp_path: Path) -> None:
    ended = []
    queue = RunQueue(tmp_path / "runs", tmp_path / "jobs", 2, str(tmp_path / "wfplan.db"), on_finish=ended.append)
    try:
        first = queue.submit(request(data_dir, "budget.growth=0.04"))
        second = queue.submit(request(data_dir, "name=other"))
        third = queue.submit(request(data_dir))
        time.sleep(0.5)
        assert [queue.job(j.run_id).state for j in (first, second)] == ["running", "running"]
        assert queue.job(third.run_id).state == "queued" and queue.position(third.run_id) == 1
        done = [queue.wait(job.run_id, 300) for job in (first, second, third)]
    finally:
        queue.close()
    assert [job.state for job in done] == ["finished"] * 3
    assert [job.exit_code for job in done] == [0, 0, 0]
    assert done[2].started >= min(done[0].finished, done[1].finished)  # it waited for a free solver
    assert sorted(job.run_id for job in ended) == sorted(job.run_id for job in done)
    assert done[0].plan_dir == tmp_path / "runs" / "baseline" / first.run_id
    assert done[1].plan_dir == tmp_path / "runs" / "other" / second.run_id
    for job in done:
        summary = summary_of(job.plan_dir)
        assert summary["verification"]["ok"] and summary["exit_code"] == 0
        assert (job.plan_dir / "report.xlsx").is_file() and (job.plan_dir / "report.html").is_file()
    assert summary_of(done[0].plan_dir)["scenario"]["applied_overrides"] == ["budget.growth: 0.05 → 0.04"]
    with RunStore.open(str(tmp_path / "wfplan.db")) as store:
        stored = {info.id: info for info in store.runs()}
        assert sorted(stored) == sorted(job.run_id for job in done)
        for job in done:
            info = store.run(job.run_id)
            assert (info.user, info.kind, info.status, info.exit_code, info.folder) == (
                "tester", "solve", "draft", 0, job.plan_dir)
            assert info.changes == () and set(info.files) >= {"actions.csv", "summary.json", "report.xlsx"}
        assert store.run(first.run_id).command.startswith("wfplan serve: solve baseline --data ")
        assert store.run(first.run_id).command.endswith(" --set budget.growth=0.04")
    assert (tmp_path / "runs" / "baseline" / "latest").resolve() == done[2].plan_dir
    progress = done[0].progress()
    assert progress[0] == "load+validate" and "solve" in progress and "verify" in progress
    assert any(line.startswith("  stage cost: optimal") for line in progress)


def test_cancel_ends_a_running_solve_and_drops_a_queued_one(tmp_path: Path) -> None:
    data = tmp_path / "big"
    write_generated(data, 20_000, 20, 2026)
    queue = RunQueue(tmp_path / "runs", tmp_path / "jobs", 1, str(tmp_path / "wfplan.db"))
    try:
        running = queue.submit(request(data))
        waiting = queue.submit(request(data))
        deadline = time.monotonic() + 120
        while "solve" not in queue.job(running.run_id).progress() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert queue.cancel(waiting.run_id) and queue.cancel(running.run_id)
        ran, dropped = queue.wait(running.run_id, 60), queue.wait(waiting.run_id, 5)
    finally:
        queue.close()
    assert (ran.state, ran.exit_code, dropped.state, dropped.started) == ("cancelled", None, "cancelled", None)
    assert ran.message == "cancelled while it ran; no plan was written"
    assert not queue.cancel(ran.run_id)  # already ended
    assert sorted(p.name for p in (tmp_path / "runs" / "baseline").iterdir()) == [".wfplan"]  # no plan, no staging
    with RunStore.open(str(tmp_path / "wfplan.db")) as store:
        assert store.runs() == []


def test_bad_input_is_a_failed_run_with_the_problems(data_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("units", "pay"):
        (broken / f"{name}.csv").write_bytes((data_dir / f"{name}.csv").read_bytes())
    queue = RunQueue(tmp_path / "runs", tmp_path / "jobs", 1, str(tmp_path / "wfplan.db"))
    try:
        job = queue.wait(queue.submit(request(broken)).run_id, 120)
    finally:
        queue.close()
    assert (job.state, job.exit_code, job.status) == ("failed", 2, "bad_input")
    assert job.message.startswith(f"1 problem in {broken}:\n  broken: expected one file employees.csv or "
                                  "employees.parquet (found neither)")
    with RunStore.open(str(tmp_path / "wfplan.db")) as store:
        [info] = store.runs()
    assert (info.id, info.exit_code, info.solver_status, info.folder, info.user) == (
        job.run_id, 2, "bad_input", None, "tester")
    assert info.error == job.message
    assert not (tmp_path / "runs" / "baseline" / job.run_id).exists()
