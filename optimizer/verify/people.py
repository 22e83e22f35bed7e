"""Per-person checks of a graded plan: each roster employee's year-1 action (actions.csv) against their own roster
row and the scenario, and the merit order inside each cohort. Vectorised (no loop over employees: rosters
reach a million rows). Part of the independent verifier (:mod:`optimizer.verify.graded`): the cohorts and
eligibility rules are restated from docs/model.md and recomputed from the roster, not taken from the model or
the plan writer.

A person's action is compared with their roster row: the from-state is the roster state (a different from-state
in actions.csv is the ``roster`` check's finding), years_in_grade and technical_eligible are the roster's.
"""

from __future__ import annotations

import json
import weakref
from typing import Any

import numpy as np
import pandas as pd

from optimizer.verify.data import FROM, STATE, PlanData
from optimizer.verify.frames import finding_for, merit_sorted, state_label, truthy
from optimizer.verify.moves import disabled, landing_grades, max_tier_at, misplaced, unpaid
from optimizer.verify.report import Finding, fmt

__all__ = ["HAND_OUT", "PEOPLE_CHECKS", "check_eligibility", "check_merit", "check_position_merit", "position_lines"]

HAND_OUT = ("tier_promotion", "sequence_move", "grade_step", "unit_transfer", "stay", "downgrade", "redundancy")
"""The merit order of actions inside a cohort, best merit first: actions are handed out from the top of the
ranking in the order tier promotion, sequence move, grade step, unit transfer; redundancies from the bottom,
downgrades from just above them; everyone in between stays."""
COHORT = ["unit", "sequence", "tier", "grade", "seniority", "qualified"]


def _people(p: PlanData) -> pd.DataFrame:
    """One row per roster employee with an actions.csv row (the first, when listed twice; hires have no roster
    row): the roster's state as ``from_*``, the action's to-state, ``kind`` = the action, and the roster's
    performance, years_in_grade and technical_eligible."""
    a = p.actions
    acted = a[~a["action"].eq("hire")].drop_duplicates("employee_id").drop(columns=list(FROM))
    roster = p.roster.rename(columns={c: f"from_{c}" for c in STATE})
    people = acted.merge(roster, on="employee_id", how="inner")
    return people.rename(columns={"action": "kind"})


def _person(r: dict[str, Any]) -> str:
    """'E05 grade_step 钢联/operations/1/1 → 钢联/operations/1/2 (performance 70, 2 years in grade)'."""
    move = f"{state_label(r, 'from_')} → {state_label(r, 'to_')}"
    return f"{r['employee_id']} {r['kind']} {move} (performance {fmt(r['performance'])}, " \
           f"{fmt(r['years_in_grade'])} years in grade)"


def _faults(p: PlanData, f: pd.DataFrame) -> dict[str, pd.Series]:
    """headline → the rows of :func:`_people` ``f`` breaking that rule of :func:`check_eligibility`; ``f`` gains the
    columns ``landing`` (the pay rule's grade) and ``max_tier`` (the destination's cap) the messages show."""
    s, kind, years = p.scenario, f["kind"], f["years_in_grade"]
    step_years, tier_years = s.promotion.min_years_for_grade_step, s.promotion.min_years_in_grade
    f["landing"], f["max_tier"] = landing_grades(p, f, kind), max_tier_at(p, f, kind)
    to_technical = f["from_sequence"].eq("operations") & f["to_sequence"].eq("technical")
    return {
        f"grade steps of people with fewer than promotion.min_years_for_grade_step = {step_years} years in grade":
            kind.eq("grade_step") & ~truthy(years >= step_years),
        f"tier promotions of people with fewer than promotion.min_years_in_grade = {tier_years} years in grade":
            kind.eq("tier_promotion") & ~truthy(years >= tier_years),
        "operations → technical moves of people who are not technical_eligible":
            kind.eq("sequence_move") & truthy(to_technical) & ~f["technical_eligible"],
        "actions landing where their kind cannot go": misplaced(p, f, kind),
        "actions to a state without pay (unknown unit, or no base salary: e.g. a grade step from grade 5)":
            ~kind.eq("redundancy") & unpaid(p, f),
        "actions not landing on the grade the pay rule gives": truthy(f["to_grade"].ne(f["landing"])),
        "actions landing above the destination unit's max_tier": truthy(f["to_tier"] > f["max_tier"]),
        "actions of a kind the scenario disables (mobility.unit_transfers, mobility.downgrade.enabled, "
        "redundancy.enabled)": disabled(s, kind),
    }


DETAIL = {
    "actions not landing on the grade the pay rule gives": lambda r: f" (the pay rule gives grade {fmt(r['landing'])})",
    "actions landing above the destination unit's max_tier": lambda r: f" (max_tier of {r['to_unit']} is "
                                                                       f"{fmt(r['max_tier'])})",
}
"""What a finding of :func:`check_eligibility` adds after the person, by headline."""


