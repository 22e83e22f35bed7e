"""Merit across a position: which cohorts' people take the year-1 actions the model counts per position.

The model decides year-1 flows per cohort (state σ × seniority bucket × qualification), but merit is a rule
of the *position* σ: within σ and a year-1 action κ = (kind, landing state), the people acted on are the best
performers among those eligible for κ (top-down actions: tier promotion, sequence move, grade step, unit
transfer), and redundancies and downgrades take the weakest (bottom-up). A person is eligible for κ when
their cohort has an arc of κ's kind to κ's landing state (:func:`optimizer.model.network.arcs_from`: years in
grade, ``technical_eligible`` for operations → technical). The only other limit is the model's own: at most
L_c = ⌊(1−a_c)·n_c⌋ people of a cohort c act in year 1 (``add_outflow_availability``: the expected leavers
of the cohort are held back; L_c = n_c under ``flow_convention: decide_then_attrition``, which holds nobody
back); a person it holds back is a *stated-rule exception*, counted and explained.

:func:`merit_flows` keeps each position's count per action (n_κ = Σ_c f[c→κ]) and re-deals it over the
cohorts by the position's merit order (performance desc, years in grade desc, employee_id asc). Per
position it is the greedy algorithm of a transversal matroid: walking down the ranking, a person joins the
acted-on set S when S ∪ {person} can still be matched to the actions (each person one action κ they are
eligible for, at most n_κ per action, at most L_c per cohort); an augmenting path on the cohort × action
counts decides it. The greedy set is a base (every n_κ is met, as the model's own split shows one exists)
and the rule holds: an eligible person e who stays above someone f acted on for κ was refused although
S_e ∪ {e} ⊆ S − {f} ∪ {e} is matchable (e takes f's place), a contradiction, unless e's cohort was at
L_c. Bottom-up actions are dealt first from the bottom of the ranking, leaving every top-down n_κ
matchable. Work per position is one pass over its people until the counts are met; the augmenting paths run
on at most (cohorts × actions) counts, never on people.

Changing the split changes who is where at the end of year 1 (seniority, qualification). Where the solved
later years still fit the merit split (:func:`with_year1`), they are kept and the plan is optimal; else the
pipeline re-solves the later years with the merit split of year 1 fixed (:func:`fixed_year1`).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from optimizer.model.cohorts import COHORT_COLUMNS, Cohort
from optimizer.model.data import Index, ModelData
from optimizer.model.network import DOWNGRADE, HIRE, REDUNDANCY, Arc
from optimizer.plan.results import cohort_plan
from optimizer.solvers.linear_model import LinearModel

__all__ = ["FROM_BOTTOM", "POSITION", "Action", "MeritRule", "assess", "availability", "fixed_year1", "limits",
           "holds", "merit_flows", "position_order", "with_year1", "within_positions"]

FROM_BOTTOM = (REDUNDANCY, DOWNGRADE)
"""Kinds dealt from the bottom of the merit order (the weakest first)."""
POSITION = ["unit_id", "sequence", "tier", "grade"]
Action = tuple[str, tuple | None]
"""A year-1 action of a position: (kind, landing state or None for a redundancy)."""


def action_of(arc: Arc) -> Action:
    return (arc.kind, None if arc.target is None else arc.target.state)


def position_order(roster: pd.DataFrame) -> pd.DataFrame:
    """``roster`` (with the cohort columns) sorted by position, then merit: performance (desc), years in grade
    (desc), employee_id (asc) — a total, reproducible order; adds ``position_rank`` (1-based in the position)
    and ``position_size``."""
    keys = [*((c, "ascending") for c in POSITION), ("performance", "descending"),
            ("years_in_grade", "descending"), ("employee_id", "ascending")]
    table = pa.Table.from_pandas(roster[[c for c, _ in keys]], preserve_index=False)
    ordered = roster.take(pc.sort_indices(table, sort_keys=keys).to_numpy()).reset_index(drop=True)  # stable
    group = ordered.groupby(POSITION, sort=False, observed=True)
    return ordered.assign(position_rank=group.cumcount() + 1, position_size=group["employee_id"].transform("size"))


def availability(initial: dict[Cohort, int], acting_share: Callable[[Cohort], float]) -> dict[Cohort, int]:
    """L_c = ⌊s_c·n_c⌋: the most people of cohort c a year-1 plan may act on (whole people under
    ``add_outflow_availability``; s_c = 1 − a_c, or 1 when decisions come first:
    :meth:`~optimizer.model.data.ModelData.acting_share`)."""
    return {c: int(math.floor(acting_share(c) * n + 1e-9)) for c, n in initial.items()}


class _Matching:
    """Counts of people per (cohort, action) with each action's demand: an incremental bipartite b-matching."""

    def __init__(self, demand: dict[Action, int], eligible: dict[int, list[Action]], limit: dict[int, int]):
        self.demand, self.eligible, self.limit = demand, eligible, limit
        self.count: dict[int, dict[Action, int]] = defaultdict(lambda: defaultdict(int))
        self.load: dict[Action, int] = defaultdict(int)
        self.used: dict[int, int] = defaultdict(int)

    @property
    def full(self) -> bool:
        return all(self.load[a] >= n for a, n in self.demand.items())

    def add(self, cohort: int) -> bool:
        """Match one more person of ``cohort`` (an augmenting path from it to an action with room); False when
        none exists or the cohort is at its limit."""
        if self.used[cohort] >= self.limit[cohort]:
            return False
        parent: dict[tuple[str, object], tuple[str, object] | None] = {("c", cohort): None}
        queue = [("c", cohort)]
        while queue:
            node = queue.pop(0)
            if node[0] == "c":
                for action in self.eligible.get(node[1], ()):
                    if action in self.demand and ("a", action) not in parent:
                        parent[("a", action)] = node
                        if self.load[action] < self.demand[action]:
                            self._augment(parent, ("a", action))
                            self.used[cohort] += 1
                            return True
                        queue.append(("a", action))
            else:
                for other, counts in self.count.items():
                    if counts.get(node[1], 0) > 0 and ("c", other) not in parent:
                        parent[("c", other)] = node
                        queue.append(("c", other))
        return False

    def _augment(self, parent: dict, end: tuple[str, object]) -> None:
        self.load[end[1]] += 1
        node = end
        while parent[node] is not None:
            previous = parent[node]
            if previous[0] == "c":  # cohort → action: one more of the cohort on the action
                self.count[previous[1]][node[1]] += 1
            else:  # action → cohort: the cohort hands one place on that action over
                self.count[node[1]][previous[1]] -= 1
            node = previous


