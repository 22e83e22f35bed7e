"""Validation of the input tables: every problem found at once, then canonical dtypes.

:func:`validate` checks text tables from :func:`models.io.load_tables` against the data dictionary in
:mod:`models.tables` and returns every :class:`Problem`; :func:`load_inputs` loads, validates and
converts, raising :class:`InputError` when anything is wrong. The checks are column operations, so a
roster of a million rows costs a few seconds; Python only loops over the (few) bad rows.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from models.grading import review_problems
from models.io import InputError, InputTables, Problem, load_tables, with_source
from models.scenario import Scenario
from models.tables import FALSE_WORDS, TABLES, TRUE_WORDS, Column, Table, expectation

__all__ = ["InputError", "InputTables", "Problem", "load_inputs", "validate"]

STATE = ("sequence", "tier", "grade")


@dataclass
class _Checked:
    """One table under validation: its raw text, the parsed columns and the problems found so far.

    ``values`` holds parsed values (NaN where blank or bad) and ``ok`` marks the cells that passed.
    """

    table: Table
    label: str
    raw: pd.DataFrame
    values: dict[str, pd.Series] = field(default_factory=dict)
    ok: dict[str, pd.Series] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def valid(self, *columns: str) -> pd.Series:
        """Rows whose given columns are all present and valid."""
        mask = pd.Series(True, index=self.raw.index)
        for column in columns:
            mask &= self.ok.get(column, pd.Series(False, index=self.raw.index))
        return mask

    def report(
        self, mask: pd.Series | np.ndarray, column: str, expected: str | pd.Series, value: pd.Series | None = None
    ) -> None:
        """Add one problem per row of ``mask``; ``value`` defaults to the column as written."""
        rows = self.raw.index[np.asarray(mask, dtype=bool)]
        if rows.empty:
            return
        shown = (self.raw[column] if value is None else value)[rows]
        wanted = expected[rows] if isinstance(expected, pd.Series) else [expected] * len(rows)
        keys = self.keys(rows)
        self.problems += [
            Problem(file=self.label, row=int(r), key=k or None, key_name=self.table.key_label if k else None,
                    column=column, value=str(v), expected=str(e))
            for r, k, v, e in zip(rows, keys, shown, wanted, strict=True)
        ]

    def report_once_per_value(
        self, mask: pd.Series, column: str, group: pd.Series, expected: str | pd.Series, verbs: tuple[str, str],
        value: pd.Series | None = None,
    ) -> None:
        """One problem per distinct ``group`` among the rows of ``mask``, at the first of its rows, saying how
        many rows share it (``…; 4 employees hold it``): a missing unit or pay state is one root cause, listed
        once rather than once per employee it affects. ``verbs``: the verb after one row and after several."""
        groups = group[np.asarray(mask, dtype=bool)]
        if groups.empty:
            return
        first = groups.drop_duplicates().index
        size = groups.groupby(groups).transform("size")[first]
        noun = self.table.row_noun
        many = size.astype(str) + f" {noun}s {verbs[1]} it"
        counted = pd.Series(np.where(size == 1, f"1 {noun} {verbs[0]} it", many), index=first)
        wanted = expected[first] if isinstance(expected, pd.Series) else pd.Series(expected, index=first)
        self.report(self.raw.index.isin(first), column, wanted + "; " + counted, value)

    def keys(self, rows: pd.Index) -> list[str]:
        """Key text of ``rows`` ('' where a key column is blank or absent)."""
        parts = [self.raw.loc[rows, c] if c in self.raw.columns else pd.Series("", index=rows) for c in self.table.key]
        return ["" if "" in p else "/".join(p) for p in zip(*parts, strict=True)]


# ---------------------------------------------------------------------------------------- cell checks


Parsed = tuple[pd.Series, pd.Series, str | pd.Series]
"""(values, NaN where blank or bad; bad cells; what was expected: one text, or one per bad cell)."""

OUT_OF_RANGE = " (out of range)"


def _parse_string(text: pd.Series, column: Column) -> Parsed:
    """Bad cells: blanks in a required column, values outside ``allowed``."""
    blank = text == ""
    bad = blank & column.required
    if column.allowed:
        bad |= ~blank & ~text.isin(column.allowed)
    return text.where(~blank), bad, expectation(column)


def _to_float(text: pd.Series) -> pd.Series:
    """float64 of each cell, NaN where blank or not a number. Arrow's cast parses a column of valid numbers
    about 20× faster than ``pd.to_numeric``; any cell it cannot parse sends the whole column to
    ``pd.to_numeric(errors="coerce")``, so the result is the same either way."""
    try:
        cells = pa.array(text, type=pa.string())
        cells = pc.if_else(pc.equal(cells, ""), pa.scalar(None, pa.string()), cells)
        return pd.Series(pc.cast(cells, pa.float64()).to_numpy(zero_copy_only=False), index=text.index, dtype="float64")
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return pd.to_numeric(text, errors="coerce").astype("float64")


def _parse_number(text: pd.Series, column: Column) -> Parsed:
    """float64 values. Bad cells: not a number, not whole (integers), or outside the column's range (then the
    expectation says so: ``1e20`` or ``1e-300`` is a number, but not a tier or a salary)."""
    number = _to_float(text)
    outside = number.notna() & ((number < column.minimum) | (number > column.maximum))
    bad = ~np.isfinite(number) | outside
    if column.type == "integer":
        bad |= number != np.round(number)
    bad &= column.required | (text != "")
    expected: str | pd.Series = expectation(column)
    if outside.any():
        expected = pd.Series(expected, index=text.index[bad]).mask(outside[bad], expected + OUT_OF_RANGE)
    return number.where(~bad), bad, expected


def _parse_boolean(text: pd.Series, column: Column) -> Parsed:
    """True/False values. Bad cells: words other than true/false, 1/0, yes/no."""
    word = text.str.lower()
    blank = text == ""
    bad = ~word.isin(TRUE_WORDS + FALSE_WORDS) & (column.required | ~blank)
    return word.isin(TRUE_WORDS).where(~blank), bad, expectation(column)


_PARSERS = {"string": _parse_string, "integer": _parse_number, "number": _parse_number, "boolean": _parse_boolean}


def _check_header(checked: _Checked) -> None:
    """Missing required columns and an empty table."""
    header = [str(c) for c in checked.raw.columns]
    for column in checked.table.columns:
        if column.required and column.name not in header:
            near = difflib.get_close_matches(column.name, header, n=1)
            hint = f" (found '{near[0]}')" if near else ""
            checked.problems.append(
                Problem(file=checked.label, column=column.name, expected=f"a required column in the header{hint}")
            )
    if checked.raw.empty:
        checked.problems.append(Problem(file=checked.label, expected="at least one data row"))


def _check_cells(checked: _Checked) -> None:
    """Parse every present column and report the cells that do not fit the dictionary."""
    for column in checked.table.columns:
        if column.name not in checked.raw.columns:
            continue
        values, bad, expected = _PARSERS[column.type](checked.raw[column.name], column)
        checked.values[column.name] = values
        checked.ok[column.name] = ~bad & values.notna()
        checked.report(bad, column.name, expected)


# ----------------------------------------------------------------------------------------- row checks


def _check_unique_key(checked: _Checked) -> None:
    """Each key (e.g. employee_id) is used once; a repeat names the row that used it first."""
    key = list(checked.table.key)
    if not set(key) <= set(checked.values):
        return
    keys = pd.DataFrame({c: checked.values[c] for c in key})[checked.valid(*key)]
    keys = keys[keys.duplicated(keep=False)]
    repeated = keys.duplicated(keep="first")
    first = keys.index.to_series().groupby([keys[c] for c in key]).transform("first")
    rows = keys.index[repeated]
    value = pd.Series(checked.keys(rows), index=rows, dtype=object)
    expected = f"a unique {checked.table.key_label}; row " + first.astype(str) + " already has it"
    checked.report(checked.raw.index.isin(rows), checked.table.key_label, expected, value)


def _check_references(checked: _Checked, tables: dict[str, _Checked]) -> None:
    """Foreign keys (employees.unit_id) name a row of the referenced table; reported once per unknown value."""
    for column in checked.table.columns:
        if column.references is None or column.name not in checked.values:
            continue
        target_table, target_column = column.references.split(".")
        target = tables[target_table]
        if target_column not in target.values:
            continue
        known = target.values[target_column][target.valid(target_column)]
        if known.empty:  # the target table's own problem (no rows, no valid key) is the one to report
            continue
        unknown = checked.valid(column.name) & ~checked.values[column.name].isin(known)
        expected = f"a {target_column} listed in {target.label}"
        checked.report_once_per_value(unknown, column.name, checked.values[column.name], expected, ("has", "have"))


def _check_headcount_bounds(units: _Checked) -> None:
    """min_headcount ≤ max_headcount where both are given."""
    if not {"min_headcount", "max_headcount"} <= set(units.values):
        return
    low, high = units.values["min_headcount"], units.values["max_headcount"]
    expected = "at most max_headcount (" + units.raw["max_headcount"] + ")"
    units.report(low > high, "min_headcount", expected)


def _ladders(pay: _Checked) -> pd.Series:
    """Ladder length per sequence: the highest valid tier the pay table lists for it."""
    if not {"sequence", "tier"} <= set(pay.values):
        return pd.Series(dtype="float64")
    valid = pay.valid("sequence", "tier")
    return pay.values["tier"][valid].groupby(pay.values["sequence"][valid]).max()


def _check_tiers(employees: _Checked, ladders: pd.Series) -> None:
    """An employee's tier lies on the ladder of their sequence; reported once per sequence and tier."""
    if not {"sequence", "tier"} <= set(employees.values):
        return
    sequence = employees.values["sequence"]
    top = sequence.map(ladders).astype("float64")
    beyond = employees.valid("tier") & (employees.values["tier"] > top)
    if beyond.any():  # the message text only for the (few) rows that need it
        expected = "an integer in 1.." + top[beyond].astype("Int64").astype(str) + " for sequence " + sequence[beyond]
        state = (sequence + "/" + employees.raw["tier"]).where(beyond)
        employees.report_once_per_value(beyond, "tier", state, expected, ("has", "have"))
    employees.ok["tier"] &= ~beyond


