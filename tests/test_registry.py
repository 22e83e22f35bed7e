"""The run store on SQLite and on a real PostgreSQL server: runs recorded whole, the lifecycle and its audit
rows, the append-only audit table, files checked on read, export, diff, concurrent writers, migrations."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from optimizer import api
from optimizer.registry.database import StoreError, connect, head_revision, migrate, store_url
from optimizer.registry.layout import file_hashes, new_run_id
from optimizer.registry.schema import AuditRow, Base
from optimizer.registry.store import (
    RunNotFound,
    RunRecord,
    RunStore,
    TamperedRunError,
    TransitionError,
    record_of_summary,
)
from optimizer.whatif.compare import compare_runs
from tests.builders import QUIET, people, unit, write_group
from tests.postgres import fresh_database
from tests.workers import record_runs

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
def db(request, tmp_path) -> str:
    """The URL of a new empty store: a SQLite file, or a new database on the session's PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return fresh_database(request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(db):
    with RunStore.open(db) as opened:
        yield opened


@pytest.fixture(scope="module")
def plans(tmp_path_factory) -> tuple[api.Plan, api.Plan]:
    """Two solved plans of one tiny group (scenario ``tiny``): the base (budget growth 1.0), and one with
    growth 0.5."""
    root = tmp_path_factory.mktemp("group")
    data = write_group(root / "data", people("U1", "operations", 30) + people("U1", "technical", 10), [unit("U1")])
    (root / "tiny.yaml").write_text(json.dumps({**QUIET, "name": "tiny"}), encoding="utf-8")
    base = api.scenario(root / "tiny.yaml")
    tables = api.load_tables(data)
    return api.solve(base, tables), api.solve(api.scenario(base, budget__growth=0.5), tables)


def test_a_saved_plan_is_one_run_with_its_folder_files_and_first_audit_row(store, plans, tmp_path):
    run = plans[0].save(store, root=tmp_path / "runs", reports=False)
    assert run.folder == tmp_path / "runs" / "tiny" / run.id
    assert (tmp_path / "runs" / "tiny" / "latest").resolve() == run.folder
    assert run.status == "draft" and run.kind == "solve" and run.scenario == "tiny" and run.exit_code == 0
    assert run.targets_met is True and run.solver_status == plans[0].status
    assert run.objective == plans[0].summary["objective"]
    assert run.input_hashes == plans[0].summary["inputs"]["hashes"] and len(run.input_hashes) == 3
    assert run.versions["wfplan"] and run.scenario_resolved["name"] == "tiny"
    on_disk = file_hashes(run.folder)
    assert {p: h.sha256 for p, h in run.files.items()} == {p: h.sha256 for p, h in on_disk.items()}
    assert "actions.csv" in run.files and ".wfplan" not in run.files
    assert json.loads((run.folder / "summary.json").read_text(encoding="utf-8"))["run"] == {"id": run.id}
    assert run.changes == ()
    assert [(a.action, a.from_status, a.to_status) for a in run.audit] == [("record", None, "draft")]


def test_two_saves_leave_two_folders_and_two_runs_newest_first(store, plans, tmp_path):
    first = plans[0].save(store, root=tmp_path / "runs", reports=False)
    second = plans[0].save(store, root=tmp_path / "runs", reports=False)
    assert first.id != second.id and first.folder != second.folder
    assert first.folder.is_dir() and second.folder.is_dir()
    assert [r.id for r in store.runs(scenario="tiny")] == [second.id, first.id]
    assert (tmp_path / "runs" / "tiny" / "latest").resolve() == second.folder
    assert store.run(second.id[:-2]).id == second.id  # a unique prefix names the run
    with pytest.raises(RunNotFound, match="ambiguous"):
        store.run(first.id[:4])
    with pytest.raises(RunNotFound, match="no run"):
        store.run("19990101")


