"""What a simulation of a plan reads, as plain numpy arrays: :class:`PlanInputs`.

The arrays are built once from a plan's tables (``headcount.csv``, ``flows.csv``, ``mix.csv``, ``budget.csv``)
and the model's own definitions of rates, pay and one-off costs (:class:`~optimizer.model.data.ModelData`), so
the simulation charges exactly what the plan charges. They hold no solver object and no frame: a
:class:`PlanInputs` pickles in a few hundred kilobytes and can be sent to worker processes or a Dask cluster
once (:func:`optimizer.simulate.engine.simulate_chunk` is a pure function of it, a repetition count and a seed).

States are the plan's (unit, sequence, tier, grade); attrition depends on the state alone (sequence and tier),
so the state level is exact for it. Flows are the plan's state-level flows of each year (every kind but
``attrition``, which the simulation draws).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.scenario import SEQUENCES
from optimizer.model.cohorts import Cohort
from optimizer.model.data import ModelData
from optimizer.model.network import ATTRITION, HIRE, REDUNDANCY, Arc
from optimizer.plan.disaggregate import HAND_OUT_ORDER
from optimizer.plan.results import FROM_STATE, STATE, TO_STATE

ACTION_ORDER = HAND_OUT_ORDER
"""The order in which a cohort's actions are handed out (:mod:`optimizer.plan.disaggregate`): when fewer people
stay than a year's actions need, the actions late in this order go short first."""


@dataclass(frozen=True)
class YearFlows:
    """The plan's flows of one year, one entry per state-level flow ``a`` (hires have ``source`` −1,
    redundancies ``target`` −1), sorted by source and then :data:`ACTION_ORDER`."""

    source: np.ndarray
    """int[A]: index of the state left, −1 for a hire"""
    target: np.ndarray
    """int[A]: index of the state joined, −1 for a redundancy"""
    count: np.ndarray
    """float[A]: people the plan puts on the flow (whole in year 1, expected values later)"""
    survival: np.ndarray
    """float[A]: π_a, the share of the flow's people still there at the end of the year (1 under the
    ``start_of_year`` convention; recruits' first-year rate, the destination's rate, or the downgrade wastage
    under ``service_dependent``; the destination's rate under ``decide_then_attrition``)"""
    unit_cost: np.ndarray
    """float[A]: one-off cost per person on the flow (CNY), as the plan's ``budget.csv`` charges it"""
    hire_sequence: np.ndarray
    """int[A]: sequence index (:data:`models.scenario.SEQUENCES`) of a hire's target, −1 for other flows"""

    @property
    def is_hire(self) -> np.ndarray:
        return self.source < 0


@dataclass(frozen=True)
class PlanInputs:
    """One plan, ready to simulate: S states, H years."""

    states: tuple[tuple[str, str, int, int], ...]
    """the S states (unit, sequence, tier, grade), in index order"""
    start: np.ndarray
    """float[S]: the roster's headcount per state (whole people)"""
    attrition: np.ndarray
    """float[S]: a_σ, the yearly leaving rate of each state"""
    pay: np.ndarray
    """float[H, S]: pay(σ, t) of years 1..H, CNY a year (a unit's review changes it from its year on)"""
    sequence: np.ndarray
    """int[S]: index of each state's sequence in :data:`models.scenario.SEQUENCES`"""
    planned: np.ndarray
    """float[H+1, S]: the plan's headcount per state and year (``headcount.csv``)"""
    flows: tuple[YearFlows, ...]
    """the plan's flows of years 1..H"""
    hire_rate: np.ndarray
    """float[3]: ``hiring.max_rate`` per sequence (hires of a year ≤ rate × the sequence's start-of-year stock)"""
    lower: np.ndarray
    """float[H, 3]: the mix band's lower share per year 1..H and sequence (NaN before the deadline)"""
    upper: np.ndarray
    """float[H, 3]: the mix band's upper share (NaN before the deadline)"""
    cap: np.ndarray
    """float[H]: the budget cap of years 1..H (CNY)"""
    planned_total: np.ndarray
    """float[H]: the plan's payroll + one-off costs of years 1..H (``budget.csv``, ``total`` of the ALL rows)"""
    decide_first: bool = False
    """``flow_convention: decide_then_attrition``: a year's flows act on the start-of-year stock before its
    attrition (else on the people who stay through the year)"""

    @property
    def horizon(self) -> int:
        return len(self.flows)

    def planned_by_sequence(self) -> np.ndarray:
        """float[H+1, 3]: the plan's headcount per year and sequence."""
        out = np.zeros((self.planned.shape[0], len(SEQUENCES)))
        for q in range(len(SEQUENCES)):
            out[:, q] = self.planned[:, self.sequence == q].sum(axis=1)
        return out