def _state_text(checked: _Checked) -> pd.Series:
    """``sequence/tier/grade`` of each row, from the parsed values."""
    tier, grade = (checked.values[c].astype("Int64").astype(str) for c in ("tier", "grade"))
    return checked.values["sequence"] + "/" + tier + "/" + grade


def _check_pay_gaps(employees: _Checked, pay: _Checked) -> None:
    """Every state held in the roster has a base salary; reported once per state, at its first holder."""
    if not (set(STATE) <= set(employees.values) and set(STATE) <= set(pay.values)):
        return
    priced = _state_text(pay)[pay.valid(*STATE)]
    if priced.empty:  # the pay table's own problem (no rows, no valid state) is the one to report
        return
    state = _state_text(employees)
    gap = employees.valid(*STATE) & ~state.isin(priced)
    expected = f"a state with a base_salary in {pay.label}"
    employees.report_once_per_value(gap, "/".join(STATE), state, expected, ("holds", "hold"), state)


# ------------------------------------------------------------------------------------------- driving


def _check_all(raw: InputTables) -> dict[str, _Checked]:
    """Run every check; the result holds the parsed columns and the problems of each table."""
    tables = {name: _Checked(table, raw.label(name), raw.frame(name)) for name, table in TABLES.items()}
    for checked in tables.values():
        _check_header(checked)
        _check_cells(checked)
    _check_tiers(tables["employees"], _ladders(tables["pay"]))
    for checked in tables.values():
        _check_unique_key(checked)
        _check_references(checked, tables)
    _check_headcount_bounds(tables["units"])
    _check_pay_gaps(tables["employees"], tables["pay"])
    return tables