def test_approval_lifecycle_with_its_audit_rows(store, plans, tmp_path):
    a = plans[0].save(store, root=tmp_path / "runs", reports=False)
    b = plans[1].save(store, root=tmp_path / "runs", reports=False)
    c = plans[1].save(store, root=tmp_path / "runs", reports=False)
    with pytest.raises(TransitionError, match="only a submitted run"):
        store.approve(a.id, by="director")
    store.submit(a.id, by="planner", note="Q1 plan")
    with pytest.raises(TransitionError, match="someone else must approve"):
        store.approve(a.id, by="planner")
    with pytest.raises(TransitionError, match="only a draft run"):
        store.submit(a.id, by="planner")
    approved = store.approve(a.id, by="director", note="fits the budget")
    assert approved.status == "approved"
    assert [(e.action, e.from_status, e.to_status, e.actor, e.comment) for e in approved.audit] == [
        ("record", None, "draft", a.user, a.command),
        ("submit", "draft", "submitted", "planner", "Q1 plan"),
        ("approve", "submitted", "approved", "director", "fits the budget"),
    ]
    times = [e.at for e in approved.audit]
    assert times == sorted(times) and all(t.tzinfo is not None for t in times)
    store.submit(b.id, by="planner")
    assert store.reject(b.id, by="director", note="too costly").status == "rejected"
    with pytest.raises(TransitionError, match="only a submitted run"):
        store.approve(b.id, by="director")
    store.submit(c.id, by="planner")
    store.approve(c.id, by="director")
    superseded = store.run(a.id)
    assert superseded.status == "superseded"
    assert (superseded.audit[-1].action, superseded.audit[-1].comment) == ("supersede", f"superseded by run {c.id}")
    assert [r.id for r in store.runs(status="approved")] == [c.id]
    assert {r.id for r in store.runs(scenario="tiny", status="superseded")} == {a.id}


def _record(run_id: str, exit_code: int = 4, folder: Path | None = None) -> RunRecord:
    summary = {"scenario": {"name": "tiny"}, "status": "infeasible", "exit_code": exit_code,
               "solver": {"message": "no plan"}}
    return record_of_summary(run_id, summary, folder, {}, "wfplan solve tiny")


def test_a_run_without_a_plan_cannot_be_submitted(store):
    store.record(_record(new_run_id()))
    run = store.runs()[0]
    assert run.exit_code == 4 and run.error == "no plan" and not run.has_plan
    with pytest.raises(TransitionError, match="has no plan"):
        store.submit(run.id, by="planner")
    assert store.run(run.id).status == "draft"


def test_the_audit_table_refuses_update_and_delete(store, plans, tmp_path):
    run = plans[0].save(store, root=tmp_path / "runs", reports=False)
    for change in (sa.update(AuditRow).values(actor="someone else"), sa.delete(AuditRow)):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), store.engine.begin() as connection:
            connection.execute(change)
    assert [a.actor for a in store.run(run.id).audit] == [run.user]


def test_a_changed_file_of_an_approved_plan_is_caught_on_read(store, plans, tmp_path):
    run = plans[0].save(store, root=tmp_path / "runs", reports=False)
    store.submit(run.id, by="planner")
    store.approve(run.id, by="director")
    actions = run.folder / "actions.csv"
    actions.write_text(actions.read_text(encoding="utf-8").replace("stay", "redundancy", 1), encoding="utf-8")
    (run.folder / "budget.csv").unlink()
    (run.folder / "notes.txt").write_text("added later", encoding="utf-8")
    assert [(c.path, c.change) for c in store.run(run.id).changes] == [
        ("actions.csv", "changed"), ("budget.csv", "missing"), ("notes.txt", "added")]
    with pytest.raises(TamperedRunError, match="actions.csv: changed"):
        store.export(run.id, tmp_path / "out.zip")
    with pytest.raises(TamperedRunError):
        store.diff(run.id, plans[0].save(store, root=tmp_path / "runs", reports=False).id)
    assert not (tmp_path / "out.zip").exists()


def test_a_file_added_to_a_plan_folder_is_reported_but_alters_nothing(store, plans, tmp_path):
    run = plans[0].save(store, root=tmp_path / "runs", reports=False)
    (run.folder / "simulation.json").write_text("{}", encoding="utf-8")
    found = store.run(run.id)
    assert [(c.path, c.change) for c in found.changes] == [("simulation.json", "added")] and found.altered == ()
    store.submit(run.id, by="planner")
    assert store.approve(run.id, by="director").status == "approved"
    with zipfile.ZipFile(store.export(run.id, tmp_path / "plan.zip")) as archive:
        assert f"{run.id}/simulation.json" not in archive.namelist()


