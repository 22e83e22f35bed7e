"""The what-if commands of ``wfplan``: ``sweep``, ``frontier`` and ``compare`` (docs/whatif.md).

They register themselves on :data:`optimizer.cli.common.main`.
Exit codes: 0 done (each point's own exit code is in the table), 2 bad input or arguments, 130 / 143 stopped
by Ctrl-C / SIGTERM (workers stopped, no folder written).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from models.scenario import Scenario, ScenarioError
from models.scenario_files import lookup, plain_key, unknown_key_problem
from optimizer.cli.common import db_option, main, reference_option, resolve_scenario, scheduler_option, typed_command
from optimizer.registry.recording import frontier_recorder, study_target, sweep_recorder
from optimizer.registry.store import RunStore
from optimizer.whatif.compare import compare_runs, render, write_comparison
from optimizer.whatif.frontier import GOALS, run_frontier, x_values
from optimizer.distributed.base import Where, default_workers
from optimizer.pipeline import EXIT_BAD_INPUT, EXIT_OK, EXIT_TARGET_MISSED
from optimizer.whatif.sweep import FAILED_EXITS, grid_points, parse_grids, run_sweep


def _data_of(data_dir: Path | None, scenario: Scenario) -> Path:
    data = data_dir or (Path(scenario.data) if scenario.data else None)
    if data is None:
        raise click.UsageError("no input data: pass --data DIR or set 'data:' in the scenario")
    return data


def _current_value(scenario: Scenario, key: str) -> Any:
    """The scenario's value at ``key``. A key that selects a record of a list (``unit_grading.reviews[unit=U,
    year=T].grade``) gives None while the scenario has no such record; the points name a misspelt field."""
    if plain_key(key) != key:
        return lookup(scenario.model_dump(), key)
    node: Any = scenario.model_dump()
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            raise click.BadParameter(f"'{key}' is not a scenario key (docs/scenarios.md)", param_hint="--x")
        node = node[part]
    return node


def _span(text: str | None) -> tuple[float, float] | None:
    if text is None:
        return None
    try:
        low, high = (float(part) for part in text.split(":"))
    except ValueError:
        raise click.BadParameter(f"'{text}' is not A:B", param_hint="--range") from None
    return low, high


def _retrying(quiet: bool, point: str, message: str) -> None:
    if not quiet:
        click.echo(f"{point}: {message}; running it again", err=True)


scenario_argument = click.argument("scenario_file")
data_option = click.option("--data", "data_dir", type=click.Path(path_type=Path),
                           help="input tables (default: the scenario's data)")
workers_option = click.option("--workers", type=click.IntRange(1), default=default_workers(), show_default=True,
                              help="worker processes (one solve each)")


set_option = click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE",
                          help="override a scenario value for every point")
quiet_option = click.option("--quiet", is_flag=True, help="no progress lines")


@main.command()
@scenario_argument
@click.option("--grid", "grid_texts", multiple=True, required=True, metavar="KEY=V1,V2,...|KEY=A:B:STEP",
              help="values of one scenario key; several --grid make a cross product")
@data_option
@click.option("--out", "out_dir", type=click.Path(path_type=Path),
              help="default: a new runs/sweep-<scenario name>/<sweep id>/ (and latest)")
@workers_option
@scheduler_option
@set_option
@reference_option
@click.option("--no-base-reference", "no_base_reference", is_flag=True,
              help="without --reference, solve each point on its own (default: against the scenario's own plan, "
                   "solved first into OUT/base)")
@db_option
@quiet_option
def sweep(scenario_file: str, grid_texts: tuple[str, ...], data_dir: Path | None, out_dir: Path | None,
          workers: int, scheduler: str | None, overrides: tuple[str, ...], reference_dir: Path | None,
          no_base_reference: bool, db: str | None, quiet: bool) -> None:
    """Solve SCENARIO_FILE at every point of the grids, in parallel (local processes or a Dask cluster); one
    plan folder per point and one table, OUT/sweep.csv and OUT/sweep.parquet; every point is recorded as a run
    (<sweep id>-p<point>). Every point is planned against a reference plan (--reference, else the scenario's
    own plan in OUT/base), so it keeps that plan's year-1 actions wherever it can."""
    store = RunStore.open(db)
    scenario = resolve_scenario(scenario_file, overrides)
    try:
        grids = parse_grids(list(grid_texts))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--grid") from None
    unknown = [p for p in (unknown_key_problem(plain_key(grid.key), "--grid") for grid in grids) if p]
    if unknown:
        raise ScenarioError(scenario_file, unknown)
    target = study_target(store, "sweep", scenario.name, out_dir)

    def progress(done: int, total: int, failed: int, row: dict[str, Any]) -> None:
        if not quiet:
            settings = " ".join(f"{g.key}={row[g.key]}" for g in grids)
            click.echo(f"[{done}/{total}, {failed} failed] point {row['point']} {settings}: {row['status']}"
                       f" ({row.get('seconds') or 0:.1f} s)", err=True)

    where = Where(scheduler, workers)
    if not quiet:
        click.echo(f"sweep: {len(grid_points(grids))} points on {where.describe()}", err=True)
        if reference_dir is None and not no_base_reference:
            click.echo("… the base plan first (every point's reference): OUT/base", err=True)
    with target.writing() as out:
        table = run_sweep(scenario, grids, _data_of(data_dir, scenario), out, where, progress, reference_dir,
                          lambda head, message: _retrying(quiet, f"point {head['point']}", message),
                          base_reference=not no_base_reference,
                          on_written=sweep_recorder(store, target, typed_command(), scenario.name))
    exits = table["exit_code"]
    click.echo(f"{len(table)} points: {int((exits == EXIT_OK).sum())} met every target, "
               f"{int((exits == EXIT_TARGET_MISSED).sum())} missed a target, "
               f"{int(exits.isin(FAILED_EXITS).sum())} failed")
    click.echo(f"table written to {out / 'sweep.csv'} and {out / 'sweep.parquet'}; plans under {out / 'runs'}; "
               f"runs {target.run_id}-p1 … -p{len(table)}")