ASSESSED: weakref.WeakKeyDictionary[PlanData, tuple[pd.DataFrame, dict[str, pd.Series]]] = (
    weakref.WeakKeyDictionary())
"""(people, faults) per plan being verified: both per-person checks read them, so they are computed once."""


def assessed(p: PlanData) -> tuple[pd.DataFrame, dict[str, pd.Series]]:
    """:func:`_people` of ``p`` and the rows breaking each eligibility rule (:func:`_faults`), computed once."""
    if p not in ASSESSED:
        people = _people(p)
        ASSESSED[p] = (people, _faults(p, people))
    return ASSESSED[p]


def check_eligibility(p: PlanData) -> list[Finding]:
    """Each roster employee's year-1 action is one the model allows them, from their roster row (state σ =
    (u,s,k,g), y = years_in_grade, technical_eligible) and the scenario:
    grade_step needs y ≥ promotion.min_years_for_grade_step and lands on (u,s,k,g+1), a state on the pay table
    (grades 1..5: g < 5); tier_promotion needs y ≥ promotion.min_years_in_grade and lands on (u,s,k+1,g′);
    sequence_move lands on (u,s′,m(k),g′) along a mobility route s→s′ and its tier mapping m, and
    operations → technical needs technical_eligible; g′ is the pay rule's grade (the lowest grade of the new tier
    whose base salary is at least the current one, else its top grade); downgrade lands 1..max_tiers_down
    tiers lower on g′; unit_transfer lands on (u′,s,k,g), u′ ≠ u; a technical landing tier is ≤ the destination
    unit's max_tier; redundancy only with redundancy.enabled, unit_transfer only with mobility.unit_transfers,
    downgrade only with mobility.downgrade.enabled."""
    f, faults = assessed(p)
    return [
        finding
        for headline, bad in faults.items()
        for finding in finding_for("eligibility", headline, f[bad],
                                   lambda r, h=headline: _person(r) + DETAIL.get(h, lambda _: "")(r))
    ]


def _cohorts(p: PlanData, people: pd.DataFrame) -> pd.DataFrame:
    """``people`` with the cohort columns of the model (docs/model.md) recomputed from the roster: ``unit`` …
    ``grade`` (the roster state), ``seniority`` = ⌊min(years_in_grade, A)⌋ with A = max(min_years_in_grade,
    min_years_for_grade_step), ``qualified`` = technical_eligible and sequence = operations."""
    cap = max(p.scenario.promotion.min_years_in_grade, p.scenario.promotion.min_years_for_grade_step)
    return people.assign(
        **{c: people[f"from_{c}"] for c in STATE},
        seniority=np.floor(people["years_in_grade"].clip(upper=cap)),
        qualified=people["technical_eligible"] & people["from_sequence"].eq("operations"),
    )


