"""Sweeps: the cross product of parameter grids over one scenario, each point a full plan.

Every point is the plan of the scenario with the point's values applied as ``--set`` overrides
(:func:`run_point`, a pure function of the sweep's :class:`SweepInputs` and the point), run in local worker
processes or on a Dask cluster (:mod:`optimizer.distributed`); each worker keeps the validated input tables in
memory between points (:mod:`optimizer.whatif.inputs_cache`). A point that fails (a value the scenario rejects,
a solver error, a crash, a lost worker after its one retry) becomes a row with its error; it never stops the
sweep. Results: ``OUT/runs/<point>-<slug>/`` (each plan folder, written by the worker when it shares the
client's disk, else sent back and written by the client) and one tidy table ``OUT/sweep.csv`` /
``OUT/sweep.parquet``, one row per point in grid order (the last grid varies fastest); its columns are listed in
docs/whatif.md. ``OUT/sweep.html`` shows the points as a chart (cost, mix miss, budget use and technical share
against the first grid) and a table, offline.
"""

from __future__ import annotations

import itertools
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import yaml
from plotly.subplots import make_subplots

from models.io import InputError
from models.scenario import Scenario, ScenarioError
from models.scenario_files import build_scenario, split_assignment
from models.validation import load_inputs
from optimizer.distributed.base import Job, Where
from optimizer.distributed.executor import executor
from optimizer.distributed.shipping import FolderCopy, pack_folder, scratch_folder, unpack_folder
from optimizer.whatif.inputs_cache import cached_inputs
from optimizer.plan.output import write_csv
from optimizer.plan.reader import read_plan_table
from optimizer.pipeline import (
    DISRUPTIVE,
    EXIT_BAD_INPUT,
    EXIT_NO_PLAN,
    PLAN_BYTES_PER_INPUT_BYTE,
    compute_plan,
    input_bytes,
    run_plan,
    write_plan,
)
from optimizer.plan.folders import claim_folder, staged_folder
from optimizer.solvers.reuse import Reference, load_reference

ACTIONS = ("stay", "grade_step", *DISRUPTIVE, "hire")
OBJECTIVE_TERMS = ("mix", "budget_overrun", "cost", "disruption")
EXIT_CRASH = 1
FAILED_EXITS = (EXIT_CRASH, EXIT_BAD_INPUT, EXIT_NO_PLAN)
"""Exit codes of a point without a plan (3, a target missed, is a result, not a failure)."""


@dataclass(frozen=True)
class Grid:
    """One ``--grid``: a scenario key and the values to try, as ``--set`` texts."""

    key: str
    values: tuple[str, ...]


