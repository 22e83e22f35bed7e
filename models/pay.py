"""Pay structure: pay(σ) = base_salary(sequence, tier, grade) × pay coefficient of the unit's grade.

This module is the one place that defines pay; payroll, costs, reports and the plan all call it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

GRADES: tuple[int, ...] = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class PayStructure:
    base_salary: dict[tuple[str, int, int], float]
    coefficient: dict[str, float]
    max_tier: dict[str, int]

    @classmethod
    def from_tables(cls, pay: pd.DataFrame, graded_units: pd.DataFrame) -> "PayStructure":
        """``pay``: sequence, tier, grade, base_salary; ``graded_units``: unit_id, pay_coefficient, max_tier."""
        base = {
            (str(s), int(t), int(g)): float(b)
            for s, t, g, b in pay[["sequence", "tier", "grade", "base_salary"]].itertuples(index=False)
        }
        coefficient = dict(zip(graded_units["unit_id"].astype(str), graded_units["pay_coefficient"].astype(float)))
        max_tier = dict(zip(graded_units["unit_id"].astype(str), graded_units["max_tier"].astype(int)))
        return cls(base, coefficient, max_tier)

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

    def pay(self, unit: str, sequence: str, tier: int, grade: int) -> float:
        """Annual pay of one person in state (unit, sequence, tier, grade)."""
        return self.base_salary[(sequence, int(tier), int(grade))] * self.coefficient[unit]

    def pay_of(self, states: pd.DataFrame) -> np.ndarray:
        """Vectorised :meth:`pay` over a frame with unit_id, sequence, tier, grade columns."""
        keys = pd.MultiIndex.from_arrays(
            [states["sequence"].astype(str), states["tier"].astype(int), states["grade"].astype(int)]
        )
        base = pd.Series(self.base_salary)
        base.index = pd.MultiIndex.from_tuples(base.index)
        salaries = base.reindex(keys).to_numpy(dtype=float)
        coefficients = states["unit_id"].astype(str).map(self.coefficient).to_numpy(dtype=float)
        return salaries * coefficients

    def landing_grade(self, sequence: str, tier: int, from_pay_base: float) -> int:
        """Lowest grade of (sequence, tier) whose base salary is ≥ ``from_pay_base``; the top grade if none.

        Tier promotions and lateral moves land here, so nobody's pay is cut where the ladder allows it.
        """
        grades = [g for g in GRADES if (sequence, tier, g) in self.base_salary]
        for grade in grades:
            if self.base_salary[(sequence, tier, grade)] >= from_pay_base - 1e-9:
                return grade
        return grades[-1]
