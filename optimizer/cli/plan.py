"""The planning commands of ``wfplan``: demo, solve, validate, grade-units, generate, verify."""

from __future__ import annotations

import json
import sys
from contextlib import nullcontext
from pathlib import Path

import click

from models.grading import PATH_COLUMNS, grade_path, grade_units
from models.synthetic import write_generated
from models.scenario import ScenarioError
from models.validation import load_inputs, scenario_problems
from optimizer.cli.common import (
    EXIT_CHECK_FAILED,
    db_option,
    main,
    progress_printer,
    reference_option,
    report_run,
    resolve_scenario,
    scheduler_option,
    stdout_to_stderr,
    typed_command,
)
from optimizer.cli.console import data_overview, grade_path_overview, ladder_summary
from optimizer.cli.runs import record_check
from optimizer.pipeline import run_ladder_plan, run_plan
from optimizer.plan.folders import OutputFolderError, owned_folder, staged_folder
from optimizer.plan.output import report_writers, write_csv
from optimizer.plan.reader import read_plan_table
from optimizer.registry.recording import PlanRecorder, run_target
from optimizer.registry.store import RunStore
from optimizer.solvers.highs_run import relax_beside
from optimizer.solvers.reuse import load_reference
from optimizer.verify.graded import verify_command
from optimizer.verify.ladder import is_ladder_plan, verify_ladder_command

DEMO_SEED = 2026


def model_file(path: Path | None) -> Path | None:
    """``--save-lp``: a new ``.lp`` or ``.mps`` file in an existing folder (checked before anything runs)."""
    if path is None:
        return None
    if path.suffix.lower() not in (".lp", ".mps"):
        raise click.BadParameter(f"{path}: the model is written as .lp or .mps", param_hint="--save-lp")
    if path.exists():
        raise click.BadParameter(f"{path}: the file exists; choose a new file name", param_hint="--save-lp")
    if not path.absolute().parent.is_dir():
        raise click.BadParameter(f"{path}: no folder {path.absolute().parent}", param_hint="--save-lp")
    return path


@main.command()
@click.option("--employees", default=20000, show_default=True, help="roster size of the demo group")
@click.option("--units", default=20, show_default=True)
@click.option("--out", "out_dir", default="runs/demo", show_default=True, type=click.Path(path_type=Path))
@click.option("--backend", type=click.Choice(["highs", "cbc", "scip", "cpsat"]), default=None)
@db_option
@click.option("--quiet", is_flag=True, help="no progress and no summary, only where the plan is")
@click.option("--json", "as_json", is_flag=True, help="print summary.json on stdout (for scripts)")
def demo(employees: int, units: int, out_dir: Path, backend: str | None, db: str | None, quiet: bool,
         as_json: bool) -> None:
    """Generate the built-in demo group, solve the baseline scenario, write and verify the plan
    (OUT/data, and the plan as a run: OUT/plan/<run id>/, OUT/plan/latest)."""
    relax_beside()  # one plan on the machine: a large stage's relaxation may take the spare core
    store = RunStore.open(db)
    overrides = (f"solver.backend={backend}",) if backend else ()
    scenario = resolve_scenario("baseline", overrides)
    target = run_target(store, "plan", None, root=out_dir)
    owned_folder(out_dir, "demo")
    data_dir = out_dir / "data"
    with staged_folder(data_dir, "data") as folder:
        write_generated(folder, employees, units, DEMO_SEED)
    with stdout_to_stderr(as_json), target.writing() as plan_dir:
        plan = run_plan(scenario, data_dir, plan_dir, progress=progress_printer(quiet or as_json),
                        report_writers=report_writers(), diagnose=True,
                        record=PlanRecorder(store, target, typed_command(), kind="demo"))
    report_run(plan, quiet, as_json)


@main.command()
@click.argument("scenario_file")
@click.option("--data", "data_dir", type=click.Path(path_type=Path), help="input tables (default: the scenario's data)")
@click.option("--out", "out_dir", type=click.Path(path_type=Path),
              help="plan folder (default: a new runs/<scenario name>/<run id>/, with runs/<scenario name>/latest)")
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE", help="override a scenario value")
@click.option("--save-lp", type=click.Path(path_type=Path), callback=lambda ctx, param, value: model_file(value),
              help="write the model (.lp or .mps, a new file) without solving")
