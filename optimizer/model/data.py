"""What the formulation reads and where it puts things: :class:`ModelData` (the scenario, pay, units, the
start stock by cohort and the scenario's :class:`ModelKind`), :class:`Index` (where each modelled quantity
lives in the :class:`~optimizer.solvers.linear_model.LinearModel`) and the naming of variables and rows.

A *kind* is what a scenario plans from: ``graded`` (input tables: roster, units graded into pay coefficients
and tier caps, the pay table) or ``ladder`` (the scenario's own ladder of ``categories``). Each kind supplies
its network, rates, costs and its own list of constraint families (:mod:`optimizer.model.kinds`); no family
asks which kind it is building for.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

from models.pay import PayStructure
from models.scenario import Scenario
from optimizer.model.cohorts import Cohort
from optimizer.model.network import DOWNGRADE, HIRE, Arc, Network
from optimizer.model.payroll import state_means
from optimizer.solvers.linear_model import Expr, LinearModel, add_to

class ModelKind(Protocol):
    """What a kind of scenario supplies to the model (:mod:`optimizer.model.kinds` has the two kinds)."""

    name: str
    families: tuple[Family, ...]
    """Its constraint families, in build order."""

    def network(self, data: ModelData) -> Network:
        """Live cohorts and arcs per year."""

    def seniority_cap(self, scenario: Scenario) -> int:
        """A: seniority buckets are 0..A (A means 'A or more years in grade')."""

    def attrition(self, scenario: Scenario, c: Cohort) -> float:
        """a_σ: the yearly leaving rate of people in c's state with at least a year's service."""

    def first_year_leaving(self, scenario: Scenario, c: Cohort) -> float:
        """Leaving rate of recruits into c in their first year (``service_dependent`` only)."""

    def downgrade_leaving(self, scenario: Scenario) -> float:
        """Share of the downgraded who leave in the year of the downgrade (``service_dependent`` only)."""

    def one_off_cost(self, arc: Arc, data: ModelData, year: int) -> float:
        """One-off cost of one person on ``arc`` in plan year ``year``."""


@dataclass(frozen=True)
class ModelData:
    """Everything the formulation reads: the scenario, pay, units, the start stock by cohort and the kind."""

    scenario: Scenario
    pay: PayStructure
    units: list[str]
    initial: dict[Cohort, int]
    kind: ModelKind
    min_headcount: dict[str, float] = field(default_factory=dict)
    max_headcount: dict[str, float] = field(default_factory=dict)
    min_operations: dict[str, float] = field(default_factory=dict)
    """Workload floor: the least operations headcount of each unit in every year t ≥ 1."""
    premium: dict[Cohort, float] = field(default_factory=dict)
    """Σ (salary − pay(σ)) of each cohort's people (:mod:`optimizer.model.payroll`); empty: table pay."""
    unit_cap: dict[str, dict[int, float]] = field(default_factory=dict)
    """Budget cap of each unit with one, by year 1..H (``budget.unit_growth``, the units table's ``budget_cap``)."""
    mix_margin: dict[tuple[str, int, str], float] = field(default_factory=dict)
    """Heads by which the plan keeps inside each mix band, by (sequence, year, ``lower`` | ``upper``): a plan
    to a confidence level (:mod:`optimizer.simulate.confidence`); empty for the expected-value plan."""
    budget_margin: dict[int, float] = field(default_factory=dict)
    """CNY by which the plan keeps under each year's group budget cap (a plan to a confidence level)."""
    elastic: bool = False
    """Build the hard families (unit headcount bounds, operations floor, promotion floors) with penalised
    slacks (:func:`optimizer.model.formulation.add_hard_row`): the model is then always feasible, which
    diagnoses an infeasible one."""

    @property
    def horizon(self) -> int:
        return self.scenario.horizon

    @cached_property
    def seniority_cap(self) -> int:
        return self.kind.seniority_cap(self.scenario)

    @cached_property
    def _attrition_rates(self) -> dict[tuple[str, int], float]:
        """a_σ by (sequence, tier), filled as :meth:`attrition` meets them (it is asked once per cohort and year)."""
        return {}

    def attrition(self, c: Cohort) -> float:
        rate = self._attrition_rates.get((c.sequence, c.tier))
        if rate is None:
            rate = self._attrition_rates[(c.sequence, c.tier)] = self.kind.attrition(self.scenario, c)
        return rate

    @property
    def decide_first(self) -> bool:
        """``flow_convention: decide_then_attrition``: year t's flows act on the whole start-of-year stock and
        attrition follows, at the rate of the state each person holds after the decision."""
        return self.scenario.flow_convention == "decide_then_attrition"

    def acting_share(self, c: Cohort) -> float:
        """The share of x[c,t−1] that year t's flows may act on: 1 when decisions come first, else 1 − a_c (the
        expected stayers: the cohort's leavers are held back)."""
        return 1.0 if self.decide_first else 1.0 - self.attrition(c)

    def outflow_survival(self, c: Cohort) -> float:
        """The weight of an outflow in its source's balance: 1 − a_c when decisions come first (the people acted
        on are no longer among the source's stayers, who leave at a_c), else 1 (they were taken from the stayers)."""
        return 1.0 - self.attrition(c) if self.decide_first else 1.0

    def inflow_survival(self, arc: Arc) -> float:
        """π_a, the share of the people on ``arc`` still there at the end of the year (see
        :func:`optimizer.model.formulation.add_stock_balance`)."""
        if self.scenario.flow_convention == "start_of_year":
            return 1.0
        if self.decide_first:
            return 1.0 - self.attrition(arc.target)
        if arc.kind == DOWNGRADE:
            return 1.0 - self.kind.downgrade_leaving(self.scenario)
        if arc.kind == HIRE:
            return 1.0 - self.kind.first_year_leaving(self.scenario, arc.target)
        return 1.0 - self.attrition(arc.target)

    def one_off_cost(self, arc: Arc, year: int) -> float:
        return self.kind.one_off_cost(arc, self, year)

    def pay_of(self, c: Cohort, year: int = 0) -> float:
        """pay(σ(c), year): the unit's pay coefficient of that year (:meth:`PayStructure.coefficient_at`)."""
        return self.pay.pay(c.unit, c.sequence, c.tier, c.grade, year)

    @cached_property
    def table_payroll(self) -> float:
        """Σ pay(σ)·headcount of the roster: year-0 payroll on the pay table (the structural payroll). Cached,
        as the mean pay below: the build reads the mean pay once per unit budget and year (304 times at 100k
        employees, 5 s of a 10 s build when each read summed the roster again)."""
        return sum(self.pay_of(c) * n for c, n in self.initial.items())

    @cached_property
    def base_payroll(self) -> float:
        """Year-0 payroll: Σ salary where the roster has it (the table payroll plus the premiums)."""
        return self.table_payroll + sum(self.premium.values())

    def unit_base_payroll(self, unit: str) -> float:
        """Year-0 payroll of ``unit`` (actual pay)."""
        return sum(self.pay_of(c) * n + self.premium.get(c, 0.0) for c, n in self.initial.items() if c.unit == unit)

    @cached_property
    def state_premium(self) -> dict[tuple, float]:
        """r̄_σ, the roster's mean premium per state (:func:`optimizer.model.payroll.state_means`)."""
        return state_means(self.initial, self.premium)

    def cohort_premium(self, c: Cohort) -> float:
        """The mean premium of cohort ``c``'s roster people (0 for a cohort the roster does not hold)."""
        n = self.initial.get(c, 0)
        return self.premium.get(c, 0.0) / n if n else 0.0

    @cached_property
    def unit_attrition(self) -> dict[str, float]:
        """ā_u, the roster's headcount-weighted mean attrition rate per unit."""
        leaving: dict[str, float] = defaultdict(float)
        heads: dict[str, int] = defaultdict(int)
        for c, n in self.initial.items():
            leaving[c.unit] += self.attrition(c) * n
            heads[c.unit] += n
        return {unit: leaving[unit] / heads[unit] for unit in heads if heads[unit]}

    @cached_property
    def mean_pay(self) -> float:
        return self.base_payroll / max(1, sum(self.initial.values()))

    @cached_property
    def worn_headcount(self) -> dict[tuple[str, int], float]:
        """(sequence s, years k) → Σ_{c of s} n_c·(1 − a_c)^k: the roster's year-0 headcount of s worn by k years
        of attrition, for k = 0 … horizon."""
        worn: dict[tuple[str, int], float] = defaultdict(float)
        for c, n in self.initial.items():
            keep = 1.0 - self.attrition(c)
            for years in range(self.horizon + 1):
                worn[(c.sequence, years)] += n * keep ** years
        return dict(worn)


