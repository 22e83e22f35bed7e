"""Checks of ``requirements`` shared by both independent verifiers: plans from input tables
(:mod:`optimizer.verify.graded`) and own-ladder plans (:mod:`optimizer.verify.ladder`).

Each verifier's plan object answers the :class:`RequirementPlan` questions from its own files (how many
heads a group of states has in a year, how many people flows of some kinds bring into it); the checks below
recompute everything else from ``requirements.csv`` and the scenario. They share no code with
:mod:`optimizer.model.requirements` (the model).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Protocol

from models.scenario import FlowCap, Requirement, Scenario, Selection
from optimizer.verify.report import Finding, fmt

__all__ = ["RequirementPlan", "REQUIREMENT_CHECKS", "requirement_costs"]


class RequirementPlan(Protocol):
    scenario: Scenario
    requirements: list[dict[str, Any]]
    """requirements.csv rows (requirement, year, required, headcount, overmanning, short_time, cost)."""
    tol: float

    @property
    def horizon(self) -> int: ...

    def group_heads(self, group: Selection, year: int) -> float:
        """Σ headcount.csv of the states ``group`` selects, in ``year``."""

    def brought_in(self, cap: FlowCap, year: int) -> float:
        """Σ flows.csv counts of year ``year`` of a kind in ``cap.kinds`` landing in a state ``cap`` selects."""


def _close(p: RequirementPlan, reported: float, expected: float) -> bool:
    return abs(reported - expected) <= p.tol * max(1.0, abs(expected))


def _exceeds(p: RequirementPlan, value: float, limit: float) -> bool:
    return value > limit + p.tol * max(1.0, abs(limit))


def _demand(p: RequirementPlan, name: str) -> Requirement | None:
    return next((r for r in p.scenario.requirements.demand if r.name == name), None)


def requirement_costs(p: RequirementPlan) -> dict[int, tuple[float, float]]:
    """Year → (Σ overmanning_cost·overmanning, Σ short_time_cost·short_time) of the requirements.csv rows, with
    the scenario's costs per head (rows naming no requirement of the scenario add nothing)."""
    costs: dict[int, tuple[float, float]] = defaultdict(lambda: (0.0, 0.0))
    for row in p.requirements:
        requirement = _demand(p, row["requirement"])
        if requirement is not None:
            over, short = costs[int(row["year"])]
            costs[int(row["year"])] = (over + requirement.overmanning_cost * row["overmanning"],
                                       short + requirement.short_time_cost * row["short_time"])
    return dict(costs)


def check_requirements(p: RequirementPlan) -> list[Finding]:
    """requirements.csv lists every (requirement, year) of the scenario once, with its ``required`` heads and
    headcount = Σ headcount.csv of the states it selects. ``exact``: headcount − overmanning −
    (1−φ)·short_time = required with overmanning, short_time ≥ 0; ``minimum``: headcount ≥ required with no
    overmanning or short time. cost = overmanning_cost·overmanning + short_time_cost·short_time."""
    exact, phi = p.scenario.requirements.mode == "exact", p.scenario.requirements.short_time_fraction
    expected = {(r.name, year): (r, required) for r in p.scenario.requirements.demand
                for year, required in r.headcount.items()}
    findings, seen = [], set()
    for row in p.requirements:
        key = (row["requirement"], int(row["year"]))
        where = f"requirements.csv {key[0]} year {key[1]}"
        fail = lambda message: findings.append(Finding("requirements", f"{where}: {message}"))  # noqa: E731
        if key in seen or key not in expected:
            fail("listed more than once" if key in seen else "not a requirement of the scenario")
            continue
        seen.add(key)
        requirement, required = expected[key]
        heads = p.group_heads(requirement, key[1])
        over, short = row["overmanning"], row["short_time"]
        if not _close(p, row["required"], required):
            fail(f"required {fmt(row['required'])}, the scenario requires {fmt(required)}")
        if not _close(p, row["headcount"], heads):
            fail(f"headcount {fmt(row['headcount'])}, headcount.csv has {fmt(heads)}")
        if exact and not _close(p, heads - over - (1 - phi) * short, required):
            fail(f"{fmt(heads)} heads − {fmt(over)} overmanning − {fmt(1 - phi)} × {fmt(short)} short time "
                 f"= {fmt(heads - over - (1 - phi) * short)}, required {fmt(required)}")
        if not exact and _exceeds(p, required, heads):
            fail(f"{fmt(heads)} heads < required {fmt(required)}")
        if (exact and min(over, short) < -p.tol) or (not exact and (over or short)):
            fail(f"overmanning {fmt(over)}, short time {fmt(short)} (mode {p.scenario.requirements.mode})")
        cost = requirement.overmanning_cost * over + requirement.short_time_cost * short
        if not _close(p, row["cost"], cost):
            fail(f"cost {fmt(row['cost'])}, recomputed {fmt(cost)}")
    findings += [Finding("requirements", f"requirements.csv lacks {name} year {year}")
                 for name, year in sorted(expected.keys() - seen)]
    return findings


def check_overmanning_cap(p: RequirementPlan) -> list[Finding]:
    """Σ_r overmanning[r, t] ≤ ``requirements.overmanning_max`` in every year (when given)."""
    limit = p.scenario.requirements.overmanning_max
    totals: dict[int, float] = defaultdict(float)
    for row in p.requirements:
        totals[int(row["year"])] += row["overmanning"]
    return [Finding("overmanning_cap", f"year {year}: {fmt(total)} overmanning > overmanning_max {fmt(limit)}")
            for year, total in sorted(totals.items()) if limit is not None and _exceeds(p, total, limit)]


def check_short_time_cap(p: RequirementPlan) -> list[Finding]:
    """short_time[r, t] ≤ ``short_time_max`` of requirement r."""
    findings = []
    for row in p.requirements:
        requirement = _demand(p, row["requirement"])
        if requirement is not None and _exceeds(p, row["short_time"], requirement.short_time_max):
            findings.append(Finding("short_time_cap", f"{row['requirement']} year {row['year']}: short time "
                                    f"{fmt(row['short_time'])} > short_time_max {fmt(requirement.short_time_max)}"))
    return findings


def check_flow_caps(p: RequirementPlan) -> list[Finding]:
    """For every cap r of ``requirements.caps`` and year t it covers (``years``, default 1..H), F = Σ flows of
    its ``kinds`` landing in its states S_r (counted before in-year wastage): F ≤ ``max_per_year``; F ≤
    ``max_share_of_destination`` × Σ headcount.csv of S_r in year t (the group after that year's flows)."""
    findings = []
    for cap in p.scenario.requirements.caps:
        for year in cap.years or range(1, p.horizon + 1):
            brought, strength = p.brought_in(cap, year), p.group_heads(cap, year)
            limits = {"max_per_year": cap.max_per_year, f"max_share_of_destination × {fmt(strength)}": None
                      if cap.max_share_of_destination is None else cap.max_share_of_destination * strength}
            findings += [Finding("flow_caps", f"{cap.name} year {year}: {fmt(brought)} brought in > {label} "
                                              f"= {fmt(limit)}")
                         for label, limit in limits.items() if limit is not None and _exceeds(p, brought, limit)]
    return findings


REQUIREMENT_CHECKS = {
    "flow_caps": check_flow_caps,
    "requirements": check_requirements,
    "overmanning_cap": check_overmanning_cap,
    "short_time_cap": check_short_time_cap,
}
"""The shared checks, in the order both verifiers run them."""
