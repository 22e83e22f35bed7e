"""Roster → cohort counts.

A cohort is a state σ = (unit, sequence, tier, grade) refined by the two facts that decide what may happen
to a person: the seniority bucket ``min(years_in_grade, A)`` with ``A`` the longest minimum any rule asks
for, and ``qualified`` (operations staff with ``technical_eligible``, the only ones who may retrain into the
technical sequence). Inside a cohort people are interchangeable for every constraint, so the model's size
depends on the number of cohorts, never on headcount.
"""

from __future__ import annotations

from typing import NamedTuple

import pandas as pd

from models.scenario import Scenario


class Cohort(NamedTuple):
    unit: str
    sequence: str
    tier: int
    grade: int
    seniority: int
    qualified: bool

    @property
    def state(self) -> tuple[str, str, int, int]:
        return (self.unit, self.sequence, self.tier, self.grade)

    def one_year_older(self, cap: int) -> Cohort:
        """The same people a year later in the same grade: seniority bucket :func:`aged`."""
        return Cohort(self.unit, self.sequence, self.tier, self.grade, aged(self.seniority, cap), self.qualified)

    def label(self) -> str:
        return f"{self.unit},{self.sequence},{self.tier},{self.grade},s{self.seniority},q{int(self.qualified)}"


COHORT_COLUMNS = ["unit_id", "sequence", "tier", "grade", "seniority", "qualified"]


def seniority_cap(scenario: Scenario) -> int:
    """A = the largest years-in-grade threshold any rule uses; buckets are 0..A (A means 'A or more')."""
    return max(scenario.promotion.min_years_in_grade, scenario.promotion.min_years_for_grade_step)


def aged(seniority: int, cap: int) -> int:
    """Bucket after one more year in the same grade."""
    return min(seniority + 1, cap)


def assign_cohorts(employees: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """The roster with ``seniority`` and ``qualified`` columns added (vectorised)."""
    cap = seniority_cap(scenario)
    eligible = (
        employees["technical_eligible"].astype(bool)
        if "technical_eligible" in employees.columns
        else pd.Series(False, index=employees.index)
    )
    return employees.assign(
        seniority=employees["years_in_grade"].astype(float).clip(upper=cap).astype(int),
        qualified=eligible & (employees["sequence"] == "operations"),
    )


def cohort_counts(roster: pd.DataFrame) -> dict[Cohort, int]:
    """Headcount per cohort of a roster that went through :func:`assign_cohorts`."""
    counts = roster.groupby(COHORT_COLUMNS, sort=True, observed=True).size()
    return {
        Cohort(str(u), str(s), int(t), int(g), int(b), bool(q)): int(n)
        for (u, s, t, g, b, q), n in counts.items()
    }
