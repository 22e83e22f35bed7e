"""A command stopped by Ctrl-C or SIGTERM ends at once and leaves nothing behind: no worker process, no HiGHS
child, no half-written folder; a HiGHS child dies with the process that started it; a HiGHS run in the process
stops it too; a folder being put in place is put in place first. Real processes, real signals."""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from optimizer.solvers.highs_run import lp_arrays
from optimizer.solvers.linear_model import LinearModel
from optimizer.solvers.stops import Terminated, deferred_stop, stopping_on_signals
from tests.builders import market_split, unit, write_group
from tests.test_formulation import MIX_100
from tests.test_sweep import REACH_30_EXACTLY

ROOT = Path(__file__).resolve().parents[1]
ENDS_WITHIN = 30.0
"""Seconds a stopped command may take to end (its points take about a second each)."""


def _session(leader: int) -> list[int]:
    """The processes of the session ``leader`` started (every process a command starts stays in it)."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getsid(int(entry.name)) == leader and int(entry.name) != leader:
                    members.append(int(entry.name))
            except (ProcessLookupError, PermissionError):
                pass
    return members


def _gone(pids: list[int], within: float) -> list[int]:
    """The processes of ``pids`` still alive (zombies count as gone) after waiting up to ``within`` seconds."""
    ends = time.monotonic() + within
    while True:
        alive = [pid for pid in pids if _alive(pid)]
        if not alive or time.monotonic() > ends:
            return alive
        time.sleep(0.1)


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def _wait_for(condition, within: float, what: str) -> None:
    ends = time.monotonic() + within
    while not condition():
        assert time.monotonic() < ends, f"timed out waiting for {what}"
        time.sleep(0.05)


def _default_sigint() -> None:
    """In the child before exec: SIGINT as a terminal's foreground job has it (a test runner may ignore it)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.slow
@pytest.mark.parametrize(("sent", "to_group", "code", "words"), [
    (signal.SIGTERM, False, 143, "stopped by SIGTERM"),  # a job scheduler's stop, `kill PID`: the main process only
    (signal.SIGINT, True, 130, "stopped by Ctrl-C"),  # Ctrl-C: the terminal signals the whole foreground group
])
def test_a_stopped_sweep_ends_at_once_and_leaves_no_process_and_no_folder(tmp_path, sent, to_group, code, words):
    data = write_group(tmp_path / "data", MIX_100, [unit("U1")])
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(json.dumps(REACH_30_EXACTLY), encoding="utf-8")
    out, log = tmp_path / "sweep", tmp_path / "stderr.txt"
    rates = ",".join(f"{0.1 + i / 1000:g}" for i in range(40))  # 40 points of about a second each on 2 workers
    with log.open("w", encoding="utf-8") as stderr:
        command = subprocess.Popen(
            [sys.executable, "-c", "from optimizer.cli import main; main()", "sweep", str(scenario),
             "--grid", f"mobility.operations_to_technical={rates}", "--data", str(data), "--out", str(out),
             "--workers", "2"],
            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True, preexec_fn=_default_sigint)
    try:
        _wait_for(lambda: "[1/40" in log.read_text(encoding="utf-8"), 120, "the sweep's first point")
        started = _session(command.pid)
        assert len(started) >= 3  # the fork server and the two workers at least
        began = time.monotonic()
        if to_group:
            os.killpg(command.pid, sent)
        else:
            command.send_signal(sent)
        assert command.wait(timeout=ENDS_WITHIN) == code
        assert time.monotonic() - began < ENDS_WITHIN
    finally:
        if command.poll() is None:
            os.killpg(command.pid, signal.SIGKILL)
    said = log.read_text(encoding="utf-8")
    assert words in said and "Traceback" not in said and "[40/40" not in said
    assert _gone(started + _session(command.pid), within=10.0) == []
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "scenario.yaml", "stderr.txt"]  # no staging left


RETRIES_THREE_POINTS = """
import sys
from optimizer.distributed.base import Job
from optimizer.distributed.pool import ProcessPool
from tests.workers import fails_then_waits
ProcessPool(workers=1).run(Job(fails_then_waits, sys.argv[1], [1, 2, 3], on_failure=lambda task, message: None))
"""


@pytest.mark.slow
def test_a_stop_while_points_are_retried_starts_no_more_of_them(tmp_path):
    # Three points fail their first run, so each is run again alone, one at a time (one worker). Ctrl-C while
    # the first retry runs: that worker is stopped, and the two queued retries must not start (they would run two
    # minutes each in new processes if the retry phase's threads were let finish their queue).
    command = subprocess.Popen([sys.executable, "-c", RETRIES_THREE_POINTS, str(tmp_path)], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                               preexec_fn=_default_sigint)
    try:
        _wait_for(lambda: (tmp_path / "1.pid").exists(), 60, "the first retry")
        first = int((tmp_path / "1.pid").read_text(encoding="utf-8"))
        command.send_signal(signal.SIGINT)
        assert command.wait(timeout=ENDS_WITHIN) != 0
    finally:
        if command.poll() is None:
            os.killpg(command.pid, signal.SIGKILL)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1.failed", "1.pid", "2.failed", "3.failed"]
    assert _gone([first, *_session(command.pid)], within=10.0) == []