def _deal(cohorts: np.ndarray, matching: _Matching, keep: Callable[[], bool] | None = None) -> None:
    """Walk ``cohorts`` (one entry per person, in the order people are considered) and add each person to the
    matching while its demand is open; a cohort refused once is refused for good (its later members are
    interchangeable with the refused one, and the matched set only grows). ``keep`` may veto an addition
    (it is then undone)."""
    refused: set[int] = set()
    for cohort in cohorts.tolist():
        if matching.full:
            return
        if cohort in refused:
            continue
        snapshot = None if keep is None else _snapshot(matching)
        if not matching.add(cohort):
            refused.add(cohort)
        elif snapshot is not None and not keep():
            _restore(matching, snapshot)
            refused.add(cohort)


def _snapshot(m: _Matching) -> tuple:
    return ({c: dict(a) for c, a in m.count.items()}, dict(m.load), dict(m.used))


def _restore(m: _Matching, snapshot: tuple) -> None:
    counts, load, used = snapshot
    m.count = defaultdict(lambda: defaultdict(int), {c: defaultdict(int, a) for c, a in counts.items()})
    m.load, m.used = defaultdict(int, load), defaultdict(int, used)


def _top_room(demand: dict[Action, int], eligible: dict[int, list[Action]], limit: dict[int, int],
              size: dict[int, int], bottom: _Matching) -> bool:
    """Can every top-down demand still be met by the people the bottom-up matching leaves (per cohort:
    min(members, L_c) minus those it took)?"""
    if not demand:
        return True
    room = {c: min(size[c], limit[c]) - bottom.used[c] for c in size}
    top = _Matching(demand, eligible, room)
    for c in size:
        while not top.full and top.add(c):
            pass
    return top.full