@main.command()
@scenario_argument
@click.option("--x", "x_key", required=True, help="the scenario key to vary, e.g. budget.growth")
@click.option("--y", "goal", required=True, type=click.Choice(list(GOALS)), help="the goal optimised at each x")
@click.option("--points", default=9, show_default=True, type=click.IntRange(2), help="x values")
@click.option("--range", "span_text", metavar="A:B", help="x from A to B (default: 0 to twice the current value)")
@click.option("--x-better", type=click.Choice(["low", "high"]), default="low", show_default=True,
              help="which end of x is cheaper, for the dominance test")
@data_option
@click.option("--out", "out_dir", type=click.Path(path_type=Path),
              help="default: a new runs/frontier-<scenario name>/<frontier id>/ (and latest)")
@workers_option
@scheduler_option
@set_option
@db_option
@quiet_option
def frontier(scenario_file: str, x_key: str, goal: str, points: int, span_text: str | None, x_better: str,
             data_dir: Path | None, out_dir: Path | None, workers: int, scheduler: str | None,
             overrides: tuple[str, ...], db: str | None, quiet: bool) -> None:
    """Trade-off between a scenario key and a goal: the goal optimised at each value of the key, the
    non-dominated points flagged; OUT/frontier.csv and the chart OUT/frontier.html (self-contained); every
    point is recorded as a run (<frontier id>-p<n>, in x order)."""
    store = RunStore.open(db)
    scenario = resolve_scenario(scenario_file, overrides)
    try:
        xs = x_values(_current_value(scenario, x_key), points, _span(span_text))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--range") from None
    target = study_target(store, "frontier", scenario.name, out_dir)

    def progress(done: int, total: int, row: dict[str, Any]) -> None:
        if not quiet:
            click.echo(f"[{done}/{total}] {x_key}={row['x']}: {goal}={row['y']} ({row['status']})", err=True)

    x_sense = "min" if x_better == "low" else "max"
    where = Where(scheduler, workers)
    if not quiet:
        click.echo(f"frontier: {len(xs)} points on {where.describe()}", err=True)
    data = _data_of(data_dir, scenario)
    record = frontier_recorder(store, target, typed_command(), scenario, x_key, goal, data)
    with target.writing() as out:
        table = run_frontier(scenario, x_key, goal, xs, data, out, where, x_sense, progress,
                             lambda x, message: _retrying(quiet, f"{x_key}={x}", message), on_written=record)
    click.echo(table.drop(columns=["error"]).to_string(index=False))
    failed = table[table["error"].notna()]
    for x, error in zip(failed[x_key], failed["error"], strict=True):
        click.echo(f"{x_key}={x}: {error}", err=True)
    click.echo(f"written: {out / 'frontier.csv'}, {out / 'frontier.html'}")


@main.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--out", "out_dir", default=Path("runs/compare"), show_default=True, type=click.Path(path_type=Path),
              help="folder for the comparison CSV files")
def compare(runs: tuple[Path, ...], out_dir: Path) -> None:
    """Side-by-side deltas of plan folders against the first: mix, budget, actions, units, people."""
    try:
        tables = compare_runs(list(runs))
    except ValueError as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_BAD_INPUT)
    click.echo(render(tables))
    paths = write_comparison(tables, out_dir)
    click.echo("\nwritten: " + ", ".join(str(p) for p in paths))