RUNS_A_HARD_MIP_IN_A_CHILD = """
import pickle, sys
from optimizer.solvers.highs_run import HighsJob, run_in_child
run_in_child(HighsJob(pickle.loads(bytes.fromhex(sys.argv[1])), {"output_flag": False}, None, 120.0))
"""


@pytest.mark.slow
def test_a_highs_child_dies_with_the_process_that_started_it(tmp_path):
    # A worker process killed while its HiGHS child solves (SIGKILL: nothing of the worker runs any more): the
    # child must not go on for its 120 s. Busy in branch and bound, it reads and writes nothing that would fail.
    model = LinearModel()
    market_split(model)
    arrays = pickle.dumps(lp_arrays(model, {})).hex()
    parent = subprocess.Popen([sys.executable, "-c", RUNS_A_HARD_MIP_IN_A_CHILD, arrays], cwd=ROOT,
                              start_new_session=True, stderr=subprocess.DEVNULL)
    try:
        children: list[int] = []

        def started() -> bool:
            children[:] = [pid for pid in _session(parent.pid) if _solving(pid)]
            return bool(children)

        _wait_for(started, 60, "the HiGHS child")
        time.sleep(2.0)  # its imports done, the job read: HiGHS is searching
        assert _alive(children[0])
        parent.kill()
        parent.wait(timeout=10)
        assert _gone(children, within=5.0) == []
    finally:
        if parent.poll() is None:
            parent.kill()
        for pid in _session(parent.pid):
            os.kill(pid, signal.SIGKILL)


def _solving(pid: int) -> bool:
    try:
        return b"optimizer.solvers.highs_run" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return False



SOLVES_IN_PROCESS_UNDER_STOPS = """
import pickle, sys
from optimizer.solvers.highs_run import HighsJob, run_job
from optimizer.solvers.stops import Terminated, stopping_on_signals
with stopping_on_signals():
    try:
        outcome = run_job(HighsJob(pickle.loads(bytes.fromhex(sys.argv[1])), {"output_flag": False}, None, 60.0))
    except Terminated:
        sys.exit(143)
print(outcome.status)
"""


@pytest.mark.slow
def test_a_stop_during_a_highs_run_in_this_process_stops_the_command(tmp_path):
    # The signal lands inside one of HiGHS's callbacks, which HiGHS turns into an error status: the run must
    # raise the stop once it returns, not pass for a failed stage (the command went on and exited 0).
    model = LinearModel()
    market_split(model)
    process = subprocess.Popen([sys.executable, "-c", SOLVES_IN_PROCESS_UNDER_STOPS,
                                pickle.dumps(lp_arrays(model, {})).hex()], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    try:
        time.sleep(3.0)  # imported, and searching: the market split keeps HiGHS busy for its 60 s
        assert process.poll() is None
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=ENDS_WITHIN) == 143, process.stdout.read()
    finally:
        if process.poll() is None:
            process.kill()


def test_a_stop_in_a_deferred_section_comes_at_its_end_and_a_second_one_is_ignored():
    steps = []
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Terminated):
        with stopping_on_signals():
            try:
                with deferred_stop():
                    os.kill(os.getpid(), signal.SIGTERM)
                    for _ in range(1000):  # the handler runs between bytecodes: it has run by now
                        pass
                    steps.append("the section went on")
                steps.append("after the section")
            finally:
                os.kill(os.getpid(), signal.SIGTERM)  # while the first stop unwinds
                for _ in range(1000):
                    pass
                steps.append("the unwinding went on")
    assert steps == ["the section went on", "the unwinding went on"]
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_stop_while_a_staged_folder_is_put_in_place_comes_once_it_is_there(tmp_path, monkeypatch):
    from optimizer.plan import folders

    claim = folders.claim_folder
    calls = []

    def claim_and_stop(*args, **kwargs):
        claim(*args, **kwargs)
        calls.append(args)
        if len(calls) == 2:  # the check again before the renames: the commit has begun
            os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(folders, "claim_folder", claim_and_stop)
    target = tmp_path / "plan"
    with pytest.raises(Terminated):
        with stopping_on_signals():
            with folders.staged_folder(target, "plan") as staging:
                (staging / "a.csv").write_text("x\n", encoding="utf-8")
    assert (target / "a.csv").read_text(encoding="utf-8") == "x\n"  # in place, complete
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan"]  # no staging or retired folder left
    assert len(calls) == 2
