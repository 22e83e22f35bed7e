"""Points on local processes, a Dask LocalCluster and a `dask scheduler` with two `dask worker` processes on
127.0.0.1: the same results everywhere, a dead worker's point run once more then recorded failed, a worker
killed in the middle of a sweep costs nothing but its retry."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from optimizer.cli import main
from optimizer.distributed import cluster
from optimizer.distributed.base import LOCAL_CLUSTER, Job, Where, scheduler_problem
from optimizer.distributed.executor import run_points
from optimizer.distributed.shipping import FolderCopy, pack_folder, unpack_folder
from optimizer.whatif.sweep import parse_grids, run_sweep
from tests.builders import QUIET, solve_group, unit, write_group
from tests.test_formulation import MIX_100, REACH_30
from tests.workers import crash_on_two, killed_once

ROOT = Path(__file__).resolve().parents[1]
# MIX_100 must reach 30% technical (±0) by the deadline: 10 of the 80 qualified operations staff move.
SCENARIO = {**QUIET, "mix": {**QUIET["mix"], "tolerance": 0.0}, "horizon": 2,
            "mobility": {**QUIET["mobility"], "operations_to_technical": 0.2}}
GRIDS = ["mobility.operations_to_technical=0.05,0.2", "mix.deadline=1,2"]


def _failed(task: int, message: str) -> str:
    return f"{task}: {message}"


def test_scheduler_addresses():
    assert scheduler_problem("tcp://127.0.0.1:8786") is None and scheduler_problem(LOCAL_CLUSTER) is None
    assert "tcp://HOST:PORT" in scheduler_problem("127.0.0.1:8786")
    assert Where().remote is False and Where(LOCAL_CLUSTER, 2).remote is False
    assert Where("tcp://10.0.0.5:8786").remote is True


def test_a_folder_travels_by_value_and_a_plan_folder_comes_back(tmp_path):
    source = write_group(tmp_path / "data", MIX_100, [unit("U1")])
    copy = FolderCopy.of(source, by_value=True)
    assert copy.label == str(source.resolve()) and copy.path() != source.resolve()
    assert {p.name: p.read_bytes() for p in copy.path().iterdir()} == {p.name: p.read_bytes() for p in source.iterdir()}
    assert FolderCopy.of(source, by_value=False).path() == source.resolve()
    (source / "sub").mkdir()
    (source / "sub" / ".marker").write_text("x")
    unpack_folder(pack_folder(source), tmp_path / "back")
    assert pack_folder(tmp_path / "back") == pack_folder(source)


def test_local_processes_retry_a_failed_point_once_then_record_it():
    seen, retried = [], []
    results = run_points(Job(crash_on_two, 10, [1, 2, 3, 4], on_failure=_failed,
                             receive=lambda task, result: seen.append(result) or result,
                             on_retry=lambda task, message: retried.append(task)), Where(workers=2))
    assert results == [10, "2: its worker process died", "3: RuntimeError: three", 40]
    assert sorted(map(str, seen)) == sorted(map(str, results))
    assert {2, 3} <= set(retried)  # the dead worker may take a point in flight with it: that one is retried too


@pytest.mark.slow
def test_a_local_cluster_retries_a_failed_point_once_then_records_it():
    retried = []
    results = run_points(Job(crash_on_two, 10, [1, 2, 3, 4], on_failure=_failed,
                             on_retry=lambda task, message: retried.append(task)), Where(LOCAL_CLUSTER, 2))
    assert results[0] == 10 and results[3] == 40 and results[2] == "3: RuntimeError: three"
    assert results[1].startswith("2: ") and "KilledWorker" in results[1]
    assert {2, 3} <= set(retried)


def _kill_when_marked(marker: Path, killed: list[int]) -> threading.Thread:
    """A thread that SIGKILLs the process whose id appears in ``marker`` (within 60 s)."""

    def watch() -> None:
        deadline = time.monotonic() + 60
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        if marker.exists():
            pid = int(marker.read_text(encoding="utf-8"))
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


@pytest.mark.slow
@pytest.mark.parametrize("scheduler", [None, LOCAL_CLUSTER])
def test_a_worker_killed_while_it_runs_a_point_costs_only_a_retry(tmp_path, scheduler):
    marker, killed, retried = tmp_path / "pid", [], []
    watcher = _kill_when_marked(marker, killed)
    results = run_points(Job(killed_once, str(marker), [1, 2, 3, 4], on_failure=_failed,
                             on_retry=lambda task, message: retried.append(task)), Where(scheduler, 2))
    watcher.join(5)
    assert len(killed) == 1 and 2 in retried
    assert results == [(1, 1), (2, 4), (3, 9), (4, 16)]


def _scenario():
    from models.scenario_files import build_scenario

    return build_scenario(json.loads(json.dumps(SCENARIO)), "test")


def _rows(table: pd.DataFrame) -> list[dict]:
    """The table without the wall times, as records (NaN as None, so rows compare equal)."""
    frame = table.drop(columns=["seconds"])
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def _without_seconds(about: dict) -> dict:
    """summary.json (or reference.npz's ``about``) without wall times and without the path of the sweep's base
    plan (the reference every point is planned against: it lies in each sweep's own folder)."""
    merit = about.get("merit", {}).get("stages") or about.get("merit_stages") or []
    for stage in [*about.get("solver", about).get("stages", []), *merit]:
        stage.pop("seconds")
        stage["note"] = re.sub(r"^reused from \S+: ", "reused from the base plan: ", stage.get("note") or "")
    about.pop("timings", None)
    about.get("solver", {}).get("reuse", {}).pop("reference", None)
    return about


def _plan_files(folder: Path) -> dict[str, object]:
    """Every file of every plan folder of a sweep, wall times left out (summary.json, reference.npz)."""
    files: dict[str, object] = dict(pack_folder(folder / "runs"))
    for name in [n for n in files if n.endswith("summary.json")]:
        files[name] = _without_seconds(json.loads(files[name]))
    for name in [n for n in files if n.endswith(".npz")]:
        with np.load(io.BytesIO(files[name])) as arrays:
            files[name] = {key: (_without_seconds(json.loads(str(arrays[key]))) if key == "about"
                                 else arrays[key].tolist()) for key in arrays.files}
    return files


@pytest.fixture(scope="module")
def local_sweep(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    """The 4-point sweep in two local processes: its folder (beside the input tables in ``data``) and table."""
    folder = tmp_path_factory.mktemp("sweep")
    data = write_group(folder / "data", MIX_100, [unit("U1")])
    return folder, run_sweep(_scenario(), parse_grids(GRIDS), data, folder / "local", Where(workers=2))


@pytest.mark.slow
def test_the_local_sweep_has_the_hand_computed_rows(local_sweep):
    _, local = local_sweep
    # A rate of 0.05 moves floor(80·0.05) = 4 people in year 1 (24% technical) and 0.05·76 = 3.8 in year 2
    # (27.8%): 30% is missed (exit 3) by either deadline. A rate of 0.2 allows the 10 moves: in year 1 when the
    # band is due then, none in year 1 when it is due in year 2 (the cost stage defers them).
    assert local["exit_code"].tolist() == [3, 3, 0, 0]
    assert local["count.sequence_move"].tolist() == [4, 4, 10, 0]
    assert local["share.technical.y1"].tolist() == pytest.approx([0.24, 0.24, 0.3, 0.2])
    assert local["share.technical.y2"][1] == pytest.approx(0.278)


@pytest.mark.slow
def test_a_sweep_on_a_local_cluster_equals_the_local_processes_row_for_row(local_sweep, tmp_path):
    folder, local = local_sweep
    clustered = run_sweep(_scenario(), parse_grids(GRIDS), folder / "data", tmp_path / "cluster",
                          Where(LOCAL_CLUSTER, 2))
    assert _rows(clustered) == _rows(local)
    assert _plan_files(tmp_path / "cluster") == _plan_files(folder / "local")


# ------------------------------------------------------------------ a `dask scheduler` and two `dask worker`


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _dask(*args: str) -> list[str]:
    script = Path(sys.executable).parent / "dask"
    return [str(script), *args] if script.exists() else [sys.executable, "-m", "dask", *args]


def _stop(process: subprocess.Popen) -> None:
    """End ``process`` and its children (its own process group), politely first."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


@pytest.fixture(scope="module")
def scheduler_address(tmp_path_factory) -> Iterator[str]:
    """``tcp://127.0.0.1:PORT`` of a `dask scheduler` subprocess with two one-thread `dask worker` processes
    (a worker that dies is restarted by its nanny; the scheduler re-runs nothing itself: allowed-failures 0)."""
    folder = tmp_path_factory.mktemp("dask")
    address = f"tcp://127.0.0.1:{_free_port()}"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0"}
    logs = [open(folder / f"{name}.log", "w") for name in ("scheduler", "worker-1", "worker-2")]  # noqa: SIM115
    started = [subprocess.Popen(_dask("scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
                                      "--no-dashboard"), cwd=folder, env=env, stdout=logs[0], stderr=logs[0],
                                start_new_session=True)]
    try:
        for i in (1, 2):
            started.append(subprocess.Popen(
                _dask("worker", address, "--nthreads", "1", "--nworkers", "1", "--host", "127.0.0.1", "--no-dashboard",
                      "--local-directory", str(folder / f"w{i}"), "--death-timeout", "60"),
                cwd=folder, env=env, stdout=logs[i], stderr=logs[i], start_new_session=True))
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for process in reversed(started):
            _stop(process)
        for log in logs:
            log.close()


def _cli_sweep(data: Path, out: Path, *extra: str) -> tuple[pd.DataFrame, str]:
    scenario = out.parent / "scenario.yaml"
    scenario.write_text(json.dumps(SCENARIO), encoding="utf-8")
    args = ["sweep", str(scenario), *(a for g in GRIDS for a in ("--grid", g)), "--data", str(data),
            "--out", str(out), *extra]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return pd.read_csv(out / "sweep.csv"), result.output


@pytest.mark.slow
def test_a_sweep_through_dask_scheduler_and_workers_equals_the_local_run(local_sweep, tmp_path, scheduler_address,
                                                                         monkeypatch):
    folder, local = local_sweep
    remote, output = _cli_sweep(folder / "data", tmp_path / "remote", "--scheduler", scheduler_address)
    assert f"4 points on the Dask scheduler at {scheduler_address}" in output and "[4/4, 0 failed]" in output
    assert _rows(remote) == _rows(pd.read_csv(folder / "local" / "sweep.csv"))
    assert _plan_files(tmp_path / "remote") == _plan_files(folder / "local")
    summary = json.loads((tmp_path / "remote" / remote["run"][0] / "summary.json").read_text(encoding="utf-8"))
    assert summary["inputs"]["path"] == str((folder / "data").resolve())  # the client's path, not a worker's copy
    monkeypatch.setenv("WFPLAN_SCHEDULER", scheduler_address)
    from_env, output = _cli_sweep(folder / "data", tmp_path / "from-env")
    assert f"on the Dask scheduler at {scheduler_address}" in output and _rows(from_env) == _rows(remote)


@pytest.mark.slow
def test_a_dask_worker_killed_during_a_sweep(local_sweep, tmp_path, scheduler_address):
    from distributed import Client

    folder, local = local_sweep
    retried: list[int] = []
    outcome: dict[str, pd.DataFrame] = {}
    sweep = threading.Thread(target=lambda: outcome.update(table=run_sweep(
        _scenario(), parse_grids(GRIDS), folder / "data", tmp_path / "remote", Where(scheduler_address),
        on_retry=lambda head, message: retried.append(head["point"]))))
    with Client(scheduler_address, timeout=30) as client:
        pids = client.run(os.getpid)
        sweep.start()
        victim = None
        while victim is None and sweep.is_alive():
            victim = next((w for w, keys in client.processing().items() if keys and w in pids), None)
            time.sleep(0.01)
        assert victim is not None, "the sweep ended before a worker could be killed"
        os.kill(pids[victim], signal.SIGKILL)
        sweep.join(300)
        client.wait_for_workers(2, timeout=60)  # its nanny restarts it for the next test
    assert not sweep.is_alive() and len(retried) == 1  # the killed worker's point ran again, on another worker
    assert _rows(outcome["table"]) == _rows(local)


def test_an_unreachable_scheduler_is_a_clear_error_and_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.setattr(cluster, "CONNECT_SECONDS", 1)
    data = write_group(tmp_path / "data", MIX_100, [unit("U1")])
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(json.dumps(SCENARIO), encoding="utf-8")
    out = tmp_path / "out" / "sweep"
    address = f"tcp://127.0.0.1:{_free_port()}"
    result = CliRunner().invoke(main, ["sweep", str(scenario), "--grid", GRIDS[1], "--data", str(data),
                                       "--out", str(out), "--scheduler", address])
    assert result.exit_code == 2 and f"cannot reach the Dask scheduler at {address}" in result.output
    assert not (tmp_path / "out").exists()
    bad = CliRunner().invoke(main, ["frontier", str(scenario), "--x", "budget.growth", "--y", "cost", "--data",
                                    str(data), "--scheduler", "127.0.0.1:8786"])
    assert bad.exit_code == 2 and "is not a Dask scheduler address" in bad.output


@pytest.mark.slow
def test_wfplan_simulate_through_the_scheduler_gives_the_local_numbers(tmp_path, scheduler_address):
    solved = solve_group(tmp_path, MIX_100, [unit("U1")], ["attrition.operations=0.1", "attrition.technical=0.2"],
                         base=SCENARIO)
    runs = {}
    for name, extra in (("local", ["--workers", "1"]), ("cluster", ["--scheduler", scheduler_address])):
        result = CliRunner().invoke(main, ["simulate", str(solved.folder), "--reps", "2500", "--seed", "5", "--json",
                                           *extra], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        runs[name] = json.loads(result.output)
    assert runs["cluster"]["years"] == runs["local"]["years"]  # 3 chunks (1000, 1000, 500) on two workers
    heads = runs["local"]["years"][0]["sequences"]["technical"]["headcount"]
    assert heads["p05"] < heads["p95"]  # the draws vary: equal numbers are not a degenerate run


def _diagnosis_tasks(tmp_path: Path) -> list:
    from models.scenario_files import build_scenario
    from optimizer.whatif import diagnosis

    data = write_group(tmp_path / "data", MIX_100, [unit("U1")])
    scenario = build_scenario(json.loads(json.dumps(QUIET)), "test", REACH_30)
    return diagnosis.search_tasks(scenario, data, 3.0, deadline=True)


def _entries(found: dict) -> list[dict]:
    return [{k: v for k, v in entry.items() if k != "seconds"} for entry in found["relaxations"]]


@pytest.mark.slow
def test_the_diagnosis_searches_on_the_scheduler_find_the_local_relaxations(tmp_path, scheduler_address):
    from optimizer.whatif import diagnosis

    tasks = _diagnosis_tasks(tmp_path)
    alone = diagnosis.relaxations(tasks, probe_seconds=0.0)
    clustered = diagnosis.relaxations(tasks, probe_seconds=10.0, scheduler=scheduler_address)
    assert clustered["search"]["workers"] == scheduler_address and alone["search"]["workers"] == 1
    assert _entries(clustered) == _entries(alone) and any(entry["restores"] for entry in alone["relaxations"])


@pytest.mark.slow
def test_a_diagnosis_whose_scheduler_is_out_of_reach_searches_locally(tmp_path, monkeypatch):
    from optimizer.whatif import diagnosis

    monkeypatch.setattr(cluster, "CONNECT_SECONDS", 1)
    tasks, said = _diagnosis_tasks(tmp_path), []
    address = f"tcp://127.0.0.1:{_free_port()}"
    found = diagnosis.relaxations(tasks, probe_seconds=10.0, workers=2, scheduler=address, progress=said.append)
    assert f"cannot reach the Dask scheduler at {address}" in said[0] and "2 local processes" in said[0]
    assert found["search"]["workers"] == 2
    assert _entries(found) == _entries(diagnosis.relaxations(tasks, probe_seconds=0.0))


@pytest.mark.slow
def test_a_frontier_through_the_scheduler_equals_the_local_one(local_sweep, tmp_path, scheduler_address):
    from optimizer.whatif.frontier import run_frontier

    folder, _ = local_sweep
    xs = ["0.01", "0.05", "0.2"]
    tables = [run_frontier(_scenario(), "budget.growth", "cost", xs, folder / "data", tmp_path / name, where)
              for name, where in (("local", Where(workers=2)), ("cluster", Where(scheduler_address)))]
    local, clustered = (_rows(table) for table in tables)
    assert clustered == local
    # 10 moves cost 10 · (10,000 more pay + 1,000 retraining) = 110,000 in year 1, more than growth 0.01 allows
    # (52,000): no plan meets the targets there; at 0.05 and 0.2 the least cost is the same plan.
    assert [row["cost"] is None for row in local] == [True, False, False]
    assert local[1]["cost"] == local[2]["cost"]