def check_merit(p: PlanData) -> list[Finding]:
    """Inside each cohort (recomputed from the roster: :func:`_cohorts`), rank people by merit: performance
    (desc), then years_in_grade (desc), then employee_id (asc). Actions go by rank in the fixed order
    :data:`HAND_OUT` (tier promotion, sequence move, grade step, unit transfer from the top; stay; downgrade,
    redundancy at the bottom): the position of a person's action in that order never falls going down the
    ranking. Everyone in a cohort is eligible for the same actions (same state, seniority bucket and
    qualification), so a violation is a person passed over: someone of higher merit who got an action later in
    the order (e.g. stays) than someone below them in the same cohort (e.g. a grade step). Listed per person
    passed over, with the lowest-ranked person below who got the earliest action. People whose action breaks an
    eligibility rule are the ``eligibility`` check's findings and left out here. Which destination a person gets
    among moves of one kind (a transfer's unit, a downgrade's tier) is not a matter of merit and not checked."""
    people, faults = assessed(p)
    eligible = ~np.logical_or.reduce([bad.to_numpy(bool) for bad in faults.values()])
    read = ["employee_id", "kind", "performance", "years_in_grade", "technical_eligible", *FROM]
    ranked = merit_sorted(_cohorts(p, people.loc[people["kind"].isin(HAND_OUT) & eligible, read]), COHORT)
    cohort = ranked.groupby(COHORT, sort=False, dropna=False).ngroup()
    order = ranked["kind"].map({kind: i for i, kind in enumerate(HAND_OUT)}).to_numpy(np.int64)
    position = np.arange(len(ranked), dtype=np.int64)
    # the earliest action in HAND_OUT strictly below each person in their cohort, and the lowest-ranked who got it
    n = max(len(ranked), 1)
    code = pd.Series(order * n + (n - 1 - position))
    below = code[::-1].groupby(cohort[::-1]).cummin()[::-1].groupby(cohort).shift(-1)
    passed = below.notna() & (below // n < order)
    partner = ranked.iloc[(n - 1 - below[passed] % n).astype(np.int64)]
    pairs = ranked[passed.to_numpy()].assign(
        **{f"other_{c}": partner[c].to_numpy() for c in ("employee_id", "kind", "performance", "years_in_grade")})

    def describe(r: dict[str, Any]) -> str:
        where = f"{state_label(r)} seniority {fmt(r['seniority'])}{' qualified' if r['qualified'] else ''}"
        return (f"{r['employee_id']} ({r['kind']}, performance {fmt(r['performance'])}, "
                f"{fmt(r['years_in_grade'])} years) ranks above {r['other_employee_id']} ({r['other_kind']}, "
                f"performance {fmt(r['other_performance'])}, {fmt(r['other_years_in_grade'])} years) in {where}")

    return finding_for("merit", "people passed over for an action given to someone of lower merit in their cohort",
                       pairs, describe)


TOP_DOWN = ("tier_promotion", "sequence_move", "grade_step", "unit_transfer")
BOTTOM_UP = ("downgrade", "redundancy")
POSITION = ["from_unit", "from_sequence", "from_tier", "from_grade"]
LANDING = ["to_unit", "to_sequence", "to_tier", "to_grade"]


def _eligible(p: PlanData, people: pd.DataFrame, actions: pd.DataFrame, person: np.ndarray,
              action: np.ndarray) -> np.ndarray:
    """Whether the scenario allows each pair (``people`` row ``person``, ``actions`` row ``action`` of their
    position) the action: a grade step needs years_in_grade ≥ promotion.min_years_for_grade_step, a tier
    promotion ≥ promotion.min_years_in_grade, an operations → technical move technical_eligible; a transfer,
    downgrade or redundancy anyone. (The landing state and its cap are the same for everyone of a position.)
    Each rule is read once per person and once per action, then paired."""
    promotion, kind = p.scenario.promotion, actions["action"]
    years = people["years_in_grade"].to_numpy(dtype=float, na_value=np.nan)
    step_short = ~(years >= promotion.min_years_for_grade_step)  # a missing years_in_grade is short
    tier_short = ~(years >= promotion.min_years_in_grade)
    unqualified = people["from_sequence"].eq("operations").to_numpy(dtype=bool, na_value=False) & ~people[
        "technical_eligible"].to_numpy(dtype=bool, na_value=False)
    retrain = (kind.eq("sequence_move") & actions["line_to_sequence"].eq("technical")).to_numpy(dtype=bool,
                                                                                                  na_value=False)
    grade_step = kind.eq("grade_step").to_numpy(dtype=bool, na_value=False)
    tier_promotion = kind.eq("tier_promotion").to_numpy(dtype=bool, na_value=False)
    return ~((grade_step[action] & step_short[person]) | (tier_promotion[action] & tier_short[person])
             | (retrain[action] & unqualified[person]))


def position_lines(p: PlanData) -> pd.DataFrame:
    """One row per (person, year-1 action of their position they are eligible for), restated from the roster,
    actions.csv and the scenario: the position's people ranked by performance (desc), years_in_grade (desc),
    employee_id (asc); ``took`` (they took that action), ``passed`` (they stay above the line — the lowest-ranked
    who took it — of a top-down action, or below the line — the highest-ranked who took it — of a redundancy or
    downgrade) and ``held`` (passed, and their cohort (state, seniority bucket, qualification; :func:`_cohorts`)
    acts on ⌊(1−a)·n⌋ of its n people, a the attrition rate of its sequence and tier: the model's limit; all n
    under ``flow_convention: decide_then_attrition``; when summary.json says ``merit.unsolved``, the plan is the
    model's own split and every cohort is held to it).
    Columns: the person's ``employee_id``, ``performance``, ``years_in_grade`` and position (``from_*``), the
    ``action`` (its kind), ``took``, ``passed``, ``held``. Vectorised: each person meets their position's actions
    as a pair of row numbers (person, action), every rule read once per person or per action; only the pairs
    kept become a frame (1M people: 1.3M pairs)."""
    people, faults = assessed(p)
    sound = ~np.logical_or.reduce([bad.to_numpy(bool) for bad in faults.values()])
    shown = ["employee_id", "performance", "years_in_grade", "technical_eligible", "kind", *POSITION, *LANDING]
    people = merit_sorted(_cohorts(p, people.loc[people["kind"].isin(HAND_OUT) & sound, shown]), POSITION)
    people["position"] = people.groupby(POSITION, sort=False, dropna=False).ngroup()  # one integer key
    people["rank"] = people.groupby("position", sort=False).cumcount()
    acted = people[~people["kind"].eq("stay")]
    size = people.groupby(COHORT, dropna=False)["employee_id"].transform("size")
    states = people[["sequence", "tier"]].astype({"tier": int})
    rates = states.drop_duplicates()
    rates["attrition"] = [p.scenario.attrition.rate(s, k) for s, k in zip(rates["sequence"], rates["tier"])]
    attrition = states.merge(rates, how="left", on=["sequence", "tier"])["attrition"].to_numpy(float)
    if p.scenario.flow_convention == "decide_then_attrition":
        attrition = np.zeros_like(attrition)  # decisions come first: the whole cohort may act
    limit = np.floor((1.0 - attrition) * size.to_numpy(float) + 1e-9)
    if (p.summary.get("merit") or {}).get("unsolved"):
        limit = np.zeros_like(limit)  # the model's own split, not dealt by merit: every cohort held to it
    busy = people[COHORT].merge(acted.groupby(COHORT, dropna=False).size().rename("busy").reset_index(),
                                how="left", on=COHORT)["busy"].fillna(0).to_numpy()
    people["full"] = busy >= limit
    actions = acted[["position", "kind", *LANDING]].drop_duplicates().rename(
        columns={"kind": "action", **{c: f"line_{c}" for c in LANDING}}).reset_index(drop=True)
    actions["line"] = np.arange(len(actions))
    person, action = _pairs_by_position(people["position"].to_numpy(), actions["position"].to_numpy())
    same = np.logical_and.reduce([_codes_equal(people[c], actions[f"line_{c}"], person, action) for c in LANDING])
    took = _codes_equal(people["kind"], actions["action"], person, action) & same
    kept = _eligible(p, people, actions, person, action) | took
    person, action, took = person[kept], action[kept], took[kept]
    bottom = actions["action"].isin(BOTTOM_UP).to_numpy()[action]
    rank = people["rank"].to_numpy()[person]
    ranks = pd.Series(np.where(took, rank, np.nan)).groupby(action)
    line = np.where(bottom, ranks.transform("min"), ranks.transform("max"))
    stays = people["kind"].eq("stay").to_numpy(dtype=bool, na_value=False)[person]
    passed = stays & np.where(bottom, rank > line, rank < line)
    pairs = people[["employee_id", "performance", "years_in_grade", *POSITION]].take(person).reset_index(drop=True)
    return pairs.assign(action=actions["action"].to_numpy()[action], took=took, passed=passed,
                        held=passed & people["full"].to_numpy()[person])


def _pairs_by_position(people: np.ndarray, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (person, action) row-number pair of the same position, given each person's and each action's
    position number: people in their order, each with their position's actions in theirs (an inner join)."""
    order = np.argsort(actions, kind="stable")
    count = np.bincount(actions, minlength=int(people.max(initial=-1)) + 1)
    first = np.concatenate([[0], np.cumsum(count)[:-1]])
    per_person = count[people]
    person = np.repeat(np.arange(len(people)), per_person)
    within = np.arange(len(person)) - np.repeat(np.cumsum(per_person) - per_person, per_person)
    return person, order[first[people[person]] + within]


def _codes_equal(mine: pd.Series, theirs: pd.Series, rows: np.ndarray, other_rows: np.ndarray) -> np.ndarray:
    """``mine`` at ``rows`` equals ``theirs`` at ``other_rows`` (both missing counts as equal), compared as text."""
    codes, _ = pd.factorize(pd.concat([mine.astype("string"), theirs.astype("string")], ignore_index=True))
    return codes[: len(mine)][rows] == codes[len(mine):][other_rows]


def check_position_merit(p: PlanData) -> list[Finding]:
    """Merit across each position (unit, sequence, tier, grade) and year-1 action (kind and landing state), from
    :func:`position_lines`: nobody eligible stays above the line of a promotion, grade step, sequence move or
    transfer, or below the line of a redundancy or downgrade, unless the stated rule holds them back (their
    cohort acts on its limit of ⌊(1−a)·n⌋ people); ``merit.exceptions`` of summary.json counts those held
    back (a person and action each)."""
    lines = position_lines(p)
    breach = lines[lines["passed"] & ~lines["held"]]

    def describe(r: dict[str, Any]) -> str:
        return (f"{r['employee_id']} (performance {fmt(r['performance'])}, {fmt(r['years_in_grade'])} years) "
                f"stays in {state_label(r, 'from_')} on the wrong side of the {r['action']} line")

    findings = finding_for("position_merit", "people passed over in their position for an action given to "
                                             "someone of lower merit", breach, describe)
    reported = (p.summary.get("merit") or {}).get("exceptions")
    held = int(lines["held"].sum())
    if reported != held:
        findings.append(Finding("position_merit", f"merit.exceptions in summary.json is {json.dumps(reported)}, "
                                                  f"recomputed {held}"))
    return findings


PEOPLE_CHECKS = {"eligibility": check_eligibility, "merit": check_merit, "position_merit": check_position_merit}
"""The per-person checks, in the order they run."""