@click.option("--no-diagnosis", is_flag=True, help="skip the diagnosis of a missed target (it re-solves many times)")
@reference_option
@scheduler_option
@db_option
@click.option("--quiet", is_flag=True, help="no progress and no summary, only where the plan is")
@click.option("--json", "as_json", is_flag=True, help="print summary.json on stdout (for scripts)")
def solve(scenario_file: str, data_dir: Path | None, out_dir: Path | None, overrides: tuple[str, ...],
          save_lp: Path | None, no_diagnosis: bool, reference_dir: Path | None, scheduler: str | None,
          db: str | None, quiet: bool, as_json: bool) -> None:
    """Solve SCENARIO_FILE (a path, or the name of a shipped scenario such as 'baseline'); the plan is
    recorded as a run in the run store (wfplan runs list).

    With --reference PLAN_DIR (an earlier plan on the same data), a what-if that only tightens that plan's
    model, and that the plan still keeps, takes that plan without solving: same proof, same gaps."""
    relax_beside()  # one plan on the machine: a large stage's relaxation may take the spare core
    store = None if save_lp is not None else RunStore.open(db)
    scenario = resolve_scenario(scenario_file, overrides)
    data = data_dir or (Path(scenario.data) if scenario.data else None)
    if store is None:  # --save-lp: the model file only, no run
        record, writing = None, nullcontext(out_dir)
    else:
        target = run_target(store, scenario.name, out_dir)
        record = PlanRecorder(store, target, typed_command())
        writing = target.writing()
    progress = progress_printer(quiet or as_json)
    if scenario.kind == "ladder":  # categories replace the input tables
        with stdout_to_stderr(as_json), writing as out:
            result = run_ladder_plan(scenario, out, save_lp=save_lp, progress=progress,
                                     report_writers=report_writers(), record=record)
        if not (quiet or as_json) and result.plan_dir is not None and "objective" in result.summary:
            written = (result.plan_dir / "requirements.csv").exists()
            requirements = read_plan_table(result.plan_dir, "requirements") if written else None
            click.echo(ladder_summary(result.summary, requirements))
        report_run(result, quiet=True, as_json=as_json)
    if data is None:
        raise click.UsageError("no input data: pass --data DIR or set 'data:' in the scenario")
    reference = None if reference_dir is None else load_reference(reference_dir)
    with stdout_to_stderr(as_json), writing as out:
        result = run_plan(scenario, data, out, save_lp=save_lp, progress=progress, report_writers=report_writers(),
                          diagnose=not no_diagnosis, reference=reference, scheduler=scheduler, record=record)
    report_run(result, quiet, as_json)


@main.command()
@click.argument("data_dir", type=click.Path(path_type=Path))
@click.option("--scenario", "scenario_file", default="baseline", show_default=True)
def validate(data_dir: Path, scenario_file: str) -> None:
    """Check the input tables, and the scenario against them; list every problem (exit 2) or print a
    one-screen overview."""
    scenario = resolve_scenario(scenario_file, ())
    tables = load_inputs(data_dir)
    misfits = scenario_problems(scenario, tables) if scenario.kind == "graded" else []
    if misfits:
        raise ScenarioError(f"scenario {scenario.name} on {data_dir}", misfits)
    click.echo(data_overview(tables, grade_units(tables.units, scenario.unit_grading), scenario))


@main.command("grade-units")
@click.argument("data_dir", type=click.Path(path_type=Path))
@click.option("--scenario", "scenario_file", default="baseline", show_default=True)
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE",
              help="override a scenario value, e.g. unit_grading.reviews[unit=U07,year=3].grade=A")
@click.option("--out", "out_file", type=click.Path(path_type=Path),
              help="also write the grade path here, as a plan's units.csv (one row per unit and year)")
def grade_units_command(data_dir: Path, scenario_file: str, overrides: tuple[str, ...], out_file: Path | None) -> None:
    """Unit scores, grades, pay coefficients and tier caps today, then each unit's grade path over the
    scenario's horizon (reviews every unit_grading.review_cycle years after the unit's last_review)."""
    scenario = resolve_scenario(scenario_file, overrides)
    units = load_inputs(data_dir).units
    path = grade_path(units, scenario.unit_grading, scenario.horizon)
    click.echo(grade_units(units, scenario.unit_grading).to_string(index=False))
    click.echo(f"\ngrade path, years 0..{scenario.horizon} (* a review; reviews every "
               f"{scenario.unit_grading.review_cycle} years):")
    click.echo(grade_path_overview(path).to_string(index=False))
    if out_file is not None:
        if out_file.exists():
            raise OutputFolderError(f"{out_file}: refused: the file exists; choose a new file name")
        write_csv(path[PATH_COLUMNS], out_file)
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
    with staged_folder(out_dir, "data") as folder:
        paths = write_generated(folder, employees, units, seed, fmt=fmt)
    click.echo("written: " + ", ".join(str(out_dir / p.name) for p in paths.values()))


@main.command()
@click.argument("plan_dir", type=click.Path(path_type=Path, exists=True))
@click.argument("data_dir", required=False, type=click.Path(path_type=Path, exists=True))
@db_option
def verify(plan_dir: Path, data_dir: Path | None, db: str | None) -> None:
    """Re-check a plan from its output files alone (exit 5 when it fails a check). A plan solved from input tables
    also needs them (DATA_DIR, default the folder its summary.json names); a plan of a scenario with its own
    ladder needs nothing else. A plan recorded in the run store is also checked file by file against the
    sha256 it was recorded with."""
    if is_ladder_plan(plan_dir):
        if data_dir is not None:
            click.echo(f"{plan_dir} is an own-ladder plan: DATA_DIR is not read", err=True)
        checked = verify_ladder_command(plan_dir)
    else:
        checked = verify_command(plan_dir, data_dir or _solved_from(plan_dir))
    sys.stdout.flush()
    sys.exit(EXIT_CHECK_FAILED if max(checked, record_check(plan_dir, db)) else 0)



def _solved_from(plan_dir: Path) -> Path:
    """The input tables folder ``plan_dir``'s summary.json records (``inputs.path``), announced on stderr; a
    UsageError (exit 2) when it records none or the folder is gone. The verifier checks the tables' sha256."""
    try:
        recorded = Path(json.loads((plan_dir / "summary.json").read_text(encoding="utf-8"))["inputs"]["path"])
    except (OSError, ValueError, KeyError, TypeError):
        raise click.UsageError(f"{plan_dir} records no input tables in its summary.json: pass the input tables as "
                               "DATA_DIR") from None
    if not recorded.is_dir():
        raise click.UsageError(f"{plan_dir} was solved from {recorded}, which is not there any more: pass the input "
                               "tables as DATA_DIR")
    click.echo(f"… the input tables {plan_dir} was solved from: {recorded}", err=True)
    return recorded
