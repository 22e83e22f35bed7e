"""Independent verifier of own-ladder plans (scenarios with ``categories.levels``).

Re-checks a ladder plan folder from its own files alone: ``headcount.csv``, ``flows.csv``,
``requirements.csv`` and the resolved scenario in ``summary.json`` (docs/outputs.md, docs/requirements.md).
It shares no code with the formulation, the ladder network or the requirement families: balances, caps,
requirements and costs are recomputed here from the scenario's categories. Each check is a small function
``LadderPlan → list[Finding]`` (one finding per offending category, year or row), in the shape of
:mod:`optimizer.verify.graded`; the checks of requirements and flow caps are those of
:mod:`optimizer.verify.requirements`, shared with the verifier of plans from input tables.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Callable

import pandas as pd
from pydantic import ValidationError

from models.scenario import Category, FlowCap, Scenario, Selection
from optimizer.plan.contract import columns
from optimizer.plan.reader import SUMMARY_FILE, read_plan_table, read_summary
from optimizer.verify.report import (
    Finding,
    Unreadable,
    VerificationReport,
    fmt,
    print_report,
    read_or_report,
    run_checks,
)
from optimizer.verify.requirements import REQUIREMENT_CHECKS, requirement_costs

__all__ = ["LadderPlan", "COST_PARTS", "is_ladder_plan", "load_ladder_plan", "verify_ladder_plan",
           "verify_ladder_command"]

FILLED = {"headcount": columns("headcount"), "flows": ["year", "kind", "count"],
          "requirements": columns("requirements")}
"""Columns that must have a value in every row of each file."""
HIRE, RETRAIN, DOWNGRADE, REDUNDANCY, ATTRITION = "hire", "tier_promotion", "downgrade", "redundancy", "attrition"
KINDS = (HIRE, RETRAIN, DOWNGRADE, REDUNDANCY, ATTRITION)
ONE_OFF = {HIRE: "recruitment", RETRAIN: "retraining", DOWNGRADE: "downgrading", REDUNDANCY: "redundancy"}
COST_PARTS = ("wages", *ONE_OFF.values(), "overmanning", "short_time")
"""The parts of the ``cost`` objective term, by year: Σ wage·heads, one-off costs per flow kind, and the
requirements' overmanning and short-time costs."""


@dataclass(frozen=True)
class Move:
    """A flows.csv row on the ladder: ``source``/``target`` are category tiers (None: outside the company)."""

    row: int
    year: int
    kind: str
    source: int | None
    target: int | None
    count: float


