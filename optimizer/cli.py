"""The ``wfplan`` command line. Exit codes: 0 ok, 1 internal error, 2 bad input, 3 target missed, 4 no plan."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import click
import pandas as pd

from models.grading import grade_units
from models.scenario import Scenario, ScenarioError
from models.scenario_files import load_scenario, scenario_path
from models.synthetic import write_generated
from models.validation import InputError, load_inputs
from optimizer.console import data_overview, ladder_summary, plan_summary
from optimizer.diagnosis import describe
from optimizer.output import write_csv
from optimizer.pipeline import EXIT_BAD_INPUT, EXIT_NO_PLAN, ReportWriter, RunResult, run_ladder_plan, run_plan
from optimizer.reuse import load_reference
from optimizer.verify import verify_command
from optimizer.verify_ladder import is_ladder_plan, verify_ladder_command

DEMO_SEED = 2026


def _errors_to_exit_codes(command: Callable[..., Any]) -> Callable[..., Any]:
    """Bad input → its problem list on stderr and exit 2, never a traceback."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (InputError, ScenarioError) as exc:
            click.echo(str(exc), err=True)
            sys.exit(EXIT_BAD_INPUT)

    return wrapper


@contextmanager
def _stdout_to_stderr(active: bool) -> Iterator[None]:
    """Send everything written to file descriptor 1 (solver banners from C code included) to stderr, so
    ``--json`` leaves stdout holding the JSON document only."""
    if not active:
        yield
        return
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


reference_option = click.option(
    "--reference", "reference_dir", type=click.Path(path_type=Path), metavar="PLAN_DIR",
    help="an earlier plan on the same data: a what-if that only tightens its model, and that its plan still "
         "keeps, takes that plan without solving (docs/whatif.md)")


def _progress(quiet: bool) -> Callable[[str], None]:
    return (lambda message: None) if quiet else (lambda message: click.echo(f"… {message}", err=True))


def _resolve_scenario(name_or_path: str, overrides: tuple[str, ...]) -> Scenario:
    path = Path(name_or_path)
    if not path.exists() and scenario_path(name_or_path).exists():
        path = scenario_path(name_or_path)
    scenario = load_scenario(path, list(overrides))
    for line in scenario.applied_overrides:
        click.echo(f"override {line}", err=True)
    return scenario


def report_writers() -> tuple[ReportWriter, ...]:
    """Report writers registered under the ``wfplan.reports`` entry-point group (by the reports package)."""
    return tuple(entry.load() for entry in sorted(entry_points(group="wfplan.reports"), key=lambda e: e.name))


def _echo_diagnosis(summary: dict[str, Any]) -> None:
    """The diagnosis of a missed target or of an infeasible model in plain words, when the run has one."""
    if "diagnosis" in summary:
        click.echo("diagnosis:\n" + "\n".join(f"  {line}" for line in describe(summary["diagnosis"])))


def _report(result: RunResult, quiet: bool, as_json: bool = False) -> None:
    """The run's outcome for a person (summary, diagnosis, where the files are) or, with ``as_json``, the
    whole summary.json on stdout for scripts; exits with the run's exit code."""
    if as_json:
        click.echo(json.dumps(result.summary, indent=2, ensure_ascii=False, default=str))
        sys.exit(result.exit_code)
    if result.plan_dir is None:
        click.echo(f"model written to {result.summary.get('lp_file')} (not solved)")
        return
    if result.exit_code == EXIT_NO_PLAN:
        message = result.summary.get("solver", {}).get("message", "")
        click.echo(f"no feasible plan: {result.summary['status']}{': ' + message if message else ''}", err=True)
        if not quiet:
            _echo_diagnosis(result.summary)
        click.echo(f"summary written to {result.plan_dir / 'summary.json'}")
        sys.exit(result.exit_code)
    if not quiet:
        mix = pd.read_csv(result.plan_dir / "mix.csv")
        budget = pd.read_csv(result.plan_dir / "budget.csv")
        click.echo(plan_summary(result.summary, mix, budget))
        _echo_diagnosis(result.summary)
    click.echo(f"plan written to {result.plan_dir}")
    sys.exit(result.exit_code)


@click.group()
@click.version_option(package_name="wfplan")
def main() -> None:
    """Workforce-structure optimisation: from roster and scenario to a verified restructuring plan."""


@main.command()
@click.option("--employees", default=20000, show_default=True, help="roster size of the demo group")
@click.option("--units", default=20, show_default=True)
@click.option("--out", "out_dir", default="runs/demo", show_default=True, type=click.Path(path_type=Path))
@click.option("--backend", type=click.Choice(["highs", "cbc", "scip", "cpsat"]), default=None)
@click.option("--quiet", is_flag=True, help="no progress and no summary, only where the plan is")
@click.option("--json", "as_json", is_flag=True, help="print summary.json on stdout (for scripts)")
@_errors_to_exit_codes
def demo(employees: int, units: int, out_dir: Path, backend: str | None, quiet: bool, as_json: bool) -> None:
    """Generate the built-in demo group, solve the baseline scenario, write and verify the plan."""
    data_dir = out_dir / "data"
    write_generated(data_dir, employees, units, DEMO_SEED)
    overrides = (f"solver.backend={backend}",) if backend else ()
    scenario = _resolve_scenario("baseline", overrides)
    with _stdout_to_stderr(as_json):
        plan = run_plan(scenario, data_dir, out_dir / "plan", progress=_progress(quiet or as_json),
                        report_writers=report_writers(), diagnose=True)
    _report(plan, quiet, as_json)