def test_export_holds_the_folder_and_its_record(store, plans, tmp_path):
    run = plans[0].save(store, root=tmp_path / "runs", reports=False)
    store.submit(run.id, by="planner")
    zipped = store.export(run.id, tmp_path / "plan.zip")
    with zipfile.ZipFile(zipped) as archive:
        names = set(archive.namelist())
        assert names == {f"{run.id}/record.json", *(f"{run.id}/{p}" for p in run.files)}
        record = json.loads(archive.read(f"{run.id}/record.json"))
        for path, recorded in record["files"].items():
            assert archive.read(f"{run.id}/{path}") == (run.folder / path).read_bytes()
            assert recorded["sha256"] == run.files[path].sha256
    assert record["id"] == run.id and record["status"] == "submitted"
    assert [a["action"] for a in record["audit"]] == ["record", "submit"]
    with pytest.raises(api.OutputFolderError, match="exists"):
        store.export(run.id, zipped)


def test_diff_is_the_comparison_of_the_two_folders_under_the_run_ids(store, plans, tmp_path):
    a = plans[0].save(store, root=tmp_path / "runs", reports=False)
    b = plans[1].save(store, root=tmp_path / "runs", reports=False)
    # b by the shortest prefix that is not also a's (ids made in the same second share their first 15 characters)
    prefix = next(b.id[:n] for n in range(15, len(b.id) + 1) if not a.id.startswith(b.id[:n]))
    tables = store.diff(a.id, prefix)
    expected = compare_runs([a.folder, b.folder], [a.id, b.id])
    assert set(tables) == set(expected) == {"mix", "budget", "actions", "units", "people"}
    for name, frame in expected.items():
        pd.testing.assert_frame_equal(tables[name], frame)
    assert f"delta:{b.id}" in tables["budget"].columns
    budget = tables["budget"].set_index(["year", "item"])
    payroll = budget.loc[(0, "payroll"), a.id]  # caps: payroll(0)·(1 + growth), growth 1.0 against 0.5
    assert budget.loc[(1, "cap"), f"delta:{b.id}"] == pytest.approx(-0.5 * payroll)
    with pytest.raises(StoreError, match="distinct"):
        store.diff(a.id, a.id)


@pytest.mark.slow
def test_concurrent_writers_lose_no_run(db):
    """Four processes open the same new store at once (it is migrated once) and record 15 runs each."""
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=record_runs, args=(db, worker, 15)) for worker in range(4)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(300)
    assert [p.exitcode for p in workers] == [0, 0, 0, 0]
    with RunStore.open(db) as store:
        found = store.runs()
        assert len(found) == 60 and len({r.id for r in found}) == 60
        assert sorted(r.scenario for r in found) == sorted(f"w{w}" for w in range(4) for _ in range(15))
        assert all(len(r.audit) == 1 for r in found)


def test_migration_from_an_empty_database_matches_the_orm(db):
    engine = connect(db)
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head_revision()
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    engine.dispose()


def test_migration_from_the_first_schema_keeps_its_runs(db, plans, tmp_path):
    engine = sa.create_engine(store_url(db))
    migrate(engine, "0001")
    runs = sa.table("runs", *(sa.column(name) for name in (
        "id", "created_at", "username", "host", "command", "scenario", "scenario_resolved", "input_hashes",
        "versions", "solver_status", "exit_code", "objective", "targets_met", "folder", "error", "status")))
    audit = sa.table("audit", *(sa.column(n) for n in ("run_id", "at", "actor", "action", "to_status")))
    old = "20250101-120000-abcdef"
    with engine.begin() as connection:
        assert "kind" not in {c["name"] for c in sa.inspect(connection).get_columns("runs")}
        connection.execute(sa.insert(runs).values(
            id=old, created_at=pd.Timestamp("2025-01-01 12:00", tz="UTC").to_pydatetime(), username="li",
            host="h", command="wfplan solve baseline", scenario="baseline", scenario_resolved=json.dumps({}),
            input_hashes=json.dumps({}), versions=json.dumps({"wfplan": "0.0.9"}), solver_status="optimal",
            exit_code=0, objective=json.dumps({"cost": 1.0}), targets_met=True, folder=None, error=None,
            status="draft"))
        connection.execute(sa.insert(audit).values(run_id=old, at=pd.Timestamp("2025-01-01 12:00", tz="UTC")
                                                   .to_pydatetime(), actor="li", action="record", to_status="draft"))
    engine.dispose()
    with RunStore.open(db) as store:  # migrated to the newest revision on opening
        kept = store.run(old)
        assert (kept.kind, kept.study, kept.user, kept.objective) == ("solve", None, "li", {"cost": 1.0})
        assert [a.action for a in kept.audit] == ["record"]
        new = plans[0].save(store, root=tmp_path / "runs", reports=False)
        assert [r.id for r in store.runs()] == [new.id, old]
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), store.engine.begin() as connection:
            connection.execute(sa.delete(AuditRow))