@dataclass(frozen=True)
class Softened:
    """A hard row of an elastic build: ``var`` ≥ 0 is how far the row's ``side`` bound gives way; ``limit`` is the
    bound as the inputs state it (a headcount, or the share or rate where the row is written in heads)."""

    row: str
    side: str
    """``minimum`` | ``maximum``"""
    limit: float
    var: int


@dataclass
class Index:
    """Where each modelled quantity lives in the LinearModel."""

    network: Network
    stock: dict[tuple[Cohort, int], int] = field(default_factory=dict)
    flow: dict[tuple[Arc, int], int] = field(default_factory=dict)
    flows_by_year: dict[int, list[tuple[Arc, int]]] = field(default_factory=lambda: defaultdict(list))
    flows_by_kind: dict[tuple[int, str], list[tuple[Arc, int]]] = field(default_factory=lambda: defaultdict(list))
    mix_over: dict[tuple[str, int], int] = field(default_factory=dict)
    mix_under: dict[tuple[str, int], int] = field(default_factory=dict)
    overrun: dict[int, int] = field(default_factory=dict)
    payroll: dict[int, Expr] = field(default_factory=dict)
    one_off: dict[int, Expr] = field(default_factory=dict)
    unit_payroll: dict[tuple[str, int], Expr] = field(default_factory=dict)
    unit_one_off: dict[tuple[str, int], Expr] = field(default_factory=dict)
    unit_overrun: dict[tuple[str, int], int] = field(default_factory=dict)
    softened: list[Softened] = field(default_factory=list)

    touching: dict[int, dict[str, list[tuple[Arc, int]]]] = field(default_factory=dict, repr=False)
    """year → unit → the flows of that year leaving or entering the unit (:meth:`flows_touching`, filled lazily)."""
    live_by_unit: dict[int, dict[str, list[Cohort]]] = field(default_factory=dict, repr=False)
    """year → unit → the unit's live cohorts that year (:meth:`live_in`, filled lazily)."""

    def flows_of(self, year: int, kind: str | None = None) -> list[tuple[Arc, int]]:
        return self.flows_by_year[year] if kind is None else self.flows_by_kind[(year, kind)]

    def flows_touching(self, year: int, unit: str) -> list[tuple[Arc, int]]:
        """The flows of ``year`` whose source or target cohort is in ``unit``, in :meth:`flows_of`'s order
        (grouped once per year: a per-unit row family would otherwise scan every flow once per unit)."""
        if year not in self.touching:
            by_unit: dict[str, list[tuple[Arc, int]]] = defaultdict(list)
            for arc, var in self.flows_of(year):
                units = {c.unit for c in (arc.source, arc.target) if c is not None}
                for u in units:
                    by_unit[u].append((arc, var))
            self.touching[year] = dict(by_unit)
        return self.touching[year].get(unit, [])


    def live_in(self, year: int, unit: str) -> list[Cohort]:
        """The live cohorts of ``year`` in ``unit``, in ``network.live[year]``'s order (grouped once per year: a
        per-unit row family would otherwise scan every cohort once per unit)."""
        if year not in self.live_by_unit:
            by_unit: dict[str, list[Cohort]] = defaultdict(list)
            for c in self.network.live[year]:
                by_unit[c.unit].append(c)
            self.live_by_unit[year] = dict(by_unit)
        return self.live_by_unit[year].get(unit, [])


Family = Callable[[LinearModel, ModelData, Index], None]
"""A constraint family: ``add_<family>(model, data, index)`` adds its variables, rows and objective terms."""


def var_name(kind: str, *parts: object) -> str:
    """Structured name of a variable or row, e.g. ``budget[y2]``, ``promote_tier[u07,technical,3,5,s2,q0,y1]``."""
    return f"{kind}[{','.join(map(str, parts))}]"


def stock_expr(index: Index, cohorts: list[Cohort], year: int, weight=lambda c: 1.0) -> Expr:
    """Σ weight(c)·x[c,year] over the given cohorts."""
    expr: Expr = {}
    for c in cohorts:
        var = index.stock.get((c, year))
        if var is not None:
            add_to(expr, var, weight(c))
    return expr
