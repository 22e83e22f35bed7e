"""The two kinds of scenario and what each supplies to the model: its start stock (:class:`ModelData`), its
network, rates and one-off costs, and its own list of constraint families.

- ``graded`` plans a group from input tables: a roster, units graded into pay coefficients and tier caps, the
  pay table; mix band, budget cap, rate caps, hiring caps, unit bounds and requirements.
- ``ladder`` plans a scenario's own ladder of ``categories`` (no input tables): wastage, recruitment and
  retraining limits per category, requirements; no mix band, budget cap or rate caps.

:attr:`models.scenario.Scenario.kind` says which kind a scenario is; :func:`kind_of` gives its model kind.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace

import pandas as pd

from models.grading import grade_path
from models.io import InputTables
from models.pay import PayStructure
from models.scenario import Scenario
from optimizer.model import formulation as f
from optimizer.model import requirements as r
from optimizer.model.cohorts import Cohort, assign_cohorts, cohort_counts, seniority_cap
from optimizer.model.data import Family, ModelData
from optimizer.model.ladder import ladder_initial, ladder_network, ladder_pay
from optimizer.model.network import (
    DOWNGRADE,
    GRADE_STEP,
    HIRE,
    REDUNDANCY,
    SEQUENCE_MOVE,
    TIER_PROMOTION,
    UNIT_TRANSFER,
    Arc,
    Network,
    build_network,
)
from optimizer.model.payroll import cohort_premiums


def _unknown_flow(arc: Arc) -> ValueError:
    return ValueError(f"no one-off cost is defined for flows of kind '{arc.kind}'")


@dataclass(frozen=True)
class GradedKind:
    """A group planned from input tables."""

    name: str = "graded"
    families: tuple[Family, ...] = (
        f.add_stock_balance,
        f.add_outflow_availability,
        f.add_rate_caps,
        f.add_promotion_floors,
        f.add_hiring_caps,
        f.add_unit_headcount_bounds,
        f.add_operations_workload,
        f.add_operations_floor,
        f.add_mix_band,
        f.add_cost,
        f.add_budget_cap,
        f.add_disruption,
        r.add_requirements,
        r.add_flow_caps,
        r.add_redundancy_count,
    )

    def network(self, data: ModelData) -> Network:
        return build_network(data.initial, data.scenario, data.pay, data.units)

    def seniority_cap(self, scenario: Scenario) -> int:
        return seniority_cap(scenario)

    def attrition(self, scenario: Scenario, c: Cohort) -> float:
        return scenario.attrition.rate(c.sequence, c.tier)

    def first_year_leaving(self, scenario: Scenario, c: Cohort) -> float:
        return scenario.attrition.first_year_rate(c.sequence, c.tier)

    def downgrade_leaving(self, scenario: Scenario) -> float:
        return scenario.mobility.downgrade.wastage

    def one_off_cost(self, arc: Arc, data: ModelData, year: int) -> float:
        """Hiring (``hiring.cost`` of the sequence), retraining or a management ↔ technical move, a transfer, a
        downgrade, a redundancy (``redundancy.cost_factor`` × pay of the state left, at the unit's coefficient of
        the year of the redundancy); grade steps and tier
        promotions cost nothing once (their pay rise is in the payroll). Any other kind raises."""
        scenario = data.scenario
        if arc.kind == HIRE:
            return scenario.hiring.cost.get(arc.target.sequence)
        if arc.kind == SEQUENCE_MOVE:
            mobility = scenario.mobility
            return mobility.retraining_cost if arc.route == "operations_to_technical" else mobility.move_cost
        if arc.kind == UNIT_TRANSFER:
            return scenario.mobility.transfer_cost
        if arc.kind == DOWNGRADE:
            return scenario.mobility.downgrade.cost
        if arc.kind == REDUNDANCY:
            return scenario.redundancy.cost_factor * data.pay_of(arc.source, year)
        if arc.kind in (GRADE_STEP, TIER_PROMOTION):
            return 0.0
        raise _unknown_flow(arc)


@dataclass(frozen=True)
class LadderKind:
    """A scenario's own ladder of ``categories``: category i is the cohort (unit, sequence, i, 1, 0, no)."""

    name: str = "ladder"
    families: tuple[Family, ...] = (
        f.add_stock_balance,
        f.add_outflow_availability,
        f.add_cost,
        f.add_disruption,
        r.add_requirements,
        r.add_recruitment_caps,
        r.add_retraining_caps,
        r.add_flow_caps,
        r.add_redundancy_count,
    )

    def network(self, data: ModelData) -> Network:
        return ladder_network(data.scenario)

    def seniority_cap(self, scenario: Scenario) -> int:
        """No years-in-grade rules: one seniority bucket."""
        return 0

    def attrition(self, scenario: Scenario, c: Cohort) -> float:
        return scenario.categories.level(c.tier).wastage

    def first_year_leaving(self, scenario: Scenario, c: Cohort) -> float:
        return 1.0 - scenario.categories.level(c.tier).survival_first_year

    def downgrade_leaving(self, scenario: Scenario) -> float:
        return scenario.categories.downgrade_wastage

    def one_off_cost(self, arc: Arc, data: ModelData, year: int) -> float:
        """Recruiting (``recruit_cost`` of the category joined), retraining (``retraining.cost``), downgrading
        (``downgrade_cost``) and redundancy (``redundancy_cost``) of the category left. Any other kind raises."""
        categories = data.scenario.categories
        if arc.kind == HIRE:
            return categories.level(arc.target.tier).recruit_cost
        level = categories.level(arc.source.tier)
        if arc.kind == TIER_PROMOTION:
            return level.retraining.cost
        if arc.kind == DOWNGRADE:
            return level.downgrade_cost
        if arc.kind == REDUNDANCY:
            return level.redundancy_cost
        raise _unknown_flow(arc)