def merit_flows(roster: pd.DataFrame, year1: dict[Arc, int], arcs: Iterable[Arc],
                limit: dict[Cohort, int]) -> dict[Arc, int]:
    """The year-1 flows (hires aside) dealt by merit over each position's cohorts (module docstring).

    ``roster``: the employees with the cohort columns (:func:`optimizer.model.cohorts.assign_cohorts`),
    ``performance`` and ``years_in_grade``; ``year1``: the model's year-1 flow per arc; ``arcs``: every
    year-1 arc of the network (eligibility: a cohort is eligible for the actions its arcs reach, whether
    or not the model used them); ``limit``: L_c per cohort (:func:`availability`). Returns a count per arc
    (zero counts left out) with the same total per position and action as ``year1``; raises ValueError when
    the model's counts cannot be dealt at all (more than the position's people may take)."""
    demand: dict[tuple, dict[Action, int]] = defaultdict(lambda: defaultdict(int))
    for arc, n in year1.items():
        if arc.kind != HIRE and n > 0:
            demand[arc.source.state][action_of(arc)] += int(n)
    if not demand:
        return {}
    by_action: dict[tuple[Cohort, Action], Arc] = {}
    actions_of: dict[Cohort, list[Action]] = defaultdict(list)
    for arc in arcs:
        if arc.kind != HIRE and arc.source.state in demand:
            by_action[(arc.source, action_of(arc))] = arc
            actions_of[arc.source].append(action_of(arc))
    people = position_order(roster[pd.MultiIndex.from_frame(roster[POSITION]).isin(list(demand))])
    dealt: dict[Arc, int] = {}
    code_of = people.groupby(COHORT_COLUMNS, sort=False, observed=True).ngroup().to_numpy()
    cohorts = _cohorts(people.iloc[np.unique(code_of, return_index=True)[1]])  # by code, once per cohort
    position = people.groupby(POSITION, sort=False, observed=True).ngroup().to_numpy()
    starts = np.flatnonzero(np.r_[True, position[1:] != position[:-1]]) if len(people) else np.zeros(0, int)
    for start, end in zip(starts.tolist(), [*starts[1:].tolist(), len(people)]):
        code = code_of[start:end]
        present, counts = np.unique(code, return_counts=True)
        state = cohorts[int(present[0])].state
        eligible = {int(i): actions_of.get(cohorts[int(i)], []) for i in present}
        size = {int(i): int(n) for i, n in zip(present, counts)}
        cap = {int(i): limit.get(cohorts[int(i)], 0) for i in present}
        wanted = demand[state]
        top = {a: n for a, n in wanted.items() if a[0] not in FROM_BOTTOM}
        low = {a: n for a, n in wanted.items() if a[0] in FROM_BOTTOM}
        bottom = _Matching(low, eligible, cap)
        if low:
            _deal(code[::-1], bottom, lambda: _top_room(top, eligible, cap, size, bottom))
        rest = {i: cap[i] - bottom.used[i] for i in cap}
        upper = _Matching(top, eligible, rest)
        _deal(code, upper)
        for m, asked in ((bottom, low), (upper, top)):
            if not m.full:
                short = {a: n - m.load[a] for a, n in asked.items() if m.load[a] < n}
                raise ValueError(f"position {state}: cannot deal {short} by merit")
            for i, taken in m.count.items():
                for action, n in taken.items():
                    if n > 0:
                        dealt[by_action[(cohorts[i], action)]] = n
    return dealt


