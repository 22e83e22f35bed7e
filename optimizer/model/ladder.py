"""A scenario's own ladder (``categories``): its states, pay and flows, without input tables.

Category i (lowest first) is the cohort (unit, sequence, i, 1, 0, no) of ``categories.unit`` and
``categories.sequence``; every category is live in every year. Its flows each year:

- ``tier_promotion`` i → i+1 (retraining) when category i has ``retraining``
- ``downgrade``      i → j for every j in ``downgrade_to`` (lower categories only)
- ``redundancy``     i → out
- ``hire``           in → i when ``recruit_max`` > 0

Pay is the category's ``wage`` (unit coefficient 1), so payroll is Σ wage·heads and is 0 when no wages
are given. One-off costs are the category's ``recruit_cost``, ``retraining.cost`` (of the category
retrained out of), ``downgrade_cost`` and ``redundancy_cost``.
"""

from __future__ import annotations

from models.pay import PayStructure
from models.scenario import Categories, Scenario
from optimizer.model.cohorts import Cohort
from optimizer.model.network import DOWNGRADE, HIRE, REDUNDANCY, TIER_PROMOTION, Arc, Network


def category_cohort(categories: Categories, tier: int) -> Cohort:
    return Cohort(categories.unit, categories.sequence, tier, 1, 0, False)


def ladder_initial(categories: Categories) -> dict[Cohort, float]:
    """Year-0 strength of every category."""
    return {category_cohort(categories, tier): level.strength for tier, level in enumerate(categories.levels, start=1)}


def ladder_pay(categories: Categories) -> PayStructure:
    """pay(category) = its wage; the one unit has coefficient 1 and no tier cap."""
    base = {(categories.sequence, tier, 1): level.wage for tier, level in enumerate(categories.levels, start=1)}
    return PayStructure(base, {categories.unit: 1.0}, {categories.unit: len(categories.levels)})


def _arcs_from(categories: Categories, tier: int) -> list[Arc]:
    level, source = categories.level(tier), category_cohort(categories, tier)
    arcs = [Arc(DOWNGRADE, source, category_cohort(categories, categories.tier_of(lower))) for lower in level.downgrade_to]
    if level.retraining is not None and tier < len(categories.levels):
        arcs.append(Arc(TIER_PROMOTION, source, category_cohort(categories, tier + 1)))
    arcs.append(Arc(REDUNDANCY, source, None))
    if level.recruit_max > 0:
        arcs.append(Arc(HIRE, None, source))
    return arcs


def ladder_network(scenario: Scenario) -> Network:
    """Every category live in years 0..H; the same arcs every year."""
    categories = scenario.categories
    tiers = range(1, len(categories.levels) + 1)
    cohorts = [category_cohort(categories, tier) for tier in tiers]
    year_arcs = [arc for tier in tiers for arc in _arcs_from(categories, tier)]
    years = range(scenario.horizon + 1)
    return Network([list(cohorts) for _ in years], [[] if year == 0 else list(year_arcs) for year in years])
