"""Plans to a confidence level: the margins that keep a plan inside its mix bands (``mix.confidence``) and under
its budget caps (``budget.confidence``) with a chosen probability, and what that costs (docs/confidence.md).

**Margins from the binomial variance.** Under binomial attrition the people who leave state σ in year τ number
L ~ Binomial(x_σ, a_σ), with variance a_σ(1 − a_σ)·x_σ (x_σ the plan's start-of-year stock); recruits and other
inflows that leave within the year (``service_dependent``) add π(1 − π)·f for a flow of f people kept with
probability π. A loss stays lost (no later flow is sure to make it up), so the variance of a sequence's
end-of-year stock N_q(t) is taken as the sum of these over the states of q and the years τ ≤ t:
V_q(t) = Σ_{τ≤t} (Σ_{σ∈q} a_σ(1−a_σ)·x_σ(τ−1) + Σ_{inflows into q} π(1−π)·f). Under ``decide_then_attrition``
x_σ(τ−1) is the stock the flows leave, x_σ(τ−1) − Σ_{a out of σ} f_a (the people acted on leave as an inflow
of their destination, π = 1 − a there). Sequences leave independently,
so the band's lower side for s, D = N_s − L_s·N = (1−L_s)·N_s − L_s·Σ_{q≠s} N_q, has variance
(1−L_s)²·V_s + L_s²·Σ_{q≠s} V_q (upper side alike with U_s), and the plan keeps

    E[D] ≥ z·√Var(D)   heads inside the band, with z = Φ⁻¹(level) (the normal quantile),

the model's ``mix_margin`` (:func:`optimizer.model.formulation.add_mix_band`). The budget's margin is
z_b·√(Σ_{τ≤t} Σ_σ pay_σ²·a_σ(1−a_σ)·x_σ(τ−1)) CNY under the cap (``budget_margin``).

**Calibration and check.** A band holds only if all its sides hold in every year, so one-sided margins at
Φ⁻¹(level) can fall short, and the policy's hires make up part of a year's losses, so they can be generous. After
each solve the plan is simulated (``simulation.calibration_reps`` repetitions, seed ``simulation.seed``); while
the joint probability p̂ is below the level, z grows by Φ⁻¹(level) − Φ⁻¹(p̂) and the plan is solved again (at
most ``simulation.rounds`` solves). The plan written is then checked on fresh numbers (seed
``simulation.seed + 1``, ``simulation.check_reps`` repetitions), beside the expected-value plan on the same
numbers. The guarantee is that check: the probability reported is measured, with its standard error, not assumed.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np

from models.scenario import SEQUENCES, Scenario
from optimizer.simulate.engine import Outcomes
from optimizer.simulate.inputs import PlanInputs
from optimizer.simulate.results import mix_met, standard_error

SIDES = ("lower", "upper")
PROBABILITY_FLOOR = 1e-3
"""p̂ is clipped to [floor, 1 − floor] before Φ⁻¹ (a calibration round that never or always held)."""


def normal_quantile(level: float) -> float:
    """Φ⁻¹(level), the standard normal quantile."""
    return NormalDist().inv_cdf(level)


def wanted(scenario: Scenario) -> bool:
    """True when the scenario asks for a plan to a confidence level."""
    return scenario.mix.confidence is not None or scenario.budget.confidence is not None


def stock_variance(inputs: PlanInputs) -> tuple[np.ndarray, np.ndarray]:
    """(V[H, 3], B[H]): the accumulated binomial variance of each sequence's end-of-year headcount, and of the
    payroll (CNY²), along the plan (module docstring)."""
    horizon = inputs.horizon
    exposed = inputs.planned[:horizon].copy()  # [H, S]: who attrition acts on, start of each year
    if inputs.decide_first:
        for t, flows in enumerate(inputs.flows):
            internal = ~flows.is_hire
            np.add.at(exposed[t], flows.source[internal], -flows.count[internal])
    losses = inputs.attrition * (1.0 - inputs.attrition) * np.maximum(exposed, 0.0)
    yearly = np.zeros((horizon, len(SEQUENCES)))
    for q in range(len(SEQUENCES)):
        yearly[:, q] = losses[:, inputs.sequence == q].sum(axis=1)
    for t, flows in enumerate(inputs.flows):
        landing = flows.target >= 0
        spread = flows.survival * (1.0 - flows.survival) * flows.count
        np.add.at(yearly[t], inputs.sequence[flows.target[landing]], spread[landing])
    payroll = (losses * inputs.pay**2).sum(axis=1)  # row t: the losses and pay of year t + 1
    return np.cumsum(yearly, axis=0), np.cumsum(payroll)


@dataclass(frozen=True)
class Margins:
    """What a plan keeps inside its bands (heads) and under its caps (CNY), and the z that gave them."""

    z_mix: float | None
    z_budget: float | None
    mix: dict[tuple[str, int, str], float]
    budget: dict[int, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "z_mix": self.z_mix,
            "z_budget": self.z_budget,
            "mix": [{"sequence": s, "year": t, "side": side, "heads": round(m, 3)}
                    for (s, t, side), m in sorted(self.mix.items(), key=lambda kv: (kv[0][1], kv[0][0], kv[0][2]))],
            "budget": [{"year": t, "amount": round(m, 2)} for t, m in sorted(self.budget.items())],
        }


def margins(inputs: PlanInputs, z_mix: float | None, z_budget: float | None) -> Margins:
    """The margins of z standard deviations along the plan ``inputs`` (None: that goal is planned to its
    expected value)."""
    variance, payroll = stock_variance(inputs)
    mix: dict[tuple[str, int, str], float] = {}
    if z_mix is not None:
        for t in range(inputs.horizon):
            for q, sequence in enumerate(SEQUENCES):
                for side, bound in zip(SIDES, (inputs.lower[t, q], inputs.upper[t, q])):
                    if not np.isfinite(bound):
                        continue
                    others = variance[t].sum() - variance[t, q]
                    spread = np.sqrt((1.0 - bound) ** 2 * variance[t, q] + bound**2 * others)
                    mix[(sequence, t + 1, side)] = float(z_mix * spread)
    budget = {} if z_budget is None else {t + 1: float(z_budget * np.sqrt(payroll[t])) for t in range(inputs.horizon)}
    return Margins(z_mix, z_budget, mix, budget)


def next_z(z: float | None, level: float | None, achieved: float) -> float | None:
    """z for the next calibration round: z + Φ⁻¹(level) − Φ⁻¹(p̂) (unchanged without a level)."""
    if z is None or level is None:
        return z
    clipped = min(max(achieved, PROBABILITY_FLOOR), 1.0 - PROBABILITY_FLOOR)
    return z + max(normal_quantile(level) - normal_quantile(clipped), 0.0)


@dataclass(frozen=True)
class Achieved:
    """Probabilities measured on one set of repetitions."""

    mix: float
    budget: float
    reps: int

    @classmethod
    def of(cls, outcomes: Outcomes, inputs: PlanInputs) -> Achieved:
        return cls(float(np.mean(mix_met(outcomes, inputs))),
                   float(np.mean(outcomes.budget_held(inputs).all(axis=1))), outcomes.reps)

    def short_of(self, scenario: Scenario) -> bool:
        """True when a probability asked for is not reached."""
        mix, budget = scenario.mix.confidence, scenario.budget.confidence
        return (mix is not None and self.mix < mix) or (budget is not None and self.budget < budget)


def confidence_summary(scenario: Scenario, plan: Achieved, expected: Achieved, margins_used: Margins,
                       rounds: int, cost: float, expected_cost: float) -> dict[str, Any]:
    """summary.json's ``confidence``: levels asked, probabilities measured on the check for this plan and the
    expected-value plan, the margins, and the cost of the confidence (docs/outputs.md)."""
    sim = scenario.simulation
    goals = {}
    for goal, level, got, ev in (("mix", scenario.mix.confidence, plan.mix, expected.mix),
                                 ("budget", scenario.budget.confidence, plan.budget, expected.budget)):
        goals[goal] = {
            "level": level, "achieved": got, "standard_error": standard_error(got, plan.reps),
            "expected_value_plan": ev, "met": level is None or got >= level,
        }
    return {
        **goals,
        "check": {"reps": sim.check_reps, "seed": sim.seed + 1},
        "rounds": rounds,
        "margins": margins_used.to_dict(),
        "cost": {"plan": cost, "expected_value_plan": expected_cost, "difference": cost - expected_cost,
                 "percent": 100.0 * (cost - expected_cost) / expected_cost if expected_cost else None},
    }


def confidence_sentences(confidence: dict[str, Any]) -> list[str]:
    """What the confidence asked for achieved and cost, in words (terminal and both reports)."""
    lines = []
    check = confidence["check"]
    for goal, what in (("mix", "meets every mix band"), ("budget", "holds every budget cap")):
        found = confidence[goal]
        if found["level"] is None:
            continue
        verdict = "" if found["met"] else f" — short of the {found['level']:.0%} asked"
        lines.append(
            f"Planned to {found['level']:.0%} confidence: the plan {what} in {found['achieved']:.1%} of "
            f"{check['reps']:,} fresh simulations (± {found['standard_error']:.1%}){verdict}; the expected-value "
            f"plan in {found['expected_value_plan']:.1%}.")
    cost = confidence["cost"]
    percent = "" if cost["percent"] is None else f" ({cost['percent']:+.2f}%)"
    lines.append(
        f"The confidence costs {cost['difference'] / 1e6:,.1f} M CNY over the horizon{percent}: "
        f"{cost['plan'] / 1e6:,.1f} M CNY against {cost['expected_value_plan'] / 1e6:,.1f} M CNY for the "
        "expected-value plan.")
    return lines