def _cohort(state: tuple[str, str, int, int]) -> Cohort:
    """A cohort of the state (seniority and qualification do not change rates, pay or costs)."""
    unit, sequence, tier, grade = state
    return Cohort(unit, sequence, int(tier), int(grade), 0, False)


def _state_tuples(frame: pd.DataFrame, columns: list[str]) -> list[tuple[str, str, int, int]]:
    return [(str(u), str(s), int(t), int(g)) for u, s, t, g in frame[columns].itertuples(index=False)]


def _state_or_none(unit: object, sequence: object, tier: object, grade: object) -> tuple[str, str, int, int] | None:
    """The state of a flow's end, None where the flow has none (a hire's source, a redundancy's target)."""
    return None if pd.isna(tier) else (str(unit), str(sequence), int(tier), int(grade))


def _year_flows(flows: pd.DataFrame, where: dict[tuple[str, str, int, int], int], data: ModelData,
                year: int) -> YearFlows:
    """The state-level flows of one year (no attrition rows), with their survival and unit cost from the model's
    own definitions (:meth:`ModelData.inflow_survival`, :meth:`ModelData.one_off_cost`)."""
    rank = {kind: i for i, kind in enumerate(ACTION_ORDER)}
    rows = []
    for row in flows[["kind", *FROM_STATE, *TO_STATE, "count"]].itertuples(index=False):
        kind, source, target = row[0], _state_or_none(*row[1:5]), _state_or_none(*row[5:9])
        arc = Arc(kind, None if source is None else _cohort(source), None if target is None else _cohort(target))
        rows.append((
            -1 if source is None else where[source],
            -1 if target is None else where[target],
            float(row[9]),
            1.0 if target is None else data.inflow_survival(arc),
            data.one_off_cost(arc, year),
            SEQUENCES.index(target[1]) if kind == HIRE else -1,
            rank.get(kind, -1),
        ))
    table = np.array(rows, dtype=float).reshape(-1, 7)
    table = table[np.lexsort((table[:, 6], table[:, 0]))]
    return YearFlows(
        source=table[:, 0].astype(np.int64), target=table[:, 1].astype(np.int64), count=table[:, 2],
        survival=table[:, 3], unit_cost=table[:, 4], hire_sequence=table[:, 5].astype(np.int64),
    )


def plan_inputs(data: ModelData, headcount: pd.DataFrame, flows: pd.DataFrame, mix: pd.DataFrame,
                budget: pd.DataFrame) -> PlanInputs:
    """The arrays of a graded plan: its tables (as :mod:`optimizer.plan.reader` reads them, or as the pipeline
    holds them before writing) and the ModelData it was solved from (rates, pay, one-off costs)."""
    horizon = data.horizon
    decided = flows[flows["kind"] != ATTRITION]
    states = sorted(set(_state_tuples(headcount, STATE))
                    | set(_state_tuples(decided[decided["kind"] != HIRE], FROM_STATE))
                    | set(_state_tuples(decided[decided["kind"] != REDUNDANCY], TO_STATE)))
    where = {state: i for i, state in enumerate(states)}
    planned = np.zeros((horizon + 1, len(states)))
    index = [where[s] for s in _state_tuples(headcount, STATE)]
    np.add.at(planned, (headcount["year"].to_numpy(int), np.array(index, dtype=np.int64)),
              headcount["headcount"].to_numpy(float))
    cohorts = [_cohort(s) for s in states]
    banded = mix.set_index(["year", "sequence"])
    lower = np.full((horizon, len(SEQUENCES)), np.nan)
    upper = np.full((horizon, len(SEQUENCES)), np.nan)
    for year in range(1, horizon + 1):
        for q, sequence in enumerate(SEQUENCES):
            lower[year - 1, q] = banded.loc[(year, sequence), "lower"]
            upper[year - 1, q] = banded.loc[(year, sequence), "upper"]
    totals = budget[budget["unit_id"] == "ALL"].set_index("year")
    return PlanInputs(
        states=tuple(states),
        start=planned[0].copy(),
        attrition=np.array([data.attrition(c) for c in cohorts]),
        pay=np.array([[data.pay_of(c, year) for c in cohorts] for year in range(1, horizon + 1)]).reshape(
            horizon, len(cohorts)),
        sequence=np.array([SEQUENCES.index(s[1]) for s in states], dtype=np.int64),
        planned=planned,
        flows=tuple(_year_flows(decided[decided["year"] == year].reset_index(drop=True), where, data, year)
                    for year in range(1, horizon + 1)),
        hire_rate=np.array([data.scenario.hiring.max_rate.get(s) if data.scenario.hiring.enabled else 0.0
                            for s in SEQUENCES]),
        lower=lower,
        upper=upper,
        cap=np.array([float(totals.loc[year, "cap"]) for year in range(1, horizon + 1)]),
        planned_total=np.array([float(totals.loc[year, "total"]) for year in range(1, horizon + 1)]),
        decide_first=data.decide_first,
    )
