"""The output folder is the tool's own: wfplan writes only into a new or empty folder or over its own earlier
output of the same kind, refuses anything else with exit 2 before solving, cleans up after killed runs, and
keeps tracebacks of bugs in a log file (exit 1) while a user's failure is one line (exit 2)."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from optimizer.cli import main
from optimizer.cli.common import WfplanGroup
from optimizer.plan.folders import (
    MARKER,
    STAGING_MARKER,
    OutputFolderError,
    claim_folder,
    owned_folder,
    remove_stale_staging,
    staged_folder,
)
from tests.builders import QUIET, people, unit, write_group


def snapshot(folder: Path) -> dict[str, str]:
    """relative path → sha256 of every file under ``folder`` (folders as '<dir>')."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "<dir>"
            for p in sorted(folder.rglob("*"))}


@pytest.fixture
def group(tmp_path: Path) -> Path:
    return write_group(tmp_path / "data", people("U1", "operations", 30) + people("U1", "technical", 10),
                       [unit("U1")])


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(json.dumps({**QUIET, "mix": {**QUIET["mix"], "tolerance": 1.0}}), encoding="utf-8")
    return path


def solve(scenario: Path, data: Path, out: Path | str, *extra: str):
    return CliRunner().invoke(main, ["solve", str(scenario), "--data", str(data), "--out", str(out), *extra])


@pytest.mark.parametrize("target", ["data", "mydocs", "notes.txt", ".", "..", str(Path("data") / "..")])
def test_an_output_folder_the_tool_did_not_write_is_refused_before_solving(tmp_path, group, scenario, target,
                                                                           monkeypatch):
    """The input tables, a folder of documents, a file, the working folder: exit 2, one line, nothing
    touched, and the solve never started (no progress line)."""
    (tmp_path / "mydocs" / "sub").mkdir(parents=True)
    (tmp_path / "mydocs" / "report.docx").write_bytes(b"mine")
    (tmp_path / "notes.txt").write_text("keep me", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path)
    result = solve(scenario, group, target)
    assert result.exit_code == 2, result.output
    assert "refused" in result.stderr and "Traceback" not in result.output
    assert "solve" not in result.stderr.replace("wfplan solve", "")  # no phase started
    assert snapshot(tmp_path) == before


def test_an_earlier_plan_is_replaced_and_an_empty_folder_is_used(tmp_path, group, scenario):
    out = tmp_path / "plan"
    assert solve(scenario, group, out, "--quiet").exit_code == 0
    assert json.loads((out / MARKER).read_text()) == {"kind": "plan"}
    (out / "actions.csv").write_text("tampered", encoding="utf-8")
    assert solve(scenario, group, out, "--quiet").exit_code == 0
    assert (out / "actions.csv").read_text(encoding="utf-8").startswith("employee_id,")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert solve(scenario, group, empty, "--quiet").exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no staging left


def test_the_output_of_another_command_is_refused(tmp_path):
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    (sweep / MARKER).write_text('{"kind": "sweep"}', encoding="utf-8")
    (sweep / "sweep.csv").write_text("x\n", encoding="utf-8")
    with pytest.raises(OutputFolderError, match="holds a sweep written by wfplan, not a plan"):
        claim_folder(sweep, "plan")
    claim_folder(sweep, "sweep")


def test_a_folder_below_a_file_and_a_disk_without_room_are_refused(tmp_path):
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(OutputFolderError, match="is a file"):
        claim_folder(tmp_path / "file" / "plan", "plan")
    free = shutil.disk_usage(tmp_path).free
    with pytest.raises(OutputFolderError, match="not enough free disk space"):
        claim_folder(tmp_path / "plan", "plan", needed_bytes=free + 1)


@pytest.mark.parametrize("name", ["", "..", ".", "../../x", "/tmp/x", "a/b", "x" * 65])
def test_a_scenario_name_is_a_name_never_a_path(tmp_path, group, scenario, name, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["solve", str(scenario), "--data", str(group), "--set", f"name={name!r}"])
    assert result.exit_code == 2, result.output
    assert "name:" in result.stderr
    assert not (tmp_path / "runs").exists()


def test_the_working_folder_is_refused_even_when_empty(tmp_path, group, scenario, monkeypatch):
    here = tmp_path / "empty"
    here.mkdir()
    monkeypatch.chdir(here)
    result = solve(scenario, group, ".")
    assert result.exit_code == 2 and "the folder you are working in" in result.stderr
    assert list(here.iterdir()) == [] and sorted(p.name for p in tmp_path.iterdir()) == [
        "data", "empty", "scenario.yaml"]


def test_a_folder_holding_the_input_tables_or_inside_a_plan_is_refused(tmp_path, group, scenario):
    out = tmp_path / "plan"
    assert solve(scenario, group, out, "--quiet").exit_code == 0
    inside = CliRunner().invoke(main, ["generate", "--employees", "20", "--units", "2", "--out", str(out / "data")])
    assert inside.exit_code == 2 and "lies inside" in inside.stderr and not (out / "data").exists()
    holding = solve(scenario, group, tmp_path)
    assert holding.exit_code == 2 and "which this run reads" in holding.stderr


