"""``wfplan runs``: the run registry (docs/registry.md) — list, show, submit, approve, reject, diff, export.

Every command takes ``--db URL`` (default ``$WFPLAN_DB``, else ``wfplan.db`` in the working folder). A run is
named by its id or any unique beginning of it. Exit codes: 0 done, 2 an unknown run, an action its state does
not allow, a run whose files changed since it was recorded (diff, export, approve), a store that cannot
be reached; 130 / 143 stopped by Ctrl-C / SIGTERM.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pandas as pd

from optimizer.cli.common import db_option, main
from optimizer.registry.database import MissingStoreError
from optimizer.registry.lifecycle import APPROVED, STATUSES
from optimizer.registry.store import KINDS, RunInfo, RunNotFound, RunStore, folder_changes, runs_table
from optimizer.whatif.compare import render, write_comparison

run_argument = click.argument("run_id", metavar="RUN")
json_option = click.option("--json", "as_json", is_flag=True, help="print JSON (for scripts)")


@main.group()
def runs() -> None:
    """The run registry: every solve, sweep point and frontier point, its approval and its audit trail."""


@runs.command("list")
@click.option("--scenario", help="only the runs of this scenario")
@click.option("--status", type=click.Choice(STATUSES), help="only the runs in this state")
@click.option("--kind", type=click.Choice(KINDS), help="only the runs of this kind")
@click.option("--limit", type=click.IntRange(1), help="at most this many (the newest)")
@json_option
@db_option
def list_runs(scenario: str | None, status: str | None, kind: str | None, limit: int | None, as_json: bool,
              db: str | None) -> None:
    """The runs, newest first."""
    try:
        with RunStore.open(db, create=False) as store:
            found = store.runs(scenario=scenario, status=status, kind=kind, limit=limit)
    except MissingStoreError as missing:
        click.echo(str(missing), err=True)
        found = []
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in found], indent=2, ensure_ascii=False, default=str))
    elif not found:
        click.echo("no runs")
    else:
        frame = runs_table(found)
        frame["cost"] = frame["cost"].map(lambda v: "" if pd.isna(v) else f"{v / 1e6:,.1f}M")
        frame["outcome"] = frame["outcome"] + " (exit " + frame["exit_code"].astype(str) + ")"
        unused = ["exit_code", *(["study"] if not frame["study"].any() else [])]
        click.echo(frame.drop(columns=unused).to_string(index=False))


def describe(info: RunInfo) -> str:
    """``runs show``: the record, the files' check, the audit trail."""
    lines = [
        f"run        {info.id}  ({info.kind}{', study ' + info.study if info.study else ''})",
        f"status     {info.status}",
        f"created    {info.when} by {info.user} on {info.host}",
        f"command    {info.command}",
        f"scenario   {info.scenario}",
        f"outcome    {info.solver_status}, exit {info.exit_code}, targets {info.targets or 'n/a'}",
        *([f"error      {info.error}"] if info.error else []),
        f"folder     {info.folder or '(none)'}",
        "objective  " + (", ".join(f"{k} {v:,.6g}" for k, v in info.objective.items()
                                   if isinstance(v, int | float)) or "(none)"),
        "inputs     " + (", ".join(f"{Path(k).name} {v[:12]}…" for k, v in info.input_hashes.items()) or "(none)"),
        "versions   " + ", ".join(f"{k} {v}" for k, v in info.versions.items()),
    ]
    if info.changes is None:
        lines.append(f"files      {len(info.files)} recorded")
    elif not info.altered:
        lines.append(f"files      {len(info.files)}, each as recorded (sha256 checked)")
        lines += [f"  {change} since (not part of the record)" for change in info.changes]
    else:
        lines.append(f"files      CHANGED since the run was recorded ({len(info.changes)}):")
        lines += [f"  {change}" for change in info.changes]
    lines.append("audit:")
    lines += [f"  {a.at:%Y-%m-%d %H:%M:%S} UTC  {a.action:<9} {a.from_status or '-':>9} → {a.to_status:<10} "
              f"{a.actor}{': ' + a.comment if a.comment else ''}" for a in info.audit]
    return "\n".join(lines)