def test_a_bad_store_url_is_a_one_line_store_error(tmp_path):
    for url, words in (("mysql://u@h/db", "unsupported database"), ("postgresql://wf@127.0.0.1:1/x", "cannot use it"),
                       (str(tmp_path / "missing" / "x.db"), "no folder"), ("sqlite://", "needs a file"),
                       ("postgresql://:::", "not a database URL")):
        with pytest.raises(StoreError, match=words) as caught:
            RunStore.open(url)
        assert "\n" not in str(caught.value)


def test_a_store_that_fails_while_recording_keeps_neither_folder_nor_run(db, plans, tmp_path):
    """The run row goes in, then the store refuses the files' rows: the transaction rolls back and the
    staged plan folder is removed."""
    with RunStore.open(db) as store:
        with store.engine.begin() as connection:
            if connection.dialect.name == "sqlite":
                connection.exec_driver_sql("CREATE TRIGGER no_files BEFORE INSERT ON run_files "
                                           "BEGIN SELECT RAISE(ABORT, 'disk quota'); END")
            else:
                connection.exec_driver_sql("CREATE FUNCTION no_files() RETURNS trigger LANGUAGE plpgsql AS "
                                           "$$ BEGIN RAISE EXCEPTION 'disk quota'; END $$")
                connection.exec_driver_sql("CREATE TRIGGER no_files BEFORE INSERT ON run_files "
                                           "FOR EACH ROW EXECUTE FUNCTION no_files()")
        with pytest.raises(StoreError, match="disk quota"):
            plans[0].save(store, root=tmp_path / "runs", reports=False)
        assert store.runs() == []
    assert not (tmp_path / "runs" / "tiny").exists()
    assert not (tmp_path / "runs").exists() or list((tmp_path / "runs").iterdir()) == []


@pytest.mark.slow
def test_the_migrations_ship_in_the_package_and_run_from_an_installed_copy(tmp_path):
    """A wheel of the project, installed into a folder of its own, creates a store from its own migrations."""
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", tmp_path / "wheel", root],
                   check=True, capture_output=True)
    wheel = next((tmp_path / "wheel").glob("wfplan-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        shipped = {name for name in archive.namelist() if "/migrations/" in name}
    assert {"optimizer/registry/migrations/env.py", "optimizer/registry/migrations/versions/0001_first_schema.py",
            "optimizer/registry/migrations/versions/0002_kinds_and_append_only_audit.py"} <= shipped
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", tmp_path / "site", wheel],
                   check=True, capture_output=True)
    probe = ("import optimizer.registry.database as d, sqlalchemy as sa; e = d.connect('store.db'); "
             "print(d.__file__); print(sa.inspect(e).get_table_names())")
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(tmp_path / "site")})
    where, tables = done.stdout.splitlines()
    assert Path(where).is_relative_to(tmp_path / "site")
    assert tables == str(["alembic_version", "audit", "run_files", "runs"])


def test_values_strict_json_cannot_hold_are_stored_as_null_or_text(store):
    record = _record(new_run_id(), exit_code=3)
    record = record_of_summary(record.id, {"scenario": {"name": "tiny", "limit": float("inf"), "when": Path("x")},
                                           "status": "target_missed", "exit_code": 3,
                                           "objective": {"mix": float("nan"), "cost": 2}}, None, {}, "test")
    store.record(record)
    found = store.run(record.id)
    assert found.objective == {"mix": None, "cost": 2}
    assert found.scenario_resolved == {"name": "tiny", "limit": None, "when": "x"}