def _decimal(text: str, grid: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise ValueError(f"--grid {grid}: '{text}' is not a finite number")
    return value


def _range_values(start: str, stop: str, step: str, grid: str) -> tuple[str, ...]:
    """``a:b:step`` → a, a+step, … up to b inclusive, computed in decimal (0.01:0.05:0.01 gives 5 values)."""
    a, b, s = (_decimal(t, grid) for t in (start, stop, step))
    if s <= 0 or b < a:
        raise ValueError(f"--grid {grid}: a range needs start ≤ stop and a step > 0")
    count = int((b - a) / s) + 1
    return tuple(format(a + i * s, "f") for i in range(count))


def parse_grid(text: str) -> Grid:
    """``key=v1,v2,...`` (values as YAML scalars) or ``key=a:b:step`` (an inclusive numeric range); the key may
    select a record of a list (``unit_grading.reviews[unit=U07,year=3].grade=A,B,C``)."""
    key, body = split_assignment(text) or ("", "")
    if not key.strip() or not body.strip():
        raise ValueError(f"--grid {text}: expected key=v1,v2,... or key=a:b:step")
    parts = body.split(":")
    if len(parts) == 3:
        values = _range_values(*parts, grid=text)
    else:
        values = tuple(v.strip() for v in body.split(","))
        if "" in values:
            raise ValueError(f"--grid {text}: empty value in the list")
    return Grid(key.strip(), values)


@dataclass(frozen=True)
class Point:
    """One grid point: its 1-based position in grid order and its (key, value text) settings."""

    index: int
    settings: tuple[tuple[str, str], ...]

    @property
    def overrides(self) -> list[str]:
        return [f"{key}={value}" for key, value in self.settings]

    def folder_name(self, width: int) -> str:
        """``<index>-<key=value_key=value>``, zero-padded to ``width``, safe as a file name."""
        slug = re.sub(r"[^A-Za-z0-9._=-]+", "-", "_".join(self.overrides))[:120]
        return f"{self.index:0{width}d}-{slug}"


def parse_grids(texts: list[str]) -> list[Grid]:
    """Every ``--grid``; ValueError for a malformed one or a key gridded twice."""
    grids = [parse_grid(text) for text in texts]
    keys = [grid.key for grid in grids]
    if len(set(keys)) != len(keys):
        raise ValueError(f"a key is gridded twice: {', '.join(keys)}")
    return grids


def grid_points(grids: list[Grid]) -> list[Point]:
    """The cross product of ``grids`` in grid order (the last grid varies fastest)."""
    keys = [grid.key for grid in grids]
    combos = itertools.product(*(grid.values for grid in grids))
    return [Point(i, tuple(zip(keys, combo, strict=True))) for i, combo in enumerate(combos, start=1)]


@dataclass(frozen=True)
class SweepInputs:
    """What every point shares, sent to each worker once: the resolved base scenario (a plain dict), the input
    tables, an earlier plan every point may reuse (:mod:`optimizer.solvers.reuse`), and the sweep's staging
    folder when the workers share the client's disk (None: each point sends its plan folder back)."""

    base: dict[str, Any]
    source: str
    data: FolderCopy
    reference: Reference | None = None
    folder: Path | None = None


@dataclass(frozen=True)
class PointTask:
    """One point and its plan folder, relative to the sweep's output folder, as the table shows it."""

    point: Point
    run: str


@dataclass(frozen=True)
class PointResult:
    """A point's table row, and its plan folder's files when a remote worker wrote it (None otherwise)."""

    row: dict[str, Any]
    files: dict[str, bytes] | None = None


def _setting_value(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def _row_head(task: PointTask) -> dict[str, Any]:
    return {"point": task.point.index, **{key: _setting_value(value) for key, value in task.point.settings},
            "run": task.run}


def plan_columns(summary: dict[str, Any], plan_dir: Path) -> dict[str, Any]:
    """Status, each solver stage's status (a goal only merit's re-solve had: its status there), whether the plan was reused from a reference (with one), objective
    terms, mix shares by sequence and year, budget use (total / cap) by year and year-1 counts by action, from
    a plan folder and its summary."""
    row: dict[str, Any] = {"status": summary["status"], "exit_code": summary["exit_code"],
                           "targets_met": summary.get("targets_met")}
    row.update({f"stage.{stage['term']}": stage["status"] for stage in summary.get("solver", {}).get("stages", [])})
    for stage in summary.get("merit", {}).get("stages", []):  # a tie-break left to the solve with year 1 fixed
        row.setdefault(f"stage.{stage['term']}", stage["status"])
    if "reuse" in summary.get("solver", {}):
        row["reused"] = summary["solver"]["reuse"]["reused"]
    objective = summary.get("objective", {})
    row.update({f"objective.{term}": objective.get(term) for term in OBJECTIVE_TERMS})
    if (plan_dir / "mix.csv").exists():
        mix = read_plan_table(plan_dir, "mix")
        row.update({f"share.{r.sequence}.y{r.year}": r.share for r in mix.itertuples()})
        budget = read_plan_table(plan_dir, "budget")
        capped = budget[(budget["unit_id"] == "ALL") & budget["cap"].notna()]
        row.update({f"budget_use.y{r.year}": r.total / r.cap for r in capped.itertuples()})
    counts = summary.get("counts", {})
    row.update({f"count.{action}": counts.get(action, 0) if counts else None for action in ACTIONS})
    return row


def _failure_columns(status: str, exit_code: int, error: str) -> dict[str, Any]:
    return {"status": status, "exit_code": exit_code, "error": error}


def _solve_into(inputs: SweepInputs, task: PointTask, plan_dir: Path) -> dict[str, Any]:
    """Plan the point into ``plan_dir``; its result columns. The summary names the client's input path."""
    data_dir = inputs.data.path()
    scenario = build_scenario(inputs.base, inputs.source, task.point.overrides)
    claim_folder(plan_dir, "plan", PLAN_BYTES_PER_INPUT_BYTE * input_bytes(data_dir), protect=(data_dir,))
    computed = compute_plan(scenario, data_dir, tables=cached_inputs(data_dir), reference=inputs.reference)
    if "inputs" in computed.summary:
        computed = replace(computed, summary={**computed.summary,
                                              "inputs": {**computed.summary["inputs"], "path": inputs.data.label}})
    result = write_plan(computed, plan_dir)
    row = plan_columns(result.summary, plan_dir)
    if result.exit_code == EXIT_NO_PLAN:
        row["error"] = result.summary.get("solver", {}).get("message") or result.summary["status"]
    return row


def run_point(inputs: SweepInputs, task: PointTask) -> PointResult:
    """Solve one point and return its table row (and, from a worker that does not share the client's disk, its
    plan folder's files); never raises (a failure is a row with its error)."""
    began = time.perf_counter()
    row, files = _row_head(task), None
    scratch = None if inputs.folder is not None else Path(tempfile.mkdtemp(prefix="sweep-point-", dir=scratch_folder()))
    plan_dir = (inputs.folder if scratch is None else scratch) / task.run
    try:
        row.update(_solve_into(inputs, task, plan_dir))
        files = None if scratch is None else pack_folder(plan_dir)
    except (ScenarioError, InputError) as exc:
        row.update(_failure_columns("bad_input", EXIT_BAD_INPUT, str(exc)))
    except Exception as exc:  # a crash of one point is recorded, never raised: the sweep goes on
        row.update(_failure_columns("error", EXIT_CRASH, f"{type(exc).__name__}: {exc}"))
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    row["seconds"] = round(time.perf_counter() - began, 3)
    return PointResult(row, files)


def crashed_row(task: PointTask, message: str) -> PointResult:
    """The row of a point whose worker raised past :func:`run_point` or died, twice."""
    return PointResult({**_row_head(task), **_failure_columns("error", EXIT_CRASH, message)})


def _typed(column: pd.Series) -> pd.Series:
    """Numbers stay numbers; a grid column holding any non-number (a rejected value) becomes text."""
    try:
        return pd.to_numeric(column)
    except (TypeError, ValueError):
        return column.astype(str)


RESULT_COLUMNS = ("status", "exit_code", "targets_met", "stage.", "reused", "objective.", "share.", "budget_use.",
                  "count.", "seconds", "error")
"""Column groups after ``point``, the grid keys and ``run``, in table order (a trailing dot: a prefix)."""


def _column_key(column: str) -> tuple[int, int]:
    """(group, year) of a result column: groups in RESULT_COLUMNS order, years ascending inside a group."""
    group = next(i for i, name in enumerate(RESULT_COLUMNS) if column == name or
                 (name.endswith(".") and column.startswith(name)))
    year = re.search(r"\.y(\d+)$", column)
    return group, int(year.group(1)) if year else 0


def sweep_table(rows: list[dict[str, Any]], grids: list[Grid]) -> pd.DataFrame:
    """One row per point in grid order; columns ``point``, the grid keys, ``run``, then the result columns
    in RESULT_COLUMNS order (whatever order the points finished in)."""
    frame = pd.DataFrame(rows).sort_values("point", kind="stable").reset_index(drop=True)
    for grid in grids:
        frame[grid.key] = _typed(frame[grid.key])
    head = ["point", *(grid.key for grid in grids), "run"]
    if "error" not in frame.columns:
        frame["error"] = None
    results = sorted((c for c in frame.columns if c not in head), key=_column_key)
    return frame[head + results]


PANELS = {"objective.cost": ("cost over the horizon (CNY m)", 1e-6), "objective.mix": ("mix miss (heads)", 1.0),
          "budget_use": ("highest budget use (% of cap)", 100.0), "technical": ("technical share, last year (%)", 100.0)}
"""The sweep chart's panels: column (or derived column) → (title, factor)."""


def _panel_values(table: pd.DataFrame) -> pd.DataFrame:
    """The :data:`PANELS` columns of ``table``: budget_use = the highest ``budget_use.y*`` of a point, technical =
    its ``share.technical.y<last>`` (missing where a point has no plan)."""
    use = [c for c in table.columns if c.startswith("budget_use.")]
    technical = sorted((c for c in table.columns if c.startswith("share.technical.")), key=_column_key)
    return pd.DataFrame({
        "objective.cost": table.get("objective.cost"), "objective.mix": table.get("objective.mix"),
        "budget_use": table[use].max(axis=1) if use else None,
        "technical": table[technical[-1]] if technical else None,
    }, index=table.index).apply(pd.to_numeric, errors="coerce")


def sweep_figure(table: pd.DataFrame, grids: list[Grid]) -> go.Figure:
    """Four panels (:data:`PANELS`) against the first grid's values, one line per combination of the other grids'
    values; points without a plan are gaps."""
    x_key, others = grids[0].key, [grid.key for grid in grids[1:]]
    values = _panel_values(table)
    fig = make_subplots(rows=2, cols=2, subplot_titles=[title for title, _ in PANELS.values()],
                        horizontal_spacing=0.1, vertical_spacing=0.16)
    groups = table.groupby(others, sort=False, dropna=False) if others else [((), table)]
    colours = ["#2b83ba", "#d7191c", "#1a9641", "#7b3294", "#fdae61", "#636363"]
    for number, (labels, rows) in enumerate(groups):
        labels = labels if isinstance(labels, tuple) else (labels,)
        name = ", ".join(f"{key}={value}" for key, value in zip(others, labels)) or "points"
        for panel, (column, (_, factor)) in enumerate(PANELS.items()):
            fig.add_scatter(x=rows[x_key], y=values.loc[rows.index, column] * factor, mode="lines+markers", name=name,
                            legendgroup=name, showlegend=panel == 0, line={"color": colours[number % len(colours)]},
                            row=panel // 2 + 1, col=panel % 2 + 1)
    fig.update_xaxes(title_text=x_key)
    fig.update_layout(template="plotly_white", height=640, legend={"orientation": "h", "y": -0.12},
                      title=f"Sweep over {', '.join(grid.key for grid in grids)}")
    return fig


def sweep_page(table: pd.DataFrame, grids: list[Grid], scenario: str) -> str:
    """``sweep.html``: the chart (:func:`sweep_figure`, plotly.js inline, opens offline) and the table's main
    columns, every text escaped."""
    shown = [c for c in table.columns if not c.startswith(("share.", "stage.", "count."))]
    chart = sweep_figure(table, grids).to_html(full_html=False, include_plotlyjs=True, div_id="chart-sweep")
    rows = table[shown].to_html(index=False, escape=True, na_rep="—", float_format=lambda v: f"{v:,.4g}",
                                table_id="sweep-table")
    title = escape(f"Sweep of {scenario}: {len(table)} points")
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>' + title + "</title><style>"
            "body{font-family:system-ui,sans-serif;margin:1rem 2rem} table{border-collapse:collapse}"
            "td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:right}</style></head><body><h1>" + title
            + "</h1><p>Every point is a plan folder under runs/; sweep.csv holds every column.</p>" + chart + rows
            + "</body></html>\n")


SweepProgress = Callable[[int, int, int, dict[str, Any]], None]
"""Called with (done, total, failed so far, the finished point's row)."""
SweepRetry = Callable[[dict[str, Any], str], None]
"""Called with (the head of a point's row, why its first run failed) when it runs again."""


def run_sweep(
    scenario: Scenario,
    grids: list[Grid],
    data_dir: str | Path,
    out_dir: str | Path,
    where: Where,
    progress: SweepProgress = lambda done, total, failed, row: None,
    reference_dir: str | Path | None = None,
    on_retry: SweepRetry = lambda row, message: None,
    base_reference: bool = True,
    on_written: Callable[[Path, pd.DataFrame], None] = lambda folder, table: None,
) -> pd.DataFrame:
    """Run every grid point of ``scenario`` where ``where`` says (local processes or a Dask cluster); write the
    plan folders under ``out_dir/runs`` and ``out_dir/sweep.csv`` / ``sweep.parquet``; return the table.

    ``reference_dir``: an earlier plan on the same data that every point is planned against: a point whose
    model only tightens that plan's model, and which that plan still keeps, takes it without solving (column
    ``reused``); any other keeps the reference's year-1 actions wherever its targets, caps and costs allow
    (the ``stability`` stage), so points differ by the people the changed setting moves, not by ties.
    Without one and with ``base_reference``, the scenario itself (no grid value applied) is solved first into
    ``out_dir/base`` and is that reference; when it ends without a plan, the points are solved without one.
    ``on_written(folder, table)`` runs last in the staged sweep folder, before it replaces ``out_dir`` (the CLI
    records the points as runs there: when it raises, nothing is replaced or kept).
    Raises InputError (before anything runs) when the input tables are invalid or ``reference_dir`` holds no
    solved model, and :class:`~optimizer.distributed.executor.ClusterError` when the scheduler cannot be reached
    (before anything is written).
    """
    data_dir, out_dir = Path(data_dir).resolve(), Path(out_dir)
    load_inputs(data_dir)
    points = grid_points(grids)
    reference = None
    if reference_dir is not None:
        reference = load_reference(Path(reference_dir).resolve())
    width = len(str(len(points)))
    tasks = [PointTask(p, f"runs/{p.folder_name(width)}") for p in points]
    done = failed = 0

    def receive(folder: Path, task: PointTask, result: PointResult) -> dict[str, Any]:
        nonlocal done, failed
        if result.files is not None:
            unpack_folder(result.files, folder / task.run)
        done += 1
        failed += result.row["exit_code"] in FAILED_EXITS
        progress(done, len(tasks), failed, result.row)
        return result.row

    with executor(where) as pool:
        claim_folder(out_dir, "sweep", len(points) * PLAN_BYTES_PER_INPUT_BYTE * input_bytes(data_dir))
        with staged_folder(out_dir, "sweep") as folder:
            if reference is None and base_reference:
                reference = _base_plan(scenario, data_dir, folder / "base", out_dir / "base")
            inputs = SweepInputs(scenario.to_raw(), scenario.name, FolderCopy.of(data_dir, where.remote), reference,
                                 None if where.remote else folder)
            rows = pool.run(Job(run_point, inputs, tasks, on_failure=crashed_row,
                                receive=lambda task, result: receive(folder, task, result),
                                on_retry=lambda task, message: on_retry(_row_head(task), message)))
            table = sweep_table(rows, grids)
            write_csv(table, folder / "sweep.csv")
            table.to_parquet(folder / "sweep.parquet", index=False)
            (folder / "sweep.html").write_text(sweep_page(table, grids, scenario.name), encoding="utf-8")
            on_written(folder, table)
    return table


def _base_plan(scenario: Scenario, data_dir: Path, plan_dir: Path, final_dir: Path) -> Reference | None:
    """Solve the sweep's own scenario into ``plan_dir`` (here, in the calling process): the reference of every
    point, named by ``final_dir`` (where ``plan_dir`` is once the sweep folder is in place, so the points'
    summaries name a folder that exists), or None when it has no plan."""
    reference = run_plan(scenario, data_dir, plan_dir, tables=cached_inputs(data_dir)).reference
    return None if reference is None else replace(reference, label=str(final_dir))
