"""The flow network: which cohorts can exist in which year and which flows can move people between them.

Variables are created only where they can be non-zero: a cohort is *live* in year t if it holds people at
the start (t = 0) or some flow of year t can land in it. Flows (arcs) leave live cohorts of year t−1:

- ``grade_step``     (u,s,k,g,b,q) → (u,s,k,g+1,0,q)               if b ≥ min_years_for_grade_step
- ``tier_promotion`` (u,s,k,g,b,q) → (u,s,k+1,g′,0,q)              if b ≥ min_years_in_grade; g′ = the lowest
  grade of tier k+1 that does not cut pay (:meth:`PayStructure.landing_grade`)
- ``sequence_move``  (u,s,k,g,b,q) → (u,s′,m,g′,0,no)               along ``mobility.mapping`` (k → m);
  operations → technical only for qualified people (``technical_eligible``)
- ``unit_transfer``  (u,s,k,g,b,q) → (u′,s,k,g,aged(b),q)           when ``mobility.unit_transfers``
- ``redundancy``     (u,s,k,g,b,q) → out                            when ``redundancy.enabled``
- ``hire``           in → (u,s,k,1,0,no) for k in ``hiring.entry_tiers[s]``
- ``downgrade``      (u,s,k,g,b,q) → (u,s,k′,g′,0,q)               for max(1, k − ``max_tiers_down``) ≤ k′ < k
  when ``mobility.downgrade.enabled``; g′ = :meth:`PayStructure.landing_grade` of tier k′ (the lowest
  grade paying at least the current base salary, else the top grade of k′: a pay cut only where tier k′
  pays less everywhere). An own ladder downgrades (u,s,k,1,0,no) → (u,s,k′,1,0,no) for the categories k′ < k
  in ``downgrade_to`` (:mod:`optimizer.model.ladder`, which also builds its promotions, hires and redundancies)

Tier caps are enforced here: no arc and no hire of year t lands on a technical tier above the unit's
``max_tier`` of year t (:meth:`PayStructure.max_tier_at`: a review may raise or lower it). People already
above a lowered cap keep their tier and pay (they stay, step up grades within their tier, leave, or move away
or down to a tier the cap admits); no one new lands there. A rate of 0 removes the arcs it governs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from models.pay import GRADES, PayStructure
from models.scenario import Scenario
from optimizer.model.cohorts import Cohort, seniority_cap

GRADE_STEP = "grade_step"
TIER_PROMOTION = "tier_promotion"
SEQUENCE_MOVE = "sequence_move"
UNIT_TRANSFER = "unit_transfer"
REDUNDANCY = "redundancy"
HIRE = "hire"
DOWNGRADE = "downgrade"
ATTRITION = "attrition"
DECISION_KINDS = (GRADE_STEP, TIER_PROMOTION, SEQUENCE_MOVE, UNIT_TRANSFER, REDUNDANCY, DOWNGRADE)

ROUTES: dict[tuple[str, str], str] = {
    ("operations", "technical"): "operations_to_technical",
    ("management", "technical"): "management_to_technical",
    ("technical", "management"): "technical_to_management",
}


class Arc(NamedTuple):
    """A flow of ``kind`` from ``source`` to ``target`` (None for redundancy); hires have source None."""

    kind: str
    source: Cohort | None
    target: Cohort | None

    @property
    def route(self) -> str | None:
        """Mobility route name of a sequence move (``operations_to_technical``, ...)."""
        if self.kind != SEQUENCE_MOVE:
            return None
        return ROUTES[(self.source.sequence, self.target.sequence)]


@dataclass(frozen=True)
class Network:
    live: list[list[Cohort]]
    """live[t]: cohorts that may hold people at the end of year t (t = 0: the roster), sorted."""
    arcs: list[list[Arc]]
    """arcs[t]: flows of year t (t ≥ 1), leaving live[t−1]; arcs[0] is empty. Hires included."""


def tier_cap_allows(pay: PayStructure, unit: str, sequence: str, tier: int, year: int) -> bool:
    """Tier cap rule: in year ``year`` a unit may receive people on technical tiers ≤ the ``max_tier`` of its
    grade that year only."""
    return sequence != "technical" or tier <= pay.max_tier_at(unit, year)


def _grade_step(c: Cohort, scenario: Scenario, pay: PayStructure) -> list[Arc]:
    promotion = scenario.promotion
    if promotion.grade_rate <= 0 or c.seniority < promotion.min_years_for_grade_step:
        return []
    if not pay.has_state(c.sequence, c.tier, c.grade + 1):
        return []
    return [Arc(GRADE_STEP, c, c._replace(grade=c.grade + 1, seniority=0))]


def _tier_promotion(c: Cohort, scenario: Scenario, pay: PayStructure, year: int) -> list[Arc]:
    promotion = scenario.promotion
    tier = c.tier + 1
    if promotion.tier_rate <= 0 or c.seniority < promotion.min_years_in_grade:
        return []
    if tier > pay.ladder(c.sequence) or not tier_cap_allows(pay, c.unit, c.sequence, tier, year):
        return []
    grade = pay.landing_grade(c.sequence, tier, pay.base_salary[(c.sequence, c.tier, c.grade)])
    return [Arc(TIER_PROMOTION, c, c._replace(tier=tier, grade=grade, seniority=0))]


def _sequence_moves(c: Cohort, scenario: Scenario, pay: PayStructure, year: int) -> list[Arc]:
    arcs = []
    mobility = scenario.mobility
    for (origin, destination), route in ROUTES.items():
        tier = getattr(mobility.mapping, route).get(c.tier)
        if origin != c.sequence or tier is None or getattr(mobility, route) <= 0:
            continue
        if route == "operations_to_technical" and not c.qualified:
            continue
        if tier > pay.ladder(destination) or not tier_cap_allows(pay, c.unit, destination, tier, year):
            continue
        grade = pay.landing_grade(destination, tier, pay.base_salary[(c.sequence, c.tier, c.grade)])
        arcs.append(Arc(SEQUENCE_MOVE, c, Cohort(c.unit, destination, tier, grade, 0, False)))
    return arcs


def _downgrades(c: Cohort, scenario: Scenario, pay: PayStructure, year: int) -> list[Arc]:
    downgrade = scenario.mobility.downgrade
    if not downgrade.enabled or downgrade.rate <= 0:
        return []
    base = pay.base_salary[(c.sequence, c.tier, c.grade)]
    return [
        Arc(DOWNGRADE, c, c._replace(tier=tier, grade=pay.landing_grade(c.sequence, tier, base), seniority=0))
        for tier in range(max(1, c.tier - downgrade.max_tiers_down), c.tier)
        if any(pay.has_state(c.sequence, tier, grade) for grade in GRADES)
        and tier_cap_allows(pay, c.unit, c.sequence, tier, year)
    ]


def _unit_transfers(c: Cohort, scenario: Scenario, pay: PayStructure, units: list[str], year: int) -> list[Arc]:
    mobility = scenario.mobility
    if not mobility.unit_transfers or mobility.transfer_rate <= 0:
        return []
    landed = c.one_year_older(seniority_cap(scenario))
    return [
        Arc(UNIT_TRANSFER, c, landed._replace(unit=unit))
        for unit in units
        if unit != c.unit and tier_cap_allows(pay, unit, c.sequence, c.tier, year)
    ]


def _redundancy(c: Cohort, scenario: Scenario) -> list[Arc]:
    if not scenario.redundancy.enabled or scenario.redundancy.max_rate <= 0:
        return []
    return [Arc(REDUNDANCY, c, None)]


def arcs_from(c: Cohort, scenario: Scenario, pay: PayStructure, units: list[str], year: int) -> list[Arc]:
    """Every flow that may leave cohort ``c`` in year ``year``."""
    return [
        *_grade_step(c, scenario, pay),
        *_tier_promotion(c, scenario, pay, year),
        *_sequence_moves(c, scenario, pay, year),
        *_downgrades(c, scenario, pay, year),
        *_unit_transfers(c, scenario, pay, units, year),
        *_redundancy(c, scenario),
    ]


def hire_arcs(scenario: Scenario, pay: PayStructure, units: list[str], year: int) -> list[Arc]:
    """Hires of year ``year`` land on grade 1 of each entry tier, in every unit whose tier cap that year allows it."""
    hiring = scenario.hiring
    if not hiring.enabled:
        return []
    arcs = []
    for sequence, tiers in sorted(hiring.entry_tiers.items()):
        if hiring.max_rate.get(sequence) <= 0:
            continue
        for unit in units:
            for tier in tiers:
                if pay.has_state(sequence, tier, 1) and tier_cap_allows(pay, unit, sequence, tier, year):
                    arcs.append(Arc(HIRE, None, Cohort(unit, sequence, tier, 1, 0, False)))
    return arcs


def build_network(initial: dict[Cohort, int], scenario: Scenario, pay: PayStructure, units: list[str]) -> Network:
    """Live cohorts and arcs for years 0..H, grown forward from the roster's cohorts."""
    cap = seniority_cap(scenario)
    live: list[list[Cohort]] = [sorted(c for c, n in initial.items() if n > 0)]
    arcs: list[list[Arc]] = [[]]
    # arcs_from depends on the cohort and the year's tier caps alone: once per (cohort, caps), not per year
    leaving: dict[tuple[Cohort, tuple[tuple[str, int], ...]], list[Arc]] = {}
    hires: dict[tuple[tuple[str, int], ...], list[Arc]] = {}
    for year in range(1, scenario.horizon + 1):
        caps = pay.tier_caps(year)
        if caps not in hires:
            hires[caps] = hire_arcs(scenario, pay, units, year)
        for c in live[-1]:
            if (c, caps) not in leaving:
                leaving[(c, caps)] = arcs_from(c, scenario, pay, units, year)
        year_arcs = [arc for c in live[-1] for arc in leaving[(c, caps)]] + hires[caps]
        reached = {c.one_year_older(cap) for c in live[-1]}
        reached.update(arc.target for arc in year_arcs if arc.target is not None)
        live.append(sorted(reached))
        arcs.append(year_arcs)
    return Network(live, arcs)