def _cohorts(frame: pd.DataFrame) -> list[Cohort]:
    """The cohort of each row of a frame with the cohort columns."""
    return [Cohort(str(u), str(s), int(t), int(g), int(b), bool(q))
            for u, s, t, g, b, q in frame[COHORT_COLUMNS].itertuples(index=False, name=None)]


def limits(rule: MeritRule, frame: pd.DataFrame) -> np.ndarray:
    """L_c of each row's cohort (a frame with the cohort columns; 0 for a cohort the rule does not know)."""
    table = pd.DataFrame([(*c, n) for c, n in rule.limit.items()], columns=[*COHORT_COLUMNS, "limit"])
    table = table.astype({"tier": "int64", "grade": "int64", "seniority": "int64", "qualified": bool})
    keys = frame[COHORT_COLUMNS].astype({"tier": "int64", "grade": "int64", "seniority": "int64", "qualified": bool})
    return keys.merge(table, on=COHORT_COLUMNS, how="left")["limit"].fillna(0).to_numpy()


def with_year1(model: LinearModel, built_rows: int, values: np.ndarray, data: ModelData, index: Index,
               flows: dict[Arc, int]) -> np.ndarray | None:
    """The solved ``values`` with the year-1 flows replaced by ``flows`` (the merit split), the later flows
    kept and every stock re-balanced (:func:`optimizer.plan.results.cohort_plan`), when every row the
    formulation built (its first ``built_rows``) still holds; else None. The deal keeps each position's count
    per action, and pay, one-off costs, caps, the mix and the budget read states and positions only, so such a
    plan has every goal of the solved one: it is optimal for the model with merit, which the solved model
    relaxes, and the later years need no second solve."""
    trial = np.array(values, dtype=float)
    for arc, var in index.flows_of(1):
        trial[var] = flows.get(arc, 0)
    stock = cohort_plan(trial, data, index).stock
    for (c, year), var in index.stock.items():
        trial[var] = stock[year].get(c, 0.0)
    return trial if holds(model, built_rows, trial) else None


def holds(model: LinearModel, built_rows: int, values: np.ndarray) -> bool:
    """Every row the formulation built (the first ``built_rows``) and every variable bound hold at ``values``,
    within the solver's feasibility tolerance (:meth:`LinearModel.row_violations`)."""
    built = model.copy()
    built.rows = built.rows[:built_rows]
    lb, ub = np.asarray(model.lb, dtype=float), np.asarray(model.ub, dtype=float)
    inside = bool(np.all(values >= lb - 1e-6 * np.maximum(1.0, np.abs(lb)))
                  and np.all(values <= ub + 1e-6 * np.maximum(1.0, np.abs(ub))))
    return inside and not built.row_violations(values)


def within_positions(fixed: LinearModel, values: np.ndarray, index: Index, horizon: int) -> LinearModel:
    """``fixed`` (:func:`fixed_year1`) with each later flow at most the solved plan's total (``values``) over the
    flows of its year, kind, source state and target state (its cohorts told apart only by seniority and
    qualification), a flow with a start rule (a floor's promotions or hires) left as it is: a linear program
    whose columns are mostly fixed at 0, for merit's re-solve of a plan whose solve stopped before its root
    relaxation (300k employees, unreachable mix: 10.7 s, 156,951 heads off the band, where the whole linear
    program with year 1 fixed found no plan in 35 s). The solved later years fit it but for the cohorts merit
    moved people between, which it may re-split within the same totals."""
    def key(arc: Arc, year: int) -> tuple:
        return (year, arc.kind, arc.source.state if arc.source else None, arc.target.state if arc.target else None)

    totals: dict[tuple, float] = defaultdict(float)
    for year in range(2, horizon + 1):
        for arc, var in index.flows_of(year):
            totals[key(arc, year)] += values[var]
    bounded = fixed.copy()
    for year in range(2, horizon + 1):
        for arc, var in index.flows_of(year):
            if var not in bounded.start_rules:
                bounded.ub[var] = min(bounded.ub[var], totals[key(arc, year)])
    return bounded


