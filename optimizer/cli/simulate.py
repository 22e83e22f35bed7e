"""``wfplan simulate PLAN_DIR``: Monte Carlo of a written plan under binomial attrition (docs/simulation.md).

Registers itself on :data:`optimizer.cli.common.main`. Exit codes: 0 simulated and written, 2 not a plan
folder, input tables that are not the plan's, a recorded run whose files changed since, or bad options;
130 / 143 stopped by Ctrl-C / SIGTERM.

A recorded run's folder (``runs/<scenario>/<run id>``, or its ``latest`` link) gains the simulation in the run's
record too: the run store takes the new and rewritten files (simulation, reports) with an audit row, so the run
still verifies and can be approved; a run whose files changed before is refused untouched.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from optimizer.cli.common import db_option, main, progress_printer, scheduler_option
from optimizer.plan.output import report_writers
from optimizer.registry.database import MissingStoreError
from optimizer.registry.store import RunInfo, RunStore, current_user
from optimizer.simulate.folder import REPORTS, SIMULATION_CSV, SIMULATION_JSON, simulate_plan_folder
from optimizer.simulate.results import simulation_sentences
from optimizer.distributed.base import Where, default_workers
from optimizer.simulate.cluster import cluster_runner
from optimizer.simulate.engine import run_local

MAX_REPS = 10_000_000


@main.command("simulate")
@click.argument("plan_dir", type=click.Path(path_type=Path))
@click.option("--reps", default=10_000, show_default=True, type=click.IntRange(1, MAX_REPS),
              help="repetitions")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(0, 2**63 - 1),
              help="random seed: the same seed gives the same numbers")
@click.option("--data", "data_dir", type=click.Path(path_type=Path),
              help="the input tables the plan was solved from (default: the path in its summary.json)")
@click.option("--workers", default=None, type=click.IntRange(1, 64),
              help="worker processes (default: one per CPU); the numbers do not depend on it")
@scheduler_option
@db_option
@click.option("--quiet", is_flag=True, help="print only where the results are")
@click.option("--json", "as_json", is_flag=True, help="print simulation.json on stdout (for scripts)")
def simulate_command(plan_dir: Path, reps: int, seed: int, data_dir: Path | None, workers: int | None,
                     scheduler: str | None, db: str | None, quiet: bool, as_json: bool) -> None:
    """Simulate the plan in PLAN_DIR under binomial attrition; add simulation.json and simulation.csv to
    the folder and write its reports again with the fan charts."""
    progress_printer(quiet or as_json)(f"simulating {reps:,} repetitions of {plan_dir}")
    folder = plan_dir.resolve() if plan_dir.is_symlink() else plan_dir  # runs/<scenario>/latest: the run it names
    recorded = _recorded_run(folder, db)
    workers = workers or default_workers()
    runner = run_local if scheduler is None and workers == 1 else cluster_runner(Where(scheduler, workers))
    run = simulate_plan_folder(folder, reps, seed, data_dir, report_writers=report_writers(), runner=runner)
    if recorded is not None:
        with RunStore.open(db, create=False) as store:
            store.record_added_files(recorded.id, (SIMULATION_JSON, SIMULATION_CSV, *REPORTS), current_user(),
                                     "simulate", f"{reps:,} repetitions, seed {seed}")
    if as_json:
        click.echo(json.dumps(run.summary, indent=2))
        return
    if not quiet:
        click.echo("\n".join(simulation_sentences(run.summary)))
    click.echo(f"simulation written to {plan_dir / 'simulation.json'}")


def _recorded_run(folder: Path, db: str | None) -> RunInfo | None:
    """The run recorded with ``folder`` in the store (None without a store or a run), checked: a run whose files
    changed since it was recorded is refused (StoreError, exit 2) before anything is written."""
    try:
        store = RunStore.open(db, create=False)
    except MissingStoreError:
        return None
    with store:
        found = store.run_at(folder.absolute())
        return None if found is None else store.checked(found.id)