@dataclass
class LadderPlan:
    """A ladder plan's files and the figures recomputed from them (each computed once)."""

    scenario: Scenario
    summary: dict[str, Any]
    heads_rows: list[tuple[int, int, float]]
    """(tier, year, headcount) of the headcount.csv rows on the ladder."""
    moves: list[Move]
    """The flows.csv rows whose states are categories."""
    requirements: list[dict[str, Any]]
    strays: list[str]
    """headcount.csv and flows.csv rows whose state is not a category of the ladder."""
    tol: float

    @property
    def horizon(self) -> int:
        return self.scenario.horizon

    @property
    def tiers(self) -> range:
        return range(1, len(self.scenario.categories.levels) + 1)

    def level(self, tier: int) -> Category:
        return self.scenario.categories.level(tier)

    def name(self, tier: int | None) -> str:
        return "outside" if tier is None else self.level(tier).name

    @cached_property
    def stock(self) -> dict[tuple[int, int], float]:
        """headcount(tier, year), repeated rows summed; a category not listed has 0."""
        stock: dict[tuple[int, int], float] = defaultdict(float)
        for tier, year, heads in self.heads_rows:
            stock[(tier, year)] += heads
        return stock

    def heads(self, tier: int, year: int) -> float:
        return self.stock.get((tier, year), 0.0)

    @cached_property
    def decided(self) -> list[Move]:
        """Moves other than attrition, of a known kind and with the states their kind needs."""
        return [m for m in self.moves if m.kind != ATTRITION and _shape_problem(m) is None]

    @property
    def decide_first(self) -> bool:
        """``flow_convention: decide_then_attrition``: the moves act on the whole start-of-year headcount, then
        everyone wastes at the rate of the category they hold."""
        return self.scenario.flow_convention == "decide_then_attrition"

    def survival(self, m: Move) -> float:
        """π: share of an inflow still there at the end of the year under the plan's ``flow_convention``."""
        if self.scenario.flow_convention == "start_of_year":
            return 1.0
        if self.decide_first:
            return 1.0 - self.level(m.target).wastage
        if m.kind == DOWNGRADE:
            return 1.0 - self.scenario.categories.downgrade_wastage
        target = self.level(m.target)
        if m.kind == HIRE:
            return 1.0 - (target.wastage if target.first_year_wastage is None else target.first_year_wastage)
        return 1.0 - target.wastage

    def unit_cost(self, m: Move) -> float:
        """One-off cost of one person on ``m``: the recruit cost of the category entered, else the retraining,
        downgrade or redundancy cost of the category left."""
        if m.kind == HIRE:
            return self.level(m.target).recruit_cost
        level = self.level(m.source)
        retraining = level.retraining.cost if level.retraining is not None else 0.0
        return {RETRAIN: retraining, DOWNGRADE: level.downgrade_cost, REDUNDANCY: level.redundancy_cost}[m.kind]

    def members(self, selection: Selection) -> list[int]:
        """The category tiers a requirement or flow cap selects: its category, or those of its unit/sequence/tiers."""
        categories = self.scenario.categories
        if selection.category is not None:
            return [categories.tier_of(selection.category)]
        if selection.unit not in (None, categories.unit) or selection.sequence not in (None, categories.sequence):
            return []
        return [t for t in self.tiers if selection.tiers is None or t in selection.tiers]

    def group_heads(self, group: Selection, year: int) -> float:
        """Σ headcount of the categories ``group`` selects in ``year``."""
        return sum(self.heads(t, year) for t in self.members(group))

    def brought_in(self, cap: FlowCap, year: int) -> float:
        """Σ counts of the year's decided flows of a kind of ``cap`` landing in a category it selects."""
        members = self.members(cap)
        return sum(m.count for m in self.decided if m.year == year and m.kind in cap.kinds and m.target in members)

    @cached_property
    def costs(self) -> pd.DataFrame:
        """``year, <COST_PARTS>, total`` for years 1..H: wages = Σ wage·headcount(t); one-off parts = Σ count ×
        unit cost by kind; overmanning/short_time = Σ requirement cost per head × requirements.csv heads."""
        rows = {year: dict.fromkeys(COST_PARTS, 0.0) for year in range(1, self.horizon + 1)}
        for (tier, year), heads in self.stock.items():
            if year in rows:
                rows[year]["wages"] += self.level(tier).wage * heads
        for m in self.decided:
            if m.year in rows:
                rows[m.year][ONE_OFF[m.kind]] += self.unit_cost(m) * m.count
        for year, (overmanning, short_time) in requirement_costs(self).items():
            if year in rows:
                rows[year].update(overmanning=overmanning, short_time=short_time)
        frame = pd.DataFrame.from_dict(rows, orient="index").rename_axis("year").reset_index()
        return frame.assign(total=frame[list(COST_PARTS)].sum(axis=1))

    def close(self, reported: float, expected: float) -> bool:
        return abs(reported - expected) <= self.tol * max(1.0, abs(expected))

    def exceeds(self, value: float, limit: float) -> bool:
        return value > limit + self.tol * max(1.0, abs(limit))


# ------------------------------------------------------------------------------------------------ loading