@main.command()
@click.argument("scenario_file")
@click.option("--data", "data_dir", type=click.Path(path_type=Path), help="input tables (default: the scenario's data)")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), help="plan folder (default: runs/<scenario name>)")
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE", help="override a scenario value")
@click.option("--save-lp", type=click.Path(path_type=Path), help="write the model (.lp or .mps) without solving")
@click.option("--no-diagnosis", is_flag=True, help="skip the diagnosis of a missed target (it re-solves many times)")
@reference_option
@click.option("--quiet", is_flag=True, help="no progress and no summary, only where the plan is")
@click.option("--json", "as_json", is_flag=True, help="print summary.json on stdout (for scripts)")
@_errors_to_exit_codes
def solve(scenario_file: str, data_dir: Path | None, out_dir: Path | None, overrides: tuple[str, ...],
          save_lp: Path | None, no_diagnosis: bool, reference_dir: Path | None, quiet: bool, as_json: bool) -> None:
    """Solve SCENARIO_FILE (a path, or the name of a shipped scenario such as 'baseline').

    With --reference PLAN_DIR (an earlier plan on the same data), a what-if that only tightens that plan's
    model, and that the plan still keeps, takes that plan without solving: same proof, same gaps."""
    scenario = _resolve_scenario(scenario_file, overrides)
    data = data_dir or (Path(scenario.data) if scenario.data else None)
    out = out_dir or Path("runs") / scenario.name
    progress = _progress(quiet or as_json)
    if scenario.own_ladder:  # categories replace the input tables
        with _stdout_to_stderr(as_json):
            result = run_ladder_plan(scenario, out, save_lp=save_lp, progress=progress,
                                     report_writers=report_writers())
        if not (quiet or as_json) and result.plan_dir is not None and "objective" in result.summary:
            requirements = result.plan_dir / "requirements.csv"
            click.echo(ladder_summary(result.summary, pd.read_csv(requirements) if requirements.exists() else None))
        _report(result, quiet=True, as_json=as_json)
    if data is None:
        raise click.UsageError("no input data: pass --data DIR or set 'data:' in the scenario")
    reference = None if reference_dir is None else load_reference(reference_dir)
    with _stdout_to_stderr(as_json):
        result = run_plan(scenario, data, out, save_lp=save_lp, progress=progress, report_writers=report_writers(),
                          diagnose=not no_diagnosis, reference=reference)
    _report(result, quiet, as_json)


@main.command()
@click.argument("data_dir", type=click.Path(path_type=Path))
@click.option("--scenario", "scenario_file", default="baseline", show_default=True)
@_errors_to_exit_codes
def validate(data_dir: Path, scenario_file: str) -> None:
    """Check the input tables; list every problem (exit 2) or print a one-screen overview."""
    scenario = _resolve_scenario(scenario_file, ())
    tables = load_inputs(data_dir)
    click.echo(data_overview(tables, grade_units(tables.units, scenario.unit_grading), scenario))


@main.command("grade-units")
@click.argument("data_dir", type=click.Path(path_type=Path))
@click.option("--scenario", "scenario_file", default="baseline", show_default=True)
@click.option("--out", "out_file", type=click.Path(path_type=Path), help="also write units.csv here")
@_errors_to_exit_codes
def grade_units_command(data_dir: Path, scenario_file: str, out_file: Path | None) -> None:
    """Unit scores, grades, pay coefficients and tier caps."""
    scenario = _resolve_scenario(scenario_file, ())
    graded = grade_units(load_inputs(data_dir).units, scenario.unit_grading)
    click.echo(graded.to_string(index=False))
    if out_file is not None:
        write_csv(graded[["unit_id", "score", "grade", "pay_coefficient", "max_tier"]], out_file)
        click.echo(f"written to {out_file}")


@main.command()
@click.option("--employees", required=True, type=click.IntRange(1))
@click.option("--units", required=True, type=click.IntRange(1))
@click.option("--seed", default=0, show_default=True)
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv", show_default=True)
def generate(employees: int, units: int, seed: int, out_dir: Path, fmt: str) -> None:
    """Write a synthetic Baogang-like group (byte-identical for the same seed)."""
    if units > employees:
        raise click.BadParameter("cannot have more units than employees", param_hint="--units")
    paths = write_generated(out_dir, employees, units, seed, fmt=fmt)
    click.echo("written: " + ", ".join(str(p) for p in paths.values()))


@main.command()
@click.argument("plan_dir", type=click.Path(path_type=Path, exists=True))
@click.argument("data_dir", required=False, type=click.Path(path_type=Path, exists=True))
def verify(plan_dir: Path, data_dir: Path | None) -> None:
    """Re-check a plan from its output files alone (exit 1 when it fails). A plan solved from input tables
    also needs them (DATA_DIR); a plan of a scenario with its own ladder needs nothing else."""
    if is_ladder_plan(plan_dir):
        if data_dir is not None:
            click.echo(f"{plan_dir} is an own-ladder plan: DATA_DIR is not read", err=True)
        sys.exit(verify_ladder_command(plan_dir))
    if data_dir is None:
        raise click.UsageError(f"{plan_dir} is not an own-ladder plan: pass the input tables as DATA_DIR")
    sys.exit(verify_command(plan_dir, data_dir))


import optimizer.whatif_cli  # noqa: E402,F401  (registers the what-if commands sweep, frontier and compare on main)
