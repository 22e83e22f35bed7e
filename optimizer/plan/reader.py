"""The one reader of plan folders, built on :mod:`optimizer.plan.contract`: the verifiers, the reports,
``compare``, ``sweep`` and the CLI read plan files through it.

A plan CSV is read as text (only empty cells are missing, so an id such as ``NA`` or ``007`` stays as
written), the formula mark of its text columns is removed (:func:`optimizer.plan.safe_text.restore_text`:
``'=E1`` reads ``=E1``), and its declared columns are typed: text as strings, whole numbers as ``Int64``,
other numbers as floats, missing where the cell is empty. Columns beyond the contract are dropped.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from optimizer.plan.contract import INT, TEXT, schema
from optimizer.plan.safe_text import RESTORE_PATTERN, RESTORE_REPLACEMENT, restore_text

__all__ = ["SUMMARY_FILE", "PlanFileError", "PlanFiles", "read_plan", "read_plan_arrow", "read_plan_table", "read_summary",
           "read_text_csv", "typed_frame"]

SUMMARY_FILE = "summary.json"


class PlanFileError(ValueError):
    """A plan file that does not hold its declared columns and types; ``problems`` lists every reason. Said with
    its ``folder``, when known: a plan folder written by an earlier version of wfplan (a column the contract
    gained since) or edited by hand, which the command that reads it refuses (exit 2)."""

    def __init__(self, problems: list[str], folder: Path | None = None):
        said = "; ".join(problems)
        super().__init__(said if folder is None else
                         f"plan folder {folder}: {said} (written by another version of wfplan, or edited: solve "
                         "again to get a folder this version reads)")
        self.problems = problems


def read_text_csv(path: Path) -> pd.DataFrame:
    """Every column of a CSV file as text; only empty cells are missing (an id such as ``NA`` stays text)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8", engine="pyarrow")