@runs.command("show")
@run_argument
@json_option
@db_option
def show(run_id: str, as_json: bool, db: str | None) -> None:
    """One run: its record, its files checked against their recorded hashes, its audit trail."""
    with RunStore.open(db, create=False) as store:
        info = store.run(run_id)
    if as_json:
        click.echo(json.dumps(info.to_dict(), indent=2, ensure_ascii=False, default=str))
    else:
        click.echo(describe(info))


def _transition_command(action: str, summary: str) -> None:
    @runs.command(action, help=summary)
    @run_argument
    @click.option("--by", "actor", required=True, metavar="NAME", help="who does it (recorded in the audit trail)")
    @click.option("--note", metavar="TEXT", help="a comment for the audit trail")
    @db_option
    def command(run_id: str, actor: str, note: str | None, db: str | None) -> None:
        with RunStore.open(db, create=False) as store:
            scenario = store.run(run_id).scenario
            earlier = [r.id for r in store.runs(scenario=scenario, status=APPROVED)] if action == "approve" else []
            info = store.transition(run_id, action, actor, note)
        click.echo(f"run {info.id}: {info.status} by {actor}")
        for other in earlier:
            click.echo(f"run {other}: superseded (scenario {scenario})")


_transition_command("submit", "Submit a draft run for approval (draft → submitted).")
_transition_command("approve", "Approve a submitted run (→ approved; the scenario's earlier approved run becomes "
                               "superseded). The approver must not be the submitter; the files must be as recorded.")
_transition_command("reject", "Reject a submitted run (→ rejected).")


@runs.command("diff")
@click.argument("run_a", metavar="A")
@click.argument("run_b", metavar="B")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), help="also write the comparison CSV files here")
@db_option
def diff(run_a: str, run_b: str, out_dir: Path | None, db: str | None) -> None:
    """Side-by-side deltas of two runs by id (as wfplan compare shows two plan folders): mix, budget, actions,
    units, people."""
    with RunStore.open(db, create=False) as store:
        tables = store.diff(run_a, run_b)
    click.echo(render(tables))
    if out_dir is not None:
        paths = write_comparison(tables, out_dir)
        click.echo("\nwritten: " + ", ".join(str(p) for p in paths))


@runs.command("export")
@run_argument
@click.option("--out", "out_file", type=click.Path(path_type=Path), help="the zip file (default: <run id>.zip)")
@db_option
def export(run_id: str, out_file: Path | None, db: str | None) -> None:
    """A zip file of the run's folder with its record (record.json: the record, files' hashes, audit trail)."""
    with RunStore.open(db, create=False) as store:
        info = store.run(run_id)
        written = store.export(info.id, out_file or Path(f"{info.id}.zip"))
    click.echo(f"exported run {info.id} to {written}")


def _summary_run_id(plan_dir: Path) -> str | None:
    """The run id a plan folder's summary.json names, or None."""
    try:
        summary: Any = json.loads((plan_dir / "summary.json").read_text(encoding="utf-8"))
        return str(summary["run"]["id"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def record_check(plan_dir: Path, db: str | None) -> int:
    """``wfplan verify``'s check of a plan folder against its run record: the run its summary.json names (or
    the run recorded with this folder), every file's sha256 as recorded. Prints one line (or one per changed
    file); returns 1 when a file changed, 0 otherwise (also when the store has no record of the folder)."""
    try:
        store = RunStore.open(db, create=False)
    except MissingStoreError as missing:
        click.echo(f"files: not checked against a run record: {missing}")
        return 0
    with store:
        run_id = _summary_run_id(plan_dir)
        try:
            info = store.run(run_id) if run_id else store.run_at(plan_dir.resolve())
        except RunNotFound:
            info = None
    if info is None:
        click.echo(f"files: not checked: no run in the store {store.url} records {plan_dir}")
        return 0
    changes = folder_changes(plan_dir, info.files)  # this folder, wherever the run's folder is now
    altered = [change for change in changes if change.alters]
    added = "" if len(altered) == len(changes) else "; added since, not part of the record: " + ", ".join(
        change.path for change in changes if not change.alters)
    if not altered:
        click.echo(f"OK: every file of {plan_dir} is as recorded for run {info.id} ({info.status}, sha256){added}")
        return 0
    click.echo(f"FAILED: {plan_dir}: {len(altered)} file(s) changed since run {info.id} was recorded "
               f"({info.status}){added}:")
    for change in altered:
        click.echo(f"  [files] {change}")
    return 1
