"""What every ``wfplan`` command shares: the command group, bad input → exit 2, scenario resolution, progress
and the report of a run. Exit codes: 0 ok, 1 internal error, 2 bad input, 3 target missed, 4 no plan, 5 a plan
fails a check of ``wfplan verify``, 130 / 143 stopped by Ctrl-C / SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import click

from models.scenario import Scenario, ScenarioError
from models.scenario_files import load_scenario, scenario_source
from models.validation import InputError
from optimizer.cli.console import plan_summary
from optimizer.distributed.base import SCHEDULER_ENV, ClusterError, scheduler_problem
from optimizer.plan.reader import PlanFileError, read_plan_table
from optimizer.pipeline import EXIT_BAD_INPUT, EXIT_NO_PLAN, RunResult
from optimizer.plan.folders import USER_ERRNOS, OutputFolderError
from optimizer.simulate.confidence import confidence_sentences
from optimizer.simulate.folder import SimulationInputError
from optimizer.solvers.stops import Terminated, stopping_on_signals
from optimizer.registry.database import ENV_VAR, StoreError
from optimizer.registry.recording import command_line
from optimizer.whatif.sentences import diagnosis_sentences

EXIT_BUG = 1
EXIT_CHECK_FAILED = 5
"""``wfplan verify``: the plan fails a check (or a recorded file changed), told apart from a bug in verify (1)."""
EXIT_INTERRUPTED = 128 + signal.SIGINT
"""Stopped by Ctrl-C (the shell's convention, 128 + the signal)."""
EXIT_TERMINATED = 128 + signal.SIGTERM
"""Stopped by SIGTERM (a job scheduler's or a supervisor's stop, ``kill``)."""
ARGV_KEY = "wfplan.argv"
"""``click.Context.meta`` key of the arguments the command was given (for the run's record)."""


class WfplanGroup(click.Group):
    """The ``wfplan`` command group. A failure that is the user's (bad tables or scenario, an output folder the
    tool may not write, a plan folder it cannot read, a full disk, no permission, a Dask scheduler that cannot be
    reached) prints its message on stderr and exits 2, never a traceback;
    any other exception is a bug: one line on stderr naming a log file that holds the traceback, exit 1. A
    command stopped by Ctrl-C or SIGTERM (:mod:`optimizer.solvers.stops`) says so and exits 130 or 143: the
    folder it was writing is put in place complete or not at all (:func:`optimizer.plan.folders.staged_folder`),
    its worker processes and HiGHS children stopped."""

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        typed = list(args)
        ctx = super().make_context(info_name, args, parent, **extra)
        ctx.meta[ARGV_KEY] = typed
        return ctx

    def invoke(self, ctx: click.Context) -> Any:
        try:
            with stopping_on_signals():
                return super().invoke(ctx)
        except KeyboardInterrupt as exc:
            stopped_by = "SIGTERM" if isinstance(exc, Terminated) else "Ctrl-C"
            click.echo(f"stopped by {stopped_by} before the command finished; an output folder it was writing was "
                       "either put in place complete or not at all", err=True)
            ctx.exit(EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except (InputError, ScenarioError, OutputFolderError, SimulationInputError, ClusterError, StoreError,
                PlanFileError) as exc:
            click.echo(str(exc), err=True)
        except OSError as exc:
            if exc.errno not in USER_ERRNOS:
                report_bug(exc)
            click.echo(f"{exc.filename}: {exc.strerror}" if exc.filename else str(exc), err=True)
        except Exception as exc:  # noqa: BLE001 — a bug: its traceback goes to a log file
            report_bug(exc)
        ctx.exit(EXIT_BAD_INPUT)


def report_bug(exc: BaseException) -> NoReturn:
    """Write the traceback of ``exc`` to a new log file in the temporary folder, say where on stderr, exit 1."""
    folder = Path(tempfile.gettempdir()) / "wfplan"
    folder.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f"error-{time.strftime('%Y%m%d-%H%M%S')}-", suffix=".log", dir=folder)
    log = Path(name)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(f"wfplan {' '.join(sys.argv[1:])}\n\n" + traceback.format_exc())
    click.echo(f"internal error (a bug in wfplan): {type(exc).__name__}: {exc}\n"
               f"the traceback is in {log}; please send it with the command you ran", err=True)
    sys.exit(EXIT_BUG)


@contextmanager
def stdout_to_stderr(active: bool) -> Iterator[None]:
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
         "keeps, takes that plan without solving; any other keeps its year-1 actions wherever the targets, caps "
         "and costs allow (docs/whatif.md)")


def _scheduler(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    problem = None if not value else scheduler_problem(value)
    if problem:
        raise click.BadParameter(problem, ctx, param)
    return value or None


scheduler_option = click.option(
    "--scheduler", envvar=SCHEDULER_ENV, callback=_scheduler, metavar="tcp://HOST:PORT|local",
    help=f"run the points on this Dask scheduler's workers (default ${SCHEDULER_ENV}; unset: --workers local "
         "processes; 'local': a Dask LocalCluster of --workers processes); docs/whatif.md")


db_option = click.option(
    "--db", "db", metavar="URL", help=f"the run store: sqlite:///PATH or postgresql://USER@HOST:PORT/DB (default: "
                                     f"${ENV_VAR}, else wfplan.db in the working folder)")


def typed_command() -> str:
    """The command as typed (``wfplan solve baseline --set ...``), for a run's record."""
    return command_line(click.get_current_context().meta.get(ARGV_KEY))


def progress_printer(quiet: bool) -> Callable[[str], None]:
    return (lambda message: None) if quiet else (lambda message: click.echo(f"… {message}", err=True))


def resolve_scenario(name_or_path: str, overrides: tuple[str, ...]) -> Scenario:
    scenario = load_scenario(scenario_source(name_or_path), list(overrides))
    for line in scenario.applied_overrides:
        click.echo(f"override {line}", err=True)
    return scenario


def _echo_diagnosis(summary: dict[str, Any]) -> None:
    """The diagnosis of a missed target or of an infeasible model in plain words, when the run has one."""
    if "diagnosis" in summary:
        click.echo("diagnosis:\n" + "\n".join(f"  {line}" for line in diagnosis_sentences(summary["diagnosis"])))


def _echo_confidence(summary: dict[str, Any]) -> None:
    """What a confidence level achieved and cost, when the scenario asked for one."""
    if "confidence" in summary:
        click.echo("confidence:\n" + "\n".join(f"  {line}" for line in confidence_sentences(summary["confidence"])))


def report_run(result: RunResult, quiet: bool, as_json: bool = False) -> None:
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
        click.echo(f"summary written to {result.plan_dir / 'summary.json'}{_run_note(result.summary)}")
        sys.exit(result.exit_code)
    if not quiet:
        mix, budget = (read_plan_table(result.plan_dir, name) for name in ("mix", "budget"))
        click.echo(plan_summary(result.summary, mix, budget))
        _echo_diagnosis(result.summary)
        _echo_confidence(result.summary)
    click.echo(f"plan written to {result.plan_dir}{_run_note(result.summary)}")
    sys.exit(result.exit_code)


def _run_note(summary: dict[str, Any]) -> str:
    return f" (run {summary['run']['id']}, draft)" if "run" in summary else ""


@click.group(cls=WfplanGroup)
@click.version_option(package_name="wfplan")
def main() -> None:
    """Workforce-structure optimisation: from roster and scenario to a verified restructuring plan."""