def fixed_year1(model: LinearModel, built_rows: int, flows: dict[int, float]) -> LinearModel:
    """A copy of ``model`` as the formulation built it (its first ``built_rows`` rows: no stage's fixing row)
    with each given variable fixed at its value (lb = ub, continuous: a fixed variable needs no branching):
    the year-1 flows of the merit split (and the hires), so the later years are solved for the people merit
    names. With every year-1 flow given, the copy is a linear program."""
    fixed = model.copy()
    fixed.rows = fixed.rows[:built_rows]
    for var, value in flows.items():
        fixed.lb[var] = fixed.ub[var] = float(value)
        fixed.integer[var] = False
    return fixed


@dataclass(frozen=True)
class MeritRule:
    """What merit reads besides the people: the year-1 actions each cohort is eligible for (its arcs) and
    L_c, the most people of each cohort a year-1 plan may act on."""

    eligible: dict[Cohort, list[Action]]
    limit: dict[Cohort, int]

    @classmethod
    def of(cls, arcs: Iterable[Arc], limit: dict[Cohort, int]) -> MeritRule:
        eligible: dict[Cohort, list[Action]] = defaultdict(list)
        for arc in arcs:
            if arc.kind != HIRE:
                eligible[arc.source].append(action_of(arc))
        return cls(dict(eligible), limit)


TARGET = ["to_unit", "to_sequence", "to_tier", "to_grade"]
LINE_COLUMNS = [*POSITION, "action", *TARGET, "eligible", "acted", "acted_performance", "stayer_performance",
                "exceptions"]
"""merit.csv: one row per position and year-1 action (docs/outputs.md)."""


def _pairs(rule: MeritRule, acted: pd.DataFrame) -> pd.DataFrame:
    """(cohort, action) pairs of the rule, for the actions some person of the cohort's position took: the
    cohort columns, ``action`` (the kind) and the landing state (``to_*``, empty for a redundancy)."""
    keys = acted[[*POSITION, "action", *TARGET]].drop_duplicates().astype(object)
    taken = set(keys.where(keys.notna(), None).itertuples(index=False, name=None))  # a redundancy lands nowhere
    rows = []
    for c, actions in rule.eligible.items():
        for kind, target in actions:
            landing = target if target is not None else (None, None, None, None)
            if (*c.state, kind, *landing) in taken:
                rows.append((*c, kind, *landing))
    frame = pd.DataFrame(rows, columns=[*COHORT_COLUMNS, "action", *TARGET])
    return frame.astype({"tier": "int64", "grade": "int64", "seniority": "int64", "qualified": bool})


def _key(frame: pd.DataFrame) -> np.ndarray:
    """One number per position and action (landing state included), in the order of their text keys
    ``unit|sequence|tier|grade|action|landing`` (the tie-break :func:`assess`'s callers inherit); the texts are
    built once per distinct key (a million people: a few thousand keys)."""
    columns = [*POSITION, "action", *TARGET]
    group = frame.groupby(columns, sort=False, dropna=False).ngroup().to_numpy()
    distinct = frame.iloc[np.unique(group, return_index=True)[1]]
    parts = [distinct[c].astype("string").fillna("") for c in columns]
    text = parts[0]
    for part in parts[1:]:
        text = text + "|" + part
    number, _ = pd.factorize(text, sort=True)
    return number[group]