def _order(position: int, checked: _Checked, problem: Problem) -> tuple[int, int, int, int]:
    """Sort key: root causes first, in any table (problems of a whole file or its header, then of keys: a
    blank, bad or repeated id), then the other cells table by table (``position``), by row and by the
    column's place in the table."""
    names = [c.name for c in checked.table.columns]
    column = names.index(problem.column) if problem.column in names else len(names)
    if problem.row is None:
        rank = 0
    else:
        rank = 1 if problem.column in (*checked.table.key, checked.table.key_label) else 2
    return (rank, position, problem.row or 0, column)


def _problems(tables: dict[str, _Checked]) -> list[Problem]:
    """All problems, root causes first, then in the order a reader meets them in the files: only the first
    :attr:`InputError.MAX_LINES` are printed, so what explains the others comes first."""
    keyed = [(_order(i, checked, p), p) for i, checked in enumerate(tables.values()) for p in checked.problems]
    return [p for _, p in sorted(keyed, key=lambda item: item[0])]


def validate(raw: InputTables) -> list[Problem]:
    """Every problem in the text tables ``raw`` (from :func:`models.io.load_tables`); empty when valid."""
    return _problems(_check_all(raw))


def _canonical_column(checked: _Checked, column: Column) -> pd.Series:
    """One column with its canonical dtype; an absent optional column or blank cell takes the default."""
    index = checked.raw.index
    values = checked.values.get(column.name, pd.Series(np.nan, index=index, dtype="float64"))
    if column.default is not None:
        values = values.where(values.notna(), column.default)
    if column.type == "string":
        return values.astype("str")
    if column.type == "boolean":
        return values.astype("bool")
    if column.type == "integer":
        return values.astype("int64" if column.required or column.default is not None else "Int64")
    return values.astype("float64")