def typed_frame(
    frame: pd.DataFrame, columns: dict[str, str], where: str, problems: list[str],
    optional: dict[str, str] | None = None,
) -> pd.DataFrame:
    """The text frame's ``columns`` (``name → type`` of :mod:`optimizer.plan.contract`) and the ``optional``
    ones present, as text, Int64 or float; a missing column or a cell that is not of its type is appended to
    ``problems`` (named after ``where``), and the frame is then returned as it came."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        problems.append(f"{where}: missing column(s) {', '.join(missing)}")
        return frame
    wanted = {**columns, **{c: k for c, k in (optional or {}).items() if c in frame.columns}}
    out = pd.DataFrame(index=frame.index)
    for column, kind in wanted.items():
        raw = frame[column]
        if kind == TEXT:
            out[column] = raw.astype("str")
            continue
        values = _numbers(raw)
        bad = raw.notna() & values.isna()
        if kind == INT:
            bad |= values.notna() & (values != values.round())
        if bad.any():
            expected = "whole numbers" if kind == INT else "numbers"
            example = raw[bad].iloc[0]
            problems.append(f"{where}.{column}: {int(bad.sum())} value(s) are not {expected}, e.g. {example!r}")
        out[column] = values.round().astype("Int64") if kind == INT else values
    return out


def _numbers(raw: pd.Series) -> pd.Series:
    """Text as numbers, NaN where a cell is not one (Arrow parses a clean column; pandas a column with bad cells)."""
    try:
        return pd.Series(pc.cast(pa.array(raw, from_pandas=True), pa.float64()).to_numpy(zero_copy_only=False),
                         index=raw.index)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pd.to_numeric(raw, errors="coerce").astype(float)


def _restored(frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """The frame with the formula mark removed from its text columns (only those holding a ``'`` are scanned)."""
    text = [column for column, kind in columns.items() if kind == TEXT and column in frame.columns]
    marked = [c for c in text if pc.any(pc.starts_with(pa.array(frame[c], from_pandas=True), "'")).as_py()]
    return frame.assign(**{c: restore_text(frame[c]) for c in marked})


def read_plan_table(plan_dir: Path, name: str, problems: list[str] | None = None) -> pd.DataFrame:
    """``plan_dir/<name>.csv`` as its writer was given it: typed by the contract, text restored. Problems (a
    missing column, a cell not of its type) are appended to ``problems``, named after the file; without a
    list they raise :class:`PlanFileError`. A missing file raises :class:`FileNotFoundError`."""
    columns = schema(name)
    found = [] if problems is None else problems
    text = read_text_csv(Path(plan_dir) / f"{name}.csv")
    frame = typed_frame(_restored(text, columns), columns, f"{name}.csv", found)
    if problems is None and found:
        raise PlanFileError(found, Path(plan_dir))
    return frame


def read_plan_arrow(plan_dir: Path, name: str) -> pa.Table:
    """``plan_dir/<name>.csv`` as an Arrow table of its contract columns (fast for a million rows): text as
    strings (formula mark removed, empty cells null), numbers as float64."""
    columns = schema(name)
    options = pcsv.ConvertOptions(
        column_types={column: pa.string() if kind == TEXT else pa.float64() for column, kind in columns.items()},
        include_columns=list(columns),
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
        null_values=[""],  # only an empty cell is missing: an id such as NA or null stays text
    )
    table = pcsv.read_csv(Path(plan_dir) / f"{name}.csv", convert_options=options)
    for column, kind in columns.items():
        if kind == TEXT and pc.any(pc.starts_with(table[column], "'")).as_py():  # a marked value starts so
            restored = pc.replace_substring_regex(table[column], RESTORE_PATTERN, RESTORE_REPLACEMENT)
            table = table.set_column(table.schema.get_field_index(column), column, restored)
    return table


def read_summary(plan_dir: Path) -> dict[str, Any]:
    """``plan_dir/summary.json`` (:data:`optimizer.plan.contract.SUMMARY_KEYS`)."""
    return json.loads((Path(plan_dir) / SUMMARY_FILE).read_text(encoding="utf-8"))


class PlanFiles:
    """A plan folder read through the contract: ``summary`` at once, each table when first used (an own-ladder
    folder lacks some), typed by :func:`read_plan_table`."""

    def __init__(self, folder: Path, summary: dict[str, Any]):
        self.folder = folder
        self.summary = summary

    def table(self, name: str) -> pd.DataFrame:
        """``name``.csv typed (:func:`read_plan_table`)."""
        return read_plan_table(self.folder, name)

    def arrow(self, name: str) -> pa.Table:
        """``name``.csv as Arrow (:func:`read_plan_arrow`), for the long tables."""
        return read_plan_arrow(self.folder, name)

    @cached_property
    def headcount(self) -> pd.DataFrame:
        return self.table("headcount")

    @cached_property
    def flows(self) -> pd.DataFrame:
        return self.table("flows")

    @cached_property
    def budget(self) -> pd.DataFrame:
        return self.table("budget")

    @cached_property
    def mix(self) -> pd.DataFrame:
        return self.table("mix")

    @cached_property
    def units(self) -> pd.DataFrame:
        return self.table("units")

    @cached_property
    def requirements(self) -> pd.DataFrame:
        return self.table("requirements")

    @cached_property
    def actions(self) -> pd.DataFrame:
        return self.table("actions")

    @cached_property
    def simulation(self) -> pd.DataFrame | None:
        """simulation.csv, None before ``wfplan simulate`` wrote it."""
        return self.table("simulation") if (self.folder / "simulation.csv").is_file() else None

    @cached_property
    def simulation_summary(self) -> dict[str, Any] | None:
        """simulation.json, None before ``wfplan simulate`` wrote it."""
        path = self.folder / "simulation.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None

    @cached_property
    def merit(self) -> pd.DataFrame:
        return self.table("merit")

    @property
    def horizon(self) -> int:
        """The last plan year H (the resolved scenario's ``horizon``)."""
        return int(self.summary["scenario"]["horizon"])

    @property
    def deadline(self) -> int:
        """The first year the mix band applies (``mix.deadline``)."""
        return int(self.summary["scenario"]["mix"]["deadline"])


def read_plan(plan_dir: Path) -> PlanFiles:
    """The plan folder ``plan_dir``: its summary.json now, its tables when used."""
    return PlanFiles(Path(plan_dir), read_summary(plan_dir))