def assess(people: pd.DataFrame, rule: MeritRule, ranked: pd.DataFrame | None = None
           ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The merit line of every position and year-1 action, and each person's place against it.

    ``people``: one row per roster employee with the cohort columns, ``performance``, ``years_in_grade``,
    ``employee_id``, ``action`` (``stay`` or the kind) and the landing state ``to_*``. For an action κ of a
    position, the eligible are the position's people whose cohort has κ; for a top-down κ the *line* is the
    lowest-ranked person acted on, and an eligible person who stays above it is *passed over*; for a
    bottom-up κ (redundancy, downgrade) the line is the highest-ranked person acted on and a person who stays
    below it is passed over. A passed-over person whose cohort acts on L_c people (its limit) is a
    stated-rule exception; any other is a breach of merit (the plan writer makes none; the verifier checks).

    Returns (lines, persons): ``lines`` in the :data:`LINE_COLUMNS` layout; ``persons`` one row per
    (person, action they are eligible for in their position) with ``employee_id``, ``key`` (position and
    action), ``eligible_rank``, ``passed`` (passed over), ``held`` (passed over because the cohort is at
    its limit), ``line`` (the performance at the line). ``ranked``: :func:`position_order` of ``people``, when
    the caller has it already (a sort of the whole roster)."""
    ranked = position_order(people) if ranked is None else ranked
    acted = ranked[~ranked["action"].isin(["stay", HIRE])]
    pairs = _pairs(rule, acted)
    persons = ranked.merge(pairs.rename(columns={"action": "eligible_for", **{t: f"e_{t}" for t in TARGET}}),
                           on=COHORT_COLUMNS, how="inner")
    persons = persons.assign(
        action=persons["eligible_for"], **{t: persons[f"e_{t}"] for t in TARGET}, took=
        persons["action"].eq(persons["eligible_for"])
        & _same_target(persons), stays=persons["action"].eq("stay"))
    persons["key"] = _key(persons)
    persons = persons.iloc[np.lexsort((persons["position_rank"].to_numpy(), persons["key"].to_numpy()))
                           ].reset_index(drop=True)  # by key, then rank (a stable sort)
    persons["eligible_rank"] = persons.groupby("key", sort=False).cumcount() + 1
    bottom = persons["action"].isin(FROM_BOTTOM)
    rank = persons["position_rank"].where(persons["took"])
    group = rank.groupby(persons["key"], sort=False)
    line_rank = np.where(bottom, group.transform("min"), group.transform("max"))
    passed = persons["stays"] & np.where(bottom, persons["position_rank"] > line_rank,
                                         persons["position_rank"] < line_rank)
    counts = acted.groupby(COHORT_COLUMNS, observed=True).size()
    taken = persons[COHORT_COLUMNS].merge(counts.rename("taken").reset_index(), on=COHORT_COLUMNS, how="left")
    held = passed & (taken["taken"].fillna(0).to_numpy() >= limits(rule, persons))
    performance = persons["performance"].where(persons["took"])
    at_line = performance.groupby(persons["key"], sort=False)
    line = np.where(bottom, at_line.transform("max"), at_line.transform("min"))
    stayer = persons["performance"].where(persons["stays"]).groupby(persons["key"], sort=False)
    nearest = np.where(bottom, stayer.transform("min"), stayer.transform("max"))
    persons = persons.assign(passed=passed, held=held, line=line, nearest=nearest)
    first = persons.drop_duplicates("key")
    lines = first[[*POSITION, "action", *TARGET]].assign(
        eligible=persons.groupby("key", sort=False).size().to_numpy(),
        acted=persons.groupby("key", sort=False)["took"].sum().to_numpy(),
        acted_performance=first["line"].to_numpy(), stayer_performance=first["nearest"].to_numpy(),
        exceptions=persons.groupby("key", sort=False)["held"].sum().to_numpy(),
    )
    lines = lines.sort_values([*POSITION, "action", *TARGET], kind="stable", na_position="first")
    return lines[LINE_COLUMNS].reset_index(drop=True), persons[
        ["employee_id", "key", *POSITION, "action", "eligible_rank", "position_rank", "position_size", "took",
         "stays", "passed", "held", "line", "performance"]]


def _same_target(persons: pd.DataFrame) -> pd.Series:
    """The person's landing state is the pair's (both empty for a redundancy)."""
    same = pd.Series(True, index=persons.index)
    for t in TARGET:
        mine, theirs = persons[t].astype("string"), persons[f"e_{t}"].astype("string")
        same &= (mine == theirs).fillna(False) | (mine.isna() & theirs.isna())
    return same
