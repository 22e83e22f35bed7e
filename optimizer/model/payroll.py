"""Payroll from the people's actual pay: the pay rule and the premium mass the model carries.

Where the roster has ``salary``, a person's *premium* is r_i = salary_i − pay(σ_i, 0) (pay(σ, t) = base salary ×
the pay coefficient of the unit's grade in year t; a blank salary counts as pay(σ, 0), r_i = 0). The pay rule is
:class:`models.pay.PayStructure`'s, one for every action (docs/decisions.md, "Pay after an action"):

    new_salary_i = pay(to-state_i, 1) + r_i     (stay, grade step, tier promotion, sequence move,
                                                 unit transfer, downgrade)
    hire: pay(to-state, 1) (r = 0);  redundancy: none (the person leaves).

So a stayer keeps their pay (changed only by the table difference of a year-1 review of their unit's grade),
a grade step adds the table's step, and a promotion or move adds the table
difference between the two positions: the personal premium travels with the person. Promotions and moves
land on the lowest grade that does not cut base pay (:meth:`models.pay.PayStructure.landing_grade`), so within
a unit they never cut anyone's pay; a transfer to a unit with a lower pay coefficient does.

Payroll of unit u in year t is then Σ_σ∈u pay(σ,t)·headcount(σ,t) + R(u,t), with the premium mass R (in CNY:
a review scales the table part only):

- R(u,0) = Σ_{i ∈ u} r_i, so payroll(0) = Σ salary;
- R(u,1) = Σ over the year-1 actions that land in u of r_i − Σ_{σ ∈ u} attrition(σ,1)·r̄_σ, where r̄_σ =
  the roster's mean premium in σ (0 where σ had nobody): expected leavers take their state's mean premium;
- R(u,t) = R(u,t−1)·(1 − ā_u) for t ≥ 2, ā_u the roster's mean attrition rate in u (headcount-weighted):
  from year 2 on the plan is cohort targets, and the year-1 premiums wear off with the unit's attrition.

Year 1 is exact for the people the plan names: every action but a transfer or a redundancy keeps r_i in the
unit, so R(u,1) does not depend on who is picked. Transfers and redundancies do; the model values them at
the source cohort's mean premium, and ``budget.csv`` is computed from the people actually picked (the
verifier reconciles it with ``actions.csv``; a cap the picked people overrun is reported as missed).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd

from models.pay import PayStructure
from optimizer.model.cohorts import COHORT_COLUMNS, Cohort


def cohort_premiums(roster: pd.DataFrame, pay: PayStructure) -> dict[Cohort, float]:
    """Σ r_i per cohort of a roster with the cohort columns (:func:`optimizer.model.cohorts.assign_cohorts`);
    empty when no one's salary differs from the table."""
    r = pay.premium_of(roster)
    if not np.any(r):
        return {}
    sums = pd.Series(r, index=roster.index).groupby([roster[c] for c in COHORT_COLUMNS], sort=True).sum()
    return {Cohort(str(u), str(s), int(t), int(g), int(b), bool(q)): float(v) for (u, s, t, g, b, q), v in sums.items()}


def state_means(initial: dict[Cohort, int], premium: dict[Cohort, float]) -> dict[tuple, float]:
    """r̄_σ: the roster's mean premium per state σ = (unit, sequence, tier, grade)."""
    total: dict[tuple, float] = defaultdict(float)
    heads: dict[tuple, int] = defaultdict(int)
    for c, n in initial.items():
        total[c.state] += premium.get(c, 0.0)
        heads[c.state] += n
    return {state: total[state] / heads[state] for state in total if heads[state]}


def wear_off(unit_mean_attrition: float, year: int) -> float:
    """(1 − ā_u)^(t−1): the share of the year-1 premium mass left in year t ≥ 1."""
    return (1.0 - unit_mean_attrition) ** (year - 1)