def _summary(plan_dir: Path, problems: list[str]) -> tuple[dict[str, Any], Scenario | None]:
    path = plan_dir / SUMMARY_FILE
    try:
        summary = read_summary(plan_dir)
        scenario = Scenario.model_validate(summary["scenario"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        detail = "; ".join(e["msg"] for e in exc.errors()) if isinstance(exc, ValidationError) else exc
        problems.append(f"{path} has no valid scenario: {detail}")
        return {}, None
    if scenario.kind != "ladder":
        problems.append(f"{path}: the scenario has no categories.levels (a plan from input tables: verify it "
                        "with its DATA_DIR)")
    return summary, scenario


def _read(plan_dir: Path, name: str, problems: list[str]) -> pd.DataFrame | None:
    """``name.csv`` typed by the contract, with every :data:`FILLED` column filled; None (and a problem) if not."""
    path = plan_dir / f"{name}.csv"
    if not path.exists():
        problems.append(f"{path} is missing")
        return None
    count = len(problems)
    frame = read_or_report(path, lambda: read_plan_table(plan_dir, name, problems), problems)
    if frame is None or len(problems) > count:
        return None
    blank = frame[FILLED[name]].isna().any(axis=1)
    if blank.any():
        problems.append(f"{name}.csv: {int(blank.sum())} row(s) lack one of {', '.join(FILLED[name])}")
        return None
    return frame


def load_ladder_plan(plan_dir: str | Path, tol: float = 1e-6) -> LadderPlan:
    """Read a ladder plan folder; raises :class:`Unreadable` listing every file problem."""
    plan_dir, problems = Path(plan_dir), []
    summary, scenario = _summary(plan_dir, problems)
    heads = _read(plan_dir, "headcount", problems)
    flows = _read(plan_dir, "flows", problems)
    requirements = _read(plan_dir, "requirements", problems)
    if problems or scenario is None or scenario.kind != "ladder":
        raise Unreadable(problems)
    categories = scenario.categories

    def tier_of(row: dict[str, Any], prefix: str) -> int | None:
        """The category tier of a row's state; 0 when the state is not a category."""
        unit, sequence, tier, grade = (row[f"{prefix}{c}"] for c in ("unit", "sequence", "tier", "grade"))
        if pd.isna(tier) or pd.isna(grade):
            return 0
        on_ladder = (unit == categories.unit and sequence == categories.sequence and grade == 1
                     and 1 <= tier <= len(categories.levels))
        return int(tier) if on_ladder else 0

    heads_rows, moves, strays = [], [], []
    for number, row in enumerate(heads.rename(columns={"unit_id": "unit"}).to_dict("records"), start=2):
        tier = tier_of(row, "")
        if tier:
            heads_rows.append((tier, int(row["year"]), float(row["headcount"])))
        else:
            strays.append(f"headcount.csv row {number}: {_state(row, '')}")
    for number, row in enumerate(flows.to_dict("records"), start=2):
        ends = [None if pd.isna(row[f"{p}unit"]) else tier_of(row, p) for p in ("from_", "to_")]
        if 0 in ends:
            strays.append(f"flows.csv row {number}: {row['kind']} {_state(row, 'from_')} → {_state(row, 'to_')}")
        else:
            moves.append(Move(number, int(row["year"]), str(row["kind"]), *ends, float(row["count"])))
    return LadderPlan(scenario, summary, heads_rows, moves, requirements.to_dict("records"), strays, tol)


def _state(row: dict[str, Any], prefix: str) -> str:
    return "none" if pd.isna(row[f"{prefix}unit"]) else "/".join(
        fmt(row[f"{prefix}{c}"]) for c in ("unit", "sequence", "tier", "grade"))


# ------------------------------------------------------------------------------------------------- checks


def _shape_problem(m: Move) -> str | None:
    """Why a move's kind or states are wrong (hire: to only; redundancy/attrition: from only; others: both)."""
    if m.kind not in KINDS:
        return f"unknown kind '{m.kind}'"
    wanted = (m.kind != HIRE, m.kind not in (REDUNDANCY, ATTRITION))
    if (m.source is not None, m.target is not None) != wanted:
        return f"{m.kind} needs {'a from-state' if wanted[0] else 'no from-state'} and " \
               f"{'a to-state' if wanted[1] else 'no to-state'}"
    return None


def _move(p: LadderPlan, m: Move) -> str:
    return f"flows.csv row {m.row}: year {m.year} {m.kind} {p.name(m.source)} → {p.name(m.target)} ×{fmt(m.count)}"


def check_states(p: LadderPlan) -> list[Finding]:
    """Every headcount.csv and flows.csv state is a category (categories.unit, categories.sequence, tier of a
    level, grade 1); headcount.csv lists a category at most once a year, for years 0..H, never below 0."""
    findings = [Finding("states", f"{stray} is not a category of the ladder") for stray in p.strays]
    seen: set[tuple[int, int]] = set()
    for tier, year, heads in p.heads_rows:
        where = f"headcount.csv {p.name(tier)} year {year}"
        if (tier, year) in seen:
            findings.append(Finding("states", f"{where} is listed more than once"))
        seen.add((tier, year))
        if not 0 <= year <= p.horizon:
            findings.append(Finding("states", f"{where}: year outside 0..{p.horizon}"))
        if heads < -p.tol:
            findings.append(Finding("states", f"{where}: negative headcount {fmt(heads)}"))
    return findings


def check_initial(p: LadderPlan) -> list[Finding]:
    """headcount(i, 0) = ``strength`` of every category i."""
    return [Finding("initial", f"{p.name(t)} year 0: headcount {fmt(p.heads(t, 0))}, strength "
                               f"{fmt(p.level(t).strength)}")
            for t in p.tiers if not p.close(p.heads(t, 0), p.level(t).strength)]


def check_flow_rules(p: LadderPlan) -> list[Finding]:
    """Each flow has a known kind, a year in 1..H, a count > 0 and the states its kind needs; retraining goes
    from i to i+1 where category i has ``retraining``; downgrades go only to a category of ``downgrade_to``."""
    findings = []
    for m in p.moves:
        problems = [_shape_problem(m)]
        problems += [f"year outside 1..{p.horizon}" if not 1 <= m.year <= p.horizon else None,
                     "count ≤ 0" if not m.count > 0 else None]
        shaped = problems[0] is None
        if shaped and m.kind == RETRAIN and (m.target != m.source + 1 or p.level(m.source).retraining is None):
            problems.append(f"{p.name(m.source)} may only be retrained to the next category up, when it has retraining")
        if shaped and m.kind == DOWNGRADE and p.name(m.target) not in p.level(m.source).downgrade_to:
            problems.append(f"{p.name(m.source)} may be downgraded only to {p.level(m.source).downgrade_to}")
        findings += [Finding("flow_rules", f"{_move(p, m)}: {problem}") for problem in problems if problem]
    return findings


def check_integer_year1(p: LadderPlan) -> list[Finding]:
    """In integer mode (``solver.integer_year1``), year-1 flows other than attrition are whole numbers."""
    if not p.scenario.solver.integer_year1:
        return []
    return [Finding("integer_year1", f"{_move(p, m)}: not a whole number")
            for m in p.decided if m.year == 1 and abs(m.count - round(m.count)) > p.tol]


def _totals(p: LadderPlan, value: Callable[[Move], float], side: str) -> dict[tuple[int, int], float]:
    """Σ value(m) of the decided moves by (source or target tier, year)."""
    totals: dict[tuple[int, int], float] = defaultdict(float)
    for m in p.decided:
        tier = getattr(m, side)
        if tier is not None:
            totals[(tier, m.year)] += value(m)
    return totals


def check_stock_flow(p: LadderPlan) -> list[Finding]:
    """For every category i and year t ≥ 1, with w_i its wastage and π the inflow survival of the plan's
    ``flow_convention`` (start_of_year: π = 1; service_dependent: 1 − first_year_wastage for recruits, 1 − w
    of the destination for retrainees, 1 − downgrade_wastage for downgrades):
    headcount(i,t) = (1−w_i)·headcount(i,t−1) + Σ_in π·count − Σ_out count, and only people who stay can
    leave by a decided flow: Σ_out ≤ (1−w_i)·headcount(i,t−1). Under ``decide_then_attrition`` (π = 1 − w of
    the destination): headcount(i,t) = (1−w_i)·(headcount(i,t−1) − Σ_out count) + Σ_in π·count, and
    Σ_out ≤ headcount(i,t−1)."""
    inflow = _totals(p, lambda m: p.survival(m) * m.count, "target")
    outflow = _totals(p, lambda m: m.count, "source")
    findings = []
    for year in range(1, p.horizon + 1):
        for t in p.tiers:
            keep = 1.0 - p.level(t).wastage
            stay = keep * p.heads(t, year - 1)
            out, into = outflow.get((t, year), 0.0), inflow.get((t, year), 0.0)
            taken = keep * out if p.decide_first else out
            expected = stay + into - taken
            if not p.close(p.heads(t, year), expected):
                findings.append(Finding("stock_flow", f"{p.name(t)} year {year}: headcount {fmt(p.heads(t, year))}, "
                                        f"expected {fmt(expected)} (= {fmt(stay)} + {fmt(into)} − {fmt(taken)})"))
            movable = p.heads(t, year - 1) if p.decide_first else stay
            if p.exceeds(out, movable):
                findings.append(Finding("stock_flow", f"{p.name(t)} year {year}: {fmt(out)} flow out, but only "
                                        f"{fmt(movable)} " + ("there at the start of the year" if p.decide_first
                                                              else "stay through the year")))
    return findings


def check_attrition(p: LadderPlan) -> list[Finding]:
    """flows.csv attrition of category i in year t = w_i·headcount(i,t−1) + Σ_in (1−π)·count (the in-year
    losses of inflows), so flows.csv balances: headcount(t) = headcount(t−1) − out + in. Under
    ``decide_then_attrition`` the people moved out leave at their new category's rate: w_i·(headcount(i,t−1) −
    Σ_out count) + Σ_in (1−π)·count."""
    lost = _totals(p, lambda m: (1.0 - p.survival(m)) * m.count, "target")
    moved = _totals(p, lambda m: m.count if p.decide_first else 0.0, "source")
    reported: dict[tuple[int, int], float] = defaultdict(float)
    for m in p.moves:
        if m.kind == ATTRITION and m.source is not None:
            reported[(m.source, m.year)] += m.count
    findings = []
    for year in range(1, p.horizon + 1):
        for t in p.tiers:
            expected = p.level(t).wastage * (p.heads(t, year - 1) - moved.get((t, year), 0.0)) + lost.get((t, year), 0.0)
            if not p.close(reported.get((t, year), 0.0), expected):
                findings.append(Finding("attrition", f"{p.name(t)} year {year}: flows.csv attrition "
                                        f"{fmt(reported.get((t, year), 0.0))}, expected {fmt(expected)}"))
    return findings


def check_recruitment_caps(p: LadderPlan) -> list[Finding]:
    """Recruits into category i in year t ≤ ``recruit_max`` of i (counted before first-year wastage)."""
    hires = _totals(p, lambda m: m.count if m.kind == HIRE else 0.0, "target")
    return [Finding("recruitment_caps", f"{p.name(t)} year {year}: {fmt(n)} recruits > recruit_max "
                                        f"{fmt(p.level(t).recruit_max)}")
            for (t, year), n in sorted(hires.items()) if p.exceeds(n, p.level(t).recruit_max)]


def check_retraining_caps(p: LadderPlan) -> list[Finding]:
    """People retrained out of category i in year t ≤ ``retraining.max_per_year`` of i, and ≤
    ``retraining.max_share_of_destination`` × headcount(i+1, t) (the destination after that year's flows)."""
    findings = []
    for (t, year), n in sorted(_totals(p, lambda m: m.count if m.kind == RETRAIN else 0.0, "source").items()):
        limits = p.level(t).retraining
        if limits is None or n == 0:
            continue
        where = f"{p.name(t)} year {year}: {fmt(n)} retrained"
        if limits.max_per_year is not None and p.exceeds(n, limits.max_per_year):
            findings.append(Finding("retraining_caps", f"{where} > max_per_year {fmt(limits.max_per_year)}"))
        share = limits.max_share_of_destination
        if share is not None and p.exceeds(n, share * p.heads(t + 1, year)):
            findings.append(Finding("retraining_caps", f"{where} > {fmt(share)} × {fmt(p.heads(t + 1, year))} "
                                                       f"{p.name(t + 1)} = {fmt(share * p.heads(t + 1, year))}"))
    return findings


def check_objective(p: LadderPlan) -> list[Finding]:
    """summary.json objective: cost = Σ_{t=1..H} of every :data:`COST_PARTS` part; redundancy = Σ redundancy
    flows; disruption = Σ retraining (tier promotions), downgrade and redundancy flows."""
    objective = p.summary.get("objective") or {}
    counted = lambda *kinds: sum(m.count for m in p.decided if m.kind in kinds)  # noqa: E731
    figures = {"cost": float(p.costs["total"].sum()), "redundancy": counted(REDUNDANCY),
               "disruption": counted(RETRAIN, DOWNGRADE, REDUNDANCY)}
    findings = []
    for term, expected in figures.items():
        reported = objective.get(term)
        if not isinstance(reported, (int, float)) or not p.close(reported, expected):
            findings.append(Finding("objective", f"summary.json objective.{term}: reported {fmt(reported)}, "
                                                 f"recomputed {fmt(expected)}"))
    return findings


CHECKS: dict[str, Callable[[LadderPlan], list[Finding]]] = {
    "states": check_states,
    "initial": check_initial,
    "flow_rules": check_flow_rules,
    "integer_year1": check_integer_year1,
    "stock_flow": check_stock_flow,
    "attrition": check_attrition,
    "recruitment_caps": check_recruitment_caps,
    "retraining_caps": check_retraining_caps,
    **REQUIREMENT_CHECKS,
    "objective": check_objective,
}
"""Every check, in the order it runs (after ``files``, the loading itself)."""


# --------------------------------------------------------------------------------------------- public API


def is_ladder_plan(plan_dir: str | Path) -> bool:
    """True when ``plan_dir/summary.json`` holds a scenario with its own ladder (``categories.levels``)."""
    try:
        scenario = read_summary(Path(plan_dir))["scenario"]
        return bool(scenario["categories"]["levels"])
    except (OSError, ValueError, KeyError, TypeError):
        return False


def verify_ladder_plan(plan_dir: str | Path, tol: float = 1e-6) -> VerificationReport:
    """Run every check on the ladder plan in ``plan_dir``. Unreadable or incomplete files fail the ``files``
    check and stop there; otherwise every check runs, a check that cannot run reporting that instead."""
    return run_checks(lambda: load_ladder_plan(plan_dir, tol), CHECKS)


def verify_ladder_command(plan_dir: str | Path) -> int:
    """Print the verification of the ladder plan in ``plan_dir``; 0 when every check passes, else 1."""
    return print_report(plan_dir, verify_ladder_plan(plan_dir), "ladder checks")
