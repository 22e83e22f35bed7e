"""Pay structure: pay(σ, t) = base_salary(sequence, tier, grade) × pay coefficient of the unit's grade in year t
(people above a lowered technical tier cap keep theirs: :meth:`PayStructure.coefficient_for`), and a person's
salary = pay(σ, t) + their premium over the table, which travels with them (:class:`PayStructure`).

This module is the one place that defines pay; payroll, costs, reports and the plan all call it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

GRADES: tuple[int, ...] = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class PayStructure:
    """Base salaries, and each unit's pay coefficient and technical tier cap by plan year.

    ``coefficient`` and ``max_tier`` are year 0's; ``changes`` lists, per unit, the years from which a review
    changes them (:func:`models.grading.grade_path`): the terms of year t are those of the last change at or
    before t. :meth:`coefficient_at` and :meth:`max_tier_at` are the one place that reads them by (unit, year).

    The pay rule, one for the table and the people (docs/decisions.md, "Pay after an action"):

        pay(σ, t)       = base_salary(s, k, g) × coefficient_for(u, s, k, t)       (the table, σ = (u, s, k, g))
        r_i             = salary_i − pay(σ_i, 0)                                   (:meth:`premium_of`; 0 without salary)
        salary_i(t)     = pay(σ_i(t), t) + r_i

    The premium r_i is in CNY and belongs to the person: it travels with them through every action (grade step,
    promotion, move, transfer, downgrade) and is untouched by a review of the unit's grade, which changes the
    table part pay(σ, t) only. A hire has r = 0. So a stayer's pay changes by the table difference of a year-1
    review only, and anyone else's by the table difference between the two positions.
    """

    base_salary: dict[tuple[str, int, int], float]
    coefficient: dict[str, float]
    max_tier: dict[str, int]
    changes: dict[str, tuple[tuple[int, float, int], ...]] = field(default_factory=dict)
    """unit → ((year, pay coefficient, max tier), ...) from each year its grade's terms change, ascending."""

    @classmethod
    def from_tables(cls, pay: pd.DataFrame, graded_units: pd.DataFrame) -> "PayStructure":
        """``pay``: sequence, tier, grade, base_salary; ``graded_units``: unit_id, pay_coefficient, max_tier, one
        row per unit (:func:`models.grading.grade_units`) or per unit and ``year`` (a grade path)."""
        base = {
            (str(s), int(t), int(g)): float(b)
            for s, t, g, b in pay[["sequence", "tier", "grade", "base_salary"]].itertuples(index=False)
        }
        path = graded_units if "year" in graded_units.columns else graded_units.assign(year=0)
        path = path.sort_values(["unit_id", "year"], kind="stable")
        start = path[path["year"] == 0]
        coefficient = dict(zip(start["unit_id"].astype(str), start["pay_coefficient"].astype(float)))
        max_tier = dict(zip(start["unit_id"].astype(str), start["max_tier"].astype(int)))
        changes: dict[str, list[tuple[int, float, int]]] = {}
        for unit, rows in path[path["year"] > 0].groupby("unit_id", sort=True):
            terms = (coefficient[str(unit)], max_tier[str(unit)])
            for year, coef, cap in rows[["year", "pay_coefficient", "max_tier"]].itertuples(index=False):
                if (float(coef), int(cap)) != terms:
                    terms = (float(coef), int(cap))
                    changes.setdefault(str(unit), []).append((int(year), *terms))
        return cls(base, coefficient, max_tier, {unit: tuple(c) for unit, c in changes.items()})

    def _terms(self, unit: str, year: int) -> tuple[float, int]:
        terms = (self.coefficient[unit], self.max_tier[unit])
        for since, coef, cap in self.changes.get(unit, ()):
            if since > year:
                break
            terms = (coef, cap)
        return terms

    def coefficient_at(self, unit: str, year: int = 0) -> float:
        """Pay coefficient of ``unit`` in plan year ``year`` (that of its grade then)."""
        return self._terms(unit, year)[0]

    def max_tier_at(self, unit: str, year: int = 0) -> int:
        """Highest technical tier people may land on in ``unit`` in plan year ``year``."""
        return self._terms(unit, year)[1]

    def kept_coefficient(self, unit: str, sequence: str, tier: int, year: int = 0) -> float | None:
        """The coefficient a red-circled person keeps: for a technical tier above the unit's cap of ``year``, the
        unit's coefficient in the last year before it whose cap admitted the tier; None within the cap, and above
        a cap that never admitted the tier (nothing to keep: such people are paid the unit's coefficient)."""
        if sequence != "technical" or tier <= self.max_tier_at(unit, year):
            return None
        return next((self.coefficient_at(unit, y) for y in range(year - 1, -1, -1) if self.max_tier_at(unit, y) >= tier),
                    None)

    def coefficient_for(self, unit: str, sequence: str, tier: int, year: int = 0) -> float:
        """The pay coefficient of people in (unit, sequence, tier) in plan year ``year``: the unit's coefficient
        that year, except for people above a lowered technical tier cap, who keep their pay: there the larger of
        that coefficient and the one they keep (:meth:`kept_coefficient`). No one new lands above the cap, so
        everyone there was there before it fell."""
        now = self.coefficient_at(unit, year)
        kept = self.kept_coefficient(unit, sequence, tier, year)
        return now if kept is None else max(now, kept)

    def tier_caps(self, year: int) -> tuple[tuple[str, int], ...]:
        """(unit, max tier) of every unit in ``year``: equal tuples mean the same caps."""
        return tuple((unit, self.max_tier_at(unit, year)) for unit in sorted(self.max_tier))

    @cached_property
    def _ladders(self) -> dict[str, int]:
        ladders: dict[str, int] = {}
        for sequence, tier, _ in self.base_salary:
            ladders[sequence] = max(ladders.get(sequence, 0), tier)
        return ladders

    def ladder(self, sequence: str) -> int:
        """Number of tiers of ``sequence`` (the highest tier with a base salary)."""
        return self._ladders.get(sequence, 0)

    def has_state(self, sequence: str, tier: int, grade: int) -> bool:
        return (sequence, tier, grade) in self.base_salary

    def pay(self, unit: str, sequence: str, tier: int, grade: int, year: int = 0) -> float:
        """Annual pay of one person in state (unit, sequence, tier, grade) in plan year ``year``."""
        return self.base_salary[(sequence, int(tier), int(grade))] * self.coefficient_for(unit, sequence, int(tier), year)

    def pay_of(self, states: pd.DataFrame, year: int = 0) -> np.ndarray:
        """Vectorised :meth:`pay` over a frame with unit_id, sequence, tier, grade columns, in plan year ``year``."""
        keys = pd.MultiIndex.from_arrays(
            [states["sequence"].astype(str), states["tier"].astype(int), states["grade"].astype(int)]
        )
        base = pd.Series(self.base_salary)
        base.index = pd.MultiIndex.from_tuples(base.index)
        salaries = base.reindex(keys).to_numpy(dtype=float)
        groups = pd.MultiIndex.from_arrays(
            [states["unit_id"].astype(str), states["sequence"].astype(str), states["tier"].astype(int)]
        )
        coefficients = pd.Series(
            [self.coefficient_for(u, s, t, year) if u in self.coefficient else np.nan for u, s, t in groups.unique()],
            index=groups.unique(), dtype=float,
        )
        return salaries * coefficients.reindex(groups).to_numpy(dtype=float)

    def premium_of(self, people: pd.DataFrame) -> np.ndarray:
        """r_i = salary_i − pay(σ_i, 0) per row of a frame with unit_id, sequence, tier, grade and optionally
        ``salary``: what each person is paid above (or below) the table in year 0; 0 where ``salary`` is blank
        or absent (the person is paid the table)."""
        table = self.pay_of(people)
        if "salary" not in people.columns:
            return np.zeros(len(people))
        salary = pd.to_numeric(people["salary"], errors="coerce").to_numpy(dtype=float)
        return np.where(np.isnan(salary), 0.0, salary - table)

    def landing_grade(self, sequence: str, tier: int, from_pay_base: float) -> int:
        """Lowest grade of (sequence, tier) whose base salary is ≥ ``from_pay_base``; the top grade if none.

        Tier promotions and lateral moves land here, so nobody's pay is cut where the ladder allows it.
        """
        grades = [g for g in GRADES if (sequence, tier, g) in self.base_salary]
        for grade in grades:
            if self.base_salary[(sequence, tier, grade)] >= from_pay_base - 1e-9:
                return grade
        return grades[-1]