GRADED, LADDER = GradedKind(), LadderKind()
KINDS = {kind.name: kind for kind in (GRADED, LADDER)}


def kind_of(scenario: Scenario) -> GradedKind | LadderKind:
    """The model kind of a scenario (:attr:`models.scenario.Scenario.kind`)."""
    return KINDS[scenario.kind]


def graded_model_data(tables: InputTables, scenario: Scenario) -> tuple[ModelData, pd.DataFrame, pd.DataFrame]:
    """(ModelData, each unit's grade path over years 0..H (:func:`models.grading.grade_path`), roster with cohort
    columns) of a graded scenario on validated tables."""
    graded = grade_path(tables.units, scenario.unit_grading, scenario.horizon)
    pay = PayStructure.from_tables(tables.pay, graded)
    roster = assign_cohorts(tables.employees, scenario)
    units = tables.units.set_index("unit_id")
    bounds = {
        column: {str(u): float(v) for u, v in units[column].dropna().items()}
        for column in ("min_headcount", "max_headcount", "min_operations", "budget_cap")
        if column in units.columns
    }
    initial = cohort_counts(roster)
    premium = cohort_premiums(roster, pay)
    data = ModelData(
        scenario=scenario,
        pay=pay,
        units=sorted(graded["unit_id"].astype(str).unique()),
        initial=initial,
        kind=GRADED,
        min_headcount=_floors(bounds.get("min_headcount", {}), scenario.workload.headcount, initial, None),
        max_headcount=bounds.get("max_headcount", {}),
        min_operations=_floors(bounds.get("min_operations", {}), scenario.workload.operations, initial, "operations"),
        premium=premium,
    )
    caps = _unit_caps(data, bounds.get("budget_cap", {}))
    return (replace(data, unit_cap=caps) if caps else data), graded, roster


def _floors(table: dict[str, float], share: float, initial: dict[Cohort, int], sequence: str | None) -> dict[str, float]:
    """Per unit: the larger of the units table's floor and ``share`` × the unit's year-0 headcount (of ``sequence``;
    None: everyone); units with neither have no floor."""
    start: dict[str, float] = defaultdict(float)
    for c, n in initial.items():
        if sequence is None or c.sequence == sequence:
            start[c.unit] += n
    scaled = {unit: share * heads for unit, heads in start.items() if share * heads > 0}
    return {unit: max(table.get(unit, 0.0), scaled.get(unit, 0.0)) for unit in sorted(set(table) | set(scaled))}


def _unit_caps(data: ModelData, fixed: dict[str, float]) -> dict[str, dict[int, float]]:
    """cap(u,t) for t = 1..H: the units table's ``budget_cap`` where given, else payroll(u,0)·(1 + unit_growth)^t
    when ``budget.unit_growth`` is set."""
    growth = data.scenario.budget.unit_growth
    years = range(1, data.horizon + 1)
    caps = {unit: {t: cap for t in years} for unit, cap in fixed.items()}
    if growth is not None:
        for unit in data.units:
            if unit not in caps:
                base = data.unit_base_payroll(unit)
                caps[unit] = {t: base * (1.0 + growth) ** t for t in years}
    return caps


def ladder_model_data(scenario: Scenario) -> ModelData:
    """ModelData of a scenario with its own ladder: no input tables are read."""
    categories = scenario.categories
    return ModelData(scenario, ladder_pay(categories), [categories.unit], ladder_initial(categories), LADDER)
