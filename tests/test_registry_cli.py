"""``wfplan runs`` and the recording commands: every solve a run in a new folder, approval from the command
line, a tampered plan caught by ``wfplan verify``, an explicit --out that replaces only a draft, a store
that cannot be reached (exit 2, nothing written), four concurrent solves, sweep and frontier points."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from optimizer.cli import main
from optimizer.registry.store import RunStore
from tests.builders import QUIET, people, unit, write_group
from tests.postgres import fresh_database


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A project folder (the working folder) with a tiny group, the scenario ``tiny`` and its own store
    (the default ``wfplan.db`` of the folder: ``WFPLAN_DB`` unset)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WFPLAN_DB")
    write_group(tmp_path / "data", people("U1", "operations", 30) + people("U1", "technical", 10), [unit("U1")])
    (tmp_path / "tiny.yaml").write_text(json.dumps({**QUIET, "name": "tiny"}), encoding="utf-8")
    return tmp_path


def wfplan(*args: str | Path):
    return CliRunner().invoke(main, [str(a) for a in args])


def solve(*extra: str | Path):
    return wfplan("solve", "tiny.yaml", "--data", "data", "--quiet", *extra)


def run_ids(project: Path, *filters: str) -> list[str]:
    listed = wfplan("runs", "list", "--json", *filters)
    assert listed.exit_code == 0, listed.output
    return [run["id"] for run in json.loads(listed.stdout)]


def test_two_solves_of_one_scenario_leave_two_folders_and_two_runs(project):
    first, second = solve(), solve()
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    ids = run_ids(project, "--scenario", "tiny")
    assert len(ids) == 2 and (project / "wfplan.db").exists()
    folders = sorted(p.name for p in (project / "runs" / "tiny").iterdir() if not p.name.startswith("."))
    assert folders == sorted([*ids, "latest"])
    assert (project / "runs" / "tiny" / "latest").resolve().name == ids[0]  # newest first
    assert f"runs/tiny/{ids[0]} (run {ids[0]}, draft)" in second.stdout
    shown = wfplan("runs", "show", ids[1])
    assert shown.exit_code == 0
    assert "status     draft" in shown.stdout and "each as recorded (sha256 checked)" in shown.stdout
    assert "wfplan solve tiny.yaml --data data --quiet" in shown.stdout
    listed = wfplan("runs", "list", "--status", "draft")
    assert listed.exit_code == 0 and all(run_id in listed.stdout for run_id in ids)
    assert wfplan("runs", "list", "--status", "approved").stdout.strip() == "no runs"


def test_approval_from_the_command_line_and_a_tampered_plan_caught_by_verify(project):
    assert solve().exit_code == 0 and solve().exit_code == 0
    newer, older = run_ids(project)
    assert wfplan("runs", "submit", older, "--by", "planner", "--note", "FY plan").exit_code == 0
    same = wfplan("runs", "approve", older, "--by", "planner")
    assert same.exit_code == 2 and "someone else must approve" in same.stderr
    approved = wfplan("runs", "approve", older[:17], "--by", "director")
    assert approved.exit_code == 0 and f"run {older}: approved by director" in approved.stdout
    assert wfplan("runs", "submit", newer, "--by", "planner").exit_code == 0
    second = wfplan("runs", "approve", newer, "--by", "director")
    assert f"run {older}: superseded" in second.stdout
    record = json.loads(wfplan("runs", "show", older, "--json").stdout)
    assert [(a["action"], a["actor"], a["to_status"]) for a in record["audit"]] == [
        ("record", record["user"], "draft"), ("submit", "planner", "submitted"),
        ("approve", "director", "approved"), ("supersede", "director", "superseded")]
    assert record["audit"][1]["comment"] == "FY plan"
    folder = project / "runs" / "tiny" / newer
    verified = wfplan("verify", folder, "data")
    assert verified.exit_code == 0 and f"is as recorded for run {newer} (approved" in verified.stdout
    report = folder / "actions.csv"
    report.write_text(report.read_text(encoding="utf-8") + "\n", encoding="utf-8")  # a plan-neutral edit
    tampered = wfplan("verify", folder, "data")
    assert tampered.exit_code == 5
    assert f"1 file(s) changed since run {newer} was recorded (approved)" in tampered.stdout
    assert "[files] actions.csv: changed" in tampered.stdout
    assert "CHANGED since the run was recorded" in wfplan("runs", "show", newer).stdout
    refused = wfplan("runs", "export", newer)
    assert refused.exit_code == 2 and "actions.csv: changed" in refused.stderr and not list(project.glob("*.zip"))
    assert wfplan("runs", "diff", older, newer).exit_code == 2


def test_simulating_a_recorded_run_through_latest_takes_the_new_files_into_its_record(project):
    """``wfplan simulate runs/tiny/latest`` simulates the run the link names; the run store takes the simulation
    and the rewritten reports into the run's record with an audit row, so the run still verifies and can be
    submitted; a run whose files changed before is refused and left as it was."""
    assert solve().exit_code == 0
    (run_id,) = run_ids(project)
    simulated = wfplan("simulate", "runs/tiny/latest", "--reps", "50", "--workers", "1", "--quiet")
    assert simulated.exit_code == 0, simulated.output
    folder = project / "runs" / "tiny" / run_id
    assert (folder / "simulation.json").exists() and (project / "runs" / "tiny" / "latest").is_symlink()
    record = json.loads(wfplan("runs", "show", run_id, "--json").stdout)
    assert [(a["action"], a["from_status"], a["to_status"], a["comment"]) for a in record["audit"]][1:] == [
        ("simulate", "draft", "draft", "50 repetitions, seed 0")]
    assert wfplan("verify", folder, "data").exit_code == 0
    assert wfplan("runs", "submit", run_id, "--by", "planner").exit_code == 0
    summary = folder / "summary.json"
    summary.write_text(summary.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    before = (folder / "simulation.json").read_bytes()
    refused = wfplan("simulate", folder, "--reps", "60", "--workers", "1", "--quiet")
    assert refused.exit_code == 2 and "summary.json: changed" in refused.stderr
    assert (folder / "simulation.json").read_bytes() == before


def test_verify_reads_the_input_tables_the_plan_was_solved_from(project):
    """Without DATA_DIR, ``wfplan verify`` takes the tables the summary names (and says so); a plan whose tables
    moved away is a usage error (exit 2) that asks for them."""
    assert solve().exit_code == 0
    (run_id,) = run_ids(project)
    checked = wfplan("verify", f"runs/tiny/{run_id}")
    assert checked.exit_code == 0, checked.output
    assert f"the input tables runs/tiny/{run_id} was solved from: data" in checked.stderr
    assert "passes all" in checked.stdout
    (project / "data").rename(project / "moved")
    gone = wfplan("verify", f"runs/tiny/{run_id}")
    assert gone.exit_code == 2 and "was solved from data, which is not there any more" in gone.stderr


def test_runs_diff_and_export_by_id(project):
    assert solve().exit_code == 0 and solve("--set", "budget.growth=0.5").exit_code == 0
    newer, older = run_ids(project)
    shown = wfplan("runs", "diff", older, newer, "--out", "cmp")
    assert shown.exit_code == 0, shown.output
    assert f"A = {older}" in shown.stdout and f"B = {newer}" in shown.stdout and "people whose" in shown.stdout
    assert (project / "cmp" / "budget.csv").exists()
    exported = wfplan("runs", "export", older)
    assert exported.exit_code == 0 and (project / f"{older}.zip").exists()
    with zipfile.ZipFile(project / f"{older}.zip") as archive:
        assert f"{older}/record.json" in archive.namelist() and f"{older}/actions.csv" in archive.namelist()
    again = wfplan("runs", "export", older)
    assert again.exit_code == 2 and "exists" in again.stderr
    assert wfplan("runs", "show", "nosuchrun").exit_code == 2


def test_an_explicit_out_replaces_a_draft_only(project):
    assert solve("--out", "mine").exit_code == 0
    first = run_ids(project)[0]
    assert solve("--out", "mine").exit_code == 0
    second = run_ids(project, "--status", "draft")[0]
    discarded = json.loads(wfplan("runs", "show", first, "--json").stdout)
    assert discarded["status"] == "discarded"
    assert discarded["audit"][-1]["comment"] == f"its folder was replaced by run {second}"
    assert json.loads((project / "mine" / "summary.json").read_text(encoding="utf-8"))["run"]["id"] == second
    assert wfplan("runs", "submit", second, "--by", "planner").exit_code == 0
    before = {p.name: p.read_bytes() for p in (project / "mine").iterdir()}
    refused = solve("--out", "mine")
    assert refused.exit_code == 2 and f"it holds run {second}, submitted" in refused.stderr
    assert {p.name: p.read_bytes() for p in (project / "mine").iterdir()} == before
    assert len(run_ids(project)) == 2


@pytest.mark.parametrize("url, words", [
    ("postgresql://wf@127.0.0.1:1/nothing", "Connection refused"),
    ("mysql://u@localhost/db", "unsupported database"),
    ("nosuchfolder/wfplan.db", "no folder"),
])
def test_a_store_that_cannot_be_used_is_exit_2_and_nothing_is_written(project, url, words, monkeypatch):
    for result in (solve("--db", url), solve("--db", url, "--out", "mine")):
        assert result.exit_code == 2 and words in result.stderr and "Traceback" not in result.output
    monkeypatch.setenv("WFPLAN_DB", url)
    assert solve().exit_code == 2
    assert sorted(p.name for p in project.iterdir()) == ["data", "tiny.yaml"]


def test_reading_commands_never_create_a_store(project):
    listed = wfplan("runs", "list")
    assert listed.exit_code == 0 and "no run store at" in listed.stderr and listed.stdout.strip() == "no runs"
    assert wfplan("runs", "show", "x").exit_code == 2
    assert not (project / "wfplan.db").exists()


def _concurrent_solves(project: Path, db: str) -> list[str]:
    env = {**os.environ, "WFPLAN_DB": db}
    command = [sys.executable, "-c", "from optimizer.cli import main; main()", "solve", "tiny.yaml", "--data",
               "data", "--quiet"]
    solves = [subprocess.Popen(command, cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True) for _ in range(4)]
    outcomes = [process.communicate(timeout=600) for process in solves]
    failed = [(process.returncode, err or out) for process, (out, err) in zip(solves, outcomes) if process.returncode]
    assert not failed, failed
    with RunStore.open(db) as store:
        found = store.runs(scenario="tiny")
    assert len(found) == 4 and all(run.changes is None and run.folder.is_dir() for run in found)
    folders = {p.name for p in (project / "runs" / "tiny").iterdir() if not p.name.startswith(".")}
    assert folders == {run.id for run in found} | {"latest"}
    assert (project / "runs" / "tiny" / "latest").resolve().name in folders
    return [run.id for run in found]


@pytest.mark.slow
def test_four_concurrent_solves_into_one_sqlite_store_leave_four_runs(project):
    assert len(set(_concurrent_solves(project, str(project / "wfplan.db")))) == 4


@pytest.mark.slow
def test_four_concurrent_solves_into_one_postgresql_store_leave_four_runs(project, postgres_url):
    assert len(set(_concurrent_solves(project, fresh_database(postgres_url)))) == 4


@pytest.mark.slow
def test_sweep_and_frontier_points_are_runs(project):
    swept = wfplan("sweep", "tiny.yaml", "--data", "data", "--grid", "budget.growth=0.5,1.0", "--workers", "2",
                   "--quiet")
    assert swept.exit_code == 0, swept.output
    points = json.loads(wfplan("runs", "list", "--kind", "sweep_point", "--json").stdout)
    assert len(points) == 2 and len({p["study"] for p in points}) == 1
    study = points[0]["study"]
    sweep_dir = project / "runs" / "sweep-tiny" / study
    assert (project / "runs" / "sweep-tiny" / "latest").resolve() == sweep_dir
    assert sorted(p["id"] for p in points) == [f"{study}-p1", f"{study}-p2"]
    base = json.loads(wfplan("runs", "show", f"{study}-base", "--json").stdout)  # the plan the points start from
    assert (base["kind"], base["study"], base["folder"]) == ("solve", study, str(sweep_dir / "base"))
    for point in points:
        assert Path(point["folder"]).parent == sweep_dir / "runs" and point["files"]
        assert point["scenario_resolved"]["budget"]["growth"] in (0.5, 1.0)
        assert wfplan("runs", "show", point["id"]).stdout.count("sha256 checked") == 1
    assert wfplan("runs", "submit", points[0]["id"], "--by", "planner").exit_code == 0
    drawn = wfplan("frontier", "tiny.yaml", "--data", "data", "--x", "budget.growth", "--y", "cost", "--points",
                   "2", "--range", "0.5:1", "--workers", "2", "--quiet")
    assert drawn.exit_code == 0, drawn.output
    front = json.loads(wfplan("runs", "list", "--kind", "frontier_point", "--json").stdout)
    assert len(front) == 2 and {p["exit_code"] for p in front} == {0}
    assert sorted(p["scenario_resolved"]["budget"]["growth"] for p in front) == [0.5, 1.0]
    assert all(p["objective"]["cost"] > 0 for p in front)


def test_an_output_of_a_wfplan_before_the_registry_is_never_written_into(project):
    old = project / "runs" / "tiny"
    old.mkdir(parents=True)
    (old / ".wfplan").write_text('{"kind": "plan"}\n', encoding="utf-8")
    (old / "actions.csv").write_text("employee_id\n", encoding="utf-8")
    refused = solve()
    assert refused.exit_code == 2
    assert "it is a plan folder written by a wfplan before the run registry" in refused.stderr
    assert sorted(p.name for p in old.iterdir()) == [".wfplan", "actions.csv"]
    assert solve("--out", "elsewhere").exit_code == 0
