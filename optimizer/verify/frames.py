"""Vectorised helpers of the graded verifier's checks (:mod:`optimizer.verify.graded`,
:mod:`optimizer.verify.people`, :mod:`optimizer.verify.attrition`): nullable comparisons as plain booleans, state
labels, flow counts summed by state, and one finding listing the first offending rows. Part of the independent verifier: nothing here is shared with the model or the plan
writer."""

from __future__ import annotations

from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from optimizer.verify.data import LIMIT, STATE
from optimizer.verify.report import Finding, fmt

__all__ = ["differs", "exceeds", "finding_for", "flow_label", "flow_totals", "isin", "merit_sorted", "same_or_blank", "same_state", "state_label",
           "truthy"]


def truthy(values: pd.Series) -> pd.Series:
    """A nullable comparison as plain booleans (missing → False)."""
    return values.fillna(False).astype(bool)


def isin(values: pd.Series, pool: pd.Series) -> pd.Series:
    """``values.isin(pool)`` (a missing value is in a pool holding one) through Arrow's hash set: pandas'
    Arrow-string isin converts the pool value by value."""
    column = pa.array(values, from_pandas=True)
    found = pc.is_in(column, value_set=pa.array(pool, from_pandas=True).cast(column.type), skip_nulls=False)
    return pd.Series(found.to_numpy(zero_copy_only=False), index=values.index)


def merit_sorted(frame: pd.DataFrame, groups: list[str]) -> pd.DataFrame:
    """``frame`` sorted by ``groups`` (ascending), then merit: performance and years_in_grade (descending),
    employee_id (ascending); missing values last, ties in their order (a stable sort, in Arrow: a million rows
    in a fraction of pandas' time), with a fresh index."""
    keys = [*((c, "ascending") for c in groups), ("performance", "descending"), ("years_in_grade", "descending"),
            ("employee_id", "ascending")]
    table = pa.Table.from_pandas(frame[[c for c, _ in keys]], preserve_index=False)
    return frame.take(pc.sort_indices(table, sort_keys=keys).to_numpy()).reset_index(drop=True)


def same_or_blank(a: pd.Series, b: pd.Series) -> pd.Series:
    """Equal, or both blank."""
    return truthy(a == b) | (a.isna() & b.isna())


def same_state(frame: pd.DataFrame, left: str, right: str, fields: Iterable[str] = STATE) -> pd.Series:
    """The ``<left>field`` and ``<right>field`` columns agree (:func:`same_or_blank`) for every field."""
    same = pd.Series(True, index=frame.index)
    for field in fields:
        same &= same_or_blank(frame[f"{left}{field}"], frame[f"{right}{field}"])
    return same


def differs(reported: pd.Series, expected: pd.Series, tol: float, floor: float = 0.0) -> pd.Series:
    """|reported − expected| > max(tol·max(1, |expected|), floor); two blanks agree, one blank differs."""
    r, e = reported.astype(float), expected.astype(float)
    close = (r - e).abs() <= np.maximum(tol * np.maximum(1.0, e.abs()), floor)
    return ~close & ~(r.isna() & e.isna())


def exceeds(value: pd.Series, limit: pd.Series, tol: float) -> pd.Series:
    """value > limit + tol·max(1, |limit|)."""
    return truthy(value > limit + tol * np.maximum(1.0, limit.abs()))


def state_label(row: dict[str, Any], prefix: str = "") -> str:
    """unit/sequence/tier/grade, or 'none' for a blank state."""
    if pd.isna(row[f"{prefix}unit"]):
        return "none"
    return "/".join(fmt(row[f"{prefix}{c}"]) for c in STATE)


def flow_label(row: dict[str, Any]) -> str:
    """'year 1 grade_step u/s/k/g → u/s/k/g+1 ×n' of a flows.csv row."""
    move = f"{state_label(row, 'from_')} → {state_label(row, 'to_')}"
    return f"year {fmt(row['year'])} {row['kind']} {move} ×{fmt(row['count'])}"


def finding_for(check: str, headline: str, rows: pd.DataFrame, describe: Callable[[dict[str, Any]], str]) -> list[Finding]:
    """One finding listing the first LIMIT offending rows (none when ``rows`` is empty)."""
    if rows.empty:
        return []
    items = [describe(row) for row in rows.head(LIMIT).to_dict("records")]
    more = f"; … and {len(rows) - LIMIT} more" if len(rows) > LIMIT else ""
    return [Finding(check, f"{headline} ({len(rows)}): {'; '.join(items)}{more}")]


def flow_totals(flows: pd.DataFrame, side: tuple[str, ...], name: str) -> pd.DataFrame:
    """year, unit, sequence, tier, grade, <name>: flow counts summed by their from- or to-state."""
    complete = flows[flows[list(side)].notna().all(axis=1)]
    totals = complete.groupby(["year", *side], as_index=False)["count"].sum()
    return totals.rename(columns={"count": name, **dict(zip(side, STATE))})
