"""Year-1 cohort flows → one named action per employee (plus one row per planned hire).

The flows arrive dealt by merit over each position (:func:`optimizer.plan.merit.merit_flows`: per position
and action, the best eligible people, the weakest for redundancies and downgrades), so inside a cohort the
acted-on are a top (or bottom) slice of its members. Members are ranked by performance (desc), then years
in grade (desc), then employee_id (asc) — a stable, reproducible tie-break — and flows are given from the
top in the order tier promotion, sequence move, grade step, unit transfer; redundancies are taken from the
bottom of the ranking, then downgrades from just above them. Everyone else stays. The ``reason`` column
places each person against their position's merit line (:func:`optimizer.plan.merit.assess`).
Vectorised: the only Python loops run over cohorts and arcs, never over employees.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from models.pay import PayStructure
from optimizer.model.cohorts import COHORT_COLUMNS, Cohort
from optimizer.model.network import (
    DOWNGRADE,
    GRADE_STEP,
    HIRE,
    REDUNDANCY,
    SEQUENCE_MOVE,
    TIER_PROMOTION,
    UNIT_TRANSFER,
    Arc,
)
from optimizer.plan.merit import FROM_BOTTOM, POSITION, MeritRule, assess, limits, position_order
from optimizer.plan.output import formatted
from optimizer.plan.results import FROM_STATE, STATE, TO_STATE

HAND_OUT_ORDER = (TIER_PROMOTION, SEQUENCE_MOVE, GRADE_STEP, UNIT_TRANSFER, REDUNDANCY, DOWNGRADE)
ACTION_COLUMNS = ["employee_id", "name", "year", "action", *FROM_STATE, *TO_STATE, "old_salary", "new_salary", "reason"]
STAY = -1
MERIT = [*((c, "ascending") for c in COHORT_COLUMNS), ("performance", "descending"), ("years_in_grade", "descending"),
         ("employee_id", "ascending")]
"""Sort keys of the merit order: cohort, then performance and years in grade (desc), then employee_id."""


def merit_order(roster: pd.DataFrame) -> pd.DataFrame:
    """Roster sorted by cohort, then merit (a stable sort); adds ``rank`` (1-based within the cohort),
    ``cohort_size`` and ``cohort`` (the cohort's number in that order)."""
    keys = pa.Table.from_pandas(roster[[c for c, _ in MERIT]], preserve_index=False)
    ordered = roster.take(pc.sort_indices(keys, sort_keys=MERIT).to_numpy()).reset_index(drop=True)
    first = np.zeros(len(ordered), dtype=bool)
    first[:1] = True
    for column in COHORT_COLUMNS:
        values = pa.array(ordered[column], from_pandas=True)
        first[1:] |= pc.not_equal(values[1:], values[:-1]).to_numpy(zero_copy_only=False)
    cohort = np.cumsum(first) - 1
    starts = np.flatnonzero(first)
    sizes = np.diff(np.append(starts, len(ordered)))
    return ordered.assign(rank=np.arange(len(ordered)) - starts[cohort] + 1, cohort_size=sizes[cohort], cohort=cohort)


def _assign(ordered: pd.DataFrame, arcs: list[Arc], counts: list[int]) -> np.ndarray:
    """Arc number per merit-ordered employee (STAY = -1): top-down kinds from rank 1, FROM_BOTTOM kinds from the end."""
    starts = ordered[ordered["rank"] == 1]
    first_row = {
        Cohort(u, s, int(t), int(g), int(b), bool(q)): (int(i), int(n))
        for u, s, t, g, b, q, i, n in zip(*(starts[c] for c in COHORT_COLUMNS), starts.index, starts["cohort_size"])
    }
    by_cohort: dict[Cohort, list[int]] = {}
    for number, arc in enumerate(arcs):
        by_cohort.setdefault(arc.source, []).append(number)
    assigned = np.full(len(ordered), STAY, dtype=np.int64)
    for cohort, numbers in by_cohort.items():
        numbers.sort(key=lambda k: (HAND_OUT_ORDER.index(arcs[k].kind), arcs[k].target or ()))
        start, size = first_row[cohort]
        top, bottom = start, start + size
        for number in numbers:
            if arcs[number].kind in FROM_BOTTOM:
                bottom -= counts[number]
                assigned[bottom : bottom + counts[number]] = number
            else:
                assigned[top : top + counts[number]] = number
                top += counts[number]
        if top > bottom:
            raise ValueError(f"cohort {cohort.label()}: flows for {size + top - bottom} people, {size} members")
    return assigned


def _targets(arcs: list[Arc], pay: PayStructure) -> pd.DataFrame:
    """One row per arc (plus a final STAY row): action, to-state (None where the arc has no target) and
    new_salary = pay(to-state) in year 1 (NaN where there is none)."""
    rows = [(a.kind, *(a.target.state if a.target is not None else (None,) * 4)) for a in arcs]
    frame = pd.DataFrame(rows + [("stay", None, None, None, None)], columns=["action", *TO_STATE])
    frame = frame.astype({"to_tier": "Int64", "to_grade": "Int64"})
    present = frame["to_unit"].notna().to_numpy()
    salary = np.full(len(frame), np.nan)
    salary[present] = pay.pay_of(frame.loc[present, TO_STATE].set_axis(STATE, axis=1), year=1)
    return frame.assign(new_salary=salary)


def _pandas(values: pa.Array | pa.ChunkedArray) -> pd.Series:
    """An Arrow array of text or whole numbers as a pandas ``str`` or ``Int64`` column."""
    if pa.types.is_integer(values.type):
        return pd.Series(values.to_pandas(types_mapper={values.type: pd.Int64Dtype()}.get))
    return pd.Series(values.to_pandas())


def _kept(stays: pa.Array, own: pd.Series, per_arc: pd.Series, row: np.ndarray) -> pa.Array:
    """``own`` where the employee stays, else ``per_arc`` at the employee's row of :func:`_targets`."""
    kept = pa.array(own, from_pandas=True)
    return pc.if_else(stays, kept, pa.array(per_arc, from_pandas=True).take(row).cast(kept.type))


def employee_actions(roster: pd.DataFrame, year1_flows: dict[Arc, int], pay: PayStructure,
                     rule: MeritRule) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per roster employee (year 1) plus one per planned hire, in the ``actions.csv`` layout, and the
    merit line of every position and action (``merit.csv``, :func:`optimizer.plan.merit.assess`).

    ``roster`` must carry the cohort columns of :func:`optimizer.model.cohorts.assign_cohorts`; the flows are
    dealt by merit over each position already (:func:`optimizer.plan.merit.merit_flows`), so inside a cohort
    the acted-on are its best (top-down actions) or weakest (redundancies, downgrades). The work per
    employee is array work only: pay and labels are computed once per cohort or arc, then repeated.
    """
    arcs = sorted(
        (a for a, n in year1_flows.items() if a.kind != HIRE and n > 0),
        key=lambda a: (a.source, a.kind, a.target or ()),
    )
    extra = [c for c in ("salary", "name") if c in roster.columns]
    ordered = merit_order(roster[["employee_id", *COHORT_COLUMNS, "performance", "years_in_grade", *extra]])
    assigned = _assign(ordered, arcs, [int(year1_flows[a]) for a in arcs])
    stays = assigned == STAY
    row = np.where(stays, len(arcs), assigned)  # the row of _targets
    targets = _targets(arcs, pay)
    cohorts = ordered[ordered["rank"] == 1]
    cohort_pay = pay.pay_of(cohorts)[ordered["cohort"].to_numpy()]  # year 0: the table pay of their position
    stay_pay = pay.pay_of(cohorts, year=1)[ordered["cohort"].to_numpy()]  # a year-1 review may change it
    premium = pay.premium_of(ordered)  # the pay rule of models.pay.PayStructure: the premium travels
    actions = pd.DataFrame(
        {
            "employee_id": ordered["employee_id"],
            "name": ordered["name"].fillna("").astype("str") if "name" in ordered.columns else "",
            "year": 1,
            "action": _pandas(pa.array(targets["action"]).take(row)),
            **{new: ordered[old].astype("Int64" if old in ("tier", "grade") else "str")
               for old, new in zip(STATE, FROM_STATE)},
            **{new: _pandas(_kept(pa.array(stays), ordered[old], targets[new], row))
               for old, new in zip(STATE, TO_STATE)},
            "old_salary": cohort_pay + premium,
            "new_salary": np.where(stays, stay_pay, targets["new_salary"].to_numpy()[row]) + premium,
        }
    )
    people = pd.concat([ordered[[*COHORT_COLUMNS, "performance", "years_in_grade"]],
                        actions[["employee_id", "action", *TO_STATE]]], axis=1)
    placed = position_order(people.assign(row=np.arange(len(people))))
    lines, persons = assess(people, rule, placed)
    actions["reason"] = _reasons(people, persons, rule, placed).to_numpy()
    hires = hire_rows({a: n for a, n in year1_flows.items() if a.kind == HIRE and n > 0}, pay)
    if hires.empty:
        return actions[ACTION_COLUMNS], lines
    return pd.concat([actions, hires], ignore_index=True)[ACTION_COLUMNS], lines


def _label(frame: pd.DataFrame) -> pa.Array:
    """'U01 technical T3 G2' per row (the position), built once per distinct position."""
    position = frame.groupby(POSITION, sort=False, dropna=False).ngroup().to_numpy()
    first = frame.iloc[np.unique(position, return_index=True)[1]]
    text = (first["unit_id"].astype(str) + " " + first["sequence"].astype(str) + " T" + first["tier"].astype(str)
            + " G" + first["grade"].astype(str))
    return pa.array(text.to_numpy(dtype=object), type=pa.string()).take(pa.array(position))


def _text(values: np.ndarray | pd.Series) -> pa.Array:
    """Whole numbers (missing where NaN or NA) as Arrow text."""
    return pa.array(pd.array(values, dtype="Int64"), type=pa.int64()).cast(pa.string())


def _reasons(people: pd.DataFrame, persons: pd.DataFrame, rule: MeritRule, placed: pd.DataFrame) -> pd.Series:
    """Why each person (rows of ``people``) got their action, against the merit line of their position
    (:func:`optimizer.plan.merit.assess`): the acted-on by their rank among the eligible; a person held
    back by their cohort's limit by that rule; a stayer eligible for an action by the line they are below;
    anyone else by the position's plan. ``placed``: :func:`optimizer.plan.merit.position_order` of ``people``
    with their row numbers (``row``). A person eligible for several actions is told about one: the first
    they took, else were held back from, else were passed over for, else are below the line of (among equals,
    the first in :func:`optimizer.plan.merit.assess`'s key order). Each sentence is joined (Arrow) only for
    the rows it describes."""
    order = np.select([persons["took"], persons["held"], persons["passed"]], [0, 1, 2], 3)
    key = persons["key"].to_numpy()
    n_eligible = np.bincount(key)[key]
    row = pd.Index(people["employee_id"]).get_indexer(persons["employee_id"])
    ranked = np.lexsort((persons["position_rank"].to_numpy(), order, row))  # stable: ties keep their order
    chosen = ranked[np.unique(row[ranked], return_index=True)[1]]  # each person's first pair in that order
    mine = np.full(len(people), -1)
    mine[row[chosen]] = chosen  # their pair, -1 for people with none

    def at_mine(values: np.ndarray, missing: object) -> np.ndarray:
        """``values`` (one per pair) at each person's pair, ``missing`` for people with none (index -1: the
        value appended last)."""
        return np.append(values, np.array([missing], dtype=values.dtype))[mine]

    code = at_mine(order, 4)  # 0 took, 1 held, 2 passed, 3 below the line, 4 other
    acted = people["action"].ne("stay").to_numpy()
    position = people.groupby(POSITION, sort=False, dropna=False).ngroup().to_numpy()
    busy = np.isin(position, position[acted])
    code[(code == 4) & busy] = 5  # other, in a position with actions this year
    position_rank = np.zeros(len(people), dtype=np.int64)
    position_size = np.zeros(len(people), dtype=np.int64)
    position_rank[placed["row"].to_numpy()] = placed["position_rank"].to_numpy()
    position_size[placed["row"].to_numpy()] = placed["position_size"].to_numpy()
    kind = at_mine(persons["action"].to_numpy(dtype=object), None)
    bottom = np.isin(kind, list(FROM_BOTTOM))
    columns = {
        "where": _label(people), "p": formatted(people["performance"].to_numpy(dtype=float), "%g"),
        "kind": pa.array(kind, type=pa.string()),
        "rank": _text(at_mine(persons["eligible_rank"].to_numpy(dtype=float), np.nan)),
        "eligible": _text(at_mine(n_eligible.astype(float), np.nan)),
        "line": formatted(np.nan_to_num(at_mine(persons["line"].to_numpy(dtype=float), np.nan), nan=0.0), "%g"),
        "position_rank": _text(position_rank), "position_size": _text(position_size),
        "limit": _text(limits(rule, people).astype(int)),
        "how": pa.array(np.where(bottom, ", weakest first", " by merit"), type=pa.string()),
    }
    ranked_text = ("rank ", "position_rank", " of ", "position_size", " in ", "where", " (performance ", "p")
    sentences = {
        0: ("kind", "how", ": rank ", "rank", " of ", "eligible", " eligible in ", "where", " (performance ", "p", ")"),
        1: ("held back in ", "where", " (performance ", "p", ", above the ", "kind", " line at ", "line",
            "): at most ", "limit", " people of this cohort (state, seniority, qualification) may act in year 1, "
            "its expected leavers being held back (add_outflow_availability)"),
        2: ("passed over for ", "kind", " in ", "where", " (performance ", "p", ", line ", "line", ")"),
        3: (*ranked_text, "): below the ", "kind", " line at performance ", "line"),
        4: ("no change planned for ", "where"),
        5: (*ranked_text, "): not eligible for this year's actions of the position"),
    }
    rows = [np.flatnonzero(code == k) for k in sentences]
    parts = [_joined(sentence, columns, at) for sentence, at in zip(sentences.values(), rows)]
    back = np.empty(len(code), dtype=np.int64)
    back[np.concatenate(rows)] = np.arange(len(code))
    return _pandas(pa.concat_arrays(parts).take(pa.array(back)))


def _joined(sentence: tuple[str, ...], columns: dict[str, pa.Array], rows: np.ndarray) -> pa.Array:
    """The text of ``sentence`` at ``rows``: its pieces are literal text, or names of ``columns`` (taken at
    ``rows``, missing as empty text), joined element by element in Arrow."""
    if len(rows) == 0:
        return pa.array([], type=pa.string())
    at = pa.array(rows)
    pieces = [pc.fill_null(columns[piece].take(at), "") if piece in columns else pa.scalar(piece)
              for piece in sentence]
    return pc.binary_join_element_wise(*pieces, pa.scalar(""))


def hire_rows(hires: dict[Arc, int], pay: PayStructure) -> pd.DataFrame:
    """One row per planned hire: ``HIRE-<unit>-<n>`` numbered per unit, in arc order (vectorised: one row
    per arc, repeated by its count)."""
    arcs = sorted(hires, key=lambda a: a.target)
    per_arc = pd.DataFrame([a.target.state for a in arcs], columns=TO_STATE)
    per_arc["new_salary"] = [pay.pay(*a.target.state, year=1) for a in arcs]
    per_arc["reason"] = [f"planned hire into {u} {s} T{k} G{g}" for u, s, k, g in (a.target.state for a in arcs)]
    rows = per_arc.loc[per_arc.index.repeat([int(hires[a]) for a in arcs])].reset_index(drop=True)
    number = rows.groupby("to_unit", sort=False).cumcount() + 1
    frame = rows.assign(
        employee_id="HIRE-" + rows["to_unit"].astype(str) + "-" + number.astype(str).str.zfill(4), name="",
        year=1, action=HIRE, from_unit=pd.Series(None, index=rows.index, dtype="str"),
        from_sequence=pd.Series(None, index=rows.index, dtype="str"), from_tier=None, from_grade=None,
        old_salary=np.nan,
    )[ACTION_COLUMNS]
    return frame.astype({"from_tier": "Int64", "from_grade": "Int64", "to_tier": "Int64", "to_grade": "Int64"})