def test_a_users_hidden_folder_beside_the_plan_is_never_touched(tmp_path, group, scenario):
    mine = tmp_path / ".plan.old"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine", encoding="utf-8")
    for _ in range(2):
        assert solve(scenario, group, tmp_path / "plan", "--quiet").exit_code == 0
    assert (mine / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_an_output_folder_is_as_readable_as_the_umask_allows(tmp_path, group, scenario):
    old = os.umask(0o022)
    try:
        assert solve(scenario, group, tmp_path / "plan", "--quiet").exit_code == 0
    finally:
        os.umask(old)
    assert (tmp_path / "plan").stat().st_mode & 0o777 == 0o755


def _claim_containers(root: str, barrier) -> list[str]:
    """Once all claimants are ready, claim ``root/c0`` … ``root/c399`` as ``runs`` containers, each twice
    (creating it, then finding it made by this process or another); the refusals met."""
    barrier.wait()
    refusals = []
    for k in range(400):
        for _ in range(2):
            try:
                owned_folder(Path(root) / f"c{k}", "runs")
            except OutputFolderError as exc:
                refusals.append(str(exc))
    return refusals


def test_concurrent_runs_claiming_one_container_never_refuse_each_other(tmp_path):
    """Four processes claim the same new containers at once: each sees the others' folder as empty or marked,
    never half-made (the marker is written atomically, the marker being written does not count as content).
    Before, a marker being rewritten by one run read as empty to another, which refused the folder (one
    of four concurrent solves failed so on CI)."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, context.Pool(4) as pool:
        barrier = manager.Barrier(4)
        refusals = pool.starmap(_claim_containers, [(str(tmp_path), barrier)] * 4)
    assert refusals == [[], [], [], []]
    assert {json.loads((tmp_path / f"c{k}" / MARKER).read_text())["kind"] for k in range(50)} == {"runs"}
    assert sorted(p.name for p in (tmp_path / "c7").iterdir()) == [MARKER]


def test_an_earlier_plan_retired_by_a_killed_run_is_put_back(tmp_path):
    target = tmp_path / "plan"
    with staged_folder(target, "plan") as folder:
        (folder / "a.csv").write_text("earlier\n", encoding="utf-8")
    retired = tmp_path / ".plan.retired-x1"
    target.rename(retired)  # killed between the two renames: the earlier plan is aside, no new one in place
    remove_stale_staging(target)
    assert (target / "a.csv").read_text(encoding="utf-8") == "earlier\n" and not retired.exists()


def test_a_killed_runs_staging_folder_is_removed_by_the_next_run(tmp_path):
    target = tmp_path / "plan"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / ".plan.staging-abc"
    stale.mkdir()
    (stale / STAGING_MARKER).write_text(f"{socket.gethostname()} {dead.stdout.strip()}", encoding="utf-8")
    live = tmp_path / ".plan.staging-live"
    live.mkdir()
    (live / STAGING_MARKER).write_text(f"{socket.gethostname()} {os.getpid()}", encoding="utf-8")
    elsewhere = tmp_path / ".plan.staging-other-host"
    elsewhere.mkdir()
    (elsewhere / STAGING_MARKER).write_text(f"another-host {dead.stdout.strip()}", encoding="utf-8")
    unmarked = tmp_path / ".plan.staging-user"
    unmarked.mkdir()
    assert remove_stale_staging(target) == [stale]
    assert not stale.exists() and live.exists() and unmarked.exists() and elsewhere.exists()
    with staged_folder(target, "plan") as folder:
        (folder / "x.csv").write_text("x\n", encoding="utf-8")
    assert sorted(p.name for p in target.iterdir()) == [MARKER, "x.csv"]


def test_a_failure_inside_the_staged_folder_replaces_nothing(tmp_path):
    target = tmp_path / "plan"
    with staged_folder(target, "plan") as folder:
        (folder / "a.csv").write_text("first\n", encoding="utf-8")
    with pytest.raises(RuntimeError), staged_folder(target, "plan") as folder:
        (folder / "a.csv").write_text("second\n", encoding="utf-8")
        raise RuntimeError("disk gone")
    assert (target / "a.csv").read_text(encoding="utf-8") == "first\n"
    assert [p.name for p in tmp_path.iterdir()] == ["plan"]


def _group_raising(exc: BaseException) -> click.Group:
    @click.group(cls=WfplanGroup)
    def cli() -> None:
        """A command group like wfplan's."""

    @cli.command()
    def run() -> None:
        raise exc

    return cli


def test_a_full_disk_is_the_users_failure_one_line_exit_2():
    result = CliRunner().invoke(_group_raising(OSError(errno.ENOSPC, "No space left on device", "plan/a.csv")),
                                ["run"])
    assert result.exit_code == 2
    assert result.stderr == "plan/a.csv: No space left on device\n"


def test_a_bug_exits_1_with_the_traceback_in_a_log_file(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    result = CliRunner().invoke(_group_raising(KeyError("stage")), ["run"])
    assert result.exit_code == 1
    first, second = result.stderr.splitlines()
    assert first == "internal error (a bug in wfplan): KeyError: 'stage'"
    log = Path(second.split(" is in ")[1].split(";")[0])
    assert log.parent == tmp_path / "wfplan"
    assert "Traceback" in log.read_text(encoding="utf-8") and "KeyError: 'stage'" in log.read_text(encoding="utf-8")
    assert "Traceback" not in result.output


def test_spaces_around_ids_are_read_alike_by_solve_and_verify(tmp_path, scenario):
    """``E1 ,`` and ``U1 `` are the ids E1 and U1 for the loader and the verifier alike (one reader)."""
    employees = people("U1", "operations", 30) + people("U1", "technical", 10)
    for person in employees[:3]:
        person.update(employee_id=f" {person['employee_id']} ", unit_id=" U1", sequence=f"{person['sequence']} ")
    data = write_group(tmp_path / "data", employees, [unit("U1")])
    result = solve(scenario, data, tmp_path / "plan", "--quiet")
    assert result.exit_code == 0, result.output
    actions = (tmp_path / "plan" / "actions.csv").read_text(encoding="utf-8")
    assert "\nU1-O0000," in actions and " U1-O0000" not in actions
    verified = CliRunner().invoke(main, ["verify", str(tmp_path / "plan"), str(data)])
    assert verified.exit_code == 0, verified.output