def _canonical(checked: _Checked) -> pd.DataFrame:
    """The validated table: the dictionary's columns in its order, numbered from 0."""
    frame = pd.DataFrame({c.name: _canonical_column(checked, c) for c in checked.table.columns})
    return frame.reset_index(drop=True)


def load_inputs(path: str | Path) -> InputTables:
    """Load, validate and convert the input tables under ``path`` (see :func:`models.io.load_tables`).

    Raises :class:`InputError` listing every problem. The frames returned have exactly the dictionary's
    columns, in its order: text as ``str`` (without surrounding spaces), tier/grade as int64, headcount
    bounds as nullable Int64 (blank = no bound), scores, performance, years and salaries as float64, flags
    as bool. Each frame names its file and the file row of each of its rows (:func:`models.io.source_of`),
    for rules checked later (unit grades need the scenario).
    """
    return validated(load_tables(path), str(path))


def validated(raw: InputTables, source: str) -> InputTables:
    """The text tables ``raw`` validated and converted as :func:`load_inputs` does; raises
    :class:`InputError` (naming ``source``) listing every problem."""
    tables = _check_all(raw)
    problems = _problems(tables)
    if problems:
        raise InputError(source, problems)
    frames = {
        name: with_source(_canonical(checked), checked.label, checked.raw.index) for name, checked in tables.items()
    }
    return InputTables(**frames, files=raw.files, hashes=raw.hashes)


# ------------------------------------------------------------------------------- scenario against tables


def scenario_problems(scenario: Scenario, tables: InputTables) -> list[str]:
    """Keys of a graded scenario that name what the tables do not have, one line each (empty when it fits):

    - ``hiring.entry_tiers.<s>`` (when hiring is on) and ``attrition.by_tier.<s>``: tiers on the ladder of
      sequence s in the pay table (1..its highest tier);
    - each requirement and flow cap of ``requirements``: a unit of the units table, a sequence with a ladder,
      tiers on the ladder of that sequence (of the longest ladder when no sequence is named).
    - each review of ``unit_grading.reviews``: a unit of the units table, in one of its review years
      (:func:`models.grading.review_problems`).

    The schema bounds every tier by 1..MAX_TIER; only the tables know how long each ladder is, so a tier past
    the ladder would otherwise be silently ignored (no hires, no rate, an empty requirement group)."""
    ladders = tables.pay.groupby("sequence")["tier"].max().astype(int).to_dict()
    units = set(tables.units["unit_id"].astype(str))
    problems = []

    def off_ladder(key: str, sequence: str, tiers: list[int]) -> None:
        top = ladders.get(sequence, max(ladders.values(), default=0))
        outside = sorted(t for t in tiers if t > top)
        if outside:
            problems.append(f"{key}: tiers {outside} are not on the {sequence} ladder of the pay table (tiers 1..{top})")

    if scenario.hiring.enabled:
        for sequence, tiers in scenario.hiring.entry_tiers.items():
            off_ladder(f"hiring.entry_tiers.{sequence}", sequence, list(tiers))
    for sequence, rates in scenario.attrition.by_tier.items():
        off_ladder(f"attrition.by_tier.{sequence}", sequence, list(rates))
    selections = [("requirements.demand", s) for s in scenario.requirements.demand]
    selections += [("requirements.caps", s) for s in scenario.requirements.caps]
    for where, selection in selections:
        key = f"{where} '{selection.name}'"
        if selection.unit is not None and selection.unit not in units:
            problems.append(f"{key}: unit '{selection.unit}' is not in the units table")
        if selection.sequence is not None and selection.sequence not in ladders:
            problems.append(f"{key}: sequence '{selection.sequence}' has no ladder in the pay table "
                            f"({', '.join(sorted(ladders))})")
        elif selection.tiers is not None:
            off_ladder(f"{key} tiers", selection.sequence or "longest", selection.tiers)
    return problems + review_problems(tables.units, scenario.unit_grading, scenario.horizon)
